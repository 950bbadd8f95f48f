/* Integration tests: lifetimes, reaping, vanished segments, restarts. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
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

#include "shmd.h"
#include "testutil.h"

static struct testd	d;

static void
start(void)
{
	testd_start(&d, "--attach-timeout=1", NULL);
}

static void
stop(void)
{
	testd_cleanup(&d);
}

static struct shmd_conn *
conn(void)
{
	struct shmd_conn	*c;

	ck_assert_int_eq(shmd_connect(d.socket, &c), SHMD_OK);
	return c;
}

static int64_t
ms_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Poll until the name is gone from shmd and the shmid from the kernel. */
static int
wait_gone(struct shmd_conn *c, const char *name, int shmid, int timeout_ms)
{
	struct shmd_segment	s;
	/* timeout_ms: the daemon's promise, which a loaded machine stretches */
	int64_t			end = ms_now() + timeout_ms + TESTD_PATIENCE_MS;

	do {
		if (shmd_open(c, name, &s) == SHMD_ERR_NO_SUCH_SEGMENT &&
		    kernel_segment(shmid, NULL) == -1)
			return 0;
		usleep(10000);
	} while (ms_now() < end);
	return -1;
}

static struct shmd_segment
create(struct shmd_conn *c, const char *name, enum shmd_lifetime lt,
    int keyless)
{
	struct shmd_create_options	o;
	struct shmd_segment		s;

	shmd_create_options_init(&o);
	o.lifetime = lt;
	if (keyless) {
		o.flags |= SHMD_CREATE_KEY;
		o.key = 0;
	}
	ck_assert_int_eq(shmd_create(c, name, 4096, &o, &s), SHMD_OK);
	return s;
}

START_TEST(test_detach_after_last_detach)
{
	struct shmd_conn	*c = conn();
	struct shmd_segment	 s = create(c, "lt.detach", SHMD_LIFETIME_DETACH, 0);
	struct shmd_segment	 o, sentinel;
	void			*p1, *p2;

	p1 = shmat(s.shmid, NULL, 0);
	p2 = shmat(s.shmid, NULL, 0);
	ck_assert_ptr_ne(p1, (void *)-1);
	ck_assert_ptr_ne(p2, (void *)-1);
	shmdt(p1);
	/*
	 * Still attached once: it lives on past attach_timeout (1 s). The
	 * wait: a never attached one made after it is reaped by then.
	 */
	sentinel = create(c, "lt.sentinel", SHMD_LIFETIME_DETACH, 1);
	ck_assert_int_eq(wait_gone(c, "lt.sentinel", sentinel.shmid, 3000), 0);
	ck_assert_int_eq(shmd_open(c, "lt.detach", &o), SHMD_OK);
	ck_assert_uint_eq(o.nattch, 1);
	ck_assert_int_eq(shmget(s.key, 0, 0), s.shmid);
	shmdt(p2);
	ck_assert_int_eq(wait_gone(c, "lt.detach", s.shmid, 1000), 0);
	shmd_disconnect(c);
}
END_TEST

START_TEST(test_detach_quick_and_by_exit)
{
	struct shmd_conn	*c = conn();
	struct shmd_segment	 a = create(c, "lt.quick", SHMD_LIFETIME_DETACH, 0);
	struct shmd_segment	 b = create(c, "lt.child", SHMD_LIFETIME_DETACH, 0);
	pid_t			 pid;
	int			 status;

	/* attach and detach between two looks of the daemon */
	shmdt(shmat(a.shmid, NULL, 0));
	/* a child attaches and dies without detaching */
	pid = fork();
	if (pid == 0) {
		if (shmat(b.shmid, NULL, 0) == (void *)-1)
			_exit(1);
		kill(getpid(), SIGKILL);
	}
	waitpid(pid, &status, 0);
	ck_assert(WIFSIGNALED(status));
	ck_assert_int_eq(wait_gone(c, "lt.quick", a.shmid, 1000), 0);
	ck_assert_int_eq(wait_gone(c, "lt.child", b.shmid, 1000), 0);
	shmd_disconnect(c);
}
END_TEST

START_TEST(test_attach_timeout)
{
	struct shmd_conn		*c = conn();
	struct shmd_create_options	 o;
	struct shmd_segment		 s, t;
	int64_t				 t0;
	int				 rc;

	/* the daemon's default here is 1 s; this one asks for 3 s */
	shmd_create_options_init(&o);
	o.flags = SHMD_CREATE_ATTACH_TIMEOUT;
	o.attach_timeout = 3;
	t0 = ms_now();
	ck_assert_int_eq(shmd_create(c, "lt.slow", 64, &o, &t), SHMD_OK);
	s = create(c, "lt.never", SHMD_LIFETIME_DETACH, 0);
	ck_assert_int_eq(wait_gone(c, "lt.never", s.shmid, 3000), 0);
	/* still there, unless a slow machine took its 3 s meanwhile */
	rc = shmd_open(c, "lt.slow", &t);
	ck_assert_msg(rc == SHMD_OK || (rc == SHMD_ERR_NO_SUCH_SEGMENT &&
	    ms_now() - t0 >= 3000), "lt.slow: %s after %lld ms",
	    shmd_strerror(rc), (long long)(ms_now() - t0));
	ck_assert_int_eq(wait_gone(c, "lt.slow", t.shmid, 4000), 0);
	shmd_disconnect(c);
}
END_TEST

