/* creds.h - temporary credentials from the IMDS role document (JSON).
 *
 * Parsed with libyaml (JSON is YAML), never a hand-rolled scanner. The
 * secret fields are wiped with OPENSSL_cleanse on free and never logged. */
#ifndef HOIST_CREDS_H
#define HOIST_CREDS_H

#include <stddef.h>
#include <time.h>

#include "herr.h"

struct credentials {
	char *access_key_id;
	char *secret_access_key;
	char *session_token; /* NULL for long-lived keys from the environment */
	time_t expiration;   /* 0 = does not expire */
};

/* Parses {"Code":"Success","AccessKeyId":...,"SecretAccessKey":...,"Token":...,
 * "Expiration":"2026-11-22T18:00:00Z",...}. Code other than "Success" is an
 * error quoting Code and Message (escaped; IMDS's reason, never secret);
 * missing fields, duplicate keys, non-JSON, or an Expiration that does not
 * parse are errors (HOIST_EXIT_NO_CREDENTIALS) that never quote values. */
int creds_parse_json(const char *json, size_t len, struct credentials *out, struct herr *err);
/* Parses "YYYY-MM-DDTHH:MM:SSZ" (also with fractional seconds) into a UTC time_t. */
int creds_parse_time(const char *s, time_t *out);
/* 1 when the credentials expire within margin_s of now. */
int creds_expiring(const struct credentials *c, time_t now, unsigned margin_s);
void creds_free(struct credentials *c);

#endif
