/* test_signify.c - signify keys and signatures: a key pair and a manifest
 * signed by OpenBSD signify (signify-openbsd, fixtures/signify/) verify
 * here; what hoist signs verifies with the same key; forgeries, other
 * keys, damaged and passphrase-protected keys are refused. (Both
 * directions with the live signify binary: tests/e2e/test_release_sign.sh.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "exitcodes.h"
#include "signify.h"
#include "trust.h"

#define FIX HOIST_SOURCE_DIR "/tests/unit/fixtures/signify/"

static char *slurp(const char *name, size_t *len)
{
	FILE *f = fopen(name, "rb");
	char *b = calloc(1, 4096);
	assert_non_null(f);
	assert_non_null(b);
	*len = fread(b, 1, 4095, f);
	fclose(f);
	return b;
}

static void test_signify_made_verifies(void **state)
{
	struct signify_pubkey pk;
	struct signify_sig sig;
	struct herr err = {0};
	const char *msg;
	size_t pl, sl, ml, tl;
	char *pub = slurp(FIX "signify.pub", &pl);
	char *signed_text = slurp(FIX "manifest.signed", &sl);
	char *text = slurp(FIX "manifest.txt", &tl);
	(void)state;
	assert_int_equal(signify_parse_pubkey(pub, pl, "signify.pub", &pk, &err), 0);
	assert_int_equal(signify_split_embedded(signed_text, sl, &sig, &msg, &ml, &err), 1);
	assert_int_equal(ml, tl);
	assert_memory_equal(msg, text, tl);
	assert_int_equal(signify_verify(&pk, &sig, msg, ml), 0);
	/* one flipped byte of the message, of the signature, of the key number */
	signed_text[sl - 3] ^= 1;
	assert_int_equal(signify_verify(&pk, &sig, msg, ml), -1);
	signed_text[sl - 3] ^= 1;
	sig.sig[10] ^= 0x40;
	assert_int_equal(signify_verify(&pk, &sig, msg, ml), -1);
	sig.sig[10] ^= 0x40;
	sig.keynum[0] ^= 1;
	assert_int_equal(signify_verify(&pk, &sig, msg, ml), -1);
	free(pub);
	free(signed_text);
	free(text);
}

static void test_hoist_signs_with_signify_key(void **state)
{
	struct signify_seckey sk;
	struct signify_pubkey pk, other_pub;
	struct signify_seckey other;
	struct signify_sig sig;
	struct herr err = {0};
	struct buf out;
	const char *msg;
	size_t pl, kl, ml;
	char *pub = slurp(FIX "signify.pub", &pl);
	char *sec = slurp(FIX "signify.sec", &kl);
	(void)state;
	buf_init(&out, 8192);
	assert_int_equal(signify_parse_seckey(sec, kl, "signify.sec", &sk, &err), 0);
	assert_int_equal(signify_parse_pubkey(pub, pl, "signify.pub", &pk, &err), 0);
	assert_memory_equal(sk.keynum, pk.keynum, 8);
	assert_int_equal(signify_sign_embedded(&sk, "signify.pub", "hello\n", 6, &out, &err), 0);
	assert_non_null(strstr(out.data, "untrusted comment: verify with signify.pub\n"));
	assert_int_equal(signify_split_embedded(out.data, out.len, &sig, &msg, &ml, &err), 1);
	assert_int_equal(ml, 6);
	assert_int_equal(signify_verify(&pk, &sig, msg, ml), 0);
	/* another key: different keynum, and with the keynum forced equal the signature still fails */
	assert_int_equal(signify_generate(&other_pub, &other, &err), 0);
	assert_int_equal(signify_verify(&other_pub, &sig, msg, ml), -1);
	memcpy(other_pub.keynum, pk.keynum, 8);
	assert_int_equal(signify_verify(&other_pub, &sig, msg, ml), -1);
	signify_seckey_wipe(&sk);
	signify_seckey_wipe(&other);
	buf_free(&out);
	free(pub);
	free(sec);
}

static void test_generate_roundtrip(void **state)
{
	struct signify_seckey sk, sk2;
	struct signify_pubkey pk, pk2;
	struct herr err = {0};
	struct buf ps, ss;
	(void)state;
	buf_init(&ps, 4096);
	buf_init(&ss, 4096);
	assert_int_equal(signify_generate(&pk, &sk, &err), 0);
	assert_int_equal(signify_format_pubkey(&pk, "hoist release key", &ps), 0);
	assert_int_equal(signify_format_seckey(&sk, "hoist release secret key", &ss), 0);
	assert_int_equal(signify_parse_pubkey(ps.data, ps.len, "p", &pk2, &err), 0);
	assert_int_equal(signify_parse_seckey(ss.data, ss.len, "s", &sk2, &err), 0);
	assert_memory_equal(&pk, &pk2, sizeof(pk));
	assert_memory_equal(&sk, &sk2, sizeof(sk));
	/* "Ed" encodes as "RW", as in every signify key */
	assert_non_null(strstr(ps.data, "untrusted comment: hoist release key\nRW"));
	signify_seckey_wipe(&sk);
	signify_seckey_wipe(&sk2);
	buf_free(&ps);
	buf_free(&ss);
}

