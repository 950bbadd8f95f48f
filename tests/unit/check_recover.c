/*
 * Unit tests: recovery's steps (daemon/lifecycle/recover.c) against real kernel
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

/* recover_verify() as shmd's start calls it: after one look at the kernel. */
static size_t
verify(void)
{
	struct recover_kernel	k;
	size_t			n;

	recover_scan(&k, &loaded);
	ck_assert_ptr_nonnull(k.segs);
	n = recover_verify(&loaded, &k);
	recover_kernel_free(&k);
	return n;
}

/* A record of a segment the test makes now, as an earlier run would have. */
static struct segment *
recorded(const char *name, int *shmid)
{
	struct segment		*seg = segment_create(name);
	struct kshm_stat	 st;
	ck_assert_ptr_nonnull(seg);
	*shmid = kshm_make(0, 4096, 0, &st);
	ck_assert_int_ge(*shmid, 0);
	ck_assert_int_eq(kshm_hand_over(&st, 0, 0, 0600), 0);
	seg->shmid = *shmid;
	seg->key = st.key;
	seg->size = 4096;
	seg->lifetime = PROTO_LIFETIME_PERSISTENT;
	seg->attach_timeout = 60;
	seg->kernel_cuid = st.cuid;
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
	/* the shmid is a segment of another creator uid now */
	other->kernel_cuid = 65534;
	ck_assert_uint_eq(verify(), 2);
	ck_assert_uint_eq(loaded.segments->count, 1);
	ck_assert_uint_eq(recover_adopt(&lc, &loaded), 1);
	ck_assert_uint_eq(loaded.segments->count, 0);
	ck_assert_ptr_nonnull(registry_find_by_name(&lc.registry, "kept"));
	/* the reused shmid is never touched: shmd did not make it as recorded */
	ck_assert_int_eq(kshm_stat(reused, &(struct kshm_stat){ 0 }), 0);
	kshm_remove(reused);
}
END_TEST

/* A kernel segment the "earlier run" (this process) made: key 0, not handed over. */
static int
made(uint64_t size)
{
	int	id = shmget(IPC_PRIVATE, size, IPC_CREAT | KSHM_UNSET_MODE);

	ck_assert_int_ge(id, 0);
	return id;
}

/* The one Create an earlier run (this process) announced; what made() fits. */
static struct state_pending	 one_pending;

static void
pending(uint64_t size, int64_t usec)
{
	struct state_pending	*p = &one_pending;

	memset(p, 0, sizeof *p);
	p->pid = getpid();
	p->pidns = lc.pidns;
	p->uid = geteuid();
	p->gid = getegid();
	p->size = size;
	p->key = 0;
	p->usec = usec;
	loaded.pending = NULL;	/* (not the loaded one's to free) */
	loaded.npending = 1;
}

/* recover_remove_leftover() on the one pending Create. */
static int
remove_leftover(void)
{
	int	rc;

	loaded.pending = &one_pending;
	rc = recover_remove_leftover(&lc, &loaded, NULL);
	loaded.pending = NULL;
	return rc;
}

/*
 * The last run record (this process, started at usec): what proves a
 * Create cut short before its one record (state.h), whatever its size.
 */
static void
last_run(int64_t usec)
{
	memset(&loaded.run, 0, sizeof loaded.run);
	loaded.run.run = 1;
	loaded.run.pid = getpid();
	loaded.run.pidns = lc.pidns;
	loaded.run.uid = geteuid();
	loaded.run.gid = getegid();
	loaded.run.usec = usec;
	loaded.has_run = 1;
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
	ck_assert_int_eq(remove_leftover(), 1);
	ck_assert(!exists(id));
}
END_TEST

/* Two segments could be the leftover: neither is removed (then removed here). */
static void
neither_goes(int a, int b)
{
	ck_assert_int_eq(remove_leftover(), 0);
	ck_assert(exists(a));
	ck_assert(exists(b));
	shmctl(a, IPC_RMID, NULL);
	shmctl(b, IPC_RMID, NULL);
}

/*
 * The last run's record is no proof of a leftover: in a new pid
 * namespace a stranger's segment shows cpid 0 as the old run's do, and
 * the run says no size or key (the crash-point test found one removed).
 */
