/* One managed segment: its record, and its text in replies and events. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "kmem.h"
#include "kshm.h"
#include "segment.h"
#include "textbuf.h"

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
	seg->policy.numa_node = -1;
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

void
segment_saw(struct segment *seg, const struct kshm_stat *st)
{
	seg->seen_uid = st->uid;
	seg->seen_gid = st->gid;
	seg->seen_mode = st->mode;
}

int
segment_attached(const struct segment *seg, const struct kshm_stat *st)
{
	if (st->atime == 0)
		return 0;
	if (seg->self_atime == 0)
		return 1;
	/*
	 * Anyone's attach or detach since moves a time, or (in the pid
	 * namespace the daemon reads it in) the last pid; within the same
	 * second, and seen from another pid namespace, neither may show:
	 * then the segment lives until attach_timeout.
	 */
	return st->atime != seg->self_atime || st->dtime != seg->self_dtime ||
	    (st->lpid != 0 && st->lpid != seg->self_lpid);
}

void
segment_seen_stat(const struct segment *seg, struct kshm_stat *st)
{
	memset(st, 0, sizeof *st);
	st->shmid = seg->shmid;
	st->key = seg->key;
	st->uid = seg->seen_uid;
	st->gid = seg->seen_gid;
	st->mode = seg->seen_mode;
	st->size = seg->size;
}

void
segment_text(struct textbuf *tb, const struct segment *seg,
    const struct kshm_stat *st)
{
	/*
	 * Written out directly: this is every Open's and Create's reply, and
	 * names need no escaping (proto_name_valid() allows none of " \ or
	 * control characters).
	 */
	textbuf_lit(tb, "{\"name\":\"");
	textbuf_str(tb, seg->name);
	textbuf_lit(tb, "\",\"shmid\":");
	textbuf_i64(tb, seg->shmid);
	textbuf_lit(tb, ",\"key\":");
	textbuf_i64(tb, (int32_t)seg->key);
	textbuf_lit(tb, ",\"size\":");
	textbuf_u64(tb, seg->size);
	textbuf_lit(tb, ",\"mode\":");
	textbuf_u64(tb, st->mode & 0777);
	textbuf_lit(tb, ",\"uid\":");
	textbuf_u64(tb, st->uid);
	textbuf_lit(tb, ",\"gid\":");
	textbuf_u64(tb, st->gid);
	textbuf_lit(tb, ",\"lifetime\":\"");
	textbuf_str(tb, proto_lifetime_name(seg->lifetime));
	textbuf_lit(tb, "\",\"nattch\":");
	textbuf_u64(tb, st->nattch);
	textbuf_lit(tb, ",\"creator_uid\":");
	textbuf_u64(tb, seg->creator_uid);
	textbuf_lit(tb, ",\"creator_pid\":");
	textbuf_i64(tb, seg->creator_pid);
	textbuf_lit(tb, ",\"created_usec\":");
	textbuf_i64(tb, seg->created_usec);
	if (seg->lifetime == PROTO_LIFETIME_DETACH) {
		textbuf_lit(tb, ",\"attach_timeout\":");
		textbuf_u64(tb, seg->attach_timeout);
	}
	textbuf_lit(tb, ",\"page_size\":");
	textbuf_u64(tb, kmem_page_size(&seg->policy));
	textbuf_str(tb, seg->policy.locked ? ",\"locked\":true" :
	    ",\"locked\":false");
	if (seg->policy.numa_node >= 0) {
		textbuf_lit(tb, ",\"numa_node\":");
		textbuf_i64(tb, seg->policy.numa_node);
	}
	textbuf_str(tb, seg->declared ? ",\"declared\":true}" :
	    ",\"declared\":false}");
}
