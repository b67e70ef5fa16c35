/* test_sigv4.c - SigV4 against the AWS suite (every case directory under
 * tests/unit/fixtures/sigv4, see its README) and against S3 vectors made by botocore's
 * own signer (tests/unit/fixtures/s3_sigv4.txt, see tests/tools/). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "digest.h"
#include "sigv4.h"

#define SUITE_DIR HOIST_SOURCE_DIR "/tests/unit/fixtures/sigv4"
#define S3_FIXTURE HOIST_SOURCE_DIR "/tests/unit/fixtures/s3_sigv4.txt"
#define MAXH 32

/* Reads a whole file into a NUL-terminated heap string (len in *n); fails the test if absent. */
static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *s;
	long sz;
	if (f == NULL)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	sz = ftell(f);
	assert_true(sz >= 0 && sz < 1 << 20);
	rewind(f);
	s = malloc((size_t)sz + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)sz, f), (size_t)sz);
	s[sz] = '\0';
	fclose(f);
	if (n != NULL)
		*n = (size_t)sz;
	return s;
}

/* Reads dir/name. */
static char *slurp_case(const char *dir, const char *name, size_t *n)
{
	char path[1024];
	int k = snprintf(path, sizeof(path), "%s/%s/%s", SUITE_DIR, dir, name);
	assert_true(k > 0 && (size_t)k < sizeof(path));
	return slurp(path, n);
}

/* The string value of "key": "value" in context.json, copied into out; 0 if absent.
 * The suite's JSON is flat and escape-free in the fields read here. */
static int json_string(const char *json, const char *key, char *out, size_t outsz)
{
	char pat[64];
	const char *p, *q;
	snprintf(pat, sizeof(pat), "\"%s\"", key);
	p = strstr(json, pat);
	if (p == NULL)
		return 0;
	p = strchr(p + strlen(pat), '"');
	assert_non_null(p);
	q = strchr(p + 1, '"');
	assert_non_null(q);
	assert_true((size_t)(q - p - 1) < outsz);
	memcpy(out, p + 1, (size_t)(q - p - 1));
	out[q - p - 1] = '\0';
	return 1;
}

/* The boolean value of "key": true|false (false when absent). */
static bool json_bool(const char *json, const char *key)
{
	char pat[64];
	const char *p;
	snprintf(pat, sizeof(pat), "\"%s\"", key);
	p = strstr(json, pat);
	if (p == NULL)
		return false;
	p += strlen(pat);
	while (*p == ' ' || *p == ':')
		p++;
	return strncmp(p, "true", 4) == 0;
}

struct parsed {
	char *text; /* request.txt, cut up in place */
	char method[16];
	char *path, *query;
	struct sigv4_header h[MAXH];
	size_t nh;
	char *body;
	size_t body_len;
	char *joined[MAXH]; /* continuation values built on the heap */
};

/* Parses request.txt: request line, "Name:value" headers where a line starting with
 * white space continues the previous value (kept with its line break: the signer
 * folds it), a blank line, then the body. */
static void parse_request(char *text, size_t len, struct parsed *r)
{
	char *line = text, *end, *sp, *target, *proto;
	memset(r, 0, sizeof(*r));
	r->text = text;
	end = strchr(line, '\n');
	assert_non_null(end);
	*end = '\0';
	sp = strchr(line, ' ');
	assert_non_null(sp);
	assert_true((size_t)(sp - line) < sizeof(r->method));
	memcpy(r->method, line, (size_t)(sp - line));
	target = sp + 1;
	proto = strstr(target, " HTTP/");
	assert_non_null(proto); /* the target may hold spaces: split at the last part */
	*proto = '\0';
	r->path = target;
	r->query = strchr(target, '?');
	if (r->query != NULL)
		*r->query++ = '\0';
	line = end + 1;
	while (line < text + len && *line != '\n') {
		char *colon;
		end = strchr(line, '\n');
		if (end != NULL)
			*end = '\0';
		if ((*line == ' ' || *line == '\t') && r->nh > 0) {
			struct sigv4_header *prev = &r->h[r->nh - 1];
			size_t a = strlen(prev->value), b = strlen(line);
			char *v = malloc(a + b + 2);
			assert_non_null(v);
			memcpy(v, prev->value, a);
			v[a] = '\n';
			memcpy(v + a + 1, line, b + 1);
			free(r->joined[r->nh - 1]);
			r->joined[r->nh - 1] = v;
			prev->value = v;
		} else {
			colon = strchr(line, ':');
			assert_non_null(colon);
			*colon = '\0';
			assert_true(r->nh < MAXH);
			r->h[r->nh].name = line;
			r->h[r->nh].value = colon + 1;
			r->nh++;
		}
		if (end == NULL) {
			line = text + len;
			break;
		}
		line = end + 1;
	}
	if (line < text + len && *line == '\n')
		line++;
	r->body = line < text + len ? line : text + len;
	r->body_len = (size_t)(text + len - r->body);
}

