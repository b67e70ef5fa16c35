/* digest.c - SHA-256, HMAC, hex and base64 helpers on OpenSSL.
 *
 * SHA-256 uses OpenSSL's one-algorithm API (SHA256_Init...), not EVP: an EVP
 * digest makes OpenSSL 3 read its configuration and activate the default
 * provider with its whole algorithm table, which costs every process about
 * 2.2 MiB of resident memory and a millisecond, more than the agent's own
 * heap (docs/performance.md). The one-algorithm API runs the same assembly
 * (SHA extensions, AVX2); it is deprecated in 3.0 but kept in every 3.x
 * release. HMAC (SigV4, in the stub and the release tool, which reach the
 * provider anyway for TLS) stays on EVP. */
#define OPENSSL_SUPPRESS_DEPRECATED /* the SHA256_* calls, on purpose (above) */
#include "digest.h"
#include "exitcodes.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

struct sha256_ctx {
	SHA256_CTX sha;
};

struct sha256_ctx *sha256_new(void)
{
	struct sha256_ctx *c = OPENSSL_zalloc(sizeof(*c));
	if (c == NULL)
		return NULL;
	if (SHA256_Init(&c->sha) != 1) {
		sha256_free(c);
		return NULL;
	}
	return c;
}

int sha256_update(struct sha256_ctx *c, const void *data, size_t n)
{
	return SHA256_Update(&c->sha, data, n) == 1 ? 0 : -1;
}

int sha256_final(struct sha256_ctx *c, uint8_t out[SHA256_LEN])
{
	return SHA256_Final(out, &c->sha) == 1 ? 0 : -1;
}

int sha256_reset(struct sha256_ctx *c)
{
	return SHA256_Init(&c->sha) == 1 ? 0 : -1;
}

void sha256_free(struct sha256_ctx *c)
{
	if (c == NULL)
		return;
	OPENSSL_clear_free(c, sizeof(*c));
}

int sha256_buf(const void *data, size_t n, uint8_t out[SHA256_LEN])
{
	/* not SHA256(): in OpenSSL 3 that one goes through EVP (EVP_Q_digest) */
	SHA256_CTX c;
	int ok = SHA256_Init(&c) == 1 && SHA256_Update(&c, data, n) == 1 && SHA256_Final(out, &c) == 1;
	OPENSSL_cleanse(&c, sizeof(c));
	return ok ? 0 : -1;
}

int sha256_fd(int fd, const char *what, uint8_t out[SHA256_LEN], struct herr *err)
{
	static char chunk[1 << 16];
	struct sha256_ctx *c = NULL;
	int rc = -1;
	ssize_t n;

	c = sha256_new();
	if (c == NULL) {
		herr_set(err, HOIST_EXIT_INTERNAL, "out of memory hashing %s", what);
		goto out;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			herr_errno(err, HOIST_EXIT_IO, errno, "cannot read %s", what);
			goto out;
		}
		if (n == 0)
			break;
		if (sha256_update(c, chunk, (size_t)n) != 0) {
			herr_set(err, HOIST_EXIT_INTERNAL, "hashing %s failed", what);
			goto out;
		}
	}
	if (sha256_final(c, out) != 0) {
		herr_set(err, HOIST_EXIT_INTERNAL, "hashing %s failed", what);
		goto out;
	}
	rc = 0;
out:
	sha256_free(c);
	return rc;
}

int sha256_file(const char *path, uint8_t out[SHA256_LEN], struct herr *err)
{
	int rc;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot open %s", path);
	rc = sha256_fd(fd, path, out, err);
	close(fd);
	return rc;
}

int hmac_sha256(const void *key, size_t keylen, const void *data, size_t n, uint8_t out[SHA256_LEN])
{
	unsigned int len = 0;
	if (keylen > (size_t)INT32_MAX)
		return -1;
	if (HMAC(EVP_sha256(), key, (int)keylen, data, n, out, &len) == NULL || len != SHA256_LEN)
		return -1;
	return 0;
}

void hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

int hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hex_decode(const char *hex, uint8_t *out, size_t n)
{
	if (strlen(hex) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long base64_decode(const char *in, size_t inlen, uint8_t *out, size_t outcap)
{
	size_t o = 0;
	if (inlen % 4 != 0)
		return -1;
	for (size_t i = 0; i < inlen; i += 4) {
		int v[4];
		int pad = 0;
		for (int k = 0; k < 4; k++) {
			char ch = in[i + (size_t)k];
			if (ch == '=' && i + 4 == inlen && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad > 0)
				return -1; /* data after padding */
			v[k] = b64val(ch);
			if (v[k] < 0)
				return -1;
		}
		uint32_t triple = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
		size_t emit = 3 - (size_t)pad;
		if (o + emit > outcap)
			return -1;
		out[o++] = (uint8_t)(triple >> 16);
		if (emit > 1)
			out[o++] = (uint8_t)(triple >> 8);
		if (emit > 2)
			out[o++] = (uint8_t)triple;
	}
	return (long)o;
}

int digest_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}
