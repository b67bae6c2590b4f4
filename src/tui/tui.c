/* tui.c - the console's one owner of the terminal: init, colours, the tab
 * bar and status line, the loop, the help overlay, prompts, the screen
 * stack, detached syncs, background jobs and the drawing helpers.
 *
 * The loop never blocks: getch waits at most 100 ms, the current screen
 * reloads from the database every 250 ms, and everything slow happens in a
 * detached process (syncs) or a worker thread (tui_job_*).  Log lines that
 * library code writes to stderr are caught through a pipe and shown in the
 * status line, so nothing is ever printed over the screen.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <time.h>
#include <wchar.h>

#include "daemon/daemon.h"
#include "engine/jobs.h"
#include "store/store.h"
#include "tui/tui.h"

#define TUI_TICK_MS 100          /* getch timeout */
#define TUI_REFRESH_MS 250       /* current screen reloads this often */
#define TUI_DAEMON_CHECK_MS 2000 /* daemon lock probed this often */
#define TUI_MAX_PUSHED 8
#define TUI_MESSAGE_MS 20000     /* a plain message is shown this long */
#define TUI_JOB_EXIT_WAIT_MS 3000

struct tui_frame {
	const struct tui_screen_ops *ops;
	void *st;
};

struct tui {
	struct conf *conf;
	struct conf **old_confs;        /* replaced by tui_conf_reload, freed at the end */
	size_t n_old_confs;
	struct db *db;
	struct tui_opts opts;
	bool utf8, colour;
	bool quit;

	WINDOW *body;
	int rows, cols;                 /* the whole terminal */

	const struct tui_screen_ops *mains[5];
	void *main_st[5];
	int current;                    /* 0..4 */
	struct tui_frame pushed[TUI_MAX_PUSHED];
	int n_pushed;

	char msg[512];
	bool msg_error;
	int64_t msg_at;                 /* mono ms */

	bool daemon_running;
	long daemon_pid;
	int64_t daemon_checked;         /* mono ms */

	bool help;                      /* the ? overlay is shown */
	int help_top;                   /* its first line shown (it scrolls) */
	int log_fd;                     /* read end of the stderr pipe, -1 = none */
	struct buf log_line;
};

/* The global keys, in the order the help lists them. */
const struct tui_key tui_global_keys[] = {
	{ "1-5", N_("screens: Suppliers, Syncs, History, Check, Unknown SKUs"), false },
	{ "Tab", N_("next screen (Shift-Tab: previous)"), false },
	{ "Esc", N_("close the view on top (details, SKU view, editor)"), false },
	{ "?", N_("show the keys of the current screen"), false },
	{ "^L", N_("redraw the whole screen"), false },
	{ "q", N_("quit (a running sync goes on)"), false },
	{ NULL, NULL, false },
};

const struct tui_screen_ops *const tui_all_screens[] = {
	&tui_screen_suppliers, &tui_screen_supplier_details, &tui_screen_testconn,
	&tui_screen_editor, &tui_screen_syncs, &tui_screen_run_details, &tui_screen_history,
	&tui_screen_sku, &tui_screen_check, &tui_screen_unknown, NULL,
};

/* Roff for a key or its help: backslashes escaped, a leading dot or quote
 * guarded, "-" as a minus sign (\-) so "S-Tab" copies and pastes. */
static void put_roff(FILE *out, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", out);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", out);
		else if (*s == '-')
			fputs("\\-", out);
		else
			fputc(*s, out);
	}
}

static void print_key_man(FILE *out, const struct tui_key *k)
{
	fputs(".TP\n.B ", out);
	put_roff(out, k->key);
	fputc('\n', out);
	put_roff(out, k->help);
	fputs(k->writes ? " (not with \\fB\\-\\-read\\-only\\fR)\n" : "\n", out);
}

void tui_print_keys(FILE *out, bool man)
{
	if (man) {
		/* English, straight from the tables: doc/update-keys.sh splices
		 * each block into dropstock.1 after its marker line. */
		fputs(".\\\" keys: Everywhere\n", out);
		for (const struct tui_key *k = tui_global_keys; k->key; k++)
			print_key_man(out, k);
		for (int i = 0; tui_all_screens[i]; i++) {
			fprintf(out, ".\\\" keys: %s\n", tui_all_screens[i]->name);
			for (const struct tui_key *k = tui_all_screens[i]->keys; k && k->key; k++)
				print_key_man(out, k);
		}
		return;
	}
	fprintf(out, "%s:\n", _("Everywhere"));
	for (const struct tui_key *k = tui_global_keys; k->key; k++)
		fprintf(out, "  %-10s %s\n", k->key, _(k->help));
	for (int i = 0; tui_all_screens[i]; i++) {
		const struct tui_screen_ops *ops = tui_all_screens[i];

		fprintf(out, "%s:\n", _(ops->name));
		for (const struct tui_key *k = ops->keys; k && k->key; k++)
			fprintf(out, "  %-10s %s%s\n", k->key, _(k->help),
			        k->writes ? _(" (writes)") : "");
	}
}

/* ---- signals and the terminal ---- */

static volatile sig_atomic_t tui_sig_quit;
static volatile sig_atomic_t tui_curses_on;
static int tui_saved_stderr = -1;

static void tui_on_quit_signal(int sig)
{
	(void)sig;
	tui_sig_quit = 1;
}

