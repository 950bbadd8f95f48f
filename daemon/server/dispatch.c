/* From a decoded message to its method's handler (the table in methods.c). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "conn.h"
#include "dispatch.h"
#include "jsonutil.h"
#include "log.h"
#include "server.h"
#include "user.h"

static const char *const known_interfaces[] = {
	PROTO_INTERFACE,
	PROTO_SERVICE_INTERFACE,
};

static int
dispatch_interface_known(const char *method)
{
	const char	*dot = strrchr(method, '.');
	size_t		 len, i;

	if (dot == NULL)
		return 0;
	len = (size_t)(dot - method);
	for (i = 0; i < sizeof known_interfaces / sizeof known_interfaces[0];
	    i++)
		if (strlen(known_interfaces[i]) == len &&
		    strncmp(known_interfaces[i], method, len) == 0)
			return 1;
	return 0;
}

/* A flag member of the call: absent is false; anything but a boolean is -1. */
static int
dispatch_flag(struct json_object *msg, const char *key, int *out)
{
	struct json_object	*v;

	*out = 0;
	if (!json_object_object_get_ex(msg, key, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return -1;
	*out = json_object_get_boolean(v);
	return 0;
}

void
dispatch_message(struct conn *conn, struct json_object *msg)
{
	struct json_object	*params = NULL, *empty = NULL;
	struct call		 call;
	const char		*dot;
	int			 i;

	memset(&call, 0, sizeof call);
	call.conn = conn;
	call.srv = conn->srv;
	if (json_get_string(msg, "method", &call.method) == -1) {
		conn_protocol_error(conn, "the call has no string 'method'");
		return;
	}
	if (dispatch_flag(msg, "oneway", &call.oneway) == -1 ||
	    dispatch_flag(msg, "more", &call.more) == -1) {
		conn_protocol_error(conn, "'oneway' and 'more' must be booleans");
		return;
	}
	conn->srv->requests++;
	if (!json_object_object_get_ex(msg, "parameters", &params) ||
	    params == NULL) {
		if ((empty = json_object_new_object()) == NULL) {
			call_nomem(&call);
			return;
		}
		params = empty;
	}
	call.params = params;
	user_trace(conn->user, "client pid %ld uid %lu: %s",
	    (long)conn->peer.pid, (unsigned long)conn->peer.uid, call.method);
	if (!json_object_is_type(params, json_type_object)) {
		call_invalid(&call, "parameters");
		goto out;
	}
	if (!dispatch_interface_known(call.method)) {
		/* the interface is the method up to its last dot */
		dot = strrchr(call.method, '.');
		call_error_strn(&call, PROTO_ERR_INTERFACE_NOT_FOUND,
		    "interface", call.method,
		    dot != NULL ? (size_t)(dot - call.method) : 0);
		goto out;
	}
	for (i = 0; i < nmethods; i++) {
		if (strcmp(methods[i].name, call.method) == 0) {
			methods[i].fn(&call);
			goto out;
		}
	}
	call_error_str(&call, PROTO_ERR_METHOD_NOT_FOUND, "method", call.method);
out:
	/*
	 * A pidfd the call pinned and did not hand on is not kept: a
	 * connection holds one descriptor (shmdd_budget_fds() counts so),
	 * and the pidfd's inode still names the process that connected.
	 */
	peer_close_pidfd(&conn->peer);
	json_object_put(empty);
}
