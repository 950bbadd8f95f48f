/*
 * One call being answered: its parameters, checked against the method
 * table made from the interface files (varlink-methods.h), its context
 * (the creator's pidfd), and its one answer.
 *
 * A handler returns CALL_DONE once it has answered, or CALL_PARKED once
 * it has parked the call (call_park()) to answer later; call_settle()
 * holds every handler to that: a call answered twice or not at all is a
 * bug, caught by an assertion (counted and logged under NDEBUG). Every
 * message a client reads (replies, errors, Watch's events, a refusal at
 * connect) is written by call_message() and no other function.
 */
#ifndef SHMD_CALL_H
#define SHMD_CALL_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct conn;
struct json_object;
struct server;
struct textbuf;

/* What a handler did with its call. */
enum call_status {
	CALL_DONE,		/* answered, once */
	CALL_PARKED,		/* parked (call_park()): answered later */
};

struct call;
typedef enum call_status	method_fn(struct call *);

/* Parameter types the call layer checks (an enum is a string). */
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

/* A method of the table: its name (fully qualified) and parameters. */
struct method {
	const char		*name;
	method_fn		*fn;
	const struct param_spec	*params;
	int			 nparams;
};

/* The table, made from the interface files (ARG_* index args[]). */
#include "varlink-methods.h"
extern const struct method methods[VARLINK_NMETHODS];
extern const char *const interface_errors[VARLINK_NERRORS];

/* One call being answered. */
struct call {
	struct conn		*conn;
	struct server		*srv;
	struct json_object	*msg;		/* the call; held while parked */
	const char		*method;
	struct param_value	 args[VARLINK_ARGS_MAX];	/* ARG_* */
	int			 oneway;
	int			 more;
	int			 answers;	/* final answers given */
	int			 streaming;	/* a "continues" reply went out */
	int			 heap;		/* call_park()'s copy: freed */
	int			 parked;	/* call_park() copied it */
	/*
	 * The creator's pidfd, taken from the peer by call_pin(), handed
	 * to the lifecycle by address (lifecycle_request), which sets it
	 * to -1 when it keeps it; else call_settle() closes it.
	 */
	int			 pidfd;
};

/* A call for conn's message msg (not yet checked). */
void	call_init(struct call *, struct conn *, struct json_object *msg);
/*
 * Check the parameters against the method's (InvalidParameter answered
 * on a missing, ill-typed or unknown one: -1), then run its handler and
 * settle the call.
 */
void	call_run(struct call *, const struct method *);
/*
 * Hold a handler to its status: exactly one answer for CALL_DONE (or a
 * stream begun), none for CALL_PARKED. A parked call settled done is
 * freed, and its connection goes on. Closes a pidfd not handed on.
 */
void	call_settle(struct call *, enum call_status);
/*
 * A heap copy of a call to answer later (call_settle() frees it), which
 * holds the message: NULL when out of memory (then nothing changed).
 */
struct call *call_park(struct call *);
/* Free a parked call unanswered: its connection is gone. */
void	call_drop(struct call *);
/*
 * Pin the process that connected (peer_pin()) and take its pidfd into
 * the call, once: 0, or -1 when it has exited or the kernel gives none.
 */
int	call_pin(struct call *);
/* Calls answered twice or not at all since start (see call_settle()). */
unsigned long	call_faults(void);

/*
 * The one writer of a message: the envelope around params (a JSON
 * object's text, plen bytes; NULL: {}), error NULL for a reply, with
 * "continues" when more follow. The message's length, or -1 when it did
 * not fit.
 */
long	call_message(struct textbuf *, const char *error, const char *params,
	    size_t plen, int continues);

/*
 * Answers; each takes the reference to params (NULL: empty). A oneway
 * call sends nothing, but is answered all the same.
 */
enum call_status call_reply(struct call *, struct json_object *params);
/* A reply whose parameters are JSON text (a Segment's: segment_text()). */
enum call_status call_reply_text(struct call *, const char *params,
	    size_t plen);
/* A reply of a "more" call that more replies follow (Watch). */
enum call_status call_reply_continues(struct call *,
	    struct json_object *params);
enum call_status call_error(struct call *, enum proto_error,
	    struct json_object *params);
/*
 * Errors with their one parameter: a string, which may echo the request
 * (a name, a method), so cut on a character boundary to PROTO_ECHO_MAX.
 */
enum call_status call_error_str(struct call *, enum proto_error,
	    const char *key, const char *value);
/* The same with the value's first len bytes. */
enum call_status call_error_strn(struct call *, enum proto_error,
	    const char *key, const char *value, size_t len);
enum call_status call_invalid(struct call *, const char *parameter);
/* InvalidParameter with a "reason" member that says why. */
enum call_status call_invalid_why(struct call *, const char *parameter,
	    const char *reason);
enum call_status call_nomem(struct call *);

#endif
