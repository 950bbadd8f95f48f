/*
 * One client connection: framing in, replies out, in order. The I/O is
 * plain events on the socket and evbuffers, so that a call costs a recv
 * and a writev: replies are written at once, and the socket is watched
 * for writing only while replies wait.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <json-c/json.h>

#include "conn.h"
#include "dispatch.h"
#include "frame.h"
#include "jsonutil.h"
#include "log.h"
#include "server.h"

#define CONN_READ_CHUNK	16384

static void	conn_readcb(evutil_socket_t, short, void *);
static void	conn_writecb(evutil_socket_t, short, void *);
static void	conn_closecb(evutil_socket_t, short, void *);
static void	conn_process_input(struct conn *);

struct conn *
conn_create(struct server *srv, int fd)
{
	struct conn	*c;

	if ((c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	c->srv = srv;
	c->fd = fd;
	if (peer_from_socket(fd, &c->peer) == -1) {
		log_warn("connection: peer credentials");
		free(c);
		return NULL;
	}
	c->in = evbuffer_new();
	c->out = evbuffer_new();
	c->rev = event_new(srv->base, fd, EV_READ | EV_PERSIST, conn_readcb, c);
	c->wev = event_new(srv->base, fd, EV_WRITE, conn_writecb, c);
	c->close_ev = event_new(srv->base, -1, 0, conn_closecb, c);
	if (c->in == NULL || c->out == NULL || c->rev == NULL ||
	    c->wev == NULL || c->close_ev == NULL ||
	    event_add(c->rev, NULL) == -1) {
		c->fd = -1;	/* the caller closes it */
		conn_destroy(c);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&srv->conns, c, entry);
	c->listed = 1;
	srv->nconns++;
	log_debug("client pid %ld uid %lu connected", (long)c->peer.pid,
	    (unsigned long)c->peer.uid);
	return c;
}

void
conn_destroy(struct conn *c)
{
	if (c == NULL)
		return;
	if (c->listed) {
		log_debug("client pid %ld uid %lu gone", (long)c->peer.pid,
		    (unsigned long)c->peer.uid);
		TAILQ_REMOVE(&c->srv->conns, c, entry);
		c->srv->nconns--;
	}
	if (c->rev != NULL)
		event_free(c->rev);
	if (c->wev != NULL)
		event_free(c->wev);
	if (c->close_ev != NULL)
		event_free(c->close_ev);
	if (c->in != NULL)
		evbuffer_free(c->in);
	if (c->out != NULL)
		evbuffer_free(c->out);
	if (c->fd != -1)
		close(c->fd);
	peer_finish(&c->peer);
	free(c);
}

/* Free the connection from the event loop, never under a caller's feet. */
static void
conn_close_now(struct conn *c)
{
	c->closing = 1;
	event_del(c->rev);
	event_del(c->wev);
	event_active(c->close_ev, 0, 0);
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
	if (evbuffer_get_length(c->out) == 0)
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
		/* the peer is gone */
		evbuffer_drain(c->out, evbuffer_get_length(c->out));
		conn_close_now(c);
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
	if (c->closing)
		conn_close_now(c);
}

void
conn_send(struct conn *c, struct json_object *msg)
{
	const char	*s;
	size_t		 len;

	if ((s = frame_encode(msg, &len)) == NULL) {
		log_warnx("client pid %ld: out of memory for a reply",
		    (long)c->peer.pid);
		conn_close_now(c);
		return;
	}
	conn_send_text(c, s, len - 1);
}

void
conn_send_text(struct conn *c, const char *text, size_t len)
{
	if (c->closing)
		return;
	if (evbuffer_add(c->out, text, len + 1) == -1) {
		log_warnx("client pid %ld: out of memory for a reply",
		    (long)c->peer.pid);
		evbuffer_drain(c->out, evbuffer_get_length(c->out));
		conn_close_now(c);
		return;
	}
	if (evbuffer_get_length(c->out) > CONN_OUTPUT_MAX) {
		log_warnx("client pid %ld uid %lu does not read its replies: "
		    "dropped", (long)c->peer.pid, (unsigned long)c->peer.uid);
		evbuffer_drain(c->out, evbuffer_get_length(c->out));
		conn_close_now(c);
		return;
	}
	/* Replies to pipelined calls go out together, after the batch. */
	if (!c->dispatching)
		conn_flush(c);
}

