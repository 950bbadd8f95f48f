/* The segments the daemon manages, by name. */
#ifndef SHMD_REGISTRY_H
#define SHMD_REGISTRY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "proto.h"

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
	uid_t			 creator_uid;
	pid_t			 creator_pid;
	uint64_t		 creator_start;	/* its start time, in ticks */
	uint64_t		 creator_ino;	/* its pidfd's inode; 0: unknown */
	int64_t			 created_usec;
	pid_t			 kernel_cpid;	/* shm_cpid: the daemon that made it */
	int64_t			 kernel_ctime;	/* as of our IPC_SET */
	int			 rmid_marked;	/* we marked it IPC_RMID (keyless) */
	size_t			 poll;		/* its index in polls, plus 1; 0: none */
	struct procwatch	*watch;		/* the creator, for "process" */
	int			 creator_gone;	/* it exited: reap */
	/* What shmd last saw the kernel hold (IPC_SET may change it). */
	uid_t			 seen_uid;
	gid_t			 seen_gid;
	unsigned		 seen_mode;
};

TAILQ_HEAD(segment_list, segment);

/* What one owner uid holds, for the per-uid quotas. */
struct registry_owner {
	uid_t		uid;
	size_t		segments;
	uint64_t	bytes;
};

/*
 * A detach segment not marked IPC_RMID, which the reaper looks at every
 * tick: what it compares, side by side in one array (see reaper.c).
 */
struct registry_poll {
	struct segment		*seg;
	int			 shmid;
	pid_t			 cpid;		/* seg->kernel_cpid */
	uint64_t		 size;
};

struct registry {
	struct segment_list	 segments;	/* in order of creation */
	struct registry_poll	*polls;
	size_t			 npolls, polls_size;
	void			*by_name;	/* tsearch(3) tree */
	size_t			 count;
	uint64_t		 bytes;
	struct registry_owner	*owners;	/* few: a plain array */
	size_t			 nowners;
};

void	registry_init(struct registry *);
/* Frees every record; touches no kernel segment. */
void	registry_finish(struct registry *);

/* A new record (not yet in the registry); NULL when out of memory. */
struct segment *segment_create(const char *name);
void	segment_destroy(struct segment *);
/* Remember the owner and mode the kernel shows now (st). */
struct kshm_stat;
void	segment_saw(struct segment *, const struct kshm_stat *st);
/* What shmd last saw, as a kshm_stat for the permission rules. */
void	segment_seen_stat(const struct segment *, struct kshm_stat *st);

/* 0, or -1 when out of memory or the name is taken (errno EEXIST). */
int	registry_add(struct registry *, struct segment *);
/* Takes the record out; the caller destroys it. */
void	registry_remove(struct registry *, struct segment *);
/* seg was marked IPC_RMID: the reaper no longer polls it. */
void	registry_unpoll(struct registry *, struct segment *);
struct segment *registry_find_by_name(const struct registry *,
	    const char *);
/* Segments and bytes held by an owner uid. */
void	registry_usage(const struct registry *, uid_t, size_t *segments,
	    uint64_t *bytes);

#endif
