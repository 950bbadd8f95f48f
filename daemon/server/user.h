/*
 * Accounting per uid, after dbus-broker's: one object per uid that holds
 * something (segments and their bytes, huge and locked bytes among them,
 * connections, unread output, a log budget), made when the first thing is
 * charged and freed with the last. Every per-uid count and limit is here
 * and only here. A connection holds a reference to its user for its whole
 * life (conn.c), and a uid that holds segments one for as long as it
 * does (charged and released by the lifecycle), so the counts cannot
 * drift; a uid whose lines were logged in the last second is held too,
 * so that closing and reconnecting does not renew its log budget.
 */
#ifndef SHMD_USER_H
#define SHMD_USER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "log.h"
#include "policy.h"

struct event;
struct event_base;

/* Lines a uid may cause in a second (shmd(8), LOGGING). */
#define USER_LOG_PER_SEC	10
/*
 * Of those, the debug trace of its connections and calls may take this
 * many: the rest is kept for what matters more (refusals, errors).
 */
#define USER_TRACE_PER_SEC	5
/*
 * Connections of a uid other than root whose first call is stamped phase
 * by phase in a second, at debug level (trace.h): bounded, so that a uid
 * that connects again and again cannot fill the log; root's (the admin's
 * shmd-bench --first-contact) are all traced.
 */
#define USER_FIRST_TRACES_PER_SEC	20

struct user;
TAILQ_HEAD(user_list, user);

struct user_registry {
	void			*by_uid;	/* tsearch(3) tree */
	struct user_list	 holders;	/* uids that hold segments, in
						   the order they came */
	size_t			 count;
	struct event_base	*base;
	struct event		*log_tick;	/* says what was suppressed */
	struct user_list	 logging;	/* uids that logged lately */
};

/* What a uid holds of segments, or may (0: no limit, but see below). */
struct user_segments {
	uint64_t		 segments;
	uint64_t		 bytes;
	uint64_t		 huge_bytes;	/* of huge-page segments */
	uint64_t		 locked_bytes;	/* of locked segments */
};

struct user {
	struct user_registry	*reg;
	uid_t			 uid;
	unsigned		 refs;
	struct user_segments	 held;		/* charged to it: created for it */
	TAILQ_ENTRY(user)	 hold_entry;	/* on reg->holders, holding a
						   ref, while it holds any */
	size_t			 conns;		/* open connections */
	uint64_t		 output;	/* unread replies and events */
	/* the log budget: lines in the current second, and those dropped */
	int64_t			 log_second;	/* monotonic */
	unsigned		 log_lines;
	uint64_t		 log_quiet;	/* not logged, not yet said */
	int			 logging;	/* on reg->logging, holding a ref */
	TAILQ_ENTRY(user)	 log_entry;
	int64_t			 first_second;	/* first calls traced in it */
	unsigned		 first_traces;
};

void	user_registry_init(struct user_registry *, struct event_base *);
/* Frees every user (at exit, after every connection). */
void	user_registry_finish(struct user_registry *);

/* A reference to uid's user, made when missing; NULL when out of memory. */
struct user *user_get(struct user_registry *, uid_t uid);
void	user_put(struct user *);

/*
 * A segment of size bytes with that policy is made for uid, or ends:
 * charged to uid (the uid it was created for; a later IPC_SET moves no
 * charge). 0, or -1 when out of memory.
 */
int	user_charge_segment(struct user_registry *, uid_t, uint64_t size,
	    const struct shm_policy *);
void	user_release_segment(struct user_registry *, uid_t, uint64_t size,
	    const struct shm_policy *);
/* What uid holds (zeroes: nothing). */
void	user_segments_held(const struct user_registry *, uid_t,
	    struct user_segments *);
/*
 * The per-uid limit one more such segment would cross for uid: its
 * name as QuotaExceeded says it ("segments", "bytes", "huge_bytes",
 * "locked_bytes") with *max, or NULL. Root has no limits; a segments or
 * bytes limit of 0 is none, a huge_bytes or locked_bytes limit of 0
 * allows nothing (DAEMON.md).
 */
const char *user_segment_over(const struct user_registry *, uid_t,
	    uint64_t size, const struct shm_policy *,
	    const struct user_segments *max, uint64_t *limit);

/* A connection opens or closes. */
void	user_charge_conn(struct user *);
void	user_release_conn(struct user *);
/* Whether one more connection would give u more than max (0: no cap). */
int	user_conns_full(const struct user *, uint64_t max);

/* Bytes of unread output queued for u, and written or dropped. */
void	user_charge_output(struct user *, size_t);
void	user_release_output(struct user *, size_t);
/* Whether u holds more unread output than max (root never does). */
int	user_output_over(const struct user *, uint64_t max);

/*
 * Log a line u's client caused (a refusal, a protocol error, a denied
 * call, a call the kernel refused): at most USER_LOG_PER_SEC a second,
 * then one line a second that says how many were suppressed.
 */
void	user_log(struct user *, enum log_level, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* A debug line that traces u's connections and calls, in the same budget. */
void	user_trace(struct user *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/*
 * Whether a new connection of u may have its first call traced (debug
 * level only): 1 for at most USER_FIRST_TRACES_PER_SEC a second (root:
 * always), else 0.
 */
int	user_may_trace_first(struct user *);

#endif