START_TEST(test_keyless_marked_and_shared)
{
	struct shmd_conn	*c = conn(), *w = conn();
	struct shmd_segment	 s = create(c, "lt.keyless", SHMD_LIFETIME_DETACH,
	    1), o;
	enum shmd_event		 ev;
	int			 has;
	struct sysv_seg		 k;
	char			*p;
	pid_t			 pid;
	int			 status, i;

	p = shmat(s.shmid, NULL, 0);
	ck_assert_ptr_ne(p, (void *)-1);
	strcpy(p, "shared");
	/* shmd marks it for removal once attached: the kernel frees it at the last detach */
	for (i = 0; i < TESTD_PATIENCE_MS / 10; i++) {
		ck_assert_int_eq(kernel_segment(s.shmid, &k), 0);
		if (k.perms & SHM_DEST)
			break;
		usleep(10000);
	}
	ck_assert(k.perms & SHM_DEST);
	/* another process still finds it by name and attaches it by shmid */
	pid = fork();
	if (pid == 0) {
		struct shmd_conn	*cc;
		struct shmd_segment	 ss;
		char			*q;

		if (shmd_connect(d.socket, &cc) != SHMD_OK ||
		    shmd_open(cc, "lt.keyless", &ss) != SHMD_OK ||
		    (q = shmat(ss.shmid, NULL, 0)) == (void *)-1)
			_exit(1);
		_exit(strcmp(q, "shared") == 0 ? 0 : 2);
	}
	waitpid(pid, &status, 0);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(shmd_watch(w), SHMD_OK);
	shmdt(p);
	/* the kernel freed it at the last detach: the name is gone at once */
	ck_assert_int_eq(kernel_segment(s.shmid, NULL), -1);
	ck_assert_int_eq(shmd_open(c, "lt.keyless", &o), SHMD_ERR_NO_SUCH_SEGMENT);
	/* and it was reaped, not vanished */
	ck_assert_int_eq(shmd_watch_next(w, &ev, &o, &has), SHMD_OK);
	ck_assert_int_eq(ev, SHMD_EVENT_REAPED);
	ck_assert_str_eq(o.name, "lt.keyless");
	/* the name is free for a new segment */
	s = create(c, "lt.keyless", SHMD_LIFETIME_PERSISTENT, 1);
	ck_assert_int_eq(shmd_destroy(c, "lt.keyless"), SHMD_OK);
	shmd_disconnect(w);
	shmd_disconnect(c);
}
END_TEST

/*
 * In a child: create a "process" segment, send its shmid down *pipe_rd,
 * then exit at once (hold < 0) or once hold reads end-of-file.
 */
static pid_t
child_creates(const char *name, int hold, int *pipe_rd)
{
	int	fds[2];
	pid_t	pid;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct shmd_conn		*cc;
		struct shmd_create_options	 o;
		struct shmd_segment		 s;
		char				 b = 0;

		close(fds[0]);
		shmd_create_options_init(&o);
		o.lifetime = SHMD_LIFETIME_PROCESS;
		if (shmd_connect(d.socket, &cc) != SHMD_OK ||
		    shmd_create(cc, name, 64, &o, &s) != SHMD_OK)
			_exit(1);
		if (write(fds[1], &s.shmid, sizeof s.shmid) < 0)
			_exit(1);
		shmd_disconnect(cc);	/* the connection is not what counts */
		if (hold < 0)
			_exit(0);
		while (read(hold, &b, 1) > 0)
			;
		_exit(0);
	}
	close(fds[1]);
	*pipe_rd = fds[0];
	return pid;
}

START_TEST(test_process_lifetime)
{
	struct shmd_conn	*c = conn();
	struct shmd_segment	 s;
	int			 rd, shmid, shmid2, shmid3, go[2];
	pid_t			 pid, pid2;

	/* a creator that exits (left a zombie: not waited for yet) */
	pid = child_creates("lt.proc", -1, &rd);
	ck_assert_int_eq(read(rd, &shmid, sizeof shmid), (ssize_t)sizeof shmid);
	close(rd);
	ck_assert_int_eq(wait_gone(c, "lt.proc", shmid, 1000), 0);
	waitpid(pid, NULL, 0);

	/* a creator that lives on after closing its connection, then is killed */
	ck_assert_int_eq(pipe(go), 0);
	pid = child_creates("lt.proc2", go[0], &rd);
	close(go[0]);
	ck_assert_int_eq(read(rd, &shmid2, sizeof shmid2),
	    (ssize_t)sizeof shmid2);
	close(rd);
	/*
	 * Its creator lives: it stays. The wait: a creator that exits after
	 * it closed its connection has its segment reaped by then.
	 */
	pid2 = child_creates("lt.sentinel", -1, &rd);
	ck_assert_int_eq(read(rd, &shmid3, sizeof shmid3), (ssize_t)sizeof shmid3);
	close(rd);
	ck_assert_int_eq(wait_gone(c, "lt.sentinel", shmid3, 1000), 0);
	waitpid(pid2, NULL, 0);
	ck_assert_int_eq(shmd_open(c, "lt.proc2", &s), SHMD_OK);
	ck_assert_int_eq(s.creator_pid, pid);
	kill(pid, SIGKILL);
	ck_assert_int_eq(wait_gone(c, "lt.proc2", shmid2, 1000), 0);
	waitpid(pid, NULL, 0);
	close(go[1]);
	shmd_disconnect(c);
}
END_TEST

START_TEST(test_vanished_and_events)
{
	struct shmd_conn	*c = conn(), *w = conn();
	struct shmd_segment	 s, e;
	struct shmd_status	 st;
	enum shmd_event		 ev;
	int			 has;
	uint64_t		 vanished;

	ck_assert_int_eq(shmd_status(c, &st), SHMD_OK);
	vanished = st.vanished;
	ck_assert_int_eq(shmd_watch(w), SHMD_OK);
	s = create(c, "lt.gone", SHMD_LIFETIME_PERSISTENT, 0);
	/* ipcrm behind shmd's back */
	ck_assert_int_eq(shmctl(s.shmid, IPC_RMID, NULL), 0);
	ck_assert_int_eq(wait_gone(c, "lt.gone", s.shmid, 2000), 0);
	ck_assert_int_eq(shmd_status(c, &st), SHMD_OK);
	ck_assert_uint_eq(st.vanished, vanished + 1);
	s = create(c, "lt.reap", SHMD_LIFETIME_DETACH, 0);
	shmdt(shmat(s.shmid, NULL, 0));
	ck_assert_int_eq(wait_gone(c, "lt.reap", s.shmid, 1000), 0);
	ck_assert_int_eq(shmd_watch_next(w, &ev, &e, &has), SHMD_OK);
	ck_assert_int_eq(ev, SHMD_EVENT_CREATED);
	ck_assert_int_eq(shmd_watch_next(w, &ev, &e, &has), SHMD_OK);
	ck_assert_int_eq(ev, SHMD_EVENT_VANISHED);
	ck_assert_str_eq(e.name, "lt.gone");
	ck_assert_int_eq(shmd_watch_next(w, &ev, &e, &has), SHMD_OK);
	ck_assert_int_eq(ev, SHMD_EVENT_CREATED);
	ck_assert_int_eq(shmd_watch_next(w, &ev, &e, &has), SHMD_OK);
	ck_assert_int_eq(ev, SHMD_EVENT_REAPED);
	ck_assert_str_eq(e.name, "lt.reap");
	ck_assert_int_eq(shmd_status(c, &st), SHMD_OK);
	ck_assert_uint_ge(st.reaped, 1);
	shmd_disconnect(w);
	shmd_disconnect(c);
}
END_TEST

