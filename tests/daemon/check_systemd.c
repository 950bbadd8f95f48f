/*
 * Integration tests: what deployment under systemd needs (shmd(8)):
 * socket activation, readiness notification, SIGHUP, logging, config errors.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "testutil.h"

static struct testd	d;

static void
stop(void)
{
	testd_stop(&d);
}

/* A datagram socket to receive sd_notify messages on. */
static int
notify_listen(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	ck_assert_uint_lt(strlen(path), sizeof sun.sun_path);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	unlink(path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	return fd;
}

/* Wait for a notification containing what; 0 when it came. */
static int
notify_wait(int fd, const char *what, int timeout_ms)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };
	char		buf[512];
	ssize_t		n;

	while (poll(&pfd, 1, timeout_ms) == 1) {
		n = recv(fd, buf, sizeof buf - 1, 0);
		if (n <= 0)
			return -1;
		buf[n] = '\0';
		if (strstr(buf, what) != NULL)
			return 0;
	}
	return -1;
}

START_TEST(test_notify)
{
	char	path[300], env1[320];
	int	fd, status;

	snprintf(path, sizeof path, "/tmp/shmd-notify-%d.sock", getpid());
	fd = notify_listen(path);
	snprintf(env1, sizeof env1, "NOTIFY_SOCKET=%s", path);
	testd_new(&d, NULL);
	d.env[0] = env1;
	d.env[1] = "WATCHDOG_USEC=200000";
	d.env[2] = NULL;
	testd_restart(&d);
	ck_assert_int_eq(notify_wait(fd, "READY=1", 5000), 0);
	ck_assert_int_eq(notify_wait(fd, "WATCHDOG=1", 5000), 0);
	kill(d.pid, SIGTERM);
	ck_assert_int_eq(notify_wait(fd, "STOPPING=1", 5000), 0);
	ck_assert_int_eq(waitpid(d.pid, &status, 0), d.pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	d.pid = -1;
	close(fd);
	unlink(path);
}
END_TEST

/*
 * shmd under systemd-socket-activate, listening on the sockets of
 * listen (its -l and --fdname= arguments, NULL-terminated), logging to
 * logp: its pid (systemd-socket-activate execs shmd in place).
 */
static pid_t
activate(const char *const *listen, const char *state, const char *logp)
{
	const char	*argv[32];
	pid_t		 pid;
	int		 n = 0, logfd;

	argv[n++] = "systemd-socket-activate";
	while (*listen != NULL && n < 20)
		argv[n++] = *listen++;
	argv[n++] = test_program("daemon/shmd");
	argv[n++] = "--config";
	argv[n++] = "/dev/null";
	argv[n++] = "--state-dir";
	argv[n++] = state;
	argv[n++] = "--socket";
	argv[n++] = "/nonexistent/never-bound.sock";
	argv[n] = NULL;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		logfd = open(logp, O_WRONLY | O_CREAT, 0644);
		dup2(logfd, 2);
		dup2(logfd, 1);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

START_TEST(test_socket_activation)
{
	char			 dir[] = "/tmp/shmd-sa-XXXXXX", sock[300], state[300];
	char			 logp[300];
	struct json_object	*r;
	struct stat		 sb;
	pid_t			 pid;
	int			 fd, status, i;
	const char		*listen[] = { "-l", sock, NULL };

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sock, sizeof sock, "%s/activated.sock", dir);
	snprintf(state, sizeof state, "%s/state", dir);
	snprintf(logp, sizeof logp, "%s/log", dir);
	pid = activate(listen, state, logp);
	for (i = 0; i < TESTD_PATIENCE_MS / 10 &&
	    (fd = raw_connect(sock)) < 0; i++)
		usleep(10000);	/* until systemd-socket-activate listens */
	ck_assert_int_ge(fd, 0);
	r = raw_call(fd, "{\"method\":\"io.shmd.Status\"}");
	ck_assert_ptr_null(reply_error(r));
	/* systemd-socket-activate execs shmd in place */
	ck_assert_int_eq(reply_int(r, "pid"), pid);
	json_object_put(r);
	close(fd);
	/* a second client on the same activated socket */
	fd = raw_connect(sock);
	r = raw_call(fd, "{\"method\":\"io.shmd.List\"}");
	ck_assert_ptr_null(reply_error(r));
	json_object_put(r);
	close(fd);
	kill(pid, SIGTERM);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* it neither bound its own socket nor removed the one it was given */
	ck_assert_int_eq(stat("/nonexistent/never-bound.sock", &sb), -1);
	ck_assert_int_eq(stat(sock, &sb), 0);
	ck_assert(S_ISSOCK(sb.st_mode));
	unlink(sock);
	unlink(logp);
	rmdir(state);
	rmdir(dir);
}
END_TEST

/*
 * Two sockets handed over, told apart by $LISTEN_FDNAMES (as
 * shmd.socket and shmd-admin.socket with FileDescriptorName=admin do):
 * shmd serves both, the one named admin as root's, and binds neither of
 * its own.
 */
START_TEST(test_socket_activation_two)
{
	char			 dir[] = "/tmp/shmd-sa-XXXXXX", sock[300], state[300];
	char			 admin[300], logp[300], *log;
	struct json_object	*r;
	struct stat		 sb;
	pid_t			 pid;
	int			 fd = -1, status, i;
	const char		*paths[2];
	const char		*listen[] = { "-l", sock, "-l", admin,
	    "--fdname=shmd:admin", NULL };

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sock, sizeof sock, "%s/main.sock", dir);
	snprintf(admin, sizeof admin, "%s/root.sock", dir);
	snprintf(state, sizeof state, "%s/state", dir);
	snprintf(logp, sizeof logp, "%s/log", dir);
	pid = activate(listen, state, logp);
	paths[0] = sock;
	paths[1] = admin;
	for (i = 0; i < TESTD_PATIENCE_MS / 10 &&
	    (fd = raw_connect(sock)) < 0; i++)
		usleep(10000);	/* until systemd-socket-activate listens */
	ck_assert_int_ge(fd, 0);
	close(fd);
	for (i = 0; i < 2; i++) {
		fd = raw_connect(paths[i]);
		ck_assert_int_ge(fd, 0);
		r = raw_call(fd, "{\"method\":\"io.shmd.Status\"}");
		ck_assert_ptr_null(reply_error(r));
		ck_assert_int_eq(reply_int(r, "pid"), pid);
		json_object_put(r);
		close(fd);
	}
	kill(pid, SIGTERM);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	log = read_file(logp);
	ck_assert_msg(strstr(log, "ready on an activated socket, root's on an "
	    "activated socket") != NULL, "%s", log);
	free(log);
	/* neither its own main socket nor the admin one beside it */
	ck_assert_int_eq(stat("/nonexistent/never-bound.sock", &sb), -1);
	ck_assert_int_eq(stat("/nonexistent/admin.sock", &sb), -1);
	ck_assert_int_eq(stat(admin, &sb), 0);
	unlink(sock);
	unlink(admin);
	unlink(logp);
	rmdir(state);
	rmdir(dir);
}
END_TEST

