/* Unit tests: the segment registry and the key allocator. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <string.h>
#include <sys/shm.h>
#include <unistd.h>

#include "keyalloc.h"
#include "kshm.h"
#include "registry.h"
#include "testutil.h"
#include "user.h"

static struct segment *
make(const char *name, uid_t uid, uint64_t size)
{
	struct segment	*s = segment_create(name);

	ck_assert_ptr_nonnull(s);
	s->uid = uid;
	s->size = size;
	return s;
}

START_TEST(test_add_find_remove)
{
	struct registry	 reg;
	struct segment	*a = make("a", 1000, 10), *b = make("b/c", 1000, 20);
	struct segment	*c = make("c", 1001, 5), *dup = make("a", 2, 1);

	registry_init(&reg);
	ck_assert_int_eq(registry_add(&reg, a), 0);
	ck_assert_int_eq(registry_add(&reg, b), 0);
	ck_assert_int_eq(registry_add(&reg, c), 0);
	ck_assert_int_eq(registry_add(&reg, dup), -1);
	ck_assert_int_eq(errno, EEXIST);
	segment_destroy(dup);
	ck_assert_uint_eq(reg.count, 3);
	ck_assert_uint_eq(reg.bytes, 35);
	ck_assert_ptr_eq(registry_find_by_name(&reg, "b/c"), b);
	ck_assert_ptr_null(registry_find_by_name(&reg, "b"));
	registry_remove(&reg, b);
	segment_destroy(b);
	ck_assert_ptr_null(registry_find_by_name(&reg, "b/c"));
	ck_assert_uint_eq(reg.count, 2);
	ck_assert_uint_eq(reg.bytes, 15);
	/* Order of creation is kept. */
	ck_assert_ptr_eq(TAILQ_FIRST(&reg.segments), a);
	ck_assert_ptr_eq(TAILQ_NEXT(a, entry), c);
	registry_finish(&reg);
	segment_destroy(NULL);
}
END_TEST

/* Per-uid accounting (user.c): what each uid holds, and its limits. */
START_TEST(test_user_segments)
{
	struct user_registry	 users;
	struct shm_policy	 plain = SHM_POLICY_NONE, huge = SHM_POLICY_NONE;
	struct shm_policy	 locked = SHM_POLICY_NONE;
	struct user_segments	 held, max = { 3, 100, 0, 20 };
	const struct user	*u;
	uint64_t		 limit = 0;

	huge.page_size = 2 << 20;
	locked.locked = 1;
	user_registry_init(&users, NULL);
	ck_assert_int_eq(user_charge_segment(&users, 1000, 10, &plain), 0);
	ck_assert_int_eq(user_charge_segment(&users, 1001, 5, &locked), 0);
	ck_assert_int_eq(user_charge_segment(&users, 1000, 20, &locked), 0);
	user_segments_held(&users, 1000, &held);
	ck_assert_uint_eq(held.segments, 2);
	ck_assert_uint_eq(held.bytes, 30);
	ck_assert_uint_eq(held.huge_bytes, 0);
	ck_assert_uint_eq(held.locked_bytes, 20);
	/* the holders, in the order they came */
	u = TAILQ_FIRST(&users.holders);
	ck_assert_uint_eq(u->uid, 1000);
	ck_assert_uint_eq(TAILQ_NEXT(u, hold_entry)->uid, 1001);
	/* locked: 20 of 20 held; huge: 0 allows none; bytes; root: any */
	ck_assert_str_eq(user_segment_over(&users, 1000, 1, &locked, &max,
	    &limit), "locked_bytes");
	ck_assert_uint_eq(limit, 20);
	ck_assert_str_eq(user_segment_over(&users, 1000, 1, &huge, &max,
	    &limit), "huge_bytes");
	ck_assert_uint_eq(limit, 0);
	ck_assert_str_eq(user_segment_over(&users, 1000, 71, &plain, &max,
	    &limit), "bytes");
	ck_assert_ptr_null(user_segment_over(&users, 1000, 70, &plain, &max,
	    &limit));
	ck_assert_ptr_null(user_segment_over(&users, 0, 1 << 30, &huge, &max,
	    &limit));
	ck_assert_int_eq(user_charge_segment(&users, 1000, 1, &plain), 0);
	ck_assert_str_eq(user_segment_over(&users, 1000, 1, &plain, &max,
	    &limit), "segments");
	ck_assert_uint_eq(limit, 3);
	/* released: a uid that holds nothing is gone */
	user_release_segment(&users, 1000, 10, &plain);
	user_release_segment(&users, 1000, 20, &locked);
	user_release_segment(&users, 1000, 1, &plain);
	user_segments_held(&users, 1000, &held);
	ck_assert_uint_eq(held.segments + held.bytes + held.locked_bytes, 0);
	ck_assert_uint_eq(TAILQ_FIRST(&users.holders)->uid, 1001);
	ck_assert_uint_eq(users.count, 1);
	user_release_segment(&users, 1001, 5, &locked);
	ck_assert_uint_eq(users.count, 0);
	ck_assert_ptr_null(TAILQ_FIRST(&users.holders));
	user_registry_finish(&users);
}
END_TEST

