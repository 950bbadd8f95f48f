/* Unit tests: JSON text written straight into a buffer. */
#include "config.h"

#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "textbuf.h"

static void
expect_text(struct textbuf *tb, const char *want)
{
	ck_assert_int_eq(textbuf_end(tb), (long)strlen(want));
	ck_assert_str_eq(tb->buf, want);
}

START_TEST(test_numbers)
{
	static const int64_t	 signed_[] = {
		0, 1, -1, 9, 10, -10, 1795521845857796LL, INT64_MAX, INT64_MIN,
	};
	static const uint64_t	 unsigned_[] = {
		0, 7, 10, 99, 100, 4294967295ULL, UINT64_MAX,
	};
	struct textbuf		 tb;
	char			 buf[64], want[64];
	size_t			 i;

	for (i = 0; i < sizeof signed_ / sizeof signed_[0]; i++) {
		textbuf_init(&tb, buf, sizeof buf);
		textbuf_i64(&tb, signed_[i]);
		snprintf(want, sizeof want, "%" PRId64, signed_[i]);
		expect_text(&tb, want);
	}
	for (i = 0; i < sizeof unsigned_ / sizeof unsigned_[0]; i++) {
		textbuf_init(&tb, buf, sizeof buf);
		textbuf_u64(&tb, unsigned_[i]);
		snprintf(want, sizeof want, "%" PRIu64, unsigned_[i]);
		expect_text(&tb, want);
	}
}
END_TEST

START_TEST(test_fixed_buffer)
{
	struct textbuf	tb;
	char		buf[8];

	/* Seven bytes and the NUL fit. */
	textbuf_init(&tb, buf, sizeof buf);
	textbuf_lit(&tb, "{\"a\":");
	textbuf_u64(&tb, 12);
	expect_text(&tb, "{\"a\":12");
	/* One more does not: the text is refused, never cut short silently. */
	textbuf_lit(&tb, "}");
	ck_assert_int_eq(textbuf_end(&tb), -1);
	textbuf_str(&tb, "more");
	ck_assert_int_eq(textbuf_end(&tb), -1);
	textbuf_init(&tb, buf, 0);
	ck_assert_int_eq(textbuf_end(&tb), -1);
}
END_TEST

START_TEST(test_heap_grows)
{
	struct textbuf	tb;
	long		n;
	int		i;

	ck_assert_int_eq(textbuf_init_heap(&tb, 4), 0);
	for (i = 0; i < 10000; i++) {
		textbuf_str(&tb, i ? "," : "[");
		textbuf_i64(&tb, -i);
	}
	textbuf_lit(&tb, "]");
	n = textbuf_end(&tb);
	ck_assert_int_gt(n, 10000);
	ck_assert_uint_eq(strlen(tb.buf), (size_t)n);
	ck_assert(strncmp(tb.buf, "[0,-1,-2,", 9) == 0);
	ck_assert_str_eq(tb.buf + n - 6, "-9999]");
	free(tb.buf);
}
END_TEST

/* Strings: quotes, backslashes and control characters escaped; bad UTF-8 replaced. */
START_TEST(test_json_string)
{
	struct textbuf	 tb;
	char		 buf[128];

	textbuf_init(&tb, buf, sizeof buf);
	textbuf_json_string(&tb, "a\"b\\c/d\t\x01 \xc3\xa9 \xff\xc3");
	expect_text(&tb, "\"a\\\"b\\\\c/d\\u0009\\u0001 \xc3\xa9 "
	    "\\ufffd\\ufffd\"");
	textbuf_init(&tb, buf, sizeof buf);
	textbuf_json_string(&tb, "");
	expect_text(&tb, "\"\"");
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("textbuf");
	TCase	*tc = tcase_create("textbuf");

	tcase_add_test(tc, test_numbers);
	tcase_add_test(tc, test_fixed_buffer);
	tcase_add_test(tc, test_heap_grows);
	tcase_add_test(tc, test_json_string);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
