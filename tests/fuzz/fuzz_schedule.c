/* fuzz_schedule.c - schedule expressions and their next/prev fire times.
 *
 * Input: the expression (up to the first newline, or all of it); after a
 * newline, the decimal time in milliseconds to compute from (default a
 * fixed moment in 2026).  Checks that next is after the moment and prev
 * at or before it, and that prev(next) = next.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#ifndef FUZZ_NAME
#define FUZZ_NAME fuzz_schedule
#endif
#include "fuzz.h"
#include "util/schedule.h"

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	struct schedule sch;
	struct error err;
	char *expr, *when = NULL;
	int64_t at = 1767225600000LL, next, prev;

	expr = xstrndup((const char *)data, nl ? (size_t)(nl - data) : size);
	if (nl) {
		when = xstrndup((const char *)nl + 1, size - (size_t)(nl - data) - 1);
		at = strtoll(when, NULL, 10);
		/* the schedule's range: 1970 to 2200 */
		if (at < 0 || at > 7258118400000LL)
			at = 1767225600000LL;
	}
	if (schedule_parse(expr, &sch, &err) == 0) {
		next = schedule_next(&sch, at);
		prev = schedule_prev(&sch, at);
		if (next != 0 && next <= at)
			abort();
		if (prev != 0 && prev > at)
			abort();
		if (next != 0 && schedule_prev(&sch, next) != next)
			abort();
	}
	free(expr);
	free(when);
	return 0;
}
