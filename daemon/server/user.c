/* Accounting per uid (see user.h). */
#include "config.h"

#include <search.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "user.h"

static int
user_compare(const void *a, const void *b)
{
	const struct user	*ua = a, *ub = b;

	return (ua->uid > ub->uid) - (ua->uid < ub->uid);
}

static int64_t
user_second(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

void
user_registry_init(struct user_registry *reg, struct event_base *base)
{
	reg->by_uid = NULL;
	reg->count = 0;
	reg->base = base;
	reg->log_tick = NULL;
	TAILQ_INIT(&reg->logging);
	TAILQ_INIT(&reg->holders);
}

/* Say how many lines of u were not logged, if any. */
static void
user_log_quiet(struct user *u)
{
	if (u->log_quiet == 0)
		return;
	log_notice("suppressed %llu messages from uid %lu",
	    (unsigned long long)u->log_quiet, (unsigned long)u->uid);
	u->log_quiet = 0;
}

void
user_registry_finish(struct user_registry *reg)
{
	struct user	*u;

	TAILQ_FOREACH(u, &reg->logging, log_entry)
		user_log_quiet(u);
	TAILQ_INIT(&reg->logging);
	TAILQ_INIT(&reg->holders);
	if (reg->log_tick != NULL)
		event_free(reg->log_tick);
	reg->log_tick = NULL;
	tdestroy(reg->by_uid, free);
	reg->by_uid = NULL;
	reg->count = 0;
}

struct user *
user_get(struct user_registry *reg, uid_t uid)
{
	struct user	 key, *u;
	void		*node;

	key.uid = uid;
	if ((node = tfind(&key, &reg->by_uid, user_compare)) != NULL) {
		u = *(struct user **)node;
		u->refs++;
		return u;
	}
	if ((u = calloc(1, sizeof *u)) == NULL)
		return NULL;
	u->reg = reg;
	u->uid = uid;
	u->refs = 1;
	if (tsearch(u, &reg->by_uid, user_compare) == NULL) {
		free(u);
		return NULL;
	}
	reg->count++;
	return u;
}

void
user_put(struct user *u)
{
	if (u == NULL || --u->refs > 0)
		return;
	tdelete(u, &u->reg->by_uid, user_compare);
	u->reg->count--;
	free(u);
}

/* The user of uid if it exists (no reference taken), else NULL. */
static struct user *
user_find(const struct user_registry *reg, uid_t uid)
{
	struct user	 key;
	void		*node;

	key.uid = uid;
	node = tfind(&key, &reg->by_uid, user_compare);
	return node != NULL ? *(struct user **)node : NULL;
}

/* What a segment of size bytes with policy p counts, once. */
static void
user_segment_counts(uint64_t size, const struct shm_policy *p,
    struct user_segments *c)
{
	c->segments = 1;
	c->bytes = size;
	c->huge_bytes = p->page_size != 0 ? size : 0;
	c->locked_bytes = p->locked ? size : 0;
}

int
user_charge_segment(struct user_registry *reg, uid_t uid, uint64_t size,
    const struct shm_policy *p)
{
	struct user_segments	 c;
	struct user		*u;

	if ((u = user_get(reg, uid)) == NULL)
		return -1;
	if (u->held.segments == 0)
		TAILQ_INSERT_TAIL(&reg->holders, u, hold_entry);
	else
		user_put(u);	/* the holders' list holds one already */
	user_segment_counts(size, p, &c);
	u->held.segments += c.segments;
	u->held.bytes += c.bytes;
	u->held.huge_bytes += c.huge_bytes;
	u->held.locked_bytes += c.locked_bytes;
	return 0;
}

void
user_release_segment(struct user_registry *reg, uid_t uid, uint64_t size,
    const struct shm_policy *p)
{
	struct user_segments	 c;
	struct user		*u;

	if ((u = user_find(reg, uid)) == NULL || u->held.segments == 0)
		return;
	user_segment_counts(size, p, &c);
	u->held.segments -= c.segments;
	u->held.bytes -= c.bytes;
	u->held.huge_bytes -= c.huge_bytes;
	u->held.locked_bytes -= c.locked_bytes;
	if (u->held.segments > 0)
		return;
	TAILQ_REMOVE(&reg->holders, u, hold_entry);
	user_put(u);
}

void
user_segments_held(const struct user_registry *reg, uid_t uid,
    struct user_segments *held)
{
	const struct user	*u = user_find(reg, uid);

	if (u != NULL)
		*held = u->held;
	else
		memset(held, 0, sizeof *held);
}

const char *
user_segment_over(const struct user_registry *reg, uid_t uid, uint64_t size,
    const struct shm_policy *p, const struct user_segments *max,
    uint64_t *limit)
{
	struct user_segments	held, c;

	if (uid == 0)
		return NULL;
	user_segments_held(reg, uid, &held);
	user_segment_counts(size, p, &c);
	if (max->segments != 0 && held.segments + 1 > max->segments) {
		*limit = max->segments;
		return "segments";
	}
	if (max->bytes != 0 && held.bytes + c.bytes > max->bytes) {
		*limit = max->bytes;
		return "bytes";
	}
	if (c.huge_bytes != 0 &&
	    held.huge_bytes + c.huge_bytes > max->huge_bytes) {
		*limit = max->huge_bytes;
		return "huge_bytes";
	}
	if (c.locked_bytes != 0 &&
	    held.locked_bytes + c.locked_bytes > max->locked_bytes) {
		*limit = max->locked_bytes;
		return "locked_bytes";
	}
	return NULL;
}

void
user_charge_conn(struct user *u)
{
	u->conns++;
}

void
user_release_conn(struct user *u)
{
	u->conns--;
}

int
user_conns_full(const struct user *u, uint64_t max)
{
	return max != 0 && u->conns >= max;
}

void
user_charge_output(struct user *u, size_t n)
{
	u->output += n;
}

void
user_release_output(struct user *u, size_t n)
{
	u->output -= n;
}

int
user_output_over(const struct user *u, uint64_t max)
{
	return u->uid != 0 && u->output > max;
}

/*
 * Once a second while some uid logged lately: what each suppressed is
 * said; a uid quiet for a whole second leaves the list (and may go).
 */
static void
user_log_tickcb(evutil_socket_t fd, short what, void *arg)
{
	struct user_registry	*reg = arg;
	struct user		*u, *next;
	struct timeval		 sec = { 1, 0 };
	int64_t			 now = user_second();

	for (u = TAILQ_FIRST(&reg->logging); u != NULL; u = next) {
		next = TAILQ_NEXT(u, log_entry);
		if (u->log_quiet > 0) {
			user_log_quiet(u);
			continue;
		}
		if (u->log_second < now) {
			TAILQ_REMOVE(&reg->logging, u, log_entry);
			u->logging = 0;
			user_put(u);
		}
	}
	if (!TAILQ_EMPTY(&reg->logging))
		evtimer_add(reg->log_tick, &sec);
}

/* u logs in this second: kept, and looked at every second, until quiet. */
static void
user_log_hold(struct user *u)
{
	struct user_registry	*reg = u->reg;
	struct timeval		 sec = { 1, 0 };

	if (u->logging)
		return;
	if (reg->log_tick == NULL && reg->base != NULL)
		reg->log_tick = evtimer_new(reg->base, user_log_tickcb, reg);
	if (reg->log_tick == NULL)
		return;		/* no timer: the budget still holds per second */
	u->refs++;
	u->logging = 1;
	TAILQ_INSERT_TAIL(&reg->logging, u, log_entry);
	if (!evtimer_pending(reg->log_tick, NULL))
		evtimer_add(reg->log_tick, &sec);
}

/* Log one line of u's if fewer than max were logged in this second. */
static void
user_vlog(struct user *u, enum log_level level, unsigned max,
    const char *fmt, va_list ap)
{
	int64_t	now;

	if (!log_enabled(level))
		return;
	now = user_second();
	if (u->log_second != now) {
		u->log_second = now;
		u->log_lines = 0;
	}
	user_log_hold(u);
	if (u->log_lines >= max) {
		u->log_quiet++;
		return;
	}
	u->log_lines++;
	log_vlog(level, fmt, ap);
}

void
user_log(struct user *u, enum log_level level, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	user_vlog(u, level, USER_LOG_PER_SEC, fmt, ap);
	va_end(ap);
}

void
user_trace(struct user *u, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	user_vlog(u, LOG_LEVEL_DEBUG, USER_TRACE_PER_SEC, fmt, ap);
	va_end(ap);
}

int
user_may_trace_first(struct user *u)
{
	int64_t	now;

	if (!log_enabled(LOG_LEVEL_DEBUG))
		return 0;
	if (u->uid == 0)
		return 1;	/* root: as its other limits, none */
	now = user_second();
	if (u->first_second != now) {
		u->first_second = now;
		u->first_traces = 0;
	}
	if (u->first_traces >= USER_FIRST_TRACES_PER_SEC)
		return 0;
	u->first_traces++;
	return 1;
}
