/*
 * One handler per method of io.shmd and org.varlink.service. Each is
 * named after its method (method_create for Create: the table is made
 * from the interface files, varlink-methods.h), finds its parameters
 * checked in call->args (ARG_CREATE_SIZE ...), and returns CALL_DONE once
 * it has answered, or CALL_PARKED once it has parked the call (call.h).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "conn.h"
#include "call.h"
#include "interface.h"
#include "jsonutil.h"
#include "kmem.h"
#include "kshm.h"
#include "lifecycle.h"
#include "log.h"
#include "realtime.h"
#include "server.h"
#include "textbuf.h"
#include "user.h"
#include "waiters.h"

/*
 * Why a call is refused, gathered on the way down and answered once, at
 * the end, by method_refuse().
 */
struct refusal {
	enum proto_error	 err;		/* PROTO_OK: none (yet) */
	const char		*what;		/* InvalidParameter's parameter,
						   QuotaExceeded's limit,
						   NameExists' name */
	const char		*why;		/* InvalidParameter's reason */
	int64_t			 n, m;		/* QuotaExceeded's max, KeyInUse's
						   key; WrongNamespace's two */
	int			 errnum;	/* StateError's */
	struct kshm_limit	 lim;		/* SystemLimit's */
};

/* Refuse with err, about what (a parameter, a limit, a name). -1. */
static int
method_refused(struct refusal *r, enum proto_error err, const char *what,
    int64_t n)
{
	r->err = err;
	r->what = what;
	r->n = n;
	return -1;
}

/* The one answer of a refused call: its error and parameters. */
static enum call_status
method_refuse(struct call *call, const struct refusal *r)
{
	struct json_object	*p;
	char			 path[512], msg[768];
	int			 rc = 0;

	switch (r->err) {
	case PROTO_ERR_INVALID_PARAMETER:
		if (r->why == NULL)
			return call_invalid(call, r->what);
		return call_invalid_why(call, r->what, r->why);
	case PROTO_ERR_NAME_EXISTS:
	case PROTO_ERR_NO_SUCH_SEGMENT:
		return call_error_str(call, r->err, "name", r->what);
	case PROTO_ERR_PERMISSION_DENIED:
		return call_error(call, r->err, NULL);
	default:
		break;
	}
	if ((p = json_object_new_object()) == NULL)
		return call_nomem(call);
	switch (r->err) {
	case PROTO_ERR_QUOTA_EXCEEDED:
		rc = json_add_string(p, "limit", r->what) == -1 ||
		    json_add_int(p, "max", r->n) == -1;
		break;
	case PROTO_ERR_KEY_IN_USE:
		rc = json_add_int(p, "key", r->n);
		break;
	case PROTO_ERR_WRONG_NAMESPACE:
		rc = json_add_int(p, "client", r->n) == -1 ||
		    json_add_int(p, "daemon", r->m) == -1;
		break;
	case PROTO_ERR_SYSTEM_LIMIT:
		/* the kernel refused, or would (lim says which limit) */
		rc = json_add_string(p, "errno",
		    kshm_errno_name(r->lim.err)) == -1 ||
		    json_add_string(p, "message", r->lim.message) == -1 ||
		    (r->lim.name != NULL &&
		    json_add_string(p, "limit", r->lim.name) == -1) ||
		    (r->lim.has_max && json_add_int(p, "max",
		    r->lim.max > INT64_MAX ? INT64_MAX :
		    (int64_t)r->lim.max) == -1);
		break;
	case PROTO_ERR_STATE_ERROR:
		/* the change could not be recorded, so it was not made */
		lifecycle_state_path(&call->srv->life, path, sizeof path);
		snprintf(msg, sizeof msg, "shmd cannot record the change in "
		    "%s (%s), so it made none; it is served again as soon as "
		    "the state directory takes records", path,
		    strerror(r->errnum));
		rc = json_add_string(p, "errno",
		    kshm_errno_name(r->errnum)) == -1 ||
		    json_add_string(p, "path", path) == -1 ||
		    json_add_string(p, "message", msg) == -1;
		break;
	default:
		break;
	}
	if (rc != 0) {
		json_object_put(p);
		return call_nomem(call);
	}
	return call_error(call, r->err, p);
}

/*
 * A change the lifecycle refused (rc, errno err): StateError, or for a
 * Create (req) the key range spent, the key taken, the kernel's limit.
 */
