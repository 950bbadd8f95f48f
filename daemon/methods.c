/* One handler per method of io.shmd and org.varlink.service, and their table. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "conn.h"
#include "dispatch.h"
#include "interface.h"
#include "jsonutil.h"
#include "kshm.h"
#include "lifecycle.h"
#include "log.h"
#include "realtime.h"
#include "server.h"
#include "textbuf.h"
#include "user.h"

static void
method_quota(struct call *call, const char *limit, uint64_t max)
{
	struct json_object	*p = json_object_new_object();

	if (p == NULL || json_add_string(p, "limit", limit) == -1 ||
	    json_add_int(p, "max", (int64_t)max) == -1) {
		json_object_put(p);
		call_nomem(call);
		return;
	}
	call_error(call, PROTO_ERR_QUOTA_EXCEEDED, p);
}

/* SystemLimit: the kernel refused, or would (lim says which limit). */
static void
method_kernel_limit(struct call *call, const struct kshm_limit *lim)
{
	struct json_object	*p = json_object_new_object();

	if (p == NULL ||
	    json_add_string(p, "errno", kshm_errno_name(lim->err)) == -1 ||
	    json_add_string(p, "message", lim->message) == -1 ||
	    (lim->name != NULL &&
	    json_add_string(p, "limit", lim->name) == -1) ||
	    (lim->has_max && json_add_int(p, "max", lim->max > INT64_MAX ?
	    INT64_MAX : (int64_t)lim->max) == -1)) {
		json_object_put(p);
		call_nomem(call);
		return;
	}
	call_error(call, PROTO_ERR_SYSTEM_LIMIT, p);
}

/*
 * io.shmd.StateError: the change could not be recorded (errno err), so
 * it was not made (lifecycle.h).
 */
static void
method_state_error(struct call *call, int err)
{
	struct json_object	*p = json_object_new_object();
	char			 path[512], msg[768];

	lifecycle_state_path(&call->srv->life, path, sizeof path);
	snprintf(msg, sizeof msg, "shmd cannot record the change in %s (%s), "
	    "so it made none; it is served again as soon as the state "
	    "directory takes records", path, strerror(err));
	if (p == NULL ||
	    json_add_string(p, "errno", kshm_errno_name(err)) == -1 ||
	    json_add_string(p, "path", path) == -1 ||
	    json_add_string(p, "message", msg) == -1) {
		json_object_put(p);
		call_nomem(call);
		return;
	}
	call_error(call, PROTO_ERR_STATE_ERROR, p);
}

/* Reply {"segment": ...}, and Create's "created" (1 or 0; -1: none). */
static void
method_reply_segment(struct call *call, const struct segment *seg,
    const struct kshm_stat *st, int created)
{
	char		text[SEGMENT_TEXT_MAX + 48];
	struct textbuf	tb;

	textbuf_init(&tb, text, sizeof text);
	call_reply_start(&tb);
	textbuf_lit(&tb, "{\"segment\":");
	segment_text(&tb, seg, st);
	if (created == 1)
		textbuf_lit(&tb, ",\"created\":true");
	else if (created == 0)
		textbuf_lit(&tb, ",\"created\":false");
	textbuf_lit(&tb, "}");
	call_reply_finish(call, &tb);
}

/*
 * The named segment and its kernel state, or NULL once NoSuchSegment has
 * been answered (a segment gone behind our back is dropped on the way).
 */
static struct segment *
method_lookup(struct call *call, const char *name, struct kshm_stat *st)
{
	struct segment	*seg;

	if ((seg = lifecycle_find(&call->srv->life, name, st)) == NULL)
		call_error_str(call, PROTO_ERR_NO_SUCH_SEGMENT, "name", name);
	return seg;
}

enum { C_NAME, C_SIZE, C_MODE, C_LIFETIME, C_KEY, C_UID, C_GID, C_TIMEOUT,
    C_NS, C_EXIST_OK };
