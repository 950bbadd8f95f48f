/* Unit tests: who may do what (daemon/server/perm.c), shmd-protocol(7)'s rules. */
#include "config.h"

#include <check.h>
#include <string.h>

#include "kshm.h"
#include "perm.h"
#include "proto.h"
#include "testutil.h"

static struct kshm_stat
seg_stat(uid_t uid, gid_t gid, unsigned mode)
{
	struct kshm_stat	st;

	memset(&st, 0, sizeof st);
	st.uid = uid;
	st.gid = gid;
	st.mode = mode;
	return st;
}

START_TEST(test_open_by_mode_bits)
{
	gid_t			groups[] = { 20, 30 };
	struct peer		p = { .pid = 42, .uid = 1000, .gid = 100, .groups = groups,
	    .ngroups = 2 };
	struct kshm_stat	st;

	/* the owner bits, when the caller owns it */
	st = seg_stat(1000, 5, 0600);
	ck_assert(perm_may_open(&p, 2000, &st));
	st = seg_stat(1000, 100, 0060);	/* owner bits win, even if group allows */
	ck_assert(!perm_may_open(&p, 2000, &st));
	/* else the group bits, primary or supplementary */
	st = seg_stat(2000, 100, 0040);
	ck_assert(perm_may_open(&p, 2000, &st));
	st = seg_stat(2000, 30, 0020);	/* write alone suffices */
	ck_assert(perm_may_open(&p, 2000, &st));
	st = seg_stat(2000, 30, 0604);	/* a group member gets group bits, not other */
	ck_assert(!perm_may_open(&p, 2000, &st));
	/* else the other bits */
	st = seg_stat(2000, 7, 0004);
	ck_assert(perm_may_open(&p, 2000, &st));
	st = seg_stat(2000, 7, 0001);	/* execute grants nothing */
	ck_assert(!perm_may_open(&p, 2000, &st));
	st = seg_stat(2000, 7, 0770);
	ck_assert(!perm_may_open(&p, 2000, &st));
	/* the creator always, whatever the bits and owner say */
	st = seg_stat(2000, 7, 0);
	ck_assert(perm_may_open(&p, 1000, &st));
	/* the SHM_DEST bit is not a permission */
	st = seg_stat(2000, 7, SHM_DEST);
	ck_assert(!perm_may_open(&p, 2000, &st));
}
END_TEST

/*
 * A caller whose groups cannot be read (here: no socket to read them
 * from) is refused whatever a group's membership would decide: neither
 * the group's bits nor the others' apply, no group is its to give or to
 * name. Its own uid and primary group still decide what they decide.
 */
START_TEST(test_unreadable_groups_refuse)
{
	struct peer		p = { .pid = 42, .uid = 1000, .gid = 100,
	    .groups_unread = 1, .sock = -1 };
	struct kshm_stat	st;

	st = seg_stat(2000, 30, 0604);	/* others may: a member may not */
	ck_assert(!perm_may_open(&p, 2000, &st));
	ck_assert_int_eq(p.groups_unread, 1);
	st = seg_stat(2000, 100, 0040);	/* the primary group needs no read */
	ck_assert(perm_may_open(&p, 2000, &st));
	st = seg_stat(1000, 30, 0600);	/* nor the owner */
	ck_assert(perm_may_open(&p, 2000, &st));
	ck_assert(!perm_may_own(&p, 1000, 30));
	ck_assert(perm_may_own(&p, 1000, 100));
	ck_assert(!perm_may_name(&p, "gid:30/x"));
}
END_TEST

START_TEST(test_root_may_everything)
{
	struct peer		root = { .pid = 1, .uid = 0, .gid = 0, .groups = NULL,
	    .ngroups = 0 };
	struct kshm_stat	st = seg_stat(1000, 1000, 0);

	ck_assert(perm_may_open(&root, 1000, &st));
	ck_assert(perm_may_destroy(&root, 1000, &st));
	ck_assert(perm_may_own(&root, 1234, 5678));
}
END_TEST

START_TEST(test_destroy)
{
	struct peer		p = { .pid = 42, .uid = 1000, .gid = 100, .groups = NULL,
	    .ngroups = 0 };
	struct kshm_stat	st;

	st = seg_stat(1000, 5, 0);	/* the owner */
	ck_assert(perm_may_destroy(&p, 2000, &st));
	st = seg_stat(2000, 100, 0666);	/* the creator */
	ck_assert(perm_may_destroy(&p, 1000, &st));
	/* mode bits grant no right to destroy */
	st = seg_stat(2000, 100, 0666);
	ck_assert(!perm_may_destroy(&p, 2000, &st));
}
END_TEST

START_TEST(test_own)
{
	gid_t		groups[] = { 20 };
	struct peer	p = { .pid = 42, .uid = 1000, .gid = 100, .groups = groups,
	    .ngroups = 1 };

	ck_assert(perm_may_own(&p, 1000, 100));
	ck_assert(perm_may_own(&p, 1000, 20));
	ck_assert(!perm_may_own(&p, 1000, 21));
	ck_assert(!perm_may_own(&p, 1001, 100));
	ck_assert(peer_in_group(&p, 100));
	ck_assert(peer_in_group(&p, 20));
	ck_assert(!peer_in_group(&p, 0));
}
END_TEST

/* shmd-protocol(7)'s reserved names: uid:N and gid:N as the first component. */
START_TEST(test_reserved_names)
{
	gid_t		groups[] = { 20 };
	struct peer	p = { .pid = 42, .uid = 1000, .gid = 100,
			    .groups = groups, .ngroups = 1 };
	struct peer	root = { .pid = 1 };
	uint32_t	id;

	ck_assert(perm_may_name(&p, "uid:1000/cam0"));
	ck_assert(perm_may_name(&p, "uid:1000"));
	ck_assert(!perm_may_name(&p, "uid:1001/cam0"));
	ck_assert(!perm_may_name(&p, "uid:0/x"));
	ck_assert(perm_may_name(&p, "gid:100/x"));	/* primary */
	ck_assert(perm_may_name(&p, "gid:20/x"));	/* supplementary */
	ck_assert(!perm_may_name(&p, "gid:21/x"));
	ck_assert(perm_may_name(&root, "uid:1000/cam0"));
	ck_assert(perm_may_name(&root, "gid:5/x"));
	/* not reserved: the pattern is exact */
	ck_assert(perm_may_name(&p, "uid:01/x"));	/* a leading zero */
	ck_assert(perm_may_name(&p, "uid:/x"));
	ck_assert(perm_may_name(&p, "uid:12a/x"));
	ck_assert(perm_may_name(&p, "x/uid:1001"));	/* not the first */
	ck_assert(perm_may_name(&p, "uid:99999999999/x"));	/* no uid */
	ck_assert(perm_may_name(&p, "UID:1001/x"));
	ck_assert_int_eq(proto_name_reserved("uid:0", &id), PROTO_RESERVED_UID);
	ck_assert_uint_eq(id, 0);
	ck_assert_int_eq(proto_name_reserved("gid:4294967295/a", &id),
	    PROTO_RESERVED_GID);
	ck_assert_uint_eq(id, 4294967295u);
	ck_assert_int_eq(proto_name_reserved("uid:1:x", &id),
	    PROTO_RESERVED_NONE);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("perm");
	TCase	*tc = tcase_create("rules");

	tcase_add_test(tc, test_open_by_mode_bits);
	tcase_add_test(tc, test_unreadable_groups_refuse);
	tcase_add_test(tc, test_root_may_everything);
	tcase_add_test(tc, test_destroy);
	tcase_add_test(tc, test_own);
	tcase_add_test(tc, test_reserved_names);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
