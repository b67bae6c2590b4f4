/* log.c - log lines on stderr (timestamped, or with sd-daemon priority
 * prefixes when stderr is the journal), or to syslog(3). */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/util.h"

enum log_level log_threshold = LOG_WARN;

/* The sd-daemon / syslog priority of each level: <3> error, <4> warning,
 * <6> info, <7> debug. */
static const int priorities[] = { 3, 4, 6, 7 };
static const char *const names[] = { "error", "warning", "info", "debug" };

static pthread_mutex_t target_lock = PTHREAD_MUTEX_INITIALIZER;
static bool target_chosen;
static enum log_target target = LOG_TO_STDERR;

/* syslog.h defines LOG_INFO and LOG_DEBUG as well: it is included only
 * below the code that uses our own names, and these two live there. */
static void log_syslog_open(const char *ident);
static void log_syslog_close(void);
static void log_syslog_line(int priority, const char *msg);

/* True when $JOURNAL_STREAM ("DEVICE:INODE") names the file stderr is. */
static bool stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	uintmax_t dev, ino;
	struct stat st;
	char *end;

	if (!env || !*env)
		return false;
	dev = strtoumax(env, &end, 10);
	if (end == env || *end != ':')
		return false;
	env = end + 1;
	ino = strtoumax(env, &end, 10);
	if (end == env || *end != '\0')
		return false;
	if (fstat(STDERR_FILENO, &st) != 0)
		return false;
	return (uintmax_t)st.st_dev == dev && (uintmax_t)st.st_ino == ino;
}

/* Called with target_lock held. */
static void choose_target(void)
{
	if (!target_chosen) {
		target = stderr_is_journal() ? LOG_TO_JOURNAL : LOG_TO_STDERR;
		target_chosen = true;
	}
}

void log_setup(bool use_syslog, const char *ident)
{
	pthread_mutex_lock(&target_lock);
	if (target == LOG_TO_SYSLOG && target_chosen)
		log_syslog_close();
	if (use_syslog) {
		log_syslog_open(ident ? ident : "dropstock");
		target = LOG_TO_SYSLOG;
		target_chosen = true;
	} else {
		target_chosen = false;
		choose_target();
	}
	pthread_mutex_unlock(&target_lock);
}

enum log_target log_get_target(void)
{
	enum log_target t;

	pthread_mutex_lock(&target_lock);
	choose_target();
	t = target;
	pthread_mutex_unlock(&target_lock);
	return t;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	struct buf line = BUF_INIT;
	enum log_target t;
	va_list ap;
	char *msg;

	if (lvl > log_threshold)
		return;
	if ((int)lvl < 0 || (size_t)lvl >= ARRAY_SIZE(priorities))
		lvl = LOG_ERROR;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	t = log_get_target();

	if (t == LOG_TO_SYSLOG) {
		log_syslog_line(priorities[lvl], msg);
		free(msg);
		return;
	}
	if (t == LOG_TO_JOURNAL) {
		/* one journal entry per line: a message with line breaks keeps
		 * its priority on every line */
		char *p = msg;

		for (;;) {
			char *nl = strchr(p, '\n');
			size_t n = nl ? (size_t)(nl - p) : strlen(p);

			buf_printf(&line, "<%d>", priorities[lvl]);
			buf_append(&line, p, n);
			buf_putc(&line, '\n');
			if (!nl || nl[1] == '\0')
				break;
			p = nl + 1;
		}
	} else {
		char stamp[32];
		struct timespec ts;
		struct tm tm;

		/* not time(): it reads a coarse clock that lags by a few ms,
		 * so a line written just after a whole second showed the one
		 * before */
		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
		buf_printf(&line, "%s %s: %s\n", stamp, names[lvl], msg);
	}
	/* one write per message: lines from several threads never interleave */
	flockfile(stderr);
	fwrite(line.data, 1, line.len, stderr);
	fflush(stderr);
	funlockfile(stderr);
	buf_free(&line);
	free(msg);
}

/* ---- syslog(3) ---- */
#include <syslog.h>

static void log_syslog_open(const char *ident)
{
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

static void log_syslog_close(void)
{
	closelog();
}

static void log_syslog_line(int priority, const char *msg)
{
	syslog(priority, "%s", msg);
}
