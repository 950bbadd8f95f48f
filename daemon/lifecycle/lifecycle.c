/* A segment's life: every transition, in one order (see lifecycle.h). */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "kmem.h"
#include "kshm.h"
#include "lifecycle.h"
#include "log.h"
#include "realtime.h"
#include "trace.h"

static void	lifecycle_follow(void *, struct segment *);
static void	lifecycle_follow_pinned(struct lifecycle *, struct segment *,
		    int *pidfd);
static void	lifecycle_expired(void *, struct segment *,
		    const struct kshm_stat *, const char *);
static void	lifecycle_gone_cb(void *, struct segment *);
static void	lifecycle_process_exited(void *, struct procwatch *);
static void	lifecycle_mark(void *, struct segment *);
static void	lifecycle_unrecorded(struct lifecycle *, const char *);
static void	lifecycle_orphans(struct lifecycle *);

static const struct reaper_ops lifecycle_reaper_ops = {
	.expired = lifecycle_expired,
	.gone = lifecycle_gone_cb,
	.follow = lifecycle_follow,
	.mark = lifecycle_mark,
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
	lc->pidns = lc->state.pidns;	/* (read once, by state_init) */
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
	if (lc->flush != NULL)
		event_free(lc->flush);
	lc->flush = NULL;
	/* (what the page holds, the log takes before the daemon goes) */
	if (state_flush(&lc->state) == -1)
		log_warn("state: the last Create stays in the intent page");
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
	reaper_sweep(&lc->reaper, full, boottime_usec());
	if (full && lc->state.norphans > 0)
		lifecycle_orphans(lc);
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
	lifecycle_follow_pinned(arg, seg, NULL);
}

/*
 * The same with a pidfd of the creator in hand (or NULL), which the
 * watch takes if it keeps it (procwatch_get()).
 */
static void
lifecycle_follow_pinned(struct lifecycle *lc, struct segment *seg, int *pidfd)
{
	if (seg->lifetime != PROTO_LIFETIME_PROCESS || seg->watch != NULL ||
	    seg->creator_lost)
		return;
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
 * Charge a segment to the uid it was made for (declared ones to nobody),
 * for as long as it is in the registry. -1 when out of memory.
 */
static int
lifecycle_charge(struct lifecycle *lc, const struct segment *seg)
{
	if (lc->charge == NULL || seg->declared)
		return 0;
	return lc->charge(lc->account_arg, seg->uid, seg->size, &seg->policy);
}

static void
lifecycle_release(struct lifecycle *lc, const struct segment *seg)
{
	if (lc->release != NULL && !seg->declared)
		lc->release(lc->account_arg, seg->uid, seg->size, &seg->policy);
}

/*
 * Join the registry and start following (with the creator's pidfd when
 * in hand, else NULL): the same for new and adopted segments.
 */
static int
lifecycle_begin(struct lifecycle *lc, struct segment *seg, int *pidfd)
{
	if (registry_add(&lc->registry, seg) == -1)
		return -1;
	if (lifecycle_charge(lc, seg) == -1) {
		registry_remove(&lc->registry, seg);
		errno = ENOMEM;
		return -1;
	}
	lifecycle_follow_pinned(lc, seg, pidfd);
	return 0;
}

/*
 * Records can be written now (the log rewritten whole first, after a
 * failure): 0, or -1 with errno, logged once until records go through.
 */
static int
lifecycle_ready(struct lifecycle *lc)
{
	if (state_ready(&lc->state, &lc->registry) == -1) {
		lifecycle_unrecorded(lc, "the log");
		return -1;
	}
	return 0;
}

/* A record failed (errno): said once, until one goes through again. */
static void
lifecycle_unrecorded(struct lifecycle *lc, const char *what)
{
	char	path[512];
	int	saved = errno;

	if (!lc->unrecorded)
		log_warnx("state: cannot record %s in %s: %s; changes are "
		    "refused until it can", what, state_failed_path(&lc->state,
		    path, sizeof path), strerror(saved));
	lc->unrecorded = 1;
	errno = saved;
}

/*
 * The log takes the record the intent page holds (state.h), after the
 * answer of the Create that stored it: from the event loop, once the
 * callback that made it returns.
 */
static void
lifecycle_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lifecycle	*lc = arg;

	if (state_flush(&lc->state) == -1)
		lifecycle_unrecorded(lc, "a Create (kept in the intent page)");
}

