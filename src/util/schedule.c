/* schedule.c - parsing schedule expressions and finding their fire times.
 *
 * "every N" schedules are plain arithmetic on the epoch.  Cron schedules
 * ("daily" and "hourly" become cron fields) are searched in local wall-clock
 * time: the search skips whole months, days and hours that cannot match, so
 * even a schedule that fires once a year costs a few hundred steps.  A wall
 * time is turned into an instant by trying the UTC offsets in force around
 * it and keeping the ones that give that wall time back:
 *   - none does: the time falls into a DST gap and is skipped;
 *   - two do: the time is repeated (DST ends) and fires once, at the first
 *     of the two instants.
 * So the fire times are the first instants of the matching wall times, and
 * they increase with the wall time.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/schedule.h"

#define MS_PER_S 1000LL
#define SEARCH_YEARS 5                     /* give up after this many years */
#define MAX_EVERY_MS (366LL * 24 * 3600 * MS_PER_S)

/* ---------------------------------------------------------------- parsing */

enum cron_field { CF_MINUTE, CF_HOUR, CF_MDAY, CF_MONTH, CF_WDAY, CF_COUNT };

struct field_def {
	const char *name;
	int min, max;
	const char *const *names;   /* 3-letter names for min.., or NULL */
};

static const char *const month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", NULL
};
static const char *const wday_names[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL
};

static const struct field_def field_defs[CF_COUNT] = {
	{ N_("minute"), 0, 59, NULL },
	{ N_("hour"), 0, 23, NULL },
	{ N_("day-of-month"), 1, 31, NULL },
	{ N_("month"), 1, 12, month_names },
	{ N_("day-of-week"), 0, 7, wday_names },   /* 7 is Sunday too */
};

static int field_err(struct error *err, int f, const char *fmt, ...) PRINTF_LIKE(3, 4);

/* Sets err to "cron field N (name): <fmt...>". */
static int field_err(struct error *err, int f, const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	return err_set(err, ERRK_CONFIG, _("cron field %d (%s): %s"), f + 1,
	               _(field_defs[f].name), detail);
}

/* Reads a number or (where the field has them) a name at *pp; advances *pp.
 * Returns 0, or -1 with err set. */
static int field_value(int f, const char **pp, int *out, struct error *err)
{
	const struct field_def *d = &field_defs[f];
	const char *p = *pp;
	char tok[32];
	size_t n = 0;

	while (p[n] && p[n] != ',' && p[n] != '-' && p[n] != '/')
		n++;
	if (n == 0)
		return field_err(err, f, _("a number is missing"));
	if (n >= sizeof(tok))
		n = sizeof(tok) - 1;
	memcpy(tok, p, n);
	tok[n] = '\0';
	if (isdigit((unsigned char)tok[0])) {
		long v = 0;
		size_t i;

		for (i = 0; i < n; i++) {
			if (!isdigit((unsigned char)tok[i]))
				return field_err(err, f, _("\"%s\" is not a number"), tok);
			if (v < 1000)
				v = v * 10 + (tok[i] - '0');
		}
		if (v < d->min || v > d->max)
			return field_err(err, f, _("%s is out of range %d-%d"), tok, d->min, d->max);
		*out = (int)v;
	} else if (d->names) {
		int i;

		for (i = 0; d->names[i]; i++)
			if (str_caseeq(tok, d->names[i]))
				break;
		if (!d->names[i])
			return f == CF_MONTH
			     ? field_err(err, f, _("\"%s\" is not a number or a month name (jan-dec)"), tok)
			     : field_err(err, f, _("\"%s\" is not a number or a day name (sun-sat)"), tok);
		*out = d->min + i;
	} else {
		return field_err(err, f, _("\"%s\" is not a number"), tok);
	}
	*pp = p + n;
	return 0;
}

