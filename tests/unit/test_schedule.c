/* test_schedule.c - schedule expressions: parsing, errors, next and prev
 * fire times in UTC and across daylight saving changes. */
#include "config.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "util/schedule.h"

#define MIN_MS (60 * 1000LL)

static void set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

/* A zone's data file is there (the DST tests need real zone rules). */
static int have_zone(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", name);
	return access(path, R_OK) == 0;
}

static int64_t T(const char *iso)
{
	int64_t ms = 0;

	if (!time_parse(iso, &ms)) {
		printf("# bad time in test: %s\n", iso);
		abort();
	}
	return ms;
}

static struct schedule P(const char *expr)
{
	struct schedule s;
	struct error err;

	err_clear(&err);
	if (schedule_parse(expr, &s, &err) < 0) {
		printf("# unexpected parse error for \"%s\": %s\n", expr, err.msg);
		memset(&s, 0, sizeof(s));
	}
	return s;
}

/* schedule_next(expr, after) is want (both ISO, or want NULL for 0). */
static void check_next(const char *expr, const char *after, const char *want)
{
	struct schedule s = P(expr);
	int64_t got = schedule_next(&s, T(after)), w = want ? T(want) : 0;
	char buf[32];

	if (!tap_ok(got == w, __FILE__, __LINE__, "next \"%s\" after %s is %s", expr, after,
	            want ? want : "none"))
		printf("#   got %s\n", got ? time_format_iso(got, buf) : "none");
}

static void check_prev(const char *expr, const char *at, const char *want)
{
	struct schedule s = P(expr);
	int64_t got = schedule_prev(&s, T(at)), w = want ? T(want) : 0;
	char buf[32];

	if (!tap_ok(got == w, __FILE__, __LINE__, "prev \"%s\" at %s is %s", expr, at,
	            want ? want : "none"))
		printf("#   got %s\n", got ? time_format_iso(got, buf) : "none");
}

static void check_error(const char *expr, const char *want)
{
	struct schedule s;
	struct error err;
	int rc;

	err_clear(&err);
	rc = schedule_parse(expr, &s, &err);
	ok(rc < 0 && err.kind == ERRK_CONFIG, "\"%s\" refused as a config error", expr);
	like(err.msg, want, "\"%s\" message", expr);
}

