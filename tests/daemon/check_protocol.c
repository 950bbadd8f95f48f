/* Integration tests: the wire protocol through raw sockets, and the daemon's life. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "proto.h"
#include "testutil.h"
#include "user.h"

static struct testd	d;

static void
start(void)
{
	testd_start(&d, "--max-clients=8", "--max-message-size=2048", NULL);
}

static void
stop(void)
{
	testd_stop(&d);
}

static void
expect_protocol_error(const void *data, size_t len)
{
	int			 fd = raw_connect(d.socket);
	struct json_object	*r;

	ck_assert_int_ge(fd, 0);
	raw_send(fd, data, len);
	r = raw_recv(fd, TESTD_PATIENCE_MS);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(reply_error(r), "io.shmd.ProtocolError");
	ck_assert_ptr_nonnull(reply_str(r, "reason"));
	json_object_put(r);
	ck_assert(raw_closed(fd, 5000));
	close(fd);
	testd_assert_serves(&d);
}

START_TEST(test_garbage)
{
	static const char *const bad[] = {
		"not json", "[1,2]", "42", "\"str\"", "{\"method\":1}",
		"{\"parameters\":{}}", "{\"method\":null}", "{", "",
		"{\"method\":\"io.shmd.List\"} trailing",
		"{\"method\":\"\xff\xfe\"}",
	};
	char	big[3000];
	size_t	i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		expect_protocol_error(bad[i], strlen(bad[i]) + 1);
	/* over max_message_size (2048), with and without its NUL */
	memset(big, ' ', sizeof big);
	expect_protocol_error(big, 2049);
	big[2500] = '\0';
	expect_protocol_error(big, 2501);
}
END_TEST

START_TEST(test_errors_keep_connection)
{
	int			 fd = raw_connect(d.socket);
	struct json_object	*r;

	r = raw_call(fd, "{\"method\":\"io.shmd.Frob\"}");
	ck_assert_str_eq(reply_error(r), "org.varlink.service.MethodNotFound");
	json_object_put(r);
	r = raw_call(fd, "{\"method\":\"x.y.Z\"}");
	ck_assert_str_eq(reply_error(r), "org.varlink.service.InterfaceNotFound");
	ck_assert_str_eq(reply_str(r, "interface"), "x.y");
	json_object_put(r);
	r = raw_call(fd, "{\"method\":\"io.shmd.Create\",\"parameters\":"
	    "{\"name\":\"p.x\",\"size\":\"big\"}}");
	ck_assert_str_eq(reply_str(r, "parameter"), "size");
	json_object_put(r);
	r = raw_call(fd, "{\"method\":\"io.shmd.Status\"}");
	ck_assert_ptr_null(reply_error(r));
	json_object_put(r);
	close(fd);
}
END_TEST

/* A Create of name (64 bytes) on a connection of its own to sock: answered. */
static void
create_ok(const char *sock, const char *name)
{
	struct json_object	*r;
	char			 msg[256];
	int			 fd = raw_connect(sock);

	snprintf(msg, sizeof msg, "{\"method\":\"io.shmd.Create\","
	    "\"parameters\":{\"name\":\"%s\",\"size\":64}}", name);
	r = raw_call(fd, msg);
	ck_assert_ptr_null(reply_error(r));
	json_object_put(r);
	close(fd);
}

/*
 * A Create is counted in Status (created), and logged only at debug: a
 * line per new process would fill the journal at the default level.
 */
START_TEST(test_created_counted_not_logged)
{
	struct testd	 e;
	char		*log;

	memset(&e, 0, sizeof e);
	testd_start(&e, "--log-level=info", NULL);
	ck_assert_int_eq(testd_status(&e, "created"), 0);
	create_ok(e.socket, "counted.one");
	ck_assert_int_eq(testd_status(&e, "created"), 1);
	ck_assert_ptr_nonnull(log = read_file(e.log));
	ck_assert_ptr_null(strstr(log, "counted.one"));
	free(log);
	testd_stop(&e);
	/* at debug (the fixture's daemon), the line is there */
	create_ok(d.socket, "counted.two");
	ck_assert_ptr_nonnull(log = read_file(d.log));
	ck_assert_ptr_nonnull(strstr(log, "created counted.two"));
	free(log);
}
END_TEST

