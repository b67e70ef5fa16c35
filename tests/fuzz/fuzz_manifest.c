/* fuzz_manifest.c - libFuzzer harness for what a host reads from S3 before
 * trusting it: signify_split_embedded (the signature block), manifest_parse,
 * and trust_check with one trusted key; a parsed manifest must format and
 * parse back to the same fields.
 *
 * Not built by default. Build and run from the repository root:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iagent/core -Iagent/net \
 *     tests/fuzz/fuzz_manifest.c agent/net/manifest.c agent/net/signify.c agent/net/trust.c \
 *     agent/net/creds.c agent/core/[a-z]*.c -lyaml -lcrypto -o build/fuzz_manifest
 *   mkdir -p build/corpus-manifest && build/fuzz_manifest -max_total_time=60 build/corpus-manifest \
 *     tests/fuzz/seeds/manifest
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "herr.h"
#include "manifest.h"
#include "signify.h"
#include "trust.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct trust t;
	static int init;
	struct manifest m, back;
	struct herr err = {0};
	struct buf b;
	const char *msg;
	size_t mlen, ki;

	if (!init) {
		/* a fixed key: signatures by other keys must be refused, never crash */
		memset(&t, 0, sizeof(t));
		memset(t.keys[0].keynum, 0x42, SIGNIFY_KEYNUM_LEN);
		memset(t.keys[0].key, 0x17, 32);
		t.n = 1;
		init = 1;
	}
	if (trust_check(&t, (const char *)data, size, &msg, &mlen, &ki, &err) < 0)
		return 0;
	if (msg < (const char *)data || msg + mlen > (const char *)data + size)
		__builtin_trap();
	if (manifest_parse(msg, mlen, &m, &err) != 0)
		return 0;
	buf_init(&b, MANIFEST_MAX_BYTES * 2);
	if (manifest_format(&m, &b) != 0 || manifest_parse(b.data, b.len, &back, &err) != 0)
		__builtin_trap();
	if (memcmp(&m, &back, sizeof(m)) != 0)
		__builtin_trap();
	buf_free(&b);
	return 0;
}
