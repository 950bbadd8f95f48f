/* One client connection: framing in, replies out, in order. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <json-c/json.h>

#include "conn.h"
#include "dispatch.h"
#include "frame.h"
#include "jsonutil.h"
#include "log.h"
#include "server.h"

static void	conn_readcb(struct bufferevent *, void *);
static void	conn_writecb(struct bufferevent *, void *);
static void	conn_eventcb(struct bufferevent *, short, void *);
static void	conn_closecb(evutil_socket_t, short, void *);

struct conn *
conn_create(struct server *srv, int fd)
{
	struct conn	*c;

	if ((c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	c->srv = srv;
	if (peer_from_socket(fd, &c->peer) == -1) {
		log_warn("connection: peer credentials");
		free(c);
		return NULL;
	}
	c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		peer_finish(&c->peer);
		free(c);
		return NULL;
	}
	c->close_ev = event_new(srv->base, -1, 0, conn_closecb, c);
	if (c->close_ev == NULL) {
		bufferevent_free(c->bev);
		peer_finish(&c->peer);
		free(c);
		return NULL;
	}
	bufferevent_setcb(c->bev, conn_readcb, conn_writecb, conn_eventcb, c);
	{
		struct timeval	stall = { CONN_STALL_SECS, 0 };

		/* Fires only while replies wait and none can be written. */
		bufferevent_set_timeouts(c->bev, NULL, &stall);
	}
	if (bufferevent_enable(c->bev, EV_READ | EV_WRITE) == -1) {
		event_free(c->close_ev);
		bufferevent_free(c->bev);
		peer_finish(&c->peer);
		free(c);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&srv->conns, c, entry);
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
	log_debug("client pid %ld uid %lu gone", (long)c->peer.pid,
	    (unsigned long)c->peer.uid);
	TAILQ_REMOVE(&c->srv->conns, c, entry);
	c->srv->nconns--;
	event_free(c->close_ev);
	bufferevent_free(c->bev);
	peer_finish(&c->peer);
	free(c);
}

void
conn_send(struct conn *c, struct json_object *msg)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	const char	*s;
	size_t		 len;

	if (c->closing)
		return;
	if ((s = frame_encode(msg, &len)) == NULL ||
	    evbuffer_add(out, s, len) == -1) {
		log_warnx("client pid %ld: out of memory for a reply",
		    (long)c->peer.pid);
		conn_close(c);
		return;
	}
	if (evbuffer_get_length(out) > CONN_OUTPUT_MAX) {
		log_warnx("client pid %ld uid %lu does not read its replies: "
		    "dropped", (long)c->peer.pid, (unsigned long)c->peer.uid);
		/* Nothing more is worth writing. */
		evbuffer_drain(out, evbuffer_get_length(out));
		conn_close(c);
	}
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

/* Stop reading; free the connection from the event loop once its output is written. */
void
conn_close(struct conn *c)
{
	if (!c->closing) {
		c->closing = 1;
		bufferevent_disable(c->bev, EV_READ);
	}
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		event_active(c->close_ev, 0, 0);
}

static void
conn_closecb(evutil_socket_t fd, short what, void *arg)
{
	conn_destroy(arg);
}

/* Handle every complete message in the input buffer. */
void
conn_process_input(struct conn *c)
{
	struct evbuffer		*in = bufferevent_get_input(c->bev);
	struct evbuffer_ptr	 pos;
	struct json_object	*msg;
	size_t			 max = c->srv->conf.max_message_size, len;
	char			*data, reason[256];

	while (!c->closing && !c->paused) {
		len = evbuffer_get_length(in);
		if (len == 0)
			return;
		if (c->scanned > len)
			c->scanned = 0;
		if (evbuffer_ptr_set(in, &pos, c->scanned,
		    EVBUFFER_PTR_SET) == -1)
			return;
		pos = evbuffer_search(in, "", 1, &pos);
		if (pos.pos == -1) {
			c->scanned = len;
			if (len > max)
				conn_protocol_error(c, "message too long");
			return;
		}
		c->scanned = 0;
		if ((size_t)pos.pos > max) {
			conn_protocol_error(c, "message too long");
			return;
		}
		if (c->watching) {
			conn_protocol_error(c, "the connection is watching: "
			    "it takes no further calls");
			return;
		}
		if ((data = (char *)evbuffer_pullup(in, pos.pos + 1)) == NULL) {
			conn_protocol_error(c, "out of memory");
			return;
		}
		if (frame_decode(data, (size_t)pos.pos, &msg, reason,
		    sizeof reason) == -1) {
			evbuffer_drain(in, (size_t)pos.pos + 1);
			conn_protocol_error(c, reason);
			return;
		}
		evbuffer_drain(in, (size_t)pos.pos + 1);
		dispatch_message(c, msg);
		json_object_put(msg);
		/* Stop reading while the client does not read its replies. */
		if (!c->closing && evbuffer_get_length(
		    bufferevent_get_output(c->bev)) > CONN_OUTPUT_HIGH) {
			c->paused = 1;
			bufferevent_disable(c->bev, EV_READ);
			bufferevent_setwatermark(c->bev, EV_WRITE,
			    CONN_OUTPUT_HIGH / 2, 0);
		}
	}
}

static void
conn_readcb(struct bufferevent *bev, void *arg)
{
	conn_process_input(arg);
}

static void
conn_writecb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	if (c->closing) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			conn_destroy(c);
		return;
	}
	if (c->paused) {
		c->paused = 0;
		bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
		bufferevent_enable(bev, EV_READ);
		conn_process_input(c);
	}
}

static void
conn_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;

	if (what & BEV_EVENT_ERROR) {
		conn_destroy(c);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		log_warnx("client pid %ld uid %lu has read none of its replies "
		    "for %d s: dropped", (long)c->peer.pid,
		    (unsigned long)c->peer.uid, CONN_STALL_SECS);
		conn_destroy(c);
		return;
	}
	/* The client shut down its side: answer what it sent, then close. */
	if (what & BEV_EVENT_EOF)
		conn_close(c);
}
