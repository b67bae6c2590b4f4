/* screen_syncs.c - console screen 2: every queued and running sync,
 * whoever started it, with its progress; below, the recent finished runs.
 * Everything comes from sync_runs, so runs started by the daemon, the CLI
 * or another console show the same way.  Also the run details view. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "store/report.h"
#include "store/store.h"
#include "tui/tui.h"

#define SY_RECENT 200             /* finished runs listed */
#define SY_CHANGES 200            /* changes listed in a run's details */

struct sy_run {
	int64_t id;
	char slug[64], kind[8], trigger[16], status[16];
	int64_t attempt, next_attempt_at, pid;
	int64_t started_at, finished_at, heartbeat_at;
	int64_t done, total, pages, bytes;
	int64_t seen, changed, unknown, invalid, stale, zeroed;
	char *error;
	bool dry_run;
};

struct sy_list {
	struct sy_run *v;
	size_t n, cap;
};

struct sy_screen {
	struct sy_list active, recent;
	int sel;                      /* index over active then recent */
	int64_t sel_id;
	int top;                      /* first recent row shown */
};

static const struct tui_key sy_keys[] = {
	{ "Up/Down", N_("select a run (also j/k, PgUp/PgDn, Home/End)"), false },
	{ "Enter", N_("details: counts, error text, first changes"), false },
	{ "c", N_("cancel: a queued run is dropped, a running one stops after its page"), true },
	{ "r", N_("retry: start the run's supplier and kind again"), true },
	{ "v", N_("revert a succeeded run (dropstock revert), after a question"), true },
	{ NULL, NULL, false },
};

/* ---- loading ---- */

static void sy_list_clear(struct sy_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].error);
	l->n = 0;
}

static void sy_copy(struct sy_run *d, const struct report_run *r)
{
	memset(d, 0, sizeof(*d));
	d->id = r->id;
	snprintf(d->slug, sizeof(d->slug), "%s", r->supplier);
	snprintf(d->kind, sizeof(d->kind), "%s", r->kind);
	snprintf(d->trigger, sizeof(d->trigger), "%s", r->trigger);
	snprintf(d->status, sizeof(d->status), "%s", r->status);
	d->attempt = r->attempt;
	d->next_attempt_at = r->next_attempt_at;
	d->pid = r->pid;
	d->started_at = r->started_at;
	d->finished_at = r->finished_at;
	d->heartbeat_at = r->heartbeat_at;
	d->done = r->done;
	d->total = r->total;
	d->pages = r->pages;
	d->bytes = r->bytes;
	d->seen = r->seen;
	d->changed = r->changed;
	d->unknown = r->unknown;
	d->invalid = r->invalid;
	d->stale = r->stale;
	d->zeroed = r->zeroed;
	d->error = xstrdup(r->error);
	d->dry_run = r->dry_run;
}

static int sy_add(struct sy_list *l, const struct report_run *r)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	sy_copy(&l->v[l->n++], r);
	return 0;
}

static int sy_active_row(void *ud, const struct report_run *r)
{
	struct sy_screen *s = ud;

	return sy_add(&s->active, r);
}

static int sy_recent_row(void *ud, const struct report_run *r)
{
	struct sy_screen *s = ud;

	if (str_eq(r->status, "queued") || str_eq(r->status, "running"))
		return 0;
	return sy_add(&s->recent, r);
}

static size_t sy_count(const struct sy_screen *s)
{
	return s->active.n + s->recent.n;
}

static struct sy_run *sy_at(struct sy_screen *s, int i)
{
	if (i < 0)
		return NULL;
	if ((size_t)i < s->active.n)
		return &s->active.v[i];
	if ((size_t)i - s->active.n < s->recent.n)
		return &s->recent.v[(size_t)i - s->active.n];
	return NULL;
}

