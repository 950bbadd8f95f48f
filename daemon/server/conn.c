/*
 * One client connection: framing in, replies out, in order. A call costs
 * one recv and one send, and no allocation: a read lands in one buffer
 * shared by all connections (the loop is single-threaded) and its
 * complete messages are parsed in place; the replies to the calls of one
 * read are gathered in one shared batch and sent together at its end.
 * Only what is left over stays with the connection, in its evbuffers: a
 * message cut across reads, replies the client is not reading yet (then
 * the socket is watched for writing).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/sockios.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <json-c/json.h>

#include "call.h"
#include "conn.h"
#include "dispatch.h"
#include "frame.h"
#include "jsonutil.h"
#include "log.h"
#include "realtime.h"
#include "server.h"
#include "textbuf.h"
#include "user.h"
#include "waiters.h"

#define CONN_READ_CHUNK	65536
#define CONN_BATCH_MAX	65536

static void	conn_readcb(evutil_socket_t, short, void *);
static void	conn_writecb(evutil_socket_t, short, void *);
static void	conn_closecb(evutil_socket_t, short, void *);
static void	conn_resumecb(evutil_socket_t, short, void *);
static void	conn_hupcb(evutil_socket_t, short, void *);
static void	conn_process_input(struct conn *);
static void	conn_yield(struct conn *);
static void	conn_wake_user(struct server *, struct user *);
static size_t	conn_pending(struct conn *);

static char	conn_rbuf[CONN_READ_CHUNK];

static uint64_t
conn_clock_usec(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}


/*
 * The replies to the calls of the read being handled, for its connection,
 * and the last of those calls, freed once its answer is sent.
 */
static struct {
	struct conn		*owner;
	struct json_object	*call;
	size_t			 len;
	char			 buf[CONN_BATCH_MAX];
} batch;

/* The batch is its owner's no longer: its last call, to be freed. */
static struct json_object *
conn_batch_release(void)
{
	struct json_object	*call = batch.call;

	batch.owner = NULL;
	batch.call = NULL;
	return call;
}

/* A call answered (or refused): freed now, or after the batch's send. */
static void
conn_call_done(struct conn *c, struct json_object *msg)
{
	if (batch.owner != c) {
		json_object_put(msg);
		return;
	}
	json_object_put(batch.call);
	batch.call = msg;
}

/*
 * Keeps the server's total of queued output (max_output_bytes) and the
 * uid's (max_output_bytes_per_uid).
 */
static void
conn_out_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct conn	*c = arg;
	uint64_t	 max = c->srv->conf.max_output_bytes_per_uid;
	int		 over = user_output_over(c->user, max);

	c->srv->output_queued += info->n_added;
	c->srv->output_queued -= info->n_deleted;
	user_charge_output(c->user, info->n_added);
	user_release_output(c->user, info->n_deleted);
	if (over && !user_output_over(c->user, max))
		conn_wake_user(c->srv, c->user);
}

/*
 * Whether its uid's unread output is over the uid's budget, or, for a
 * uid but root, everyone's over max_output_bytes.
 */
static int
conn_over_budget(const struct conn *c)
{
	const struct conf	*conf = &c->srv->conf;

	return user_output_over(c->user, conf->max_output_bytes_per_uid) ||
	    (c->user->uid != 0 &&
	    c->srv->output_queued > conf->max_output_bytes);
}

/*
 * u's unread output is back under its budget: its connections that
 * waited for that, with nothing of their own unread, go on (at the next
 * turn of the loop, never under the feet of whoever wrote or dropped).
 */
static void
conn_wake_user(struct server *srv, struct user *u)
{
	struct conn	*c;

	TAILQ_FOREACH(c, &srv->conns, entry)
		if (c->user == u && c->paused && !c->closing &&
		    conn_pending(c) == 0) {
			c->paused = 0;
			event_del(c->hup_ev);
			conn_yield(c);
		}
}

