/*
 * A segment's life, owned here and only here: no other file changes a
 * segment's state or writes the state log. Every transition records
 * first, acts on the kernel second, and answers (or tells watchers)
 * third; a change whose record cannot be written is not made.
 *
 * state     event                record        kernel           then
 * --------  -------------------  ------------  ---------------  -----------------
 * -         Create               announced,    shmget (mode 0), Segment, created;
 *                                              policy (kmem.c), watchers: created
 *                                create        IPC_SET
 *   (a record refused: the segment removed, or an orphan; StateError;
 *    the announcement, in the intent page or the log (state.h), proves
 *    what a crash after shmget leaves)
 * live      Destroy              destroy       IPC_RMID *       (); destroyed
 *   (the record refused: nothing changes; StateError)
 * live      lifetime over        destroy       IPC_RMID *       reaped
 *   (the record refused: tried again at the next look)
 * live      keyless, attached    mark          IPC_RMID         (marked: the kernel
 *           (detach lifetime)                                    frees it at its
 *                                                                last detach)
 * marked    gone from the kernel destroy       -                reaped
 * live      gone, or a stranger  destroy       -                vanished
 * recorded  start (adopt)        run record or -                followed again; a
 *                                a new log                       creator it cannot
 *                                                                see: "lost"
 * orphan    each full sweep      -             IPC_RMID         forgotten once gone
 *
 * (*) an IPC_RMID the kernel refuses leaves an orphan: the segment's
 * name is free, and its removal is tried again at every full sweep and
 * after a restart (its record is kept until then).
 *
 * Identity (kshm_is()): the kernel segment with the recorded shmid, key,
 * size and creator uid; never a pid. Deadlines run on the boot clock.
 *
 * The server calls in (Create, Open, Destroy, List); the reaper and the
 * process watcher report in through callbacks; watchers are told through
 * the notify callback the server gives. Nothing here calls up.
 */
#ifndef SHMD_LIFECYCLE_H
#define SHMD_LIFECYCLE_H

#include <stdint.h>
#include <sys/types.h>

#include "keyalloc.h"
#include "kmem.h"
#include "policy.h"
#include "procwatch.h"
#include "proto.h"
#include "reaper.h"
#include "registry.h"
#include "state.h"

struct conf;
struct event;
struct event_base;
struct kshm_stat;

/* Tell watchers of an event; st is what the kernel held (or recorded). */
typedef void	lifecycle_notify_fn(void *arg, enum proto_event,
		    const struct segment *, const struct kshm_stat *st);

/*
 * Charge a segment of size bytes and that policy to uid, the uid it was
 * made for, for as long as it lives; -1 when out of memory. Release it.
 */
typedef int	lifecycle_charge_fn(void *arg, uid_t, uint64_t size,
		    const struct shm_policy *);
typedef void	lifecycle_release_fn(void *arg, uid_t, uint64_t size,
		    const struct shm_policy *);

struct lifecycle {
	struct event_base	*base;
	const struct conf	*conf;		/* the server's: reload shows */
	struct registry		 registry;
	struct keyalloc		 keys;
	struct state		 state;
	struct procwatcher	 procs;
	struct reaper		 reaper;
	struct event		*timer;
	struct event		*first_sweep;
	struct event		*flush;		/* the log takes the page's
						   record (state_flush()) */
	unsigned		 ticks;
	uint64_t		 pidns;		/* shmd's pid namespace (inode) */
	uint64_t		 created;	/* segments, since start */
	uint64_t		 reaped;	/* by lifetime, since start */
	int			 unrecorded;	/* the last record failed (logged) */
	uint64_t		 vanished;	/* removed behind shmd's back */
	uint64_t		 declared_drift; /* declared segments unlike
						   their declaration (the
						   last reading) */
	enum kmem_step		 refused;	/* what refused the last Create */
	lifecycle_notify_fn	*notify;
	void			*notify_arg;
	/* The server's per-uid accounting: each segment charged while
	   it lives (NULL: nobody is) */
	lifecycle_charge_fn	*charge;
	lifecycle_release_fn	*release;
	void			*account_arg;
};

