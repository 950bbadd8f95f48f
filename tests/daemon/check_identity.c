/*
 * Integration tests: what shmd says matches who the caller is and what
 * the kernel holds. Strict UTF-8, one log line per event, events filtered
 * by the mode the kernel holds, "process" segments pinned to the process
 * that connected, reserved names, quota charges.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mount.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "frame.h"
#include "shmd.h"
#include "testutil.h"

static struct testd	d;

static void
start(void)
{
	testd_start(&d, "--log-level=debug", "--max-segments-per-uid=2", NULL);
}

static void
stop(void)
{
	testd_cleanup(&d);
}

/* Every byte the peer sends until it closes (or 5 s), NUL-terminated. */
static char *
read_until_closed(int fd, size_t *len)
{
	static char	buf[65536];
	struct pollfd	pfd = { fd, POLLIN, 0 };
	ssize_t		n;

	*len = 0;
	while (*len < sizeof buf - 1 && poll(&pfd, 1, 5000) == 1 &&
	    (n = recv(fd, buf + *len, sizeof buf - 1 - *len, 0)) > 0)
		*len += (size_t)n;
	buf[*len] = '\0';
	return buf;
}

/* 1. Overlong forms, surrogates, code points past U+10FFFF: refused. */
START_TEST(test_strict_utf8)
{
	static const char *const bad[] = {
		"\xc0\x80", "\xe0\x80\x80", "\xc1\xbf", "\xed\xa0\x80",
		"\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80", "\x80", "\xe2\x82",
	};
	char			 msg[128], *reply;
	size_t			 i, len;
	struct json_object	*r;
	int			 fd;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		fd = raw_connect(d.socket);
		snprintf(msg, sizeof msg, "{\"method\":\"io.shmd.X%s\"}", bad[i]);
		raw_send_msg(fd, msg);
		reply = read_until_closed(fd, &len);
		/* one ProtocolError, in valid UTF-8, then the close */
		ck_assert_uint_gt(len, 0);
		ck_assert_msg(frame_utf8_valid(reply, len), "reply %zu", i);
		ck_assert_ptr_nonnull(strstr(reply, "io.shmd.ProtocolError"));
		ck_assert_ptr_nonnull(strstr(reply, "invalid UTF-8"));
		close(fd);
	}
	/* real multi-byte text is fine, and echoed as it came */
	fd = raw_connect(d.socket);
	r = raw_call(fd, "{\"method\":\"io.shmd.Caf\xc3\xa9\xf0\x9f\x98\x80\"}");
	ck_assert_str_eq(reply_error(r), "org.varlink.service.MethodNotFound");
	ck_assert_str_eq(reply_str(r, "method"),
	    "io.shmd.Caf\xc3\xa9\xf0\x9f\x98\x80");
	json_object_put(r);
	close(fd);
	testd_assert_serves(&d);
}
END_TEST

/* 6. A method name with a newline cannot forge a log line. */
START_TEST(test_log_one_event_one_line)
{
	struct json_object	*r;
	char			*log, *line;
	int			 fd = raw_connect(d.socket);

	r = raw_call(fd, "{\"method\":\"io.shmd.X\\nshmd: destroyed forged "
	    "(shmid 1) for pid 1 uid 0\\r\\u001b[2K\"}");
	ck_assert_str_eq(reply_error(r), "org.varlink.service.MethodNotFound");
	json_object_put(r);
	close(fd);
	testd_assert_serves(&d);
	log = read_file(d.log);
	ck_assert_ptr_nonnull(strstr(log, "io.shmd.X\\x0ashmd: destroyed "
	    "forged"));
	for (line = strtok(log, "\n"); line != NULL; line = strtok(NULL, "\n"))
		ck_assert_msg(strncmp(line, "shmd: destroyed forged", 22) != 0 &&
		    strchr(line, '\r') == NULL && strchr(line, '\033') == NULL,
		    "forged: %s", line);
	free(log);
}
END_TEST

/*
 * 2. As uid 65534, watch until the sentinel's "created" event; exit 0 if
 * no event about "ev.closed" but its creation came, 1 otherwise.
 */
