/* Unit tests: sizes, hex and octal numbers (common/number.c). */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "number.h"
#include "testutil.h"

START_TEST(test_sizes)
{
	const char	*why;
	uint64_t	 v;

	ck_assert_int_eq(number_parse("4096", NUMBER_SUFFIX, &v, &why), 0);
	ck_assert_uint_eq(v, 4096);
	ck_assert_int_eq(number_parse("4K", NUMBER_SUFFIX, &v, &why), 0);
	ck_assert_uint_eq(v, 4096);
	ck_assert_int_eq(number_parse("3m", NUMBER_SUFFIX, &v, &why), 0);
	ck_assert_uint_eq(v, 3 << 20);
	ck_assert_int_eq(number_parse("2G", NUMBER_SUFFIX, &v, &why), 0);
	ck_assert_uint_eq(v, 2ULL << 30);
	ck_assert_int_eq(number_parse("1T", NUMBER_SUFFIX, &v, &why), 0);
	ck_assert_uint_eq(v, 1ULL << 40);
	ck_assert_int_eq(number_parse("8KiB", NUMBER_SUFFIX, &v, &why), 0);
	ck_assert_uint_eq(v, 8192);
	ck_assert_int_eq(number_parse("0x10", NUMBER_HEX, &v, &why), 0);
	ck_assert_uint_eq(v, 16);
}
END_TEST

START_TEST(test_rejects)
{
	static const char *const bad[] = { "", "K", "-1", " 1", "1 ", "1X",
	    "1KX", "0x", "1.5K", "+4" };
	const char	*why;
	uint64_t	 v;
	size_t		 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(number_parse(bad[i], NUMBER_SUFFIX | NUMBER_HEX,
		    &v, &why) == -1, "accepted '%s'", bad[i]);
	ck_assert_int_eq(number_parse("4K", 0, &v, &why), -1);
	ck_assert_int_eq(number_parse("0x10", 0, &v, &why), -1);
	ck_assert_int_eq(number_parse("99999999999999999999", 0, &v, &why), -1);
	ck_assert_str_eq(why, "out of range");
	ck_assert_int_eq(number_parse("17179869184G", NUMBER_SUFFIX, &v, &why),
	    -1);
	ck_assert_str_eq(why, "out of range");
}
END_TEST

START_TEST(test_octal)
{
	const char	*why;
	uint64_t	 v;

	ck_assert_int_eq(number_parse("0640", NUMBER_OCTAL, &v, &why), 0);
	ck_assert_uint_eq(v, 0640);
	ck_assert_int_eq(number_parse("666", NUMBER_OCTAL, &v, &why), 0);
	ck_assert_uint_eq(v, 0666);
	ck_assert_int_eq(number_parse("8", NUMBER_OCTAL, &v, &why), -1);
}
END_TEST

START_TEST(test_format)
{
	char	buf[16];

	number_format_size(512, buf, sizeof buf);
	ck_assert_str_eq(buf, "512");
	number_format_size(4096, buf, sizeof buf);
	ck_assert_str_eq(buf, "4K");
	number_format_size(1536, buf, sizeof buf);
	ck_assert_str_eq(buf, "1.5K");
	number_format_size(10ULL << 20, buf, sizeof buf);
	ck_assert_str_eq(buf, "10M");
	number_format_size(3ULL << 30, buf, sizeof buf);
	ck_assert_str_eq(buf, "3G");
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("number");
	TCase	*tc = tcase_create("number");

	tcase_add_test(tc, test_sizes);
	tcase_add_test(tc, test_rejects);
	tcase_add_test(tc, test_octal);
	tcase_add_test(tc, test_format);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
