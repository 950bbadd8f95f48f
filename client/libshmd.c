/* libshmd: blocking calls to shmd over its Unix socket. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "frame.h"
#include "jsonutil.h"
#include "libshmd-int.h"
#include "proto.h"

struct shmd_conn {
	int			 fd;
	int			 watching;
	int			 dead;		/* the stream can no longer be trusted */
	struct frame_buf	 in;
	uint64_t		 ipc_namespace;	/* ours, sent with Create and Open */
	int			 created;	/* the last Create made it */
	char			 last_error[512];
};

_Static_assert(offsetof(struct shmd_segment, struct_size) == 0 &&
    offsetof(struct shmd_status, struct_size) == 0 &&
    offsetof(struct shmd_create_options, struct_size) == 0,
    "struct_size leads every struct a caller allocates");
/* shmd.h's name buffer holds every name proto_name_valid() accepts. */
_Static_assert(SHMD_NAME_MAX == PROTO_NAME_MAX, "one name length");

/* The daemon's error names in the order of enum proto_error. */
static const enum shmd_error shmd_proto_errors[PROTO_ERR_COUNT] = {
	[PROTO_OK] = SHMD_OK,
	[PROTO_ERR_NAME_EXISTS] = SHMD_ERR_NAME_EXISTS,
	[PROTO_ERR_NO_SUCH_SEGMENT] = SHMD_ERR_NO_SUCH_SEGMENT,
	[PROTO_ERR_PERMISSION_DENIED] = SHMD_ERR_PERMISSION_DENIED,
	[PROTO_ERR_QUOTA_EXCEEDED] = SHMD_ERR_QUOTA_EXCEEDED,
	[PROTO_ERR_WRONG_NAMESPACE] = SHMD_ERR_WRONG_NAMESPACE,
	[PROTO_ERR_KEY_IN_USE] = SHMD_ERR_KEY_IN_USE,
	[PROTO_ERR_SYSTEM_LIMIT] = SHMD_ERR_SYSTEM_LIMIT,
	[PROTO_ERR_PROTOCOL_ERROR] = SHMD_ERR_PROTOCOL_ERROR,
	[PROTO_ERR_METHOD_NOT_FOUND] = SHMD_ERR_METHOD_NOT_FOUND,
	[PROTO_ERR_INTERFACE_NOT_FOUND] = SHMD_ERR_INTERFACE_NOT_FOUND,
	[PROTO_ERR_INVALID_PARAMETER] = SHMD_ERR_INVALID_PARAMETER,
	[PROTO_ERR_EXPECTED_MORE] = SHMD_ERR_EXPECTED_MORE,
	[PROTO_ERR_STATE_ERROR] = SHMD_ERR_STATE,
};

SHMD_EXPORT const char *
shmd_strerror(int err)
{
	switch ((enum shmd_error)err) {
	case SHMD_OK:
		return "success";
	case SHMD_ERR_SYSTEM:
		return "system error";
	case SHMD_ERR_NOMEM:
		return "out of memory";
	case SHMD_ERR_CONNECT:
		return "cannot connect to shmd";
	case SHMD_ERR_DISCONNECTED:
		return "shmd closed the connection";
	case SHMD_ERR_BAD_REPLY:
		return "unreadable reply from shmd";
	case SHMD_ERR_INVALID_ARGUMENT:
		return "invalid argument";
	case SHMD_ERR_BUSY:
		return "the connection is watching and takes no calls";
	case SHMD_ERR_AGAIN:
		return "no complete event is buffered: poll shmd_fd() and call "
		    "again";
	case SHMD_ERR_NAME_EXISTS:
		return "name already exists";
	case SHMD_ERR_NO_SUCH_SEGMENT:
		return "no such segment";
	case SHMD_ERR_PERMISSION_DENIED:
		return "permission denied";
	case SHMD_ERR_QUOTA_EXCEEDED:
		return "quota exceeded";
	case SHMD_ERR_KEY_IN_USE:
		return "key already in use";
	case SHMD_ERR_SYSTEM_LIMIT:
		return "the kernel refused (system limit)";
	case SHMD_ERR_PROTOCOL_ERROR:
		return "protocol error";
	case SHMD_ERR_METHOD_NOT_FOUND:
		return "method not found";
	case SHMD_ERR_INTERFACE_NOT_FOUND:
		return "interface not found";
	case SHMD_ERR_INVALID_PARAMETER:
		return "invalid parameter";
	case SHMD_ERR_EXPECTED_MORE:
		return "the call needs 'more'";
	case SHMD_ERR_UNKNOWN_ERROR:
		return "unknown error from shmd";
	case SHMD_ERR_STATE:
		return "shmd cannot record changes in its state directory "
		    "(full or failing); nothing changed";
	case SHMD_ERR_WRONG_NAMESPACE:
		return "this process is in another IPC namespace than shmd, where "
		    "its shmids mean nothing: run it in shmd's (--ipc=host, "
		    "--ipc=container: the holder of shmd's, or in shmd's pod)";
	}
	return "unknown error code";
}

SHMD_EXPORT const char *
shmd_lifetime_name(enum shmd_lifetime l)
{
	return proto_lifetime_name((enum proto_lifetime)l);
}

SHMD_EXPORT const char *
shmd_event_name(enum shmd_event e)
{
	return proto_event_name((enum proto_event)e);
}

SHMD_EXPORT const char *
shmd_socket_path(const char *path)
{
	const char	*env;

	if (path != NULL && *path != '\0')
		return path;
	if ((env = getenv(PROTO_SOCKET_ENV)) != NULL && *env != '\0')
		return env;
	return PROTO_DEFAULT_SOCKET;
}

SHMD_EXPORT const char *
shmd_last_error(const struct shmd_conn *c)
{
	return c != NULL ? c->last_error : "";
}

SHMD_EXPORT void
shmd_free(void *p)
{
	free(p);
}

