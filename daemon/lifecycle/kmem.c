/* The kernel's side of a segment's memory policy (see kmem.h). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kmem.h"
#include "kshm.h"

#ifndef SHM_HUGE_SHIFT
#define SHM_HUGE_SHIFT		26
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23
#endif
/* <numaif.h>'s, which is libnuma's: one system call needs no library. */
#define KMEM_MPOL_BIND		2
#define KMEM_NODES_MAX		1024
#define KMEM_WORD_BITS		(8 * sizeof(unsigned long))

uint64_t
kmem_base_page(void)
{
	long	page = sysconf(_SC_PAGESIZE);

	return page > 0 ? (uint64_t)page : 4096;
}

/*
 * Fixed at boot: read once (only an answer is kept, so that a passing
 * failure to open /proc/meminfo does not turn huge pages off for good).
 */
uint64_t
kmem_huge_default(void)
{
	static uint64_t		 size;
	FILE			*f;
	char			 line[128];
	unsigned long long	 kb = 0;

	if (size != 0)
		return size;
	if ((f = fopen("/proc/meminfo", "re")) == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "Hugepagesize: %llu kB", &kb) == 1)
			break;
	fclose(f);
	size = (uint64_t)kb * 1024;
	return size;
}

int
kmem_huge_known(uint64_t page_size)
{
	char		path[96];
	struct stat	sb;

	/* a power of two of at least two base pages, that the kernel has */
	if (page_size <= kmem_base_page() || (page_size & (page_size - 1)))
		return 0;
	snprintf(path, sizeof path, "/sys/kernel/mm/hugepages/hugepages-%"
	    PRIu64 "kB", page_size / 1024);
	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* Whether node is in a node list as /sys prints them ("0-1,3"). */
static int
kmem_in_list(const char *list, int64_t node)
{
	const char	*p = list;
	char		*end;
	long		 lo, hi;

	while (*p != '\0' && *p != '\n') {
		lo = strtol(p, &end, 10);
		if (end == p)
			return 0;
		hi = lo;
		if (*end == '-') {
			p = end + 1;
			hi = strtol(p, &end, 10);
			if (end == p)
				return 0;
		}
		if (node >= lo && node <= hi)
			return 1;
		p = *end == ',' ? end + 1 : end;
	}
	return 0;
}

int
kmem_node_has_memory(int64_t node)
{
	FILE	*f;
	char	 list[1024];
	int	 has = 0;

	if (node < 0 || node >= KMEM_NODES_MAX)
		return 0;
	if ((f = fopen("/sys/devices/system/node/has_memory", "re")) == NULL)
		return node == 0;	/* a kernel without NUMA: node 0 only */
	if (fgets(list, sizeof list, f) != NULL)
		has = kmem_in_list(list, node);
	fclose(f);
	return has;
}

uint64_t
kmem_page_size(const struct shm_policy *p)
{
	return p->page_size != 0 ? p->page_size : kmem_base_page();
}

uint64_t
kmem_round(uint64_t size, const struct shm_policy *p)
{
	uint64_t	page = p->page_size;

	if (page == 0 || size % page == 0)
		return size;
	if (size > UINT64_MAX - page)
		return 0;
	return (size / page + 1) * page;
}

static int
kmem_fault(struct kmem_fault *f, const char *key, const char *why)
{
	f->key = key;
	f->why = why;
	return -1;
}

int
kmem_policy_settle(int huge_pages, struct shm_policy *p, uint64_t *size,
    struct kmem_fault *f)
{
	memset(f, 0, sizeof *f);
	if (p->page_size != 0 && !huge_pages)
		return kmem_fault(f, "page_size", "needs huge_pages");
	if (p->page_size != 0 && !kmem_huge_known(p->page_size))
		return kmem_fault(f, "page_size", "not a huge page size this "
		    "kernel offers (see /sys/kernel/mm/hugepages)");
	if (huge_pages && p->page_size == 0 &&
	    (p->page_size = kmem_huge_default()) == 0) {
		f->no_huge = 1;
		return kmem_fault(f, "huge_pages",
		    "this kernel offers no huge pages");
	}
	if (p->numa_node != -1 && !kmem_node_has_memory(p->numa_node))
		return kmem_fault(f, "numa_node", "no such NUMA node with "
		    "memory (see /sys/devices/system/node)");
	if ((*size = kmem_round(*size, p)) == 0)
		return kmem_fault(f, "size", "out of range");
	return 0;
}

int
kmem_shmflg(const struct shm_policy *p)
{
	uint64_t	ps;
	int		shift = 0;

	if (p == NULL || p->page_size == 0)
		return 0;
	for (ps = p->page_size; ps > 1; ps >>= 1)
		shift++;
	return SHM_HUGETLB | (shift << SHM_HUGE_SHIFT);
}

/*
 * Bind the segment's memory to node through a mapping of the daemon's:
 * the shared policy of its pages, which every later attacher's faults
 * follow. Huge pages keep no shared policy: they are faulted in now, on
 * the node (MADV_POPULATE_WRITE fails where a touch would SIGBUS).
 */
static int
kmem_bind(int shmid, uint64_t size, const struct shm_policy *p)
{
	unsigned long	 mask[KMEM_NODES_MAX / KMEM_WORD_BITS];
	void		*addr;
	int		 rc = 0, saved;

	memset(mask, 0, sizeof mask);
	mask[p->numa_node / KMEM_WORD_BITS] |=
	    1UL << (p->numa_node % KMEM_WORD_BITS);
	if ((addr = shmat(shmid, NULL, 0)) == (void *)-1)
		return -1;
	if (syscall(SYS_mbind, addr, (unsigned long)size, KMEM_MPOL_BIND,
	    mask, (unsigned long)p->numa_node + 2, 0) == -1)
		rc = -1;
	else if (p->page_size != 0 &&
	    madvise(addr, (size_t)size, MADV_POPULATE_WRITE) == -1)
		rc = -1;
	saved = errno;
	shmdt(addr);
	errno = saved;
	return rc;
}

int
kmem_apply(struct kshm_stat *st, const struct shm_policy *p,
    enum kmem_step *failed)
{
	if (p->numa_node >= 0) {
		*failed = KMEM_BIND;
		/*
		 * Mode 0 keeps out even its creator, unless root: an
		 * unprivileged daemon gives itself KSHM_SETUP_MODE a moment.
		 * Root never does, so that no root-made 0600 segment can
		 * pass for its leftover (recover.c).
		 */
		if ((kshm_cuid() != 0 && kshm_hand_over(st, st->cuid, st->cgid,
		    KSHM_SETUP_MODE) == -1) ||
		    kmem_bind(st->shmid, st->size, p) == -1)
			return -1;
	}
	if (p->locked) {
		*failed = KMEM_LOCK;
		if (shmctl(st->shmid, SHM_LOCK, NULL) == -1)
			return -1;
	}
	/* what the daemon's attach and the lock left (atime, SHM_LOCKED) */
	if ((p->numa_node >= 0 || p->locked) && kshm_stat(st->shmid, st) == -1)
		return -1;
	return 0;
}

int
kmem_restore(struct kshm_stat *st, const struct shm_policy *p)
{
	/* (huge pages are never swapped: the kernel shows no lock on them) */
	if (!p->locked || p->page_size != 0 || (st->mode & SHM_LOCKED))
		return 0;
	if (shmctl(st->shmid, SHM_LOCK, NULL) == -1)
		return -1;
	st->mode |= SHM_LOCKED;
	return 1;
}

int
kmem_limit_of(enum kmem_step step, int err, const struct shm_policy *p,
    struct kshm_limit *lim)
{
	memset(lim, 0, sizeof *lim);
	lim->err = err;
	if (step == KMEM_LOCK && (err == EPERM || err == ENOMEM)) {
		lim->name = "memlock";
		snprintf(lim->message, sizeof lim->message, "the daemon may not "
		    "lock that much memory (RLIMIT_MEMLOCK): raise "
		    "LimitMEMLOCK= in its service (see shmd(8))");
		return 0;
	}
	if (p->page_size == 0 || step == KMEM_LOCK)
		return -1;
	if (err == EPERM || err == EACCES) {
		lim->name = "huge_pages";
		snprintf(lim->message, sizeof lim->message, "the daemon may not "
		    "use huge pages: add its group to vm.hugetlb_shm_group "
		    "(SupplementaryGroups= in its service, see shmd(8))");
		return 0;
	}
	if (err == ENOMEM) {
		lim->name = "huge_pages";
		snprintf(lim->message, sizeof lim->message, "too few free huge "
		    "pages of %" PRIu64 " bytes: raise vm.nr_hugepages (sysctl "
		    "-w vm.nr_hugepages=N)", p->page_size);
		return 0;
	}
	return -1;
}
