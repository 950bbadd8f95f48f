/*
 * The kernel's side of a segment's memory policy (policy.h): huge pages
 * (SHM_HUGETLB with the page size's bits), SHM_LOCK by the daemon as
 * the segment's creator, and a NUMA node (mbind(MPOL_BIND) on a mapping
 * of the daemon's own, made and dropped before the segment is handed
 * over). What the system offers is read from /proc and /sys.
 */
#ifndef SHMD_KMEM_H
#define SHMD_KMEM_H

#include <stdint.h>

#include "policy.h"

struct kshm_stat;
struct kshm_limit;

/* The system's base page size, in bytes. */
uint64_t kmem_base_page(void);
/* The default huge page size (/proc/meminfo's Hugepagesize); 0: none. */
uint64_t kmem_huge_default(void);
/* Whether the kernel offers huge pages of that size: 1 or 0. */
int	kmem_huge_known(uint64_t page_size);
/* Whether NUMA node exists and has memory: 1 or 0. */
int	kmem_node_has_memory(int64_t node);
/*
 * size rounded up to a multiple of the page size the policy asks for
 * (unchanged for base pages); 0 when that overflows.
 */
uint64_t kmem_round(uint64_t size, const struct shm_policy *);
/* What is wrong with a memory policy: the member at fault, and why (static). */
struct kmem_fault {
	const char	*key;		/* "page_size", "huge_pages", ... */
	const char	*why;
	int		 no_huge;	/* the kernel offers no huge pages */
};
/*
 * The rules of a memory policy, one place for a Create and a declared
 * segment: page_size only with huge pages, and one this kernel offers;
 * huge pages without one are of the default size; a NUMA node that has
 * memory; the size rounded up to the page (0 on overflow). p as asked
 * (page_size 0: none; numa_node -1: none), settled in place with *size.
 * 0, or -1 with *f.
 */
int	kmem_policy_settle(int huge_pages, struct shm_policy *p,
	    uint64_t *size, struct kmem_fault *f);
/* shmget's flags for the policy (SHM_HUGETLB and its size bits, or 0). */
int	kmem_shmflg(const struct shm_policy *);
/* The page size a Segment shows for the policy. */
uint64_t kmem_page_size(const struct shm_policy *);

/* What kmem_apply() did when it failed, for the error a caller gets. */
enum kmem_step {
	KMEM_MAKE,	/* shmget */
	KMEM_BIND,	/* the NUMA node */
	KMEM_LOCK,	/* SHM_LOCK */
};

/*
 * Give a segment made with the policy's flags the rest of it, before it
 * is handed over (st follows): its memory bound to the node (the shared
 * policy of its pages; huge pages, which keep none, are faulted in on
 * the node now), then locked. 0, or -1 with errno and *failed.
 */
int	kmem_apply(struct kshm_stat *st, const struct shm_policy *,
	    enum kmem_step *failed);
/*
 * What the kernel of a recorded segment lacks of its policy after a
 * restart (its SHM_LOCK: a crash came between its record and the lock)
 * is given now. 1 when something was, 0 when nothing was missing, -1
 * with errno.
 */
int	kmem_restore(struct kshm_stat *st, const struct shm_policy *);

/*
 * The SystemLimit for a failure of kmem_apply() at step (or of shmget
 * with the policy's flags) with errno err: 0 with *lim, or -1 when the
 * policy has nothing to do with it (kshm_limit_of() says).
 */
int	kmem_limit_of(enum kmem_step, int err, const struct shm_policy *,
	    struct kshm_limit *lim);

#endif