SHMD_EXPORT int
shmd_fd(const struct shmd_conn *c)
{
	return c != NULL ? c->fd : -1;
}

static int
shmd_fail(struct shmd_conn *c, int err, const char *detail)
{
	if (c != NULL)
		snprintf(c->last_error, sizeof c->last_error, "%s%s%s",
		    shmd_strerror(err), detail ? ": " : "",
		    detail ? detail : "");
	return err;
}

SHMD_EXPORT int
shmd_connect(const char *path, struct shmd_conn **out)
{
	struct sockaddr_un	 sun;
	struct shmd_conn	*c;
	struct stat		 sb;

	if (out == NULL)
		return SHMD_ERR_INVALID_ARGUMENT;
	*out = NULL;
	path = shmd_socket_path(path);
	if (strlen(path) >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		return SHMD_ERR_CONNECT;
	}
	if ((c = calloc(1, sizeof *c)) == NULL)
		return SHMD_ERR_NOMEM;
	frame_buf_init(&c->in);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd == -1) {
		free(c);
		return SHMD_ERR_SYSTEM;
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	while (connect(c->fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		if (errno == EINTR)
			continue;
		int saved = errno;

		close(c->fd);
		free(c);
		errno = saved;
		return SHMD_ERR_CONNECT;
	}
	/* Our IPC namespace: shmd refuses shmids that would mean nothing. */
	if (stat("/proc/self/ns/ipc", &sb) == 0)
		c->ipc_namespace = (uint64_t)sb.st_ino;
	*out = c;
	return SHMD_OK;
}

SHMD_EXPORT void
shmd_disconnect(struct shmd_conn *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	frame_buf_finish(&c->in);
	free(c);
}

static int
shmd_write_all(struct shmd_conn *c, const char *p, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			c->dead = 1;
			return errno == EPIPE || errno == ECONNRESET ?
			    shmd_fail(c, SHMD_ERR_DISCONNECTED, NULL) :
			    shmd_fail(c, SHMD_ERR_SYSTEM, strerror(errno));
		}
		p += n;
		len -= (size_t)n;
	}
	return SHMD_OK;
}

/*
 * The next message from the daemon, as it came (NUL-terminated, len
 * bytes, in c->in until the next read): when none is buffered, read
 * (blocking, or not when dontwait) until one is. SHMD_ERR_AGAIN when
 * dontwait and the socket has no more bytes: then everything received
 * has been handed out but an incomplete message, so a poll(2) that
 * reports the descriptor readable means more.
 */
static int
shmd_next_text(struct shmd_conn *c, int dontwait, char **msg, size_t *len)
{
	char	*space;
	ssize_t	 n;

	while ((*msg = frame_buf_next(&c->in, len)) == NULL) {
		if ((space = frame_buf_space(&c->in, 65536)) == NULL)
			return shmd_fail(c, SHMD_ERR_NOMEM, NULL);
		n = recv(c->fd, space, 65536, dontwait ? MSG_DONTWAIT : 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && dontwait &&
		    (errno == EAGAIN || errno == EWOULDBLOCK))
			return shmd_fail(c, SHMD_ERR_AGAIN, NULL);
		if (n <= 0) {
			c->dead = 1;
			return n == 0 ? shmd_fail(c, SHMD_ERR_DISCONNECTED, NULL) :
			    shmd_fail(c, SHMD_ERR_SYSTEM, strerror(errno));
		}
		c->in.len += (size_t)n;
	}
	return SHMD_OK;
}

/* A message's text as JSON. */
static int
shmd_decode(struct shmd_conn *c, const char *msg, size_t len,
    struct json_object **out)
{
	char	reason[256];

	if (frame_decode(msg, len, out, reason, sizeof reason) == -1) {
		c->dead = 1;
		return shmd_fail(c, SHMD_ERR_BAD_REPLY, reason);
	}
	return SHMD_OK;
}

/* The next message from the daemon, decoded (see shmd_next_text()). */
static int
shmd_next_message(struct shmd_conn *c, int dontwait, struct json_object **out)
{
	char	*msg;
	size_t	 len;
	int	 rc;

	*out = NULL;
	if ((rc = shmd_next_text(c, dontwait, &msg, &len)) != SHMD_OK)
		return rc;
	return shmd_decode(c, msg, len, out);
}

/* Describe a daemon error from its parameters. */
static int
shmd_daemon_error(struct shmd_conn *c, const char *name,
    struct json_object *params)
{
	enum proto_error	 pe = proto_error_from_name(name);
	int			 err;
	const char		*s = NULL, *s2 = NULL;
	int64_t			 i = 0, j = 0;
	char			 detail[400];

	err = pe < PROTO_ERR_COUNT ? (int)shmd_proto_errors[pe] :
	    SHMD_ERR_UNKNOWN_ERROR;
	detail[0] = '\0';
	if (params == NULL)
		;
	else if (json_get_string(params, "name", &s) == 0)
		snprintf(detail, sizeof detail, "'%s'", s);
	/* SystemLimit's message names the setting to raise (and limit) */
	else if (json_get_string(params, "errno", &s) == 0) {
		if (json_get_string(params, "message", &s2) == 0)
			snprintf(detail, sizeof detail, "%s: %s", s, s2);
		else
			snprintf(detail, sizeof detail, "%s", s);
	}
	else if (json_get_string(params, "limit", &s) == 0) {
		if (json_get_int(params, "max", &i) == 0)
			snprintf(detail, sizeof detail, "%s (max %lld)", s,
			    (long long)i);
		else
			snprintf(detail, sizeof detail, "%s", s);
	} else if (json_get_int(params, "client", &i) == 0) {
		if (json_get_int(params, "daemon", &j) == 0)
			snprintf(detail, sizeof detail, "the caller's IPC "
			    "namespace is %lld, shmd's %lld", (long long)i,
			    (long long)j);
	} else if (json_get_int(params, "key", &i) == 0)
		snprintf(detail, sizeof detail, "key 0x%08x", (unsigned)i);
	else if (json_get_string(params, "parameter", &s) == 0) {
		if (json_get_string(params, "reason", &s2) == 0)
			snprintf(detail, sizeof detail, "'%s': %s", s, s2);
		else
			snprintf(detail, sizeof detail, "'%s'", s);
	}
	else if (json_get_string(params, "reason", &s) == 0)
		snprintf(detail, sizeof detail, "%s", s);
	else if (json_get_string(params, "method", &s) == 0)
		snprintf(detail, sizeof detail, "%s", s);
	else if (json_get_string(params, "interface", &s) == 0)
		snprintf(detail, sizeof detail, "%s", s);
	if (err == SHMD_ERR_UNKNOWN_ERROR)
		snprintf(detail, sizeof detail, "%s", name);
	return shmd_fail(c, err, detail[0] ? detail : NULL);
}

