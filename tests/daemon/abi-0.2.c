/*
 * A program as it was built against libshmd 0.2: its header
 * (tests/daemon/fixtures/shmd-0.2.h, structs without struct_size) and its symbol
 * versions, pinned below as linking with the 0.2 library recorded them.
 * Run against the new library by check_libshmd's test_abi_0_2: it must
 * work as it did. Usage: abi-0.2 SOCKET; exit status 0, else the number
 * of the first check that failed (and a line on stderr).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixtures/shmd-0.2.h"

__asm__(".symver shmd_create, shmd_create@LIBSHMD_0");
__asm__(".symver shmd_create_options_init, shmd_create_options_init@LIBSHMD_0");
__asm__(".symver shmd_open, shmd_open@LIBSHMD_0");
__asm__(".symver shmd_open_wait, shmd_open_wait@LIBSHMD_0.2");
__asm__(".symver shmd_list, shmd_list@LIBSHMD_0");
__asm__(".symver shmd_status, shmd_status@LIBSHMD_0");
__asm__(".symver shmd_watch_next, shmd_watch_next@LIBSHMD_0");

#define CHECK(n, cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "abi-0.2: check %d failed: %s (%s)\n",	\
		    (n), #cond, c != NULL ? shmd_last_error(c) : "");	\
		return (n);						\
	}								\
} while (0)

/* One segment as the daemon made it, read through the 0.2 layout. */
static int
good_segment(const struct shmd_segment *s, const char *name, uint64_t size)
{
	return strcmp(s->name, name) == 0 && s->size == size &&
	    s->mode == 0640 && s->lifetime == SHMD_LIFETIME_PERSISTENT &&
	    s->creator_pid == getpid() && s->creator_uid == getuid() &&
	    s->uid == getuid() && s->shmid >= 0 && s->created_usec > 0;
}

int
main(int argc, char **argv)
{
	struct shmd_conn		*c = NULL, *w = NULL;
	struct shmd_create_options	 o;
	struct shmd_segment		 s, s2, *segs;
	struct shmd_status		 st;
	enum shmd_event			 ev;
	size_t				 n, i, found = 0;
	int				 has;

	if (argc != 2)
		return 100;
	CHECK(1, shmd_connect(argv[1], &c) == SHMD_OK);
	CHECK(2, shmd_connect(argv[1], &w) == SHMD_OK);
	shmd_create_options_init(&o);
	CHECK(3, o.mode == 0600 && o.flags == 0);
	o.lifetime = SHMD_LIFETIME_PERSISTENT;
	o.flags = SHMD_CREATE_MODE;
	o.mode = 0640;
	CHECK(4, shmd_create(c, "abi.one", 8192, &o, &s) == SHMD_OK);
	CHECK(5, good_segment(&s, "abi.one", 8192));
	CHECK(6, shmd_open(c, "abi.one", &s2) == SHMD_OK);
	CHECK(7, good_segment(&s2, "abi.one", 8192) && s2.shmid == s.shmid);
	CHECK(8, shmd_open_wait(c, "abi.one", 1, &s2) == SHMD_OK);
	CHECK(9, good_segment(&s2, "abi.one", 8192) && s2.shmid == s.shmid);
	CHECK(10, shmd_create(c, "abi.two", 4096, &o, NULL) == SHMD_OK);
	/* The array's stride is the 0.2 struct's. */
	CHECK(11, shmd_list(c, &segs, &n) == SHMD_OK && n >= 2);
	for (i = 0; i < n; i++)
		found += good_segment(&segs[i], "abi.one", 8192) ||
		    good_segment(&segs[i], "abi.two", 4096);
	shmd_free(segs);
	CHECK(12, found == 2);
	CHECK(13, shmd_status(c, &st) == SHMD_OK);
	CHECK(14, strcmp(st.version, PACKAGE_VERSION) == 0 && st.pid > 0 &&
	    st.segments >= 2 && st.limits.max_segments_per_uid == 4 &&
	    st.limits.max_bytes_per_uid == 1 << 20 &&
	    st.limits.max_segment_size > 0 && st.limits.max_clients > 0);
	CHECK(15, shmd_watch(w) == SHMD_OK);
	CHECK(16, shmd_destroy(c, "abi.two") == SHMD_OK);
	CHECK(17, shmd_watch_next(w, &ev, &s2, &has) == SHMD_OK);
	CHECK(18, ev == SHMD_EVENT_DESTROYED && has &&
	    good_segment(&s2, "abi.two", 4096));
	CHECK(19, shmd_destroy(c, "abi.one") == SHMD_OK);
	CHECK(20, shmd_open(c, "abi.one", &s2) == SHMD_ERR_NO_SUCH_SEGMENT);
	shmd_disconnect(w);
	shmd_disconnect(c);
	return 0;
}
