/* screen_check.c - spot checks: a store or supplier SKU, its cached value
 * per supplier with its age, then the live value asked through check_sku()
 * in a worker (tui_job) with a spinner; Esc abandons.  The answers go
 * through the engine (source "check"), or nowhere in --read-only (a dry
 * run).  The session's checks stay listed, newest first.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/check.h"
#include "store/report.h"
#include "tui/tui.h"

#define MAX_ENTRIES 50

enum entry_state { E_RUNNING, E_DONE, E_FAILED, E_ABANDONED };

struct cached {
	char *supplier;
	char *supplier_sku;
	bool has;
	int64_t stock;
	int64_t cached_at;
};

struct entry {
	char sku[256];
	char supplier[64];            /* "" = a store SKU */
	int64_t started_at;
	bool dry_run;
	enum entry_state state;
	struct tui_job *job;
	struct cached *cached;        /* read before asking */
	int n_cached;
	struct check_result res;      /* E_DONE */
	char error[1024];             /* E_FAILED */
};

/* What the worker gets and fills. */
struct job_arg {
	char sku[256];
	char supplier[64];
	bool dry_run;
	int rc;
	struct error err;
	struct check_result res;
};

struct check {
	struct entry *e[MAX_ENTRIES];  /* newest first */
	int n;
	char supplier[64];             /* mode: "" = store SKU, else a supplier SKU of it */
	char last[256];
	int scroll;                    /* first entry shown */
};

static void job_fn(struct db *db, const struct conf *c, void *p)
{
	struct job_arg *a = p;
	struct check_opts o;

	memset(&o, 0, sizeof(o));
	o.supplier_slug = a->supplier[0] ? a->supplier : NULL;
	o.dry_run = a->dry_run;
	if (!db) {
		a->rc = err_set(&a->err, ERRK_DB, _("check %s: the database could not be opened"),
		                a->sku);
		return;
	}
	a->rc = check_sku(db, c, a->sku, &o, &a->res, &a->err);
}

static void job_arg_free(void *p)
{
	struct job_arg *a = p;

	check_result_free(&a->res);
	free(a);
}

static void entry_free(struct entry *e)
{
	if (!e)
		return;
	if (e->job) {
		/* still asking: the result is dropped when the thread ends */
		tui_job_abandon(e->job);
		e->job = NULL;
	}
	for (int i = 0; i < e->n_cached; i++) {
		free(e->cached[i].supplier);
		free(e->cached[i].supplier_sku);
	}
	free(e->cached);
	check_result_free(&e->res);
	free(e);
}

static int cached_cb(void *ud, const struct report_link_row *r)
{
	struct entry *e = ud;
	struct cached *c;

	e->cached = xrealloc(e->cached, (size_t)(e->n_cached + 1) * sizeof(*e->cached));
	c = &e->cached[e->n_cached++];
	c->supplier = xstrdup(r->supplier);
	c->supplier_sku = xstrdup(r->supplier_sku);
	c->has = r->has_stock;
	c->stock = r->stock;
	c->cached_at = r->cached_at;
	return 0;
}

static void start_check(struct tui *t, struct check *k, const char *sku)
{
	struct entry *e = xcalloc(1, sizeof(*e));
	struct job_arg *a;
	struct error err = { 0 };
	int rc;

	snprintf(e->sku, sizeof(e->sku), "%s", sku);
	snprintf(e->supplier, sizeof(e->supplier), "%s", k->supplier);
	e->started_at = time_now_ms();
	e->dry_run = tui_read_only(t);
	/* the cached figures first, from this thread: a quick indexed read */
	if (e->supplier[0])
		rc = report_link_find(tui_db(t), e->supplier, e->sku, cached_cb, e, &err);
	else
		rc = report_product_links(tui_db(t), e->sku, cached_cb, e, &err);
	if (rc < 0) {
		e->state = E_FAILED;
		snprintf(e->error, sizeof(e->error), "%s", err.msg);
	} else {
		a = xcalloc(1, sizeof(*a));
		snprintf(a->sku, sizeof(a->sku), "%s", e->sku);
		snprintf(a->supplier, sizeof(a->supplier), "%s", e->supplier);
		a->dry_run = e->dry_run;
		e->state = E_RUNNING;
		e->job = tui_job_start(t, job_fn, a, job_arg_free);
	}
	if (k->n == MAX_ENTRIES)
		entry_free(k->e[--k->n]);
	memmove(&k->e[1], &k->e[0], (size_t)k->n * sizeof(k->e[0]));
	k->e[0] = e;
	k->n++;
	k->scroll = 0;
	snprintf(k->last, sizeof(k->last), "%s", sku);
}

