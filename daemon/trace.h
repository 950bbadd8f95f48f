/*
 * A connection's first call, stamped phase by phase at debug level only
 * (one line when it is answered), so that shmd-bench --first-contact can
 * tell where a new process's first contact goes inside shmd. Off, a
 * stamp costs one test of a pointer.
 */
#ifndef SHMD_TRACE_H
#define SHMD_TRACE_H

#include <stdint.h>
#include <sys/types.h>

enum trace_phase {
	TRACE_ACCEPT,		/* accept4 returned */
	TRACE_READ,		/* the first read returned */
	TRACE_CHECKED,		/* a Create: checked, lifecycle_create() */
	TRACE_MADE,		/* shmget returned */
	TRACE_RECORDED,		/* the segment recorded (page or log) */
	TRACE_HANDED,		/* IPC_SET returned: the kernel is done */
	TRACE_REPLIED,		/* the reply sent */
	TRACE_PHASES
};

struct trace {
	int		on;		/* debug level when it connected */
	uint64_t	ns[TRACE_PHASES];	/* monotonic; 0: not reached */
};

/* The first call being served, or NULL (the daemon serves one at a time). */
extern struct trace	*trace_current;

uint64_t	trace_clock(void);

/* Stamp phase p of the first call being served, if one is. */
static inline void
trace_mark(enum trace_phase p)
{
	if (trace_current != NULL)
		trace_current->ns[p] = trace_clock();
}

/* A connection was accepted now (stamped at debug level only). */
void	trace_accepted(void);
/* Begin t when the log is at debug level, from the last accept. */
void	trace_begin(struct trace *t);
/* The first call of pid was answered: one debug line, and t is done. */
void	trace_end(struct trace *t, pid_t pid);

#endif