static void
method_lifecycle_refused(struct call *call, const struct lifecycle_request *req,
    int rc, int err, struct refusal *r)
{
	r->errnum = err;
	if (rc == LIFECYCLE_STATE_ERROR)
		r->err = PROTO_ERR_STATE_ERROR;
	else if (req != NULL && req->any_key && err == EAGAIN)
		method_refused(r, PROTO_ERR_QUOTA_EXCEEDED, "keys",
		    call->srv->conf.key_count);
	else if (req != NULL && !req->any_key && err == EEXIST)
		method_refused(r, PROTO_ERR_KEY_IN_USE, NULL, req->key);
	else if (req != NULL && call->srv->life.refused == KMEM_BIND &&
	    err == EINVAL)	/* a node gone since it was checked */
		method_refused(r, PROTO_ERR_INVALID_PARAMETER, "numa_node", 0);
	else if (req != NULL) {
		if (kmem_limit_of(call->srv->life.refused, err, &req->policy,
		    &r->lim) == -1)
			kshm_limit_of(err, req->size, &r->lim);
		user_log(call->conn->user, LOG_LEVEL_WARNING, "create %s for "
		    "uid %lu: %s: %s", req->name,
		    (unsigned long)call->conn->peer.uid, kshm_errno_name(err),
		    strerror(err));
		r->err = PROTO_ERR_SYSTEM_LIMIT;
	}
}

/* Reply {"segment": ...}, and Create's "created" (1 or 0; -1: none). */
static enum call_status
method_reply_segment(struct call *call, const struct segment *seg,
    const struct kshm_stat *st, int created)
{
	char		text[SEGMENT_TEXT_MAX + 48];
	struct textbuf	tb;
	long		n;

	textbuf_init(&tb, text, sizeof text);
	textbuf_lit(&tb, "{\"segment\":");
	segment_text(&tb, seg, st);
	if (created == 1)
		textbuf_lit(&tb, ",\"created\":true");
	else if (created == 0)
		textbuf_lit(&tb, ",\"created\":false");
	textbuf_lit(&tb, "}");
	if ((n = textbuf_end(&tb)) == -1)
		return call_nomem(call);
	return call_reply_text(call, text, (size_t)n);
}

/*
 * Whether the caller is in shmd's IPC namespace, where its shmids mean
 * something: what shmd reads of the caller's (as root) wins over
 * what the caller sent (ipc_namespace); a caller of whom neither is
 * known is served (PROTOCOL.md "Namespaces": what shmd reads wins
 * whatever was sent, shmd's own too: a client that sent the daemon's
 * namespace, copied from Status, would attach nothing). -1 with
 * WrongNamespace (or InvalidParameter).
 */
static int
method_namespace(struct call *call, const struct param_value *sent,
    struct refusal *r)
{
	uint64_t	client = 0, read, daemon = call->srv->ipc_namespace;

	if (sent->present) {
		if (sent->i < 0)
			return method_refused(r, PROTO_ERR_INVALID_PARAMETER,
			    "ipc_namespace", 0);
		client = (uint64_t)sent->i;
	}
	if (peer_ipc_namespace(&call->conn->peer, call->conn->fd, &read) == 0)
		client = read;
	if (client == 0 || daemon == 0 || client == daemon)
		return 0;
	r->m = (int64_t)daemon;
	return method_refused(r, PROTO_ERR_WRONG_NAMESPACE, NULL,
	    (int64_t)client);
}

/*
 * A Create's memory policy into req, and its size rounded up to the page
 * size (kmem_policy_settle()'s rules): 0, or -1 with why not.
 */
static int
method_policy(const struct param_value *v, struct lifecycle_request *req,
    struct refusal *r)
{
	const struct param_value	*ps = &v[ARG_CREATE_PAGE_SIZE];
	const struct param_value	*node = &v[ARG_CREATE_NUMA_NODE];
	struct kmem_fault		 f;

	/* (what is no page size or node at all: one the kernel lacks) */
	if (ps->present)
		req->policy.page_size = ps->i >= 1 ? (uint64_t)ps->i :
		    UINT64_MAX;
	req->policy.locked = v[ARG_CREATE_LOCKED].i != 0;
	if (node->present)
		req->policy.numa_node = node->i >= 0 && node->i < INT_MAX ?
		    (int)node->i : INT_MAX;
	if (kmem_policy_settle(v[ARG_CREATE_HUGE_PAGES].i != 0, &req->policy,
	    &req->size, &f) == 0)
		return 0;
	if (f.no_huge) {
		r->lim.err = EINVAL;
		r->lim.name = f.key;
		snprintf(r->lim.message, sizeof r->lim.message, "%s", f.why);
		return method_refused(r, PROTO_ERR_SYSTEM_LIMIT, NULL, 0);
	}
	r->why = f.why;
	return method_refused(r, PROTO_ERR_INVALID_PARAMETER, f.key, 0);
}

