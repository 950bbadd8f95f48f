/* The segments the daemon manages, by name. */
#ifndef SHMD_REGISTRY_H
#define SHMD_REGISTRY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "segment.h"

TAILQ_HEAD(segment_list, segment);

/*
 * A detach segment not marked IPC_RMID, which the reaper looks at every
 * tick: what it compares, side by side in one array (see reaper.c).
 */
struct registry_poll {
	struct segment		*seg;
	int			 shmid;
	int32_t			 key;		/* seg's identity (kshm_is()) */
	uid_t			 cuid;
	uint64_t		 size;
};

struct registry {
	struct segment_list	 segments;	/* in order of creation */
	struct registry_poll	*polls;
	size_t			 npolls, polls_size;
	void			*by_name;	/* tsearch(3) tree */
	size_t			 count;
	uint64_t		 bytes;		/* of all (per uid: user.h) */
};

void	registry_init(struct registry *);
/* Frees every record; touches no kernel segment. */
void	registry_finish(struct registry *);

/*
 * Move every record of from into to, which must be empty (recovery takes
 * the loaded registry whole); from is left empty.
 */
void	registry_move(struct registry *to, struct registry *from);
/* 0, or -1 when out of memory or the name is taken (errno EEXIST). */
int	registry_add(struct registry *, struct segment *);
/* Takes the record out; the caller destroys it. */
void	registry_remove(struct registry *, struct segment *);
/* seg was marked IPC_RMID: the reaper no longer polls it. */
void	registry_unpoll(struct registry *, struct segment *);
/*
 * Set whether shmd marked seg IPC_RMID (recovery: the kernel says), and
 * poll it or not accordingly. -1 when out of memory.
 */
int	registry_set_marked(struct registry *, struct segment *, int marked);
struct segment *registry_find_by_name(const struct registry *,
	    const char *);

#endif
