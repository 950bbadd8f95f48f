/*
 * At start: take back what an earlier run left, and only that. The
 * daemon's start calls these steps in this order (shmdd.c):
 *
 *   state_load()              what the log says
 *   recover_scan()            what the kernel holds: one look at each
 *                             segment, for the steps below
 *   recover_verify()          keep what the kernel still holds as recorded
 *   recover_adopt()           those become this run's segments
 *   recover_remove_leftover() the segment of a Create the crashed run
 *                             never finished, when provably its own
 *   state_resume()            the log goes on with this run's record, or
 *                             a fresh one is written when it must
 */
#ifndef SHMD_RECOVER_H
#define SHMD_RECOVER_H

#include <stddef.h>

struct kshm_stat;
struct lifecycle;
struct state_loaded;

/* Every segment the kernel holds, sorted by shmid. */
struct recover_kernel {
	struct kshm_stat	*segs;		/* NULL: unknown (no memory) */
	size_t			 n;
	int			 partial;	/* an index could not be read */
};

/*
 * Look at every segment of the kernel once (SHM_STAT_ANY an index), when
 * loaded has anything to look for: as many system calls as the segments
 * recorded cost one by one, and what a Create cut short may have left is
 * among them. k->segs is NULL when there was nothing to look for, or no
 * memory: then each step looks for itself.
 */
void	recover_scan(struct recover_kernel *k,
	    const struct state_loaded *loaded);
void	recover_kernel_free(struct recover_kernel *k);

/*
 * Drop from loaded every recorded segment the kernel no longer holds as
 * the same segment (creator pid, size, key, ctime). Returns how many.
 */
size_t	recover_verify(struct state_loaded *loaded,
	    const struct recover_kernel *k);

/* Adopt every segment of loaded (taking them out of it). Returns how many. */
size_t	recover_adopt(struct lifecycle *, struct state_loaded *loaded);

/*
 * Remove the segment of each Create that the earlier run announced but
 * never recorded (its announcement, in the intent page or a pending
 * record of the log: state.h), and the orphans it recorded, if exactly
 * one kernel segment fits each: of the size and key announced, still the
 * daemon's and never handed over or attached, made since the
 * announcement, and not one of lc's. How many were removed: a segment
 * shmd cannot prove it made is never removed.
 */
int	recover_remove_leftover(struct lifecycle *,
	    const struct state_loaded *loaded, const struct recover_kernel *k);

#endif
