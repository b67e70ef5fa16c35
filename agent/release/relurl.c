/* relurl.c - release and channel locations (see relurl.h). */
#include "relurl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitcodes.h"
#include "manifest.h"
#include "strutil.h"

int relurl_prefix(const char *url, char *bucket, size_t bsz, char *prefix, size_t psz, struct herr *err)
{
	const char *b, *slash;
	size_t bl, pl;
	if (strncmp(url, "s3://", 5) != 0)
		return herr_set(err, HOIST_EXIT_USAGE, "'%.200s' is not an s3://BUCKET/PREFIX URL", url);
	b = url + 5;
	slash = strchr(b, '/');
	bl = slash != NULL ? (size_t)(slash - b) : strlen(b);
	if (bl == 0 || bl >= bsz)
		return herr_set(err, HOIST_EXIT_USAGE, "'%.200s': missing or overlong bucket name", url);
	memcpy(bucket, b, bl);
	bucket[bl] = '\0';
	pl = slash != NULL ? strlen(slash + 1) : 0;
	while (pl > 0 && slash[pl] == '/')
		pl--;
	if (pl >= psz || (pl > 0 && (slash[1] == '/' || strstr(slash + 1, "//") != NULL)))
		return herr_set(err, HOIST_EXIT_USAGE, "'%.200s': invalid prefix", url);
	if (pl > 0)
		memcpy(prefix, slash + 1, pl);
	prefix[pl] = '\0';
	return 0;
}

int relurl_channel(const char *url, struct relurl_channel *out, struct herr *err)
{
	char *env, *ch, *app;
	char tmp[RELURL_KEY_MAX];
	memset(out, 0, sizeof(*out));
	if (manifest_split_s3(url, out->bucket, sizeof(out->bucket), out->key, sizeof(out->key)) != 0)
		return herr_set(err, HOIST_EXIT_USAGE, "'%.200s' is not an s3://BUCKET/KEY URL", url);
	memcpy(tmp, out->key, sizeof(tmp));
	/* ... APP / channels / ENV */
	env = strrchr(tmp, '/');
	if (env == NULL)
		goto bad;
	*env++ = '\0';
	ch = strrchr(tmp, '/');
	ch = ch != NULL ? ch + 1 : tmp;
	if (strcmp(ch, "channels") != 0 || ch == tmp)
		goto bad;
	ch[-1] = '\0';
	app = strrchr(tmp, '/');
	app = app != NULL ? app + 1 : tmp;
	if (!str_safe_token(env, RELURL_NAME_MAX))
		return herr_set(err, HOIST_EXIT_USAGE, "'%.200s': channel name '%.64s' is not a safe name",
		                url, env);
	if (!str_safe_token(app, RELURL_NAME_MAX))
		return herr_set(err, HOIST_EXIT_USAGE, "'%.200s': application '%.64s' is not a safe name",
		                url, app);
	memcpy(out->env, env, strlen(env) + 1);
	memcpy(out->app, app, strlen(app) + 1);
	memcpy(out->base, tmp, strlen(tmp) + 1);
	return 0;
bad:
	return herr_set(err, HOIST_EXIT_USAGE,
	                "'%.200s' is not a channel URL (s3://BUCKET/PREFIX/APP/channels/ENV)", url);
}

int relurl_join(char *out, size_t outsz, const char *prefix, const char *app, const char *version,
                const char *name)
{
	int n = snprintf(out, outsz, "%s%s%s/%s/%s", prefix, prefix[0] ? "/" : "", app, version, name);
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

int relurl_duration(const char *s, uint64_t *seconds)
{
	char *end;
	uint64_t mul = 1;
	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	if (strcmp(end, "d") == 0)
		mul = 86400;
	else if (strcmp(end, "h") == 0)
		mul = 3600;
	else if (strcmp(end, "m") == 0)
		mul = 60;
	else if (strcmp(end, "s") != 0 && *end != '\0')
		return -1;
	if (v == 0 || v > 10ULL * 366 * 86400 / mul)
		return -1;
	*seconds = v * mul;
	return 0;
}
