/* screen_suppliers.c - console screen 1: one row per configured supplier
 * (state from report_suppliers, progress from the running runs), and the
 * views it opens: a supplier's details, and the connection test. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/testconn.h"
#include "feed/http.h"
#include "store/report.h"
#include "tui/tui.h"
#include "util/schedule.h"

#define SUP_FULL_RELOAD_MS 3000   /* links counts and last results reload this often */
#define SUP_DETAIL_RUNS 8

struct sup_row {
	char *slug;
	char *name;
	bool configured;              /* has a supplier file */
	bool in_db;
	bool active;
	bool has_delta;
	char source[32];              /* "https/json" */
	int64_t links;
	int64_t last_full_at, last_delta_at;
	char last_full_status[16], last_delta_status[16];
	/* from the active runs, every refresh */
	int64_t run_id;               /* running, 0 = none */
	char run_kind[8];
	int64_t done, total;
	bool queued;
	/* from the schedule */
	int64_t next_at;              /* 0 = off */
	bool next_delta;
};

struct sup_screen {
	struct sup_row *rows;
	size_t n;
	int sel, top;
	int64_t loaded_at;            /* mono ms of the last full reload, 0 = reload now */
	char sel_slug[64];            /* keeps the selection across reloads */
	char arg_slug[64];            /* what we pass to pushed views */
	/* removing a supplier in the background */
	struct tui_job *remove_job;
	char remove_slug[64];
	char *remove_file;            /* renamed to .bak, put back if the removal fails */
};

static const struct tui_key sup_keys[] = {
	{ "Up/Down", N_("select a supplier (also j/k, PgUp/PgDn, Home/End)"), false },
	{ "Enter", N_("details: configuration summary and last runs"), false },
	{ "a", N_("add a supplier (the editor)"), true },
	{ "e", N_("edit the selected supplier (the editor)"), true },
	{ "Space", N_("turn the supplier on or off (active in its file)"), true },
	{ "f", N_("start a full sync (runs detached; see the Syncs screen)"), true },
	{ "d", N_("start a delta sync (changes since the last sync)"), true },
	{ "t", N_("test the connection: first items as mapped, writes nothing"), false },
	{ "x", N_("remove the supplier: its file (kept as .bak), links and runs"), true },
	{ NULL, NULL, false },
};

/* ---- helpers shared by the views ---- */

static const struct supplier_conf *sup_conf_find(const struct conf *c, const char *slug)
{
	for (int i = 0; c && i < c->n_suppliers; i++)
		if (str_eq(c->suppliers[i].slug, slug))
			return &c->suppliers[i];
	return NULL;
}

/* "https/json", "file/csv". */
static void sup_source_kind(const struct supplier_conf *s, char *out, size_t size)
{
	const char *url = s->source.url ? s->source.url : "";
	const char *colon = strstr(url, "://");
	size_t n = colon ? (size_t)(colon - url) : 0;
	char scheme[16];

	if (n == 0 || n >= sizeof(scheme))
		snprintf(scheme, sizeof(scheme), "?");
	else {
		for (size_t i = 0; i < n; i++)
			scheme[i] = (char)(url[i] >= 'A' && url[i] <= 'Z' ? url[i] + 32 : url[i]);
		scheme[n] = '\0';
	}
	snprintf(out, size, "%s/%s", scheme, conf_format_name(s->source.format));
}

static int64_t sup_next_of(const char *expr, int64_t now)
{
	struct schedule sc;
	struct error err = { 0 };

	if (!expr || schedule_parse(expr, &sc, &err) != 0)
		return 0;
	return schedule_next(&sc, now);
}

/* The next scheduled run (the daemon's rules: the supplier's own schedule,
 * else the daemon default; deltas only with a delta source). */
static void sup_next(const struct conf *c, const struct supplier_conf *s, int64_t *at,
                     bool *delta)
{
	int64_t now = time_now_ms(), f, d = 0;

	*at = 0;
	*delta = false;
	if (!s->active)
		return;
	f = sup_next_of(s->schedule.full ? s->schedule.full : c->daemon.full, now);
	if (s->has_delta)
		d = sup_next_of(s->schedule.delta ? s->schedule.delta : c->daemon.delta, now);
	if (f && (!d || f <= d)) {
		*at = f;
	} else if (d) {
		*at = d;
		*delta = true;
	}
}

/* "5 min ok", "2 h failed", "-". */
static void sup_last(int64_t at, const char *status, char *out, size_t size)
{
	char age[32];

	if (!at) {
		snprintf(out, size, "-");
		return;
	}
	time_format_age(time_now_ms() - at, age);
	snprintf(out, size, "%s %s", age,
	         /* TRANSLATORS: how the last sync ended, after its age ("5m ok")
	            in a 13-column cell of the Suppliers screen: keep them short */
	         str_eq(status, "succeeded") ? _("ok") : str_eq(status, "failed") ? _("failed")
	         : str_eq(status, "interrupted") ? _("stopped") : (status ? status : ""));
}

static attr_t sup_status_attr(struct tui *t, const char *status)
{
	if (str_eq(status, "succeeded"))
		return tui_attr(t, TUI_C_OK);
	if (str_eq(status, "failed") || str_eq(status, "interrupted"))
		return tui_attr(t, TUI_C_ERROR);
	return A_NORMAL;
}

/* ---- the list ---- */

static void sup_rows_free(struct sup_screen *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->rows[i].slug);
		free(s->rows[i].name);
	}
	free(s->rows);
	s->rows = NULL;
	s->n = 0;
}

static struct sup_row *sup_row_find(struct sup_screen *s, const char *slug)
{
	for (size_t i = 0; i < s->n; i++)
		if (str_eq(s->rows[i].slug, slug))
			return &s->rows[i];
	return NULL;
}

struct sup_load {
	struct sup_screen *s;
	const struct conf *c;
};

