/*
 * Integration tests: containers (shmd-protocol(7), "Namespaces"). shmids
 * name segments only in shmd's IPC namespace. A "pod" (a client in
 * shmd's IPC namespace, with mount and pid namespaces of its own) works
 * end to end; a "container" (an IPC namespace of its own) gets
 * WrongNamespace from every client, and nothing is created.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "shmd.h"
#include "testutil.h"

static struct testd	d;
static long long	daemon_ns;

static long long
own_namespace(void)
{
	struct stat	sb;

	ck_assert_int_eq(stat("/proc/self/ns/ipc", &sb), 0);
	return (long long)sb.st_ino;
}

static void
start(void)
{
	testd_start(&d, NULL);
	daemon_ns = own_namespace();
}

static void
stop(void)
{
	testd_cleanup(&d);
}

#define NS_FAIL(...) do { fprintf(stderr, __VA_ARGS__); return 1; } while (0)

/* fn() as pid 1 of new namespaces (flags, and a pid namespace). */
static int
run_in(void *fn)
{
	return ((int (*)(void))fn)();
}

static int
in_namespaces(int flags, int (*fn)(void))
{
	return testutil_in_namespaces(flags, run_in, (void *)fn);
}

/* shmdctl ARGS with stdin: its exit status, and stderr in *err. */
static int
ctl(char **err, const char *input, const char *a, const char *b,
    const char *c, const char *e)
{
	const char	*argv[] = { test_program("client/shmdctl"), "--socket",
			    d.socket, a, b, c, e, NULL };
	char		*out;
	int		 rc = run_cmd2(&out, err, input, argv);

	free(out);
	return rc;
}

/* The pod: libshmd and shmdctl, end to end, attaching what they get. */
static int
pod(void)
{
	struct shmd_conn		*c;
	struct shmd_create_options	 o;
	struct shmd_segment		 s;
	char				*p, *err = NULL;

	if (shmd_connect(d.socket, &c) != SHMD_OK)
		NS_FAIL("pod: connect\n");
	/* persistent: a detach one would end at a look after the shmdt */
	shmd_create_options_init(&o);
	o.lifetime = SHMD_LIFETIME_PERSISTENT;
	if (shmd_create(c, "pod.lib", 4096, &o, &s) != SHMD_OK)
		NS_FAIL("pod: create: %s\n", shmd_last_error(c));
	if ((p = shmat(s.shmid, NULL, 0)) == (void *)-1)
		NS_FAIL("pod: shmat: %s\n", strerror(errno));
	strcpy(p, "from the pod");
	shmdt(p);
	if (shmd_open(c, "pod.lib", &s) != SHMD_OK)
		NS_FAIL("pod: open: %s\n", shmd_last_error(c));
	if ((p = shmat(s.shmid, NULL, SHM_RDONLY)) == (void *)-1 ||
	    strcmp(p, "from the pod") != 0)
		NS_FAIL("pod: what was written is not there\n");
	shmdt(p);
	if (shmd_destroy(c, "pod.lib") != SHMD_OK)
		NS_FAIL("pod: destroy\n");
	shmd_disconnect(c);
	if (ctl(&err, NULL, "create", "pod.ctl", "4096",
	    "--lifetime=persistent") != 0 ||
	    ctl(&err, "hello", "write", "pod.ctl", NULL, NULL) != 0 ||
	    ctl(&err, NULL, "rm", "pod.ctl", NULL, NULL) != 0)
		NS_FAIL("pod: shmdctl: %s\n", err ? err : "");
	free(err);
	return 0;
}

START_TEST(test_pod_works)
{
	ck_assert_int_eq(in_namespaces(CLONE_NEWNS, pod), 0);
	testd_assert_serves(&d);
}
END_TEST

/* One raw Create; the reply's error and its client/daemon parameters. */
static int
raw_create(const char *extra, long long *client, long long *dns, char *error,
    size_t errlen)
{
	char			 msg[512];
	struct json_object	*r;
	int			 fd = raw_connect(d.socket);

	snprintf(msg, sizeof msg, "{\"method\":\"io.shmd.Create\","
	    "\"parameters\":{\"name\":\"ctr.raw\",\"size\":64%s}}", extra);
	r = raw_call(fd, msg);
	snprintf(error, errlen, "%s", reply_error(r) ? reply_error(r) : "");
	*client = *dns = 0;
	if (reply_error(r) != NULL && reply_member(r, "client") != NULL) {
		*client = reply_int(r, "client");
		*dns = reply_int(r, "daemon");
	}
	json_object_put(r);
	close(fd);
	return 0;
}