static void test_parse(void)
{
	struct schedule s;
	struct error err;
	uint64_t every5 = 0;
	int i;

	s = P("off");
	is_int(s.kind, SCHED_OFF, "off");
	s = P("  OFF ");
	is_int(s.kind, SCHED_OFF, "off, any case and blanks");

	s = P("every 30m");
	is_int(s.kind, SCHED_EVERY, "every: kind");
	is_int(s.every_ms, 30 * MIN_MS, "every 30m");
	is_int(P("every 90s").every_ms, 90000, "every 90s");
	is_int(P("every 2h").every_ms, 2 * 3600 * 1000LL, "every 2h");
	is_int(P("Every 5M").every_ms, 5 * MIN_MS, "every: any case");

	s = P("daily 03:00");
	is_int(s.kind, SCHED_CRON, "daily is cron");
	ok(s.minutes == 1ULL && s.hours == 1u << 3, "daily 03:00: minute 0, hour 3");
	ok(s.mdays == 0xfffffffeu && s.months == 0x1ffe && s.wdays == 0x7f, "daily: every day");
	ok(s.mday_star && s.wday_star, "daily: day fields are stars");
	s = P("daily 3:07");
	ok(s.minutes == 1ULL << 7 && s.hours == 1u << 3, "daily 3:07 with a one-digit hour");
	s = P("daily 23:59");
	ok(s.minutes == 1ULL << 59 && s.hours == 1u << 23, "daily 23:59");

	s = P("hourly :15");
	ok(s.kind == SCHED_CRON && s.minutes == 1ULL << 15 && s.hours == 0xffffffu, "hourly :15");
	s = P("hourly 45");
	ok(s.minutes == 1ULL << 45, "hourly 45");

	for (i = 0; i < 60; i += 5)
		every5 |= 1ULL << i;
	s = P("0-59/5 * * * *");
	ok(s.kind == SCHED_CRON && s.minutes == every5, "cron range with step");
	ok(s.hours == 0xffffffu && s.mdays == 0xfffffffeu && s.months == 0x1ffe && s.wdays == 0x7f,
	   "cron stars");
	ok(s.mday_star && s.wday_star, "cron star flags");
	s = P("*/5 */6 1-10/3 */4 *");
	ok(s.minutes == every5, "star with step");
	ok(s.hours == ((1u << 0) | (1u << 6) | (1u << 12) | (1u << 18)), "hours */6");
	ok(s.mdays == ((1u << 1) | (1u << 4) | (1u << 7) | (1u << 10)), "days 1-10/3");
	ok(s.months == ((1u << 1) | (1u << 5) | (1u << 9)), "months */4 from 1");
	ok(!s.mday_star, "1-10/3 is a restricted day-of-month");
	s = P("0 0 */2 * 1");
	ok(s.mday_star && !s.wday_star, "*/n day-of-month counts as a star (Vixie)");
	s = P("5/15 * * * *");
	ok(s.minutes == ((1ULL << 5) | (1ULL << 20) | (1ULL << 35) | (1ULL << 50)), "a/n = a-max/n");
	s = P("1,2,30-32 9-17 * * *");
	ok(s.minutes == ((1ULL << 1) | (1ULL << 2) | (1ULL << 30) | (1ULL << 31) | (1ULL << 32)),
	   "lists of values and ranges");
	ok(s.hours == 0x3fe00u, "hours 9-17");
	s = P("0 9 * jan-mar,DEC mon-fri");
	ok(s.months == ((1u << 1) | (1u << 2) | (1u << 3) | (1u << 12)), "month names");
	ok(s.wdays == 0x3e, "day names mon-fri");
	ok(!s.wday_star && s.mday_star, "restricted day-of-week flag");
	is_int(P("0 0 * * 7").wdays, 1, "7 is Sunday");
	is_int(P("0 0 * * 0,7").wdays, 1, "0 and 7 are the same day");
	is_int(P("0 0 * * 5-7").wdays, 0x61, "5-7 is Fri, Sat, Sun");
	is_int(P("0 0 * * fri-sun").wdays, 0x61, "fri-sun wraps to Sunday");
	is_int(P("0 0 * * */2").wdays, 0x55, "*/2 days of week: Sun Tue Thu Sat");
	s = P("\t0   12  * *\t*  ");
	ok(s.kind == SCHED_CRON && s.hours == 1u << 12, "blanks and tabs between fields");
	s = P("@daily");
	ok(s.kind == SCHED_CRON && s.minutes == 1 && s.hours == 1, "@daily");
	s = P("@weekly");
	ok(s.wdays == 1 && !s.wday_star, "@weekly is Sunday");
	s = P("0 0 29 2 *");
	ok(s.mdays == 1u << 29 && s.months == 1u << 2, "leap day parses");

	/* a failed parse leaves *out alone */
	s = P("every 1h");
	err_clear(&err);
	ok(schedule_parse("every 0h", &s, &err) < 0 && s.every_ms == 3600000, "out untouched on error");
	ok(schedule_parse("every 1m", NULL, NULL) == 0, "NULL out and err allowed (check only)");
	ok(schedule_parse(NULL, NULL, NULL) < 0, "NULL expression refused");
}