static int sup_db_row(void *ud, const struct report_supplier *r)
{
	struct sup_load *l = ud;
	struct sup_row *row = sup_row_find(l->s, r->slug);

	if (!row) {
		/* in the database but no longer configured: shown, so it can be removed */
		l->s->rows = xrealloc(l->s->rows, (l->s->n + 1) * sizeof(*l->s->rows));
		row = &l->s->rows[l->s->n++];
		memset(row, 0, sizeof(*row));
		row->slug = xstrdup(r->slug);
		row->name = xstrdup(r->name ? r->name : r->slug);
		row->active = r->active;
		snprintf(row->source, sizeof(row->source), "%s", _("(no file)"));
	}
	row->in_db = true;
	row->links = r->links;
	row->last_full_at = r->last_full_at;
	row->last_delta_at = r->last_delta_at;
	snprintf(row->last_full_status, sizeof(row->last_full_status), "%s",
	         r->last_full_status ? r->last_full_status : "");
	snprintf(row->last_delta_status, sizeof(row->last_delta_status), "%s",
	         r->last_delta_status ? r->last_delta_status : "");
	return 0;
}

static void sup_reload(struct tui *t, struct sup_screen *s)
{
	const struct conf *c = tui_conf(t);
	struct sup_load l = { s, c };
	struct error err = { 0 };

	sup_rows_free(s);
	for (int i = 0; i < c->n_suppliers; i++) {
		const struct supplier_conf *sc = &c->suppliers[i];
		struct sup_row *row;

		s->rows = xrealloc(s->rows, (s->n + 1) * sizeof(*s->rows));
		row = &s->rows[s->n++];
		memset(row, 0, sizeof(*row));
		row->slug = xstrdup(sc->slug);
		row->name = xstrdup(sc->name ? sc->name : sc->slug);
		row->configured = true;
		row->active = sc->active;
		row->has_delta = sc->has_delta;
		sup_source_kind(sc, row->source, sizeof(row->source));
		sup_next(c, sc, &row->next_at, &row->next_delta);
	}
	if (report_suppliers(tui_db(t), sup_db_row, &l, &err) != 0)
		tui_error(t, "%s", err.msg);
	/* by slug, as the database lists them */
	for (size_t i = 1; i < s->n; i++) {
		for (size_t j = i; j > 0 && strcmp(s->rows[j - 1].slug, s->rows[j].slug) > 0; j--) {
			struct sup_row tmp = s->rows[j];
			s->rows[j] = s->rows[j - 1];
			s->rows[j - 1] = tmp;
		}
	}
	s->loaded_at = time_mono_ms();
}

static int sup_run_row(void *ud, const struct report_run *r)
{
	struct sup_screen *s = ud;
	struct sup_row *row = sup_row_find(s, r->supplier);

	if (!row)
		return 0;
	if (str_eq(r->status, "queued")) {
		row->queued = true;
	} else if (str_eq(r->status, "running")) {
		row->run_id = r->id;
		snprintf(row->run_kind, sizeof(row->run_kind), "%s", r->kind);
		row->done = r->done;
		row->total = r->total;
	}
	return 0;
}

static void sup_fix_selection(struct sup_screen *s)
{
	s->sel = 0;
	for (size_t i = 0; i < s->n; i++)
		if (str_eq(s->rows[i].slug, s->sel_slug))
			s->sel = (int)i;
	if (s->n)
		snprintf(s->sel_slug, sizeof(s->sel_slug), "%s", s->rows[s->sel].slug);
}

static void sup_remove_finished(struct tui *t, struct sup_screen *s);

static void sup_refresh(struct tui *t, void *p)
{
	struct sup_screen *s = p;
	struct error err = { 0 };
	bool was_running[256] = { false };

	if (s->remove_job && tui_job_done(s->remove_job))
		sup_remove_finished(t, s);
	if (!s->loaded_at || time_mono_ms() - s->loaded_at >= SUP_FULL_RELOAD_MS)
		sup_reload(t, s);
	for (size_t i = 0; i < s->n; i++) {
		if (i < ARRAY_SIZE(was_running))
			was_running[i] = s->rows[i].run_id != 0;
		s->rows[i].run_id = 0;
		s->rows[i].queued = false;
	}
	if (report_runs_active(tui_db(t), sup_run_row, s, &err) != 0)
		tui_error(t, "%s", err.msg);
	/* a run just ended: its result shows at once */
	for (size_t i = 0; i < s->n && i < ARRAY_SIZE(was_running); i++) {
		if (was_running[i] && !s->rows[i].run_id) {
			sup_reload(t, s);
			report_runs_active(tui_db(t), sup_run_row, s, &err);
			break;
		}
	}
	sup_fix_selection(s);
}

static void *sup_open(struct tui *t, void *arg)
{
	struct sup_screen *s = xcalloc(1, sizeof(*s));

	(void)t;
	(void)arg;
	return s;
}

static void sup_close(void *p)
{
	struct sup_screen *s = p;

	if (s->remove_job)
		tui_job_abandon(s->remove_job);
	free(s->remove_file);
	sup_rows_free(s);
	free(s);
}