static int
watch_closed(void *arg)
{
	int			*ready = arg, fd = raw_connect(d.socket);
	int			 created = 0, other = 0;
	struct json_object	*r, *seg, *name;
	const char		*ev, *n;
	char			 b = 1;

	raw_send_msg(fd, "{\"method\":\"io.shmd.Watch\",\"more\":true}");
	json_object_put(raw_recv(fd, 5000));
	if (write(ready[1], &b, 1) != 1)
		return 2;
	while ((r = raw_recv(fd, 10000)) != NULL) {
		ev = reply_str(r, "event");
		seg = reply_member(r, "segment");
		n = seg != NULL && json_object_object_get_ex(seg, "name",
		    &name) ? json_object_get_string(name) : "";
		if (strcmp(n, "ev.sentinel") == 0) {
			json_object_put(r);
			return created == 1 && other == 0 ? 0 : 1;
		}
		if (strcmp(n, "ev.closed") == 0) {
			if (strcmp(ev, "created") == 0)
				created++;
			else
				other++;
		}
		json_object_put(r);
	}
	return 3;
}

START_TEST(test_events_follow_the_kernel)
{
	struct shmd_conn		*c;
	struct shmd_create_options	 o;
	struct shmd_segment		 s;
	struct shmid_ds			 ds;
	int				 ready[2], status;
	pid_t				 pid;
	char				 b;

	ck_assert_int_eq(pipe(ready), 0);
	pid = fork();
	if (pid == 0)
		_exit(as_nobody(watch_closed, ready));
	ck_assert_int_eq(read(ready[0], &b, 1), 1);
	ck_assert_int_eq(shmd_connect(d.socket, &c), SHMD_OK);
	shmd_create_options_init(&o);
	o.lifetime = SHMD_LIFETIME_PERSISTENT;
	o.flags |= SHMD_CREATE_MODE;
	o.mode = 0644;			/* others may see it: "created" */
	ck_assert_int_eq(shmd_create(c, "ev.closed", 64, &o, &s), SHMD_OK);
	/* the owner closes it; shmd looks (Open), then it goes behind its back */
	ck_assert_int_eq(shmctl(s.shmid, IPC_STAT, &ds), 0);
	ds.shm_perm.mode = 0600;
	ck_assert_int_eq(shmctl(s.shmid, IPC_SET, &ds), 0);
	ck_assert_int_eq(shmd_open(c, "ev.closed", &s), SHMD_OK);
	ck_assert_int_eq(shmctl(s.shmid, IPC_RMID, NULL), 0);
	ck_assert_int_eq(shmd_open(c, "ev.closed", &s),
	    SHMD_ERR_NO_SUCH_SEGMENT);
	ck_assert_int_eq(shmd_create(c, "ev.sentinel", 64, &o, NULL), SHMD_OK);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "uid 65534 learnt of a segment it could no longer list (%#x)",
	    status);
	ck_assert_int_eq(shmd_destroy(c, "ev.sentinel"), SHMD_OK);
	shmd_disconnect(c);
}
END_TEST

/* 4. As uid 65534: reserved names, through a raw socket and libshmd. */
static int
reserved_as_nobody(void *arg)
{
	struct shmd_conn	*c;
	struct json_object	*r;
	int			 fd = raw_connect(d.socket), ok = 1;
	const char		*e;

	r = raw_call(fd, "{\"method\":\"io.shmd.Create\",\"parameters\":"
	    "{\"name\":\"uid:0/cam0\",\"size\":64}}");
	e = reply_error(r);
	ok &= e != NULL && strcmp(e, "io.shmd.PermissionDenied") == 0;
	json_object_put(r);
	r = raw_call(fd, "{\"method\":\"io.shmd.Create\",\"parameters\":"
	    "{\"name\":\"gid:0\",\"size\":64}}");
	e = reply_error(r);
	ok &= e != NULL && strcmp(e, "io.shmd.PermissionDenied") == 0;
	json_object_put(r);
	/* its own: fine; not reserved (a leading zero): first come */
	r = raw_call(fd, "{\"method\":\"io.shmd.Create\",\"parameters\":"
	    "{\"name\":\"uid:65534/cam0\",\"size\":64,\"key\":0}}");
	ok &= reply_error(r) == NULL;
	json_object_put(r);
	r = raw_call(fd, "{\"method\":\"io.shmd.Create\",\"parameters\":"
	    "{\"name\":\"uid:01/x\",\"size\":64,\"key\":0}}");
	ok &= reply_error(r) == NULL;
	json_object_put(r);
	close(fd);
	/* libshmd says so before asking */
	if (shmd_connect(d.socket, &c) != SHMD_OK)
		return 1;
	ok &= shmd_create(c, "uid:0/cam1", 64, NULL, NULL) ==
	    SHMD_ERR_PERMISSION_DENIED;
	ok &= strstr(shmd_last_error(c), "reserved") != NULL;
	ok &= shmd_destroy(c, "uid:65534/cam0") == SHMD_OK;
	ok &= shmd_destroy(c, "uid:01/x") == SHMD_OK;
	shmd_disconnect(c);
	return ok ? 0 : 1;
}

