/*
 * Unit tests: recovery's steps (daemon/recover.c) against real kernel
 * segments made by the test itself, standing in for an earlier run.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "kshm.h"
#include "lifecycle.h"
#include "realtime.h"
#include "recover.h"
#include "registry.h"
#include "state.h"
#include "testutil.h"

/* Sizes no other test uses, so that a fit is this test's own segment. */
#define ODD_SIZE	12347

static struct event_base	*base;
static struct conf		 conf;
static struct lifecycle		 lc;
static struct state_loaded	 loaded;

static void
setup(void)
{
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	ck_assert_int_eq(conf_init(&conf), 0);
	lifecycle_init(&lc, base, &conf, getpid(), geteuid(), realtime_usec(),
	    NULL, NULL);
	memset(&loaded, 0, sizeof loaded);
	loaded.segments = calloc(1, sizeof *loaded.segments);
	ck_assert_ptr_nonnull(loaded.segments);
	registry_init(loaded.segments);
}

static void
teardown(void)
{
	struct segment	*seg;

	TAILQ_FOREACH(seg, &lc.registry.segments, entry)
		kshm_remove(seg->shmid);
	lifecycle_finish(&lc);
	state_loaded_free(&loaded);
	conf_finish(&conf);
	event_base_free(base);
}

/* A record of a segment the test makes now, as an earlier run would have. */
static struct segment *
recorded(const char *name, int *shmid)
{
	struct segment		*seg = segment_create(name);
	struct kshm_stat	 st;

	ck_assert_ptr_nonnull(seg);
	*shmid = kshm_create(0, 4096, 0, 0, 0600, &st);
	ck_assert_int_ge(*shmid, 0);
	seg->shmid = *shmid;
	seg->size = 4096;
	seg->lifetime = PROTO_LIFETIME_PERSISTENT;
	seg->attach_timeout = 60;
	seg->kernel_cpid = st.cpid;
	seg->kernel_ctime = st.ctime;
	ck_assert_int_eq(registry_add(loaded.segments, seg), 0);
	return seg;
}

START_TEST(test_verify_and_adopt)
{
	struct segment	*other;
	int		 kept, removed, reused;

	recorded("kept", &kept);
	recorded("removed", &removed);
	other = recorded("reused", &reused);
	ck_assert_int_eq(shmctl(removed, IPC_RMID, NULL), 0);
	other->kernel_cpid = getpid() + 1;	/* the shmid is someone else's now */
	ck_assert_uint_eq(recover_verify(&loaded), 2);
	ck_assert_uint_eq(loaded.segments->count, 1);
	ck_assert_uint_eq(recover_adopt(&lc, &loaded), 1);
	ck_assert_uint_eq(loaded.segments->count, 0);
	ck_assert_ptr_nonnull(registry_find_by_name(&lc.registry, "kept"));
	/* the reused shmid is never touched: shmd did not make it as recorded */
	ck_assert_int_eq(kshm_stat(reused, &(struct kshm_stat){ 0 }), 0);
	kshm_remove(reused);
}
END_TEST

/* A kernel segment the "earlier run" (this process) made: key 0. */
static int
made(uint64_t size)
{
	int	id = shmget(IPC_PRIVATE, size, IPC_CREAT | 0600);

	ck_assert_int_ge(id, 0);
	return id;
}

static void
pending(uint64_t size, int64_t usec)
{
	loaded.has_pending = 1;
	loaded.pending.pid = getpid();
	loaded.pending.uid = geteuid();
	loaded.pending.size = size;
	loaded.pending.key = 0;
	loaded.pending.usec = usec;
}

static int
exists(int shmid)
{
	struct kshm_stat	st;

	return kshm_stat(shmid, &st) == 0;
}

START_TEST(test_leftover_removed)
{
	int	id;

	pending(ODD_SIZE, realtime_usec() - 1000000);
	id = made(ODD_SIZE);
	ck_assert_int_eq(recover_remove_leftover(&lc, &loaded), 1);
	ck_assert(!exists(id));
}
END_TEST

START_TEST(test_leftover_needs_an_announcement)
{
	int	id = made(ODD_SIZE);

	/* no pending Create: a segment with the run's pid is not proof */
	ck_assert_int_eq(recover_remove_leftover(&lc, &loaded), 0);
	ck_assert(exists(id));
	/* another size, another key, another pid: not it */
	pending(ODD_SIZE + 1, realtime_usec() - 1000000);
	ck_assert_int_eq(recover_remove_leftover(&lc, &loaded), 0);
	pending(ODD_SIZE, realtime_usec() - 1000000);
	loaded.pending.key = 1234;
	ck_assert_int_eq(recover_remove_leftover(&lc, &loaded), 0);
	pending(ODD_SIZE, realtime_usec() - 1000000);
	loaded.pending.pid = getpid() + 1;
	ck_assert_int_eq(recover_remove_leftover(&lc, &loaded), 0);
	/* made before the announcement: not it */
	pending(ODD_SIZE, realtime_usec() + 10 * 1000000);
	ck_assert_int_eq(recover_remove_leftover(&lc, &loaded), 0);
	ck_assert(exists(id));
	shmctl(id, IPC_RMID, NULL);
}
END_TEST

START_TEST(test_leftover_ambiguous)
{
	int	a, b;

	pending(ODD_SIZE, realtime_usec() - 1000000);
	a = made(ODD_SIZE);
	b = made(ODD_SIZE);
	/* two could be it: shmd cannot prove which, so neither goes */
	ck_assert_int_eq(recover_remove_leftover(&lc, &loaded), 0);
	ck_assert(exists(a));
	ck_assert(exists(b));
	shmctl(a, IPC_RMID, NULL);
	shmctl(b, IPC_RMID, NULL);
}
END_TEST

START_TEST(test_leftover_not_an_adopted_one)
{
	struct segment	*seg;
	int		 id;

	/* the one fit is a segment this run already manages */
	pending(4096, realtime_usec() - 1000000);
	seg = recorded("adopted", &id);
	(void)seg;
	ck_assert_uint_eq(recover_adopt(&lc, &loaded), 1);
	ck_assert_int_eq(recover_remove_leftover(&lc, &loaded), 0);
	ck_assert(exists(id));
}
END_TEST

START_TEST(test_leftover_in_key_range)
{
	int	in, out;

	pending(ODD_SIZE, realtime_usec() - 1000000);
	loaded.pending.any_key = 1;
	loaded.pending.key_base = 0x7e5e0000;
	loaded.pending.key_count = 4;
	kernel_sweep_keys(0x7e5e0000, 8);
	in = shmget(0x7e5e0002, ODD_SIZE, IPC_CREAT | IPC_EXCL | 0600);
	out = shmget(0x7e5e0004, ODD_SIZE, IPC_CREAT | IPC_EXCL | 0600);
	ck_assert_int_ge(in, 0);
	ck_assert_int_ge(out, 0);
	ck_assert_int_eq(recover_remove_leftover(&lc, &loaded), 1);
	ck_assert(!exists(in));
	ck_assert(exists(out));
	shmctl(out, IPC_RMID, NULL);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("recover");
	TCase	*tc = tcase_create("steps");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_verify_and_adopt);
	tcase_add_test(tc, test_leftover_removed);
	tcase_add_test(tc, test_leftover_needs_an_announcement);
	tcase_add_test(tc, test_leftover_ambiguous);
	tcase_add_test(tc, test_leftover_not_an_adopted_one);
	tcase_add_test(tc, test_leftover_in_key_range);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
