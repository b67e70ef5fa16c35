/* strutil.c - small string checks and key=value lines (see strutil.h). */
#include "strutil.h"

#include <string.h>

int str_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

int str_safe_token(const char *s, size_t maxlen)
{
	size_t n;
	if (s == NULL)
		return 0;
	n = strlen(s);
	if (n == 0 || n > maxlen || s[0] == '-' || s[0] == '.' || strstr(s, "..") != NULL)
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._+-") == n;
}

int str_http_url_ok(const char *s, size_t maxlen)
{
	const char *rest;
	if (strncmp(s, "http://", 7) == 0)
		rest = s + 7;
	else if (strncmp(s, "https://", 8) == 0)
		rest = s + 8;
	else
		return 0;
	if (*rest == '\0' || *rest == '/' || strlen(s) > maxlen)
		return 0;
	for (; *rest != '\0'; rest++)
		if ((unsigned char)*rest <= 0x20 || *rest == 0x7f)
			return 0;
	return 1;
}

int str_word_ok(const char *s, size_t maxlen)
{
	size_t n = s != NULL ? strlen(s) : 0;
	if (n == 0 || n > maxlen)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

void str_next_line(const char **p, const char *end, const char **ls, const char **le)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	*ls = *p;
	*le = nl ? nl : end;
	*p = nl ? nl + 1 : end;
	if (*le > *ls && (*le)[-1] == '\r')
		(*le)--;
}

void str_trim(const char **s, const char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
		(*e)--;
}

int str_split_kv(const char *ls, const char *le, const char **ks, const char **ke, const char **vs,
                 const char **ve)
{
	const char *eq = memchr(ls, '=', (size_t)(le - ls));
	if (eq == NULL)
		return -1;
	*ks = ls;
	*ke = eq;
	*vs = eq + 1;
	*ve = le;
	str_trim(ks, ke);
	str_trim(vs, ve);
	return 0;
}