/* Parses one comma-separated cron field into a bit set (bit i = value i). */
static int field_parse(int f, const char *text, uint64_t *bits, bool *star, struct error *err)
{
	const struct field_def *d = &field_defs[f];
	const char *p = text;

	*bits = 0;
	/* Like Vixie cron: a field that starts with "*" ("*", "*\/2") counts as
	 * unrestricted for the day-of-month/day-of-week rule. */
	*star = text[0] == '*';
	for (;;) {
		int lo, hi, step = 1, v;

		if (*p == ',' || *p == '\0')
			return field_err(err, f, _("empty item in \"%s\""), text);
		if (*p == '*') {
			lo = d->min;
			hi = d->max;
			p++;
		} else {
			if (field_value(f, &p, &lo, err) < 0)
				return -1;
			hi = lo;
			if (*p == '-') {
				p++;
				if (field_value(f, &p, &hi, err) < 0)
					return -1;
				if (f == CF_WDAY && hi == 0 && lo > 0)
					hi = 7;            /* "fri-sun" */
				if (hi < lo)
					return field_err(err, f, _("range %d-%d goes backwards"), lo, hi);
			} else if (*p == '/') {
				hi = d->max;       /* "5/15" means 5-max/15 */
			}
		}
		if (*p == '/') {
			long sv = 0;
			const char *s = ++p;

			while (isdigit((unsigned char)*p)) {
				if (sv < 1000)
					sv = sv * 10 + (*p - '0');
				p++;
			}
			if (p == s || (*p != ',' && *p != '\0'))
				return field_err(err, f, _("the step after \"/\" in \"%s\" is not a number"),
				                 text);
			if (sv < 1)
				return field_err(err, f, _("the step after \"/\" must be at least 1"));
			if (sv > d->max)
				return field_err(err, f, _("the step %ld is larger than the range %d-%d"), sv,
				                 d->min, d->max);
			step = (int)sv;
		}
		if (*p != ',' && *p != '\0') {
			char c[2] = { *p, '\0' };

			return field_err(err, f, _("unexpected \"%s\" in \"%s\""), c, text);
		}
		for (v = lo; v <= hi; v += step)
			*bits |= 1ULL << (f == CF_WDAY && v == 7 ? 0 : v);
		if (*p == '\0')
			break;
		p++;
	}
	return 0;
}

