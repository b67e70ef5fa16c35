/* fuzz_state.c - libFuzzer harness for what recovery reads from the state
 * directory: the journal (journal_parse), the records (record_parse), the
 * status JSON checker (status_json_valid) and /proc stat lines
 * (orphans_parse_stat). Built and run by CMake (label "fuzz"); seeds in
 * tests/fuzz/seeds/state. Every input is parsed or refused with a message;
 * what is accepted holds only version names that are safe path components. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "herr.h"
#include "journal.h"
#include "orphans.h"
#include "record.h"
#include "status.h"
#include "strutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct journal_info j;
	struct record r;
	struct herr e = {0};
	long pg, se;
	unsigned long long start;
	bool z;
	size_t at;

	if (journal_parse(text, size, &j, &e) == 0) {
		if (!str_safe_token(j.version, sizeof(j.version) - 1) ||
		    (j.installed[0] && !str_safe_token(j.installed, sizeof(j.installed) - 1)) ||
		    (j.last_good[0] && !str_safe_token(j.last_good, sizeof(j.last_good) - 1)))
			__builtin_trap();
	} else if (e.code == 0 || e.msg[0] == '\0') {
		__builtin_trap();
	}
	herr_clear(&e);
	record_init(&r);
	if (record_parse(text, size, &r, &e) != 0 && (e.code == 0 || e.msg[0] == '\0'))
		__builtin_trap();
	record_free(&r);
	(void)status_json_valid(text, size, &at);
	(void)orphans_parse_stat(text, size, &pg, &se, &start, &z);
	return 0;
}
