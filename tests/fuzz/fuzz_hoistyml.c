/* fuzz_hoistyml.c - libFuzzer harness for the hoist.yml parser (not built by default).
 *
 * Build and run (from the source tree):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iagent/core -Iagent/deploy \
 *     -Iagent/deploy/health tests/fuzz/fuzz_hoistyml.c agent/deploy/health/hoistyml.c \
 *     agent/deploy/relpath.c agent/core/strutil.c agent/core/herr.c agent/core/log.c -lyaml \
 *     -o /tmp/fuzz_hoistyml
 *   /tmp/fuzz_hoistyml -max_total_time=60 -max_len=4096 /tmp/corpus tests/fuzz/seeds/hoistyml
 * Every input must either parse into checks within the documented bounds or fail with
 * a message in FILE:LINE:COL form, without crashes, leaks or undefined behaviour. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exitcodes.h"
#include "hoistyml.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	struct health_spec *s = NULL;
	struct herr e = {0};
	if (!init) {
		log_init("fuzz_hoistyml", LOG_LEVEL_ERROR);
		log_set_stderr(0);
		init = 1;
	}
	if (hoistyml_parse((const char *)data, size, "hoist.yml", &s, &e) == 0) {
		if (s == NULL || s->n == 0 || s->n > HEALTH_MAX_CHECKS || s->deadline_ms <= s->min_healthy_ms)
			abort();
		for (size_t i = 0; i < s->n; i++) {
			const struct health_check *c = &s->checks[i];
			if (c->name[0] == '\0' || c->interval_ms < 10 || c->timeout_ms < 10)
				abort();
			if ((c->type == HEALTH_HTTP && c->url == NULL) ||
			    (c->type == HEALTH_TCP && c->port == 0) ||
			    (c->type == HEALTH_COMMAND && (c->argv == NULL || c->argv[c->argc] != NULL)))
				abort();
		}
		hoistyml_free(s);
		return 0;
	}
	if (s != NULL || (e.code != HOIST_EXIT_BAD_BUNDLE && e.code != HOIST_EXIT_INTERNAL))
		abort();
	if (e.code == HOIST_EXIT_BAD_BUNDLE && strncmp(e.msg, "hoist.yml", 9) != 0)
		abort();
	return 0;
}
