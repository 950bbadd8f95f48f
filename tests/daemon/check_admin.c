/*
 * Integration tests: admin insight through shmdctl: who has a segment
 * attached, orphans outside shmd, usage and Prometheus metrics. As root
 * each test runs in an IPC namespace of its own, so that orphans --remove
 * can only ever see the test's segments.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "testutil.h"

static struct testd	d;

static void
start(void)
{
	if (getuid() == 0)
		ck_assert_int_eq(unshare(CLONE_NEWIPC), 0);
	testd_start(&d, NULL);
}

static void
stop(void)
{
	testd_cleanup(&d);
}

static int
create(const char *name, const char *extra)
{
	char	*out;
	int	 shmid;

	ck_assert_int_eq(testd_ctl(&d, &out, NULL, "create", name, "4K", "--lifetime",
	    "persistent", extra, NULL), 0);
	shmid = atoi(out);
	free(out);
	return shmid;
}

/* A child that attaches shmid and waits until the pipe closes. */
static pid_t
attacher(int shmid, int *hold)
{
	int	fds[2], ready[2];
	pid_t	pid;
	char	b;

	/* close-on-exec: a daemon started later must not hold the pipe */
	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
	pid = fork();
	if (pid == 0) {
		close(fds[1]);
		close(ready[0]);
		if (shmat(shmid, NULL, 0) == (void *)-1)
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		while (read(fds[0], &b, 1) > 0)
			;
		_exit(0);
	}
	close(fds[0]);
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], &b, 1), 1);
	close(ready[0]);
	*hold = fds[1];
	return pid;
}

START_TEST(test_attachers)
{
	struct json_object	*o, *att, *a;
	char			*out, pidtext[32];
	int			 shmid, hold, i;
	pid_t			 pid;

	shmid = create("adm.att", NULL);
	pid = attacher(shmid, &hold);
	snprintf(pidtext, sizeof pidtext, "%ld", (long)pid);
	ck_assert_int_eq(testd_ctl(&d, &out, NULL, "info", "adm.att", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "attached by"));
	ck_assert_ptr_nonnull(strstr(out, pidtext));
	ck_assert_ptr_nonnull(strstr(out, "check_admin"));
	free(out);
	ck_assert_int_eq(testd_ctl(&d, &out, NULL, "info", "adm.att", "--json", NULL), 0);
	o = json_tokener_parse(out);
	free(out);
	ck_assert(json_object_object_get_ex(o, "attachers", &att));
	ck_assert_uint_eq(json_object_array_length(att), 1);
	a = json_object_array_get_idx(att, 0);
	ck_assert_int_eq(json_object_get_int(json_object_object_get(a, "pid")),
	    pid);
	ck_assert_int_eq(json_object_get_int(json_object_object_get(a, "uid")),
	    getuid());
	ck_assert_ptr_nonnull(strstr(json_object_get_string(
	    json_object_object_get(a, "command")), "check_admin"));
	json_object_put(o);
	/* ls --attachers: a column in the table, the array in JSON */
	ck_assert_int_eq(testd_ctl(&d, &out, NULL, "ls", "--attachers", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "ATTACHED BY"));
	ck_assert_ptr_nonnull(strstr(out, pidtext));
	free(out);
	ck_assert_int_eq(testd_ctl(&d, &out, NULL, "ls", "--attachers", "--json", NULL), 0);
	o = json_tokener_parse(out);
	free(out);
	for (i = 0; i < (int)json_object_array_length(o); i++)
		if (json_object_object_get_ex(json_object_array_get_idx(o, i),
		    "attachers", &att) && json_object_array_length(att) == 1)
			break;
	ck_assert_int_lt(i, (int)json_object_array_length(o));
	json_object_put(o);
	/* without --attachers, no such member */
	ck_assert_int_eq(testd_ctl(&d, &out, NULL, "ls", "--json", NULL), 0);
	ck_assert_ptr_null(strstr(out, "attachers"));
	free(out);
	close(hold);
	waitpid(pid, NULL, 0);
	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "rm", "adm.att", NULL), 0);
}
END_TEST

/* A segment whose creator has exited: an orphan. */
static int
make_orphan(void)
{
	int	fds[2], shmid = -1, status;
	pid_t	pid;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	if (pid == 0) {
		shmid = shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0600);
		if (write(fds[1], &shmid, sizeof shmid) != sizeof shmid)
			_exit(1);
		_exit(0);
	}
	ck_assert_int_eq(read(fds[0], &shmid, sizeof shmid),
	    (ssize_t)sizeof shmid);
	close(fds[0]);
	close(fds[1]);
	waitpid(pid, &status, 0);
	ck_assert_int_ge(shmid, 0);
	return shmid;
}

