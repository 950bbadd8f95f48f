/* Integration tests: libshmd against the real daemon. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
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
	testd_start(&d, "--max-segments-per-uid=4", "--max-bytes-per-uid=1M",
	    NULL);
}

static void
stop(void)
{
	testd_stop(&d);
}

static struct shmd_conn *
conn(void)
{
	struct shmd_conn	*c;

	ck_assert_int_eq(shmd_connect(d.socket, &c), SHMD_OK);
	return c;
}

/*
 * Destroy every segment listed. One may end on its own meanwhile (a
 * detach segment whose last attach a child's exit dropped ends at shmd's
 * next look, after the List under valgrind): gone is what this wants.
 */
static void
destroy_all(struct shmd_conn *c)
{
	struct shmd_segment	*segs;
	size_t			 n, i;
	int			 rc;

	ck_assert_int_eq(shmd_list(c, &segs, &n), SHMD_OK);
	for (i = 0; i < n; i++) {
		rc = shmd_destroy(c, segs[i].name);
		ck_assert_msg(rc == SHMD_OK || (rc == SHMD_ERR_NO_SUCH_SEGMENT &&
		    segs[i].lifetime == SHMD_LIFETIME_DETACH),
		    "destroy %s: %s", segs[i].name, shmd_strerror(rc));
	}
	shmd_free(segs);
}

START_TEST(test_create_attach_destroy)
{
	struct shmd_conn		*c = conn();
	struct shmd_create_options	 o;
	struct shmd_segment		 s, s2;
	struct sysv_seg			 k;
	char				*p;

	shmd_create_options_init(&o);
	o.lifetime = SHMD_LIFETIME_PERSISTENT;
	o.flags |= SHMD_CREATE_MODE;
	o.mode = 0640;
	ck_assert_int_eq(shmd_create(c, "lib/one", 8192, &o, &s), SHMD_OK);
	ck_assert_str_eq(s.name, "lib/one");
	ck_assert_uint_eq(s.size, 8192);
	ck_assert_uint_eq(s.mode, 0640);
	ck_assert_int_eq(s.lifetime, SHMD_LIFETIME_PERSISTENT);
	ck_assert_int_eq(s.creator_pid, getpid());
	ck_assert_uint_eq(s.creator_uid, getuid());
	ck_assert_int_ne(s.key, 0);
	ck_assert_int_eq(kernel_segment(s.shmid, &k), 0);
	ck_assert_int_eq(k.key, s.key);
	ck_assert_uint_eq(k.perms & 0777, 0640);
	ck_assert_int_eq(shmget(s.key, 0, 0), s.shmid);

	p = shmat(s.shmid, NULL, 0);
	ck_assert_ptr_ne(p, (void *)-1);
	ck_assert_int_eq(p[0], 0);	/* starts zeroed */
	memcpy(p, "hi", 3);
	ck_assert_int_eq(shmd_open(c, "lib/one", &s2), SHMD_OK);
	ck_assert_int_eq(s2.shmid, s.shmid);
	ck_assert_uint_eq(s2.nattch, 1);
	ck_assert_int_eq(shmd_destroy(c, "lib/one"), SHMD_OK);
	/* The mapping lives on; the name and the key are free at once. */
	ck_assert_str_eq(p, "hi");
	ck_assert_int_eq(shmd_open(c, "lib/one", &s2), SHMD_ERR_NO_SUCH_SEGMENT);
	ck_assert_int_eq(shmget(s.key, 0, 0), -1);
	shmdt(p);
	ck_assert_int_eq(kernel_segment(s.shmid, NULL), -1);
	shmd_disconnect(c);
}
END_TEST