/*
 * A reply, from its message (whose reference it takes). On success
 * *params is the reply's parameters (a new reference, an empty object
 * when absent) and *continues its flag.
 */
static int
shmd_reply(struct shmd_conn *c, struct json_object *msg,
    struct json_object **params, int *continues)
{
	struct json_object	*p = NULL, *v;
	const char		*error;
	int			 rc;

	*params = NULL;
	if (continues != NULL)
		*continues = json_object_object_get_ex(msg, "continues", &v) &&
		    json_object_get_boolean(v);
	if (json_object_object_get_ex(msg, "parameters", &p) && p != NULL &&
	    !json_object_is_type(p, json_type_object)) {
		json_object_put(msg);
		c->dead = 1;
		return shmd_fail(c, SHMD_ERR_BAD_REPLY, "parameters");
	}
	if (json_get_string(msg, "error", &error) == 0) {
		rc = shmd_daemon_error(c, error, p);
		if (rc == SHMD_ERR_PROTOCOL_ERROR)
			c->dead = 1;
	} else
		rc = SHMD_OK;
	*params = p != NULL ? json_object_get(p) : json_object_new_object();
	json_object_put(msg);
	if (*params == NULL)
		return shmd_fail(c, SHMD_ERR_NOMEM, NULL);
	return rc;
}

/* Read one reply: shmd_reply() of the next message. */
static int
shmd_read_reply(struct shmd_conn *c, int dontwait, struct json_object **params,
    int *continues)
{
	struct json_object	*msg;
	int			 rc;

	*params = NULL;
	if ((rc = shmd_next_message(c, dontwait, &msg)) != SHMD_OK)
		return rc;
	return shmd_reply(c, msg, params, continues);
}

/*
 * The daemon closed before our call was sent: a connection over a limit
 * is answered and closed at once, and a client slow to send (under load)
 * finds it closed. What it said, unread, is what went wrong.
 */
static int
shmd_said_before_closing(struct shmd_conn *c, struct json_object **reply)
{
	int	rc;

	rc = shmd_read_reply(c, 1, reply, NULL);
	if (*reply != NULL && rc != SHMD_OK)
		return rc;
	json_object_put(*reply);
	*reply = NULL;
	return shmd_fail(c, SHMD_ERR_DISCONNECTED, NULL);
}

/* Send a call (taking the reference to params). */
static int
shmd_send(struct shmd_conn *c, const char *method, struct json_object *params,
    int more)
{
	struct json_object	*msg;
	const char		*s;
	size_t			 len;
	int			 rc;

	if (c == NULL) {
		json_object_put(params);
		return SHMD_ERR_INVALID_ARGUMENT;
	}
	c->last_error[0] = '\0';
	if (c->watching || c->dead) {
		json_object_put(params);
		return shmd_fail(c, c->watching ? SHMD_ERR_BUSY :
		    SHMD_ERR_DISCONNECTED, NULL);
	}
	if ((msg = json_object_new_object()) == NULL ||
	    json_add_string(msg, "method", method) == -1 ||
	    (params != NULL && json_add(msg, "parameters", params) == -1) ||
	    (more && json_add_bool(msg, "more", 1) == -1)) {
		json_object_put(msg);
		return shmd_fail(c, SHMD_ERR_NOMEM, NULL);
	}
	if ((s = frame_encode(msg, &len)) == NULL) {
		json_object_put(msg);
		return shmd_fail(c, SHMD_ERR_NOMEM, NULL);
	}
	rc = shmd_write_all(c, s, len);
	json_object_put(msg);
	return rc;
}

/*
 * Send a call (taking the reference to params) and read its reply: the
 * reply's parameters, for the caller to put, also on a daemon error.
 */
static int
shmd_invoke(struct shmd_conn *c, const char *method, struct json_object *params,
    int more, struct json_object **reply)
{
	int	rc;

	*reply = NULL;
	rc = shmd_send(c, method, params, more);
	if (rc == SHMD_ERR_DISCONNECTED)
		return shmd_said_before_closing(c, reply);
	if (rc != SHMD_OK)
		return rc;
	/* *reply is set also when the daemon answers an error. */
	return shmd_read_reply(c, 0, reply, NULL);
}

/* Whether a struct_size is one a header can have set (min: the struct's). */
static int
shmd_size_ok(size_t n, size_t min)
{
	return n >= min && n <= SHMD_STRUCT_SIZE_MAX;
}

/* Whether the caller's struct at p has such a struct_size. */
static int
shmd_sized_ok(const void *p, size_t min)
{
	size_t	n;

	memcpy(&n, p, sizeof n);
	return shmd_size_ok(n, min);
}

/*
 * Copy a struct this library filled (ours bytes) into the caller's, as
 * much of it as the caller's struct_size holds; members the caller has and
 * this library does not know read 0. struct_size stays the caller's.
 */
