/* healthcurl.c - loads libcurl on first use (why: healthcurl.h). */
#include "healthcurl.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <string.h>

#include "exitcodes.h"

/* Resolves one function into *slot. dlsym returns an object pointer; memcpy
 * turns it into the function pointer POSIX guarantees it is (a cast is not
 * ISO C). */
static bool resolve(void *lib, const char *name, void *slot, size_t size)
{
	void *sym = dlsym(lib, name);
	if (sym == NULL || size != sizeof(sym))
		return false;
	memcpy(slot, &sym, size);
	return true;
}

const struct healthcurl *healthcurl_get(struct herr *err)
{
	static struct healthcurl curl;
	static bool loaded;
	struct healthcurl c;
	const struct {
		const char *name;
		void *slot;
		size_t size;
	} want[] = {
		{"curl_global_init", &c.global_init, sizeof(c.global_init)},
		{"curl_easy_init", &c.easy_init, sizeof(c.easy_init)},
		{"curl_easy_cleanup", &c.easy_cleanup, sizeof(c.easy_cleanup)},
		{"curl_easy_reset", &c.easy_reset, sizeof(c.easy_reset)},
		{"curl_easy_setopt", &c.easy_setopt, sizeof(c.easy_setopt)},
		{"curl_easy_perform", &c.easy_perform, sizeof(c.easy_perform)},
		{"curl_easy_getinfo", &c.easy_getinfo, sizeof(c.easy_getinfo)},
		{"curl_easy_strerror", &c.easy_strerror, sizeof(c.easy_strerror)},
	};
	const char *missing = NULL;
	void *lib;

	if (loaded)
		return &curl;
	/* RTLD_LOCAL: its symbols serve only these pointers; never closed, since
	 * libcurl's global state lives until exit */
	lib = dlopen(HEALTHCURL_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (lib == NULL) {
		const char *why = dlerror();
		herr_set(err, HOIST_EXIT_CONFIG,
		         "http health checks need libcurl (" HEALTHCURL_SONAME ", Debian package libcurl4): %s",
		         why != NULL ? why : "cannot load it");
		return NULL;
	}
	memset(&c, 0, sizeof(c));
	for (size_t i = 0; missing == NULL && i < sizeof(want) / sizeof(want[0]); i++)
		if (!resolve(lib, want[i].name, want[i].slot, want[i].size))
			missing = want[i].name;
	if (missing != NULL) {
		herr_set(err, HOIST_EXIT_CONFIG, "the " HEALTHCURL_SONAME " found lacks %s: not libcurl, or too old",
		         missing);
		return NULL; /* lib stays loaded: dlclose of a half-used library gains nothing */
	}
	if (c.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		herr_set(err, HOIST_EXIT_INTERNAL, "cannot initialise libcurl");
		return NULL;
	}
	curl = c;
	loaded = true;
	return &curl;
}
