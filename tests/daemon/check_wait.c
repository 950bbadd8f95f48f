/*
 * Integration tests: apps that start in any order. Create's exist_ok and
 * Open's wait, through libshmd, shmdctl and raw sockets: producer and
 * consumer in both orders, waits that time out, clients that leave
 * mid-wait, a wait for a segment the caller may not open, calls pipelined
 * behind a waiting Open, 1000 waiters answered by one Create, exist_ok
 * with another size, another user, and a Destroy racing it.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/shm.h>
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
	testd_start(&d, "--max-clients=1100", NULL);
}

static void
stop(void)
{
	testd_cleanup(&d);
}

static struct shmd_conn *
conn(void)
{
	return testd_conn(&d);
}

/* Until shmd has n Open calls waiting (Status's waiters). */
static void
wait_waiters(long long n)
{
	long long	w = -1;
	int		i;

	for (i = 0; i < 1000 && (w = testd_status(&d, "waiters")) < n; i++)
		usleep(1000);
	ck_assert_int_ge(w, n);
}

static double
now_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The producer: open-or-create, then the message and a flag byte. */
static int
producer(const char *name)
{
	struct shmd_create_options	 o;
	struct shmd_segment		 s;
	struct shmd_conn		*c;
	char				*p;

	if (shmd_connect(d.socket, &c) != SHMD_OK)
		return 1;
	shmd_create_options_init(&o);
	o.flags |= SHMD_CREATE_EXIST_OK | SHMD_CREATE_MODE;
	o.mode = 0600;
	o.lifetime = SHMD_LIFETIME_PERSISTENT;
	if (shmd_create(c, name, 4096, &o, &s) != SHMD_OK ||
	    (p = shmat(s.shmid, NULL, 0)) == (void *)-1)
		return 2;
	strcpy(p + 1, "hello");
	__atomic_store_n(p, 1, __ATOMIC_RELEASE);
	shmdt(p);
	shmd_disconnect(c);
	return 0;
}

/* The consumer: waits for the name, then for the flag, and reads. */
static int
consumer(const char *name)
{
	struct shmd_segment	 s;
	struct shmd_conn	*c;
	char			*p;
	int			 i, ok;

	if (shmd_connect(d.socket, &c) != SHMD_OK)
		return 1;
	if (shmd_open_wait(c, name, 10, &s) != SHMD_OK ||
	    (p = shmat(s.shmid, NULL, SHM_RDONLY)) == (void *)-1)
		return 2;
	for (i = 0; i < 1000 && !__atomic_load_n(p, __ATOMIC_ACQUIRE); i++)
		usleep(10000);
	ok = strcmp(p + 1, "hello") == 0;
	shmdt(p);
	shmd_disconnect(c);
	return ok ? 0 : 3;
}

static pid_t
spawn(int (*fn)(const char *), const char *name)
{
	pid_t	pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(fn(name));
	return pid;
}

static int
reap(pid_t pid)
{
	int	status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}


/* shmdctl wait, then read until the producer's write shows. */
static int
ctl_consumer(const char *name)
{
	char	*out = NULL;
	int	 i;

	if (testd_ctl(&d, &out, NULL, "wait", name, "--timeout", "10", NULL))
		return 1;
	free(out);
	for (i = 0; i < 500; i++) {
		if (testd_ctl(&d, &out, NULL, "read", name, "--size", "5",
		    NULL) == 0 && strcmp(out, "hello") == 0) {
			free(out);
			return 0;
		}
		free(out);
		usleep(10000);
	}
	return 2;
}

static int
ctl_producer(const char *name)
{
	char	*out = NULL;
	int	 rc;

	rc = testd_ctl(&d, &out, NULL, "create", name, "4K", "--exist-ok",
	    "--lifetime", "persistent", NULL);
	free(out);
	if (rc == 0)
		rc = testd_ctl(&d, &out, "hello", "write", name, NULL);
	free(out);
	return rc;
}

/*
 * A producer and a consumer (processes) in both orders: the consumer
 * first (it waits), then the producer first; then a second producer, who
 * finds the segment. The names are prefix.1 and prefix.2.
 */
static void
check_both_orders(int (*producer_fn)(const char *),
    int (*consumer_fn)(const char *), const char *prefix)
{
	struct shmd_conn	*c = conn();
	char			 n1[32], n2[32];
	pid_t			 a, b;

	snprintf(n1, sizeof n1, "%s.1", prefix);
	snprintf(n2, sizeof n2, "%s.2", prefix);
	a = spawn(consumer_fn, n1);
	wait_waiters(1);	/* it is waiting: the consumer came first */
	b = spawn(producer_fn, n1);
	ck_assert_int_eq(reap(b), 0);
	ck_assert_int_eq(reap(a), 0);
	b = spawn(producer_fn, n2);
	ck_assert_int_eq(reap(b), 0);
	a = spawn(consumer_fn, n2);
	ck_assert_int_eq(reap(a), 0);
	ck_assert_int_eq(producer_fn(n2), 0);	/* found, not made */
	ck_assert_int_eq(shmd_destroy(c, n1), SHMD_OK);
	ck_assert_int_eq(shmd_destroy(c, n2), SHMD_OK);
	shmd_disconnect(c);
}

