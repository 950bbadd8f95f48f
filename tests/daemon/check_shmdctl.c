/* Integration tests: shmdctl against the real daemon. */
#include "config.h"

#include <check.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "shmd.h"
#include "testutil.h"

static struct testd	d;

static void
start(void)
{
	testd_start(&d, NULL);
}

static void
stop(void)
{
	testd_stop(&d);
}

START_TEST(test_create_ls_info_rm)
{
	char			*out;
	struct json_object	*arr, *o;
	int			 shmid;

	ck_assert_int_eq(testd_ctl(&d, &out, NULL, "create", "ctl.a", "4K", "--mode",
	    "640", "--lifetime=persistent", NULL), 0);
	/* a shmid: a number, 0 included (a new IPC namespace's first) */
	ck_assert_msg(out[0] >= '0' && out[0] <= '9' &&
	    out[strspn(out, "0123456789")] == '\n', "not a shmid: %s", out);
	shmid = atoi(out);
	free(out);
	/* options may come before the operands */
	ck_assert_int_eq(testd_ctl(&d, &out, NULL, "create", "--key", "0x1e57d001",
	    "ctl.b", "2M", NULL, NULL), 0);
	free(out);
	ck_assert_int_eq(testd_ctl(&d, &out, NULL, "ls", NULL, NULL, NULL, NULL, NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "NAME"));
	ck_assert_ptr_nonnull(strstr(out, "ctl.a"));
	ck_assert_ptr_nonnull(strstr(out, "0640"));
	ck_assert_ptr_nonnull(strstr(out, "persistent"));
	ck_assert_ptr_nonnull(strstr(out, "0x1e57d001"));
	ck_assert_ptr_nonnull(strstr(out, "2M"));
	ck_assert_ptr_nonnull(strstr(out, "root:root"));
	free(out);
	ck_assert_int_eq(testd_ctl(&d, &out, NULL, "ls", "--json", NULL, NULL, NULL,
	    NULL), 0);
	arr = json_tokener_parse(out);
	free(out);
	ck_assert(json_object_is_type(arr, json_type_array));
	ck_assert_uint_eq(json_object_array_length(arr), 2);
	o = json_object_array_get_idx(arr, 0);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(o,
	    "name")), "ctl.a");
	ck_assert_int_eq(json_object_get_int(json_object_object_get(o,
	    "mode")), 0640);
	ck_assert_int_eq(json_object_get_int(json_object_object_get(o,
	    "shmid")), shmid);
	json_object_put(arr);
	ck_assert_int_eq(testd_ctl(&d, &out, NULL, "info", "ctl.a", "--json", NULL, NULL,
	    NULL), 0);
	o = json_tokener_parse(out);
	free(out);
	ck_assert_int_eq(json_object_get_int(json_object_object_get(o,
	    "size")), 4096);
	json_object_put(o);
	ck_assert_int_eq(testd_ctl(&d, &out, NULL, "info", "ctl.b", NULL, NULL, NULL,
	    NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "2097152"));
	free(out);
	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "rm", "ctl.a", NULL, NULL, NULL, NULL),
	    0);
	ck_assert_int_eq(kernel_segment(shmid, NULL), -1);
	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "rm", "ctl.b", NULL, NULL, NULL, NULL),
	    0);
}
END_TEST

START_TEST(test_write_read)
{
	char	*out;

	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "create", "ctl.rw", "16",
	    "--lifetime", "persistent", NULL, NULL), 0);
	ck_assert_int_eq(testd_ctl(&d, NULL, "hello, segment", "write", "ctl.rw", NULL,
	    NULL, NULL, NULL), 0);
	ck_assert_int_eq(testd_ctl(&d, &out, NULL, "read", "ctl.rw", "--size", "5",
	    NULL, NULL), 0);
	ck_assert_str_eq(out, "hello");
	free(out);
	ck_assert_int_eq(testd_ctl(&d, &out, NULL, "read", "ctl.rw", "--offset", "7",
	    "--size", "7", NULL), 0);
	ck_assert_str_eq(out, "segment");
	free(out);
	/* Too long: refused, and nothing written. */
	ck_assert_int_eq(testd_ctl(&d, NULL, "0123456789abcdefX", "write", "ctl.rw", NULL,
	    NULL, NULL, NULL), 1);
	ck_assert_int_eq(testd_ctl(&d, &out, NULL, "read", "ctl.rw", "--size", "5",
	    NULL, NULL), 0);
	ck_assert_str_eq(out, "hello");
	free(out);
	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "read", "ctl.rw", "--offset", "17",
	    NULL, NULL), 1);
	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "rm", "ctl.rw", NULL, NULL, NULL,
	    NULL), 0);
}
END_TEST