static long long
limit(const char *key)
{
	int			 fd = raw_connect(d.socket);
	struct json_object	*r, *l;
	long long		 v;

	r = raw_call(fd, "{\"method\":\"io.shmd.Status\"}");
	close(fd);
	l = json_object_object_get(json_object_object_get(r, "parameters"),
	    "limits");
	v = json_object_get_int64(json_object_object_get(l, key));
	json_object_put(r);
	return v;
}

START_TEST(test_sighup_reload)
{
	char			 conf[] = "/tmp/shmd-conf-XXXXXX", *log;
	struct json_object	*r;
	FILE			*f;
	int			 fd, held, i;

	fd = mkstemp(conf);
	f = fdopen(fd, "w");
	fputs("max_segments_per_uid = 5\n", f);
	fclose(f);
	testd_new(&d, NULL);
	/* the config file comes after testd's --config /dev/null: it wins */
	d.args[0] = "--config";
	d.args[1] = conf;
	d.args[2] = NULL;
	testd_restart(&d);
	ck_assert_int_eq(limit("max_segments_per_uid"), 5);
	held = raw_connect(d.socket);
	r = raw_call(held, "{\"method\":\"io.shmd.Create\",\"parameters\":"
	    "{\"name\":\"hup.keep\",\"size\":1,\"lifetime\":\"persistent\"}}");
	ck_assert_ptr_null(reply_error(r));
	json_object_put(r);
	f = fopen(conf, "w");
	fputs("max_segments_per_uid = 7\nmax_clients = 99\n", f);
	fclose(f);
	kill(d.pid, SIGHUP);
	for (i = 0; i < TESTD_PATIENCE_MS / 10 &&
	    limit("max_segments_per_uid") != 7; i++)
		usleep(10000);
	ck_assert_int_eq(limit("max_segments_per_uid"), 7);
	ck_assert_int_eq(limit("max_clients"), 99);
	/* the connection and the segment were kept */
	r = raw_call(held, "{\"method\":\"io.shmd.Open\",\"parameters\":"
	    "{\"name\":\"hup.keep\"}}");
	ck_assert_ptr_null(reply_error(r));
	json_object_put(r);
	/* a bad file on reload changes nothing, and shmd lives on */
	f = fopen(conf, "w");
	fputs("max_segments_per_uid = many\n", f);
	fclose(f);
	kill(d.pid, SIGHUP);
	/* once shmd has said what is wrong, the limits are as they were */
	testd_wait_log(&d, ":1: key 'max_segments_per_uid'", 1);
	r = raw_call(held, "{\"method\":\"io.shmd.Status\"}");
	json_object_put(r);
	ck_assert_int_eq(limit("max_segments_per_uid"), 7);
	close(held);
	log = read_file(d.log);
	ck_assert_ptr_nonnull(strstr(log, "max_segments_per_uid 5 -> 7"));
	free(log);
	unlink(conf);
}
END_TEST