START_TEST(test_either_order_libshmd)
{
	check_both_orders(producer, consumer, "order");
}
END_TEST

START_TEST(test_either_order_shmdctl)
{
	check_both_orders(ctl_producer, ctl_consumer, "ctl");
}
END_TEST

START_TEST(test_wait_times_out)
{
	struct shmd_conn	*c = conn();
	struct shmd_segment	 s;
	char			*out;
	double			 t = now_s();

	ck_assert_int_eq(shmd_open_wait(c, "never", 1, &s),
	    SHMD_ERR_NO_SUCH_SEGMENT);
	ck_assert(now_s() - t >= 0.9);
	/* and the connection goes on */
	ck_assert_int_eq(shmd_open_wait(c, "never", 0, &s),
	    SHMD_ERR_NO_SUCH_SEGMENT);
	ck_assert_int_eq(shmd_open_wait(c, "never", 3601, &s),
	    SHMD_ERR_INVALID_ARGUMENT);
	shmd_disconnect(c);
	ck_assert_int_eq(testd_ctl(&d, &out, NULL, "wait", "never",
	    "--timeout", "1", NULL), 1);
	free(out);
}
END_TEST


START_TEST(test_client_leaves_mid_wait)
{
	int	fds[50], i;

	for (i = 0; i < 50; i++) {
		fds[i] = raw_connect(d.socket);
		raw_send_msg(fds[i], "{\"method\":\"io.shmd.Open\",\"parameters\":"
		    "{\"name\":\"left\",\"wait\":3600}}");
	}
	/*
	 * 50 waiting, and the one asking; a connection closed just before
	 * (the readiness probe's) may be counted until shmd reads its end:
	 * a new connection's call can be answered first.
	 */
	for (i = 0; i < 500 && testd_status(&d, "clients") != 51; i++)
		usleep(10000);
	ck_assert_int_eq(testd_status(&d, "clients"), 51);
	for (i = 0; i < 50; i++)
		close(fds[i]);
	/* they cost nothing any more: gone without waiting out their hour */
	for (i = 0; i < 500 && testd_status(&d, "clients") != 1; i++)
		usleep(10000);
	ck_assert_int_eq(testd_status(&d, "clients"), 1);
	testd_assert_serves(&d);
}
END_TEST

/* As uid 65534: wait for a name root makes 0600. */
static int
wait_denied(void *arg)
{
	struct shmd_conn	*c;
	struct shmd_segment	 s;
	int			 rc;

	(void)arg;
	if (shmd_connect(d.socket, &c) != SHMD_OK)
		return 1;
	rc = shmd_open_wait(c, "private", 10, &s);
	shmd_disconnect(c);
	return rc == SHMD_ERR_PERMISSION_DENIED ? 0 : 2;
}

static int
run_wait_denied(const char *unused)
{
	(void)unused;
	return as_nobody(wait_denied, NULL);
}

START_TEST(test_wait_for_what_one_may_not_open)
{
	struct shmd_conn	*c = conn();
	pid_t			 pid;

	pid = spawn(run_wait_denied, NULL);
	wait_waiters(1);	/* it is waiting */
	ck_assert_int_eq(shmd_create(c, "private", 64, NULL, NULL), SHMD_OK);
	ck_assert_int_eq(reap(pid), 0);
	ck_assert_int_eq(shmd_destroy(c, "private"), SHMD_OK);
	shmd_disconnect(c);
}
END_TEST

START_TEST(test_pipelined_behind_a_wait)
{
	struct shmd_conn	*c = conn();
	struct json_object	*r;
	int			 fd = raw_connect(d.socket);

	raw_send_msg(fd, "{\"method\":\"io.shmd.Open\",\"parameters\":"
	    "{\"name\":\"behind\",\"wait\":10}}");
	raw_send_msg(fd, "{\"method\":\"io.shmd.Status\"}");
	raw_send_msg(fd, "{\"method\":\"io.shmd.Open\",\"parameters\":"
	    "{\"name\":\"behind\"}}");
	/* nothing until the name exists: the Status waits its turn */
	ck_assert_ptr_null(raw_recv(fd, 300));
	ck_assert_int_eq(shmd_create(c, "behind", 64, NULL, NULL), SHMD_OK);
	r = raw_recv(fd, 5000);
	ck_assert_ptr_nonnull(reply_member(r, "segment"));
	json_object_put(r);
	r = raw_recv(fd, 5000);
	ck_assert_ptr_nonnull(reply_member(r, "pid"));
	json_object_put(r);
	r = raw_recv(fd, 5000);
	ck_assert_ptr_nonnull(reply_member(r, "segment"));
	json_object_put(r);
	close(fd);
	ck_assert_int_eq(shmd_destroy(c, "behind"), SHMD_OK);
	shmd_disconnect(c);
}
END_TEST

