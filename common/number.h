/* Numbers as people write them: sizes with K/M/G/T, hex, octal modes. */
#ifndef SHMD_NUMBER_H
#define SHMD_NUMBER_H

#include <stddef.h>
#include <stdint.h>

#define NUMBER_HEX	0x01	/* accept a 0x prefix */
#define NUMBER_SUFFIX	0x02	/* accept K, M, G, T (powers of 1024) */
#define NUMBER_OCTAL	0x04	/* the number is octal (modes) */

/*
 * Parse an unsigned number that fills all of s. Returns 0, or -1 with a
 * static reason in *why ("not a number", "out of range").
 */
int	number_parse(const char *s, int flags, uint64_t *out, const char **why);

/* Format a byte count for people: "4.0K", "12M", "512". */
void	number_format_size(uint64_t bytes, char *buf, size_t len);

#endif
