/* The daemon: one event loop, its listening socket, its connections. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <malloc.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "conn.h"
#include "frame.h"
#include "jsonutil.h"
#include "kshm.h"
#include "log.h"
#include "realtime.h"
#include "server.h"
#include "textbuf.h"
#include "trace.h"

/* The lifecycle's notify callback. */
static void
server_notify_cb(void *arg, enum proto_event ev, const struct segment *seg,
    const struct kshm_stat *st)
{
	server_notify(arg, ev, seg, st);
}

/* The lifecycle's segments, charged to their uids here (user.h). */
static int
server_charge_cb(void *arg, uid_t uid, uint64_t size,
    const struct shm_policy *p)
{
	struct server	*srv = arg;

	return user_charge_segment(&srv->users, uid, size, p);
}

static void
server_release_cb(void *arg, uid_t uid, uint64_t size,
    const struct shm_policy *p)
{
	struct server	*srv = arg;

	user_release_segment(&srv->users, uid, size, p);
}

int
server_init(struct server *srv, struct event_base *base,
    const struct conf *conf)
{
	struct stat	sb;

	memset(srv, 0, sizeof *srv);
	srv->base = base;
	srv->conf = *conf;
	srv->main.fd = srv->admin.fd = srv->ipc_namespace_fd = -1;
	srv->conf.socket = strdup(conf->socket);
	srv->conf.admin_socket = conf->admin_socket != NULL ?
	    strdup(conf->admin_socket) : strdup("");
	srv->conf.state_dir = strdup(conf->state_dir);
	srv->conf.segments_dir = strdup(conf->segments_dir);
	if (srv->conf.socket == NULL || srv->conf.admin_socket == NULL ||
	    srv->conf.state_dir == NULL || srv->conf.segments_dir == NULL) {
		conf_finish(&srv->conf);
		return -1;
	}
	if ((srv->tok = frame_tokener_new()) == NULL) {
		conf_finish(&srv->conf);
		return -1;
	}
	TAILQ_INIT(&srv->conns);
	user_registry_init(&srv->users, base);
	waiters_init(&srv->waiters, base);
	srv->start_usec = realtime_usec();
	srv->euid = geteuid();
	srv->pid = getpid();
	/*
	 * Held open: while it is, the kernel keeps the namespace's nsfs
	 * inode, and reading a client's of the same namespace through its
	 * pidfd (peer_ipc_namespace()) makes and frees none, a fifth of
	 * what that read costs a new process's first call.
	 */
	srv->ipc_namespace_fd = open("/proc/self/ns/ipc", O_RDONLY |
	    O_CLOEXEC);
	if (srv->ipc_namespace_fd != -1 && fstat(srv->ipc_namespace_fd,
	    &sb) == 0)
		srv->ipc_namespace = (uint64_t)sb.st_ino;
	else if (stat("/proc/self/ns/ipc", &sb) == 0)
		srv->ipc_namespace = (uint64_t)sb.st_ino;
	lifecycle_init(&srv->life, base, &srv->conf, srv->pid, srv->euid,
	    srv->start_usec, server_notify_cb, srv);
	srv->life.charge = server_charge_cb;
	srv->life.release = server_release_cb;
	srv->life.account_arg = srv;
	return 0;
}

void
server_finish(struct server *srv)
{
	struct conn	*c;

	while ((c = TAILQ_FIRST(&srv->conns)) != NULL)
		conn_destroy(c);
	server_unlisten(srv);
	waiters_finish(&srv->waiters);
	lifecycle_finish(&srv->life);
	user_registry_finish(&srv->users);
	conf_finish(&srv->conf);
	if (srv->tok != NULL)
		json_tokener_free(srv->tok);
	srv->tok = NULL;
	if (srv->ipc_namespace_fd != -1)
		close(srv->ipc_namespace_fd);
	srv->ipc_namespace_fd = -1;
}