static void parsed_free(struct parsed *r)
{
	for (size_t i = 0; i < MAXH; i++)
		free(r->joined[i]);
	free(r->text);
}

/* The value after "Authorization:" in a signed request file. */
static char *authorization_line(char *signed_req)
{
	char *p = strstr(signed_req, "\nAuthorization:"), *e;
	assert_non_null(p);
	p += strlen("\nAuthorization:");
	e = strchr(p, '\n');
	if (e != NULL)
		*e = '\0';
	return p;
}

/* Runs one suite case; returns 0 when all four outputs match byte for byte. */
static int run_suite_case(const char *dir)
{
	struct parsed r;
	char *ctx, *text, *exp_cr, *exp_sts, *exp_sig, *exp_signed;
	char akid[128], secret[128], token[1024], region[64], service[64], ts[32], amz_date[17];
	char hash_hex[SHA256_HEX_LEN + 1];
	uint8_t hash[SHA256_LEN];
	size_t len, i, j;
	bool has_token;
	struct buf out;
	int bad = 0;

	ctx = slurp_case(dir, "context.json", NULL);
	text = slurp_case(dir, "request.txt", &len);
	exp_cr = slurp_case(dir, "header-canonical-request.txt", NULL);
	exp_sts = slurp_case(dir, "header-string-to-sign.txt", NULL);
	exp_sig = slurp_case(dir, "header-signature.txt", NULL);
	exp_signed = slurp_case(dir, "header-signed-request.txt", NULL);
	assert_true(json_string(ctx, "access_key_id", akid, sizeof(akid)));
	assert_true(json_string(ctx, "secret_access_key", secret, sizeof(secret)));
	assert_true(json_string(ctx, "region", region, sizeof(region)));
	assert_true(json_string(ctx, "service", service, sizeof(service)));
	assert_true(json_string(ctx, "timestamp", ts, sizeof(ts)));
	has_token = json_string(ctx, "token", token, sizeof(token));
	/* "2015-08-30T12:36:00Z" -> "20150830T123600Z" */
	for (i = j = 0; ts[i] != '\0' && j < 16; i++)
		if (ts[i] != '-' && ts[i] != ':')
			amz_date[j++] = ts[i];
	amz_date[j] = '\0';

	parse_request(text, len, &r);
	assert_int_equal(sha256_buf(r.body, r.body_len, hash), 0);
	hex_encode(hash, sizeof(hash), hash_hex);
	/* What the suite's signer adds before signing: the date, the session token
	 * (unless the case says it is added after signing), and with sign_body the
	 * x-amz-content-sha256 header. */
	assert_true(r.nh + 3 <= MAXH);
	r.h[r.nh].name = "X-Amz-Date";
	r.h[r.nh++].value = amz_date;
	if (has_token && !json_bool(ctx, "omit_session_token")) {
		r.h[r.nh].name = "X-Amz-Security-Token";
		r.h[r.nh++].value = token;
	}
	if (json_bool(ctx, "sign_body")) {
		r.h[r.nh].name = "x-amz-content-sha256";
		r.h[r.nh++].value = hash_hex;
	}

	struct sigv4_request req = {.method = r.method,
	                            .path = r.path,
	                            .query = r.query,
	                            .headers = r.h,
	                            .n_headers = r.nh,
	                            .payload_sha256_hex = hash_hex};
	struct sigv4_scope scope = {.amz_date = amz_date,
	                            .region = region,
	                            .service = service,
	                            .s3 = false,
	                            .no_normalize = !json_bool(ctx, "normalize")};
	struct sigv4_credentials cred = {
	    .access_key_id = akid, .secret_access_key = secret, .session_token = has_token ? token : NULL};

	buf_init(&out, 1 << 16);
	if (sigv4_canonical_request(&req, &scope, &out) != 0 || strcmp(out.data, exp_cr) != 0) {
		print_error("%s: canonical request\n got: [%s]\nwant: [%s]\n", dir, out.data, exp_cr);
		bad = 1;
	}
	if (sigv4_string_to_sign(&req, &scope, &out) != 0 || strcmp(out.data, exp_sts) != 0) {
		print_error("%s: string to sign\n got: [%s]\nwant: [%s]\n", dir, out.data, exp_sts);
		bad = 1;
	}
	if (sigv4_signature(&req, &scope, &cred, &out) != 0 || strcmp(out.data, exp_sig) != 0) {
		print_error("%s: signature got %s want %s\n", dir, out.data, exp_sig);
		bad = 1;
	}
	if (sigv4_authorization(&req, &scope, &cred, &out) != 0 ||
	    strcmp(out.data, authorization_line(exp_signed)) != 0) {
		print_error("%s: authorization\n got: [%s]\nwant: [%s]\n", dir, out.data,
		            authorization_line(exp_signed));
		bad = 1;
	}
	buf_free(&out);
	parsed_free(&r);
	free(ctx);
	free(exp_cr);
	free(exp_sts);
	free(exp_sig);
	free(exp_signed);
	return bad;
}