/* The per-uid quotas (user.c) for the segment req asks: 0, or -1. */
static int
method_charge(struct call *call, const struct lifecycle_request *req,
    struct refusal *r)
{
	const struct conf	*conf = &call->srv->conf;
	struct user_segments	 max = { conf->max_segments_per_uid,
				    conf->max_bytes_per_uid,
				    conf->max_huge_bytes_per_uid,
				    conf->max_locked_bytes_per_uid };
	const char		*limit;
	uint64_t		 held;

	limit = user_segment_over(&call->srv->users, req->uid, req->size,
	    &req->policy, &max, &held);
	if (limit == NULL)
		return 0;
	return method_refused(r, PROTO_ERR_QUOTA_EXCEEDED, limit,
	    held > INT64_MAX ? INT64_MAX : (int64_t)held);
}

/*
 * Create's request from its parameters, with the defaults, once the
 * caller may have it made (its namespace, the name free, permissions,
 * quotas; what the kernel refuses is named once it has): 0, or -1 with
 * why not. seg is the segment of that name, if one is there.
 */
static int
method_create_request(struct call *call, struct lifecycle_request *req,
    struct segment **seg, struct kshm_stat *st, struct refusal *r)
{
	const struct param_value	*v = call->args;
	struct peer			*peer = &call->conn->peer;
	const struct conf		*conf = &call->srv->conf;

	memset(req, 0, sizeof *req);
	*seg = NULL;
	req->name = v[ARG_CREATE_NAME].s;
	req->lifetime = PROTO_LIFETIME_DETACH;
	req->mode = 0600;
	req->attach_timeout = conf->attach_timeout;
	req->any_key = 1;
	req->policy.numa_node = -1;
	req->creator_pidfd = &call->pidfd;
	if (proto_name_valid(req->name) == -1)
		return method_refused(r, PROTO_ERR_INVALID_PARAMETER, "name", 0);
	if (v[ARG_CREATE_SIZE].i < 1)
		return method_refused(r, PROTO_ERR_INVALID_PARAMETER, "size", 0);
	req->size = (uint64_t)v[ARG_CREATE_SIZE].i;
	if (v[ARG_CREATE_MODE].present) {
		if (v[ARG_CREATE_MODE].i < 0 || v[ARG_CREATE_MODE].i > 0777)
			return method_refused(r, PROTO_ERR_INVALID_PARAMETER,
			    "mode", 0);
		req->mode = (unsigned)v[ARG_CREATE_MODE].i;
	}
	if (v[ARG_CREATE_LIFETIME].present &&
	    proto_lifetime_parse(v[ARG_CREATE_LIFETIME].s, &req->lifetime) == -1)
		return method_refused(r, PROTO_ERR_INVALID_PARAMETER,
		    "lifetime", 0);
	if (v[ARG_CREATE_KEY].present) {
		if (v[ARG_CREATE_KEY].i < INT32_MIN ||
		    v[ARG_CREATE_KEY].i > INT32_MAX)
			return method_refused(r, PROTO_ERR_INVALID_PARAMETER,
			    "key", 0);
		req->any_key = 0;
		req->key = (int32_t)v[ARG_CREATE_KEY].i;
	}
	if (v[ARG_CREATE_UID].present && (v[ARG_CREATE_UID].i < 0 ||
	    v[ARG_CREATE_UID].i >= (int64_t)UINT32_MAX))
		return method_refused(r, PROTO_ERR_INVALID_PARAMETER, "uid", 0);
	if (v[ARG_CREATE_GID].present && (v[ARG_CREATE_GID].i < 0 ||
	    v[ARG_CREATE_GID].i >= (int64_t)UINT32_MAX))
		return method_refused(r, PROTO_ERR_INVALID_PARAMETER, "gid", 0);
	if (v[ARG_CREATE_ATTACH_TIMEOUT].present) {
		if (v[ARG_CREATE_ATTACH_TIMEOUT].i < 1 ||
		    v[ARG_CREATE_ATTACH_TIMEOUT].i > INT32_MAX)
			return method_refused(r, PROTO_ERR_INVALID_PARAMETER,
			    "attach_timeout", 0);
		req->attach_timeout = (uint64_t)v[ARG_CREATE_ATTACH_TIMEOUT].i;
	}
	req->uid = v[ARG_CREATE_UID].present ? (uid_t)v[ARG_CREATE_UID].i :
	    peer->uid;
	req->gid = v[ARG_CREATE_GID].present ? (gid_t)v[ARG_CREATE_GID].i :
	    peer->gid;
	req->creator_uid = peer->uid;
	req->creator_pid = peer->pid;
	if (method_policy(v, req, r) == -1)
		return -1;
	if (method_namespace(call, &v[ARG_CREATE_IPC_NAMESPACE], r) == -1)
		return -1;
	/*
	 * A name whose segment the kernel freed is free again (with
	 * exist_ok, the caller decides about one that is there).
	 */
	if ((*seg = lifecycle_find(&call->srv->life, req->name, st)) != NULL)
		return method_refused(r, PROTO_ERR_NAME_EXISTS, req->name, 0);
	if (!perm_may_own(peer, req->uid, req->gid) ||
	    !perm_may_name(peer, req->name))
		return method_refused(r, PROTO_ERR_PERMISSION_DENIED, NULL, 0);
	if (req->size > conf->max_segment_size)
		return method_refused(r, PROTO_ERR_QUOTA_EXCEEDED,
		    "segment_size", (int64_t)conf->max_segment_size);
	if (method_charge(call, req, r) == -1)
		return -1;
	return 0;
}

