/* One managed segment: its record, and its text in replies and events. */
#ifndef SHMD_SEGMENT_H
#define SHMD_SEGMENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>
#include <time.h>

#include "policy.h"
#include "proto.h"

struct kshm_stat;
struct textbuf;
struct procwatch;

struct segment {
	TAILQ_ENTRY(segment)	 entry;
	char			*name;
	int			 shmid;
	int32_t			 key;
	uint64_t		 size;
	enum proto_lifetime	 lifetime;
	uint64_t		 attach_timeout;	/* seconds */
	uid_t			 uid;		/* owner given at Create */
	gid_t			 gid;
	unsigned		 mode;
	struct shm_policy	 policy;
	int			 declared;	/* made from a declaration */
	/*
	 * The daemon's own attach that set the NUMA node (kmem.c), as the
	 * kernel showed it after: it never counts as an attach
	 * (segment_attached()). 0: none.
	 */
	time_t			 self_atime, self_dtime;
	pid_t			 self_lpid;
	uid_t			 creator_uid;
	pid_t			 creator_pid;	/* 0: in a pid namespace shmd
						   could not see */
	uint64_t		 creator_start;	/* its start time, in ticks; 0:
						   known by creator_ino */
	uint64_t		 creator_ino;	/* its pidfd's inode; 0: unknown */
	uint64_t		 creator_pidns;	/* the pid namespace creator_pid
						   is a number of (shmd's) */
	int64_t			 created_usec;	/* wall clock: shown only */
	int64_t			 created_boot;	/* boot clock: deadlines */
	/* Identity (PROTOCOL.md): shmid, key, size and this, never a pid. */
	uid_t			 kernel_cuid;	/* the daemon's euid that made it */
	int			 rmid_marked;	/* we marked it IPC_RMID (keyless) */
	int			 unhanded;	/* recovery: not handed over yet */
	size_t			 poll;		/* its index in polls, plus 1; 0: none */
	struct procwatch	*watch;		/* the creator, for "process" */
	int			 creator_gone;	/* it exited: reap */
	/*
	 * A "process" segment whose creator this run cannot see (another
	 * pid namespace, after a restart): it ends at its next last detach,
	 * or attach_timeout after lost_boot if nobody attaches it. The
	 * kernel's atime and dtime then tell whether anyone has since.
	 */
	int			 creator_lost;
	int64_t			 lost_boot;
	time_t			 lost_atime, lost_dtime;
	/* What shmd last saw the kernel hold (IPC_SET may change it). */
	uid_t			 seen_uid;
	gid_t			 seen_gid;
	unsigned		 seen_mode;
};

/* A new record (not yet in the registry); NULL when out of memory. */
struct segment *segment_create(const char *name);
void	segment_destroy(struct segment *);
/* Remember the owner and mode the kernel shows now (st). */
void	segment_saw(struct segment *, const struct kshm_stat *st);
/*
 * Whether anyone but the daemon has attached the segment since it was
 * made, as st shows: 1 or 0.
 */
int	segment_attached(const struct segment *, const struct kshm_stat *st);
/* What shmd last saw, as a kshm_stat for the permission rules. */
void	segment_seen_stat(const struct segment *, struct kshm_stat *st);

/* Longest text of a Segment object. */
#define SEGMENT_TEXT_MAX	(PROTO_NAME_MAX + 640)
/*
 * Append a segment as the protocol's Segment object, in JSON text, with
 * what the kernel holds (st). Written out by hand: it is every Open's and
 * Create's reply (tests/unit/check_segment.c parses it with json-c).
 */
void	segment_text(struct textbuf *, const struct segment *,
	    const struct kshm_stat *st);

#endif