static void sy_refresh(struct tui *t, void *p)
{
	struct sy_screen *s = p;
	struct error err = { 0 };

	sy_list_clear(&s->active);
	sy_list_clear(&s->recent);
	if (report_runs_active(tui_db(t), sy_active_row, s, &err) != 0 ||
	    report_runs(tui_db(t), NULL, SY_RECENT, sy_recent_row, s, &err) != 0)
		tui_error(t, "%s", err.msg);
	/* the selection follows its run */
	if (s->sel_id) {
		for (size_t i = 0; i < sy_count(s); i++) {
			if (sy_at(s, (int)i)->id == s->sel_id) {
				s->sel = (int)i;
				break;
			}
		}
	}
	if (s->sel >= (int)sy_count(s))
		s->sel = sy_count(s) ? (int)sy_count(s) - 1 : 0;
	s->sel_id = sy_count(s) ? sy_at(s, s->sel)->id : 0;
}

static void *sy_open(struct tui *t, void *arg)
{
	(void)t;
	(void)arg;
	return xcalloc(1, sizeof(struct sy_screen));
}

static void sy_close(void *p)
{
	struct sy_screen *s = p;

	sy_list_clear(&s->active);
	sy_list_clear(&s->recent);
	free(s->active.v);
	free(s->recent.v);
	free(s);
}

/* ---- drawing ---- */

static attr_t sy_status_attr(struct tui *t, const char *status)
{
	if (str_eq(status, "succeeded"))
		return tui_attr(t, TUI_C_OK);
	if (str_eq(status, "failed") || str_eq(status, "interrupted") ||
	    str_eq(status, "needs_approval"))
		return tui_attr(t, TUI_C_ERROR);
	return A_NORMAL;
}

/* 1234 -> "1234", 12345 -> "12.3k", 1234567 -> "1.23M", in the locale's
 * digits ("1.234", "12,3k" in de_DE): at most 7 columns below 10^9. */
static void sy_num(int64_t n, char *out, size_t size)
{
	if (n < 10000)
		snprintf(out, size, "%s", fmt_int(n));
	else if (n < 1000000)
		/* TRANSLATORS: a count in thousands, "12.3k"; keep it short */
		snprintf(out, size, _("%sk"), fmt_dec((double)n / 1000.0, 1));
	else
		/* TRANSLATORS: a count in millions, "1.23M"; keep it short */
		snprintf(out, size, _("%sM"), fmt_dec((double)n / 1000000.0, 2));
}

/* "2026-11-27 08:15:00" in local time (the locale's date), "-" for 0. */
static void sy_clock(int64_t ms, char *out, size_t size)
{
	time_format_local(ms, TIME_SECONDS, out, size);
}

/* Items per second and the time left of a running run; *eta_ms -1 = unknown. */
static double sy_rate(const struct sy_run *r, int64_t *eta_ms)
{
	int64_t now = time_now_ms();
	int64_t el = r->started_at ? now - r->started_at : 0;
	double rate = el > 0 ? (double)r->done * 1000.0 / (double)el : 0.0;

	*eta_ms = -1;
	if (rate > 0 && r->total > r->done)
		*eta_ms = (int64_t)((double)(r->total - r->done) / rate * 1000.0);
	else if (r->total > 0 && r->done >= r->total)
		*eta_ms = 0;
	return rate;
}

