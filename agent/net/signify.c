/* signify.c - signify keys and signatures (see signify.h). */
#include "signify.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "digest.h"
#include "exitcodes.h"

#define PUBKEY_BYTES 42
#define SECKEY_BYTES 104
#define SIG_BYTES 74
#define COMMENT_HDR "untrusted comment: "
#define B64_MAX 256

/* Splits "untrusted comment: ...\nBASE64\n" at text: decodes the base64
 * line into out (exactly want bytes) and sets *rest after it. */
static int read_block(const char *text, size_t len, uint8_t *out, size_t want, const char **rest)
{
	const size_t hl = sizeof(COMMENT_HDR) - 1;
	const char *end = text + len, *nl, *b64, *b64end;
	uint8_t tmp[B64_MAX];
	long n;
	if (len < hl || memcmp(text, COMMENT_HDR, hl) != 0)
		return -1;
	nl = memchr(text, '\n', len);
	if (nl == NULL || (size_t)(nl - text) > SIGNIFY_COMMENT_MAX)
		return -1;
	b64 = nl + 1;
	b64end = memchr(b64, '\n', (size_t)(end - b64));
	if (b64end == NULL || b64end - b64 >= B64_MAX)
		return -1;
	n = base64_decode(b64, (size_t)(b64end - b64), tmp, sizeof(tmp));
	if (n != (long)want) {
		OPENSSL_cleanse(tmp, sizeof(tmp));
		return -1;
	}
	memcpy(out, tmp, want);
	OPENSSL_cleanse(tmp, sizeof(tmp));
	*rest = b64end + 1;
	return 0;
}

/* Only whitespace may follow a key's base64 line. */
static int only_space(const char *p, const char *end)
{
	for (; p < end; p++)
		if (*p != '\n' && *p != '\r' && *p != ' ' && *p != '\t')
			return 0;
	return 1;
}

int signify_parse_pubkey(const char *text, size_t len, const char *what, struct signify_pubkey *out,
                         struct herr *err)
{
	uint8_t raw[PUBKEY_BYTES];
	const char *rest;
	if (read_block(text, len, raw, sizeof(raw), &rest) != 0 || !only_space(rest, text + len))
		return herr_set(err, HOIST_EXIT_CONFIG,
		                "%s: not a signify public key (\"untrusted comment:\" line, then one base64 "
		                "line)",
		                what);
	if (raw[0] != 'E' || raw[1] != 'd')
		return herr_set(err, HOIST_EXIT_CONFIG, "%s: not an Ed25519 signify key", what);
	memcpy(out->keynum, raw + 2, SIGNIFY_KEYNUM_LEN);
	memcpy(out->key, raw + 10, 32);
	return 0;
}

/* The public half of a 32-byte Ed25519 seed. */
static int public_of_seed(const uint8_t seed[32], uint8_t pub[32])
{
	EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	size_t n = 32;
	int rc = -1;
	if (pk != NULL && EVP_PKEY_get_raw_public_key(pk, pub, &n) == 1 && n == 32)
		rc = 0;
	EVP_PKEY_free(pk);
	return rc;
}

static int seckey_checksum(const uint8_t key[64], uint8_t out[8])
{
	uint8_t d[64];
	unsigned int n = 0;
	int rc = EVP_Digest(key, 64, d, &n, EVP_sha512(), NULL) == 1 && n == 64 ? 0 : -1;
	memcpy(out, d, 8);
	OPENSSL_cleanse(d, sizeof(d));
	return rc;
}

int signify_parse_seckey(const char *text, size_t len, const char *what, struct signify_seckey *out,
                         struct herr *err)
{
	uint8_t raw[SECKEY_BYTES], sum[8], pub[32];
	const char *rest;
	uint32_t rounds;
	int rc = -1;

