/* schedule.h - when a supplier's syncs are due.
 *
 * Expressions (times are local time in the process's time zone; the daemon
 * sets TZ from daemon.timezone):
 *   "every 30m"     every N seconds/minutes/hours ("every 90s", "every 2h"),
 *                   counted from the epoch so restarts do not shift them
 *   "daily 03:00"   once a day at HH:MM
 *   "hourly :15"    every hour at minute MM
 *   "0-59/5 * * * *"  5-field cron: minute hour day-of-month month day-of-week,
 *                   with *, lists (1,2), ranges (1-5), steps (1-30/5, and a star with a step),
 *                   day-of-week 0-7 (0 and 7 = Sunday), the usual rule that
 *                   day-of-month and day-of-week OR when both are restricted
 *   "off"           never
 *
 * Details (additions to the contract above, all backwards-compatible):
 *   - keywords are case-insensitive; "daily 3:00" is accepted, minutes take
 *     two digits; "hourly 15" works like "hourly :15";
 *   - cron: "a/n" means a-max/n; month names jan-dec and day names sun-sat
 *     (any case) wherever numbers go; "fri-sun" wraps to Sunday; the macros
 *     @yearly @annually @monthly @weekly @daily @midnight @hourly;
 *   - as in Vixie cron, a day field that begins with "*" (a star, or a star
 *     with a step) counts as unrestricted for the OR rule (mday_star,
 *     wday_star), so a star with a step there ANDs with the other day field;
 *   - an expression that can never fire ("0 0 30 2 *") is an error;
 *   - "every" is at most a year.
 * Daylight saving time: a wall time that does not exist (the clock jumps
 * over it) is skipped; a wall time that happens twice (the clock falls
 * back) fires once, at its first occurrence.
 */
#ifndef DROPSTOCK_SCHEDULE_H
#define DROPSTOCK_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>

#include "util/util.h"

enum schedule_kind { SCHED_OFF = 0, SCHED_EVERY, SCHED_CRON };

struct schedule {
	enum schedule_kind kind;
	int64_t every_ms;                 /* SCHED_EVERY */
	/* SCHED_CRON ("daily" and "hourly" are turned into cron fields) */
	uint64_t minutes;                 /* bit i = minute i allowed (0-59) */
	uint32_t hours;                   /* 0-23 */
	uint32_t mdays;                   /* bits 1-31 */
	uint16_t months;                  /* bits 1-12 */
	uint8_t wdays;                    /* bits 0-6, Sunday = 0 */
	bool mday_star, wday_star;        /* field was "*" (for the OR rule) */
};

/* Parses expr; on error err says what is wrong and where ("cron field 2
 * (hour): 25 is out of range 0-23").  The config loader prefixes file:line. */
int schedule_parse(const char *expr, struct schedule *out, struct error *err);

/* The first fire time strictly after after_ms; 0 for SCHED_OFF (or none
 * within 5 years). */
int64_t schedule_next(const struct schedule *s, int64_t after_ms);

/* The last fire time at or before at_ms; 0 when none (SCHED_OFF, or none
 * within the last 5 years).  Used for the one catch-up run after downtime. */
int64_t schedule_prev(const struct schedule *s, int64_t at_ms);

#endif
