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
}

struct segment *
segment_create(const char *name)
{
	struct segment	*seg;

	if ((seg = calloc(1, sizeof *seg)) == NULL)
		return NULL;
	if ((seg->name = strdup(name)) == NULL) {
		free(seg);
		return NULL;
	}
	seg->shmid = -1;
	return seg;
}

void
segment_destroy(struct segment *seg)
{
	if (seg == NULL)
		return;
	free(seg->name);
	free(seg);
}

int
registry_add(struct registry *reg, struct segment *seg)
{
	void	*node;

	if ((node = tsearch(seg, &reg->by_name, registry_compare)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	if (*(struct segment **)node != seg) {
		errno = EEXIST;
		return -1;
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

void
registry_usage(const struct registry *reg, uid_t uid, size_t *segments,
    uint64_t *bytes)
{
	struct segment	*seg;

	*segments = 0;
	*bytes = 0;
	TAILQ_FOREACH(seg, &reg->segments, entry) {
		if (seg->uid == uid) {
			(*segments)++;
			*bytes += seg->size;
		}
	}
}
