/* One call being answered: its parameters, its context, its one answer (call.h). */
#include "config.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "call.h"
#include "conn.h"
#include "jsonutil.h"
#include "log.h"
#include "peer.h"
#include "textbuf.h"
#include "user.h"
#include "utf8.h"

/* An answer's envelope beyond its parameters: "error", "continues". */
#define CALL_ENVELOPE_MAX	192
/* Parameters up to this size are answered from the stack. */
#define CALL_STACK_MAX		(PROTO_NAME_MAX + 1024)

/* Calls answered other than once (one event loop: no lock). */
static unsigned long	call_nfaults;

/* A handler broke the rule: a bug; caught in debug builds, else counted. */
static void
call_fault(const struct call *call, const char *what)
{
	call_nfaults++;
	log_warnx("%s: %s (a bug in shmd)", call->method != NULL ?
	    call->method : "a call", what);
	assert(!"a call is answered exactly once");
}

unsigned long
call_faults(void)
{
	return call_nfaults;
}

void
call_init(struct call *call, struct conn *conn, struct json_object *msg)
{
	memset(call, 0, sizeof *call);
	call->conn = conn;
	call->srv = conn->srv;
	call->msg = msg;
	call->pidfd = -1;
}

long
call_message(struct textbuf *tb, const char *error, const char *params,
    size_t plen, int continues)
{
	if (error != NULL) {
		textbuf_lit(tb, "{\"error\":\"");
		textbuf_str(tb, error);
		textbuf_lit(tb, "\",\"parameters\":");
	} else
		textbuf_lit(tb, "{\"parameters\":");
	if (params != NULL)
		textbuf_mem(tb, params, plen);
	else
		textbuf_lit(tb, "{}");
	if (continues)
		textbuf_lit(tb, ",\"continues\":true");
	textbuf_lit(tb, "}");
	return textbuf_end(tb);
}

/*
 * Every answer goes through here: counted (final ones), then written by
 * call_message() and queued on the connection (a oneway call's is not).
 */
static enum call_status
call_answer(struct call *call, const char *error, const char *params,
    size_t plen, int continues)
{
	char		 text[CALL_STACK_MAX + CALL_ENVELOPE_MAX];
	struct textbuf	 tb;
	long		 n;

	if (continues)
		call->streaming = 1;
	else if (call->answers++ > 0) {
		call_fault(call, "answered twice");
		return CALL_DONE;
	}
	if (call->oneway)
		return CALL_DONE;
	if (plen <= CALL_STACK_MAX)
		textbuf_init(&tb, text, sizeof text);
	else if (textbuf_init_heap(&tb, plen + CALL_ENVELOPE_MAX) == -1)
		tb.buf = NULL;
	if (tb.buf == NULL ||
	    (n = call_message(&tb, error, params, plen, continues)) == -1) {
		/* (nothing smaller to say it with: the client is let go) */
		user_log(call->conn->user, LOG_LEVEL_WARNING, "out of memory "
		    "answering %s", call->method);
		conn_close(call->conn);
	} else
		conn_send_text(call->conn, tb.buf, (size_t)n);
	if (tb.buf != text)
		free(tb.buf);
	return CALL_DONE;
}

/* An answer whose parameters are a JSON object (taken; NULL: {}). */
static enum call_status
call_answer_json(struct call *call, const char *error,
    struct json_object *params, int continues)
{
	const char	*s = NULL;
	size_t		 len = 0;

	if (params != NULL && (s = json_object_to_json_string_length(params,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
	    &len)) == NULL) {
		json_object_put(params);
		return call_nomem(call);
	}
	call_answer(call, error, s, len, continues);
	json_object_put(params);
	return CALL_DONE;
}

enum call_status
call_reply(struct call *call, struct json_object *params)
{
	return call_answer_json(call, NULL, params, 0);
}

enum call_status
call_reply_text(struct call *call, const char *params, size_t plen)
{
	return call_answer(call, NULL, params, plen, 0);
}

enum call_status
call_reply_continues(struct call *call, struct json_object *params)
{
	return call_answer_json(call, NULL, params, call->more);
}

enum call_status
call_error(struct call *call, enum proto_error err, struct json_object *params)
{
	return call_answer_json(call, proto_error_name(err), params, 0);
}

enum call_status
call_error_str(struct call *call, enum proto_error err, const char *key,
    const char *value)
{
	return call_error_strn(call, err, key, value, strlen(value));
}

enum call_status
call_error_strn(struct call *call, enum proto_error err, const char *key,
    const char *value, size_t len)
{
	struct json_object	*params = json_object_new_object();

	/* An echo of the request is cut, if at all, between characters. */
	len = utf8_cut(value, len, PROTO_ECHO_MAX);
	if (params != NULL && json_add(params, key,
	    json_object_new_string_len(value, (int)len)) == -1) {
		json_object_put(params);
		params = NULL;
	}
	return call_error(call, err, params);
}

enum call_status
call_invalid(struct call *call, const char *parameter)
{
	return call_error_str(call, PROTO_ERR_INVALID_PARAMETER, "parameter",
	    parameter);
}