/*
 * At debug level a connection's first call is stamped phase by phase
 * (daemon/trace.h): one line once it is answered, every phase of a
 * Create reached, in order; later calls on it are not traced.
 */
START_TEST(test_first_call_traced)
{
	struct json_object *r;
	char		 want[64], *log, *p;
	double		 at[6];
	int		 fd, i;

	fd = raw_connect(d.socket);
	r = raw_call(fd, "{\"method\":\"io.shmd.Create\",\"parameters\":"
	    "{\"name\":\"traced.one\",\"size\":64}}");
	ck_assert_ptr_null(reply_error(r));
	json_object_put(r);
	r = raw_call(fd, "{\"method\":\"io.shmd.Status\"}");
	json_object_put(r);
	close(fd);
	snprintf(want, sizeof want, "first call of pid %ld,", (long)getpid());
	ck_assert_ptr_nonnull(log = read_file(d.log));
	ck_assert_ptr_nonnull(p = strstr(log, want));
	ck_assert_int_eq(sscanf(strstr(p, "accept: "), "accept: read %lf "
	    "checked %lf made %lf recorded %lf handed %lf replied %lf",
	    &at[0], &at[1], &at[2], &at[3], &at[4], &at[5]), 6);
	for (i = 1; i < 6; i++)
		ck_assert(at[i] >= at[i - 1]);
	ck_assert(at[0] >= 0);
	/* one line: the Status after it on the same connection is not traced */
	ck_assert_ptr_null(strstr(p + 1, want));
	free(log);
}
END_TEST

#define FIRST_CALLS	100

/* Many connections of one uid, each with a first call (as_nobody()). */
static int
first_calls(void *arg)
{
	const char		*sock = arg;
	struct json_object	*r;
	int			 fd, i;

	for (i = 0; i < FIRST_CALLS; i++) {
		if ((fd = raw_connect(sock)) < 0)
			return 1;
		r = raw_call(fd, "{\"method\":\"io.shmd.Status\"}");
		if (r == NULL || reply_error(r) != NULL)
			return 2;
		json_object_put(r);
		close(fd);
	}
	return 0;
}

/*
 * First calls are traced for at most USER_FIRST_TRACES_PER_SEC of a
 * uid's connections a second: a uid that connects again and again
 * cannot fill the log, and another uid's are traced all the same.
 */
