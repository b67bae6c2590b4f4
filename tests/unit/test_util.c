/* test_util.c - strings, buffers, errors and time parsing. */
#include "config.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tap.h"
#include "util/util.h"

static void test_time(void)
{
	int64_t ms = 0;
	char out[32];

	ok(time_parse("2026-11-27T08:15:00Z", &ms), "ISO with Z");
	is_int(ms, 1795767300000LL, "ISO value");
	ok(time_parse("2026-11-27T10:15:00+02:00", &ms), "ISO with offset");
	is_int(ms, 1795767300000LL, "offset applied");
	ok(time_parse("2026-11-27 08:15:00", &ms), "space separator, no zone = UTC");
	is_int(ms, 1795767300000LL, "space value");
	ok(time_parse("2026-11-27T08:15:00.250Z", &ms), "fraction");
	is_int(ms, 1795767300250LL, "fraction value");
	ok(time_parse("1795767300", &ms), "unix seconds");
	is_int(ms, 1795767300000LL, "unix seconds value");
	ok(time_parse("1795767300250", &ms), "unix ms");
	is_int(ms, 1795767300250LL, "unix ms value");
	ok(time_parse("2026-11-27", &ms), "date only");
	ok(!time_parse("yesterday", &ms), "garbage refused");
	ok(!time_parse("2026-13-01", &ms), "month 13 refused");
	ok(!time_parse("", &ms), "empty refused");
	is_str(time_format_iso(1795767300000LL, out), "2026-11-27T08:15:00Z", "format");
	is_str(time_format_iso(1795767300250LL, out), "2026-11-27T08:15:00.250Z", "format ms");
}

static void test_strings(void)
{
	int64_t v;
	double d;
	char s[] = "  hi there \t";
	struct buf b = BUF_INIT;
	struct error err = { 0 };
	char *p;

	ok(str_to_i64(" 42 ", &v) && v == 42, "i64 with blanks");
	ok(!str_to_i64("42x", &v), "i64 trailing junk");
	ok(!str_to_i64("", &v), "i64 empty");
	ok(str_to_double("12.5", &d) && d == 12.5, "double");
	ok(!str_to_double("nan", &d), "nan refused");
	ok(!str_to_double("0x10", &d), "hex refused");
	is_str(str_trim(s), "hi there", "trim");
	ok(str_caseeq("In Stock", "in stock"), "caseeq");
	buf_printf(&b, "%d-%s", 7, "x");
	buf_puts(&b, "yz");
	is_str(buf_str(&b), "7-xyz", "buf");
	p = buf_steal(&b);
	is_str(p, "7-xyz", "steal");
	free(p);
	is_str(buf_str(&b), "", "empty after steal");
	err_set(&err, ERRK_CONFIG, "cause %d", 3);
	err_prefix(&err, "place");
	is_str(err.msg, "place: cause 3", "err_prefix");
	is_int(err.kind, ERRK_CONFIG, "kind kept");
	p = path_join("/a/", "b");
	is_str(p, "/a/b", "join");
	free(p);
	p = path_dirname("/x/y/z.db");
	is_str(p, "/x/y", "dirname");
	free(p);
}

/* Human numbers and dates follow the locale; LC_NUMERIC stays "C" for the
 * parsers.  The de_DE and ru_RU parts need those locales (tests/deps.sh
 * generates them) and are skipped where they are missing. */
static bool have_locale(const char *name)
{
	locale_t l = newlocale(LC_ALL_MASK, name, (locale_t)0);

	if (l)
		freelocale(l);
	return l != (locale_t)0;
}

static void test_locale_formats(void)
{
	char when[64];
	int64_t t = 1795771815000LL;   /* 2026-11-27T09:30:15Z */

	setenv("TZ", "UTC", 1);
	tzset();
	setenv("LC_ALL", "C", 1);
	i18n_init();
	is_str(fmt_int(1234567), "1234567", "C: no grouping");
	is_str(fmt_int(-1234), "-1234", "C: negative");
	is_str(fmt_dec(1234.56, 1), "1234.6", "C: decimal point");
	is_str(time_format_local(t, TIME_MINUTES, when, sizeof(when)), "2026-11-27 09:30",
	       "C: ISO date and time");
	is_str(time_format_local(t, TIME_SHORT_SECONDS, when, sizeof(when)), "11-27 09:30:15",
	       "C: short date");
	is_str(time_format_local(0, TIME_DATE, when, sizeof(when)), "-", "no time: -");

	setenv("LC_ALL", "de_DE.UTF-8", 1);
	if (!have_locale("de_DE.UTF-8")) {
		tap_skip(6, "locale de_DE.UTF-8 is not installed");
	} else {
		i18n_init();
		is_str(fmt_int(1234567), "1.234.567", "de: grouped with dots");
		is_str(fmt_int(999), "999", "de: small numbers as they are");
		is_str(fmt_dec(-1234.5, 1), "-1.234,5", "de: decimal comma");
		is_str(time_format_local(t, TIME_MINUTES, when, sizeof(when)), "27.11.2026 09:30",
		       "de: day.month.year");
		is_str(time_format_local(t, TIME_SHORT, when, sizeof(when)), "27.11 09:30",
		       "de: short date without the year");
		ok(strtod("1.5", NULL) == 1.5, "de: strtod still reads a decimal point");
	}
	setenv("LC_ALL", "ru_RU.UTF-8", 1);
	if (!have_locale("ru_RU.UTF-8")) {
		tap_skip(2, "locale ru_RU.UTF-8 is not installed");
	} else {
		i18n_init();
		is_str(fmt_int(1234567), "1 234 567", "ru: grouped with plain spaces");
		is_str(fmt_dec(0.25, 2), "0,25", "ru: decimal comma");
	}
	if (have_locale("ru_RU.UTF-8")) {
		is_str(fmt_col("\xd0\xa2\xd0\x98\xd0\x9f", 5), "\xd0\xa2\xd0\x98\xd0\x9f  ",
		       "ru: a 3-letter Cyrillic heading padded to 5 columns, not 5 bytes");
		is_str(fmt_col("\xd0\xa2\xd0\x98\xd0\x9f", -4), " \xd0\xa2\xd0\x98\xd0\x9f",
		       "ru: right-aligned");
		is_str(fmt_col("\xd0\xa2\xd0\x98\xd0\x9f", 2), "\xd0\xa2\xd0\x98",
		       "ru: cut at a character, not inside one");
		is_int((int)text_width("\xd0\xa2\xd0\x98\xd0\x9f"), 3, "ru: width of three letters");
	} else {
		tap_skip(4, "locale ru_RU.UTF-8 is not installed");
	}
	setenv("LC_ALL", "C", 1);
	i18n_init();
	is_str(fmt_col("abc", 5), "abc  ", "C: padded on the right");
	is_str(fmt_col("abc", -5), "  abc", "C: padded on the left");
	is_str(fmt_col("abcdef", 4), "abcd", "C: cut");
	is_str(fmt_col(NULL, 2), "  ", "NULL is empty");
}

int main(void)
{
	test_time();
	test_strings();
	test_locale_formats();
	return tap_done();
}
