/* util.h - small helpers shared by every module: allocation, strings,
 * growable buffers, time, errors and logging.
 *
 * Ownership: every function returning char * returns memory the caller
 * frees with free(), unless its comment says otherwise.  Allocation
 * failure is not recoverable here: the x* wrappers print a message and
 * abort.
 */
#ifndef DROPSTOCK_UTIL_H
#define DROPSTOCK_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/i18n.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#define UNUSED __attribute__((unused))
#else
#define PRINTF_LIKE(f, a)
#define UNUSED
#endif

/* ---- allocation (abort on failure) ---- */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);              /* NULL -> NULL */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) PRINTF_LIKE(1, 2);
char *xvasprintf(const char *fmt, va_list ap);

/* ---- strings ---- */
bool str_eq(const char *a, const char *b);          /* NULL-safe */
bool str_caseeq(const char *a, const char *b);      /* ASCII case-insensitive, NULL-safe */
bool str_empty(const char *s);                      /* NULL or "" */
bool str_startswith(const char *s, const char *prefix);
char *str_trim(char *s);                            /* in place, returns s shifted */
/* Parses a whole string as a signed 64-bit decimal integer; leading and
 * trailing ASCII blanks allowed.  Returns false on anything else. */
bool str_to_i64(const char *s, int64_t *out);
/* Parses a decimal number ("12", "12.0", "-3", " 7 ") into a double. */
bool str_to_double(const char *s, double *out);

/* ---- growable byte buffer, always NUL-terminated ---- */
struct buf {
	char *data;      /* NULL until the first append */
	size_t len;
	size_t cap;
};
#define BUF_INIT { NULL, 0, 0 }
void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) PRINTF_LIKE(2, 3);
void buf_reset(struct buf *b);                      /* len = 0, keeps memory */
void buf_free(struct buf *b);
char *buf_steal(struct buf *b);                     /* returns data ("" if empty), b becomes empty */
const char *buf_str(const struct buf *b);           /* never NULL */

/* ---- errors ----
 * An error carries one human sentence naming the place and the cause,
 * e.g. "acme: page 3 (https://...): HTTP 500 Internal Server Error".
 * Functions that can fail take a struct error * as the last argument
 * (may be NULL), fill it and return -1 (or NULL / false). */
enum err_kind {
	ERRK_NONE = 0,
	ERRK_INTERNAL,     /* bug, out of memory, unexpected state */
	ERRK_CONFIG,       /* bad configuration: never heals by retrying */
	ERRK_DB,           /* database error */
	ERRK_TRANSIENT,    /* network timeout, 5xx, 429: may heal by retrying */
	ERRK_PERMANENT,    /* 401/403/404, malformed feed: will not heal by waiting */
	ERRK_BUSY,         /* resource held by another process (sync lock) */
	ERRK_USAGE,        /* bad command-line usage */
	ERRK_INTERRUPTED,  /* stopped by a signal or time limit */
};
struct error {
	enum err_kind kind;
	char msg[1024];
	/* The configuration option the error is about ("source.url"), when the
	 * code that set it knows one; "" otherwise.  Lets a form find the
	 * field without reading the (translated) message. */
	char option[128];
};
/* Sets err (if not NULL) and returns -1. */
int err_set(struct error *err, enum err_kind kind, const char *fmt, ...) PRINTF_LIKE(3, 4);
/* Prepends "prefix: " to an existing message. */
void err_prefix(struct error *err, const char *fmt, ...) PRINTF_LIKE(2, 3);
void err_clear(struct error *err);

/* ---- time ----
 * All timestamps inside dropstock are int64 milliseconds since the Unix
 * epoch, UTC ("ms").  0 means "unknown / not given". */
int64_t time_now_ms(void);                    /* wall clock, CLOCK_REALTIME */
int64_t time_mono_ms(void);                   /* CLOCK_MONOTONIC, for timers */
/* Parses ISO-8601 ("2026-11-27T08:15:00Z", "...+02:00", "2026-11-27 08:15:00",
 * "2026-11-27", fractional seconds allowed; no zone means UTC), or Unix
 * seconds ("1764230100") or milliseconds (13+ digits).  Returns false when
 * the text is none of these. */