START_TEST(test_first_call_traces_bounded)
{
	struct json_object	*r;
	struct timespec		 t0, t1;
	char			*log, want[64];
	size_t			 before;
	int			 lines, secs, fd;

	ck_assert_ptr_nonnull(log = read_file(d.log));
	before = strlen(log);
	free(log);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(as_nobody(first_calls, d.socket), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (int)(t1.tv_sec - t0.tv_sec) + 2;
	/* root's next connection is traced: its budget is its own */
	fd = raw_connect(d.socket);
	r = raw_call(fd, "{\"method\":\"io.shmd.Status\"}");
	ck_assert_ptr_null(reply_error(r));
	json_object_put(r);
	/*
	 * The line is written once the first reply is sent: a second call
	 * on the connection is read after it, so its reply means the line
	 * is in the log.
	 */
	r = raw_call(fd, "{\"method\":\"io.shmd.Status\"}");
	ck_assert_ptr_null(reply_error(r));
	json_object_put(r);
	close(fd);
	ck_assert_ptr_nonnull(log = read_file(d.log));
	lines = count_in(log + before, "first call of pid ");
	ck_assert_msg(lines >= 2 &&
	    lines <= USER_FIRST_TRACES_PER_SEC * secs + 1,
	    "%d first-call lines for %d connections in about %d s", lines,
	    FIRST_CALLS + 1, secs);
	snprintf(want, sizeof want, "first call of pid %ld,", (long)getpid());
	ck_assert_ptr_nonnull(strstr(log + before, want));
	free(log);
}
END_TEST

/*
 * shmd reads a new connection at once, where the first call usually is
 * already: a client that sends nothing at first, or half a call, is
 * read when the rest comes. Another connection's round trip, made after
 * the first connected, shows the first has been taken in meanwhile.
 */
START_TEST(test_first_call_late)
{
	const char		 half[] = "{\"method\":\"io.shmd.St";
	const char		 rest[] = "atus\"}";
	struct json_object	*r;
	int			 quiet, partial, other;

	quiet = raw_connect(d.socket);
	partial = raw_connect(d.socket);
	ck_assert_int_ge(quiet, 0);
	ck_assert_int_ge(partial, 0);
	raw_send(partial, half, strlen(half));
	other = raw_connect(d.socket);
	r = raw_call(other, "{\"method\":\"io.shmd.Status\"}");
	ck_assert_ptr_null(reply_error(r));
	json_object_put(r);
	close(other);
	/* nothing was answered yet, and both are answered now */
	ck_assert_ptr_null(raw_recv(partial, 0));
	raw_send(partial, rest, sizeof rest);
	r = raw_recv(partial, TESTD_PATIENCE_MS);
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_null(reply_error(r));
	ck_assert_ptr_nonnull(reply_member(r, "limits"));
	json_object_put(r);
	r = raw_call(quiet, "{\"method\":\"io.shmd.Status\"}");
	ck_assert_ptr_null(reply_error(r));
	json_object_put(r);
	close(quiet);
	close(partial);
}
END_TEST

START_TEST(test_split_and_batched)
{
	const char		*msg = "{\"method\":\"io.shmd.Status\"}";
	int			 fd = raw_connect(d.socket), i;
	struct json_object	*r;
	char			 batch[4096];
	size_t			 n = 0;

	/* one message, a byte at a time */
	for (i = 0; msg[i] != '\0'; i++)
		raw_send(fd, msg + i, 1);
	raw_send(fd, "", 1);
	r = raw_recv(fd, TESTD_PATIENCE_MS);
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_null(reply_error(r));
	json_object_put(r);
	/* fifty in one write: fifty replies in order */
	for (i = 0; i < 50; i++) {
		n += (size_t)snprintf(batch + n, sizeof batch - n,
		    "{\"method\":\"io.shmd.Open\",\"parameters\":{\"name\":"
		    "\"n%d\"}}", i);
		batch[n++] = '\0';
	}
	raw_send(fd, batch, n);
	for (i = 0; i < 50; i++) {
		char want[16];

		r = raw_recv(fd, TESTD_PATIENCE_MS);
		ck_assert_ptr_nonnull(r);
		snprintf(want, sizeof want, "n%d", i);
		ck_assert_str_eq(reply_str(r, "name"), want);
		json_object_put(r);
	}
	close(fd);
}
END_TEST

/* The name in an Open reply's segment. */
static const char *
segment_name(struct json_object *r)
{
	struct json_object	*seg, *name;

	if ((seg = reply_member(r, "segment")) == NULL ||
	    !json_object_object_get_ex(seg, "name", &name))
		return "";
	return json_object_get_string(name);
}

/*
 * Replies to one read's calls are gathered and sent together: past the
 * daemon's 64 KiB batch they queue behind it, in order. And a read may end
 * one message, hold whole ones, and begin the next.
 */
/* Until the peer has read everything sent on fd (SIOCOUTQ: queued to it). */
static void
wait_read(int fd)
{
	int	queued = 1, i;

	for (i = 0; i < TESTD_PATIENCE_MS && queued > 0; i++) {
		ck_assert_int_eq(ioctl(fd, SIOCOUTQ, &queued), 0);
		if (queued > 0)
			usleep(1000);
	}
	ck_assert_int_eq(queued, 0);
}

START_TEST(test_batch_beyond_buffer_and_mixed_reads)
{
	const char		*a = "{\"method\":\"io.shmd.Open\",\"parameters\":"
	    "{\"name\":\"p.big\"}}";
	const char		*b = "{\"method\":\"io.shmd.Status\"}";
	const char		*c = "{\"method\":\"io.shmd.Open\",\"parameters\":"
	    "{\"name\":\"p.none\"}}";
	int			 fd = raw_connect(d.socket), i;
	struct json_object	*r;
	char			*batch, want[16];
	size_t			 n = 0, la = strlen(a) + 1, lb = strlen(b) + 1;
	size_t			 lc = strlen(c) + 1, total;

	r = raw_call(fd, "{\"method\":\"io.shmd.Create\",\"parameters\":"
	    "{\"name\":\"p.big\",\"size\":64,\"lifetime\":\"persistent\"}}");
	ck_assert_ptr_null(reply_error(r));
	json_object_put(r);
	/* 1500 calls in one write: some 300 KiB of replies */
	ck_assert_ptr_nonnull(batch = malloc(1500 * 80));
	for (i = 0; i < 1500; i++) {
		if (i % 2 == 0) {
			memcpy(batch + n, a, la);
			n += la;
		} else
			n += (size_t)snprintf(batch + n, 80, "{\"method\":"
			    "\"io.shmd.Open\",\"parameters\":{\"name\":"
			    "\"n%d\"}}", i) + 1;
	}
	raw_send(fd, batch, n);
	for (i = 0; i < 1500; i++) {
		r = raw_recv(fd, TESTD_PATIENCE_MS);
		ck_assert_ptr_nonnull(r);
		if (i % 2 == 0) {
			ck_assert_ptr_null(reply_error(r));
			ck_assert_str_eq(segment_name(r), "p.big");
		} else {
			ck_assert_str_eq(reply_error(r), "io.shmd.NoSuchSegment");
			snprintf(want, sizeof want, "n%d", i);
			ck_assert_str_eq(reply_str(r, "name"), want);
		}
		json_object_put(r);
	}
	/* a's first half; a's rest, b, c's first half; c's rest */
	total = la + lb + lc;
	memcpy(batch, a, la);
	memcpy(batch + la, b, lb);
	memcpy(batch + la + lb, c, lc);
	/* each piece is read by the daemon before the next is sent */
	raw_send(fd, batch, la / 2);
	wait_read(fd);
	raw_send(fd, batch + la / 2, la + lb + lc / 2 - la / 2);
	wait_read(fd);
	raw_send(fd, batch + la + lb + lc / 2, total - (la + lb + lc / 2));
	r = raw_recv(fd, TESTD_PATIENCE_MS);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(segment_name(r), "p.big");
	json_object_put(r);
	r = raw_recv(fd, TESTD_PATIENCE_MS);
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_null(reply_error(r));
	ck_assert_ptr_nonnull(reply_str(r, "version"));
	json_object_put(r);
	r = raw_recv(fd, TESTD_PATIENCE_MS);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(reply_error(r), "io.shmd.NoSuchSegment");
	ck_assert_str_eq(reply_str(r, "name"), "p.none");
	json_object_put(r);
	free(batch);
	r = raw_call(fd, "{\"method\":\"io.shmd.Destroy\",\"parameters\":"
	    "{\"name\":\"p.big\"}}");
	ck_assert_ptr_null(reply_error(r));
	json_object_put(r);
	close(fd);
}
END_TEST

START_TEST(test_stalled_client)
{
	int	fd = raw_connect(d.socket);

	/* half a message, then nothing: others are served meanwhile */
	raw_send(fd, "{\"method\":\"io.shm", 17);
	testd_assert_serves(&d);
	close(fd);
	/* a client that leaves mid-call */
	fd = raw_connect(d.socket);
	raw_send_msg(fd, "{\"method\":\"io.shmd.List\"}");
	close(fd);
	testd_assert_serves(&d);
}
END_TEST

START_TEST(test_watch_raw)
{
	int			 w = raw_connect(d.socket), c = raw_connect(d.socket);
	struct json_object	*r, *p;

	r = raw_call(w, "{\"method\":\"io.shmd.Watch\",\"more\":true}");
	ck_assert_str_eq(reply_str(r, "event"), "ready");
	p = json_object_object_get(r, "continues");
	ck_assert(json_object_get_boolean(p));
	json_object_put(r);
	r = raw_call(c, "{\"method\":\"io.shmd.Create\",\"parameters\":{\"name\":"
	    "\"p.w\",\"size\":1,\"lifetime\":\"persistent\"}}");
	json_object_put(r);
	r = raw_call(c, "{\"method\":\"io.shmd.Destroy\",\"parameters\":"
	    "{\"name\":\"p.w\"}}");
	json_object_put(r);
	r = raw_recv(w, TESTD_PATIENCE_MS);
	ck_assert_str_eq(reply_str(r, "event"), "created");
	ck_assert(json_object_get_boolean(json_object_object_get(r,
	    "continues")));
	json_object_put(r);
	r = raw_recv(w, TESTD_PATIENCE_MS);
	ck_assert_str_eq(reply_str(r, "event"), "destroyed");
	json_object_put(r);
	/* a watching connection takes no further calls */
	raw_send_msg(w, "{\"method\":\"io.shmd.Status\"}");
	r = raw_recv(w, TESTD_PATIENCE_MS);
	ck_assert_str_eq(reply_error(r), "io.shmd.ProtocolError");
	json_object_put(r);
	ck_assert(raw_closed(w, 5000));
	close(w);
	close(c);
}
END_TEST

/* As uid 65534: a connection is refused, "clients" with max (arg). */
static int
nobody_refused(void *arg)
{
	struct json_object	*r;
	int			 fd = raw_connect(d.socket), ok;

	r = raw_recv(fd, TESTD_PATIENCE_MS);
	ok = r != NULL && reply_error(r) != NULL &&
	    strcmp(reply_error(r), "io.shmd.QuotaExceeded") == 0 &&
	    strcmp(reply_str(r, "limit"), "clients") == 0 &&
	    reply_int(r, "max") == *(int *)arg;
	json_object_put(r);
	close(fd);
	return ok ? 0 : 1;
}

START_TEST(test_max_clients)
{
	int			 fds[8 + 16], extra, i, max = 8;
	struct json_object	*r;

	/* max_clients is 8 */
	for (i = 0; i < 8; i++) {
		fds[i] = raw_connect(d.socket);
		ck_assert_int_ge(fds[i], 0);
		r = raw_call(fds[i], "{\"method\":\"io.shmd.Status\"}");
		json_object_put(r);
	}
	/* anyone but root is refused now */
	if (getuid() == 0)
		ck_assert_int_eq(as_nobody(nobody_refused, &max), 0);
	/* root still gets in, up to 16 beyond it */
	for (; getuid() == 0 && i < 8 + 16; i++) {
		fds[i] = raw_connect(d.socket);
		r = raw_call(fds[i], "{\"method\":\"io.shmd.Status\"}");
		ck_assert_ptr_null(reply_error(r));
		json_object_put(r);
	}
	extra = raw_connect(d.socket);
	r = raw_recv(extra, TESTD_PATIENCE_MS);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(reply_error(r), "io.shmd.QuotaExceeded");
	ck_assert_str_eq(reply_str(r, "limit"), "clients");
	ck_assert_int_eq(reply_int(r, "max"), 8);
	json_object_put(r);
	ck_assert(raw_closed(extra, 5000));
	while (i > 8)
		close(fds[--i]);
	close(extra);
	close(fds[0]);
	/* once one leaves, there is room again */
	for (i = 0; i < TESTD_PATIENCE_MS / 10; i++) {
		extra = raw_connect(d.socket);
		raw_send_msg(extra, "{\"method\":\"io.shmd.Status\"}");
		r = raw_recv(extra, TESTD_PATIENCE_MS);
		close(extra);
		if (r != NULL && reply_error(r) == NULL) {
			json_object_put(r);
			break;
		}
		json_object_put(r);
		usleep(10000);	/* the daemon has not yet seen the close */
	}
	ck_assert_int_lt(i, TESTD_PATIENCE_MS / 10);
	for (i = 1; i < 8; i++)
		close(fds[i]);
}
END_TEST

/*
 * As uid 65534, at max_clients (7 held, the eighth made and closed again
 * and again): a connection closed before the next is made is counted out
 * before the next is admitted, every time, however fast (shmd reads the
 * ends the loop found before the connections it found with them).
 */
static int
nobody_reconnects_at_the_limit(void *arg)
{
	struct json_object	*r;
	int			 held[7], fd, i, failed = 0;

	for (i = 0; i < 7; i++) {
		if ((held[i] = raw_connect(d.socket)) < 0)
			return 1;
		r = raw_call(held[i], "{\"method\":\"io.shmd.Status\"}");
		if (r == NULL || reply_error(r) != NULL)
			failed = 2;
		json_object_put(r);
	}
	for (i = 0; i < 200 && !failed; i++) {
		if ((fd = raw_connect(d.socket)) < 0)
			return 3;
		raw_send_msg(fd, "{\"method\":\"io.shmd.Status\"}");
		r = raw_recv(fd, TESTD_PATIENCE_MS);
		if (r == NULL || reply_error(r) != NULL)
			failed = 4;
		json_object_put(r);
		close(fd);
	}
	for (i = 0; i < 7; i++)
		close(held[i]);
	return failed;
}

START_TEST(test_reconnect_at_the_limit)
{
	ck_assert_int_eq(as_nobody(nobody_reconnects_at_the_limit, NULL), 0);
	testd_assert_serves(&d);
}
END_TEST

START_TEST(test_getinfo)
{
	static const char *const names[] = { "method Create", "method Open",
	    "method Destroy", "method List", "method Status", "method Watch" };
	const size_t		 nnames = sizeof names / sizeof names[0];
	int			 fd = raw_connect(d.socket), e;
	struct json_object	*r, *ifaces;
	char			 path[600], want[128], *file;
	size_t			 i;

	r = raw_call(fd, "{\"method\":\"org.varlink.service.GetInfo\"}");
	ifaces = json_object_object_get(json_object_object_get(r,
	    "parameters"), "interfaces");
	ck_assert_uint_eq(json_object_array_length(ifaces), 2);
	ck_assert_str_eq(reply_str(r, "version"), PACKAGE_VERSION);
	json_object_put(r);
	r = raw_call(fd, "{\"method\":\"org.varlink.service."
	    "GetInterfaceDescription\",\"parameters\":{\"interface\":"
	    "\"org.varlink.service\"}}");
	ck_assert_ptr_nonnull(strstr(reply_str(r, "description"),
	    "interface org.varlink.service"));
	json_object_put(r);
	/* io.shmd's is io.shmd.varlink, byte for byte */
	r = raw_call(fd, "{\"method\":\"org.varlink.service."
	    "GetInterfaceDescription\",\"parameters\":{\"interface\":"
	    "\"io.shmd\"}}");
	snprintf(path, sizeof path, "%s/io.shmd.varlink",
	    getenv("TOP_SRCDIR") ? getenv("TOP_SRCDIR") : "..");
	file = read_file(path);
	ck_assert_ptr_nonnull(file);
	ck_assert_str_eq(reply_str(r, "description"), file);
	/* and it names every method and io.shmd error the daemon knows */
	for (i = 0; i < nnames; i++) {
		snprintf(want, sizeof want, "\n%s ", names[i]);
		ck_assert_msg(strstr(file, want) != NULL ||
		    (snprintf(want, sizeof want, "\n%s(", names[i]) > 0 &&
		    strstr(file, want) != NULL), "%s missing", names[i]);
	}
	for (e = 1; e < PROTO_ERR_COUNT; e++) {
		if (strncmp(proto_error_name(e), "io.shmd.", 8) != 0)
			continue;
		snprintf(want, sizeof want, "\nerror %s (",
		    proto_error_name(e) + 8);
		ck_assert_msg(strstr(file, want) != NULL, "%s missing", want);
	}
	free(file);
	json_object_put(r);
	close(fd);
}
END_TEST

/* ------------------------------------------------ the daemon's life */

static int
run_shmd(char **out, const char *a1, const char *a2, const char *a3)
{
	const char	*argv[] = { test_program("daemon/shmd"), a1, a2, a3,
	    NULL };
	int		 rc;

	rc = run_cmd(out, NULL, argv);
	return rc;
}

START_TEST(test_command_line)
{
	char	*out, conf[] = "/tmp/shmd-badconf-XXXXXX";
	FILE	*f;
	int	 fd;

	ck_assert_int_eq(run_shmd(&out, "--help", NULL, NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "--max-segments-per-uid=VALUE"));
	free(out);
	ck_assert_int_eq(run_shmd(&out, "--version", NULL, NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, PACKAGE_VERSION));
	free(out);
	ck_assert_int_eq(run_shmd(NULL, "--bogus", NULL, NULL), 2);
	ck_assert_int_eq(run_shmd(NULL, "--config", "/nonexistent.conf", NULL),
	    2);
	ck_assert_int_eq(run_shmd(NULL, "--config", "/dev/null",
	    "--max-clients=zero"), 2);
	fd = mkstemp(conf);
	f = fdopen(fd, "w");
	fputs("max_clients = 4\nmax_segments_per_uid = lots\n", f);
	fclose(f);
	/* the error is one line naming file, line and key (on stderr) */
	ck_assert_int_eq(run_shmd(NULL, "--config", conf, NULL), 2);
	unlink(conf);
}
END_TEST

START_TEST(test_socket_takeover)
{
	struct testd		 other;
	struct sockaddr_un	 sun;
	struct stat		 sb;
	const char		*argv[8];
	int			 fd;

	/* Another shmd answers on the socket: refuse to start. */
	argv[0] = test_program("daemon/shmd");
	argv[1] = "--config";
	argv[2] = "/dev/null";
	argv[3] = "--socket";
	argv[4] = d.socket;
	argv[5] = "--state-dir";
	argv[6] = d.state;
	argv[7] = NULL;
	ck_assert_int_eq(run_cmd(NULL, NULL, argv), 1);
	testd_assert_serves(&d);

	/* A stale socket file (nobody listening) is replaced. */
	testd_start(&other, NULL);
	kill(other.pid, SIGKILL);
	waitpid(other.pid, NULL, 0);
	other.pid = -1;
	ck_assert_int_eq(stat(other.socket, &sb), 0);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	ck_assert_uint_lt(strlen(other.socket), sizeof sun.sun_path);
	memcpy(sun.sun_path, other.socket, strlen(other.socket) + 1);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sun, sizeof sun), -1);
	close(fd);
	{
		char	 dir[256];
		struct testd again;

		snprintf(dir, sizeof dir, "%s", other.dir);
		memset(&again, 0, sizeof again);
		again = other;
		/* restart on the same paths */
		again.pid = fork();
		ck_assert_int_ge(again.pid, 0);
		if (again.pid == 0) {
			execl(test_program("daemon/shmd"), "shmd", "--config",
			    "/dev/null", "--socket", other.socket,
			    "--state-dir", other.state, (char *)NULL);
			_exit(127);
		}
		ck_assert_int_eq(testd_wait_ready(&again, 10000), 0);
		testd_stop(&again);
		(void)dir;
	}
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("protocol");
	TCase	*tc = tcase_create("protocol");

	tcase_add_unchecked_fixture(tc, start, stop);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_garbage);
	tcase_add_test(tc, test_errors_keep_connection);
	tcase_add_test(tc, test_first_call_late);
	tcase_add_test(tc, test_created_counted_not_logged);
	tcase_add_test(tc, test_first_call_traced);
	tcase_add_test_when(tc, test_first_call_traces_bounded,
	    geteuid() == 0, "needs root");
	tcase_add_test(tc, test_split_and_batched);
	tcase_add_test(tc, test_batch_beyond_buffer_and_mixed_reads);
	tcase_add_test(tc, test_stalled_client);
	tcase_add_test(tc, test_watch_raw);
	tcase_add_test(tc, test_max_clients);
	tcase_add_test_when(tc, test_reconnect_at_the_limit, getuid() == 0,
	    "needs root to act as another uid");
	tcase_add_test(tc, test_getinfo);
	tcase_add_test(tc, test_command_line);
	tcase_add_test(tc, test_socket_takeover);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