static const int month_days[13] = { 0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

/* A restricted day-of-month with an unrestricted day-of-week must meet at
 * least one chosen month ("0 0 30 2 *" never fires). */
static int cron_check_reachable(const struct schedule *s, struct error *err)
{
	int m, d;

	if (s->mday_star || !s->wday_star)
		return 0;
	for (m = 1; m <= 12; m++) {
		if (!(s->months & (1u << m)))
			continue;
		for (d = 1; d <= month_days[m]; d++)
			if (s->mdays & (1u << d))
				return 0;
	}
	return err_set(err, ERRK_CONFIG,
	               _("cron fields 3 and 4 (day-of-month, month): none of the chosen days "
	                 "exists in the chosen months, so it would never run"));
}

static int cron_parse(const char *expr, struct schedule *out, struct error *err)
{
	char *copy = xstrdup(expr), *save = NULL, *tok;
	char *fields[CF_COUNT + 1];
	uint64_t bits[CF_COUNT];
	bool star[CF_COUNT];
	int n = 0, i, rc = -1;

	for (tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (n == CF_COUNT) {
			n++;
			break;
		}
		fields[n++] = tok;
	}
	if (n != CF_COUNT) {
		if (n > CF_COUNT)
			err_set(err, ERRK_CONFIG,
			        _("a cron expression has 5 fields (minute hour day-of-month month "
			          "day-of-week), this one has more"));
		else
			err_set(err, ERRK_CONFIG,
			        _("a cron expression has 5 fields (minute hour day-of-month month "
			          "day-of-week), this one has %d"), n);
		goto out;
	}
	for (i = 0; i < CF_COUNT; i++)
		if (field_parse(i, fields[i], &bits[i], &star[i], err) < 0)
			goto out;
	memset(out, 0, sizeof(*out));
	out->kind = SCHED_CRON;
	out->minutes = bits[CF_MINUTE];
	out->hours = (uint32_t)bits[CF_HOUR];
	out->mdays = (uint32_t)bits[CF_MDAY];
	out->months = (uint16_t)bits[CF_MONTH];
	out->wdays = (uint8_t)bits[CF_WDAY];
	out->mday_star = star[CF_MDAY];
	out->wday_star = star[CF_WDAY];
	rc = cron_check_reachable(out, err);
out:
	free(copy);
	return rc;
}

/* A cron schedule that fires at minute `min` of the hours in `hours`, every day. */
static void cron_fixed(struct schedule *out, int min, uint32_t hours)
{
	memset(out, 0, sizeof(*out));
	out->kind = SCHED_CRON;
	out->minutes = 1ULL << min;
	out->hours = hours;
	out->mdays = 0xfffffffeu;          /* 1-31 */
	out->months = 0x1ffe;              /* 1-12 */
	out->wdays = 0x7f;
	out->mday_star = out->wday_star = true;
}

/* Reads 1-2 digits (want_two: exactly 2); -1 when absent. */
static int read_2digits(const char **pp, bool want_two)
{
	const char *p = *pp;
	int v;

	if (!isdigit((unsigned char)p[0]))
		return -1;
	v = p[0] - '0';
	if (isdigit((unsigned char)p[1])) {
		v = v * 10 + (p[1] - '0');
		p += 2;
	} else {
		if (want_two)
			return -1;
		p++;
	}
	*pp = p;
	return v;
}

static int parse_every(const char *arg, struct schedule *out, struct error *err)
{
	const char *p = arg;
	int64_t n = 0, unit;

	if (!isdigit((unsigned char)*p))
		return err_set(err, ERRK_CONFIG,
		               _("\"every\" needs a number and a unit: \"every 90s\", \"every 30m\", "
		                 "\"every 2h\""));
	while (isdigit((unsigned char)*p)) {
		if (n < 100000000)
			n = n * 10 + (*p - '0');
		p++;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if ((*p == 's' || *p == 'S') && p[1] == '\0')
		unit = MS_PER_S;
	else if ((*p == 'm' || *p == 'M') && p[1] == '\0')
		unit = 60 * MS_PER_S;
	else if ((*p == 'h' || *p == 'H') && p[1] == '\0')
		unit = 3600 * MS_PER_S;
	else if (*p == '\0')
		return err_set(err, ERRK_CONFIG,
		               _("\"every %s\" has no unit: add s, m or h (\"every 30m\")"), arg);
	else
		return err_set(err, ERRK_CONFIG,
		               _("\"every %s\": the unit must be s, m or h (\"every 30m\")"), arg);
	if (n == 0)
		return err_set(err, ERRK_CONFIG, _("\"every %s\": the interval must be greater than 0"),
		               arg);
	if (n * unit > MAX_EVERY_MS)
		return err_set(err, ERRK_CONFIG,
		               _("\"every %s\": the interval must not be longer than a year"), arg);
	memset(out, 0, sizeof(*out));
	out->kind = SCHED_EVERY;
	out->every_ms = n * unit;
	return 0;
}

static int parse_daily(const char *arg, struct schedule *out, struct error *err)
{
	const char *p = arg;
	int h, m;

	h = read_2digits(&p, false);
	if (h < 0 || *p++ != ':' || (m = read_2digits(&p, true)) < 0 || *p != '\0')
		return err_set(err, ERRK_CONFIG, _("\"daily %s\": the time must be HH:MM (\"daily 03:00\")"),
		               arg);
	if (h > 23)
		return err_set(err, ERRK_CONFIG, _("\"daily %s\": hour %d is out of range 0-23"), arg, h);
	if (m > 59)
		return err_set(err, ERRK_CONFIG, _("\"daily %s\": minute %d is out of range 0-59"), arg,
		               m);
	cron_fixed(out, m, 1u << h);
	return 0;
}

static int parse_hourly(const char *arg, struct schedule *out, struct error *err)
{
	const char *p = arg;
	int m;

	if (*p == ':')
		p++;
	m = read_2digits(&p, false);
	if (m < 0 || *p != '\0')
		return err_set(err, ERRK_CONFIG,
		               _("\"hourly %s\": the minute must be :MM (\"hourly :15\")"), arg);
	if (m > 59)
		return err_set(err, ERRK_CONFIG, _("\"hourly %s\": minute %d is out of range 0-59"), arg,
		               m);
	cron_fixed(out, m, 0xffffffu);
	return 0;
}

/* "@daily" and friends, as in Vixie cron. */
static int parse_macro(const char *word, struct schedule *out, struct error *err)
{
	static const struct {
		const char *name, *cron;
	} macros[] = {
		{ "@yearly", "0 0 1 1 *" }, { "@annually", "0 0 1 1 *" },
		{ "@monthly", "0 0 1 * *" }, { "@weekly", "0 0 * * 0" },
		{ "@daily", "0 0 * * *" },   { "@midnight", "0 0 * * *" },
		{ "@hourly", "0 * * * *" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(macros); i++)
		if (str_caseeq(word, macros[i].name))
			return cron_parse(macros[i].cron, out, err);
	return err_set(err, ERRK_CONFIG,
	               _("unknown \"%s\": use @yearly, @monthly, @weekly, @daily or @hourly"), word);
}

int schedule_parse(const char *expr, struct schedule *out, struct error *err)
{
	char *copy = xstrdup(expr ? expr : ""), *s, *arg;
	struct schedule tmp;
	size_t kw;
	int rc = -1;

	s = str_trim(copy);
	kw = strcspn(s, " \t");
	arg = s + kw;
	while (*arg == ' ' || *arg == '\t')
		arg++;
	if (*s == '\0') {
		err_set(err, ERRK_CONFIG, _("the schedule is empty (use \"off\" for never)"));
	} else if (str_caseeq(s, "off")) {
		memset(&tmp, 0, sizeof(tmp));
		tmp.kind = SCHED_OFF;
		rc = 0;
	} else if (kw == 5 && strncasecmp(s, "every", 5) == 0) {
		rc = parse_every(arg, &tmp, err);
	} else if (kw == 5 && strncasecmp(s, "daily", 5) == 0) {
		rc = parse_daily(arg, &tmp, err);
	} else if (kw == 6 && strncasecmp(s, "hourly", 6) == 0) {
		rc = parse_hourly(arg, &tmp, err);
	} else if (*s == '@' && *arg == '\0') {
		rc = parse_macro(s, &tmp, err);
	} else if (isdigit((unsigned char)*s) || *s == '*') {
		rc = cron_parse(s, &tmp, err);
	} else {
		err_set(err, ERRK_CONFIG,
		        _("expected \"every 30m\", \"daily 03:00\", \"hourly :15\", "
		          "a 5-field cron expression or \"off\""));
	}
	if (rc == 0 && out)
		*out = tmp;
	free(copy);
	return rc;
}

/* ------------------------------------------------------ civil time helpers */

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
	return m == 2 ? (is_leap(y) ? 29 : 28) : month_days[m];
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* A local wall-clock minute. */
struct wall {
	int64_t year;
	int mon;      /* 1-12 */
	int mday;     /* 1-31 */
	int hour;
	int min;
};

/* The wall time read as if it were UTC, in seconds. */
static int64_t wall_seconds(const struct wall *w)
{
	return time_days_from_civil(w->year, w->mon, w->mday) * 86400 + w->hour * 3600 +
	       w->min * 60;
}

/* Local time of t as seconds since the epoch read as if it were UTC. */
static bool local_seconds(int64_t t, int64_t *out)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!localtime_r(&tt, &tm))
		return false;
	*out = time_days_from_civil((int64_t)tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday) * 86400 +
	       tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
	return true;
}

/* The wall-clock minute of instant t (seconds dropped). */
static bool wall_of(int64_t t, struct wall *w)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!localtime_r(&tt, &tm))
		return false;
	w->year = (int64_t)tm.tm_year + 1900;
	w->mon = tm.tm_mon + 1;
	w->mday = tm.tm_mday;
	w->hour = tm.tm_hour;
	w->min = tm.tm_min;
	return true;
}