static void test_errors(void)
{
	struct schedule s;
	struct error err;

	check_error("", "empty");
	check_error("   ", "empty");
	check_error("sometimes", "expected \"every 30m\", \"daily 03:00\", \"hourly :15\"");
	check_error("off now", "expected \"every 30m\"");
	check_error("every", "needs a number and a unit");
	check_error("every m", "needs a number and a unit");
	check_error("every 0m", "greater than 0");
	check_error("every 30", "no unit");
	check_error("every 30x", "unit must be s, m or h");
	check_error("every 30 minutes", "unit must be s, m or h");
	check_error("every -5m", "needs a number");
	check_error("every 9000h", "longer than a year");
	check_error("daily", "HH:MM");
	check_error("daily 3", "HH:MM");
	check_error("daily 03:0", "HH:MM");
	check_error("daily 03:00pm", "HH:MM");
	check_error("daily 25:00", "hour 25 is out of range 0-23");
	check_error("daily 03:60", "minute 60 is out of range 0-59");
	check_error("hourly", ":MM");
	check_error("hourly :5x", ":MM");
	check_error("hourly :75", "minute 75 is out of range 0-59");
	check_error("@often", "unknown \"@often\"");

	err_clear(&err);
	ok(schedule_parse("0 25 * * *", &s, &err) < 0, "hour 25 refused");
	is_str(err.msg, "cron field 2 (hour): 25 is out of range 0-23", "exact message names field");
	check_error("60 * * * *", "cron field 1 (minute): 60 is out of range 0-59");
	check_error("* * 0 * *", "cron field 3 (day-of-month): 0 is out of range 1-31");
	check_error("* * 32 * *", "cron field 3 (day-of-month): 32 is out of range 1-31");
	check_error("* * * 13 *", "cron field 4 (month): 13 is out of range 1-12");
	check_error("* * * foo *", "cron field 4 (month): \"foo\" is not a number or a month name");
	check_error("* * * * 8", "cron field 5 (day-of-week): 8 is out of range 0-7");
	check_error("* * * * funday",
	            "cron field 5 (day-of-week): \"funday\" is not a number or a day name");
	check_error("1x * * * *", "cron field 1 (minute): \"1x\" is not a number");
	check_error("jan * * * *", "expected");     /* a minute never starts with a letter */
	check_error("0 jan * * *", "cron field 2 (hour): \"jan\" is not a number");
	check_error("5-1 * * * *", "cron field 1 (minute): range 5-1 goes backwards");
	check_error("*/0 * * * *", "cron field 1 (minute): the step after \"/\" must be at least 1");
	check_error("*/ * * * *", "cron field 1 (minute): the step after \"/\" in \"*/\" is not a number");
	check_error("*/60 * * * *", "cron field 1 (minute): the step 60 is larger than the range 0-59");
	check_error("1,,2 * * * *", "cron field 1 (minute): empty item in \"1,,2\"");
	check_error("1, * * * *", "cron field 1 (minute): empty item");
	check_error("1- * * * *", "cron field 1 (minute): a number is missing");
	check_error("*x * * * *", "cron field 1 (minute): unexpected \"x\" in \"*x\"");
	check_error("* * * *", "5 fields (minute hour day-of-month month day-of-week), this one has 4");
	check_error("* * * * * *", "this one has more");
	check_error("0 0 30 2 *", "never run");
	check_error("0 0 31 4,6,9,11 *", "never run");
}

static void test_every(void)
{
	struct schedule s = P("every 7m");

	set_tz("UTC");
	check_next("every 30m", "2026-05-10T10:07:00Z", "2026-05-10T10:30:00Z");
	check_next("every 30m", "2026-05-10T10:30:00Z", "2026-05-10T11:00:00Z");
	check_next("every 30m", "2026-05-10T10:29:59.999Z", "2026-05-10T10:30:00Z");
	check_next("every 30m", "2026-05-10T23:45:00Z", "2026-05-11T00:00:00Z");
	check_prev("every 30m", "2026-05-10T10:30:00Z", "2026-05-10T10:30:00Z");
	check_prev("every 30m", "2026-05-10T10:29:59.999Z", "2026-05-10T10:00:00Z");
	check_next("every 90s", "2026-05-10T10:00:00Z", "2026-05-10T10:01:30Z");
	check_next("every 2h", "2026-05-10T10:00:00Z", "2026-05-10T12:00:00Z");
	is_int(schedule_next(&s, 0), 7 * MIN_MS, "every 7m counts from the epoch");
	is_int(schedule_next(&s, 1), 7 * MIN_MS, "every 7m after 1 ms");
	is_int(schedule_prev(&s, 7 * MIN_MS + 5), 7 * MIN_MS, "every 7m prev");
	/* epoch aligned, not local: a zone with a half-hour offset changes nothing */
	set_tz("Asia/Kolkata");
	check_next("every 1h", "2026-05-10T10:20:00Z", "2026-05-10T11:00:00Z");
	set_tz("UTC");
}