/* The memory policy's options, and the Segment's members (since 0.4). */
START_TEST(test_memory_policy)
{
	struct shmd_conn		*c = conn();
	struct shmd_create_options	 o;
	struct shmd_segment		 s;
	struct shmid_ds			 ds;

	shmd_create_options_init(&o);
	o.lifetime = SHMD_LIFETIME_PERSISTENT;
	o.flags |= SHMD_CREATE_LOCKED | SHMD_CREATE_NUMA_NODE;
	o.numa_node = 0;
	ck_assert_int_eq(shmd_create(c, "lib.policy", 5000, &o, &s), SHMD_OK);
	ck_assert_int_eq(s.locked, 1);
	ck_assert_int_eq(s.numa_node, 0);
	ck_assert_int_eq(s.declared, 0);
	ck_assert_uint_eq(s.page_size, (uint64_t)sysconf(_SC_PAGESIZE));
	ck_assert_int_eq(shmctl(s.shmid, IPC_STAT, &ds), 0);
	ck_assert_uint_eq(ds.shm_perm.mode & SHM_LOCKED, SHM_LOCKED);
	/* exist_ok: the same policy is the answer, another is not */
	o.flags |= SHMD_CREATE_EXIST_OK;
	ck_assert_int_eq(shmd_create(c, "lib.policy", 5000, &o, &s), SHMD_OK);
	ck_assert_int_eq(shmd_created(c), 0);
	o.flags &= ~(unsigned)SHMD_CREATE_LOCKED;
	ck_assert_int_eq(shmd_create(c, "lib.policy", 5000, &o, &s),
	    SHMD_ERR_NAME_EXISTS);
	ck_assert_int_eq(shmd_destroy(c, "lib.policy"), SHMD_OK);
	/* no policy: no node */
	ck_assert_int_eq(shmd_create(c, "lib.plain", 64, NULL, &s), SHMD_OK);
	ck_assert_int_eq(s.numa_node, -1);
	ck_assert_int_eq(s.locked, 0);
	ck_assert_int_eq(shmd_destroy(c, "lib.plain"), SHMD_OK);
	/* the daemon's refusals */
	shmd_create_options_init(&o);
	o.flags |= SHMD_CREATE_PAGE_SIZE;
	o.page_size = 2 << 20;
	ck_assert_int_eq(shmd_create(c, "lib.bad", 64, &o, NULL),
	    SHMD_ERR_INVALID_PARAMETER);
	shmd_create_options_init(&o);
	o.flags |= SHMD_CREATE_NUMA_NODE;
	o.numa_node = 1000;
	ck_assert_int_eq(shmd_create(c, "lib.bad", 64, &o, NULL),
	    SHMD_ERR_INVALID_PARAMETER);
	ck_assert_ptr_nonnull(strstr(shmd_last_error(c), "numa_node"));
	shmd_disconnect(c);
}
END_TEST

START_TEST(test_errors)
{
	struct shmd_conn		*c = conn();
	struct shmd_create_options	 o;
	struct shmd_segment		 s;
	int				 before = kernel_count_by_cpid(d.pid);

	ck_assert_int_eq(shmd_create(c, "lib.e", 10, NULL, &s), SHMD_OK);
	ck_assert_int_eq(shmd_create(c, "lib.e", 10, NULL, &s),
	    SHMD_ERR_NAME_EXISTS);
	ck_assert_ptr_nonnull(strstr(shmd_last_error(c), "lib.e"));
	ck_assert_int_eq(shmd_create(c, "bad name", 10, NULL, &s),
	    SHMD_ERR_INVALID_PARAMETER);
	ck_assert_ptr_nonnull(strstr(shmd_last_error(c), "name"));
	ck_assert_int_eq(shmd_create(c, "lib.z", 0, NULL, &s),
	    SHMD_ERR_INVALID_PARAMETER);
	shmd_create_options_init(&o);
	o.flags = SHMD_CREATE_KEY;
	o.key = s.key;
	ck_assert_int_eq(shmd_create(c, "lib.k", 10, &o, NULL),
	    SHMD_ERR_KEY_IN_USE);
	ck_assert_int_eq(shmd_destroy(c, "nope"), SHMD_ERR_NO_SUCH_SEGMENT);
	ck_assert_int_eq(kernel_count_by_cpid(d.pid), before + 1);
	ck_assert_int_eq(shmd_destroy(c, "lib.e"), SHMD_OK);
	ck_assert_str_eq(shmd_strerror(SHMD_ERR_QUOTA_EXCEEDED),
	    "quota exceeded");
	ck_assert_str_eq(shmd_strerror(12345), "unknown error code");
	shmd_disconnect(c);
	shmd_disconnect(NULL);
}
END_TEST

