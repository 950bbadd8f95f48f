/*
 * From a decoded message to its method's handler. The method table, each
 * method's parameters and the error names are made from io.shmd.varlink
 * and org.varlink.service.varlink by scripts/varlink-methods.awk, and
 * defined here; the handlers are methods.c's.
 */
#include "config.h"

#define VARLINK_METHODS_TABLE	/* the table is defined here, once */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "call.h"
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
	struct json_object	*params;
	struct call		 call;
	const char		*dot;
	int			 i;

	call_init(&call, conn, msg);
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
	user_trace(conn->user, "client pid %ld uid %lu: %s",
	    (long)conn->peer.pid, (unsigned long)conn->peer.uid, call.method);
	if (json_object_object_get_ex(msg, "parameters", &params) &&
	    params != NULL && !json_object_is_type(params, json_type_object))
		return call_settle(&call, call_invalid(&call, "parameters"));
	if (!dispatch_interface_known(call.method)) {
		/* the interface is the method up to its last dot */
		dot = strrchr(call.method, '.');
		return call_settle(&call, call_error_strn(&call,
		    PROTO_ERR_INTERFACE_NOT_FOUND, "interface", call.method,
		    dot != NULL ? (size_t)(dot - call.method) : 0));
	}
	for (i = 0; i < VARLINK_NMETHODS; i++)
		if (strcmp(methods[i].name, call.method) == 0)
			return call_run(&call, &methods[i]);
	call_settle(&call, call_error_str(&call, PROTO_ERR_METHOD_NOT_FOUND,
	    "method", call.method));
}