/* Every directory of the suite that holds a request.txt is a case; none may fail. */
static void test_aws_suite(void **state)
{
	DIR *d = opendir(SUITE_DIR);
	struct dirent *e;
	int cases = 0, failed = 0;
	(void)state;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		char path[1024];
		FILE *f;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/request.txt", SUITE_DIR, e->d_name);
		if ((f = fopen(path, "rb")) == NULL)
			continue;
		fclose(f);
		cases++;
		failed += run_suite_case(e->d_name);
	}
	closedir(d);
	print_message("sigv4 suite: %d cases, %d failed\n", cases, failed);
	assert_true(cases >= 30); /* the suite has 38; an empty directory must not pass */
	assert_int_equal(failed, 0);
}

/* One botocore vector from the fixture. */
struct s3vec {
	char *f[32]; /* raw "field=value" lines of the block */
	size_t nf;
};

/* The value of a field (first occurrence at or after *from when from is non-NULL). */
static const char *field(const struct s3vec *v, const char *name, size_t *from)
{
	size_t n = strlen(name);
	for (size_t i = from ? *from : 0; i < v->nf; i++) {
		if (strncmp(v->f[i], name, n) == 0 && v->f[i][n] == '=') {
			if (from)
				*from = i + 1;
			return v->f[i] + n + 1;
		}
	}
	return NULL;
}

/* Turns the two characters "\n" back into line breaks, in place. */
static char *unescape(char *s)
{
	char *w = s;
	for (const char *p = s; *p != '\0'; p++) {
		if (p[0] == '\\' && p[1] == 'n') {
			*w++ = '\n';
			p++;
		} else {
			*w++ = *p;
		}
	}
	*w = '\0';
	return s;
}

/* Checks one vector with the path given as `path_field` (encoded or raw). */
static void check_s3_vector(const struct s3vec *v, const char *path_field)
{
	struct sigv4_header h[8];
	char names[8][64];
	size_t nh = 0, from = 0;
	const char *hv;
	struct buf out;
	char *exp_cr = strdup(field(v, "canonical", NULL));
	char *exp_sts = strdup(field(v, "string_to_sign", NULL));
	const char *name = field(v, "case", NULL);

	assert_non_null(exp_cr);
	assert_non_null(exp_sts);
	unescape(exp_cr);
	unescape(exp_sts);
	while ((hv = field(v, "header", &from)) != NULL) {
		const char *colon = strchr(hv, ':');
		assert_non_null(colon);
		assert_true(nh < 8 && (size_t)(colon - hv) < sizeof(names[0]));
		memcpy(names[nh], hv, (size_t)(colon - hv));
		names[nh][colon - hv] = '\0';
		h[nh].name = names[nh];
		h[nh].value = colon + 1;
		nh++;
	}
	struct sigv4_request req = {.method = "GET",
	                            .path = field(v, path_field, NULL),
	                            .query = NULL,
	                            .headers = h,
	                            .n_headers = nh,
	                            .payload_sha256_hex = field(v, "payload", NULL)};
	struct sigv4_scope scope = {.amz_date = field(v, "amz_date", NULL),
	                            .region = field(v, "region", NULL),
	                            .service = "s3",
	                            .s3 = true};
	struct sigv4_credentials cred = {.access_key_id = field(v, "access_key_id", NULL),
	                                 .secret_access_key = field(v, "secret_access_key", NULL),
	                                 .session_token = field(v, "session_token", NULL)};
	buf_init(&out, 1 << 16);
	assert_int_equal(sigv4_canonical_request(&req, &scope, &out), 0);
	if (strcmp(out.data, exp_cr) != 0)
		fail_msg("%s (%s): canonical\n got: [%s]\nwant: [%s]", name, path_field, out.data, exp_cr);
	assert_int_equal(sigv4_string_to_sign(&req, &scope, &out), 0);
	assert_string_equal(out.data, exp_sts);
	assert_int_equal(sigv4_signature(&req, &scope, &cred, &out), 0);
	assert_string_equal(out.data, field(v, "signature", NULL));
	assert_int_equal(sigv4_authorization(&req, &scope, &cred, &out), 0);
	assert_string_equal(out.data, field(v, "authorization", NULL));
	buf_free(&out);
	free(exp_cr);
	free(exp_sts);
}