START_TEST(test_thousand_waiters)
{
	static int		 fds[1000];
	struct rlimit		 rl;
	struct shmd_conn	*c = conn();
	struct shmd_segment	 s;
	struct json_object	*r, *v;
	int			 i, shmid;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = rl.rlim_max;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	for (i = 0; i < 1000; i++) {
		fds[i] = raw_connect(d.socket);
		ck_assert_int_ge(fds[i], 0);
		raw_send_msg(fds[i], "{\"method\":\"io.shmd.Open\",\"parameters\":"
		    "{\"name\":\"crowd\",\"wait\":60}}");
	}
	ck_assert_int_eq(shmd_create(c, "crowd", 64, NULL, &s), SHMD_OK);
	shmid = s.shmid;
	for (i = 0; i < 1000; i++) {
		r = raw_recv(fds[i], 5000);
		ck_assert_msg(r != NULL && reply_member(r, "segment") != NULL,
		    "waiter %d unanswered", i);
		ck_assert(json_object_object_get_ex(reply_member(r, "segment"),
		    "shmid", &v));
		ck_assert_int_eq(json_object_get_int(v), shmid);
		json_object_put(r);
		close(fds[i]);
	}
	ck_assert_int_eq(shmd_destroy(c, "crowd"), SHMD_OK);
	shmd_disconnect(c);
}
END_TEST

/* As uid 65534: exist_ok on root's segments. */
static int
exist_ok_other_user(void *arg)
{
	struct shmd_create_options	 o;
	struct shmd_conn		*c;
	int				 ok;

	(void)arg;
	if (shmd_connect(d.socket, &c) != SHMD_OK)
		return 1;
	shmd_create_options_init(&o);
	o.flags |= SHMD_CREATE_EXIST_OK;
	/* 0600, root's: not this caller's to open */
	ok = shmd_create(c, "eo.closed", 64, &o, NULL) ==
	    SHMD_ERR_NAME_EXISTS;
	/* 0644: it may open it, so it gets it */
	ok &= shmd_create(c, "eo.open", 64, &o, NULL) == SHMD_OK &&
	    shmd_created(c) == 0;
	shmd_disconnect(c);
	return ok ? 0 : 2;
}

START_TEST(test_exist_ok)
{
	struct shmd_create_options	 o;
	struct shmd_conn		*c = conn();
	struct shmd_segment		 s1, s2;
	struct json_object		*r;
	int				 fd;

	shmd_create_options_init(&o);
	o.flags |= SHMD_CREATE_EXIST_OK;
	ck_assert_int_eq(shmd_create(c, "eo.a", 64, &o, &s1), SHMD_OK);
	ck_assert_int_eq(shmd_created(c), 1);
	ck_assert_int_eq(shmd_create(c, "eo.a", 64, &o, &s2), SHMD_OK);
	ck_assert_int_eq(shmd_created(c), 0);
	ck_assert_int_eq(s1.shmid, s2.shmid);
	/* another size: NameExists, as without exist_ok */
	ck_assert_int_eq(shmd_create(c, "eo.a", 65, &o, NULL),
	    SHMD_ERR_NAME_EXISTS);
	/* without exist_ok: NameExists; its mode and owner stay */
	o.flags = SHMD_CREATE_MODE | SHMD_CREATE_EXIST_OK;
	o.mode = 0666;
	ck_assert_int_eq(shmd_create(c, "eo.a", 64, &o, &s2), SHMD_OK);
	ck_assert_uint_eq(s2.mode, 0600);
	ck_assert_int_eq(shmd_create(c, "eo.a", 64, NULL, NULL),
	    SHMD_ERR_NAME_EXISTS);
	/* created is in every Create reply; exist_ok must be a boolean */
	fd = raw_connect(d.socket);
	r = raw_call(fd, "{\"method\":\"io.shmd.Create\",\"parameters\":"
	    "{\"name\":\"eo.raw\",\"size\":1}}");
	ck_assert(json_object_get_boolean(reply_member(r, "created")));
	json_object_put(r);
	r = raw_call(fd, "{\"method\":\"io.shmd.Create\",\"parameters\":"
	    "{\"name\":\"eo.raw\",\"size\":1,\"exist_ok\":1}}");
	ck_assert_str_eq(reply_str(r, "parameter"), "exist_ok");
	json_object_put(r);
	close(fd);
	if (getuid() == 0) {
		o.flags = SHMD_CREATE_MODE;
		o.mode = 0600;
		ck_assert_int_eq(shmd_create(c, "eo.closed", 64, &o, NULL),
		    SHMD_OK);
		o.mode = 0644;
		ck_assert_int_eq(shmd_create(c, "eo.open", 64, &o, NULL),
		    SHMD_OK);
		ck_assert_int_eq(as_nobody(exist_ok_other_user, NULL), 0);
		ck_assert_int_eq(shmd_destroy(c, "eo.closed"), SHMD_OK);
		ck_assert_int_eq(shmd_destroy(c, "eo.open"), SHMD_OK);
	}
	ck_assert_int_eq(shmd_destroy(c, "eo.a"), SHMD_OK);
	ck_assert_int_eq(shmd_destroy(c, "eo.raw"), SHMD_OK);
	shmd_disconnect(c);
}
END_TEST

