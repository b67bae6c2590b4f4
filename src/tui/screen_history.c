/* screen_history.c - the stock-change log, newest first.
 *
 * Paging is keyset only (report_history with a cursor): the screen keeps
 * the cursor each page started from, so PgUp goes back without an OFFSET
 * and nothing ever counts the table.  The date window is a day: its end
 * is the first page's cursor, its start the filter's since.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/report.h"
#include "tui/tui.h"

#define DAY_MS (24LL * 3600 * 1000)

struct hrow {
	int64_t id;
	int64_t recorded_at;
	char *supplier;            /* NULL when the supplier is gone */
	char *supplier_sku;
	char *product_sku;         /* NULL when the product is gone */
	bool has_prev;
	int64_t prev, new_stock;
	char source[16];
};

/* A page load in a worker: a filter that matches little scans much of
 * the log, which must not freeze the keys. */
struct page_job {
	/* in */
	char sku[128];
	char supplier[64];
	const char *source;
	int64_t since;
	int64_t limit;
	bool has_after;
	struct report_cursor after;
	/* out */
	struct hrow *rows;
	int n, cap;
	bool has_more;
	struct report_cursor next;
	int rc;
	struct error err;
};

struct history {
	struct hrow *rows;
	int n, cap;
	bool has_more;
	struct report_cursor next;

	/* page i starts after starts[i]; page 0 of "all dates" has no cursor */
	struct report_cursor *starts;
	int depth, starts_cap;

	int sel;
	bool sel_last;             /* after the load, select the last row */
	int page_rows;             /* the limit the rows were loaded with */
	bool need_load;            /* what to show changed: load, drop a running load */
	bool want_reload;          /* the data changed: load again after a running load */
	struct tui_job *job;       /* the running load, NULL = none */
	bool job_moves;            /* ... started for another page or filter */
	int64_t job_started;       /* time_mono_ms() */
	int64_t latest_id;

	char sku[128];             /* "" = any */
	char supplier[64];         /* "" = any */
	int source;                /* index in sources[] */
	int64_t win_start;         /* local midnight of the window's day, 0 = all dates */

	char push_sku[256];        /* the SKU view's argument, alive while we are */
};

static const char *const sources[] = { NULL, "full", "delta", "webhook", "check", "manual" };

static void rows_free(struct hrow *rows, int n)
{
	for (int i = 0; i < n; i++) {
		free(rows[i].supplier);
		free(rows[i].supplier_sku);
		free(rows[i].product_sku);
	}
}

static void rows_clear(struct history *h)
{
	rows_free(h->rows, h->n);
	h->n = 0;
}

static int add_row(void *ud, const struct report_history_row *r)
{
	struct page_job *j = ud;
	struct hrow *o;

	if (j->n == j->cap) {
		j->cap = j->cap ? j->cap * 2 : 32;
		j->rows = xrealloc(j->rows, (size_t)j->cap * sizeof(*j->rows));
	}
	o = &j->rows[j->n++];
	memset(o, 0, sizeof(*o));
	o->id = r->id;
	o->recorded_at = r->recorded_at;
	o->supplier = xstrdup(r->supplier);
	o->supplier_sku = xstrdup(r->supplier_sku);
	o->product_sku = xstrdup(r->product_sku);
	o->has_prev = r->has_prev;
	o->prev = r->prev;
	o->new_stock = r->new_stock;
	snprintf(o->source, sizeof(o->source), "%s", r->source);
	return 0;
}

/* Local midnight of the day holding ms, shifted by days. */
static int64_t day_start(int64_t ms, int days)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	if (!localtime_r(&s, &tm))
		return ms - ms % DAY_MS;
	tm.tm_hour = 0;
	tm.tm_min = 0;
	tm.tm_sec = 0;
	tm.tm_mday += days;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm) * 1000;
}

/* Sets page 0 for the current window and forgets the deeper pages. */
static void reset_pages(struct history *h)
{
	h->depth = 0;
	h->sel = 0;
	h->sel_last = false;
	h->need_load = true;
	if (!h->starts) {
		h->starts_cap = 16;
		h->starts = xcalloc((size_t)h->starts_cap, sizeof(*h->starts));
	}
	memset(&h->starts[0], 0, sizeof(h->starts[0]));
	if (h->win_start) {
		h->starts[0].recorded_at = day_start(h->win_start, 1);
		h->starts[0].id = 0;   /* (end, 0): every row of the day is older */
	}
}