START_TEST(test_leftover_of_the_last_run)
{
	int	id;

	last_run(realtime_usec() - 1000000);
	loaded.npending = 0;
	id = made(ODD_SIZE + 1);
	ck_assert_int_eq(recover_remove_leftover(&lc, &loaded, NULL), 0);
	ck_assert(exists(id));
	shmctl(id, IPC_RMID, NULL);
	loaded.has_run = 0;
}
END_TEST

/*
 * A segment whose end was recorded (an orphan) and that a pending
 * Create's record would prove a leftover too: removed once, as the orphan, and
 * not tried again (the look at the kernel came before its removal).
 */
START_TEST(test_leftover_also_an_orphan)
{
	struct recover_kernel	k;
	struct state_orphan	o;
	int			id;

	pending(ODD_SIZE + 3, realtime_usec() - 1000000);
	loaded.pending = &one_pending;
	id = made(ODD_SIZE + 3);
	o.shmid = id;
	o.key = 0;
	o.cuid = geteuid();
	o.size = ODD_SIZE + 3;
	loaded.orphans = &o;
	loaded.norphans = 1;
	recover_scan(&k, &loaded);
	ck_assert_int_eq(recover_remove_leftover(&lc, &loaded, &k), 1);
	recover_kernel_free(&k);
	loaded.pending = NULL;
	loaded.orphans = NULL;
	loaded.norphans = 0;
	ck_assert(!exists(id));
	ck_assert_uint_eq(lc.state.norphans, 0);
}
END_TEST

START_TEST(test_leftover_needs_an_announcement)
{
	struct shmid_ds	ds;
	int		id = made(ODD_SIZE);

	/* no pending Create: a segment with the run's pid is not proof */
	ck_assert_int_eq(remove_leftover(), 0);
	ck_assert(exists(id));
	/* another size, another key, another pid: not it */
	pending(ODD_SIZE + 1, realtime_usec() - 1000000);
	ck_assert_int_eq(remove_leftover(), 0);
	pending(ODD_SIZE, realtime_usec() - 1000000);
	one_pending.key = 1234;
	ck_assert_int_eq(remove_leftover(), 0);
	pending(ODD_SIZE, realtime_usec() - 1000000);
	one_pending.pid = getpid() + 1;
	ck_assert_int_eq(remove_leftover(), 0);
	/* made before the announcement: not it */
	pending(ODD_SIZE, realtime_usec() + 10 * 1000000);
	ck_assert_int_eq(remove_leftover(), 0);
	/* handed over (not mode 0, or not the daemon's): recorded, or not shmd's */
	pending(ODD_SIZE, realtime_usec() - 1000000);
	ck_assert_int_eq(shmctl(id, IPC_STAT, &ds), 0);
	ds.shm_perm.mode = 0600;
	ck_assert_int_eq(shmctl(id, IPC_SET, &ds), 0);
	ck_assert_int_eq(remove_leftover(), 0);
	ds.shm_perm.mode = KSHM_UNSET_MODE;
	ds.shm_perm.uid = 65534;
	ck_assert_int_eq(shmctl(id, IPC_SET, &ds), 0);
	ck_assert_int_eq(remove_leftover(), 0);
	ds.shm_perm.uid = geteuid();
	ck_assert_int_eq(shmctl(id, IPC_SET, &ds), 0);
	/* the announcing run was in another pid namespace: its segments
	   show no creator pid here, and this one shows a live process's */
	pending(ODD_SIZE, realtime_usec() - 1000000);
	one_pending.pidns = lc.pidns + 1;
	ck_assert_int_eq(remove_leftover(), 0);
	ck_assert(exists(id));
	shmctl(id, IPC_RMID, NULL);
}
END_TEST

/* A segment someone attached was handed over: never a leftover. */
START_TEST(test_leftover_never_attached)
{
	void	*p;
	int	 id = made(ODD_SIZE);

	pending(ODD_SIZE, realtime_usec() - 1000000);
	p = shmat(id, NULL, 0);
	ck_assert_ptr_ne(p, (void *)-1);
	shmdt(p);
	ck_assert_int_eq(remove_leftover(), 0);
	ck_assert(exists(id));
	shmctl(id, IPC_RMID, NULL);
}
END_TEST

/*
 * A segment made outside shmd in its key range, as shmd hands its own
 * over (mode 0600, root's), by a process the restarted daemon cannot see
 * (a new pid namespace): not a leftover, however alike.
 */
