/* strutil.c - small string checks shared by the parsers. */
#include "strutil.h"

int str_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}
