/* rolecache.c - the cached instance role name (see rolecache.h). */
#include "rolecache.h"

#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "fsutil.h"
#include "herr.h"

#define ROLE_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+=,.@_-"

int rolecache_read(const char *path, char *role, size_t rolesz)
{
	struct buf b;
	struct herr err = {0};
	size_t n;
	int rc = 0;
	if (path == NULL || !fs_exists(path))
		return 0;
	buf_init(&b, 256);
	if (fs_read_file(path, 256, FS_NOFOLLOW, &b, &err) == 0 && b.len > 0) {
		n = strcspn(b.data, "\n");
		if (n > 0 && n < rolesz && strspn(b.data, ROLE_CHARS) == n) {
			memcpy(role, b.data, n);
			role[n] = '\0';
			rc = 1;
		}
	}
	buf_free(&b);
	return rc;
}

void rolecache_write(const char *path, const char *role)
{
	struct herr err = {0};
	char text[300];
	size_t n = strlen(role);
	const char *slash = path != NULL ? strrchr(path, '/') : NULL;
	char dir[4096];
	if (path == NULL || n + 2 > sizeof(text) || slash == NULL || (size_t)(slash - path) >= sizeof(dir))
		return;
	/* the state directory may not exist yet at the first boot */
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (dir[0] != '\0' && fs_mkdir_p(dir, 0700, &err) != 0)
		return;
	memcpy(text, role, n);
	text[n] = '\n';
	(void)fs_write_replace(path, text, n + 1, 0644, &err);
}

void rolecache_forget(const char *path)
{
	if (path != NULL)
		(void)unlink(path);
}
