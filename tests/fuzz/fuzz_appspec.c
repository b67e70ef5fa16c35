/* fuzz_appspec.c - libFuzzer harness for the AppSpec parser (not built by default).
 *
 * Build and run (from the source tree):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *     -Iagent/core -Iagent/deploy tests/fuzz/fuzz_appspec.c agent/deploy/appspec.c \
 *     agent/deploy/relpath.c agent/core/herr.c agent/core/log.c -lyaml -o /tmp/fuzz_appspec
 *   /tmp/fuzz_appspec -max_total_time=60 -max_len=4096 /tmp/corpus tests/fuzz/corpus_appspec
 * Every input must either parse or fail with a message in FILE:LINE:COL form,
 * without crashes, leaks or undefined behaviour. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "appspec.h"
#include "exitcodes.h"
#include "log.h"
#include "relpath.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	struct appspec *a = NULL;
	struct herr e = {0};
	if (!init) {
		log_init("fuzz_appspec", LOG_LEVEL_ERROR);
		log_set_stderr(0);
		init = 1;
	}
	if (appspec_parse((const char *)data, size, "appspec.yml", &a, &e) == 0) {
		if (a == NULL)
			abort();
		/* every parsed path is normalised: no "..", relative sources, absolute destinations */
		for (size_t i = 0; i < a->n_files; i++)
			if (a->files[i].source[0] == '/' || a->files[i].destination[0] != '/' ||
			    relpath_has_dotdot(a->files[i].source) || relpath_has_dotdot(a->files[i].destination))
				abort();
		appspec_free(a);
	} else if (a != NULL || e.code == 0 || strncmp(e.msg, "appspec.yml", 11) != 0) {
		abort();
	}
	return 0;
}
