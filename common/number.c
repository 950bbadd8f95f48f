/* Numbers as people write them: sizes with K/M/G/T, hex, octal modes. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "number.h"

static int
number_shift(char c, unsigned *shift)
{
	switch (toupper((unsigned char)c)) {
	case 'K':
		*shift = 10;
		return 0;
	case 'M':
		*shift = 20;
		return 0;
	case 'G':
		*shift = 30;
		return 0;
	case 'T':
		*shift = 40;
		return 0;
	}
	return -1;
}

int
number_parse(const char *s, int flags, uint64_t *out, const char **why)
{
	unsigned long long	 v;
	unsigned		 shift = 0, base = 10;
	const char		*p = s;
	char			*end;

	*why = "not a number";
	if (!isdigit((unsigned char)*p))
		return -1;
	if (flags & NUMBER_OCTAL)
		base = 8;
	else if ((flags & NUMBER_HEX) && p[0] == '0' &&
	    (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
		if (!isxdigit((unsigned char)*p))
			return -1;
	}
	errno = 0;
	v = strtoull(p, &end, base);
	if (errno == ERANGE) {
		*why = "out of range";
		return -1;
	}
	if (end == p)
		return -1;
	if (*end != '\0') {
		if (!(flags & NUMBER_SUFFIX) || base != 10 ||
		    number_shift(*end, &shift) != 0)
			return -1;
		end++;
		/* Accept "4K" and "4KiB", not "4Kx". */
		if (*end == 'i' && end[1] == 'B')
			end += 2;
		else if (*end == 'B')
			end++;
		if (*end != '\0')
			return -1;
		if (v > (UINT64_MAX >> shift)) {
			*why = "out of range";
			return -1;
		}
		v <<= shift;
	}
	*out = v;
	return 0;
}

void
number_format_size(uint64_t bytes, char *buf, size_t len)
{
	static const char	 units[] = "KMGTPE";
	double			 v = (double)bytes;
	int			 u = -1;

	if (bytes < 1024) {
		snprintf(buf, len, "%llu", (unsigned long long)bytes);
		return;
	}
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (v < 10 && (bytes & ((1ULL << (10 * (u + 1))) - 1)) != 0)
		snprintf(buf, len, "%.1f%c", v, units[u]);
	else
		snprintf(buf, len, "%.0f%c", v, units[u]);
}