void
conn_protocol_error(struct conn *c, const char *reason)
{
	struct json_object	*msg, *params;

	log_info("client pid %ld uid %lu: protocol error: %s",
	    (long)c->peer.pid, (unsigned long)c->peer.uid, reason);
	msg = json_object_new_object();
	params = json_object_new_object();
	if (msg != NULL && params != NULL &&
	    json_add_string(params, "reason", reason) == 0 &&
	    json_add_string(msg, "error",
	    proto_error_name(PROTO_ERR_PROTOCOL_ERROR)) == 0) {
		json_add(msg, "parameters", params);
		params = NULL;
		conn_send(c, msg);
	}
	json_object_put(params);
	json_object_put(msg);
	conn_close(c);
}

/* Handle every complete message in the input buffer. */
static void
conn_process_input(struct conn *c)
{
	struct evbuffer_ptr	 pos;
	struct json_object	*msg;
	size_t			 max = c->srv->conf.max_message_size, len;
	char			*data, reason[256];

	c->dispatching = 1;
	while (!c->closing && !c->paused) {
		len = evbuffer_get_length(c->in);
		if (len == 0)
			break;
		if (c->scanned > len)
			c->scanned = 0;
		if (evbuffer_ptr_set(c->in, &pos, c->scanned,
		    EVBUFFER_PTR_SET) == -1)
			break;
		pos = evbuffer_search(c->in, "", 1, &pos);
		if (pos.pos == -1) {
			c->scanned = len;
			if (len > max)
				conn_protocol_error(c, "message too long");
			break;
		}
		c->scanned = 0;
		if ((size_t)pos.pos > max) {
			conn_protocol_error(c, "message too long");
			break;
		}
		if (c->watching) {
			conn_protocol_error(c, "the connection is watching: "
			    "it takes no further calls");
			break;
		}
		if ((data = (char *)evbuffer_pullup(c->in, pos.pos + 1)) ==
		    NULL) {
			conn_protocol_error(c, "out of memory");
			break;
		}
		if (frame_decode_with(c->srv->tok, data, (size_t)pos.pos, &msg,
		    reason, sizeof reason) == -1) {
			evbuffer_drain(c->in, (size_t)pos.pos + 1);
			conn_protocol_error(c, reason);
			break;
		}
		evbuffer_drain(c->in, (size_t)pos.pos + 1);
		dispatch_message(c, msg);
		json_object_put(msg);
		/* Stop reading while the client does not read its replies. */
		if (!c->closing &&
		    evbuffer_get_length(c->out) > CONN_OUTPUT_HIGH) {
			c->paused = 1;
			event_del(c->rev);
		}
	}
	c->dispatching = 0;
	conn_flush(c);
}

static void
conn_readcb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;
	struct evbuffer_iovec	 iov;
	ssize_t			 n;

	if (evbuffer_reserve_space(c->in, CONN_READ_CHUNK, &iov, 1) < 1) {
		log_warnx("client pid %ld: out of memory", (long)c->peer.pid);
		conn_close_now(c);
		return;
	}
	n = recv(fd, iov.iov_base, iov.iov_len, 0);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == -1) {
		conn_close_now(c);
		return;
	}
	iov.iov_len = (size_t)n;
	evbuffer_commit_space(c->in, &iov, 1);
	conn_process_input(c);
	/* The client shut down its side: answer what it sent, then close. */
	if (n == 0)
		conn_close(c);
}

static void
conn_writecb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	/* Writable again (progress) or timed out: wev is no longer pending. */
	c->writing = 0;
	if (what & EV_TIMEOUT) {
		log_warnx("client pid %ld uid %lu has read none of its replies "
		    "for %d s: dropped", (long)c->peer.pid,
		    (unsigned long)c->peer.uid, CONN_STALL_SECS);
		evbuffer_drain(c->out, evbuffer_get_length(c->out));
		conn_close_now(c);
		return;
	}
	conn_flush(c);
	if (c->paused && !c->closing &&
	    evbuffer_get_length(c->out) < CONN_OUTPUT_HIGH / 2) {
		c->paused = 0;
		event_add(c->rev, NULL);
		conn_process_input(c);
	}
}