static const struct param_spec create_params[] = {
	[C_NAME] = { "name", PARAM_STRING, 1 },
	[C_SIZE] = { "size", PARAM_INT, 1 },
	[C_MODE] = { "mode", PARAM_INT, 0 },
	[C_LIFETIME] = { "lifetime", PARAM_STRING, 0 },
	[C_KEY] = { "key", PARAM_INT, 0 },
	[C_UID] = { "uid", PARAM_INT, 0 },
	[C_GID] = { "gid", PARAM_INT, 0 },
	[C_TIMEOUT] = { "attach_timeout", PARAM_INT, 0 },
	[C_NS] = { "ipc_namespace", PARAM_INT, 0 },
	[C_EXIST_OK] = { "exist_ok", PARAM_BOOL, 0 },
};
#define NCREATE ((int)(sizeof create_params / sizeof create_params[0]))

/*
 * Whether the caller is in shmd's IPC namespace, where its shmids mean
 * something: what shmd reads of the caller's (as root) wins over
 * what the caller sent (ipc_namespace); a caller of whom neither is
 * known is served. A caller that sent shmd's own is taken at its word:
 * the check is for its sake, and the read is a first contact's dearest
 * step. -1 once WrongNamespace (or InvalidParameter) is answered.
 */
static int
method_namespace(struct call *call, const struct param_value *sent)
{
	struct json_object	*p;
	uint64_t		 client = 0, read, daemon = call->srv->ipc_namespace;

	if (sent->present) {
		if (sent->i < 0) {
			call_invalid(call, "ipc_namespace");
			return -1;
		}
		client = (uint64_t)sent->i;
		if (client == daemon)
			return 0;
	}
	if (peer_ipc_namespace(&call->conn->peer, call->conn->fd, &read) == 0)
		client = read;
	if (client == 0 || daemon == 0 || client == daemon)
		return 0;
	if ((p = json_object_new_object()) == NULL ||
	    json_add_int(p, "client", (int64_t)client) == -1 ||
	    json_add_int(p, "daemon", (int64_t)daemon) == -1) {
		json_object_put(p);
		call_nomem(call);
		return -1;
	}
	call_error(call, PROTO_ERR_WRONG_NAMESPACE, p);
	return -1;
}

/* Answer a Create that lifecycle_create() refused with errno err. */
static void
method_create_failed(struct call *call, const struct lifecycle_request *req,
    int err)
{
	struct json_object	*p;
	struct kshm_limit	 lim;

	if (req->any_key && err == EAGAIN)
		return method_quota(call, "keys", call->srv->conf.key_count);
	if (!req->any_key && err == EEXIST) {
		if ((p = json_object_new_object()) != NULL &&
		    json_add_int(p, "key", req->key) == -1) {
			json_object_put(p);
			p = NULL;
		}
		return call_error(call, PROTO_ERR_KEY_IN_USE, p);
	}
	kshm_limit_of(err, req->size, &lim);
	user_log(call->conn->user, LOG_LEVEL_WARNING, "create %s for uid %lu: "
	    "%s: %s", req->name, (unsigned long)call->conn->peer.uid,
	    kshm_errno_name(err), strerror(err));
	method_kernel_limit(call, &lim);
}

/* The per-uid quotas, for a segment of size bytes for uid. -1: answered. */
static int
method_charge(struct call *call, uid_t uid, uint64_t size)
{
	const struct conf	*conf = &call->srv->conf;
	size_t			 held;
	uint64_t		 held_bytes;

	if (uid == 0)
		return 0;
	registry_usage(&call->srv->life.registry, uid, &held, &held_bytes);
	if (conf->max_segments_per_uid != 0 &&
	    held >= conf->max_segments_per_uid) {
		method_quota(call, "segments", conf->max_segments_per_uid);
		return -1;
	}
	if (conf->max_bytes_per_uid != 0 &&
	    held_bytes + size > conf->max_bytes_per_uid) {
		method_quota(call, "bytes", conf->max_bytes_per_uid);
		return -1;
	}
	return 0;
}

