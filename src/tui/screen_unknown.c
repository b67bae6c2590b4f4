/* screen_unknown.c - supplier SKUs seen in feeds but linked to nothing
 * (report_unknown); `l` links the selected one to a store product, new or
 * existing, through engine_link_add().
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/engine.h"
#include "store/report.h"
#include "tui/tui.h"

#define MAX_ROWS 5000          /* kept in memory; the rest is counted as "more" */
#define RELOAD_MS 2000

struct urow {
	char *supplier;
	char *supplier_sku;
	bool has_stock;
	int64_t last_stock;
	int64_t times_seen;
	int64_t last_seen;
};

struct unknown {
	struct urow *rows;
	int n, cap;
	bool truncated;
	int sel, top;
	int64_t loaded_mono;
	bool need_load;
};

static void rows_clear(struct unknown *u)
{
	for (int i = 0; i < u->n; i++) {
		free(u->rows[i].supplier);
		free(u->rows[i].supplier_sku);
	}
	u->n = 0;
}

static int row_cb(void *ud, const struct report_unknown_row *r)
{
	struct unknown *u = ud;
	struct urow *o;

	if (u->n >= MAX_ROWS) {
		u->truncated = true;
		return -1;              /* stop reading: not an error (see load) */
	}
	if (u->n == u->cap) {
		u->cap = u->cap ? u->cap * 2 : 64;
		u->rows = xrealloc(u->rows, (size_t)u->cap * sizeof(*u->rows));
	}
	o = &u->rows[u->n++];
	o->supplier = xstrdup(r->supplier);
	o->supplier_sku = xstrdup(r->supplier_sku);
	o->has_stock = r->has_stock;
	o->last_stock = r->last_stock;
	o->times_seen = r->times_seen;
	o->last_seen = r->last_seen;
	return 0;
}

static void load(struct tui *t, struct unknown *u)
{
	struct error err = { 0 };
	char *keep_sup = NULL, *keep_sku = NULL;

	/* keep the selection on the same SKU when it is still there */
	if (u->sel < u->n) {
		keep_sup = xstrdup(u->rows[u->sel].supplier);
		keep_sku = xstrdup(u->rows[u->sel].supplier_sku);
	}
	rows_clear(u);
	u->truncated = false;
	u->need_load = false;
	u->loaded_mono = time_mono_ms();
	if (report_unknown(tui_db(t), NULL, row_cb, u, &err) < 0 && !u->truncated)
		tui_error(t, "%s", err.msg);
	if (keep_sup) {
		for (int i = 0; i < u->n; i++) {
			if (str_eq(u->rows[i].supplier, keep_sup) &&
			    str_eq(u->rows[i].supplier_sku, keep_sku)) {
				u->sel = i;
				break;
			}
		}
	}
	if (u->sel >= u->n)
		u->sel = u->n - 1;
	if (u->sel < 0)
		u->sel = 0;
	free(keep_sup);
	free(keep_sku);
}

static void *unknown_open(struct tui *t, void *arg)
{
	struct unknown *u = xcalloc(1, sizeof(*u));

	(void)arg;
	load(t, u);
	return u;
}

static void unknown_close(void *st)
{
	struct unknown *u = st;

	if (!u)
		return;
	rows_clear(u);
	free(u->rows);
	free(u);
}

static void unknown_refresh(struct tui *t, void *st)
{
	struct unknown *u = st;

	if (u->need_load || time_mono_ms() - u->loaded_mono >= RELOAD_MS)
		load(t, u);
}

