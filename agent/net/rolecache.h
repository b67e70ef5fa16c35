/* rolecache.h - the instance role's name kept in STATE/imds-role between
 * boots, so a boot that finds nothing new asks the metadata service for the
 * credentials only (token, user data, credentials, manifest: 4 requests)
 * instead of listing the role first. Not secret (the name is also in the
 * instance profile); a stale name (404) is forgotten and the role listed. */
#ifndef HOIST_ROLECACHE_H
#define HOIST_ROLECACHE_H

#include <stddef.h>

/* 1 when path holds a well-formed role name (copied into role), else 0. */
int rolecache_read(const char *path, char *role, size_t rolesz);
/* Best effort: a failure only costs one request at the next boot. */
void rolecache_write(const char *path, const char *role);
void rolecache_forget(const char *path);

#endif