static void sup_draw_row(struct tui *t, WINDOW *w, int y, int cols, const struct sup_row *r,
                         bool selected, int name_w)
{
	char buf[128], age[32];
	int x = 0;
	attr_t sel = selected ? tui_attr(t, TUI_C_SELECTED) : A_NORMAL;

	wattron(w, sel);
	tui_put(w, y, 0, cols, "");
	tui_put(w, y, x, 12, r->slug);
	x += 13;
	if (name_w > 0) {
		tui_put(w, y, x, name_w, r->name);
		x += name_w + 1;
	}
	if (!selected && !r->active)
		wattron(w, tui_attr(t, TUI_C_DIM));
	/* TRANSLATORS: the ON column of the Suppliers screen (3 columns):
	   whether the supplier is synced on schedule */
	tui_put(w, y, x, 3, r->active ? _("on") : _("off"));
	if (!selected && !r->active)
		wattroff(w, tui_attr(t, TUI_C_DIM));
	x += 4;
	tui_put(w, y, x, 10, r->source);
	x += 11;
	snprintf(buf, sizeof(buf), "%7s", fmt_int(r->links));
	tui_put(w, y, x, 7, buf);
	x += 8;
	if (r->run_id) {
		/* the two "last" columns become the progress bar */
		int bw = 27 - 7;
		char pct[16];

		if (r->total > 0)
			snprintf(pct, sizeof(pct), " %3d%%",
			         (int)(r->done * 100 / (r->total ? r->total : 1)));
		else
			snprintf(pct, sizeof(pct), " %s", fmt_int(r->done));
		tui_put(w, y, x, 1, str_eq(r->run_kind, "delta") ? "d" : "f");
		tui_draw_bar(t, w, y, x + 1, bw, r->done, r->total);
		tui_put(w, y, x + 1 + bw, 6, pct);
		x += 28;
	} else {
		if (!selected)
			wattron(w, sup_status_attr(t, r->last_full_status));
		sup_last(r->last_full_at, r->last_full_status, buf, sizeof(buf));
		tui_put(w, y, x, 13, buf);
		if (!selected)
			wattroff(w, sup_status_attr(t, r->last_full_status));
		x += 14;
		if (!selected)
			wattron(w, sup_status_attr(t, r->last_delta_status));
		sup_last(r->last_delta_at, r->last_delta_status, buf, sizeof(buf));
		tui_put(w, y, x, 13, buf);
		if (!selected)
			wattroff(w, sup_status_attr(t, r->last_delta_status));
		x += 14;
	}
	if (r->queued) {
		/* TRANSLATORS: the NEXT column: a run is queued */
		snprintf(buf, sizeof(buf), "%s", _("queued"));
	} else if (r->next_at) {
		int64_t in = r->next_at - time_now_ms();
		time_format_age(in > 0 ? in : 0, age);
		/* TRANSLATORS: the NEXT column: in how long ("5m") the next
		   scheduled sync runs, and which */
		snprintf(buf, sizeof(buf), r->next_delta ? _("%s delta") : _("%s full"), age);
	} else {
		snprintf(buf, sizeof(buf), "-");
	}
	if (x < cols)
		tui_put(w, y, x, cols - x, buf);
	wattroff(w, sel);
}

static void sup_draw(struct tui *t, void *p, WINDOW *w, int rows, int cols)
{
	struct sup_screen *s = p;
	int name_w = cols >= 100 ? (cols - 76 > 40 ? 40 : cols - 77) : 0;
	int list_rows = rows - 4, x = 0;
	char head[256];

	if (list_rows < 1)
		list_rows = rows - 1;
	wattron(w, A_BOLD);
	tui_put(w, 0, 0, cols, "");
	/* TRANSLATORS: column headings of the Suppliers screen, upper case, at
	   most as wide as the column: SUPPLIER 12, NAME any, ON 3 (on
	   schedule), SOURCE 10 (kind/format), LINKS 7 (linked SKUs, right
	   aligned), LAST FULL and LAST DELTA 13 (the last syncs), NEXT (the
	   next scheduled sync) */
	tui_put(w, 0, x, 12, _("SUPPLIER"));
	x += 13;
	if (name_w > 0) {
		tui_put(w, 0, x, name_w, _("NAME"));
		x += name_w + 1;
	}
	tui_put(w, 0, x, 3, _("ON"));
	x += 4;
	tui_put(w, 0, x, 10, _("SOURCE"));
	x += 11;
	tui_put(w, 0, x, 7, _("  LINKS"));
	x += 8;
	tui_put(w, 0, x, 13, _("LAST FULL"));
	x += 14;
	tui_put(w, 0, x, 13, _("LAST DELTA"));
	x += 14;
	if (x < cols)
		tui_put(w, 0, x, cols - x, _("NEXT"));
	wattroff(w, A_BOLD);

	if (s->n == 0) {
		tui_put(w, 2, 1, cols - 1, _("No suppliers configured.  Press a to add one, or add"));
		tui_put(w, 3, 1, cols - 1, _("a file to suppliers.d/ (see dropstock.conf(5))."));
		return;
	}
	if (s->sel < s->top)
		s->top = s->sel;
	if (s->sel >= s->top + list_rows)
		s->top = s->sel - list_rows + 1;
	for (int i = 0; i < list_rows && s->top + i < (int)s->n; i++)
		sup_draw_row(t, w, 1 + i, cols, &s->rows[s->top + i], s->top + i == s->sel, name_w);

	/* the selected supplier, and what the keys do */
	if (rows >= 6 && s->sel < (int)s->n) {
		const struct sup_row *r = &s->rows[s->sel];
		const struct supplier_conf *sc = sup_conf_find(tui_conf(t), r->slug);

		tui_hline(t, w, rows - 3, 0, cols);
		if (s->remove_job)
			snprintf(head, sizeof(head), _("%s removing %s ..."), tui_spinner(t),
			         s->remove_slug);
		else if (r->run_id)
			/* TRANSLATORS: "acme: ACME Ltd (full sync running: 400/1830)";
			   the third %s is the run's kind, "full" or "delta" */
			snprintf(head, sizeof(head), _("%s: %s (%s sync running: %s/%s)"), r->slug,
			         r->name, r->run_kind, fmt_int(r->done), fmt_int(r->total));
		else
			snprintf(head, sizeof(head), "%s: %s%s", r->slug, r->name,
			         sc ? "" : _(" (no supplier file: only in the database)"));
		tui_put(w, rows - 2, 0, cols, head);
		if (sc) {
			char *masked = http_url_mask(sc->source.url, sc->auth.kind == AUTH_QUERY ?
			                                                 sc->auth.param : NULL);
			wattron(w, tui_attr(t, TUI_C_DIM));
			tui_put(w, rows - 1, 0, cols, masked);
			wattroff(w, tui_attr(t, TUI_C_DIM));
			free(masked);
		}
	}
}

/* ---- removing ---- */

struct sup_remove_arg {
	char slug[64];
	int rc;
	int64_t links;
	struct error err;
};

static void sup_remove_job(struct db *db, const struct conf *c, void *p)
{
	struct sup_remove_arg *a = p;

	if (!db) {
		a->rc = err_set(&a->err, ERRK_DB, _("cannot open the database for the removal"));
		return;
	}
	a->rc = engine_supplier_remove(db, c, a->slug, &a->links, &a->err);
}