static void
shmd_sized_put(void *dst, const void *src, size_t ours)
{
	size_t	n;

	memcpy(&n, dst, sizeof n);
	memcpy((char *)dst + sizeof n, (const char *)src + sizeof n,
	    (n < ours ? n : ours) - sizeof n);
	if (n > ours)
		memset((char *)dst + ours, 0, n - ours);
}

/*
 * The caller's options as this library's struct: what its struct_size
 * holds, defaults for the rest. A member set beyond what this library
 * knows is an option it cannot honour: -1.
 */
static int
shmd_options_get(const struct shmd_create_options *o,
    struct shmd_create_options *out)
{
	const char	*p = (const char *)o;
	size_t		 n = o->struct_size, i;

	shmd_create_options_init(out);
	if (!shmd_size_ok(n, SHMD_CREATE_OPTIONS_MIN_SIZE))
		return -1;
	for (i = sizeof *out; i < n; i++)
		if (p[i] != 0)
			return -1;
	memcpy((char *)out + sizeof n, p + sizeof n,
	    (n < sizeof *out ? n : sizeof *out) - sizeof n);
	return 0;
}

/* Fill the caller's segment (its struct_size checked) from its JSON object. */
static int
shmd_segment_from_json(struct shmd_conn *c, struct json_object *o,
    struct shmd_segment *out)
{
	struct shmd_segment	 full, *seg = &full;
	enum proto_lifetime	 lt;
	const char		*name, *lifetime;
	int64_t			 shmid, key, size, mode, uid, gid, nattch;
	int64_t			 cuid, cpid, created, v;
	struct json_object	*b;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    json_get_string(o, "name", &name) == -1 ||
	    proto_name_valid(name) == -1 ||
	    json_get_int(o, "shmid", &shmid) == -1 ||
	    json_get_int(o, "key", &key) == -1 ||
	    json_get_int(o, "size", &size) == -1 ||
	    json_get_int(o, "mode", &mode) == -1 ||
	    json_get_int(o, "uid", &uid) == -1 ||
	    json_get_int(o, "gid", &gid) == -1 ||
	    json_get_string(o, "lifetime", &lifetime) == -1 ||
	    proto_lifetime_parse(lifetime, &lt) == -1 ||
	    json_get_int(o, "nattch", &nattch) == -1 ||
	    json_get_int(o, "creator_uid", &cuid) == -1 ||
	    json_get_int(o, "creator_pid", &cpid) == -1 ||
	    json_get_int(o, "created_usec", &created) == -1)
		return shmd_fail(c, SHMD_ERR_BAD_REPLY, "segment");
	shmd_segment_init(seg);
	memcpy(seg->name, name, strlen(name) + 1);
	seg->shmid = (int)shmid;
	seg->key = (int32_t)key;
	seg->size = (uint64_t)size;
	seg->mode = (unsigned)mode;
	seg->uid = (uid_t)uid;
	seg->gid = (gid_t)gid;
	seg->lifetime = (enum shmd_lifetime)lt;
	seg->nattch = (uint64_t)nattch;
	seg->creator_uid = (uid_t)cuid;
	seg->creator_pid = (pid_t)cpid;
	seg->created_usec = created;
	/* the memory policy (shmd 0.4); absent from older daemons */
	if (json_get_int(o, "page_size", &v) == 0 && v > 0)
		seg->page_size = (uint64_t)v;
	seg->locked = json_object_object_get_ex(o, "locked", &b) &&
	    json_object_get_boolean(b);
	seg->numa_node = json_get_int(o, "numa_node", &v) == 0 && v >= 0 &&
	    v <= INT32_MAX ? (int)v : -1;
	seg->declared = json_object_object_get_ex(o, "declared", &b) &&
	    json_object_get_boolean(b);
	shmd_sized_put(out, seg, sizeof *seg);
	return SHMD_OK;
}

/* A call whose reply is {"segment": ...}. */
static int
shmd_segment_call(struct shmd_conn *c, const char *method,
    struct json_object *params, struct shmd_segment *out)
{
	struct json_object	*reply, *o, *created;
	struct shmd_segment	 tmp;
	int			 rc;

	if (out == NULL) {
		shmd_segment_init(&tmp);
		out = &tmp;
	} else if (!shmd_sized_ok(out, SHMD_SEGMENT_MIN_SIZE)) {
		json_object_put(params);
		return shmd_fail(c, SHMD_ERR_INVALID_ARGUMENT,
		    "struct shmd_segment's struct_size");
	}
	if ((rc = shmd_invoke(c, method, params, 0, &reply)) != SHMD_OK) {
		json_object_put(reply);
		return rc;
	}
	json_object_object_get_ex(reply, "segment", &o);
	rc = shmd_segment_from_json(c, o, out);
	/* Create's "created"; a daemon before 0.2 always created */
	if (rc == SHMD_OK && strcmp(method, PROTO_METHOD_CREATE) == 0)
		c->created = !json_object_object_get_ex(reply, "created",
		    &created) || json_object_get_boolean(created);
	json_object_put(reply);
	return rc;
}

static struct json_object *
shmd_name_params(const char *name)
{
	struct json_object	*p = json_object_new_object();

	if (p != NULL && json_add_string(p, "name", name) == -1) {
		json_object_put(p);
		return NULL;
	}
	return p;
}

/* shmd-protocol(7)'s "Namespaces": the caller's, when it is known. */
static int
shmd_add_namespace(struct shmd_conn *c, struct json_object *p)
{
	if (c->ipc_namespace == 0)
		return 0;
	return json_add_int(p, "ipc_namespace", (int64_t)c->ipc_namespace);
}

/*
 * Whether this process is in group gid, for proto_name_allowed(): with
 * more groups than fit, yes, and the daemon decides.
 */
static int
shmd_in_group(void *unused, uint32_t gid)
{
	gid_t	groups[256];
	int	n, i;

	(void)unused;
	if (getegid() == (gid_t)gid || (n = getgroups(256, groups)) == -1)
		return 1;
	for (i = 0; i < n; i++)
		if (groups[i] == (gid_t)gid)
			return 1;
	return 0;
}