/*
 * Scheduled for the end of this turn of the loop; written now, before
 * the answer, only when no event can be made (out of memory).
 */
static void
lifecycle_flush_later(struct lifecycle *lc)
{
	if (!lc->state.deferred)
		return;
	if (lc->flush == NULL && lc->base != NULL)
		lc->flush = event_new(lc->base, -1, 0, lifecycle_flush_cb, lc);
	if (lc->flush != NULL)
		event_active(lc->flush, 0, 0);
	else
		lifecycle_flush_cb(-1, 0, lc);
}

/* Record with fn(state, seg) first; -1 (logged) when it cannot be. */
static int
lifecycle_record(struct lifecycle *lc, const struct segment *seg,
    int (*fn)(struct state *, const struct segment *))
{
	if (lifecycle_ready(lc) == -1)
		return -1;
	if (fn(&lc->state, seg) == -1) {
		lifecycle_unrecorded(lc, seg->name);
		return -1;
	}
	if (lc->unrecorded)
		log_notice("state: records are written again");
	lc->unrecorded = 0;
	return 0;
}

int
lifecycle_remove_made(struct lifecycle *lc, const struct state_orphan *o)
{
	if (kshm_remove(o->shmid) == 0)
		return 0;
	log_warn("shmctl(%d, IPC_RMID): will try again", o->shmid);
	if (state_orphan_add(&lc->state, o) == -1)
		log_warn("cannot remember shmid %d to remove it", o->shmid);
	return -1;
}

/* Remove a segment shmd made and no longer answers for. */
static void
lifecycle_unmake(struct lifecycle *lc, const struct segment *seg)
{
	struct state_orphan	o = { seg->shmid, seg->key, seg->kernel_cuid,
				    seg->size };

	lifecycle_remove_made(lc, &o);
}

/* Whether shmid is a segment of the registry's (orphans are few: a scan). */
static int
lifecycle_manages(const struct lifecycle *lc, int shmid)
{
	const struct segment	*seg;

	TAILQ_FOREACH(seg, &lc->registry.segments, entry)
		if (seg->shmid == shmid)
			return 1;
	return 0;
}

/* Try again to remove the orphans (each full sweep). */
static void
lifecycle_orphans(struct lifecycle *lc)
{
	struct state_orphan	*o;
	struct kshm_stat	 st;
	size_t			 i;

	for (i = lc->state.norphans; i-- > 0;) {
		o = &lc->state.orphans[i];
		/* (gone meanwhile, its shmid may be a live segment's now) */
		if (kshm_stat(o->shmid, &st) == 0 &&
		    kshm_is(&st, o->key, o->cuid, o->size, 0) &&
		    !lifecycle_manages(lc, o->shmid) &&
		    kshm_remove(o->shmid) == -1)
			continue;
		log_info("removed shmid %d, which the kernel refused to "
		    "remove before", o->shmid);
		state_orphan_removed(&lc->state, i);
	}
}

/*
 * The end of every segment's life, once recorded (or, when the kernel
 * freed it already, told to the log as it may be): out of the registry,
 * no longer followed, watchers told, freed. Only then may the log be
 * compacted: it and the registry agree again.
 */
static void
lifecycle_end(struct lifecycle *lc, struct segment *seg, enum proto_event ev,
    const struct kshm_stat *st)
{
	registry_remove(&lc->registry, seg);
	lifecycle_release(lc, seg);
	procwatch_put(seg->watch);
	seg->watch = NULL;
	if (lc->notify != NULL)
		lc->notify(lc->notify_arg, ev, seg, st);
	segment_destroy(seg);
	if (state_maybe_compact(&lc->state, &lc->registry) == -1)
		log_warn("state: cannot compact the log");
}

/* Recorded as ended, then removed from the kernel: Destroy and reaps. */
static int
lifecycle_remove(struct lifecycle *lc, struct segment *seg)
{
	if (lifecycle_record(lc, seg, state_record_destroy) == -1)
		return -1;
	if (!seg->rmid_marked)
		lifecycle_unmake(lc, seg);
	return 0;
}

