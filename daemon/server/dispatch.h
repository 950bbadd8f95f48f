/*
 * From a decoded message to its method's handler: the table is made from
 * the interface files at build time (varlink-methods.h, call.h).
 */
#ifndef SHMD_DISPATCH_H
#define SHMD_DISPATCH_H

struct conn;
struct json_object;

/* Handle one message from a connection: every call gets its answer. */
void	dispatch_message(struct conn *, struct json_object *msg);

#endif