/*
 * Create: the request checked (methods), the segment made (lifecycle:
 * kernel, state), then the one answer.
 */
enum call_status
method_create(struct call *call)
{
	struct peer			*peer = &call->conn->peer;
	struct lifecycle_request	 req;
	struct refusal			 r = { .err = PROTO_OK };
	struct segment			*seg;
	struct kshm_stat		 st;
	int				 rc;

	if (method_create_request(call, &req, &seg, &st, &r) == -1) {
		/* exist_ok: that name's segment of that size, if the caller
		   may open it, is the answer, unchanged */
		if (seg != NULL && call->args[ARG_CREATE_EXIST_OK].i &&
		    seg->size == req.size &&
		    shm_policy_same(&seg->policy, &req.policy) &&
		    perm_may_open(peer, seg->creator_uid, &st))
			return method_reply_segment(call, seg, &st, 0);
		return method_refuse(call, &r);
	}
	/*
	 * A "process" segment follows the process that connected, in any
	 * pid namespace, by the pidfd of its connection (SO_PEERPIDFD),
	 * which the call takes. Without pidfds on pidfs one that shmd
	 * cannot see has nothing to follow it by.
	 */
	if (req.lifetime == PROTO_LIFETIME_PROCESS && call_pin(call) == -1 &&
	    peer->pid == 0) {
		method_refused(&r, PROTO_ERR_INVALID_PARAMETER, "lifetime", 0);
		r.why = "shmd cannot see the caller's process (another pid "
		    "namespace, and this kernel gives no pidfd for it), so it "
		    "cannot follow it: use detach or persistent";
		return method_refuse(call, &r);
	}
	req.creator_start = peer->start;
	req.creator_ino = peer->ino;
	req.creator_exited = peer->exited;
	if ((rc = lifecycle_create(&call->srv->life, &req, &seg, &st)) != 0) {
		method_lifecycle_refused(call, &req, rc, errno, &r);
		return method_refuse(call, &r);
	}
	return method_reply_segment(call, seg, &st, 1);
}

#define OPEN_WAIT_MAX	3600	/* seconds */

/* Open's answer, now or once the name exists (seg NULL: none). */
static enum call_status
method_open_answer(struct call *call, const struct segment *seg,
    const struct kshm_stat *st)
{
	if (seg == NULL)
		return call_error_str(call, PROTO_ERR_NO_SUCH_SEGMENT, "name",
		    call->args[ARG_OPEN_NAME].s);
	if (!perm_may_open(&call->conn->peer, seg->creator_uid, st))
		return call_error(call, PROTO_ERR_PERMISSION_DENIED, NULL);
	return method_reply_segment(call, seg, st, -1);
}

