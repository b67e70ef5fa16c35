/* fuzz_config.c - libFuzzer harness for config_parse and config_apply_env.
 *
 * Not built by default. Build and run from the repository root:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iagent/core \
 *     tests/fuzz/fuzz_config.c agent/core/[a-z]*.c -lcrypto -o build/fuzz_config
 *   mkdir -p build/corpus-config && build/fuzz_config -max_total_time=60 build/corpus-config
 * tests/fuzz/seeds/config
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "herr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hoist_config c;
	struct herr err = {0};
	char *copy, *envp[33];
	size_t n = 0;

	config_init(&c);
	if (config_parse(&c, (const char *)data, size, "fuzz.conf", &err) != 0 && err.code == 0)
		__builtin_trap();
	config_free(&c);

	/* the same bytes as an environment: one "K=V" per line */
	if ((copy = malloc(size + 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (char *p = copy; p != NULL && n < 32;) {
		char *nl = strchr(p, '\n');
		if (nl != NULL)
			*nl = '\0';
		envp[n++] = p;
		p = nl ? nl + 1 : NULL;
	}
	envp[n] = NULL;
	config_init(&c);
	if (config_apply_env(&c, envp, &err) != 0 && err.code == 0)
		__builtin_trap();
	config_free(&c);
	free(copy);
	return 0;
}
