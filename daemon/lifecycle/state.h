/*
 * What survives a restart: an append-only log in state_dir, one JSON
 * object per line. A Create is recorded ("create") after its shmget and
 * before the segment is handed over and answered; a Destroy's or a
 * reap's end ("destroy"), and shmd's IPC_RMID mark on an attached keyless
 * segment ("mark"), are recorded before shmd acts. A segment shmd made
 * and could not remove is an "orphan" until it can. The log is rewritten
 * whole (a new file renamed over the old) only when the caller says the
 * registry and the log agree (lifecycle.c). State written under another
 * boot is discarded: segments do not survive a reboot. A line that cannot
 * be read is skipped, and the damaged log kept aside as
 * segments.log.damaged when the log is next rewritten.
 *
 * Before its shmget a Create is announced: its size, key, the daemon's
 * ids. On tmpfs or ramfs (state_dir's place: DAEMON.md) in the intent
 * page (intent.h, segments.intent) with a sequence number, not in the
 * log. Its create record carries the number ("intent"), and is stored
 * in the page's other slot, beside the announcement: recorded there,
 * the Create is answered, and the log takes the record after the answer
 * (state_flush(), from the event loop), or before any other record or
 * announcement, or when it is rewritten whole; until then a restart
 * reads the record from the page (only beside its announcement). No
 * write(2) is on a Create's way to its answer. The page is emptied once
 * the log holds the record, or once the Create is undone and what
 * undoing it left (an orphan) is in the log; when that could not be
 * written, the page keeps the announcement until the log is next
 * written whole ("stale"). Elsewhere,
 * where a store in a mapped page could fault (a copy-on-write or
 * journalled filesystem, full or failing), in the log as a "pending"
 * record, answered by the create record or an "aborted" one. Either way
 * an announcement that nothing answers, read at start, is a Create cut
 * short: what a crash between its shmget and its record left is proven
 * the daemon's by it: the one kernel segment of that size and key, still
 * the daemon's own, mode KSHM_UNSET_MODE, never attached, made since the
 * announcement (recover.c; never several: then none is proven). Both
 * are read whichever way this run announces. Each run also records
 * itself ("run": its pid, pid namespace and ids), which says who wrote
 * what follows and proves no leftover: after a restart in a new pid
 * namespace every segment made outside it shows cpid 0, as the old
 * run's do.
 *
 * When a record cannot be written (ENOSPC, EIO, ...) the caller is told
 * (-1 with errno) and changes nothing; the next record first rewrites the
 * log whole (state_ready()), so a torn or missing log heals as soon as
 * the directory takes records again, without a restart. The intent page
 * is made (its space allocated) at start, or by state_ready() when it
 * could not be then.
 *
 * The directory must be the daemon's own: not a symlink, owned by its
 * uid, not writable by group or others. Files in it are reached through
 * a descriptor of the directory, never following a symlink, and created
 * exclusively (the intent page, which is rewritten in place, is opened
 * without O_EXCL and must be a regular file).
 */
#ifndef SHMD_STATE_H
#define SHMD_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct registry;
struct segment;

#define STATE_FILE	"segments.log"
#define STATE_DAMAGED	STATE_FILE ".damaged"

/*
 * A Create under way: what the segment it makes looks like until its
 * record is written (owned by the daemon, mode KSHM_UNSET_MODE): its
 * announcement. (A run's record reads into one too, run set: it proves
 * no leftover, recover.c.)
 */
struct state_pending {
	int		run;		/* a run's: size and key not known */
	pid_t		pid;		/* the daemon: the segment's cpid */
	uint64_t	pidns;		/* in this pid namespace (inode) */
	uid_t		uid;		/* the daemon's: its cuid */
	gid_t		gid;		/* and its cgid */
	uint64_t	size;
	int		any_key;	/* a key of [key_base, +key_count) */
	int32_t		key;		/* else exactly this one (0: none) */
	uint32_t	key_base, key_count;
	int64_t		usec;		/* when it was announced */
	int		setup;		/* its memory policy is set before
					   the record: mode KSHM_SETUP_MODE,
					   SHM_LOCKED and an attach of the
					   daemon's may show */
};

/* A segment shmd made and could not remove yet (IPC_RMID refused). */
struct state_orphan {
	int		shmid;
	int32_t		key;
	uid_t		cuid;
	uint64_t	size;
};