/* The first instant (seconds) at which the local clock shows w; false when
 * w does not exist (skipped by a DST change).  The UTC offset at the answer
 * lies in the offsets in force within 15 hours either side of w. */
static bool wall_instant(const struct wall *w, int64_t *out)
{
	static const int64_t probes[] = { -15 * 3600, 0, 15 * 3600 };
	int64_t g = wall_seconds(w), offs[ARRAY_SIZE(probes)], best = 0;
	bool found = false;
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(probes); i++) {
		int64_t l;

		offs[i] = INT64_MIN;
		if (!local_seconds(g + probes[i], &l))
			continue;
		offs[i] = l - (g + probes[i]);
		for (j = 0; j < i; j++)
			if (offs[j] == offs[i])
				break;
		if (j < i)
			continue;           /* offset already tried */
		if (local_seconds(g - offs[i], &l) && l == g && (!found || g - offs[i] < best)) {
			best = g - offs[i];
			found = true;
		}
	}
	*out = best;
	return found;
}


/* ------------------------------------------------------- the cron search */

static int weekday(const struct wall *w)
{
	/* 1970-01-01 was a Thursday */
	return (int)((time_days_from_civil(w->year, w->mon, w->mday) % 7 + 11) % 7);
}

/* Does the day of w match (day-of-month, month, day-of-week)?  The two day
 * fields OR when both are restricted, as in cron. */
