/*
 * JSON text written straight into a buffer: the daemon's hot replies
 * (every Open, Create and List) are a few literals and integers, and
 * snprintf spends far more on parsing its format than on the output.
 */
#ifndef SHMD_TEXTBUF_H
#define SHMD_TEXTBUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct textbuf {
	char	*buf;
	size_t	 len, size;
	int	 grow;		/* buf is ours, on the heap: realloc it */
	int	 failed;	/* out of room or memory: the text is cut */
};

/* Over a caller's fixed buffer of size bytes (room for the NUL included). */
void	textbuf_init(struct textbuf *, char *buf, size_t size);
/* On the heap, growing as needed; free buf when done. 0, or -1. */
int	textbuf_init_heap(struct textbuf *, size_t initial);

/* Append n bytes; the common case (they fit) is inline. */
void	textbuf_mem_slow(struct textbuf *, const char *, size_t);
static inline void
textbuf_mem(struct textbuf *tb, const char *s, size_t n)
{
	if (!tb->failed && tb->size - tb->len > n) {
		memcpy(tb->buf + tb->len, s, n);
		tb->len += n;
	} else
		textbuf_mem_slow(tb, s, n);
}

static inline void
textbuf_str(struct textbuf *tb, const char *s)
{
	textbuf_mem(tb, s, strlen(s));
}

void	textbuf_u64(struct textbuf *, uint64_t);
void	textbuf_i64(struct textbuf *, int64_t);
#define textbuf_lit(tb, lit)	textbuf_mem((tb), (lit), sizeof(lit) - 1)

/*
 * s as a JSON string, quoted: '"', '\\' and control characters escaped,
 * and each byte that does not start valid UTF-8 as U+FFFD.
 */
void	textbuf_json_string(struct textbuf *, const char *s);

/* NUL-terminate: the text's length, or -1 when something did not fit. */
long	textbuf_end(struct textbuf *);

#endif