/* A crash: give the terminal back, then die of the same signal. */
static void tui_on_crash_signal(int sig)
{
	if (tui_curses_on) {
		tui_curses_on = 0;
		endwin();
	}
	if (tui_saved_stderr >= 0)
		dup2(tui_saved_stderr, STDERR_FILENO);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void tui_signals(bool on)
{
	static const int quit_sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	static const int crash_sigs[] = { SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on ? tui_on_quit_signal : SIG_DFL;
	for (size_t i = 0; i < ARRAY_SIZE(quit_sigs); i++)
		sigaction(quit_sigs[i], &sa, NULL);
	sa.sa_handler = on ? tui_on_crash_signal : SIG_DFL;
	sa.sa_flags = SA_RESETHAND;
	for (size_t i = 0; i < ARRAY_SIZE(crash_sigs); i++)
		sigaction(crash_sigs[i], &sa, NULL);
}

/* stderr goes into a pipe whose lines become status messages. */
static void tui_catch_stderr(struct tui *t)
{
	int fds[2];

	t->log_fd = -1;
	if (pipe(fds) != 0)
		return;
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	fcntl(fds[1], F_SETFL, O_NONBLOCK);   /* a full pipe drops lines, never blocks */
	fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	fflush(stderr);
	tui_saved_stderr = dup(STDERR_FILENO);
	if (tui_saved_stderr < 0) {
		close(fds[0]);
		close(fds[1]);
		return;
	}
	fcntl(tui_saved_stderr, F_SETFD, FD_CLOEXEC);
	dup2(fds[1], STDERR_FILENO);
	close(fds[1]);
	t->log_fd = fds[0];
}

static void tui_release_stderr(struct tui *t)
{
	fflush(stderr);
	if (tui_saved_stderr >= 0) {
		dup2(tui_saved_stderr, STDERR_FILENO);
		close(tui_saved_stderr);
		tui_saved_stderr = -1;
	}
	if (t->log_fd >= 0)
		close(t->log_fd);
	t->log_fd = -1;
	buf_free(&t->log_line);
}

static void tui_set_msg(struct tui *t, bool error, const char *text);

/* Reads what library code logged; the last complete line is shown. */
static void tui_drain_stderr(struct tui *t)
{
	char chunk[1024];
	ssize_t n;

	if (t->log_fd < 0)
		return;
	while ((n = read(t->log_fd, chunk, sizeof(chunk))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (chunk[i] != '\n') {
				if (t->log_line.len < 2048)
					buf_putc(&t->log_line, chunk[i]);
				continue;
			}
			if (t->log_line.len) {
				const char *s = buf_str(&t->log_line);
				/* "2026-11-27 08:15:00 warning: text" -> "warning: text" */
				if (s[0] >= '0' && s[0] <= '9' && strlen(s) > 20 && s[19] == ' ')
					s += 20;
				tui_set_msg(t, str_startswith(s, "error") || strstr(s, " error") != NULL,
				            s);
			}
			buf_reset(&t->log_line);
		}
	}
}

/* ---- locale, colours ---- */

static bool tui_detect_utf8(void)
{
	const char *cs = nl_langinfo(CODESET);
	const char *term = getenv("TERM");

	if (!cs || (strcasecmp(cs, "UTF-8") != 0 && strcasecmp(cs, "utf8") != 0))
		return false;
	/* terminals that predate Unicode: keep to ASCII even in a UTF-8 locale */
	if (!term || !*term || strncmp(term, "vt", 2) == 0 || strcmp(term, "dumb") == 0 ||
	    strcmp(term, "ansi") == 0)
		return false;
	return true;
}

static void tui_colours_init(struct tui *t)
{
	const char *nc = getenv("NO_COLOR");

	t->colour = has_colors() && !(nc && *nc);
	if (!t->colour)
		return;
	if (start_color() != OK) {
		t->colour = false;
		return;
	}
	use_default_colors();
	init_pair(TUI_C_TITLE, COLOR_BLACK, COLOR_CYAN);
	init_pair(TUI_C_SELECTED, COLOR_BLACK, COLOR_WHITE);
	init_pair(TUI_C_RISE, COLOR_GREEN, -1);
	init_pair(TUI_C_FALL, COLOR_RED, -1);
	init_pair(TUI_C_OK, COLOR_GREEN, -1);
	init_pair(TUI_C_ERROR, COLOR_RED, -1);
	init_pair(TUI_C_DIM, COLOR_BLUE, -1);
	init_pair(TUI_C_BAR, COLOR_CYAN, -1);
}

attr_t tui_attr(const struct tui *t, enum tui_colour_pair p)
{
	if (t && t->colour) {
		switch (p) {
		case TUI_C_NORMAL:
			return A_NORMAL;
		case TUI_C_TITLE:
			return COLOR_PAIR(p) | A_BOLD;
		case TUI_C_SELECTED:
			return COLOR_PAIR(p) | A_REVERSE;
		case TUI_C_ERROR:
			return COLOR_PAIR(p) | A_BOLD;
		case TUI_C_DIM:
			return COLOR_PAIR(p);
		default:
			return COLOR_PAIR(p);
		}
	}
	switch (p) {
	case TUI_C_TITLE:
		return A_REVERSE | A_BOLD;
	case TUI_C_SELECTED:
		return A_REVERSE;
	case TUI_C_RISE:
	case TUI_C_ERROR:
		return A_BOLD;
	case TUI_C_FALL:
		return A_UNDERLINE;
	case TUI_C_DIM:
		return A_DIM;
	default:
		return A_NORMAL;
	}
}

/* ---- small services ---- */

struct db *tui_db(struct tui *t)
{
	return t->db;
}

const struct conf *tui_conf(struct tui *t)
{
	return t->conf;
}

bool tui_read_only(const struct tui *t)
{
	return t->opts.read_only;
}

bool tui_utf8(const struct tui *t)
{
	return t->utf8;
}

bool tui_colour(const struct tui *t)
{
	return t->colour;
}

static void tui_set_msg(struct tui *t, bool error, const char *text)
{
	size_t j = 0;

	/* one line: control characters become blanks */
	for (size_t i = 0; text[i] && j + 1 < sizeof(t->msg); i++)
		t->msg[j++] = (unsigned char)text[i] < 0x20 || text[i] == 0x7f ? ' ' : text[i];
	t->msg[j] = '\0';
	t->msg_error = error;
	t->msg_at = time_mono_ms();
}

void tui_error(struct tui *t, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	tui_set_msg(t, true, s);
	free(s);
}

void tui_message(struct tui *t, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	tui_set_msg(t, false, s);
	free(s);
}

const char *tui_spinner(const struct tui *t)
{
	static const char *const uni[] = { "\u280b", "\u2819", "\u2839", "\u2838", "\u283c",
		                           "\u2834", "\u2826", "\u2827", "\u2807", "\u280f" };
	static const char *const ascii[] = { "|", "/", "-", "\\" };
	int64_t tick = time_mono_ms() / 100;

	if (t && t->utf8)
		return uni[tick % (int64_t)ARRAY_SIZE(uni)];
	return ascii[tick % (int64_t)ARRAY_SIZE(ascii)];
}

/* ---- drawing helpers ---- */

void tui_put(WINDOW *w, int y, int x, int width, const char *text)
{
	mbstate_t ps;
	wchar_t out[512];
	int used = 0, n = 0;
	size_t len;

	if (!w || x < 0 || y < 0 || y >= getmaxy(w))
		return;
	/* never past the window's right edge (that would wrap) */
	if (width > getmaxx(w) - x)
		width = getmaxx(w) - x;
	if (width <= 0)
		return;
	if (!text)
		text = "";
	memset(&ps, 0, sizeof(ps));
	len = strlen(text);
	while (len > 0 && n < (int)ARRAY_SIZE(out) - 1) {
		wchar_t wc;
		size_t k = mbrtowc(&wc, text, len, &ps);
		int cw;

		if (k == 0)
			break;
		if (k == (size_t)-1 || k == (size_t)-2) {
			/* not valid in this locale: one '?' per byte */
			memset(&ps, 0, sizeof(ps));
			wc = L'?';
			k = 1;
		}
		text += k;
		len -= k;
		if (wc < 0x20 || wc == 0x7f || (wc >= 0x80 && wc < 0xa0))
			wc = L' ';
		cw = wcwidth(wc);
		if (cw < 0) {
			wc = L'?';
			cw = 1;
		}
		if (used + cw > width)
			break;
		out[n++] = wc;
		used += cw;
	}
	while (used < width && n < (int)ARRAY_SIZE(out) - 1) {
		out[n++] = L' ';
		used++;
	}
	out[n] = L'\0';
	mvwaddnwstr(w, y, x, out, n);
}

/* Line drawing: Unicode box characters themselves in UTF-8 (not the
 * terminal's alternate character set, which some terminals and tmux
 * captures show as letters), ASCII otherwise. */
static void tui_cc(cchar_t *cc, wchar_t wc)
{
	wchar_t s[2] = { wc, 0 };

	setcchar(cc, s, A_NORMAL, 0, NULL);
}

void tui_hline(const struct tui *t, WINDOW *w, int y, int x, int width)
{
	cchar_t cc;

	if (width <= 0)
		return;
	tui_cc(&cc, t && t->utf8 ? 0x2500 : L'-');
	mvwhline_set(w, y, x, &cc, width);
}

void tui_box(const struct tui *t, WINDOW *w, int y, int x, int height, int width)
{
	bool u = t && t->utf8;
	cchar_t h, v, c;

	if (height < 2 || width < 2)
		return;
	tui_cc(&h, u ? 0x2500 : L'-');
	tui_cc(&v, u ? 0x2502 : L'|');
	mvwhline_set(w, y, x + 1, &h, width - 2);
	mvwhline_set(w, y + height - 1, x + 1, &h, width - 2);
	mvwvline_set(w, y + 1, x, &v, height - 2);
	mvwvline_set(w, y + 1, x + width - 1, &v, height - 2);
	tui_cc(&c, u ? 0x250c : L'+');
	mvwadd_wch(w, y, x, &c);
	tui_cc(&c, u ? 0x2510 : L'+');
	mvwadd_wch(w, y, x + width - 1, &c);
	tui_cc(&c, u ? 0x2514 : L'+');
	mvwadd_wch(w, y + height - 1, x, &c);
	tui_cc(&c, u ? 0x2518 : L'+');
	mvwadd_wch(w, y + height - 1, x + width - 1, &c);
}

/* The screens call time_format_local() with a style; the formats they
 * used to pass map onto the styles, so the date follows the locale.  Any
 * other format is kept as written. */
void tui_format_time(int64_t ms, const char *fmt, char *out, size_t size)
{
	static const struct { const char *fmt; enum time_style style; } styles[] = {
		{ "%Y-%m-%d", TIME_DATE },
		{ "%Y-%m-%d %H:%M", TIME_MINUTES },
		{ "%Y-%m-%d %H:%M:%S", TIME_SECONDS },
		{ "%m-%d %H:%M", TIME_SHORT },
		{ "%m-%d %H:%M:%S", TIME_SHORT_SECONDS },
		{ "%H:%M:%S", TIME_CLOCK },
	};
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	for (size_t i = 0; i < ARRAY_SIZE(styles); i++)
		if (strcmp(fmt, styles[i].fmt) == 0) {
			time_format_local(ms, styles[i].style, out, size);
			return;
		}
	if (ms <= 0 || !localtime_r(&s, &tm) || strftime(out, size, fmt, &tm) == 0)
		snprintf(out, size, "-");
}

void tui_format_age(int64_t at, char *out, size_t size)
{
	char age[32];

	if (at <= 0) {
		/* TRANSLATORS: the age of a figure never received */
		snprintf(out, size, "%s", _("never"));
		return;
	}
	time_format_age(time_now_ms() - at, age);
	/* TRANSLATORS: an age, "5m ago" */
	snprintf(out, size, _("%s ago"), age);
}

void tui_draw_bar(const struct tui *t, WINDOW *w, int y, int x, int width, int64_t done,
                  int64_t total)
{
	/* U+258F (1/8) .. U+2589 (7/8): left-aligned eighth blocks */
	static const wchar_t eighths[8] = { L' ', 0x258f, 0x258e, 0x258d,
		                            0x258c, 0x258b, 0x258a, 0x2589 };
	bool u = t && t->utf8;
	attr_t a = tui_attr(t, TUI_C_BAR);
	int64_t units, full, part;

	if (width <= 0)
		return;
	wmove(w, y, x);
	if (total <= 0) {
		/* unknown total: a block moving back and forth */
		int span = width > 4 ? 4 : 1, range = width - span;
		int64_t tick = time_mono_ms() / 100;
		int pos = range > 0 ? (int)(tick % (2 * range)) : 0;

		if (pos > range)
			pos = 2 * range - pos;
		for (int i = 0; i < width; i++) {
			bool on = i >= pos && i < pos + span;
			if (on)
				wattron(w, a);
			if (u) {
				wchar_t s[2] = { on ? (wchar_t)0x2588 : (wchar_t)0x2591, 0 };
				waddnwstr(w, s, 1);
			} else {
				waddch(w, on ? '#' : '.');
			}
			if (on)
				wattroff(w, a);
		}
		return;
	}
	if (done < 0)
		done = 0;
	if (done > total)
		done = total;
	units = (int64_t)((long double)done * width * 8 / total);
	full = units / 8;
	part = units % 8;
	if (!u) {
		full = (int64_t)((long double)done * width / total);
		part = 0;
	}
	wattron(w, a);
	for (int64_t i = 0; i < full; i++) {
		if (u) {
			wchar_t s[2] = { 0x2588, 0 };
			waddnwstr(w, s, 1);
		} else {
			waddch(w, '#');
		}
	}
	if (part && full < width) {
		wchar_t s[2] = { eighths[part], 0 };
		waddnwstr(w, s, 1);
		full++;
	}
	wattroff(w, a);
	for (int64_t i = full; i < width; i++) {
		if (u) {
			wchar_t s[2] = { 0x2591, 0 };
			waddnwstr(w, s, 1);
		} else {
			waddch(w, '.');
		}
	}
}

/* ---- keys ---- */

static const struct {
	const char *name;
	int ch[4];
} tui_named_keys[] = {
	{ "Enter", { '\n', '\r', KEY_ENTER, -1 } },
	{ "Space", { ' ', -1, -1, -1 } },
	{ "Esc", { 27, -1, -1, -1 } },
	{ "Tab", { '\t', -1, -1, -1 } },
	{ "S-Tab", { KEY_BTAB, -1, -1, -1 } },
	{ "Up", { KEY_UP, -1, -1, -1 } },
	{ "Down", { KEY_DOWN, -1, -1, -1 } },
	{ "Left", { KEY_LEFT, -1, -1, -1 } },
	{ "Right", { KEY_RIGHT, -1, -1, -1 } },
	{ "PgUp", { KEY_PPAGE, -1, -1, -1 } },
	{ "PgDn", { KEY_NPAGE, -1, -1, -1 } },
	{ "Home", { KEY_HOME, -1, -1, -1 } },
	{ "End", { KEY_END, -1, -1, -1 } },
	{ "Backspace", { KEY_BACKSPACE, 127, 8, -1 } },
	{ "Del", { KEY_DC, -1, -1, -1 } },
	{ "F1", { KEY_F(1), -1, -1, -1 } },
	{ "F2", { KEY_F(2), -1, -1, -1 } },
};

static bool tui_key_matches1(const char *name, size_t len, int ch)
{
	if (len == 1)
		return (unsigned char)name[0] == ch;
	if (len == 2 && name[0] == '^' && name[1] >= '@' && name[1] <= '_')
		return ch == name[1] - '@';
	for (size_t i = 0; i < ARRAY_SIZE(tui_named_keys); i++) {
		if (strlen(tui_named_keys[i].name) != len ||
		    strncmp(tui_named_keys[i].name, name, len) != 0)
			continue;
		for (int k = 0; k < 4 && tui_named_keys[i].ch[k] != -1; k++)
			if (tui_named_keys[i].ch[k] == ch)
				return true;
		return false;
	}
	return false;
}

bool tui_key_matches(const char *name, int ch)
{
	const char *p;

	if (!name || !*name)
		return false;
	if (strlen(name) == 1)
		return tui_key_matches1(name, 1, ch);
	/* "j/k", "Up/Down": either; a lone "/" is the slash key itself */
	while ((p = strchr(name, '/')) && p != name) {
		if (tui_key_matches1(name, (size_t)(p - name), ch))
			return true;
		name = p + 1;
		if (!*name)
			return false;
	}
	return tui_key_matches1(name, strlen(name), ch);
}

/* ---- screens ---- */

static struct tui_frame tui_top(struct tui *t)
{
	struct tui_frame f;

	if (t->n_pushed > 0)
		return t->pushed[t->n_pushed - 1];
	if (!t->main_st[t->current])
		t->main_st[t->current] = t->mains[t->current]->open(t, NULL);
	f.ops = t->mains[t->current];
	f.st = t->main_st[t->current];
	return f;
}

void tui_push(struct tui *t, const struct tui_screen_ops *ops, void *arg)
{
	void *st;

	if (t->n_pushed >= TUI_MAX_PUSHED) {
		tui_error(t, _("too many views open; close one with Esc first"));
		return;
	}
	st = ops->open(t, arg);
	t->pushed[t->n_pushed].ops = ops;
	t->pushed[t->n_pushed].st = st;
	t->n_pushed++;
	if (ops->refresh)
		(ops->refresh)(t, st);
}

static void tui_pop(struct tui *t)
{
	struct tui_frame f;

	if (t->n_pushed == 0)
		return;
	f = t->pushed[--t->n_pushed];
	if (f.ops->close)
		f.ops->close(f.st);
}

static void tui_switch(struct tui *t, int idx)
{
	while (t->n_pushed > 0)
		tui_pop(t);
	t->current = (idx % 5 + 5) % 5;
}

/* ---- configuration reload ---- */

int tui_conf_reload(struct tui *t, struct error *err)
{
	struct conf *c;
	int64_t id;

	c = conf_load(t->opts.config_path, err);
	if (!c)
		return -1;
	if (db_begin(t->db, err) != 0)
		goto fail;
	for (int i = 0; i < c->n_suppliers; i++) {
		if (suppliers_upsert(t->db, &c->suppliers[i], &id, err) != 0) {
			db_rollback(t->db);
			goto fail;
		}
	}
	if (db_commit(t->db, err) != 0)
		goto fail;
	t->old_confs = xrealloc(t->old_confs, (t->n_old_confs + 1) * sizeof(*t->old_confs));
	t->old_confs[t->n_old_confs++] = t->conf;
	t->conf = c;
	return 0;
fail:
	conf_free(c);
	return -1;
}

/* ---- the frame: tab bar, body, status line ---- */

static void tui_layout(struct tui *t)
{
	int brows;

	getmaxyx(stdscr, t->rows, t->cols);
	brows = t->rows - 2 > 1 ? t->rows - 2 : 1;
	if (t->body)
		delwin(t->body);
	t->body = newwin(brows, t->cols > 0 ? t->cols : 1, 1, 0);
	if (t->body) {
		keypad(t->body, TRUE);
		wtimeout(t->body, TUI_TICK_MS);
	}
}

static void tui_draw_tabs(struct tui *t)
{
	int x = 0;
	attr_t title = tui_attr(t, TUI_C_TITLE);

	move(0, 0);
	wattron(stdscr, title);
	tui_put(stdscr, 0, 0, t->cols, "");
	for (int i = 0; i < 5 && x < t->cols; i++) {
		char label[96];
		int w;
		bool cur = i == t->current;

		snprintf(label, sizeof(label), " %d %s ", i + 1, _(t->mains[i]->name));
		w = (int)mbstowcs(NULL, label, 0);
		if (w < 0)
			w = (int)strlen(label);
		if (x + w > t->cols)
			w = t->cols - x;
		if (cur) {
			wattroff(stdscr, title);
			wattron(stdscr, tui_attr(t, TUI_C_SELECTED) | A_BOLD);
		}
		tui_put(stdscr, 0, x, w, label);
		if (cur) {
			wattroff(stdscr, tui_attr(t, TUI_C_SELECTED) | A_BOLD);
			wattron(stdscr, title);
		}
		x += w;
	}
	if (t->n_pushed > 0 && x < t->cols) {
		char label[128];
		const char *name = t->pushed[t->n_pushed - 1].ops->name;

		snprintf(label, sizeof(label), " > %s", name ? _(name) : "");
		tui_put(stdscr, 0, x, t->cols - x, label);
		x += (int)text_width(label);
	}
	{
		const char *hint = t->opts.read_only ? _("read-only  ? help ") : _("? help ");
		int w = (int)text_width(hint);

		/* long tab names (German) leave no room: keep the read-only mark */
		if (t->cols - w <= x + 1 && t->opts.read_only) {
			/* TRANSLATORS: the tab bar's mark of --read-only when the
			   longer "read-only  ? help " does not fit: as short as
			   possible, ending in a blank */
			hint = _("read-only ");
			w = (int)text_width(hint);
		}
		if (t->cols - w > x + 1)
			tui_put(stdscr, 0, t->cols - w, w, hint);
	}
	wattroff(stdscr, title);
}


/* Bytes of s that fit in width display cells. */
static size_t tui_fit(const char *s, int width)
{
	mbstate_t ps;
	size_t len = strlen(s), off = 0;
	int w = 0;

	memset(&ps, 0, sizeof(ps));
	while (off < len) {
		wchar_t wc;
		size_t k = mbrtowc(&wc, s + off, len - off, &ps);
		int cw;

		if (k == 0)
			break;
		if (k == (size_t)-1 || k == (size_t)-2) {
			memset(&ps, 0, sizeof(ps));
			k = 1;
			cw = 1;
		} else {
			cw = wcwidth(wc);
			if (cw < 0)
				cw = 1;
		}
		if (w + cw > width)
			break;
		w += cw;
		off += k;
	}
	return off;
}

/* The status line: the last message or error (else the database path) on
 * the left, the daemon's state on the right.  An error too long for it
 * takes the line above too (*overflow gets the bytes shown there). */
static void tui_draw_status(struct tui *t, size_t *overflow)
{
	char right[128], left[PATH_MAX + 16];
	const char *path = db_path(t->db);
	const char *msg = t->msg;
	int y = t->rows - 1, rw, avail;
	attr_t a = A_NORMAL;

	*overflow = 0;
	if (y < 1)
		return;
	if (t->daemon_running)
		/* TRANSLATORS: the status line's right end, with blanks at both
		   ends; %ld is the daemon's process id */
		snprintf(right, sizeof(right), _(" daemon: running (%ld) "), t->daemon_pid);
	else
		snprintf(right, sizeof(right), "%s", _(" daemon: not running "));
	rw = (int)text_width(right);
	if (rw > t->cols)
		rw = t->cols;
	avail = t->cols - rw;
	/* a message fades after a while; an error stays until the next one */
	if (!t->msg_error && t->msg[0] && time_mono_ms() - t->msg_at > TUI_MESSAGE_MS)
		t->msg[0] = '\0';
	if (msg[0]) {
		if (t->msg_error) {
			a = tui_attr(t, TUI_C_ERROR);
			if ((int)text_width(msg) > avail && t->rows > 4) {
				*overflow = tui_fit(msg, t->cols);
				msg += *overflow;
			}
		}
		snprintf(left, sizeof(left), "%s", msg);
	} else {
		/* the database path, shortened from the left when it must be */
		const char *p = path ? path : "";
		int pw = (int)text_width(p);
		int room = avail - (int)strlen(_("database ")) - 1;

		if (pw > room && room > 4) {
			size_t cut = strlen(p) - (size_t)(room - 3);
			snprintf(left, sizeof(left), _("database ...%s"), p + cut);
		} else {
			snprintf(left, sizeof(left), _("database %s"), p);
		}
		a = tui_attr(t, TUI_C_DIM);
	}
	if (avail > 0) {
		wattron(stdscr, a);
		tui_put(stdscr, y, 0, avail, left);
		wattroff(stdscr, a);
	}
	wattron(stdscr, t->daemon_running ? tui_attr(t, TUI_C_OK) : tui_attr(t, TUI_C_DIM));
	tui_put(stdscr, y, avail, rw, right);
	wattroff(stdscr, t->daemon_running ? tui_attr(t, TUI_C_OK) : tui_attr(t, TUI_C_DIM));
}

static void tui_key_line(const struct tui *t, const struct tui_key *k, char *out, size_t size)
{
	(void)t;
	snprintf(out, size, "  %-9s %s", k->key, _(k->help));
}

/* The help lines of a screen: its keys, then the global ones. */
static int tui_help_lines(const struct tui *t, const struct tui_screen_ops *ops, char lines[][256],
                          int max)
{
	const struct tui_key *lists[2] = { ops->keys, tui_global_keys };
	int n = 0;

	for (int l = 0; l < 2; l++) {
		if (l == 1 && n < max) {
			snprintf(lines[n++], 256, "%s", "");
			if (n < max)
				snprintf(lines[n++], 256, "%s", _("Everywhere"));
		}
		for (const struct tui_key *k = lists[l]; k && k->key && n < max; k++) {
			if (k->writes && t->opts.read_only)
				continue;
			tui_key_line(t, k, lines[n++], 256);
		}
	}
	return n;
}

static void tui_draw_help(struct tui *t, const struct tui_screen_ops *ops)
{
	char lines[64][256], line[256];
	int n, h, w, y0, x0, inner, brows, bcols;
	WINDOW *win = t->body;

	getmaxyx(win, brows, bcols);
	n = tui_help_lines(t, ops, lines, 64);
	h = n + 2 > brows ? brows : n + 2;
	inner = h - 2;
	if (t->help_top > n - inner)
		t->help_top = n - inner;
	if (t->help_top < 0)
		t->help_top = 0;
	w = bcols > 100 ? 100 : bcols;
	y0 = (brows - h) / 2;
	x0 = (bcols - w) / 2;
	for (int i = 0; i < h; i++)
		tui_put(win, y0 + i, x0, w, "");
	tui_box(t, win, y0, x0, h, w);
	if (n > inner)
		snprintf(line, sizeof(line), _(" Keys: %s (Up/Down scroll, any other key closes) "),
		         _(ops->name));
	else
		snprintf(line, sizeof(line), _(" Keys: %s (any key closes) "), _(ops->name));
	wattron(win, A_BOLD);
	tui_put(win, y0, x0 + 2, (int)text_width(line) < w - 4 ? (int)text_width(line) : w - 4, line);
	wattroff(win, A_BOLD);
	for (int i = 0; i < inner && t->help_top + i < n; i++) {
		const char *s = lines[t->help_top + i];
		bool title = s[0] && s[0] != ' ';
		if (title)
			wattron(win, A_BOLD);
		tui_put(win, y0 + 1 + i, x0 + 1, w - 2, "");
		tui_put(win, y0 + 1 + i, x0 + (title ? 3 : 1), w - (title ? 4 : 2), s);
		if (title)
			wattroff(win, A_BOLD);
	}
}

static void tui_draw(struct tui *t)
{
	struct tui_frame f = tui_top(t);
	int brows, bcols;
	size_t overflow;

	erase();
	tui_draw_tabs(t);
	tui_draw_status(t, &overflow);
	wnoutrefresh(stdscr);
	if (t->body) {
		werase(t->body);
		getmaxyx(t->body, brows, bcols);
		if (f.ops->draw)
			f.ops->draw(t, f.st, t->body, brows, bcols);
		if (t->help)
			tui_draw_help(t, f.ops);
		if (overflow && brows > 1) {
			/* the first part of a long error, above the status line */
			char *head = xstrndup(t->msg, overflow);
			wattron(t->body, tui_attr(t, TUI_C_ERROR));
			tui_put(t->body, brows - 1, 0, bcols, head);
			wattroff(t->body, tui_attr(t, TUI_C_ERROR));
			free(head);
		}
		wnoutrefresh(t->body);
	}
	doupdate();
}

static void tui_check_daemon(struct tui *t, bool force)
{
	int64_t now = time_mono_ms();

	if (!force && now - t->daemon_checked < TUI_DAEMON_CHECK_MS)
		return;
	t->daemon_checked = now;
	t->daemon_pid = 0;
	t->daemon_running = daemon_is_running(t->conf->db_path, &t->daemon_pid);
}

/* ---- modal helpers ---- */

/* Draws the prompt line: label then the text, the cursor at its end. */
static void tui_prompt_draw(struct tui *t, const char *label, const wchar_t *text, size_t n)
{
	int y = t->rows - 1, lw, tw = 0;
	size_t start = 0;

	lw = (int)text_width(label);
	if (lw > t->cols * 2 / 3)
		lw = t->cols * 2 / 3;
	/* one blank between the label and the text, whatever the label ends with */
	if (lw > 0 && label[strlen(label) - 1] != ' ')
		lw++;
	for (size_t i = 0; i < n; i++)
		tw += wcwidth(text[i]) > 0 ? wcwidth(text[i]) : 1;
	/* show the end of a text longer than the line */
	while (start < n && tw > t->cols - lw - 2) {
		tw -= wcwidth(text[start]) > 0 ? wcwidth(text[start]) : 1;
		start++;
	}
	attron(A_BOLD);
	tui_put(stdscr, y, 0, lw, label);
	attroff(A_BOLD);
	tui_put(stdscr, y, lw, t->cols - lw, "");
	mvaddnwstr(y, lw, text + start, (int)(n - start));
	move(y, lw + tw);
	refresh();
}

bool tui_prompt(struct tui *t, const char *label, char *buf, size_t size)
{
	wchar_t text[256];
	size_t n = 0;
	bool ok = false;
	mbstate_t ps;
	const char *src = buf;

	if (!buf || size == 0)
		return false;
	memset(&ps, 0, sizeof(ps));
	n = mbsrtowcs(text, &src, ARRAY_SIZE(text) - 1, &ps);
	if (n == (size_t)-1)
		n = 0;
	text[n] = 0;
	curs_set(1);
	timeout(TUI_TICK_MS);
	for (;;) {
		wint_t wc;
		int r;

		if (tui_sig_quit)
			break;
		tui_prompt_draw(t, label, text, n);
		r = get_wch(&wc);
		if (r == ERR)
			continue;
		if (r == KEY_CODE_YES) {
			if (wc == KEY_ENTER) {
				ok = true;
				break;
			}
			if (wc == KEY_BACKSPACE || wc == KEY_DC) {
				if (n)
					text[--n] = 0;
			} else if (wc == KEY_RESIZE) {
				tui_layout(t);
				tui_draw(t);
			}
			continue;
		}
		if (wc == '\n' || wc == '\r') {
			ok = true;
			break;
		}
		if (wc == 27 || wc == 7) {     /* Esc, ^G */
			break;
		}
		if (wc == 127 || wc == 8) {
			if (n)
				text[--n] = 0;
		} else if (wc == 21) {        /* ^U */
			n = 0;
			text[0] = 0;
		} else if (wc == 23) {        /* ^W: the word before the cursor */
			while (n && text[n - 1] == L' ')
				n--;
			while (n && text[n - 1] != L' ')
				n--;
			text[n] = 0;
		} else if (wc >= 0x20 && wc != 0x7f && n < ARRAY_SIZE(text) - 1) {
			text[n++] = (wchar_t)wc;
			text[n] = 0;
		}
	}
	curs_set(0);
	if (ok) {
		const wchar_t *p = text;
		size_t k;

		memset(&ps, 0, sizeof(ps));
		k = wcsrtombs(buf, &p, size - 1, &ps);
		if (k == (size_t)-1)
			k = 0;
		buf[k] = '\0';
	}
	tui_set_msg(t, false, "");
	return ok;
}

bool tui_confirm(struct tui *t, const char *question)
{
	char line[1024];
	int ch;
	bool yes = false;

	snprintf(line, sizeof(line), _("%s [y/N] "), question);
	timeout(TUI_TICK_MS);
	for (;;) {
		if (tui_sig_quit)
			break;
		attron(tui_attr(t, TUI_C_ERROR));
		if ((int)text_width(line) > t->cols && t->rows > 3) {
			/* a long question takes the line above too */
			size_t n = tui_fit(line, t->cols);
			char *head = xstrndup(line, n);
			tui_put(stdscr, t->rows - 2, 0, t->cols, head);
			tui_put(stdscr, t->rows - 1, 0, t->cols, line + n);
			free(head);
		} else {
			tui_put(stdscr, t->rows - 1, 0, t->cols, line);
		}
		attroff(tui_attr(t, TUI_C_ERROR));
		refresh();
		ch = getch();
		if (ch == ERR)
			continue;
		if (ch == KEY_RESIZE) {
			tui_layout(t);
			tui_draw(t);
			continue;
		}
		yes = ch == 'y' || ch == 'Y';
		break;
	}
	tui_set_msg(t, false, yes ? "" : _("cancelled"));
	return yes;
}

/* ---- detached syncs ---- */

int tui_spawn_sync(struct tui *t, const char *slug, bool delta, struct error *err)
{
	const char *args[5] = { "run-now", "--trigger=console", slug, delta ? "--delta" : NULL,
	                        NULL };

	/* with a daemon running, the run is queued for it under our name */
	tui_check_daemon(t, true);
	if (t->daemon_running) {
		int64_t sid = 0, run_id = 0;
		int r = suppliers_find(t->db, slug, &sid, err);

		if (r < 0)
			return -1;
		if (r == 0)
			return err_set(err, ERRK_USAGE, _("%s: not in the database"), slug);
		r = jobs_enqueue(t->db, sid, delta ? SYNC_DELTA : SYNC_FULL, "console", 0, &run_id,
		                 err);
		if (r < 0)
			return -1;
		if (r == ENQUEUE_RUNNING)
			return err_set(err, ERRK_BUSY, _("%s: a sync of this supplier is running now"),
			               slug);
		if (r == ENQUEUE_DUPLICATE)
			return err_set(err, ERRK_BUSY,
			               _("%s: run %lld is already queued for the daemon; nothing added"),
			               slug, (long long)run_id);
		return 0;
	}
	return tui_spawn(t, args, err);
}

int tui_spawn(struct tui *t, const char *const *args, struct error *err)
{
	const char *argv[32];
	const char *what = args && args[0] ? args[0] : "";
	int argc = 0, fds[2], status, child_errno = 0;
	pid_t pid;
	ssize_t n;

	argv[argc++] = "dropstock";
	if (t->opts.config_path) {
		argv[argc++] = "--config";
		argv[argc++] = t->opts.config_path;
	}
	argv[argc++] = "-q";
	for (int i = 0; args && args[i] && argc < (int)ARRAY_SIZE(argv) - 1; i++)
		argv[argc++] = args[i];
	argv[argc] = NULL;

	if (pipe(fds) != 0)
		return err_set(err, ERRK_INTERNAL, _("cannot start dropstock %s: pipe: %s"), what,
		               strerror(errno));
	fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return err_set(err, ERRK_INTERNAL, _("cannot start dropstock %s: fork: %s"), what,
		               strerror(errno));
	}
	if (pid == 0) {
		/* the first child: a new session, then the grandchild does the work
		 * and this one exits at once, so nothing waits for the sync and no
		 * zombie stays */
		sigset_t none;
		pid_t g;
		int null;

		close(fds[0]);
		setsid();
		g = fork();
		if (g != 0)
			_exit(g < 0 ? 1 : 0);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (int s = 1; s < NSIG; s++)
			if (s != SIGKILL && s != SIGSTOP)
				signal(s, SIG_DFL);
		null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
			if (null > 2)
				close(null);
		}
		/* keep only the error pipe (close-on-exec) */
		if (fds[1] != 3) {
			dup2(fds[1], 3);
			fds[1] = 3;
		}
		fcntl(3, F_SETFD, FD_CLOEXEC);
		{
			long max = sysconf(_SC_OPEN_MAX);
			if (max < 0 || max > 65536)
				max = 65536;
			for (int fd = 4; fd < max; fd++)
				close(fd);
		}
		execv("/proc/self/exe", (char *const *)argv);
		execvp("dropstock", (char *const *)argv);
		child_errno = errno;
		n = write(3, &child_errno, sizeof(child_errno));
		(void)n;
		_exit(127);
	}
	close(fds[1]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	/* EOF when exec worked (the pipe closed on exec), else its errno */
	while ((n = read(fds[0], &child_errno, sizeof(child_errno))) < 0 && errno == EINTR)
		;
	close(fds[0]);
	if (n == (ssize_t)sizeof(child_errno))
		return err_set(err, ERRK_INTERNAL, _("cannot start dropstock %s: %s: %s"), what,
		               "/proc/self/exe", strerror(child_errno));
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		return err_set(err, ERRK_INTERNAL, _("cannot start dropstock %s: fork failed"), what);
	return 0;
}

/* ---- background jobs ---- */

struct tui_job {
	pthread_t thread;
	pthread_mutex_t lock;
	bool done, abandoned;
	void (*fn)(struct db *db, const struct conf *c, void *arg);
	void *arg;
	void (*free_arg)(void *arg);
	char *db_path;
	const struct conf *conf;
};

static pthread_mutex_t tui_jobs_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t tui_jobs_cond = PTHREAD_COND_INITIALIZER;
static int tui_jobs_live;

static void tui_job_destroy(struct tui_job *j)
{
	if (j->free_arg && j->arg)
		j->free_arg(j->arg);
	free(j->db_path);
	pthread_mutex_destroy(&j->lock);
	free(j);
}

static void *tui_job_main(void *p)
{
	struct tui_job *j = p;
	struct error err = { 0 };
	struct db *db;
	bool abandoned;

	db = db_open(j->db_path, &err);
	/* the job's fn gets NULL when the database would not open: it reports */
	j->fn(db, j->conf, j->arg);
	if (db)
		db_close(db);
	pthread_mutex_lock(&j->lock);
	j->done = true;
	abandoned = j->abandoned;
	pthread_mutex_unlock(&j->lock);
	if (abandoned)
		tui_job_destroy(j);
	pthread_mutex_lock(&tui_jobs_lock);
	tui_jobs_live--;
	pthread_cond_broadcast(&tui_jobs_cond);
	pthread_mutex_unlock(&tui_jobs_lock);
	return NULL;
}

struct tui_job *tui_job_start(struct tui *t, void (*fn)(struct db *db, const struct conf *c,
                                                        void *arg), void *arg,
                              void (*free_arg)(void *arg))
{
	struct tui_job *j = xcalloc(1, sizeof(*j));
	pthread_attr_t attr;
	sigset_t all, old;
	int rc;

	pthread_mutex_init(&j->lock, NULL);
	j->fn = fn;
	j->arg = arg;
	j->free_arg = free_arg;
	j->db_path = xstrdup(db_path(t->db));
	j->conf = t->conf;
	pthread_mutex_lock(&tui_jobs_lock);
	tui_jobs_live++;
	pthread_mutex_unlock(&tui_jobs_lock);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* signals stay with the UI thread */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&j->thread, &attr, tui_job_main, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		/* no thread: run it here rather than lose it (rare) */
		pthread_mutex_lock(&tui_jobs_lock);
		tui_jobs_live--;
		pthread_mutex_unlock(&tui_jobs_lock);
		{
			struct error err = { 0 };
			struct db *db = db_open(j->db_path, &err);
			j->fn(db, j->conf, j->arg);
			if (db)
				db_close(db);
		}
		j->done = true;
	}
	return j;
}

