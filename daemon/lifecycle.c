/* A segment's life: every transition, in one order (see lifecycle.h). */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "kshm.h"
#include "lifecycle.h"
#include "log.h"
#include "realtime.h"

static void	lifecycle_follow(void *, struct segment *);
static void	lifecycle_follow_pinned(struct lifecycle *, struct segment *,
		    int pidfd);
static void	lifecycle_expired(void *, struct segment *,
		    const struct kshm_stat *, const char *);
static void	lifecycle_gone_cb(void *, struct segment *);
static void	lifecycle_process_exited(void *, struct procwatch *);

static const struct reaper_ops lifecycle_reaper_ops = {
	.expired = lifecycle_expired,
	.gone = lifecycle_gone_cb,
	.follow = lifecycle_follow,
};

void
lifecycle_init(struct lifecycle *lc, struct event_base *base,
    const struct conf *conf, pid_t pid, uid_t uid, int64_t start_usec,
    lifecycle_notify_fn *notify, void *notify_arg)
{
	memset(lc, 0, sizeof *lc);
	lc->base = base;
	lc->conf = conf;
	registry_init(&lc->registry);
	keyalloc_init(&lc->keys, conf->key_base, conf->key_count);
	state_init(&lc->state, pid, uid, start_usec);
	procwatch_init(&lc->procs, base, lifecycle_process_exited, lc);
	reaper_init(&lc->reaper, &lc->registry, &lifecycle_reaper_ops, lc);
	lc->notify = notify;
	lc->notify_arg = notify_arg;
}

void
lifecycle_finish(struct lifecycle *lc)
{
	struct segment	*seg;

	if (lc->timer != NULL)
		event_free(lc->timer);
	lc->timer = NULL;
	if (lc->first_sweep != NULL)
		event_free(lc->first_sweep);
	lc->first_sweep = NULL;
	/* Watches go before the records that point at them. */
	TAILQ_FOREACH(seg, &lc->registry.segments, entry)
		seg->watch = NULL;
	procwatch_finish(&lc->procs);
	state_close(&lc->state);
	registry_finish(&lc->registry);
}

void
lifecycle_sweep(struct lifecycle *lc, int full)
{
	procwatch_poll(&lc->procs);
	reaper_sweep(&lc->reaper, full, realtime_usec());
}

static void
lifecycle_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lifecycle	*lc = arg;

	lc->ticks++;
	lifecycle_sweep(lc, lc->ticks % REAPER_FULL_EVERY == 0);
}

/* The first full sweep after a start (at LIFECYCLE_PRIORITY_IDLE). */
static void
lifecycle_first_sweep(evutil_socket_t fd, short what, void *arg)
{
	lifecycle_sweep(arg, 1);
}

int
lifecycle_start(struct lifecycle *lc)
{
	struct timeval	tv = { 0, REAPER_INTERVAL_MS * 1000 }, now = { 0, 0 };

	lc->timer = event_new(lc->base, -1, EV_PERSIST, lifecycle_timer_cb, lc);
	lc->first_sweep = evtimer_new(lc->base, lifecycle_first_sweep, lc);
	if (lc->timer == NULL || lc->first_sweep == NULL ||
	    event_add(lc->timer, &tv) == -1)
		return -1;
	/* (a loop without the priorities runs it at the default one) */
	event_priority_set(lc->first_sweep, LIFECYCLE_PRIORITY_IDLE);
	if (event_add(lc->first_sweep, &now) == -1)
		return -1;
	return 0;
}

void
lifecycle_reconfigure(struct lifecycle *lc)
{
	keyalloc_init(&lc->keys, lc->conf->key_base, lc->conf->key_count);
}

/*
 * Start following a "process" segment's creator. A creator already gone
 * gets its segment reaped at the next sweep; one that cannot be followed
 * now (no descriptors) is tried again then.
 */
static void
lifecycle_follow(void *arg, struct segment *seg)
{
	lifecycle_follow_pinned(arg, seg, -1);
}

/* The same with a pidfd of the creator in hand (or -1), which it takes. */
static void
lifecycle_follow_pinned(struct lifecycle *lc, struct segment *seg, int pidfd)
{
	if (seg->lifetime != PROTO_LIFETIME_PROCESS || seg->watch != NULL) {
		if (pidfd >= 0)
			close(pidfd);
		return;
	}
	seg->watch = procwatch_get(&lc->procs, seg->creator_pid,
	    seg->creator_start, seg->creator_ino, pidfd);
	if (seg->watch != NULL)
		return;
	lc->reaper.unfollowed = 1;	/* the next tick looks again */
	if (errno == ESRCH)
		seg->creator_gone = 1;	/* the next sweep reaps it */
	else
		log_warn("cannot follow process %ld for %s (will retry)",
		    (long)seg->creator_pid, seg->name);
}

