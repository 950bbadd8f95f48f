/* Helpers for the integration tests: a real shmd on a temporary socket. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "frame.h"
#include "shmd.h"
#include "testutil.h"

const char *
test_program(const char *relpath)
{
	static char	path[4][512];
	static int	next;
	const char	*top = getenv("TOP_BUILDDIR");
	char		*p = path[next++ % 4];

	snprintf(p, 512, "%s/%s", top ? top : "..", relpath);
	return p;
}

static void
sleep_ms(int ms)
{
	struct timespec	ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int
testd_wait_ready(struct testd *d, int timeout_ms)
{
	struct json_object	*r;
	int			 fd, waited, status;

	for (waited = 0; waited < timeout_ms; waited += 10) {
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			d->pid = -1;
			return -1;
		}
		if ((fd = raw_connect(d->socket)) >= 0) {
			raw_send_msg(fd, "{\"method\":\"io.shmd.Status\"}");
			r = raw_recv(fd, 1000);
			close(fd);
			if (r != NULL) {
				json_object_put(r);
				return 0;
			}
		}
		sleep_ms(10);	/* poll until it answers */
	}
	return -1;
}

/* Pids of every daemon a test started, to remove what they left. */
static pid_t	testd_pids[64];
static int	testd_npids;

static pid_t	testd_launcher;

/* A test that fails exits at once: stop its daemons and take their segments. */
static void
testd_atexit(void)
{
	int	i;

	if (getpid() != testd_launcher)
		return;
	for (i = 0; i < testd_npids; i++) {
		/* only a child not yet waited for: never a reused pid */
		if (waitpid(testd_pids[i], NULL, WNOHANG) == 0) {
			kill(testd_pids[i], SIGKILL);
			waitpid(testd_pids[i], NULL, 0);
		}
		kernel_remove_by_cpid(testd_pids[i]);
	}
	testd_npids = 0;
}

/*
 * Each integration suite's daemons allocate keys from a range of their own,
 * and only that range is swept for a failed run's leftovers: suites run in
 * parallel (make -j), and a suite's daemons may restart, leaving their
 * segments to the next one, whose creator pid is then gone.
 */
static unsigned
testd_key_base(void)
{
	static const char *const suites[] = {
		"check_libshmd", "check_shmdctl", "check_protocol",
		"check_lifetime", "check_systemd", "check_hostile",
		"check_admin", "check_identity", "check_namespace",
		"check_wait", "check_declared", "check_memory",
	};
	size_t	i;

	for (i = 0; i < sizeof suites / sizeof suites[0]; i++)
		if (strcmp(program_invocation_short_name, suites[i]) == 0)
			break;
	return TESTD_KEY_BASE + (unsigned)i * TESTD_KEY_COUNT;
}

