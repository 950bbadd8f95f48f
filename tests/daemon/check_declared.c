/*
 * Integration tests: declared segments (shmd(8) DECLARED SEGMENTS). The
 * daemon reads a segments_dir of the test's own; each declaration's
 * segment must exist before the socket answers, live across restarts,
 * and never be recreated or destroyed because a declaration changed.
 */
#include "config.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "testutil.h"

static struct testd	d;
static char		segdir[320];
static char		segdir_arg[340];

/* Write (or replace) one file of the test's segments_dir. */
static void
declare(const char *file, const char *text)
{
	char	path[400];
	FILE	*f;

	snprintf(path, sizeof path, "%s/%s", segdir, file);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

static void
undeclare(const char *file)
{
	char	path[400];

	snprintf(path, sizeof path, "%s/%s", segdir, file);
	ck_assert_int_eq(unlink(path), 0);
}

/* A daemon set up but not started, reading segdir. */
static void
setup(void)
{
	testd_new(&d, NULL);
	snprintf(segdir, sizeof segdir, "%s/segments.d", d.dir);
	ck_assert_int_eq(mkdir(segdir, 0755), 0);
	snprintf(segdir_arg, sizeof segdir_arg, "--segments-dir=%s", segdir);
	d.args[0] = segdir_arg;
	d.args[1] = NULL;
}

static void
teardown(void)
{
	testd_cleanup(&d);
}

/* SIGHUP, and wait until the daemon says it reloaded. */
static void
reload(void)
{
	int	n = testd_log_count(&d, "reloaded ");

	ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
	testd_wait_log(&d, "reloaded ", n + 1);
}

/* Stop with sig (SIGTERM: a clean stop, exit 0) and start again. */
static void
restart(int sig)
{
	int	status;

	ck_assert_int_eq(kill(d.pid, sig), 0);
	ck_assert_int_eq(waitpid(d.pid, &status, 0), d.pid);
	if (sig == SIGTERM)
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	d.pid = -1;
	testd_restart(&d);
}

/* The Segment named name in a List reply (a new reference), or NULL. */
static struct json_object *
listed(const char *name)
{
	struct json_object	*r, *segs, *seg, *v, *found = NULL;
	int			 fd = raw_connect(d.socket);
	size_t			 i;

	ck_assert_int_ge(fd, 0);
	r = raw_call(fd, "{\"method\":\"io.shmd.List\"}");
	ck_assert_ptr_null(reply_error(r));
	ck_assert_ptr_nonnull(segs = reply_member(r, "segments"));
	for (i = 0; i < json_object_array_length(segs); i++) {
		seg = json_object_array_get_idx(segs, i);
		if (json_object_object_get_ex(seg, "name", &v) &&
		    strcmp(json_object_get_string(v), name) == 0)
			found = json_object_get(seg);
	}
	json_object_put(r);
	close(fd);
	return found;
}

static long long
member_int(struct json_object *seg, const char *key)
{
	struct json_object	*v;

	ck_assert_msg(json_object_object_get_ex(seg, key, &v), "no %s", key);
	return json_object_get_int64(v);
}

static int
member_bool(struct json_object *seg, const char *key)
{
	struct json_object	*v;

	ck_assert_msg(json_object_object_get_ex(seg, key, &v) &&
	    json_object_is_type(v, json_type_boolean), "no boolean %s", key);
	return json_object_get_boolean(v);
}

/* The shmid of a listed segment, asserting it is there. */
static int
listed_shmid(const char *name, int declared)
{
	struct json_object	*seg = listed(name);
	int			 shmid;

	ck_assert_msg(seg != NULL, "%s is not listed", name);
	ck_assert_int_eq(member_bool(seg, "declared"), declared);
	shmid = (int)member_int(seg, "shmid");
	json_object_put(seg);
	return shmid;
}

#define CAM0 "[segment decl.cam0]\nsize = 64K\nmode = 0640\n" \
	"owner = 65534:65534   # nobody\nkey = 0x7d5e0001\n"
#define RING "# a ring\n[segment decl.ring]\nsize = 8192\n"

/*
 * The first answer of the daemon already shows the declared segments,
 * as the kernel holds them: owner, mode and key applied, persistent,
 * declared, charged to no uid.
 */
START_TEST(test_before_ready)
{
	struct json_object	*seg, *r, *usage;
	struct shmid_ds		 ds;
	char			*log, *made, *ready;
	int			 shmid, fd;

	declare("10-cam.conf", CAM0);
	declare("20-ring.conf", RING);
	declare("ring.conf.disabled", "[segment decl.never]\nsize = 1\n");
	testd_restart(&d);
	ck_assert_int_eq(testd_status(&d, "segments"), 2);
	ck_assert_int_eq(testd_status(&d, "declared_drift"), 0);
	/* Made before the daemon said it was ready (and listened). */
	log = read_file(d.log);
	ck_assert_ptr_nonnull(made = strstr(log, "created decl.ring"));
	ck_assert_ptr_nonnull(ready = strstr(log, " ready on "));
	ck_assert(made < ready);
	free(log);

	ck_assert_ptr_nonnull(seg = listed("decl.cam0"));
	ck_assert_int_eq(member_bool(seg, "declared"), 1);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(seg,
	    "lifetime")), "persistent");
	ck_assert_int_eq(member_int(seg, "key"), 0x7d5e0001);
	shmid = (int)member_int(seg, "shmid");
	json_object_put(seg);
	ck_assert_int_eq(shmctl(shmid, IPC_STAT, &ds), 0);
	ck_assert_int_eq(ds.shm_perm.uid, 65534);
	ck_assert_int_eq(ds.shm_perm.gid, 65534);
	ck_assert_int_eq(ds.shm_perm.mode & 0777, 0640);
	ck_assert_int_eq(ds.shm_perm.__key, 0x7d5e0001);
	ck_assert_uint_eq(ds.shm_segsz, 65536);

	shmid = listed_shmid("decl.ring", 1);
	ck_assert_int_eq(shmctl(shmid, IPC_STAT, &ds), 0);
	ck_assert_int_eq(ds.shm_perm.uid, geteuid());
	ck_assert_int_eq(ds.shm_perm.mode & 0777, 0600);
	ck_assert_ptr_null(listed("decl.never"));

	/* Charged to no uid: root's Status shows no usage for them. */
	fd = raw_connect(d.socket);
	r = raw_call(fd, "{\"method\":\"io.shmd.Status\"}");
	ck_assert_ptr_nonnull(usage = reply_member(r, "usage"));
	ck_assert_int_eq(json_object_array_length(usage), 0);
	json_object_put(r);
	close(fd);
}
END_TEST

