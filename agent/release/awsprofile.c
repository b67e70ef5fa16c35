/* awsprofile.c - the AWS shared config files (see awsprofile.h). */
#include "awsprofile.h"

#include <stdio.h>
#include <string.h>

static const char *skip_space(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

static const char *trim_end(const char *p, const char *e)
{
	while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	return e;
}

/* 1 when the section header text [s, e) names the profile. */
static int section_is(const char *s, const char *e, int config_style, const char *profile)
{
	size_t pl = strlen(profile);
	s = skip_space(s, e);
	e = trim_end(s, e);
	if (config_style && strcmp(profile, "default") != 0) {
		if ((size_t)(e - s) < 8 || strncmp(s, "profile", 7) != 0 || (s[7] != ' ' && s[7] != '\t'))
			return 0;
		s = skip_space(s + 7, e);
	} else if (config_style && (size_t)(e - s) > 8 && strncmp(s, "profile", 7) == 0 &&
	           (s[7] == ' ' || s[7] == '\t')) {
		/* "[profile default]" is also the default profile */
		s = skip_space(s + 7, e);
	}
	return (size_t)(e - s) == pl && memcmp(s, profile, pl) == 0;
}

int awsprofile_get(const char *text, size_t len, int config_style, const char *profile, const char *key,
                   char *out, size_t outsz)
{
	const char *p = text, *end = text + len;
	size_t kl = strlen(key);
	int in = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl != NULL ? nl : end;
		const char *s = p;
		p = nl != NULL ? nl + 1 : end;
		if (s < le && (*s == ' ' || *s == '\t'))
			continue; /* nested setting */
		if (s >= le || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			const char *close = memchr(s, ']', (size_t)(le - s));
			in = close != NULL && section_is(s + 1, close, config_style, profile);
			continue;
		}
		if (!in)
			continue;
		const char *eq = memchr(s, '=', (size_t)(le - s));
		if (eq == NULL)
			continue;
		const char *ke = trim_end(s, eq);
		if ((size_t)(ke - s) != kl || memcmp(s, key, kl) != 0)
			continue;
		const char *v = skip_space(eq + 1, le);
		const char *ve = trim_end(v, le);
		if ((size_t)(ve - v) >= outsz)
			return -1;
		memcpy(out, v, (size_t)(ve - v));
		out[ve - v] = '\0';
		return 1;
	}
	return 0;
}
