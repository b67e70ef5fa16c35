/* fuzz_creds.c - libFuzzer harness for creds_parse_json and creds_parse_time.
 *
 * Not built by default. Build and run from the repository root:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iagent/core -Iagent/net \
 *     tests/fuzz/fuzz_creds.c agent/net/creds.c agent/core/[a-z]*.c -lyaml -lcrypto -o build/fuzz_creds
 *   mkdir -p build/corpus-creds && build/fuzz_creds -max_total_time=60 build/corpus-creds
 * tests/fuzz/seeds/creds
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "creds.h"
#include "herr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct credentials c;
	struct herr err = {0};
	char *s;
	time_t t;

	if (creds_parse_json((const char *)data, size, &c, &err) == 0) {
		if (c.access_key_id == NULL || c.secret_access_key == NULL || c.session_token == NULL)
			__builtin_trap();
		/* the secret never reaches a message, even on later failures */
		creds_free(&c);
	} else if (err.code == 0) {
		__builtin_trap();
	}
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	(void)creds_parse_time(s, &t);
	free(s);
	return 0;
}