/* SIGTERM and SIGKILL restarts keep each one, declared, never remade. */
START_TEST(test_restarts)
{
	int	shmid;

	declare("ring.conf", RING);
	testd_restart(&d);
	shmid = listed_shmid("decl.ring", 1);
	restart(SIGTERM);
	ck_assert_int_eq(listed_shmid("decl.ring", 1), shmid);
	restart(SIGKILL);
	ck_assert_int_eq(listed_shmid("decl.ring", 1), shmid);
	ck_assert_int_eq(testd_status(&d, "segments"), 1);
	ck_assert_int_eq(testd_log_count(&d, "created decl.ring"), 1);
}
END_TEST

/*
 * A declaration changed: the segment is kept as it is; one line names
 * each member that differs, and Status counts it, after a restart too.
 */
START_TEST(test_changed)
{
	struct shmid_ds	ds;
	char		*log, *line, *end, *out;
	int		 shmid;

	declare("cam.conf", CAM0);
	testd_restart(&d);
	shmid = listed_shmid("decl.cam0", 1);
	declare("cam.conf", "[segment decl.cam0]\nsize = 128K\nmode = 0644\n"
	    "owner = 65534:65534\nkey = 0x7d5e0001\n");
	reload();
	ck_assert_int_eq(listed_shmid("decl.cam0", 1), shmid);
	ck_assert_int_eq(shmctl(shmid, IPC_STAT, &ds), 0);
	ck_assert_uint_eq(ds.shm_segsz, 65536);
	ck_assert_int_eq(ds.shm_perm.mode & 0777, 0640);
	ck_assert_int_eq(testd_status(&d, "declared_drift"), 1);
	ck_assert_int_eq(testd_ctl(&d, &out, NULL, "status", NULL), 0);
	ck_assert_msg(strstr(out, "\ndrift:     1 ") != NULL, "%s", out);
	free(out);
	log = read_file(d.log);
	ck_assert_ptr_nonnull(line = strstr(log, "declared segment decl.cam0"));
	ck_assert_ptr_nonnull(end = strchr(line, '\n'));
	*end = '\0';
	ck_assert_msg(strstr(line, "size 65536 (declared 131072)") != NULL &&
	    strstr(line, "mode 640 (declared 644)") != NULL &&
	    strstr(line, "owner") == NULL && strstr(line, "cam.conf:1") !=
	    NULL, "%s", line);
	free(log);
	ck_assert_int_eq(testd_log_count(&d, "created decl.cam0"), 1);

	restart(SIGKILL);
	ck_assert_int_eq(listed_shmid("decl.cam0", 1), shmid);
	ck_assert_int_eq(testd_status(&d, "declared_drift"), 1);
	/* Declared as it is again: no drift. */
	declare("cam.conf", CAM0);
	reload();
	ck_assert_int_eq(testd_status(&d, "declared_drift"), 0);
}
END_TEST

