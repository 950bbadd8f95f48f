/*
 * Accounting per uid, after dbus-broker's: one object per uid that holds
 * something (connections, unread output, a log budget), made when the
 * first thing is charged and freed with the last. A connection holds a
 * reference to its user for its whole life (conn.c), so the counts cannot
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

struct event;
struct event_base;

/* Lines a uid may cause in a second (shmd(8), LOGGING). */
#define USER_LOG_PER_SEC	10
/*
 * Of those, the debug trace of its connections and calls may take this
 * many: the rest is kept for what matters more (refusals, errors).
 */
#define USER_TRACE_PER_SEC	5

struct user;
TAILQ_HEAD(user_list, user);

struct user_registry {
	void			*by_uid;	/* tsearch(3) tree */
	size_t			 count;
	struct event_base	*base;
	struct event		*log_tick;	/* says what was suppressed */
	struct user_list	 logging;	/* uids that logged lately */
};

struct user {
	struct user_registry	*reg;
	uid_t			 uid;
	unsigned		 refs;
	size_t			 conns;		/* open connections */
	uint64_t		 output;	/* unread replies and events */
	/* the log budget: lines in the current second, and those dropped */
	int64_t			 log_second;	/* monotonic */
	unsigned		 log_lines;
	uint64_t		 log_quiet;	/* not logged, not yet said */
	int			 logging;	/* on reg->logging, holding a ref */
	TAILQ_ENTRY(user)	 log_entry;
};

void	user_registry_init(struct user_registry *, struct event_base *);
/* Frees every user (at exit, after every connection). */
void	user_registry_finish(struct user_registry *);

/* A reference to uid's user, made when missing; NULL when out of memory. */
struct user *user_get(struct user_registry *, uid_t uid);
void	user_put(struct user *);

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

#endif
