/* config.h - settings of both programs: /etc/hoist/hoist.conf, then the
 * conventional environment variables, then command-line flags.
 *
 * File format: "key = value" lines, '#' comments, blank lines; values may
 * be wrapped in double quotes. Unknown keys are warned about (logged by
 * the caller from config_warnings), never fatal, so that an older stub
 * keeps booting with a newer file. Bad values are errors naming file,
 * line and key. A missing file means defaults. docs/configuration.md
 * lists every key. */
#ifndef HOIST_CONFIG_H
#define HOIST_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "herr.h"

#define HOIST_DEFAULT_CONFIG "/etc/hoist/hoist.conf"

enum same_version_policy {
	SAME_VERSION_SKIP = 0,  /* default: already deployed -> exit 0, no download */
	SAME_VERSION_REDEPLOY,  /* hand over again (cached bundle, re-run hooks) */
};

enum require_signature {
	REQUIRE_SIG_AUTO = 0, /* default: required as soon as a trusted key is installed */
	REQUIRE_SIG_YES,
	REQUIRE_SIG_NO,
};

struct hoist_config {
	/* where: every absolute host path below is resolved under root */
	char *root;               /* root        "" (HOIST_ROOT)            */
	char *state_dir;          /* state_dir   /var/lib/hoist            */
	char *cache_dir;          /* cache_dir   <state_dir>/bundles       */
	bool cache_dir_set;       /* added: cache_dir given explicitly; when false,
				   * config_set("state_dir") re-derives cache_dir */
	char *log_dir;            /* log_dir     /var/log/hoist            */
	char *agent_path;         /* agent_path  /usr/sbin/hoist           */

	/* metadata service */
	char *imds_endpoint;      /* imds_endpoint http://169.254.169.254 (AWS_EC2_METADATA_SERVICE_ENDPOINT) */
	bool imds_v1_disabled;    /* imds_v1_disabled true (AWS_EC2_METADATA_V1_DISABLED) */
	unsigned imds_timeout_ms; /* imds_timeout_ms 1000: per request      */
	unsigned imds_deadline_s; /* imds_deadline_s 20: all IMDS work      */
	unsigned imds_retries;    /* imds_retries 5                         */

	/* S3 */
	char *region;             /* region      "" (AWS_REGION, AWS_DEFAULT_REGION) */
	char *s3_endpoint;        /* s3_endpoint "" (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL) */
	char *ca_bundle;          /* ca_bundle   "" (AWS_CA_BUNDLE)           */
	uint64_t max_bundle_bytes;/* max_bundle_bytes 4294967296 (4 GiB)     */
	unsigned connect_timeout_s; /* connect_timeout_s 5                  */
	unsigned low_speed_timeout_s; /* low_speed_timeout_s 30: stall window */
	unsigned low_speed_bytes_s; /* low_speed_bytes_s 1024: stall floor   */
	unsigned download_deadline_s; /* download_deadline_s 3600: 0 = none */
	unsigned download_retries;  /* download_retries 5                    */
	char *access_key_id;      /* environment only: AWS_ACCESS_KEY_ID     */
	char *secret_access_key;  /* environment only: AWS_SECRET_ACCESS_KEY */
	char *session_token;      /* environment only: AWS_SESSION_TOKEN     */

	/* boot behaviour */
	enum same_version_policy same_version; /* same_version skip|redeploy */
	/* release trust (issue 10, docs/releases.md) */
	char *trusted_keys_dir;   /* trusted_keys_dir /etc/hoist/trusted-keys: signify *.pub files */
	enum require_signature require_signature; /* require_signature auto|yes|no */

	/* after the deployment (hoist-boot; NULL = unset; the directive's keys win) */
	char *lifecycle_hook;     /* lifecycle_hook "" (none: no launch hook to complete) */
	char *autoscaling_group;  /* autoscaling_group "" (else the IMDS tag)  */
	char *autoscaling_endpoint; /* autoscaling_endpoint "" (AWS_ENDPOINT_URL_AUTO_SCALING) */
	unsigned lifecycle_heartbeat_s; /* lifecycle_heartbeat_s 300            */
	char *report;             /* report "" (none; else s3://BUCKET/PREFIX/) */
	char *notify;             /* notify "" (none; else an http(s) URL, POST on failure) */

	/* agent */
	unsigned keep_revisions;  /* keep_revisions 5                        */
	uint64_t keep_bytes;      /* keep_bytes 2147483648 (2 GiB)            */
	unsigned hook_grace_s;    /* hook_grace_s 10: SIGTERM -> SIGKILL      */
	uint64_t max_entries;     /* max_entries 100000                       */
	uint64_t max_extract_bytes; /* max_extract_bytes 8589934592 (8 GiB)   */
	unsigned max_path_len;    /* max_path_len 1024                        */
	bool allow_setid;         /* allow_setid false                        */
	bool install_links;       /* install_links true: hard links to the tree */

	/* "key (line N)" of unknown keys, for the caller to warn about */
	size_t n_warnings;
	char *warnings[16];
};

/* Fills defaults. */
void config_init(struct hoist_config *c);
/* Pure: applies the text of a config file; filename is for messages. */
int config_parse(struct hoist_config *c, const char *text, size_t len, const char *filename,
		 struct herr *err);
/* Reads path (missing -> 0, defaults kept) and applies it. */
int config_load_file(struct hoist_config *c, const char *path, struct herr *err);
/* Pure: applies environment variables from envp ("K=V" strings, NULL-terminated). */
int config_apply_env(struct hoist_config *c, char *const *envp, struct herr *err);
/* Sets one key as the file would (also used by --set key=value flags and by
 * the command-line options: use it for --state-dir so cache_dir follows). */
int config_set(struct hoist_config *c, const char *key, const char *value, struct herr *err);
/* Resolves a host path under root into out; -1 if it does not fit. */
int config_host_path(const struct hoist_config *c, const char *abs_path, char *out, size_t outsz);
void config_free(struct hoist_config *c);

#endif