static void sy_draw_active(struct tui *t, WINDOW *w, int y, int cols, const struct sy_run *r,
                           bool selected)
{
	char buf[512], head[128], a[48], b[48], c[32];
	attr_t sel = selected ? tui_attr(t, TUI_C_SELECTED) : A_NORMAL;
	int64_t eta;
	int n;

	wattron(w, sel);
	/* run id, supplier, kind and trigger as stored, in columns */
	snprintf(head, sizeof(head), "%6lld %s %s %s ", (long long)r->id, fmt_col(r->slug, 12),
	         fmt_col(state_label(r->kind), 6), fmt_col(state_label(r->trigger), 8));
	n = snprintf(buf, sizeof(buf), "%s", head);
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = 0;
	if (str_eq(r->status, "queued")) {
		int64_t due = r->next_attempt_at - time_now_ms();

		if (due > 0)
			/* TRANSLATORS: a queued run on the Syncs screen: when it is due
			   ("5m") and the attempt's number */
			snprintf(buf + n, sizeof(buf) - (size_t)n, _("queued, due in %s (attempt %lld)"),
			         time_format_age(due, a), (long long)r->attempt);
		else
			/* TRANSLATORS: a queued run on the Syncs screen; %lld is the
			   attempt's number */
			snprintf(buf + n, sizeof(buf) - (size_t)n, _("queued, due now (attempt %lld)"),
			         (long long)r->attempt);
		tui_put(w, y, 0, cols, buf);
		wattroff(w, sel);
		return;
	}
	sy_num(r->done, a, sizeof(a));
	if (r->total > 0)
		sy_num(r->total, b, sizeof(b));
	else
		snprintf(b, sizeof(b), "?");
	{
		double rate = sy_rate(r, &eta);
		char etas[40];
		if (eta >= 0) {
			time_format_age(eta, c);
			/* TRANSLATORS: the time left of a running sync, "ETA 3m" */
			snprintf(etas, sizeof(etas), _("ETA %s"), c);
		} else {
			/* TRANSLATORS: the time left of a running sync, not known yet */
			snprintf(etas, sizeof(etas), _("ETA ?"));
		}
		/* TRANSLATORS: a running sync on the Syncs screen: items done of
		   the total, items per second, the time left, then pages read and
		   stock figures changed, each label followed by its count */
		snprintf(buf + n, sizeof(buf) - (size_t)n, _("%s/%s  %s/s  %s  pages: %s  changed: %s"),
		         a, b, fmt_dec(rate, 0), etas, fmt_int(r->pages), fmt_int(r->changed));
	}
	tui_put(w, y, 0, cols, buf);
	wattroff(w, sel);
	/* the bar, under it */
	{
		int bw = cols - 7 - 6;
		char pct[16];

		tui_put(w, y + 1, 0, 7, "");
		if (bw > 0)
			tui_draw_bar(t, w, y + 1, 7, bw, r->done, r->total);
		if (r->total > 0)
			snprintf(pct, sizeof(pct), " %3d%%",
			         (int)(r->done >= r->total ? 100 : r->done * 100 / r->total));
		else
			snprintf(pct, sizeof(pct), " %s", tui_spinner(t));
		if (bw > 0)
			tui_put(w, y + 1, 7 + bw, cols - 7 - bw, pct);
	}
}

static void sy_draw_recent(struct tui *t, WINDOW *w, int y, int cols, const struct sy_run *r,
                           bool selected, bool wide)
{
	char buf[1024], when[32], took[32], seen[48], chg[48];
	const char *status;
	attr_t sel = selected ? tui_attr(t, TUI_C_SELECTED) : sy_status_attr(t, r->status);

	if (r->finished_at)
		time_format_age(time_now_ms() - r->finished_at, when);
	else
		snprintf(when, sizeof(when), "-");
	if (r->finished_at && r->started_at)
		time_format_age(r->finished_at - r->started_at, took);
	else
		snprintf(took, sizeof(took), "-");
	sy_num(r->seen, seen, sizeof(seen));
	sy_num(r->changed, chg, sizeof(chg));
	/* TRANSLATORS: the STATUS column of a dry run; at most 11 columns */
	status = r->dry_run ? _("dry run") : state_label(r->status);
	if (wide)
		snprintf(buf, sizeof(buf), "%6lld %s %s %s %s %s %s %s %s  %s", (long long)r->id,
		         fmt_col(r->slug, 12), fmt_col(state_label(r->kind), 6),
		         fmt_col(state_label(r->trigger), 8), fmt_col(status, 11), fmt_col(when, -7),
		         fmt_col(took, -6), fmt_col(seen, -6), fmt_col(chg, -7),
		         r->error ? r->error : "");
	else
		snprintf(buf, sizeof(buf), "%6lld %s %s %s %s %s %s %s  %s", (long long)r->id,
		         fmt_col(r->slug, 10), fmt_col(state_label(r->kind), 6),
		         fmt_col(state_label(r->trigger), 8), fmt_col(status, 11), fmt_col(when, -6),
		         fmt_col(seen, -6), fmt_col(chg, -7), r->error ? r->error : "");
	wattron(w, sel);
	tui_put(w, y, 0, cols, buf);
	wattroff(w, sel);
}

