/* At start: take back what an earlier run left, and only that. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include "kshm.h"
#include "lifecycle.h"
#include "log.h"
#include "recover.h"
#include "registry.h"
#include "state.h"

#ifndef SHM_STAT_ANY
#define SHM_STAT_ANY 15
#endif

/*
 * Is the kernel's segment at seg->shmid the one that was recorded, by
 * the identity of PROTOCOL.md (kshm_is())? Set what shmd's own mark is
 * now by what the kernel shows: a mark recorded but not made (a crash or
 * a refusal in between) is no mark; one the record does not show is
 * someone else's ipcrm.
 */
static int
recover_same(struct registry *reg, struct segment *seg,
    const struct kshm_stat *st)
{
	int	marked = (st->mode & SHM_DEST) != 0;

	if (!kshm_is(st, seg->key, seg->kernel_cuid, seg->size,
	    seg->rmid_marked))
		return 0;
	if (marked != seg->rmid_marked &&
	    registry_set_marked(reg, seg, marked) == -1)
		return 0;
	/* what the reaper of a creator lost since counts from (segment.h) */
	seg->lost_atime = st->atime;
	seg->lost_dtime = st->dtime;
	seg->unhanded = kshm_unhanded(st);
	return 1;
}

static int
recover_cmp_stat(const void *a, const void *b)
{
	int	x = ((const struct kshm_stat *)a)->shmid;
	int	y = ((const struct kshm_stat *)b)->shmid;

	return (x > y) - (x < y);
}

void
recover_scan(struct recover_kernel *k, const struct state_loaded *l)
{
	struct shm_info		 info;
	struct kshm_stat	 st;
	size_t			 cap;
	int			 maxidx, idx;

	memset(k, 0, sizeof *k);
	/* (a first start, or after a clean one with nothing: no look) */
	if ((l->segments == NULL || l->segments->count == 0) &&
	    l->npending == 0)
		return;
	/* (a kernel that will not say: each step looks one by one) */
	if ((maxidx = shmctl(0, SHM_INFO, (struct shmid_ds *)(void *)&info)) ==
	    -1)
		return;
	cap = (size_t)maxidx + 1;
	if ((k->segs = calloc(cap, sizeof *k->segs)) == NULL)
		return;
	for (idx = 0; idx <= maxidx; idx++) {
		if (kshm_stat_index(idx, &st) == -1) {
			if (KSHM_UNKNOWN(errno))
				k->partial = 1;
			continue;
		}
		k->segs[k->n++] = st;	/* (at most one an index: cap) */
	}
	/* segments in use and none seen: no SHM_STAT_ANY (Linux < 4.17) */
	if (k->n == 0 && info.used_ids > 0) {
		recover_kernel_free(k);
		return;
	}
	qsort(k->segs, k->n, sizeof *k->segs, recover_cmp_stat);
}

void
recover_kernel_free(struct recover_kernel *k)
{
	free(k->segs);
	memset(k, 0, sizeof *k);
}

/*
 * The kernel's segment of that shmid, as the scan saw it (or, without
 * one, or for an index it could not read, as kshm_stat() sees it now).
 */
static int
recover_look(const struct recover_kernel *k, int shmid, struct kshm_stat *st)
{
	struct kshm_stat	key, *found;

	if (k == NULL || k->segs == NULL)
		return kshm_stat(shmid, st);
	key.shmid = shmid;
	if ((found = bsearch(&key, k->segs, k->n, sizeof *k->segs,
	    recover_cmp_stat)) != NULL) {
		*st = *found;
		return 0;
	}
	if (k->partial)
		return kshm_stat(shmid, st);
	errno = EINVAL;
	return -1;
}

size_t
recover_verify(struct state_loaded *l, const struct recover_kernel *k)
{
	struct segment		*seg, *next;
	struct kshm_stat	 st;
	size_t			 dropped = 0;

	if (l->segments == NULL)
		return 0;
	for (seg = TAILQ_FIRST(&l->segments->segments); seg != NULL;
	    seg = next) {
		next = TAILQ_NEXT(seg, entry);
		if (recover_look(k, seg->shmid, &st) == 0) {
			if (recover_same(l->segments, seg, &st)) {
				segment_saw(seg, &st);
				continue;
			}
		} else if (KSHM_UNKNOWN(errno)) {
			/* the kernel cannot say now: kept, and looked at later */
			log_warn("recovery: cannot look at %s (shmid %d)",
			    seg->name, seg->shmid);
			continue;
		}
		log_notice("recovery: %s (shmid %d) was removed while shmd "
		    "was down", seg->name, seg->shmid);
		registry_remove(l->segments, seg);
		segment_destroy(seg);
		dropped++;
	}
	return dropped;
}

size_t
recover_adopt(struct lifecycle *lc, struct state_loaded *l)
{
	if (l->segments == NULL)
		return 0;
	return lifecycle_adopt_all(lc, l->segments);
}

/*
 * Could this kernel segment be the one the pending Create made? Only
 * what that Create leaves before its record fits: made by the daemon's
 * uid and gid and still theirs with mode 0 (not handed over: see
 * kshm_make()), of that size and key, not before the announcement,
 * never attached (but by the daemon, locked, and mode KSHM_SETUP_MODE
 * for an unprivileged daemon, when a pending Create was setting a memory
 * policy: kmem_apply(); a root daemon keeps mode 0, so that a root-made
 * 0600 segment never fits). Its
 * creator's pid is the announcing daemon's where this run shares its pid
 * namespace, else one this run cannot see (0).
 */