/* The options' memory policy as Create's parameters. -1: no memory. */
static int
shmd_add_policy(struct json_object *p, const struct shmd_create_options *o)
{
	if (((o->flags & SHMD_CREATE_HUGE_PAGES) &&
	    json_add_bool(p, "huge_pages", 1) == -1) ||
	    ((o->flags & SHMD_CREATE_PAGE_SIZE) &&
	    json_add_int(p, "page_size", o->page_size > INT64_MAX ?
	    INT64_MAX : (int64_t)o->page_size) == -1) ||
	    ((o->flags & SHMD_CREATE_LOCKED) &&
	    json_add_bool(p, "locked", 1) == -1) ||
	    ((o->flags & SHMD_CREATE_NUMA_NODE) &&
	    json_add_int(p, "numa_node", o->numa_node) == -1))
		return -1;
	return 0;
}

SHMD_EXPORT int
shmd_create_0_3(struct shmd_conn *c, const char *name, uint64_t size,
    const struct shmd_create_options *given, struct shmd_segment *out)
{
	struct shmd_create_options	 opts, *o = NULL;
	struct json_object		*p;

	if (c == NULL || name == NULL || size > INT64_MAX)
		return shmd_fail(c, SHMD_ERR_INVALID_ARGUMENT, NULL);
	if (given != NULL) {
		o = &opts;
		if (shmd_options_get(given, o) == -1)
			return shmd_fail(c, SHMD_ERR_INVALID_ARGUMENT,
			    "struct shmd_create_options: struct_size, or an "
			    "option this libshmd does not know");
	}
	if (o != NULL && (o->lifetime < SHMD_LIFETIME_DETACH ||
	    o->lifetime > SHMD_LIFETIME_PERSISTENT))
		return shmd_fail(c, SHMD_ERR_INVALID_ARGUMENT, "lifetime");
	if (!proto_name_allowed(name, geteuid(), shmd_in_group, NULL))
		return shmd_fail(c, SHMD_ERR_PERMISSION_DENIED,
		    "the name is reserved to another user or group");
	if ((p = shmd_name_params(name)) == NULL ||
	    shmd_add_namespace(c, p) == -1 ||
	    json_add_int(p, "size", (int64_t)size) == -1 ||
	    (o != NULL && o->lifetime != SHMD_LIFETIME_DETACH &&
	    json_add_string(p, "lifetime", shmd_lifetime_name(o->lifetime)) ==
	    -1) ||
	    (o != NULL && (o->flags & SHMD_CREATE_MODE) &&
	    json_add_int(p, "mode", o->mode) == -1) ||
	    (o != NULL && (o->flags & SHMD_CREATE_KEY) &&
	    json_add_int(p, "key", o->key) == -1) ||
	    (o != NULL && (o->flags & SHMD_CREATE_UID) &&
	    json_add_int(p, "uid", o->uid) == -1) ||
	    (o != NULL && (o->flags & SHMD_CREATE_GID) &&
	    json_add_int(p, "gid", o->gid) == -1) ||
	    (o != NULL && (o->flags & SHMD_CREATE_EXIST_OK) &&
	    json_add_bool(p, "exist_ok", 1) == -1) ||
	    (o != NULL && (o->flags & SHMD_CREATE_ATTACH_TIMEOUT) &&
	    json_add_int(p, "attach_timeout", o->attach_timeout) == -1) ||
	    (o != NULL && shmd_add_policy(p, o) == -1)) {
		json_object_put(p);
		return shmd_fail(c, SHMD_ERR_NOMEM, NULL);
	}
	return shmd_segment_call(c, PROTO_METHOD_CREATE, p, out);
}

SHMD_SYMVER(shmd_create_0_3, "shmd_create@@LIBSHMD_0.3");

SHMD_EXPORT int
shmd_open_0_3(struct shmd_conn *c, const char *name, struct shmd_segment *out)
{
	struct json_object	*p;

	if (c == NULL || name == NULL)
		return shmd_fail(c, SHMD_ERR_INVALID_ARGUMENT, NULL);
	if ((p = shmd_name_params(name)) == NULL ||
	    shmd_add_namespace(c, p) == -1) {
		json_object_put(p);
		return shmd_fail(c, SHMD_ERR_NOMEM, NULL);
	}
	return shmd_segment_call(c, PROTO_METHOD_OPEN, p, out);
}
SHMD_SYMVER(shmd_open_0_3, "shmd_open@@LIBSHMD_0.3");

SHMD_EXPORT int
shmd_created(const struct shmd_conn *c)
{
	return c != NULL && c->created;
}

SHMD_EXPORT int
shmd_open_wait_0_3(struct shmd_conn *c, const char *name, unsigned int seconds,
    struct shmd_segment *out)
{
	struct json_object	*p;

	if (c == NULL || name == NULL || seconds > 3600)
		return shmd_fail(c, SHMD_ERR_INVALID_ARGUMENT, NULL);
	if ((p = shmd_name_params(name)) == NULL ||
	    shmd_add_namespace(c, p) == -1 ||
	    (seconds > 0 && json_add_int(p, "wait", seconds) == -1)) {
		json_object_put(p);
		return shmd_fail(c, SHMD_ERR_NOMEM, NULL);
	}
	return shmd_segment_call(c, PROTO_METHOD_OPEN, p, out);
}
SHMD_SYMVER(shmd_open_wait_0_3, "shmd_open_wait@@LIBSHMD_0.3");