/* ------------------------------------------------------------ restarts */

static void
check_restart(int sig)
{
	struct shmd_conn		*c = conn();
	struct shmd_create_options	 o;
	struct shmd_segment		 p, a, g, n, x, k;
	struct sysv_seg			 ks;
	void				*mem, *held;
	int64_t				 end;
	int				 rd, goner, alive, hold[2], live[2];
	pid_t				 pid, lpid;

	p = create(c, "rs.persist", SHMD_LIFETIME_PERSISTENT, 0);
	/*
	 * A process segment whose creator lives on (forked before the
	 * attach below, which it would inherit): known by its pidfd's inode
	 * where there is pidfs (no start time recorded), it is followed
	 * again after the restart.
	 */
	ck_assert_int_eq(pipe(live), 0);
	lpid = child_creates("rs.alive", live[0], &rd);
	close(live[0]);
	ck_assert_int_eq(read(rd, &alive, sizeof alive), (ssize_t)sizeof alive);
	close(rd);
	a = create(c, "rs.attached", SHMD_LIFETIME_DETACH, 0);
	mem = shmat(a.shmid, NULL, 0);
	ck_assert_ptr_ne(mem, (void *)-1);
	shmd_create_options_init(&o);
	o.lifetime = SHMD_LIFETIME_PERSISTENT;
	o.flags = SHMD_CREATE_UID | SHMD_CREATE_GID | SHMD_CREATE_MODE;
	o.uid = 65534;
	o.gid = 65534;
	o.mode = 0640;
	ck_assert_int_eq(shmd_create(c, "rs.given", 100, &o, &g), SHMD_OK);
	n = create(c, "rs.removed", SHMD_LIFETIME_PERSISTENT, 0);
	/*
	 * A keyless detach segment held attached through the restart: shmd
	 * marks it IPC_RMID (at its next look) and must know the mark as its
	 * own afterwards, not take it for an ipcrm or a last detach.
	 */
	k = create(c, "rs.keyless", SHMD_LIFETIME_DETACH, 1);
	held = shmat(k.shmid, NULL, 0);
	ck_assert_ptr_ne(held, (void *)-1);
	end = ms_now() + TESTD_PATIENCE_MS;
	while (kernel_segment(k.shmid, &ks) == 0 && !(ks.perms & 01000) &&
	    ms_now() < end)
		usleep(10000);
	ck_assert_msg(ks.perms & 01000, "shmd did not mark rs.keyless");
	/* a process segment whose creator will die while shmd is down */
	ck_assert_int_eq(pipe(hold), 0);
	pid = child_creates("rs.proc", hold[0], &rd);
	close(hold[0]);
	ck_assert_int_eq(read(rd, &goner, sizeof goner), (ssize_t)sizeof goner);
	close(rd);
	shmd_disconnect(c);

	if (sig == SIGKILL)
		testd_kill(&d);
	else {
		int	status;

		kill(d.pid, SIGTERM);
		ck_assert_int_eq(waitpid(d.pid, &status, 0), d.pid);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		d.pid = -1;
	}
	/* while it is down: one removed, one detached, a creator gone */
	ck_assert_int_eq(shmctl(n.shmid, IPC_RMID, NULL), 0);
	shmdt(mem);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(hold[1]);
	testd_restart(&d);

	c = conn();
	ck_assert_int_eq(shmd_open(c, "rs.persist", &x), SHMD_OK);
	ck_assert_int_eq(x.shmid, p.shmid);
	ck_assert_int_eq(x.key, p.key);
	ck_assert_int_eq(x.lifetime, SHMD_LIFETIME_PERSISTENT);
	ck_assert_int_eq(x.created_usec, p.created_usec);
	ck_assert_int_eq(x.creator_pid, getpid());
	ck_assert_int_eq(shmd_open(c, "rs.given", &x), SHMD_OK);
	ck_assert_int_eq(x.shmid, g.shmid);
	ck_assert_uint_eq(x.uid, 65534);
	ck_assert_uint_eq(x.mode, 0640);
	ck_assert_int_eq(shmd_open(c, "rs.removed", &x),
	    SHMD_ERR_NO_SUCH_SEGMENT);
	/* what happened while it was down takes effect now */
	ck_assert_int_eq(wait_gone(c, "rs.attached", a.shmid, 1000), 0);
	ck_assert_int_eq(wait_gone(c, "rs.proc", goner, 1000), 0);
	ck_assert_int_eq(shmd_open(c, "rs.alive", &x), SHMD_OK);
	ck_assert_int_eq(x.shmid, alive);
	ck_assert_int_eq(x.creator_pid, lpid);
	kill(lpid, SIGKILL);	/* its creator exits now */
	ck_assert_int_eq(waitpid(lpid, NULL, 0), lpid);
	close(live[1]);
	ck_assert_int_eq(wait_gone(c, "rs.alive", alive, 1000), 0);
	/* the held keyless segment stays through several full looks */
	end = ms_now() + 1500;
	while (ms_now() < end) {
		ck_assert_int_eq(shmd_open(c, "rs.keyless", &x), SHMD_OK);
		ck_assert_int_eq(x.shmid, k.shmid);
		usleep(100000);
	}
	shmdt(held);
	ck_assert_int_eq(wait_gone(c, "rs.keyless", k.shmid, 2000), 0);
	ck_assert_int_eq(shmd_destroy(c, "rs.persist"), SHMD_OK);
	ck_assert_int_eq(shmd_destroy(c, "rs.given"), SHMD_OK);
	shmd_disconnect(c);
}

/*
 * A log whose first line (or any) is damaged forgets nothing readable:
 * every record after it is kept, the damaged log kept aside.
 */
