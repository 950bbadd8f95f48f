/*
 * Unit tests: request validation and dispatch, driven in-process over a
 * socketpair against a real registry (daemon/server/dispatch.c, methods.c).
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "call.h"
#include "conn.h"
#include "frame.h"
#include "kshm.h"
#include "server.h"
#include "testutil.h"

static struct event_base	*base;
static struct server		 srv;
static struct conn		*sconn;		/* the server's end */
static int			 cfd;

static void
setup_with(uint64_t key_count, uint64_t per_uid, uint64_t bytes_per_uid)
{
	struct conf	conf;
	int		sv[2];

	kernel_sweep_keys(0x7e5c0000, 64);
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	ck_assert_int_eq(conf_init(&conf), 0);
	conf.key_base = 0x7e5c0000;
	conf.key_count = (uint32_t)key_count;
	conf.max_segment_size = 1 << 20;
	conf.max_segments_per_uid = per_uid;
	conf.max_bytes_per_uid = bytes_per_uid;
	conf.max_message_size = 4096;
	ck_assert_int_eq(server_init(&srv, base, &conf), 0);
	conf_finish(&conf);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
	    0);
	ck_assert_ptr_nonnull(sconn = server_adopt(&srv, sv[0]));
	cfd = sv[1];
	fcntl(cfd, F_SETFL, O_NONBLOCK);
}

static void
setup(void)
{
	setup_with(64, 3, 10000);
}

static void
teardown(void)
{
	struct segment	*seg;

	TAILQ_FOREACH(seg, &srv.life.registry.segments, entry)
		kshm_remove(seg->shmid);
	server_finish(&srv);
	event_base_free(base);
	close(cfd);
}

/* Run the loop until a reply arrives; NULL when none comes (or closed). */
static struct json_object *
next_reply(void)
{
	struct json_object	*r;
	int			 i;

	for (i = 0; i < 200; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		if ((r = raw_recv(cfd, 5)) != NULL)
			return r;
	}
	return NULL;
}

static struct json_object *
call(const char *json)
{
	struct json_object	*r;

	raw_send_msg(cfd, json);
	r = next_reply();
	ck_assert_msg(r != NULL, "no reply to %s", json);
	return r;
}

static void
expect(const char *json, const char *error, const char *key,
    const char *value)
{
	struct json_object	*r = call(json);

	ck_assert_msg(reply_error(r) != NULL && strcmp(reply_error(r),
	    error) == 0, "%s: got %s", json, json_object_to_json_string(r));
	if (key != NULL)
		ck_assert_msg(reply_str(r, key) != NULL &&
		    strcmp(reply_str(r, key), value) == 0, "%s: got %s", json,
		    json_object_to_json_string(r));
	json_object_put(r);
}

#define INVALID "org.varlink.service.InvalidParameter"

START_TEST(test_create_validation)
{
	static const struct { const char *params, *bad; } cases[] = {
		{ "{\"size\":1}", "name" },
		{ "{\"name\":\"\",\"size\":1}", "name" },
		{ "{\"name\":\"-x\",\"size\":1}", "name" },
		{ "{\"name\":\"a b\",\"size\":1}", "name" },
		{ "{\"name\":\"a\\u0000b\",\"size\":1}", "name" },
		{ "{\"name\":7,\"size\":1}", "name" },
		{ "{\"name\":\"a\"}", "size" },
		{ "{\"name\":\"a\",\"size\":0}", "size" },
		{ "{\"name\":\"a\",\"size\":-1}", "size" },
		{ "{\"name\":\"a\",\"size\":1e3}", "size" },
		{ "{\"name\":\"a\",\"size\":true}", "size" },
		{ "{\"name\":\"a\",\"size\":99999999999999999999999}", "size" },
		{ "{\"name\":\"a\",\"size\":1,\"mode\":512}", "mode" },
		{ "{\"name\":\"a\",\"size\":1,\"mode\":\"0600\"}", "mode" },
		{ "{\"name\":\"a\",\"size\":1,\"lifetime\":\"never\"}", "lifetime" },
		{ "{\"name\":\"a\",\"size\":1,\"lifetime\":1}", "lifetime" },
		{ "{\"name\":\"a\",\"size\":1,\"key\":2147483648}", "key" },
		{ "{\"name\":\"a\",\"size\":1,\"key\":-2147483649}", "key" },
		{ "{\"name\":\"a\",\"size\":1,\"uid\":-1}", "uid" },
		{ "{\"name\":\"a\",\"size\":1,\"gid\":4294967295}", "gid" },
		{ "{\"name\":\"a\",\"size\":1,\"attach_timeout\":0}",
		  "attach_timeout" },
		{ "{\"name\":\"a\",\"size\":1,\"extra\":null}", "extra" },
		{ "{\"name\":\"a\",\"size\":1,\"Name\":\"b\"}", "Name" },
	};
	char	json[512];
	size_t	i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(json, sizeof json, "{\"method\":\"io.shmd.Create\","
		    "\"parameters\":%s}", cases[i].params);
		expect(json, INVALID, "parameter", cases[i].bad);
	}
	ck_assert_uint_eq(srv.life.registry.count, 0);
	ck_assert_int_eq(kernel_count_by_cpid(getpid()), 0);
}
END_TEST

