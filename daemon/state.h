/*
 * What survives a restart: an append-only log in state_dir, one JSON
 * object per line. A segment is recorded before its Create is answered
 * and its end before its Destroy is; the log is rewritten whole (a new
 * file renamed over the old) at start, at a clean stop and as it grows.
 * State written under another boot is discarded: segments do not survive
 * a reboot.
 */
#ifndef SHMD_STATE_H
#define SHMD_STATE_H

#include <stddef.h>
#include <sys/types.h>

struct registry;
struct segment;
struct server;

#define STATE_FILE	"segments.log"

/* What an earlier run left: its segments, and the pids that ran. */
struct state_loaded {
	struct registry	*segments;
	pid_t		*runs;
	size_t		 nruns;
	uid_t		 run_uid;	/* the earlier daemon's uid */
};

/*
 * Read the state, hand it to recovery, then start a fresh log for this
 * run. -1 (logged) when the state directory cannot be used.
 */
int	state_open(struct server *);
void	state_close(struct server *);

/* Append one record; -1 with errno. No-ops without a state directory. */
int	state_record_create(struct server *, const struct segment *);
int	state_record_destroy(struct server *, const struct segment *);

/* Rewrite the log with the segments there are now. */
int	state_compact(struct server *);

/* Parse a log's text (for tests and recovery): 0, or -1 when unusable. */
int	state_parse(const char *text, const char *boot_id,
	    struct state_loaded *out);
void	state_loaded_free(struct state_loaded *);

/* This boot's id (/proc/sys/kernel/random/boot_id); "" when unknown. */
const char *state_boot_id(void);

#endif
