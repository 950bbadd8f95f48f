/* UTF-8 as RFC 3629 has it: the one decoder of the daemon and its clients. */
#ifndef SHMD_UTF8_H
#define SHMD_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * The length (1..4) of the character that starts s (len bytes left), and
 * the character in *cp; 0 when s does not start a valid one (a stray
 * continuation byte, an overlong form, a surrogate, past U+10FFFF, cut
 * short).
 */
size_t	utf8_char(const char *s, size_t len, uint32_t *cp);

/* 1 when text (len bytes) is valid UTF-8, else 0. */
int	utf8_valid(const char *text, size_t len);

/*
 * How many bytes of s (len bytes of valid UTF-8) to keep to cut it to at
 * most max bytes, on a character boundary.
 */
size_t	utf8_cut(const char *s, size_t len, size_t max);

#endif
