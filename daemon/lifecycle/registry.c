/* The segments the daemon manages, by name. */
#include "config.h"

#include <errno.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"

static int
registry_compare(const void *a, const void *b)
{
	const struct segment	*sa = a, *sb = b;

	return strcmp(sa->name, sb->name);
}

static void
registry_noop(void *p)
{
	(void)p;
}

void
registry_init(struct registry *reg)
{
	TAILQ_INIT(&reg->segments);
	reg->by_name = NULL;
	reg->count = 0;
	reg->bytes = 0;
	reg->polls = NULL;
	reg->npolls = reg->polls_size = 0;
}

void
registry_finish(struct registry *reg)
{
	struct segment	*seg;

	tdestroy(reg->by_name, registry_noop);
	reg->by_name = NULL;
	while ((seg = TAILQ_FIRST(&reg->segments)) != NULL) {
		TAILQ_REMOVE(&reg->segments, seg, entry);
		segment_destroy(seg);
	}
	reg->count = 0;
	reg->bytes = 0;
	free(reg->polls);
	reg->polls = NULL;
	reg->npolls = reg->polls_size = 0;
}

static int
registry_polled(const struct segment *seg)
{
	return seg->lifetime == PROTO_LIFETIME_DETACH && !seg->rmid_marked;
}

/* Room for one more polled segment. */
static int
registry_poll_reserve(struct registry *reg)
{
	struct registry_poll	*tmp;
	size_t			 size;

	if (reg->npolls < reg->polls_size)
		return 0;
	size = reg->polls_size == 0 ? 64 : reg->polls_size * 2;
	if ((tmp = reallocarray(reg->polls, size, sizeof *tmp)) == NULL)
		return -1;
	reg->polls = tmp;
	reg->polls_size = size;
	return 0;
}

void
registry_unpoll(struct registry *reg, struct segment *seg)
{
	size_t	i;

	if (seg->poll == 0)
		return;
	i = seg->poll - 1;
	reg->polls[i] = reg->polls[--reg->npolls];
	reg->polls[i].seg->poll = i + 1;
	seg->poll = 0;
}

/* Poll seg (room reserved). */
static void
registry_poll_add(struct registry *reg, struct segment *seg)
{
	struct registry_poll	*p = &reg->polls[reg->npolls];

	p->seg = seg;
	p->shmid = seg->shmid;
	p->key = seg->key;
	p->cuid = seg->kernel_cuid;
	p->size = seg->size;
	seg->poll = ++reg->npolls;
}

int
registry_set_marked(struct registry *reg, struct segment *seg, int marked)
{
	seg->rmid_marked = marked;
	if (!registry_polled(seg)) {
		registry_unpoll(reg, seg);
		return 0;
	}
	if (seg->poll != 0)
		return 0;
	if (registry_poll_reserve(reg) == -1)
		return -1;
	registry_poll_add(reg, seg);
	return 0;
}

void
registry_move(struct registry *to, struct registry *from)
{
	registry_finish(to);	/* empty: frees nothing but its arrays */
	*to = *from;
	TAILQ_INIT(&to->segments);
	TAILQ_CONCAT(&to->segments, &from->segments, entry);
	registry_init(from);
}

int
registry_add(struct registry *reg, struct segment *seg)
{
	void	*node;

	if (registry_polled(seg) && registry_poll_reserve(reg) == -1) {
		errno = ENOMEM;
		return -1;
	}
	if ((node = tsearch(seg, &reg->by_name, registry_compare)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	if (*(struct segment **)node != seg) {
		errno = EEXIST;
		return -1;
	}
	if (registry_polled(seg)) {
		registry_poll_add(reg, seg);
	}
	TAILQ_INSERT_TAIL(&reg->segments, seg, entry);
	reg->count++;
	reg->bytes += seg->size;
	return 0;
}

void
registry_remove(struct registry *reg, struct segment *seg)
{
	tdelete(seg, &reg->by_name, registry_compare);
	registry_unpoll(reg, seg);
	TAILQ_REMOVE(&reg->segments, seg, entry);
	reg->count--;
	reg->bytes -= seg->size;
}

struct segment *
registry_find_by_name(const struct registry *reg, const char *name)
{
	struct segment	 key;
	void		*node;

	key.name = (char *)name;
	node = tfind(&key, &reg->by_name, registry_compare);
	return node ? *(struct segment **)node : NULL;
}
