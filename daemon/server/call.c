/* One call being answered: its parameters, and its one answer. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "call.h"
#include "conn.h"
#include "jsonutil.h"
#include "log.h"
#include "textbuf.h"
#include "user.h"
#include "utf8.h"

static void
call_send(struct call *call, const char *error, struct json_object *params,
    int continues)
{
	struct json_object	*msg;

	if (call->oneway || call->replied) {
		json_object_put(params);
		return;
	}
	if (!continues)
		call->replied = 1;
	if (params == NULL)
		params = json_object_new_object();
	if ((msg = json_object_new_object()) == NULL || params == NULL) {
		json_object_put(params);
		json_object_put(msg);
		conn_close(call->conn);
		return;
	}
	if ((error != NULL && json_add_string(msg, "error", error) == -1) ||
	    json_add(msg, "parameters", params) == -1 ||
	    (continues && json_add_bool(msg, "continues", 1) == -1)) {
		json_object_put(msg);
		conn_close(call->conn);
		return;
	}
	conn_send(call->conn, msg);
	json_object_put(msg);
}

void
call_reply_start(struct textbuf *tb)
{
	textbuf_lit(tb, "{\"parameters\":");
}

void
call_reply_finish(struct call *call, struct textbuf *tb)
{
	long	n;

	textbuf_lit(tb, "}");
	if ((n = textbuf_end(tb)) == -1)
		return call_nomem(call);
	if (call->oneway || call->replied)
		return;
	call->replied = 1;
	conn_send_text(call->conn, tb->buf, (size_t)n);
}

void
call_reply(struct call *call, struct json_object *params)
{
	call_send(call, NULL, params, 0);
}

void
call_reply_continues(struct call *call, struct json_object *params)
{
	call_send(call, NULL, params, call->more);
}

void
call_error(struct call *call, enum proto_error err, struct json_object *params)
{
	call_send(call, proto_error_name(err), params, 0);
}

void
call_error_str(struct call *call, enum proto_error err, const char *key,
    const char *value)
{
	call_error_strn(call, err, key, value, strlen(value));
}

void
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
	call_error(call, err, params);
}

void
call_invalid(struct call *call, const char *parameter)
{
	call_error_str(call, PROTO_ERR_INVALID_PARAMETER, "parameter",
	    parameter);
}

void
call_invalid_why(struct call *call, const char *parameter, const char *reason)
{
	struct json_object	*params = json_object_new_object();

	if (params != NULL &&
	    (json_add_string(params, "parameter", parameter) == -1 ||
	    json_add_string(params, "reason", reason) == -1)) {
		json_object_put(params);
		params = NULL;
	}
	call_error(call, PROTO_ERR_INVALID_PARAMETER, params);
}

void
call_nomem(struct call *call)
{
	user_log(call->conn->user, LOG_LEVEL_WARNING, "out of memory "
	    "answering %s", call->method);
	call_error_str(call, PROTO_ERR_SYSTEM_LIMIT, "errno", "ENOMEM");
}

int
call_params(struct call *call, const struct param_spec *specs, int n,
    struct param_value *values)
{
	struct json_object	*v;
	int			 i;

	if (n > 0)
		memset(values, 0, sizeof *values * (size_t)n);
	json_object_object_foreach(call->params, key, val) {
		(void)val;
		for (i = 0; i < n; i++)
			if (strcmp(key, specs[i].name) == 0)
				break;
		if (i == n) {
			call_invalid(call, key);
			return -1;
		}
	}
	for (i = 0; i < n; i++) {
		if (!json_object_object_get_ex(call->params, specs[i].name,
		    &v) || v == NULL) {
			if (specs[i].required) {
				call_invalid(call, specs[i].name);
				return -1;
			}
			continue;
		}
		if ((specs[i].type == PARAM_STRING &&
		    json_string_value(v, &values[i].s) == -1) ||
		    (specs[i].type == PARAM_INT &&
		    json_int_value(v, &values[i].i) == -1) ||
		    (specs[i].type == PARAM_BOOL &&
		    !json_object_is_type(v, json_type_boolean))) {
			call_invalid(call, specs[i].name);
			return -1;
		}
		if (specs[i].type == PARAM_BOOL)
			values[i].i = json_object_get_boolean(v);
		values[i].present = 1;
	}
	return 0;
}