/*
 * Join the registry and start following (with the creator's pidfd when
 * in hand, else -1): the same for new and adopted segments.
 */
static int
lifecycle_begin(struct lifecycle *lc, struct segment *seg, int pidfd)
{
	if (registry_add(&lc->registry, seg) == -1) {
		if (pidfd >= 0)
			close(pidfd);
		return -1;
	}
	lifecycle_follow_pinned(lc, seg, pidfd);
	return 0;
}

/*
 * The end of every segment's life, in this order: the record of its end,
 * out of the registry, no longer followed, watchers told, freed. Only
 * then may the log be compacted: it and the registry agree again.
 */
static void
lifecycle_end(struct lifecycle *lc, struct segment *seg, enum proto_event ev,
    const struct kshm_stat *st)
{
	if (state_record_destroy(&lc->state, seg) == -1)
		log_warn("state: cannot record the end of %s", seg->name);
	registry_remove(&lc->registry, seg);
	procwatch_put(seg->watch);
	seg->watch = NULL;
	if (lc->notify != NULL)
		lc->notify(lc->notify_arg, ev, seg, st);
	segment_destroy(seg);
	if (state_maybe_compact(&lc->state, &lc->registry) == -1)
		log_warn("state: cannot compact the log");
}

int
lifecycle_create(struct lifecycle *lc, const struct lifecycle_request *req,
    struct segment **out, struct kshm_stat *st)
{
	struct state_pending	 p;
	struct segment		*seg;
	int			 shmid, saved, pidfd = req->creator_pidfd;

	if ((seg = segment_create(req->name)) == NULL)
		return -1;
	/* Announced first: a crash after shmget leaves a provable leftover. */
	memset(&p, 0, sizeof p);
	p.pid = lc->state.pid;
	p.uid = lc->state.uid;
	p.size = req->size;
	p.any_key = req->any_key;
	p.key = req->key;
	p.key_base = lc->keys.base;
	p.key_count = lc->keys.count;
	p.usec = realtime_usec();
	if (state_record_pending(&lc->state, &p) == -1)
		goto fail;
	if (req->any_key)
		shmid = keyalloc_create(&lc->keys, req->size, req->uid,
		    req->gid, req->mode, st);
	else
		shmid = kshm_create(req->key, req->size, req->uid, req->gid,
		    req->mode, st);
	if (shmid == -1) {
		saved = errno;
		/* Nothing was made: say so, so that recovery looks for nothing. */
		state_record_aborted(&lc->state);
		errno = saved;
		goto fail;
	}
	seg->shmid = shmid;
	seg->key = st->key;
	seg->size = req->size;
	seg->lifetime = req->lifetime;
	seg->attach_timeout = req->attach_timeout;
	seg->uid = req->uid;
	seg->gid = req->gid;
	seg->mode = req->mode;
	seg->creator_uid = req->creator_uid;
	seg->creator_pid = req->creator_pid;
	seg->created_usec = realtime_usec();
	seg->kernel_cpid = st->cpid;
	seg->kernel_ctime = st->ctime;
	segment_saw(seg, st);
	/*
	 * The creator as it was when it connected: if it has exited since
	 * (its pid maybe another process's now), following it fails and the
	 * segment is reaped at the next tick.
	 */
	seg->creator_start = req->creator_start;
	seg->creator_ino = req->creator_ino;
	if (req->lifetime == PROTO_LIFETIME_PROCESS && req->creator_exited)
		seg->creator_gone = 1;
	/* Recorded before it is answered: a restart finds it. */
	if (state_record_create(&lc->state, seg) == -1) {
		saved = errno;
		log_warn("create %s: cannot record it", seg->name);
		kshm_remove(shmid);
		errno = saved;
		goto fail;
	}
	/* from here on the pidfd is lifecycle_begin()'s */
	saved = pidfd;
	pidfd = -1;
	if (lifecycle_begin(lc, seg, saved) == -1) {
		state_record_destroy(&lc->state, seg);
		kshm_remove(shmid);
		errno = ENOMEM;
		goto fail;
	}
	log_info("created %s (shmid %d, key 0x%08x, %llu bytes, owner "
	    "%lu:%lu, mode %03o, %s) for pid %ld uid %lu", seg->name, shmid,
	    (unsigned)seg->key, (unsigned long long)seg->size,
	    (unsigned long)seg->uid, (unsigned long)seg->gid, seg->mode,
	    proto_lifetime_name(seg->lifetime), (long)seg->creator_pid,
	    (unsigned long)seg->creator_uid);
	if (lc->notify != NULL)
		lc->notify(lc->notify_arg, PROTO_EVENT_CREATED, seg, st);
	if (state_maybe_compact(&lc->state, &lc->registry) == -1)
		log_warn("state: cannot compact the log");
	*out = seg;
	return 0;
fail:
	saved = errno;
	if (pidfd >= 0)
		close(pidfd);
	segment_destroy(seg);
	errno = saved;
	return -1;
}

