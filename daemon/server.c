/* The daemon: one event loop, its listening socket, its connections. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <json-c/json.h>

#include "conn.h"
#include "frame.h"
#include "jsonutil.h"
#include "kshm.h"
#include "log.h"
#include "realtime.h"
#include "server.h"
#include "textbuf.h"

/* The lifecycle's notify callback. */
static void
server_notify_cb(void *arg, enum proto_event ev, const struct segment *seg,
    const struct kshm_stat *st)
{
	server_notify(arg, ev, seg, st);
}

int
server_init(struct server *srv, struct event_base *base,
    const struct conf *conf)
{
	struct stat	sb;

	memset(srv, 0, sizeof *srv);
	srv->base = base;
	srv->conf = *conf;
	srv->conf.socket = strdup(conf->socket);
	srv->conf.state_dir = strdup(conf->state_dir);
	if (srv->conf.socket == NULL || srv->conf.state_dir == NULL) {
		conf_finish(&srv->conf);
		return -1;
	}
	if ((srv->tok = frame_tokener_new()) == NULL) {
		conf_finish(&srv->conf);
		return -1;
	}
	TAILQ_INIT(&srv->conns);
	user_registry_init(&srv->users);
	waiters_init(&srv->waiters, base);
	srv->start_usec = realtime_usec();
	srv->euid = geteuid();
	srv->pid = getpid();
	if (stat("/proc/self/ns/ipc", &sb) == 0)
		srv->ipc_namespace = (uint64_t)sb.st_ino;
	lifecycle_init(&srv->life, base, &srv->conf, srv->pid, srv->euid,
	    srv->start_usec, server_notify_cb, srv);
	return 0;
}

void
server_finish(struct server *srv)
{
	struct conn	*c;

	while ((c = TAILQ_FIRST(&srv->conns)) != NULL)
		conn_destroy(c);
	if (srv->listener != NULL)
		evconnlistener_free(srv->listener);
	if (srv->accept_timer != NULL)
		event_free(srv->accept_timer);
	waiters_finish(&srv->waiters);
	lifecycle_finish(&srv->life);
	user_registry_finish(&srv->users);
	conf_finish(&srv->conf);
	if (srv->tok != NULL)
		json_tokener_free(srv->tok);
	srv->tok = NULL;
}

/*
 * Log a refusal, at most once a second: a flood of refused connections
 * must not flood the log.
 */
static void
server_log_refusal(struct server *srv, const struct peer *peer,
    const char *limit)
{
	int64_t	now = realtime_usec();

	if (now - srv->refused_logged < 1000000) {
		srv->refused_quiet++;
		return;
	}
	log_notice("refused a connection of pid %ld uid %lu: %s (%zu clients)"
	    "%s", (long)peer->pid, (unsigned long)peer->uid, limit,
	    srv->nconns, srv->refused_quiet > 0 ? "; more refused, not logged"
	    : "");
	srv->refused_logged = now;
	srv->refused_quiet = 0;
}