SHMD_EXPORT int
shmd_destroy(struct shmd_conn *c, const char *name)
{
	struct json_object	*p, *reply;
	int			 rc;

	if (c == NULL || name == NULL)
		return shmd_fail(c, SHMD_ERR_INVALID_ARGUMENT, NULL);
	if ((p = shmd_name_params(name)) == NULL)
		return shmd_fail(c, SHMD_ERR_NOMEM, NULL);
	rc = shmd_invoke(c, PROTO_METHOD_DESTROY, p, 0, &reply);
	json_object_put(reply);
	return rc;
}

/*
 * A call without parameters whose reply holds an array, member (absent:
 * empty when optional), read into a new array of *n elements of size
 * bytes: each one's struct_size set, then filled by fill from its object.
 */
static int
shmd_array_call(struct shmd_conn *c, const char *method, const char *member,
    int optional, size_t size,
    int (*fill)(struct shmd_conn *, struct json_object *, void *),
    void **elems, size_t *n)
{
	struct json_object	*reply, *arr = NULL;
	char			*out;
	size_t			 i, len = 0;
	int			 rc;

	*elems = NULL;
	*n = 0;
	if ((rc = shmd_invoke(c, method, NULL, 0, &reply)) != SHMD_OK) {
		json_object_put(reply);
		return rc;
	}
	if ((!json_object_object_get_ex(reply, member, &arr) && !optional) ||
	    (arr != NULL && !json_object_is_type(arr, json_type_array))) {
		json_object_put(reply);
		return shmd_fail(c, SHMD_ERR_BAD_REPLY, member);
	}
	if (arr != NULL)
		len = json_object_array_length(arr);
	if ((out = calloc(len ? len : 1, size)) == NULL) {
		json_object_put(reply);
		return shmd_fail(c, SHMD_ERR_NOMEM, NULL);
	}
	for (i = 0; i < len; i++) {
		memcpy(out + i * size, &size, sizeof size);
		rc = fill(c, json_object_array_get_idx(arr, i), out + i * size);
		if (rc != SHMD_OK) {
			free(out);
			json_object_put(reply);
			return rc;
		}
	}
	json_object_put(reply);
	*elems = out;
	*n = len;
	return SHMD_OK;
}

static int
shmd_segment_fill(struct shmd_conn *c, struct json_object *o, void *seg)
{
	return shmd_segment_from_json(c, o, seg);
}

SHMD_EXPORT int
shmd_list_sized(struct shmd_conn *c, struct shmd_segment **segs, size_t *n,
    size_t seg_size)
{
	void	*out;
	int	 rc;

	if (segs == NULL || n == NULL ||
	    !shmd_size_ok(seg_size, SHMD_SEGMENT_MIN_SIZE))
		return shmd_fail(c, SHMD_ERR_INVALID_ARGUMENT, NULL);
	rc = shmd_array_call(c, PROTO_METHOD_LIST, "segments", 0, seg_size,
	    shmd_segment_fill, &out, n);
	*segs = out;
	return rc;
}

static uint64_t
shmd_get_u64(struct json_object *o, const char *key)
{
	int64_t	v;

	return json_get_int(o, key, &v) == 0 && v >= 0 ? (uint64_t)v : 0;
}

SHMD_EXPORT int
shmd_status_0_3(struct shmd_conn *c, struct shmd_status *out)
{
	struct json_object	*reply, *limits = NULL;
	struct shmd_status	 full, *st = &full;
	const char		*version;
	int			 rc;

	if (out == NULL || !shmd_sized_ok(out, SHMD_STATUS_MIN_SIZE))
		return shmd_fail(c, SHMD_ERR_INVALID_ARGUMENT, NULL);
	if ((rc = shmd_invoke(c, PROTO_METHOD_STATUS, NULL, 0,
	    &reply)) != SHMD_OK) {
		json_object_put(reply);
		return rc;
	}
	shmd_status_init(st);
	if (json_get_string(reply, "version", &version) == -1 ||
	    !json_object_object_get_ex(reply, "limits", &limits) ||
	    !json_object_is_type(limits, json_type_object)) {
		json_object_put(reply);
		return shmd_fail(c, SHMD_ERR_BAD_REPLY, "status");
	}
	snprintf(st->version, sizeof st->version, "%s", version);
	st->pid = (pid_t)shmd_get_u64(reply, "pid");
	st->uid = (uid_t)shmd_get_u64(reply, "uid");
	st->uptime_usec = shmd_get_u64(reply, "uptime_usec");
	st->clients = shmd_get_u64(reply, "clients");
	st->segments = shmd_get_u64(reply, "segments");
	st->bytes = shmd_get_u64(reply, "bytes");
	st->requests = shmd_get_u64(reply, "requests");
	st->reaped = shmd_get_u64(reply, "reaped");
	st->vanished = shmd_get_u64(reply, "vanished");
	st->declared_drift = shmd_get_u64(reply, "declared_drift");
	st->created = shmd_get_u64(reply, "created");
	st->limits.max_segment_size = shmd_get_u64(limits, "max_segment_size");
	st->limits.max_segments_per_uid = shmd_get_u64(limits,
	    "max_segments_per_uid");
	st->limits.max_bytes_per_uid = shmd_get_u64(limits,
	    "max_bytes_per_uid");
	st->limits.max_clients = shmd_get_u64(limits, "max_clients");
	st->limits.max_message_size = shmd_get_u64(limits, "max_message_size");
	st->limits.attach_timeout = shmd_get_u64(limits, "attach_timeout");
	st->max_clients_per_uid = shmd_get_u64(limits, "max_clients_per_uid");
	st->max_huge_bytes_per_uid = shmd_get_u64(limits,
	    "max_huge_bytes_per_uid");
	st->max_locked_bytes_per_uid = shmd_get_u64(limits,
	    "max_locked_bytes_per_uid");
	json_object_put(reply);
	shmd_sized_put(out, st, sizeof *st);
	return SHMD_OK;
}
SHMD_SYMVER(shmd_status_0_3, "shmd_status@@LIBSHMD_0.3");