START_TEST(test_reserved_names)
{
	struct shmd_conn	*c;
	struct shmd_segment	 s;

	ck_assert_int_eq(as_nobody(reserved_as_nobody, NULL), 0);
	/* root may take any */
	ck_assert_int_eq(shmd_connect(d.socket, &c), SHMD_OK);
	ck_assert_int_eq(shmd_create(c, "uid:1000/cam0", 64, NULL, &s), SHMD_OK);
	ck_assert_int_eq(shmd_destroy(c, "uid:1000/cam0"), SHMD_OK);
	shmd_disconnect(c);
}
END_TEST

/* An integer member of an object (not a reply's parameters). */
static long long
member_int(struct json_object *o, const char *key)
{
	struct json_object	*v;

	ck_assert(json_object_object_get_ex(o, key, &v));
	return json_object_get_int64(v);
}

/* 5. Charged to the uid it was made for; IPC_SET moves no charge. */
START_TEST(test_quota_charges)
{
	struct shmd_conn		*c;
	struct shmd_create_options	 o;
	struct shmd_segment		 s;
	struct shmid_ds			 ds;
	struct json_object		*r, *usage, *u;
	char				*out;
	int				 fd, found = 0;
	size_t				 i;

	ck_assert_int_eq(shmd_connect(d.socket, &c), SHMD_OK);
	shmd_create_options_init(&o);
	o.lifetime = SHMD_LIFETIME_PERSISTENT;
	o.flags |= SHMD_CREATE_UID | SHMD_CREATE_GID;
	o.uid = o.gid = 65534;
	ck_assert_int_eq(shmd_create(c, "q.a", 100, &o, &s), SHMD_OK);
	ck_assert_int_eq(shmd_create(c, "q.b", 200, &o, NULL), SHMD_OK);
	/* the owner hands q.a to uid 1: the charge stays with 65534 */
	ck_assert_int_eq(shmctl(s.shmid, IPC_STAT, &ds), 0);
	ds.shm_perm.uid = 1;
	ck_assert_int_eq(shmctl(s.shmid, IPC_SET, &ds), 0);
	o.flags &= ~(SHMD_CREATE_UID | SHMD_CREATE_GID);
	ck_assert_int_eq(shmd_create(c, "q.root", 1, &o, NULL), SHMD_OK);
	fd = raw_connect(d.socket);
	r = raw_call(fd, "{\"method\":\"io.shmd.Status\"}");
	usage = reply_member(r, "usage");
	ck_assert_ptr_nonnull(usage);
	for (i = 0; i < json_object_array_length(usage); i++) {
		u = json_object_array_get_idx(usage, i);
		ck_assert_int_ne(member_int(u, "uid"), 1);
		if (member_int(u, "uid") == 65534) {
			ck_assert_int_eq(member_int(u, "segments"), 2);
			ck_assert_int_eq(member_int(u, "bytes"), 300);
			found = 1;
		}
	}
	ck_assert(found);
	json_object_put(r);
	close(fd);
	/* and the quota (2) counts them: 65534 may make no more */
	o.flags |= SHMD_CREATE_UID | SHMD_CREATE_GID;
	ck_assert_int_eq(shmd_create(c, "q.c", 1, &o, NULL),
	    SHMD_ERR_QUOTA_EXCEEDED);
	/* shmdctl status shows the same */
	ck_assert_int_eq(testd_ctl(&d, &out, NULL, "status", "--json", NULL), 0);
	r = json_tokener_parse(out);
	ck_assert_ptr_nonnull(r);
	ck_assert(json_object_object_get_ex(r, "usage", &usage));
	for (found = 0, i = 0; i < json_object_array_length(usage); i++) {
		u = json_object_array_get_idx(usage, i);
		if (member_int(u, "uid") == 65534 &&
		    member_int(u, "segments") == 2 &&
		    member_int(u, "bytes") == 300)
			found = 1;
	}
	ck_assert(found);
	json_object_put(r);
	free(out);
	ck_assert_int_eq(shmd_destroy(c, "q.a"), SHMD_OK);
	ck_assert_int_eq(shmd_destroy(c, "q.b"), SHMD_OK);
	ck_assert_int_eq(shmd_destroy(c, "q.root"), SHMD_OK);
	shmd_disconnect(c);
}
END_TEST

