/* Open calls waiting for a name (see waiters.h). */
#include "config.h"

#include <search.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "conn.h"
#include "registry.h"
#include "waiters.h"

/* The calls waiting for one name, in the order they came. */
struct waitname {
	char			*name;
	TAILQ_HEAD(, waiter)	 list;
};

struct waiter {
	TAILQ_ENTRY(waiter)	 entry;
	struct waiters		*ws;
	struct waitname		*wn;
	struct conn		*conn;
	struct event		*timer;
	waiter_answer_fn	*answer;
};

static int
waiters_compare(const void *a, const void *b)
{
	const struct waitname	*x = a, *y = b;

	return strcmp(x->name, y->name);
}

void
waiters_init(struct waiters *ws, struct event_base *base)
{
	ws->base = base;
	ws->by_name = NULL;
	ws->count = 0;
}

/* Take w out of its name's list (and the name out, once it has none). */
static void
waiters_unlink(struct waiter *w)
{
	struct waitname	*wn = w->wn;

	TAILQ_REMOVE(&wn->list, w, entry);
	w->ws->count--;
	if (TAILQ_EMPTY(&wn->list)) {
		tdelete(wn, &w->ws->by_name, waiters_compare);
		free(wn->name);
		free(wn);
	}
	if (w->timer != NULL)
		event_free(w->timer);
	w->conn->waiter = NULL;
}

void
waiters_cancel(struct waiter *w)
{
	if (w == NULL)
		return;
	waiters_unlink(w);
	free(w);
}

void
waiters_finish(struct waiters *ws)
{
	struct waitname	*wn;

	/* Each cancel takes one; the last of a name takes the name too. */
	while (ws->by_name != NULL) {
		wn = *(struct waitname **)ws->by_name;
		waiters_cancel(TAILQ_FIRST(&wn->list));
	}
}

/* The time ran out: NoSuchSegment. */
static void
waiters_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct waiter		*w = arg;
	struct conn		*c = w->conn;
	waiter_answer_fn	*answer = w->answer;
	char			*name = strdup(w->wn->name);

	waiters_cancel(w);
	answer(c, name != NULL ? name : "", NULL, NULL);
	free(name);
}

int
waiters_add(struct waiters *ws, struct conn *c, const char *name,
    unsigned seconds, waiter_answer_fn *answer)
{
	struct timeval	 tv = { (time_t)seconds, 0 };
	struct waitname	 key, *wn = NULL;
	struct waiter	*w;
	void		*node;

	if ((w = calloc(1, sizeof *w)) == NULL)
		return -1;
	w->ws = ws;
	w->conn = c;
	w->answer = answer;
	if ((w->timer = evtimer_new(ws->base, waiters_timeout, w)) == NULL ||
	    evtimer_add(w->timer, &tv) == -1)
		goto fail;
	key.name = (char *)name;
	if ((node = tfind(&key, &ws->by_name, waiters_compare)) != NULL)
		wn = *(struct waitname **)node;
	else {
		if ((wn = calloc(1, sizeof *wn)) == NULL ||
		    (wn->name = strdup(name)) == NULL)
			goto fail_wn;
		TAILQ_INIT(&wn->list);
		if (tsearch(wn, &ws->by_name, waiters_compare) == NULL)
			goto fail_wn;
	}
	w->wn = wn;
	TAILQ_INSERT_TAIL(&wn->list, w, entry);
	ws->count++;
	c->waiter = w;
	return 0;
fail_wn:
	if (wn != NULL)
		free(wn->name);
	free(wn);
fail:
	if (w->timer != NULL)
		event_free(w->timer);
	free(w);
	return -1;
}

void
waiters_wake(struct waiters *ws, const struct segment *seg,
    const struct kshm_stat *st)
{
	struct waitname		 key, *wn;
	struct waiter		*w;
	struct conn		*c;
	waiter_answer_fn	*answer;
	void			*node;

	key.name = seg->name;
	if ((node = tfind(&key, &ws->by_name, waiters_compare)) == NULL)
		return;
	wn = *(struct waitname **)node;
	/* Each answer may free the name's list with its last waiter. */
	for (;;) {
		w = TAILQ_FIRST(&wn->list);
		c = w->conn;
		answer = w->answer;
		node = TAILQ_NEXT(w, entry);
		waiters_cancel(w);
		answer(c, seg->name, seg, st);
		if (node == NULL)
			break;
	}
}