bool time_parse(const char *s, int64_t *out_ms);
/* Formats as "2026-11-27T08:15:00Z" (ms shown only when non-zero:
 * "2026-11-27T08:15:00.250Z").  out must hold 32 bytes.  Returns out. */
char *time_format_iso(int64_t ms, char out[32]);
/* "3 s", "5 min", "2 h", "4 d" relative age for humans.  out holds 32 bytes. */
char *time_format_age(int64_t age_ms, char out[32]);
/* Days from 1970-01-01 to y-m-d (month 1-12) in the proleptic Gregorian
 * calendar; negative before 1970. */
int64_t time_days_from_civil(int64_t y, int m, int d);

/* ---- random numbers for backoff jitter (util.c) ----
 * xorshift64*: fast and good enough to spread retries; never for secrets. */
/* A seed that differs between processes, calls and salts (any pointer);
 * never 0. */
uint64_t rng_seed(const void *salt);
/* The next number of the sequence whose state is *state (not 0). */
uint64_t rng_next(uint64_t *state);
/* A number in [0, 1) from the sequence. */
double rng_unit(uint64_t *state);

/* ---- logging ----
 * Messages are already translated by the caller.  Where lines go (log.c):
 *   LOG_TO_STDERR   "2026-11-27 08:15:00 warning: MESSAGE" on stderr (default)
 *   LOG_TO_JOURNAL  "<4>MESSAGE" on stderr: sd-daemon priority prefixes that
 *                   the journal reads; chosen automatically when stderr is
 *                   the journal ($JOURNAL_STREAM names stderr's device:inode)
 *   LOG_TO_SYSLOG   syslog(3), facility daemon (`dropstock daemon --syslog`)
 * A line is written whole (threads never interleave within a line). */
enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };
extern enum log_level log_threshold;          /* default LOG_WARN; -v INFO, -vv DEBUG */
void log_msg(enum log_level lvl, const char *fmt, ...) PRINTF_LIKE(2, 3);
enum log_target { LOG_TO_STDERR = 0, LOG_TO_JOURNAL, LOG_TO_SYSLOG };
/* Sends lines to syslog(3) with this ident (its string must outlive the
 * logging) when use_syslog, else back to the automatic choice between
 * LOG_TO_JOURNAL and LOG_TO_STDERR. */
void log_setup(bool use_syslog, const char *ident);
enum log_target log_get_target(void);
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* ---- base64, standard alphabet (base64.c) ----
 * Decoding is strict: no blanks, no other characters, padding optional but
 * complete when present ("YQ" or "YQ==", not "YQ="), unused trailing bits
 * zero.  "" decodes to 0 bytes (a non-NULL buffer).  *len may be NULL. */
char *base64_encode(const unsigned char *data, size_t len);           /* caller frees */
unsigned char *base64_decode(const char *text, size_t *len);          /* NULL on bad input */

/* ---- files ---- */
/* Reads a whole (small) file; NULL with err on failure. *len may be NULL. */
char *file_read_all(const char *path, size_t *len, struct error *err);
/* Writes atomically: PATH.tmp, fsync, rename.  mode like 0644. */
int file_write_atomic(const char *path, const void *data, size_t len, int mode, struct error *err);
/* mkdir -p with mode 0700 for missing components. */
int mkdir_p(const char *path, struct error *err);
/* $XDG_STATE_HOME/dropstock (default ~/.local/state/dropstock); caller frees. */
char *path_state_dir(void);
/* $XDG_CONFIG_HOME/dropstock (default ~/.config/dropstock); caller frees. */
char *path_config_dir(void);
/* dirname of path, caller frees ("." when none). */
char *path_dirname(const char *path);
/* Joins a and b with one '/', caller frees; b absolute -> copy of b. */
char *path_join(const char *a, const char *b);

#endif