static int
shmd_watch_event(struct shmd_conn *c, struct json_object *reply,
    enum shmd_event *event, struct shmd_segment *seg, int *has_segment)
{
	struct json_object	*o;
	const char		*name;
	enum proto_event	 pe;

	*has_segment = 0;
	if (json_get_string(reply, "event", &name) == -1 ||
	    proto_event_parse(name, &pe) == -1)
		return shmd_fail(c, SHMD_ERR_BAD_REPLY, "event");
	*event = (enum shmd_event)pe;
	if (json_object_object_get_ex(reply, "segment", &o) && o != NULL) {
		if (shmd_segment_from_json(c, o, seg) != SHMD_OK)
			return SHMD_ERR_BAD_REPLY;
		*has_segment = 1;
	}
	return SHMD_OK;
}

SHMD_EXPORT int
shmd_watch(struct shmd_conn *c)
{
	struct json_object	*reply;
	const char		*event;
	int			 rc;

	if ((rc = shmd_invoke(c, PROTO_METHOD_WATCH, NULL, 1, &reply)) !=
	    SHMD_OK) {
		json_object_put(reply);
		return rc;
	}
	if (json_get_string(reply, "event", &event) == -1 ||
	    strcmp(event, proto_event_name(PROTO_EVENT_READY)) != 0) {
		json_object_put(reply);
		return shmd_fail(c, SHMD_ERR_BAD_REPLY, "event");
	}
	json_object_put(reply);
	c->watching = 1;
	return SHMD_OK;
}

/* The next event, waiting for it or not (SHMD_ERR_AGAIN). */
static int
shmd_watch_read(struct shmd_conn *c, int dontwait, enum shmd_event *event,
    struct shmd_segment *seg, int *has_segment)
{
	struct json_object	*reply;
	int			 rc;

	if (c == NULL || event == NULL || seg == NULL || has_segment == NULL ||
	    !c->watching || !shmd_sized_ok(seg, SHMD_SEGMENT_MIN_SIZE))
		return shmd_fail(c, SHMD_ERR_INVALID_ARGUMENT, NULL);
	if (c->dead)
		return shmd_fail(c, SHMD_ERR_DISCONNECTED, NULL);
	if ((rc = shmd_read_reply(c, dontwait, &reply, NULL)) == SHMD_OK)
		rc = shmd_watch_event(c, reply, event, seg, has_segment);
	json_object_put(reply);
	return rc;
}

SHMD_EXPORT int
shmd_watch_next_0_3(struct shmd_conn *c, enum shmd_event *event,
    struct shmd_segment *seg, int *has_segment)
{
	return shmd_watch_read(c, 0, event, seg, has_segment);
}
SHMD_SYMVER(shmd_watch_next_0_3, "shmd_watch_next@@LIBSHMD_0.3");

SHMD_EXPORT int
(shmd_watch_poll)(struct shmd_conn *c, enum shmd_event *event,
    struct shmd_segment *seg, int *has_segment)
{
	return shmd_watch_read(c, 1, event, seg, has_segment);
}

SHMD_EXPORT int
shmd_call(struct shmd_conn *c, const char *method, const char *params_json,
    char **reply_json)
{
	struct json_object	*params = NULL, *reply;
	const char		*s;
	char			 reason[256];
	int			 rc;

	if (c == NULL || method == NULL || reply_json == NULL)
		return shmd_fail(c, SHMD_ERR_INVALID_ARGUMENT, NULL);
	*reply_json = NULL;
	if (params_json != NULL && frame_decode(params_json,
	    strlen(params_json), &params, reason, sizeof reason) == -1)
		return shmd_fail(c, SHMD_ERR_INVALID_ARGUMENT, reason);
	rc = shmd_invoke(c, method, params, 0, &reply);
	if (reply != NULL) {
		s = json_object_to_json_string_ext(reply,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		if (s == NULL || (*reply_json = strdup(s)) == NULL)
			rc = shmd_fail(c, SHMD_ERR_NOMEM, NULL);
		json_object_put(reply);
	}
	return rc;
}

/* json-c's flags for SHMD_JSON_* ("/" left as it is, as the daemon writes it). */
static int
shmd_json_flags(int flags)
{
	return JSON_C_TO_STRING_NOSLASHESCAPE |
	    (flags & SHMD_JSON_PRETTY ? JSON_C_TO_STRING_PRETTY : 0) |
	    (flags & SHMD_JSON_SPACED ? JSON_C_TO_STRING_SPACED : 0);
}

/* o's text, laid out as flags say, in *out for shmd_free(). */
static int
shmd_json_text(struct json_object *o, int flags, char **out)
{
	const char	*s;

	if ((s = json_object_to_json_string_ext(o, shmd_json_flags(flags))) ==
	    NULL || (*out = strdup(s)) == NULL)
		return SHMD_ERR_NOMEM;
	return SHMD_OK;
}

SHMD_EXPORT int
shmd_segment_json(const struct shmd_segment *given, int flags, char **json)
{
	struct shmd_segment	 full, *seg = &full;
	struct json_object	*o;
	size_t			 n;
	int			 rc, policy;

	if (given == NULL || json == NULL ||
	    (flags & ~(SHMD_JSON_PRETTY | SHMD_JSON_SPACED)) ||
	    !shmd_sized_ok(given, SHMD_SEGMENT_MIN_SIZE))
		return SHMD_ERR_INVALID_ARGUMENT;
	*json = NULL;
	/* only what the caller's struct_size holds */
	memcpy(&n, given, sizeof n);
	memset(&full, 0, sizeof full);
	memcpy(&full, given, n < sizeof full ? n : sizeof full);
	policy = n >= offsetof(struct shmd_segment, declared) + sizeof(int) &&
	    seg->page_size > 0;
	/* the members in the order of shmd-protocol(7)'s Segment */
	if ((o = json_object_new_object()) == NULL ||
	    json_add_string(o, "name", seg->name) == -1 ||
	    json_add_int(o, "shmid", seg->shmid) == -1 ||
	    json_add_int(o, "key", seg->key) == -1 ||
	    json_add_int(o, "size", (int64_t)seg->size) == -1 ||
	    json_add_int(o, "mode", seg->mode) == -1 ||
	    json_add_int(o, "uid", seg->uid) == -1 ||
	    json_add_int(o, "gid", seg->gid) == -1 ||
	    json_add_string(o, "lifetime",
	    shmd_lifetime_name(seg->lifetime)) == -1 ||
	    json_add_int(o, "nattch", (int64_t)seg->nattch) == -1 ||
	    json_add_int(o, "creator_uid", seg->creator_uid) == -1 ||
	    json_add_int(o, "creator_pid", seg->creator_pid) == -1 ||
	    json_add_int(o, "created_usec", seg->created_usec) == -1 ||
	    /* the memory policy, when the struct and the daemon had it */
	    (policy && (json_add_int(o, "page_size",
	    (int64_t)seg->page_size) == -1 ||
	    json_add_bool(o, "locked", seg->locked) == -1 ||
	    (seg->numa_node >= 0 && json_add_int(o, "numa_node",
	    seg->numa_node) == -1) ||
	    json_add_bool(o, "declared", seg->declared) == -1)))
		rc = SHMD_ERR_NOMEM;
	else
		rc = shmd_json_text(o, flags, json);
	json_object_put(o);
	return rc;
}

SHMD_EXPORT int
shmd_json_format(const char *json, const char *member, int flags, char **out)
{
	struct json_object	*o, *m;
	char			 reason[256];
	int			 rc;

	if (json == NULL || out == NULL ||
	    (flags & ~(SHMD_JSON_PRETTY | SHMD_JSON_SPACED)))
		return SHMD_ERR_INVALID_ARGUMENT;
	*out = NULL;
	if (frame_decode_value(json, strlen(json), &o, reason,
	    sizeof reason) == -1)
		return SHMD_ERR_INVALID_ARGUMENT;
	m = o;
	if (member != NULL && (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, member, &m)))
		rc = SHMD_ERR_INVALID_ARGUMENT;
	else
		rc = shmd_json_text(m, flags, out);
	json_object_put(o);
	return rc;
}

