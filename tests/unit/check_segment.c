/*
 * Unit tests: the Segment object as shmd writes it by hand (segment.c),
 * parsed back with json-c, at the edges of every member's range.
 */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "kshm.h"
#include "segment.h"
#include "testutil.h"
#include "textbuf.h"

static int64_t
member(struct json_object *o, const char *key)
{
	struct json_object	*v;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no %s", key);
	ck_assert(json_object_is_type(v, json_type_int));
	return json_object_get_int64(v);
}

static struct json_object *
text_of(const struct segment *seg, const struct kshm_stat *st)
{
	char			 buf[SEGMENT_TEXT_MAX + 1];
	struct textbuf		 tb;
	struct json_object	*o;
	long			 n;

	textbuf_init(&tb, buf, sizeof buf);
	segment_text(&tb, seg, st);
	ck_assert_int_ge(n = textbuf_end(&tb), 0);
	ck_assert_uint_le((size_t)n, SEGMENT_TEXT_MAX);
	o = json_tokener_parse(buf);
	ck_assert_msg(o != NULL, "not JSON: %s", buf);
	/* each member once (json-c keeps the last of a repeated one) */
	json_object_object_foreach(o, key, val) {
		char		 pat[64];
		int		 seen;

		(void)val;
		snprintf(pat, sizeof pat, "\"%s\":", key);
		seen = count_in(buf, pat);
		ck_assert_msg(seen == 1, "%s %d times: %s", key, seen, buf);
	}
	return o;
}

START_TEST(test_edges_parse_back)
{
	char			 name[PROTO_NAME_MAX + 1];
	struct segment		*seg;
	struct kshm_stat	 st;
	struct json_object	*o, *v;

	memset(name, 'z', PROTO_NAME_MAX);
	name[PROTO_NAME_MAX] = '\0';
	memcpy(name, "uid:1000/a.b_c-d:e@f/", 21);
	seg = segment_create(name);
	ck_assert_ptr_nonnull(seg);
	seg->shmid = INT32_MAX;
	seg->key = INT32_MIN;
	seg->size = INT64_MAX;
	seg->lifetime = PROTO_LIFETIME_DETACH;
	seg->attach_timeout = INT32_MAX;
	seg->creator_uid = UINT32_MAX - 1;
	seg->creator_pid = INT32_MAX;
	seg->created_usec = INT64_MAX;
	memset(&st, 0, sizeof st);
	st.uid = UINT32_MAX - 1;
	st.gid = UINT32_MAX - 1;
	st.mode = 0777 | SHM_DEST;	/* the bit is no permission: not shown */
	st.nattch = UINT64_MAX >> 1;
	o = text_of(seg, &st);
	ck_assert(json_object_object_get_ex(o, "name", &v));
	ck_assert_str_eq(json_object_get_string(v), name);
	ck_assert_int_eq(member(o, "shmid"), INT32_MAX);
	ck_assert_int_eq(member(o, "key"), INT32_MIN);
	ck_assert_int_eq(member(o, "size"), INT64_MAX);
	ck_assert_int_eq(member(o, "mode"), 0777);
	ck_assert_int_eq(member(o, "uid"), UINT32_MAX - 1);
	ck_assert_int_eq(member(o, "gid"), UINT32_MAX - 1);
	ck_assert_int_eq(member(o, "nattch"), (int64_t)(UINT64_MAX >> 1));
	ck_assert_int_eq(member(o, "creator_uid"), UINT32_MAX - 1);
	ck_assert_int_eq(member(o, "creator_pid"), INT32_MAX);
	ck_assert_int_eq(member(o, "created_usec"), INT64_MAX);
	ck_assert_int_eq(member(o, "attach_timeout"), INT32_MAX);
	ck_assert(json_object_object_get_ex(o, "lifetime", &v));
	ck_assert_str_eq(json_object_get_string(v), "detach");
	/* no policy: base pages, not locked, no node, not declared */
	ck_assert_int_eq(member(o, "page_size"), sysconf(_SC_PAGESIZE));
	ck_assert(!json_object_object_get_ex(o, "numa_node", &v));
	ck_assert(json_object_object_get_ex(o, "locked", &v));
	ck_assert(json_object_is_type(v, json_type_boolean));
	ck_assert(!json_object_get_boolean(v));
	ck_assert(json_object_object_get_ex(o, "declared", &v));
	ck_assert(!json_object_get_boolean(v));
	json_object_put(o);
	/* the other lifetimes carry no attach_timeout; a whole policy */
	seg->lifetime = PROTO_LIFETIME_PERSISTENT;
	seg->key = 0;
	seg->policy.page_size = 1ULL << 30;
	seg->policy.locked = 1;
	seg->policy.numa_node = INT32_MAX;
	seg->declared = 1;
	o = text_of(seg, &st);
	ck_assert(!json_object_object_get_ex(o, "attach_timeout", &v));
	ck_assert_int_eq(member(o, "key"), 0);
	ck_assert_int_eq(member(o, "page_size"), 1LL << 30);
	ck_assert_int_eq(member(o, "numa_node"), INT32_MAX);
	ck_assert(json_object_object_get_ex(o, "locked", &v));
	ck_assert(json_object_get_boolean(v));
	ck_assert(json_object_object_get_ex(o, "declared", &v));
	ck_assert(json_object_get_boolean(v));
	json_object_put(o);
	segment_destroy(seg);
}
END_TEST

START_TEST(test_seen)
{
	struct segment		*seg = segment_create("s");
	struct kshm_stat	 st, seen;

	memset(&st, 0, sizeof st);
	st.uid = 7;
	st.gid = 8;
	st.mode = 0640;
	segment_saw(seg, &st);
	segment_seen_stat(seg, &seen);
	ck_assert_uint_eq(seen.uid, 7);
	ck_assert_uint_eq(seen.gid, 8);
	ck_assert_uint_eq(seen.mode, 0640);
	segment_destroy(seg);
	segment_destroy(NULL);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("segment");
	TCase	*tc = tcase_create("segment");

	tcase_add_test(tc, test_edges_parse_back);
	tcase_add_test(tc, test_seen);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