static void sy_draw(struct tui *t, void *p, WINDOW *w, int rows, int cols)
{
	struct sy_screen *s = p;
	char buf[256];
	int y = 0, max_active, recent_rows;

	snprintf(buf, sizeof(buf), _("Running and queued: %s"), fmt_int((int64_t)s->active.n));
	wattron(w, A_BOLD);
	tui_put(w, y++, 0, cols, buf);
	wattroff(w, A_BOLD);
	/* the active runs get at most half the screen */
	max_active = (rows - 5) / 2;
	if (s->active.n == 0) {
		wattron(w, tui_attr(t, TUI_C_DIM));
		tui_put(w, y++, 1, cols - 1,
		        _("no sync is running or queued (start one with f or d on the Suppliers screen)"));
		wattroff(w, tui_attr(t, TUI_C_DIM));
	}
	for (size_t i = 0; i < s->active.n && y < 1 + max_active; i++) {
		const struct sy_run *r = &s->active.v[i];
		sy_draw_active(t, w, y, cols, r, (int)i == s->sel);
		y += str_eq(r->status, "running") ? 2 : 1;
	}
	y++;
	if (y + 2 >= rows)
		return;
	wattron(w, A_BOLD);
	tui_put(w, y++, 0, cols, _("Recent runs"));
	/* how long a run took only when there is room for it */
	/* TRANSLATORS: column headings of the Syncs screen, upper case, as
	   short as the English ones: the run's number (6 columns), supplier
	   (10), full/delta (6), what started it (8), status (11), how long ago
	   it ended (6), how long it took (6), items read (6), stock figures
	   changed (7), error */
	if (cols >= 100)
		snprintf(buf, sizeof(buf), "%s %s %s %s %s %s %s %s %s  %s", fmt_col(_("RUN"), -6),
		         fmt_col(_("SUPPLIER"), 12), fmt_col(_("KIND"), 6), fmt_col(_("BY"), 8),
		         fmt_col(_("STATUS"), 11), fmt_col(_("ENDED"), -7), fmt_col(_("TOOK"), -6),
		         fmt_col(_("SEEN"), -6), fmt_col(_("CHANGED"), -7), _("ERROR"));
	else
		snprintf(buf, sizeof(buf), "%s %s %s %s %s %s %s %s  %s", fmt_col(_("RUN"), -6),
		         fmt_col(_("SUPPLIER"), 10), fmt_col(_("KIND"), 6), fmt_col(_("BY"), 8),
		         fmt_col(_("STATUS"), 11), fmt_col(_("ENDED"), -6), fmt_col(_("SEEN"), -6),
		         fmt_col(_("CHANGED"), -7), _("ERROR"));
	tui_put(w, y++, 0, cols, buf);
	wattroff(w, A_BOLD);
	recent_rows = rows - y;
	if (s->recent.n == 0) {
		tui_put(w, y, 1, cols - 1, _("no finished runs yet"));
		return;
	}
	{
		int rsel = s->sel - (int)s->active.n;
		if (rsel >= 0) {
			if (rsel < s->top)
				s->top = rsel;
			if (rsel >= s->top + recent_rows)
				s->top = rsel - recent_rows + 1;
		}
		if (s->top < 0)
			s->top = 0;
	}
	for (int i = 0; i < recent_rows && s->top + i < (int)s->recent.n; i++)
		sy_draw_recent(t, w, y + i, cols, &s->recent.v[s->top + i],
		               (int)s->active.n + s->top + i == s->sel, cols >= 100);
}

/* ---- actions ---- */

