/* fuzz_policy.c - libFuzzer harness for policy_parse and the matchers.
 *
 * Not built by default. Build and run from the repository root:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iagent/core -Iagent/deploy \
 *     tests/fuzz/fuzz_policy.c agent/deploy/policy.c agent/core/herr.c agent/core/strutil.c \
 *     -o build/fuzz_policy
 *   mkdir -p build/corpus-policy && build/fuzz_policy -max_total_time=60 build/corpus-policy \
 *     tests/fuzz/seeds/policy
 * The input is a policy file; its last line, when it starts with '/', is also
 * matched as a path against every rule.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "herr.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy p;
	struct herr err = {0};
	const char *last;
	char *text;
	bool na;

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (policy_init(&p, "fuzz.conf") != 0) {
		free(text);
		return 0;
	}
	if (policy_parse(&p, text, size, &err) != 0 && err.code == 0)
		__builtin_trap();
	last = strrchr(text, '\n');
	last = last != NULL ? last + 1 : text;
	if (last[0] == '/' && strlen(last) < 4096) {
		(void)policy_path_refused(&p, last, &na);
		(void)policy_allowed(&p, POLICY_ALLOW_SETID, last);
		(void)policy_runas_ok(&p, last + 1);
		for (size_t i = 0; i < p.n_rules; i++)
			(void)policy_pattern_match(p.rules[i].value, last);
	}
	policy_free(&p);
	free(text);
	return 0;
}