/* Takes a finished job's result into its entry. */
static void finish(struct tui *t, struct entry *e)
{
	struct job_arg *a = tui_job_arg(e->job);

	if (a->rc < 0) {
		e->state = E_FAILED;
		snprintf(e->error, sizeof(e->error), "%s", a->err.msg);
		tui_error(t, "%s", a->err.msg);
	} else {
		e->state = E_DONE;
		e->res = a->res;               /* taken over: the job frees an empty one */
		memset(&a->res, 0, sizeof(a->res));
	}
	tui_job_free(e->job);
	e->job = NULL;
}

static void *check_open(struct tui *t, void *arg)
{
	(void)t;
	(void)arg;
	return xcalloc(1, sizeof(struct check));
}

static void check_close(void *st)
{
	struct check *k = st;

	if (!k)
		return;
	for (int i = 0; i < k->n; i++)
		entry_free(k->e[i]);
	free(k);
}

static void check_refresh(struct tui *t, void *st)
{
	struct check *k = st;

	for (int i = 0; i < k->n; i++)
		if (k->e[i]->state == E_RUNNING && tui_job_done(k->e[i]->job))
			finish(t, k->e[i]);
}

/* The live part of a supplier line. */
static void live_text(const struct tui *t, const struct check_link *l, char *out, size_t size,
                      enum tui_colour_pair *cp)
{
	*cp = TUI_C_NORMAL;
	if (l->live_ok) {
		if (l->live_stale) {
			/* TRANSLATORS: the supplier's live stock figure */
			snprintf(out, size, _("live %s (older than the cache: not applied)"),
			         fmt_int(l->live));
			*cp = TUI_C_DIM;
			return;
		}
		/* TRANSLATORS: the supplier's live stock figure */
		snprintf(out, size, _("live %s"), fmt_int(l->live));
		if (l->has_cached && l->live > l->cached)
			*cp = TUI_C_RISE;
		else if (l->has_cached && l->live < l->cached)
			*cp = TUI_C_FALL;
		else
			*cp = TUI_C_OK;
		return;
	}
	if (l->fresh) {
		snprintf(out, size, "%s", _("fresh: not asked"));
		return;
	}
	*cp = l->available ? TUI_C_ERROR : TUI_C_DIM;
	snprintf(out, size, "%s", l->error[0] ? l->error :
	         (l->available ? _("no answer") : _("no check source")));
	(void)t;
}