START_TEST(test_list_status_call)
{
	struct shmd_conn	*c = conn();
	struct shmd_segment	*segs;
	struct shmd_status	 st;
	size_t			 n;
	char			*json;

	ck_assert_int_eq(shmd_create(c, "lib.l1", 100, NULL, NULL), SHMD_OK);
	ck_assert_int_eq(shmd_create(c, "lib.l2", 200, NULL, NULL), SHMD_OK);
	ck_assert_int_eq(shmd_list(c, &segs, &n), SHMD_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(segs[0].name, "lib.l1");
	ck_assert_str_eq(segs[1].name, "lib.l2");
	shmd_free(segs);
	ck_assert_int_eq(shmd_status(c, &st), SHMD_OK);
	ck_assert_int_eq(st.pid, d.pid);
	ck_assert_uint_eq(st.segments, 2);
	ck_assert_uint_eq(st.bytes, 300);
	ck_assert_uint_eq(st.limits.max_segments_per_uid, 4);
	ck_assert_uint_eq(st.limits.max_bytes_per_uid, 1 << 20);
	/* since 0.4, beyond struct shmd_limits (the daemon's default) */
	ck_assert_uint_eq(st.max_clients_per_uid, 128);
	ck_assert_uint_ge(st.created, 2);	/* this test's, and earlier ones' */
	ck_assert_uint_eq(st.declared_drift, 0);
	ck_assert_str_eq(st.version, PACKAGE_VERSION);
	ck_assert_int_eq(shmd_call(c, "io.shmd.Open", "{\"name\":\"lib.l2\"}",
	    &json), SHMD_OK);
	ck_assert_ptr_nonnull(strstr(json, "\"size\":200"));
	shmd_free(json);
	ck_assert_int_eq(shmd_call(c, "io.shmd.Open", "{\"name\":\"x\"}",
	    &json), SHMD_ERR_NO_SUCH_SEGMENT);
	ck_assert_str_eq(json, "{\"name\":\"x\"}");
	shmd_free(json);
	ck_assert_int_eq(shmd_call(c, "io.shmd.Open", "[1]", &json),
	    SHMD_ERR_INVALID_ARGUMENT);
	destroy_all(c);
	shmd_disconnect(c);
}
END_TEST

/* JSON text to print: the daemon's own, laid out; a segment as it writes one. */
START_TEST(test_json_text)
{
	struct shmd_conn	*c = conn();
	struct shmd_segment	*segs, bad;
	struct shmd_usage	*u;
	struct json_object	*daemon;
	size_t			 n, i;
	char			*json, *arr, *t;

	ck_assert_int_eq(shmd_create(c, "lib.j1", 100, NULL, NULL), SHMD_OK);
	ck_assert_int_eq(shmd_create(c, "uid:0/lib.j2", 200, NULL, NULL),
	    SHMD_OK);
	ck_assert_int_eq(shmd_call(c, "io.shmd.List", NULL, &json), SHMD_OK);
	ck_assert_int_eq(shmd_json_format(json, "segments", 0, &arr), SHMD_OK);
	ck_assert_msg(arr[0] == '[' && arr[strlen(arr) - 1] == ']', "%s", arr);
	/* List's array as it came: the same text, unparsed */
	ck_assert_int_eq(shmd_list_json(c, &t), SHMD_OK);
	ck_assert_str_eq(t, arr);
	shmd_free(t);
	/*
	 * Each segment as libshmd writes it is the daemon's: every member
	 * shmd-protocol(7) names, the memory policy's included, with the
	 * daemon's value (it may add more: attach_timeout).
	 */
	ck_assert_int_eq(shmd_list(c, &segs, &n), SHMD_OK);
	ck_assert_uint_eq(n, 2);
	daemon = json_tokener_parse(arr);
	ck_assert_ptr_nonnull(daemon);
	for (i = 0; i < n; i++) {
		struct json_object	*ours, *theirs, *v;

		ck_assert_int_eq(shmd_segment_json(&segs[i], 0, &t), SHMD_OK);
		ck_assert_ptr_nonnull(ours = json_tokener_parse(t));
		theirs = json_object_array_get_idx(daemon, (int)i);
		ck_assert_int_eq(json_object_object_length(ours), 15);
		json_object_object_foreach(ours, key, val) {
			ck_assert_msg(json_object_object_get_ex(theirs, key,
			    &v) && json_object_equal(val, v), "%s: %s", key, t);
		}
		json_object_put(ours);
		shmd_free(t);
	}
	json_object_put(daemon);
	ck_assert_int_eq(shmd_segment_json(&segs[0], SHMD_JSON_PRETTY, &t),
	    SHMD_OK);
	ck_assert_ptr_nonnull(strstr(t, "{\n  \"name\":\"lib.j1\",\n"));
	shmd_free(t);
	shmd_free(segs);
	shmd_free(arr);
	shmd_free(json);
	/* layouts */
	ck_assert_int_eq(shmd_json_format(" {\"a\":[1,\"x/y\"]} ", NULL, 0,
	    &t), SHMD_OK);
	ck_assert_str_eq(t, "{\"a\":[1,\"x/y\"]}");
	shmd_free(t);
	ck_assert_int_eq(shmd_json_format("{\"a\":[1]}", NULL,
	    SHMD_JSON_PRETTY, &t), SHMD_OK);
	ck_assert_str_eq(t, "{\n  \"a\":[\n    1\n  ]\n}");
	shmd_free(t);
	ck_assert_int_eq(shmd_json_format("{\"a\":[1]}", NULL,
	    SHMD_JSON_SPACED, &t), SHMD_OK);
	ck_assert_str_eq(t, "{ \"a\": [ 1 ] }");
	shmd_free(t);
	ck_assert_int_eq(shmd_json_format("[2]", NULL, 0, &t), SHMD_OK);
	ck_assert_str_eq(t, "[2]");
	shmd_free(t);
	/* refused: not JSON, no such member, unknown flags, no struct_size */
	ck_assert_int_eq(shmd_json_format("{", NULL, 0, &t),
	    SHMD_ERR_INVALID_ARGUMENT);
	ck_assert_int_eq(shmd_json_format("{\"a\":1} x", NULL, 0, &t),
	    SHMD_ERR_INVALID_ARGUMENT);
	ck_assert_int_eq(shmd_json_format("{\"a\":1}", "b", 0, &t),
	    SHMD_ERR_INVALID_ARGUMENT);
	ck_assert_int_eq(shmd_json_format("[1]", "a", 0, &t),
	    SHMD_ERR_INVALID_ARGUMENT);
	ck_assert_int_eq(shmd_json_format("{}", NULL, 0x10, &t),
	    SHMD_ERR_INVALID_ARGUMENT);
	memset(&bad, 0, sizeof bad);
	ck_assert_int_eq(shmd_segment_json(&bad, 0, &t),
	    SHMD_ERR_INVALID_ARGUMENT);
	/* usage: root's Status has it, per owner */
	ck_assert_int_eq(shmd_usage(c, &u, &n), SHMD_OK);
	if (geteuid() == 0) {
		ck_assert_uint_eq(n, 1);
		ck_assert_uint_eq(u[0].struct_size, sizeof *u);
		ck_assert_uint_eq(u[0].uid, 0);
		ck_assert_uint_eq(u[0].segments, 2);
		ck_assert_uint_eq(u[0].bytes, 300);
	} else
		ck_assert_uint_eq(n, 0);
	shmd_free(u);
	ck_assert_int_eq(shmd_usage_sized(c, &u, &n, sizeof(size_t)),
	    SHMD_ERR_INVALID_ARGUMENT);
	destroy_all(c);
	shmd_disconnect(c);
}
END_TEST

/* A reply written ahead on a fake daemon's socket; the library's answer. */
static int
fake_list_json(const char *reply, char **json)
{
	struct sockaddr_un	 sun;
	struct shmd_conn	*c;
	int			 l, a, rc;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	ck_assert_int_lt(snprintf(sun.sun_path, sizeof sun.sun_path,
	    "%.80s/fake.sock", d.dir), (int)sizeof sun.sun_path);
	unlink(sun.sun_path);
	ck_assert_int_ne(l = socket(AF_UNIX, SOCK_STREAM, 0), -1);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&sun, sizeof sun), 0);
	ck_assert_int_eq(listen(l, 1), 0);
	ck_assert_int_eq(shmd_connect(sun.sun_path, &c), SHMD_OK);
	ck_assert_int_ne(a = accept(l, NULL, NULL), -1);
	ck_assert_int_eq(write(a, reply, strlen(reply) + 1),
	    (ssize_t)strlen(reply) + 1);
	rc = shmd_list_json(c, json);
	shmd_disconnect(c);
	close(a);
	close(l);
	unlink(sun.sun_path);
	return rc;
}