	if (read_block(text, len, raw, sizeof(raw), &rest) != 0 || !only_space(rest, text + len)) {
		herr_set(err, HOIST_EXIT_CONFIG,
		         "%s: not a signify secret key (\"untrusted comment:\" line, then one base64 line)",
		         what);
		goto out;
	}
	if (raw[0] != 'E' || raw[1] != 'd' || raw[2] != 'B' || raw[3] != 'K') {
		herr_set(err, HOIST_EXIT_CONFIG, "%s: not an Ed25519 signify secret key", what);
		goto out;
	}
	rounds = (uint32_t)raw[4] << 24 | (uint32_t)raw[5] << 16 | (uint32_t)raw[6] << 8 | raw[7];
	if (rounds != 0) {
		herr_set(
		    err, HOIST_EXIT_CONFIG,
		    "%s: the secret key is protected by a passphrase; hoist-release signs unattended and "
		    "needs a key without one (create it with 'hoist-release key generate' or 'signify -G "
		    "-n')",
		    what);
		goto out;
	}
	memcpy(out->keynum, raw + 32, SIGNIFY_KEYNUM_LEN);
	memcpy(out->key, raw + 40, 64);
	if (seckey_checksum(out->key, sum) != 0 || CRYPTO_memcmp(sum, raw + 24, 8) != 0) {
		herr_set(err, HOIST_EXIT_CONFIG,
		         "%s: the secret key's checksum does not match (damaged file)", what);
		goto out;
	}
	if (public_of_seed(out->key, pub) != 0 || CRYPTO_memcmp(pub, out->key + 32, 32) != 0) {
		herr_set(err, HOIST_EXIT_CONFIG, "%s: the secret key is inconsistent (damaged file)", what);
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	if (rc != 0)
		signify_seckey_wipe(out);
	return rc;
}

int signify_generate(struct signify_pubkey *pub, struct signify_seckey *sec, struct herr *err)
{
	if (RAND_bytes(sec->key, 32) != 1 || RAND_bytes(sec->keynum, SIGNIFY_KEYNUM_LEN) != 1 ||
	    public_of_seed(sec->key, sec->key + 32) != 0) {
		signify_seckey_wipe(sec);
		return herr_set(err, HOIST_EXIT_INTERNAL, "cannot generate an Ed25519 key");
	}
	memcpy(pub->keynum, sec->keynum, SIGNIFY_KEYNUM_LEN);
	memcpy(pub->key, sec->key + 32, 32);
	return 0;
}

/* "untrusted comment: C\nBASE64(raw)\n" appended to out. */
static int format_block(const char *comment, const uint8_t *raw, size_t n, struct buf *out)
{
	unsigned char b64[B64_MAX];
	int rc;
	if (n > 3 * (B64_MAX / 4 - 1) || strchr(comment, '\n') != NULL)
		return -1;
	(void)EVP_EncodeBlock(b64, raw, (int)n);
	rc = buf_printf(out, COMMENT_HDR "%s\n%s\n", comment, (const char *)b64);
	OPENSSL_cleanse(b64, sizeof(b64));
	return rc;
}

int signify_format_pubkey(const struct signify_pubkey *k, const char *comment, struct buf *out)
{
	uint8_t raw[PUBKEY_BYTES] = {'E', 'd'};
	memcpy(raw + 2, k->keynum, SIGNIFY_KEYNUM_LEN);
	memcpy(raw + 10, k->key, 32);
	return format_block(comment, raw, sizeof(raw), out);
}

int signify_format_seckey(const struct signify_seckey *k, const char *comment, struct buf *out)
{
	uint8_t raw[SECKEY_BYTES] = {'E', 'd', 'B', 'K'}; /* kdfrounds 0: not encrypted */
	int rc = -1;
	if (RAND_bytes(raw + 8, 16) != 1 || seckey_checksum(k->key, raw + 24) != 0)
		goto out;
	memcpy(raw + 32, k->keynum, SIGNIFY_KEYNUM_LEN);
	memcpy(raw + 40, k->key, 64);
	rc = format_block(comment, raw, sizeof(raw), out);
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	return rc;
}

void signify_seckey_wipe(struct signify_seckey *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}

int signify_sign_embedded(const struct signify_seckey *k, const char *pubname, const void *msg, size_t len,
                          struct buf *out, struct herr *err)
{
	uint8_t raw[SIG_BYTES] = {'E', 'd'};
	char comment[SIGNIFY_COMMENT_MAX];
	EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, k->key, 32);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t siglen = 64;
	int rc = -1;

	if (pk == NULL || ctx == NULL || EVP_DigestSignInit(ctx, NULL, NULL, NULL, pk) != 1 ||
	    EVP_DigestSign(ctx, raw + 10, &siglen, msg, len) != 1 || siglen != 64) {
		herr_set(err, HOIST_EXIT_INTERNAL, "cannot sign (Ed25519)");
		goto out;
	}
	memcpy(raw + 2, k->keynum, SIGNIFY_KEYNUM_LEN);
	if ((size_t)snprintf(comment, sizeof(comment), "verify with %s", pubname) >= sizeof(comment) ||
	    format_block(comment, raw, sizeof(raw), out) != 0 || buf_append(out, msg, len) != 0) {
		herr_set(err, HOIST_EXIT_INTERNAL, "cannot format the signed manifest");
		goto out;
	}
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return rc;
}

int signify_split_embedded(const char *text, size_t len, struct signify_sig *sig, const char **msg,
                           size_t *msglen, struct herr *err)
{
	uint8_t raw[SIG_BYTES];
	const char *rest;
	const size_t hl = sizeof(COMMENT_HDR) - 1;
	if (len < hl || memcmp(text, COMMENT_HDR, hl) != 0) {
		*msg = text;
		*msglen = len;
		return 0;
	}
	if (read_block(text, len, raw, sizeof(raw), &rest) != 0 || raw[0] != 'E' || raw[1] != 'd')
		return herr_set(err, HOIST_EXIT_INTEGRITY,
		                "malformed signature block (not a signify Ed25519 "
		                "signature)");
	memcpy(sig->keynum, raw + 2, SIGNIFY_KEYNUM_LEN);
	memcpy(sig->sig, raw + 10, 64);
	*msg = rest;
	*msglen = (size_t)(text + len - rest);
	return 1;
}

int signify_verify(const struct signify_pubkey *k, const struct signify_sig *sig, const void *msg, size_t len)
{
	EVP_PKEY *pk = NULL;
	EVP_MD_CTX *ctx = NULL;
	int rc = -1;
	if (CRYPTO_memcmp(k->keynum, sig->keynum, SIGNIFY_KEYNUM_LEN) != 0)
		return -1;
	pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, k->key, 32);
	ctx = EVP_MD_CTX_new();
	if (pk != NULL && ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) == 1 &&
	    EVP_DigestVerify(ctx, sig->sig, 64, msg, len) == 1)
		rc = 0;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return rc;
}

void signify_keynum_hex(const uint8_t keynum[SIGNIFY_KEYNUM_LEN], char out[2 * SIGNIFY_KEYNUM_LEN + 1])
{
	hex_encode(keynum, SIGNIFY_KEYNUM_LEN, out);
}
