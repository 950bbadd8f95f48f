/* From a decoded message to its method's handler (the table in methods.c). */
#ifndef SHMD_DISPATCH_H
#define SHMD_DISPATCH_H

#include "call.h"

struct conn;
struct json_object;

/* A method's handler; it answers with call_reply() or call_error(). */
typedef void	method_fn(struct call *);

struct method {
	const char	*name;		/* fully qualified */
	method_fn	*fn;
};

/* Handle one message from a connection: every call gets its answer. */
void	dispatch_message(struct conn *, struct json_object *msg);

/* The method table (methods.c). */
extern const struct method methods[];
extern const int nmethods;

#endif
