/* report.c - the status report document (see report.h). */
#include "report.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "exitcodes.h"

int report_parse_url(const char *url, struct report_url *out)
{
	const char *b, *slash;
	size_t bn, pn;
	if (url == NULL || strncmp(url, "s3://", 5) != 0)
		return -1;
	b = url + 5;
	slash = strchr(b, '/');
	bn = slash != NULL ? (size_t)(slash - b) : strlen(b);
	/* bucket names: 3-63 of a-z 0-9 . - */
	if (bn < 3 || bn >= REPORT_BUCKET_MAX || strspn(b, "abcdefghijklmnopqrstuvwxyz0123456789.-") < bn)
		return -1;
	pn = slash != NULL ? strlen(slash + 1) : 0;
	if (pn + 2 > REPORT_PREFIX_MAX)
		return -1;
	for (size_t i = 0; i < pn; i++)
		if ((unsigned char)slash[1 + i] < 0x20 || (unsigned char)slash[1 + i] == 0x7f)
			return -1;
	if (pn > 0 && slash[1] == '/')
		return -1; /* "s3://b//x": an empty first segment is a typo */
	if (out != NULL) {
		memcpy(out->bucket, b, bn);
		out->bucket[bn] = '\0';
		memcpy(out->prefix, slash != NULL ? slash + 1 : "", pn);
		out->prefix[pn] = '\0';
		if (pn > 0 && out->prefix[pn - 1] != '/')
			memcpy(out->prefix + pn, "/", 2);
	}
	return 0;
}

int report_key(const struct report_url *u, const char *environment, const char *instance_id, char *out,
               size_t outsz)
{
	int n = snprintf(out, outsz, "%s%s/%s.json", u->prefix, environment, instance_id);
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

int report_json_string(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	if (s == NULL)
		return buf_append_str(out, "null");
	if (buf_append(out, "\"", 1) != 0)
		return -1;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[7] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15], 0};
		int r;
		if (*p == '"' || *p == '\\') {
			char two[2] = {'\\', (char)*p};
			r = buf_append(out, two, 2);
		} else if (*p < 0x20 || *p == 0x7f) {
			r = buf_append(out, esc, 6);
		} else {
			r = buf_append(out, p, 1);
		}
		if (r != 0)
			return -1;
	}
	return buf_append(out, "\"", 1);
}

/* Appends `"name": value,` with a JSON string value. */
static int field(struct buf *out, const char *name, const char *value)
{
	return buf_printf(out, "\"%s\": ", name) != 0 || report_json_string(out, value) != 0 ||
	               buf_append(out, ", ", 2) != 0
	           ? -1
	           : 0;
}

int report_document(const struct report_info *ri, const char *status, size_t status_len, struct buf *out)
{
	const char *p = status, *end = status != NULL ? status + status_len : NULL, *body = NULL;
	char when[32] = "";
	time_t t = (time_t)ri->at;
	struct tm tm;

	buf_reset(out);
	if (gmtime_r(&t, &tm) != NULL)
		(void)strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	/* the object's members after its '{' (trailing blanks dropped) */
	while (p != NULL && p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	while (end != NULL && end > p &&
	       (end[-1] == ' ' || end[-1] == '\n' || end[-1] == '\r' || end[-1] == '\t'))
		end--;
	if (p != NULL && end - p >= 2 && *p == '{' && end[-1] == '}')
		body = p + 1;
	if (buf_append(out, "{", 1) != 0 || field(out, "instance_id", ri->instance_id) != 0 ||
	    field(out, "ami_id", ri->ami_id) != 0 ||
	    field(out, "availability_zone", ri->availability_zone) != 0 ||
	    buf_append_str(out, "\"boot\": {") != 0 || field(out, "application", ri->application) != 0 ||
	    field(out, "environment", ri->environment) != 0 || field(out, "version", ri->version) != 0 ||
	    buf_printf(out, "\"exit_code\": %d, ", ri->exit_code) != 0 ||
	    field(out, "exit_name", hoist_exit_name(ri->exit_code)) != 0 ||
	    field(out, "message", ri->message) != 0 || field(out, "lifecycle", ri->lifecycle) != 0 ||
	    buf_append_str(out, "\"reported_at\": ") != 0 || report_json_string(out, when) != 0 ||
	    buf_append_str(out, "}") != 0)
		return -1;
	if (body == NULL)
		return buf_append_str(out,
		                      ", \"status_error\": \"hoist status --json gave no JSON object\"}\n");
	/* an empty object: nothing to append after our members */
	{
		const char *q = body;
		while (q < end - 1 && (*q == ' ' || *q == '\n' || *q == '\r' || *q == '\t'))
			q++;
		if (q == end - 1)
			return buf_append_str(out, "}\n");
	}
	if (buf_append(out, ", ", 2) != 0 || buf_append(out, body, (size_t)(end - body)) != 0 ||
	    buf_append(out, "\n", 1) != 0)
		return -1;
	return 0;
}
