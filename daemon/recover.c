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

/* Is the kernel's segment at seg->shmid the one that was recorded? */
static int
recover_same(struct segment *seg, const struct kshm_stat *st)
{
	if (st->cpid != seg->kernel_cpid || st->size != seg->size ||
	    (int64_t)st->ctime < seg->kernel_ctime)
		return 0;
	if (st->mode & SHM_DEST) {
		/* shmd marks attached keyless detach segments itself. */
		if (seg->key == 0 && seg->lifetime == PROTO_LIFETIME_DETACH) {
			seg->rmid_marked = 1;
			return 1;
		}
		return 0;	/* someone else's ipcrm */
	}
	return st->key == seg->key;
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
		if (kshm_stat(seg->shmid, &st) == 0 && recover_same(seg, &st)) {
			segment_saw(seg, &st);
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

/* Could this kernel segment be the one the pending Create made? */
static int
recover_fits(const struct state_pending *p, const struct shmid_ds *ds)
{
	uint32_t	key = (uint32_t)ds->shm_perm.__key;

	if (ds->shm_cpid != p->pid || ds->shm_perm.cuid != p->uid ||
	    ds->shm_segsz != p->size ||
	    (int64_t)ds->shm_ctime < p->usec / 1000000)
		return 0;
	if (!p->any_key)
		return (int32_t)key == p->key;
	return key != 0 && key - p->key_base < p->key_count;
}

/* Is shmid one of the registry's? */
static int
recover_known(const struct registry *reg, int shmid)
{
	const struct segment	*seg;

	TAILQ_FOREACH(seg, &reg->segments, entry)
		if (seg->shmid == shmid)
			return 1;
	return 0;
}

int
recover_remove_leftover(struct lifecycle *lc, const struct state_loaded *l)
{
	struct shm_info	 info;
	struct shmid_ds	 ds;
	int		 maxidx, idx, id, found = -1, fits = 0;

	if (!l->has_pending)
		return 0;
	maxidx = shmctl(0, SHM_INFO, (struct shmid_ds *)(void *)&info);
	for (idx = 0; idx <= maxidx; idx++) {
		memset(&ds, 0, sizeof ds);	/* for valgrind */
		if ((id = shmctl(idx, SHM_STAT_ANY, &ds)) == -1 ||
		    !recover_fits(&l->pending, &ds) ||
		    recover_known(&lc->registry, id))
			continue;
		found = id;
		fits++;
	}
	if (fits == 0)
		return 0;
	if (fits > 1) {
		log_warnx("recovery: %d segments could be the one an earlier "
		    "run (pid %ld) made but never answered for; leaving them "
		    "all alone", fits, (long)l->pending.pid);
		return 0;
	}
	log_notice("recovery: removing shmid %d, created by an earlier run "
	    "(pid %ld) that never answered for it", found,
	    (long)l->pending.pid);
	kshm_remove(found);
	return 1;
}
