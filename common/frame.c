/* Varlink framing: NUL-terminated JSON objects. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include <json-c/json.h>

#include "frame.h"
#include "utf8.h"

struct json_tokener *
frame_tokener_new(void)
{
	struct json_tokener	*tok;

	if ((tok = json_tokener_new_ex(FRAME_MAX_DEPTH)) == NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_ALLOW_TRAILING_CHARS | JSON_TOKENER_VALIDATE_UTF8);
	return tok;
}

static int	frame_parse(struct json_tokener *, const char *, size_t,
		    struct json_object **, char *, size_t);

/* With a tokener of its own: an object (a message), or any value. */
static int
frame_decode_once(const char *msg, size_t len, int any,
    struct json_object **out, char *reason, size_t reasonlen)
{
	struct json_tokener	*tok;
	int			 rc;

	*out = NULL;
	if ((tok = frame_tokener_new()) == NULL) {
		snprintf(reason, reasonlen, "out of memory");
		return -1;
	}
	if (any)
		rc = frame_parse(tok, msg, len, out, reason, reasonlen);
	else
		rc = frame_decode_with(tok, msg, len, out, reason, reasonlen);
	json_tokener_free(tok);
	return rc;
}

int
frame_decode(const char *msg, size_t len, struct json_object **out,
    char *reason, size_t reasonlen)
{
	return frame_decode_once(msg, len, 0, out, reason, reasonlen);
}

int
frame_utf8_valid(const char *text, size_t len)
{
	return utf8_valid(text, len);
}

/* One JSON value of any type, strictly UTF-8, nothing but blanks after it. */
static int
frame_parse(struct json_tokener *tok, const char *msg, size_t len,
    struct json_object **out, char *reason, size_t reasonlen)
{
	struct json_object	*obj;
	enum json_tokener_error	 err;
	size_t			 end;

	*out = NULL;
	if (len > (size_t)INT32_MAX - 1) {
		snprintf(reason, reasonlen, "message too long");
		return -1;
	}
	/* RFC 3629, strictly: json-c lets overlong forms and surrogates by. */
	if (!frame_utf8_valid(msg, len)) {
		snprintf(reason, reasonlen, "invalid UTF-8");
		return -1;
	}
	json_tokener_reset(tok);
	/* msg[len] is the NUL: passing it ends a trailing number. */
	obj = json_tokener_parse_ex(tok, msg, (int)len + 1);
	err = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (obj == NULL) {
		if (err == json_tokener_continue || err == json_tokener_success)
			snprintf(reason, reasonlen, "invalid JSON: %s",
			    len == 0 ? "empty message" : "unexpected end");
		else
			snprintf(reason, reasonlen, "invalid JSON: %s",
			    json_tokener_error_desc(err));
		return -1;
	}
	/* Only white space may follow the value. */
	for (; end < len; end++) {
		if (strchr(" \t\r\n", msg[end]) == NULL) {
			json_object_put(obj);
			snprintf(reason, reasonlen,
			    "invalid JSON: data after the value");
			return -1;
		}
	}
	*out = obj;
	return 0;
}

int
frame_decode_with(struct json_tokener *tok, const char *msg, size_t len,
    struct json_object **out, char *reason, size_t reasonlen)
{
	if (frame_parse(tok, msg, len, out, reason, reasonlen) == -1)
		return -1;
	if (!json_object_is_type(*out, json_type_object)) {
		json_object_put(*out);
		*out = NULL;
		snprintf(reason, reasonlen, "message is not a JSON object");
		return -1;
	}
	return 0;
}

int
frame_decode_value(const char *text, size_t len, struct json_object **out,
    char *reason, size_t reasonlen)
{
	return frame_decode_once(text, len, 1, out, reason, reasonlen);
}

const char *
frame_encode(struct json_object *obj, size_t *len)
{
	const char	*s;
	size_t		 n;

	s = json_object_to_json_string_length(obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (s == NULL)
		return NULL;
	*len = n + 1;
	return s;
}

void
frame_buf_init(struct frame_buf *fb)
{
	memset(fb, 0, sizeof *fb);
}

void
frame_buf_finish(struct frame_buf *fb)
{
	free(fb->data);
	memset(fb, 0, sizeof *fb);
}

char *
frame_buf_space(struct frame_buf *fb, size_t n)
{
	size_t	 cap;
	char	*p;

	if (fb->consumed > 0) {
		memmove(fb->data, fb->data + fb->consumed,
		    fb->len - fb->consumed);
		fb->len -= fb->consumed;
		fb->consumed = 0;
	}
	if (fb->cap - fb->len >= n)
		return fb->data + fb->len;
	cap = fb->cap ? fb->cap : 4096;
	while (cap - fb->len < n) {
		if (cap > SIZE_MAX / 2)
			return NULL;
		cap *= 2;
	}
	if ((p = realloc(fb->data, cap)) == NULL)
		return NULL;
	fb->data = p;
	fb->cap = cap;
	return fb->data + fb->len;
}

char *
frame_buf_next(struct frame_buf *fb, size_t *len)
{
	char	*start, *nul;

	start = fb->data + fb->consumed;
	if (fb->data == NULL ||
	    (nul = memchr(start, '\0', fb->len - fb->consumed)) == NULL)
		return NULL;
	*len = (size_t)(nul - start);
	fb->consumed += *len + 1;
	return start;
}