static void sy_cancel(struct tui *t, struct sy_run *r)
{
	struct error err = { 0 };
	char *q;
	int rc;

	if (str_eq(r->status, "queued")) {
		/* TRANSLATORS: the second %s is the run's kind, "full" or "delta" */
		q = xasprintf(_("cancel queued run %lld (%s sync of %s)?"), (long long)r->id, r->kind,
		              r->slug);
		if (!tui_confirm(t, q)) {
			free(q);
			return;
		}
		free(q);
		rc = runs_transition(tui_db(t), r->id, "queued", "interrupted",
		                     _("cancelled from the console"), time_now_ms(), &err);
		if (rc < 0)
			tui_error(t, _("cancelling run %lld failed: %s"), (long long)r->id, err.msg);
		else if (rc == 0)
			tui_error(t, _("run %lld is no longer queued"), (long long)r->id);
		else
			tui_message(t, _("run %lld cancelled"), (long long)r->id);
		return;
	}
	if (!str_eq(r->status, "running")) {
		/* TRANSLATORS: %s is the run's status as stored ("succeeded") */
		tui_error(t, _("run %lld is %s: only queued and running runs can be cancelled"),
		          (long long)r->id, r->status);
		return;
	}
	/* TRANSLATORS: the second %s is the run's kind, "full" or "delta" */
	q = xasprintf(_("stop running run %lld (%s sync of %s)?"), (long long)r->id, r->kind,
	              r->slug);
	if (!tui_confirm(t, q)) {
		free(q);
		return;
	}
	free(q);
	/* a flag the run reads with its progress: works for the daemon's runs
	 * and for other processes alike */
	rc = runs_request_cancel(tui_db(t), r->id, &err);
	if (rc < 0)
		tui_error(t, _("cancelling run %lld failed: %s"), (long long)r->id, err.msg);
	else if (rc == 0)
		tui_error(t, _("run %lld is no longer running"), (long long)r->id);
	else
		tui_message(t, _("run %lld asked to stop: it ends after the page in flight and shows "
		                 "as interrupted"),
		            (long long)r->id);
}

static void sy_retry(struct tui *t, struct sy_run *r)
{
	struct error err = { 0 };

	if (!str_eq(r->kind, "full") && !str_eq(r->kind, "delta")) {
		/* TRANSLATORS: %s is the run's kind as stored ("revert") */
		tui_error(t, _("run %lld is a %s: nothing to retry"), (long long)r->id, r->kind);
		return;
	}
	if (str_eq(r->status, "running") || str_eq(r->status, "queued")) {
		/* TRANSLATORS: %s is the run's status as stored ("running", "queued") */
		tui_error(t, _("run %lld is still %s"), (long long)r->id, r->status);
		return;
	}
	if (tui_spawn_sync(t, r->slug, str_eq(r->kind, "delta"), &err) != 0) {
		tui_error(t, "%s", err.msg);
		return;
	}
	/* TRANSLATORS: the first %s is the run's kind, "full" or "delta" */
	tui_message(t, _("%s sync of %s started again"), r->kind, r->slug);
}

static void sy_revert(struct tui *t, struct sy_run *r)
{
	struct error err = { 0 };
	char id[32], *q;
	const char *args[3] = { "revert", id, NULL };

	if (!str_eq(r->status, "succeeded") || r->dry_run) {
		/* TRANSLATORS: %s is the run's status as stored ("failed"), or "a
		   dry run" */
		tui_error(t, _("only a succeeded run can be reverted; run %lld is %s"),
		          (long long)r->id, r->dry_run ? _("a dry run") : r->status);
		return;
	}
	/* TRANSLATORS: the first %s is the run's kind ("full" or "delta"), the
	   last how many stock figures it changed */
	q = xasprintf(_("revert run %lld (%s of %s, changed: %s): set its links back, except "
	                "those changed since?"),
	              (long long)r->id, r->kind, r->slug, fmt_int(r->changed));
	if (!tui_confirm(t, q)) {
		free(q);
		return;
	}
	free(q);
	snprintf(id, sizeof(id), "%lld", (long long)r->id);
	if (tui_spawn(t, args, &err) != 0) {
		tui_error(t, "%s", err.msg);
		return;
	}
	tui_message(t, _("revert of run %lld started; it shows here as a revert run"),
	            (long long)r->id);
}

