/*
 * Unit tests: lifetime decisions (daemon/lifecycle/reaper.c) on real kernel
 * segments, with the reaper's reports caught by test callbacks.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <unistd.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include "kshm.h"
#include "reaper.h"
#include "registry.h"
#include "testutil.h"

static struct registry	reg;
static struct reaper	reaper;
static char		last_why[64];
static int		nexpired, ngone, nfollow;

/* What lifecycle.c does, reduced: out of the registry, out of the kernel. */
static void
drop(struct segment *seg)
{
	registry_remove(&reg, seg);
	kshm_remove(seg->shmid);
	segment_destroy(seg);
}

static void
expired(void *arg, struct segment *seg, const struct kshm_stat *st,
    const char *why)
{
	ck_assert_ptr_eq(arg, &reg);
	ck_assert_int_eq(st->shmid, seg->shmid);
	snprintf(last_why, sizeof last_why, "%s", why);
	nexpired++;
	drop(seg);
}

static void
gone(void *arg, struct segment *seg)
{
	ngone++;
	drop(seg);
}

static void
follow(void *arg, struct segment *seg)
{
	nfollow++;	/* and fails: seg->watch stays NULL */
}

/* As the lifecycle does (less the record): mark it IPC_RMID. */
static void
mark(void *arg, struct segment *seg)
{
	if (kshm_remove(seg->shmid) == 0)
		registry_set_marked(&reg, seg, 1);
}

static const struct reaper_ops ops = { expired, gone, follow, mark };

static void
setup(void)
{
	registry_init(&reg);
	reaper_init(&reaper, &reg, &ops, &reg);
	nexpired = ngone = nfollow = 0;
	last_why[0] = '\0';
}

static void
teardown(void)
{
	struct segment	*seg;

	TAILQ_FOREACH(seg, &reg.segments, entry)
		kshm_remove(seg->shmid);
	registry_finish(&reg);
}

/* A managed keyless segment of the given lifetime, created age_s ago. */
static struct segment *
add(const char *name, enum proto_lifetime lt, int64_t now, int age_s)
{
	struct segment		*seg = segment_create(name);
	struct kshm_stat	 st;
	ck_assert_ptr_nonnull(seg);
	seg->shmid = kshm_make(0, 4096, 0, &st);
	ck_assert_int_ge(seg->shmid, 0);
	ck_assert_int_eq(kshm_hand_over(&st, getuid(), getgid(), 0600), 0);
	seg->size = 4096;
	seg->lifetime = lt;
	seg->attach_timeout = 10;
	seg->created_boot = now - (int64_t)age_s * 1000000;
	seg->kernel_cuid = st.cuid;
	ck_assert_int_eq(registry_add(&reg, seg), 0);
	return seg;
}

START_TEST(test_detach_last_detach)
{
	int64_t		 now = 1000000000000;
	struct segment	*seg = add("d", PROTO_LIFETIME_DETACH, now, 0);
	void		*p;

	reaper_sweep(&reaper, 0, now);
	ck_assert_int_eq(nexpired, 0);	/* never attached, within its grace */
	/* a quick attach and detach between two looks counts */
	p = shmat(seg->shmid, NULL, 0);
	ck_assert_ptr_ne(p, (void *)-1);
	ck_assert_int_eq(shmdt(p), 0);
	reaper_sweep(&reaper, 0, now);
	ck_assert_int_eq(nexpired, 1);
	ck_assert_str_eq(last_why, "last detach");
	ck_assert_uint_eq(reg.count, 0);
}
END_TEST

START_TEST(test_detach_never_attached)
{
	int64_t	now = 1000000000000;

	add("young", PROTO_LIFETIME_DETACH, now, 9);
	add("old", PROTO_LIFETIME_DETACH, now, 10);
	reaper_sweep(&reaper, 0, now);
	ck_assert_int_eq(nexpired, 1);
	ck_assert_str_eq(last_why, "never attached");
	ck_assert_ptr_nonnull(registry_find_by_name(&reg, "young"));
	ck_assert_ptr_null(registry_find_by_name(&reg, "old"));
}
END_TEST

START_TEST(test_keyless_attached_is_marked)
{
	int64_t			 now = 1000000000000;
	struct segment		*seg = add("k", PROTO_LIFETIME_DETACH, now, 0);
	struct kshm_stat	 st;
	int			 shmid = seg->shmid;
	void			*p;

	p = shmat(shmid, NULL, 0);
	ck_assert_ptr_ne(p, (void *)-1);
	reaper_sweep(&reaper, 0, now);
	/* attached: marked IPC_RMID so the kernel frees it at the last detach */
	ck_assert_int_eq(nexpired, 0);
	ck_assert_int_eq(seg->rmid_marked, 1);
	ck_assert_uint_eq(seg->poll, 0);
	ck_assert_int_eq(kshm_stat(shmid, &st), 0);
	ck_assert(st.mode & SHM_DEST);
	ck_assert(kshm_is(&st, seg->key, seg->kernel_cuid, seg->size, 1));
	ck_assert_int_eq(shmdt(p), 0);
	/* freed by the kernel: the next full look reports it gone */
	reaper_sweep(&reaper, 0, now);
	ck_assert_int_eq(ngone, 0);
	reaper_sweep(&reaper, 1, now);
	ck_assert_int_eq(ngone, 1);
	ck_assert_int_eq(kshm_stat(shmid, &st), -1);
}
END_TEST

START_TEST(test_persistent_and_vanished)
{
	int64_t		 now = 1000000000000;
	struct segment	*seg = add("p", PROTO_LIFETIME_PERSISTENT, now, 3600);

	reaper_sweep(&reaper, 1, now);
	ck_assert_int_eq(nexpired + ngone, 0);
	/* ipcrm behind the daemon's back: only a full sweep looks */
	ck_assert_int_eq(shmctl(seg->shmid, IPC_RMID, NULL), 0);
	reaper_sweep(&reaper, 0, now);
	ck_assert_int_eq(ngone, 0);
	reaper_sweep(&reaper, 1, now);
	ck_assert_int_eq(ngone, 1);
	ck_assert_int_eq(nexpired, 0);
}
END_TEST

START_TEST(test_process_creator_gone)
{
	int64_t		 now = 1000000000000;
	struct segment	*seg = add("c", PROTO_LIFETIME_PROCESS, now, 0);

	/* not followed yet: a non-full sweep tries again */
	seg->creator_gone = 0;
	reaper.unfollowed = 1;
	reaper_sweep(&reaper, 0, now);
	ck_assert_int_eq(nfollow, 1);
	ck_assert_int_eq(nexpired, 0);
	ck_assert_int_eq(reaper.unfollowed, 1);	/* still not followed */
	/* the creator turned out gone: reaped */
	seg->creator_gone = 1;
	reaper_sweep(&reaper, 0, now);
	ck_assert_int_eq(nexpired, 1);
	ck_assert_str_eq(last_why, "its creator exited");
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("reaper");
	TCase	*tc = tcase_create("lifetimes");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_detach_last_detach);
	tcase_add_test(tc, test_detach_never_attached);
	tcase_add_test(tc, test_keyless_attached_is_marked);
	tcase_add_test(tc, test_persistent_and_vanished);
	tcase_add_test(tc, test_process_creator_gone);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
