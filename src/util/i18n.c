/* i18n.c - locale and message catalogue set-up, and the formatters that
 * follow the user's locale in human output. */
#include "config.h"

#include <langinfo.h>
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "util/i18n.h"

/* The user's numeric conventions, read once by i18n_init. */
static char num_group_sep[8];      /* "" when the locale does not group */
static char num_decimal[8] = ".";
/* strftime formats for the date part, with and without the year. */
static char date_fmt[32] = "%Y-%m-%d";
static char date_short_fmt[32] = "%m-%d";

/* A separator as it will be printed: non-ASCII spaces (U+00A0, U+202F,
 * which ru_RU and fr_FR use) become ' ' so that a byte is a column. */
static void take_sep(char *dst, size_t size, const char *src)
{
	if (!src)
		src = "";
	if ((unsigned char)src[0] >= 0x80 && strstr(src, "\xc2\xa0") == src)
		src = " ";
	else if ((unsigned char)src[0] >= 0x80 && strstr(src, "\xe2\x80\xaf") == src)
		src = " ";
	snprintf(dst, size, "%s", src);
}

static bool is_c_locale(const char *name)
{
	return !name || !strcmp(name, "C") || !strcmp(name, "POSIX") ||
	       !strncmp(name, "C.", 2);
}

/* The date format without its year: "%d.%m.%Y" -> "%d.%m", "%Y-%m-%d" ->
 * "%m-%d", "%m/%d/%Y" -> "%m/%d".  Falls back to ISO when the format holds
 * anything unexpected. */
static void derive_short(const char *full, char *out, size_t size)
{
	const char *y = strstr(full, "%Y");
	size_t n = strlen(full);
	char tmp[32];

	if (!y)
		y = strstr(full, "%y");
	if (!y || n >= sizeof(tmp)) {
		snprintf(out, size, "%%m-%%d");
		return;
	}
	if (y == full) {                      /* year first: drop it and one separator */
		snprintf(tmp, sizeof(tmp), "%s", y + 2 + (y[2] && y[2] != '%'));
	} else {                              /* year last or inside: drop one separator before it */
		size_t head = (size_t)(y - full);

		if (head > 0 && full[head - 1] != '%' && full[head - 1] != 'd' &&
		    full[head - 1] != 'm' && full[head - 1] != 'e')
			head--;
		snprintf(tmp, sizeof(tmp), "%.*s%s", (int)head, full, y + 2);
	}
	snprintf(out, size, "%s", tmp[0] ? tmp : "%m-%d");
}

void i18n_init(void)
{
	const char *fmt;
	locale_t user;

	setlocale(LC_ALL, "");
	user = newlocale(LC_NUMERIC_MASK, "", (locale_t)0);
	if (user) {
		take_sep(num_group_sep, sizeof(num_group_sep), nl_langinfo_l(THOUSEP, user));
		take_sep(num_decimal, sizeof(num_decimal), nl_langinfo_l(RADIXCHAR, user));
		if (!num_decimal[0])
			snprintf(num_decimal, sizeof(num_decimal), ".");
		freelocale(user);
	}
	setlocale(LC_NUMERIC, "C");

	if (!is_c_locale(setlocale(LC_TIME, NULL))) {
		fmt = nl_langinfo(D_FMT);
		/* only numeric day/month/year formats keep the console's columns */
		if (fmt && strlen(fmt) < sizeof(date_fmt) && !strpbrk(fmt, "EObBhA") &&
		    strstr(fmt, "%d") && strstr(fmt, "%m")) {
			snprintf(date_fmt, sizeof(date_fmt), "%s", fmt);
			derive_short(date_fmt, date_short_fmt, sizeof(date_short_fmt));
		}
	}
#ifdef ENABLE_NLS
	/* DROPSTOCK_LOCALEDIR: catalogues of a build that is not installed */
	fmt = getenv("DROPSTOCK_LOCALEDIR");
	bindtextdomain(PACKAGE, fmt && *fmt ? fmt : LOCALEDIR);
	textdomain(PACKAGE);
#endif
}

static char *ring_next(void)
{
	static _Thread_local char ring[8][48];
	static _Thread_local unsigned next;

	return ring[next++ % 8];
}

/* Copies the digits in[0..n) into out with the group separator every three
 * digits from the right.  Returns the bytes written. */
static size_t group_digits(const char *in, size_t n, char *out, size_t size)
{
	size_t sep = strlen(num_group_sep), o = 0;

	for (size_t i = 0; i < n; i++) {
		if (i > 0 && sep && (n - i) % 3 == 0) {
			if (o + sep >= size)
				break;
			memcpy(out + o, num_group_sep, sep);
			o += sep;
		}
		if (o + 1 >= size)
			break;
		out[o++] = in[i];
	}
	out[o] = '\0';
	return o;
}

const char *fmt_int(int64_t n)
{
	char digits[24], *out = ring_next();
	size_t o = 0;
	int len;

	len = snprintf(digits, sizeof(digits), "%lld", (long long)n);
	if (digits[0] == '-')
		out[o++] = '-';
	group_digits(digits + o, (size_t)len - o, out + o, 48 - o);
	return out;
}