/* One element of Status's usage, into the caller's struct (struct_size set). */
static int
shmd_usage_fill(struct shmd_conn *c, struct json_object *o, void *dst)
{
	struct shmd_usage	one;
	int64_t			uid, segs, bytes;

	if (json_get_int(o, "uid", &uid) == -1 ||
	    json_get_int(o, "segments", &segs) == -1 ||
	    json_get_int(o, "bytes", &bytes) == -1)
		return shmd_fail(c, SHMD_ERR_BAD_REPLY, "usage");
	memset(&one, 0, sizeof one);
	one.uid = (uid_t)uid;
	one.segments = (uint64_t)segs;
	one.bytes = (uint64_t)bytes;
	shmd_sized_put(dst, &one, sizeof one);
	return SHMD_OK;
}

SHMD_EXPORT int
shmd_usage_sized(struct shmd_conn *c, struct shmd_usage **usage, size_t *n,
    size_t usage_size)
{
	void	*out;
	int	 rc;

	if (usage == NULL || n == NULL ||
	    !shmd_size_ok(usage_size, SHMD_USAGE_MIN_SIZE))
		return shmd_fail(c, SHMD_ERR_INVALID_ARGUMENT, NULL);
	/* only a root caller's Status has it */
	rc = shmd_array_call(c, PROTO_METHOD_STATUS, "usage", 1, usage_size,
	    shmd_usage_fill, &out, n);
	*usage = out;
	return rc;
}

/*
 * The segments array as the daemon wrote it: with tens of thousands of
 * segments, parsing List's reply and writing it again would cost more
 * than the daemon's answer and lsipc's whole run (BENCHMARKS.md). The
 * daemon writes a success one way, and its tests parse it; any other
 * reply (an error, another layout) is read as JSON.
 */
SHMD_EXPORT int
shmd_list_json(struct shmd_conn *c, char **json)
{
	static const char	 head[] = "{\"parameters\":{\"segments\":[";
	struct json_object	*msg, *reply, *arr;
	char			*text;
	size_t			 len, alen;
	int			 rc;

	if (c == NULL || json == NULL)
		return shmd_fail(c, SHMD_ERR_INVALID_ARGUMENT, NULL);
	*json = NULL;
	if ((rc = shmd_send(c, PROTO_METHOD_LIST, NULL, 0)) != SHMD_OK ||
	    (rc = shmd_next_text(c, 0, &text, &len)) != SHMD_OK)
		return rc;
	if (len >= sizeof head + 2 && memcmp(text, head, sizeof head - 1) ==
	    0 && memcmp(text + len - 3, "]}}", 3) == 0 &&
	    frame_utf8_valid(text, len)) {
		/* the array: from its '[' to its ']' */
		alen = len - (sizeof head - 2) - 2;
		if ((*json = malloc(alen + 1)) == NULL)
			return shmd_fail(c, SHMD_ERR_NOMEM, NULL);
		memcpy(*json, text + sizeof head - 2, alen);
		(*json)[alen] = '\0';
		return SHMD_OK;
	}
	if ((rc = shmd_decode(c, text, len, &msg)) != SHMD_OK)
		return rc;
	if ((rc = shmd_reply(c, msg, &reply, NULL)) == SHMD_OK) {
		if (!json_object_object_get_ex(reply, "segments", &arr) ||
		    !json_object_is_type(arr, json_type_array))
			rc = shmd_fail(c, SHMD_ERR_BAD_REPLY, "segments");
		else if (shmd_json_text(arr, 0, json) != SHMD_OK)
			rc = shmd_fail(c, SHMD_ERR_NOMEM, NULL);
	}
	json_object_put(reply);
	return rc;
}