/*
 * A connection's events: where it keeps each, whether it is on the
 * socket, what it waits for, its callback. They live in the connection's
 * own allocation, after it (conn_create(): event_assign()).
 */
static const struct {
	size_t			 off;
	int			 on_fd;
	short			 what;
	event_callback_fn	 cb;
} conn_events[] = {
	{ offsetof(struct conn, rev), 1, EV_READ | EV_PERSIST, conn_readcb },
	{ offsetof(struct conn, wev), 1, EV_WRITE, conn_writecb },
	{ offsetof(struct conn, close_ev), 0, 0, conn_closecb },
	{ offsetof(struct conn, resume_ev), 0, 0, conn_resumecb },
	{ offsetof(struct conn, hup_ev), 1, EV_CLOSED, conn_hupcb },
};
_Static_assert(sizeof conn_events / sizeof conn_events[0] == CONN_EVENTS,
    "a row of conn_events[] for each of a connection's events");
#define CONN_EVENT(c, i) \
	(*(struct event **)((char *)(c) + conn_events[i].off))

struct conn *
conn_create(struct server *srv, int fd, struct peer *peer, struct user *user)
{
	struct conn	*c;
	size_t		 evsize = event_get_struct_event_size();
	int		 i;

	if ((c = calloc(1, sizeof *c + CONN_EVENTS * evsize)) == NULL) {
		peer_finish(peer);
		user_put(user);
		return NULL;
	}
	for (i = 0; i < CONN_EVENTS; i++) {
		CONN_EVENT(c, i) = (struct event *)((char *)(c + 1) +
		    (size_t)i * evsize);
		if (event_assign(CONN_EVENT(c, i), srv->base,
		    conn_events[i].on_fd ? fd : -1, conn_events[i].what,
		    conn_events[i].cb, c) == -1)
			break;
	}
	c->assigned = i == CONN_EVENTS;
	/* (calloc: not traced unless its uid's budget says so) */
	if (user_may_trace_first(user))
		trace_begin(&c->trace);
	c->srv = srv;
	c->fd = fd;
	c->peer = *peer;
	c->user = user;
	c->in = evbuffer_new();
	c->out = evbuffer_new();
	if (c->in == NULL || c->out == NULL || !c->assigned ||
	    evbuffer_add_cb(c->out, conn_out_cb, c) == NULL) {
		c->fd = -1;	/* the caller closes it */
		conn_destroy(c);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&srv->conns, c, entry);
	c->listed = 1;
	c->counted = 1;
	srv->nconns++;
	user_charge_conn(user);
	user_trace(user, "client pid %ld uid %lu connected",
	    (long)c->peer.pid, (unsigned long)c->peer.uid);
	return c;
}

/*
 * No longer counted among the server's clients (nor its uid's), nor
 * admitted against: from when it is closed for good, or spent
 * (conn_count_out_spent()). It stays on the server's list until it is
 * freed.
 */
static void
conn_uncount(struct conn *c)
{
	if (!c->counted)
		return;
	c->srv->nconns--;
	user_release_conn(c->user);
	c->counted = 0;
}

/* What poll(2) says of a socket whose client has closed it. */
#define CONN_PEER_GONE	(POLLHUP | POLLERR)

int
conn_count_out_spent(struct conn *c, short revents)
{
	int	unread;

	if (!(revents & CONN_PEER_GONE) || !c->counted || c->yielded ||
	    evbuffer_get_length(c->in) > 0 ||
	    ioctl(c->fd, SIOCINQ, &unread) == -1 || unread > 0)
		return 0;
	conn_uncount(c);
	return 1;
}