START_TEST(test_damaged_log_keeps_records)
{
	struct shmd_conn	*c = conn();
	struct shmd_segment	 a, b, x;
	char			 path[400], aside[420];
	struct stat		 sb;
	FILE			*f;

	a = create(c, "dm.a", SHMD_LIFETIME_PERSISTENT, 0);
	b = create(c, "dm.b", SHMD_LIFETIME_PERSISTENT, 1);
	shmd_disconnect(c);
	testd_kill(&d);
	snprintf(path, sizeof path, "%s/segments.log", d.state);
	snprintf(aside, sizeof aside, "%s.damaged", path);
	f = fopen(path, "r+");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs("\x01garbage", f), 0);	/* the header, torn */
	fclose(f);
	testd_restart(&d);
	c = conn();
	ck_assert_int_eq(shmd_open(c, "dm.a", &x), SHMD_OK);
	ck_assert_int_eq(x.shmid, a.shmid);
	ck_assert_int_eq(shmd_open(c, "dm.b", &x), SHMD_OK);
	ck_assert_int_eq(x.shmid, b.shmid);
	ck_assert_int_eq(stat(aside, &sb), 0);
	/* and the log written anew says so too */
	testd_kill(&d);
	testd_restart(&d);
	shmd_disconnect(c);
	c = conn();
	ck_assert_int_eq(shmd_open(c, "dm.a", &x), SHMD_OK);
	ck_assert_int_eq(shmd_destroy(c, "dm.a"), SHMD_OK);
	ck_assert_int_eq(shmd_destroy(c, "dm.b"), SHMD_OK);
	shmd_disconnect(c);
}
END_TEST

/* libfaketime, where installed: the wall clock moved, nothing else. */
static const char *
faketime_lib(void)
{
	static const char *const paths[] = {
		"/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
		"/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
		"/usr/lib/faketime/libfaketime.so.1",
	};
	size_t	i;

	for (i = 0; i < sizeof paths / sizeof paths[0]; i++)
		if (access(paths[i], R_OK) == 0)
			return paths[i];
	return NULL;
}

static void
set_clock(const char *file, const char *offset)
{
	FILE	*f = fopen(file, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fprintf(f, "%s\n", offset), 0);
	ck_assert_int_eq(fclose(f), 0);
}

/*
 * Deadlines run on the boot clock: a step of the wall clock a day forward
 * reaps nothing early, a day back delays nothing, and a restart after a
 * step keeps everything.
 */
START_TEST(test_clock_steps)
{
	struct testd			 nd;
	struct shmd_conn		*c;
	struct shmd_create_options	 o;
	struct shmd_segment		 w, k, x;
	char				 pre[300], file[300], fenv[340];
	int64_t				 made, end;

	testd_new(&nd, NULL);
	snprintf(pre, sizeof pre, "LD_PRELOAD=%s", faketime_lib());
	snprintf(file, sizeof file, "%s/faketime", nd.dir);
	snprintf(fenv, sizeof fenv, "FAKETIME_TIMESTAMP_FILE=%s", file);
	set_clock(file, "+0");
	nd.env[0] = pre;
	nd.env[1] = fenv;
	nd.env[2] = "FAKETIME_NO_CACHE=1";
	nd.env[3] = "FAKETIME_DONT_FAKE_MONOTONIC=1";
	/* (the sanitizers' runtime would insist on coming first) */
	nd.env[4] = "ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=1";
	nd.env[5] = NULL;
	testd_restart(&nd);
	ck_assert_int_eq(shmd_connect(nd.socket, &c), SHMD_OK);
	shmd_create_options_init(&o);
	o.flags |= SHMD_CREATE_ATTACH_TIMEOUT;
	o.attach_timeout = 3;
	/* (before the Create: shmd counts the 3 s from when it made it) */
	made = ms_now();
	ck_assert_int_eq(shmd_create(c, "ck.wait", 64, &o, &w), SHMD_OK);
	shmd_create_options_init(&o);
	o.lifetime = SHMD_LIFETIME_PERSISTENT;
	ck_assert_int_eq(shmd_create(c, "ck.keep", 64, &o, &k), SHMD_OK);
	/* a day forward: its 3 s are not over */
	set_clock(file, "+1d");
	end = made + 1500;
	while (ms_now() < end) {
		ck_assert_int_eq(shmd_open(c, "ck.wait", &x), SHMD_OK);
		usleep(100000);
	}
	/* a day back: they still end on time */
	set_clock(file, "-1d");
	ck_assert_int_eq(wait_gone(c, "ck.wait", w.shmid, 3000), 0);
	ck_assert_int_ge(ms_now() - made, 2900);
	/* a restart after a step keeps everything */
	set_clock(file, "+2d");
	shmd_disconnect(c);
	testd_kill(&nd);
	testd_restart(&nd);
	ck_assert_int_eq(shmd_connect(nd.socket, &c), SHMD_OK);
	ck_assert_int_eq(shmd_open(c, "ck.keep", &x), SHMD_OK);
	ck_assert_int_eq(x.shmid, k.shmid);
	ck_assert_int_eq(shmd_destroy(c, "ck.keep"), SHMD_OK);
	shmd_disconnect(c);
	testd_stop(&nd);
}
END_TEST

START_TEST(test_restart_after_sigterm)
{
	check_restart(SIGTERM);
}
END_TEST

START_TEST(test_restart_after_sigkill)
{
	check_restart(SIGKILL);
}
END_TEST

#define CREATORS	4
#define PER_CREATOR	400
#define KILL_AFTER	200	/* acknowledged creates */