/*
 * The Create announced in the intent page (state.h): what a crash after
 * shmget would leave, for a copy, not a write.
 */
static int
lifecycle_announce(struct lifecycle *lc, const struct lifecycle_request *req)
{
	struct state_pending	p;

	memset(&p, 0, sizeof p);
	p.pid = lc->state.pid;
	p.pidns = lc->pidns;
	p.uid = kshm_cuid();
	p.gid = kshm_cgid();
	p.size = req->size;
	p.any_key = req->any_key;
	p.key = req->key;
	p.key_base = lc->keys.base;
	p.key_count = lc->keys.count;
	p.usec = realtime_usec();
	p.setup = shm_policy_setup(&req->policy);
	if (lifecycle_ready(lc) == -1)
		return -1;
	if (state_announce(&lc->state, &p) == -1) {
		lifecycle_unrecorded(lc, req->name);
		return -1;
	}
	return 0;
}

/* A new segment's record, from the request and what the kernel made. */
static void
lifecycle_fill(struct lifecycle *lc, struct segment *seg,
    const struct lifecycle_request *req, const struct kshm_stat *st)
{
	seg->shmid = st->shmid;
	seg->key = st->key;
	seg->size = req->size;
	seg->lifetime = req->lifetime;
	seg->attach_timeout = req->attach_timeout;
	seg->uid = req->uid;
	seg->gid = req->gid;
	seg->mode = req->mode;
	seg->declared = req->declared;
	seg->creator_uid = req->creator_uid;
	seg->creator_pid = req->creator_pid;
	seg->creator_pidns = lc->pidns;
	seg->created_usec = realtime_usec();
	seg->created_boot = boottime_usec();
	seg->kernel_cuid = st->cuid;
	seg->policy = req->policy;
	if (req->policy.numa_node >= 0) {
		/* what the daemon's own attach left (segment_attached()) */
		seg->self_atime = st->atime;
		seg->self_dtime = st->dtime;
		seg->self_lpid = st->lpid;
	}
	/*
	 * The creator as it was when it connected: if it has exited since
	 * (its pid maybe another process's now), following it fails and the
	 * segment is reaped at the next tick.
	 */
	seg->creator_start = req->creator_start;
	seg->creator_ino = req->creator_ino;
	if (req->lifetime == PROTO_LIFETIME_PROCESS && req->creator_exited)
		seg->creator_gone = 1;
}

int
lifecycle_create(struct lifecycle *lc, const struct lifecycle_request *req,
    struct segment **out, struct kshm_stat *st)
{
	struct segment	*seg;
	int		 shmid, saved, setup;
	int		 rc = -1;

