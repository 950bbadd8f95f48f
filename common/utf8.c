/* UTF-8 as RFC 3629 has it (see utf8.h). */
#include "config.h"

#include "utf8.h"

size_t
utf8_char(const char *text, size_t len, uint32_t *cp)
{
	const unsigned char	*s = (const unsigned char *)text;
	uint32_t		 min;
	size_t			 n, k;

	if (len == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		*cp = s[0] & 0x1f;
		min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		*cp = s[0] & 0x0f;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		*cp = s[0] & 0x07;
		min = 0x10000;
	} else
		return 0;	/* a continuation byte, C0, C1, F5..FF */
	if (len < n)
		return 0;
	for (k = 1; k < n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		*cp = *cp << 6 | (s[k] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return n;
}

int
utf8_valid(const char *text, size_t len)
{
	uint32_t	cp;
	size_t		i = 0, n;

	while (i < len) {
		if ((n = utf8_char(text + i, len - i, &cp)) == 0)
			return 0;
		i += n;
	}
	return 1;
}

size_t
utf8_cut(const char *text, size_t len, size_t max)
{
	const unsigned char	*s = (const unsigned char *)text;

	if (len <= max)
		return len;
	/* back over the continuation bytes of the character cut in two */
	while (max > 0 && (s[max] & 0xc0) == 0x80)
		max--;
	return max;
}