void
conn_destroy(struct conn *c)
{
	int	i;

	if (c == NULL)
		return;
	if (batch.owner == c) {
		batch.len = 0;	/* its output is dropped */
		json_object_put(conn_batch_release());
	}
	/* a client that leaves mid-wait costs nothing more */
	waiters_cancel(c->waiter);
	conn_uncount(c);
	if (c->listed) {
		user_trace(c->user, "client pid %ld uid %lu gone",
		    (long)c->peer.pid, (unsigned long)c->peer.uid);
		TAILQ_REMOVE(&c->srv->conns, c, entry);
	}
	/* (freed with it: conn_create()) */
	for (i = 0; c->assigned && i < CONN_EVENTS; i++)
		event_del(CONN_EVENT(c, i));
	if (c->in != NULL)
		evbuffer_free(c->in);
	if (c->out != NULL) {
		/* through the callback: the server's total goes down */
		evbuffer_drain(c->out, evbuffer_get_length(c->out));
		evbuffer_free(c->out);
	}
	if (c->fd != -1)
		close(c->fd);
	if (c->user != NULL)
		user_put(c->user);
	peer_finish(&c->peer);
	free(c);
}

size_t
conn_queued(const struct conn *c)
{
	return evbuffer_get_length(c->out);
}

/* Replies not yet written: the connection's and its share of the batch. */
static size_t
conn_pending(struct conn *c)
{
	return evbuffer_get_length(c->out) + (batch.owner == c ? batch.len : 0);
}

/* Free the connection from the event loop, never under a caller's feet. */
static void
conn_close_now(struct conn *c)
{
	/*
	 * Closed for good: no longer counted from now (a call read later in
	 * this turn, say a new client's first, sees it gone), freed by
	 * close_ev in this same turn.
	 */
	conn_uncount(c);
	c->closing = 1;
	if (batch.owner == c)
		batch.len = 0;		/* its output is dropped */
	event_del(c->rev);
	event_del(c->wev);
	event_del(c->resume_ev);
	event_del(c->hup_ev);
	event_active(c->close_ev, 0, 0);
}

void
conn_drop(struct conn *c)
{
	evbuffer_drain(c->out, evbuffer_get_length(c->out));
	conn_close_now(c);
}

static void
conn_closecb(evutil_socket_t fd, short what, void *arg)
{
	conn_destroy(arg);
}

void
conn_close(struct conn *c)
{
	if (!c->closing) {
		c->closing = 1;
		event_del(c->rev);
	}
	if (conn_pending(c) == 0)
		conn_close_now(c);
}

/* Write what waits; watch for writability while some is left. */
static void
conn_flush(struct conn *c)
{
	struct timeval	stall = { CONN_STALL_SECS, 0 };
	int		n;

	while (evbuffer_get_length(c->out) > 0) {
		n = evbuffer_write(c->out, c->fd);
		if (n > 0)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n == -1 && errno == EINTR)
			continue;
		conn_drop(c);	/* the peer is gone */
		return;
	}
	if (evbuffer_get_length(c->out) > 0) {
		/* A client that reads none of it this long is dropped. */
		if (!c->writing) {
			event_add(c->wev, &stall);
			c->writing = 1;
		}
		return;
	}
	if (c->writing) {
		event_del(c->wev);
		c->writing = 0;
	}
	if (c->closing) {
		conn_close_now(c);
		return;
	}
	/* Its client read everything: its calls go on, at the next turn. */
	if (c->paused) {
		c->paused = 0;
		conn_yield(c);
	}
}

/* Queue len bytes on the connection's own output. 0, or -1: closed. */
static int
conn_queue(struct conn *c, const char *text, size_t len)
{
	if (evbuffer_add(c->out, text, len) == -1) {
		log_warnx("client pid %ld: out of memory for a reply",
		    (long)c->peer.pid);
		conn_drop(c);
		return -1;
	}
	/*
	 * Events cannot wait: watchers over their uid's budget, or everyone's,
	 * are dropped (callers are paused instead: conn_take()).
	 */
	if (user_output_over(c->user, c->srv->conf.max_output_bytes_per_uid))
		server_shed_output(c->srv, c->user);
	if (c->srv->output_queued > c->srv->conf.max_output_bytes)
		server_shed_output(c->srv, NULL);
	return c->closing && evbuffer_get_length(c->out) == 0 ? -1 : 0;
}

