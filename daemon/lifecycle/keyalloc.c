/* Collision-free keys from the configured range. */
#include "config.h"

#include <errno.h>

#include "keyalloc.h"
#include "kshm.h"

void
keyalloc_init(struct keyalloc *ka, uint32_t base, uint32_t count)
{
	ka->base = base;
	ka->count = count;
	if (ka->next >= count)
		ka->next = 0;
}

int
keyalloc_create(struct keyalloc *ka, uint64_t size, int flags,
    struct kshm_stat *st)
{
	uint32_t	tries, key;
	int		shmid;

	for (tries = 0; tries < ka->count; tries++) {
		key = ka->base + ka->next;
		ka->next = ka->next + 1 >= ka->count ? 0 : ka->next + 1;
		if (key == 0)	/* IPC_PRIVATE is no key */
			continue;
		shmid = kshm_make((int32_t)key, size, flags, st);
		if (shmid >= 0)
			return shmid;
		if (errno != EEXIST)
			return -1;
	}
	errno = EAGAIN;
	return -1;
}
