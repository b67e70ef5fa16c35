/* fuzz_userdata.c - libFuzzer harness for userdata_parse (gzip, MIME, base64, directive).
 *
 * Not built by default. Build and run from the repository root:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iagent/core -Iagent/boot \
 *     tests/fuzz/fuzz_userdata.c agent/boot/userdata.c agent/boot/udmime.c agent/boot/report.c \
 *     agent/core/[a-z]*.c \
 *     -lz -lcrypto -o build/fuzz_userdata
 *   mkdir -p build/corpus-userdata && build/fuzz_userdata -max_total_time=60 build/corpus-userdata
 * tests/fuzz/seeds/userdata
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "herr.h"
#include "userdata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct directive d;
	struct herr err = {0};
	if (userdata_parse(data, size, &d, &err) == 0) {
		/* what the parser promises about an accepted directive: a channel or
		 * release manifest URL (the manifest names the rest), or a pinned release */
		if (d.deployment_group == NULL)
			__builtin_trap();
		if (d.manifest_url != NULL) {
			if (strncmp(d.manifest_url, "s3://", 5) != 0 || d.version != NULL || d.bundle != NULL ||
			    d.has_sha256)
				__builtin_trap();
		} else if (!directive_token_ok(d.version, DIRECTIVE_VERSION_MAX) || d.bucket == NULL ||
		           d.key == NULL || d.key[0] == '\0' || d.key[0] == '/' ||
		           strncmp(d.bundle, "s3://", 5) != 0) {
			__builtin_trap();
		}
		directive_free(&d);
	} else if (err.code == 0 || err.msg[0] == '\0') {
		__builtin_trap(); /* every failure carries a code and a message */
	}
	return 0;
}