/* shmd_list_json() beyond the daemon's one layout: read as JSON. */
START_TEST(test_list_json_layouts)
{
	char	*json;

	ck_assert_int_eq(fake_list_json("{\"parameters\": {\"segments\": "
	    "[{\"name\": \"a\"}], \"x\": 1}}", &json), SHMD_OK);
	ck_assert_str_eq(json, "[{\"name\":\"a\"}]");
	shmd_free(json);
	ck_assert_int_eq(fake_list_json("{\"error\":\"io.shmd.PermissionDenied\","
	    "\"parameters\":{}}", &json), SHMD_ERR_PERMISSION_DENIED);
	ck_assert_ptr_null(json);
	ck_assert_int_eq(fake_list_json("{\"parameters\":{}}", &json),
	    SHMD_ERR_BAD_REPLY);
	ck_assert_int_eq(fake_list_json("{\"parameters\":{\"segments\":[}}",
	    &json), SHMD_ERR_BAD_REPLY);
}
END_TEST

START_TEST(test_watch)
{
	struct shmd_conn	*w = conn(), *c = conn();
	struct shmd_segment	 s;
	enum shmd_event		 ev;
	int			 has;

	ck_assert_int_eq(shmd_watch(w), SHMD_OK);
	ck_assert_int_eq(shmd_status(w, NULL), SHMD_ERR_INVALID_ARGUMENT);
	ck_assert_int_eq(shmd_open(w, "x", &s), SHMD_ERR_BUSY);
	ck_assert_int_eq(shmd_create(c, "lib.w", 64, NULL, NULL), SHMD_OK);
	ck_assert_int_eq(shmd_destroy(c, "lib.w"), SHMD_OK);
	ck_assert_int_eq(shmd_watch_next(w, &ev, &s, &has), SHMD_OK);
	ck_assert_int_eq(ev, SHMD_EVENT_CREATED);
	ck_assert(has);
	ck_assert_str_eq(s.name, "lib.w");
	ck_assert_int_eq(shmd_watch_next(w, &ev, &s, &has), SHMD_OK);
	ck_assert_int_eq(ev, SHMD_EVENT_DESTROYED);
	ck_assert_str_eq(s.name, "lib.w");
	shmd_disconnect(w);
	shmd_disconnect(c);
}
END_TEST