/* Answer a connection beyond a limit at once, then close it. */
static void
server_refuse(int fd, const char *limit, uint64_t max)
{
	char		params[128], text[256];
	struct textbuf	pt, tb;
	long		n;

	/* (limit is one of shmd's names: no character needs escaping) */
	textbuf_init(&pt, params, sizeof params);
	textbuf_lit(&pt, "{\"limit\":\"");
	textbuf_str(&pt, limit);
	textbuf_lit(&pt, "\",\"max\":");
	textbuf_u64(&pt, max);
	textbuf_lit(&pt, "}");
	textbuf_init(&tb, text, sizeof text);
	if ((n = textbuf_end(&pt)) != -1 && (n = call_message(&tb,
	    proto_error_name(PROTO_ERR_QUOTA_EXCEEDED), params, (size_t)n,
	    0)) != -1)
		(void)send(fd, text, (size_t)n + 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
}

/*
 * Which connection limit a new connection of uid (whose user holds u)
 * would cross: NULL when none. Root is never held to clients_per_uid and
 * has SERVER_ROOT_RESERVE connections beyond max_clients.
 */
static const char *
server_admission(struct server *srv, uid_t uid, const struct user *u,
    uint64_t *max)
{
	const struct conf	*conf = &srv->conf;

	*max = conf->max_clients;
	if (uid == 0)
		return srv->nconns >= conf->max_clients + SERVER_ROOT_RESERVE ?
		    "clients" : NULL;
	if (srv->nconns >= conf->max_clients)
		return "clients";
	*max = conf->max_clients_per_uid;
	if (user_conns_full(u, conf->max_clients_per_uid))
		return "clients_per_uid";
	return NULL;
}

/* Those of the connections cs[n] (polled in pfd) counted out as spent. */
static size_t
server_poll_ended(struct pollfd *pfd, struct conn **cs, size_t n)
{
	size_t	i, ended = 0;
	int	r;

	if (n == 0)
		return 0;
	while ((r = poll(pfd, (nfds_t)n, 0)) == -1 && errno == EINTR)
		;
	for (i = 0; r > 0 && i < n; i++)
		if (conn_count_out_spent(cs[i], pfd[i].revents))
			ended++;
	return ended;
}

/*
 * u's connections whose clients have closed them (POLLHUP), with nothing
 * they sent left to run, are counted out now, though the loop has not
 * read their ends yet (the next read of each is its end, and closes it):
 * so a client that closes a connection and opens another at once is
 * never refused for the one it left, however the two fall in the turns
 * of the loop. Only at a limit, and only u's own: a refusal costs a
 * poll of its uid's connections (64 to a call). How many ended.
 */
static size_t
server_count_out_ended(struct server *srv, struct user *u)
{
	struct pollfd	 pfd[64];
	struct conn	*c, *cs[64];
	size_t		 n = 0, ended = 0;

	TAILQ_FOREACH(c, &srv->conns, entry) {
		if (!c->counted || c->user != u)
			continue;
		pfd[n].fd = c->fd;
		pfd[n].events = 0;
		pfd[n].revents = 0;
		cs[n++] = c;
		if (n == 64) {
			ended += server_poll_ended(pfd, cs, n);
			n = 0;
		}
	}
	return ended + server_poll_ended(pfd, cs, n);
}

/*
 * A new connection on a non-blocking socket: admitted, or refused. A
 * connection over a limit costs one getsockopt, a poll of its uid's own
 * connections (server_count_out_ended()) and its answer: no groups
 * lookup, no pidfd, no event (a flood of them is cheap to turn away).
 */
static struct conn *
server_admit(struct server *srv, int fd)
{
	struct ucred	 cred;
	socklen_t	 len = sizeof cred;
	struct peer	 peer;
	struct user	*u;
	struct conn	*c;
	const char	*limit;
	uint64_t	 max;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("connection: peer credentials");
		close(fd);
		return NULL;
	}
	if ((u = user_get(&srv->users, cred.uid)) == NULL) {
		log_warnx("connection: out of memory");
		close(fd);
		return NULL;
	}
	if ((limit = server_admission(srv, cred.uid, u, &max)) != NULL &&
	    server_count_out_ended(srv, u) > 0)
		limit = server_admission(srv, cred.uid, u, &max);
	if (limit != NULL) {
		user_log(u, LOG_LEVEL_NOTICE, "refused a connection of pid %ld "
		    "uid %lu: %s (%zu clients)", (long)cred.pid,
		    (unsigned long)cred.uid, limit, srv->nconns);
		server_refuse(fd, limit, max);
		user_put(u);
		return NULL;
	}
	peer_from_socket(fd, &cred, &peer);
	/* conn_create takes peer and u, also when it fails; not fd */
	if ((c = conn_create(srv, fd, &peer, u)) == NULL) {
		log_warnx("connection: out of memory");
		close(fd);
		return NULL;
	}
	/*
	 * A new client has usually sent its first call by the time it is
	 * admitted: read it in this turn of the loop rather than after
	 * another wait (and only then watch for more: conn.c).
	 */
	conn_read_now(c);
	return c;
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

/* Whether c is a watcher that server_shed_output() may drop for u. */
static int
server_sheddable(const struct conn *c, const struct user *u)
{
	return c->watching && !c->closing && conn_queued(c) > 0 &&
	    (u == NULL || c->user == u);
}

void
server_shed_output(struct server *srv, struct user *u)
{
	const struct conf	*conf = &srv->conf;
	struct conn		*c, *worst;
	size_t			 dropped = 0;

	while (u != NULL ? user_output_over(u, conf->max_output_bytes_per_uid) :
	    srv->output_queued > conf->max_output_bytes) {
		worst = NULL;
		TAILQ_FOREACH(c, &srv->conns, entry)
			if (server_sheddable(c, u) && (worst == NULL ||
			    conn_queued(c) > conn_queued(worst)))
				worst = c;
		if (worst == NULL)
			break;
		user_log(worst->user, LOG_LEVEL_WARNING, "watcher pid %ld uid "
		    "%lu holds %zu bytes of unread events, the most of %s "
		    "(max_output_bytes%s %llu): dropped", (long)worst->peer.pid,
		    (unsigned long)worst->peer.uid, conn_queued(worst),
		    u != NULL ? "its uid" : "all", u != NULL ? "_per_uid" : "",
		    (unsigned long long)(u != NULL ?
		    conf->max_output_bytes_per_uid : conf->max_output_bytes));
		conn_drop(worst);
		dropped++;
	}
	/* What the dropped buffers held goes back to the system. */
	if (dropped > 0)
		malloc_trim(0);
}

/*
 * Accept one connection waiting on a listening socket; its first call,
 * which a new client has usually sent by now, is read in this turn of
 * the loop (server_admit()), before the next accept. Out of descriptors,
 * accepting pauses for a second rather than spin (and nothing is
 * accepted meanwhile). 0 when one was accepted (or refused), -1 when
 * none was.
 */
static int
server_accept_one(struct server_listener *l)
{
	struct timeval	 sec = { 1, 0 };
	int		 fd, err;

	if (!event_pending(l->ev, EV_READ, NULL))
		return -1;	/* paused */
	for (;;) {
		fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		trace_accepted();
		if (fd != -1)
			break;
		err = errno;
		if (err == EINTR || err == ECONNABORTED)
			continue;
		if (err == EMFILE || err == ENFILE || err == ENOBUFS ||
		    err == ENOMEM) {
			log_warnx("accept: %s: pausing for a second",
			    strerror(err));
			event_del(l->ev);
			evtimer_add(l->resume, &sec);
		} else if (err != EAGAIN && err != EWOULDBLOCK)
			log_warnx("accept: %s", strerror(err));
		return -1;
	}
	(void)server_admit(l->srv, fd);
	return 0;
}

/*
 * The listening socket is readable: what waits on it is accepted at the
 * end of this turn (l->more): on the main socket after everything else
 * the loop found ready with it, so that a connection whose end came with
 * a new one is counted out before the new one is admitted. (At a limit,
 * on either socket, one whose end the loop has not read yet is too:
 * server_count_out_ended().)
 */
static void
server_accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct server_listener	*l = arg;

	l->ready = 1;
	event_active(l->more, EV_READ, 1);
}

