/* A connection's first call, phase by phase, at debug level (trace.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "trace.h"

struct trace	*trace_current;
static uint64_t	 trace_accept_ns;	/* the last accept, at debug level */

uint64_t
trace_clock(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

void
trace_accepted(void)
{
	trace_accept_ns = log_enabled(LOG_LEVEL_DEBUG) ? trace_clock() : 0;
}

void
trace_begin(struct trace *t)
{
	memset(t, 0, sizeof *t);
	if (trace_accept_ns == 0 || !log_enabled(LOG_LEVEL_DEBUG))
		return;
	t->on = 1;
	t->ns[TRACE_ACCEPT] = trace_accept_ns;
}

/* Phase p after accept, in us, into buf ("-": not reached). */
static const char *
trace_us(const struct trace *t, enum trace_phase p, char *buf, size_t len)
{
	if (t->ns[p] == 0)
		return "-";
	snprintf(buf, len, "%.1f", (double)(t->ns[p] - t->ns[TRACE_ACCEPT]) /
	    1000.0);
	return buf;
}

void
trace_end(struct trace *t, pid_t pid)
{
	char	b[TRACE_PHASES][24];

	if (trace_current == t)
		trace_current = NULL;
	if (!t->on)
		return;
	t->on = 0;
	/* (the format is read by shmd-bench --first-contact) */
	log_debug("first call of pid %ld, us after accept: read %s checked %s "
	    "made %s recorded %s handed %s replied %s", (long)pid,
	    trace_us(t, TRACE_READ, b[1], sizeof b[1]),
	    trace_us(t, TRACE_CHECKED, b[2], sizeof b[2]),
	    trace_us(t, TRACE_MADE, b[3], sizeof b[3]),
	    trace_us(t, TRACE_RECORDED, b[4], sizeof b[4]),
	    trace_us(t, TRACE_HANDED, b[5], sizeof b[5]),
	    trace_us(t, TRACE_REPLIED, b[6], sizeof b[6]));
}