static int sy_key(struct tui *t, void *p, int ch)
{
	struct sy_screen *s = p;
	struct sy_run *r = sy_at(s, s->sel);
	int n = (int)sy_count(s);

	switch (ch) {
	case KEY_UP:
	case 'k':
		if (s->sel > 0)
			s->sel--;
		break;
	case KEY_DOWN:
	case 'j':
		if (s->sel + 1 < n)
			s->sel++;
		break;
	case KEY_PPAGE:
		s->sel = s->sel > 10 ? s->sel - 10 : 0;
		break;
	case KEY_NPAGE:
		s->sel = s->sel + 10 < n ? s->sel + 10 : (n ? n - 1 : 0);
		break;
	case KEY_HOME:
	case 'g':
		s->sel = 0;
		break;
	case KEY_END:
	case 'G':
		s->sel = n ? n - 1 : 0;
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
		if (r)
			tui_push(t, &tui_screen_run_details, &r->id);
		return TUI_HANDLED | TUI_REDRAW;
	case 'c':
		if (r)
			sy_cancel(t, r);
		return TUI_HANDLED | TUI_RELOAD;
	case 'r':
		if (r)
			sy_retry(t, r);
		return TUI_HANDLED | TUI_RELOAD;
	case 'v':
		if (r)
			sy_revert(t, r);
		return TUI_HANDLED | TUI_RELOAD;
	default:
		return TUI_UNHANDLED;
	}
	r = sy_at(s, s->sel);
	s->sel_id = r ? r->id : 0;
	return TUI_HANDLED | TUI_REDRAW;
}

const struct tui_screen_ops tui_screen_syncs = {
	/* TRANSLATORS: a console screen's name (tab bar, titles, key help) */
	.name = N_("Syncs"),
	.open = sy_open,
	.close = sy_close,
	.refresh = sy_refresh,
	.draw = sy_draw,
	.key = sy_key,
	.keys = sy_keys,
};

/* ---- a run's details (Enter) ---- */

struct sy_change {
	char *supplier_sku, *product_sku;
	bool has_prev;
	int64_t prev, new_stock, recorded_at;
};

struct sy_details {
	int64_t id;
	bool found;
	struct sy_run run;
	struct sy_change *ch;
	size_t n_ch;
	int64_t total_ch;
	int64_t ch_loaded_done;       /* run.done when the changes were read, -1 = never */
	bool was_active;
	int top;
};

static const struct tui_key syd_keys[] = {
	{ "Up/Down", N_("scroll the changes (also j/k, PgUp/PgDn)"), false },
	{ "c", N_("cancel the run (queued or running)"), true },
	{ "r", N_("retry: start the supplier and kind again"), true },
	{ "v", N_("revert the run (when it succeeded)"), true },
	{ "Esc", N_("back to the list"), false },
	{ NULL, NULL, false },
};

static void syd_changes_clear(struct sy_details *d)
{
	for (size_t i = 0; i < d->n_ch; i++) {
		free(d->ch[i].supplier_sku);
		free(d->ch[i].product_sku);
	}
	free(d->ch);
	d->ch = NULL;
	d->n_ch = 0;
}

static int syd_run_row(void *ud, const struct report_run *r)
{
	struct sy_details *d = ud;

	free(d->run.error);
	sy_copy(&d->run, r);
	d->found = true;
	return 0;
}

static int syd_change_row(void *ud, const struct report_history_row *r)
{
	struct sy_details *d = ud;
	struct sy_change *c;

	d->ch = xrealloc(d->ch, (d->n_ch + 1) * sizeof(*d->ch));
	c = &d->ch[d->n_ch++];
	c->supplier_sku = xstrdup(r->supplier_sku ? r->supplier_sku : "?");
	c->product_sku = xstrdup(r->product_sku ? r->product_sku : "-");
	c->has_prev = r->has_prev;
	c->prev = r->prev;
	c->new_stock = r->new_stock;
	c->recorded_at = r->recorded_at;
	return 0;
}

static void syd_refresh(struct tui *t, void *p)
{
	struct sy_details *d = p;
	struct error err = { 0 };
	bool active;

	if (report_run(tui_db(t), d->id, syd_run_row, d, &err) != 0) {
		tui_error(t, "%s", err.msg);
		return;
	}
	active = str_eq(d->run.status, "running") || str_eq(d->run.status, "queued");
	/* the changes: once for a finished run, as it goes for a running one */
	if (d->ch_loaded_done < 0 || (active && d->run.done != d->ch_loaded_done) ||
	    (!active && d->was_active)) {
		syd_changes_clear(d);
		if (report_run_changes(tui_db(t), d->id, SY_CHANGES, syd_change_row, d, &d->total_ch,
		                       &err) != 0)
			tui_error(t, "%s", err.msg);
		d->ch_loaded_done = d->run.done;
	}
	d->was_active = active;
}

