/* JSON text written straight into a buffer; see textbuf.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "textbuf.h"
#include "utf8.h"

void
textbuf_init(struct textbuf *tb, char *buf, size_t size)
{
	tb->buf = buf;
	tb->size = size;
	tb->len = 0;
	tb->grow = 0;
	tb->failed = size == 0;
}

int
textbuf_init_heap(struct textbuf *tb, size_t initial)
{
	textbuf_init(tb, malloc(initial), initial);
	if (tb->buf == NULL)
		return -1;
	tb->grow = 1;
	return 0;
}

/* Room for n more bytes and the NUL. */
static int
textbuf_room(struct textbuf *tb, size_t n)
{
	size_t	 size;
	char	*p;

	if (tb->failed)
		return -1;
	if (tb->size - tb->len > n)
		return 0;
	if (!tb->grow || n > SIZE_MAX / 4 - tb->len) {
		tb->failed = 1;
		return -1;
	}
	for (size = tb->size; size - tb->len <= n; size *= 2)
		;
	if ((p = realloc(tb->buf, size)) == NULL) {
		tb->failed = 1;
		return -1;
	}
	tb->buf = p;
	tb->size = size;
	return 0;
}

void
textbuf_mem_slow(struct textbuf *tb, const char *s, size_t n)
{
	if (textbuf_room(tb, n) == -1)
		return;
	memcpy(tb->buf + tb->len, s, n);
	tb->len += n;
}

void
textbuf_u64(struct textbuf *tb, uint64_t v)
{
	char	digits[20], *p = digits + sizeof digits;

	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	textbuf_mem(tb, p, (size_t)(digits + sizeof digits - p));
}

void
textbuf_i64(struct textbuf *tb, int64_t v)
{
	if (v < 0) {
		textbuf_lit(tb, "-");
		/* INT64_MIN's magnitude does not fit in an int64_t. */
		textbuf_u64(tb, (uint64_t)-(v + 1) + 1);
	} else
		textbuf_u64(tb, (uint64_t)v);
}

void
textbuf_json_string(struct textbuf *tb, const char *s)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 len = strlen(s), n;
	uint32_t		 cp;
	char			 esc[6] = { '\\', 'u', '0', '0' };

	textbuf_lit(tb, "\"");
	while (len > 0) {
		n = utf8_char(s, len, &cp);
		if (n == 0) {
			/* not UTF-8: U+FFFD, as JSON must be UTF-8 */
			textbuf_lit(tb, "\\ufffd");
			n = 1;
		} else if (*s == '"' || *s == '\\') {
			textbuf_lit(tb, "\\");
			textbuf_mem(tb, s, 1);
		} else if (cp < 0x20) {
			esc[4] = hex[cp >> 4];
			esc[5] = hex[cp & 0xf];
			textbuf_mem(tb, esc, sizeof esc);
		} else
			textbuf_mem(tb, s, n);
		s += n;
		len -= n;
	}
	textbuf_lit(tb, "\"");
}

long
textbuf_end(struct textbuf *tb)
{
	if (textbuf_room(tb, 0) == -1)
		return -1;
	tb->buf[tb->len] = '\0';
	return (long)tb->len;
}