/* A turn begins: replies are gathered, and its share of the loop counted. */
static void
conn_batch_begin(struct conn *c)
{
	batch.owner = c;
	batch.len = 0;
	c->turn_calls = 0;
	c->turn_start = conn_clock_usec();
}

/* Send the batch: what the socket does not take waits in c->out. */
static void
conn_batch_send(struct conn *c)
{
	ssize_t	n = 0;

	if (batch.len > 0 && evbuffer_get_length(c->out) == 0) {
		do
			n = send(c->fd, batch.buf, batch.len,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
		while (n == -1 && errno == EINTR);
		if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK) {
			batch.len = 0;
			conn_close_now(c);	/* the peer is gone */
			return;
		}
		if (n == -1)
			n = 0;
	}
	if ((size_t)n < batch.len &&
	    conn_queue(c, batch.buf + n, batch.len - (size_t)n) == -1) {
		batch.len = 0;
		return;
	}
	batch.len = 0;
	conn_flush(c);
}

static void
conn_batch_end(struct conn *c)
{
	struct json_object	*call;

	if (batch.owner != c)
		return;
	call = conn_batch_release();
	conn_batch_send(c);
	/* (after the answer: freeing its call is not on its client's way) */
	json_object_put(call);
}

void
conn_send_text(struct conn *c, const char *text, size_t len)
{
	if (c->closing)
		return;
	/* The batch, while nothing older waits in c->out. */
	if (batch.owner == c && evbuffer_get_length(c->out) == 0 &&
	    len + 1 <= sizeof batch.buf - batch.len) {
		memcpy(batch.buf + batch.len, text, len + 1);
		batch.len += len + 1;
		return;
	}
	if (batch.owner == c && batch.len > 0) {
		if (conn_queue(c, batch.buf, batch.len) == -1)
			return;
		batch.len = 0;
	}
	if (conn_queue(c, text, len + 1) == -1)
		return;
	/*
	 * A watcher that reads none of its events is dropped; a caller gets
	 * its replies whatever their size (it stops being read meanwhile,
	 * and is dropped only when it reads nothing for CONN_STALL_SECS).
	 */
	if (c->watching && evbuffer_get_length(c->out) > CONN_WATCH_MAX) {
		user_log(c->user, LOG_LEVEL_WARNING, "client pid %ld uid %lu "
		    "does not read its events: dropped", (long)c->peer.pid,
		    (unsigned long)c->peer.uid);
		conn_drop(c);
		return;
	}
	/* Replies to a batch's calls go out at its end. */
	if (batch.owner != c)
		conn_flush(c);
}

void
conn_protocol_error(struct conn *c, const char *reason)
{
	struct json_object	*params = json_object_new_object();
	const char		*ptext;
	char			 text[1024];
	struct textbuf		 tb;
	size_t			 plen;
	long			 n;

	user_log(c->user, LOG_LEVEL_INFO, "client pid %ld uid %lu: protocol "
	    "error: %s", (long)c->peer.pid, (unsigned long)c->peer.uid, reason);
	textbuf_init(&tb, text, sizeof text);
	if (params != NULL && json_add_string(params, "reason", reason) == 0 &&
	    (ptext = json_object_to_json_string_length(params,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
	    &plen)) != NULL && (n = call_message(&tb,
	    proto_error_name(PROTO_ERR_PROTOCOL_ERROR), ptext, plen, 0)) != -1)
		conn_send_text(c, text, (size_t)n);
	json_object_put(params);
	conn_close(c);
}

/* Read again, unless closing, paused, or waiting for its next turn. */
static void
conn_read_resume(struct conn *c)
{
	if (c->closing || c->paused || c->yielded || c->waiter != NULL)
		return;
	if (c->eof) {
		conn_close(c);	/* every call it sent is answered */
		return;
	}
	c->watched = 1;
	event_add(c->rev, NULL);
}