static void
method_create(struct call *call)
{
	struct server			*srv = call->srv;
	const struct peer		*peer = &call->conn->peer;
	struct param_value		 v[NCREATE];
	struct lifecycle_request	 req;
	struct segment			*seg;
	struct kshm_stat		 st;
	int				 rc;

	if (call_params(call, create_params, NCREATE, v) == -1)
		return;
	memset(&req, 0, sizeof req);
	req.name = v[C_NAME].s;
	req.lifetime = PROTO_LIFETIME_DETACH;
	req.mode = 0600;
	req.attach_timeout = srv->conf.attach_timeout;
	req.any_key = 1;
	req.policy.numa_node = -1;
	if (proto_name_valid(v[C_NAME].s) == -1)
		return call_invalid(call, "name");
	if (v[C_SIZE].i < 1)
		return call_invalid(call, "size");
	req.size = (uint64_t)v[C_SIZE].i;
	if (v[C_MODE].present) {
		if (v[C_MODE].i < 0 || v[C_MODE].i > 0777)
			return call_invalid(call, "mode");
		req.mode = (unsigned)v[C_MODE].i;
	}
	if (v[C_LIFETIME].present &&
	    proto_lifetime_parse(v[C_LIFETIME].s, &req.lifetime) == -1)
		return call_invalid(call, "lifetime");
	if (v[C_KEY].present) {
		if (v[C_KEY].i < INT32_MIN || v[C_KEY].i > INT32_MAX)
			return call_invalid(call, "key");
		req.any_key = 0;
		req.key = (int32_t)v[C_KEY].i;
	}
	if (v[C_UID].present &&
	    (v[C_UID].i < 0 || v[C_UID].i >= (int64_t)UINT32_MAX))
		return call_invalid(call, "uid");
	if (v[C_GID].present &&
	    (v[C_GID].i < 0 || v[C_GID].i >= (int64_t)UINT32_MAX))
		return call_invalid(call, "gid");
	if (v[C_TIMEOUT].present) {
		if (v[C_TIMEOUT].i < 1 || v[C_TIMEOUT].i > INT32_MAX)
			return call_invalid(call, "attach_timeout");
		req.attach_timeout = (uint64_t)v[C_TIMEOUT].i;
	}
	if (method_namespace(call, &v[C_NS]) == -1)
		return;
	req.uid = v[C_UID].present ? (uid_t)v[C_UID].i : peer->uid;
	req.gid = v[C_GID].present ? (gid_t)v[C_GID].i : peer->gid;
	req.creator_uid = peer->uid;
	req.creator_pid = peer->pid;

	/*
	 * A name whose segment the kernel freed is free again. With
	 * exist_ok, a segment of that name and size the caller may open is
	 * the answer, unchanged; anything else is NameExists.
	 */
	if ((seg = lifecycle_find(&srv->life, req.name, &st)) != NULL) {
		if (v[C_EXIST_OK].i && seg->size == req.size &&
		    perm_may_open(peer, seg->creator_uid, &st))
			return method_reply_segment(call, seg, &st, 0);
		return call_error_str(call, PROTO_ERR_NAME_EXISTS, "name",
		    req.name);
	}
	if (!perm_may_own(peer, req.uid, req.gid) ||
	    !perm_may_name(peer, req.name))
		return call_error(call, PROTO_ERR_PERMISSION_DENIED, NULL);
	if (req.size > srv->conf.max_segment_size)
		return method_quota(call, "segment_size",
		    srv->conf.max_segment_size);
	if (method_charge(call, req.uid, req.size) == -1)
		return;
	/*
	 * A "process" segment follows the process that connected, in any
	 * pid namespace, by the pidfd of its connection (SO_PEERPIDFD).
	 * Without pidfds on pidfs one that shmd cannot see has nothing to
	 * follow it by.
	 */
	if (req.lifetime == PROTO_LIFETIME_PROCESS &&
	    peer_pin(&call->conn->peer, call->conn->fd) == -1 &&
	    peer->pid == 0)
		return call_invalid_why(call, "lifetime", "shmd cannot see the "
		    "caller's process (another pid namespace, and this kernel "
		    "gives no pidfd for it), so it cannot follow it: use "
		    "detach or persistent");
	req.creator_start = peer->start;
	req.creator_ino = peer->ino;
	req.creator_pidfd = peer->pidfd;
	req.creator_exited = peer->exited;
	rc = lifecycle_create(&srv->life, &req, &seg, &st);
	/* the pidfd was the lifecycle's; a later Create finds the watch */
	call->conn->peer.pidfd = -1;
	if (rc == LIFECYCLE_STATE_ERROR)
		return method_state_error(call, errno);
	if (rc == -1)
		return method_create_failed(call, &req, errno);
	method_reply_segment(call, seg, &st, 1);
}

