/*
 * Integration tests: a segment's memory policy (huge pages, locked in
 * RAM, a NUMA node), as the kernel shows it to an attacher; the per-uid
 * limits on it; and all of it across a SIGKILL restart. Root: the suite
 * reserves huge pages (vm.nr_hugepages) for its tests and gives them
 * back after, whatever became of them.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "testutil.h"

#define NR_HUGEPAGES	"/proc/sys/vm/nr_hugepages"
/* The huge pages this suite reserves, and the size they have. */
#define HUGE_PAGES	4
#define HUGE_2M		(2 * 1024 * 1024)

static struct testd	d;
static long		huge_added;	/* by the fixture, given back after */

/* A number from a file of /proc or /sys; -1 when unreadable. */
static long
read_long(const char *path)
{
	FILE	*f;
	long	 v = -1;

	if ((f = fopen(path, "re")) == NULL)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static int
write_long(const char *path, long v)
{
	FILE	*f;
	int	 rc;

	if ((f = fopen(path, "we")) == NULL)
		return -1;
	rc = fprintf(f, "%ld\n", v) > 0 ? 0 : -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

/* Free 2 MiB huge pages now. */
static long
huge_free(void)
{
	return read_long("/sys/kernel/mm/hugepages/hugepages-2048kB/"
	    "free_hugepages");
}

/*
 * The suite's fixture, run once around its tests in the parent (an
 * unchecked fixture): so the pages go back even when a test fails.
 * Others' pages are left alone: it adds and takes away its own.
 */
static void
huge_reserve(void)
{
	long	now = read_long(NR_HUGEPAGES);

	if (now < 0 || write_long(NR_HUGEPAGES, now + HUGE_PAGES) == -1)
		return;
	huge_added = read_long(NR_HUGEPAGES) - now;
}

static void
huge_release(void)
{
	long	now;

	if (huge_added <= 0)
		return;
	now = read_long(NR_HUGEPAGES);
	if (now >= huge_added)
		write_long(NR_HUGEPAGES, now - huge_added);
	huge_added = 0;
}

static void
start(void)
{
	testd_start(&d, NULL);
}

static void
stop(void)
{
	testd_cleanup(&d);
}

/* Call Create with extra parameters (JSON members, or ""). */
static struct json_object *
create(const char *name, long long size, const char *more)
{
	char			 msg[1024];
	struct json_object	*r;
	int			 fd = raw_connect(d.socket);

	ck_assert_int_ge(fd, 0);
	snprintf(msg, sizeof msg, "{\"method\":\"io.shmd.Create\",\"parameters\":"
	    "{\"name\":\"%s\",\"size\":%lld%s%s}}", name, size,
	    *more != '\0' ? "," : "", more);
	r = raw_call(fd, msg);
	close(fd);
	return r;
}

/* A Segment member of a reply (Create's, Open's). */
static struct json_object *
seg_member(struct json_object *r, const char *key)
{
	struct json_object	*seg = reply_member(r, "segment"), *v = NULL;

	ck_assert_ptr_nonnull(seg);
	json_object_object_get_ex(seg, key, &v);
	return v;
}

/* The same, asserted present and of type t. */
static struct json_object *
seg_typed(struct json_object *r, const char *key, enum json_type t)
{
	struct json_object	*v = seg_member(r, key);

	ck_assert_msg(v != NULL && json_object_is_type(v, t), "no %s %s",
	    json_type_to_name(t), key);
	return v;
}

static long long
seg_int(struct json_object *r, const char *key)
{
	return json_object_get_int64(seg_typed(r, key, json_type_int));
}

static int
seg_bool(struct json_object *r, const char *key)
{
	return json_object_get_boolean(seg_typed(r, key, json_type_boolean));
}

/* A created segment's shmid (the reply asserted a success). */
static int
created(struct json_object *r)
{
	ck_assert_msg(reply_error(r) == NULL, "Create failed: %s",
	    json_object_to_json_string(r));
	return (int)seg_int(r, "shmid");
}

static struct json_object *
open_seg(const char *name)
{
	char			 msg[512];
	struct json_object	*r;
	int			 fd = raw_connect(d.socket);

	ck_assert_int_ge(fd, 0);
	snprintf(msg, sizeof msg, "{\"method\":\"io.shmd.Open\",\"parameters\":"
	    "{\"name\":\"%s\"}}", name);
	r = raw_call(fd, msg);
	close(fd);
	return r;
}

/* An error reply's parameter, as text ("" when absent). */
static const char *
err_str(struct json_object *r, const char *key)
{
	const char	*s = reply_str(r, key);

	return s != NULL ? s : "";
}

/*
 * The line of /proc/self/FILE (smaps, numa_maps) about the mapping at
 * addr, and (smaps) the value of field in kB; the line is copied to
 * line. -1 when not found.
 */
static long
proc_mapping(const char *file, const void *addr, const char *field,
    char *line, size_t len)
{
	char		 path[64], buf[1024], start[32];
	FILE		*f;
	int		 in = 0;
	long		 v = -1;

	snprintf(path, sizeof path, "/proc/self/%s", file);
	snprintf(start, sizeof start, "%" PRIxPTR, (uintptr_t)addr);
	ck_assert_ptr_nonnull(f = fopen(path, "re"));
	while (fgets(buf, sizeof buf, f) != NULL) {
		/* a mapping's first line begins with its start address */
		if (strncmp(buf, start, strlen(start)) == 0 &&
		    (buf[strlen(start)] == '-' || buf[strlen(start)] == ' ')) {
			snprintf(line, len, "%s", buf);
			in = 1;
			if (field == NULL) {
				v = 0;
				break;
			}
			continue;
		}
		if (in && field != NULL &&
		    strncmp(buf, field, strlen(field)) == 0 &&
		    buf[strlen(field)] == ':') {
			v = strtol(buf + strlen(field) + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

/* The kernel's view of a segment (as root: any). */
static struct shmid_ds
ipc_stat(int shmid)
{
	struct shmid_ds	ds;

	ck_assert_int_eq(shmctl(shmid, IPC_STAT, &ds), 0);
	return ds;
}

START_TEST(test_huge_pages)
{
	struct json_object	*r;
	char			 line[1024];
	char			*p;
	int			 shmid;

	ck_assert_msg(huge_added == HUGE_PAGES && huge_free() >= 1,
	    "the fixture could not reserve huge pages");
	/* the default huge page size; the size rounded up to it */
	r = create("h", 1000, "\"huge_pages\":true,\"lifetime\":\"persistent\"");
	shmid = created(r);
	ck_assert_int_eq(seg_int(r, "size"), HUGE_2M);
	ck_assert_int_eq(seg_int(r, "page_size"), HUGE_2M);
	ck_assert(!seg_bool(r, "locked"));
	ck_assert_ptr_null(seg_member(r, "numa_node"));
	ck_assert(!seg_bool(r, "declared"));
	json_object_put(r);
	ck_assert_uint_eq(ipc_stat(shmid).shm_segsz, HUGE_2M);
	/* an attacher's mapping is of huge pages, and takes one */
	ck_assert_ptr_ne(p = shmat(shmid, NULL, 0), (void *)-1);
	p[0] = 1;
	ck_assert_int_eq(proc_mapping("smaps", p, "KernelPageSize", line,
	    sizeof line), 2048);
	ck_assert_int_eq(proc_mapping("smaps", p, "Shared_Hugetlb", line,
	    sizeof line) + proc_mapping("smaps", p, "Private_Hugetlb", line,
	    sizeof line), 2048);
	ck_assert_int_eq(shmdt(p), 0);
	/* exist_ok compares the policy as it does the size */
	r = create("h", HUGE_2M, "\"huge_pages\":true,\"exist_ok\":true,"
	    "\"lifetime\":\"persistent\"");
	ck_assert_int_eq(created(r), shmid);
	json_object_put(r);
	r = create("h", HUGE_2M, "\"exist_ok\":true");
	ck_assert_str_eq(reply_error(r), "io.shmd.NameExists");
	json_object_put(r);
	r = create("h", HUGE_2M, "\"huge_pages\":true,\"locked\":true,"
	    "\"exist_ok\":true");
	ck_assert_str_eq(reply_error(r), "io.shmd.NameExists");
	json_object_put(r);
}
END_TEST

/* A segment's resident bytes, as /proc/sysvipc/shm says (its rss). */
static long long
segment_rss(int shmid)
{
	char		 line[512];
	FILE		*f;
	long long	 v[16];
	long long	 rss = -1;

	ck_assert_ptr_nonnull(f = fopen("/proc/sysvipc/shm", "re"));
	while (fgets(line, sizeof line, f) != NULL)
		/* key shmid perms size cpid lpid nattch uid gid cuid cgid
		   atime dtime ctime rss swap */
		if (sscanf(line, "%lld %lld %llo %lld %lld %lld %lld %lld %lld "
		    "%lld %lld %lld %lld %lld %lld %lld", &v[0], &v[1], &v[2],
		    &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10],
		    &v[11], &v[12], &v[13], &v[14], &v[15]) == 16 &&
		    v[1] == shmid)
			rss = v[14];
	fclose(f);
	return rss;
}

/*
 * Huge pages keep no shared NUMA policy: with a node, the daemon faults
 * them in at creation, on that node; without one, nothing is resident
 * before an attacher touches it.
 */
START_TEST(test_huge_pages_on_a_node)
{
	struct json_object	*r;
	char			 line[1024];
	char			*p;
	int			 bound, plain;

	ck_assert_msg(huge_added == HUGE_PAGES && huge_free() >= 2,
	    "the fixture could not reserve huge pages");
	r = create("hn", 1, "\"huge_pages\":true,\"numa_node\":0");
	bound = created(r);
	ck_assert_int_eq(seg_int(r, "numa_node"), 0);
	json_object_put(r);
	r = create("hp", 1, "\"huge_pages\":true");
	plain = created(r);
	json_object_put(r);
	/* (this kernel counts a huge page's rss 512 times over: > 0 says it) */
	ck_assert_int_gt(segment_rss(bound), 0);
	ck_assert_int_eq(segment_rss(plain), 0);
	/* an attacher finds the page on node 0 */
	ck_assert_ptr_ne(p = shmat(bound, NULL, 0), (void *)-1);
	p[0] = 1;
	ck_assert_int_eq(proc_mapping("numa_maps", p, NULL, line, sizeof line),
	    0);
	ck_assert_msg(strstr(line, " huge ") != NULL &&
	    strstr(line, " N0=1") != NULL, "numa_maps: %s", line);
	ck_assert_int_eq(shmdt(p), 0);
}
END_TEST

/* A Create of 4096 bytes with more refused: InvalidParameter param. */
static void
refused_param(const char *more, const char *param)
{
	struct json_object	*r = create("e", 4096, more);

	ck_assert_msg(reply_error(r) != NULL && strcmp(reply_error(r),
	    "org.varlink.service.InvalidParameter") == 0, "%s: %s", more,
	    reply_error(r));
	ck_assert_str_eq(err_str(r, "parameter"), param);
	json_object_put(r);
}

START_TEST(test_huge_page_errors)
{
	struct json_object	*r;

	/* page_size alone, or one the kernel does not offer */
	refused_param("\"page_size\":2097152", "page_size");
	refused_param("\"huge_pages\":true,\"page_size\":12345", "page_size");
	refused_param("\"huge_pages\":false,\"page_size\":2097152",
	    "page_size");
	/* rounded up past INT64_MAX: over the segment size, as without */
	r = create("e", INT64_MAX, "\"huge_pages\":true");
	ck_assert_str_eq(reply_error(r), "io.shmd.QuotaExceeded");
	ck_assert_str_eq(err_str(r, "limit"), "segment_size");
	json_object_put(r);
	/* what is no page size at all, with huge pages or without */
	refused_param("\"huge_pages\":true,\"page_size\":0", "page_size");
	refused_param("\"huge_pages\":true,\"page_size\":-1", "page_size");
	refused_param("\"huge_pages\":false,\"page_size\":0", "page_size");
	refused_param("\"page_size\":-2097152", "page_size");
	/* more huge pages than are free: SystemLimit, and what to raise */
	r = create("e", (long long)(huge_free() + 1) * HUGE_2M,
	    "\"huge_pages\":true");
	ck_assert_str_eq(reply_error(r), "io.shmd.SystemLimit");
	ck_assert_str_eq(err_str(r, "limit"), "huge_pages");
	ck_assert_ptr_nonnull(strstr(err_str(r, "message"), "vm.nr_hugepages"));
	json_object_put(r);
	/* and nothing was left behind */
	r = open_seg("e");
	ck_assert_str_eq(reply_error(r), "io.shmd.NoSuchSegment");
	json_object_put(r);
}
END_TEST

START_TEST(test_locked)
{
	struct json_object	*r;
	struct shmid_ds		 ds;
	int			 shmid;

	r = create("l", 10000, "\"locked\":true,\"mode\":416,"
	    "\"lifetime\":\"persistent\"");
	shmid = created(r);
	ck_assert(seg_bool(r, "locked"));
	/* the lock is no permission bit: mode shows none of it */
	ck_assert_int_eq(seg_int(r, "mode"), 0640);
	ck_assert_int_eq(seg_int(r, "page_size"), sysconf(_SC_PAGESIZE));
	ck_assert_int_eq(seg_int(r, "size"), 10000);
	json_object_put(r);
	ds = ipc_stat(shmid);
	ck_assert_uint_eq(ds.shm_perm.mode & SHM_LOCKED, SHM_LOCKED);
	ck_assert_uint_eq(ds.shm_perm.mode & 0777, 0640);
	/* a segment without policy is not locked */
	shmid = created(r = create("u", 4096, "\"lifetime\":\"persistent\""));
	ck_assert(!seg_bool(r, "locked"));
	json_object_put(r);
	ck_assert_uint_eq(ipc_stat(shmid).shm_perm.mode & SHM_LOCKED, 0);
}
END_TEST

START_TEST(test_numa_node)
{
	struct json_object	*r;
	char			 line[1024];
	char			*p;
	int			 shmid;

	r = create("n", 1 << 20, "\"numa_node\":0,\"lifetime\":\"persistent\"");
	shmid = created(r);
	ck_assert_int_eq(seg_int(r, "numa_node"), 0);
	json_object_put(r);
	/* the segment's shared policy: every attacher's mapping follows it */
	ck_assert_ptr_ne(p = shmat(shmid, NULL, 0), (void *)-1);
	memset(p, 1, 1 << 20);
	ck_assert_int_eq(proc_mapping("numa_maps", p, NULL, line, sizeof line),
	    0);
	ck_assert_msg(strstr(line, " bind:0 ") != NULL, "numa_maps: %s", line);
	ck_assert_int_eq(shmdt(p), 0);
	/* a node that does not exist, or a negative one */
	refused_param("\"numa_node\":1000", "numa_node");
	refused_param("\"numa_node\":-1", "numa_node");
	/* nor one an int would truncate to node 0, nor another negative */
	refused_param("\"numa_node\":4294967296", "numa_node");
	refused_param("\"numa_node\":-2", "numa_node");
}
END_TEST

/* Poll Open until the name is gone: 1, or 0 after timeout_ms. */
static int
wait_gone(const char *name, int timeout_ms)
{
	struct json_object	*r;
	int			 gone, waited;

	for (waited = 0; waited < timeout_ms; waited += 20) {
		r = open_seg(name);
		gone = reply_error(r) != NULL &&
		    strcmp(reply_error(r), "io.shmd.NoSuchSegment") == 0;
		json_object_put(r);
		if (gone)
			return 1;
		usleep(20000);
	}
	return 0;
}

/*
 * The daemon's own attach (to bind the node) is no attach: a detach
 * segment lives on until a client attaches and detaches it.
 */
START_TEST(test_numa_detach_lifetime)
{
	struct json_object	*r;
	void			*p;
	int			 shmid;

	r = create("nd", 4096, "\"numa_node\":0");
	shmid = created(r);
	json_object_put(r);
	ck_assert_uint_ne(ipc_stat(shmid).shm_atime, 0);
	/* two reaper ticks and a full sweep at least (REAPER_INTERVAL_MS) */
	ck_assert(!wait_gone("nd", 2500));
	ck_assert_ptr_ne(p = shmat(shmid, NULL, 0), (void *)-1);
	ck_assert_int_eq(shmdt(p), 0);
	ck_assert(wait_gone("nd", TESTD_PATIENCE_MS));
}
END_TEST

/* As nobody: each policy's limit, as the contract names it. */
static int
nobody_over_limits(void *arg)
{
	struct json_object	*r;
	int			 rc = 0;

	(void)arg;
	r = create("x.huge", 4096, "\"huge_pages\":true");
	if (reply_error(r) == NULL ||
	    strcmp(reply_error(r), "io.shmd.QuotaExceeded") != 0 ||
	    strcmp(err_str(r, "limit"), "huge_bytes") != 0 ||
	    reply_int(r, "max") != 0)
		rc = 10;
	json_object_put(r);
	if (rc != 0)
		return rc;
	/* 8192 locked bytes allowed: two pages, not a third */
	r = create("x.l1", 4096, "\"locked\":true");
	if (reply_error(r) != NULL)
		rc = 11;
	json_object_put(r);
	r = create("x.l2", 4096, "\"locked\":true");
	if (reply_error(r) != NULL)
		rc = 12;
	json_object_put(r);
	if (rc != 0)
		return rc;
	r = create("x.l3", 4096, "\"locked\":true");
	if (reply_error(r) == NULL ||
	    strcmp(reply_error(r), "io.shmd.QuotaExceeded") != 0 ||
	    strcmp(err_str(r, "limit"), "locked_bytes") != 0 ||
	    reply_int(r, "max") != 8192)
		rc = 13;
	json_object_put(r);
	/* unlocked segments are not counted against it */
	r = create("x.plain", 4096, "");
	if (reply_error(r) != NULL)
		rc = 14;
	json_object_put(r);
	return rc;
}

START_TEST(test_limits_for_nobody)
{
	struct json_object	*r;

	testd_cleanup(&d);
	testd_start(&d, "--max-locked-bytes-per-uid=8K", NULL);
	ck_assert_int_eq(as_nobody(nobody_over_limits, NULL), 0);
	/* root: no limit */
	r = create("root.huge", 4096, "\"huge_pages\":true,\"locked\":true");
	created(r);
	json_object_put(r);
	ck_assert_int_eq(testd_status(&d, "segments"), 4);
}
END_TEST

/* A daemon not allowed huge pages nor locking says what to raise. */
START_TEST(test_daemon_not_allowed)
{
	struct json_object	*r;
	struct rlimit		 none = { 0, 0 };

	testd_cleanup(&d);
	/* (inherited by the daemon; this test runs in a child of its own) */
	ck_assert_int_eq(setrlimit(RLIMIT_MEMLOCK, &none), 0);
	testd_start_as(&d, 65534, NULL);
	r = create("a", 4096, "\"locked\":true");
	ck_assert_str_eq(reply_error(r), "io.shmd.SystemLimit");
	ck_assert_str_eq(err_str(r, "limit"), "memlock");
	ck_assert_ptr_nonnull(strstr(err_str(r, "message"), "LimitMEMLOCK="));
	json_object_put(r);
	r = create("b", 4096, "\"huge_pages\":true");
	ck_assert_str_eq(reply_error(r), "io.shmd.SystemLimit");
	ck_assert_str_eq(err_str(r, "limit"), "huge_pages");
	ck_assert_ptr_nonnull(strstr(err_str(r, "message"),
	    "vm.hugetlb_shm_group"));
	json_object_put(r);
	/* nothing left behind */
	ck_assert_int_eq(testd_status(&d, "segments"), 0);
	ck_assert_int_eq(kernel_count_by_cpid(d.pid), 0);
}
END_TEST

/* A member of Status's usage for uid; -1 when it holds nothing. */
static long long
usage_of(uid_t uid, const char *key)
{
	struct json_object	*r, *usage, *u, *v;
	long long		 found = -1;
	size_t			 i;
	int			 fd = raw_connect(d.socket);

	ck_assert_int_ge(fd, 0);
	r = raw_call(fd, "{\"method\":\"io.shmd.Status\"}");
	close(fd);
	ck_assert_ptr_nonnull(usage = reply_member(r, "usage"));
	for (i = 0; i < json_object_array_length(usage); i++) {
		u = json_object_array_get_idx(usage, i);
		if (json_object_object_get_ex(u, "uid", &v) &&
		    json_object_get_int64(v) == (int64_t)uid &&
		    json_object_object_get_ex(u, key, &v))
			found = json_object_get_int64(v);
	}
	json_object_put(r);
	return found;
}

/* Every policy, and the charges, survive a SIGKILL and a restart. */
START_TEST(test_restart_keeps_policy)
{
	struct json_object	*r;
	int			 huge, locked, numa, nd;

	/* root names uid 1000, whose limits count (PROTOCOL.md) */
	testd_cleanup(&d);
	testd_start(&d, "--max-huge-bytes-per-uid=4M",
	    "--max-locked-bytes-per-uid=1M", NULL);
	r = create("r.huge", 1, "\"huge_pages\":true,\"lifetime\":"
	    "\"persistent\",\"uid\":1000");
	huge = created(r);
	json_object_put(r);
	r = create("r.locked", 4096, "\"locked\":true,\"lifetime\":"
	    "\"persistent\",\"uid\":1000");
	locked = created(r);
	json_object_put(r);
	r = create("r.numa", 4096, "\"numa_node\":0,\"lifetime\":"
	    "\"persistent\"");
	numa = created(r);
	json_object_put(r);
	r = create("r.nd", 4096, "\"numa_node\":0,\"attach_timeout\":600");
	nd = created(r);
	json_object_put(r);
	testd_kill(&d);
	/* unlocked behind its back: the restart finds out and locks it */
	ck_assert_int_eq(shmctl(locked, SHM_UNLOCK, NULL), 0);
	testd_restart(&d);
	r = open_seg("r.huge");
	ck_assert_int_eq(seg_int(r, "shmid"), huge);
	ck_assert_int_eq(seg_int(r, "page_size"), HUGE_2M);
	ck_assert_int_eq(seg_int(r, "size"), HUGE_2M);
	json_object_put(r);
	r = open_seg("r.locked");
	ck_assert_int_eq(seg_int(r, "shmid"), locked);
	ck_assert(seg_bool(r, "locked"));
	json_object_put(r);
	ck_assert_uint_eq(ipc_stat(locked).shm_perm.mode & SHM_LOCKED,
	    SHM_LOCKED);
	r = open_seg("r.numa");
	ck_assert_int_eq(seg_int(r, "shmid"), numa);
	ck_assert_int_eq(seg_int(r, "numa_node"), 0);
	json_object_put(r);
	/* the daemon's own attach is still no attach after a restart */
	ck_assert(!wait_gone("r.nd", 2500));
	r = open_seg("r.nd");
	ck_assert_int_eq(seg_int(r, "shmid"), nd);
	json_object_put(r);
	/* uid 1000 is charged again for what it held */
	ck_assert_int_eq(usage_of(1000, "segments"), 2);
	ck_assert_int_eq(usage_of(1000, "bytes"), HUGE_2M + 4096);
	r = create("r.more", 2 * HUGE_2M, "\"huge_pages\":true,\"uid\":1000");
	ck_assert_str_eq(reply_error(r), "io.shmd.QuotaExceeded");
	ck_assert_str_eq(err_str(r, "limit"), "huge_bytes");
	json_object_put(r);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("memory");
	TCase	*tc = tcase_create("memory");
	int	 root = geteuid() == 0;

	tcase_add_checked_fixture(tc, start, stop);
	tcase_add_unchecked_fixture(tc, huge_reserve, huge_release);
	tcase_set_timeout(tc, 60);
	tcase_add_test_when(tc, test_huge_pages, root, "needs root");
	tcase_add_test_when(tc, test_huge_pages_on_a_node, root, "needs root");
	tcase_add_test_when(tc, test_huge_page_errors, root, "needs root");
	tcase_add_test(tc, test_locked);
	tcase_add_test(tc, test_numa_node);
	tcase_add_test(tc, test_numa_detach_lifetime);
	tcase_add_test_when(tc, test_limits_for_nobody, root, "needs root");
	tcase_add_test_when(tc, test_daemon_not_allowed,
	    root && nobody_can_run("daemon/shmd"),
	    "needs root, and a build tree uid 65534 may run shmd from");
	tcase_add_test_when(tc, test_restart_keeps_policy, root, "needs root");
	suite_add_tcase(s, tc);
	return run_suite(s);
}