/* Kill shmd while clients create: every acknowledged segment comes back. */
START_TEST(test_kill_while_creating)
{
	struct shmd_conn	*c;
	struct shmd_segment	*segs;
	pid_t			 kids[CREATORS], old;
	int			 fds[CREATORS][2], i, j, shmid, acked = 0;
	size_t			 n, k;
	int			 ids[CREATORS * PER_CREATOR];

	for (i = 0; i < CREATORS; i++) {
		ck_assert_int_eq(pipe(fds[i]), 0);
		kids[i] = fork();
		if (kids[i] == 0) {
			struct shmd_conn		*cc;
			struct shmd_create_options	 o;
			struct shmd_segment		 s;
			char				 name[64];

			close(fds[i][0]);
			shmd_create_options_init(&o);
			o.lifetime = SHMD_LIFETIME_PERSISTENT;
			if (shmd_connect(d.socket, &cc) != SHMD_OK)
				_exit(1);
			for (j = 0; j < PER_CREATOR; j++) {
				snprintf(name, sizeof name, "kill.%d.%d", i, j);
				if (shmd_create(cc, name, 64, &o, &s) != SHMD_OK)
					_exit(0);	/* the daemon died */
				if (write(fds[i][1], &s.shmid,
				    sizeof s.shmid) < 0)
					_exit(1);
			}
			_exit(0);
		}
		close(fds[i][1]);
	}
	/* kill it mid-flight, once KILL_AFTER creates were answered */
	while (acked < KILL_AFTER) {
		struct pollfd	pfd[CREATORS];

		for (i = 0; i < CREATORS; i++) {
			pfd[i].fd = fds[i][0];
			pfd[i].events = POLLIN;
		}
		ck_assert_int_gt(poll(pfd, CREATORS, 5000), 0);
		for (i = 0; i < CREATORS; i++)
			if ((pfd[i].revents & POLLIN) && read(fds[i][0], &shmid,
			    sizeof shmid) == (ssize_t)sizeof shmid)
				ids[acked++] = shmid;
	}
	old = d.pid;
	testd_kill(&d);
	for (i = 0; i < CREATORS; i++) {
		while (read(fds[i][0], &shmid, sizeof shmid) ==
		    (ssize_t)sizeof shmid)
			ids[acked++] = shmid;
		close(fds[i][0]);
		waitpid(kids[i], NULL, 0);
	}
	ck_assert_int_gt(acked, 0);
	fprintf(stderr, "%d creates acknowledged before the kill\n", acked);
	testd_restart(&d);
	c = conn();
	ck_assert_int_eq(shmd_list(c, &segs, &n), SHMD_OK);
	/* every acknowledged one is back */
	for (i = 0; i < acked; i++) {
		for (k = 0; k < n && segs[k].shmid != ids[i]; k++)
			;
		ck_assert_msg(k < n, "acknowledged shmid %d lost", ids[i]);
	}
	/* nothing the old daemon made is left outside the list */
	ck_assert_int_eq(kernel_count_by_cpid(old), (int)n);
	for (k = 0; k < n; k++)
		ck_assert_int_eq(shmd_destroy(c, segs[k].name), SHMD_OK);
	shmd_free(segs);
	ck_assert_int_eq(kernel_count_by_cpid(old), 0);
	shmd_disconnect(c);
}
END_TEST

/*
 * The end of a segment's life is never lost to a crash, wherever the log
 * is compacted: with N records of slack (the loop's _i) compaction falls
 * at every position relative to the Destroys, reaps and vanishes below.
 * Then SIGKILL and restart: nothing that ended comes back, everything
 * acknowledged does, and no kernel segment is left unaccounted for.
 */
START_TEST(test_ends_survive_compaction_and_kill)
{
	struct shmd_conn	*c;
	struct shmd_segment	 s, *segs;
	char			 env[64], name[32];
	size_t			 n, k;
	pid_t			 old;
	void			*p;
	int			 i, ids[4];

	testd_kill(&d);
	snprintf(env, sizeof env, "SHMD_TEST_STATE_SLACK=%d", _i);
	d.env[0] = env;
	testd_restart(&d);
	c = conn();
	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof name, "keep.%d", i);
		create(c, name, SHMD_LIFETIME_PERSISTENT, i % 2);
	}
	/* Destroyed while attached (the reproduction), keyless. */
	for (i = 0; i < 6; i++) {
		snprintf(name, sizeof name, "destroyed.%d", i);
		s = create(c, name, SHMD_LIFETIME_DETACH, 1);
		p = shmat(s.shmid, NULL, 0);
		ck_assert_ptr_ne(p, (void *)-1);
		ck_assert_int_eq(shmd_destroy(c, name), SHMD_OK);
		shmdt(p);
	}
	/* Reaped at the last detach. */
	for (i = 0; i < 2; i++) {
		snprintf(name, sizeof name, "reaped.%d", i);
		s = create(c, name, SHMD_LIFETIME_DETACH, i);
		ids[i] = s.shmid;
		p = shmat(s.shmid, NULL, 0);
		ck_assert_ptr_ne(p, (void *)-1);
		shmdt(p);
	}
	for (i = 0; i < 2; i++) {
		snprintf(name, sizeof name, "reaped.%d", i);
		ck_assert_int_eq(wait_gone(c, name, ids[i], 2000), 0);
	}
	/* Vanished: removed behind shmd's back, noticed at a lookup. */
	for (i = 0; i < 2; i++) {
		snprintf(name, sizeof name, "vanished.%d", i);
		s = create(c, name, SHMD_LIFETIME_PERSISTENT, i);
		ck_assert_int_eq(shmctl(s.shmid, IPC_RMID, NULL), 0);
		ck_assert_int_eq(shmd_open(c, name, &s),
		    SHMD_ERR_NO_SUCH_SEGMENT);
	}
	shmd_disconnect(c);
	old = d.pid;
	testd_kill(&d);
	testd_restart(&d);
	c = conn();
	ck_assert_int_eq(shmd_list(c, &segs, &n), SHMD_OK);
	ck_assert_uint_eq(n, 3);
	for (k = 0; k < n; k++)
		ck_assert_msg(strncmp(segs[k].name, "keep.", 5) == 0,
		    "%s came back after its end", segs[k].name);
	ck_assert_int_eq(kernel_count_by_cpid(old), 3);
	for (k = 0; k < n; k++)
		ck_assert_int_eq(shmd_destroy(c, segs[k].name), SHMD_OK);
	shmd_free(segs);
	shmd_disconnect(c);
}
END_TEST

/*
 * Pid reuse (run in the pid namespace of the test's own, as its pid 1):
 * shmd at pid 300 is killed, another process of its uid gets pid 300
 * and makes two segments (keyless and keyed, the latter in shmd's own
 * key range), and shmd starts again. It never made them: they stay.
 * Returns 0, or 1 with a line on stderr.
 */
#define PR_PID		300
#define PR_KEY_BASE	0x7e5f1000


