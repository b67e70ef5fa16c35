/* trust.c - trusted keys and signed manifests (see trust.h). */
#include "trust.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitcodes.h"
#include "fsutil.h"

#define KEYFILE_MAX 4096

int trust_add(struct trust *t, const struct signify_pubkey *k, const char *name, struct herr *err)
{
	if (t->n >= TRUST_MAX_KEYS)
		return herr_set(err, HOIST_EXIT_CONFIG, "more than %d trusted keys", TRUST_MAX_KEYS);
	t->keys[t->n] = *k;
	(void)snprintf(t->names[t->n], TRUST_NAME_MAX, "%s", name);
	t->n++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int trust_load_dir(struct trust *t, const char *dir, struct herr *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char *names[TRUST_MAX_KEYS + 1];
	size_t n = 0;
	int rc = -1;
	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		return herr_errno(err, HOIST_EXIT_CONFIG, errno, "trusted_keys_dir %s", dir);
	}
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (de->d_name[0] == '.' || l < 5 || strcmp(de->d_name + l - 4, ".pub") != 0)
			continue;
		if (n > TRUST_MAX_KEYS) {
			herr_set(err, HOIST_EXIT_CONFIG, "trusted_keys_dir %s: more than %d keys", dir,
			         TRUST_MAX_KEYS);
			goto out;
		}
		if ((names[n] = strdup(de->d_name)) == NULL) {
			herr_set(err, HOIST_EXIT_INTERNAL, "out of memory");
			goto out;
		}
		n++;
	}
	if (n > 0)
		qsort(names, n, sizeof(names[0]), cmp_str);
	for (size_t i = 0; i < n; i++) {
		char path[PATH_MAX];
		struct signify_pubkey k;
		struct buf b;
		int r;
		if (fs_path_join(path, sizeof(path), dir, names[i]) != 0) {
			herr_set(err, HOIST_EXIT_CONFIG, "trusted_keys_dir: path too long");
			goto out;
		}
		buf_init(&b, KEYFILE_MAX);
		r = fs_read_file(path, KEYFILE_MAX, FS_NOFOLLOW, &b, err);
		if (r == 0)
			r = signify_parse_pubkey(b.data != NULL ? b.data : "", b.len, path, &k, err);
		buf_free(&b);
		if (r != 0) {
			err->code = HOIST_EXIT_CONFIG;
			goto out;
		}
		if (trust_add(t, &k, names[i], err) != 0)
			goto out;
	}
	rc = 0;
out:
	closedir(d);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	return rc;
}

int trust_check(const struct trust *t, const char *text, size_t len, const char **msg, size_t *msglen,
                size_t *key_index, struct herr *err)
{
	struct signify_sig sig;
	char hex[2 * SIGNIFY_KEYNUM_LEN + 1];
	int r = signify_split_embedded(text, len, &sig, msg, msglen, err);
	if (r < 0) {
		err->code = HOIST_EXIT_UNTRUSTED;
		return -1;
	}
	if (r == 0)
		return TRUST_UNSIGNED;
	signify_keynum_hex(sig.keynum, hex);
	for (size_t i = 0; i < t->n; i++) {
		if (memcmp(t->keys[i].keynum, sig.keynum, SIGNIFY_KEYNUM_LEN) != 0)
			continue;
		if (signify_verify(&t->keys[i], &sig, *msg, *msglen) != 0)
			return herr_set(
			    err, HOIST_EXIT_UNTRUSTED,
			    "the signature does not verify with trusted key %s (key %s): the manifest "
			    "was changed after it was signed",
			    t->names[i], hex);
		*key_index = i;
		return TRUST_VERIFIED;
	}
	return herr_set(err, HOIST_EXIT_UNTRUSTED,
	                "signed by key %s, which is not a trusted key (%zu trusted)", hex, t->n);
}