static void sup_remove_finished(struct tui *t, struct sup_screen *s)
{
	struct sup_remove_arg *a = tui_job_arg(s->remove_job);
	struct error err = { 0 };

	if (a->rc != 0 && a->err.kind == ERRK_USAGE && s->remove_file) {
		/* never in the database: the file was all there was */
		a->rc = 0;
	}
	if (a->rc != 0) {
		if (s->remove_file) {
			char *bak = xasprintf("%s.bak", s->remove_file);
			if (rename(bak, s->remove_file) != 0)
				log_warn(_("%s: could not put back %s: %s"), a->slug, s->remove_file,
				         strerror(errno));
			free(bak);
		}
		tui_error(t, _("removing %s failed: %s"), a->slug, a->err.msg);
	} else {
		if (tui_conf_reload(t, &err) != 0)
			tui_error(t, _("%s removed, but the configuration did not reload: %s"), a->slug,
			          err.msg);
		else
			/* TRANSLATORS: the last %s is "; its file is kept as .bak" or
			   nothing */
			tui_message(t, P_("supplier %s removed (%s link)%s",
			                  "supplier %s removed (%s links)%s", a->links),
			            a->slug, fmt_int(a->links),
			            s->remove_file ? _("; its file is kept as .bak") : "");
	}
	tui_job_free(s->remove_job);
	s->remove_job = NULL;
	free(s->remove_file);
	s->remove_file = NULL;
	s->loaded_at = 0;
}

static void sup_remove(struct tui *t, struct sup_screen *s, const struct sup_row *r)
{
	const struct supplier_conf *sc = sup_conf_find(tui_conf(t), r->slug);
	struct sup_remove_arg *a;
	char *q;

	if (s->remove_job) {
		tui_error(t, _("a removal is still going on"));
		return;
	}
	if (r->run_id) {
		tui_error(t, _("%s is being synced now; cancel the run first (Syncs screen, c)"),
		          r->slug);
		return;
	}
	if (sc && sc->file)
		q = xasprintf(P_("remove supplier %s: its file %s, %s link and its history?",
		                 "remove supplier %s: its file %s, %s links and their history?",
		                 r->links),
		              r->slug, sc->file, fmt_int(r->links));
	else
		q = xasprintf(P_("remove supplier %s: %s link and its history?",
		                 "remove supplier %s: %s links and their history?", r->links),
		              r->slug, fmt_int(r->links));
	if (!tui_confirm(t, q)) {
		free(q);
		return;
	}
	free(q);
	if (sc && sc->file) {
		char *bak = xasprintf("%s.bak", sc->file);
		if (rename(sc->file, bak) != 0) {
			tui_error(t, _("cannot remove %s: renaming it to %s failed: %s"), sc->file, bak,
			          strerror(errno));
			free(bak);
			return;
		}
		free(bak);
		s->remove_file = xstrdup(sc->file);
	}
	a = xcalloc(1, sizeof(*a));
	snprintf(a->slug, sizeof(a->slug), "%s", r->slug);
	snprintf(s->remove_slug, sizeof(s->remove_slug), "%s", r->slug);
	s->remove_job = tui_job_start(t, sup_remove_job, a, free);
}

/* ---- keys ---- */

static void sup_sync(struct tui *t, const char *slug, int64_t running, const char *running_kind,
                     bool delta)
{
	struct error err = { 0 };
	const struct supplier_conf *sc = sup_conf_find(tui_conf(t), slug);

	if (!sc) {
		tui_error(t, _("%s has no supplier file: nothing to sync"), slug);
		return;
	}
	if (delta && !sc->has_delta) {
		tui_error(t, _("%s: no delta source configured (add a delta group to %s)"), slug,
		          sc->file ? sc->file : _("its supplier file"));
		return;
	}
	if (running) {
		/* TRANSLATORS: the second %s is the run's kind, "full" or "delta" */
		tui_error(t, _("%s: a %s sync is running now (run %lld)"), slug, running_kind,
		          (long long)running);
		return;
	}
	if (tui_spawn_sync(t, slug, delta, &err) != 0) {
		tui_error(t, "%s", err.msg);
		return;
	}
	tui_message(t, delta ? _("delta sync of %s started; progress here and on the Syncs screen")
	                     : _("full sync of %s started; progress here and on the Syncs screen"),
	            slug);
}

static int sup_key(struct tui *t, void *p, int ch)
{
	struct sup_screen *s = p;
	struct sup_row *r = s->n ? &s->rows[s->sel] : NULL;
	struct error err = { 0 };

	switch (ch) {
	case KEY_UP:
	case 'k':
		if (s->sel > 0)
			s->sel--;
		break;
	case KEY_DOWN:
	case 'j':
		if (s->sel + 1 < (int)s->n)
			s->sel++;
		break;
	case KEY_PPAGE:
		s->sel = s->sel > 10 ? s->sel - 10 : 0;
		break;
	case KEY_NPAGE:
		s->sel = s->sel + 10 < (int)s->n ? s->sel + 10 : (int)s->n - 1;
		break;
	case KEY_HOME:
	case 'g':
		s->sel = 0;
		break;
	case KEY_END:
	case 'G':
		s->sel = s->n ? (int)s->n - 1 : 0;
		break;
	case 'a':
		tui_push(t, &tui_screen_editor, NULL);
		s->loaded_at = 0;
		return TUI_HANDLED | TUI_REDRAW;
	default:
		goto row_keys;
	}
	if (s->sel < 0)
		s->sel = 0;
	if (s->n)
		snprintf(s->sel_slug, sizeof(s->sel_slug), "%s", s->rows[s->sel].slug);
	return TUI_HANDLED | TUI_REDRAW;

row_keys:
	if (!r)
		return ch == '\n' || ch == '\r' || ch == KEY_ENTER || ch == 'e' || ch == ' ' ||
		               ch == 'f' || ch == 'd' || ch == 't' || ch == 'x'
		       ? TUI_HANDLED : TUI_UNHANDLED;
	snprintf(s->arg_slug, sizeof(s->arg_slug), "%s", r->slug);
	switch (ch) {
	case '\n':
	case '\r':
	case KEY_ENTER:
		tui_push(t, &tui_screen_supplier_details, s->arg_slug);
		return TUI_HANDLED | TUI_REDRAW;
	case 'e':
		if (!r->configured) {
			tui_error(t, _("%s has no supplier file to edit"), r->slug);
			return TUI_HANDLED;
		}
		tui_push(t, &tui_screen_editor, s->arg_slug);
		s->loaded_at = 0;
		return TUI_HANDLED | TUI_REDRAW;
	case ' ':
		if (!r->configured) {
			tui_error(t, _("%s has no supplier file"), r->slug);
			return TUI_HANDLED;
		}
		if (tui_supplier_set_active(t, r->slug, !r->active, &err) != 0) {
			tui_error(t, "%s", err.msg);
			return TUI_HANDLED;
		}
		tui_message(t, r->active ? _("%s is off: no scheduled syncs") : _("%s is on"),
		            s->arg_slug);
		s->loaded_at = 0;
		return TUI_HANDLED | TUI_RELOAD;
	case 'f':
	case 'd':
		sup_sync(t, r->slug, r->run_id, r->run_kind, ch == 'd');
		return TUI_HANDLED | TUI_RELOAD;
	case 't': {
		struct tui_testconn_arg a = { s->arg_slug, NULL };
		if (!r->configured) {
			tui_error(t, _("%s has no supplier file to test"), r->slug);
			return TUI_HANDLED;
		}
		tui_push(t, &tui_screen_testconn, &a);
		return TUI_HANDLED | TUI_REDRAW;
	}
	case 'x':
		sup_remove(t, s, r);
		return TUI_HANDLED | TUI_RELOAD;
	default:
		return TUI_UNHANDLED;
	}
}

