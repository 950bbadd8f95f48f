/* The daemon: one event loop, its listening socket, its connections. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
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
#include "reaper.h"
#include "server.h"
#include "state.h"
#include "textbuf.h"

int64_t
now_usec(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
server_init(struct server *srv, struct event_base *base,
    const struct conf *conf)
{
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
	registry_init(&srv->registry);
	LIST_INIT(&srv->procwatches);
	srv->state_fd = -1;
	keyalloc_init(&srv->keys, conf->key_base, conf->key_count);
	TAILQ_INIT(&srv->conns);
	srv->start_usec = now_usec();
	srv->euid = geteuid();
	srv->pid = getpid();
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
	reaper_stop(srv);
	procwatch_finish(srv);
	state_close(srv);
	registry_finish(&srv->registry);
	conf_finish(&srv->conf);
	if (srv->tok != NULL)
		json_tokener_free(srv->tok);
	srv->tok = NULL;
}

/* Answer a connection beyond max_clients at once, then close it. */
static void
server_refuse(struct server *srv, int fd)
{
	struct json_object	*msg, *p;
	const char		*s;
	size_t			 len;

	msg = json_object_new_object();
	p = json_object_new_object();
	if (msg != NULL && p != NULL &&
	    json_add_string(p, "limit", "clients") == 0 &&
	    json_add_int(p, "max", (int64_t)srv->conf.max_clients) == 0 &&
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

struct conn *
server_adopt(struct server *srv, int fd)
{
	struct conn	*c;

	if (evutil_make_socket_nonblocking(fd) == -1 ||
	    (c = conn_create(srv, fd)) == NULL) {
		close(fd);
		return NULL;
	}
	return c;
}

static void
server_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct server	*srv = arg;

	if (srv->nconns >= srv->conf.max_clients) {
		log_notice("refused a connection: %zu clients (max_clients)",
		    srv->nconns);
		server_refuse(srv, fd);
		return;
	}
	server_adopt(srv, fd);
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
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		umask(old);
		log_warn("bind %s", path);
		close(fd);
		return -1;
	}
	umask(old);
	if (chmod(path, srv->conf.socket_mode) == -1) {
		log_warn("chmod %s", path);
		unlink(path);
		close(fd);
		return -1;
	}
	if (listen(fd, 128) == -1) {
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
server_segment_text(struct textbuf *tb, const struct segment *seg,
    const struct kshm_stat *st)
{
	/*
	 * Written out directly: this is every Open's and Create's reply, and
	 * names need no escaping (proto_name_valid() allows none of " \ or
	 * control characters).
	 */
	textbuf_lit(tb, "{\"name\":\"");
	textbuf_str(tb, seg->name);
	textbuf_lit(tb, "\",\"shmid\":");
	textbuf_i64(tb, seg->shmid);
	textbuf_lit(tb, ",\"key\":");
	textbuf_i64(tb, (int32_t)seg->key);
	textbuf_lit(tb, ",\"size\":");
	textbuf_u64(tb, seg->size);
	textbuf_lit(tb, ",\"mode\":");
	textbuf_u64(tb, st->mode & 0777);
	textbuf_lit(tb, ",\"uid\":");
	textbuf_u64(tb, st->uid);
	textbuf_lit(tb, ",\"gid\":");
	textbuf_u64(tb, st->gid);
	textbuf_lit(tb, ",\"lifetime\":\"");
	textbuf_str(tb, proto_lifetime_name(seg->lifetime));
	textbuf_lit(tb, "\",\"nattch\":");
	textbuf_u64(tb, st->nattch);
	textbuf_lit(tb, ",\"creator_uid\":");
	textbuf_u64(tb, seg->creator_uid);
	textbuf_lit(tb, ",\"creator_pid\":");
	textbuf_i64(tb, seg->creator_pid);
	textbuf_lit(tb, ",\"created_usec\":");
	textbuf_i64(tb, seg->created_usec);
	if (seg->lifetime == PROTO_LIFETIME_DETACH) {
		textbuf_lit(tb, ",\"attach_timeout\":");
		textbuf_u64(tb, seg->attach_timeout);
	}
	textbuf_lit(tb, "}");
}

int
server_segment_is(const struct kshm_stat *st, pid_t cpid, uint64_t size,
    int marked)
{
	/* The shmid was reused by someone else's segment. */
	if (st->cpid != cpid || st->size != size)
		return 0;
	/* Marked for removal by someone else (ipcrm): gone for us too. */
	if ((st->mode & SHMD_SHM_DEST) && !marked)
		return 0;
	return 1;
}

int
server_stat_segment(struct server *srv, const struct segment *seg,
    struct kshm_stat *st)
{
	if (kshm_stat(seg->shmid, st) == -1 ||
	    !server_segment_is(st, seg->kernel_cpid, seg->size,
	    seg->rmid_marked))
		return -1;
	return 0;
}

void
server_recorded_stat(const struct segment *seg, struct kshm_stat *st)
{
	memset(st, 0, sizeof *st);
	st->shmid = seg->shmid;
	st->key = seg->key;
	st->uid = seg->uid;
	st->gid = seg->gid;
	st->mode = seg->mode;
	st->size = seg->size;
}

void
server_forget(struct server *srv, struct segment *seg, enum proto_event ev,
    const struct kshm_stat *st)
{
	if (state_record_destroy(srv, seg) == -1)
		log_warn("state: cannot record the end of %s", seg->name);
	registry_remove(&srv->registry, seg);
	procwatch_put(seg->watch);
	seg->watch = NULL;
	server_notify(srv, ev, seg, st);
	segment_destroy(seg);
}

void
server_vanished(struct server *srv, struct segment *seg)
{
	struct kshm_stat	st;

	log_notice("segment %s (shmid %d) was removed behind shmd's back",
	    seg->name, seg->shmid);
	srv->vanished++;
	server_recorded_stat(seg, &st);
	server_forget(srv, seg, PROTO_EVENT_VANISHED, &st);
}

void
server_notify(struct server *srv, enum proto_event ev,
    const struct segment *seg, const struct kshm_stat *st)
{
	struct conn	*c;
	struct textbuf	 tb;
	char		 msg[SERVER_SEGMENT_TEXT_MAX + 96];
	long		 n = -1;

	TAILQ_FOREACH(c, &srv->conns, entry) {
		if (!c->watching || c->closing ||
		    !perm_may_open(&c->peer, seg->creator_uid, st))
			continue;
		if (n == -1) {
			textbuf_init(&tb, msg, sizeof msg);
			textbuf_lit(&tb, "{\"parameters\":{\"event\":\"");
			textbuf_str(&tb, proto_event_name(ev));
			textbuf_lit(&tb, "\",\"segment\":");
			server_segment_text(&tb, seg, st);
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
	struct json_object	*arr, *o;
	struct segment		*seg;
	struct kshm_stat	 st;
	struct usage {
		uid_t		uid;
		uint64_t	segments, bytes;
	}			*u = NULL, *tmp;
	size_t			 n = 0, i;

	TAILQ_FOREACH(seg, &srv->registry.segments, entry) {
		if (server_stat_segment(srv, seg, &st) == -1)
			continue;
		for (i = 0; i < n && u[i].uid != st.uid; i++)
			;
		if (i == n) {
			if ((tmp = reallocarray(u, n + 1, sizeof *u)) == NULL) {
				free(u);
				return NULL;
			}
			u = tmp;
			u[n].uid = st.uid;
			u[n].segments = u[n].bytes = 0;
			n++;
		}
		u[i].segments++;
		u[i].bytes += seg->size;
	}
	if ((arr = json_object_new_array()) == NULL) {
		free(u);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if ((o = json_object_new_object()) == NULL ||
		    json_add_int(o, "uid", u[i].uid) == -1 ||
		    json_add_int(o, "segments", (int64_t)u[i].segments) == -1 ||
		    json_add_int(o, "bytes", (int64_t)u[i].bytes) == -1 ||
		    json_object_array_add(arr, o) != 0) {
			json_object_put(o);
			json_object_put(arr);
			free(u);
			return NULL;
		}
	}
	free(u);
	return arr;
}
