/* state.c - reading the agent's records from the stub. */
#include "state.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "exitcodes.h"
#include "fsutil.h"
#include "record.h"

/* 1 when STATE/revisions/<version>/meta says that version failed here with
 * the same bundle (or the digest is unknown), 0 if not, -1 on error. */
static int failed_here(const char *state_dir, const char *version, const char *sha256_hex,
		       struct herr *err)
{
	char path[PATH_MAX];
	struct record meta;
	const char *result, *sha;
	int n, r, rc = -1;

	record_init(&meta);
	n = snprintf(path, sizeof(path), "%s/revisions/%s/meta", state_dir, version);
	if (n < 0 || (size_t)n >= sizeof(path))
		return herr_set(err, HOIST_EXIT_CONFIG, "state_dir too long");
	r = record_read(path, &meta, err);
	if (r < 0)
		goto out;
	result = record_get(&meta, "result");
	sha = record_get(&meta, "sha256");
	/* an interrupted deployment (recovered: the agent marks it so) counts as failed */
	rc = r == 0 && result != NULL && (strcmp(result, "failed") == 0 || strcmp(result, "interrupted") == 0) &&
	     (sha256_hex == NULL || sha == NULL || sha[0] == '\0' || strcmp(sha, sha256_hex) == 0);
out:
	record_free(&meta);
	return rc;
}

int state_deployed(const char *state_dir, const char *version, const char *sha256_hex,
		   struct herr *err)
{
	char path[PATH_MAX];
	struct record cur;
	const char *v;
	int r, rc = -1;

	record_init(&cur);
	if (fs_path_join(path, sizeof(path), state_dir, "journal") != 0)
		return herr_set(err, HOIST_EXIT_CONFIG, "state_dir too long");
	r = fs_exists(path);
	if (r < 0)
		return herr_set(err, HOIST_EXIT_IO, "cannot check %s", path);
	if (r == 1)
		return DEPLOYED_INTERRUPTED;
	if (fs_path_join(path, sizeof(path), state_dir, "current") != 0)
		return herr_set(err, HOIST_EXIT_CONFIG, "state_dir too long");
	r = record_read(path, &cur, err);
	if (r < 0)
		goto out;
	v = record_get(&cur, "version");
	if (r == 0 && v != NULL && strcmp(v, version) == 0) {
		rc = DEPLOYED_SAME;
		goto out;
	}
	r = failed_here(state_dir, version, sha256_hex, err);
	if (r < 0)
		goto out;
	rc = r == 1 ? DEPLOYED_FAILED : DEPLOYED_NONE;
out:
	record_free(&cur);
	return rc;
}