/*
 * The event-loop pattern of shmd.h: poll shmd_fd(), then shmd_watch_poll()
 * until SHMD_ERR_AGAIN. Five quick events arrive in one or two reads; all
 * five must come out, though the descriptor goes quiet after the first.
 */
START_TEST(test_watch_poll_drains)
{
	struct shmd_conn	*w = conn(), *c = conn();
	struct shmd_segment	 s;
	struct pollfd		 pfd;
	enum shmd_event		 ev;
	char			 name[32];
	int			 has, i, rc, created = 0;

	ck_assert_int_eq(shmd_watch(w), SHMD_OK);
	/* Nothing yet: it returns at once. */
	ck_assert_int_eq(shmd_watch_poll(w, &ev, &s, &has), SHMD_ERR_AGAIN);
	ck_assert_str_eq(shmd_strerror(SHMD_ERR_AGAIN),
	    "no complete event is buffered: poll shmd_fd() and call again");
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof name, "lib.poll%d", i);
		ck_assert_int_eq(shmd_create(c, name, 64, NULL, NULL), SHMD_OK);
	}
	pfd.fd = shmd_fd(w);
	pfd.events = POLLIN;
	while (created < 5) {
		/* A quiet descriptor for 5 s: events were left unread. */
		ck_assert_int_eq(poll(&pfd, 1, 5000), 1);
		while ((rc = shmd_watch_poll(w, &ev, &s, &has)) == SHMD_OK) {
			ck_assert_int_eq(ev, SHMD_EVENT_CREATED);
			ck_assert(has);
			snprintf(name, sizeof name, "lib.poll%d", created++);
			ck_assert_str_eq(s.name, name);
		}
		ck_assert_int_eq(rc, SHMD_ERR_AGAIN);
	}
	ck_assert_int_eq(created, 5);
	destroy_all(c);
	shmd_disconnect(c);
	ck_assert_int_eq(shmd_watch_poll(NULL, &ev, &s, &has),
	    SHMD_ERR_INVALID_ARGUMENT);
	shmd_disconnect(w);
}
END_TEST

/* A daemon that goes away is SHMD_ERR_DISCONNECTED, not another "again". */
START_TEST(test_watch_poll_disconnected)
{
	struct testd		 d2;
	struct shmd_conn	*w;
	struct shmd_segment	 s;
	enum shmd_event		 ev;
	struct pollfd		 pfd;
	int			 has, rc;

	testd_start(&d2, NULL);
	ck_assert_int_eq(shmd_connect(d2.socket, &w), SHMD_OK);
	ck_assert_int_eq(shmd_watch(w), SHMD_OK);
	testd_stop(&d2);
	pfd.fd = shmd_fd(w);
	pfd.events = POLLIN;
	ck_assert_int_eq(poll(&pfd, 1, 5000), 1);
	while ((rc = shmd_watch_poll(w, &ev, &s, &has)) == SHMD_OK)
		;
	ck_assert_int_eq(rc, SHMD_ERR_DISCONNECTED);
	shmd_disconnect(w);
}
END_TEST

/*
 * A connection refused for a limit is answered and closed by the daemon
 * at once: a call written after that (a client slow to send, as under
 * load) reports the refusal, not a bare disconnection.
 */
