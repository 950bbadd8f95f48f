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

size_t
recover_verify(struct state_loaded *l)
{
	struct segment		*seg, *next;
	struct kshm_stat	 st;
	size_t			 dropped = 0;

	if (l->segments == NULL)
		return 0;
	for (seg = TAILQ_FIRST(&l->segments->segments); seg != NULL;
	    seg = next) {
		next = TAILQ_NEXT(seg, entry);
		if (kshm_stat(seg->shmid, &st) == 0) {
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
 * kshm_make()), of that size and key (any, for a run's: state.h), not
 * before the announcement (the run's start), never attached. Its creator's pid is the announcing daemon's where this run
 * shares its pid namespace, else one this run cannot see (0): a segment
 * made by a process that got the daemon's old pid is not the daemon's.
 */
static int
recover_fits(const struct state_pending *p, const struct shmid_ds *ds,
    uint64_t pidns)
{
	uint32_t	key = (uint32_t)ds->shm_perm.__key;
	pid_t		cpid = p->pidns == pidns ? p->pid : 0;

	if (ds->shm_cpid != cpid || ds->shm_perm.cuid != p->uid ||
	    ds->shm_perm.cgid != p->gid || ds->shm_perm.uid != p->uid ||
	    ds->shm_perm.gid != p->gid ||
	    (ds->shm_perm.mode & 07777) != KSHM_UNSET_MODE ||
	    (!p->run && ds->shm_segsz != p->size) || ds->shm_nattch != 0 ||
	    ds->shm_atime != 0 || (int64_t)ds->shm_ctime < p->usec / 1000000)
		return 0;
	if (p->run)
		return ds->shm_segsz > 0;
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

/* The one leftover of pending Create p, removed when it fits: 1, else 0. */
static int
recover_pending(struct lifecycle *lc, const struct state_pending *p,
    const int *ids, size_t nids)
{
	struct shm_info		 info;
	struct shmid_ds		 ds;
	struct state_orphan	 o;
	int			 maxidx, idx, id, found = -1, fits = 0;
	int32_t		 key = 0;
	uint64_t	 size = 0;

	maxidx = shmctl(0, SHM_INFO, (struct shmid_ds *)(void *)&info);
	for (idx = 0; idx <= maxidx; idx++) {
		memset(&ds, 0, sizeof ds);	/* for valgrind */
		if ((id = shmctl(idx, SHM_STAT_ANY, &ds)) == -1 ||
		    !recover_fits(p, &ds, lc->pidns) ||
		    recover_known(ids, nids, id))
			continue;
		found = id;
		key = (int32_t)ds.shm_perm.__key;
		size = ds.shm_segsz;
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
	log_notice("recovery: removing shmid %d, created by an earlier run "
	    "(pid %ld) that never answered for it", found, (long)p->pid);
	o.shmid = found;
	o.key = key;
	o.cuid = p->uid;
	o.size = size;
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

int
recover_remove_leftover(struct lifecycle *lc, const struct state_loaded *l)
{
	size_t	 i, nids;
	int	*ids, removed;

	if (l->norphans == 0 && l->npending == 0 && !l->has_run)
		return 0;
	if ((ids = recover_known_ids(&lc->registry, &nids)) == NULL) {
		log_warn("recovery: leftovers left for the next start");
		return 0;
	}
	removed = recover_orphans(lc, l, ids, nids);
	for (i = 0; i < l->npending; i++)
		removed += recover_pending(lc, &l->pending[i], ids, nids);
	if (l->has_run)
		removed += recover_pending(lc, &l->run, ids, nids);
	free(ids);
	return removed;
}
