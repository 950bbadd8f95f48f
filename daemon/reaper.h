/*
 * Lifetimes. The kernel sends no notice of a detach, so the "detach"
 * segments are looked at every REAPER_INTERVAL_MS (one IPC_STAT each, from
 * a dense array: see reaper_poll()), but for an attached keyless one, which
 * shmd marks IPC_RMID so that the kernel frees it at the exact last detach:
 * every lookup by name checks the kernel, so its name is gone at once too,
 * and the look each second at every segment is enough to tell watchers.
 * "process" segments follow their creator through a pidfd; every segment
 * is checked each second for removal behind the daemon's back.
 */
#ifndef SHMD_REAPER_H
#define SHMD_REAPER_H

struct procwatch;
struct segment;
struct server;

#define REAPER_INTERVAL_MS	225	/* reap p99 under 250 ms */
#define REAPER_FULL_EVERY	4	/* ticks between looks at every segment */

int	reaper_start(struct server *);
void	reaper_stop(struct server *);

/* Look at the segments (all of them when full) and apply their lifetimes. */
void	reaper_sweep(struct server *, int full);

/*
 * Start following a new segment's lifetime ("process": its creator).
 * A creator already gone gets its segment reaped at the next sweep; one
 * that cannot be followed now (no descriptors) is tried again then.
 */
void	reaper_follow(struct server *, struct segment *);

/*
 * The kernel no longer holds seg: a segment shmd had marked was freed at
 * its last detach (reaped), or someone removed it (vanished).
 */
void	reaper_gone(struct server *, struct segment *);

/* A creator exited: reap the segments that follow it. */
void	reaper_process_exited(struct server *, struct procwatch *);

#endif
