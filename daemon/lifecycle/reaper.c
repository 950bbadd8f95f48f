/* Lifetimes: which segments' time is up (see reaper.h). */
#include "config.h"

#include <string.h>

#include "kshm.h"
#include "reaper.h"
#include "registry.h"

void
reaper_init(struct reaper *r, struct registry *reg,
    const struct reaper_ops *ops, void *arg)
{
	memset(r, 0, sizeof *r);
	r->reg = reg;
	r->ops = ops;
	r->arg = arg;
}

/* Whether a deadline of seconds after since (boot clock) has passed. */
static int
reaper_due(int64_t now, int64_t since, uint64_t seconds)
{
	return now - since >= (int64_t)seconds * 1000000;
}

/*
 * A "process" segment whose creator is lost (see segment.h): the detach
 * rule, counting only attaches and detaches since the creator was lost.
 */
static void
reaper_apply_lost(struct reaper *r, struct segment *seg,
    const struct kshm_stat *st, int64_t now)
{
	if (st->nattch > 0)
		return;
	if (st->atime != seg->lost_atime || st->dtime != seg->lost_dtime)
		r->ops->expired(r->arg, seg, st, "last detach (its creator "
		    "cannot be seen since a restart)");
	else if (reaper_due(now, seg->lost_boot, seg->attach_timeout))
		r->ops->expired(r->arg, seg, st, "not attached since a "
		    "restart, and its creator cannot be seen");
}

void
reaper_apply(struct reaper *r, struct segment *seg, const struct kshm_stat *st,
    int64_t now)
{
	switch (seg->lifetime) {
	case PROTO_LIFETIME_DETACH:
		if (st->nattch == 0 && segment_attached(seg, st))
			r->ops->expired(r->arg, seg, st, "last detach");
		else if (st->nattch == 0 &&
		    reaper_due(now, seg->created_boot, seg->attach_timeout))
			r->ops->expired(r->arg, seg, st, "never attached");
		else if (st->nattch > 0 && seg->key == 0 && !seg->rmid_marked)
			r->ops->mark(r->arg, seg);
		break;
	case PROTO_LIFETIME_PROCESS:
		if (seg->creator_lost) {
			reaper_apply_lost(r, seg, st, now);
			break;
		}
		if (seg->watch == NULL) {
			r->ops->follow(r->arg, seg);	/* try again */
			if (seg->watch == NULL)
				r->unfollowed = 1;
		}
		if (seg->watch == NULL && seg->creator_gone)
			r->ops->expired(r->arg, seg, st, "its creator exited");
		break;
	case PROTO_LIFETIME_PERSISTENT:
		break;
	}
}

/* Look at one segment and apply its lifetime. */
static void
reaper_check(struct reaper *r, struct segment *seg, int64_t now)
{
	struct kshm_stat	st;
	int			rc = kshm_stat(seg->shmid, &st);

	if (rc == -1 && KSHM_UNKNOWN(errno))
		return;	/* looked at again next time */
	if (rc == -1 || !kshm_is(&st, seg->key,
	    seg->kernel_cuid, seg->size, seg->rmid_marked))
		r->ops->gone(r->arg, seg);
	else {
		segment_saw(seg, &st);
		reaper_apply(r, seg, &st, now);
	}
}

/*
 * The detach segments not marked IPC_RMID, each tick: one IPC_STAT each,
 * checked against a dense array of what kshm_is() checks, without
 * touching the records, and nothing more while one stays attached.
 * This loop is what idle shmd spends its time on.
 */
static void
reaper_poll(struct reaper *r, int full, int64_t now)
{
	struct registry		*reg = r->reg;
	struct registry_poll	*p;
	struct kshm_stat	 st;
	size_t			 i;

	/* Downwards: a reap moves the last entry into the one it frees. */
	for (i = reg->npolls; i-- > 0;) {
		p = &reg->polls[i];
		if (kshm_stat(p->shmid, &st) == -1) {
			if (!KSHM_UNKNOWN(errno))
				r->ops->gone(r->arg, p->seg);
		} else if (!kshm_is(&st, p->key, p->cuid, p->size, 0))
			r->ops->gone(r->arg, p->seg);
		else {
			if (full)
				segment_saw(p->seg, &st);
			if (st.nattch == 0 || st.key == 0)
				reaper_apply(r, p->seg, &st, now);
		}
	}
}

void
reaper_sweep(struct reaper *r, int full, int64_t now)
{
	struct segment	*seg, *next;

	reaper_poll(r, full, now);
	/* The others at full sweeps, and "process" ones not followed yet. */
	if (!full && !r->unfollowed)
		return;
	r->unfollowed = 0;
	for (seg = TAILQ_FIRST(&r->reg->segments); seg != NULL; seg = next) {
		next = TAILQ_NEXT(seg, entry);
		if (seg->poll == 0 && (full ||
		    (seg->lifetime == PROTO_LIFETIME_PROCESS &&
		    seg->watch == NULL && !seg->creator_lost)))
			reaper_check(r, seg, now);
	}
}