START_TEST(test_many)
{
	struct registry	 reg;
	char		 name[32];
	int		 i;

	registry_init(&reg);
	for (i = 0; i < 5000; i++) {
		snprintf(name, sizeof name, "seg.%d", i);
		ck_assert_int_eq(registry_add(&reg, make(name, 1, 1)), 0);
	}
	for (i = 0; i < 5000; i += 7) {
		snprintf(name, sizeof name, "seg.%d", i);
		ck_assert_ptr_nonnull(registry_find_by_name(&reg, name));
	}
	ck_assert_uint_eq(reg.count, 5000);
	registry_finish(&reg);
}
END_TEST

#define KA_BASE 0x7e5b0000

/* The reaper's array holds exactly the detach segments not marked. */
static void
check_polls(const struct registry *reg)
{
	const struct segment	*seg;
	size_t			 polled = 0, i;

	TAILQ_FOREACH(seg, &reg->segments, entry) {
		if (seg->lifetime != PROTO_LIFETIME_DETACH || seg->rmid_marked) {
			ck_assert_uint_eq(seg->poll, 0);
			continue;
		}
		polled++;
		ck_assert_uint_gt(seg->poll, 0);
		i = seg->poll - 1;
		ck_assert_uint_lt(i, reg->npolls);
		ck_assert_ptr_eq(reg->polls[i].seg, seg);
		ck_assert_int_eq(reg->polls[i].shmid, seg->shmid);
		ck_assert_int_eq(reg->polls[i].key, seg->key);
		ck_assert_uint_eq(reg->polls[i].cuid, seg->kernel_cuid);
		ck_assert_uint_eq(reg->polls[i].size, seg->size);
	}
	ck_assert_uint_eq(polled, reg->npolls);
}

START_TEST(test_polls)
{
	static const enum proto_lifetime lifetimes[] = {
		PROTO_LIFETIME_DETACH, PROTO_LIFETIME_PERSISTENT,
		PROTO_LIFETIME_DETACH, PROTO_LIFETIME_PROCESS,
	};
	struct registry	 reg;
	struct segment	*seg, *next;
	char		 name[32];
	int		 i;

	registry_init(&reg);
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof name, "p.%d", i);
		seg = make(name, 1, 100 + (uint64_t)i);
		seg->shmid = i;
		seg->kernel_cuid = 4000 + (uid_t)i;
		seg->key = 0x100 + i;
		seg->lifetime = lifetimes[i % 4];
		seg->rmid_marked = i % 10 == 0;	/* recovered marked */
		ck_assert_int_eq(registry_add(&reg, seg), 0);
	}
	check_polls(&reg);
	ck_assert_uint_eq(reg.npolls, 400);
	/* Removed (every third) and marked (every fifth of the rest). */
	i = 0;
	for (seg = TAILQ_FIRST(&reg.segments); seg != NULL; seg = next, i++) {
		next = TAILQ_NEXT(seg, entry);
		if (i % 3 == 0) {
			registry_remove(&reg, seg);
			segment_destroy(seg);
		} else if (i % 5 == 0 && seg->poll != 0) {
			seg->rmid_marked = 1;
			registry_unpoll(&reg, seg);
			registry_unpoll(&reg, seg);	/* twice is harmless */
		}
		if (i % 97 == 0)
			check_polls(&reg);
	}
	check_polls(&reg);
	/* Emptied, then filled again. */
	while ((seg = TAILQ_FIRST(&reg.segments)) != NULL) {
		registry_remove(&reg, seg);
		segment_destroy(seg);
	}
	ck_assert_uint_eq(reg.npolls, 0);
	seg = make("again", 1, 1);
	ck_assert_int_eq(registry_add(&reg, seg), 0);
	check_polls(&reg);
	ck_assert_uint_eq(reg.npolls, 1);
	registry_finish(&reg);
}
END_TEST

