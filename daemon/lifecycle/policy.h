/*
 * A segment's memory policy (PROTOCOL.md, Create's "Memory policy"):
 * what a Create or a declaration asks for, recorded with the segment
 * and kept across restarts.
 */
#ifndef SHMD_POLICY_H
#define SHMD_POLICY_H

#include <stdint.h>

struct shm_policy {
	uint64_t	page_size;	/* huge page size in bytes; 0: the
					   system's base pages */
	int		locked;		/* SHM_LOCK */
	int		numa_node;	/* bound to this node; -1: none */
};

/* The policy of a segment nobody asked anything of. */
#define SHM_POLICY_NONE	{ 0, 0, -1 }

/* Whether two policies are the same (exist_ok, declarations): 1 or 0. */
static inline int
shm_policy_same(const struct shm_policy *a, const struct shm_policy *b)
{
	return a->page_size == b->page_size && a->locked == b->locked &&
	    a->numa_node == b->numa_node;
}

/*
 * Whether the daemon sets the policy up itself once the segment exists
 * (it locks it, or attaches to bind it to a node), which changes what a
 * crash there would leave: 1 or 0. Huge pages are a flag of shmget.
 */
static inline int
shm_policy_setup(const struct shm_policy *p)
{
	return p->numa_node >= 0 || p->locked;
}

#endif
