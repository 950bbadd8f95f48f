/* The daemon: one event loop, its listening socket, its connections. */
#ifndef SHMD_SERVER_H
#define SHMD_SERVER_H

#include <stdint.h>
#include <sys/queue.h>

#include "conf.h"
#include "keyalloc.h"
#include "procwatch.h"
#include "proto.h"
#include "registry.h"

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
	struct registry		 registry;
	struct keyalloc		 keys;
	struct evconnlistener	*listener;
	struct event		*accept_timer;	/* re-enables accept after EMFILE */
	struct conn_list	 conns;
	size_t			 nconns;
	uint64_t		 requests;
	uint64_t		 reaped;
	uint64_t		 vanished;
	int64_t			 start_usec;
	uid_t			 euid;
	pid_t			 pid;
	int			 own_socket;	/* we bound it: unlink at exit */
	struct procwatch_list	 procwatches;
	struct event		*reaper_timer;
	unsigned		 reaper_ticks;
	int			 reaper_unfollowed;	/* a "process" one lacks its watch */
	int			 state_fd;	/* the append-only state log, or -1 */
	uint64_t		 state_records;	/* records in it */
	int			 state_torn;	/* a record was cut short */
	struct json_tokener	*tok;		/* parses every message */
};

/* shm_perm.mode's bit for a segment marked with IPC_RMID. */
#define SHMD_SHM_DEST	01000

/* Set up without a socket: for the daemon and for in-process tests. */
int	server_init(struct server *, struct event_base *, const struct conf *);
/* Close every connection and free everything; kernel segments stay. */
void	server_finish(struct server *);

/* Bind the configured socket, or adopt fd when >= 0 (socket activation). */
int	server_listen(struct server *, int fd);
/* Stop listening; remove the socket file if the daemon made it. */
void	server_unlisten(struct server *);
/* Serve one already-connected socket (accept, tests, fuzzing). */
struct conn *server_adopt(struct server *, int fd);

/* Tell every watcher that may see it about a segment event. */
void	server_notify(struct server *, enum proto_event,
	    const struct segment *, const struct kshm_stat *);

/*
 * The kernel's view of a managed segment, or -1 when it is gone (or its
 * shmid now belongs to another segment): the caller then drops it with
 * server_vanished().
 */
int	server_stat_segment(struct server *, const struct segment *,
	    struct kshm_stat *);
/*
 * Whether st still shows the segment made by (daemon) pid cpid with size,
 * not marked for removal unless marked says shmd marked it: 1 or 0.
 */
int	server_segment_is(const struct kshm_stat *, pid_t cpid, uint64_t size,
	    int marked);
/* What watchers see of a segment without its kernel state: what was recorded. */
void	server_recorded_stat(const struct segment *, struct kshm_stat *);
/* Forget a segment removed behind the daemon's back; logs and notifies. */
void	server_vanished(struct server *, struct segment *);
/*
 * Forget a segment whose kernel side is gone or marked for removal:
 * record it, take it out of the registry, tell watchers about event, free it.
 */
void	server_forget(struct server *, struct segment *, enum proto_event,
	    const struct kshm_stat *);

/* Longest text of a Segment object. */
#define SERVER_SEGMENT_TEXT_MAX	(PROTO_NAME_MAX + 512)
/* Append a segment as PROTOCOL.md's Segment object, in JSON text. */
void	server_segment_text(struct textbuf *, const struct segment *,
	    const struct kshm_stat *);
/* Status's usage: segments and bytes per owner uid, as the kernel shows. */
struct json_object *server_usage_json(struct server *);

int64_t	now_usec(void);

#endif