static bool day_ok(const struct schedule *s, const struct wall *w)
{
	bool md, wd;

	if (w->mday > days_in_month(w->year, w->mon))
		return false;
	md = (s->mdays >> w->mday) & 1;
	wd = (s->wdays >> weekday(w)) & 1;
	if (s->mday_star || s->wday_star)
		return md && wd;
	return md || wd;
}

/* The first bit at or after i (up to max) in bits; -1 when none. */
static int bit_next(uint64_t bits, int i, int max)
{
	for (; i <= max; i++)
		if ((bits >> i) & 1)
			return i;
	return -1;
}

/* The last bit at or before i (down to min) in bits; -1 when none. */
static int bit_prev(uint64_t bits, int i, int min)
{
	for (; i >= min; i--)
		if ((bits >> i) & 1)
			return i;
	return -1;
}

static void wall_next_day(struct wall *w)
{
	w->hour = 0;
	w->min = 0;
	if (++w->mday > days_in_month(w->year, w->mon)) {
		w->mday = 1;
		if (++w->mon > 12) {
			w->mon = 1;
			w->year++;
		}
	}
}

static void wall_prev_day(struct wall *w)
{
	w->hour = 23;
	w->min = 59;
	if (--w->mday < 1) {
		if (--w->mon < 1) {
			w->mon = 12;
			w->year--;
		}
		w->mday = days_in_month(w->year, w->mon);
	}
}

/* Moves *w forward to the first matching wall time at or after it; false
 * when there is none up to the end of year `limit`.  Each step skips a
 * whole month, day or hour that cannot match, or lands on a match. */
static bool cron_wall_next(const struct schedule *s, struct wall *w, int64_t limit)
{
	int v;

	while (w->year <= limit) {
		if (!((s->months >> w->mon) & 1)) {
			v = bit_next(s->months, w->mon + 1, 12);
			if (v < 0) {
				w->year++;
				v = bit_next(s->months, 1, 12);
			}
			w->mon = v;
			w->mday = 1;
			w->hour = w->min = 0;
			continue;
		}
		if (!day_ok(s, w)) {
			wall_next_day(w);
			continue;
		}
		v = bit_next(s->hours, w->hour, 23);
		if (v < 0) {
			wall_next_day(w);
			continue;
		}
		if (v != w->hour) {
			w->hour = v;
			w->min = 0;
		}
		v = bit_next(s->minutes, w->min, 59);
		if (v < 0) {
			w->min = 0;
			if (++w->hour == 24)
				wall_next_day(w);
			continue;
		}
		w->min = v;
		return true;
	}
	return false;
}

/* Moves *w back to the last matching wall time at or before it; false when
 * there is none down to the start of year `limit`. */
static bool cron_wall_prev(const struct schedule *s, struct wall *w, int64_t limit)
{
	int v;

	while (w->year >= limit) {
		if (!((s->months >> w->mon) & 1)) {
			v = bit_prev(s->months, w->mon - 1, 1);
			if (v < 0) {
				w->year--;
				v = bit_prev(s->months, 12, 1);
			}
			w->mon = v;
			w->mday = days_in_month(w->year, w->mon);
			w->hour = 23;
			w->min = 59;
			continue;
		}
		if (!day_ok(s, w)) {
			wall_prev_day(w);
			continue;
		}
		v = bit_prev(s->hours, w->hour, 0);
		if (v < 0) {
			wall_prev_day(w);
			continue;
		}
		if (v != w->hour) {
			w->hour = v;
			w->min = 59;
		}
		v = bit_prev(s->minutes, w->min, 0);
		if (v < 0) {
			w->min = 59;
			if (--w->hour < 0)
				wall_prev_day(w);
			continue;
		}
		w->min = v;
		return true;
	}
	return false;
}

