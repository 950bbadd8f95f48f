/* Collision-free keys from the configured range. */
#ifndef SHMD_KEYALLOC_H
#define SHMD_KEYALLOC_H

#include <stdint.h>
#include <sys/types.h>

struct kshm_stat;

struct keyalloc {
	uint32_t	base;
	uint32_t	count;
	uint32_t	next;	/* offset of the next key to try */
};

void	keyalloc_init(struct keyalloc *, uint32_t base, uint32_t count);

/*
 * Make a segment (kshm_make(), with flags) under the first key of the range, from
 * the cursor on, that nobody on the system uses (IPC_CREAT|IPC_EXCL decides, so a key
 * taken by anyone is skipped). Returns the shmid, or -1 with errno:
 * EAGAIN when every key of the range is taken, else shmget's errno.
 */
int	keyalloc_create(struct keyalloc *, uint64_t size, int flags,
	    struct kshm_stat *st);

#endif
