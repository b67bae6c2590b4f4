/* test_util.c - strings, buffers, errors and time parsing. */
#include "config.h"

#include <stdlib.h>

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

int main(void)
{
	test_time();
	test_strings();
	return tap_done();
}
