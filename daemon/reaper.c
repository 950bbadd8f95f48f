/* Lifetimes: reaping detach, process and vanished segments. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <event2/event.h>

#include "kshm.h"
#include "log.h"
#include "procwatch.h"
#include "reaper.h"
#include "server.h"

static void
reaper_reap(struct server *srv, struct segment *seg, const struct kshm_stat *st,
    const char *why)
{
	if (!seg->rmid_marked && kshm_remove(seg->shmid) == -1) {
		log_warn("reap %s: shmctl(%d, IPC_RMID)", seg->name,
		    seg->shmid);
		return;	/* try again at the next sweep */
	}
	log_info("reaped %s (shmid %d): %s", seg->name, seg->shmid, why);
	srv->reaped++;
	server_forget(srv, seg, PROTO_EVENT_REAPED, st);
}

void
reaper_gone(struct server *srv, struct segment *seg)
{
	struct kshm_stat	st;

	if (seg->rmid_marked) {
		/* The kernel freed it at its last detach. */
		server_recorded_stat(seg, &st);
		reaper_reap(srv, seg, &st, "last detach");
	} else
		server_vanished(srv, seg);
}

/* Apply a segment's lifetime to what the kernel shows of it (st). */
static void
reaper_apply(struct server *srv, struct segment *seg,
    const struct kshm_stat *st, int64_t now)
{
	switch (seg->lifetime) {
	case PROTO_LIFETIME_DETACH:
		if (st->nattch == 0 && st->atime != 0)
			reaper_reap(srv, seg, st, "last detach");
		else if (st->nattch == 0 && now - seg->created_usec >=
		    (int64_t)seg->attach_timeout * 1000000)
			reaper_reap(srv, seg, st, "never attached");
		else if (st->nattch > 0 && seg->key == 0 && !seg->rmid_marked) {
			/*
			 * Keyless and attached: mark it now, so that the kernel
			 * frees it at the exact last detach, even with shmd down.
			 * Linux still lets processes shmat it by shmid.
			 */
			if (kshm_remove(seg->shmid) == 0) {
				seg->rmid_marked = 1;
				registry_unpoll(&srv->registry, seg);
			}
		}
		break;
	case PROTO_LIFETIME_PROCESS:
		if (seg->watch == NULL)
			reaper_follow(srv, seg);	/* try again */
		if (seg->watch == NULL && seg->creator_gone)
			reaper_reap(srv, seg, st, "its creator exited");
		break;
	case PROTO_LIFETIME_PERSISTENT:
		break;
	}
}

/* Look at one segment and apply its lifetime. */
static void
reaper_check(struct server *srv, struct segment *seg, int64_t now)
{
	struct kshm_stat	st;

	if (server_stat_segment(srv, seg, &st) == -1)
		reaper_gone(srv, seg);
	else
		reaper_apply(srv, seg, &st, now);
}

/*
 * The detach segments not marked IPC_RMID, each tick: one IPC_STAT each,
 * checked against a dense array of what server_stat_segment() checks,
 * without touching the records, and nothing more while one stays attached.
 * This loop is what idle shmd spends its time on.
 */
static void
reaper_poll(struct server *srv, int64_t now)
{
	struct registry		*reg = &srv->registry;
	struct registry_poll	*p;
	struct kshm_stat	 st;
	size_t			 i;

	/* Downwards: a reap moves the last entry into the one it frees. */
	for (i = reg->npolls; i-- > 0;) {
		p = &reg->polls[i];
		if (kshm_stat(p->shmid, &st) == -1 ||
		    !server_segment_is(&st, p->cpid, p->size, 0))
			reaper_gone(srv, p->seg);
		else if (st.nattch == 0 || st.key == 0)
			reaper_apply(srv, p->seg, &st, now);
	}
}

void
reaper_sweep(struct server *srv, int full)
{
	struct segment	*seg, *next;
	int64_t		 now = now_usec();

	reaper_poll(srv, now);
	/* The others at full sweeps, and "process" ones not followed yet. */
	if (!full && !srv->reaper_unfollowed)
		return;
	srv->reaper_unfollowed = 0;
	for (seg = TAILQ_FIRST(&srv->registry.segments); seg != NULL;
	    seg = next) {
		next = TAILQ_NEXT(seg, entry);
		if (seg->poll == 0 && (full ||
		    (seg->lifetime == PROTO_LIFETIME_PROCESS &&
		    seg->watch == NULL)))
			reaper_check(srv, seg, now);
	}
}

static void
reaper_tick(evutil_socket_t fd, short what, void *arg)
{
	struct server	*srv = arg;

	srv->reaper_ticks++;
	procwatch_poll(srv);
	reaper_sweep(srv, srv->reaper_ticks % REAPER_FULL_EVERY == 0);
}

int
reaper_start(struct server *srv)
{
	struct timeval	tv = { 0, REAPER_INTERVAL_MS * 1000 };

	srv->reaper_timer = event_new(srv->base, -1, EV_PERSIST, reaper_tick,
	    srv);
	if (srv->reaper_timer == NULL ||
	    event_add(srv->reaper_timer, &tv) == -1)
		return -1;
	return 0;
}

void
reaper_stop(struct server *srv)
{
	if (srv->reaper_timer != NULL)
		event_free(srv->reaper_timer);
	srv->reaper_timer = NULL;
}

void
reaper_follow(struct server *srv, struct segment *seg)
{
	if (seg->lifetime != PROTO_LIFETIME_PROCESS || seg->watch != NULL)
		return;
	seg->watch = procwatch_get(srv, seg->creator_pid, seg->creator_start);
	if (seg->watch != NULL)
		return;
	srv->reaper_unfollowed = 1;	/* the next tick looks again */
	if (errno == ESRCH)
		seg->creator_gone = 1;	/* the next sweep reaps it */
	else
		log_warn("cannot follow process %ld for %s (will retry)",
		    (long)seg->creator_pid, seg->name);
}

void
reaper_process_exited(struct server *srv, struct procwatch *w)
{
	struct segment		*seg, *next;
	struct kshm_stat	 st;

	for (seg = TAILQ_FIRST(&srv->registry.segments); seg != NULL;
	    seg = next) {
		next = TAILQ_NEXT(seg, entry);
		if (seg->watch != w)
			continue;
		if (server_stat_segment(srv, seg, &st) == -1) {
			reaper_gone(srv, seg);
			continue;
		}
		reaper_reap(srv, seg, &st, "its creator exited");
	}
}