/* Connections up to the n-th of this turn; the others wait for a later one. */
static void
server_accept_upto(struct server_listener *l, int done, int n)
{
	for (; done < n; done++)
		if (server_accept_one(l) == -1)
			break;
}

/*
 * On the main socket, one connection, answered before anything else is
 * accepted (the accept4 that finds none is no longer on a new client's
 * way); the others at the next turn (l->rest), after the loop's next
 * look at the sockets has counted out the connections that ended
 * meanwhile. On root's socket (served before everything else: its timer
 * would run alone at the next turn and put off the first call just
 * accepted), all of them now. Up to SERVER_ACCEPT_BATCH in all, so that
 * a flood of connections is drained steadily without holding up the
 * clients already in.
 */
static void
server_accept_more(evutil_socket_t lfd, short what, void *arg)
{
	struct server_listener	*l = arg;
	struct timeval		 now = { 0, 0 };

	l->ready = 0;
	if (server_accept_one(l) == -1)
		return;
	if (l->first_alone)
		evtimer_add(l->rest, &now);
	else
		server_accept_upto(l, 1, SERVER_ACCEPT_BATCH);
}

/*
 * The main socket's others, when the loop's look at this turn found more
 * waiting: a lone connection costs no accept4 that finds none (one that
 * came after that look makes the socket readable at the next).
 */