static int
orphan_listed(const char *json, int shmid)
{
	struct json_object	*o = json_tokener_parse(json);
	int			 i, found = 0;

	ck_assert_ptr_nonnull(o);
	for (i = 0; i < (int)json_object_array_length(o); i++) {
		struct json_object *e = json_object_array_get_idx(o, i);

		if (json_object_get_int(json_object_object_get(e, "shmid")) ==
		    shmid) {
			found = 1;
			ck_assert_int_eq(json_object_get_int64(
			    json_object_object_get(e, "size")), 8192);
			ck_assert(json_object_object_get_ex(e, "cpid", NULL));
			ck_assert(json_object_object_get_ex(e, "ctime", NULL));
			ck_assert(json_object_object_get_ex(e, "key", NULL));
			ck_assert(json_object_object_get_ex(e, "uid", NULL));
			ck_assert(json_object_object_get_ex(e, "gid", NULL));
		}
	}
	json_object_put(o);
	return found;
}

START_TEST(test_orphans)
{
	char	*out;
	int	 orphan, attached, mine, managed, hold, status;
	pid_t	 pid;

	orphan = make_orphan();
	attached = make_orphan();
	pid = attacher(attached, &hold);
	mine = shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0600);	/* live creator */
	managed = create("adm.managed", NULL);
	/* a restart of shmd: its old pid, the managed segment's creator, is gone */
	kill(d.pid, SIGTERM);
	waitpid(d.pid, &status, 0);
	d.pid = -1;
	testd_restart(&d);

	ck_assert_int_eq(testd_ctl(&d, &out, NULL, "orphans", "--json", NULL), 0);
	ck_assert(orphan_listed(out, orphan));
	ck_assert(!orphan_listed(out, attached));
	ck_assert(!orphan_listed(out, mine));
	ck_assert(!orphan_listed(out, managed));
	free(out);
	ck_assert_int_eq(testd_ctl(&d, &out, NULL, "orphans", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "SHMID"));
	free(out);
	/* a fresh orphan is younger than an hour: kept */
	ck_assert_int_eq(testd_ctl(&d, &out, NULL, "orphans", "--json", "--older-than", "3600",
	    NULL), 0);
	ck_assert(!orphan_listed(out, orphan));
	free(out);
	ck_assert_int_eq(testd_ctl(&d, &out, NULL, "orphans", "--remove", "--older-than",
	    "3600", NULL), 0);
	free(out);
	ck_assert_int_eq(kernel_segment(orphan, NULL), 0);
	/* --remove takes exactly the orphans */
	ck_assert_int_eq(testd_ctl(&d, &out, NULL, "orphans", "--remove", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "removed"));
	free(out);
	ck_assert_int_eq(kernel_segment(orphan, NULL), -1);
	ck_assert_int_eq(kernel_segment(attached, NULL), 0);
	ck_assert_int_eq(kernel_segment(mine, NULL), 0);
	ck_assert_int_eq(kernel_segment(managed, NULL), 0);
	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "rm", "adm.managed", NULL), 0);
	close(hold);
	waitpid(pid, NULL, 0);
	shmctl(attached, IPC_RMID, NULL);
	shmctl(mine, IPC_RMID, NULL);
	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "orphans", "--older-than", "soon", NULL), 2);
}
END_TEST

/*
 * shmd running unprivileged: every segment its uid created counts as its
 * own, even one its List does not show (an earlier daemon's).
 */
START_TEST(test_orphans_unprivileged_daemon)
{
	struct testd	 other;
	char		*out, cmd[400];
	int		 shmid, status;

	testd_start_as(&other, 65534, NULL);
	ck_assert_int_eq(testd_ctl(&other, &out, NULL, "create", "adm.nb", "4K",
	    "--lifetime", "persistent", NULL), 0);
	shmid = atoi(out);
	free(out);
	/* its daemon dies; a new one, with other state, does not list it */
	kill(other.pid, SIGKILL);
	waitpid(other.pid, &status, 0);
	other.pid = -1;
	kill(d.pid, SIGTERM);
	waitpid(d.pid, &status, 0);
	d.pid = -1;
	d.user = 65534;
	snprintf(cmd, sizeof cmd, "chown -R 65534:65534 '%s'", d.dir);
	ck_assert_int_eq(system(cmd), 0);
	testd_restart(&d);
	ck_assert_int_eq(testd_ctl(&d, &out, NULL, "ls", "--json", NULL), 0);
	ck_assert_ptr_null(strstr(out, "adm.nb"));
	free(out);
	ck_assert_int_eq(testd_ctl(&d, &out, NULL, "orphans", "--json", NULL), 0);
	ck_assert_msg(!orphan_listed(out, shmid), "shmd's own segment listed");
	free(out);
	shmctl(shmid, IPC_RMID, NULL);
	testd_cleanup(&other);
}
END_TEST

static const char	*sock;

/* As nobody: Status has no usage. */
static int
nobody_status(void *arg)
{
	const char	*argv[] = { test_program("client/shmdctl"), "--socket",
	    sock, "status", "--json", NULL };
	char		*out;
	int		 rc;

	rc = run_cmd(&out, NULL, argv);
	if (rc != 0 || strstr(out, "\"usage\"") != NULL ||
	    strstr(out, "\"uid\"") == NULL)
		return 10;
	free(out);
	return 0;
}