	trace_mark(TRACE_CHECKED);
	if ((seg = segment_create(req->name)) == NULL)
		goto fail;
	/*
	 * Announced first: what a crash between shmget and the segment's
	 * record leaves is proven the daemon's by its size, key and time.
	 * (A run's record is no such proof: in a new pid namespace every
	 * segment made outside it shows cpid 0, as the old run's do.)
	 */
	setup = shm_policy_setup(&req->policy);
	if (lifecycle_announce(lc, req) == -1) {
		rc = LIFECYCLE_STATE_ERROR;
		goto fail;
	}
	/* Made the daemon's, mode 0: nobody's until handed over. */
	lc->refused = KMEM_MAKE;
	if (req->any_key)
		shmid = keyalloc_create(&lc->keys, req->size,
		    kmem_shmflg(&req->policy), st);
	else
		shmid = kshm_make(req->key, req->size,
		    kmem_shmflg(&req->policy), st);
	/* Its memory policy, while the announcement covers it. */
	if (shmid != -1 && setup &&
	    kmem_apply(st, &req->policy, &lc->refused) == -1) {
		struct state_orphan	o = { shmid, st->key, st->cuid,
					    req->size };

		saved = errno;
		lifecycle_remove_made(lc, &o);
		errno = saved;
		shmid = -1;
	}
	/* (nothing is left: the announcement is settled on the way out) */
	if (shmid == -1)
		goto fail;
	trace_mark(TRACE_MADE);
	lifecycle_fill(lc, seg, req, st);
	/* Recorded before it is handed over and answered: a restart finds it. */
	if (lifecycle_record(lc, seg, state_record_create) == -1) {
		saved = errno;
		lifecycle_unmake(lc, seg);
		errno = saved;
		rc = LIFECYCLE_STATE_ERROR;
		goto fail;
	}
	trace_mark(TRACE_RECORDED);
	if (kshm_hand_over(st, seg->uid, seg->gid, seg->mode) == -1) {
		saved = errno;
		/* (a log that cannot say so is rewritten before the next) */
		if (state_record_destroy(&lc->state, seg) == -1)
			log_warn("create %s: cannot record its undoing", seg->name);
		lifecycle_unmake(lc, seg);
		errno = saved;
		goto fail;
	}
	trace_mark(TRACE_HANDED);
	segment_saw(seg, st);
	if (lifecycle_begin(lc, seg, req->creator_pidfd) == -1) {
		/* (a log that cannot say so is rewritten before the next) */
		if (state_record_destroy(&lc->state, seg) == -1)
			log_warn("create %s: cannot record its undoing", seg->name);
		lifecycle_unmake(lc, seg);
		errno = ENOMEM;
		goto fail;
	}
	lc->created++;
	/* (at debug: a line per new process would fill the journal) */
	log_debug("created %s (shmid %d, key 0x%08x, %llu bytes, owner "
	    "%lu:%lu, mode %03o, %s) for pid %ld uid %lu", seg->name, shmid,
	    (unsigned)seg->key, (unsigned long long)seg->size,
	    (unsigned long)seg->uid, (unsigned long)seg->gid, seg->mode,
	    proto_lifetime_name(seg->lifetime), (long)seg->creator_pid,
	    (unsigned long)seg->creator_uid);
	if (lc->notify != NULL)
		lc->notify(lc->notify_arg, PROTO_EVENT_CREATED, seg, st);
	if (state_maybe_compact(&lc->state, &lc->registry) == -1)
		log_warn("state: cannot compact the log");
	lifecycle_flush_later(lc);
	*out = seg;
	return 0;
fail:
	saved = errno;
	/* what it made is undone: recovery is to look for nothing */
	state_settle(&lc->state);
	segment_destroy(seg);
	errno = saved;
	return rc;
}

/*
 * A "process" segment adopted at start whose creator this run cannot see
 * (it had no pid here, or its pid is of another pid namespace): it ends
 * at its next last detach, or attach_timeout from now.
 */
static void
lifecycle_adopted(struct lifecycle *lc, struct segment *seg)
{
	struct kshm_stat	st;

	/*
	 * Recorded and never handed over (a crash in between): it is now,
	 * as its record says.
	 */
	if (seg->unhanded) {
		segment_seen_stat(seg, &st);
		st.uid = st.cuid = kshm_cuid();
		st.gid = st.cgid = kshm_cgid();
		if (kshm_hand_over(&st, seg->uid, seg->gid, seg->mode) == 0) {
			segment_saw(seg, &st);
			seg->unhanded = 0;
		} else
			log_warn("recovery: cannot hand %s over", seg->name);
	}
	/* SHM_LOCK survives in the kernel: verified, not assumed */
	segment_seen_stat(seg, &st);
	switch (kmem_restore(&st, &seg->policy)) {
	case 1:
		log_notice("recovery: %s was not locked in RAM: locked again",
		    seg->name);
		segment_saw(seg, &st);
		break;
	case -1:
		log_warn("recovery: cannot lock %s in RAM", seg->name);
		break;
	}
	if (seg->lifetime != PROTO_LIFETIME_PROCESS ||
	    (seg->creator_pid != 0 && seg->creator_pidns == lc->pidns))
		return;
	seg->creator_lost = 1;
	seg->lost_boot = boottime_usec();
}

int
lifecycle_adopt(struct lifecycle *lc, struct segment *seg)
{
	lifecycle_adopted(lc, seg);
	return lifecycle_begin(lc, seg, NULL);
}