/*
 * Its share of this turn is used up: the calls left wait in c->in, and
 * the others are served before it goes on (a timer, so that the loop
 * polls every socket first).
 */
static void
conn_yield(struct conn *c)
{
	struct timeval	now = { 0, 0 };

	c->yielded = 1;
	event_del(c->rev);
	evtimer_add(c->resume_ev, &now);
}

/*
 * Handle the complete messages in data (len bytes): the bytes taken.
 * What follows the last NUL is a message still to come.
 */
static size_t
conn_take(struct conn *c, const char *data, size_t len)
{
	struct json_object	*msg;
	const char		*nul;
	size_t			 max = c->srv->conf.max_message_size, off = 0;
	size_t			 mlen;
	char			 reason[256];

	while (off < len && !c->closing && !c->paused && !c->yielded &&
	    c->waiter == NULL) {
		/*
		 * No new call while its uid holds more unread output than its
		 * budget: it waits (paused) until some of that is read.
		 */
		if (user_output_over(c->user,
		    c->srv->conf.max_output_bytes_per_uid)) {
			c->paused = 1;
			event_del(c->rev);
			event_add(c->hup_ev, NULL);	/* (a client that leaves) */
			break;
		}
		if ((nul = memchr(data + off, '\0', len - off)) == NULL) {
			if (len - off > max)
				conn_protocol_error(c, "message too long");
			break;
		}
		mlen = (size_t)(nul - (data + off));
		if (mlen > max) {
			conn_protocol_error(c, "message too long");
			break;
		}
		if (c->watching) {
			conn_protocol_error(c, "the connection is watching: "
			    "it takes no further calls");
			break;
		}
		if (frame_decode_with(c->srv->tok, data + off, mlen, &msg,
		    reason, sizeof reason) == -1) {
			conn_protocol_error(c, reason);
			break;
		}
		off += mlen + 1;
		dispatch_message(c, msg);
		conn_call_done(c, msg);
		/*
		 * A waiting Open holds back the calls after it; meanwhile only
		 * the peer's leaving is watched for.
		 */
		if (c->waiter != NULL) {
			event_del(c->rev);
			event_add(c->hup_ev, NULL);
			break;
		}
		/*
		 * Stop reading while the client does not read its replies, or
		 * while its uid (or everyone) is over the output budget and
		 * some of its own wait: until its client reads them.
		 */
		if (!c->closing && (conn_pending(c) > CONN_OUTPUT_HIGH ||
		    (conn_pending(c) > 0 && conn_over_budget(c)))) {
			c->paused = 1;
			event_del(c->rev);
		}
		/* One connection's pipelined calls cannot hold up the others. */
		if (off < len && !c->closing &&
		    (++c->turn_calls >= CONN_TURN_CALLS ||
		    conn_clock_usec() - c->turn_start >= CONN_TURN_USEC))
			conn_yield(c);
	}
	return off;
}

/* Handle what waits in c->in (after a pause, or a message's last part). */
static void
conn_take_buffered(struct conn *c)
{
	size_t		 len = evbuffer_get_length(c->in);
	const char	*data;

	if (len == 0)
		return;
	if ((data = (const char *)evbuffer_pullup(c->in, -1)) == NULL) {
		conn_protocol_error(c, "out of memory");
		return;
	}
	evbuffer_drain(c->in, conn_take(c, data, len));
}

static void
conn_process_input(struct conn *c)
{
	conn_batch_begin(c);
	conn_take_buffered(c);
	conn_batch_end(c);
}