const struct tui_screen_ops tui_screen_suppliers = {
	/* TRANSLATORS: a console screen's name (tab bar, titles, key help) */
	.name = N_("Suppliers"),
	.open = sup_open,
	.close = sup_close,
	.refresh = sup_refresh,
	.draw = sup_draw,
	.key = sup_key,
	.keys = sup_keys,
};

/* ---- the details view (Enter) ---- */

struct det_run {
	int64_t id;
	char kind[8], trigger[16], status[16];
	int64_t started_at, finished_at, seen, changed, done, total;
	char *error;
};

struct det_view {
	char slug[64];
	struct det_run runs[SUP_DETAIL_RUNS];
	int n_runs;
	struct sup_row row;           /* links and last results */
	bool have_row;
};

static const struct tui_key det_keys[] = {
	{ "f", N_("start a full sync"), true },
	{ "d", N_("start a delta sync"), true },
	{ "t", N_("test the connection"), false },
	{ "e", N_("edit the supplier"), true },
	{ "Esc", N_("back to the list"), false },
	{ NULL, NULL, false },
};

static void det_runs_clear(struct det_view *v)
{
	for (int i = 0; i < v->n_runs; i++)
		free(v->runs[i].error);
	v->n_runs = 0;
}

static int det_run_row(void *ud, const struct report_run *r)
{
	struct det_view *v = ud;
	struct det_run *d;

	if (v->n_runs >= SUP_DETAIL_RUNS)
		return 0;
	d = &v->runs[v->n_runs++];
	memset(d, 0, sizeof(*d));
	d->id = r->id;
	snprintf(d->kind, sizeof(d->kind), "%s", r->kind);
	snprintf(d->trigger, sizeof(d->trigger), "%s", r->trigger);
	snprintf(d->status, sizeof(d->status), "%s", r->status);
	d->started_at = r->started_at;
	d->finished_at = r->finished_at;
	d->seen = r->seen;
	d->changed = r->changed;
	d->done = r->done;
	d->total = r->total;
	d->error = xstrdup(r->error);
	return 0;
}

static int det_sup_row(void *ud, const struct report_supplier *r)
{
	struct det_view *v = ud;

	if (!str_eq(r->slug, v->slug))
		return 0;
	v->have_row = true;
	v->row.links = r->links;
	v->row.last_full_at = r->last_full_at;
	v->row.last_delta_at = r->last_delta_at;
	snprintf(v->row.last_full_status, sizeof(v->row.last_full_status), "%s",
	         r->last_full_status ? r->last_full_status : "");
	snprintf(v->row.last_delta_status, sizeof(v->row.last_delta_status), "%s",
	         r->last_delta_status ? r->last_delta_status : "");
	return 0;
}

static void *det_open(struct tui *t, void *arg)
{
	struct det_view *v = xcalloc(1, sizeof(*v));
	struct error err = { 0 };

	snprintf(v->slug, sizeof(v->slug), "%s", arg ? (const char *)arg : "");
	if (report_suppliers(tui_db(t), det_sup_row, v, &err) != 0)
		tui_error(t, "%s", err.msg);
	return v;
}

static void det_close(void *p)
{
	struct det_view *v = p;

	det_runs_clear(v);
	free(v);
}

static void det_refresh(struct tui *t, void *p)
{
	struct det_view *v = p;
	struct error err = { 0 };
	int64_t sid;

	det_runs_clear(v);
	if (suppliers_find(tui_db(t), v->slug, &sid, &err) != 1)
		return;
	if (report_runs(tui_db(t), v->slug, SUP_DETAIL_RUNS, det_run_row, v, &err) != 0)
		tui_error(t, "%s", err.msg);
}

/* A setting's decimal number as %g writes it (no trailing zeros), in the
 * locale's digits: 1.5 -> "1.5" ("1,5" in de_DE), 2 -> "2". */
static const char *det_num(double v)
{
	int d;

	for (d = 0; d < 6; d++) {
		double scaled = v * pow(10.0, d);

		if (fabs(scaled - round(scaled)) < 1e-9 * (fabs(scaled) > 1.0 ? fabs(scaled) : 1.0))
			break;
	}
	return fmt_dec(v, d);
}

static void det_line(WINDOW *w, int y, int cols, const char *label, const char *text)
{
	wattron(w, A_BOLD);
	tui_put(w, y, 0, 11, label);
	wattroff(w, A_BOLD);
	tui_put(w, y, 11, cols - 11, text);
}

