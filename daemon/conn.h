/* One client connection: framing in, replies out, in order. */
#ifndef SHMD_CONN_H
#define SHMD_CONN_H

#include <stddef.h>
#include <sys/queue.h>

#include "perm.h"
#include "proto.h"

struct event;
struct evbuffer;
struct json_object;
struct server;

/* Output past this stops reading from the client until it drains. */
#define CONN_OUTPUT_HIGH	(1024 * 1024)
/* Output past this drops the client: it does not read its replies. */
#define CONN_OUTPUT_MAX		(8 * 1024 * 1024)
/* A client that reads nothing of its pending replies this long is dropped. */
#define CONN_STALL_SECS		5

struct conn {
	TAILQ_ENTRY(conn)	 entry;
	struct server		*srv;
	int			 fd;
	struct evbuffer		*in, *out;
	struct event		*rev, *wev;	/* readable, writable */
	struct event		*close_ev;	/* frees it from the event loop */
	struct peer		 peer;
	int			 watching;	/* called Watch: takes no more calls */
	int			 closing;	/* flush the output, then close */
	int			 paused;	/* reading stopped for backpressure */
	int			 writing;	/* wev is pending */
	int			 listed;	/* in srv->conns */
};

struct conn *conn_create(struct server *, int fd);
void	conn_destroy(struct conn *);

/* Queue one message (a JSON object) on the connection. */
void	conn_send(struct conn *, struct json_object *msg);
/* Queue one message given as JSON text (len bytes, NUL-terminated). */
void	conn_send_text(struct conn *, const char *text, size_t len);
/* Stop reading, and close once the output is written. */
void	conn_close(struct conn *);
/* Send io.shmd.ProtocolError, then close once it is written. */
void	conn_protocol_error(struct conn *, const char *reason);


#endif
