/*
 * Integration tests: hostile clients and limits. Every test checks that
 * the daemon still serves another connection afterwards.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "shmd.h"
#include "testutil.h"

static struct testd	d;

static void
start(void)
{
	testd_start(&d, "--max-clients=2000", "--max-segments-per-uid=5",
	    "--max-bytes-per-uid=64K", NULL);
}

static void
stop(void)
{
	testd_cleanup(&d);
}

START_TEST(test_deep_nesting_and_huge_numbers)
{
	char			 msg[8192];
	int			 fd, n = 0, i;
	struct json_object	*r;

	n += sprintf(msg, "{\"method\":\"io.shmd.Status\",\"parameters\":{\"x\":");
	for (i = 0; i < 2000; i++)
		msg[n++] = '[';
	msg[n] = '\0';
	fd = raw_connect(d.socket);
	raw_send_msg(fd, msg);
	r = raw_recv(fd, TESTD_PATIENCE_MS);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(reply_error(r), "io.shmd.ProtocolError");
	json_object_put(r);
	close(fd);
	fd = raw_connect(d.socket);
	r = raw_call(fd, "{\"method\":\"io.shmd.Create\",\"parameters\":{\"name\":"
	    "\"h.big\",\"size\":1e308}}");
	ck_assert_str_eq(reply_str(r, "parameter"), "size");
	json_object_put(r);
	r = raw_call(fd, "{\"method\":\"io.shmd.Create\",\"parameters\":{\"name\":"
	    "\"h.big\",\"size\":123456789012345678901234567890}}");
	ck_assert_str_eq(reply_str(r, "parameter"), "size");
	json_object_put(r);
	r = raw_call(fd, "{\"method\":\"io.shmd.Create\",\"parameters\":{\"name\":"
	    "\"h.big\",\"size\":1,\"mode\":-99999999999999999999999}}");
	ck_assert_str_eq(reply_str(r, "parameter"), "mode");
	json_object_put(r);
	close(fd);
	testd_assert_serves(&d);
}
END_TEST


START_TEST(test_client_never_reads)
{
	const char	 call[] = "{\"method\":\"io.shmd.List\"}";
	long		 before, after;
	long long	 clients;
	pid_t		 pid;
	int		 i, counted;
	char		*log;

	before = testd_rss_kb(&d);
	/* A child pipelines calls without end and never reads a reply. */
	pid = fork();
	if (pid == 0) {
		int fd = raw_connect(d.socket);

		for (;;)
			if (send(fd, call, sizeof call, MSG_NOSIGNAL) == -1)
				break;
		pause();
		_exit(0);
	}
	/*
	 * Its connection counts (beside the one asking), then is dropped
	 * once it has read nothing for a while (5 s).
	 */
	for (i = 0, counted = 0; i < TESTD_PATIENCE_MS / 10; i++) {
		clients = testd_status(&d, "clients");
		if (clients >= 2)
			counted = 1;
		else if (counted && clients == 1)
			break;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	ck_assert_msg(counted && i < TESTD_PATIENCE_MS / 10,
	    "the connection that reads nothing was %s",
	    counted ? "never dropped" : "never seen");
	log = read_file(d.log);
	ck_assert_ptr_nonnull(strstr(log, "has read none of its replies"));
	free(log);
	after = testd_rss_kb(&d);
	/* AddressSanitizer's quarantine keeps freed memory: no bound there. */
	if (getenv("SHMD_SANITIZED") == NULL)
		ck_assert_msg(after - before < 16 * 1024,
		    "RSS grew from %ld to %ld kB", before, after);
	testd_assert_serves(&d);
}
END_TEST