static void page_job_run(struct db *db, const struct conf *c, void *arg)
{
	struct page_job *j = arg;
	struct report_history_filter f;

	(void)c;
	if (!db) {
		j->rc = err_set(&j->err, ERRK_DB, "%s", _("history: the database could not be opened"));
		return;
	}
	memset(&f, 0, sizeof(f));
	f.sku = j->sku[0] ? j->sku : NULL;
	f.supplier = j->supplier[0] ? j->supplier : NULL;
	f.source = j->source;
	f.since = j->since;
	f.limit = j->limit;
	f.has_after = j->has_after;
	f.after = j->after;
	j->rc = report_history(db, &f, add_row, j, &j->has_more, &j->next, &j->err);
}

static void page_job_free(void *arg)
{
	struct page_job *j = arg;

	rows_free(j->rows, j->n);
	free(j->rows);
	free(j);
}

/* Shows a finished load's page (unless what to show changed meanwhile). */
static void take_result(struct tui *t, struct history *h)
{
	struct page_job *j = tui_job_arg(h->job);

	if (!h->need_load) {
		if (j->rc < 0) {
			tui_error(t, "%s", j->err.msg);
			if (j->supplier[0] && j->err.kind == ERRK_USAGE) {
				h->supplier[0] = '\0';   /* the supplier went away */
				h->need_load = true;
			}
		} else {
			rows_clear(h);
			free(h->rows);
			h->rows = j->rows;
			h->n = j->n;
			h->cap = j->cap;
			j->rows = NULL;
			j->n = j->cap = 0;
			h->has_more = j->has_more;
			h->next = j->next;
			if (h->sel_last)
				h->sel = h->n - 1;
			h->sel_last = false;
			if (h->sel >= h->n)
				h->sel = h->n - 1;
			if (h->sel < 0)
				h->sel = 0;
		}
	}
	tui_job_free(h->job);
	h->job = NULL;
}

/* Starts a load when one is due; waits a moment for it, so a quick page
 * shows at once and only a slow one runs in the background. */