/* Every botocore vector, with the key path given encoded (as S3 clients send it)
 * and raw: both must be encoded exactly once. */
static void test_s3_botocore_vectors(void **state)
{
	char *text = slurp(S3_FIXTURE, NULL), *line, *save = NULL;
	struct s3vec v = {.nf = 0};
	int checked = 0, with_token = 0;
	(void)state;
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			continue;
		if (strcmp(line, "%%") == 0) {
			if (v.nf > 0) {
				check_s3_vector(&v, "path");
				check_s3_vector(&v, "raw_path");
				checked++;
				with_token += field(&v, "session_token", NULL) != NULL;
			}
			v.nf = 0;
			continue;
		}
		assert_true(v.nf < 32);
		v.f[v.nf++] = line;
	}
	free(text);
	assert_int_equal(checked, 6);
	assert_int_equal(with_token, 1);
}

/* A fixed S3 request used by the negative tests. */
static struct sigv4_header neg_h[] = {
    {"Host", "s3.eu-west-1.amazonaws.com"},
    {"x-amz-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"x-amz-date", "20261122T173045Z"},
};

/* Signature for the fixed request with the given secret, region and date. */
static void neg_sign(const char *secret, const char *region, const char *date, char out[65])
{
	struct buf b;
	struct sigv4_header h[3];
	memcpy(h, neg_h, sizeof(h));
	h[2].value = date;
	struct sigv4_request req = {.method = "GET",
	                            .path = "/hoist-bundles/a b.tgz",
	                            .headers = h,
	                            .n_headers = 3,
	                            .payload_sha256_hex = neg_h[1].value};
	struct sigv4_scope scope = {.amz_date = date, .region = region, .service = "s3", .s3 = true};
	struct sigv4_credentials cred = {.access_key_id = "AKIDEXAMPLE", .secret_access_key = secret};
	buf_init(&b, 1024);
	assert_int_equal(sigv4_signature(&req, &scope, &cred, &b), 0);
	assert_int_equal(b.len, 64);
	memcpy(out, b.data, 65);
	buf_free(&b);
}

/* One changed byte of the secret, the region or the date changes the signature. */
static void test_one_byte_changes_signature(void **state)
{
	char base[65], s[65];
	(void)state;
	neg_sign("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "eu-west-1", "20261122T173045Z", base);
	/* the botocore vector "space" for the same request: the base is right */
	assert_string_equal(base, "117b2de99b89eb918422efc4141a39bf32a3aa9b42fba619c2f8d4b13aa4b77e");
	neg_sign("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEz", "eu-west-1", "20261122T173045Z", s);
	assert_string_not_equal(base, s);
	neg_sign("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "eu-west-2", "20261122T173045Z", s);
	assert_string_not_equal(base, s);
	neg_sign("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "eu-west-1", "20261123T173045Z", s);
	assert_string_not_equal(base, s);
	neg_sign("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "eu-west-1", "20261122T173046Z", s);
	assert_string_not_equal(base, s);
}

/* Bad input is refused, not signed. */
static void test_rejects_bad_input(void **state)
{
	struct buf b;
	struct sigv4_header only_host[] = {{"Host", "h"}};
	struct sigv4_header bad_name[] = {{"Ho st", "h"}, {"x-amz-date", "20261122T173045Z"}};
	struct sigv4_request ok = {.method = "GET",
	                           .path = "/",
	                           .headers = neg_h,
	                           .n_headers = 3,
	                           .payload_sha256_hex = neg_h[1].value};
	struct sigv4_scope scope = {
	    .amz_date = "20261122T173045Z", .region = "eu-west-1", .service = "s3", .s3 = true};
	struct sigv4_request r;
	struct sigv4_scope sc;
	struct sigv4_credentials nocred = {.access_key_id = "AKID", .secret_access_key = ""};
	(void)state;
	buf_init(&b, 1 << 16);
	assert_int_equal(sigv4_canonical_request(&ok, &scope, &b), 0);
	r = ok;
	r.headers = only_host;
	r.n_headers = 1;
	assert_int_equal(sigv4_canonical_request(&r, &scope, &b), -1); /* no x-amz-date */
	r = ok;
	r.headers = bad_name;
	r.n_headers = 2;
	assert_int_equal(sigv4_canonical_request(&r, &scope, &b), -1);
	r = ok;
	r.payload_sha256_hex = "abc";
	assert_int_equal(sigv4_canonical_request(&r, &scope, &b), -1);
	sc = scope;
	sc.amz_date = "2026-11-22T17:30:45Z";
	assert_int_equal(sigv4_canonical_request(&ok, &sc, &b), -1);
	sc = scope;
	sc.amz_date = "20261122T173046Z"; /* disagrees with the x-amz-date header */
	assert_int_equal(sigv4_canonical_request(&ok, &sc, &b), -1);
	sc = scope;
	sc.region = "eu/west";
	assert_int_equal(sigv4_canonical_request(&ok, &sc, &b), -1);
	assert_int_equal(sigv4_signature(&ok, &scope, &nocred, &b), -1);
	/* UNSIGNED-PAYLOAD is the one non-hex payload S3 accepts */
	r = ok;
	r.payload_sha256_hex = "UNSIGNED-PAYLOAD";
	assert_int_equal(sigv4_canonical_request(&r, &scope, &b), 0);
	/* the output buffer's own limit is honoured */
	buf_free(&b);
	buf_init(&b, 16);
	assert_int_equal(sigv4_canonical_request(&ok, &scope, &b), -1);
	buf_free(&b);
}

/* The encoder keeps exactly the unreserved set, and '/' only when asked. */
static void test_uri_encode(void **state)
{
	static const struct {
		const char *in;
		bool slash;
		const char *want;
	} t[] = {
	    {"a b", false, "a%20b"},
	    {"a/b", false, "a%2Fb"},
	    {"a/b", true, "a/b"},
	    {"-._~AZaz09", false, "-._~AZaz09"},
	    {"+=&%", false, "%2B%3D%26%25"},
	    {"\xc3\xbc", false, "%C3%BC"},
	    {"", false, ""},
	};
	struct buf b;
	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		buf_init(&b, 256);
		assert_int_equal(sigv4_uri_encode(t[i].in, strlen(t[i].in), t[i].slash, &b), 0);
		assert_string_equal(b.data ? b.data : "", t[i].want);
		buf_free(&b);
	}
}

/* S3 keeps dot segments and empty segments (no normalisation) and encodes once. */
static void test_s3_path_not_normalised(void **state)
{
	static const struct {
		const char *path;
		const char *want;
	} t[] = {
	    {"/b/./x/../y", "/b/./x/../y"},
	    {"/b//k", "/b//k"},
	    {"/b/a%2520b", "/b/a%2520b"}, /* "%25" decodes to '%': the key is "a%20b" */
	    {"/b/a%20b", "/b/a%20b"},
	    {"/b/a b", "/b/a%20b"},
	    {"", "/"},
	};
	struct buf b;
	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct sigv4_request req = {.method = "GET",
		                            .path = t[i].path,
		                            .headers = neg_h,
		                            .n_headers = 3,
		                            .payload_sha256_hex = neg_h[1].value};
		struct sigv4_scope scope = {
		    .amz_date = "20261122T173045Z", .region = "eu-west-1", .service = "s3", .s3 = true};
		buf_init(&b, 4096);
		assert_int_equal(sigv4_canonical_request(&req, &scope, &b), 0);
		const char *nl = strchr(b.data, '\n');
		const char *nl2 = strchr(nl + 1, '\n');
		assert_int_equal((size_t)(nl2 - nl - 1), strlen(t[i].want));
		assert_memory_equal(nl + 1, t[i].want, strlen(t[i].want));
		buf_free(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_aws_suite),
	    cmocka_unit_test(test_s3_botocore_vectors),
	    cmocka_unit_test(test_one_byte_changes_signature),
	    cmocka_unit_test(test_rejects_bad_input),
	    cmocka_unit_test(test_uri_encode),
	    cmocka_unit_test(test_s3_path_not_normalised),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