static void det_draw(struct tui *t, void *p, WINDOW *w, int rows, int cols)
{
	struct det_view *v = p;
	const struct supplier_conf *sc = sup_conf_find(tui_conf(t), v->slug);
	char buf[1024], a[64], b[64];
	int y = 0;

	if (!sc) {
		snprintf(buf, sizeof(buf), _("%s: no supplier file (only in the database)"), v->slug);
		tui_put(w, y++, 0, cols, buf);
	} else {
		const struct rules_conf *r = &sc->rules;
		char *masked = http_url_mask(sc->source.url, sc->auth.kind == AUTH_QUERY ?
		                                                 sc->auth.param : NULL);
		int64_t next;
		bool nd;
		char nx[96];

		snprintf(buf, sizeof(buf), "%s - %s (%s)", sc->slug, sc->name,
		         /* TRANSLATORS: whether the supplier is synced on schedule */
		         sc->active ? _("on") : _("off"));
		wattron(w, tui_attr(t, TUI_C_TITLE));
		tui_put(w, y++, 0, cols, buf);
		wattroff(w, tui_attr(t, TUI_C_TITLE));
		/* TRANSLATORS: labels of the supplier details view, at most 10
		   columns: File, Source, Format, Rules, Realtime, Schedule, Links */
		det_line(w, y++, cols, _("File"), sc->file ? sc->file : "-");
		det_line(w, y++, cols, _("Source"), masked);
		free(masked);
		/* TRANSLATORS: "json, paging page, page size 100, auth bearer": the
		   values are the configuration's words */
		snprintf(buf, sizeof(buf), _("%s, paging %s, page size %s, auth %s"),
		         conf_format_name(sc->source.format), conf_paging_name(sc->source.paging),
		         fmt_int(sc->source.page_size), conf_auth_name(sc->auth.kind));
		det_line(w, y++, cols, _("Format"), buf);
		snprintf(a, sizeof(a), "%s", fmt_int(r->cap));
		snprintf(buf, sizeof(buf),
		         /* TRANSLATORS: the quantity rules (rules.safety_buffer, cap,
		            multiplier, pack_size, zero_missing), each label followed
		            by its value */
		         _("safety buffer %s, cap %s, multiplier %s, pack %s, zero missing %s"),
		         fmt_int(r->safety_buffer), r->cap < 0 ? _("none") : a, det_num(r->multiplier),
		         fmt_int(r->pack_size), r->zero_missing ? _("yes") : _("no"));
		det_line(w, y++, cols, _("Rules"), buf);
		/* TRANSLATORS: which real-time sources the supplier has, each
		   followed by "yes" or "no" */
		snprintf(buf, sizeof(buf), _("delta %s, live check %s, webhook %s"),
		         sc->has_delta ? _("yes") : _("no"), sc->has_check ? _("yes") : _("no"),
		         sc->webhook.enabled ? _("yes") : _("no"));
		det_line(w, y++, cols, _("Realtime"), buf);
		sup_next(tui_conf(t), sc, &next, &nd);
		if (next)
			time_format_age(next - time_now_ms() > 0 ? next - time_now_ms() : 0, a);
		if (sc->has_delta)
			/* TRANSLATORS: the delta schedule ("every 15m"); the last %s is
			   " (default)" or nothing */
			snprintf(b, sizeof(b), _("delta \"%s\"%s"),
			         sc->schedule.delta ? sc->schedule.delta : tui_conf(t)->daemon.delta,
			         /* TRANSLATORS: after a schedule taken from dropstock.conf */
			         sc->schedule.delta ? "" : _(" (default)"));
		else
			snprintf(b, sizeof(b), "%s", _("no delta"));
		if (!next)
			/* TRANSLATORS: no scheduled sync: ends "...; next %s" */
			snprintf(nx, sizeof(nx), "%s", _("none"));
		else if (nd)
			/* TRANSLATORS: when the next scheduled sync runs ("in 5m") and
			   which: ends "...; next %s" */
			snprintf(nx, sizeof(nx), _("in %s (delta)"), a);
		else
			snprintf(nx, sizeof(nx), _("in %s (full)"), a);
		/* TRANSLATORS: the Schedule line: the full schedule ("daily 03:00")
		   followed by " (default)" or nothing, then the delta part ('delta
		   "every 15m"' or "no delta"), then the next sync */
		snprintf(buf, sizeof(buf), _("full \"%s\"%s, %s; next %s"),
		         sc->schedule.full ? sc->schedule.full : tui_conf(t)->daemon.full,
		         sc->schedule.full ? "" : _(" (default)"), b, nx);
		det_line(w, y++, cols, _("Schedule"), buf);
	}
	if (v->have_row) {
		sup_last(v->row.last_full_at, v->row.last_full_status, a, sizeof(a));
		sup_last(v->row.last_delta_at, v->row.last_delta_status, b, sizeof(b));
		/* TRANSLATORS: the last full and delta syncs are an age and how they
		   ended ("5m ok") or "-" */
		snprintf(buf, sizeof(buf), P_("%s linked SKU; last full %s; last delta %s",
		                              "%s linked SKUs; last full %s; last delta %s",
		                              v->row.links),
		         fmt_int(v->row.links), a, b);
		det_line(w, y++, cols, _("Links"), buf);
	}
	if (y + 2 >= rows)
		return;
	y++;
	wattron(w, A_BOLD);
	/* TRANSLATORS: column headings of a supplier's runs, upper case, in
	   columns of 6, 6, 8, 11, 9, 8 and 8: STARTED is how long ago, SEEN the
	   items read, CHANGED the stock figures changed */
	snprintf(buf, sizeof(buf), "%s %s %s %s %s %s %s  %s", fmt_col(_("RUN"), -6),
	         fmt_col(_("KIND"), 6), fmt_col(_("TRIGGER"), 8), fmt_col(_("STATUS"), 11),
	         fmt_col(_("STARTED"), 9), fmt_col(_("SEEN"), -8), fmt_col(_("CHANGED"), -8),
	         _("ERROR"));
	tui_put(w, y++, 0, cols, buf);
	wattroff(w, A_BOLD);
	if (v->n_runs == 0)
		tui_put(w, y++, 1, cols - 1, _("no runs yet"));
	for (int i = 0; i < v->n_runs && y < rows; i++) {
		const struct det_run *d = &v->runs[i];
		if (d->started_at)
			time_format_age(time_now_ms() - d->started_at, a);
		else
			snprintf(a, sizeof(a), "-");
		snprintf(buf, sizeof(buf), "%6lld %s %s %s %s %s %s  %s", (long long)d->id,
		         fmt_col(state_label(d->kind), 6), fmt_col(state_label(d->trigger), 8),
		         fmt_col(state_label(d->status), 11), fmt_col(a, 9),
		         fmt_col(fmt_int(d->seen), -8), fmt_col(fmt_int(d->changed), -8),
		         d->error ? d->error : "");
		wattron(w, sup_status_attr(t, d->status));
		tui_put(w, y++, 0, cols, buf);
		wattroff(w, sup_status_attr(t, d->status));
	}
}

