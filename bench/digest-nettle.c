/* digest-nettle.c - a candidate build change measured by agent-deploy.sh
 * (BENCH_NETTLE_DIGEST=1), not part of the build: agent/core/digest.c on
 * nettle instead of OpenSSL, for the agent only. libarchive already loads
 * libnettle, so the agent stops loading libcrypto (about 3 MiB of peak RSS
 * and 2 ms of start-up, most of it relocations and provider set-up).
 * nettle's sha2.h names its context struct sha256_ctx, the same tag as
 * digest.h's opaque type, so the opaque pointer is nettle's context. */
#include <nettle/hmac.h>
#include <nettle/memops.h>
#include <nettle/sha2.h>
/* nettle maps these names to nettle_* with macros; digest.h uses them for its own API */
#undef sha256_init
#undef sha256_update
#undef sha256_digest

#include "digest.h"
#include "exitcodes.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct sha256_ctx *sha256_new(void)
{
	struct sha256_ctx *c = calloc(1, sizeof(*c));
	if (c != NULL)
		nettle_sha256_init(c);
	return c;
}

int sha256_update(struct sha256_ctx *c, const void *data, size_t n)
{
	nettle_sha256_update(c, n, data);
	return 0;
}

int sha256_final(struct sha256_ctx *c, uint8_t out[SHA256_LEN])
{
	nettle_sha256_digest(c, SHA256_LEN, out);
	return 0;
}

int sha256_reset(struct sha256_ctx *c)
{
	nettle_sha256_init(c);
	return 0;
}

void sha256_free(struct sha256_ctx *c)
{
	if (c != NULL)
		explicit_bzero(c, sizeof(*c));
	free(c);
}

int sha256_buf(const void *data, size_t n, uint8_t out[SHA256_LEN])
{
	struct sha256_ctx c;
	nettle_sha256_init(&c);
	nettle_sha256_update(&c, n, data);
	nettle_sha256_digest(&c, SHA256_LEN, out);
	return 0;
}

/* config.c wipes secrets with OPENSSL_cleanse; the same without OpenSSL. */
void OPENSSL_cleanse(void *p, size_t n);
void OPENSSL_cleanse(void *p, size_t n)
{
	explicit_bzero(p, n);
}

int sha256_file(const char *path, uint8_t out[SHA256_LEN], struct herr *err)
{
	static char chunk[1 << 16];
	struct sha256_ctx *c = NULL;
	int fd = -1;
	int rc = -1;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		herr_errno(err, HOIST_EXIT_IO, errno, "cannot open %s", path);
		goto out;
	}
	c = sha256_new();
	if (c == NULL) {
		herr_set(err, HOIST_EXIT_INTERNAL, "out of memory hashing %s", path);
		goto out;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			herr_errno(err, HOIST_EXIT_IO, errno, "cannot read %s", path);
			goto out;
		}
		if (n == 0)
			break;
		if (sha256_update(c, chunk, (size_t)n) != 0) {
			herr_set(err, HOIST_EXIT_INTERNAL, "hashing %s failed", path);
			goto out;
		}
	}
	if (sha256_final(c, out) != 0) {
		herr_set(err, HOIST_EXIT_INTERNAL, "hashing %s failed", path);
		goto out;
	}
	rc = 0;
out:
	sha256_free(c);
	if (fd >= 0)
		close(fd);
	return rc;
}

int hmac_sha256(const void *key, size_t keylen, const void *data, size_t n, uint8_t out[SHA256_LEN])
{
	struct hmac_sha256_ctx h;
	nettle_hmac_sha256_set_key(&h, keylen, key);
	nettle_hmac_sha256_update(&h, n, data);
	nettle_hmac_sha256_digest(&h, SHA256_LEN, out);
	explicit_bzero(&h, sizeof(h));
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
	return nettle_memeql_sec(a, b, n);
}