bool tui_job_done(struct tui_job *j)
{
	bool d;

	if (!j)
		return true;
	pthread_mutex_lock(&j->lock);
	d = j->done;
	pthread_mutex_unlock(&j->lock);
	return d;
}

void *tui_job_arg(struct tui_job *j)
{
	return j ? j->arg : NULL;
}

void tui_job_abandon(struct tui_job *j)
{
	bool done;

	if (!j)
		return;
	pthread_mutex_lock(&j->lock);
	done = j->done;
	j->abandoned = true;
	pthread_mutex_unlock(&j->lock);
	if (done)
		tui_job_destroy(j);
}

void tui_job_free(struct tui_job *j)
{
	if (!j)
		return;
	if (!tui_job_done(j)) {
		tui_job_abandon(j);
		return;
	}
	tui_job_destroy(j);
}

/* Waits up to ms for the jobs still running; true when none is left. */
static bool tui_jobs_wait(int64_t ms)
{
	int64_t end = time_mono_ms() + ms;
	bool none;

	pthread_mutex_lock(&tui_jobs_lock);
	while (tui_jobs_live > 0 && time_mono_ms() < end) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&tui_jobs_cond, &tui_jobs_lock, &ts);
	}
	none = tui_jobs_live == 0;
	pthread_mutex_unlock(&tui_jobs_lock);
	return none;
}