START_TEST(test_envelope)
{
	expect("{\"method\":\"io.shmd.Status\",\"parameters\":[]}", INVALID,
	    "parameter", "parameters");
	expect("{\"method\":\"io.shmd.Status\",\"parameters\":{\"x\":1}}",
	    INVALID, "parameter", "x");
	expect("{\"method\":\"io.shmd.Nope\"}",
	    "org.varlink.service.MethodNotFound", "method", "io.shmd.Nope");
	expect("{\"method\":\"com.example.Nope\"}",
	    "org.varlink.service.InterfaceNotFound", "interface",
	    "com.example");
	expect("{\"method\":\"Status\"}",
	    "org.varlink.service.InterfaceNotFound", "interface", "");
	expect("{\"method\":\"io.shmd.Watch\"}",
	    "org.varlink.service.ExpectedMore", NULL, NULL);
	expect("{\"method\":\"io.shmd.Open\",\"parameters\":{}}", INVALID,
	    "parameter", "name");
	expect("{\"method\":\"io.shmd.Open\",\"parameters\":{\"name\":\"zz\"}}",
	    "io.shmd.NoSuchSegment", "name", "zz");
	expect("{\"method\":\"io.shmd.Destroy\",\"parameters\":{\"name\":\"zz\"}}",
	    "io.shmd.NoSuchSegment", "name", "zz");
	expect("{\"method\":\"org.varlink.service.GetInterfaceDescription\","
	    "\"parameters\":{\"interface\":\"a.b\"}}",
	    "org.varlink.service.InterfaceNotFound", "interface", "a.b");
	/* parameters null and absent mean {} */
	json_object_put(call("{\"method\":\"io.shmd.List\",\"parameters\":null}"));
	json_object_put(call("{\"method\":\"io.shmd.List\"}"));
}
END_TEST

START_TEST(test_protocol_error_closes)
{
	struct json_object	*r;

	raw_send_msg(cfd, "{\"method\":5}");
	r = next_reply();
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(reply_error(r), "io.shmd.ProtocolError");
	ck_assert_ptr_nonnull(reply_str(r, "reason"));
	json_object_put(r);
	ck_assert_ptr_null(next_reply());
	ck_assert_uint_eq(srv.nconns, 0);
}
END_TEST

START_TEST(test_too_long_closes)
{
	struct json_object	*r;
	char			 big[5000];

	/* max_message_size is 4096 here: 4097 bytes without a NUL is too many. */
	memset(big, ' ', sizeof big);
	raw_send(cfd, big, 4097);
	r = next_reply();
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(reply_error(r), "io.shmd.ProtocolError");
	ck_assert_str_eq(reply_str(r, "reason"), "message too long");
	json_object_put(r);
	ck_assert_uint_eq(srv.nconns, 0);
}
END_TEST

START_TEST(test_exactly_max_is_fine)
{
	struct json_object	*r;
	char			 msg[4097];
	const char		*call_text = "{\"method\":\"io.shmd.Status\"}";

	memset(msg, ' ', 4096);
	memcpy(msg + 4096 - strlen(call_text), call_text, strlen(call_text));
	msg[4096] = '\0';
	raw_send(cfd, msg, 4097);
	r = next_reply();
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_null(reply_error(r));
	json_object_put(r);
}
END_TEST