/* A hand-made struct schedule with an empty field would never match. */
static bool cron_sane(const struct schedule *s)
{
	return (s->minutes & ((1ULL << 60) - 1)) && (s->hours & 0xffffffu) && (s->months & 0x1ffe) &&
	       ((s->mdays & 0xfffffffeu) || (s->wdays & 0x7f));
}

static void wall_add_minute(struct wall *w)
{
	if (++w->min < 60)
		return;
	w->min = 0;
	if (++w->hour < 24)
		return;
	wall_next_day(w);
}

static void wall_sub_minute(struct wall *w)
{
	if (--w->min >= 0)
		return;
	w->min = 59;
	if (--w->hour >= 0)
		return;
	wall_prev_day(w);
}

/* The first cron fire instant (seconds) strictly after `after` seconds;
 * false when none within SEARCH_YEARS. */
static bool cron_next(const struct schedule *s, int64_t after, int64_t *out)
{
	struct wall w;
	int64_t limit, t;

	if (!cron_sane(s) || !wall_of(after, &w))
		return false;
	limit = w.year + SEARCH_YEARS;
	/* Wall times up to w's minute fired at or before `after`; so did later
	 * ones whose first instant lies before it (after is in a repeated hour). */
	wall_add_minute(&w);
	for (;;) {
		if (!cron_wall_next(s, &w, limit))
			return false;
		if (wall_instant(&w, &t) && t > after) {
			*out = t;
			return true;
		}
		wall_add_minute(&w);
	}
}

/* The last cron fire instant (seconds) at or before `at` seconds; false
 * when none within SEARCH_YEARS. */
static bool cron_prev(const struct schedule *s, int64_t at, int64_t *out)
{
	struct wall w;
	int64_t limit, t, n;

	if (!cron_sane(s) || !wall_of(at, &w))
		return false;
	limit = w.year - SEARCH_YEARS;
	for (;;) {
		if (!cron_wall_prev(s, &w, limit))
			return false;
		if (wall_instant(&w, &t))
			break;
		wall_sub_minute(&w);           /* skipped by DST: try the one before */
	}
	/* Every wall time up to at's fired at or before `at`.  When `at` lies in
	 * a repeated hour, later wall times fired in its first pass, also before
	 * `at`: walk forward over those (at most the length of the repeat). */
	while (cron_next(s, t, &n) && n <= at)
		t = n;
	*out = t;
	return true;
}

/* ------------------------------------------------------------- public API */

int64_t schedule_next(const struct schedule *s, int64_t after_ms)
{
	int64_t t;

	if (!s)
		return 0;
	switch (s->kind) {
	case SCHED_EVERY:
		if (s->every_ms <= 0)
			return 0;
		return (floor_div(after_ms, s->every_ms) + 1) * s->every_ms;
	case SCHED_CRON:
		tzset();
		/* Fire times are whole seconds: "strictly after" the second of after_ms
		 * unless after_ms is exactly on it. */
		if (!cron_next(s, floor_div(after_ms, MS_PER_S), &t))
			return 0;
		return t * MS_PER_S;
	case SCHED_OFF:
	default:
		return 0;
	}
}

int64_t schedule_prev(const struct schedule *s, int64_t at_ms)
{
	int64_t t;

	if (!s)
		return 0;
	switch (s->kind) {
	case SCHED_EVERY:
		if (s->every_ms <= 0)
			return 0;
		return floor_div(at_ms, s->every_ms) * s->every_ms;
	case SCHED_CRON:
		tzset();
		if (!cron_prev(s, floor_div(at_ms, MS_PER_S), &t))
			return 0;
		return t * MS_PER_S;
	case SCHED_OFF:
	default:
		return 0;
	}
}