/* A Create, checked and with its defaults filled in. */
struct lifecycle_request {
	const char		*name;
	uint64_t		 size;
	enum proto_lifetime	 lifetime;
	int			 any_key;	/* one from the daemon's range */
	int32_t			 key;		/* else this one (0: none) */
	uid_t			 uid;
	gid_t			 gid;
	unsigned		 mode;
	struct shm_policy	 policy;
	int			 declared;	/* from segments_dir, charged to
						   no uid */
	uint64_t		 attach_timeout;
	uid_t			 creator_uid;
	pid_t			 creator_pid;
	uint64_t		 creator_start;	/* pinned when it connected */
	uint64_t		 creator_ino;
	/*
	 * Of it: the call's (call.h), or NULL. The lifecycle sets it to -1
	 * when it keeps it, and never closes it: the call does.
	 */
	int			*creator_pidfd;
	int			 creator_exited;	/* already, at connect */
};

void	lifecycle_init(struct lifecycle *, struct event_base *,
	    const struct conf *, pid_t pid, uid_t uid, int64_t start_usec,
	    lifecycle_notify_fn *, void *notify_arg);
/* Stop; free every record. Kernel segments and the state stay. */
void	lifecycle_finish(struct lifecycle *);
/*
 * The event loop's priorities (event_base_priority_init()): calls are
 * served at the default, LIFECYCLE_PRIORITY_IDLE runs when nothing
 * else waits.
 */
#define LIFECYCLE_PRIORITIES		3
#define LIFECYCLE_PRIORITY_IDLE		2

/*
 * Start the reaper's timer (after recovery), and a full sweep as soon as
 * no call waits (LIFECYCLE_PRIORITY_IDLE): what happened while shmd was
 * down takes effect at once, and shmd answers without waiting for it.
 * -1 on failure.
 */
int	lifecycle_start(struct lifecycle *);
/* The key range changed (SIGHUP). */
void	lifecycle_reconfigure(struct lifecycle *);

/* A change the state directory refused to record (errno says why). */
#define LIFECYCLE_STATE_ERROR	(-2)

/*
 * Make a segment (keeping *req->creator_pidfd, or not). 0 with *out
 * and its kernel state; LIFECYCLE_STATE_ERROR; or -1 with errno:
 * EAGAIN no free key in the range, EEXIST the key is taken, else the
 * kernel's, at the step lc->refused names (kmem.h). Nothing is left
 * behind on failure.
 */
int	lifecycle_create(struct lifecycle *, const struct lifecycle_request *,
	    struct segment **out, struct kshm_stat *st);
/* Take back a segment an earlier run recorded (recovery). -1: no memory. */
int	lifecycle_adopt(struct lifecycle *, struct segment *);
/*
 * Take back every segment of loaded (recovery), leaving it empty: the
 * registry whole when this one is still empty, as at start. How many.
 */
size_t	lifecycle_adopt_all(struct lifecycle *, struct registry *loaded);
/*
 * A segment's declaration appeared or went (segments_dir): record its
 * declared flag, which moves its charge. 0; LIFECYCLE_STATE_ERROR, or
 * -1 out of memory: nothing changed.
 */
int	lifecycle_declare(struct lifecycle *, struct segment *, int declared);
/* Destroy (the Destroy call): 0, or LIFECYCLE_STATE_ERROR. */
int	lifecycle_destroy(struct lifecycle *, struct segment *,
	    const struct kshm_stat *st);
/* The segment's lifetime is over (unless its end cannot be recorded). */
void	lifecycle_reap(struct lifecycle *, struct segment *,
	    const struct kshm_stat *st, const char *why);
/*
 * Remove a kernel segment shmd made and answers for no more (recovery's
 * leftovers too); one the kernel will not remove becomes an orphan,
 * removed at a later full sweep or after a restart. 0, or -1 then.
 */
int	lifecycle_remove_made(struct lifecycle *, const struct state_orphan *);
/* Path of what refused the last record, for io.shmd.StateError. */
const char *lifecycle_state_path(const struct lifecycle *, char *buf,
	    size_t len);
/* The kernel no longer holds it: reaped (if shmd marked it) or vanished. */
void	lifecycle_gone(struct lifecycle *, struct segment *);

/*
 * The kernel's view of a managed segment: 0, or -1 once it was found gone
 * (and ended with lifecycle_gone(): seg is freed).
 */
int	lifecycle_look(struct lifecycle *, struct segment *,
	    struct kshm_stat *st);
/* The segment of that name with its kernel state, or NULL (none, or gone). */
struct segment *lifecycle_find(struct lifecycle *, const char *name,
	    struct kshm_stat *st);

/*
 * Look at processes followed without pidfds, then apply the lifetimes:
 * of every segment when full (at start, and each REAPER_FULL_EVERY
 * ticks of the timer), else of those the reaper polls each tick.
 */
void	lifecycle_sweep(struct lifecycle *, int full);

#endif
