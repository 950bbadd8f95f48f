/*
 * libshmd's entry points for programs built against 0.1 and 0.2, whose
 * structs begin without struct_size: the layouts below are those of the
 * 0.2 header, frozen. Each converts to and from the 0.3 structs and calls
 * the 0.3 entry point, so behaviour has one owner.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "libshmd-int.h"

struct shmd_segment_0 {
	char			name[SHMD_NAME_MAX + 1];
	int			shmid;
	int32_t			key;
	uint64_t		size;
	unsigned int		mode;
	uid_t			uid;
	gid_t			gid;
	enum shmd_lifetime	lifetime;
	uint64_t		nattch;
	uid_t			creator_uid;
	pid_t			creator_pid;
	int64_t			created_usec;
};

struct shmd_create_options_0 {
	unsigned int		flags;
	enum shmd_lifetime	lifetime;
	unsigned int		mode;
	int32_t			key;
	uid_t			uid;
	gid_t			gid;
	unsigned int		attach_timeout;
};

struct shmd_status_0 {
	char			version[32];
	pid_t			pid;
	uid_t			uid;
	uint64_t		uptime_usec;
	uint64_t		clients;
	uint64_t		segments;
	uint64_t		bytes;
	uint64_t		requests;
	uint64_t		reaped;
	uint64_t		vanished;
	struct shmd_limits	limits;
};

void	shmd_create_options_init_0(struct shmd_create_options_0 *);
int	shmd_create_0(struct shmd_conn *, const char *, uint64_t,
	    const struct shmd_create_options_0 *, struct shmd_segment_0 *);
int	shmd_open_0(struct shmd_conn *, const char *, struct shmd_segment_0 *);
int	shmd_open_wait_0_2(struct shmd_conn *, const char *, unsigned int,
	    struct shmd_segment_0 *);
int	shmd_list_0(struct shmd_conn *, struct shmd_segment_0 **, size_t *);
int	shmd_status_0(struct shmd_conn *, struct shmd_status_0 *);
int	shmd_watch_next_0(struct shmd_conn *, enum shmd_event *,
	    struct shmd_segment_0 *, int *);

/* A 0.3 segment in the old layout. */
static void
shmd_segment_to_0(const struct shmd_segment *s, struct shmd_segment_0 *o)
{
	memcpy(o->name, s->name, sizeof o->name);
	o->shmid = s->shmid;
	o->key = s->key;
	o->size = s->size;
	o->mode = s->mode;
	o->uid = s->uid;
	o->gid = s->gid;
	o->lifetime = s->lifetime;
	o->nattch = s->nattch;
	o->creator_uid = s->creator_uid;
	o->creator_pid = s->creator_pid;
	o->created_usec = s->created_usec;
}

/* A call's result in the old layout, when it succeeded and out is wanted. */
static int
shmd_segment_out_0(int rc, const struct shmd_segment *s,
    struct shmd_segment_0 *out)
{
	if (rc == SHMD_OK && out != NULL)
		shmd_segment_to_0(s, out);
	return rc;
}

SHMD_EXPORT void
shmd_create_options_init_0(struct shmd_create_options_0 *o)
{
	if (o == NULL)
		return;
	memset(o, 0, sizeof *o);
	o->lifetime = SHMD_LIFETIME_DETACH;
	o->mode = 0600;
}
SHMD_SYMVER(shmd_create_options_init_0, "shmd_create_options_init@LIBSHMD_0");

SHMD_EXPORT int
shmd_create_0(struct shmd_conn *c, const char *name, uint64_t size,
    const struct shmd_create_options_0 *o0, struct shmd_segment_0 *out)
{
	struct shmd_create_options	o;
	struct shmd_segment		s;

	shmd_create_options_init(&o);
	if (o0 != NULL) {
		o.flags = o0->flags;
		o.lifetime = o0->lifetime;
		o.mode = o0->mode;
		o.key = o0->key;
		o.uid = o0->uid;
		o.gid = o0->gid;
		o.attach_timeout = o0->attach_timeout;
	}
	shmd_segment_init(&s);
	return shmd_segment_out_0(shmd_create_0_3(c, name, size,
	    o0 != NULL ? &o : NULL, &s), &s, out);
}
SHMD_SYMVER(shmd_create_0, "shmd_create@LIBSHMD_0");

SHMD_EXPORT int
shmd_open_0(struct shmd_conn *c, const char *name, struct shmd_segment_0 *out)
{
	struct shmd_segment	s;

	shmd_segment_init(&s);
	return shmd_segment_out_0(shmd_open_0_3(c, name, &s), &s, out);
}
SHMD_SYMVER(shmd_open_0, "shmd_open@LIBSHMD_0");

SHMD_EXPORT int
shmd_open_wait_0_2(struct shmd_conn *c, const char *name, unsigned int seconds,
    struct shmd_segment_0 *out)
{
	struct shmd_segment	s;

	shmd_segment_init(&s);
	return shmd_segment_out_0(shmd_open_wait_0_3(c, name, seconds, &s), &s,
	    out);
}
SHMD_SYMVER(shmd_open_wait_0_2, "shmd_open_wait@LIBSHMD_0.2");

SHMD_EXPORT int
shmd_list_0(struct shmd_conn *c, struct shmd_segment_0 **segs, size_t *n)
{
	struct shmd_segment	*s;
	size_t			 i, len;
	int			 rc;

	if (segs == NULL || n == NULL)
		return shmd_list_sized(c, NULL, NULL, 0);
	*segs = NULL;
	*n = 0;
	if ((rc = shmd_list_sized(c, &s, &len, sizeof *s)) != SHMD_OK)
		return rc;
	if ((*segs = calloc(len ? len : 1, sizeof **segs)) == NULL) {
		free(s);
		return SHMD_ERR_NOMEM;
	}
	for (i = 0; i < len; i++)
		shmd_segment_to_0(&s[i], &(*segs)[i]);
	*n = len;
	free(s);
	return SHMD_OK;
}
SHMD_SYMVER(shmd_list_0, "shmd_list@LIBSHMD_0");

SHMD_EXPORT int
shmd_status_0(struct shmd_conn *c, struct shmd_status_0 *out)
{
	struct shmd_status	st;
	int			rc;

	shmd_status_init(&st);
	if ((rc = shmd_status_0_3(c, out != NULL ? &st : NULL)) != SHMD_OK)
		return rc;
	memcpy(out->version, st.version, sizeof out->version);
	out->pid = st.pid;
	out->uid = st.uid;
	out->uptime_usec = st.uptime_usec;
	out->clients = st.clients;
	out->segments = st.segments;
	out->bytes = st.bytes;
	out->requests = st.requests;
	out->reaped = st.reaped;
	out->vanished = st.vanished;
	out->limits = st.limits;
	return SHMD_OK;
}
SHMD_SYMVER(shmd_status_0, "shmd_status@LIBSHMD_0");

SHMD_EXPORT int
shmd_watch_next_0(struct shmd_conn *c, enum shmd_event *event,
    struct shmd_segment_0 *seg, int *has_segment)
{
	struct shmd_segment	s;

	shmd_segment_init(&s);
	return shmd_segment_out_0(shmd_watch_next_0_3(c, event,
	    seg != NULL ? &s : NULL, has_segment), &s, seg);
}
SHMD_SYMVER(shmd_watch_next_0, "shmd_watch_next@LIBSHMD_0");