static void
testd_launch(struct testd *d)
{
	const char	*argv[64];
	char		 keybase[32];
	int		 n = 0, i, fd;

	/* SHMD_VALGRIND: the daemon runs under valgrind; any error or leak fails its exit. */
	if (getenv("SHMD_VALGRIND") != NULL) {
		argv[n++] = "/usr/bin/valgrind";
		argv[n++] = "--quiet";
		argv[n++] = "--leak-check=full";
		argv[n++] = "--show-leak-kinds=definite,indirect,possible";
		argv[n++] = "--errors-for-leak-kinds=definite,indirect,possible";
		argv[n++] = "--error-exitcode=99";
	}
	argv[n++] = test_program("daemon/shmd");
	argv[n++] = "--config";
	argv[n++] = "/dev/null";
	argv[n++] = "--socket";
	argv[n++] = d->socket;
	argv[n++] = "--state-dir";
	argv[n++] = d->state;
	snprintf(keybase, sizeof keybase, "--key-base=%#x", testd_key_base());
	argv[n++] = keybase;
	argv[n++] = "--key-count=" TESTD_KEY_COUNT_STR;
	argv[n++] = "--log-level=debug";
	/* None: not the machine's /etc/shmd/segments.d (a test may name one). */
	argv[n++] = "--segments-dir=";
	for (i = 0; d->args[i] != NULL; i++)
		argv[n++] = d->args[i];
	argv[n] = NULL;
	d->pid = fork();
	ck_assert_int_ge(d->pid, 0);
	if (d->pid == 0) {
		if ((fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0644)) >= 0) {
			dup2(fd, 2);
			dup2(fd, 1);
		}
		setpgid(0, 0);
		for (i = 0; i < 8 && d->env[i] != NULL; i++)
			putenv((char *)d->env[i]);
		if (d->user != 0 && (setgroups(0, NULL) == -1 ||
		    setgid(d->user) == -1 || setuid(d->user) == -1))
			_exit(126);
		/* If the test dies (a failed check exits at once), so does
		 * its daemon; set after setuid, which would clear it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(125);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (testd_launcher != getpid()) {
		testd_launcher = getpid();
		testd_npids = 0;
		atexit(testd_atexit);
	}
	if (testd_npids < 64)
		testd_pids[testd_npids++] = d->pid;
	ck_assert_msg(testd_wait_ready(d, 30000) == 0,
	    "shmd did not become ready (log %s)", d->log);
}

static void
testd_prepare(struct testd *d, uid_t user, const char *arg, va_list ap)
{
	int		 n = 0;
	char		 tmpl[] = "/tmp/shmd-test-XXXXXX";

	memset(d, 0, sizeof *d);
	d->user = user;
	/* What a failed run's daemon left in this suite's key range. */
	kernel_sweep_keys(testd_key_base(), TESTD_KEY_COUNT);
	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	chmod(tmpl, 0755);
	snprintf(d->dir, sizeof d->dir, "%s", tmpl);
	snprintf(d->socket, sizeof d->socket, "%s/shmd.sock", d->dir);
	snprintf(d->state, sizeof d->state, "%s/state", d->dir);
	snprintf(d->log, sizeof d->log, "%s/shmd.log", d->dir);
	for (; arg != NULL && n < 15; arg = va_arg(ap, const char *))
		d->args[n++] = arg;
	d->args[n] = NULL;
	if (user != 0) {
		ck_assert_int_eq(mkdir(d->state, 0700), 0);
		ck_assert_int_eq(chown(d->dir, user, user), 0);
		ck_assert_int_eq(chown(d->state, user, user), 0);
	}
}

void
testd_start(struct testd *d, const char *arg, ...)
{
	va_list	ap;

	va_start(ap, arg);
	testd_prepare(d, 0, arg, ap);
	va_end(ap);
	testd_launch(d);
}

void
testd_new(struct testd *d, const char *arg, ...)
{
	va_list	ap;

	va_start(ap, arg);
	testd_prepare(d, 0, arg, ap);
	va_end(ap);
}

void
testd_start_as(struct testd *d, uid_t user, const char *arg, ...)
{
	va_list	ap;

	va_start(ap, arg);
	testd_prepare(d, user, arg, ap);
	va_end(ap);
	testd_launch(d);
}

void
testd_restart(struct testd *d)
{
	ck_assert_int_le(d->pid, 0);
	testd_launch(d);
}

long
testd_rss_kb(const struct testd *d)
{
	char	path[64], *s, *p;
	long	kb = -1;

	snprintf(path, sizeof path, "/proc/%d/status", d->pid);
	s = read_file(path);
	if (s != NULL && (p = strstr(s, "VmRSS:")) != NULL)
		kb = strtol(p + 6, NULL, 10);
	free(s);
	return kb;
}

void
testd_kill(struct testd *d)
{
	if (d->pid > 0) {
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
		d->pid = -1;
	}
}

void
testd_cleanup(struct testd *d)
{
	int	i;

	testd_kill(d);
	for (i = 0; i < testd_npids; i++)
		kernel_remove_by_cpid(testd_pids[i]);
	testd_npids = 0;
	testd_stop(d);
}

static int
testd_rm(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	return remove(path);
}

