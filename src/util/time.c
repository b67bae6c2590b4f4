/* time.c - clocks, ISO-8601 parsing and formatting. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/util.h"

int64_t time_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t time_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* H. Hinnant's days_from_civil. */
int64_t time_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool digits(const char *s, int n, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

static bool parse_iso(const char *s, int64_t *out_ms)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0, tzh = 0, tzm = 0, sign = 0;
	int64_t t;

	if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
	    !digits(s + 8, 2, &d))
		return false;
	s += 10;
	if (*s == 'T' || *s == 't' || *s == ' ') {
		s++;
		if (!digits(s, 2, &h) || s[2] != ':' || !digits(s + 3, 2, &mi))
			return false;
		s += 5;
		if (*s == ':') {
			if (!digits(s + 1, 2, &sec))
				return false;
			s += 3;
			if (*s == '.' || *s == ',') {
				int scale = 100;
				s++;
				if (!isdigit((unsigned char)*s))
					return false;
				while (isdigit((unsigned char)*s)) {
					ms += (*s - '0') * scale;
					scale /= 10;
					s++;
				}
			}
		}
		while (*s == ' ')
			s++;
		if (*s == 'Z' || *s == 'z') {
			s++;
		} else if (*s == '+' || *s == '-') {
			sign = *s == '+' ? 1 : -1;
			s++;
			if (!digits(s, 2, &tzh))
				return false;
			s += 2;
			if (*s == ':')
				s++;
			if (isdigit((unsigned char)*s)) {
				if (!digits(s, 2, &tzm))
					return false;
				s += 2;
			}
		}
	}
	if (*s)
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || tzh > 23 ||
	    tzm > 59)
		return false;
	t = time_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	t -= sign * (tzh * 3600 + tzm * 60);
	*out_ms = t * 1000 + ms;
	return true;
}

bool time_parse(const char *s, int64_t *out_ms)
{
	int64_t v;
	size_t n;
	char tmp[64];

	if (!s)
		return false;
	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= sizeof(tmp))
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (str_to_i64(tmp, &v)) {
		if (v < 0)
			return false;
		*out_ms = n >= 13 ? v : v * 1000;
		return true;
	}
	return parse_iso(tmp, out_ms);
}

char *time_format_iso(int64_t ms, char out[32])
{
	time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	int frac = (int)(ms - (int64_t)t * 1000);
	struct tm tm;
	size_t n;

	gmtime_r(&t, &tm);
	n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	if (frac)
		snprintf(out + n, 32 - n, ".%03dZ", frac);
	else
		snprintf(out + n, 32 - n, "Z");
	return out;
}

char *time_format_age(int64_t age_ms, char out[32])
{
	int64_t s = age_ms / 1000;

	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(out, 32, _("%d s"), (int)s);
	else if (s < 3600)
		snprintf(out, 32, _("%d min"), (int)(s / 60));
	else if (s < 86400 * 2)
		snprintf(out, 32, _("%d h"), (int)(s / 3600));
	else
		snprintf(out, 32, _("%d d"), (int)(s / 86400));
	return out;
}