/* The container: every client is refused, and nothing is made. */
static int
container(void)
{
	struct shmd_conn	*c;
	struct shmd_segment	 s, *segs;
	struct stat		 sb;
	char			*err = NULL, extra[64], error[128], py[4096];
	long long		 me, client, dns;
	size_t			 n, i;
	int			 rc, seen = 0;

	if (stat("/proc/self/ns/ipc", &sb) == -1)
		NS_FAIL("container: no /proc/self/ns/ipc\n");
	me = (long long)sb.st_ino;
	if (me == daemon_ns)
		NS_FAIL("container: not in a new IPC namespace\n");
	/* libshmd */
	if (shmd_connect(d.socket, &c) != SHMD_OK)
		NS_FAIL("container: connect\n");
	if ((rc = shmd_create(c, "ctr.lib", 64, NULL, &s)) !=
	    SHMD_ERR_WRONG_NAMESPACE)
		NS_FAIL("container: create gave %d\n", rc);
	snprintf(extra, sizeof extra, "%lld", me);
	if (strstr(shmd_last_error(c), extra) == NULL ||
	    strstr(shmd_last_error(c), "--ipc=host") == NULL)
		NS_FAIL("container: %s\n", shmd_last_error(c));
	if (shmd_open(c, "ctr.existing", &s) != SHMD_ERR_WRONG_NAMESPACE)
		NS_FAIL("container: open\n");
	/* names are not shmids: List, Status and Destroy work */
	if (shmd_list(c, &segs, &n) != SHMD_OK)
		NS_FAIL("container: list\n");
	for (i = 0; i < n; i++)
		seen |= strcmp(segs[i].name, "ctr.existing") == 0;
	shmd_free(segs);
	if (!seen || shmd_destroy(c, "ctr.gone") != SHMD_OK)
		NS_FAIL("container: list or destroy\n");
	shmd_disconnect(c);
	/* shmdctl: exit 1, one line naming both namespaces and the fix */
	rc = ctl(&err, NULL, "create", "ctr.ctl", "64", NULL);
	if (rc != 1 || strstr(err, extra) == NULL ||
	    strstr(err, "--ipc=host") == NULL ||
	    strchr(err, '\n') != err + strlen(err) - 1)
		NS_FAIL("container: shmdctl create: %d %s\n", rc, err);
	free(err);
	rc = ctl(&err, NULL, "read", "ctr.existing", NULL, NULL);
	if (rc != 1 || strstr(err, "namespace") == NULL)
		NS_FAIL("container: shmdctl read: %d %s\n", rc, err);
	free(err);
	/* Python */
	snprintf(py, sizeof py, "PYTHONPATH='%s/python' python3 -c '"
	    "import shmd, sys\n"
	    "c = shmd.Client(\"%s\")\n"
	    "try:\n"
	    "    c.create(\"ctr.py\", 64)\n"
	    "except shmd.WrongNamespace as e:\n"
	    "    sys.exit(0 if e.client == %lld and e.daemon == %lld else 3)\n"
	    "sys.exit(4)'", getenv("TOP_SRCDIR") ? getenv("TOP_SRCDIR") : "..",
	    d.socket, me, daemon_ns);
	if ((rc = system(py)) != 0)
		NS_FAIL("container: python: %#x\n", rc);
	/* sending nothing, or shmd's own: shmd (root) reads the truth */
	raw_create("", &client, &dns, error, sizeof error);
	if (strcmp(error, "io.shmd.WrongNamespace") != 0 || client != me ||
	    dns != daemon_ns)
		NS_FAIL("container: silent raw client: %s %lld\n", error,
		    client);
	snprintf(extra, sizeof extra, ",\"ipc_namespace\":%lld", daemon_ns);
	raw_create(extra, &client, &dns, error, sizeof error);
	if (strcmp(error, "io.shmd.WrongNamespace") != 0 || client != me)
		NS_FAIL("container: lying raw client: %s %lld\n", error,
		    client);
	return 0;
}