/* Answer a connection beyond a limit at once, then close it. */
static void
server_refuse(struct server *srv, int fd, const char *limit, uint64_t max)
{
	struct json_object	*msg, *p;
	const char		*s;
	size_t			 len;

	msg = json_object_new_object();
	p = json_object_new_object();
	if (msg != NULL && p != NULL &&
	    json_add_string(p, "limit", limit) == 0 &&
	    json_add_int(p, "max", (int64_t)max) == 0 &&
	    json_add_string(msg, "error",
	    proto_error_name(PROTO_ERR_QUOTA_EXCEEDED)) == 0) {
		json_add(msg, "parameters", p);
		p = NULL;
		if ((s = frame_encode(msg, &len)) != NULL &&
		    send(fd, s, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			log_debug("refused client: %s", strerror(errno));
	}
	json_object_put(p);
	json_object_put(msg);
	close(fd);
}

/*
 * Which connection limit a new connection of peer (whose user holds u)
 * would cross: NULL when none. Root is never held to clients_per_uid and
 * has SERVER_ROOT_RESERVE connections beyond max_clients.
 */
static const char *
server_admission(struct server *srv, const struct peer *peer,
    const struct user *u, uint64_t *max)
{
	const struct conf	*conf = &srv->conf;

	*max = conf->max_clients;
	if (peer->uid == 0)
		return srv->nconns >= conf->max_clients + SERVER_ROOT_RESERVE ?
		    "clients" : NULL;
	if (srv->nconns >= conf->max_clients)
		return "clients";
	*max = conf->max_clients_per_uid;
	if (conf->max_clients_per_uid != 0 &&
	    u->conns >= conf->max_clients_per_uid)
		return "clients_per_uid";
	return NULL;
}

/* A new connection on a non-blocking socket: admitted, or refused. */
static struct conn *
server_admit(struct server *srv, int fd)
{
	struct peer	 peer;
	struct user	*u;
	const char	*limit;
	uint64_t	 max;

	if (peer_from_socket(fd, &peer) == -1) {
		log_warn("connection: peer credentials");
		close(fd);
		return NULL;
	}
	if ((u = user_get(&srv->users, peer.uid)) == NULL) {
		log_warnx("connection: out of memory");
		peer_finish(&peer);
		close(fd);
		return NULL;
	}
	if ((limit = server_admission(srv, &peer, u, &max)) != NULL) {
		server_log_refusal(srv, &peer, limit);
		server_refuse(srv, fd, limit, max);
		user_put(u);
		peer_finish(&peer);
		return NULL;
	}
	/* conn_create takes peer and u, also when it fails */
	return conn_create(srv, fd, &peer, u);
}

/*
 * A new client has usually sent its first call by the time it is
 * admitted: read it in this turn of the loop rather than after another
 * wait (when it has not, the read finds nothing and the wait follows).
 * The listener hands over sockets already non-blocking (libevent's
 * default).
 */
static void
server_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct conn	*c;

	if ((c = server_admit(arg, fd)) != NULL)
		conn_read_now(c);
}

struct conn *
server_adopt(struct server *srv, int fd)
{
	if (evutil_make_socket_nonblocking(fd) == -1) {
		log_warn("connection: fcntl");
		close(fd);
		return NULL;
	}
	return server_admit(srv, fd);
}

void
server_shed_output(struct server *srv)
{
	struct conn	*c, *worst;
	size_t		 dropped = 0;

	while (srv->output_queued > srv->conf.max_output_bytes) {
		worst = NULL;
		TAILQ_FOREACH(c, &srv->conns, entry)
			if (!c->closing && (worst == NULL ||
			    conn_queued(c) > conn_queued(worst)))
				worst = c;
		if (worst == NULL || conn_queued(worst) == 0)
			break;
		log_warnx("client pid %ld uid %lu holds %zu bytes of unread "
		    "output, the most of all (max_output_bytes %llu in all): "
		    "dropped", (long)worst->peer.pid,
		    (unsigned long)worst->peer.uid, conn_queued(worst),
		    (unsigned long long)srv->conf.max_output_bytes);
		conn_drop(worst);
		dropped++;
	}
	/* What the dropped buffers held goes back to the system. */
	if (dropped > 0)
		malloc_trim(0);
}

static void
server_accept_resume(evutil_socket_t fd, short what, void *arg)
{
	struct server	*srv = arg;

	log_info("accepting connections again");
	evconnlistener_enable(srv->listener);
}

/* Out of descriptors: pause accepting for a second rather than spin. */
static void
server_accept_error(struct evconnlistener *l, void *arg)
{
	struct server	*srv = arg;
	struct timeval	 tv = { 1, 0 };
	int		 err = EVUTIL_SOCKET_ERROR();

	if (err == EMFILE || err == ENFILE || err == ENOBUFS ||
	    err == ENOMEM) {
		log_warnx("accept: %s: pausing for a second", strerror(err));
		evconnlistener_disable(l);
		evtimer_add(srv->accept_timer, &tv);
		return;
	}
	log_warnx("accept: %s", strerror(err));
}

/* Another daemon answering on path? */
static int
server_socket_alive(const char *path)
{
	struct sockaddr_un	sun;
	int			fd, rc;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strncpy(sun.sun_path, path, sizeof sun.sun_path - 1);
	rc = connect(fd, (struct sockaddr *)&sun, sizeof sun);
	close(fd);
	return rc == 0;
}

static int
server_bind(struct server *srv)
{
	struct sockaddr_un	 sun;
	const char		*path = srv->conf.socket;
	struct stat		 sb;
	mode_t			 old;
	int			 fd;

	if (strlen(path) >= sizeof sun.sun_path) {
		log_errx("socket path %s: too long", path);
		return -1;
	}
	if (lstat(path, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode)) {
			log_errx("%s exists and is not a socket", path);
			return -1;
		}
		if (server_socket_alive(path)) {
			log_errx("another shmd answers on %s", path);
			return -1;
		}
		log_info("removing stale socket %s", path);
		if (unlink(path) == -1 && errno != ENOENT) {
			log_warn("unlink %s", path);
			return -1;
		}
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		log_warn("socket");
		return -1;
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	/*
	 * The mode comes with the bind, through the umask: no chmod by path,
	 * which would follow a symlink swapped in meanwhile.
	 */
	old = umask(~srv->conf.socket_mode & 0777);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		umask(old);
		log_warn("bind %s", path);
		close(fd);
		return -1;
	}
	umask(old);
	/* As systemd's socket units: bursts of connects do not see EAGAIN. */
	if (listen(fd, SOMAXCONN) == -1) {
		log_warn("listen %s", path);
		unlink(path);
		close(fd);
		return -1;
	}
	return fd;
}

