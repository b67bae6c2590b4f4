/* i18n.h - gettext wiring and locale-aware formatting for humans. */
#ifndef DROPSTOCK_I18N_H
#define DROPSTOCK_I18N_H

#include "config.h"

#include <stddef.h>
#include <stdint.h>

#ifdef ENABLE_NLS
#include <libintl.h>
#define _(s) gettext(s)
#define P_(s, p, n) ngettext((s), (p), (unsigned long)(n))
#else
#define _(s) (s)
#define P_(s, p, n) ((n) == 1 ? (s) : (p))
#endif
#define N_(s) (s)

/* Sets the locale and binds the text domain; call first in main().
 *
 * The process runs with the user's locale for messages, character type and
 * time, but LC_NUMERIC stays "C": strtod, libconfig, the feed parsers, the
 * JSON written and the configuration written back all need a decimal
 * point whatever the user's language.  The user's numeric conventions are
 * kept aside for fmt_int() and fmt_dec(), which human output uses. */
void i18n_init(void);

/* A count for humans with the locale's digit grouping: 1234567 is
 * "1234567" in the C locale, "1,234,567" in en_US, "1.234.567" in de_DE and
 * "1 234 567" in ru_RU (a non-ASCII separator becomes a plain space, so
 * one byte stays one column).  Returns a pointer into a per-thread ring of
 * eight buffers: up to eight calls may appear in one printf.  Never used
 * for --json output or for identifiers (run ids, ports). */
const char *fmt_int(int64_t n);
/* v with the given number of decimals (0-6), grouped like fmt_int and with
 * the locale's decimal sign: 1234.5 with 1 is "1.234,5" in de_DE. */
const char *fmt_dec(double v, int decimals);

/* Display width of s in columns (UTF-8 aware through the locale's
 * LC_CTYPE; a byte that is not a valid character counts as one column). */
size_t text_width(const char *s);
/* s fitted to exactly |width| columns for a table cell: padded with spaces
 * (on the right when width > 0, on the left when width < 0), or cut at a
 * character boundary when wider.  printf's "%-12s" counts bytes, which
 * misaligns every translated heading outside ASCII; this counts columns.
 * Returns a pointer into a per-thread ring of sixteen buffers. */
const char *fmt_col(const char *s, int width);

/* The word shown to a person for a state stored in the database: a run's
 * status ("succeeded"), kind ("full"), trigger ("schedule") or a stock
 * change's source ("webhook").  The stored words stay English (they are
 * what --status, --source and JSON use); the console shows these labels,
 * at most 11 columns wide.  An unknown word is returned as it is. */
const char *state_label(const char *word);

/* Local date and time for humans, in the order and separators of LC_TIME
 * (ISO 8601 order in the C and POSIX locales), 24-hour clock. */
enum time_style {
	TIME_DATE,            /* 2026-11-27        27.11.2026 */
	TIME_MINUTES,         /* 2026-11-27 09:30  27.11.2026 09:30 */
	TIME_SECONDS,         /* ... 09:30:15 */
	TIME_SHORT,           /* 11-27 09:30       27.11 09:30 (no year) */
	TIME_SHORT_SECONDS,   /* 11-27 09:30:15 */
	TIME_CLOCK,           /* 09:30:15 */
};
/* Writes ms (Unix milliseconds) as local time into out; "-" when ms is 0 or
 * cannot be shown.  Returns out. */
char *time_format_local(int64_t ms, enum time_style style, char *out, size_t size);

#endif