START_TEST(test_refused_before_sending)
{
	struct testd		 d2;
	struct shmd_conn	*held[64], *c;
	struct shmd_segment	*segs;
	struct pollfd		 pfd;
	size_t			 n;
	int			 i, j, rc = SHMD_OK;

	testd_start(&d2, "--max-clients=1", NULL);
	/* hold connections until one is refused (root has a reserve) */
	for (i = 0; i < 64 && rc == SHMD_OK; i++) {
		ck_assert_int_eq(shmd_connect(d2.socket, &held[i]), SHMD_OK);
		if ((rc = shmd_list(held[i], &segs, &n)) == SHMD_OK)
			shmd_free(segs);
	}
	ck_assert_int_eq(rc, SHMD_ERR_QUOTA_EXCEEDED);
	ck_assert_int_eq(shmd_connect(d2.socket, &c), SHMD_OK);
	/* the daemon has answered and closed before we send (POLLHUP only) */
	pfd.fd = shmd_fd(c);
	pfd.events = 0;
	ck_assert_int_eq(poll(&pfd, 1, TESTD_PATIENCE_MS), 1);
	ck_assert(pfd.revents & POLLHUP);
	ck_assert_int_eq(shmd_create(c, "refused", 1, NULL, NULL),
	    SHMD_ERR_QUOTA_EXCEEDED);
	ck_assert_ptr_nonnull(strstr(shmd_last_error(c), "clients"));
	shmd_disconnect(c);
	for (j = 0; j < i; j++)
		shmd_disconnect(held[j]);
	testd_stop(&d2);
}
END_TEST

/* A program built against 0.2 (tests/daemon/abi-0.2.c) runs as it did. */
START_TEST(test_abi_0_2)
{
	const char	*argv[] = { test_program("tests/daemon/abi-0.2"), d.socket,
			    NULL };
	char		*out = NULL, *err = NULL;
	int		 status;

	status = run_cmd2(&out, &err, NULL, argv);
	ck_assert_msg(status == 0, "abi-0.2 exited %d: %s", status,
	    err != NULL ? err : "");
	free(out);
	free(err);
}
END_TEST

/* A caller's struct from a later header: a 0.3 member or more (guard). */
struct later_segment {
	struct shmd_segment	s;
	unsigned char		later[40];
};

/*
 * The library honours struct_size: it writes only that much, zeroes what
 * it does not know of a larger struct, and refuses one smaller than 0.3's
 * before it asks the daemon anything. Called through parentheses, as a
 * function pointer would: the header's macros would set struct_size.
 */
START_TEST(test_struct_size)
{
	struct shmd_conn		*c = conn();
	struct later_segment		 big, small;
	struct shmd_create_options	 o;
	struct {
		struct shmd_create_options	o;
		unsigned char			later[16];
	} bigo;
	struct shmd_status		 st;
	struct shmd_segment		*segs, *e;
	size_t				 n, i, stride;
	int				 found = 0;

	memset(&big, 0xa5, sizeof big);
	big.s.struct_size = sizeof big;
	ck_assert_int_eq((shmd_create)(c, "lib.sz", 64, NULL, &big.s), SHMD_OK);
	ck_assert_str_eq(big.s.name, "lib.sz");
	ck_assert_uint_eq(big.s.size, 64);
	ck_assert_uint_eq(big.s.struct_size, sizeof big);
	for (i = 0; i < sizeof big.later; i++)
		ck_assert_uint_eq(big.later[i], 0);

	/* One member short of 0.3's: refused, untouched, nothing made. */
	memset(&small, 0xa5, sizeof small);
	small.s.struct_size = offsetof(struct shmd_segment, created_usec);
	ck_assert_int_eq((shmd_open)(c, "lib.sz", &small.s),
	    SHMD_ERR_INVALID_ARGUMENT);
	ck_assert_uint_eq((unsigned char)small.s.name[0], 0xa5);
	ck_assert_int_eq((shmd_create)(c, "lib.sz2", 64, NULL, &small.s),
	    SHMD_ERR_INVALID_ARGUMENT);
	ck_assert_int_eq(shmd_open(c, "lib.sz2", NULL),
	    SHMD_ERR_NO_SUCH_SEGMENT);
	st.struct_size = 8;
	ck_assert_int_eq((shmd_status)(c, &st), SHMD_ERR_INVALID_ARGUMENT);

	/* Options from a later header: unknown members must be 0. */
	memset(&bigo, 0, sizeof bigo);
	shmd_create_options_init(&bigo.o);
	bigo.o.struct_size = sizeof bigo;
	bigo.o.flags = SHMD_CREATE_MODE;
	bigo.o.mode = 0604;
	ck_assert_int_eq(shmd_create(c, "lib.sz3", 64, &bigo.o, &big.s),
	    SHMD_OK);
	ck_assert_uint_eq(big.s.mode, 0604);
	bigo.later[3] = 1;
	ck_assert_int_eq(shmd_create(c, "lib.sz4", 64, &bigo.o, NULL),
	    SHMD_ERR_INVALID_ARGUMENT);
	o.struct_size = 0;
	ck_assert_int_eq(shmd_create(c, "lib.sz4", 64, &o, NULL),
	    SHMD_ERR_INVALID_ARGUMENT);
	/* Uninitialised: refused, not read or written past the struct. */
	o.struct_size = SIZE_MAX;
	ck_assert_int_eq(shmd_create(c, "lib.sz4", 64, &o, NULL),
	    SHMD_ERR_INVALID_ARGUMENT);
	big.s.struct_size = SIZE_MAX;
	ck_assert_int_eq((shmd_open)(c, "lib.sz", &big.s),
	    SHMD_ERR_INVALID_ARGUMENT);

	/* A list of later structs: their stride, each its struct_size. */
	stride = sizeof big;
	ck_assert_int_eq(shmd_list_sized(c, &segs, &n, stride), SHMD_OK);
	for (i = 0; i < n; i++) {
		e = (struct shmd_segment *)(void *)((char *)segs + i * stride);
		ck_assert_uint_eq(e->struct_size, stride);
		found += strcmp(e->name, "lib.sz") == 0 ||
		    strcmp(e->name, "lib.sz3") == 0;
	}
	shmd_free(segs);
	ck_assert_int_eq(found, 2);
	ck_assert_int_eq(shmd_list_sized(c, &segs, &n, 8),
	    SHMD_ERR_INVALID_ARGUMENT);
	destroy_all(c);
	shmd_disconnect(c);
}
END_TEST