START_TEST(test_create_open_destroy)
{
	struct json_object	*r;
	struct sysv_seg		 k;
	int			 shmid;

	r = call("{\"method\":\"io.shmd.Create\",\"parameters\":{\"name\":"
	    "\"in.proc\",\"size\":100,\"mode\":416,\"lifetime\":\"persistent\","
	    "\"uid\":65534,\"gid\":65534}}");
	ck_assert_ptr_null(reply_error(r));
	json_object_put(r);
	r = call("{\"method\":\"io.shmd.Open\",\"parameters\":{\"name\":"
	    "\"in.proc\"}}");
	ck_assert_ptr_null(reply_error(r));
	shmid = (int)json_object_get_int(json_object_object_get(
	    json_object_object_get(json_object_object_get(r, "parameters"),
	    "segment"), "shmid"));
	json_object_put(r);
	ck_assert_int_eq(kernel_segment(shmid, &k), 0);
	ck_assert_uint_eq(k.uid, 65534);
	ck_assert_uint_eq(k.gid, 65534);
	ck_assert_uint_eq(k.perms & 0777, 0640);
	ck_assert_uint_eq(k.size, 100);
	expect("{\"method\":\"io.shmd.Create\",\"parameters\":{\"name\":"
	    "\"in.proc\",\"size\":1}}", "io.shmd.NameExists", "name", "in.proc");
	r = call("{\"method\":\"io.shmd.Destroy\",\"parameters\":{\"name\":"
	    "\"in.proc\"}}");
	ck_assert_ptr_null(reply_error(r));
	json_object_put(r);
	ck_assert_int_eq(kernel_segment(shmid, NULL), -1);
	ck_assert_uint_eq(srv.life.registry.count, 0);
}
END_TEST

START_TEST(test_quotas_leave_nothing)
{
	struct json_object	*r;
	char			 json[256];
	int			 i;

	expect("{\"method\":\"io.shmd.Create\",\"parameters\":{\"name\":\"big\","
	    "\"size\":1048577}}", "io.shmd.QuotaExceeded", "limit",
	    "segment_size");
	/* Per-uid limits count against the owner: 3 segments, 10000 bytes. */
	expect("{\"method\":\"io.shmd.Create\",\"parameters\":{\"name\":\"b\","
	    "\"size\":10001,\"uid\":65534,\"gid\":65534}}",
	    "io.shmd.QuotaExceeded", "limit", "bytes");
	for (i = 0; i < 3; i++) {
		snprintf(json, sizeof json, "{\"method\":\"io.shmd.Create\","
		    "\"parameters\":{\"name\":\"q%d\",\"size\":10,\"uid\":65534,"
		    "\"gid\":65534}}", i);
		r = call(json);
		ck_assert_ptr_null(reply_error(r));
		json_object_put(r);
	}
	expect("{\"method\":\"io.shmd.Create\",\"parameters\":{\"name\":\"q3\","
	    "\"size\":10,\"uid\":65534,\"gid\":65534}}",
	    "io.shmd.QuotaExceeded", "limit", "segments");
	/* root is unlimited */
	r = call("{\"method\":\"io.shmd.Create\",\"parameters\":{\"name\":\"r\","
	    "\"size\":20000}}");
	ck_assert_ptr_null(reply_error(r));
	json_object_put(r);
	ck_assert_uint_eq(srv.life.registry.count, 4);
	ck_assert_int_eq(kernel_count_by_cpid(getpid()), 4);
}
END_TEST

START_TEST(test_keys_run_out)
{
	struct json_object	*r;
	char			 json[256];
	int			 i;

	for (i = 0; i < 2; i++) {
		snprintf(json, sizeof json, "{\"method\":\"io.shmd.Create\","
		    "\"parameters\":{\"name\":\"k%d\",\"size\":10}}", i);
		r = call(json);
		ck_assert_ptr_null(reply_error(r));
		json_object_put(r);
	}
	r = call("{\"method\":\"io.shmd.Create\",\"parameters\":{\"name\":"
	    "\"k2\",\"size\":10}}");
	ck_assert_str_eq(reply_error(r), "io.shmd.QuotaExceeded");
	ck_assert_str_eq(reply_str(r, "limit"), "keys");
	ck_assert_int_eq(reply_int(r, "max"), 2);
	json_object_put(r);
	/* key 0 needs no key from the range */
	r = call("{\"method\":\"io.shmd.Create\",\"parameters\":{\"name\":"
	    "\"k2\",\"size\":10,\"key\":0}}");
	ck_assert_ptr_null(reply_error(r));
	json_object_put(r);
	ck_assert_int_eq(kernel_count_by_cpid(getpid()), 3);
}
END_TEST

static void
setup_small(void)
{
	setup_with(2, 0, 0);
}