START_TEST(test_journal_and_levels)
{
	char	*log;

	testd_new(&d, NULL);
	d.env[0] = "JOURNAL_STREAM=8:12345";
	d.env[1] = NULL;
	testd_restart(&d);
	testd_kill(&d);
	log = read_file(d.log);
	/* journald reads the priority from a <N> prefix */
	ck_assert_ptr_nonnull(strstr(log, "\n<6>shmd"));
	ck_assert_ptr_nonnull(strstr(log, "<7>client pid"));
	free(log);
	/* --log-level=warning: no info lines */
	ck_assert_int_eq(truncate(d.log, 0), 0);
	d.env[0] = NULL;
	d.args[0] = "--log-level=warning";
	d.args[1] = NULL;
	testd_restart(&d);
	testd_kill(&d);
	log = read_file(d.log);
	ck_assert_ptr_null(strstr(log, "ready on"));
	free(log);
}
END_TEST

START_TEST(test_config_errors)
{
	char		 conf[] = "/tmp/shmd-conf-XXXXXX", *err, want[128];
	const char	*argv[] = { test_program("daemon/shmd"), "--config",
	    conf, NULL };
	const char	*argv2[] = { test_program("daemon/shmd"), "--config",
	    "/dev/null", "--max-message-size=12Q", NULL };
	FILE		*f;
	int		 fd;

	fd = mkstemp(conf);
	f = fdopen(fd, "w");
	fputs("# ok\nmax_clients = 10\n\nattach_timeout = soon\n", f);
	fclose(f);
	ck_assert_int_eq(run_cmd2(NULL, &err, NULL, argv), 2);
	snprintf(want, sizeof want, "%s:4: key 'attach_timeout'", conf);
	ck_assert_msg(strstr(err, want) != NULL, "stderr: %s", err);
	ck_assert_ptr_null(strchr(strchr(err, '\n') + 1, '\n'));	/* one line */
	free(err);
	ck_assert_int_eq(run_cmd2(NULL, &err, NULL, argv2), 2);
	ck_assert_ptr_nonnull(strstr(err, "--max-message-size"));
	free(err);
	unlink(conf);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("systemd");
	TCase	*tc = tcase_create("systemd");

	tcase_add_checked_fixture(tc, NULL, stop);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_notify);
	tcase_add_test_when(tc, test_socket_activation,
	    access("/usr/bin/systemd-socket-activate", X_OK) == 0 ||
	    access("/bin/systemd-socket-activate", X_OK) == 0,
	    "no systemd-socket-activate");
	tcase_add_test_when(tc, test_socket_activation_two,
	    access("/usr/bin/systemd-socket-activate", X_OK) == 0 ||
	    access("/bin/systemd-socket-activate", X_OK) == 0,
	    "no systemd-socket-activate");
	tcase_add_test(tc, test_sighup_reload);
	tcase_add_test(tc, test_journal_and_levels);
	tcase_add_test(tc, test_config_errors);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