static void test_off(void)
{
	struct schedule s = P("off");

	is_int(schedule_next(&s, T("2026-05-10T10:00:00Z")), 0, "off never fires (next)");
	is_int(schedule_prev(&s, T("2026-05-10T10:00:00Z")), 0, "off never fired (prev)");
	is_int(schedule_next(NULL, 5), 0, "NULL schedule");
}

static void test_cron_utc(void)
{
	set_tz("UTC");
	/* daily and hourly, across midnight, month end and year end */
	check_next("daily 03:00", "2026-05-10T02:59:59Z", "2026-05-10T03:00:00Z");
	check_next("daily 03:00", "2026-05-10T03:00:00Z", "2026-05-11T03:00:00Z");
	check_next("daily 03:00", "2026-05-10T04:00:00Z", "2026-05-11T03:00:00Z");
	check_prev("daily 03:00", "2026-05-10T03:00:00Z", "2026-05-10T03:00:00Z");
	check_prev("daily 03:00", "2026-05-10T02:59:59.999Z", "2026-05-09T03:00:00Z");
	check_next("30 23 * * *", "2026-05-10T23:45:00Z", "2026-05-11T23:30:00Z");
	check_next("daily 00:00", "2026-05-10T23:59:30Z", "2026-05-11T00:00:00Z");
	check_prev("daily 23:30", "2026-05-11T00:10:00Z", "2026-05-10T23:30:00Z");
	check_next("hourly :15", "2026-05-10T10:15:00Z", "2026-05-10T11:15:00Z");
	check_next("hourly :15", "2026-05-10T10:14:59.500Z", "2026-05-10T10:15:00Z");
	check_next("hourly :15", "2026-04-30T23:20:00Z", "2026-05-01T00:15:00Z");
	check_next("hourly :15", "2026-12-31T23:59:00Z", "2027-01-01T00:15:00Z");
	check_prev("hourly :15", "2027-01-01T00:14:00Z", "2026-12-31T23:15:00Z");
	check_next("*/5 * * * *", "2026-05-10T10:07:13Z", "2026-05-10T10:10:00Z");
	check_next("* * * * *", "2026-05-10T10:07:13Z", "2026-05-10T10:08:00Z");
	check_prev("* * * * *", "2026-05-10T10:07:13Z", "2026-05-10T10:07:00Z");

	/* month ends */
	check_next("0 12 31 * *", "2026-04-01T00:00:00Z", "2026-05-31T12:00:00Z");
	check_prev("0 12 31 * *", "2026-05-01T00:00:00Z", "2026-03-31T12:00:00Z");
	check_next("0 0 30 * *", "2026-01-30T00:00:00Z", "2026-03-30T00:00:00Z");
	check_next("0 0 1 * *", "2026-12-15T00:00:00Z", "2027-01-01T00:00:00Z");
	check_next("0 0 1 jan,jul *", "2026-02-01T00:00:00Z", "2026-07-01T00:00:00Z");
	check_prev("0 0 1 jan,jul *", "2026-02-01T00:00:00Z", "2026-01-01T00:00:00Z");

	/* leap day */
	check_next("0 0 29 2 *", "2025-01-01T00:00:00Z", "2028-02-29T00:00:00Z");
	check_next("0 0 29 2 *", "2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z");
	check_prev("0 0 29 2 *", "2027-06-01T00:00:00Z", "2024-02-29T00:00:00Z");
	check_prev("0 0 29 2 *", "2028-02-29T00:00:00Z", "2028-02-29T00:00:00Z");
	check_next("0 0 28 2 *", "2028-02-28T00:00:00Z", "2029-02-28T00:00:00Z");
	/* 2100 is no leap year: the next leap day is more than 5 years away */
	check_next("0 0 29 2 *", "2097-03-01T00:00:00Z", NULL);
	check_prev("0 0 29 2 *", "2103-12-31T00:00:00Z", NULL);
	check_next("0 0 29 2 *", "2399-03-01T00:00:00Z", "2400-02-29T00:00:00Z");

	/* day-of-month OR day-of-week when both are restricted */
	check_next("0 0 13 * 5", "2026-03-01T00:00:00Z", "2026-03-06T00:00:00Z");  /* a Friday */
	check_next("0 0 13 * 5", "2026-03-06T00:00:00Z", "2026-03-13T00:00:00Z");  /* both */
	check_next("0 0 13 * 5", "2026-04-10T00:00:00Z", "2026-04-13T00:00:00Z");  /* 13th, a Monday */
	check_next("0 0 13 * 5", "2026-04-13T00:00:00Z", "2026-04-17T00:00:00Z");  /* a Friday */
	check_prev("0 0 13 * 5", "2026-04-16T00:00:00Z", "2026-04-13T00:00:00Z");
	/* ... but AND when one of them starts with a star */
	check_next("0 0 */2 * 1", "2026-04-01T00:00:00Z", "2026-04-13T00:00:00Z");  /* odd Monday */
	check_next("0 0 * * 1", "2026-04-01T00:00:00Z", "2026-04-06T00:00:00Z");
	check_next("0 9 * * mon-fri", "2026-04-04T10:00:00Z", "2026-04-06T09:00:00Z");
	check_next("0 0 * * 7", "2026-04-01T00:00:00Z", "2026-04-05T00:00:00Z");
	check_next("0 0 * * 0", "2026-04-01T00:00:00Z", "2026-04-05T00:00:00Z");
	check_next("15 14 1 * *", "2026-04-01T14:15:00Z", "2026-05-01T14:15:00Z");
	check_next("0 22 * * 1-5", "2026-04-03T22:00:00Z", "2026-04-06T22:00:00Z");
	check_next("@yearly", "2026-04-03T22:00:00Z", "2027-01-01T00:00:00Z");
	check_next("@monthly", "2026-04-03T22:00:00Z", "2026-05-01T00:00:00Z");

	/* a rare schedule near the end of the window (the search skips, it does
	 * not scan minutes: this must be instant) */
	check_next("59 23 31 12 *", "2026-01-01T00:00:00Z", "2026-12-31T23:59:00Z");
	check_prev("0 0 1 1 *", "2026-12-31T23:59:00Z", "2026-01-01T00:00:00Z");
}

