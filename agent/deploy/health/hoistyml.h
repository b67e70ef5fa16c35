/* hoistyml.h - the optional hoist.yml at a bundle's root: declarative health
 * checks, parsed strictly with libyaml (pure: bytes in, struct out).
 *
 *   version: 1
 *   health_checks:
 *     min_healthy_time: 10s   # the checks must keep passing this long (default 0)
 *     deadline: 2m            # everything must be done by then (default min_healthy_time + 5m)
 *     checks:
 *       - name: web           # [A-Za-z0-9._-], unique (default TYPE-N)
 *         type: http          # http | tcp | command
 *         url: http://127.0.0.1:8080/healthz
 *         expect_status: 200  # default 200
 *         expect_body: ok     # optional substring of the body
 *         interval: 2s        # between attempts (default 2s)
 *         timeout: 1s         # of one attempt (default 2s)
 *         retries: 5          # failed attempts allowed before it passes (default 3)
 *       - {name: db, type: tcp, host: 127.0.0.1, port: 5432}
 *       - {name: queue, type: command, argv: [scripts/check.sh, --quick], runas: app}
 *
 * Durations: a number of seconds (0.5) or a string with ms, s or m ("500ms").
 * Anything unknown, misplaced or out of range is an error "FILE:LINE:COL: KEY:
 * reason" (HOIST_EXIT_BAD_BUNDLE), as for the appspec; aliases, tags, merge
 * keys, duplicate keys and more than one document are refused. The CodeDeploy
 * agent ignores the file, so a bundle with one stays portable. */
#ifndef HOIST_HOISTYML_H
#define HOIST_HOISTYML_H

#include <stddef.h>

#include "herr.h"

#define HOISTYML_NAME "hoist.yml"
#define HOISTYML_MAX_BYTES (64 * 1024)
#define HEALTH_MAX_CHECKS 16
#define HEALTH_NAME_MAX 64
#define HEALTH_MAX_ARGS 64

enum health_type { HEALTH_HTTP = 1, HEALTH_TCP, HEALTH_COMMAND };

struct health_check {
	char name[HEALTH_NAME_MAX];
	enum health_type type;
	unsigned line; /* 1-based line of the check in the file */
	unsigned interval_ms, timeout_ms, retries;
	/* http */
	char *url;
	int expect_status;
	char *expect_body; /* NULL: any body */
	/* tcp */
	char *host;
	unsigned port;
	/* command: argv[0] absolute, or relative to the revision's tree */
	char **argv; /* NULL-terminated */
	size_t argc;
	char *runas; /* NULL: as hoist */
};

struct health_spec {
	struct health_check *checks;
	size_t n;
	unsigned min_healthy_ms;
	unsigned deadline_ms;
};

/* Pure: parses the text of a hoist.yml; filename is used in messages. */
int hoistyml_parse(const char *text, size_t len, const char *filename, struct health_spec **out,
                   struct herr *err);
/* Pure: parses a duration ("1.5", "500ms", "2s", "1m") into milliseconds; -1 if invalid. */
int hoistyml_duration(const char *s, unsigned *ms);
/* Name of a check type ("http", "tcp", "command"). */
const char *health_type_name(enum health_type t);
void hoistyml_free(struct health_spec *s);

#endif