static int
recover_fits(const struct state_pending *p, const struct kshm_stat *st,
    uint64_t pidns)
{
	uint32_t	key = (uint32_t)st->key;
	pid_t		cpid = p->pidns == pidns ? p->pid : 0;
	unsigned	mode = st->mode & 07777;

	/* a policy set before the record: its lock and the daemon's attach */
	if (p->setup)
		mode &= ~(unsigned)SHM_LOCKED;
	if (st->cpid != cpid || st->cuid != p->uid || st->cgid != p->gid ||
	    st->uid != p->uid || st->gid != p->gid ||
	    (mode != KSHM_UNSET_MODE && !(p->setup && p->uid != 0 &&
	    mode == KSHM_SETUP_MODE)) ||
	    st->size != p->size || st->nattch != 0 ||
	    (st->atime != 0 && !p->setup) ||
	    (int64_t)st->ctime < p->usec / 1000000)
		return 0;
	if (!p->any_key)
		return (int32_t)key == p->key;
	return key != 0 && key - p->key_base < p->key_count;
}

static int
recover_cmp_int(const void *a, const void *b)
{
	int	x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/*
 * The registry's shmids, sorted, to tell the segments shmd manages from
 * what it may remove (a reused shmid is a live segment's). NULL with
 * *n 0 when out of memory: then nothing is removed.
 */
static int *
recover_known_ids(const struct registry *reg, size_t *n)
{
	const struct segment	*seg;
	int			*ids;

	*n = 0;
	if ((ids = calloc(reg->count + 1, sizeof *ids)) == NULL)
		return NULL;
	TAILQ_FOREACH(seg, &reg->segments, entry)
		ids[(*n)++] = seg->shmid;
	qsort(ids, *n, sizeof *ids, recover_cmp_int);
	return ids;
}

static int
recover_known(const int *ids, size_t n, int shmid)
{
	return bsearch(&shmid, ids, n, sizeof *ids, recover_cmp_int) != NULL;
}

/*
 * The one leftover of pending Create p among the kernel's segments k,
 * removed when it fits: 1, else 0.
 */
static int
recover_pending(struct lifecycle *lc, const struct state_pending *p,
    const struct recover_kernel *k, const int *ids, size_t nids)
{
	const struct kshm_stat	*st, *found = NULL;
	struct kshm_stat	 now;
	struct state_orphan	 o;
	size_t			 i;
	int			 fits = 0;

	for (i = 0; i < k->n; i++) {
		st = &k->segs[i];
		if (!recover_fits(p, st, lc->pidns) ||
		    recover_known(ids, nids, st->shmid))
			continue;
		found = st;
		fits++;
	}
	if (fits == 0)
		return 0;
	if (fits > 1) {
		log_warnx("recovery: %d segments could be the one an earlier "
		    "run (pid %ld) made but never answered for; leaving them "
		    "all alone", fits, (long)p->pid);
		return 0;
	}
	/* the scan came before the orphans' removal: it must fit still */
	if (kshm_stat(found->shmid, &now) == -1 ||
	    !recover_fits(p, &now, lc->pidns))
		return 0;
	log_notice("recovery: removing shmid %d, created by an earlier run "
	    "(pid %ld) that never answered for it", found->shmid,
	    (long)p->pid);
	o.shmid = found->shmid;
	o.key = found->key;
	o.cuid = p->uid;
	o.size = found->size;
	return lifecycle_remove_made(lc, &o) == 0;
}

/*
 * The orphans an earlier run could not remove, and the segments whose
 * end it recorded (it may have died before telling the kernel): those
 * still in the kernel as they were made are removed, or kept as orphans.
 */
static int
recover_orphans(struct lifecycle *lc, const struct state_loaded *l,
    const int *ids, size_t nids)
{
	const struct state_orphan	*o;
	struct kshm_stat		 st;
	size_t				 i;
	int				 removed = 0;

	for (i = 0; i < l->norphans; i++) {
		o = &l->orphans[i];
		if (kshm_stat(o->shmid, &st) == -1 ||
		    !kshm_is(&st, o->key, o->cuid, o->size, 0) ||
		    recover_known(ids, nids, o->shmid))
			continue;
		if (lifecycle_remove_made(lc, o) == 0) {
			log_notice("recovery: removed shmid %d, which an "
			    "earlier run had ended", o->shmid);
			removed++;
		}
	}
	return removed;
}

/* The pending Creates' leftovers among k's. */
static int
recover_pendings(struct lifecycle *lc, const struct state_loaded *l,
    const struct recover_kernel *k, const int *ids, size_t nids)
{
	struct recover_kernel	 own;
	size_t			 i;
	int			 removed = 0;

	if (l->npending == 0)
		return 0;
	if (k == NULL || k->segs == NULL) {
		recover_scan(&own, l);
		k = &own;
	} else
		own.segs = NULL;
	/* what could not be seen could be a second fit: nothing is proven */
	if (k->segs == NULL || k->partial)
		log_warnx("recovery: cannot see every segment; what a Create "
		    "cut short left, if anything, is left alone");
	else {
		for (i = 0; i < l->npending; i++)
			removed += recover_pending(lc, &l->pending[i], k, ids,
			    nids);
	}
	recover_kernel_free(&own);
	return removed;
}

int
recover_remove_leftover(struct lifecycle *lc, const struct state_loaded *l,
    const struct recover_kernel *k)
{
	size_t	 nids;
	int	*ids, removed;

	if (l->norphans == 0 && l->npending == 0)
		return 0;
	if ((ids = recover_known_ids(&lc->registry, &nids)) == NULL) {
		log_warn("recovery: leftovers left alone");
		return 0;
	}
	removed = recover_orphans(lc, l, ids, nids);
	removed += recover_pendings(lc, l, k, ids, nids);
	free(ids);
	return removed;
}