static const struct param_spec name_params[] = {
	{ "name", PARAM_STRING, 1 },
};

/*
 * The segment a call names, if the caller may act on it (may: Open's or
 * Destroy's rule); NULL once the error is answered.
 */
static struct segment *
method_named(struct call *call, int (*may)(const struct peer *, uid_t,
    const struct kshm_stat *), struct kshm_stat *st)
{
	struct param_value	 v[1];
	struct segment		*seg;

	if (call_params(call, name_params, 1, v) == -1)
		return NULL;
	if ((seg = method_lookup(call, v[0].s, st)) == NULL)
		return NULL;
	if (!may(&call->conn->peer, seg->creator_uid, st)) {
		call_error(call, PROTO_ERR_PERMISSION_DENIED, NULL);
		return NULL;
	}
	return seg;
}

enum { O_NAME, O_NS, O_WAIT };
static const struct param_spec open_params[] = {
	[O_NAME] = { "name", PARAM_STRING, 1 },
	[O_NS] = { "ipc_namespace", PARAM_INT, 0 },
	[O_WAIT] = { "wait", PARAM_INT, 0 },
};
#define NOPEN ((int)(sizeof open_params / sizeof open_params[0]))
#define OPEN_WAIT_MAX	3600	/* seconds */

/* Open's answer, now or once the name exists (seg NULL: none). */
static void
method_open_answer(struct call *call, const char *name,
    const struct segment *seg, const struct kshm_stat *st)
{
	if (seg == NULL)
		call_error_str(call, PROTO_ERR_NO_SUCH_SEGMENT, "name", name);
	else if (!perm_may_open(&call->conn->peer, seg->creator_uid, st))
		call_error(call, PROTO_ERR_PERMISSION_DENIED, NULL);
	else
		method_reply_segment(call, seg, st, -1);
}

/* A waiting Open is answered (waiters.c): then its connection goes on. */
static void
method_open_waited(struct conn *c, const char *name,
    const struct segment *seg, const struct kshm_stat *st)
{
	struct call	call;

	memset(&call, 0, sizeof call);
	call.conn = c;
	call.srv = c->srv;
	call.method = PROTO_METHOD_OPEN;
	method_open_answer(&call, name, seg, st);
	conn_wait_over(c);
}

static void
method_open(struct call *call)
{
	struct param_value	 v[NOPEN];
	struct segment		*seg;
	struct kshm_stat	 st;

	if (call_params(call, open_params, NOPEN, v) == -1)
		return;
	if (v[O_WAIT].present &&
	    (v[O_WAIT].i < 0 || v[O_WAIT].i > OPEN_WAIT_MAX))
		return call_invalid(call, "wait");
	if (method_namespace(call, &v[O_NS]) == -1)
		return;
	seg = lifecycle_find(&call->srv->life, v[O_NAME].s, &st);
	/* Not there yet: wait for it (a oneway call has nobody to answer). */
	if (seg == NULL && v[O_WAIT].i > 0 && !call->oneway &&
	    proto_name_valid(v[O_NAME].s) == 0) {
		if (waiters_add(&call->srv->waiters, call->conn, v[O_NAME].s,
		    (unsigned)v[O_WAIT].i, method_open_waited) == -1)
			call_nomem(call);
		return;
	}
	method_open_answer(call, v[O_NAME].s, seg, &st);
}