START_TEST(test_status_and_info)
{
	struct json_object	*r, *limits, *p;

	r = call("{\"method\":\"io.shmd.Status\"}");
	ck_assert_int_eq(reply_int(r, "pid"), getpid());
	ck_assert_int_eq(reply_int(r, "clients"), 1);
	ck_assert_int_eq(reply_int(r, "segments"), 0);
	ck_assert_int_eq(reply_int(r, "uid"), geteuid());
	ck_assert_str_eq(reply_str(r, "version"), PACKAGE_VERSION);
	p = json_object_object_get(r, "parameters");
	ck_assert(json_object_object_get_ex(p, "limits", &limits));
	ck_assert_int_eq(json_object_get_int(json_object_object_get(limits,
	    "max_segments_per_uid")), 3);
	ck_assert_int_eq(json_object_get_int(json_object_object_get(limits,
	    "max_message_size")), 4096);
	ck_assert(json_object_object_get_ex(limits, "attach_timeout", NULL));
	ck_assert(json_object_object_get_ex(p, "usage", NULL));
	json_object_put(r);
	r = call("{\"method\":\"org.varlink.service.GetInfo\"}");
	ck_assert_str_eq(reply_str(r, "product"), "shmd");
	json_object_put(r);
	r = call("{\"method\":\"org.varlink.service.GetInterfaceDescription\","
	    "\"parameters\":{\"interface\":\"io.shmd\"}}");
	ck_assert_ptr_nonnull(strstr(reply_str(r, "description"),
	    "interface io.shmd\n"));
	ck_assert_ptr_nonnull(strstr(reply_str(r, "description"),
	    "method Create("));
	json_object_put(r);
}
END_TEST

START_TEST(test_oneway_and_pipelining)
{
	struct json_object	*r;
	const char		 msgs[] =
	    "{\"method\":\"io.shmd.Create\",\"oneway\":true,\"parameters\":"
	    "{\"name\":\"ow\",\"size\":1}}\0"
	    "{\"method\":\"io.shmd.Open\",\"parameters\":{\"name\":\"ow\"}}\0"
	    "{\"method\":\"io.shmd.Open\",\"parameters\":{\"name\":\"nope\"}}\0"
	    "{\"method\":\"io.shmd.List\"}";

	raw_send(cfd, msgs, sizeof msgs);
	r = next_reply();
	ck_assert_ptr_null(reply_error(r));
	json_object_put(r);
	r = next_reply();
	ck_assert_str_eq(reply_error(r), "io.shmd.NoSuchSegment");
	json_object_put(r);
	r = next_reply();
	ck_assert_ptr_null(reply_error(r));
	json_object_put(r);
	expect("{\"method\":\"io.shmd.Status\",\"oneway\":\"yes\"}",
	    "io.shmd.ProtocolError", NULL, NULL);
}
END_TEST

/* Replies waiting on fd now (NUL-terminated messages), read without waiting. */
static int
count_replies(int fd)
{
	char	buf[65536];
	ssize_t	n;
	int	count = 0, i;

	while ((n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0)
		for (i = 0; i < n; i++)
			count += buf[i] == '\0';
	return count;
}

/*
 * One connection's pipelined calls take a bounded share of a turn of the
 * event loop: another connection's call is answered in the same turn.
 */
START_TEST(test_fair_turns)
{
	static char	 flood[300 * 32];
	const char	 status[] = "{\"method\":\"io.shmd.Status\"}";
	size_t		 len = 0;
	int		 sv[2], i, got, total;

	for (i = 0; i < 300; i++) {
		memcpy(flood + len, status, sizeof status);
		len += sizeof status;
	}
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
	    0);
	ck_assert_ptr_nonnull(server_adopt(&srv, sv[0]));
	raw_send(cfd, flood, len);		/* 300 calls at once */
	raw_send(sv[1], status, sizeof status);	/* one, on another connection */
	event_base_loop(base, EVLOOP_ONCE);
	/* the flood got its share, no more; the other was answered */
	got = count_replies(cfd);
	ck_assert_int_ge(got, 1);
	ck_assert_int_le(got, CONN_TURN_CALLS);
	ck_assert_int_eq(count_replies(sv[1]), 1);
	/* and the flood is answered in full over the next turns, in order */
	for (total = got, i = 0; i < 1000 && total < 300; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		total += count_replies(cfd);
	}
	ck_assert_int_eq(total, 300);
	close(sv[1]);
}
END_TEST

