/*
 * Varlink framing (shmd-protocol(7)): every message is one JSON object followed
 * by one NUL byte. Shared by the daemon and the client library.
 */
#ifndef SHMD_FRAME_H
#define SHMD_FRAME_H

#include <stddef.h>

struct json_object;
struct json_tokener;

/* Deepest nesting of JSON accepted in a message. */
#define FRAME_MAX_DEPTH		32

/*
 * Whether len bytes are UTF-8 as RFC 3629 has it: no overlong forms, no
 * encoded surrogates, nothing above U+10FFFF. 1 or 0.
 */
int	frame_utf8_valid(const char *text, size_t len);

/*
 * Parse one message (without its NUL) into a JSON object; text that is
 * not valid UTF-8 is refused before it is parsed. Returns 0 and a
 * new reference in *out, or -1 with a human-readable reason.
 */
int	frame_decode(const char *msg, size_t len, struct json_object **out,
	    char *reason, size_t reasonlen);

/* The same with a tokener made by frame_tokener_new(), reused (one thread). */
int	frame_decode_with(struct json_tokener *, const char *msg, size_t len,
	    struct json_object **out, char *reason, size_t reasonlen);
/* Any JSON value (an array, a number...) under the same rules. */
int	frame_decode_value(const char *text, size_t len,
	    struct json_object **out, char *reason, size_t reasonlen);
/* A tokener with the framing's limits; json_tokener_free() it. */
struct json_tokener *frame_tokener_new(void);

/*
 * The bytes to send for a message: the plain JSON text and its NUL.
 * The pointer is owned by obj; *len includes the NUL.
 */
const char *frame_encode(struct json_object *obj, size_t *len);

/* A growing receive buffer for blocking clients. */
struct frame_buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
	size_t	 consumed;	/* bytes of data already handed out */
};

void	frame_buf_init(struct frame_buf *);
void	frame_buf_finish(struct frame_buf *);
/* Room for at least n more bytes at data + len; NULL when out of memory. */
char	*frame_buf_space(struct frame_buf *, size_t n);
/*
 * The next complete message, NUL-terminated in place, or NULL when none is
 * buffered yet. Valid until the next call on the buffer.
 */
char	*frame_buf_next(struct frame_buf *, size_t *len);

#endif