static void
method_destroy(struct call *call)
{
	struct server		*srv = call->srv;
	struct segment		*seg;
	struct kshm_stat	 st;

	if ((seg = method_named(call, perm_may_destroy, &st)) == NULL)
		return;
	log_debug("destroy %s for pid %ld uid %lu", seg->name,
	    (long)call->conn->peer.pid, (unsigned long)call->conn->peer.uid);
	if (lifecycle_destroy(&srv->life, seg, &st) == LIFECYCLE_STATE_ERROR)
		return method_state_error(call, errno);
	call_reply(call, NULL);
}

static void
method_list(struct call *call)
{
	struct server		*srv = call->srv;
	struct textbuf		 tb;
	struct segment		*seg, *next;
	struct kshm_stat	 st;
	int			 first = 1;

	if (call_params(call, NULL, 0, NULL) == -1)
		return;
	if (textbuf_init_heap(&tb, 256 + srv->life.registry.count *
	    (size_t)(SEGMENT_TEXT_MAX / 2)) == -1)
		return call_nomem(call);
	call_reply_start(&tb);
	textbuf_lit(&tb, "{\"segments\":[");
	for (seg = TAILQ_FIRST(&srv->life.registry.segments); seg != NULL;
	    seg = next) {
		next = TAILQ_NEXT(seg, entry);
		/*
		 * A cheap filter first: what the caller could not see when
		 * shmd last looked (each full sweep, under a second ago) costs
		 * it no system call, so a List costs little more for segments
		 * it may not see.
		 */
		segment_seen_stat(seg, &st);
		if (!perm_may_open(&call->conn->peer, seg->creator_uid, &st))
			continue;
		if (lifecycle_look(&srv->life, seg, &st) == -1)
			continue;
		if (!perm_may_open(&call->conn->peer, seg->creator_uid, &st))
			continue;
		if (!first)
			textbuf_lit(&tb, ",");
		first = 0;
		segment_text(&tb, seg, &st);
	}
	textbuf_lit(&tb, "]}");
	call_reply_finish(call, &tb);
	free(tb.buf);
}

static struct json_object *
method_limits(const struct conf *conf)
{
	struct json_object	*o = json_object_new_object();
	uint64_t		 v;
	size_t			 i;

	if (o == NULL)
		return NULL;
	for (i = 0; i < conf_nkeys; i++) {
		if (!(conf_keys[i].flags & CONF_LIMIT))
			continue;
		v = conf_key_int(conf, &conf_keys[i]);
		if (json_add_int(o, conf_keys[i].name, (int64_t)v) == -1) {
			json_object_put(o);
			return NULL;
		}
	}
	return o;
}

