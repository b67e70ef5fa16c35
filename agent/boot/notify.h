/* notify.h - tells someone a boot failed: one JSON POST (the report
 * document) to the notify URL, with a bounded timeout and no retry, so a
 * dead receiver costs a boot at most NOTIFY_TIMEOUT_MS and a restart loop
 * of the unit (at most 10 starts in 2 hours) sends at most one POST per
 * start. No credentials are sent: put a secret in the URL's path if the
 * receiver needs one (it is never logged: messages show scheme and host). */
#ifndef HOIST_NOTIFY_H
#define HOIST_NOTIFY_H

#include <stddef.h>

#include "herr.h"
#include "http.h"

#define NOTIFY_TIMEOUT_MS 10000

/* Returns 0 when the receiver answered 2xx, else -1 with err. */
int notify_post(struct http *h, const char *url, const char *json, size_t len, struct herr *err);

#endif