/* ------------------------------------------------ another uid (65534) */

static const char	*nobody_socket;
static int		 shared_shmid;

/* As nobody: create a segment; it must belong to nobody, who can shmat it. */
static int
nobody_creates(void *arg)
{
	struct shmd_conn		*c;
	struct shmd_create_options	 o;
	struct shmd_segment		 s;
	void				*p;

	if (shmd_connect(nobody_socket, &c) != SHMD_OK)
		return 10;
	/*
	 * Persistent: a detach segment would end at the shmdt below, at
	 * shmd's next look, and the quota count and root's Open race it
	 * (seen under valgrind).
	 */
	shmd_create_options_init(&o);
	o.lifetime = SHMD_LIFETIME_PERSISTENT;
	if (shmd_create(c, "nobody.own", 4096, &o, &s) != SHMD_OK)
		return 11;
	if (s.uid != 65534 || s.gid != 65534 || s.creator_uid != 65534 ||
	    s.mode != 0600)
		return 12;
	if ((p = shmat(s.shmid, NULL, 0)) == (void *)-1)
		return 13;
	shmdt(p);
	/* nobody may not give a segment to root, nor to a foreign group */
	shmd_create_options_init(&o);
	o.flags = SHMD_CREATE_UID;
	o.uid = 0;
	if (shmd_create(c, "nobody.root", 10, &o, NULL) !=
	    SHMD_ERR_PERMISSION_DENIED)
		return 14;
	o.flags = SHMD_CREATE_GID;
	o.gid = 0;
	if (shmd_create(c, "nobody.root", 10, &o, NULL) !=
	    SHMD_ERR_PERMISSION_DENIED)
		return 15;
	/* The per-uid quota (4) counts against nobody. */
	if (shmd_create(c, "nobody.2", 10, NULL, NULL) != SHMD_OK ||
	    shmd_create(c, "nobody.3", 10, NULL, NULL) != SHMD_OK ||
	    shmd_create(c, "nobody.4", 10, NULL, NULL) != SHMD_OK)
		return 16;
	if (shmd_create(c, "nobody.5", 10, NULL, NULL) !=
	    SHMD_ERR_QUOTA_EXCEEDED ||
	    strstr(shmd_last_error(c), "segments (max 4)") == NULL)
		return 17;
	shmd_disconnect(c);
	return 0;
}

