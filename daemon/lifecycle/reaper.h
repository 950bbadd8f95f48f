/*
 * Lifetimes: which segments' time is up. The kernel sends no notice of a
 * detach, so the "detach" segments are looked at every REAPER_INTERVAL_MS
 * (one IPC_STAT each, from a dense array: see reaper_poll()), but for an
 * attached keyless one, which is marked IPC_RMID so that the kernel frees
 * it at the exact last detach: every lookup by name checks the kernel, so
 * its name is gone at once too, and the look each full sweep is enough to
 * tell watchers. "process" segments follow their creator (procwatch.c);
 * every segment is checked each full sweep for removal behind shmd's back.
 *
 * The reaper decides; it changes nothing of a segment's life itself. It
 * reports to the owner of segments' lives (lifecycle.c) through its ops.
 */
#ifndef SHMD_REAPER_H
#define SHMD_REAPER_H

#include <stdint.h>

struct kshm_stat;
struct registry;
struct segment;

#define REAPER_INTERVAL_MS	225	/* reap p99 under 250 ms */
#define REAPER_FULL_EVERY	4	/* ticks between looks at every segment */

struct reaper_ops {
	/* seg's lifetime is over (why: for the log): reap it. */
	void	(*expired)(void *arg, struct segment *,
		    const struct kshm_stat *, const char *why);
	/* The kernel no longer holds seg (or its shmid is another's). */
	void	(*gone)(void *arg, struct segment *);
	/* Follow a "process" segment's creator again (seg->watch). */
	void	(*follow)(void *arg, struct segment *);
	/* An attached keyless detach segment: mark it IPC_RMID. */
	void	(*mark)(void *arg, struct segment *);
};

struct reaper {
	struct registry		*reg;
	const struct reaper_ops	*ops;
	void			*arg;
	int			 unfollowed;	/* a "process" one lacks its watch */
};

void	reaper_init(struct reaper *, struct registry *,
	    const struct reaper_ops *, void *arg);

/*
 * Look at the segments (all of them when full, else the polled detach
 * ones and the unfollowed process ones) and report those whose time is
 * up. now_boot: the boot clock (realtime.h), which deadlines run on.
 */
void	reaper_sweep(struct reaper *, int full, int64_t now_boot);

/* Apply seg's lifetime to what the kernel shows of it now (st). */
void	reaper_apply(struct reaper *, struct segment *,
	    const struct kshm_stat *st, int64_t now_boot);

#endif