const char *fmt_dec(double v, int decimals)
{
	char text[64], *out = ring_next(), *dot;
	size_t o = 0, ilen;
	int start = 0;

	if (decimals < 0)
		decimals = 0;
	if (decimals > 6)
		decimals = 6;
	snprintf(text, sizeof(text), "%.*f", decimals, v);
	if (!strchr("-0123456789", text[0]) || strlen(text) > 40) {   /* inf, nan, huge */
		snprintf(out, 48, "%.47s", text);
		return out;
	}
	if (text[0] == '-') {
		out[o++] = '-';
		start = 1;
	}
	dot = strchr(text, '.');
	ilen = dot ? (size_t)(dot - text) - start : strlen(text) - start;
	o += group_digits(text + start, ilen, out + o, 48 - o);
	if (dot)
		snprintf(out + o, 48 - o, "%s%s", num_decimal, dot + 1);
	return out;
}

char *time_format_local(int64_t ms, enum time_style style, char *out, size_t size)
{
	char fmt[64];
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	switch (style) {
	case TIME_DATE:          snprintf(fmt, sizeof(fmt), "%s", date_fmt); break;
	case TIME_MINUTES:       snprintf(fmt, sizeof(fmt), "%s %%H:%%M", date_fmt); break;
	case TIME_SECONDS:       snprintf(fmt, sizeof(fmt), "%s %%H:%%M:%%S", date_fmt); break;
	case TIME_SHORT:         snprintf(fmt, sizeof(fmt), "%s %%H:%%M", date_short_fmt); break;
	case TIME_SHORT_SECONDS: snprintf(fmt, sizeof(fmt), "%s %%H:%%M:%%S", date_short_fmt); break;
	case TIME_CLOCK:
	default:                 snprintf(fmt, sizeof(fmt), "%%H:%%M:%%S"); break;
	}
	if (size == 0)
		return out;
	if (ms <= 0 || !localtime_r(&t, &tm) || strftime(out, size, fmt, &tm) == 0)
		snprintf(out, size, "-");
	return out;
}

/* Decodes one character of s (n bytes left): its length in bytes and its
 * width in columns; an invalid byte is one byte, one column. */
static size_t next_char(const char *s, size_t n, mbstate_t *ps, int *cols)
{
	wchar_t wc;
	size_t k = mbrtowc(&wc, s, n, ps);

	if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
		memset(ps, 0, sizeof(*ps));
		*cols = 1;
		return 1;
	}
	*cols = wcwidth(wc);
	if (*cols < 0)
		*cols = 1;
	return k;
}

size_t text_width(const char *s)
{
	mbstate_t ps;
	size_t n = strlen(s), w = 0;
	int cols;

	memset(&ps, 0, sizeof(ps));
	while (n > 0) {
		size_t k = next_char(s, n, &ps, &cols);

		w += (size_t)cols;
		s += k;
		n -= k;
	}
	return w;
}

const char *fmt_col(const char *s, int width)
{
	static _Thread_local char ring[16][512];
	static _Thread_local unsigned next;
	char *out = ring[next++ % 16];
	size_t want = (size_t)(width < 0 ? -(long)width : width), used = 0, o = 0, n;
	size_t room = sizeof(ring[0]) - 1;
	mbstate_t ps;
	int cols;

	if (!s)
		s = "";
	if (want > room)
		want = room;
	/* the part of s that fits */
	memset(&ps, 0, sizeof(ps));
	n = strlen(s);
	while (n > 0) {
		size_t k = next_char(s + o, n, &ps, &cols);

		if (used + (size_t)cols > want || o + k + (want - used - (size_t)cols) > room)
			break;
		used += (size_t)cols;
		o += k;
		n -= k;
	}
	if (width < 0) {
		memset(out, ' ', want - used);
		memcpy(out + (want - used), s, o);
	} else {
		memcpy(out, s, o);
		memset(out + o, ' ', want - used);
	}
	out[o + (want - used)] = '\0';
	return out;
}

const char *state_label(const char *word)
{
	/* TRANSLATORS: the following words label stored states on the console's
	 * Syncs, History and details screens: run statuses, run kinds, what
	 * started a run, and where a stock figure came from.  At most 11
	 * columns each; the shorter the better. */
	static const char *const labels[][2] = {
		{ "queued", N_("queued") },
		{ "running", N_("running") },
		{ "succeeded", N_("succeeded") },
		{ "failed", N_("failed") },
		{ "interrupted", N_("interrupted") },
		/* TRANSLATORS: a run stopped by the mass-change guard, waiting for
		 * "dropstock approve"; at most 11 columns */
		{ "needs_approval", N_("to approve") },
		/* TRANSLATORS: a run kind and a stock source: a full sync */
		{ "full", N_("full") },
		/* TRANSLATORS: a run kind and a stock source: a delta sync */
		{ "delta", N_("delta") },
		/* TRANSLATORS: a run kind: a revert of an earlier run */
		{ "revert", N_("revert") },
		/* TRANSLATORS: what started a run: the command line */
		{ "cli", N_("cli") },
		/* TRANSLATORS: what started a run: the daemon's schedule */
		{ "schedule", N_("schedule") },
		/* TRANSLATORS: what started a run: an operator's console */
		{ "console", N_("console") },
		/* TRANSLATORS: what started a run: a retry after a failure */
		{ "retry", N_("retry") },
		/* TRANSLATORS: what started a run, or a stock source: by hand */
		{ "manual", N_("manual") },
		/* TRANSLATORS: what started a run: the HTTP service (preview) */
		{ "service", N_("service") },
		/* TRANSLATORS: a stock source: a supplier's webhook */
		{ "webhook", N_("webhook") },
		/* TRANSLATORS: a stock source: a live check */
		{ "check", N_("check") },
	};

	if (!word)
		return "";
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		if (!strcmp(word, labels[i][0]))
			return _(labels[i][1]);
	return word;
}
