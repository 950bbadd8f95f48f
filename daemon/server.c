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
	srv->start_usec = realtime_usec();
	srv->euid = geteuid();
	srv->pid = getpid();
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
	lifecycle_finish(&srv->life);
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