/* ---- the loop ---- */

/* Refuses a key that writes in --read-only; true when refused. */
static bool tui_refuse_write(struct tui *t, const struct tui_screen_ops *ops, int ch)
{
	if (!t->opts.read_only || !ops->keys)
		return false;
	for (const struct tui_key *k = ops->keys; k->key; k++) {
		if (k->writes && tui_key_matches(k->key, ch)) {
			tui_error(t, _("read-only console: '%s' (%s) is not available"), k->key,
			          _(k->help));
			return true;
		}
	}
	return false;
}

static void tui_handle_key(struct tui *t, int ch)
{
	struct tui_frame f = tui_top(t);
	int r = TUI_UNHANDLED;

	if (t->help) {
		/* the overlay scrolls; any other key closes it */
		if (ch == KEY_DOWN || ch == 'j')
			t->help_top++;
		else if (ch == KEY_UP || ch == 'k')
			t->help_top--;
		else if (ch == KEY_NPAGE || ch == ' ')
			t->help_top += 10;
		else if (ch == KEY_PPAGE)
			t->help_top -= 10;
		else if (ch != KEY_RESIZE)
			t->help = false;
		if (ch != KEY_RESIZE)
			return;
	}
	if (ch == KEY_RESIZE) {
		tui_layout(t);
		return;
	}
	if (tui_refuse_write(t, f.ops, ch))
		return;
	if (f.ops->key)
		r = f.ops->key(t, f.st, ch);
	if (r & TUI_RELOAD) {
		f = tui_top(t);
		if (f.ops->refresh)
			(f.ops->refresh)(t, f.st);
	}
	if (r & TUI_QUIT)
		t->quit = true;
	if (r & TUI_BACK) {
		tui_pop(t);
		f = tui_top(t);
		if (f.ops->refresh)
			(f.ops->refresh)(t, f.st);
	}
	if (r != TUI_UNHANDLED)
		return;
	switch (ch) {
	case '1':
	case '2':
	case '3':
	case '4':
	case '5':
		tui_switch(t, ch - '1');
		break;
	case '\t':
		tui_switch(t, t->current + 1);
		break;
	case KEY_BTAB:
		tui_switch(t, t->current - 1);
		break;
	case 27:
		if (t->n_pushed > 0)
			tui_pop(t);
		break;
	case '?':
	case KEY_F(1):
		t->help = true;
		t->help_top = 0;
		break;
	case 12:        /* ^L */
		clearok(curscr, TRUE);
		break;
	case 'q':
	case 'Q':
		t->quit = true;
		break;
	default:
		break;
	}
	f = tui_top(t);
	if (f.ops->refresh)
		(f.ops->refresh)(t, f.st);
}