static pid_t
pr_daemon(struct testd *nd)
{
	char	kb[32];
	pid_t	pid = fork();

	if (pid == 0) {
		snprintf(kb, sizeof kb, "--key-base=%#x", PR_KEY_BASE);
		execl(test_program("daemon/shmd"), "shmd", "--config",
		    "/dev/null", "--socket", nd->socket, "--state-dir",
		    nd->state, kb, "--key-count=16", (char *)NULL);
		_exit(127);
	}
	nd->pid = pid;
	return pid;
}

#define PR_FAIL(...) do { fprintf(stderr, __VA_ARGS__); goto out; } while (0)

static int
pid_reuse_scenario(void *arg)
{
	struct testd			*nd = arg;
	struct shmd_conn		*c = NULL;
	struct shmd_create_options	 o;
	struct shmd_segment		 s;
	pid_t				 dpid, imp;
	int				 fds[2], ids[2] = { -1, -1 }, rc = 1, st;

	if (testutil_set_last_pid(PR_PID - 1) == -1 || (dpid = pr_daemon(nd)) != PR_PID)
		PR_FAIL("cannot place shmd at pid %d\n", PR_PID);
	if (testd_wait_ready(nd, 10000) == -1)
		PR_FAIL("shmd did not start\n");
	shmd_create_options_init(&o);
	o.lifetime = SHMD_LIFETIME_PERSISTENT;
	if (shmd_connect(nd->socket, &c) != SHMD_OK ||
	    shmd_create(c, "pr.keep", 4096, &o, &s) != SHMD_OK)
		PR_FAIL("create failed\n");
	shmd_disconnect(c);
	c = NULL;
	kill(dpid, SIGKILL);
	waitpid(dpid, NULL, 0);
	/* the impostor: same pid, same uid */
	if (pipe(fds) == -1 || testutil_set_last_pid(PR_PID - 1) == -1)
		PR_FAIL("pipe or ns_last_pid\n");
	if ((imp = fork()) == 0) {
		ids[0] = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
		ids[1] = shmget(PR_KEY_BASE + 1, 4096, IPC_CREAT | 0600);
		_exit(write(fds[1], ids, sizeof ids) == sizeof ids ? 0 : 1);
	}
	close(fds[1]);
	if (read(fds[0], ids, sizeof ids) != sizeof ids)
		ids[0] = ids[1] = -1;
	close(fds[0]);
	waitpid(imp, NULL, 0);
	if (imp != PR_PID || ids[0] < 0 || ids[1] < 0)
		PR_FAIL("the impostor got pid %d, segments %d %d\n", (int)imp,
		    ids[0], ids[1]);
	pr_daemon(nd);
	if (testd_wait_ready(nd, 10000) == -1)
		PR_FAIL("shmd did not start again\n");
	if (shmd_connect(nd->socket, &c) != SHMD_OK ||
	    shmd_open(c, "pr.keep", &s) != SHMD_OK)
		PR_FAIL("pr.keep was lost\n");
	if (kernel_segment(ids[0], NULL) == -1 ||
	    kernel_segment(ids[1], NULL) == -1)
		PR_FAIL("recovery removed the impostor's segments\n");
	if (shmd_destroy(c, "pr.keep") != SHMD_OK)
		PR_FAIL("destroy failed\n");
	rc = 0;
out:
	if (c != NULL)
		shmd_disconnect(c);
	shmctl(ids[0], IPC_RMID, NULL);
	shmctl(ids[1], IPC_RMID, NULL);
	if (nd->pid > 0) {
		kill(nd->pid, SIGTERM);
		waitpid(nd->pid, &st, 0);
	}
	return rc;
}

START_TEST(test_pid_reuse_is_not_proof)
{
	struct testd	nd;

	testd_new(&nd, NULL);
	ck_assert_msg(testutil_in_namespaces(0, pid_reuse_scenario, &nd) == 0,
	    "pid reuse scenario failed");
	nd.pid = -1;
	testd_stop(&nd);
}
END_TEST

/* shmd refuses a state directory that is not its own: exit 2, one line. */
START_TEST(test_state_dir_refused)
{
	struct testd	 nd;
	char		 path[512], link[512], *out, *err, sd[600];
	const char	*argv[] = { test_program("daemon/shmd"), "--config",
			    "/dev/null", "--socket", NULL, sd, NULL };
	const char	*want;
	int		 i, rc;

	testd_new(&nd, NULL);
	argv[4] = nd.socket;
	snprintf(path, sizeof path, "%s/st", nd.dir);
	snprintf(link, sizeof link, "%s/ln", nd.dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(symlink(path, link), 0);
	for (i = 0; i < 4; i++) {
		switch (i) {
		case 0:
			snprintf(sd, sizeof sd, "--state-dir=%s", link);
			want = "is a symlink";
			break;
		case 1:
			ck_assert_int_eq(chmod(path, 0777), 0);
			snprintf(sd, sizeof sd, "--state-dir=%s", path);
			want = "writable by group or others";
			break;
		case 2:
			ck_assert_int_eq(chmod(path, 0700), 0);
			ck_assert_int_eq(chown(path, 65534, 65534), 0);
			want = "owned by uid 65534";
			break;
		default:
			snprintf(sd, sizeof sd, "--state-dir=%s/sock-dir-file",
			    nd.dir);
			ck_assert_int_eq(close(open(sd + 12, O_CREAT | O_WRONLY,
			    0600)), 0);
			want = "not a directory";
			break;
		}
		rc = run_cmd2(&out, &err, NULL, argv);
		ck_assert_int_eq(rc, 2);
		ck_assert_msg(strstr(err, want) != NULL && strstr(err, sd + 12)
		    != NULL, "stderr: %s", err);
		/* one line */
		ck_assert_ptr_eq(strchr(err, '\n'), err + strlen(err) - 1);
		free(out);
		free(err);
	}
	nd.pid = -1;
	testd_stop(&nd);
}
END_TEST

/* ----------------------------------------------- state it must not trust */

static void
write_state(const char *text)
{
	char	path[400];
	FILE	*f;

	snprintf(path, sizeof path, "%s/segments.log", d.state);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static const char *
boot_id(void)
{
	static char	id[64];
	FILE		*f = fopen("/proc/sys/kernel/random/boot_id", "r");

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(id, sizeof id, f));
	fclose(f);
	id[strcspn(id, "\n")] = '\0';
	return id;
}

/* A keyless segment of 4096 bytes made by the calling uid; its shmid on *arg's pipe. */
static int
make_stranger(void *arg)
{
	int	id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);

	return write(*(int *)arg, &id, sizeof id) == sizeof id && id >= 0 ?
	    0 : 1;
}