/*
 * 3. In a pid namespace of the test's own (run as its pid 1): a client
 * connects, hands its socket to a child and exits; a `sleep` gets its pid;
 * the child creates a "process" segment on the inherited connection. It
 * follows the process that connected, gone: reaped at once, although a
 * process with that pid lives. Returns 0, or 1 with a line on stderr.
 */

#define PIN_FAIL(...) do { fprintf(stderr, __VA_ARGS__); goto out; } while (0)

static int
pinned_scenario(void *arg)
{
	struct testd		*nd = arg;
	struct shmd_conn	*c = NULL, *q = NULL;
	struct shmd_segment	 s;
	pid_t			 dpid, client, sleeper = -1;
	int			 to_holder[2], from_holder[2], i, rc = 1, st;
	char			 b;

	if ((dpid = fork()) == 0) {
		execl(test_program("daemon/shmd"), "shmd", "--config",
		    "/dev/null", "--socket", nd->socket, "--state-dir",
		    nd->state, "--key-base=0x7e5f2000", "--key-count=16",
		    (char *)NULL);
		_exit(127);
	}
	nd->pid = dpid;
	if (testd_wait_ready(nd, 10000) == -1)
		PIN_FAIL("shmd did not start\n");
	if (pipe(to_holder) == -1 || pipe(from_holder) == -1)
		PIN_FAIL("pipe\n");
	if ((client = fork()) == 0) {
		/* connects, hands the connection to a child, exits */
		if (shmd_connect(nd->socket, &c) != SHMD_OK)
			_exit(1);
		if (fork() == 0) {
			struct shmd_create_options	o;

			if (read(to_holder[0], &b, 1) != 1)
				_exit(1);
			shmd_create_options_init(&o);
			o.lifetime = SHMD_LIFETIME_PROCESS;
			b = shmd_create(c, "pin.proc", 64, &o, NULL) == SHMD_OK;
			if (write(from_holder[1], &b, 1) != 1)
				_exit(1);
			pause();
			_exit(0);
		}
		_exit(0);
	}
	waitpid(client, NULL, 0);	/* its pid is free now */
	if (testutil_set_last_pid(client - 1) == -1)
		PIN_FAIL("ns_last_pid\n");
	if ((sleeper = fork()) == 0) {
		pause();
		_exit(0);
	}
	if (sleeper != client)
		PIN_FAIL("the sleeper got pid %d, not %d\n", (int)sleeper,
		    (int)client);
	b = 0;
	if (write(to_holder[1], &b, 1) != 1 ||
	    read(from_holder[0], &b, 1) != 1 || b != 1)
		PIN_FAIL("the create failed\n");
	if (shmd_connect(nd->socket, &q) != SHMD_OK)
		PIN_FAIL("connect\n");
	for (i = 0; i < 200; i++) {
		if (shmd_open(q, "pin.proc", &s) == SHMD_ERR_NO_SUCH_SEGMENT)
			break;
		usleep(10000);
	}
	if (i == 200)
		PIN_FAIL("the segment lives on with pid %d's new process\n",
		    (int)client);
	rc = 0;
out:
	if (q != NULL)
		shmd_disconnect(q);
	if (sleeper > 0)
		kill(sleeper, SIGKILL);
	kill(dpid, SIGTERM);
	waitpid(dpid, &st, 0);
	return rc;
}

START_TEST(test_process_pinned_at_connect)
{
	struct testd	nd;

	testd_new(&nd, NULL);
	/* its own /proc, as a container has: pids as it sees them */
	ck_assert_msg(testutil_in_namespaces(CLONE_NEWNS, pinned_scenario,
	    &nd) == 0, "pinned scenario failed");
	nd.pid = -1;
	testd_stop(&nd);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("identity");
	TCase	*tc = tcase_create("identity");

	tcase_add_checked_fixture(tc, start, stop);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_strict_utf8);
	tcase_add_test(tc, test_log_one_event_one_line);
	tcase_add_test(tc, test_quota_charges);
	tcase_add_test_when(tc, test_events_follow_the_kernel, getuid() == 0,
	    "needs root to act as uid 65534");
	tcase_add_test_when(tc, test_reserved_names, getuid() == 0,
	    "needs root to act as uid 65534");
	tcase_add_test_when(tc, test_process_pinned_at_connect,
	    getuid() == 0 && testutil_can_unshare(CLONE_NEWPID | CLONE_NEWNS),
	    "needs root and pid and mount namespaces");
	suite_add_tcase(s, tc);
	return run_suite(s);
}