/* Europe/Berlin 2026: clocks go 02:00 CET -> 03:00 CEST on 29 March (01:00Z)
 * and 03:00 CEST -> 02:00 CET on 25 October (01:00Z). */
static void test_dst_berlin(void)
{
	if (!have_zone("Europe/Berlin")) {
		ok(1, "# SKIP no zoneinfo for Europe/Berlin");
		return;
	}
	set_tz("Europe/Berlin");

	/* spring: 02:00-02:59 do not exist that night and are skipped */
	check_next("30 2 * * *", "2026-03-28T03:00:00+01:00", "2026-03-30T02:30:00+02:00");
	check_prev("30 2 * * *", "2026-03-29T12:00:00+02:00", "2026-03-28T02:30:00+01:00");
	check_next("daily 03:00", "2026-03-28T12:00:00+01:00", "2026-03-29T03:00:00+02:00");
	check_next("daily 02:00", "2026-03-28T12:00:00+01:00", "2026-03-30T02:00:00+02:00");
	check_next("hourly :15", "2026-03-29T01:20:00+01:00", "2026-03-29T03:15:00+02:00");
	check_next("daily 01:59", "2026-03-28T12:00:00+01:00", "2026-03-29T01:59:00+01:00");
	check_next("0 3 29 3 *", "2026-01-01T00:00:00+01:00", "2026-03-29T03:00:00+02:00");
	check_prev("hourly :15", "2026-03-29T03:14:00+02:00", "2026-03-29T01:15:00+01:00");
	check_next("daily 03:00", "2026-05-10T12:00:00+02:00", "2026-05-11T03:00:00+02:00");
	/* every: counted on the epoch, no jump */
	check_next("every 30m", "2026-03-29T00:50:00Z", "2026-03-29T01:00:00Z");

	/* autumn: 02:00-02:59 happen twice and fire once, the first time */
	check_next("30 2 * * *", "2026-10-24T12:00:00+02:00", "2026-10-25T02:30:00+02:00");
	check_next("30 2 * * *", "2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00");
	check_next("30 2 * * *", "2026-10-25T02:10:00+01:00", "2026-10-26T02:30:00+01:00");
	check_prev("30 2 * * *", "2026-10-25T02:40:00+01:00", "2026-10-25T02:30:00+02:00");
	check_prev("30 2 * * *", "2026-10-25T02:20:00+01:00", "2026-10-25T02:30:00+02:00");
	check_next("hourly :15", "2026-10-25T02:15:00+02:00", "2026-10-25T03:15:00+01:00");
	check_next("hourly :15", "2026-10-25T02:20:00+01:00", "2026-10-25T03:15:00+01:00");
	check_next("daily 03:00", "2026-10-24T12:00:00+02:00", "2026-10-25T03:00:00+01:00");
	/* in the second pass every minute of that hour already fired */
	check_prev("* * * * *", "2026-10-25T02:30:00+01:00", "2026-10-25T02:59:00+02:00");
	check_next("* * * * *", "2026-10-25T02:59:00+02:00", "2026-10-25T03:00:00+01:00");
	check_next("* * * * *", "2026-10-25T02:30:00+01:00", "2026-10-25T03:00:00+01:00");
	check_next("*/20 * * * *", "2026-10-25T01:50:00+02:00", "2026-10-25T02:00:00+02:00");
	set_tz("UTC");
}