START_TEST(test_exit_codes)
{
	const char	*argv[] = { test_program("client/shmdctl"), "--socket",
	    "/nonexistent/shmd.sock", "ls", NULL };
	char		*out;

	/* usage errors: 2 */
	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL), 2);
	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "frob", NULL, NULL, NULL, NULL, NULL),
	    2);
	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "create", "x", NULL, NULL, NULL, NULL),
	    2);
	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "create", "x", "10Q", NULL, NULL,
	    NULL), 2);
	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "create", "x", "10", "--mode", "999",
	    NULL), 2);
	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "create", "x", "10", "--lifetime",
	    "forever", NULL), 2);
	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "ls", "--mode", "600", NULL, NULL,
	    NULL), 2);
	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "rm", "bad name", NULL, NULL, NULL,
	    NULL), 2);
	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "--bogus", "ls", NULL, NULL, NULL,
	    NULL), 2);
	/* refusals: 1 */
	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "rm", "ctl.none", NULL, NULL, NULL,
	    NULL), 1);
	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "info", "ctl.none", NULL, NULL, NULL,
	    NULL), 1);
	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "create", "ctl.dup", "1", NULL, NULL,
	    NULL), 0);
	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "create", "ctl.dup", "1", NULL, NULL,
	    NULL), 1);
	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "rm", "ctl.dup", NULL, NULL, NULL,
	    NULL), 0);
	ck_assert_int_eq(run_cmd(NULL, NULL, argv), 1);
	/* help and version: 0 */
	ck_assert_int_eq(testd_ctl(&d, &out, NULL, "--help", NULL, NULL, NULL, NULL,
	    NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "usage: shmdctl"));
	free(out);
}
END_TEST

START_TEST(test_status_and_env)
{
	const char		*argv[] = { test_program("client/shmdctl"),
	    "status", "--json", NULL };
	struct json_object	*o;
	char			*out;

	ck_assert_int_eq(testd_ctl(&d, &out, NULL, "status", NULL, NULL, NULL, NULL,
	    NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "max_segments_per_uid"));
	free(out);
	/* $SHMD_SOCKET when there is no --socket */
	setenv("SHMD_SOCKET", d.socket, 1);
	ck_assert_int_eq(run_cmd(&out, NULL, argv), 0);
	unsetenv("SHMD_SOCKET");
	o = json_tokener_parse(out);
	free(out);
	ck_assert_int_eq(json_object_get_int(json_object_object_get(o, "pid")),
	    d.pid);
	json_object_put(o);
}
END_TEST

/* shmdctl status with no --socket nor $SHMD_SOCKET: its exit status. */
static int
ctl_status(void *arg)
{
	const char	*argv[] = { test_program("client/shmdctl"), "status",
	    NULL };
	char		*out;
	int		 rc;

	(void)arg;
	unsetenv("SHMD_SOCKET");
	rc = run_cmd(&out, NULL, argv);
	free(out);
	return rc;
}

/*
 * DAEMON.md: for root, the admin socket when it exists, else the main
 * one; for anyone else the main one. In a mount namespace of the test's
 * own, with a tmpfs on /run, so the default paths are the test's.
 */