/* Home/End and friends as other terminals send them: a TERM that does not
 * quite match the terminal (common over SSH and inside tmux/screen) must
 * not turn Home into Esc [ 1 ~ (and so into the key 1). */
static void tui_define_keys(void)
{
	static const struct {
		const char *seq;
		int key;
	} extra[] = {
		{ "\033[1~", KEY_HOME }, { "\033[7~", KEY_HOME }, { "\033[H", KEY_HOME },
		{ "\033OH", KEY_HOME },  { "\033[4~", KEY_END },  { "\033[8~", KEY_END },
		{ "\033[F", KEY_END },   { "\033OF", KEY_END },   { "\033[5~", KEY_PPAGE },
		{ "\033[6~", KEY_NPAGE }, { "\033[3~", KEY_DC },   { "\033[Z", KEY_BTAB },
		{ "\033[A", KEY_UP },    { "\033[B", KEY_DOWN },  { "\033[C", KEY_RIGHT },
		{ "\033[D", KEY_LEFT },  { "\033OA", KEY_UP },    { "\033OB", KEY_DOWN },
		{ "\033OC", KEY_RIGHT }, { "\033OD", KEY_LEFT },
	};

	for (size_t i = 0; i < ARRAY_SIZE(extra); i++)
		if (key_defined(extra[i].seq) <= 0)
			define_key(extra[i].seq, extra[i].key);
}