/* A record of a persistent segment at shmid, key 0, 4096 bytes, made by cuid. */
static void
forged_record(char *text, size_t len, const char *boot, const char *name,
    int shmid, uid_t cuid)
{
	snprintf(text, len,
	    "{\"shmd_state\":1,\"boot_id\":\"%s\"}\n"
	    "{\"op\":\"run\",\"pid\":1,\"uid\":0,\"start_usec\":1}\n"
	    "{\"op\":\"create\",\"name\":\"%s\",\"shmid\":%d,\"key\":0,"
	    "\"size\":4096,\"lifetime\":\"persistent\",\"attach_timeout\":60,"
	    "\"uid\":0,\"gid\":0,\"mode\":384,\"creator_uid\":0,\"creator_pid\":1,"
	    "\"creator_start\":0,\"created_usec\":1,\"cuid\":%lu}\n"
	    "{\"op\":\"crea", boot, name, shmid, (unsigned long)cuid);
}

START_TEST(test_foreign_state_is_not_trusted)
{
	struct shmd_conn	*c;
	struct shmd_segment	 x;
	char			 text[2048];
	int			 mine, stranger, fds[2];

	/* A segment of the test's own, that a forged record points at. */
	mine = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	ck_assert_int_ge(mine, 0);
	ck_assert_int_eq(kernel_segment(mine, NULL), 0);
	/* and one another uid made */
	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_eq(as_nobody(make_stranger, &fds[1]), 0);
	ck_assert_int_eq(read(fds[0], &stranger, sizeof stranger),
	    sizeof stranger);
	close(fds[0]);
	close(fds[1]);
	testd_kill(&d);
	/* another boot: discarded */
	forged_record(text, sizeof text, "00000000-0000-0000-0000-000000000000",
	    "forged.boot", mine, 0);
	write_state(text);
	testd_restart(&d);
	c = conn();
	ck_assert_int_eq(shmd_open(c, "forged.boot", &x), SHMD_ERR_NO_SUCH_SEGMENT);
	shmd_disconnect(c);
	ck_assert_int_eq(kernel_segment(mine, NULL), 0);
	testd_kill(&d);
	/*
	 * This boot, but the shmid is a segment another uid made (whatever
	 * the record says): a stranger, neither adopted nor removed.
	 */
	forged_record(text, sizeof text, boot_id(), "forged.id", stranger, 0);
	write_state(text);
	testd_restart(&d);
	c = conn();
	ck_assert_int_eq(shmd_open(c, "forged.id", &x), SHMD_ERR_NO_SUCH_SEGMENT);
	shmd_disconnect(c);
	ck_assert_int_eq(kernel_segment(stranger, NULL), 0);
	shmctl(mine, IPC_RMID, NULL);
	shmctl(stranger, IPC_RMID, NULL);
}
END_TEST

/* A "process" creator in another pid namespace: its shmd's Create, then exit on a byte. */
struct ns_creator {
	const char	*socket;
	int		 go[2], done[2];
};

static void
ns_creator_main(struct ns_creator *nc)
{
	struct shmd_conn		*c;
	struct shmd_create_options	 o;
	struct shmd_segment		 s;
	char				 b;
	int				 rc = 1;

	shmd_create_options_init(&o);
	o.lifetime = SHMD_LIFETIME_PROCESS;
	if (shmd_connect(nc->socket, &c) == SHMD_OK) {
		rc = shmd_create(c, "ns.proc", 64, &o, &s) == SHMD_OK &&
		    s.creator_pid == 0 ? 0 : 2;
		shmd_disconnect(c);
	}
	if (write(nc->done[1], &rc, sizeof rc) != sizeof rc ||
	    read(nc->go[0], &b, 1) != 1)
		_exit(3);
	_exit(0);
}

/*
 * A daemon in a pid namespace of its own sees its clients' pid as 0, yet
 * follows a "process" creator by the pidfd of its connection
 * (SO_PEERPIDFD): accepted, creator_pid 0, kept while it lives, reaped
 * once it exits.
 */
START_TEST(test_process_lifetime_without_pid)
{
	struct testd			 nd;
	struct shmd_conn		*c;
	struct shmd_create_options	 o;
	struct shmd_segment		 s;
	struct ns_creator		 nc;
	pid_t				 helper, dpid, creator;
	int				 fds[2], status, rc, i;

	testd_new(&nd, "--attach-timeout=1", NULL);
	/*
	 * A helper enters the new pid namespace, so that the test itself can
	 * still fork afterwards (and the sanitizers' leak check can run).
	 */
	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	helper = fork();
	if (helper == 0) {
		if (unshare(CLONE_NEWPID) == -1)
			_exit(77);
		dpid = fork();	/* pid 1 of the new namespace */
		if (dpid == 0) {
			execl(test_program("daemon/shmd"), "shmd", "--config",
			    "/dev/null", "--socket", nd.socket, "--state-dir",
			    nd.state, (char *)NULL);
			_exit(127);
		}
		if (write(fds[1], &dpid, sizeof dpid) != sizeof dpid)
			_exit(1);
		waitpid(dpid, &status, 0);
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
	}
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], &dpid, sizeof dpid), sizeof dpid);
	close(fds[0]);
	nd.pid = dpid;
	ck_assert_int_eq(testd_wait_ready(&nd, 10000), 0);
	nc.socket = nd.socket;
	ck_assert_int_eq(pipe(nc.go), 0);
	ck_assert_int_eq(pipe(nc.done), 0);
	if ((creator = fork()) == 0)
		ns_creator_main(&nc);
	ck_assert_int_eq(read(nc.done[0], &rc, sizeof rc), sizeof rc);
	ck_assert_msg(rc == 0, "the creator's Create: %d", rc);
	ck_assert_int_eq(shmd_connect(nd.socket, &c), SHMD_OK);
	/* alive: kept through several full sweeps (no event to wait for) */
	for (i = 0; i < 6; i++) {
		ck_assert_int_eq(shmd_open(c, "ns.proc", &s), SHMD_OK);
		usleep(250000);
	}
	ck_assert_int_eq(s.creator_pid, 0);
	ck_assert_str_eq(shmd_lifetime_name(s.lifetime), "process");
	/* it exits: reaped (at once, by its pidfd: it has no /proc entry) */
	ck_assert_int_eq(write(nc.go[1], "x", 1), 1);
	ck_assert_int_eq(waitpid(creator, &status, 0), creator);
	for (i = 0; i < TESTD_PATIENCE_MS / 50 &&
	    shmd_open(c, "ns.proc", &s) == SHMD_OK; i++)
		usleep(50000);
	ck_assert_int_eq(shmd_open(c, "ns.proc", &s), SHMD_ERR_NO_SUCH_SEGMENT);
	shmd_create_options_init(&o);
	o.lifetime = SHMD_LIFETIME_PERSISTENT;
	ck_assert_int_eq(shmd_create(c, "ns.keep", 64, &o, NULL), SHMD_OK);
	ck_assert_int_eq(shmd_destroy(c, "ns.keep"), SHMD_OK);
	shmd_disconnect(c);
	kill(dpid, SIGTERM);
	ck_assert_int_eq(waitpid(helper, &status, 0), helper);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	nd.pid = -1;
	testd_stop(&nd);
}
END_TEST

