/*
 * Open calls waiting for a name (Open's "wait"): one waiting call at most
 * per connection, which holds back that connection's later calls; kept
 * by name, so that a Create answers every waiter of its name at once, and
 * each with a timer. Who answers is the method's business: a waiter
 * carries the function that does (methods.c).
 */
#ifndef SHMD_WAITERS_H
#define SHMD_WAITERS_H

#include <stddef.h>
#include <sys/queue.h>

struct conn;
struct event;
struct event_base;
struct kshm_stat;
struct segment;
struct waiter;

/*
 * Answer a waiting call: seg and st when its name was created, NULL when
 * the time ran out. The waiter is gone by then (name stays valid for the
 * call).
 */
typedef void	waiter_answer_fn(struct conn *, const char *name,
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
 * Park c's call until name is created or seconds pass. 0, or -1 when out
 * of memory. Sets c->waiter.
 */
int	waiters_add(struct waiters *, struct conn *c, const char *name,
	    unsigned seconds, waiter_answer_fn *answer);
/* A segment was created: answer every call waiting for its name. */
void	waiters_wake(struct waiters *, const struct segment *seg,
	    const struct kshm_stat *st);
/* The connection goes: its waiting call with it, unanswered. */
void	waiters_cancel(struct waiter *);

#endif