/* As nobody: what root made 0600 is invisible and unusable. */
static int
nobody_is_refused(void *arg)
{
	struct shmd_conn	*c;
	struct shmd_segment	 s, *segs;
	size_t			 n, i;

	if (shmd_connect(nobody_socket, &c) != SHMD_OK)
		return 10;
	if (shmd_open(c, "root.private", &s) != SHMD_ERR_PERMISSION_DENIED)
		return 11;
	if (shmd_destroy(c, "root.private") != SHMD_ERR_PERMISSION_DENIED)
		return 12;
	/* Mode bits grant Open, never Destroy. */
	if (shmd_open(c, "root.public", &s) != SHMD_OK)
		return 13;
	if (shmd_destroy(c, "root.public") != SHMD_ERR_PERMISSION_DENIED)
		return 14;
	if (shmd_list(c, &segs, &n) != SHMD_OK)
		return 15;
	for (i = 0; i < n; i++)
		if (strcmp(segs[i].name, "root.private") == 0)
			return 16;
	shmd_free(segs);
	/* The kernel agrees: no shmat on 0600 root's, read-only on 0644. */
	if (shmat(shared_shmid, NULL, SHM_RDONLY) != (void *)-1 ||
	    errno != EACCES)
		return 17;
	if (shmat(s.shmid, NULL, SHM_RDONLY) == (void *)-1)
		return 18;
	/* Given to nobody by root: nobody owns it and may destroy it. */
	if (shmd_destroy(c, "root.given") != SHMD_OK)
		return 19;
	shmd_disconnect(c);
	return 0;
}

START_TEST(test_other_uid)
{
	struct shmd_conn		*c;
	struct shmd_create_options	 o;
	struct shmd_segment		 s;
	struct sysv_seg			 k;

	nobody_socket = d.socket;
	ck_assert_int_eq(as_nobody(nobody_creates, NULL), 0);
	c = conn();
	ck_assert_int_eq(shmd_open(c, "nobody.own", &s), SHMD_OK);
	ck_assert_int_eq(kernel_segment(s.shmid, &k), 0);
	ck_assert_uint_eq(k.uid, 65534);
	ck_assert_int_eq(k.cpid, d.pid);

	shmd_create_options_init(&o);
	ck_assert_int_eq(shmd_create(c, "root.private", 10, &o, &s), SHMD_OK);
	shared_shmid = s.shmid;
	o.flags = SHMD_CREATE_MODE;
	o.mode = 0644;
	ck_assert_int_eq(shmd_create(c, "root.public", 10, &o, &s), SHMD_OK);
	o.flags = SHMD_CREATE_UID | SHMD_CREATE_GID;
	o.uid = 65534;
	o.gid = 65534;
	/* nobody holds 4, its quota: what root gives it counts too. */
	ck_assert_int_eq(shmd_create(c, "root.given", 10, &o, &s),
	    SHMD_ERR_QUOTA_EXCEEDED);
	ck_assert_int_eq(shmd_destroy(c, "nobody.4"), SHMD_OK);
	ck_assert_int_eq(shmd_create(c, "root.given", 10, &o, &s), SHMD_OK);
	ck_assert_int_eq(as_nobody(nobody_is_refused, NULL), 0);
	ck_assert_int_eq(shmd_open(c, "root.given", &s),
	    SHMD_ERR_NO_SUCH_SEGMENT);
	destroy_all(c);
	shmd_disconnect(c);
}
END_TEST

START_TEST(test_unreachable)
{
	struct shmd_conn	*c = NULL;

	ck_assert_int_eq(shmd_connect("/nonexistent/shmd.sock", &c),
	    SHMD_ERR_CONNECT);
	ck_assert_ptr_null(c);
	setenv("SHMD_SOCKET", "/from/env.sock", 1);
	ck_assert_str_eq(shmd_socket_path(NULL), "/from/env.sock");
	ck_assert_str_eq(shmd_socket_path("/given"), "/given");
	unsetenv("SHMD_SOCKET");
	ck_assert_str_eq(shmd_socket_path(NULL), "/run/shmd/shmd.sock");
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("libshmd");
	TCase	*tc = tcase_create("libshmd");
	TCase	*tu = tcase_create("other-uid");

	tcase_add_unchecked_fixture(tc, start, stop);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_create_attach_destroy);
	tcase_add_test_when(tc, test_memory_policy, geteuid() == 0,
	    "needs a daemon that may lock memory (root)");
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_list_status_call);
	tcase_add_test(tc, test_json_text);
	tcase_add_test(tc, test_list_json_layouts);
	tcase_add_test(tc, test_watch);
	tcase_add_test(tc, test_watch_poll_drains);
	tcase_add_test(tc, test_watch_poll_disconnected);
	tcase_add_test(tc, test_refused_before_sending);
	tcase_add_test(tc, test_abi_0_2);
	tcase_add_test(tc, test_struct_size);
	tcase_add_test(tc, test_unreachable);
	suite_add_tcase(s, tc);
	tcase_add_unchecked_fixture(tu, start, stop);
	tcase_add_test_when(tu, test_other_uid, getuid() == 0,
	    "needs root to act as uid 65534");
	suite_add_tcase(s, tu);
	return run_suite(s);
}