START_TEST(test_usage)
{
	struct json_object	*o, *usage, *u;
	char			*out;
	int			 i, seen = 0;

	create("adm.root", NULL);
	create("adm.n1", "--owner=65534:65534");
	create("adm.n2", "--owner=65534:65534");
	ck_assert_int_eq(testd_ctl(&d, &out, NULL, "status", "--json", NULL), 0);
	o = json_tokener_parse(out);
	free(out);
	ck_assert(json_object_object_get_ex(o, "usage", &usage));
	for (i = 0; i < (int)json_object_array_length(usage); i++) {
		u = json_object_array_get_idx(usage, i);
		switch (json_object_get_int(json_object_object_get(u, "uid"))) {
		case 0:
			ck_assert_int_eq(json_object_get_int(
			    json_object_object_get(u, "segments")), 1);
			seen |= 1;
			break;
		case 65534:
			ck_assert_int_eq(json_object_get_int(
			    json_object_object_get(u, "segments")), 2);
			ck_assert_int_eq(json_object_get_int(
			    json_object_object_get(u, "bytes")), 8192);
			seen |= 2;
			break;
		}
	}
	ck_assert_int_eq(seen, 3);
	ck_assert(json_object_object_get_ex(o, "vanished", NULL));
	json_object_put(o);
	ck_assert_int_eq(testd_ctl(&d, &out, NULL, "status", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "usage by owner"));
	ck_assert_ptr_nonnull(strstr(out, "kernel.shmmni"));
	ck_assert_ptr_nonnull(strstr(out, "kernel.shmall"));
	ck_assert_ptr_nonnull(strstr(out, "kernel.shmmax"));
	free(out);
	if (getuid() == 0 && nobody_can_run("client/shmdctl")) {
		sock = d.socket;
		ck_assert_int_eq(as_nobody(nobody_status, NULL), 0);
	}
	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "rm", "adm.root", NULL), 0);
	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "rm", "adm.n1", NULL), 0);
	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "rm", "adm.n2", NULL), 0);
}
END_TEST

START_TEST(test_prometheus)
{
	struct json_object	*o;
	char			*out, *line, *save, name[128], help[128];
	long long		 segments = -1, v;
	int			 samples = 0;

	create("adm.p1", NULL);
	create("adm.p2", "--owner=65534:65534");
	ck_assert_int_eq(testd_ctl(&d, &out, NULL, "status", "--prometheus", NULL), 0);
	help[0] = '\0';
	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# HELP ", 7) == 0) {
			ck_assert_int_eq(sscanf(line + 7, "%127s", help), 1);
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			ck_assert_int_eq(sscanf(line + 7, "%127s", name), 1);
			ck_assert_str_eq(name, help);
			ck_assert(strstr(line, " gauge") || strstr(line, " counter"));
			continue;
		}
		/* name{labels} value, under its HELP and TYPE */
		ck_assert_msg(sscanf(line, "%127[a-z_]", name) == 1 &&
		    strrchr(line, ' ') != NULL &&
		    sscanf(strrchr(line, ' '), " %lld", &v) == 1,
		    "bad sample line: %s", line);
		ck_assert_str_eq(name, help);
		ck_assert(strncmp(name, "shmd_", 5) == 0);
		if (strcmp(name, "shmd_segments") == 0)
			segments = v;
		samples++;
	}
	free(out);
	ck_assert_int_gt(samples, 10);
	ck_assert_int_eq(testd_ctl(&d, &out, NULL, "status", "--json", NULL), 0);
	o = json_tokener_parse(out);
	free(out);
	ck_assert_int_eq(segments, json_object_get_int64(
	    json_object_object_get(o, "segments")));
	ck_assert_int_eq(testd_ctl(&d, &out, NULL, "status", "--prometheus", NULL), 0);
	/* every limit Status reports, with its value */
	json_object_object_foreach(json_object_object_get(o, "limits"), key,
	    val) {
		snprintf(name, sizeof name, "\nshmd_limit{limit=\"%s\"} %lld\n",
		    key, (long long)json_object_get_int64(val));
		ck_assert_msg(strstr(out, name) != NULL, "no %s", name);
	}
	json_object_put(o);
	ck_assert_ptr_nonnull(strstr(out, "shmd_uid_segments{uid=\"65534\"} 1"));
	ck_assert_ptr_nonnull(strstr(out, "shmd_kernel_shmmni "));
	free(out);
	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "rm", "adm.p1", NULL), 0);
	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "rm", "adm.p2", NULL), 0);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("admin");
	TCase	*tc = tcase_create("admin");

	tcase_add_checked_fixture(tc, start, stop);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_attachers);
	tcase_add_test_when(tc, test_orphans, getuid() == 0,
	    "needs root (segments of other users)");
	tcase_add_test_when(tc, test_orphans_unprivileged_daemon,
	    getuid() == 0 && nobody_can_run("daemon/shmd"),
	    "needs root, and a build tree uid 65534 may run");
	tcase_add_test(tc, test_usage);
	tcase_add_test(tc, test_prometheus);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