START_TEST(test_root_prefers_admin_socket)
{
	struct testd		t;
	struct sockaddr_un	sun;
	int			fd;

	ck_assert_int_eq(unshare(CLONE_NEWNS), 0);
	ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	ck_assert_int_eq(mount("tmpfs", "/run", "tmpfs", 0, "mode=0755"), 0);
	testd_new(&t, NULL);
	snprintf(t.socket, sizeof t.socket, "/run/shmd/shmd.sock");
	testd_restart(&t);
	ck_assert_int_eq(ctl_status(NULL), 0);
	/* root gets in with only the admin socket there */
	ck_assert_int_eq(rename("/run/shmd/shmd.sock", "/run/shmd/hidden"), 0);
	ck_assert_int_eq(ctl_status(NULL), 0);
	/* another uid does not try it: the main socket or nothing */
	if (nobody_can_run("client/shmdctl"))
		ck_assert_int_eq(as_nobody(ctl_status, NULL), 1);
	ck_assert_int_eq(rename("/run/shmd/hidden", "/run/shmd/shmd.sock"), 0);
	if (nobody_can_run("client/shmdctl"))
		ck_assert_int_eq(as_nobody(ctl_status, NULL), 0);
	testd_stop(&t);
	/* a stale admin socket nobody answers on: the main socket */
	testd_new(&t, "--admin-socket=/run/shmd/elsewhere.sock", NULL);
	snprintf(t.socket, sizeof t.socket, "/run/shmd/shmd.sock");
	testd_restart(&t);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "/run/shmd/admin.sock");
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	close(fd);
	ck_assert_int_eq(ctl_status(NULL), 0);
	testd_stop(&t);
}
END_TEST

/*
 * create's memory policy reaches the daemon, and ls and info show it:
 * locked and NUMA-bound (node 0 exists everywhere), huge pages when the
 * system has some free (else the daemon's refusal names them).
 */
START_TEST(test_create_policy)
{
	const char	*huge[] = { test_program("client/shmdctl"), "--socket",
	    d.socket, "create", "ctl.huge", "1", "--huge-pages", NULL };
	char		*out, *err, *line;
	int		 rc;

	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "create", "ctl.locked", "4K",
	    "--locked", "--numa-node", "0", NULL), 0);
	ck_assert_int_eq(testd_ctl(&d, &out, NULL, "ls", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, " PAGE "));
	ck_assert_ptr_nonnull(strstr(out, " LOCKED "));
	/* its row: page size 4K, then later locked */
	ck_assert_ptr_nonnull(line = strstr(out, "\nctl.locked "));
	*strchrnul(line + 1, '\n') = '\0';
	ck_assert_msg(strstr(line, " 4K 0600 ") != NULL &&
	    strstr(line, " detach     yes ") != NULL, "%s", line);
	free(out);
	ck_assert_int_eq(testd_ctl(&d, &out, NULL, "info", "ctl.locked", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "\nlocked:    yes\n"));
	ck_assert_ptr_nonnull(strstr(out, "\nnuma node: 0\n"));
	ck_assert_ptr_nonnull(strstr(out, "\npage size: 4K\n"));
	free(out);
	ck_assert_int_eq(testd_ctl(&d, &out, NULL, "info", "ctl.locked", "--json",
	    NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "\"locked\":true"));
	ck_assert_ptr_nonnull(strstr(out, "\"numa_node\":0"));
	free(out);
	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "rm", "ctl.locked", NULL), 0);
	/* huge pages: made with them, or refused for the want of them */
	rc = run_cmd2(&out, &err, NULL, huge);
	if (rc == 0) {
		free(out);
		ck_assert_int_eq(testd_ctl(&d, &out, NULL, "info", "ctl.huge",
		    NULL), 0);
		ck_assert_ptr_nonnull(strstr(out, "(huge pages)"));
		ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "rm", "ctl.huge",
		    NULL), 0);
	} else {
		ck_assert_int_eq(rc, 1);
		ck_assert_msg(strstr(err, "huge") != NULL, "%s", err);
	}
	free(out);
	free(err);
	/* refused by the daemon (no such node), or by shmdctl (usage) */
	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "create", "ctl.numa", "4K",
	    "--numa-node", "4095", NULL), 1);
	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "create", "ctl.numa", "4K",
	    "--numa-node", "x", NULL), 2);
	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "create", "ctl.numa", "4K",
	    "--page-size", "2M", NULL), 2);
	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "ls", "--locked", NULL), 2);
}
END_TEST