/* Destroy the name whenever it is there, 300 times. */
static int
destroyer(const char *name)
{
	struct shmd_conn	*c;
	int			 i, rc;

	if (shmd_connect(d.socket, &c) != SHMD_OK)
		return 1;
	for (i = 0; i < 300; i++) {
		rc = shmd_destroy(c, name);
		if (rc != SHMD_OK && rc != SHMD_ERR_NO_SUCH_SEGMENT)
			return 2;
	}
	shmd_disconnect(c);
	return 0;
}

START_TEST(test_exist_ok_while_destroyed)
{
	struct shmd_create_options	 o;
	struct shmd_conn		*c = conn();
	struct shmd_segment		 s;
	pid_t				 pid;
	int				 i, rc, made = 0, found = 0;

	shmd_create_options_init(&o);
	o.flags |= SHMD_CREATE_EXIST_OK;
	o.lifetime = SHMD_LIFETIME_PERSISTENT;
	pid = spawn(destroyer, "race");
	/* every call either makes it or finds it: never an error */
	for (i = 0; i < 300; i++) {
		rc = shmd_create(c, "race", 64, &o, &s);
		ck_assert_msg(rc == SHMD_OK, "%s", shmd_last_error(c));
		if (shmd_created(c))
			made++;
		else
			found++;
	}
	ck_assert_int_eq(reap(pid), 0);
	ck_assert_int_gt(made, 0);
	shmd_destroy(c, "race");
	/* nothing left behind */
	ck_assert_int_eq(kernel_count_by_cpid(d.pid), 0);
	shmd_disconnect(c);
	(void)found;
}
END_TEST

/* A restart ends the wait: the client sees the connection close. */
static int
wait_through_restart(const char *name)
{
	struct shmd_conn	*c;
	struct shmd_segment	 s;
	int			 rc;

	if (shmd_connect(d.socket, &c) != SHMD_OK)
		return 1;
	rc = shmd_open_wait(c, name, 60, &s);
	shmd_disconnect(c);
	return rc == SHMD_ERR_DISCONNECTED ? 0 : 2;
}

START_TEST(test_restart_ends_the_wait)
{
	pid_t	pid;
	double	t;
	int	status;

	pid = spawn(wait_through_restart, "restart");
	wait_waiters(1);	/* it is waiting */
	t = now_s();
	kill(d.pid, SIGTERM);
	ck_assert_int_eq(waitpid(d.pid, &status, 0), d.pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	d.pid = -1;
	ck_assert_int_eq(reap(pid), 0);
	ck_assert(now_s() - t < 30);
	testd_restart(&d);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("wait");
	TCase	*tc = tcase_create("wait");

	tcase_add_checked_fixture(tc, start, stop);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_either_order_libshmd);
	tcase_add_test(tc, test_either_order_shmdctl);
	tcase_add_test(tc, test_wait_times_out);
	tcase_add_test(tc, test_client_leaves_mid_wait);
	tcase_add_test(tc, test_pipelined_behind_a_wait);
	tcase_add_test(tc, test_thousand_waiters);
	tcase_add_test(tc, test_exist_ok);
	tcase_add_test(tc, test_exist_ok_while_destroyed);
	tcase_add_test(tc, test_restart_ends_the_wait);
	tcase_add_test_when(tc, test_wait_for_what_one_may_not_open,
	    getuid() == 0, "needs root to act as uid 65534");
	suite_add_tcase(s, tc);
	return run_suite(s);
}
