/* Unit tests: the state log's format (daemon/lifecycle/state.c) and process start times. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kshm.h"
#include "procwatch.h"
#include "registry.h"
#include "procstat.h"
#include "segment.h"
#include "intent.h"
#include "state.h"
#include "testutil.h"

#define BOOT "11111111-2222-3333-4444-555555555555"
#define HEADER "{\"shmd_state\":1,\"boot_id\":\"" BOOT "\"}\n"
#define SEG(name, shmid) "{\"op\":\"create\",\"name\":\"" name "\",\"shmid\":" \
	#shmid ",\"key\":7,\"size\":4096,\"lifetime\":\"process\"," \
	"\"attach_timeout\":60,\"uid\":1000,\"gid\":100,\"mode\":416," \
	"\"creator_uid\":1000,\"creator_pid\":42,\"creator_start\":99," \
	"\"created_usec\":5,\"kernel_cpid\":7,\"kernel_ctime\":8}\n"

#define PENDING \
	"{\"op\":\"pending\",\"pid\":7,\"uid\":0,\"size\":4096," \
	"\"key_base\":1936195584,\"key_count\":16,\"usec\":1000000}\n"

START_TEST(test_parse_log)
{
	struct state_loaded	 l;
	struct segment		*s;

	ck_assert_int_eq(state_parse(HEADER
	    "{\"op\":\"run\",\"pid\":7,\"uid\":0,\"start_usec\":1}\n"
	    SEG("a", 1) SEG("b", 2) SEG("c", 3)
	    "{\"op\":\"destroy\",\"name\":\"b\"}\n"
	    "{\"op\":\"run\",\"pid\":9,\"uid\":5,\"start_usec\":2}\n"
	    PENDING SEG("b", 4)
	    "{\"op\":\"cre", BOOT, &l), 0);
	ck_assert_uint_eq(l.segments->count, 3);
	ck_assert_uint_eq(l.run_uid, 5);
	/* the pending Create was recorded: nothing is left pending */
	ck_assert_uint_eq(l.npending, 0);
	ck_assert_uint_eq(l.damaged, 0);
	s = registry_find_by_name(l.segments, "b");
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(s->shmid, 4);
	s = registry_find_by_name(l.segments, "a");
	ck_assert_int_eq(s->key, 7);
	ck_assert_uint_eq(s->size, 4096);
	ck_assert_int_eq(s->lifetime, PROTO_LIFETIME_PROCESS);
	ck_assert_uint_eq(s->uid, 1000);
	ck_assert_uint_eq(s->gid, 100);
	ck_assert_uint_eq(s->mode, 0640);
	ck_assert_int_eq(s->creator_pid, 42);
	ck_assert_uint_eq(s->creator_start, 99);
	/* older records: the daemon's uid from the run record before them */
	ck_assert_uint_eq(s->kernel_cuid, 0);
	ck_assert_uint_eq(registry_find_by_name(l.segments, "b")->kernel_cuid,
	    5);
	ck_assert_int_eq(s->rmid_marked, 0);
	/* records older than memory policies: none */
	ck_assert_uint_eq(s->policy.page_size, 0);
	ck_assert_int_eq(s->policy.locked, 0);
	ck_assert_int_eq(s->policy.numa_node, -1);
	ck_assert_int_eq(s->declared, 0);
	ck_assert_int_eq(s->self_atime, 0);
	state_loaded_free(&l);
}
END_TEST

/* A keyless Create's announcement, as the page tests make it. */
static const struct state_pending announced_keyless = { .pid = 4242,
    .pidns = 99, .uid = 0, .gid = 3, .size = 8192, .any_key = 1,
    .key_base = 0x73000000, .key_count = 16, .usec = 1000001 };

/*
 * A state test's start: dir made, reg empty, st open on dir, Creates
 * announced in the page (as on tmpfs) until SHMD_TEST_INTENT is unset.
 */
static void
state_test_begin(struct state *st, struct registry *reg, char *dir)
{
	char	why[128];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	registry_init(reg);
	setenv("SHMD_TEST_INTENT", "page", 1);
	state_init(st, 4242, 0, 77);
	ck_assert_int_eq(state_open(st, dir, why, sizeof why), 0);
}