/* Draws one entry from line y; returns the next free line. */
static int draw_entry(struct tui *t, const struct entry *e, WINDOW *w, int y, int rows, int cols)
{
	char line[1400], when[32], age[64];
	int wsup = 14, wss = cols / 4, wcache = 24, x;

	if (y >= rows)
		return y;
	time_format_local(e->started_at, TIME_CLOCK, when, sizeof(when));
	if (e->supplier[0])
		snprintf(line, sizeof(line), _("%s  %s (supplier SKU at %s)"), when, e->sku,
		         e->supplier);
	else
		snprintf(line, sizeof(line), _("%s  %s (store SKU)"), when, e->sku);
	if (e->state == E_RUNNING) {
		size_t n = strlen(line);

		snprintf(line + n, sizeof(line) - n, _("  %s asking the suppliers... (Esc: abandon)"),
		         tui_spinner(t));
	} else if (e->state == E_ABANDONED) {
		size_t n = strlen(line);

		/* TRANSLATORS: a live check the operator gave up waiting for */
		snprintf(line + n, sizeof(line) - n, "  %s", _("abandoned"));
	} else if (e->state == E_DONE) {
		size_t n = strlen(line);

		/* TRANSLATORS: the product's stock before and after the check; the
		   last %s is " (read-only: not written)" or nothing */
		snprintf(line + n, sizeof(line) - n, _("  stock %s -> %s%s"),
		         fmt_int(e->res.cached_stock), fmt_int(e->res.stock),
		         e->dry_run ? _(" (read-only: not written)") : "");
	}
	wattrset(w, tui_attr(t, TUI_C_TITLE));
	tui_put(w, y++, 0, cols, line);
	if (e->state == E_FAILED) {
		if (y < rows) {
			snprintf(line, sizeof(line), "  %s", e->error);
			wattrset(w, tui_attr(t, TUI_C_ERROR));
			tui_put(w, y++, 0, cols, line);
		}
		return y;
	}
	if (wss < 10)
		wss = 10;
	if (wss > 28)
		wss = 28;
	if (e->state == E_DONE) {
		for (int i = 0; i < e->res.n_links && y < rows; i++) {
			const struct check_link *l = &e->res.links[i];
			enum tui_colour_pair cp;

			wattrset(w, tui_attr(t, TUI_C_NORMAL));
			tui_put(w, y, 0, cols, "");
			tui_put(w, y, 2, wsup, l->slug);
			x = 2 + wsup + 1;
			tui_put(w, y, x, wss, l->supplier_sku);
			x += wss + 1;
			tui_format_age(l->cached_at, age, sizeof(age));
			if (l->has_cached)
				/* TRANSLATORS: a cached stock figure and its age ("5 min
				   ago"), in a 24-column cell */
				snprintf(line, sizeof(line), _("cached %s, %s"), fmt_int(l->cached), age);
			else
				snprintf(line, sizeof(line), "%s", _("no cached value"));
			tui_put(w, y, x, wcache, line);
			x += wcache + 1;
			live_text(t, l, line, sizeof(line), &cp);
			wattrset(w, tui_attr(t, cp));
			if (x < cols)
				tui_put(w, y, x, cols - x, line);
			y++;
		}
		if (e->res.n_links == 0 && y < rows) {
			wattrset(w, tui_attr(t, TUI_C_DIM));
			tui_put(w, y++, 2, cols - 2, _("no supplier is linked"));
		}
		return y;
	}
	for (int i = 0; i < e->n_cached && y < rows; i++) {
		const struct cached *c = &e->cached[i];

		wattrset(w, tui_attr(t, TUI_C_NORMAL));
		tui_put(w, y, 0, cols, "");
		tui_put(w, y, 2, wsup, c->supplier);
		x = 2 + wsup + 1;
		tui_put(w, y, x, wss, c->supplier_sku);
		x += wss + 1;
		tui_format_age(c->cached_at, age, sizeof(age));
		if (c->has)
			snprintf(line, sizeof(line), _("cached %s, %s"), fmt_int(c->stock), age);
		else
			snprintf(line, sizeof(line), "%s", _("no cached value"));
		tui_put(w, y, x, wcache, line);
		x += wcache + 1;
		wattrset(w, tui_attr(t, TUI_C_DIM));
		if (x < cols)
			tui_put(w, y, x, cols - x, e->state == E_RUNNING ? tui_spinner(t) : "");
		y++;
	}
	return y;
}

static void check_draw(struct tui *t, void *st, WINDOW *w, int rows, int cols)
{
	struct check *k = st;
	char line[512];
	int y = 2;

	werase(w);
	if (k->supplier[0])
		snprintf(line, sizeof(line),
		         _("Check a supplier SKU at %s  (Enter: type it   s: store SKU or supplier)"),
		         k->supplier);
	else
		snprintf(line, sizeof(line),
		         _("Check a store SKU  (Enter: type it   s: a supplier SKU instead)"));
	wattrset(w, tui_attr(t, TUI_C_TITLE));
	tui_put(w, 0, 0, cols, line);
	if (tui_read_only(t)) {
		wattrset(w, tui_attr(t, TUI_C_DIM));
		tui_put(w, 1, 0, cols, _("read-only: live values are shown, not written"));
	}
	if (k->n == 0) {
		wattrset(w, tui_attr(t, TUI_C_DIM));
		tui_put(w, y, 0, cols,
		        _("No checks yet: Enter, then a SKU. Cached values show first, then live."));
	}
	for (int i = k->scroll; i < k->n && y < rows; i++) {
		y = draw_entry(t, k->e[i], w, y, rows, cols);
		y++;
	}
	wattrset(w, A_NORMAL);
}