START_TEST(test_container_is_refused)
{
	struct shmd_conn	*c;
	struct shmd_segment	*segs;
	size_t			 n;

	ck_assert_int_eq(shmd_connect(d.socket, &c), SHMD_OK);
	ck_assert_int_eq(shmd_create(c, "ctr.existing", 64, NULL, NULL),
	    SHMD_OK);
	ck_assert_int_eq(shmd_create(c, "ctr.gone", 64, NULL, NULL), SHMD_OK);
	ck_assert_int_eq(in_namespaces(CLONE_NEWIPC | CLONE_NEWNS, container),
	    0);
	/* nothing was created from the container; ctr.gone was destroyed */
	ck_assert_int_eq(shmd_list(c, &segs, &n), SHMD_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(segs[0].name, "ctr.existing");
	shmd_free(segs);
	ck_assert_int_eq(kernel_count_by_cpid(d.pid), 1);
	ck_assert_int_eq(shmd_destroy(c, "ctr.existing"), SHMD_OK);
	shmd_disconnect(c);
}
END_TEST

/* Status tells shmd's namespace; a caller in it is served as before. */
START_TEST(test_status_and_same_namespace)
{
	struct json_object	*r;
	char			 msg[256];
	int			 fd = raw_connect(d.socket);

	r = raw_call(fd, "{\"method\":\"io.shmd.Status\"}");
	ck_assert_int_eq(reply_int(r, "ipc_namespace"), daemon_ns);
	json_object_put(r);
	snprintf(msg, sizeof msg, "{\"method\":\"io.shmd.Create\",\"parameters\":"
	    "{\"name\":\"same\",\"size\":64,\"ipc_namespace\":%lld}}",
	    daemon_ns);
	r = raw_call(fd, msg);
	ck_assert_ptr_null(reply_error(r));
	json_object_put(r);
	r = raw_call(fd, "{\"method\":\"io.shmd.Open\",\"parameters\":"
	    "{\"name\":\"same\",\"ipc_namespace\":-1}}");
	ck_assert_str_eq(reply_error(r), "org.varlink.service.InvalidParameter");
	ck_assert_str_eq(reply_str(r, "parameter"), "ipc_namespace");
	json_object_put(r);
	r = raw_call(fd, "{\"method\":\"io.shmd.Destroy\",\"parameters\":"
	    "{\"name\":\"same\"}}");
	ck_assert_ptr_null(reply_error(r));
	json_object_put(r);
	close(fd);
}
END_TEST

/* How many descriptors a process holds. */
static int
count_fds(pid_t pid)
{
	struct dirent	*e;
	char		 path[64];
	DIR		*dir;
	int		 n = 0;

	snprintf(path, sizeof path, "/proc/%ld/fd", (long)pid);
	ck_assert_ptr_nonnull(dir = opendir(path));
	while ((e = readdir(dir)) != NULL)
		n += e->d_name[0] != '.';
	closedir(dir);
	return n;
}

/*
 * Reading a caller's namespace through its pidfd leaves no descriptor
 * behind: a connection holds one (the descriptor budget counts so),
 * whatever its calls, and a "process" Create after an Open on the same
 * connection still follows the caller.
 */
#define NS_CONNS	16
START_TEST(test_one_descriptor_a_connection)
{
	struct json_object	*r, *v;
	long long		 n = 0;
	int			 fds[NS_CONNS + 1], before, i;
	char			 msg[160];

	r = raw_call(fds[0] = raw_connect(d.socket), "{\"method\":"
	    "\"io.shmd.Create\",\"parameters\":{\"name\":\"one.fd\",\"size\":64}}");
	ck_assert_ptr_null(reply_error(r));
	json_object_put(r);
	/* counted once the daemon is down to this one connection */
	for (i = 0; i < TESTD_PATIENCE_MS / 10; i++) {
		r = raw_call(fds[0], "{\"method\":\"io.shmd.Status\"}");
		n = reply_int(r, "clients");
		json_object_put(r);
		if (n == 1)
			break;
		usleep(10000);
	}
	ck_assert_int_eq(n, 1);
	before = count_fds(d.pid);
	for (i = 1; i <= NS_CONNS; i++) {
		ck_assert_int_ge(fds[i] = raw_connect(d.socket), 0);
		r = raw_call(fds[i], i % 2 ? "{\"method\":\"io.shmd.Open\","
		    "\"parameters\":{\"name\":\"one.fd\"}}" : "{\"method\":"
		    "\"io.shmd.Create\",\"parameters\":{\"name\":\"one.fd\","
		    "\"size\":64,\"exist_ok\":true}}");
		ck_assert_ptr_null(reply_error(r));
		json_object_put(r);
	}
	ck_assert_int_eq(count_fds(d.pid), before + NS_CONNS);
	/* after an Open, a process segment of the same connection */
	snprintf(msg, sizeof msg, "{\"method\":\"io.shmd.Create\",\"parameters\":"
	    "{\"name\":\"one.proc\",\"size\":64,\"lifetime\":\"process\"}}");
	r = raw_call(fds[1], msg);
	ck_assert_ptr_null(reply_error(r));
	ck_assert(json_object_object_get_ex(reply_member(r, "segment"),
	    "creator_pid", &v));
	ck_assert_int_eq(json_object_get_int64(v), getpid());
	json_object_put(r);
	for (i = 1; i <= NS_CONNS; i++)
		close(fds[i]);
	r = raw_call(fds[0], "{\"method\":"
	    "\"io.shmd.Destroy\",\"parameters\":{\"name\":\"one.fd\"}}");
	ck_assert_ptr_null(reply_error(r));
	json_object_put(r);
	r = raw_call(fds[0], "{\"method\":\"io.shmd.Destroy\",\"parameters\":"
	    "{\"name\":\"one.proc\"}}");
	ck_assert_ptr_null(reply_error(r));
	json_object_put(r);
	close(fds[0]);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("namespace");
	TCase	*tc = tcase_create("namespace");

	tcase_add_checked_fixture(tc, start, stop);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_status_and_same_namespace);
	tcase_add_test(tc, test_one_descriptor_a_connection);
	tcase_add_test_when(tc, test_pod_works,
	    testutil_can_unshare(CLONE_NEWNS | CLONE_NEWPID),
	    "no mount and pid namespaces may be made here");
	tcase_add_test_when(tc, test_container_is_refused,
	    getuid() == 0 && testutil_can_unshare(CLONE_NEWIPC | CLONE_NEWNS |
	    CLONE_NEWPID), "needs root (to read /proc/PID/ns/ipc) and "
	    "IPC, mount and pid namespaces");
	suite_add_tcase(s, tc);
	return run_suite(s);
}
