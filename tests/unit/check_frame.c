/* Unit tests: Varlink framing (common/frame.c). */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "frame.h"
#include "proto.h"
#include "testutil.h"

static int
decode(const char *text, char *reason)
{
	struct json_object	*o;
	int			 rc;

	rc = frame_decode(text, strlen(text), &o, reason, 256);
	json_object_put(o);
	return rc;
}

START_TEST(test_decode_objects)
{
	char	reason[256];

	ck_assert_int_eq(decode("{}", reason), 0);
	ck_assert_int_eq(decode("  {\"method\": \"x\"}  \n", reason), 0);
	ck_assert_int_eq(decode("{\"a\":[1,2,{\"b\":null}]}", reason), 0);
}
END_TEST

START_TEST(test_decode_rejects)
{
	static const char *const bad[] = {
		"", "   ", "{", "}", "[]", "5", "\"s\"", "null", "{} {}",
		"{}x", "{\"a\":1,}", "{\"a\":tru}", "\xff\xfe",
		"{\"a\":\"\xc3\x28\"}",
	};
	char	reason[256];
	size_t	i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		reason[0] = '\0';
		ck_assert_msg(decode(bad[i], reason) == -1, "accepted '%s'",
		    bad[i]);
		ck_assert_msg(reason[0] != '\0', "no reason for '%s'", bad[i]);
	}
}
END_TEST

START_TEST(test_decode_depth)
{
	char	text[1024], reason[256];
	int	i, n = 0;

	for (i = 0; i < FRAME_MAX_DEPTH + 5; i++)
		n += sprintf(text + n, "{\"a\":");
	n += sprintf(text + n, "1");
	for (i = 0; i < FRAME_MAX_DEPTH + 5; i++)
		n += sprintf(text + n, "}");
	ck_assert_int_eq(decode(text, reason), -1);
	ck_assert_ptr_nonnull(strstr(reason, "nesting"));
}
END_TEST

START_TEST(test_encode_has_nul)
{
	struct json_object	*o = json_object_new_object();
	const char		*s;
	size_t			 len;

	json_object_object_add(o, "a", json_object_new_string("x/y"));
	s = frame_encode(o, &len);
	ck_assert_uint_eq(len, strlen("{\"a\":\"x/y\"}") + 1);
	ck_assert_str_eq(s, "{\"a\":\"x/y\"}");
	ck_assert_int_eq(s[len - 1], '\0');
	json_object_put(o);
}
END_TEST

START_TEST(test_buf_splits)
{
	struct frame_buf	 fb;
	const char		 in[] = "{\"a\":1}\0{\"b\":2}\0{\"c\"";
	char			*space, *msg;
	size_t			 len;

	frame_buf_init(&fb);
	ck_assert_ptr_null(frame_buf_next(&fb, &len));
	space = frame_buf_space(&fb, sizeof in - 1);
	memcpy(space, in, sizeof in - 1);
	fb.len += sizeof in - 1;
	msg = frame_buf_next(&fb, &len);
	ck_assert_str_eq(msg, "{\"a\":1}");
	ck_assert_uint_eq(len, 7);
	msg = frame_buf_next(&fb, &len);
	ck_assert_str_eq(msg, "{\"b\":2}");
	ck_assert_ptr_null(frame_buf_next(&fb, &len));
	/* The rest of the third message arrives later. */
	space = frame_buf_space(&fb, 4);
	memcpy(space, ":3}", 4);
	fb.len += 4;
	msg = frame_buf_next(&fb, &len);
	ck_assert_str_eq(msg, "{\"c\":3}");
	frame_buf_finish(&fb);
}
END_TEST

/* RFC 3629: what json-c lets by is refused. */
START_TEST(test_utf8)
{
	static const char *const good[] = {
		"", "ascii", "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
		"\xf4\x8f\xbf\xbf", "\xed\x9f\xbf", "\xee\x80\x80",
	};
	static const char *const bad[] = {
		"\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xe0\x9f\xbf",
		"\xf0\x80\x80\x80", "\xed\xa0\x80", "\xed\xbf\xbf",
		"\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff", "\x80",
		"\xe2\x82", "a\xc3", "\xc3" "a", "\xf0\x9f\x98",
	};
	size_t	i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		ck_assert_msg(frame_utf8_valid(good[i], strlen(good[i])),
		    "good %zu", i);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(!frame_utf8_valid(bad[i], strlen(bad[i])),
		    "bad %zu", i);
}
END_TEST

/* Names (shmd-protocol(7)): the characters and the length they may have. */
START_TEST(test_name_rules)
{
	const char	*all = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789._-:@/";
	char		 name[PROTO_NAME_MAX + 2], one[3];
	int		 c;

	ck_assert_int_eq(proto_name_valid(all), 0);
	ck_assert_int_eq(proto_name_valid("a"), 0);
	ck_assert_int_eq(proto_name_valid(""), -1);
	ck_assert_int_eq(proto_name_valid("-a"), -1);
	ck_assert_int_eq(proto_name_valid("a-"), 0);
	/* every other byte, alone and after a good one */
	for (c = 1; c < 256; c++) {
		one[0] = 'a';
		one[1] = (char)c;
		one[2] = '\0';
		ck_assert_int_eq(proto_name_valid(one),
		    strchr(all, c) != NULL ? 0 : -1);
	}
	memset(name, 'n', sizeof name);
	name[PROTO_NAME_MAX] = '\0';
	ck_assert_int_eq(proto_name_valid(name), 0);
	name[PROTO_NAME_MAX] = 'n';
	name[PROTO_NAME_MAX + 1] = '\0';
	ck_assert_int_eq(proto_name_valid(name), -1);
}
END_TEST

/* A group membership for proto_name_allowed(): arg points at the one gid. */
static int
in_group(void *arg, uint32_t gid)
{
	return gid == *(uint32_t *)arg;
}

/* Who may use a reserved name: the one rule the daemon and libshmd share. */
START_TEST(test_name_allowed)
{
	uint32_t	group = 20;

	ck_assert(proto_name_allowed("cam0", 1000, in_group, &group));
	ck_assert(proto_name_allowed("uid:1000/cam0", 1000, in_group, &group));
	ck_assert(!proto_name_allowed("uid:1000/cam0", 1001, in_group, &group));
	ck_assert(proto_name_allowed("uid:1000/cam0", 0, in_group, &group));
	ck_assert(proto_name_allowed("gid:20/x", 1001, in_group, &group));
	ck_assert(!proto_name_allowed("gid:21/x", 1001, in_group, &group));
	ck_assert(proto_name_allowed("gid:21/x", 0, in_group, &group));
	/* not reserved: a leading zero, another first component */
	ck_assert(proto_name_allowed("uid:01/x", 1001, in_group, &group));
	ck_assert(proto_name_allowed("a/uid:1000", 1001, in_group, &group));
}
END_TEST

static Suite *
frame_suite(void)
{
	Suite	*s = suite_create("frame");
	TCase	*tc = tcase_create("frame");

	tcase_add_test(tc, test_decode_objects);
	tcase_add_test(tc, test_decode_rejects);
	tcase_add_test(tc, test_decode_depth);
	tcase_add_test(tc, test_encode_has_nul);
	tcase_add_test(tc, test_buf_splits);
	tcase_add_test(tc, test_utf8);
	tcase_add_test(tc, test_name_rules);
	tcase_add_test(tc, test_name_allowed);
	suite_add_tcase(s, tc);
	return s;
}


int
main(void)
{
	return run_suite(frame_suite());
}