/* Cycles the mode: store SKU -> each supplier -> store SKU. */
struct cycle {
	const char *cur;
	bool next;                 /* take the next slug */
	bool done;
	char found[64];
};

static int cycle_row(void *ud, const struct report_supplier *s)
{
	struct cycle *c = ud;

	if (c->done || strlen(s->slug) >= sizeof(c->found))
		return 0;
	if (!c->cur[0] || c->next) {
		snprintf(c->found, sizeof(c->found), "%s", s->slug);
		c->done = true;
	} else if (str_eq(s->slug, c->cur)) {
		c->next = true;
	}
	return 0;
}

static int check_key(struct tui *t, void *st, int ch)
{
	struct check *k = st;
	char buf[256];

	switch (ch) {
	case '\n':
	case '\r':
	case KEY_ENTER:
	case '/':
		snprintf(buf, sizeof(buf), "%s", k->last);
		if (tui_prompt(t, k->supplier[0] ? _("Supplier SKU to check:")
		                                  : _("Store SKU to check:"), buf, sizeof(buf))) {
			char *s = str_trim(buf);

			if (*s)
				start_check(t, k, s);
		}
		return TUI_HANDLED | TUI_REDRAW;
	case 'r':
		if (k->last[0])
			start_check(t, k, k->last);
		return TUI_HANDLED | TUI_REDRAW;
	case 's': {
		struct cycle c;
		struct error err = { 0 };

		memset(&c, 0, sizeof(c));
		c.cur = k->supplier;
		if (report_suppliers(tui_db(t), cycle_row, &c, &err) < 0) {
			tui_error(t, "%s", err.msg);
			return TUI_HANDLED;
		}
		snprintf(k->supplier, sizeof(k->supplier), "%s", c.found);
		return TUI_HANDLED | TUI_REDRAW;
	}
	case 27:
		for (int i = 0; i < k->n; i++) {
			if (k->e[i]->state == E_RUNNING) {
				tui_job_abandon(k->e[i]->job);
				k->e[i]->job = NULL;
				k->e[i]->state = E_ABANDONED;
				tui_message(t, _("check of %s abandoned"), k->e[i]->sku);
				return TUI_HANDLED | TUI_REDRAW;
			}
		}
		return TUI_HANDLED;
	case KEY_DOWN:
	case KEY_NPAGE:
		if (k->scroll + 1 < k->n)
			k->scroll++;
		return TUI_HANDLED | TUI_REDRAW;
	case KEY_UP:
	case KEY_PPAGE:
		if (k->scroll > 0)
			k->scroll--;
		return TUI_HANDLED | TUI_REDRAW;
	case 'x':
		for (int i = 0; i < k->n; i++)
			entry_free(k->e[i]);
		k->n = 0;
		k->scroll = 0;
		return TUI_HANDLED | TUI_REDRAW;
	default:
		return TUI_UNHANDLED;
	}
}

static const struct tui_key check_keys[] = {
	{ "Enter", N_("type a SKU and check it: cached values, then the live ones"), false },
	{ "s", N_("store SKU, or a supplier SKU at each supplier in turn"), false },
	{ "r", N_("check the last SKU again"), false },
	{ "Esc", N_("abandon the check in progress"), false },
	{ "Up/Down", N_("scroll the session's checks"), false },
	{ "x", N_("clear the list of checks"), false },
	{ NULL, NULL, false },
};

const struct tui_screen_ops tui_screen_check = {
	/* TRANSLATORS: a console screen's name (tab bar, titles, key help) */
	.name = N_("Check"),
	.open = check_open,
	.close = check_close,
	.refresh = check_refresh,
	.draw = check_draw,
	.key = check_key,
	.keys = check_keys,
};
