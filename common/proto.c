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
	[PROTO_ERR_STATE_ERROR] = "io.shmd.StateError",
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
	/* a name's characters, by byte (strspn's set of 66 is slow) */
	static const char	 ok[256] = {
		['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1,
		['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1,
		['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1,
		['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1,
		['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1,
		['Z'] = 1,
		['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1,
		['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1,
		['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1,
		['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1,
		['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1,
		['z'] = 1,
		['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1,
		['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
		['.'] = 1, ['_'] = 1, ['-'] = 1, [':'] = 1, ['@'] = 1,
		['/'] = 1,
	};
	const unsigned char	*p = (const unsigned char *)name;

	if (*p == '\0' || *p == '-')
		return -1;
	for (; *p != '\0'; p++)
		if (!ok[*p] || p - (const unsigned char *)name >=
		    PROTO_NAME_MAX)
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

int
proto_name_allowed(const char *name, uint32_t uid,
    int (*in_group)(void *, uint32_t), void *arg)
{
	uint32_t	id;

	if (uid == 0)
		return 1;
	switch (proto_name_reserved(name, &id)) {
	case PROTO_RESERVED_NONE:
		return 1;
	case PROTO_RESERVED_UID:
		return uid == id;
	case PROTO_RESERVED_GID:
		return in_group(arg, id);
	}
	return 0;
}
