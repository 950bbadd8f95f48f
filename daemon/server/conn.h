/* One client connection: framing in, replies out, in order. */
#ifndef SHMD_CONN_H
#define SHMD_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "perm.h"
#include "proto.h"
#include "trace.h"

struct event;
struct evbuffer;
struct json_object;
struct server;
struct user;
struct waiter;

/* Output past this stops reading from the client until it drains. */
#define CONN_OUTPUT_HIGH	(1024 * 1024)
/* Events queued past this drop a watcher that does not read them. */
#define CONN_WATCH_MAX		(8 * 1024 * 1024)
/* A client that reads nothing of its pending replies this long is dropped. */
#define CONN_STALL_SECS		5
/* A connection's share of a turn of the event loop: calls, microseconds. */
#define CONN_TURN_CALLS		32
#define CONN_TURN_USEC		2000

/* Its events: rev, wev, close_ev, resume_ev, hup_ev. */
#define CONN_EVENTS		5

struct conn {
	TAILQ_ENTRY(conn)	 entry;
	struct server		*srv;
	int			 fd;
	struct evbuffer		*in, *out;
	struct event		*rev, *wev;	/* readable, writable */
	struct event		*close_ev;	/* frees it from the event loop */
	struct event		*resume_ev;	/* goes on after yielding a turn */
	struct event		*hup_ev;	/* the peer leaves mid-wait */
	int			 assigned;	/* the five, after struct conn */
	struct peer		 peer;
	struct user		*user;		/* charged for the connection */
	struct waiter		*waiter;	/* its Open waiting for a name */
	int			 watching;	/* called Watch: takes no more calls */
	int			 closing;	/* flush the output, then close */
	int			 paused;	/* reading stopped for backpressure */
	int			 yielded;	/* calls wait for the next turn */
	int			 eof;		/* the client shut down its side */
	int			 watched;	/* rev was added once (conn_watch) */
	unsigned		 turn_calls;	/* calls taken in this turn */
	uint64_t		 turn_start;	/* when it began, monotonic usec */
	int			 writing;	/* wev is pending */
	int			 listed;	/* in srv->conns */
	int			 counted;	/* in srv->nconns, user->conns */
	struct trace		 trace;		/* its first call (debug level) */
};

/*
 * Serve fd for peer, charged to user: takes peer (its groups) and the
 * reference to user, also on failure (NULL: the caller closes fd).
 */
struct conn *conn_create(struct server *, int fd, struct peer *peer,
	    struct user *user);
void	conn_destroy(struct conn *);
/*
 * Counted out of the limits now if poll(2)'s revents for its socket say
 * its client closed it and nothing it sent is left to run (its next
 * read is its end). 1 when it was.
 */
int	conn_count_out_spent(struct conn *, short revents);
/*
 * Read what the client sent in this turn of the loop, without waiting:
 * a new connection's first read, before it is watched for more.
 */
void	conn_read_now(struct conn *);
/* Bytes of replies and events queued, not yet written. */
size_t	conn_queued(const struct conn *);
/* Drop the connection now, its queued output with it. */
void	conn_drop(struct conn *);
/*
 * Its waiting call was answered: take its next calls, from the event
 * loop (never under the feet of whoever answered).
 */
void	conn_wait_over(struct conn *);

/* Queue one message, JSON text (len bytes, NUL-terminated): call.h's. */
void	conn_send_text(struct conn *, const char *text, size_t len);
/* Stop reading, and close once the output is written. */
void	conn_close(struct conn *);
/* Send io.shmd.ProtocolError, then close once it is written. */
void	conn_protocol_error(struct conn *, const char *reason);


#endif