static void unknown_draw(struct tui *t, void *st, WINDOW *w, int rows, int cols)
{
	struct unknown *u = st;
	int body = rows - 3, wsup, wsku, x;
	char line[256];

	if (body < 1)
		body = 1;
	if (u->sel < u->top)
		u->top = u->sel;
	if (u->sel >= u->top + body)
		u->top = u->sel - body + 1;
	if (u->top < 0)
		u->top = 0;
	werase(w);
	if (u->truncated)
		snprintf(line, sizeof(line), P_("Unknown SKUs: the first %s (more exist)",
		                                "Unknown SKUs: the first %s (more exist)", u->n),
		         fmt_int(u->n));
	else
		snprintf(line, sizeof(line), P_("Unknown SKUs: %s seen in feeds, linked to nothing",
		                                "Unknown SKUs: %s seen in feeds, linked to nothing",
		                                u->n),
		         fmt_int(u->n));
	wattrset(w, tui_attr(t, TUI_C_TITLE));
	tui_put(w, 0, 0, cols, line);

	/* supplier, SKU, last stock 10, times seen 8, last seen 16 */
	wsup = cols / 5;
	if (wsup > 16)
		wsup = 16;
	wsku = cols - wsup - 10 - 8 - 16 - 4;
	if (wsku < 8)
		wsku = 8;
	wattrset(w, tui_attr(t, TUI_C_DIM) | A_BOLD);
	tui_put(w, 1, 0, cols, "");
	x = 0;
	/* TRANSLATORS: column headings of the Unknown screen: Supplier,
	   Supplier SKU, Last stock (10 columns), Seen (how many times, 8
	   columns), Last seen (when) */
	tui_put(w, 1, x, wsup, _("Supplier"));
	x += wsup + 1;
	tui_put(w, 1, x, wsku, _("Supplier SKU"));
	x += wsku + 1;
	snprintf(line, sizeof(line), "%s", fmt_col(_("Last stock"), -10));
	tui_put(w, 1, x, 10, line);
	x += 11;
	snprintf(line, sizeof(line), "%s", fmt_col(_("Seen"), -8));
	tui_put(w, 1, x, 8, line);
	x += 9;
	if (x < cols)
		tui_put(w, 1, x, cols - x, _("Last seen"));

	for (int i = u->top; i < u->n && i - u->top < body; i++) {
		const struct urow *r = &u->rows[i];
		int y = 2 + i - u->top;
		char num[48], when[32];

		wattrset(w, i == u->sel ? tui_attr(t, TUI_C_SELECTED) : tui_attr(t, TUI_C_NORMAL));
		tui_put(w, y, 0, cols, "");
		x = 0;
		tui_put(w, y, x, wsup, r->supplier);
		x += wsup + 1;
		tui_put(w, y, x, wsku, r->supplier_sku);
		x += wsku + 1;
		if (r->has_stock)
			snprintf(num, sizeof(num), "%10s", fmt_int(r->last_stock));
		else
			snprintf(num, sizeof(num), "%10s", "-");
		tui_put(w, y, x, 10, num);
		x += 11;
		snprintf(num, sizeof(num), "%8s", fmt_int(r->times_seen));
		tui_put(w, y, x, 8, num);
		x += 9;
		time_format_local(r->last_seen, TIME_SHORT, when, sizeof(when));
		if (x < cols)
			tui_put(w, y, x, cols - x, when);
	}
	wattrset(w, tui_attr(t, TUI_C_DIM));
	if (u->n == 0)
		tui_put(w, 2, 0, cols, _("Every SKU the suppliers sent is linked."));
	tui_put(w, rows - 1, 0, cols,
	        tui_read_only(t) ? _("read-only: linking is off")
	                         : _("l: link the selected SKU to a store product   ?: keys"));
	wattrset(w, A_NORMAL);
}

static int product_cb(void *ud, const struct report_product *p)
{
	(void)p;
	*(bool *)ud = true;
	return 0;
}