enum call_status
call_invalid_why(struct call *call, const char *parameter, const char *reason)
{
	struct json_object	*params = json_object_new_object();

	if (params != NULL &&
	    (json_add_string(params, "parameter", parameter) == -1 ||
	    json_add_string(params, "reason", reason) == -1)) {
		json_object_put(params);
		params = NULL;
	}
	return call_error(call, PROTO_ERR_INVALID_PARAMETER, params);
}

enum call_status
call_nomem(struct call *call)
{
	static const char	text[] = "{\"errno\":\"ENOMEM\"}";

	user_log(call->conn->user, LOG_LEVEL_WARNING, "out of memory "
	    "answering %s", call->method);
	return call_answer(call, proto_error_name(PROTO_ERR_SYSTEM_LIMIT),
	    text, sizeof text - 1, 0);
}

/*
 * Check the call's parameters against the method's: each known, of its
 * type, the required ones given, into call->args. -1 once InvalidParameter
 * is answered.
 */
static int
call_check(struct call *call, const struct method *m)
{
	struct json_object	*params = NULL, *v, *given[VARLINK_ARGS_MAX];
	struct param_value	*a;
	int			 i;

	if (!json_object_object_get_ex(call->msg, "parameters", &params) ||
	    !json_object_is_type(params, json_type_object))
		params = NULL;		/* none: an empty object */
	/* each member the method's, once through (no lookup per parameter) */
	memset(given, 0, sizeof given);
	if (params != NULL) {
		json_object_object_foreach(params, key, val) {
			for (i = 0; i < m->nparams; i++)
				if (strcmp(key, m->params[i].name) == 0)
					break;
			if (i == m->nparams) {
				call_invalid(call, key);
				return -1;
			}
			given[i] = val;
		}
	}
	for (i = 0; i < m->nparams; i++) {
		a = &call->args[i];
		if ((v = given[i]) == NULL) {
			if (m->params[i].required) {
				call_invalid(call, m->params[i].name);
				return -1;
			}
			continue;
		}
		if ((m->params[i].type == PARAM_STRING &&
		    json_string_value(v, &a->s) == -1) ||
		    (m->params[i].type == PARAM_INT &&
		    json_int_value(v, &a->i) == -1) ||
		    (m->params[i].type == PARAM_BOOL &&
		    !json_object_is_type(v, json_type_boolean))) {
			call_invalid(call, m->params[i].name);
			return -1;
		}
		if (m->params[i].type == PARAM_BOOL)
			a->i = json_object_get_boolean(v);
		a->present = 1;
	}
	return 0;
}

void
call_run(struct call *call, const struct method *m)
{
	if (call_check(call, m) == -1)
		call_settle(call, CALL_DONE);
	else
		call_settle(call, m->fn(call));
}

/* A pidfd the peer pinned in this call is the call's from now on. */
static void
call_take_pidfd(struct call *call)
{
	int	fd = peer_take_pidfd(&call->conn->peer);

	if (fd >= 0 && call->pidfd < 0)
		call->pidfd = fd;
	else if (fd >= 0)
		close(fd);	/* (never: one pin per connection) */
}

int
call_pin(struct call *call)
{
	if (peer_pin(&call->conn->peer, call->conn->fd) == -1)
		return -1;
	call_take_pidfd(call);
	return 0;
}

/*
 * The call is over: a pidfd not handed on is closed (here and only
 * here: the pidfd's inode still names the process that connected, and a
 * connection holds one descriptor, as shmdd_budget_fds() counts), and a
 * parked call is freed.
 */
static void
call_free(struct call *call)
{
	call_take_pidfd(call);
	if (call->pidfd >= 0)
		close(call->pidfd);
	call->pidfd = -1;
	if (!call->heap)
		return;
	json_object_put(call->msg);
	free(call);
}

struct call *
call_park(struct call *call)
{
	struct call	*parked;

	if ((parked = malloc(sizeof *parked)) == NULL)
		return NULL;
	*parked = *call;
	parked->heap = 1;
	json_object_get(parked->msg);	/* its strings: args, method */
	call->pidfd = -1;		/* the parked call's now */
	call->parked = 1;		/* (so it is settled CALL_PARKED) */
	return parked;
}

void
call_drop(struct call *call)
{
	call_free(call);
}

void
call_settle(struct call *call, enum call_status status)
{
	struct conn	*conn = call->conn;
	int		 heap = call->heap;

	if (status == CALL_PARKED) {
		if (!call->parked)
			call_fault(call, "said parked, and was not");
		else if (call->answers != 0)
			call_fault(call, "answered, and parked");
		call_free(call);
		return;
	}
	if (call->answers == 0 && !call->streaming) {
		call_fault(call, "not answered");
		/* (so that its client does not wait for ever) */
		call_error_str(call, PROTO_ERR_SYSTEM_LIMIT, "errno", "EPROTO");
	}
	call_free(call);
	/* A parked call answered: its connection takes its next calls. */
	if (heap)
		conn_wait_over(conn);
}
