/* Integration tests: shmdctl against the real daemon. */
#include "config.h"

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

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
	tcase_add_test_when(tc, test_root_prefers_admin_socket,
	    getuid() == 0 && testutil_can_unshare(CLONE_NEWNS),
	    "needs root and a mount namespace");
	suite_add_tcase(s, tc);
	return run_suite(s);
}
