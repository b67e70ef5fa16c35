/* channel.h - the directive's channel= or release= path: GET the manifest,
 * check it against the host's trust policy (trusted_keys_dir,
 * require_signature), its application, expiry and the channel's seq, then
 * fill the directive's version, bundle and sha256 from it so the download
 * proceeds as for a pinned release, with the manifest's size as a hard cap.
 *
 * Every refusal happens before any byte of the bundle is fetched:
 * HOIST_EXIT_UNTRUSTED (unsigned while required, unknown key, bad
 * signature, wrong app, kind or channel; a pinned version+bundle directive
 * while required), HOIST_EXIT_STALE (expired; seq lower than the one this
 * host last applied, kept in STATE/channels/). docs/releases.md. */
#ifndef HOIST_CHANNEL_H
#define HOIST_CHANNEL_H

#include <limits.h>
#include <stdint.h>

#include "config.h"
#include "herr.h"
#include "s3client.h"
#include "userdata.h"

struct channel_opts {
	const char *state_dir;        /* host path (root applied) */
	const char *trusted_keys_dir; /* host path (root applied) */
	enum require_signature require;
	uint64_t max_bundle_bytes;
};

struct channel_result {
	uint64_t size; /* the bundle's size: the download's hard cap */
	uint64_t seq;  /* channel only */
	int is_channel;
	char seq_path[PATH_MAX]; /* STATE/channels/<id>.seq */
};

/* Fetches and checks d->manifest_url; on success d->version, bundle,
 * bucket, key and sha256 describe the release it names. */
int channel_resolve(struct s3client *c, const struct channel_opts *o, struct directive *d,
                    struct channel_result *r, struct herr *err);

/* A pinned version+bundle directive is refused while signatures are
 * required (nothing signed names it). */
int channel_check_pinned(const struct channel_opts *o, const struct directive *d, struct herr *err);

/* Records the channel's seq as applied on this host (atomically), so an
 * older channel manifest is refused later. No-op for release=. */
int channel_record_seq(const struct channel_result *r, const char *url, struct herr *err);

#endif
