/*
 * Open calls waiting for a name (Open's "wait"): one waiting call at most
 * per connection, which holds back that connection's later calls; kept
 * by name, so that a Create answers every waiter of its name at once, and
 * each with a timer. A waiter holds a parked call (call_park()), and the
 * method's function that answers it (methods.c); the call layer settles
 * it (call_settle()), as any other.
 */
#ifndef SHMD_WAITERS_H
#define SHMD_WAITERS_H

#include <stddef.h>
#include <sys/queue.h>

#include "call.h"

struct event;
struct event_base;
struct kshm_stat;
struct segment;
struct waiter;

/*
 * Answer a waiting call: seg and st when its name was created, NULL when
 * the time ran out. The waiter is gone by then.
 */
typedef enum call_status waiter_answer_fn(struct call *,
		    const struct segment *seg, const struct kshm_stat *st);

struct waiters {
	struct event_base	*base;
	void			*by_name;	/* tsearch(3) tree of names */
	size_t			 count;		/* waiting calls */
};

void	waiters_init(struct waiters *, struct event_base *);
/* Free every waiter, answering none (at exit, after the connections). */
void	waiters_finish(struct waiters *);

/*
 * Keep a parked call until name is created or seconds pass: 0 (the call
 * is the waiter's), or -1 when out of memory. Sets its conn's waiter.
 */
int	waiters_add(struct waiters *, struct call *parked, const char *name,
	    unsigned seconds, waiter_answer_fn *answer);
/* A segment was created: answer every call waiting for its name. */
void	waiters_wake(struct waiters *, const struct segment *seg,
	    const struct kshm_stat *st);
/* The connection goes: its waiting call with it, unanswered (freed). */
void	waiters_cancel(struct waiter *);

#endif
