/*
 * Names of the protocol (shmd-protocol(7)): interfaces, methods, errors and
 * lifetimes. They are spelled here and nowhere else.
 */
#ifndef SHMD_PROTO_H
#define SHMD_PROTO_H

#include <stdint.h>

#define PROTO_INTERFACE		"io.shmd"
#define PROTO_SERVICE_INTERFACE	"org.varlink.service"
#define PROTO_DEFAULT_SOCKET	"/run/shmd/shmd.sock"
/* root's own socket, beside the main one (shmd.conf(5), admin_socket) */
#define PROTO_ADMIN_SOCKET_NAME	"admin.sock"
#define PROTO_DEFAULT_ADMIN_SOCKET "/run/shmd/" PROTO_ADMIN_SOCKET_NAME
#define PROTO_SOCKET_ENV	"SHMD_SOCKET"
#define PROTO_NAME_MAX		255
/* The longest string a reply echoes from a request, in bytes. */
#define PROTO_ECHO_MAX		255

#define PROTO_METHOD_CREATE	"io.shmd.Create"
#define PROTO_METHOD_OPEN	"io.shmd.Open"
#define PROTO_METHOD_DESTROY	"io.shmd.Destroy"
#define PROTO_METHOD_LIST	"io.shmd.List"
#define PROTO_METHOD_STATUS	"io.shmd.Status"
#define PROTO_METHOD_WATCH	"io.shmd.Watch"
#define PROTO_METHOD_GETINFO	"org.varlink.service.GetInfo"
#define PROTO_METHOD_GETDESC	"org.varlink.service.GetInterfaceDescription"

/* Errors, in the order of shmd-protocol(7)'s table. */
enum proto_error {
	PROTO_OK = 0,
	PROTO_ERR_NAME_EXISTS,
	PROTO_ERR_NO_SUCH_SEGMENT,
	PROTO_ERR_PERMISSION_DENIED,
	PROTO_ERR_QUOTA_EXCEEDED,
	PROTO_ERR_WRONG_NAMESPACE,
	PROTO_ERR_KEY_IN_USE,
	PROTO_ERR_SYSTEM_LIMIT,
	PROTO_ERR_PROTOCOL_ERROR,
	PROTO_ERR_METHOD_NOT_FOUND,
	PROTO_ERR_INTERFACE_NOT_FOUND,
	PROTO_ERR_INVALID_PARAMETER,
	PROTO_ERR_EXPECTED_MORE,
	PROTO_ERR_STATE_ERROR,
	PROTO_ERR_COUNT
};

const char	*proto_error_name(enum proto_error);
enum proto_error proto_error_from_name(const char *);

/* Lifetimes of a segment. */
enum proto_lifetime {
	PROTO_LIFETIME_DETACH = 0,
	PROTO_LIFETIME_PROCESS,
	PROTO_LIFETIME_PERSISTENT,
};

const char	*proto_lifetime_name(enum proto_lifetime);
int		 proto_lifetime_parse(const char *, enum proto_lifetime *);

/* Watch events. */
enum proto_event {
	PROTO_EVENT_READY = 0,
	PROTO_EVENT_CREATED,
	PROTO_EVENT_DESTROYED,
	PROTO_EVENT_REAPED,
	PROTO_EVENT_VANISHED,
};

const char	*proto_event_name(enum proto_event);
int		 proto_event_parse(const char *, enum proto_event *);

/* 0 when a segment name is valid: 1..255 bytes of [A-Za-z0-9._:@/-], no leading '-'. */
int		 proto_name_valid(const char *);
/* proto_name_valid()'s rule, in words for messages. */
#define PROTO_NAME_RULE \
	"1 to 255 of A-Z a-z 0-9 . _ - : @ /, not starting with -"

/* Whom a name is reserved to (shmd-protocol(7), "Reserved names"). */
enum proto_reserved {
	PROTO_RESERVED_NONE,	/* first come, first served */
	PROTO_RESERVED_UID,	/* first component uid:N: uid N (and root) */
	PROTO_RESERVED_GID,	/* first component gid:N: group N (and root) */
};

/*
 * Whether a (valid) name's first component, the part before the first
 * '/' or the whole name, is uid:N or gid:N, N a decimal id without
 * leading zeros; *id is N.
 */
enum proto_reserved proto_name_reserved(const char *, uint32_t *id);

/*
 * Whether uid may create a (valid) name: root any; a reserved name only
 * its uid, or a member of its group as in_group(arg, gid) tells. The
 * daemon asks with a peer's credentials, libshmd with its own process's
 * (to fail early); the daemon's answer is the one that counts.
 */
int	proto_name_allowed(const char *, uint32_t uid,
	    int (*in_group)(void *arg, uint32_t gid), void *arg);

#endif