/* A read's data: complete messages in place, the rest kept in c->in. */
static void
conn_input(struct conn *c, const char *data, size_t len)
{
	const char	*nul;
	size_t		 head = 0;

	if (evbuffer_get_length(c->in) > 0) {
		/* It ends a message begun in earlier reads, or continues it. */
		nul = memchr(data, '\0', len);
		head = nul == NULL ? len : (size_t)(nul - data) + 1;
		if (evbuffer_add(c->in, data, head) == -1) {
			conn_protocol_error(c, "out of memory");
			return;
		}
		if (nul == NULL) {
			if (evbuffer_get_length(c->in) >
			    c->srv->conf.max_message_size)
				conn_protocol_error(c, "message too long");
			return;
		}
		conn_take_buffered(c);
	}
	if (evbuffer_get_length(c->in) == 0)
		head += conn_take(c, data + head, len - head);
	if (head < len && !c->closing &&
	    evbuffer_add(c->in, data + head, len - head) == -1)
		conn_protocol_error(c, "out of memory");
}

/*
 * Watched for what the client sends next, from its first read on: a new
 * client's first call (conn_read_now) is answered before its socket is
 * added to the event loop, which is then no longer on its way. Not while
 * reading waits anyway (closing, paused, yielded, waiting, at its end):
 * conn_read_resume() adds it then.
 */
static void
conn_watch(struct conn *c)
{
	if (c->watched)
		return;
	c->watched = 1;
	if (c->closing || c->paused || c->yielded || c->waiter != NULL ||
	    c->eof)
		return;
	if (event_add(c->rev, NULL) == -1) {
		log_warnx("connection of pid %ld: cannot watch it",
		    (long)c->peer.pid);
		conn_close(c);
	}
}

static void
conn_readcb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;
	ssize_t		 n;

	n = recv(fd, conn_rbuf, sizeof conn_rbuf, 0);
	if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
		conn_watch(c);
		return;
	}
	if (n == -1) {
		conn_close_now(c);
		return;
	}
	if (c->trace.on) {
		trace_current = &c->trace;
		trace_mark(TRACE_READ);
	}
	conn_batch_begin(c);
	conn_input(c, conn_rbuf, (size_t)n);
	conn_batch_end(c);
	if (c->trace.on) {
		trace_mark(TRACE_REPLIED);
		trace_end(&c->trace, c->peer.pid);
	}
	/* The client shut down its side: answer what it sent, then close. */
	if (n == 0) {
		c->eof = 1;
		event_del(c->rev);
		conn_read_resume(c);
	}
	conn_watch(c);
}

void
conn_read_now(struct conn *c)
{
	event_active(c->rev, EV_READ, 1);
}

void
conn_wait_over(struct conn *c)
{
	event_del(c->hup_ev);
	if (!c->closing)
		conn_yield(c);	/* the rest, at the loop's next turn */
}

/*
 * The peer closed while its call waits: gone (POLLHUP), it costs nothing
 * more; only done sending (shutdown), it still gets its answer.
 */
static void
conn_hupcb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;
	struct pollfd	 pfd = { fd, POLLOUT, 0 };

	if (poll(&pfd, 1, 0) == 1 && (pfd.revents & CONN_PEER_GONE))
		conn_drop(c);
	else
		c->eof = 1;
}

static void
conn_resumecb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	c->yielded = 0;
	conn_process_input(c);
	conn_read_resume(c);
}

static void
conn_writecb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	/* Writable again (progress) or timed out: wev is no longer pending. */
	c->writing = 0;
	if (what & EV_TIMEOUT) {
		user_log(c->user, LOG_LEVEL_WARNING, "client pid %ld uid %lu "
		    "has read none of its replies for %d s: dropped",
		    (long)c->peer.pid, (unsigned long)c->peer.uid,
		    CONN_STALL_SECS);
		conn_drop(c);
		return;
	}
	conn_flush(c);
	if (c->paused && !c->closing &&
	    evbuffer_get_length(c->out) < CONN_OUTPUT_HIGH / 2 &&
	    !conn_over_budget(c)) {
		c->paused = 0;
		if (!c->yielded)
			conn_process_input(c);
		conn_read_resume(c);
	}
}