static void
method_status(struct call *call)
{
	struct server		*srv = call->srv;
	struct json_object	*p;

	if (call_params(call, NULL, 0, NULL) == -1)
		return;
	if ((p = json_object_new_object()) == NULL)
		return call_nomem(call);
	if (json_add_string(p, "version", PACKAGE_VERSION) == -1 ||
	    json_add_int(p, "pid", srv->pid) == -1 ||
	    json_add_int(p, "ipc_namespace", (int64_t)srv->ipc_namespace) ==
	    -1 ||
	    json_add_int(p, "uptime_usec", realtime_usec() - srv->start_usec) ==
	    -1 ||
	    json_add_int(p, "clients", (int64_t)srv->nconns) == -1 ||
	    json_add_int(p, "segments", (int64_t)srv->life.registry.count) ==
	    -1 ||
	    json_add_int(p, "bytes", (int64_t)srv->life.registry.bytes) == -1 ||
	    json_add_int(p, "requests", (int64_t)srv->requests) == -1 ||
	    json_add_int(p, "created", (int64_t)srv->life.created) == -1 ||
	    json_add_int(p, "reaped", (int64_t)srv->life.reaped) == -1 ||
	    json_add_int(p, "vanished", (int64_t)srv->life.vanished) == -1 ||
	    json_add_int(p, "waiters", (int64_t)srv->waiters.count) == -1 ||
	    json_add_int(p, "uid", srv->euid) == -1 ||
	    json_add(p, "limits", method_limits(&srv->conf)) == -1 ||
	    (call->conn->peer.uid == 0 &&
	    json_add(p, "usage", server_usage_json(srv)) == -1)) {
		json_object_put(p);
		return call_nomem(call);
	}
	call_reply(call, p);
}

static void
method_watch(struct call *call)
{
	struct json_object	*p;

	if (call_params(call, NULL, 0, NULL) == -1)
		return;
	if (!call->more)
		return call_error(call, PROTO_ERR_EXPECTED_MORE, NULL);
	call->conn->watching = 1;
	if ((p = json_object_new_object()) == NULL ||
	    json_add_string(p, "event", proto_event_name(PROTO_EVENT_READY)) ==
	    -1) {
		json_object_put(p);
		return call_nomem(call);
	}
	call_reply_continues(call, p);
}

static void
method_get_info(struct call *call)
{
	struct json_object	*p, *ifaces;

	if (call_params(call, NULL, 0, NULL) == -1)
		return;
	p = json_object_new_object();
	ifaces = json_object_new_array();
	if (p == NULL || ifaces == NULL ||
	    json_object_array_add(ifaces,
	    json_object_new_string(PROTO_SERVICE_INTERFACE)) != 0 ||
	    json_object_array_add(ifaces,
	    json_object_new_string(PROTO_INTERFACE)) != 0 ||
	    json_add_string(p, "vendor", "shmd") == -1 ||
	    json_add_string(p, "product", PACKAGE_NAME) == -1 ||
	    json_add_string(p, "version", PACKAGE_VERSION) == -1 ||
	    json_add_string(p, "url", PACKAGE_URL) == -1) {
		json_object_put(p);
		json_object_put(ifaces);
		return call_nomem(call);
	}
	if (json_add(p, "interfaces", ifaces) == -1) {
		json_object_put(p);
		return call_nomem(call);
	}
	call_reply(call, p);
}

static const struct param_spec desc_params[] = {
	{ "interface", PARAM_STRING, 1 },
};

static void
method_get_description(struct call *call)
{
	struct param_value	 v[1];
	struct json_object	*p;
	const char		*text;

	if (call_params(call, desc_params, 1, v) == -1)
		return;
	if ((text = interface_description(v[0].s)) == NULL)
		return call_error_str(call, PROTO_ERR_INTERFACE_NOT_FOUND,
		    "interface", v[0].s);
	if ((p = json_object_new_object()) == NULL ||
	    json_add_string(p, "description", text) == -1) {
		json_object_put(p);
		return call_nomem(call);
	}
	call_reply(call, p);
}

const struct method methods[] = {
	{ PROTO_METHOD_CREATE, method_create },
	{ PROTO_METHOD_OPEN, method_open },
	{ PROTO_METHOD_DESTROY, method_destroy },
	{ PROTO_METHOD_LIST, method_list },
	{ PROTO_METHOD_STATUS, method_status },
	{ PROTO_METHOD_WATCH, method_watch },
	{ PROTO_METHOD_GETINFO, method_get_info },
	{ PROTO_METHOD_GETDESC, method_get_description },
};
const int nmethods = (int)(sizeof methods / sizeof methods[0]);