/*
 * A declaration removed: the segment stays, no longer declared (and so
 * charged to its owner), and a restart keeps it so.
 */
START_TEST(test_removed)
{
	struct shmid_ds	ds;
	int		shmid;

	declare("ring.conf", RING);
	declare("cam.conf", CAM0);
	testd_restart(&d);
	shmid = listed_shmid("decl.ring", 1);
	undeclare("ring.conf");
	reload();
	ck_assert_int_eq(listed_shmid("decl.ring", 0), shmid);
	ck_assert_int_eq(listed_shmid("decl.cam0", 1) >= 0, 1);
	ck_assert_int_eq(shmctl(shmid, IPC_STAT, &ds), 0);
	restart(SIGKILL);
	ck_assert_int_eq(listed_shmid("decl.ring", 0), shmid);
	restart(SIGTERM);
	ck_assert_int_eq(listed_shmid("decl.ring", 0), shmid);
	ck_assert_int_eq(listed_shmid("decl.cam0", 1) >= 0, 1);
	ck_assert_int_eq(testd_log_count(&d, "created decl.ring"), 1);
}
END_TEST

/* SIGHUP makes a segment declared since the start. */
START_TEST(test_sighup_adds)
{
	declare("ring.conf", RING);
	testd_restart(&d);
	ck_assert_ptr_null(listed("decl.cam0"));
	declare("cam.conf", CAM0);
	reload();
	ck_assert_int_ge(listed_shmid("decl.cam0", 1), 0);
	ck_assert_int_eq(testd_status(&d, "segments"), 2);
}
END_TEST

/* A bad file on SIGHUP: one line says why; the old declarations stay. */
START_TEST(test_sighup_bad_file)
{
	declare("ring.conf", RING);
	testd_restart(&d);
	undeclare("ring.conf");
	declare("cam.conf", CAM0);
	declare("zz.conf", "[segment decl.bad]\nsize = 1\nmode = 0999\n");
	reload();
	testd_wait_log(&d, "zz.conf:3: key 'mode'", 1);
	ck_assert_int_eq(testd_log_count(&d, "keeping the declared segments as they "
	    "were"), 1);
	ck_assert_int_ge(listed_shmid("decl.ring", 1), 0);
	ck_assert_ptr_null(listed("decl.cam0"));
	ck_assert_ptr_null(listed("decl.bad"));
	testd_assert_serves(&d);
	/* Mended, the next SIGHUP reads it all. */
	undeclare("zz.conf");
	reload();
	ck_assert_int_ge(listed_shmid("decl.cam0", 1), 0);
	ck_assert_int_eq(listed_shmid("decl.ring", 0) >= 0, 1);
}
END_TEST

/*
 * shmd with segments_dir (as --segments-dir=DIR in dirarg) refuses to
 * start: exit 2, one line on stderr that says says, no socket.
 */