static int det_key(struct tui *t, void *p, int ch)
{
	struct det_view *v = p;
	int64_t running = 0;

	for (int i = 0; i < v->n_runs; i++)
		if (str_eq(v->runs[i].status, "running"))
			running = v->runs[i].id;
	switch (ch) {
	case 'f':
	case 'd':
		sup_sync(t, v->slug, running, "", ch == 'd');
		return TUI_HANDLED | TUI_RELOAD;
	case 't': {
		struct tui_testconn_arg a = { v->slug, NULL };
		if (!sup_conf_find(tui_conf(t), v->slug)) {
			tui_error(t, _("%s has no supplier file to test"), v->slug);
			return TUI_HANDLED;
		}
		tui_push(t, &tui_screen_testconn, &a);
		return TUI_HANDLED | TUI_REDRAW;
	}
	case 'e':
		if (!sup_conf_find(tui_conf(t), v->slug)) {
			tui_error(t, _("%s has no supplier file to edit"), v->slug);
			return TUI_HANDLED;
		}
		tui_push(t, &tui_screen_editor, v->slug);
		return TUI_HANDLED | TUI_REDRAW;
	case 27:
		return TUI_HANDLED | TUI_BACK;
	default:
		return TUI_UNHANDLED;
	}
}

const struct tui_screen_ops tui_screen_supplier_details = {
	/* TRANSLATORS: a console screen's name (tab bar, titles, key help) */
	.name = N_("Supplier"),
	.open = det_open,
	.close = det_close,
	.refresh = det_refresh,
	.draw = det_draw,
	.key = det_key,
	.keys = det_keys,
};

/* ---- the connection test view (t) ---- */

struct tc_arg {
	char slug[64];
	struct supplier_conf *own;    /* the editor's unsaved values, or NULL */
	int rc;
	struct error err;
	struct testconn_result res;
	char url[512];                /* masked, for the title */
};

struct tc_view {
	struct tc_arg *arg;           /* owned by the job until it is done */
	struct tui_job *job;
	int64_t started;              /* mono ms */
	int top;
};

static const struct tui_key tc_keys[] = {
	{ "r", N_("run the test again"), false },
	{ "Up/Down", N_("scroll the items"), false },
	{ "Esc", N_("back (abandons a test still running)"), false },
	{ NULL, NULL, false },
};

static void tc_free(void *p)
{
	struct tc_arg *a = p;

	if (a->own) {
		conf_supplier_free(a->own);
		free(a->own);
	}
	free(a);
}

static void tc_job(struct db *db, const struct conf *c, void *p)
{
	struct tc_arg *a = p;
	const struct supplier_conf *s = a->own ? a->own : sup_conf_find(c, a->slug);

	(void)db;
	if (!s) {
		a->rc = err_set(&a->err, ERRK_CONFIG, _("no supplier \"%s\" in the configuration"),
		                a->slug);
		return;
	}
	a->rc = engine_test_connection(c, s, TESTCONN_MAX_ITEMS, &a->res, &a->err);
}

static void tc_start(struct tui *t, struct tc_view *v, struct tc_arg *a)
{
	const struct supplier_conf *s = a->own ? a->own : sup_conf_find(tui_conf(t), a->slug);

	a->url[0] = '\0';
	if (s && s->source.url) {
		char *m = http_url_mask(s->source.url, s->auth.kind == AUTH_QUERY ? s->auth.param
		                                                                  : NULL);
		snprintf(a->url, sizeof(a->url), "%s", m);
		free(m);
	}
	v->arg = a;
	v->started = time_mono_ms();
	v->top = 0;
	v->job = tui_job_start(t, tc_job, a, tc_free);
}

static void *tc_open(struct tui *t, void *p)
{
	const struct tui_testconn_arg *in = p;
	struct tc_view *v = xcalloc(1, sizeof(*v));
	struct tc_arg *a = xcalloc(1, sizeof(*a));

	if (in) {
		if (in->sup) {
			a->own = in->sup;
			snprintf(a->slug, sizeof(a->slug), "%s", in->sup->slug ? in->sup->slug : "");
		} else if (in->slug) {
			snprintf(a->slug, sizeof(a->slug), "%s", in->slug);
		}
	}
	tc_start(t, v, a);
	return v;
}

static void tc_close(void *p)
{
	struct tc_view *v = p;

	if (v->job) {
		if (tui_job_done(v->job))
			tui_job_free(v->job);
		else
			tui_job_abandon(v->job);
	}
	free(v);
}

static void tc_refresh(struct tui *t, void *p)
{
	(void)t;
	(void)p;
}