START_TEST(test_keyalloc_skips_taken_keys)
{
	struct keyalloc		ka = { 0, 0, 0 };
	struct kshm_stat	st;
	int			blockers[3], ids[3], i;

	kernel_sweep_keys(KA_BASE, 6);
	/* Someone else holds the first three keys of the range. */
	for (i = 0; i < 3; i++) {
		blockers[i] = shmget(KA_BASE + i, 64, IPC_CREAT | 0600);
		ck_assert_int_ge(blockers[i], 0);
	}
	keyalloc_init(&ka, KA_BASE, 6);
	for (i = 0; i < 3; i++) {
		ids[i] = keyalloc_create(&ka, 64, 0, &st);
		ck_assert_int_ge(ids[i], 0);
		ck_assert_int_eq(st.key, KA_BASE + 3 + i);
		/* the daemon's, mode 0, until handed over */
		ck_assert_uint_eq(st.mode & 0777, KSHM_UNSET_MODE);
		ck_assert_uint_eq(st.uid, geteuid());
		ck_assert_int_eq(kshm_hand_over(&st, getuid(), getgid(), 0640),
		    0);
		ck_assert_uint_eq(st.mode & 0777, 0640);
		ck_assert_int_eq(shmget(st.key, 0, 0), ids[i]);
	}
	/* The range is full now. */
	ck_assert_int_eq(keyalloc_create(&ka, 64, 0, &st), -1);
	ck_assert_int_eq(errno, EAGAIN);
	/* A freed key is found again, wrapping around. */
	ck_assert_int_eq(kshm_remove(ids[1]), 0);
	i = keyalloc_create(&ka, 64, 0, &st);
	ck_assert_int_ge(i, 0);
	ck_assert_int_eq(st.key, KA_BASE + 4);
	kshm_remove(i);
	kshm_remove(ids[0]);
	kshm_remove(ids[2]);
	for (i = 0; i < 3; i++)
		shmctl(blockers[i], IPC_RMID, NULL);
}
END_TEST

START_TEST(test_kshm_errors)
{
	struct kshm_stat	st;
	int			id;

	id = kshm_make(0, 100, 0, &st);
	ck_assert_int_ge(id, 0);
	ck_assert_int_eq(st.key, 0);
	ck_assert_uint_eq(st.size, 100);
	ck_assert_uint_eq(st.mode & 0777, 0);
	ck_assert_int_eq(kshm_stat(id, &st), 0);
	ck_assert_int_eq(kshm_remove(id), 0);
	ck_assert_int_eq(kshm_remove(id), 0);	/* gone is fine */
	ck_assert_int_eq(kshm_stat(id, &st), -1);
	ck_assert_str_eq(kshm_errno_name(ENOSPC), "ENOSPC");
	ck_assert_ptr_nonnull(strstr(kshm_limit_message(ENOSPC), "shmmni"));
	ck_assert_ptr_nonnull(strstr(kshm_limit_message(EINVAL), "shmmax"));
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("registry");
	TCase	*tc = tcase_create("registry");
	TCase	*tk = tcase_create("keyalloc");

	tcase_add_test(tc, test_add_find_remove);
	tcase_add_test(tc, test_user_segments);
	tcase_add_test(tc, test_many);
	tcase_add_test(tc, test_polls);
	tcase_add_test(tk, test_keyalloc_skips_taken_keys);
	tcase_add_test(tk, test_kshm_errors);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, tk);
	return run_suite(s);
}