int
server_listen(struct server *srv, int fd)
{
	int	backlog = 0;	/* adopt an already-listening socket */

	if (fd < 0) {
		if ((fd = server_bind(srv)) == -1)
			return -1;
		srv->own_socket = 1;
	} else if (evutil_make_socket_nonblocking(fd) == -1) {
		log_warn("socket activation: fd %d", fd);
		return -1;
	}
	srv->listener = evconnlistener_new(srv->base, server_accept_cb, srv,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, backlog, fd);
	if (srv->listener == NULL) {
		log_warnx("cannot listen on fd %d", fd);
		close(fd);
		return -1;
	}
	evconnlistener_set_error_cb(srv->listener, server_accept_error);
	srv->accept_timer = evtimer_new(srv->base, server_accept_resume, srv);
	if (srv->accept_timer == NULL)
		return -1;
	return 0;
}

/* Stop listening; remove the socket file if we made it. */
void
server_unlisten(struct server *srv)
{
	if (srv->listener != NULL) {
		evconnlistener_free(srv->listener);
		srv->listener = NULL;
		if (srv->own_socket)
			unlink(srv->conf.socket);
	}
}


void
server_notify(struct server *srv, enum proto_event ev,
    const struct segment *seg, const struct kshm_stat *st)
{
	struct conn	*c;
	struct textbuf	 tb;
	char		 msg[SEGMENT_TEXT_MAX + 96];
	long		 n = -1;

	/* Opens waiting for this name are answered first. */
	if (ev == PROTO_EVENT_CREATED)
		waiters_wake(&srv->waiters, seg, st);
	TAILQ_FOREACH(c, &srv->conns, entry) {
		if (!c->watching || c->closing ||
		    !perm_may_open(&c->peer, seg->creator_uid, st))
			continue;
		if (n == -1) {
			textbuf_init(&tb, msg, sizeof msg);
			textbuf_lit(&tb, "{\"parameters\":{\"event\":\"");
			textbuf_str(&tb, proto_event_name(ev));
			textbuf_lit(&tb, "\",\"segment\":");
			segment_text(&tb, seg, st);
			textbuf_lit(&tb, "},\"continues\":true}");
			if ((n = textbuf_end(&tb)) == -1)
				return;
		}
		conn_send_text(c, msg, (size_t)n);
	}
}

struct json_object *
server_usage_json(struct server *srv)
{
	const struct registry	*reg = &srv->life.registry;
	struct json_object	*arr, *o;
	size_t			 i;

	if ((arr = json_object_new_array()) == NULL)
		return NULL;
	for (i = 0; i < reg->nowners; i++) {
		if ((o = json_object_new_object()) == NULL ||
		    json_add_int(o, "uid", reg->owners[i].uid) == -1 ||
		    json_add_int(o, "segments",
		    (int64_t)reg->owners[i].segments) == -1 ||
		    json_add_int(o, "bytes", (int64_t)reg->owners[i].bytes) ==
		    -1 || json_object_array_add(arr, o) != 0) {
			json_object_put(o);
			json_object_put(arr);
			return NULL;
		}
	}
	return arr;
}