static void pump(struct tui *t, struct history *h)
{
	struct page_job *j;

	if (h->job && tui_job_done(h->job))
		take_result(t, h);
	if (h->job || !(h->need_load || h->want_reload))
		return;
	j = xcalloc(1, sizeof(*j));
	snprintf(j->sku, sizeof(j->sku), "%s", h->sku);
	snprintf(j->supplier, sizeof(j->supplier), "%s", h->supplier);
	j->source = sources[h->source];
	j->since = h->win_start;
	j->limit = h->page_rows > 0 ? h->page_rows : 20;
	if (h->depth > 0 || h->win_start) {
		j->has_after = true;
		j->after = h->starts[h->depth];
	}
	h->job_moves = h->need_load;
	h->need_load = false;
	h->want_reload = false;
	h->job_started = time_mono_ms();
	h->job = tui_job_start(t, page_job_run, j, page_job_free);
	while (!tui_job_done(h->job) && time_mono_ms() - h->job_started < 40) {
		struct timespec ts = { 0, 2 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	if (tui_job_done(h->job))
		take_result(t, h);
	else if (h->job_moves)
		rows_clear(h);   /* not the page asked for: show none until it comes */
}

/* While another page is being looked for, moving on from the one shown
 * would start from the wrong cursor. */
static bool busy(struct tui *t, struct history *h)
{
	pump(t, h);
	if (h->job && h->job_moves && !h->need_load) {
		tui_message(t, "%s", _("still searching the history..."));
		return true;
	}
	return false;
}

static void *history_open(struct tui *t, void *arg)
{
	struct history *h = xcalloc(1, sizeof(*h));
	struct error err = { 0 };

	(void)arg;
	reset_pages(h);
	if (report_history_latest(tui_db(t), &h->latest_id, &err) < 0)
		tui_error(t, "%s", err.msg);
	return h;
}

static void history_close(void *st)
{
	struct history *h = st;

	if (!h)
		return;
	if (h->job)
		tui_job_abandon(h->job);   /* its page is freed when it ends */
	rows_clear(h);
	free(h->rows);
	free(h->starts);
	free(h);
}

/* Cheap: one max(id).  Only the first page of "all dates" shows new
 * changes; deeper pages are stable by construction. */
static void history_refresh(struct tui *t, void *st)
{
	struct history *h = st;
	struct error err = { 0 };
	int64_t latest;

	if (report_history_latest(tui_db(t), &latest, &err) < 0)
		return;
	if (latest != h->latest_id) {
		h->latest_id = latest;
		if (h->depth == 0)
			h->want_reload = true;
	}
	pump(t, h);
}

static void put_attr(const struct tui *t, WINDOW *w, int y, int x, int width, const char *s,
                     enum tui_colour_pair p, bool selected)
{
	if (width <= 0)
		return;
	wattrset(w, selected ? tui_attr(t, TUI_C_SELECTED) : tui_attr(t, p));
	tui_put(w, y, x, width, s);
}

static void history_draw(struct tui *t, void *st, WINDOW *w, int rows, int cols)
{
	struct history *h = st;
	int body = rows - 3;
	char head[512], win[64], line[200];
	int wt = 14, wsrc = 8, wchg = 15, wsup, wss, wps, rem;
	const char *arrow = tui_utf8(t) ? " \xe2\x86\x92 " : " -> ";

	if (body < 1)
		body = 1;
	if (body != h->page_rows) {
		h->page_rows = body;
		h->need_load = true;
	}
	pump(t, h);

	werase(w);
	if (h->win_start) {
		time_format_local(h->win_start, TIME_DATE, win, sizeof(win));
	} else {
		/* TRANSLATORS: the Day filter of the History screen: no day chosen */
		snprintf(win, sizeof(win), "%s", _("all dates"));
	}
	/* TRANSLATORS: the filters of the History screen; "any" and "all" fill
	   in for no filter; the source is "full", "delta", "webhook", "check"
	   or "manual" as stored */
	snprintf(head, sizeof(head), _("Day: %s  SKU: %s  Supplier: %s  Source: %s  Page %d"),
	         win, h->sku[0] ? h->sku : _("any"), h->supplier[0] ? h->supplier : _("all"),
	         sources[h->source] ? state_label(sources[h->source]) : _("all"), h->depth + 1);
	if (h->job) {
		size_t n = strlen(head);

		snprintf(head + n, sizeof(head) - n, _("  %s searching"), tui_spinner(t));
	}
	put_attr(t, w, 0, 0, cols, head, TUI_C_TITLE, false);

	rem = cols - wt - wsrc - wchg - 5;
	if (rem < 12)
		rem = 12;
	wsup = rem / 4;
	if (wsup > 14)
		wsup = 14;
	wss = (rem - wsup) / 2;
	wps = rem - wsup - wss;
	if (wss > 32)
		wss = 32;
	if (wps > 32)
		wps = 32;
	{
		int x = 0;

		wattrset(w, tui_attr(t, TUI_C_DIM) | A_BOLD);
		tui_put(w, 1, 0, cols, "");
		/* TRANSLATORS: column headings of the History screen: Time (14
		   columns), Supplier, Supplier SKU, Store SKU, Prev -> new (the
		   stock before and after, 15 columns), Source (8 columns) */
		tui_put(w, 1, x, wt, _("Time"));
		x += wt + 1;
		tui_put(w, 1, x, wsup, _("Supplier"));
		x += wsup + 1;
		tui_put(w, 1, x, wss, _("Supplier SKU"));
		x += wss + 1;
		tui_put(w, 1, x, wps, _("Store SKU"));
		x += wps + 1;
		tui_put(w, 1, x, wchg, _("Prev -> new"));
		x += wchg + 1;
		if (x < cols)
			tui_put(w, 1, x, cols - x < wsrc ? cols - x : wsrc, _("Source"));
	}

	for (int i = 0; i < h->n && i < body; i++) {
		const struct hrow *r = &h->rows[i];
		bool sel = i == h->sel;
		enum tui_colour_pair cp = TUI_C_NORMAL;
		char tbuf[32], prev[48];
		int x = 0, y = 2 + i;

		if (!r->has_prev || r->new_stock > r->prev)
			cp = TUI_C_RISE;
		else if (r->new_stock < r->prev)
			cp = TUI_C_FALL;
		time_format_local(r->recorded_at, TIME_SHORT_SECONDS, tbuf, sizeof(tbuf));
		if (r->has_prev)
			snprintf(prev, sizeof(prev), "%s", fmt_int(r->prev));
		else
			snprintf(prev, sizeof(prev), "-");
		snprintf(line, sizeof(line), "%s%s%s", prev, arrow, fmt_int(r->new_stock));

		put_attr(t, w, y, 0, cols, "", TUI_C_NORMAL, sel);
		put_attr(t, w, y, x, wt, tbuf, TUI_C_NORMAL, sel);
		x += wt + 1;
		put_attr(t, w, y, x, wsup, r->supplier ? r->supplier : _("(removed)"),
		         r->supplier ? TUI_C_NORMAL : TUI_C_DIM, sel);
		x += wsup + 1;
		put_attr(t, w, y, x, wss, r->supplier_sku ? r->supplier_sku : "-", TUI_C_NORMAL, sel);
		x += wss + 1;
		put_attr(t, w, y, x, wps, r->product_sku ? r->product_sku : _("(removed)"),
		         r->product_sku ? TUI_C_NORMAL : TUI_C_DIM, sel);
		x += wps + 1;
		put_attr(t, w, y, x, wchg, line, cp, sel);
		x += wchg + 1;
		if (x < cols)
			put_attr(t, w, y, x, cols - x < wsrc ? cols - x : wsrc, state_label(r->source),
			         TUI_C_NORMAL, sel);
	}
	if (h->n == 0 && !h->job)
		put_attr(t, w, 2, 0, cols,
		         h->depth == 0 ? _("No stock changes match.") : _("No more changes."),
		         TUI_C_DIM, false);

	snprintf(line, sizeof(line), "%s",
	         h->has_more ? _("PgDn: older changes   Enter: SKU view   ?: keys")
	                     : _("End of the history   Enter: SKU view   ?: keys"));
	put_attr(t, w, rows - 1, 0, cols, line, TUI_C_DIM, false);
	wattrset(w, A_NORMAL);
}

static bool page_down(struct history *h)
{
	if (!h->has_more)
		return false;
	if (h->depth + 1 >= h->starts_cap) {
		h->starts_cap *= 2;
		h->starts = xrealloc(h->starts, (size_t)h->starts_cap * sizeof(*h->starts));
	}
	h->starts[++h->depth] = h->next;
	h->need_load = true;
	return true;
}

static bool page_up(struct history *h)
{
	if (h->depth == 0)
		return false;
	h->depth--;
	h->need_load = true;
	return true;
}

/* The supplier slugs, for cycling: all -> first -> ... -> last -> all. */
struct slugs {
	char (*v)[64];
	int n, cap;
};

static int slug_row(void *ud, const struct report_supplier *s)
{
	struct slugs *l = ud;

	if (strlen(s->slug) >= sizeof(l->v[0]))
		return 0;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xrealloc(l->v, (size_t)l->cap * sizeof(l->v[0]));
	}
	snprintf(l->v[l->n++], sizeof(l->v[0]), "%s", s->slug);
	return 0;
}

static void cycle_supplier(struct tui *t, struct history *h)
{
	struct slugs l = { NULL, 0, 0 };
	struct error err = { 0 };
	int i;

	if (report_suppliers(tui_db(t), slug_row, &l, &err) < 0) {
		tui_error(t, "%s", err.msg);
		goto out;
	}
	for (i = 0; i < l.n; i++)
		if (str_eq(l.v[i], h->supplier))
			break;
	if (!h->supplier[0])
		i = -1;
	if (i + 1 < l.n)
		snprintf(h->supplier, sizeof(h->supplier), "%s", l.v[i + 1]);
	else
		h->supplier[0] = '\0';
out:
	free(l.v);
}

static int history_key(struct tui *t, void *st, int ch)
{
	struct history *h = st;
	char buf[128];

	switch (ch) {
	case KEY_DOWN:
	case 'j':
		if (h->sel + 1 < h->n)
			h->sel++;
		else if (!busy(t, h) && page_down(h))
			h->sel = 0;
		return TUI_HANDLED | TUI_REDRAW;
	case KEY_UP:
	case 'k':
		if (h->sel > 0)
			h->sel--;
		else if (!busy(t, h) && page_up(h))
			h->sel_last = true;
		return TUI_HANDLED | TUI_REDRAW;
	case KEY_NPAGE:
	case ' ':
		if (busy(t, h))
			return TUI_HANDLED;
		if (!page_down(h))
			h->sel = h->n > 0 ? h->n - 1 : 0;
		return TUI_HANDLED | TUI_REDRAW;
	case KEY_PPAGE:
		if (busy(t, h))
			return TUI_HANDLED;
		if (!page_up(h))
			h->sel = 0;
		return TUI_HANDLED | TUI_REDRAW;
	case KEY_HOME:
	case 'g':
		reset_pages(h);
		return TUI_HANDLED | TUI_REDRAW;
	case '/':
		snprintf(buf, sizeof(buf), "%s", h->sku);
		if (tui_prompt(t, _("SKU contains (empty: any):"), buf, sizeof(buf))) {
			snprintf(h->sku, sizeof(h->sku), "%s", str_trim(buf));
			reset_pages(h);
		}
		return TUI_HANDLED | TUI_REDRAW;
	case 's':
		cycle_supplier(t, h);
		reset_pages(h);
		return TUI_HANDLED | TUI_REDRAW;
	case 'o':
		h->source = (h->source + 1) % (int)ARRAY_SIZE(sources);
		reset_pages(h);
		return TUI_HANDLED | TUI_REDRAW;
	case 'c':
		h->sku[0] = '\0';
		h->supplier[0] = '\0';
		h->source = 0;
		h->win_start = 0;
		reset_pages(h);
		return TUI_HANDLED | TUI_REDRAW;
	case '[':
		if (h->win_start)
			h->win_start = day_start(h->win_start, -1);
		else if (h->n > 0 && h->sel < h->n)
			h->win_start = day_start(h->rows[h->sel].recorded_at, 0);
		else
			h->win_start = day_start(time_now_ms(), 0);
		reset_pages(h);
		return TUI_HANDLED | TUI_REDRAW;
	case ']':
		if (!h->win_start) {
			tui_message(t, "%s", _("Already showing every date ([ picks a day)."));
			return TUI_HANDLED;
		}
		h->win_start = day_start(h->win_start, 1);
		if (h->win_start > time_now_ms())
			h->win_start = 0;   /* past today: every date again */
		reset_pages(h);
		return TUI_HANDLED | TUI_REDRAW;
	case '\n':
	case '\r':
	case KEY_ENTER:
		if (h->sel >= h->n)
			return TUI_HANDLED;
		if (!h->rows[h->sel].product_sku) {
			tui_error(t, "%s", _("The product of this change no longer exists."));
			return TUI_HANDLED | TUI_REDRAW;
		}
		snprintf(h->push_sku, sizeof(h->push_sku), "%s", h->rows[h->sel].product_sku);
		tui_push(t, &tui_screen_sku, h->push_sku);
		return TUI_HANDLED | TUI_REDRAW;
	default:
		return TUI_UNHANDLED;
	}
}

static const struct tui_key history_keys[] = {
	{ "Up/Down", N_("select a change (pages on at the ends)"), false },
	{ "PgDn/PgUp", N_("older / newer page"), false },
	{ "Home", N_("back to the newest changes"), false },
	{ "/", N_("filter by SKU substring (supplier or store SKU)"), false },
	{ "s", N_("filter by supplier (cycles through them)"), false },
	{ "o", N_("filter by source: full, delta, webhook, check, manual"), false },
	{ "[", N_("show one day: the selected change's day, then a day back"), false },
	{ "]", N_("a day forward (past today: every date)"), false },
	{ "c", N_("clear every filter"), false },
	{ "Enter", N_("open the SKU view of the change's product"), false },
	{ NULL, NULL, false },
};

const struct tui_screen_ops tui_screen_history = {
	/* TRANSLATORS: a console screen's name (tab bar, titles, key help) */
	.name = N_("History"),
	.open = history_open,
	.close = history_close,
	.refresh = history_refresh,
	.draw = history_draw,
	.key = history_key,
	.keys = history_keys,
};
