/* strutil.c - small string checks shared by the parsers. */
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
