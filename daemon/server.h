/* The daemon: one event loop, its listening socket, its connections. */
#ifndef SHMD_SERVER_H
#define SHMD_SERVER_H

#include <stdint.h>
#include <sys/queue.h>

#include "conf.h"
#include "lifecycle.h"
#include "proto.h"
#include "user.h"
#include "waiters.h"

struct event_base;
struct evconnlistener;
struct event;
struct conn;
struct kshm_stat;
struct json_object;
struct json_tokener;
struct textbuf;

TAILQ_HEAD(conn_list, conn);

struct server {
	struct event_base	*base;
	struct conf		 conf;
	struct lifecycle	 life;		/* the segments */
	struct evconnlistener	*listener;
	struct event		*accept_timer;	/* re-enables accept after EMFILE */
	struct conn_list	 conns;
	size_t			 nconns;
	struct user_registry	 users;		/* what each uid holds */
	struct waiters		 waiters;	/* Open calls waiting for a name */
	size_t			 output_queued;	/* all connections' unsent bytes */
	int64_t			 refused_logged;	/* last refusal logged, usec */
	uint64_t		 refused_quiet;	/* refusals not logged since */
	uint64_t		 requests;
	int64_t			 start_usec;
	uid_t			 euid;
	pid_t			 pid;
	uint64_t		 ipc_namespace;	/* /proc/self/ns/ipc's inode */
	int			 own_socket;	/* we bound it: unlink at exit */
	struct json_tokener	*tok;		/* parses every message */
};

/* Set up without a socket: for the daemon and for in-process tests. */
int	server_init(struct server *, struct event_base *, const struct conf *);
/* Close every connection and free everything; kernel segments stay. */
void	server_finish(struct server *);

/* Bind the configured socket, or adopt fd when >= 0 (socket activation). */
int	server_listen(struct server *, int fd);
/* Stop listening; remove the socket file if the daemon made it. */
void	server_unlisten(struct server *);
/* Connections root may open beyond max_clients. */
#define SERVER_ROOT_RESERVE	16

/*
 * Serve one already-connected socket (accept, tests, fuzzing), or refuse
 * it with QuotaExceeded when the caller's uid or everyone is at a limit.
 */
struct conn *server_adopt(struct server *, int fd);

/*
 * All connections' queued output passed max_output_bytes: drop the ones
 * holding the most until it fits, and give the memory back.
 */
void	server_shed_output(struct server *);

/* Tell every watcher that may see it about a segment event. */
void	server_notify(struct server *, enum proto_event,
	    const struct segment *, const struct kshm_stat *);

/* Status's usage: what each uid is charged (shmd-protocol(7)'s quotas). */
struct json_object *server_usage_json(struct server *);

#endif
