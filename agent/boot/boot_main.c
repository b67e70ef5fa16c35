/* boot_main.c - hoist-boot: reads the deploy directive from the instance
 * user data, downloads and verifies the bundle from S3, then execs the
 * agent. One job per step, one clear log line per step. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agentrun.h"
#include "channel.h"
#include "config.h"
#include "creds.h"
#include "digest.h"
#include "download.h"
#include "exitcodes.h"
#include "fsutil.h"
#include "herr.h"
#include "http.h"
#include "imds.h"
#include "log.h"
#include "outcome.h"
#include "progress.h"
#include "rolecreds.h"
#include "s3client.h"
#include "state.h"
#include "userdata.h"

#define STATUS_DOC_MAX (1u << 20)
#define STATUS_TIMEOUT_S 30

extern char **environ;

/* Command-line values, applied over the config file and environment. */
struct cli {
	const char *config, *root, *state_dir, *imds_endpoint, *s3_endpoint, *region, *ca_bundle;
	const char *agent, *same_version, *user_data_file;
	const char *channel; /* --channel URL: overrides the directive's release */
	int download_only;
	int verbose, quiet;
};

/* Where credentials come from: the environment, or the instance role via IMDS. */

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: hoist-boot [--config FILE] [--root DIR] [--state-dir DIR] [--imds-endpoint URL]\n"
	    "                  [--s3-endpoint URL] [--region R] [--ca-bundle FILE] [--agent PATH]\n"
	    "                  [--same-version skip|redeploy] [--user-data-file FILE] [--download-only]\n"
	    "                  [--channel s3://BUCKET/PREFIX/APP/channels/ENV]\n"
	    "                  [-v|--verbose] [-q|--quiet] [--help] [--version]\n"
	    "\n"
	    "Reads the #hoist directive from EC2 user data (IMDSv2), downloads the bundle from S3\n"
	    "(SigV4, TLS verified), checks its SHA-256 against the directive, the S3 checksum or a\n"
	    "<key>.sha256 sidecar, caches it in STATE/bundles and execs the agent:\n"
	    "  AGENT [--config FILE] deploy --bundle PATH --version V ... (see docs)\n"
	    "\n"
	    "  --config FILE         settings file (default " HOIST_DEFAULT_CONFIG ", or $HOIST_CONFIG)\n"
	    "  --root DIR            prefix for every host path (tests; $HOIST_ROOT)\n"
	    "  --state-dir DIR       state directory (default /var/lib/hoist)\n"
	    "  --imds-endpoint URL   metadata service ($AWS_EC2_METADATA_SERVICE_ENDPOINT)\n"
	    "  --s3-endpoint URL     S3 endpoint, path-style ($AWS_ENDPOINT_URL_S3); default AWS, "
	    "virtual-host\n"
	    "  --region R            S3 region (directive, else this/$AWS_REGION, else IMDS "
	    "placement/region)\n"
	    "  --ca-bundle FILE      CA certificates for TLS ($AWS_CA_BUNDLE); TLS is always verified\n"
	    "  --agent PATH          the agent to exec (default /usr/sbin/hoist)\n"
	    "  --same-version P      skip (default): wanted version already current -> exit 0, no download;\n"
	    "                        wanted version already failed here -> exit 13, not retried\n"
	    "                        redeploy: hand over again in both cases\n"
	    "  --user-data-file FILE read the directive from FILE instead of IMDS\n"
	    "  --download-only       download and verify, print the cached path, do not exec\n"
	    "  --channel URL         follow this channel instead of the directive's release\n"
	    "  -v, --verbose         debug messages (secrets are never logged)\n"
	    "  -q, --quiet           warnings and errors only\n"
	    "\n"
	    "Config keys (hoist.conf, key = value): state_dir cache_dir agent_path imds_endpoint\n"
	    "  imds_v1_disabled imds_timeout_ms imds_deadline_s imds_retries region s3_endpoint ca_bundle\n"
	    "  max_bundle_bytes connect_timeout_s low_speed_timeout_s low_speed_bytes_s\n"
	    "  download_deadline_s download_retries same_version trusted_keys_dir require_signature\n"
	    "  lifecycle_hook autoscaling_group autoscaling_endpoint lifecycle_heartbeat_s report notify\n"
	    "\n"
	    "Exit codes: 0 ok (or already deployed), 1 internal, 2 usage, 3 config, 4 bad directive,\n"
	    "  5 no directive/user data, 6 no role/credentials, 7 S3 access denied, 8 S3 not found,\n"
	    "  9 integrity (sha256 mismatch or no digest source), 10 too large, 11 local I/O,\n"
	    "  18 release manifest untrusted (signature, key, app), 19 stale (expired, old channel seq),\n"
	    "  75 temporary (network, S3 5xx/throttling, metadata service unavailable: retry later).\n"
	    "  After the hand-over the agent's own codes apply (docs/exit-codes.md); with a\n"
	    "  lifecycle hook, report or notify the agent runs as a child and its code is passed\n"
	    "  through (128+N if signal N killed it).\n");
}