START_TEST(test_out_of_descriptors)
{
	struct rlimit	 rl, old;
	int		 fds[60], i, n = 0;
	char		*log;

	/* lower only the soft limit: raising it back needs no privilege */
	ck_assert_int_eq(prlimit(d.pid, RLIMIT_NOFILE, NULL, &old), 0);
	rl.rlim_cur = 24;
	rl.rlim_max = old.rlim_max;
	ck_assert_int_eq(prlimit(d.pid, RLIMIT_NOFILE, &rl, NULL), 0);
	for (i = 0; i < 60; i++)
		if ((fds[n] = raw_connect(d.socket)) >= 0)
			n++;
	/* until it has run out, and said so */
	for (i = 0; i < TESTD_PATIENCE_MS / 10; i++) {
		log = read_file(d.log);
		if (strstr(log, "pausing for a second") != NULL)
			i = TESTD_PATIENCE_MS / 10;
		free(log);
		if (i < TESTD_PATIENCE_MS / 10)
			usleep(10000);
	}
	for (i = 0; i < n; i++)
		close(fds[i]);
	ck_assert_int_eq(prlimit(d.pid, RLIMIT_NOFILE, &old, NULL), 0);
	/* it paused accepting instead of spinning or dying, and recovers */
	for (i = 0; i < TESTD_PATIENCE_MS / 10; i++) {
		int			 fd = raw_connect(d.socket);
		struct json_object	*r;

		if (fd >= 0) {
			raw_send_msg(fd, "{\"method\":\"io.shmd.Status\"}");
			r = raw_recv(fd, 500);
			close(fd);
			if (r != NULL) {
				json_object_put(r);
				break;
			}
		}
		usleep(10000);
	}
	ck_assert_int_lt(i, TESTD_PATIENCE_MS / 10);
	log = read_file(d.log);
	ck_assert_ptr_nonnull(strstr(log, "pausing for a second"));
	free(log);
}
END_TEST

START_TEST(test_thousands_of_connections)
{
	struct rlimit		 rl;
	static int		 fds[1500];
	struct json_object	*r;
	int			 i;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = rl.rlim_max;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	for (i = 0; i < 1500; i++) {
		fds[i] = raw_connect(d.socket);
		ck_assert_int_ge(fds[i], 0);
		raw_send_msg(fds[i], "{\"method\":\"io.shmd.List\"}");
	}
	for (i = 0; i < 1500; i++) {
		r = raw_recv(fds[i], TESTD_PATIENCE_MS);
		ck_assert_msg(r != NULL, "connection %d got no reply", i);
		ck_assert_ptr_null(reply_error(r));
		json_object_put(r);
	}
	for (i = 0; i < 1500; i++)
		close(fds[i]);
	testd_assert_serves(&d);
}
END_TEST

/* ------------------------------------------------ permissions and quotas */

static const char	*sock;
static int		 grp_shmid;

/* As nobody with supplementary group 4242. */
static int
nobody_in_group(void *arg)
{
	struct shmd_conn		*c;
	struct shmd_segment		 s, *segs;
	struct shmd_create_options	 o;
	size_t				 n;

	if (shmd_connect(sock, &c) != SHMD_OK)
		return 10;
	/* group read permission through a supplementary group: shmd and the kernel agree */
	if (shmd_open(c, "g.shared", &s) != SHMD_OK)
		return 11;
	if (shmat(s.shmid, NULL, SHM_RDONLY) == (void *)-1)
		return 12;
	if (shmat(s.shmid, NULL, 0) != (void *)-1 || errno != EACCES)
		return 13;
	if (shmd_open(c, "g.other", &s) != SHMD_ERR_PERMISSION_DENIED)
		return 14;
	if (shmat(grp_shmid, NULL, SHM_RDONLY) != (void *)-1)
		return 15;
	if (shmd_list(c, &segs, &n) != SHMD_OK || n != 1 ||
	    strcmp(segs[0].name, "g.shared") != 0)
		return 16;
	shmd_free(segs);
	/* it may give its own segment a group it belongs to, not another */
	shmd_create_options_init(&o);
	o.flags = SHMD_CREATE_GID;
	o.gid = 4242;
	if (shmd_create(c, "g.mine", 10, &o, &s) != SHMD_OK || s.gid != 4242)
		return 17;
	o.gid = 4243;
	if (shmd_create(c, "g.bad", 10, &o, &s) != SHMD_ERR_PERMISSION_DENIED)
		return 18;
	if (shmd_destroy(c, "g.mine") != SHMD_OK)
		return 19;
	shmd_disconnect(c);
	return 0;
}