enum call_status
method_open(struct call *call)
{
	const struct param_value	*v = call->args;
	struct refusal			 r = { .err = PROTO_OK };
	struct call			*parked;
	struct segment			*seg;
	struct kshm_stat		 st;

	if (v[ARG_OPEN_WAIT].present &&
	    (v[ARG_OPEN_WAIT].i < 0 || v[ARG_OPEN_WAIT].i > OPEN_WAIT_MAX))
		return call_invalid(call, "wait");
	if (method_namespace(call, &v[ARG_OPEN_IPC_NAMESPACE], &r) == -1)
		return method_refuse(call, &r);
	seg = lifecycle_find(&call->srv->life, v[ARG_OPEN_NAME].s, &st);
	/* Not there yet: wait for it (a oneway call has nobody to answer). */
	if (seg == NULL && v[ARG_OPEN_WAIT].i > 0 && !call->oneway &&
	    proto_name_valid(v[ARG_OPEN_NAME].s) == 0) {
		if ((parked = call_park(call)) == NULL)
			return call_nomem(call);
		if (waiters_add(&call->srv->waiters, parked,
		    v[ARG_OPEN_NAME].s, (unsigned)v[ARG_OPEN_WAIT].i,
		    method_open_answer) == -1) {
			call_drop(parked);
			return call_nomem(call);
		}
		return CALL_PARKED;
	}
	return method_open_answer(call, seg, &st);
}

enum call_status
method_destroy(struct call *call)
{
	struct server		*srv = call->srv;
	const char		*name = call->args[ARG_DESTROY_NAME].s;
	struct refusal		 r = { .err = PROTO_OK };
	struct segment		*seg;
	struct kshm_stat	 st;

	if ((seg = lifecycle_find(&srv->life, name, &st)) == NULL)
		return call_error_str(call, PROTO_ERR_NO_SUCH_SEGMENT, "name",
		    name);
	if (!perm_may_destroy(&call->conn->peer, seg->creator_uid, &st))
		return call_error(call, PROTO_ERR_PERMISSION_DENIED, NULL);
	log_debug("destroy %s for pid %ld uid %lu", seg->name,
	    (long)call->conn->peer.pid, (unsigned long)call->conn->peer.uid);
	if (lifecycle_destroy(&srv->life, seg, &st) == LIFECYCLE_STATE_ERROR) {
		method_lifecycle_refused(call, NULL, LIFECYCLE_STATE_ERROR,
		    errno, &r);
		return method_refuse(call, &r);
	}
	return call_reply(call, NULL);
}

enum call_status
method_list(struct call *call)
{
	struct server		*srv = call->srv;
	struct textbuf		 tb;
	struct segment		*seg, *next;
	struct kshm_stat	 st;
	enum call_status	 status;
	long			 n;
	int			 first = 1;

	if (textbuf_init_heap(&tb, 256 + srv->life.registry.count *
	    (size_t)(SEGMENT_TEXT_MAX / 2)) == -1)
		return call_nomem(call);
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
	if ((n = textbuf_end(&tb)) == -1)
		status = call_nomem(call);
	else
		status = call_reply_text(call, tb.buf, (size_t)n);
	free(tb.buf);
	return status;
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

enum call_status
method_status(struct call *call)
{
	struct server		*srv = call->srv;
	struct json_object	*p;

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
	    json_add_int(p, "declared_drift",
	    (int64_t)srv->life.declared_drift) == -1 ||
	    json_add_int(p, "waiters", (int64_t)srv->waiters.count) == -1 ||
	    json_add_int(p, "uid", srv->euid) == -1 ||
	    json_add(p, "limits", method_limits(&srv->conf)) == -1 ||
	    (call->conn->peer.uid == 0 &&
	    json_add(p, "usage", server_usage_json(srv)) == -1)) {
		json_object_put(p);
		return call_nomem(call);
	}
	return call_reply(call, p);
}

enum call_status
method_watch(struct call *call)
{
	struct json_object	*p;

	if (!call->more)
		return call_error(call, PROTO_ERR_EXPECTED_MORE, NULL);
	call->conn->watching = 1;
	if ((p = json_object_new_object()) == NULL ||
	    json_add_string(p, "event", proto_event_name(PROTO_EVENT_READY)) ==
	    -1) {
		json_object_put(p);
		return call_nomem(call);
	}
	return call_reply_continues(call, p);
}

enum call_status
method_get_info(struct call *call)
{
	struct json_object	*p, *ifaces;

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
	return call_reply(call, p);
}

enum call_status
method_get_interface_description(struct call *call)
{
	const char		*name = call->args[
	    ARG_GET_INTERFACE_DESCRIPTION_INTERFACE].s;
	struct json_object	*p;
	const char		*text;

	if ((text = interface_description(name)) == NULL)
		return call_error_str(call, PROTO_ERR_INTERFACE_NOT_FOUND,
		    "interface", name);
	if ((p = json_object_new_object()) == NULL ||
	    json_add_string(p, "description", text) == -1) {
		json_object_put(p);
		return call_nomem(call);
	}
	return call_reply(call, p);
}
