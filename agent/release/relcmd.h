/* relcmd.h - the hoist-release commands: bundle, key generate, publish,
 * promote, channel show. Each returns an exit code (exitcodes.h) and
 * fills err on failure; output for people and scripts goes to stdout. */
#ifndef HOIST_RELCMD_H
#define HOIST_RELCMD_H

#include <stdbool.h>

#include "herr.h"
#include "relaws.h"

struct relcmd_opts {
	const char *endpoint, *region;  /* --endpoint, --region */
	const char *sign_key;           /* --sign-key K.sec */
	const char *trusted_keys_dir;   /* --trusted-keys DIR: keys a promotion's source may be signed by */
	const char *app, *version, *to; /* publish */
	const char *channel, *from_channel, *expires; /* promote */
	bool json;                                    /* channel show --json */
	unsigned long long part_size;                 /* publish --part-size (bytes; 0 = default) */
};

int relcmd_bundle(const char *dir, const char *out, struct herr *err);
int relcmd_key_generate(const char *name, struct herr *err);
int relcmd_publish(const char *file, const struct relcmd_opts *o, struct herr *err);
int relcmd_promote(const struct relcmd_opts *o, struct herr *err);
int relcmd_channel_show(const char *url, const struct relcmd_opts *o, struct herr *err);

#endif
