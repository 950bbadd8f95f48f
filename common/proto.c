/* Names of the protocol, and the one place they are spelled. */
#include "config.h"

#include <string.h>

#include "proto.h"

static const char *const proto_errors[PROTO_ERR_COUNT] = {
	[PROTO_OK] = NULL,
	[PROTO_ERR_NAME_EXISTS] = "io.shmd.NameExists",
	[PROTO_ERR_NO_SUCH_SEGMENT] = "io.shmd.NoSuchSegment",
	[PROTO_ERR_PERMISSION_DENIED] = "io.shmd.PermissionDenied",
	[PROTO_ERR_QUOTA_EXCEEDED] = "io.shmd.QuotaExceeded",
	[PROTO_ERR_WRONG_NAMESPACE] = "io.shmd.WrongNamespace",
	[PROTO_ERR_KEY_IN_USE] = "io.shmd.KeyInUse",
	[PROTO_ERR_SYSTEM_LIMIT] = "io.shmd.SystemLimit",
	[PROTO_ERR_PROTOCOL_ERROR] = "io.shmd.ProtocolError",
	[PROTO_ERR_METHOD_NOT_FOUND] = "org.varlink.service.MethodNotFound",
	[PROTO_ERR_INTERFACE_NOT_FOUND] =
	    "org.varlink.service.InterfaceNotFound",
	[PROTO_ERR_INVALID_PARAMETER] = "org.varlink.service.InvalidParameter",
	[PROTO_ERR_EXPECTED_MORE] = "org.varlink.service.ExpectedMore",
};

static const char *const proto_lifetimes[] = {
	[PROTO_LIFETIME_DETACH] = "detach",
	[PROTO_LIFETIME_PROCESS] = "process",
	[PROTO_LIFETIME_PERSISTENT] = "persistent",
};

static const char *const proto_events[] = {
	[PROTO_EVENT_READY] = "ready",
	[PROTO_EVENT_CREATED] = "created",
	[PROTO_EVENT_DESTROYED] = "destroyed",
	[PROTO_EVENT_REAPED] = "reaped",
	[PROTO_EVENT_VANISHED] = "vanished",
};

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))

const char *
proto_error_name(enum proto_error e)
{
	if ((unsigned)e >= PROTO_ERR_COUNT)
		return NULL;
	return proto_errors[e];
}

enum proto_error
proto_error_from_name(const char *name)
{
	int	i;

	for (i = 1; i < PROTO_ERR_COUNT; i++)
		if (strcmp(proto_errors[i], name) == 0)
			return (enum proto_error)i;
	return PROTO_ERR_COUNT;
}

const char *
proto_lifetime_name(enum proto_lifetime l)
{
	if ((unsigned)l >= NITEMS(proto_lifetimes))
		return "?";
	return proto_lifetimes[l];
}

int
proto_lifetime_parse(const char *s, enum proto_lifetime *out)
{
	size_t	i;

	for (i = 0; i < NITEMS(proto_lifetimes); i++) {
		if (strcmp(s, proto_lifetimes[i]) == 0) {
			*out = (enum proto_lifetime)i;
			return 0;
		}
	}
	return -1;
}

const char *
proto_event_name(enum proto_event e)
{
	if ((unsigned)e >= NITEMS(proto_events))
		return "?";
	return proto_events[e];
}

int
proto_event_parse(const char *s, enum proto_event *out)
{
	size_t	i;

	for (i = 0; i < NITEMS(proto_events); i++) {
		if (strcmp(s, proto_events[i]) == 0) {
			*out = (enum proto_event)i;
			return 0;
		}
	}
	return -1;
}

int
proto_name_valid(const char *name)
{
	size_t	len = strlen(name);

	if (len == 0 || len > PROTO_NAME_MAX || name[0] == '-')
		return -1;
	if (strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-:@/") != len)
		return -1;
	return 0;
}

enum proto_reserved
proto_name_reserved(const char *name, uint32_t *id)
{
	enum proto_reserved	 kind;
	const char		*p;
	uint64_t		 v = 0;

	if (strncmp(name, "uid:", 4) == 0)
		kind = PROTO_RESERVED_UID;
	else if (strncmp(name, "gid:", 4) == 0)
		kind = PROTO_RESERVED_GID;
	else
		return PROTO_RESERVED_NONE;
	p = name + 4;
	/* N: decimal digits, no leading zero (but "0" itself) */
	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
		return PROTO_RESERVED_NONE;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > UINT32_MAX)
			return PROTO_RESERVED_NONE;
	}
	if (*p != '\0' && *p != '/')
		return PROTO_RESERVED_NONE;
	*id = (uint32_t)v;
	return kind;
}
