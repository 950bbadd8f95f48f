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
struct event;
struct conn;
struct kshm_stat;
struct json_object;
struct json_tokener;
struct textbuf;

TAILQ_HEAD(conn_list, conn);

/* A listening socket: the main one, or root's (admin_socket). */
struct server_listener {
	struct server	*srv;
	int		 fd;		/* -1: none */
	char		*path;		/* bound by the daemon: unlinked at exit */
	struct event	*ev;		/* readable: connections wait */
	struct event	*resume;	/* accepts again after EMFILE */
	struct event	*more;		/* accepts, at the end of the turn */
	struct event	*rest;		/* the others, at the next turn */
	int		 first_alone;	/* more accepts one, rest the others */
	int		 ready;		/* readable at this turn's look */
};

/* Connections accepted from one socket in one turn of the event loop. */
#define SERVER_ACCEPT_BATCH	64
/* listen(2)'s backlog (the kernel caps it at net.core.somaxconn). */
#define SERVER_BACKLOG		4096
/* Event priorities: root's socket before everything else. */
#define SERVER_PRIORITY_ADMIN	0
#define SERVER_PRIORITY_MAIN	1

struct server {
	struct event_base	*base;
	struct conf		 conf;
	struct lifecycle	 life;		/* the segments */
	struct server_listener	 main;		/* socket */
	struct server_listener	 admin;		/* admin_socket */
	struct conn_list	 conns;
	size_t			 nconns;
	struct user_registry	 users;		/* what each uid holds */
	struct waiters		 waiters;	/* Open calls waiting for a name */
	size_t			 output_queued;	/* all connections' unsent bytes */
	uint64_t		 requests;
	int64_t			 start_usec;
	uid_t			 euid;
	pid_t			 pid;
	uint64_t		 ipc_namespace;	/* /proc/self/ns/ipc's inode */
	int			 ipc_namespace_fd; /* it, held (server_init()) */
	struct json_tokener	*tok;		/* parses every message */
};

/* Set up without a socket: for the daemon and for in-process tests. */
int	server_init(struct server *, struct event_base *, const struct conf *);
/* Close every connection and free everything; kernel segments stay. */
void	server_finish(struct server *);

/*
 * Bind the configured socket and admin_socket; or, socket-activated (fd
 * or admin_fd >= 0), serve what was handed over and bind nothing.
 */
int	server_listen(struct server *, int fd, int admin_fd);
/* Stop listening; remove the socket files the daemon made. */
void	server_unlisten(struct server *);
/* Connections root may open beyond max_clients. */
#define SERVER_ROOT_RESERVE	16

/*
 * Serve one already-connected socket (accept, tests, fuzzing), or refuse
 * it with QuotaExceeded when the caller's uid or everyone is at a limit
 * (counted without the caller's connections whose clients have closed
 * them). What it sent is read in this turn of the loop.
 */
struct conn *server_adopt(struct server *, int fd);

/*
 * Queued output passed u's budget (max_output_bytes_per_uid), or, u
 * NULL, everyone's (max_output_bytes): drop the watchers (of u) holding
 * the most unread events until it fits, and give the memory back.
 * Callers are never dropped for it: they are paused (conn.c).
 */
void	server_shed_output(struct server *, struct user *u);

/* Tell every watcher that may see it about a segment event. */
void	server_notify(struct server *, enum proto_event,
	    const struct segment *, const struct kshm_stat *);

/* Status's usage: what each uid is charged (shmd-protocol(7)'s quotas). */
struct json_object *server_usage_json(struct server *);

#endif
