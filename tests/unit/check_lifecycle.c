/*
 * Unit tests: a segment's life (daemon/lifecycle/lifecycle.c) with a real state
 * directory: every transition keeps the log and the registry in
 * agreement, wherever compaction falls; and the state directory rules
 * (daemon/lifecycle/state.c).
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "intent.h"
#include "kshm.h"
#include "lifecycle.h"
#include "realtime.h"
#include "registry.h"
#include "state.h"
#include "testutil.h"

static struct event_base	*base;
static struct conf		 conf;
static struct lifecycle		 lc;
static char			 dir[64], events[512];

static void
notify(void *arg, enum proto_event ev, const struct segment *seg,
    const struct kshm_stat *st)
{
	/* told once the registry shows it: in for created, out for the rest */
	ck_assert_int_eq(st->shmid, seg->shmid);
	if (ev == PROTO_EVENT_CREATED)
		ck_assert_ptr_eq(registry_find_by_name(&lc.registry, seg->name),
		    seg);
	else
		ck_assert_ptr_null(registry_find_by_name(&lc.registry,
		    seg->name));
	snprintf(events + strlen(events), sizeof events - strlen(events),
	    "%s:%s ", proto_event_name(ev), seg->name);
}

static void
setup(void)
{
	char	why[256];

	snprintf(dir, sizeof dir, "/tmp/shmd-lc-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	base = event_base_new();
	ck_assert_int_eq(conf_init(&conf), 0);
	/* announced in the page, as on tmpfs (test_announced_in_the_log) */
	setenv("SHMD_TEST_INTENT", "page", 1);
	lifecycle_init(&lc, base, &conf, getpid(), geteuid(), realtime_usec(),
	    notify, NULL);
	unsetenv("SHMD_TEST_INTENT");
	ck_assert_int_eq(state_open(&lc.state, dir, why, sizeof why), 0);
	ck_assert_int_eq(state_compact(&lc.state, &lc.registry), 0);
	events[0] = '\0';
}

static void
teardown(void)
{
	struct segment	*seg;
	char		 cmd[128];

	TAILQ_FOREACH(seg, &lc.registry.segments, entry)
		kshm_remove(seg->shmid);
	lifecycle_finish(&lc);
	conf_finish(&conf);
	event_base_free(base);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* The log, read back as recovery would, names exactly the registry's. */
static void
assert_agree(void)
{
	struct state		st;
	struct state_loaded	l;
	struct segment		*seg;
	char			why[256];

	state_init(&st, getpid(), geteuid(), 0);
	ck_assert_int_eq(state_open(&st, dir, why, sizeof why), 0);
	ck_assert_int_eq(state_load(&st, &l), 0);
	ck_assert_ptr_nonnull(l.segments);
	ck_assert_uint_eq(l.segments->count, lc.registry.count);
	TAILQ_FOREACH(seg, &lc.registry.segments, entry)
		ck_assert_ptr_nonnull(registry_find_by_name(l.segments,
		    seg->name));
	ck_assert_uint_eq(l.npending, 0);
	state_loaded_free(&l);
	state_close(&st);
}

/*
 * A Create, answered: its record in the intent page until the event loop
 * runs (the log takes it then: state.h).
 */
static struct segment *
create_unflushed(const char *name, enum proto_lifetime lt)
{
	struct lifecycle_request	 req;
	struct segment			*seg;
	struct kshm_stat		 st;

	memset(&req, 0, sizeof req);
	req.name = name;
	req.size = 4096;
	req.lifetime = lt;
	req.key = 0;
	req.uid = geteuid();
	req.gid = getegid();
	req.mode = 0600;
	req.attach_timeout = 60;
	req.creator_uid = geteuid();
	req.creator_pid = getpid();
	ck_assert_int_eq(lifecycle_create(&lc, &req, &seg, &st), 0);
	ck_assert_int_eq(st.shmid, seg->shmid);
	return seg;
}

/* A Create, and the turn of the event loop it was answered in ended. */
static struct segment *
create(const char *name, enum proto_lifetime lt)
{
	struct segment	*seg = create_unflushed(name, lt);

	ck_assert_int_ge(event_base_loop(base, EVLOOP_NONBLOCK), 0);
	return seg;
}

/*
 * A Create of "taken" on key, which another process holds already: its
 * result (-1, EEXIST), and that segment's shmid in *taken.
 */
static int
create_on_taken(key_t key, int *taken)
{
	struct lifecycle_request	 req;
	struct segment			*seg = NULL;
	struct kshm_stat		 st;

	kernel_sweep_keys(key, 1);
	*taken = shmget(key, 64, IPC_CREAT | IPC_EXCL | 0600);
	ck_assert_int_ge(*taken, 0);
	memset(&req, 0, sizeof req);
	req.name = "taken";
	req.size = 64;
	req.key = key;
	req.mode = 0600;
	req.attach_timeout = 60;
	return lifecycle_create(&lc, &req, &seg, &st);
}

/* Every transition, with compaction after 0, 1, 2, ... records of slack. */
START_TEST(test_log_agrees_at_every_step)
{
	struct segment		*seg;
	struct kshm_stat	 st;
	char			 name[32];
	int			 i, shmid;

	lc.state.slack = (uint64_t)_i;
	for (i = 0; i < 6; i++) {
		snprintf(name, sizeof name, "s%d", i);
		create(name, PROTO_LIFETIME_PERSISTENT);
		assert_agree();
	}
	/* destroyed */
	seg = lifecycle_find(&lc, "s0", &st);
	ck_assert_ptr_nonnull(seg);
	shmid = seg->shmid;
	ck_assert_int_eq(lifecycle_destroy(&lc, seg, &st), 0);
	ck_assert_int_eq(kshm_stat(shmid, &st), -1);
	assert_agree();
	/* reaped */
	seg = lifecycle_find(&lc, "s1", &st);
	lifecycle_reap(&lc, seg, &st, "test");
	assert_agree();
	/* vanished, noticed at a lookup */
	seg = registry_find_by_name(&lc.registry, "s2");
	ck_assert_int_eq(shmctl(seg->shmid, IPC_RMID, NULL), 0);
	ck_assert_ptr_null(lifecycle_find(&lc, "s2", &st));
	assert_agree();
	ck_assert_uint_eq(lc.reaped, 1);
	ck_assert_uint_eq(lc.vanished, 1);
	ck_assert_str_eq(events, "created:s0 created:s1 created:s2 created:s3 "
	    "created:s4 created:s5 destroyed:s0 reaped:s1 vanished:s2 ");
	/* and again, with the names free */
	create("s0", PROTO_LIFETIME_DETACH);
	assert_agree();
}
END_TEST

/*
 * A Create writes one record, and not before its answer: its
 * announcement before shmget and its record after go to the intent page
 * (state.h); the log takes the record once the turn of the event loop
 * that answered ends, and the page is emptied. A restart in between
 * finds it in the page.
 */
START_TEST(test_one_record_a_create)
{
	uint64_t	records = lc.state.records;

	create_unflushed("one", PROTO_LIFETIME_PROCESS);
	ck_assert_uint_eq(lc.state.records, records);
	ck_assert_int_eq(lc.state.deferred, 1);
	ck_assert_int_ne(lc.state.intent[INTENT_RECORD_AT], '\0');
	assert_agree();
	ck_assert_int_ge(event_base_loop(base, EVLOOP_NONBLOCK), 0);
	ck_assert_uint_eq(lc.state.records, records + 1);
	ck_assert_int_eq(lc.state.deferred, 0);
	ck_assert_int_eq(lc.state.intent[0], '\0');
	ck_assert_int_eq(lc.state.intent[INTENT_RECORD_AT], '\0');
	ck_assert_uint_eq(lc.state.intent_seq, 1);
	create("two", PROTO_LIFETIME_PERSISTENT);
	ck_assert_uint_eq(lc.state.records, records + 2);
	ck_assert_uint_eq(lc.state.intent_seq, 2);
	assert_agree();
	/* a Create before the loop turns: the one before goes first */
	create_unflushed("three", PROTO_LIFETIME_PERSISTENT);
	create_unflushed("four", PROTO_LIFETIME_PERSISTENT);
	ck_assert_uint_eq(lc.state.records, records + 3);
	assert_agree();
	ck_assert_int_ge(event_base_loop(base, EVLOOP_NONBLOCK), 0);
	ck_assert_uint_eq(lc.state.records, records + 4);
	assert_agree();
}
END_TEST

/*
 * Where the state directory is not tmpfs, a Create is announced in the
 * log: pending, then create; one that made nothing, pending then
 * aborted.
 */
START_TEST(test_announced_in_the_log)
{
	uint64_t	records;
	int		taken;

	lc.state.intent_log = 1;
	intent_unmap(lc.state.intent);
	lc.state.intent = NULL;
	records = lc.state.records;
	create("logged", PROTO_LIFETIME_PERSISTENT);
	ck_assert_uint_eq(lc.state.records, records + 2);
	assert_agree();
	ck_assert_int_eq(create_on_taken(0x7e5f0001, &taken), -1);
	ck_assert_uint_eq(lc.state.records, records + 4);
	assert_agree();	/* no pending Create is left */
	shmctl(taken, IPC_RMID, NULL);
}
END_TEST

/*
 * The log refuses a Create's record after its answer (ENOSPC, through
 * /dev/full): the page keeps it, said once; the next change first
 * writes the log whole, which takes it, and goes on.
 */
START_TEST(test_record_outlives_a_refused_log)
{
	int	full;

	full = open("/dev/full", O_WRONLY | O_CLOEXEC);
	ck_assert_int_ge(full, 0);
	close(lc.state.fd);
	lc.state.fd = full;
	create("kept", PROTO_LIFETIME_PERSISTENT);
	ck_assert_int_eq(lc.state.fd, -1);
	ck_assert_int_eq(lc.state.deferred, 1);
	ck_assert_int_eq(lc.unrecorded, 1);
	ck_assert_int_ne(lc.state.intent[INTENT_RECORD_AT], '\0');
	assert_agree();
	/* the log written whole again first: it takes the record */
	create("next", PROTO_LIFETIME_PERSISTENT);
	ck_assert_int_eq(lc.unrecorded, 0);
	ck_assert_int_eq(lc.state.deferred, 0);
	ck_assert_int_eq(lc.state.intent[INTENT_RECORD_AT], '\0');
	assert_agree();
}
END_TEST

START_TEST(test_failed_create_leaves_nothing)
{
	uint64_t	records = lc.state.records;
	int		taken;

	ck_assert_int_eq(create_on_taken(0x7e5f0000, &taken), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_uint_eq(lc.registry.count, 0);
	assert_agree();	/* and no pending Create is left */
	/* nothing written, and the announcement settled */
	ck_assert_uint_eq(lc.state.records, records);
	ck_assert_int_eq(lc.state.intent[0], '\0');
	ck_assert_str_eq(events, "");
	shmctl(taken, IPC_RMID, NULL);
}
END_TEST

START_TEST(test_compaction_follows_no_symlink)
{
	char	victim[128], link[128], buf[16];
	int	fd;

	snprintf(victim, sizeof victim, "%s.victim", dir);
	fd = open(victim, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "precious", 8), 8);
	close(fd);
	snprintf(link, sizeof link, "%s/%s.new", dir, STATE_FILE);
	ck_assert_int_eq(symlink(victim, link), 0);
	ck_assert_int_eq(state_compact(&lc.state, &lc.registry), 0);
	fd = open(victim, O_RDONLY);
	ck_assert_int_eq(read(fd, buf, sizeof buf), 8);
	close(fd);
	ck_assert_int_eq(memcmp(buf, "precious", 8), 0);
	unlink(victim);
	assert_agree();
}
END_TEST

/*
 * The intent page is opened in place, not created exclusively: a
 * symlink there is refused (the state is not ready, changes are refused
 * with the file named), never followed; once it is gone, the page is
 * made and changes go on, without a restart.
 */
START_TEST(test_intent_follows_no_symlink)
{
	struct state	st;
	struct registry	reg;
	char		sub[160], victim[160], link[200], why[256], buf[16];
	int		fd;

	snprintf(sub, sizeof sub, "%s/sub", dir);
	snprintf(victim, sizeof victim, "%s/victim", dir);
	snprintf(link, sizeof link, "%s/segments.intent", sub);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	fd = open(victim, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "precious", 8), 8);
	close(fd);
	ck_assert_int_eq(symlink(victim, link), 0);
	registry_init(&reg);
	setenv("SHMD_TEST_INTENT", "page", 1);
	state_init(&st, getpid(), geteuid(), 0);
	unsetenv("SHMD_TEST_INTENT");
	ck_assert_int_eq(state_open(&st, sub, why, sizeof why), 0);
	ck_assert_ptr_null(st.intent);
	ck_assert_int_eq(state_ready(&st, &reg), -1);
	ck_assert_str_eq(st.failed, "segments.intent");
	fd = open(victim, O_RDONLY);
	ck_assert_int_eq(read(fd, buf, sizeof buf), 8);
	close(fd);
	ck_assert_int_eq(memcmp(buf, "precious", 8), 0);
	ck_assert_int_eq(unlink(link), 0);
	ck_assert_int_eq(state_ready(&st, &reg), 0);
	ck_assert_ptr_nonnull(st.intent);
	state_close(&st);
	registry_finish(&reg);
}
END_TEST

static ino_t
log_inode(void)
{
	char		path[128];
	struct stat	sb;

	snprintf(path, sizeof path, "%s/%s", dir, STATE_FILE);
	ck_assert_int_eq(stat(path, &sb), 0);
	return sb.st_ino;
}

/* A new run of the same state: loaded, and resumed with gone found gone. */
static void
next_run(size_t gone)
{
	struct state		st;
	struct state_loaded	l;
	char			why[256];

	state_init(&st, getpid(), geteuid(), 0);
	ck_assert_int_eq(state_open(&st, dir, why, sizeof why), 0);
	ck_assert_int_eq(state_load(&st, &l), 0);
	ck_assert_ptr_nonnull(l.segments);
	ck_assert_int_eq(state_resume(&st, &l, l.segments, gone), 0);
	state_loaded_free(&l);
	state_close(&st);
}

/* A log that still says what is true goes on; one that does not is new. */
START_TEST(test_resume)
{
	char	path[128];
	ino_t	ino;
	int	fd;

	create("r1", PROTO_LIFETIME_PERSISTENT);
	create("r2", PROTO_LIFETIME_PERSISTENT);
	ino = log_inode();
	next_run(0);
	ck_assert_msg(log_inode() == ino, "a compact log was rewritten");
	assert_agree();
	/* a record cut short by a crash: the next goes on a line of its own */
	snprintf(path, sizeof path, "%s/%s", dir, STATE_FILE);
	fd = open(path, O_WRONLY | O_APPEND);
	ck_assert_int_eq(write(fd, "{\"op\":\"cre", 11), 11);
	close(fd);
	next_run(0);
	ck_assert(log_inode() == ino);
	assert_agree();
	/* something was found gone: the log is written anew */
	next_run(1);
	ck_assert(log_inode() != ino);
	assert_agree();
}
END_TEST

/* state_open's refusal of dir, with a reason containing what. */
static void
refused(const char *path, const char *what)
{
	struct state	st;
	char		why[256];

	state_init(&st, getpid(), geteuid(), 0);
	ck_assert_int_eq(state_open(&st, path, why, sizeof why), -1);
	ck_assert_msg(strstr(why, what) != NULL, "'%s' lacks '%s'", why, what);
}

START_TEST(test_state_dir_rules)
{
	char	path[128], link[128];
	int	fd;

	snprintf(path, sizeof path, "%s/d", dir);
	/* a missing one is made, 0700 */
	{
		struct state	st;
		struct stat	sb;
		char		why[256];

		state_init(&st, getpid(), geteuid(), 0);
		ck_assert_int_eq(state_open(&st, path, why, sizeof why), 0);
		state_close(&st);
		ck_assert_int_eq(stat(path, &sb), 0);
		ck_assert_uint_eq(sb.st_mode & 0777, 0700);
	}
	snprintf(link, sizeof link, "%s/link", dir);
	ck_assert_int_eq(symlink(path, link), 0);
	refused(link, "symlink");
	ck_assert_int_eq(chmod(path, 0770), 0);
	refused(path, "writable by group or others");
	ck_assert_int_eq(chmod(path, 0703), 0);
	refused(path, "writable by group or others");
	ck_assert_int_eq(chmod(path, 0755), 0);
	snprintf(link, sizeof link, "%s/file", dir);
	fd = open(link, O_WRONLY | O_CREAT, 0600);
	close(fd);
	refused(link, "not a directory");
	if (geteuid() == 0) {
		ck_assert_int_eq(chown(path, 65534, 65534), 0);
		refused(path, "owned by uid 65534");
	}
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("lifecycle");
	TCase	*tc = tcase_create("transitions");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_log_agrees_at_every_step, 0, 8);
	tcase_add_test(tc, test_one_record_a_create);
	tcase_add_test(tc, test_announced_in_the_log);
	tcase_add_test(tc, test_record_outlives_a_refused_log);
	tcase_add_test(tc, test_failed_create_leaves_nothing);
	tcase_add_test(tc, test_compaction_follows_no_symlink);
	tcase_add_test(tc, test_intent_follows_no_symlink);
	tcase_add_test(tc, test_state_dir_rules);
	tcase_add_test(tc, test_resume);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