size_t
lifecycle_adopt_all(struct lifecycle *lc, struct registry *loaded)
{
	struct segment	*seg;
	size_t		 adopted = 0;

	if (lc->registry.count == 0) {
		registry_move(&lc->registry, loaded);
		TAILQ_FOREACH(seg, &lc->registry.segments, entry) {
			lifecycle_adopted(lc, seg);
			if (lifecycle_charge(lc, seg) == -1)
				log_warn("recovery: %s charged to nobody",
				    seg->name);
			lifecycle_follow(lc, seg);
		}
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

/*
 * Set seg's declared flag, its charge with it (declared segments are
 * charged to no uid). -1 when out of memory: nothing changed.
 */
static int
lifecycle_set_declared(struct lifecycle *lc, struct segment *seg,
    int declared)
{
	lifecycle_release(lc, seg);
	seg->declared = declared;
	if (lifecycle_charge(lc, seg) == -1) {
		seg->declared = !declared;
		(void)lifecycle_charge(lc, seg);	/* declared: none */
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

int
lifecycle_declare(struct lifecycle *lc, struct segment *seg, int declared)
{
	int	saved;

	if (seg->declared == declared)
		return 0;
	if (lifecycle_set_declared(lc, seg, declared) == -1)
		return -1;
	/* A flag no record line carries: the log is written anew. */
	if (state_compact(&lc->state, &lc->registry) == -1) {
		saved = errno;
		(void)lifecycle_set_declared(lc, seg, !declared);
		errno = saved;
		return LIFECYCLE_STATE_ERROR;
	}
	log_info("%s is %s declared", seg->name, declared ? "now" : "no longer");
	return 0;
}

int
lifecycle_destroy(struct lifecycle *lc, struct segment *seg,
    const struct kshm_stat *st)
{
	if (lifecycle_remove(lc, seg) == -1)
		return LIFECYCLE_STATE_ERROR;
	log_info("destroyed %s (shmid %d)", seg->name, seg->shmid);
	lifecycle_end(lc, seg, PROTO_EVENT_DESTROYED, st);
	return 0;
}

void
lifecycle_reap(struct lifecycle *lc, struct segment *seg,
    const struct kshm_stat *st, const char *why)
{
	if (lifecycle_remove(lc, seg) == -1)
		return;	/* tried again at the next look */
	log_info("reaped %s (shmid %d): %s", seg->name, seg->shmid, why);
	lc->reaped++;
	lifecycle_end(lc, seg, PROTO_EVENT_REAPED, st);
}

/*
 * Mark an attached keyless detach segment IPC_RMID, recorded first, so
 * that the kernel frees it at its exact last detach even with shmd down
 * (Linux still lets processes shmat it by shmid). Tried again at the
 * next look when either step fails.
 */
static void
lifecycle_mark(void *arg, struct segment *seg)
{
	struct lifecycle	*lc = arg;

	if (lifecycle_record(lc, seg, state_record_mark) == -1 ||
	    kshm_remove(seg->shmid) == -1)
		return;
	registry_set_marked(&lc->registry, seg, 1);
}

void
lifecycle_gone(struct lifecycle *lc, struct segment *seg)
{
	struct kshm_stat	st;

	/* what shmd last saw of it: the kernel holds it no more */
	segment_seen_stat(seg, &st);
	/* the kernel has acted: a log that cannot say so is rewritten */
	if (lifecycle_record(lc, seg, state_record_destroy) == -1)
		log_warnx("state: the end of %s is not recorded; the next "
		    "start finds it gone", seg->name);
	if (seg->rmid_marked) {
		/* shmd marked it: the kernel freed it at its last detach. */
		log_info("reaped %s (shmid %d): last detach", seg->name,
		    seg->shmid);
		lc->reaped++;
		lifecycle_end(lc, seg, PROTO_EVENT_REAPED, &st);
		return;
	}
	log_notice("segment %s (shmid %d) was removed behind shmd's back",
	    seg->name, seg->shmid);
	lc->vanished++;
	lifecycle_end(lc, seg, PROTO_EVENT_VANISHED, &st);
}

const char *
lifecycle_state_path(const struct lifecycle *lc, char *buf, size_t len)
{
	return state_failed_path(&lc->state, buf, len);
}

int
lifecycle_look(struct lifecycle *lc, struct segment *seg, struct kshm_stat *st)
{
	int	rc = kshm_stat(seg->shmid, st);

	if (rc == -1 && KSHM_UNKNOWN(errno)) {
		segment_seen_stat(seg, st);	/* as last seen */
		return 0;
	}
	if (rc == -1 || !kshm_is(st, seg->key,
	    seg->kernel_cuid, seg->size, seg->rmid_marked)) {
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
