/* Unit tests: the configuration file and options (daemon/conf.c). */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "declared.h"
#include "kmem.h"
#include "testutil.h"

static char	conf_path[64];

static const char *
write_conf(const char *text)
{
	FILE	*f;
	int	 fd;

	snprintf(conf_path, sizeof conf_path, "/tmp/shmd-conf-XXXXXX");
	fd = mkstemp(conf_path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	return conf_path;
}

START_TEST(test_defaults)
{
	struct conf	c;
	uint64_t	v;

	ck_assert_int_eq(conf_init(&c), 0);
	ck_assert_str_eq(c.socket, "/run/shmd/shmd.sock");
	ck_assert_str_eq(c.state_dir, "/run/shmd/state");
	ck_assert_uint_eq(c.socket_mode, 0666);
	ck_assert_uint_eq(c.key_base, 0x73680000);
	ck_assert_uint_eq(c.key_count, 65536);
	ck_assert_uint_eq(c.max_segments_per_uid, 1024);
	ck_assert_uint_eq(c.max_bytes_per_uid, 0);
	ck_assert_uint_eq(c.max_clients, 1024);
	ck_assert_uint_eq(c.max_message_size, 65536);
	ck_assert_uint_eq(c.attach_timeout, 60);
	ck_assert_uint_eq(c.max_segment_size, conf_kernel_shmmax());
	ck_assert_int_eq(c.log_level, LOG_LEVEL_INFO);
	ck_assert_int_eq(conf_get_int(&c, "max_clients", &v), 0);
	ck_assert_uint_eq(v, 1024);
	ck_assert_int_eq(conf_get_int(&c, "key_base", &v), 0);
	ck_assert_uint_eq(v, 0x73680000);
	ck_assert_int_eq(conf_get_int(&c, "socket", &v), -1);
	ck_assert_uint_eq(c.max_output_bytes, 64 << 20);
	ck_assert_uint_eq(c.max_output_bytes_per_uid, 16 << 20);
	conf_finish(&c);
}
END_TEST

/* admin_socket: beside socket unless set; empty: none; never the same. */
START_TEST(test_admin_socket)
{
	struct conf	c;
	char		why[256];

	ck_assert_int_eq(conf_init(&c), 0);
	ck_assert_int_eq(conf_check(&c, why, sizeof why), 0);
	ck_assert_str_eq(c.admin_socket, "/run/shmd/admin.sock");
	conf_finish(&c);
	ck_assert_int_eq(conf_init(&c), 0);
	ck_assert_int_eq(conf_set(&c, "socket", "/tmp/x/y.sock", why,
	    sizeof why), 0);
	ck_assert_int_eq(conf_check(&c, why, sizeof why), 0);
	ck_assert_str_eq(c.admin_socket, "/tmp/x/admin.sock");
	conf_finish(&c);
	ck_assert_int_eq(conf_init(&c), 0);
	ck_assert_int_eq(conf_set(&c, "admin_socket", "", why, sizeof why), 0);
	ck_assert_int_eq(conf_check(&c, why, sizeof why), 0);
	ck_assert_str_eq(c.admin_socket, "");
	/* other strings may not be empty */
	ck_assert_int_eq(conf_set(&c, "socket", "", why, sizeof why), -1);
	ck_assert_int_eq(conf_set(&c, "admin_socket", "/run/shmd/shmd.sock",
	    why, sizeof why), 0);
	ck_assert_int_eq(conf_check(&c, why, sizeof why), -1);
	ck_assert_ptr_nonnull(strstr(why, "admin_socket"));
	conf_finish(&c);
}
END_TEST

START_TEST(test_file)
{
	struct conf	 c;
	char		 err[512];
	const char	*path;

	path = write_conf(
	    "# shmd.conf\n"
	    "\n"
	    "socket = /tmp/x.sock   # trailing comment\n"
	    "socket_mode=0600\n"
	    "  key_base = 0x10000\n"
	    "key_count = 16\n"
	    "max_segment_size = 4M\n"
	    "max_bytes_per_uid = 1G\n"
	    "max_message_size = 0x20000\n"
	    "log_level = debug\n"
	    "attach_timeout = 5\n");
	ck_assert_int_eq(conf_init(&c), 0);
	ck_assert_msg(conf_load(&c, path, 0, err, sizeof err) == 0, "%s", err);
	ck_assert_str_eq(c.socket, "/tmp/x.sock");
	ck_assert_uint_eq(c.socket_mode, 0600);
	ck_assert_uint_eq(c.key_base, 0x10000);
	ck_assert_uint_eq(c.key_count, 16);
	ck_assert_uint_eq(c.max_segment_size, 4 << 20);
	ck_assert_uint_eq(c.max_bytes_per_uid, 1ULL << 30);
	ck_assert_uint_eq(c.max_message_size, 0x20000);
	ck_assert_int_eq(c.log_level, LOG_LEVEL_DEBUG);
	ck_assert_uint_eq(c.attach_timeout, 5);
	conf_finish(&c);
	unlink(path);
}
END_TEST

static void
expect_error(const char *text, const char *needle)
{
	struct conf	 c;
	char		 err[512], want[600];
	const char	*path = write_conf(text);

	ck_assert_int_eq(conf_init(&c), 0);
	ck_assert_msg(conf_load(&c, path, 0, err, sizeof err) == -1,
	    "accepted: %s", text);
	snprintf(want, sizeof want, "%s:%s", path, needle);
	ck_assert_msg(strstr(err, want) != NULL, "'%s' lacks '%s'", err, want);
	conf_finish(&c);
	unlink(path);
}

START_TEST(test_file_errors)
{
	expect_error("max_clients = 10\nbogus = 1\n", "2: key 'bogus': unknown key");
	expect_error("\n\nmax_clients = ten\n", "3: key 'max_clients'");
	expect_error("max_clients = 0\n", "1: key 'max_clients'");
	expect_error("socket_mode = 0999\n", "1: key 'socket_mode'");
	expect_error("max_segment_size = 4Q\n", "1: key 'max_segment_size'");
	expect_error("log_level = loud\n", "1: key 'log_level'");
	expect_error("just words\n", "1: expected 'key = value'");
	expect_error("key_count = -1\n", "1: key 'key_count'");
	expect_error("socket =\n", "1: key 'socket'");
	/* shmd.conf has no sections: only segments_dir's files do */
	expect_error("[segment x]\nsize = 1\n", "1: expected 'key = value'");
}
END_TEST

/* A segments_dir of one file, text, read with declared_load(). */
static int
load_declared(struct declared *dd, const char *text, char *err, size_t len)
{
	char	dir[] = "/tmp/shmd-decl-XXXXXX", path[64];
	FILE	*f;
	int	 rc;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/a.conf", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	rc = declared_load(dd, dir, err, len);
	unlink(path);
	rmdir(dir);
	return rc;
}

/* text is refused, with an error that holds says. */
static void
declared_fails(const char *text, const char *says)
{
	struct declared	dd;
	char		err[512];

	ck_assert_int_eq(load_declared(&dd, text, err, sizeof err), -1);
	ck_assert_msg(strstr(err, says) != NULL, "%s", err);
}

START_TEST(test_declarations)
{
	struct declared	 dd;
	char		 err[512], dir[600], text[512];
	const char	*top = getenv("TOP_SRCDIR");
	uint64_t	 huge = kmem_huge_default();
	int		 node;

	/*
	 * a's node: the first with memory; b's page size: the one this
	 * system offers by default (checked as a Create's would be)
	 */
	for (node = 0; node < 1024 && !kmem_node_has_memory(node); node++)
		continue;
	snprintf(text, sizeof text,
	    "# two\n[segment a]\nsize = 1M\nmode = 0660\nowner = root:0\n"
	    "key = 0x1234\nlocked = yes\nnuma_node = %d\n\n"
	    "[ segment   b ]\nsize = 5000\nhuge_pages = yes\n"
	    "page_size = %llu\n", node, (unsigned long long)huge);
	if (huge == 0) {
		/* no huge pages here: b is refused, by its section's line */
		*strstr(text, "page_size") = '\0';
		ck_assert_int_eq(load_declared(&dd, text, err, sizeof err), -1);
		ck_assert_msg(strstr(err, "/a.conf:10: segment 'b': key "
		    "'huge_pages': this kernel offers no huge pages") != NULL,
		    "%s", err);
		*strstr(text, "[ segment") = '\0';
	}
	ck_assert_msg(load_declared(&dd, text, err, sizeof err) == 0, "%s",
	    err);
	ck_assert_uint_eq(dd.n, huge != 0 ? 2 : 1);
	ck_assert_str_eq(dd.v[0].name, "a");
	ck_assert_int_eq(dd.v[0].line, 2);
	ck_assert_uint_eq(dd.v[0].size, 1 << 20);
	ck_assert_uint_eq(dd.v[0].mode, 0660);
	ck_assert_int_eq(dd.v[0].uid, 0);
	ck_assert_int_eq(dd.v[0].gid, 0);
	ck_assert_int_eq(dd.v[0].any_key, 0);
	ck_assert_int_eq(dd.v[0].key, 0x1234);
	ck_assert_int_eq(dd.v[0].policy.locked, 1);
	ck_assert_int_eq(dd.v[0].policy.numa_node, node);
	ck_assert_uint_eq(dd.v[0].policy.page_size, 0);
	/* defaults; huge pages round the size up */
	if (huge != 0) {
		ck_assert_str_eq(dd.v[1].name, "b");
		ck_assert_uint_eq(dd.v[1].mode, 0600);
		ck_assert_int_eq(dd.v[1].uid, geteuid());
		ck_assert_int_eq(dd.v[1].any_key, 1);
		ck_assert_int_eq(dd.v[1].policy.numa_node, -1);
		ck_assert_uint_eq(dd.v[1].policy.page_size, huge);
		ck_assert_uint_eq(dd.v[1].size, huge);
	}
	declared_free(&dd);

	/* The example the packages ship declares nothing, and reads. */
	snprintf(dir, sizeof dir, "%s/systemd/segments.d", top ? top : "..");
	ck_assert_msg(declared_load(&dd, dir, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(dd.n, 0);
	/* "" is none; the default directory may be missing, another not */
	ck_assert_int_eq(declared_load(&dd, "", err, sizeof err), 0);
	ck_assert_uint_eq(dd.n, 0);
	ck_assert_int_eq(declared_load(&dd, "/nonexistent/segments.d", err,
	    sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "key 'segments_dir'"));
	declared_fails("[segment a]\nsize = 1\nowner = 4000000\n",
	    "/a.conf:3: key 'owner': uid 4000000 has no primary group");
	declared_fails("[segment a]\nsize = 1\n[segment a]\nsize = 2\n",
	    "/a.conf:3: segment 'a' is declared already at ");
	declared_fails("[segmentx a]\n", "/a.conf:1: expected '[segment NAME]'");
	/* the policy's rules are a Create's (kmem_policy_settle()) */
	declared_fails("[segment a]\nsize = 1\npage_size = 2M\n",
	    "/a.conf:1: segment 'a': key 'page_size': needs huge_pages");
	declared_fails("[segment a]\nsize = 1\nhuge_pages = yes\n"
	    "page_size = 3000\n", "/a.conf:1: segment 'a': key 'page_size': "
	    "not a huge page size this kernel offers");
	declared_fails("[segment a]\nsize = 1\nnuma_node = 4000\n",
	    "/a.conf:1: segment 'a': key 'numa_node': no such NUMA node with "
	    "memory");
}
END_TEST

START_TEST(test_missing_file)
{
	struct conf	c;
	char		err[512];

	ck_assert_int_eq(conf_init(&c), 0);
	ck_assert_int_eq(conf_load(&c, "/nonexistent/shmd.conf", 1, err,
	    sizeof err), 0);
	ck_assert_int_eq(conf_load(&c, "/nonexistent/shmd.conf", 0, err,
	    sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/shmd.conf"));
	conf_finish(&c);
}
END_TEST

START_TEST(test_set_and_check)
{
	struct conf	c;
	char		why[256];

	ck_assert_int_eq(conf_init(&c), 0);
	ck_assert_int_eq(conf_set(&c, "max_segments_per_uid", "0", why,
	    sizeof why), 0);
	ck_assert_uint_eq(c.max_segments_per_uid, 0);
	ck_assert_int_eq(conf_set(&c, "nope", "1", why, sizeof why), -1);
	ck_assert_str_eq(why, "unknown key");
	ck_assert_int_eq(conf_set(&c, "key_base", "0xffffff00", why,
	    sizeof why), 0);
	ck_assert_int_eq(conf_set(&c, "key_count", "4096", why, sizeof why), 0);
	ck_assert_int_eq(conf_check(&c, why, sizeof why), -1);
	ck_assert_ptr_nonnull(strstr(why, "key_count"));
	ck_assert_int_eq(conf_set(&c, "key_count", "256", why, sizeof why), 0);
	ck_assert_int_eq(conf_check(&c, why, sizeof why), 0);
	conf_finish(&c);
}
END_TEST

static int	nchanged;

static void
changed(const struct conf_key *k, const struct conf *old,
    const struct conf *now)
{
	ck_assert_uint_ne(conf_key_int(old, k), conf_key_int(now, k));
	nchanged++;
}

/* One table: every limit reloads on SIGHUP, and reload applies each key. */
START_TEST(test_reload_every_limit)
{
	struct conf	 cur, next;
	char		 why[256], text[64];
	size_t		 i, nreload = 0;
	int		 later;

	ck_assert_int_eq(conf_init(&cur), 0);
	ck_assert_int_eq(conf_init(&next), 0);
	for (i = 0; i < conf_nkeys; i++) {
		const struct conf_key	*k = &conf_keys[i];

		ck_assert_ptr_nonnull(k->help);
		if (k->flags & CONF_LIMIT)
			ck_assert_msg(k->flags & CONF_RELOAD,
			    "limit %s does not reload", k->name);
		if (!(k->flags & CONF_RELOAD) || k->type == CONF_LOGLEVEL)
			continue;
		/* a new value in range for each reloaded key */
		snprintf(text, sizeof text, "%llu",
		    (unsigned long long)(k->min + 1));
		ck_assert_int_eq(conf_set(&next, k->name, text, why,
		    sizeof why), 0);
		nreload++;
	}
	ck_assert_int_eq(conf_set(&next, "log_level", "debug", why,
	    sizeof why), 0);
	ck_assert_int_eq(conf_set(&next, "socket", "/elsewhere", why,
	    sizeof why), 0);
	nchanged = 0;
	later = conf_reload(&cur, &next, changed);
	ck_assert_int_eq(later, 1);		/* socket: at the next start */
	ck_assert_str_eq(cur.socket, "/run/shmd/shmd.sock");
	ck_assert_int_eq(cur.log_level, LOG_LEVEL_DEBUG);
	for (i = 0; i < conf_nkeys; i++)
		if (conf_keys[i].flags & CONF_RELOAD &&
		    conf_keys[i].type != CONF_LOGLEVEL)
			ck_assert_uint_eq(conf_key_int(&cur, &conf_keys[i]),
			    conf_keys[i].min + 1);
	ck_assert_int_eq(nchanged, (int)nreload + 1);	/* and log_level */
	conf_finish(&cur);
	conf_finish(&next);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("conf");
	TCase	*tc = tcase_create("conf");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_admin_socket);
	tcase_add_test(tc, test_file);
	tcase_add_test(tc, test_file_errors);
	tcase_add_test(tc, test_declarations);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_set_and_check);
	tcase_add_test(tc, test_reload_every_limit);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