/* A state test's end: its state closed, its registry, seg and dir gone. */
static void
state_test_end(struct state *st, struct registry *reg, struct segment *seg,
    const char *dir)
{
	char	cmd[96];

	state_close(st);
	registry_finish(reg);
	segment_destroy(seg);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* A segment with every field set apart from the others. */
static struct segment *
record_segment(const char *name, int shmid)
{
	struct segment	*seg = segment_create(name);

	ck_assert_ptr_nonnull(seg);
	seg->shmid = shmid;
	seg->key = -5;
	seg->size = (uint64_t)1 << 33;
	seg->lifetime = PROTO_LIFETIME_PROCESS;
	seg->attach_timeout = 61;
	seg->uid = 1001;
	seg->gid = 101;
	seg->mode = 0640;
	seg->creator_uid = 1002;
	seg->creator_pid = 4343;
	seg->creator_start = 0;
	seg->creator_ino = (uint64_t)1 << 40;
	seg->created_usec = 1796000000000001;
	seg->created_boot = 123456789;
	seg->kernel_cuid = 4242;
	seg->creator_pidns = (uint64_t)1 << 32;
	seg->rmid_marked = 1;
	return seg;
}

/* Every field a create record holds, read back as written. */
static void
assert_same_record(const struct segment *got, const struct segment *want)
{
	ck_assert_str_eq(got->name, want->name);
	ck_assert_int_eq(got->shmid, want->shmid);
	ck_assert_int_eq(got->key, want->key);
	ck_assert_uint_eq(got->size, want->size);
	ck_assert_int_eq(got->lifetime, want->lifetime);
	ck_assert_uint_eq(got->attach_timeout, want->attach_timeout);
	ck_assert_uint_eq(got->uid, want->uid);
	ck_assert_uint_eq(got->gid, want->gid);
	ck_assert_uint_eq(got->mode, want->mode);
	ck_assert_uint_eq(got->creator_uid, want->creator_uid);
	ck_assert_int_eq(got->creator_pid, want->creator_pid);
	ck_assert_uint_eq(got->creator_start, want->creator_start);
	ck_assert_uint_eq(got->creator_ino, want->creator_ino);
	ck_assert_int_eq(got->created_usec, want->created_usec);
	ck_assert_int_eq(got->created_boot, want->created_boot);
	ck_assert_uint_eq(got->kernel_cuid, want->kernel_cuid);
	ck_assert_uint_eq(got->creator_pidns, want->creator_pidns);
	ck_assert_int_eq(got->rmid_marked, want->rmid_marked);
	ck_assert_uint_eq(got->policy.page_size, want->policy.page_size);
	ck_assert_int_eq(got->policy.locked, want->policy.locked);
	ck_assert_int_eq(got->policy.numa_node, want->policy.numa_node);
	ck_assert_int_eq(got->declared, want->declared);
	ck_assert_int_eq(got->self_atime, want->self_atime);
	ck_assert_int_eq(got->self_dtime, want->self_dtime);
	ck_assert_int_eq(got->self_lpid, want->self_lpid);
}

/*
 * What shmd writes (records written as text, textbuf.h) reads back as it
 * was: the snapshot, every kind of record, and the fields' extremes (a
 * name of every character a name may hold, a negative key, 64-bit
 * sizes and inodes).
 */
START_TEST(test_records_read_back)
{
	const char		*odd = "a.Z_9-:@/x";
	struct state		 st;
	struct state_loaded	 l;
	struct state_pending	 p = { .pid = 4242, .pidns = 99, .uid = 0,
				    .gid = 3, .size = 8192, .any_key = 0,
				    .usec = 1000001, .setup = 1 };
	struct state_orphan	 o = { 77, 0x1234, 0, 4096 };
	struct registry		 reg;
	struct segment		*a, *b, *s;
	char			 dir[] = "/tmp/check-state-XXXXXX", why[128];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	registry_init(&reg);
	a = record_segment(odd, 11);
	ck_assert_int_eq(registry_add(&reg, a), 0);
	/* announced in the page (as on tmpfs, where shmd is deployed) */
	setenv("SHMD_TEST_INTENT", "page", 1);
	state_init(&st, 4242, 0, 77);
	unsetenv("SHMD_TEST_INTENT");
	ck_assert_int_eq(state_open(&st, dir, why, sizeof why), 0);
	/* the snapshot (header, run, segments), then appended records */
	ck_assert_int_eq(state_compact(&st, &reg), 0);
	b = record_segment("b", 12);
	/* a memory policy, declared, and the daemon's own attach */
	b->policy.page_size = (uint64_t)1 << 30;
	b->policy.locked = 1;
	b->policy.numa_node = 3;
	b->declared = 1;
	b->self_atime = 1796000000;
	b->self_dtime = 1796000001;
	b->self_lpid = 77;
	ck_assert_int_eq(state_record_create(&st, b), 0);
	ck_assert_int_eq(state_record_mark(&st, b), 0);
	ck_assert_int_eq(state_record_destroy(&st, a), 0);
	/*
	 * A Create announced, one that sets a memory policy up (state.h): in
	 * the intent page, not in the log
	 */
	ck_assert_int_eq(state_announce(&st, &p), 0);
	ck_assert_int_eq(state_orphan_add(&st, &o), 0);
	ck_assert_int_eq(state_load(&st, &l), 0);
	ck_assert_uint_eq(l.records, 7);
	ck_assert_uint_eq(l.damaged, 0);
	ck_assert_uint_eq(l.segments->count, 1);
	ck_assert_ptr_null(registry_find_by_name(l.segments, odd));
	ck_assert_ptr_nonnull(s = registry_find_by_name(l.segments, "b"));
	assert_same_record(s, b);
	/*
	 * The last Create was announced and never recorded; the run record
	 * (its pid, pid namespace and ids) reads back too.
	 */
	ck_assert_uint_eq(l.last_intent, 0);
	ck_assert_uint_eq(l.npending, 1);
	ck_assert_int_eq(l.pending[0].pid, 4242);
	ck_assert_uint_eq(l.pending[0].pidns, 99);
	ck_assert_uint_eq(l.pending[0].gid, 3);
	ck_assert_uint_eq(l.pending[0].size, 8192);
	ck_assert_int_eq(l.pending[0].any_key, 0);
	ck_assert_int_eq(l.pending[0].usec, 1000001);
	ck_assert_int_eq(l.pending[0].setup, 1);
	ck_assert_int_eq(l.has_run, 1);
	ck_assert_int_eq(l.run.run, 1);
	ck_assert_int_eq(l.run.pid, 4242);
	ck_assert_uint_eq(l.run.pidns, state_pidns());
	ck_assert_uint_eq(l.run.uid, kshm_cuid());
	ck_assert_uint_eq(l.run.gid, kshm_cgid());
	ck_assert_int_eq(l.run.usec, 77);
	/*
	 * The segment whose end was recorded (it may still be in the kernel,
	 * to remove at start), then the orphan.
	 */
	ck_assert_uint_eq(l.norphans, 2);
	ck_assert_int_eq(l.orphans[0].shmid, 11);
	ck_assert_int_eq(l.orphans[0].key, -5);
	ck_assert_uint_eq(l.orphans[0].cuid, 4242);
	ck_assert_int_eq(l.orphans[1].shmid, 77);
	ck_assert_int_eq(l.orphans[1].key, 0x1234);
	ck_assert_uint_eq(l.orphans[1].size, 4096);
	state_loaded_free(&l);
	/* the snapshot alone, read back: the odd name as it was; orphans */
	a->rmid_marked = 0;
	ck_assert_int_eq(state_compact(&st, &reg), 0);
	ck_assert_int_eq(state_load(&st, &l), 0);
	ck_assert_ptr_nonnull(s = registry_find_by_name(l.segments, odd));
	assert_same_record(s, a);
	ck_assert_uint_eq(l.norphans, 1);
	state_loaded_free(&l);
	state_orphan_removed(&st, 0);
	ck_assert_int_eq(state_compact(&st, &reg), 0);
	ck_assert_int_eq(state_load(&st, &l), 0);
	ck_assert_uint_eq(l.norphans, 0);
	state_loaded_free(&l);
	state_test_end(&st, &reg, b, dir);
}
END_TEST

/* The intent page's text (its announcement), as the next start reads it. */
static char *
intent_file_text(const char *dir)
{
	char	path[256];

	snprintf(path, sizeof path, "%s/segments.intent", dir);
	return read_file(path);
}

/*
 * A Create is announced in the intent page, not in the log (state.h),
 * and its record is stored beside the announcement, for the log to take
 * after the answer: no write(2) before it. A restart before the log took
 * it reads the record from the page; once the log holds it, its number
 * answers the announcement, even when a crash came between that write
 * and the page's emptying; one never answered reads back as a Create cut
 * short; an empty page, a torn one or another boot's says nothing. The
 * numbers go on past a restart.
 */
START_TEST(test_intent_page)
{
	struct state		 st;
	struct state_loaded	 l;
	const struct state_pending p = announced_keyless;
	struct registry		 reg;
	struct segment		*a, *s;
	char			 dir[] = "/tmp/check-state-XXXXXX", why[128],
				 saved[4096], *text, *other;
	uint64_t		 records;

	state_test_begin(&st, &reg, dir);
	ck_assert_ptr_nonnull(st.intent);
	ck_assert_int_eq(state_compact(&st, &reg), 0);
	records = st.records;

	/* announced: the page says so, the log has not grown */
	ck_assert_int_eq(state_announce(&st, &p), 0);
	ck_assert_uint_eq(st.records, records);
	ck_assert_ptr_nonnull(text = intent_file_text(dir));
	ck_assert_ptr_nonnull(strstr(text, "\"op\":\"pending\",\"seq\":1,"));
	ck_assert_ptr_nonnull(strstr(text, "\"key_base\":1929379840"));
	free(text);
	ck_assert_int_eq(state_load(&st, &l), 0);
	ck_assert_uint_eq(l.npending, 1);
	ck_assert_int_eq(l.pending[0].pid, 4242);
	ck_assert_int_eq(l.pending[0].any_key, 1);
	ck_assert_uint_eq(l.pending[0].key_count, 16);
	ck_assert_uint_eq(l.pending[0].size, 8192);
	state_loaded_free(&l);

	/* recorded in the page, beside its announcement: no write yet */
	a = record_segment("a", 5);
	ck_assert_int_eq(state_record_create(&st, a), 0);
	ck_assert_uint_eq(st.records, records);
	ck_assert_int_eq(st.deferred, 1);
	ck_assert_int_ne(st.intent[0], '\0');
	ck_assert_ptr_nonnull(strstr(st.intent + INTENT_RECORD_AT,
	    "\"intent\":1}"));
	/* a crash now: the next start reads it from the page */
	ck_assert_int_eq(state_load(&st, &l), 0);
	ck_assert_uint_eq(l.npending, 0);
	ck_assert_int_eq(l.page_record, 1);
	ck_assert_ptr_nonnull(s = registry_find_by_name(l.segments, "a"));
	assert_same_record(s, a);
	state_loaded_free(&l);
	/* only beside its announcement: a torn one leaves it unread */
	memcpy(saved, st.intent, sizeof saved);
	st.intent[0] = '\0';
	ck_assert_int_eq(state_load(&st, &l), 0);
	ck_assert_int_eq(l.page_record, 0);
	ck_assert_ptr_null(l.segments == NULL ? NULL :
	    registry_find_by_name(l.segments, "a"));
	state_loaded_free(&l);
	/* one it cannot read leaves the announcement a Create cut short */
	memcpy(st.intent, saved, sizeof saved);
	strcpy(st.intent + INTENT_RECORD_AT, "{\"op\":\"create\",\"intent\":1}");
	ck_assert_int_eq(state_load(&st, &l), 0);
	ck_assert_int_eq(l.page_record, 0);
	ck_assert_uint_eq(l.npending, 1);
	state_loaded_free(&l);
	memcpy(st.intent, saved, sizeof saved);
	/* the log takes it after the answer: one record, the page empty */
	ck_assert_int_eq(state_flush(&st), 0);
	ck_assert_int_eq(st.deferred, 0);
	ck_assert_uint_eq(st.records, records + 1);
	ck_assert_int_eq(st.intent[0], '\0');
	ck_assert_int_eq(st.intent[INTENT_RECORD_AT], '\0');
	ck_assert_int_eq(state_load(&st, &l), 0);
	ck_assert_uint_eq(l.npending, 0);
	ck_assert_int_eq(l.page_record, 0);
	ck_assert_uint_eq(l.last_intent, 1);
	state_loaded_free(&l);

	/* a crash after the log took it, before the page was emptied */
	ck_assert_int_eq(state_announce(&st, &p), 0);
	ck_assert_int_eq(state_record_create(&st, a), 0);
	memcpy(saved, st.intent, sizeof saved);
	ck_assert_int_eq(state_flush(&st), 0);
	memcpy(st.intent, saved, sizeof saved);
	ck_assert_int_eq(state_load(&st, &l), 0);
	ck_assert_uint_eq(l.npending, 0);
	ck_assert_int_eq(l.page_record, 0);
	ck_assert_uint_eq(l.last_intent, 2);
	state_loaded_free(&l);
	st.intent[0] = st.intent[INTENT_RECORD_AT] = '\0';

	/* settled (it made nothing): nothing to look for */
	ck_assert_int_eq(state_announce(&st, &p), 0);
	state_settle(&st);
	ck_assert_int_eq(state_load(&st, &l), 0);
	ck_assert_uint_eq(l.npending, 0);
	state_loaded_free(&l);

	/* torn: a crash part way through a store leaves the page empty */
	ck_assert_int_eq(state_announce(&st, &p), 0);
	st.intent[0] = '\0';
	ck_assert_int_eq(state_load(&st, &l), 0);
	ck_assert_uint_eq(l.npending, 0);
	state_loaded_free(&l);

	/* another boot's announcement says nothing of this one's segments */
	ck_assert_int_eq(state_announce(&st, &p), 0);
	ck_assert_ptr_nonnull(other = strstr(st.intent, state_boot_id()));
	other[0] = other[0] == '0' ? '1' : '0';
	ck_assert_int_eq(state_load(&st, &l), 0);
	ck_assert_uint_eq(l.npending, 0);
	state_loaded_free(&l);

	/*
	 * A restart: the numbers go on past the page's and the log's (a
	 * number the log holds never answers a later announcement).
	 */
	ck_assert_int_eq(state_announce(&st, &p), 0);
	ck_assert_uint_eq(st.intent_seq, 6);
	state_close(&st);
	state_init(&st, 4243, 0, 78);
	ck_assert_int_eq(state_open(&st, dir, why, sizeof why), 0);
	ck_assert_int_eq(state_load(&st, &l), 0);
	ck_assert_uint_eq(l.npending, 1);
	ck_assert_uint_eq(st.intent_seq, 6);
	ck_assert_int_eq(state_resume(&st, &l, &reg, 0), 0);
	state_loaded_free(&l);
	/* recovery answered it: the page is emptied at start */
	ck_assert_int_eq(st.intent[0], '\0');
	ck_assert_int_eq(state_announce(&st, &p), 0);
	ck_assert_uint_eq(st.intent_seq, 7);
	unsetenv("SHMD_TEST_INTENT");
	state_test_end(&st, &reg, a, dir);
}
END_TEST

/*
 * The log refuses the record the page holds (ENOSPC, through
 * /dev/full): the page keeps it, for a restart to read; the next
 * announcement is refused rather than store over it; and the rewrite of
 * the log that state_ready() makes next takes it, then empties the page.
 */
START_TEST(test_page_record_outlives_a_failed_write)
{
	struct state		 st;
	struct state_loaded	 l;
	const struct state_pending p = announced_keyless;
	struct registry		 reg;
	struct segment		*a, *s;
	char			 dir[] = "/tmp/check-state-XXXXXX";
	int			 full;

	state_test_begin(&st, &reg, dir);
	ck_assert_int_eq(state_compact(&st, &reg), 0);
	ck_assert_int_eq(state_announce(&st, &p), 0);
	a = record_segment("a", 5);
	ck_assert_int_eq(state_record_create(&st, a), 0);
	ck_assert_int_eq(st.deferred, 1);
	ck_assert_int_ge(full = open("/dev/full", O_WRONLY | O_CLOEXEC), 0);
	ck_assert_int_eq(dup2(full, st.fd), st.fd);
	close(full);
	ck_assert_int_eq(state_flush(&st), -1);
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert_int_eq(st.deferred, 1);
	ck_assert_int_eq(st.fd, -1);
	ck_assert_int_eq(state_load(&st, &l), 0);
	ck_assert_int_eq(l.page_record, 1);
	ck_assert_ptr_nonnull(s = registry_find_by_name(l.segments, "a"));
	assert_same_record(s, a);
	state_loaded_free(&l);
	/* nothing is stored over it */
	ck_assert_int_eq(state_announce(&st, &p), -1);
	ck_assert_int_eq(st.deferred, 1);
	/* the rewrite takes it (the registry holds it by then) */
	ck_assert_int_eq(registry_add(&reg, a), 0);
	ck_assert_int_eq(state_ready(&st, &reg), 0);
	ck_assert_int_eq(st.deferred, 0);
	ck_assert_int_eq(st.intent[0], '\0');
	ck_assert_int_eq(st.intent[INTENT_RECORD_AT], '\0');
	ck_assert_int_eq(state_load(&st, &l), 0);
	ck_assert_int_eq(l.page_record, 0);
	ck_assert_ptr_nonnull(s = registry_find_by_name(l.segments, "a"));
	assert_same_record(s, a);
	state_loaded_free(&l);
	registry_remove(&reg, a);
	unsetenv("SHMD_TEST_INTENT");
	state_test_end(&st, &reg, a, dir);
}
END_TEST

/*
 * Where the state directory is not tmpfs or ramfs (a store in the page
 * could fault there), a Create is announced in the log as a pending
 * record, answered by its create record or an aborted one; the page a
 * run on tmpfs left there is read all the same, and removed once
 * answered.
 */
START_TEST(test_intent_in_log)
{
	struct state		 st;
	struct state_loaded	 l;
	struct state_pending	 p = { .pid = 4242, .pidns = 99, .uid = 0,
				    .gid = 3, .size = 8192, .key = 0x1234,
				    .usec = 1000001 };
	struct registry		 reg;
	struct segment		*a;
	char			 dir[] = "/tmp/check-state-XXXXXX", why[128],
				 page[256];
	uint64_t		 records;

	/* what a run announcing in the page left, killed mid-Create */
	state_test_begin(&st, &reg, dir);
	ck_assert_int_eq(state_compact(&st, &reg), 0);
	ck_assert_int_eq(state_announce(&st, &p), 0);
	state_close(&st);

	setenv("SHMD_TEST_INTENT", "log", 1);
	state_init(&st, 4243, 0, 78);
	unsetenv("SHMD_TEST_INTENT");
	ck_assert_int_eq(state_open(&st, dir, why, sizeof why), 0);
	ck_assert_int_eq(st.intent_log, 1);
	ck_assert_ptr_null(st.intent);
	ck_assert_int_eq(state_load(&st, &l), 0);
	ck_assert_uint_eq(l.npending, 1);
	ck_assert_int_eq(l.pending[0].key, 0x1234);
	ck_assert_int_eq(state_resume(&st, &l, &reg, 0), 0);
	state_loaded_free(&l);
	/* answered: the page is gone */
	snprintf(page, sizeof page, "%s/segments.intent", dir);
	ck_assert_int_eq(access(page, F_OK), -1);

	/* announced: a pending record; recorded: a create record */
	records = st.records;
	ck_assert_int_eq(state_announce(&st, &p), 0);
	ck_assert_uint_eq(st.records, records + 1);
	ck_assert_int_eq(state_load(&st, &l), 0);
	ck_assert_uint_eq(l.npending, 1);
	state_loaded_free(&l);
	a = record_segment("a", 5);
	ck_assert_int_eq(state_record_create(&st, a), 0);
	ck_assert_uint_eq(st.records, records + 2);
	ck_assert_int_eq(state_load(&st, &l), 0);
	ck_assert_uint_eq(l.npending, 0);
	state_loaded_free(&l);
	/* one that made nothing: an aborted record answers it */
	ck_assert_int_eq(state_announce(&st, &p), 0);
	state_settle(&st);
	ck_assert_uint_eq(st.records, records + 4);
	ck_assert_int_eq(state_load(&st, &l), 0);
	ck_assert_uint_eq(l.npending, 0);
	state_loaded_free(&l);
	/* no page was made */
	ck_assert_int_eq(access(page, F_OK), -1);
	/* a page that is not a file is not read (nor waited on) */
	ck_assert_int_eq(mkfifo(page, 0600), 0);
	ck_assert_int_eq(state_load(&st, &l), 0);
	ck_assert_uint_eq(l.npending, 0);
	state_loaded_free(&l);
	state_test_end(&st, &reg, a, dir);
}
END_TEST

/*
 * The last run record, when it says who made what (since issue 31), is
 * what a Create cut short before its record is checked against; an
 * older one proves nothing (its daemon announced its Creates).
 */
START_TEST(test_parse_run)
{
	struct state_loaded	l;

	ck_assert_int_eq(state_parse(HEADER
	    "{\"op\":\"run\",\"pid\":7,\"uid\":0,\"start_usec\":1,"
	    "\"pidns\":5,\"cuid\":0,\"cgid\":0}\n" SEG("a", 1)
	    "{\"op\":\"run\",\"pid\":9,\"uid\":5,\"start_usec\":2,"
	    "\"pidns\":6,\"cuid\":5,\"cgid\":8}\n" SEG("b", 2)
	    "{\"op\":\"cre", BOOT, &l), 0);
	ck_assert_int_eq(l.has_run, 1);
	ck_assert_int_eq(l.run.run, 1);
	ck_assert_int_eq(l.run.pid, 9);
	ck_assert_uint_eq(l.run.pidns, 6);
	ck_assert_uint_eq(l.run.uid, 5);
	ck_assert_uint_eq(l.run.gid, 8);
	ck_assert_int_eq(l.run.usec, 2);
	ck_assert_uint_eq(l.npending, 0);
	state_loaded_free(&l);
	/* an older run record last: nothing to prove with */
	ck_assert_int_eq(state_parse(HEADER
	    "{\"op\":\"run\",\"pid\":7,\"uid\":0,\"start_usec\":1,"
	    "\"pidns\":5,\"cuid\":0,\"cgid\":0}\n"
	    "{\"op\":\"run\",\"pid\":9,\"uid\":5,\"start_usec\":2}\n",
	    BOOT, &l), 0);
	ck_assert_int_eq(l.has_run, 0);
	state_loaded_free(&l);
}
END_TEST

/* A Create announced and never recorded (older logs): recovery may look for it. */
START_TEST(test_parse_pending)
{
	struct state_loaded	l;

	/* announced last, then a torn record: still pending */
	ck_assert_int_eq(state_parse(HEADER SEG("a", 1) PENDING
	    "{\"op\":\"cre", BOOT, &l), 0);
	ck_assert_uint_eq(l.npending, 1);
	ck_assert_int_eq(l.pending[0].pid, 7);
	ck_assert_uint_eq(l.pending[0].uid, 0);
	ck_assert_uint_eq(l.pending[0].size, 4096);
	ck_assert_int_eq(l.pending[0].any_key, 1);
	ck_assert_uint_eq(l.pending[0].key_base, 0x73680000);
	ck_assert_uint_eq(l.pending[0].key_count, 16);
	ck_assert_int_eq(l.pending[0].usec, 1000000);
	/* what an older record does not say proves nothing */
	ck_assert_uint_eq(l.pending[0].gid, (gid_t)-1);
	ck_assert_int_eq(l.pending[0].setup, 0);
	state_loaded_free(&l);
	/* an exact key */
	ck_assert_int_eq(state_parse(HEADER "{\"op\":\"pending\",\"pid\":7,"
	    "\"uid\":0,\"size\":64,\"key\":0,\"usec\":1}\n", BOOT, &l), 0);
	ck_assert_uint_eq(l.npending, 1);
	ck_assert_int_eq(l.pending[0].any_key, 0);
	ck_assert_int_eq(l.pending[0].key, 0);
	state_loaded_free(&l);
	/* shmget failed: aborted */
	ck_assert_int_eq(state_parse(HEADER PENDING
	    "{\"op\":\"aborted\"}\n", BOOT, &l), 0);
	ck_assert_uint_eq(l.npending, 0);
	state_loaded_free(&l);
	/*
	 * Only its own create or aborted record ends it: a create record
	 * that was refused (ENOSPC) leaves it pending, whatever follows.
	 */
	ck_assert_int_eq(state_parse(HEADER SEG("a", 1) PENDING
	    "{\"op\":\"destroy\",\"name\":\"a\"}\n" PENDING SEG("b", 2),
	    BOOT, &l), 0);
	ck_assert_uint_eq(l.npending, 1);
	ck_assert_uint_eq(l.segments->count, 1);
	state_loaded_free(&l);
	/* a malformed pending record is no pending Create */
	ck_assert_int_eq(state_parse(HEADER "{\"op\":\"pending\",\"pid\":0,"
	    "\"uid\":0,\"size\":64,\"key\":0,\"usec\":1}\n", BOOT, &l), 0);
	ck_assert_uint_eq(l.npending, 0);
	ck_assert_uint_eq(l.damaged, 1);
	state_loaded_free(&l);
	/* shmd's mark, recorded */
	ck_assert_int_eq(state_parse(HEADER SEG("a", 1)
	    "{\"op\":\"mark\",\"name\":\"a\"}\n", BOOT, &l), 0);
	ck_assert_int_eq(registry_find_by_name(l.segments, "a")->rmid_marked,
	    1);
	state_loaded_free(&l);
}
END_TEST

START_TEST(test_parse_rejects)
{
	struct state_loaded	l;

	/* another boot, another format, nothing */
	ck_assert_int_eq(state_parse(HEADER SEG("a", 1), "other-boot", &l), -1);
	ck_assert_int_eq(state_parse("{\"shmd_state\":2,\"boot_id\":\"" BOOT
	    "\"}\n", BOOT, &l), -1);
	ck_assert_int_eq(state_parse("", BOOT, &l), -1);
	/* a bad record is skipped, the rest kept, the damage counted */
	ck_assert_int_eq(state_parse(HEADER
	    "{\"op\":\"create\",\"name\":\"bad name\",\"shmid\":1}\n"
	    "garbage\n" SEG("ok", 2), BOOT, &l), 0);
	ck_assert_uint_eq(l.segments->count, 1);
	ck_assert_ptr_nonnull(registry_find_by_name(l.segments, "ok"));
	ck_assert_uint_eq(l.damaged, 2);
	state_loaded_free(&l);
	/*
	 * A corrupt first line forgets nothing: every readable record is
	 * kept (and checked against the kernel one by one at recovery).
	 */
	ck_assert_int_eq(state_parse("{\"shmd_sta\x01\n" SEG("a", 1)
	    SEG("b", 2), BOOT, &l), 0);
	ck_assert_uint_eq(l.segments->count, 2);
	ck_assert_uint_eq(l.damaged, 1);
	state_loaded_free(&l);
	ck_assert_int_eq(state_parse(SEG("a", 1), BOOT, &l), 0);
	ck_assert_uint_eq(l.segments->count, 1);
	ck_assert_uint_eq(l.damaged, 1);
	state_loaded_free(&l);
}
END_TEST

START_TEST(test_boot_id)
{
	ck_assert_uint_eq(strlen(state_boot_id()), 36);
}
END_TEST

START_TEST(test_start_time)
{
	uint64_t	a, b;
	pid_t		pid;
	siginfo_t	si;

	ck_assert_int_eq(procstat_start(getpid(), &a), 0);
	ck_assert_int_eq(procstat_start(getpid(), &b), 0);
	ck_assert_uint_eq(a, b);
	ck_assert_uint_gt(a, 0);
	/* a zombie has exited: wait for the exit, and leave the zombie */
	pid = fork();
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
	ck_assert_int_eq(procstat_start(pid, &a), -1);
	ck_assert_int_eq(errno, ESRCH);
	waitpid(pid, NULL, 0);
	ck_assert_int_eq(procstat_start(pid, &a), -1);
	ck_assert_int_eq(errno, ESRCH);
}
END_TEST

/* No descriptor to read /proc with says nothing of the process. */
START_TEST(test_start_time_without_descriptors)
{
	struct rlimit	 rl, none;
	uint64_t	 a;
	int		 fd;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	/* below the lowest free descriptor: open(2) fails with EMFILE */
	ck_assert_int_ge(fd = dup(0), 0);
	close(fd);
	none.rlim_cur = (rlim_t)fd;
	none.rlim_max = rl.rlim_max;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &none), 0);
	ck_assert_int_eq(procstat_start(getpid(), &a), -1);
	ck_assert_int_eq(errno, EMFILE);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	ck_assert_int_eq(procstat_start(getpid(), &a), 0);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("state");
	TCase	*tc = tcase_create("state");

	tcase_add_test(tc, test_parse_log);
	tcase_add_test(tc, test_records_read_back);
	tcase_add_test(tc, test_intent_page);
	tcase_add_test(tc, test_page_record_outlives_a_failed_write);
	tcase_add_test(tc, test_intent_in_log);
	tcase_add_test(tc, test_start_time_without_descriptors);
	tcase_add_test(tc, test_parse_run);
	tcase_add_test(tc, test_parse_pending);
	tcase_add_test(tc, test_parse_rejects);
	tcase_add_test(tc, test_boot_id);
	tcase_add_test(tc, test_start_time);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