static void tc_draw(struct tui *t, void *p, WINDOW *w, int rows, int cols)
{
	struct tc_view *v = p;
	struct tc_arg *a = v->arg;
	char buf[1024], when[40], nbytes[96], nitems[96];
	int y = 0;

	snprintf(buf, sizeof(buf), _("Test connection: %s  %s"), a->slug, a->url);
	wattron(w, tui_attr(t, TUI_C_TITLE));
	tui_put(w, y++, 0, cols, buf);
	wattroff(w, tui_attr(t, TUI_C_TITLE));
	if (!tui_job_done(v->job)) {
		snprintf(buf, sizeof(buf), _("%s fetching the first page ... %s s  (Esc abandons)"),
		         tui_spinner(t), fmt_dec((double)(time_mono_ms() - v->started) / 1000.0, 1));
		tui_put(w, y + 1, 1, cols - 1, buf);
		return;
	}
	if (a->rc != 0) {
		wattron(w, tui_attr(t, TUI_C_ERROR));
		tui_put(w, y + 1, 1, cols - 1, _("The test failed:"));
		wattroff(w, tui_attr(t, TUI_C_ERROR));
		/* the message wrapped over the lines below */
		for (size_t off = 0, len = strlen(a->err.msg); off < len && y + 2 < rows;
		     off += (size_t)(cols - 2)) {
			tui_put(w, y + 2, 1, cols - 1, a->err.msg + off);
			y++;
		}
		tui_put(w, y + 3, 1, cols - 1, _("Press r to try again, Esc to go back."));
		return;
	}
	if (a->res.status)
		snprintf(when, sizeof(when), "HTTP %ld, ", a->res.status);
	else
		when[0] = '\0';
	/* TRANSLATORS: a part of "OK: HTTP 200, 4,242 bytes read, 50 items
	   parsed in 0.42 s" */
	snprintf(nbytes, sizeof(nbytes), P_("%s byte read", "%s bytes read", a->res.bytes),
	         fmt_int(a->res.bytes));
	/* TRANSLATORS: a part of "OK: HTTP 200, 4,242 bytes read, 50 items
	   parsed in 0.42 s" */
	snprintf(nitems, sizeof(nitems), P_("%s item parsed", "%s items parsed",
	                                    a->res.items_in_page),
	         fmt_int(a->res.items_in_page));
	/* TRANSLATORS: "OK: HTTP 200, 4,242 bytes read, 50 items parsed in 0.42
	   s": the first %s is "HTTP 200, " or nothing, then "%s bytes read" and
	   "%s items parsed", then " (feed total known)" or nothing, then the
	   seconds */
	snprintf(buf, sizeof(buf), _("OK: %s%s, %s%s in %s s"), when, nbytes, nitems,
	         a->res.has_total ? _(" (feed total known)") : "",
	         fmt_dec((double)a->res.elapsed_ms / 1000.0, 2));
	wattron(w, tui_attr(t, TUI_C_OK));
	tui_put(w, y++, 0, cols, buf);
	wattroff(w, tui_attr(t, TUI_C_OK));
	if (a->res.has_total) {
		snprintf(buf, sizeof(buf), P_("the feed says it has %s item in all",
		                              "the feed says it has %s items in all", a->res.total),
		         fmt_int(a->res.total));
		tui_put(w, y++, 0, cols, buf);
	}
	y++;
	wattron(w, A_BOLD);
	/* TRANSLATORS: column headings of the connection test, upper case:
	   the item's position (5 columns), its SKU (24), the supplier's stock
	   and the stock the store gets (8 columns each), then the supplier's
	   time of the figure or why the item was skipped */
	snprintf(buf, sizeof(buf), "%s  %s %s %s  %s", fmt_col(_("ITEM"), -5),
	         fmt_col(_("SKU"), 24), fmt_col(_("STOCK"), -8), fmt_col(_("STORE"), -8),
	         _("UPDATED, OR WHY SKIPPED"));
	tui_put(w, y++, 0, cols, buf);
	wattroff(w, A_BOLD);
	if (a->res.n == 0)
		tui_put(w, y++, 1, cols - 1, _("the page held no items"));
	if (v->top > a->res.n - 1)
		v->top = a->res.n > 0 ? a->res.n - 1 : 0;
	for (int i = v->top; i < a->res.n && y < rows; i++) {
		const struct testconn_item *it = &a->res.items[i];
		char upd[48], st[48], ss[48];

		if (it->updated_at)
			time_format_local(it->updated_at, TIME_SECONDS, upd, sizeof(upd));
		else
			snprintf(upd, sizeof(upd), "-");
		if (it->ok) {
			snprintf(st, sizeof(st), "%s", fmt_int(it->stock));
			snprintf(ss, sizeof(ss), "%s", fmt_int(it->store_stock));
		} else {
			snprintf(st, sizeof(st), "-");
			snprintf(ss, sizeof(ss), "-");
		}
		if (it->ok) {
			snprintf(buf, sizeof(buf), "%5lld  %s %s %s  %s", (long long)it->position,
			         fmt_col(it->sku[0] ? it->sku : _("(none)"), 24), fmt_col(st, -8),
			         fmt_col(ss, -8), upd);
		} else {
			/* the reason where the figures would be, without the
			 * "item N (SKU X): " the columns already show */
			const char *why = strstr(it->error, "): ");
			why = why ? why + 3 : it->error;
			if (!strstr(it->error, "): ") && strstr(it->error, ": "))
				why = strstr(it->error, ": ") + 2;
			snprintf(buf, sizeof(buf), "%5lld  %s %s", (long long)it->position,
			         fmt_col(it->sku[0] ? it->sku : _("(none)"), 24), why);
		}
		if (!it->ok)
			wattron(w, tui_attr(t, TUI_C_ERROR));
		tui_put(w, y++, 0, cols, buf);
		if (!it->ok)
			wattroff(w, tui_attr(t, TUI_C_ERROR));
	}
}

static int tc_key(struct tui *t, void *p, int ch)
{
	struct tc_view *v = p;

	switch (ch) {
	case 27:
		return TUI_HANDLED | TUI_BACK;
	case 'r':
		if (!tui_job_done(v->job)) {
			tui_message(t, _("the test is still running"));
			return TUI_HANDLED;
		} else {
			struct tc_arg *old = v->arg, *a = xcalloc(1, sizeof(*a));
			/* the new test takes over the unsaved values */
			snprintf(a->slug, sizeof(a->slug), "%s", old->slug);
			a->own = old->own;
			old->own = NULL;
			tui_job_free(v->job);
			tc_start(t, v, a);
		}
		return TUI_HANDLED | TUI_REDRAW;
	case KEY_UP:
	case 'k':
		if (v->top > 0)
			v->top--;
		return TUI_HANDLED | TUI_REDRAW;
	case KEY_DOWN:
	case 'j':
		v->top++;
		return TUI_HANDLED | TUI_REDRAW;
	default:
		return TUI_UNHANDLED;
	}
}

const struct tui_screen_ops tui_screen_testconn = {
	/* TRANSLATORS: a console screen's name (tab bar, titles, key help) */
	.name = N_("Test connection"),
	.open = tc_open,
	.close = tc_close,
	.refresh = tc_refresh,
	.draw = tc_draw,
	.key = tc_key,
	.keys = tc_keys,
};