static void *syd_open(struct tui *t, void *arg)
{
	struct sy_details *d = xcalloc(1, sizeof(*d));

	(void)t;
	d->id = arg ? *(const int64_t *)arg : 0;
	d->ch_loaded_done = -1;
	return d;
}

static void syd_close(void *p)
{
	struct sy_details *d = p;

	syd_changes_clear(d);
	free(d->run.error);
	free(d);
}

static void syd_draw(struct tui *t, void *p, WINDOW *w, int rows, int cols)
{
	struct sy_details *d = p;
	const struct sy_run *r = &d->run;
	char buf[1024], a[32], b[32];
	int y = 0;

	if (!d->found) {
		snprintf(buf, sizeof(buf), _("run %lld: no such run (any more)"), (long long)d->id);
		tui_put(w, 0, 0, cols, buf);
		return;
	}
	/* TRANSLATORS: "Run 12: full sync of acme, started by schedule, attempt
	   1": the run's kind ("full", "delta", "revert") and what started it
	   ("schedule", "manual", "console", "cli") as stored; the last %s is
	   " (dry run)" or nothing */
	/* TRANSLATORS: the run's number, its kind (the label of "full",
	   "delta" or "revert"), the supplier, what started it (the label of
	   "cli", "schedule", "console", "retry", ...), the attempt, then
	   " (dry run)" or nothing */
	snprintf(buf, sizeof(buf), _("Run %lld: %s sync of %s, started by %s, attempt %lld%s"),
	         (long long)r->id, state_label(r->kind), r->slug, state_label(r->trigger),
	         (long long)r->attempt,
	         r->dry_run ? _(" (dry run)") : "");
	wattron(w, tui_attr(t, TUI_C_TITLE));
	tui_put(w, y++, 0, cols, buf);
	wattroff(w, tui_attr(t, TUI_C_TITLE));
	sy_clock(r->started_at, a, sizeof(a));
	if (r->finished_at && r->started_at)
		time_format_age(r->finished_at - r->started_at, b);
	else
		snprintf(b, sizeof(b), "-");
	wattron(w, sy_status_attr(t, r->status));
	/* TRANSLATORS: label and value pairs: the run's status, its local
	   start time, how long it took, its process id */
	snprintf(buf, sizeof(buf), _("Status %s  started %s  took %s  process %lld"),
	         state_label(r->status),
	         a, b, (long long)r->pid);
	tui_put(w, y++, 0, cols, buf);
	wattroff(w, sy_status_attr(t, r->status));
	/* TRANSLATORS: label and count pairs: items done of the total, pages
	   and bytes read, items seen, stock figures changed */
	snprintf(buf, sizeof(buf), _("Items %s/%s  pages %s  bytes %s  seen %s  changed %s"),
	         fmt_int(r->done), fmt_int(r->total), fmt_int(r->pages), fmt_int(r->bytes),
	         fmt_int(r->seen), fmt_int(r->changed));
	tui_put(w, y++, 0, cols, buf);
	/* TRANSLATORS: label and count pairs: SKUs linked to nothing, items
	   with no usable stock, figures older than the known ones, linked SKUs
	   missing from the feed set to 0 */
	snprintf(buf, sizeof(buf), _("Unknown SKUs %s  invalid %s  stale %s  zeroed %s"),
	         fmt_int(r->unknown), fmt_int(r->invalid), fmt_int(r->stale), fmt_int(r->zeroed));
	tui_put(w, y++, 0, cols, buf);
	if (str_eq(r->status, "running")) {
		int64_t eta;
		double rate = sy_rate(r, &eta);
		tui_draw_bar(t, w, y, 0, cols - 20 > 10 ? cols - 20 : 10, r->done, r->total);
		snprintf(buf, sizeof(buf), " %s/s", fmt_dec(rate, 0));
		if (cols - 20 > 10)
			tui_put(w, y, cols - 20, 20, buf);
		y++;
	}
	if (r->error && *r->error) {
		size_t len = strlen(r->error);
		wattron(w, tui_attr(t, TUI_C_ERROR));
		for (size_t off = 0; off < len && y < rows - 3 && off / (size_t)cols < 4;
		     off += (size_t)cols)
			tui_put(w, y++, 0, cols, r->error + off);
		wattroff(w, tui_attr(t, TUI_C_ERROR));
	}
	y++;
	if (y + 1 >= rows)
		return;
	snprintf(buf, sizeof(buf), _("Changes: %s (the first %s listed)"), fmt_int(d->total_ch),
	         fmt_int((int64_t)d->n_ch));
	wattron(w, A_BOLD);
	tui_put(w, y++, 0, cols, buf);
	/* TRANSLATORS: column headings of a run's changes, upper case: the
	   supplier's SKU and the store product's SKU (24 columns each), the
	   stock before and after (10 each) */
	snprintf(buf, sizeof(buf), "%s %s %s %s", fmt_col(_("SUPPLIER SKU"), 24),
	         fmt_col(_("STORE SKU"), 24), fmt_col(_("BEFORE"), -10), fmt_col(_("AFTER"), -10));
	tui_put(w, y++, 0, cols, buf);
	wattroff(w, A_BOLD);
	if (d->top > (int)d->n_ch - (rows - y))
		d->top = (int)d->n_ch - (rows - y);
	if (d->top < 0)
		d->top = 0;
	for (size_t i = (size_t)d->top; i < d->n_ch && y < rows; i++) {
		const struct sy_change *c = &d->ch[i];
		attr_t at = !c->has_prev || c->new_stock > c->prev ? tui_attr(t, TUI_C_RISE)
		            : c->new_stock < c->prev ? tui_attr(t, TUI_C_FALL) : A_NORMAL;
		if (c->has_prev)
			snprintf(a, sizeof(a), "%s", fmt_int(c->prev));
		else
			snprintf(a, sizeof(a), "-");
		snprintf(buf, sizeof(buf), "%s %s %s %s", fmt_col(c->supplier_sku, 24),
		         fmt_col(c->product_sku, 24), fmt_col(a, -10),
		         fmt_col(fmt_int(c->new_stock), -10));
		wattron(w, at);
		tui_put(w, y++, 0, cols, buf);
		wattroff(w, at);
	}
}