START_TEST(test_leftover_stranger_in_new_pid_namespace)
{
	int	id = shmget(IPC_PRIVATE, ODD_SIZE, IPC_CREAT | 0600);

	ck_assert_int_ge(id, 0);
	pending(ODD_SIZE, realtime_usec() - 1000000);
	ck_assert_int_eq(remove_leftover(), 0);
	ck_assert(exists(id));
	/*
	 * Nor while a root daemon set a memory policy up (it keeps mode 0:
	 * only an unprivileged one gives itself KSHM_SETUP_MODE, 0600).
	 */
	one_pending.setup = 1;
	if (geteuid() == 0) {
		ck_assert_int_eq(remove_leftover(), 0);
		ck_assert(exists(id));
	}
	shmctl(id, IPC_RMID, NULL);
}
END_TEST

/*
 * shmd's mark on an attached keyless segment is the record's, checked
 * against the kernel: recorded and made, kept (and not polled: it is
 * attached); recorded and not made, no mark (polled again); made and not
 * recorded, someone's ipcrm: not shmd's any more.
 */
START_TEST(test_marks)
{
	struct segment	*mine, *unmade, *theirs;
	void		*p1, *p2;
	int		 a, b, c;

	mine = recorded("marked", &a);
	unmade = recorded("unmade", &b);
	theirs = recorded("theirs", &c);
	mine->lifetime = unmade->lifetime = theirs->lifetime =
	    PROTO_LIFETIME_DETACH;
	ck_assert_int_eq(registry_set_marked(loaded.segments, mine, 1), 0);
	ck_assert_int_eq(registry_set_marked(loaded.segments, unmade, 1), 0);
	ck_assert_int_eq(registry_set_marked(loaded.segments, theirs, 0), 0);
	p1 = shmat(a, NULL, 0);
	p2 = shmat(c, NULL, 0);
	ck_assert_ptr_ne(p1, (void *)-1);
	ck_assert_ptr_ne(p2, (void *)-1);
	ck_assert_int_eq(shmctl(a, IPC_RMID, NULL), 0);
	ck_assert_int_eq(shmctl(c, IPC_RMID, NULL), 0);
	ck_assert_uint_eq(verify(), 1);
	ck_assert_ptr_null(registry_find_by_name(loaded.segments, "theirs"));
	ck_assert_int_eq(mine->rmid_marked, 1);
	ck_assert_uint_eq(mine->poll, 0);
	ck_assert_int_eq(unmade->rmid_marked, 0);
	ck_assert_uint_gt(unmade->poll, 0);
	shmdt(p1);
	shmdt(p2);
}
END_TEST

START_TEST(test_leftover_ambiguous)
{
	int	a, b;

	pending(ODD_SIZE, realtime_usec() - 1000000);
	a = made(ODD_SIZE);
	b = made(ODD_SIZE);
	/* two could be it: shmd cannot prove which, so neither goes */
	neither_goes(a, b);
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
	ck_assert_int_eq(remove_leftover(), 0);
	ck_assert(exists(id));
}
END_TEST

START_TEST(test_leftover_in_key_range)
{
	int	in, out;

	pending(ODD_SIZE, realtime_usec() - 1000000);
	one_pending.any_key = 1;
	one_pending.key_base = 0x7e5e0000;
	one_pending.key_count = 4;
	kernel_sweep_keys(0x7e5e0000, 8);
	in = shmget(0x7e5e0002, ODD_SIZE, IPC_CREAT | IPC_EXCL |
	    KSHM_UNSET_MODE);
	out = shmget(0x7e5e0004, ODD_SIZE, IPC_CREAT | IPC_EXCL |
	    KSHM_UNSET_MODE);
	ck_assert_int_ge(in, 0);
	ck_assert_int_ge(out, 0);
	ck_assert_int_eq(remove_leftover(), 1);
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
	tcase_add_test(tc, test_leftover_of_the_last_run);
	tcase_add_test(tc, test_leftover_also_an_orphan);
	tcase_add_test(tc, test_leftover_needs_an_announcement);
	tcase_add_test(tc, test_leftover_never_attached);
	tcase_add_test(tc, test_leftover_stranger_in_new_pid_namespace);
	tcase_add_test(tc, test_marks);
	tcase_add_test(tc, test_leftover_ambiguous);
	tcase_add_test(tc, test_leftover_not_an_adopted_one);
	tcase_add_test(tc, test_leftover_in_key_range);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