/* ---- against a brute-force reference ----
 * The reference walks every minute and fires when the wall clock matches
 * and shows a wall time later than any shown before (a repeated hour fires
 * once; a skipped one never). */

static bool ref_match(const struct schedule *s, const struct tm *tm)
{
	bool md, wd;

	if (!((s->minutes >> tm->tm_min) & 1) || !((s->hours >> tm->tm_hour) & 1) ||
	    !((s->months >> (tm->tm_mon + 1)) & 1))
		return false;
	md = (s->mdays >> tm->tm_mday) & 1;
	wd = (s->wdays >> tm->tm_wday) & 1;
	return (s->mday_star || s->wday_star) ? (md && wd) : (md || wd);
}

static int64_t ref_wall_key(const struct tm *tm)
{
	return ((((int64_t)tm->tm_year * 13 + tm->tm_mon) * 32 + tm->tm_mday) * 24 + tm->tm_hour) * 60 +
	       tm->tm_min;
}

/* Compares schedule_next and schedule_prev with the reference over
 * [from, from + minutes), stepping every minute and at odd offsets. */
static void check_reference(const char *expr, const char *from, int minutes)
{
	struct schedule s = P(expr);
	int64_t start = T(from) / 1000, *fires = xmalloc(sizeof(int64_t) * ((size_t)minutes + 1));
	int64_t maxkey = 0;
	int nf = 0, i, bad = 0, j;
	char buf[32];

	/* the max wall key must include the time before the window */
	for (i = -240; i < minutes; i++) {
		time_t t = (time_t)(start + (int64_t)i * 60);
		struct tm tm;
		int64_t key;

		localtime_r(&t, &tm);
		key = ref_wall_key(&tm);
		if (key > maxkey) {
			maxkey = key;
			if (i >= 0 && ref_match(&s, &tm))
				fires[nf++] = (int64_t)t * 1000;
		}
	}
	j = 0;
	for (i = 0; i < minutes && !bad; i++) {
		int64_t t = (start + (int64_t)i * 60) * 1000, odd = t + 17123;
		int64_t n = schedule_next(&s, t), n2 = schedule_next(&s, odd), p = schedule_prev(&s, odd);

		while (j < nf && fires[j] <= t)
			j++;
		if (j < nf && n != fires[j]) {
			printf("# \"%s\": next after %s is %s, reference %lld\n", expr,
			       time_format_iso(t, buf), n ? "wrong" : "none", (long long)fires[j]);
			bad = 1;
		}
		if (n && schedule_prev(&s, n) != n) {
			printf("# \"%s\": prev(next(%s)) != next\n", expr, time_format_iso(t, buf));
			bad = 1;
		}
		if (n && !(n > t && schedule_prev(&s, t) < n && schedule_next(&s, schedule_prev(&s, t)) == n)) {
			printf("# \"%s\": next/prev order broken at %s\n", expr, time_format_iso(t, buf));
			bad = 1;
		}
		if (!(n2 > odd && p <= odd && (p == 0 || schedule_next(&s, p) == n2))) {
			printf("# \"%s\": inconsistent at %s + 17.123 s\n", expr, time_format_iso(t, buf));
			bad = 1;
		}
	}
	ok(!bad && nf > 0, "\"%s\" from %s matches the reference (%d fires)", expr, from, nf);
	free(fires);
}