static void
start_refused(const char *dirarg, const char *says)
{
	char		*out, *err, path[400];
	const char	*argv[] = { test_program("daemon/shmd"), "--config",
			    "/dev/null", "--socket", NULL, "--state-dir", NULL,
			    dirarg, NULL };

	snprintf(path, sizeof path, "%s/state", d.dir);
	argv[4] = d.socket;
	argv[6] = path;
	ck_assert_int_eq(run_cmd2(&out, &err, NULL, argv), 2);
	ck_assert_msg(err != NULL && strstr(err, says) != NULL &&
	    strchr(err, '\n') == strrchr(err, '\n'), "'%s' not in: %s", says,
	    err);
	ck_assert_msg(access(d.socket, F_OK) == -1, "it listened");
	free(out);
	free(err);
}

/* One bad declaration: shmd exits 2 naming the file, line and key. */
static void
start_fails(const char *text, const char *says)
{
	declare("50-bad.conf", text);
	start_refused(segdir_arg, says);
}

START_TEST(test_start_errors)
{
	declare("10-ok.conf", RING);
	start_fails("[segment decl.x]\nsize = lots\n",
	    "/50-bad.conf:2: key 'size': 'lots'");
	start_fails("[segment decl.x]\nsize = 1\ncolour = red\n",
	    "/50-bad.conf:3: key 'colour': unknown key");
	start_fails("\n[segment decl.x]\nmode = 0600\n",
	    "/50-bad.conf:2: segment 'decl.x': key 'size' is missing");
	start_fails("[segment decl.x]\nsize = 1\nowner = no-such-user-x\n",
	    "/50-bad.conf:3: key 'owner': no such user 'no-such-user-x'");
	start_fails("size = 1\n",
	    "/50-bad.conf:1: key 'size': outside a [segment NAME] section");
	start_fails("[segment decl.ring]\nsize = 1\n",
	    "/50-bad.conf:1: segment 'decl.ring' is declared already at ");
	start_fails("[segment -bad]\nsize = 1\n",
	    "/50-bad.conf:1: '-bad' is not a valid segment name");
	start_fails("[segment decl.x]\nsize = 1\npage_size = 2M\n",
	    "/50-bad.conf:1: segment 'decl.x': key 'page_size': needs "
	    "huge_pages");
	/* what the kernel cannot give is found at start, not at shmget */
	start_fails("[segment decl.x]\nsize = 1\nnuma_node = 4000\n",
	    "/50-bad.conf:1: segment 'decl.x': key 'numa_node': no such "
	    "NUMA node with memory");
	start_fails("[segment decl.x]\nsize = 1\nhuge_pages = yes\n"
	    "page_size = 3000\n", "/50-bad.conf:1: segment 'decl.x': key "
	    "'page_size': not a huge page size this kernel offers");
	start_fails("[segment decl.x]\nsize = 1\nlocked = maybe\n",
	    "/50-bad.conf:3: key 'locked': 'maybe' is not yes or no");
}
END_TEST

/* A segments_dir named and missing is an error (the default's is not). */
START_TEST(test_missing_dir)
{
	char	arg[400], says[400];

	snprintf(arg, sizeof arg, "--segments-dir=%s/none", d.dir);
	snprintf(says, sizeof says, "key 'segments_dir': %s/none: No such file "
	    "or directory", d.dir);
	start_refused(arg, says);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("declared");
	TCase	*tc = tcase_create("declared");
	int	 root = geteuid() == 0;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	/* Declarations owned by uid 65534 need a root daemon to hand over. */
	tcase_add_test_when(tc, test_before_ready, root, "needs root");
	tcase_add_test(tc, test_restarts);
	tcase_add_test_when(tc, test_changed, root, "needs root");
	tcase_add_test_when(tc, test_removed, root, "needs root");
	tcase_add_test_when(tc, test_sighup_adds, root, "needs root");
	tcase_add_test_when(tc, test_sighup_bad_file, root, "needs root");
	tcase_add_test(tc, test_start_errors);
	tcase_add_test(tc, test_missing_dir);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