/*
 * At a limit, the caller's connections whose clients have closed them,
 * with nothing they sent left to run, are counted out before it is
 * refused, though the loop has not read their ends yet: a client that
 * closes a connection and opens another at once gets in, however the
 * two fall in the turns of the loop. With no such end, it is refused.
 */
START_TEST(test_limit_counts_ends_first)
{
	struct json_object	*r;
	int			 sv[SERVER_ROOT_RESERVE + 1][2], nsv[2], i;

	srv.conf.max_clients = 1;	/* root: 1 + SERVER_ROOT_RESERVE */
	for (i = 0; i < SERVER_ROOT_RESERVE; i++) {
		ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
		    0, sv[i]), 0);
		ck_assert_ptr_nonnull(server_adopt(&srv, sv[i][0]));
	}
	event_base_loop(base, EVLOOP_NONBLOCK);
	ck_assert_uint_eq(srv.nconns, SERVER_ROOT_RESERVE + 1);
	/* one ends, and a new one comes before the loop has read that end */
	close(sv[0][1]);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    nsv), 0);
	ck_assert_ptr_nonnull(server_adopt(&srv, nsv[0]));
	ck_assert_uint_eq(srv.nconns, SERVER_ROOT_RESERVE + 1);
	raw_send_msg(nsv[1], "{\"method\":\"io.shmd.Status\"}");
	for (i = 0; i < 200 && (r = raw_recv(nsv[1], 5)) == NULL; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	ck_assert_ptr_nonnull(r);
	ck_assert_msg(reply_error(r) == NULL, "refused: %s",
	    json_object_to_json_string(r));
	json_object_put(r);
	ck_assert_uint_eq(srv.nconns, SERVER_ROOT_RESERVE + 1);
	/*
	 * Full, with no end to count out: refused. Nor are these: one only
	 * done sending (shutdown: it waits for its answers), one closed
	 * with a call it sent still unread (it runs before the end).
	 */
	ck_assert_int_eq(shutdown(sv[1][1], SHUT_WR), 0);
	raw_send_msg(sv[2][1], "{\"method\":\"io.shmd.Status\","
	    "\"oneway\":true}");
	close(sv[2][1]);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv[SERVER_ROOT_RESERVE]), 0);
	ck_assert_ptr_null(server_adopt(&srv, sv[SERVER_ROOT_RESERVE][0]));
	ck_assert_ptr_nonnull(r = raw_recv(sv[SERVER_ROOT_RESERVE][1], 5));
	ck_assert_str_eq(reply_error(r), "io.shmd.QuotaExceeded");
	ck_assert_str_eq(reply_str(r, "limit"), "clients");
	json_object_put(r);
	ck_assert_uint_eq(srv.nconns, SERVER_ROOT_RESERVE + 1);
	/* once the loop has read their ends (and run that call), both go */
	for (i = 0; i < 200 && srv.nconns > SERVER_ROOT_RESERVE - 1; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	ck_assert_uint_eq(srv.nconns, SERVER_ROOT_RESERVE - 1);
	close(sv[1][1]);
	for (i = 3; i <= SERVER_ROOT_RESERVE; i++)
		close(sv[i][1]);
	close(nsv[1]);
}
END_TEST

/* Handlers that break the rule: each must be caught by call_settle(). */
static enum call_status
answers_twice(struct call *c)
{
	call_reply(c, NULL);
	return call_reply(c, NULL);
}

static enum call_status
answers_never(struct call *c)
{
	(void)c;
	return CALL_DONE;
}

static enum call_status
parks_nothing(struct call *c)
{
	(void)c;
	return CALL_PARKED;
}

/*
 * Run handler fn as a call's: in a debug build the broken rule aborts
 * (the test expects SIGABRT); under NDEBUG it is counted, and the client
 * gets exactly one answer all the same.
 */
static void
run_broken(method_fn *fn, const char *expect_error)
{
	struct method		 m = { "io.shmd.Broken", fn, NULL, 0 };
	struct json_object	*msg, *r;
	struct call		 c;
	unsigned long		 before = call_faults();

	msg = json_tokener_parse("{\"method\":\"io.shmd.Broken\"}");
	ck_assert_ptr_nonnull(msg);
	call_init(&c, sconn, msg);
	c.method = "io.shmd.Broken";
	call_run(&c, &m);
	/* (not reached in a debug build: the assertion aborts) */
	ck_assert_uint_eq(call_faults(), before + 1);
	r = next_reply();
	ck_assert_ptr_nonnull(r);
	if (expect_error == NULL)
		ck_assert_ptr_null(reply_error(r));
	else
		ck_assert_str_eq(reply_error(r), expect_error);
	json_object_put(r);
	ck_assert_ptr_null(next_reply());	/* and only one */
	json_object_put(msg);
}