static void link_selected(struct tui *t, struct unknown *u)
{
	const struct urow *r;
	char sup[64], ssku[256], psku[256], name[256], label[512], *p, *nm;
	struct link_outcome out;
	struct error err = { 0 };
	bool exists = false;

	if (tui_read_only(t)) {
		tui_error(t, "%s", _("read-only console: linking is not available"));
		return;
	}
	if (u->sel >= u->n)
		return;
	r = &u->rows[u->sel];
	snprintf(sup, sizeof(sup), "%s", r->supplier);
	snprintf(ssku, sizeof(ssku), "%s", r->supplier_sku);
	snprintf(psku, sizeof(psku), "%s", ssku);
	snprintf(label, sizeof(label), _("Link %s/%s to store SKU:"), sup, ssku);
	if (!tui_prompt(t, label, psku, sizeof(psku)))
		return;
	p = str_trim(psku);
	memmove(psku, p, strlen(p) + 1);
	if (!psku[0]) {
		tui_error(t, "%s", _("no store SKU given: nothing linked"));
		return;
	}
	if (report_product_find(tui_db(t), psku, product_cb, &exists, &err) < 0) {
		tui_error(t, "%s", err.msg);
		return;
	}
	name[0] = '\0';
	if (!exists) {
		snprintf(label, sizeof(label), _("New product %s, name (may be empty):"), psku);
		if (!tui_prompt(t, label, name, sizeof(name)))
			return;
	}
	nm = str_trim(name);
	memset(&out, 0, sizeof(out));
	if (engine_link_add(tui_db(t), tui_conf(t), psku, *nm ? nm : NULL, sup, ssku, &out,
	                    &err) < 0) {
		tui_error(t, "%s", err.msg);
		return;
	}
	if (out.has_stock)
		/* TRANSLATORS: "linked acme/ZZ-NEW to P3 (new) (stock 5)": the
		   fourth %s is " (new)" (a product just created) or nothing */
		tui_message(t, _("linked %s/%s to %s%s (stock %s)"), sup, ssku, psku,
		            exists ? "" : _(" (new)"), fmt_int(out.stock));
	else
		tui_message(t, _("linked %s/%s to %s%s; the next sync of %s sets its stock"), sup,
		            ssku, psku, exists ? "" : _(" (new)"), sup);
	u->need_load = true;
}

static int unknown_key(struct tui *t, void *st, int ch)
{
	struct unknown *u = st;

	switch (ch) {
	case KEY_DOWN:
	case 'j':
		if (u->sel + 1 < u->n)
			u->sel++;
		return TUI_HANDLED | TUI_REDRAW;
	case KEY_UP:
	case 'k':
		if (u->sel > 0)
			u->sel--;
		return TUI_HANDLED | TUI_REDRAW;
	case KEY_NPAGE:
		u->sel += 10;
		if (u->sel >= u->n)
			u->sel = u->n > 0 ? u->n - 1 : 0;
		return TUI_HANDLED | TUI_REDRAW;
	case KEY_PPAGE:
		u->sel -= 10;
		if (u->sel < 0)
			u->sel = 0;
		return TUI_HANDLED | TUI_REDRAW;
	case KEY_HOME:
		u->sel = 0;
		return TUI_HANDLED | TUI_REDRAW;
	case KEY_END:
		u->sel = u->n > 0 ? u->n - 1 : 0;
		return TUI_HANDLED | TUI_REDRAW;
	case 'l':
		link_selected(t, u);
		return TUI_HANDLED | TUI_RELOAD;
	default:
		return TUI_UNHANDLED;
	}
}

static const struct tui_key unknown_keys[] = {
	{ "Up/Down", N_("select an unknown SKU"), false },
	{ "PgUp/PgDn", N_("move ten rows"), false },
	{ "Home/End", N_("first / last row"), false },
	{ "l", N_("link the selected SKU to a store product (new or existing)"), true },
	{ NULL, NULL, false },
};

const struct tui_screen_ops tui_screen_unknown = {
	/* TRANSLATORS: a console screen's name (tab bar, titles, key help) */
	.name = N_("Unknown"),
	.open = unknown_open,
	.close = unknown_close,
	.refresh = unknown_refresh,
	.draw = unknown_draw,
	.key = unknown_key,
	.keys = unknown_keys,
};
