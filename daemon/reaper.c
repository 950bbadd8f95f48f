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

void
reaper_apply(struct reaper *r, struct segment *seg, const struct kshm_stat *st,
    int64_t now)
{
	switch (seg->lifetime) {
	case PROTO_LIFETIME_DETACH:
		if (st->nattch == 0 && st->atime != 0)
			r->ops->expired(r->arg, seg, st, "last detach");
		else if (st->nattch == 0 && now - seg->created_usec >=
		    (int64_t)seg->attach_timeout * 1000000)
			r->ops->expired(r->arg, seg, st, "never attached");
		else if (st->nattch > 0 && seg->key == 0 && !seg->rmid_marked) {
			/*
			 * Keyless and attached: mark it now, so that the kernel
			 * frees it at the exact last detach, even with shmd down.
			 * Linux still lets processes shmat it by shmid.
			 */
			if (kshm_remove(seg->shmid) == 0) {
				seg->rmid_marked = 1;
				registry_unpoll(r->reg, seg);
			}
		}
		break;
	case PROTO_LIFETIME_PROCESS:
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

	if (kshm_stat(seg->shmid, &st) == -1 ||
	    !kshm_is(&st, seg->kernel_cpid, seg->size, seg->rmid_marked))
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
		if (kshm_stat(p->shmid, &st) == -1 ||
		    !kshm_is(&st, p->cpid, p->size, 0))
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
		    seg->watch == NULL)))
			reaper_check(r, seg, now);
	}
}