int tui_run(struct conf *c, struct db *db, const struct tui_opts *o)
{
	struct tui t;
	SCREEN *screen;
	int64_t last_refresh = 0;
	const char *esc;

	memset(&t, 0, sizeof(t));
	t.conf = c;
	t.db = db;
	if (o)
		t.opts = *o;
	t.log_fd = -1;
	t.mains[0] = &tui_screen_suppliers;
	t.mains[1] = &tui_screen_syncs;
	t.mains[2] = &tui_screen_history;
	t.mains[3] = &tui_screen_check;
	t.mains[4] = &tui_screen_unknown;
	t.utf8 = tui_detect_utf8();
	/* schedules and clock times as the daemon sees them */
	if (c->daemon.timezone && *c->daemon.timezone) {
		setenv("TZ", c->daemon.timezone, 1);
		tzset();
	}

	/* Esc answers at once (no 1 s wait for an escape sequence) */
	if (!(esc = getenv("ESCDELAY")) || !*esc)
		set_escdelay(25);
	/* newterm rather than initscr: an unknown terminal is an error to
	 * report, not an exit inside the library */
	screen = newterm(NULL, stdout, stdin);
	if (!screen) {
		const char *term = getenv("TERM");
		fprintf(stderr, _("dropstock: cannot open the console on this terminal (TERM=%s); "
		                  "try TERM=xterm or TERM=vt100\n"),
		        term && *term ? term : _("(not set)"));
		return 1;
	}
	set_term(screen);
	tui_catch_stderr(&t);
	tui_curses_on = 1;
	tui_signals(true);
	cbreak();
	noecho();
	nonl();
	intrflush(stdscr, FALSE);
	keypad(stdscr, TRUE);
	tui_define_keys();
	curs_set(0);
	timeout(TUI_TICK_MS);
	tui_colours_init(&t);
	tui_layout(&t);
	tui_check_daemon(&t, true);
	if (t.opts.read_only)
		tui_message(&t, _("read-only: keys that change anything are off"));

	while (!t.quit && !tui_sig_quit) {
		int64_t now = time_mono_ms();
		struct tui_frame f;
		int ch;

		tui_drain_stderr(&t);
		tui_check_daemon(&t, false);
		f = tui_top(&t);
		if (now - last_refresh >= TUI_REFRESH_MS) {
			if (f.ops->refresh)
				(f.ops->refresh)(&t, f.st);
			last_refresh = now;
		}
		tui_draw(&t);
		ch = getch();
		if (ch == ERR)
			continue;
		/* everything already typed is handled before the next redraw */
		do {
			if (ch == 3) {       /* ^C in case the terminal sends it raw */
				t.quit = true;
				break;
			}
			tui_handle_key(&t, ch);
			if (t.quit)
				break;
			nodelay(stdscr, TRUE);
			ch = getch();
			timeout(TUI_TICK_MS);
		} while (ch != ERR);
	}

	while (t.n_pushed > 0)
		tui_pop(&t);
	for (int i = 0; i < 5; i++)
		if (t.main_st[i] && t.mains[i]->close)
			t.mains[i]->close(t.main_st[i]);
	if (t.body)
		delwin(t.body);
	tui_curses_on = 0;
	endwin();
	delscreen(screen);
	tui_signals(false);
	tui_release_stderr(&t);
	tui_sig_quit = 0;
	if (!tui_jobs_wait(TUI_JOB_EXIT_WAIT_MS)) {
		/* a live check or test still waits for a supplier and uses the
		 * configuration: leave without freeing it under the thread */
		fflush(stdout);
		_exit(0);
	}
	/* the caller frees the configuration it gave; reloaded ones are ours */
	for (size_t i = 0; i < t.n_old_confs; i++)
		if (t.old_confs[i] != c)
			conf_free(t.old_confs[i]);
	free(t.old_confs);
	if (t.conf != c)
		conf_free(t.conf);
	return 0;
}
