/* At start: take back what an earlier run left, and only that. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include "kshm.h"
#include "log.h"
#include "reaper.h"
#include "recover.h"
#include "registry.h"
#include "server.h"
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
	if (st->mode & SHMD_SHM_DEST) {
		/* shmd marks attached keyless detach segments itself. */
		if (seg->key == 0 && seg->lifetime == PROTO_LIFETIME_DETACH) {
			seg->rmid_marked = 1;
			return 1;
		}
		return 0;	/* someone else's ipcrm */
	}
	return st->key == seg->key;
}

static int
recover_cmp_int(const void *a, const void *b)
{
	int	x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Remove what an earlier run created but never acknowledged. */
static void
recover_leftovers(struct server *srv, const struct state_loaded *l)
{
	struct shm_info	 info;
	struct shmid_ds	 ds;
	struct segment	*seg;
	int		*ids, maxidx, idx, id;
	size_t		 n = 0, i;

	if (l->nruns == 0)
		return;
	if ((ids = calloc(srv->registry.count + 1, sizeof *ids)) == NULL) {
		log_warnx("recovery: out of memory; not looking for leftovers");
		return;
	}
	TAILQ_FOREACH(seg, &srv->registry.segments, entry)
		ids[n++] = seg->shmid;
	qsort(ids, n, sizeof *ids, recover_cmp_int);
	maxidx = shmctl(0, SHM_INFO, (struct shmid_ds *)(void *)&info);
	for (idx = 0; idx <= maxidx; idx++) {
		memset(&ds, 0, sizeof ds);	/* for valgrind */
		if ((id = shmctl(idx, SHM_STAT_ANY, &ds)) == -1)
			continue;
		if (ds.shm_perm.cuid != l->run_uid ||
		    bsearch(&id, ids, n, sizeof *ids, recover_cmp_int) != NULL)
			continue;
		for (i = 0; i < l->nruns; i++) {
			if (ds.shm_cpid != l->runs[i])
				continue;
			log_notice("recovery: removing shmid %d, created by an "
			    "earlier run (pid %ld) that never answered for it",
			    id, (long)ds.shm_cpid);
			kshm_remove(id);
			break;
		}
	}
	free(ids);
}

void
recover_segments(struct server *srv, struct state_loaded *l)
{
	struct segment		*seg;
	struct kshm_stat	 st;
	size_t			 adopted = 0, dropped = 0;

	while ((seg = TAILQ_FIRST(&l->segments->segments)) != NULL) {
		registry_remove(l->segments, seg);
		if (kshm_stat(seg->shmid, &st) == -1 ||
		    !recover_same(seg, &st)) {
			log_notice("recovery: %s (shmid %d) was removed while "
			    "shmd was down", seg->name, seg->shmid);
			srv->vanished++;
			dropped++;
			segment_destroy(seg);
			continue;
		}
		if (registry_add(&srv->registry, seg) == -1) {
			log_warn("recovery: %s", seg->name);
			segment_destroy(seg);
			continue;
		}
		reaper_follow(srv, seg);
		adopted++;
	}
	recover_leftovers(srv, l);
	log_info("recovery: %zu segments taken back, %zu gone", adopted,
	    dropped);
}