START_TEST(test_answered_twice_is_caught)
{
	run_broken(answers_twice, NULL);
}
END_TEST

START_TEST(test_unanswered_is_caught)
{
	run_broken(answers_never, "io.shmd.SystemLimit");
}
END_TEST

START_TEST(test_parked_nothing_is_caught)
{
	struct method		 m = { "io.shmd.Broken", parks_nothing, NULL, 0 };
	struct json_object	*msg;
	struct call		 c;
	unsigned long		 before = call_faults();

	msg = json_tokener_parse("{\"method\":\"io.shmd.Broken\"}");
	ck_assert_ptr_nonnull(msg);
	call_init(&c, sconn, msg);
	call_run(&c, &m);
	ck_assert_uint_eq(call_faults(), before + 1);
	json_object_put(msg);
}
END_TEST

/* The rule holds for every call the real handlers answer. */
START_TEST(test_handlers_answer_once)
{
	static const char *const calls[] = {
		"{\"method\":\"io.shmd.List\"}",
		"{\"method\":\"io.shmd.Status\"}",
		"{\"method\":\"io.shmd.Open\",\"parameters\":{\"name\":\"nope\"}}",
		"{\"method\":\"io.shmd.Destroy\",\"parameters\":{\"name\":\"n\"}}",
		"{\"method\":\"io.shmd.Watch\"}",
		"{\"method\":\"io.shmd.Nope\"}",
		"{\"method\":\"org.varlink.service.GetInfo\"}",
		"{\"method\":\"io.shmd.Create\",\"parameters\":{\"name\":1}}",
	};
	unsigned long	before = call_faults();
	size_t		i;

	for (i = 0; i < sizeof calls / sizeof calls[0]; i++)
		json_object_put(call(calls[i]));
	ck_assert_uint_eq(call_faults(), before);
}
END_TEST

/* Every error the daemon answers is one the interface files define. */
START_TEST(test_errors_are_the_interfaces)
{
	size_t	i;
	int	e, found;

	for (e = PROTO_OK + 1; e < PROTO_ERR_COUNT; e++) {
		found = 0;
		for (i = 0; i < VARLINK_NERRORS; i++)
			if (strcmp(interface_errors[i],
			    proto_error_name((enum proto_error)e)) == 0)
				found = 1;
		ck_assert_msg(found, "%s is in no interface file",
		    proto_error_name((enum proto_error)e));
	}
}
END_TEST

#ifdef NDEBUG
#define add_fault_test(tc, t)	tcase_add_test((tc), t)
#else
#define add_fault_test(tc, t)	tcase_add_test_raise_signal((tc), t, SIGABRT)
#endif

int
main(void)
{
	Suite	*s = suite_create("dispatch");
	TCase	*tc = tcase_create("dispatch");
	TCase	*tk = tcase_create("keys");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_create_validation);
	tcase_add_test(tc, test_envelope);
	tcase_add_test(tc, test_protocol_error_closes);
	tcase_add_test(tc, test_too_long_closes);
	tcase_add_test(tc, test_exactly_max_is_fine);
	/* segments for uid 65534: only root may give them away */
	tcase_add_test_when(tc, test_create_open_destroy, getuid() == 0,
	    "needs root to make segments for another uid");
	tcase_add_test_when(tc, test_quotas_leave_nothing, getuid() == 0,
	    "needs root to make segments for another uid");
	tcase_add_test(tc, test_status_and_info);
	tcase_add_test(tc, test_oneway_and_pipelining);
	tcase_add_test(tc, test_fair_turns);
	/* root's reserve beyond max_clients is what it fills */
	tcase_add_test_when(tc, test_limit_counts_ends_first, geteuid() == 0,
	    "needs root's reserve of connections");
	tcase_add_test(tc, test_handlers_answer_once);
	tcase_add_test(tc, test_errors_are_the_interfaces);
	add_fault_test(tc, test_answered_twice_is_caught);
	add_fault_test(tc, test_unanswered_is_caught);
	add_fault_test(tc, test_parked_nothing_is_caught);
	tcase_add_checked_fixture(tk, setup_small, teardown);
	tcase_add_test(tk, test_keys_run_out);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, tk);
	return run_suite(s);
}
