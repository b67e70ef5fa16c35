/* signify.h - OpenBSD signify keys and signatures (Ed25519 through OpenSSL
 * EVP), so operators can check hoist's signatures with signify(1) and may
 * create keys with it.
 *
 * Formats (signify(1), "untrusted comment: ..." line then one base64 line):
 *   public key   "Ed" | keynum[8] | public key[32]
 *   secret key   "Ed" | "BK" | kdfrounds[4, big-endian] | salt[16] |
 *                checksum[8] (SHA-512 of the secret key, first 8 bytes) |
 *                keynum[8] | secret key[64] (seed[32] | public key[32])
 *   signature    "Ed" | keynum[8] | signature[64]
 * A signed manifest is signify's embedded form (signify -S -e): the two
 * signature lines, then the message bytes.
 *
 * hoist reads only unencrypted secret keys (kdfrounds 0, signify -G -n);
 * a passphrase-protected key is refused with a message saying so. Pure: no
 * file I/O (callers read the files); secret material is wiped. */
#ifndef HOIST_SIGNIFY_H
#define HOIST_SIGNIFY_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "herr.h"

#define SIGNIFY_KEYNUM_LEN 8
#define SIGNIFY_COMMENT_MAX 1024

struct signify_pubkey {
	uint8_t keynum[SIGNIFY_KEYNUM_LEN];
	uint8_t key[32];
};

struct signify_seckey {
	uint8_t keynum[SIGNIFY_KEYNUM_LEN];
	uint8_t key[64]; /* seed | public key */
};

struct signify_sig {
	uint8_t keynum[SIGNIFY_KEYNUM_LEN];
	uint8_t sig[64];
};

/* Parse a key file's text; what names it in messages. Errors
 * HOIST_EXIT_CONFIG. */
int signify_parse_pubkey(const char *text, size_t len, const char *what, struct signify_pubkey *out,
                         struct herr *err);
int signify_parse_seckey(const char *text, size_t len, const char *what, struct signify_seckey *out,
                         struct herr *err);

/* A fresh key pair (random keynum, unencrypted secret key). */
int signify_generate(struct signify_pubkey *pub, struct signify_seckey *sec, struct herr *err);
/* Key file texts: "untrusted comment: COMMENT\nBASE64\n". */
int signify_format_pubkey(const struct signify_pubkey *k, const char *comment, struct buf *out);
int signify_format_seckey(const struct signify_seckey *k, const char *comment, struct buf *out);
void signify_seckey_wipe(struct signify_seckey *k);

/* The embedded signed form of msg: the signature lines (comment
 * "verify with COMMENT_KEY") then msg, appended to out. */
int signify_sign_embedded(const struct signify_seckey *k, const char *pubname, const void *msg, size_t len,
                          struct buf *out, struct herr *err);

/* Splits a text that may be signed. Returns 1 when it starts with a
 * signature block (sig filled; *msg and *msglen: the bytes after it), 0 when
 * it does not ("untrusted comment:" absent: *msg is the whole text), -1
 * when the block is malformed (err HOIST_EXIT_INTEGRITY). */
int signify_split_embedded(const char *text, size_t len, struct signify_sig *sig, const char **msg,
                           size_t *msglen, struct herr *err);

/* 0 when sig is k's signature of msg (keynums equal and Ed25519 verifies),
 * -1 otherwise. */
int signify_verify(const struct signify_pubkey *k, const struct signify_sig *sig, const void *msg,
                   size_t len);

/* keynum as 16 lower-case hex digits (how messages name a key). */
void signify_keynum_hex(const uint8_t keynum[SIGNIFY_KEYNUM_LEN], char out[2 * SIGNIFY_KEYNUM_LEN + 1]);

#endif
