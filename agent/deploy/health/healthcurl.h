/* healthcurl.h - libcurl, loaded when the first http health check needs it.
 *
 * Why not linked: mapping and relocating libcurl and the two dozen libraries
 * it pulls in (TLS, Kerberos, LDAP, SSH, IDN...) costs every hoist run about
 * 4 ms and 4 MiB (bench/agent-deploy.sh, docs/performance.md): every deploy,
 * every `hoist status`. Only an http health check uses it, so the agent loads
 * it with dlopen then, the way systemd loads its optional libraries. The ABI
 * is libcurl.so.4's (stable since 2006); <curl/curl.h> still gives the types
 * and constants. The package already depends on libcurl4: the stub links it. */
#ifndef HOIST_HEALTHCURL_H
#define HOIST_HEALTHCURL_H

#include <curl/curl.h>

#include "herr.h"

/* The library's SONAME: the one the stub is linked against. */
#define HEALTHCURL_SONAME "libcurl.so.4"

struct healthcurl {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *h);
	void (*easy_reset)(CURL *h);
	CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *h);
	CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
	const char *(*easy_strerror)(CURLcode c);
};

/* The library, loaded and initialised (curl_global_init) on the first call and
 * kept for the process's life; NULL when it cannot be loaded, with err set
 * (HOIST_EXIT_CONFIG: the host lacks a package) naming what is missing. */
const struct healthcurl *healthcurl_get(struct herr *err);

#endif