static void
server_accept_rest(evutil_socket_t fd, short what, void *arg)
{
	struct server_listener	*l = arg;

	if (l->ready)
		server_accept_upto(l, 1, SERVER_ACCEPT_BATCH);
}

static void
server_accept_resume(evutil_socket_t fd, short what, void *arg)
{
	struct server_listener	*l = arg;

	log_info("accepting connections again on %s", l->path != NULL ?
	    l->path : "an activated socket");
	event_add(l->ev, NULL);
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

/* A listening socket at path with mode, made by the daemon; -1 (logged). */
static int
server_bind(const char *path, unsigned mode)
{
	struct sockaddr_un	 sun;
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
	old = umask(~mode & 0777);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		umask(old);
		log_warn("bind %s", path);
		close(fd);
		return -1;
	}
	umask(old);
	/*
	 * As systemd's socket units: bursts of connects do not see EAGAIN
	 * (the kernel caps it at net.core.somaxconn). A flood that fills it
	 * delays only this socket: root has its own.
	 */
	if (listen(fd, SERVER_BACKLOG) == -1) {
		log_warn("listen %s", path);
		unlink(path);
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Serve listening socket fd (bound at path by the daemon, or NULL: handed
 * over), at the event loop's priority prio. -1 (logged), fd closed.
 */
static int
server_listener_start(struct server *srv, struct server_listener *l, int fd,
    const char *path, int prio)
{
	l->srv = srv;
	l->fd = fd;
	if (path != NULL && (l->path = strdup(path)) == NULL) {
		log_warnx("out of memory");
		close(fd);
		l->fd = -1;
		return -1;
	}
	l->ev = event_new(srv->base, fd, EV_READ | EV_PERSIST,
	    server_accept_cb, l);
	l->resume = evtimer_new(srv->base, server_accept_resume, l);
	l->more = event_new(srv->base, -1, 0, server_accept_more, l);
	l->rest = evtimer_new(srv->base, server_accept_rest, l);
	/* (a base of one priority, as in-process tests make, has no choice) */
	if (l->ev != NULL && l->more != NULL && l->rest != NULL &&
	    prio < event_base_get_npriorities(srv->base)) {
		event_priority_set(l->ev, prio);
		event_priority_set(l->more, prio);
		event_priority_set(l->rest, prio);
	}
	l->first_alone = prio == SERVER_PRIORITY_MAIN;
	if (l->ev == NULL || l->resume == NULL || l->more == NULL ||
	    l->rest == NULL || event_add(l->ev, NULL) == -1) {
		log_warnx("cannot listen on fd %d", fd);
		return -1;
	}
	return 0;
}

/* Stop listening; remove the socket file if the daemon made it. */
static void
server_listener_stop(struct server_listener *l)
{
	if (l->ev != NULL)
		event_free(l->ev);
	if (l->resume != NULL)
		event_free(l->resume);
	if (l->more != NULL)
		event_free(l->more);
	if (l->rest != NULL)
		event_free(l->rest);
	if (l->fd != -1) {
		close(l->fd);
		if (l->path != NULL)
			unlink(l->path);
	}
	free(l->path);
	memset(l, 0, sizeof *l);
	l->fd = -1;
}

/* A socket handed over: non-blocking, like those the daemon makes. */
static int
server_adopt_listener(int fd)
{
	if (evutil_make_socket_nonblocking(fd) == -1) {
		log_warn("socket activation: fd %d", fd);
		close(fd);
		return -1;
	}
	return 0;
}

int
server_listen(struct server *srv, int fd, int admin_fd)
{
	const struct conf	*conf = &srv->conf;
	int			 activated = fd >= 0 || admin_fd >= 0;

	/* Root's socket first: its connections go before the others. */
	if (admin_fd >= 0) {
		if (server_adopt_listener(admin_fd) == -1 ||
		    server_listener_start(srv, &srv->admin, admin_fd, NULL,
		    SERVER_PRIORITY_ADMIN) == -1)
			return -1;
	} else if (!activated && conf->admin_socket != NULL &&
	    *conf->admin_socket != '\0') {
		if ((admin_fd = server_bind(conf->admin_socket, 0600)) == -1 ||
		    server_listener_start(srv, &srv->admin, admin_fd,
		    conf->admin_socket, SERVER_PRIORITY_ADMIN) == -1)
			return -1;
	}
	if (fd >= 0) {
		if (server_adopt_listener(fd) == -1 ||
		    server_listener_start(srv, &srv->main, fd, NULL,
		    SERVER_PRIORITY_MAIN) == -1)
			return -1;
	} else if (!activated) {
		if ((fd = server_bind(conf->socket, conf->socket_mode)) == -1 ||
		    server_listener_start(srv, &srv->main, fd, conf->socket,
		    SERVER_PRIORITY_MAIN) == -1)
			return -1;
	}
	return 0;
}

void
server_unlisten(struct server *srv)
{
	server_listener_stop(&srv->main);
	server_listener_stop(&srv->admin);
}


void
server_notify(struct server *srv, enum proto_event ev,
    const struct segment *seg, const struct kshm_stat *st)
{
	struct conn	*c;
	struct textbuf	 pt, tb;
	char		 params[SEGMENT_TEXT_MAX + 64];
	char		 msg[SEGMENT_TEXT_MAX + 256];
	long		 n = -1;

	/* Opens waiting for this name are answered first. */
	if (ev == PROTO_EVENT_CREATED)
		waiters_wake(&srv->waiters, seg, st);
	TAILQ_FOREACH(c, &srv->conns, entry) {
		if (!c->watching || c->closing ||
		    !perm_may_open(&c->peer, seg->creator_uid, st))
			continue;
		if (n == -1) {
			textbuf_init(&pt, params, sizeof params);
			textbuf_lit(&pt, "{\"event\":\"");
			textbuf_str(&pt, proto_event_name(ev));
			textbuf_lit(&pt, "\",\"segment\":");
			segment_text(&pt, seg, st);
			textbuf_lit(&pt, "}");
			textbuf_init(&tb, msg, sizeof msg);
			if ((n = textbuf_end(&pt)) == -1 || (n = call_message(&tb,
			    NULL, params, (size_t)n, 1)) == -1)
				return;
		}
		conn_send_text(c, msg, (size_t)n);
	}
}

struct json_object *
server_usage_json(struct server *srv)
{
	const struct user	*u;
	struct json_object	*arr, *o;

	if ((arr = json_object_new_array()) == NULL)
		return NULL;
	TAILQ_FOREACH(u, &srv->users.holders, hold_entry) {
		if ((o = json_object_new_object()) == NULL ||
		    json_add_int(o, "uid", u->uid) == -1 ||
		    json_add_int(o, "segments", (int64_t)u->held.segments) ==
		    -1 || json_add_int(o, "bytes", (int64_t)u->held.bytes) ==
		    -1 || json_object_array_add(arr, o) != 0) {
			json_object_put(o);
			json_object_put(arr);
			return NULL;
		}
	}
	return arr;
}
