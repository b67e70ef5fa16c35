/* fuzz_bundle.c - libFuzzer harness for the archive walk: bundle_stage on the
 * input as a bundle file (tar, tar.gz, zip...; libarchive detects the format).
 * Built and run by CMake (label "fuzz", tests/fuzz/CMakeLists.txt); seeds in
 * tests/fuzz/seeds/bundle. Every input either stages a tree or fails with a
 * message and an exit code, without a crash, a leak, undefined behaviour, or a
 * file written outside the staging directory (hostile paths and links are in
 * the seeds; the staging directory is the only one under a fresh temporary one). */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle.h"
#include "fsutil.h"
#include "herr.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char top[64], bundle_path[128], staging[128];

/* The entries of top after a run: only the bundle file and the staging tree. */
static void check_nothing_outside(void)
{
	DIR *d = opendir(top);
	struct dirent *de;
	if (d == NULL)
		__builtin_trap();
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
		    strcmp(de->d_name, "bundle") != 0 && strcmp(de->d_name, "staging") != 0)
			__builtin_trap();
	closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	struct bundle_limits lim;
	struct herr e = {0};
	FILE *f;

	if (!init) {
		snprintf(top, sizeof(top), "/tmp/hoist-fuzz-bundle-XXXXXX");
		if (mkdtemp(top) == NULL)
			__builtin_trap();
		snprintf(bundle_path, sizeof(bundle_path), "%s/bundle", top);
		snprintf(staging, sizeof(staging), "%s/staging", top);
		log_init("fuzz_bundle", LOG_LEVEL_ERROR);
		log_set_stderr(0);
		init = 1;
	}
	f = fopen(bundle_path, "wb");
	if (f == NULL)
		__builtin_trap();
	if (size > 0 && fwrite(data, 1, size, f) != size)
		__builtin_trap();
	fclose(f);
	bundle_limits_default(&lim);
	/* small limits: a bomb is refused quickly, as it must be */
	lim.max_entries = 2000;
	lim.max_total_bytes = 8u << 20;
	if (bundle_stage(bundle_path, staging, &lim, &e) != 0 && (e.code == 0 || e.msg[0] == '\0'))
		__builtin_trap(); /* every refusal has a code and a message */
	check_nothing_outside();
	if (fs_rm_rf(staging, &e) != 0)
		__builtin_trap();
	return 0;
}
