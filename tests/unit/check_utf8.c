/* Unit tests: UTF-8 (common/utf8.c) and escaping logged text (common/log.c). */
#include "config.h"

#include <check.h>
#include <string.h>

#include "log.h"
#include "testutil.h"
#include "utf8.h"

/* Cutting to n bytes keeps whole characters: never half of one. */
START_TEST(test_cut)
{
	/* é is 2 bytes, € 3, 𝄞 4 */
	const char	*s = "a\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e";
	size_t		 len = strlen(s);

	ck_assert_uint_eq(utf8_cut(s, len, 100), len);
	ck_assert_uint_eq(utf8_cut(s, len, len), len);
	ck_assert_uint_eq(utf8_cut(s, len, 1), 1);
	ck_assert_uint_eq(utf8_cut(s, len, 2), 1);	/* not half of é */
	ck_assert_uint_eq(utf8_cut(s, len, 3), 3);
	ck_assert_uint_eq(utf8_cut(s, len, 4), 3);
	ck_assert_uint_eq(utf8_cut(s, len, 5), 3);
	ck_assert_uint_eq(utf8_cut(s, len, 6), 6);
	ck_assert_uint_eq(utf8_cut(s, len, 9), 6);	/* not 3/4 of 𝄞 */
	ck_assert_uint_eq(utf8_cut(s, len, 0), 0);
	ck_assert(utf8_valid(s, utf8_cut(s, len, 8)));
}
END_TEST

START_TEST(test_valid)
{
	ck_assert(utf8_valid("plain", 5));
	ck_assert(utf8_valid("\xe2\x80\xa8", 3));
	ck_assert(!utf8_valid("\xc3", 1));		/* cut short */
	ck_assert(!utf8_valid("\xc0\xaf", 2));		/* overlong */
	ck_assert(!utf8_valid("\xed\xa0\x80", 3));	/* a surrogate */
	ck_assert(!utf8_valid("\xf4\x90\x80\x80", 4));	/* past U+10FFFF */
	ck_assert(!utf8_valid("\x80", 1));
}
END_TEST

/* What a client sends can neither end a line nor forge one in the log. */
START_TEST(test_escape)
{
	static const struct {
		const char	*in, *out;
	} cases[] = {
		{ "plain text", "plain text" },
		{ "a\nshmd: forged", "a\\x0ashmd: forged" },
		{ "\r\t\x1b[31m\x7f", "\\x0d\\x09\\x1b[31m\\x7f" },
		/* C1: NEL, CSI */
		{ "x\xc2\x85y\xc2\x9b", "x\\x85y\\x9b" },
		{ "a\xe2\x80\xa8" "b\xe2\x80\xa9", "a\\u2028b\\u2029" },
		/* not UTF-8: each byte */
		{ "\xff\xc3(\xed\xa0\x80", "\\xff\\xc3(\\xed\\xa0\\x80" },
		/* what is fine stays */
		{ "caf\xc3\xa9 \xe2\x82\xac \xc2\xa0", "caf\xc3\xa9 \xe2\x82\xac \xc2\xa0" },
	};
	char	out[256];
	size_t	i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		log_escape(cases[i].in, out, sizeof out);
		ck_assert_str_eq(out, cases[i].out);
	}
	/* a short buffer ends on a whole escape */
	log_escape("\n\n\n", out, 6);
	ck_assert_str_eq(out, "\\x0a");
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("utf8");
	TCase	*tc = tcase_create("utf8");

	tcase_add_test(tc, test_cut);
	tcase_add_test(tc, test_valid);
	tcase_add_test(tc, test_escape);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