/* ------------------------------------------------ an unprivileged daemon */

static void
start_unprivileged(void)
{
	testd_start_as(&d, 65534, "--attach-timeout=1", NULL);
}

/* shmd(8): the deployed daemon runs as an unprivileged user, fully. */
START_TEST(test_unprivileged_daemon)
{
	struct shmd_conn		*c = conn();
	struct shmd_create_options	 o;
	struct shmd_segment		 s, t, x;
	struct shmd_status		 st;
	struct sysv_seg			 k;
	void				*p;
	int				 status;

	ck_assert_int_eq(shmd_status(c, &st), SHMD_OK);
	ck_assert_uint_eq(st.uid, 65534);
	/* root's 0000 segment: the daemon can no longer read it, and must not need to */
	shmd_create_options_init(&o);
	o.flags = SHMD_CREATE_MODE;
	o.mode = 0;
	ck_assert_int_eq(shmd_create(c, "up.closed", 4096, &o, &s), SHMD_OK);
	ck_assert_int_eq(kernel_segment(s.shmid, &k), 0);
	ck_assert_uint_eq(k.uid, 0);
	ck_assert_uint_eq(k.cuid, 65534);
	ck_assert_uint_eq(k.perms & 0777, 0);
	p = shmat(s.shmid, NULL, 0);	/* root may */
	ck_assert_ptr_ne(p, (void *)-1);
	ck_assert_int_eq(shmd_open(c, "up.closed", &x), SHMD_OK);
	ck_assert_uint_eq(x.nattch, 1);
	o.lifetime = SHMD_LIFETIME_PERSISTENT;
	ck_assert_int_eq(shmd_create(c, "up.keep", 4096, &o, &t), SHMD_OK);
	/* a restart of the unprivileged daemon takes them back */
	kill(d.pid, SIGTERM);
	ck_assert_int_eq(waitpid(d.pid, &status, 0), d.pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	d.pid = -1;
	testd_restart(&d);
	shmd_disconnect(c);
	c = conn();
	ck_assert_int_eq(shmd_open(c, "up.keep", &x), SHMD_OK);
	ck_assert_int_eq(x.shmid, t.shmid);
	ck_assert_int_eq(shmd_open(c, "up.closed", &x), SHMD_OK);
	/* and reaps, and destroys */
	shmdt(p);
	ck_assert_int_eq(wait_gone(c, "up.closed", s.shmid, 1000), 0);
	ck_assert_int_eq(shmd_destroy(c, "up.keep"), SHMD_OK);
	ck_assert_int_eq(kernel_segment(t.shmid, NULL), -1);
	shmd_disconnect(c);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("lifetime");
	TCase	*tc = tcase_create("lifetime");
	TCase	*tr = tcase_create("restart");
	TCase	*tn = tcase_create("root");
	TCase	*tu = tcase_create("unprivileged");

	tcase_add_unchecked_fixture(tc, start, stop);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_detach_after_last_detach);
	tcase_add_test(tc, test_detach_quick_and_by_exit);
	tcase_add_test(tc, test_attach_timeout);
	tcase_add_test(tc, test_keyless_marked_and_shared);
	tcase_add_test(tc, test_process_lifetime);
	tcase_add_test(tc, test_vanished_and_events);
	tcase_add_test_when(tc, test_process_lifetime_without_pid,
	    getuid() == 0 && testutil_can_unshare(CLONE_NEWPID),
	    "needs root and a pid namespace");
	suite_add_tcase(s, tc);
	/* restarts change the daemon: each test gets its own */
	tcase_add_checked_fixture(tr, start, stop);
	tcase_set_timeout(tr, 60);
	tcase_add_test(tr, test_restart_after_sigterm);
	tcase_add_test(tr, test_restart_after_sigkill);
	tcase_add_test(tr, test_kill_while_creating);
	tcase_add_test(tr, test_foreign_state_is_not_trusted);
	tcase_add_test(tr, test_damaged_log_keeps_records);
	tcase_add_test_when(tr, test_clock_steps, faketime_lib() != NULL,
	    "needs libfaketime (scripts/deps.sh --test installs it)");
	tcase_add_loop_test(tr, test_ends_survive_compaction_and_kill, 0, 5);
	suite_add_tcase(s, tr);
	tcase_set_timeout(tn, 60);
	tcase_add_test_when(tn, test_pid_reuse_is_not_proof,
	    getuid() == 0 && testutil_can_unshare(CLONE_NEWPID),
	    "needs root and a pid namespace");
	tcase_add_test_when(tn, test_state_dir_refused, getuid() == 0,
	    "needs root to chown");
	suite_add_tcase(s, tn);
	tcase_add_checked_fixture(tu, start_unprivileged, stop);
	tcase_set_timeout(tu, 60);
	tcase_add_test_when(tu, test_unprivileged_daemon,
	    getuid() == 0 && nobody_can_run("daemon/shmd"),
	    "needs root, and a build tree uid 65534 may run");
	suite_add_tcase(s, tu);
	return run_suite(s);
}