static void test_reference(void)
{
	static const char *const exprs[] = {
		"* * * * *", "*/7 * * * *", "hourly :15", "daily 02:30", "daily 03:00", "daily 01:59",
		"0 2 * * *", "30 0 * * *", "0,30 1-3 * * *", "0 0 1 * 6", "0 */2 * * sun", "0 0 */2 * 0,6",
	};
	size_t i;

	set_tz("UTC");
	for (i = 0; i < ARRAY_SIZE(exprs); i++)
		check_reference(exprs[i], "2026-02-27T20:00:00Z", 3 * 24 * 60);
	if (have_zone("Europe/Berlin")) {
		set_tz("Europe/Berlin");
		for (i = 0; i < ARRAY_SIZE(exprs); i++) {
			check_reference(exprs[i], "2026-03-27T00:00:00Z", 3 * 24 * 60);
			check_reference(exprs[i], "2026-10-23T00:00:00Z", 3 * 24 * 60);
		}
	} else {
		ok(1, "# SKIP no zoneinfo for Europe/Berlin");
	}
	/* a zone whose clocks jumped at midnight (Brazil, 4 November 2018) */
	if (have_zone("America/Sao_Paulo")) {
		set_tz("America/Sao_Paulo");
		check_next("30 0 * * *", "2018-11-03T12:00:00-03:00", "2018-11-05T00:30:00-02:00");
		check_next("daily 00:00", "2018-11-03T12:00:00-03:00", "2018-11-05T00:00:00-02:00");
		check_next("0 1 * * *", "2018-11-03T12:00:00-03:00", "2018-11-04T01:00:00-02:00");
		for (i = 0; i < ARRAY_SIZE(exprs); i++)
			check_reference(exprs[i], "2018-11-03T00:00:00Z", 2 * 24 * 60);
	} else {
		ok(1, "# SKIP no zoneinfo for America/Sao_Paulo");
	}
	set_tz("UTC");
}

int main(void)
{
	set_tz("UTC");
	test_parse();
	test_errors();
	test_every();
	test_off();
	test_cron_utc();
	test_dst_berlin();
	test_reference();
	return tap_done();
}