static void test_refusals(void **state)
{
	struct signify_seckey sk;
	struct signify_pubkey pk;
	struct signify_sig sig;
	struct herr err = {0};
	const char *msg;
	size_t kl, ml;
	char *prot = slurp(FIX "protected.sec", &kl);
	(void)state;
	assert_int_equal(signify_parse_seckey(prot, kl, "release.sec", &sk, &err), -1);
	assert_int_equal(err.code, HOIST_EXIT_CONFIG);
	assert_non_null(strstr(err.msg, "release.sec: the secret key is protected by a passphrase"));
	free(prot);
	/* a public key where a secret key belongs, garbage, a damaged checksum */
	char *pub = slurp(FIX "signify.pub", &kl);
	assert_int_equal(signify_parse_seckey(pub, kl, "x", &sk, &err), -1);
	free(pub);
	assert_int_equal(signify_parse_pubkey("hello\n", 6, "k.pub", &pk, &err), -1);
	assert_non_null(strstr(err.msg, "k.pub: not a signify public key"));
	char *sec = slurp(FIX "signify.sec", &kl);
	char *b64 = strchr(sec, '\n') + 1;
	b64[60] = b64[60] == 'A' ? 'B' : 'A';
	assert_int_equal(signify_parse_seckey(sec, kl, "x", &sk, &err), -1);
	free(sec);
	/* unsigned text; a malformed signature block */
	assert_int_equal(signify_split_embedded("hoist-manifest 1\n", 17, &sig, &msg, &ml, &err), 0);
	assert_int_equal(ml, 17);
	const char *bad = "untrusted comment: x\nnot base64!\nhoist-manifest 1\n";
	assert_int_equal(signify_split_embedded(bad, strlen(bad), &sig, &msg, &ml, &err), -1);
	assert_int_equal(err.code, HOIST_EXIT_INTEGRITY);
	const char *trunc = "untrusted comment: x";
	assert_int_equal(signify_split_embedded(trunc, strlen(trunc), &sig, &msg, &ml, &err), -1);
}

/* trust: the *.pub files of a directory, matched by key number; two keys
 * (rotation), a missing directory, a key number no trusted key has. */
static void test_trust(void **state)
{
	struct trust t;
	struct herr err = {0};
	struct signify_pubkey pk2;
	struct signify_seckey sk2;
	struct buf out;
	const char *msg;
	size_t sl, ml, ki = 99;
	char *signed_text = slurp(FIX "manifest.signed", &sl);
	(void)state;
	memset(&t, 0, sizeof(t));
	assert_int_equal(trust_load_dir(&t, FIX, &err), 0);
	assert_int_equal(t.n, 1); /* signify.pub; the .sec files are not keys to trust */
	assert_string_equal(t.names[0], "signify.pub");
	assert_int_equal(trust_check(&t, signed_text, sl, &msg, &ml, &ki, &err), TRUST_VERIFIED);
	assert_int_equal(ki, 0);
	/* a second key: both verify; the first removed, its signatures are refused */
	buf_init(&out, 8192);
	assert_int_equal(signify_generate(&pk2, &sk2, &err), 0);
	assert_int_equal(trust_add(&t, &pk2, "new.pub", &err), 0);
	assert_int_equal(signify_sign_embedded(&sk2, "new.pub", "m\n", 2, &out, &err), 0);
	assert_int_equal(trust_check(&t, out.data, out.len, &msg, &ml, &ki, &err), TRUST_VERIFIED);
	assert_int_equal(ki, 1);
	t.keys[0] = t.keys[1];
	t.n = 1;
	assert_int_equal(trust_check(&t, signed_text, sl, &msg, &ml, &ki, &err), -1);
	assert_int_equal(err.code, HOIST_EXIT_UNTRUSTED);
	assert_non_null(strstr(err.msg, "which is not a trusted key (1 trusted)"));
	/* unsigned text passes through as unsigned; a missing directory holds no key */
	assert_int_equal(trust_check(&t, "hoist-manifest 1\n", 17, &msg, &ml, &ki, &err), TRUST_UNSIGNED);
	memset(&t, 0, sizeof(t));
	assert_int_equal(trust_load_dir(&t, FIX "no-such-dir", &err), 0);
	assert_int_equal(t.n, 0);
	signify_seckey_wipe(&sk2);
	buf_free(&out);
	free(signed_text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_signify_made_verifies),
	    cmocka_unit_test(test_hoist_signs_with_signify_key),
	    cmocka_unit_test(test_generate_roundtrip),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_trust),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