static int
run_as_nobody_in_group(int (*fn)(void *))
{
	pid_t	pid;
	int	status;
	gid_t	g = 4242;

	pid = fork();
	if (pid == 0) {
		if (setgroups(1, &g) == -1 || setgid(65534) == -1 ||
		    setuid(65534) == -1)
			_exit(99);
		_exit(fn(NULL));
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/*
 * As root on c: g.shared, of group 4242, which the group may read;
 * persistent, since a child attaches it and exits (a detach segment
 * would end at the next look, racing the test's Destroy).
 */
static void
create_group_shared(struct shmd_conn *c, struct shmd_create_options *o,
    struct shmd_segment *s)
{
	shmd_create_options_init(o);
	o->lifetime = SHMD_LIFETIME_PERSISTENT;
	o->flags = SHMD_CREATE_GID | SHMD_CREATE_MODE;
	o->gid = 4242;
	o->mode = 0640;
	ck_assert_int_eq(shmd_create(c, "g.shared", 10, o, s), SHMD_OK);
}

/*
 * As nobody whose supplementary group 4242 is dropped after it connects:
 * the connection made before still has it (shmd reads a connection's
 * groups only when a check needs them, and reads those of connect time),
 * one made after does not.
 */
static int
nobody_drops_its_group(void *arg)
{
	struct shmd_conn	*before, *after;
	struct shmd_segment	 s;
	gid_t			 g = 4242;

	if (setgroups(1, &g) == -1 || setegid(65534) == -1 ||
	    seteuid(65534) == -1)
		return 99;
	if (shmd_connect(sock, &before) != SHMD_OK)
		return 10;
	if (seteuid(0) == -1 || setgroups(0, NULL) == -1 ||
	    seteuid(65534) == -1)
		return 98;
	if (shmd_connect(sock, &after) != SHMD_OK)
		return 11;
	if (shmd_open(before, "g.shared", &s) != SHMD_OK)
		return 12;
	if (shmd_open(after, "g.shared", &s) != SHMD_ERR_PERMISSION_DENIED)
		return 13;
	shmd_disconnect(before);
	shmd_disconnect(after);
	return 0;
}

START_TEST(test_groups_of_connect_time)
{
	struct shmd_conn		*c;
	struct shmd_create_options	 o;
	struct shmd_segment		 s;
	pid_t				 pid;
	int				 status;

	ck_assert_int_eq(shmd_connect(d.socket, &c), SHMD_OK);
	create_group_shared(c, &o, &s);
	sock = d.socket;
	if ((pid = fork()) == 0)
		_exit(nobody_drops_its_group(NULL));
	ck_assert_int_ne(pid, -1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_int_eq(shmd_destroy(c, "g.shared"), SHMD_OK);
	shmd_disconnect(c);
	testd_assert_serves(&d);
}
END_TEST

START_TEST(test_groups)
{
	struct shmd_conn		*c;
	struct shmd_create_options	 o;
	struct shmd_segment		 s;

	ck_assert_int_eq(shmd_connect(d.socket, &c), SHMD_OK);
	create_group_shared(c, &o, &s);
	o.gid = 4243;
	ck_assert_int_eq(shmd_create(c, "g.other", 10, &o, &s), SHMD_OK);
	grp_shmid = s.shmid;
	sock = d.socket;
	ck_assert_int_eq(run_as_nobody_in_group(nobody_in_group), 0);
	ck_assert_int_eq(shmd_destroy(c, "g.shared"), SHMD_OK);
	ck_assert_int_eq(shmd_destroy(c, "g.other"), SHMD_OK);
	shmd_disconnect(c);
	testd_assert_serves(&d);
}
END_TEST

/* As nobody: create until refused; refusals leave nothing behind. */
static int
nobody_fills_quota(void *arg)
{
	struct shmd_conn	*c;
	char			 name[32];
	int			 i, rc;

	if (shmd_connect(sock, &c) != SHMD_OK)
		return 10;
	for (i = 0; i < 10; i++) {
		snprintf(name, sizeof name, "q.%d", i);
		rc = shmd_create(c, name, 4096, NULL, NULL);
		if (rc != SHMD_OK)
			break;
	}
	if (i != 5 || rc != SHMD_ERR_QUOTA_EXCEEDED ||
	    strstr(shmd_last_error(c), "segments (max 5)") == NULL)
		return 11;
	/* bytes: 5 x 4K held of 64K; destroy two, then ask for too much */
	if (shmd_destroy(c, "q.0") != SHMD_OK ||
	    shmd_destroy(c, "q.1") != SHMD_OK)
		return 12;
	if (shmd_create(c, "q.big", 60 * 1024, NULL, NULL) !=
	    SHMD_ERR_QUOTA_EXCEEDED ||
	    strstr(shmd_last_error(c), "bytes (max 65536)") == NULL)
		return 13;
	if (shmd_create(c, "q.fits", 52 * 1024, NULL, NULL) != SHMD_OK)
		return 14;
	shmd_disconnect(c);
	return 0;
}

START_TEST(test_quota_until_refused)
{
	struct shmd_conn	*c;
	struct shmd_segment	*segs;
	size_t			 n, i;
	int			 before = kernel_count_by_cpid(d.pid);

	sock = d.socket;
	ck_assert_int_eq(as_nobody(nobody_fills_quota, NULL), 0);
	/* what was refused left no kernel segment */
	ck_assert_int_eq(kernel_count_by_cpid(d.pid), before + 4);
	ck_assert_int_eq(shmd_connect(d.socket, &c), SHMD_OK);
	ck_assert_int_eq(shmd_list(c, &segs, &n), SHMD_OK);
	ck_assert_uint_eq(n, 4);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(shmd_destroy(c, segs[i].name), SHMD_OK);
	shmd_free(segs);
	shmd_disconnect(c);
	testd_assert_serves(&d);
}
END_TEST

/* In an IPC namespace of its own, with tiny kernel limits. */
static void
write_sysctl(const char *path, const char *value)
{
	FILE	*f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(value, f);
	ck_assert_int_eq(fclose(f), 0);
}

/*
 * A Create on a raw connection of d is SystemLimit naming limit, with its
 * value max and a message naming the sysctl to raise.
 */
static void
assert_system_limit(const char *name, long long size, const char *limit,
    long long max)
{
	struct json_object	*r;
	char			 msg[256], sysctl[64];
	int			 fd = raw_connect(d.socket);

	snprintf(msg, sizeof msg, "{\"method\":\"io.shmd.Create\",\"parameters\""
	    ":{\"name\":\"%s\",\"size\":%lld}}", name, size);
	r = raw_call(fd, msg);
	close(fd);
	ck_assert_str_eq(reply_error(r), "io.shmd.SystemLimit");
	ck_assert_str_eq(reply_str(r, "limit"), limit);
	ck_assert_int_eq(reply_int(r, "max"), max);
	snprintf(sysctl, sizeof sysctl, "kernel.%s", limit);
	ck_assert_msg(strstr(reply_str(r, "message"), sysctl) != NULL, "%s",
	    reply_str(r, "message"));
	json_object_put(r);
}

START_TEST(test_system_limits)
{
	struct shmd_conn	*c;
	struct shmd_segment	 s;
	int			 i, rc;

	ck_assert_int_eq(unshare(CLONE_NEWIPC), 0);
	write_sysctl("/proc/sys/kernel/shmmni", "3");
	write_sysctl("/proc/sys/kernel/shmmax", "8192");
	testd_start(&d, "--max-segment-size=1M", NULL);
	ck_assert_int_eq(shmd_connect(d.socket, &c), SHMD_OK);
	rc = shmd_create(c, "sl.big", 16384, NULL, NULL);
	ck_assert_int_eq(rc, SHMD_ERR_SYSTEM_LIMIT);
	ck_assert_ptr_nonnull(strstr(shmd_last_error(c), "EINVAL"));
	ck_assert_ptr_nonnull(strstr(shmd_last_error(c), "shmmax"));
	assert_system_limit("sl.big", 16384, "shmmax", 8192);
	for (i = 0; i < 3; i++) {
		char name[16];

		snprintf(name, sizeof name, "sl.%d", i);
		ck_assert_int_eq(shmd_create(c, name, 4096, NULL, NULL), SHMD_OK);
	}
	rc = shmd_create(c, "sl.3", 4096, NULL, NULL);
	ck_assert_int_eq(rc, SHMD_ERR_SYSTEM_LIMIT);
	ck_assert_ptr_nonnull(strstr(shmd_last_error(c), "ENOSPC"));
	ck_assert_ptr_nonnull(strstr(shmd_last_error(c), "shmmni"));
	assert_system_limit("sl.3", 4096, "shmmni", 3);
	/* nothing left behind: the name is free and works once there is room */
	ck_assert_int_eq(shmd_open(c, "sl.3", &s), SHMD_ERR_NO_SUCH_SEGMENT);
	ck_assert_int_eq(kernel_count_by_cpid(d.pid), 3);
	ck_assert_int_eq(shmd_destroy(c, "sl.0"), SHMD_OK);
	ck_assert_int_eq(shmd_create(c, "sl.3", 4096, NULL, NULL), SHMD_OK);
	/* 2 pages in use and kernel.shmall 3: 2 more are refused, 1 is not */
	ck_assert_int_eq(shmd_destroy(c, "sl.1"), SHMD_OK);
	write_sysctl("/proc/sys/kernel/shmall", "3");
	assert_system_limit("sl.all", 8192, "shmall", 3);
	ck_assert_int_eq(kernel_count_by_cpid(d.pid), 2);
	ck_assert_int_eq(shmd_create(c, "sl.all", 4096, NULL, NULL), SHMD_OK);
	shmd_disconnect(c);
	testd_cleanup(&d);
}
END_TEST


/* ------------------------------------- issue: no user can take shmd down */

/* A Status call on a new connection is answered: 0, else 1. */
static int
served(void *arg)
{
	int			 fd = raw_connect(d.socket);
	struct json_object	*r;
	int			 ok;

	raw_send_msg(fd, "{\"method\":\"io.shmd.Status\"}");
	r = raw_recv(fd, TESTD_PATIENCE_MS);
	ok = r != NULL && reply_error(r) == NULL;
	json_object_put(r);
	close(fd);
	return ok ? 0 : 1;
}

/*
 * As uid 65534: hold max_clients_per_uid (8) connections, see the next
 * one refused, tell the parent (fds[1]) and hold them until it is done.
 */
static int
hog_connections(void *arg)
{
	int			*pfd = arg, fds[9], i, ok = 1;
	struct json_object	*r;
	char			 b = 0;

	for (i = 0; i < 8; i++) {
		fds[i] = raw_connect(d.socket);
		raw_send_msg(fds[i], "{\"method\":\"io.shmd.Status\"}");
		r = raw_recv(fds[i], TESTD_PATIENCE_MS);
		ok &= r != NULL && reply_error(r) == NULL;
		json_object_put(r);
	}
	fds[8] = raw_connect(d.socket);
	r = raw_recv(fds[8], TESTD_PATIENCE_MS);
	ok &= r != NULL && reply_error(r) != NULL &&
	    strcmp(reply_error(r), "io.shmd.QuotaExceeded") == 0 &&
	    strcmp(reply_str(r, "limit"), "clients_per_uid") == 0 &&
	    reply_int(r, "max") == 8;
	json_object_put(r);
	if (write(pfd[1], &b, 1) != 1 || read(pfd[0], &b, 1) != 1)
		ok = 0;
	return ok ? 0 : 1;
}

/* 1. One uid cannot take every connection: others and root are served. */
START_TEST(test_connections_per_uid)
{
	int	up[2], down[2], status, i;
	int	childfds[2];
	pid_t	pid;
	char	b = 0;

	testd_cleanup(&d);
	testd_start(&d, "--max-clients=64", "--max-clients-per-uid=8", NULL);
	ck_assert_int_eq(pipe(up), 0);
	ck_assert_int_eq(pipe(down), 0);
	pid = fork();
	if (pid == 0) {
		childfds[0] = down[0];
		childfds[1] = up[1];
		_exit(as_uid(65534, hog_connections, childfds));
	}
	ck_assert_int_eq(read(up[0], &b, 1), 1);
	/* while uid 65534 holds its share: root, and another uid, get in */
	testd_assert_serves(&d);
	ck_assert_int_eq(as_uid(1, served, NULL), 0);
	ck_assert_int_eq(write(down[1], &b, 1), 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* once it has left (and shmd has seen its connections close), it
	 * gets in again */
	for (i = 0; i < TESTD_PATIENCE_MS / 10 &&
	    as_uid(65534, served, NULL) != 0; i++)
		usleep(10000);
	ck_assert_int_lt(i, TESTD_PATIENCE_MS / 10);
}
END_TEST

/* 6. 300 non-blocking connects at once, while shmd is busy: no EAGAIN. */
START_TEST(test_burst_of_connections)
{
	static int		 fds[300];
	struct json_object	*r;
	int			 i, again = 0;

	ck_assert_int_eq(kill(d.pid, SIGSTOP), 0);
	for (i = 0; i < 300; i++) {
		struct sockaddr_un	sun;

		fds[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		ck_assert_int_ge(fds[i], 0);
		memset(&sun, 0, sizeof sun);
		sun.sun_family = AF_UNIX;
		ck_assert_uint_lt(strlen(d.socket), sizeof sun.sun_path);
		memcpy(sun.sun_path, d.socket, strlen(d.socket));
		if (connect(fds[i], (struct sockaddr *)&sun, sizeof sun) == -1)
			again += errno == EAGAIN;
	}
	ck_assert_int_eq(kill(d.pid, SIGCONT), 0);
	ck_assert_int_eq(again, 0);
	for (i = 0; i < 300; i++) {
		int fl = fcntl(fds[i], F_GETFL);

		fcntl(fds[i], F_SETFL, fl & ~O_NONBLOCK);
		raw_send_msg(fds[i], "{\"method\":\"io.shmd.Status\"}");
		r = raw_recv(fds[i], TESTD_PATIENCE_MS);
		ck_assert_ptr_nonnull(r);
		ck_assert_ptr_null(reply_error(r));
		json_object_put(r);
		close(fds[i]);
	}
}
END_TEST

/* Events read by a watcher until it has seen n, or 10 s pass: how many. */
static int
watch_count(int fd, int n)
{
	struct json_object	*r;
	int			 seen = 0;

	while (seen < n && (r = raw_recv(fd, TESTD_PATIENCE_MS)) != NULL) {
		seen++;
		json_object_put(r);
	}
	return seen;
}

/*
 * 4. Watchers that never read, under a burst of events: the daemon's
 * queued output stays under max_output_bytes; those holding the most are
 * dropped, a watcher that reads keeps all its events, others are served.
 */
START_TEST(test_silent_watchers)
{
	static int		 silent[40];
	struct json_object	*r;
	char			 name[300], msg[600], *log;
	int			 i, c, fds[2], small = 4096, dropped = 0;
	int			 reader_fd, got;
	pid_t		 reader;
	long		 before, peak = 0, rss;
	const int	 cycles = 1500;

	testd_cleanup(&d);
	testd_start(&d, "--max-output-bytes=2M", NULL);
	before = testd_rss_kb(&d);
	for (i = 0; i < 40; i++) {
		silent[i] = raw_connect(d.socket);
		setsockopt(silent[i], SOL_SOCKET, SO_RCVBUF, &small,
		    sizeof small);
		raw_send_msg(silent[i], "{\"method\":\"io.shmd.Watch\","
		    "\"more\":true}");
		/* ready */
		json_object_put(raw_recv(silent[i], TESTD_PATIENCE_MS));
	}
	/* a watcher that reads, in a child: how many events it saw */
	ck_assert_int_eq(pipe(fds), 0);
	reader_fd = raw_connect(d.socket);
	raw_send_msg(reader_fd, "{\"method\":\"io.shmd.Watch\",\"more\":true}");
	json_object_put(raw_recv(reader_fd, TESTD_PATIENCE_MS));
	reader = fork();
	if (reader == 0) {
		got = watch_count(reader_fd, 2 * cycles);
		_exit(write(fds[1], &got, sizeof got) == sizeof got ? 0 : 1);
	}
	close(reader_fd);
	/* the burst: long names, so events are big */
	memset(name, 'w', sizeof name);
	c = raw_connect(d.socket);
	for (i = 0; i < cycles; i++) {
		snprintf(msg, sizeof msg, "{\"method\":\"io.shmd.Create\","
		    "\"parameters\":{\"name\":\"%.200s.%d\",\"size\":64,"
		    "\"key\":0,\"lifetime\":\"persistent\"}}", name, i);
		r = raw_call(c, msg);
		ck_assert_ptr_null(reply_error(r));
		json_object_put(r);
		snprintf(msg, sizeof msg, "{\"method\":\"io.shmd.Destroy\","
		    "\"parameters\":{\"name\":\"%.200s.%d\"}}", name, i);
		r = raw_call(c, msg);
		ck_assert_ptr_null(reply_error(r));
		json_object_put(r);
		if (i % 100 == 0 && (rss = testd_rss_kb(&d)) > peak)
			peak = rss;
	}
	close(c);
	/* the reader saw every event */
	ck_assert_int_eq(read(fds[0], &got, sizeof got), sizeof got);
	waitpid(reader, NULL, 0);
	ck_assert_int_eq(got, 2 * cycles);
	/* silent ones were dropped, the biggest first */
	for (i = 0; i < 40; i++) {
		dropped += raw_closed(silent[i], 100);
		close(silent[i]);
	}
	ck_assert_int_gt(dropped, 0);
	log = read_file(d.log);
	ck_assert_ptr_nonnull(strstr(log, "the most of all"));
	free(log);
	testd_assert_serves(&d);
	/* AddressSanitizer's quarantine keeps freed memory: no bound there. */
	if (getenv("SHMD_SANITIZED") == NULL)
		ck_assert_msg(peak - before < 24 * 1024,
		    "RSS grew from %ld to %ld kB", before, peak);
}
END_TEST

/*
 * 5. A List reply over 8 MiB (20,000 segments with long names, in an IPC
 * namespace of the test's own with shmmni raised) reaches a client that
 * reads it: shmdctl ls succeeds.
 */
START_TEST(test_big_reply)
{
	char			 msg[600], name[250], *out;
	struct json_object	*r;
	int			 i, j, c, n = 20000, batch = 500;

	ck_assert_int_eq(unshare(CLONE_NEWIPC), 0);
	write_sysctl("/proc/sys/kernel/shmmni", "32768");
	testd_start(&d, NULL);
	memset(name, 'b', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	c = raw_connect(d.socket);
	for (i = 0; i < n; i += batch) {
		for (j = i; j < i + batch; j++) {
			snprintf(msg, sizeof msg, "{\"method\":\"io.shmd.Create\","
			    "\"parameters\":{\"name\":\"%.245s.%d\",\"size\":1,"
			    "\"key\":0,\"lifetime\":\"persistent\"}}", name, j);
			raw_send_msg(c, msg);
		}
		for (j = i; j < i + batch; j++) {
			r = raw_recv(c, TESTD_PATIENCE_MS);
			ck_assert_ptr_nonnull(r);
			ck_assert_ptr_null(reply_error(r));
			json_object_put(r);
		}
	}
	close(c);
	/* shmdctl prints the daemon's array as it came: the reply's size */
	ck_assert_int_eq(testd_ctl(&d, &out, NULL, "ls", "--json", NULL), 0);
	ck_assert_uint_gt(strlen(out), 8u << 20);
	free(out);
	testd_assert_serves(&d);
	/* the namespace, and every segment in it, goes with the daemon */
	testd_cleanup(&d);
}
END_TEST

/*
 * 2. Creators beyond the descriptor budget are followed by polling /proc:
 * with a hard limit of 256 descriptors and max_clients 64, 150 processes
 * each create a "process" segment; a root connection is served meanwhile,
 * every segment lives on across a restart, and is reaped after its
 * creator exits.
 */
START_TEST(test_creators_beyond_descriptors)
{
	struct rlimit		 rl = { 256, 256 };
	struct shmd_conn	*c;
	struct shmd_segment	*segs;
	size_t			 n = 1;
	pid_t			 kids[150], sentinel;
	int			 go[2], done[2], i, ok = 0, status, round;
	char			 b, why[128] = "", got[128];

	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	testd_cleanup(&d);
	testd_start(&d, "--max-clients=64", "--max-clients-per-uid=0", NULL);
	/* close-on-exec: a daemon started later must not hold them open */
	ck_assert_int_eq(pipe2(go, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(done, O_CLOEXEC), 0);
	for (i = 0; i < 150; i++) {
		if ((kids[i] = fork()) == 0) {
			struct shmd_conn		*cc = NULL;
			struct shmd_create_options	 o;
			char				 name[32];
			int				 rc;

			close(go[1]);
			shmd_create_options_init(&o);
			o.lifetime = SHMD_LIFETIME_PROCESS;
			snprintf(name, sizeof name, "fd.%d", i);
			/*
			 * 150 at once against max_clients 64: one refused for
			 * "clients" (the machine is busy, those before have not
			 * closed yet) tries again, as a client would, for as
			 * long as it takes (the case's timeout bounds it).
			 */
			for (;;) {
				rc = shmd_connect(d.socket, &cc);
				if (rc == SHMD_OK)
					rc = shmd_create(cc, name, 64, &o, NULL);
				if (rc != SHMD_ERR_QUOTA_EXCEEDED ||
				    strstr(shmd_last_error(cc), "clients") == NULL)
					break;
				shmd_disconnect(cc);
				cc = NULL;
				usleep(10000);
			}
			/* what went wrong, in one atomic write: "" when fine */
			memset(got, 0, sizeof got);
			if (rc != SHMD_OK)
				snprintf(got, sizeof got, "%s: %s",
				    shmd_strerror(rc), rc == SHMD_ERR_CONNECT ?
				    strerror(errno) : shmd_last_error(cc));
			if (rc == SHMD_OK || rc != SHMD_ERR_CONNECT)
				shmd_disconnect(cc);
			if (write(done[1], got, sizeof got) != sizeof got)
				_exit(1);
			/* live until the parent says go */
			if (read(go[0], &b, 1) < 0)
				_exit(1);
			_exit(0);
		}
	}
	close(go[0]);
	for (i = 0; i < 150; i++) {
		ck_assert_int_eq(read(done[0], got, sizeof got), sizeof got);
		ok += got[0] == '\0';
		if (got[0] != '\0' && why[0] == '\0')
			memcpy(why, got, sizeof why);
	}
	ck_assert_msg(ok == 150, "%d of 150 created; the first error: %s", ok,
	    why);
	testd_assert_serves(&d);
	/*
	 * Every one lives while its creator does, followed by a pidfd or,
	 * past the budget, through /proc; and so again after a restart
	 * (where pidfs names them, each is opened for a moment to be known,
	 * and those past the budget polled by their start time).
	 */
	for (round = 0; round < 2; round++) {
		if (round == 1) {
			testd_kill(&d);
			testd_restart(&d);
		}
		/* The wait: a creator that exits has its segment reaped by then. */
		if ((sentinel = fork()) == 0) {
			struct shmd_conn		*cc = NULL;
			struct shmd_create_options	 o;

			shmd_create_options_init(&o);
			o.lifetime = SHMD_LIFETIME_PROCESS;
			_exit(shmd_connect(d.socket, &cc) != SHMD_OK ||
			    shmd_create(cc, "fd.sentinel", 64, &o, NULL) !=
			    SHMD_OK);
		}
		ck_assert_int_eq(waitpid(sentinel, &status, 0), sentinel);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		ck_assert_int_eq(shmd_connect(d.socket, &c), SHMD_OK);
		for (i = 0; i < TESTD_PATIENCE_MS / 10; i++) {
			struct shmd_segment	s;

			if (shmd_open(c, "fd.sentinel", &s) ==
			    SHMD_ERR_NO_SUCH_SEGMENT)
				break;
			usleep(10000);
		}
		ck_assert_int_lt(i, TESTD_PATIENCE_MS / 10);
		ck_assert_int_eq(shmd_list(c, &segs, &n), SHMD_OK);
		shmd_free(segs);
		ck_assert_uint_eq(n, 150);
		shmd_disconnect(c);
	}
	close(go[1]);	/* every creator exits */
	for (i = 0; i < 150; i++)
		waitpid(kids[i], NULL, 0);
	ck_assert_int_eq(shmd_connect(d.socket, &c), SHMD_OK);
	for (i = 0; i < TESTD_PATIENCE_MS / 10 && n > 0; i++) {
		ck_assert_int_eq(shmd_list(c, &segs, &n), SHMD_OK);
		shmd_free(segs);
		if (n > 0)
			usleep(10000);
	}
	ck_assert_uint_eq(n, 0);
	shmd_disconnect(c);
	ck_assert_int_eq(kernel_count_by_cpid(d.pid), 0);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("hostile");
	struct rlimit	 rl;
	int		 ipcns = testutil_can_unshare(CLONE_NEWIPC);
	TCase	*tc = tcase_create("input");
	TCase	*tp = tcase_create("permissions");
	TCase	*tn = tcase_create("namespace");

	tcase_add_checked_fixture(tc, start, stop);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_deep_nesting_and_huge_numbers);
	tcase_add_test(tc, test_client_never_reads);
	tcase_add_test(tc, test_out_of_descriptors);
	tcase_add_test_when(tc, test_thousands_of_connections,
	    getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max >= 1600,
	    "the hard descriptor limit is below 1600");
	tcase_add_test(tc, test_burst_of_connections);
	tcase_add_test(tc, test_silent_watchers);
	tcase_add_test(tc, test_creators_beyond_descriptors);
	suite_add_tcase(s, tc);
	/* other uids and IPC namespaces need root */
	tcase_add_checked_fixture(tp, start, stop);
	tcase_set_timeout(tp, 60);
	tcase_add_test_when(tp, test_groups, getuid() == 0,
	    "needs root to act as other uids");
	tcase_add_test_when(tp, test_groups_of_connect_time, getuid() == 0,
	    "needs root to act as other uids");
	tcase_add_test_when(tp, test_quota_until_refused, getuid() == 0,
	    "needs root to act as other uids");
	tcase_add_test_when(tp, test_connections_per_uid, getuid() == 0,
	    "needs root to act as other uids");
	suite_add_tcase(s, tp);
	tcase_set_timeout(tn, 60);
	tcase_add_test_when(tn, test_system_limits, ipcns,
	    "no IPC namespace may be made here");
	tcase_add_test_when(tn, test_big_reply, ipcns,
	    "no IPC namespace may be made here");
	suite_add_tcase(s, tn);
	return run_suite(s);
}
