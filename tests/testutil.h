/* Helpers for the integration tests: a real shmd on a temporary socket. */
#ifndef SHMD_TESTUTIL_H
#define SHMD_TESTUTIL_H

/*
 * How long a test waits for what must come (a reap, a count, a log line)
 * before it fails: long, since a loaded machine (tests/stress.sh) lags by
 * seconds; how soon it comes is for bench/ to measure, not a test.
 */
#define TESTD_PATIENCE_MS	20000

/* The integration suites' key ranges: one of TESTD_KEY_COUNT keys each. */
#define TESTD_KEY_BASE		0x7e400000u
#define TESTD_KEY_COUNT		4096u
#define TESTD_KEY_COUNT_STR	"4096"

#include <stddef.h>
#include <sys/types.h>

#include "sysv.h"

struct json_object;

struct testd {
	char	dir[256];	/* temporary directory */
	char	socket[300];
	char	state[300];
	char	log[300];
	pid_t	pid;
	const char *args[16];	/* extra arguments, NULL-terminated */
	uid_t	user;		/* run as this uid and gid when not 0 */
	const char *env[8];	/* NAME=VALUE to add, NULL-terminated */
};

/* Start shmd with extra "--key=value" arguments (NULL-terminated); wait until it answers. */
void	testd_start(struct testd *, const char *arg, ...);
/* SIGTERM, and check that it exits 0; removes what it left in the kernel. */
void	testd_stop(struct testd *);
/* Set up like testd_start without starting: adjust d, then testd_restart(). */
void	testd_new(struct testd *, const char *arg, ...);
/* Like testd_start, running the daemon as uid and gid user (root only). */
void	testd_start_as(struct testd *, uid_t user, const char *arg, ...);
/* Start it again on the same socket and state (after a stop or a kill). */
void	testd_restart(struct testd *);
/* SIGKILL, and wait for it; its segments stay. */
void	testd_kill(struct testd *);
/* Remove the temporary directory and what every run left in the kernel. */
void	testd_cleanup(struct testd *);
/* Wait until the daemon answers a Status call (never a fixed sleep). */
int	testd_wait_ready(struct testd *, int timeout_ms);
/* The path of a built program (daemon/shmd, client/shmdctl). */
const char *test_program(const char *relpath);

/* The daemon's resident memory (VmRSS), kB; -1 when unknown. */
long	testd_rss_kb(const struct testd *);
/* Another connection is still served: a Status call gets its answer. */
void	testd_assert_serves(struct testd *);
/* shmdctl --socket d->socket ARGS... (NULL-terminated); stdout, exit status. */
int	testd_ctl(struct testd *, char **out, const char *input, ...);

/*
 * Run a suite, forking each test; the exit status for main(): 77 (the
 * harness's SKIP) when every test was skipped.
 */
struct Suite;
int	run_suite(struct Suite *);

/*
 * Add a test that can run only when ok; else say on stderr that it is
 * skipped, and why (a test that cannot run never counts as passed).
 */
#define tcase_add_test_when(tc, tf, ok, why) do {			\
	if (ok)								\
		tcase_add_test((tc), (tf));				\
	else								\
		testutil_skip(#tf, (why));				\
} while (0)
void	testutil_skip(const char *test, const char *why);
/* Whether this process may make namespaces of these unshare(2) flags. */
int	testutil_can_unshare(int flags);
/*
 * Run fn(arg) as pid 1 of a new pid namespace, and in new namespaces of
 * flags (CLONE_NEWNS: with a /proc of its own, as a container has). A
 * helper enters them, so that the calling test can still fork. fn's exit
 * status.
 */
int	testutil_in_namespaces(int flags, int (*fn)(void *), void *arg);
/* The next process of this pid namespace gets pid + 1 (as root). */
int	testutil_set_last_pid(pid_t pid);

struct shmd_conn;
/* A libshmd connection to the daemon (asserted). */
struct shmd_conn *testd_conn(struct testd *);
/* An integer member of a Status reply, on a connection of its own. */
long long testd_status(struct testd *, const char *member);

/* Raw connections. */
int	raw_connect(const char *path);
void	raw_send(int fd, const void *data, size_t len);
/* Send a NUL-terminated JSON text as one message. */
void	raw_send_msg(int fd, const char *json);
/* Read the next message; NULL when the peer closed or timeout_ms passed. */
struct json_object *raw_recv(int fd, int timeout_ms);
/*
 * The same without Check, for a forked child: every Check assertion, a
 * passing one too, writes a record to the runner's message file, which a
 * child shares; a child killed in the middle of that write leaves half a
 * record, and the runner stops with "Bad message type". NULL also when
 * what came was no message.
 */
struct json_object *raw_recv_quiet(int fd, int timeout_ms);
/* 1 when the peer closes within timeout_ms. */
int	raw_closed(int fd, int timeout_ms);
/* One call: send, then the reply (asserted present). */
struct json_object *raw_call(int fd, const char *json);
/* The error name of a reply, or NULL. */
const char *reply_error(struct json_object *);
/* A string or integer parameter of a reply. */
const char *reply_str(struct json_object *, const char *key);
long long reply_int(struct json_object *, const char *key);
/* A member of a reply's parameters (borrowed), or NULL. */
struct json_object *reply_member(struct json_object *, const char *key);

/* Kernel view from /proc/sysvipc/shm (client/sysv.c); -1 when the shmid is gone. */
int	kernel_segment(int shmid, struct sysv_seg *);
/* Segments the kernel holds whose creator is pid. */
int	kernel_count_by_cpid(pid_t pid);
/* Remove every segment whose creator is pid. */
void	kernel_remove_by_cpid(pid_t pid);

/*
 * Remove segments with a key in [base, base + count) whose creator is dead:
 * leftovers of an earlier run that failed before cleaning up.
 */
void	kernel_sweep_keys(unsigned base, unsigned count);

/* Whether uid 65534 may run the built program (a 0700 build tree: no). */
int	nobody_can_run(const char *relpath);

/* Run fn(arg) in a child as uid/gid 65534; returns its exit status. */
int	as_nobody(int (*fn)(void *), void *arg);
/* The same as uid and gid uid. */
int	as_uid(uid_t uid, int (*fn)(void *), void *arg);

/* Run a command; its stdout (malloc'd) and exit status. */
int	run_cmd(char **out, const char *input, const char *const argv[]);
/* The same, with standard error too (each malloc'd, or NULL). */
int	run_cmd2(char **out, char **err, const char *input,
	    const char *const argv[]);
/* Read a whole file (malloc'd, NUL-terminated). */
char	*read_file(const char *path);
/* How many times needle stands in hay (0 when hay is NULL). */
int	 count_in(const char *hay, const char *needle);
/* How many times the daemon's log holds needle. */
int	 testd_log_count(const struct testd *, const char *needle);
/* Wait until its log holds needle n times (TESTD_PATIENCE_MS at most). */
void	 testd_wait_log(const struct testd *, const char *needle, int n);

#endif