/* fds 0-2 must exist so no file we open later becomes stdout/stderr by accident. */
static void ensure_std_fds(void)
{
	int fd;
	while ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0 && fd <= 2) {
		(void)fcntl(fd, F_SETFD, 0);
	}
	if (fd > 2)
		close(fd);
}

static int parse_cli(int argc, char **argv, struct cli *o)
{
	enum {
		O_CONFIG = 256,
		O_ROOT,
		O_STATE,
		O_IMDS,
		O_S3,
		O_REGION,
		O_CA,
		O_AGENT,
		O_SAME,
		O_UD,
		O_DLONLY,
		O_CHANNEL,
		O_HELP,
		O_VERSION
	};
	static const struct option lo[] = {
	    {"config", required_argument, NULL, O_CONFIG},
	    {"root", required_argument, NULL, O_ROOT},
	    {"state-dir", required_argument, NULL, O_STATE},
	    {"imds-endpoint", required_argument, NULL, O_IMDS},
	    {"s3-endpoint", required_argument, NULL, O_S3},
	    {"region", required_argument, NULL, O_REGION},
	    {"ca-bundle", required_argument, NULL, O_CA},
	    {"agent", required_argument, NULL, O_AGENT},
	    {"same-version", required_argument, NULL, O_SAME},
	    {"user-data-file", required_argument, NULL, O_UD},
	    {"download-only", no_argument, NULL, O_DLONLY},
	    {"channel", required_argument, NULL, O_CHANNEL},
	    {"verbose", no_argument, NULL, 'v'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, O_HELP},
	    {"version", no_argument, NULL, O_VERSION},
	    {NULL, 0, NULL, 0},
	};
	int ch;
	while ((ch = getopt_long(argc, argv, "vq", lo, NULL)) != -1) {
		switch (ch) {
		case O_CONFIG:
			o->config = optarg;
			break;
		case O_ROOT:
			o->root = optarg;
			break;
		case O_STATE:
			o->state_dir = optarg;
			break;
		case O_IMDS:
			o->imds_endpoint = optarg;
			break;
		case O_S3:
			o->s3_endpoint = optarg;
			break;
		case O_REGION:
			o->region = optarg;
			break;
		case O_CA:
			o->ca_bundle = optarg;
			break;
		case O_AGENT:
			o->agent = optarg;
			break;
		case O_SAME:
			o->same_version = optarg;
			break;
		case O_UD:
			o->user_data_file = optarg;
			break;
		case O_DLONLY:
			o->download_only = 1;
			break;
		case O_CHANNEL:
			o->channel = optarg;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case O_HELP:
			usage(stdout);
			exit(0);
		case O_VERSION:
			printf("hoist-boot %s\n%s\n", HOIST_VERSION, http_version_string());
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "hoist-boot: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

/* Config file, then environment, then flags. */
static int load_config(const struct cli *o, struct hoist_config *c, char *cfgpath, size_t cfgsz,
                       struct herr *err)
{
	const char *root = o->root != NULL ? o->root : getenv("HOIST_ROOT");
	const char *path = o->config != NULL ? o->config : getenv("HOIST_CONFIG");
	const struct {
		const char *key, *val;
	} flags[] = {
	    {"root", o->root},
	    {"state_dir", o->state_dir},
	    {"imds_endpoint", o->imds_endpoint},
	    {"s3_endpoint", o->s3_endpoint},
	    {"region", o->region},
	    {"ca_bundle", o->ca_bundle},
	    {"agent_path", o->agent},
	    {"same_version", o->same_version},
	};
	char load[PATH_MAX];
	/* the agent gets --config only when one was named; otherwise it finds
	 * the same default under HOIST_ROOT itself */
	cfgpath[0] = '\0';
	if (path != NULL && path[0] != '\0') {
		if ((size_t)snprintf(cfgpath, cfgsz, "%s", path) >= cfgsz)
			return herr_set(err, HOIST_EXIT_CONFIG, "config path too long");
		(void)snprintf(load, sizeof(load), "%s", cfgpath);
	} else if (fs_rooted(load, sizeof(load), root, HOIST_DEFAULT_CONFIG) != 0) {
		return herr_set(err, HOIST_EXIT_CONFIG, "root prefix too long");
	}
	if (config_load_file(c, load, err) != 0 || config_apply_env(c, environ, err) != 0)
		return -1;
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (flags[i].val != NULL && config_set(c, flags[i].key, flags[i].val, err) != 0)
			return herr_prefix(err, "command line");
	for (size_t i = 0; i < c->n_warnings; i++)
		log_warnx("config: unknown key %s ignored", c->warnings[i]);
	return 0;
}

/* Reads user data from a file or IMDS. */
static int read_user_data(const struct cli *o, struct imds *m, struct buf *ud, struct herr *err)
{
	int r;
	if (o->user_data_file != NULL) {
		struct stat st;
		if (stat(o->user_data_file, &st) == 0 && st.st_size > USERDATA_MAX_BYTES)
			return herr_set(err, HOIST_EXIT_DIRECTIVE, "user data %s is larger than %d bytes",
			                o->user_data_file, USERDATA_MAX_BYTES);
		if (fs_read_file(o->user_data_file, USERDATA_MAX_BYTES, 0, ud, err) != 0)
			return -1;
		log_info("user data %zu bytes from %s", ud->len, o->user_data_file);
		return 0;
	}
	r = imds_get(m, "/latest/user-data", USERDATA_MAX_BYTES, ud, err);
	if (r < 0 && err->code == HOIST_EXIT_TOO_LARGE)
		return herr_set(err, HOIST_EXIT_DIRECTIVE, "imds: user data larger than %d bytes",
		                USERDATA_MAX_BYTES);
	if (r == 1)
		return herr_set(err, HOIST_EXIT_NO_DIRECTIVE,
		                "imds: this instance has no user data, so no hoist directive");
	if (r != 0)
		return -1;
	log_info("user data %zu bytes", ud->len);
	return 0;
}

/* Region: directive, else config/AWS_REGION, else IMDS placement/region. */
static int pick_region(const struct directive *d, const struct hoist_config *c, struct imds *m,
                       struct buf *out, struct herr *err)
{
	int r;
	if (d->region != NULL && d->region[0] != '\0')
		return buf_append_str(out, d->region) == 0 ? 0 : herr_set(err, HOIST_EXIT_INTERNAL, "oom");
	if (c->region != NULL && c->region[0] != '\0')
		return buf_append_str(out, c->region) == 0 ? 0 : herr_set(err, HOIST_EXIT_INTERNAL, "oom");
	r = imds_get(m, "/latest/meta-data/placement/region", 64, out, err);
	if (r == 1)
		return herr_set(err, HOIST_EXIT_CONFIG,
		                "no region: set region in hoist.conf or the directive");
	if (r != 0)
		return -1;
	while (out->len > 0 && (out->data[out->len - 1] == '\n' || out->data[out->len - 1] == '\r'))
		out->data[--out->len] = '\0';
	return 0;
}

/* Credentials (environment or instance role), region and the S3 client. */
static int s3_setup(const struct hoist_config *c, const struct directive *d, struct imds *imds,
                    struct rolecreds *cs, struct buf *region, struct http *http, struct s3client *s3,
                    struct herr *err)
{
	log_set_phase("s3");
	cs->imds = imds;
	if (c->access_key_id != NULL && c->access_key_id[0] != '\0' && c->secret_access_key != NULL) {
		cs->cur.access_key_id = c->access_key_id;
		cs->cur.secret_access_key = c->secret_access_key;
		cs->cur.session_token = c->session_token;
		cs->have = cs->from_env = 1;
		log_info("using credentials from the environment");
	}
	if (region->len == 0 && pick_region(d, c, imds, region, err) != 0)
		return -1;
	*s3 = (struct s3client){http,
	                        d->endpoint != NULL && d->endpoint[0] != '\0' ? d->endpoint
	                        : c->s3_endpoint != NULL                      ? c->s3_endpoint
	                                                                      : "",
	                        region->data,
	                        rolecreds_get,
	                        cs,
	                        0};
	return 0;
}

/* What runs after the deployment (heartbeats while it runs, then the outcome). */
struct after {
	const struct hoist_config *c;
	struct rolecreds *cs;
	struct outcome *oc;
	const char *region;
	const char *s3_endpoint;
	time_t started;      /* when hoist-boot started */
	int code;            /* the boot's exit code */
	const char *message; /* the stub's own error, if it ended the boot */
	struct buf status;   /* hoist status --json */
};

/* The stub's HTTP client and metadata client, from the settings. */
static int net_open(const struct hoist_config *c, struct http **http, struct imds **imds, struct herr *err)
{
	struct http_opts ho = {c->ca_bundle, c->connect_timeout_s * 1000u, c->low_speed_timeout_s};
	struct imds_opts io = {c->imds_endpoint, c->imds_v1_disabled, c->imds_timeout_ms, c->imds_deadline_s,
	                       c->imds_retries};
	if ((*http = http_new(&ho, err)) == NULL || (*imds = imds_new(*http, &io, err)) == NULL)
		return -1;
	http_set_stall_floor(*http, c->low_speed_bytes_s);
	return 0;
}

/* Closes the connections and wipes the role's credentials (not the
 * environment's: they are the settings' own). */
static void net_close(struct rolecreds *cs, struct http **http, struct imds **imds)
{
	if (!cs->from_env) {
		if (cs->have)
			creds_free(&cs->cur);
		cs->have = 0;
	}
	cs->imds = NULL;
	imds_free(*imds);
	*imds = NULL;
	http_free(*http);
	*http = NULL;
}

/* Runs fn with fresh connections and credentials, then drops both: while
 * the agent runs, the stub holds no socket and no secret between calls. */
static void with_net(struct after *a, void (*fn)(struct after *a, struct s3client *s3))
{
	struct http *http = NULL;
	struct imds *imds = NULL;
	struct herr err = {0, ""};
	struct s3client s3;
	if (!a->cs->have && a->c->access_key_id != NULL && a->c->access_key_id[0] != '\0' &&
	    a->c->secret_access_key != NULL) {
		/* static keys from the environment, as for the download (the boot may end before it) */
		a->cs->cur.access_key_id = a->c->access_key_id;
		a->cs->cur.secret_access_key = a->c->secret_access_key;
		a->cs->cur.session_token = a->c->session_token;
		a->cs->have = a->cs->from_env = 1;
	}
	if (net_open(a->c, &http, &imds, &err) != 0) {
		log_warnx("%s", err.msg);
	} else {
		a->cs->imds = imds;
		s3 = (struct s3client){http, a->s3_endpoint, a->region, rolecreds_get, a->cs, 0};
		fn(a, &s3);
	}
	net_close(a->cs, &http, &imds);
}

static void heartbeat_fn(struct after *a, struct s3client *s3)
{
	outcome_heartbeat(a->oc, s3);
}

static void heartbeat_tick(void *ud)
{
	with_net(ud, heartbeat_fn);
}

/* The outcome's calls, with a connection of their own. */
static void finish_fn(struct after *a, struct s3client *s3)
{
	outcome_finish(a->oc, a->code, a->message, a->status.len > 0 ? a->status.data : NULL, a->status.len,
	               s3);
}

/* After the deployment (or the stub's own early end): the agent's status
 * document, then the lifecycle hook, the report and the notification. */
static void after_boot(struct after *a, const char *cfgpath, int code, const char *message)
{
	const char *argv[8];
	size_t n = 0;
	struct herr err = {0, ""};
	log_set_phase("after");
	argv[n++] = a->c->agent_path;
	if (cfgpath[0] != '\0') {
		argv[n++] = "--config";
		argv[n++] = cfgpath;
	}
	argv[n++] = "--state-dir";
	argv[n++] = a->c->state_dir;
	argv[n++] = "status";
	argv[n++] = "--json";
	argv[n] = NULL;
	a->code = code;
	a->message = message;
	buf_init(&a->status, STATUS_DOC_MAX);
	if ((a->oc->has_report || (a->oc->notify != NULL && code != 0)) &&
	    (a->c->root == NULL || a->c->root[0] == '\0' || setenv("HOIST_ROOT", a->c->root, 1) == 0) &&
	    agentrun_capture(argv, STATUS_DOC_MAX, STATUS_TIMEOUT_S, &a->status, &err) != 0)
		log_warnx("hoist status --json: %s; the report carries no status", err.msg);
	with_net(a, finish_fn);
	buf_free(&a->status);
	log_set_phase(NULL);
}

/* Runs the agent: exec when nothing follows it, else as a child (with
 * heartbeats), returning its exit code. Never returns after an exec. */
static int hand_over(const struct hoist_config *c, const char *cfgpath, const struct directive *d,
                     const struct download_result *res, struct after *a, int *code, struct herr *err)
{
	char hex[SHA256_HEX_LEN + 1], group[512];
	const char *argv[32];
	size_t n = 0;
	hex_encode(res->sha256, 32, hex);
	if (d->deployment_group != NULL)
		(void)snprintf(group, sizeof(group), "%s", d->deployment_group);
	else
		(void)snprintf(group, sizeof(group), "%s-%s", d->application, d->environment);
	argv[n++] = c->agent_path;
	if (cfgpath[0] != '\0') {
		argv[n++] = "--config";
		argv[n++] = cfgpath;
	}
	/* The agent must work in the state directory the stub just checked
	 * (a --state-dir flag or HOIST env would otherwise not reach it). */
	argv[n++] = "--state-dir";
	argv[n++] = c->state_dir;
	argv[n++] = "deploy";
	argv[n++] = "--bundle";
	argv[n++] = res->path;
	argv[n++] = "--version";
	argv[n++] = d->version;
	argv[n++] = "--environment";
	argv[n++] = d->environment;
	argv[n++] = "--application";
	argv[n++] = d->application;
	argv[n++] = "--deployment-group";
	argv[n++] = group;
	argv[n++] = "--sha256";
	argv[n++] = hex;
	argv[n++] = "--bundle-bucket";
	argv[n++] = d->bucket;
	argv[n++] = "--bundle-key";
	argv[n++] = d->key;
	if (res->etag[0] != '\0') {
		argv[n++] = "--bundle-etag";
		argv[n++] = res->etag;
	}
	argv[n] = NULL;
	if (c->root != NULL && c->root[0] != '\0' && setenv("HOIST_ROOT", c->root, 1) != 0)
		return herr_errno(err, HOIST_EXIT_INTERNAL, errno, "setenv");
	log_info("handing over to %s deploy --version %s --bundle %s", c->agent_path, d->version, res->path);
	/* a download longer than the heartbeat interval: one heartbeat before the agent starts */
	if (a != NULL && a->oc->lifecycle && time(NULL) - a->started >= (time_t)a->oc->heartbeat_s)
		heartbeat_tick(a);
	if (a != NULL)
		return agentrun_wait(argv, a->oc->lifecycle ? a->oc->heartbeat_s : 0, heartbeat_tick, a, code,
		                     err);
	execv(c->agent_path, (char *const *)(uintptr_t)argv);
	return herr_errno(err, errno == ENOENT || errno == EACCES ? HOIST_EXIT_CONFIG : HOIST_EXIT_INTERNAL,
	                  errno, "cannot exec the agent %s", c->agent_path);
}

int main(int argc, char **argv)
{
	struct cli o;
	struct hoist_config c;
	struct herr err = {0, ""};
	struct http *http = NULL;
	struct imds *imds = NULL;
	struct directive d;
	struct rolecreds cs;
	struct buf ud, region;
	struct download_opts dopt;
	struct download_result res;
	struct s3client s3;
	struct channel_opts chopt;
	struct channel_result chres;
	int s3_ready = 0;
	struct outcome oc;
	struct after after;
	const char *endmsg = NULL, *s3ep;
	int post = 0;
	char cfgpath[PATH_MAX], state[PATH_MAX], cache[PATH_MAX], tmp[PATH_MAX], keys[PATH_MAX];
	char rolefile[PATH_MAX];
	char sz[32], hex[SHA256_HEX_LEN + 1], want_hex[SHA256_HEX_LEN + 1];
	int st, rc = HOIST_EXIT_INTERNAL;
	time_t started = time(NULL);

	ensure_std_fds();
	(void)signal(SIGPIPE, SIG_IGN);
	umask(022);
	memset(&o, 0, sizeof(o));
	memset(&d, 0, sizeof(d));
	memset(&cs, 0, sizeof(cs));
	buf_init(&ud, USERDATA_MAX_BYTES);
	buf_init(&region, 64);
	config_init(&c);
	log_init("hoist-boot", LOG_LEVEL_INFO);
	if (parse_cli(argc, argv, &o) != 0) {
		rc = HOIST_EXIT_USAGE;
		goto out;
	}
	log_set_level(o.verbose ? LOG_LEVEL_DEBUG : o.quiet ? LOG_LEVEL_WARN : LOG_LEVEL_INFO);
	if (load_config(&o, &c, cfgpath, sizeof(cfgpath), &err) != 0)
		goto fail;
	if (config_host_path(&c, c.state_dir, state, sizeof(state)) != 0 ||
	    (c.cache_dir != NULL && c.cache_dir[0] != '\0'
	         ? config_host_path(&c, c.cache_dir, cache, sizeof(cache))
	         : fs_path_join(cache, sizeof(cache), state, "bundles")) != 0 ||
	    fs_path_join(tmp, sizeof(tmp), state, "tmp") != 0 ||
	    config_host_path(&c, c.trusted_keys_dir, keys, sizeof(keys)) != 0) {
		herr_set(&err, HOIST_EXIT_CONFIG, "state_dir, cache_dir or trusted_keys_dir too long");
		goto fail;
	}

	if (net_open(&c, &http, &imds, &err) != 0)
		goto fail;

	log_set_phase("imds");
	if (read_user_data(&o, imds, &ud, &err) != 0)
		goto fail;
	log_set_phase("directive");
	if (userdata_parse((const uint8_t *)ud.data, ud.len, &d, &err) != 0)
		goto fail;
	/* Something to do after the deployment: identity and region now, the agent as a child later. */
	outcome_init(&oc, &c, &d);
	s3ep = d.endpoint != NULL && d.endpoint[0] != '\0' ? d.endpoint
	       : c.s3_endpoint != NULL                     ? c.s3_endpoint
	                                                   : "";
	after = (struct after){&c, &cs, &oc, "", s3ep, started, 0, NULL, {0}};
	if (!o.download_only && outcome_wanted(&oc)) {
		if (outcome_check(&oc, &err) != 0)
			goto fail;
		outcome_probe(&oc, imds);
		/* the outcome's calls need the region; the download would fail without it anyway */
		if (region.len == 0 && pick_region(&d, &c, imds, &region, &err) != 0) {
			log_warnx("%s", err.msg);
			err = (struct herr){0, ""};
			buf_reset(&region);
		}
		post = 1;
	}
	memset(&chres, 0, sizeof(chres));
	chopt = (struct channel_opts){state, keys, c.require_signature, c.max_bundle_bytes};
	if (o.channel != NULL && directive_use_channel(&d, o.channel, &err) != 0)
		goto fail;
	if (d.manifest_url != NULL) {
		/* channel= / release=: the signed manifest names the release (channel.h) */
		log_info("app=%s environment=%s %s=%s", d.application, d.environment,
		         d.manifest_is_channel ? "channel" : "release", d.manifest_url);
		if (fs_path_join(rolefile, sizeof(rolefile), state, "imds-role") == 0)
			cs.role_cache = rolefile; /* a boot with nothing new: 4 requests */
		if (s3_setup(&c, &d, imds, &cs, &region, http, &s3, &err) != 0)
			goto fail;
		log_set_phase("manifest");
		if (channel_resolve(&s3, &chopt, &d, &chres, &err) != 0)
			goto fail;
		s3_ready = 1;
		log_set_phase("directive");
	} else {
		log_info("app=%s environment=%s version=%s bundle=s3://%s/%s%s", d.application, d.environment,
		         d.version, d.bucket, d.key, d.has_sha256 ? " sha256=given" : "");
		if (channel_check_pinned(&chopt, &d, &err) != 0)
			goto fail;
	}

	if (d.has_sha256)
		hex_encode(d.sha256, sizeof(d.sha256), want_hex);
	st = state_deployed(state, d.version, d.has_sha256 ? want_hex : NULL, &err);
	if (st < 0)
		goto fail;
	if (st == DEPLOYED_SAME && c.same_version == SAME_VERSION_SKIP) {
		if (d.manifest_url != NULL && channel_record_seq(&chres, d.manifest_url, &err) != 0)
			goto fail;
		log_info("version %s is already deployed; nothing to do (same_version=skip)", d.version);
		rc = HOIST_EXIT_OK;
		goto out;
	}
	if (st == DEPLOYED_FAILED && c.same_version == SAME_VERSION_SKIP) {
		/* Each retry would stop the service, fail again and roll back. */
		log_error("version %s already failed on this host and was rolled back (hoist status); "
		          "not trying it again at boot: publish a fixed version, or run "
		          "hoist-boot --same-version redeploy to retry", d.version);
		endmsg = "this version already failed on this host and was rolled back; not retried at boot";
		rc = HOIST_EXIT_ROLLED_BACK;
		goto out;
	}
	if (st == DEPLOYED_INTERRUPTED)
		log_info("an interrupted deployment was found; handing over so the agent recovers");

	if (!s3_ready && s3_setup(&c, &d, imds, &cs, &region, http, &s3, &err) != 0)
		goto fail;

	log_set_phase("download");
	memset(&dopt, 0, sizeof(dopt));
	dopt.cache_dir = cache;
	dopt.tmp_dir = tmp;
	/* with a manifest its size is a hard cap: a server sending more is cut off */
	dopt.max_bytes = d.manifest_url != NULL ? chres.size : c.max_bundle_bytes;
	dopt.retries = c.download_retries;
	dopt.deadline_s = c.download_deadline_s;
	dopt.has_expected = d.has_sha256;
	memcpy(dopt.expected, d.sha256, 32);
	dopt.progress_tty = isatty(STDERR_FILENO);
	dopt.progress = log_get_level() >= LOG_LEVEL_INFO;
	if (download_bundle(&s3, &dopt, d.bucket, d.key, &res, &err) != 0)
		goto fail;
	progress_bytes(res.bytes, sz, sizeof(sz));
	hex_encode(res.sha256, 32, hex);
	if (res.cached)
		log_info("%s already in the cache, sha256 ok (%s), %u S3 request%s", sz, res.sources,
		         s3.requests, s3.requests == 1 ? "" : "s");
	else
		log_info("%s in %.1f s, sha256 ok (%s)%s", sz, res.seconds, res.sources,
		         res.resumes ? ", resumed" : "");
	log_debug("requests: imds %u, s3 %u", imds_requests(imds), s3.requests);
	if (o.download_only) {
		printf("%s\n", res.path);
		rc = HOIST_EXIT_OK;
		goto out;
	}
	if (d.manifest_url != NULL && channel_record_seq(&chres, d.manifest_url, &err) != 0)
		goto fail;
	log_set_phase(NULL);
	(void)fflush(stdout);
	/* The agent gets neither our connections (libcurl's sockets are not
	 * close-on-exec) nor the role's credentials in memory. */
	net_close(&cs, &http, &imds);
	after.region = region.data;
	if (hand_over(&c, cfgpath, &d, &res, post ? &after : NULL, &rc, &err) == 0)
		goto out; /* the agent ran as our child and logged its own result */
fail:
	rc = err.code != 0 ? err.code : HOIST_EXIT_INTERNAL;
	log_error("%s", err.msg);
	endmsg = err.msg;
out:
	if (post) {
		net_close(&cs, &http, &imds);
		after.region = region.data != NULL ? region.data : "";
		oc.version = d.version; /* a channel's manifest names it after outcome_init */
		after_boot(&after, cfgpath, rc, endmsg);
	}
	if (cs.have && !cs.from_env)
		creds_free(&cs.cur);
	imds_free(imds);
	http_free(http);
	directive_free(&d);
	buf_free(&ud);
	buf_free(&region);
	config_free(&c);
	return rc;
}