/* No fork here: a test in a dead pid namespace can fork no more. */
void
testd_stop(struct testd *d)
{
	int	status;

	if (d->pid > 0) {
		pid_t	pid = d->pid;

		kill(d->pid, SIGTERM);
		ck_assert_int_eq(waitpid(d->pid, &status, 0), d->pid);
		d->pid = -1;
		kernel_remove_by_cpid(pid);
		for (int i = 0; i < testd_npids; i++)
			kernel_remove_by_cpid(testd_pids[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "shmd did not exit 0 on SIGTERM (status %d)", status);
	}
	if (d->dir[0] != '\0' && getenv("SHMD_TEST_KEEP") == NULL &&
	    nftw(d->dir, testd_rm, 16, FTW_DEPTH | FTW_PHYS) == -1)
		fprintf(stderr, "cannot remove %s\n", d->dir);
}

void
testd_assert_serves(struct testd *d)
{
	int			 fd = raw_connect(d->socket);
	struct json_object	*r;

	ck_assert_int_ge(fd, 0);
	r = raw_call(fd, "{\"method\":\"io.shmd.Status\"}");
	ck_assert_ptr_null(reply_error(r));
	json_object_put(r);
	close(fd);
}

int
testd_ctl(struct testd *d, char **out, const char *input, ...)
{
	const char	*argv[20];
	va_list		 ap;
	int		 n = 0;

	argv[n++] = test_program("client/shmdctl");
	argv[n++] = "--socket";
	argv[n++] = d->socket;
	va_start(ap, input);
	while (n < 19 && (argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	return run_cmd(out, input, argv);
}

static int	testutil_skipped;

void
testutil_skip(const char *test, const char *why)
{
	fprintf(stderr, "SKIP: %s: %s\n", test, why);
	testutil_skipped++;
}

int
testutil_can_unshare(int flags)
{
	pid_t	pid = fork();
	int	status;

	if (pid == 0)
		_exit(unshare(flags) == 0 ? 0 : 1);
	return pid > 0 && waitpid(pid, &status, 0) == pid &&
	    WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int
testutil_in_namespaces(int flags, int (*fn)(void *), void *arg)
{
	pid_t	helper, init;
	int	status;

	helper = fork();
	ck_assert_int_ge(helper, 0);
	if (helper == 0) {
		if (unshare(flags | CLONE_NEWPID) == -1)
			_exit(70);
		if ((init = fork()) == 0) {
			if ((flags & CLONE_NEWNS) && (mount(NULL, "/", NULL,
			    MS_REC | MS_PRIVATE, NULL) == -1 ||
			    mount("proc", "/proc", "proc", 0, NULL) == -1))
				_exit(71);
			_exit(fn(arg));
		}
		waitpid(init, &status, 0);
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 72);
	}
	ck_assert_int_eq(waitpid(helper, &status, 0), helper);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

int
testutil_set_last_pid(pid_t pid)
{
	FILE	*f = fopen("/proc/sys/kernel/ns_last_pid", "w");
	int	 ok;

	if (f == NULL)
		return -1;
	ok = fprintf(f, "%d", (int)pid) > 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

struct shmd_conn *
testd_conn(struct testd *d)
{
	struct shmd_conn	*c;

	ck_assert_int_eq(shmd_connect(d->socket, &c), SHMD_OK);
	return c;
}

long long
testd_status(struct testd *d, const char *member)
{
	struct json_object	*r;
	long long		 n;
	int			 fd = raw_connect(d->socket);

	r = raw_call(fd, "{\"method\":\"io.shmd.Status\"}");
	n = reply_int(r, member);
	json_object_put(r);
	close(fd);
	return n;
}

int
run_suite(Suite *s)
{
	SRunner	*sr;
	int	 failed, run;

	/*
	 * As root, in an IPC namespace of the suite's own: its segments, its
	 * daemons' and its clients' (all children of this process) are the
	 * only ones in the kernel's table, which nobody else can fill.
	 */
	if (getuid() == 0 && unshare(CLONE_NEWIPC) == -1)
		fprintf(stderr, "no IPC namespace of our own (%s): using the "
		    "system's\n", strerror(errno));
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	if (testutil_skipped > 0)
		fprintf(stderr, "%d test%s skipped (see SKIP above)\n",
		    testutil_skipped, testutil_skipped == 1 ? "" : "s");
	if (run == 0 && testutil_skipped > 0)
		return 77;
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

int
raw_connect(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

void
raw_send(int fd, const void *data, size_t len)
{
	const char	*p = data;
	ssize_t		 n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return;	/* the peer may have closed: callers check */
		p += n;
		len -= (size_t)n;
	}
}

void
raw_send_msg(int fd, const char *json)
{
	raw_send(fd, json, strlen(json) + 1);
}

/* Per-descriptor receive buffers (tests use few descriptors). */
static struct frame_buf	raw_bufs[4096];

/*
 * The next message on fd, without Check: NULL when the peer closed,
 * timeout_ms passed, or (with *bad set) what came was no message.
 */
static struct json_object *
raw_recv_core(int fd, int timeout_ms, int *bad, char *reason, size_t rlen)
{
	struct frame_buf	*fb;
	struct json_object	*o;
	struct pollfd		 pfd = { fd, POLLIN, 0 };
	char			*msg, *space;
	size_t			 len;
	ssize_t			 n;

	*bad = 0;
	if (fd < 0 || fd >= (int)(sizeof raw_bufs / sizeof raw_bufs[0])) {
		snprintf(reason, rlen, "descriptor %d out of range", fd);
		*bad = 1;
		return NULL;
	}
	fb = &raw_bufs[fd];
	for (;;) {
		if ((msg = frame_buf_next(fb, &len)) != NULL) {
			if (frame_decode(msg, len, &o, reason, rlen) == -1) {
				*bad = 1;
				return NULL;
			}
			return o;
		}
		if (poll(&pfd, 1, timeout_ms) <= 0)
			return NULL;
		if ((space = frame_buf_space(fb, 65536)) == NULL) {
			snprintf(reason, rlen, "out of memory");
			*bad = 1;
			return NULL;
		}
		n = recv(fd, space, 65536, 0);
		if (n <= 0) {
			frame_buf_finish(fb);
			return NULL;
		}
		fb->len += (size_t)n;
	}
}

struct json_object *
raw_recv(int fd, int timeout_ms)
{
	struct json_object	*o;
	char			 reason[128];
	int			 bad;

	o = raw_recv_core(fd, timeout_ms, &bad, reason, sizeof reason);
	if (bad)
		ck_abort_msg("bad message from shmd: %s", reason);
	return o;
}

struct json_object *
raw_recv_quiet(int fd, int timeout_ms)
{
	char	reason[128];
	int	bad;

	return raw_recv_core(fd, timeout_ms, &bad, reason, sizeof reason);
}

int
raw_closed(int fd, int timeout_ms)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };
	char		buf[65536];
	ssize_t		n;

	frame_buf_finish(&raw_bufs[fd]);
	for (;;) {
		if (poll(&pfd, 1, timeout_ms) <= 0)
			return 0;
		n = recv(fd, buf, sizeof buf, 0);
		if (n <= 0)
			return 1;
	}
}

struct json_object *
raw_call(int fd, const char *json)
{
	struct json_object	*r;

	raw_send_msg(fd, json);
	r = raw_recv(fd, TESTD_PATIENCE_MS);
	ck_assert_msg(r != NULL, "no reply to %s", json);
	return r;
}

const char *
reply_error(struct json_object *r)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(r, "error", &v))
		return NULL;
	return json_object_get_string(v);
}

struct json_object *
reply_member(struct json_object *r, const char *key)
{
	struct json_object	*p, *v;

	if (!json_object_object_get_ex(r, "parameters", &p) ||
	    !json_object_object_get_ex(p, key, &v))
		return NULL;
	return v;
}

const char *
reply_str(struct json_object *r, const char *key)
{
	struct json_object	*v = reply_member(r, key);

	return v ? json_object_get_string(v) : NULL;
}

long long
reply_int(struct json_object *r, const char *key)
{
	struct json_object	*v = reply_member(r, key);

	ck_assert_msg(v != NULL, "no %s in %s", key,
	    json_object_to_json_string(r));
	return (long long)json_object_get_int64(v);
}

int
kernel_segment(int shmid, struct sysv_seg *k)
{
	struct sysv_seg	*segs;
	size_t		 n, i;
	int		 found = -1;

	ck_assert_int_eq(sysv_segments(&segs, &n), 0);
	for (i = 0; i < n; i++) {
		if (segs[i].shmid == shmid) {
			if (k != NULL)
				*k = segs[i];
			found = 0;
			break;
		}
	}
	free(segs);
	return found;
}

/*
 * Remove the segments that match (pid: their creator is pid; else: their
 * key is in [base, base + count) and their creator is dead); how many.
 */
static int
kernel_walk(pid_t pid, int remove, unsigned base, unsigned count)
{
	struct sysv_seg	*segs;
	size_t		 n, i;
	char		 proc[64];
	int		 hits = 0;

	if (sysv_segments(&segs, &n) == -1)
		return 0;
	for (i = 0; i < n; i++) {
		if (pid > 0 && segs[i].cpid != pid)
			continue;
		if (pid <= 0) {
			snprintf(proc, sizeof proc, "/proc/%ld",
			    (long)segs[i].cpid);
			if ((unsigned)segs[i].key - base >= count ||
			    access(proc, F_OK) == 0)
				continue;
		}
		hits++;
		if (remove)
			shmctl(segs[i].shmid, IPC_RMID, NULL);
	}
	free(segs);
	return hits;
}

int
kernel_count_by_cpid(pid_t pid)
{
	return kernel_walk(pid, 0, 0, 0);
}

void
kernel_remove_by_cpid(pid_t pid)
{
	kernel_walk(pid, 1, 0, 0);
}

void
kernel_sweep_keys(unsigned base, unsigned count)
{
	kernel_walk(0, 1, base, count);
}

int
nobody_can_run(const char *relpath)
{
	const char	*path = test_program(relpath);
	pid_t		 pid;
	int		 status;

	/* No Check assertions here: main() asks before tests run. */
	if ((pid = fork()) == -1)
		return 0;
	if (pid == 0) {
		if (setgroups(0, NULL) == -1 || setgid(65534) == -1 ||
		    setuid(65534) == -1)
			_exit(2);
		_exit(access(path, X_OK) == 0 ? 0 : 1);
	}
	if (waitpid(pid, &status, 0) != pid)
		return 0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int
as_uid(uid_t uid, int (*fn)(void *), void *arg)
{
	pid_t	pid;
	int	status;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (setgroups(0, NULL) == -1 || setgid(uid) == -1 ||
		    setuid(uid) == -1)
			_exit(99);
		_exit(fn(arg));
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

int
as_nobody(int (*fn)(void *), void *arg)
{
	return as_uid(65534, fn, arg);
}

/* Everything a descriptor gives until end of file, NUL-terminated. */
static char *
read_all(int fd)
{
	size_t	 len = 0, cap = 4096;
	ssize_t	 n;
	char	*buf = malloc(cap);

	ck_assert_ptr_nonnull(buf);
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len < 2) {
			cap *= 2;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
	}
	buf[len] = '\0';
	return buf;
}

char *
read_file(const char *path)
{
	int	 fd = open(path, O_RDONLY);
	char	*s;

	ck_assert_msg(fd >= 0, "cannot open %s", path);
	s = read_all(fd);
	close(fd);
	return s;
}

int
run_cmd2(char **out, char **err, const char *input, const char *const argv[])
{
	int	 inp[2], outp[2], errp[2], status;
	pid_t	 pid;
	ssize_t	 n;
	char	*e;

	ck_assert_int_eq(pipe(inp), 0);
	ck_assert_int_eq(pipe(outp), 0);
	ck_assert_int_eq(pipe(errp), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(inp[0], 0);
		dup2(outp[1], 1);
		if (err != NULL)
			dup2(errp[1], 2);
		close(inp[1]);
		close(outp[0]);
		close(errp[0]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(inp[0]);
	close(outp[1]);
	close(errp[1]);
	if (input != NULL) {
		const char	*p = input;
		size_t		 left = strlen(input);

		signal(SIGPIPE, SIG_IGN);
		while (left > 0 && (n = write(inp[1], p, left)) > 0) {
			p += n;
			left -= (size_t)n;
		}
	}
	close(inp[1]);
	/* stdout first: commands here write little to stderr */
	if (out != NULL)
		*out = read_all(outp[0]);
	else
		free(read_all(outp[0]));
	e = read_all(errp[0]);
	if (err != NULL)
		*err = e;
	else
		free(e);
	close(outp[0]);
	close(errp[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

int
run_cmd(char **out, const char *input, const char *const argv[])
{
	return run_cmd2(out, NULL, input, argv);
}

int
count_in(const char *hay, const char *needle)
{
	int	n = 0;

	for (; hay != NULL && (hay = strstr(hay, needle)) != NULL; hay++)
		n++;
	return n;
}

int
testd_log_count(const struct testd *d, const char *needle)
{
	char	*log = read_file(d->log);
	int	 n = count_in(log, needle);

	free(log);
	return n;
}

void
testd_wait_log(const struct testd *d, const char *needle, int n)
{
	int	i;

	for (i = 0; i < TESTD_PATIENCE_MS / 10 &&
	    testd_log_count(d, needle) < n; i++)
		sleep_ms(10);
	ck_assert_msg(testd_log_count(d, needle) >= n, "no '%s' in %s",
	    needle, d->log);
}