static int syd_key(struct tui *t, void *p, int ch)
{
	struct sy_details *d = p;

	switch (ch) {
	case KEY_UP:
	case 'k':
		if (d->top > 0)
			d->top--;
		return TUI_HANDLED | TUI_REDRAW;
	case KEY_DOWN:
	case 'j':
		d->top++;
		return TUI_HANDLED | TUI_REDRAW;
	case KEY_PPAGE:
		d->top = d->top > 10 ? d->top - 10 : 0;
		return TUI_HANDLED | TUI_REDRAW;
	case KEY_NPAGE:
		d->top += 10;
		return TUI_HANDLED | TUI_REDRAW;
	case 'c':
		if (d->found)
			sy_cancel(t, &d->run);
		return TUI_HANDLED | TUI_RELOAD;
	case 'r':
		if (d->found)
			sy_retry(t, &d->run);
		return TUI_HANDLED | TUI_RELOAD;
	case 'v':
		if (d->found)
			sy_revert(t, &d->run);
		return TUI_HANDLED | TUI_RELOAD;
	case 27:
		return TUI_HANDLED | TUI_BACK;
	default:
		return TUI_UNHANDLED;
	}
}

const struct tui_screen_ops tui_screen_run_details = {
	/* TRANSLATORS: a console screen's name (tab bar, titles, key help) */
	.name = N_("Run"),
	.open = syd_open,
	.close = syd_close,
	.refresh = syd_refresh,
	.draw = syd_draw,
	.key = syd_key,
	.keys = syd_keys,
};
