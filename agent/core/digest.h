/* digest.h - SHA-256 and HMAC through OpenSSL, hex/base64 forms, constant-time compare. */
#ifndef HOIST_DIGEST_H
#define HOIST_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "herr.h"

#define SHA256_LEN 32
#define SHA256_HEX_LEN 64

struct sha256_ctx; /* opaque: OpenSSL's SHA256_CTX (why not EVP: digest.c) */

struct sha256_ctx *sha256_new(void);
int sha256_update(struct sha256_ctx *c, const void *data, size_t n);
/* Writes 32 bytes; the context may be reset with sha256_reset afterwards. */
int sha256_final(struct sha256_ctx *c, uint8_t out[SHA256_LEN]);
int sha256_reset(struct sha256_ctx *c);
void sha256_free(struct sha256_ctx *c);

/* One-shot digest of a buffer. */
int sha256_buf(const void *data, size_t n, uint8_t out[SHA256_LEN]);
/* Digest of what is left to read from fd, in chunks (memory does not grow
 * with size); what names the file in messages. */
int sha256_fd(int fd, const char *what, uint8_t out[SHA256_LEN], struct herr *err);
/* Digest of a whole file, read in chunks (memory does not grow with size). */
int sha256_file(const char *path, uint8_t out[SHA256_LEN], struct herr *err);
/* HMAC-SHA256 (SigV4 key derivation). */
int hmac_sha256(const void *key, size_t keylen, const void *data, size_t n, uint8_t out[SHA256_LEN]);

/* Value of one hex digit (either case), or -1. */
int hex_value(int c);
/* Lower-case hex; out must hold 2*n+1 bytes. */
void hex_encode(const uint8_t *in, size_t n, char *out);
/* Accepts upper or lower case; returns 0 only for exactly 2*n hex digits. */
int hex_decode(const char *hex, uint8_t *out, size_t n);
/* Strict standard base64 (with padding) into out (outcap bytes);
 * returns decoded length or -1. */
long base64_decode(const char *in, size_t inlen, uint8_t *out, size_t outcap);

/* Constant-time equality of two n-byte buffers (CRYPTO_memcmp). */
int digest_equal(const uint8_t *a, const uint8_t *b, size_t n);

#endif
