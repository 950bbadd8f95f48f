/*
 * What survives a restart: an append-only log in state_dir, one JSON
 * object per line. A Create is announced ("pending") before its shmget,
 * recorded ("create") before it is answered, and its end ("destroy")
 * before a Destroy is answered. The log is rewritten whole (a new file
 * renamed over the old) only when the caller says the registry and the
 * log agree (lifecycle.c). State written under another boot is
 * discarded: segments do not survive a reboot.
 *
 * The directory must be the daemon's own: not a symlink, owned by its
 * uid, not writable by group or others. Files in it are reached through
 * a descriptor of the directory, never following a symlink, and created
 * exclusively.
 */
#ifndef SHMD_STATE_H
#define SHMD_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct registry;
struct segment;

#define STATE_FILE	"segments.log"

/* A Create under way: what the segment it makes will look like. */
struct state_pending {
	pid_t		pid;		/* the daemon: the segment's cpid */
	uid_t		uid;		/* the daemon's: its cuid */
	uint64_t	size;
	int		any_key;	/* a key of [key_base, +key_count) */
	int32_t		key;		/* else exactly this one (0: none) */
	uint32_t	key_base, key_count;
	int64_t		usec;		/* when it was announced */
};

struct state {
	int		dirfd;		/* the state directory, or -1: none */
	int		fd;		/* the log, or -1 */
	uint64_t	records;	/* records in it */
	uint64_t	slack;		/* records beyond 2 per segment */
	int		torn;		/* a record was cut short */
	pid_t		pid;		/* this run */
	uid_t		uid;
	int64_t		start_usec;
};

/* What an earlier run left. */
struct state_loaded {
	struct registry		*segments;
	int			 has_pending;	/* a Create it never finished */
	struct state_pending	 pending;
	uid_t			 run_uid;	/* the earlier daemon's uid */
	uint64_t		 records;	/* lines it holds */
	int			 torn;		/* its last line is cut short */
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

/* Append one record; -1 with errno. No-ops without a state directory. */
int	state_record_pending(struct state *, const struct state_pending *);
/* The pending Create made nothing (shmget failed). */
int	state_record_aborted(struct state *);
int	state_record_create(struct state *, const struct segment *);
int	state_record_destroy(struct state *, const struct segment *);

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

#endif