int
lifecycle_adopt(struct lifecycle *lc, struct segment *seg)
{
	return lifecycle_begin(lc, seg, -1);
}

size_t
lifecycle_adopt_all(struct lifecycle *lc, struct registry *loaded)
{
	struct segment	*seg;
	size_t		 adopted = 0;

	if (lc->registry.count == 0) {
		registry_move(&lc->registry, loaded);
		TAILQ_FOREACH(seg, &lc->registry.segments, entry)
			lifecycle_follow(lc, seg);
		return lc->registry.count;
	}
	while ((seg = TAILQ_FIRST(&loaded->segments)) != NULL) {
		registry_remove(loaded, seg);
		if (lifecycle_adopt(lc, seg) == -1) {
			log_warn("recovery: %s", seg->name);
			segment_destroy(seg);
			continue;
		}
		adopted++;
	}
	return adopted;
}

int
lifecycle_destroy(struct lifecycle *lc, struct segment *seg,
    const struct kshm_stat *st)
{
	if (!seg->rmid_marked && kshm_remove(seg->shmid) == -1) {
		log_warn("destroy %s: shmctl(%d, IPC_RMID)", seg->name,
		    seg->shmid);
		return -1;
	}
	log_info("destroyed %s (shmid %d)", seg->name, seg->shmid);
	lifecycle_end(lc, seg, PROTO_EVENT_DESTROYED, st);
	return 0;
}

void
lifecycle_reap(struct lifecycle *lc, struct segment *seg,
    const struct kshm_stat *st, const char *why)
{
	if (!seg->rmid_marked && kshm_remove(seg->shmid) == -1) {
		log_warn("reap %s: shmctl(%d, IPC_RMID)", seg->name,
		    seg->shmid);
		return;	/* tried again at the next sweep */
	}
	log_info("reaped %s (shmid %d): %s", seg->name, seg->shmid, why);
	lc->reaped++;
	lifecycle_end(lc, seg, PROTO_EVENT_REAPED, st);
}

void
lifecycle_gone(struct lifecycle *lc, struct segment *seg)
{
	struct kshm_stat	st;

	/* what shmd last saw of it: the kernel holds it no more */
	segment_seen_stat(seg, &st);
	if (seg->rmid_marked) {
		/* shmd marked it: the kernel freed it at its last detach. */
		lifecycle_reap(lc, seg, &st, "last detach");
		return;
	}
	log_notice("segment %s (shmid %d) was removed behind shmd's back",
	    seg->name, seg->shmid);
	lc->vanished++;
	lifecycle_end(lc, seg, PROTO_EVENT_VANISHED, &st);
}

int
lifecycle_look(struct lifecycle *lc, struct segment *seg, struct kshm_stat *st)
{
	if (kshm_stat(seg->shmid, st) == -1 ||
	    !kshm_is(st, seg->kernel_cpid, seg->size, seg->rmid_marked)) {
		lifecycle_gone(lc, seg);
		return -1;
	}
	segment_saw(seg, st);
	return 0;
}

struct segment *
lifecycle_find(struct lifecycle *lc, const char *name, struct kshm_stat *st)
{
	struct segment	*seg;

	if ((seg = registry_find_by_name(&lc->registry, name)) == NULL ||
	    lifecycle_look(lc, seg, st) == -1)
		return NULL;
	return seg;
}

static void
lifecycle_expired(void *arg, struct segment *seg, const struct kshm_stat *st,
    const char *why)
{
	lifecycle_reap(arg, seg, st, why);
}

static void
lifecycle_gone_cb(void *arg, struct segment *seg)
{
	lifecycle_gone(arg, seg);
}

/* A creator exited: reap the segments that follow it. */
static void
lifecycle_process_exited(void *arg, struct procwatch *w)
{
	struct lifecycle	*lc = arg;
	struct segment		*seg, *next;
	struct kshm_stat	 st;

	for (seg = TAILQ_FIRST(&lc->registry.segments); seg != NULL;
	    seg = next) {
		next = TAILQ_NEXT(seg, entry);
		if (seg->watch == w && lifecycle_look(lc, seg, &st) == 0)
			lifecycle_reap(lc, seg, &st, "its creator exited");
	}
}
