/* One call being answered: its parameters, and its one answer. */
#ifndef SHMD_CALL_H
#define SHMD_CALL_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct conn;
struct json_object;
struct server;
struct textbuf;

/* One call being answered. */
struct call {
	struct conn		*conn;
	struct server		*srv;
	struct json_object	*params;	/* always an object */
	const char		*method;
	int			 oneway;
	int			 more;
	int			 replied;	/* a final reply went out */
};

/*
 * Answers. They take the reference to params (NULL: empty). A oneway call
 * sends nothing; call_reply_continues() is for "more" calls.
 */
void	call_reply(struct call *, struct json_object *params);
/*
 * A reply written as JSON text: call_reply_start() puts the message's
 * beginning in tb, the handler appends its parameters object, and
 * call_reply_finish() closes and sends it (SystemLimit when it did not fit).
 */
void	call_reply_start(struct textbuf *tb);
void	call_reply_finish(struct call *, struct textbuf *tb);
void	call_reply_continues(struct call *, struct json_object *params);
void	call_error(struct call *, enum proto_error, struct json_object *params);
/*
 * Errors with their one parameter: a string, which may echo the request
 * (a name, a method), so cut on a character boundary to PROTO_ECHO_MAX.
 */
void	call_error_str(struct call *, enum proto_error, const char *key,
	    const char *value);
/* The same with the value's first len bytes. */
void	call_error_strn(struct call *, enum proto_error, const char *key,
	    const char *value, size_t len);
void	call_invalid(struct call *, const char *parameter);
/* InvalidParameter with a "reason" member that says why. */
void	call_invalid_why(struct call *, const char *parameter,
	    const char *reason);
void	call_nomem(struct call *);

/* Parameters a method accepts. */
enum param_type {
	PARAM_STRING,
	PARAM_INT,
	PARAM_BOOL,
};

struct param_spec {
	const char	*name;
	enum param_type	 type;
	int		 required;
};

struct param_value {
	int		 present;	/* given and not null */
	const char	*s;
	int64_t		 i;	/* PARAM_INT, and PARAM_BOOL as 0 or 1 */
};

/*
 * Check a call's parameters against specs (values[i] for specs[i]). On a
 * missing, ill-typed or unknown parameter it answers InvalidParameter and
 * returns -1.
 */
int	call_params(struct call *, const struct param_spec *specs, int n,
	    struct param_value *values);

#endif
