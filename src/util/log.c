/* log.c - timestamped log lines on stderr. */
#include "config.h"

#include <stdio.h>
#include <time.h>

#include "util/util.h"

enum log_level log_threshold = LOG_WARN;

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	char stamp[32];
	struct tm tm;
	time_t now;
	va_list ap;

	if (lvl > log_threshold)
		return;
	now = time(NULL);
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(stderr, "%s %s: ", stamp, names[lvl]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