struct state {
	int		dirfd;		/* the state directory, or -1: none */
	int		fd;		/* the log, or -1: rewrite it first */
	char		*dir;		/* its path, for errors */
	uint64_t	records;	/* records in it */
	uint64_t	slack;		/* records beyond 2 per segment */
	int		torn;		/* a record was cut short */
	int		damaged;	/* the log read had unreadable lines */
	const char	*failed;	/* the file that refused the last write */
	char		*intent;	/* the intent page, or NULL: make it */
	int		intent_log;	/* announce in the log, not the page */
	int		intent_force;	/* tests: 1 the page, -1 the log */
	int		intent_found;	/* a page read, not mapped: remove it
					   once answered */
	uint64_t	intent_seq;	/* the last announcement's number */
	int		announced;	/* a Create is announced, unrecorded */
	int		deferred;	/* the page holds the last Create's
					   record, the log not yet: written
					   by state_flush() */
	int		stale;		/* the page holds one that is over,
					   which what is only in memory (an
					   orphan) may still need: kept
					   until a compaction writes it */
	struct state_orphan *orphans;
	size_t		norphans;
	pid_t		pid;		/* this run */
	uid_t		uid;
	uint64_t	pidns;
	int64_t		start_usec;
};

/* What an earlier run left. */
struct state_loaded {
	struct registry		*segments;
	struct state_pending	*pending;	/* Creates it never finished */
	uint64_t		 last_intent;	/* the highest create record's */
	size_t			 npending;
	struct state_pending	 run;		/* the last run record (who */
	int			 has_run;	/* wrote what follows), if any */
	struct state_orphan	*orphans;	/* and segments whose end */
	size_t			 norphans;	/* was recorded */
	uid_t			 run_uid;	/* the earlier daemon's uid */
	uint64_t		 records;	/* lines it holds */
	int			 page_record;	/* a create record read from
						   the intent page, not in
						   the log */
	int			 torn;		/* its last line is cut short */
	size_t			 damaged;	/* lines skipped, unreadable */
};

void	state_init(struct state *, pid_t pid, uid_t uid, int64_t start_usec);

/*
 * Check the state directory (creating it, 0700, when missing) and open
 * it. -1 with a reason ("is a symlink", "is writable by group or
 * others", ...) when shmd must not use it.
 */
int	state_open(struct state *, const char *dir, char *why, size_t whylen);
void	state_close(struct state *);

/*
 * Read what an earlier run left: 0 (out may hold nothing: no log, another
 * boot), or -1 with errno when the log exists but cannot be read.
 */
int	state_load(struct state *, struct state_loaded *out);

/*
 * Whether records can be appended now: after a failed write or a failed
 * start the log is first rewritten as reg, and the intent page made if it
 * is not there yet. 0, or -1 with errno.
 */
int	state_ready(struct state *, const struct registry *reg);
/* The path that refused the last record ("DIR/segments.log"), in buf. */
const char *state_failed_path(const struct state *, char *buf, size_t len);

/*
 * A Create announced before its shmget, in the page or the log (setup:
 * one whose memory policy shmd sets up); -1 with errno when the page is
 * not there or the record cannot be written (state_ready() first).
 * No-ops without a state directory.
 */
int	state_announce(struct state *, const struct state_pending *);
/*
 * The announced Create failed, and what it made is undone (or an orphan
 * in the log, or in memory only: then the page keeps the announcement).
 */
void	state_settle(struct state *);

/*
 * A segment made: the announcement's number with it, then settled. On
 * the page's way the record is stored in the page, beside its
 * announcement, and the log takes it in state_flush() (deferred set).
 * -1 with errno. No-op without a state directory.
 */
int	state_record_create(struct state *, const struct segment *);
/*
 * Append one record; -1 with errno. No-ops without a state directory.
 * The log first takes a create record the page holds (state_flush()).
 */
int	state_record_destroy(struct state *, const struct segment *);
/*
 * The create record the page holds written to the log, and the page
 * emptied: 0 (also when there is none), or -1 with errno (the page keeps
 * it; the next record, announcement or rewrite of the log tries again).
 */
int	state_flush(struct state *);
/* shmd is about to mark seg IPC_RMID (an attached keyless segment). */
int	state_record_mark(struct state *, const struct segment *);

/*
 * Orphans: kept here and in every rewritten log until removed, so that a
 * restart removes them too. -1 when out of memory (then only this run
 * tries again).
 */
int	state_orphan_add(struct state *, const struct state_orphan *);
void	state_orphan_removed(struct state *, size_t index);

/*
 * Go on with the log an earlier run left, when reg holds every segment it
 * records (nothing was found gone) and it has few dead records: this
 * run's record is appended. Else, or when it cannot be, the log is
 * rewritten (state_compact()). 0, or -1 with errno.
 */
int	state_resume(struct state *, const struct state_loaded *,
	    const struct registry *reg, size_t gone);

/* Rewrite the log as the segments of reg (which must agree with it). */
int	state_compact(struct state *, const struct registry *);
/* The same once the log holds many more records than reg segments. */
int	state_maybe_compact(struct state *, const struct registry *);

/* Parse a log's text (for tests and recovery): 0, or -1 when unusable. */
int	state_parse(const char *text, const char *boot_id,
	    struct state_loaded *out);
void	state_loaded_free(struct state_loaded *);

/* This boot's id (/proc/sys/kernel/random/boot_id); "" when unknown. */
const char *state_boot_id(void);
/* The inode of this process's pid namespace; 0 when unknown. */
uint64_t state_pidns(void);

#endif