/* top on a pipe: one snapshot, totals, usage per uid, segments by size. */
START_TEST(test_top_snapshot)
{
	char	*out, *big, *small;

	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "create", "top.small", "4K",
	    NULL), 0);
	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "create", "top.big", "2M",
	    NULL), 0);
	ck_assert_int_eq(testd_ctl(&d, &out, NULL, "top", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "shmd "));
	ck_assert_ptr_nonnull(strstr(out, "\nUSER "));
	ck_assert_ptr_nonnull(strstr(out, "\nroot "));
	ck_assert_ptr_nonnull(strstr(out, "\nNAME "));
	/* no terminal, no escapes */
	ck_assert_ptr_null(strchr(out, '\033'));
	big = strstr(out, "\ntop.big ");
	small = strstr(out, "\ntop.small ");
	ck_assert_ptr_nonnull(big);
	ck_assert_ptr_nonnull(small);
	ck_assert(big < small);
	free(out);
	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "top", "--interval", "0",
	    NULL), 2);
	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "top", "--interval", "x",
	    NULL), 2);
	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "rm", "top.small", NULL), 0);
	ck_assert_int_eq(testd_ctl(&d, NULL, NULL, "rm", "top.big", NULL), 0);
}
END_TEST

/*
 * Read the terminal's output into buf (NUL-terminated, at most len - 1
 * bytes kept: the latest) until want shows; 0, or -1 after timeout_ms.
 */
static int
pty_wait(int fd, char *buf, size_t len, const char *want, int timeout_ms)
{
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	struct timespec	 start, now;
	size_t		 used = 0;
	ssize_t		 n;

	clock_gettime(CLOCK_MONOTONIC, &start);
	buf[0] = '\0';
	for (;;) {
		if (strstr(buf, want) != NULL)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 +
		    (now.tv_nsec - start.tv_nsec) / 1000000 > timeout_ms)
			return -1;
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		/* keep the last half when full: a frame fits in it */
		if (used == len - 1) {
			memmove(buf, buf + len / 2, used - len / 2);
			used -= len / 2;
		}
		if ((n = read(fd, buf + used, len - 1 - used)) <= 0)
			return -1;
		used += (size_t)n;
		buf[used] = '\0';
	}
}

/* top on a terminal, its exit status when the test is done with it. */
static int
top_on_pty(int end_with_q)
{
	struct shmd_conn	*c;
	struct winsize		 ws = { .ws_row = 40, .ws_col = 120 };
	char			 buf[16384];
	pid_t			 pid;
	int			 fd, status;

	pid = forkpty(&fd, NULL, NULL, &ws);
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		execl(test_program("client/shmdctl"), "shmdctl", "--socket",
		    d.socket, "top", "--interval", "0.2", (char *)NULL);
		_exit(127);
	}
	ck_assert_msg(pty_wait(fd, buf, sizeof buf, "NAME",
	    TESTD_PATIENCE_MS) == 0, "no view: %s", buf);
	/* a segment made now shows in a later frame, from its event */
	c = testd_conn(&d);
	ck_assert_int_eq(shmd_create(c, "top.live", 8192, NULL, NULL), SHMD_OK);
	ck_assert_msg(pty_wait(fd, buf, sizeof buf, "top.live",
	    TESTD_PATIENCE_MS) == 0, "top.live not shown: %s", buf);
	ck_assert_int_eq(shmd_destroy(c, "top.live"), SHMD_OK);
	shmd_disconnect(c);
	if (end_with_q)
		ck_assert_int_eq(write(fd, "q", 1), 1);
	else
		ck_assert_int_eq(kill(pid, SIGINT), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	close(fd);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* top under a pseudo-terminal: it follows events; q and SIGINT end it with 0. */
START_TEST(test_top_terminal)
{
	ck_assert_int_eq(top_on_pty(1), 0);
	ck_assert_int_eq(top_on_pty(0), 0);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("shmdctl");
	TCase	*tc = tcase_create("shmdctl");

	tcase_add_unchecked_fixture(tc, start, stop);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_create_ls_info_rm);
	tcase_add_test(tc, test_write_read);
	tcase_add_test(tc, test_exit_codes);
	tcase_add_test(tc, test_status_and_env);
	tcase_add_test_when(tc, test_create_policy, getuid() == 0,
	    "needs root: only root may lock memory by default");
	tcase_add_test(tc, test_top_snapshot);
	tcase_add_test(tc, test_top_terminal);
	tcase_add_test_when(tc, test_root_prefers_admin_socket,
	    getuid() == 0 && testutil_can_unshare(CLONE_NEWNS),
	    "needs root and a mount namespace");
	suite_add_tcase(s, tc);
	return run_suite(s);
}
