/* state.c - reading the agent's records from the stub. */
#include "state.h"

#include <limits.h>
#include <string.h>

#include "exitcodes.h"
#include "fsutil.h"
#include "record.h"

int state_deployed(const char *state_dir, const char *version, struct herr *err)
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
	rc = (r == 0 && v != NULL && strcmp(v, version) == 0) ? DEPLOYED_SAME : DEPLOYED_NONE;
out:
	record_free(&cur);
	return rc;
}
