/* screen_sku.c - one product: its suppliers with their stock and age, and
 * a chart of its stock over time (braille dots in UTF-8, '#' otherwise).
 *
 * The chart is rebuilt from the product's last CHART_CHANGES stock_log
 * rows: each supplier link starts at the value before its first change in
 * that window (links without a change there hold their current value), and
 * the product's figure after each change is the configured aggregate (sum,
 * max, or the first supplier by priority with stock).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/report.h"
#include "tui/tui.h"

#define CHART_CHANGES 500
#define RELOAD_MS 1000
#define CHART_ROWS 16          /* the chart's height at most */

struct slink {
	int64_t supplier_id;
	char *supplier;
	char *supplier_sku;
	bool active;
	int64_t priority;
	bool has_stock;
	int64_t stock;
	int64_t cached_at;
};

struct change {
	int64_t at;
	int64_t supplier_id;
	char *supplier_sku;
	bool has_prev;
	int64_t prev, new_stock;
};

struct point {
	int64_t at;
	int64_t v;
};

struct skuview {
	char sku[256];
	bool found;
	int64_t product_id;
	char *name;
	int64_t stock;
	int64_t updated_at;

	struct slink *links;
	int n_links, links_cap;
	struct change *ch;
	int n_ch, ch_cap;
	struct point *pts;         /* the product's figure: before the first change, after each */
	int n_pts;

	int64_t loaded_mono;
	int64_t latest_id;
	bool loaded;
};

static void clear_data(struct skuview *v)
{
	for (int i = 0; i < v->n_links; i++) {
		free(v->links[i].supplier);
		free(v->links[i].supplier_sku);
	}
	v->n_links = 0;
	for (int i = 0; i < v->n_ch; i++)
		free(v->ch[i].supplier_sku);
	v->n_ch = 0;
	free(v->pts);
	v->pts = NULL;
	v->n_pts = 0;
	free(v->name);
	v->name = NULL;
	v->found = false;
}

static int product_cb(void *ud, const struct report_product *p)
{
	struct skuview *v = ud;

	v->found = true;
	v->product_id = p->id;
	free(v->name);
	v->name = xstrdup(p->name);
	v->stock = p->stock;
	v->updated_at = p->updated_at;
	return 0;
}

static int link_cb(void *ud, const struct report_link_row *r)
{
	struct skuview *v = ud;
	struct slink *l;

	if (v->n_links == v->links_cap) {
		v->links_cap = v->links_cap ? v->links_cap * 2 : 4;
		v->links = xrealloc(v->links, (size_t)v->links_cap * sizeof(*v->links));
	}
	l = &v->links[v->n_links++];
	memset(l, 0, sizeof(*l));
	l->supplier_id = r->supplier_id;
	l->supplier = xstrdup(r->supplier);
	l->supplier_sku = xstrdup(r->supplier_sku);
	l->active = r->supplier_active;
	l->priority = r->priority;
	l->has_stock = r->has_stock;
	l->stock = r->stock;
	l->cached_at = r->cached_at;
	return 0;
}

static int change_cb(void *ud, const struct report_product_change *r)
{
	struct skuview *v = ud;
	struct change *c;

	if (v->n_ch == v->ch_cap) {
		v->ch_cap = v->ch_cap ? v->ch_cap * 2 : 32;
		v->ch = xrealloc(v->ch, (size_t)v->ch_cap * sizeof(*v->ch));
	}
	c = &v->ch[v->n_ch++];
	c->at = r->recorded_at;
	c->supplier_id = r->supplier_id;
	c->supplier_sku = xstrdup(r->supplier_sku);
	c->has_prev = r->has_prev;
	c->prev = r->prev;
	c->new_stock = r->new_stock;
	return 0;
}

/* One supplier link's running value while the chart is rebuilt. */
struct key {
	int64_t supplier_id;
	const char *supplier_sku;
	int64_t priority;
	bool has;
	int64_t v;
	bool seen;                 /* its first change in the window was met */
};

static int64_t aggregate(const struct key *k, int n, enum aggregate_kind agg)
{
	int64_t r = 0;
	int64_t best_prio = INT64_MAX;

	for (int i = 0; i < n; i++) {
		if (!k[i].has)
			continue;
		switch (agg) {
		case AGG_MAX:
			if (k[i].v > r)
				r = k[i].v;
			break;
		case AGG_FIRST:
			if (k[i].v > 0 && k[i].priority < best_prio) {
				best_prio = k[i].priority;
				r = k[i].v;
			}
			break;
		default:
			r += k[i].v;
			break;
		}
	}
	return r;
}

static int key_find(struct key *k, int n, int64_t supplier_id, const char *sku)
{
	for (int i = 0; i < n; i++)
		if (k[i].supplier_id == supplier_id && str_eq(k[i].supplier_sku, sku))
			return i;
	return -1;
}

static void build_points(struct tui *t, struct skuview *v)
{
	const struct conf *c = tui_conf(t);
	enum aggregate_kind agg = c ? c->aggregate : AGG_SUM;
	struct key *k;
	int nk = 0, i;

	if (v->n_ch == 0)
		return;
	k = xcalloc((size_t)(v->n_links + v->n_ch), sizeof(*k));
	/* current links: their value now, unless a change in the window says
	 * what it was before */
	for (i = 0; i < v->n_links; i++) {
		k[nk].supplier_id = v->links[i].supplier_id;
		k[nk].supplier_sku = v->links[i].supplier_sku;
		k[nk].priority = v->links[i].priority;
		k[nk].has = v->links[i].has_stock;
		k[nk].v = v->links[i].stock;
		nk++;
	}
	/* v->ch is oldest first here: the first change of a key gives its
	 * value before the window */
	for (i = 0; i < v->n_ch; i++) {
		const struct change *ch = &v->ch[i];
		int j = key_find(k, nk, ch->supplier_id, ch->supplier_sku);

		if (j < 0) {
			j = nk++;
			k[j].supplier_id = ch->supplier_id;
			k[j].supplier_sku = ch->supplier_sku;
			k[j].priority = INT64_MAX - 1;   /* removed link: after every current one */
		} else if (k[j].seen) {
			continue;
		}
		k[j].has = ch->has_prev;
		k[j].v = ch->prev;
		k[j].seen = true;
	}

	v->pts = xcalloc((size_t)v->n_ch + 1, sizeof(*v->pts));
	v->pts[0].at = v->ch[0].at;
	v->pts[0].v = aggregate(k, nk, agg);
	v->n_pts = 1;
	for (i = 0; i < v->n_ch; i++) {
		const struct change *ch = &v->ch[i];
		int j = key_find(k, nk, ch->supplier_id, ch->supplier_sku);

		if (j >= 0) {
			k[j].has = true;
			k[j].v = ch->new_stock;
		}
		v->pts[v->n_pts].at = ch->at;
		v->pts[v->n_pts].v = aggregate(k, nk, agg);
		v->n_pts++;
	}
	free(k);
}

static void load(struct tui *t, struct skuview *v)
{
	struct db *db = tui_db(t);
	struct error err = { 0 };

	clear_data(v);
	v->loaded = true;
	v->loaded_mono = time_mono_ms();
	report_history_latest(db, &v->latest_id, NULL);
	if (report_product_find(db, v->sku, product_cb, v, &err) < 0)
		goto fail;
	if (!v->found)
		return;
	if (report_product_links(db, v->sku, link_cb, v, &err) < 0)
		goto fail;
	if (report_product_changes(db, v->product_id, CHART_CHANGES, change_cb, v, &err) < 0)
		goto fail;
	/* oldest first */
	for (int i = 0, j = v->n_ch - 1; i < j; i++, j--) {
		struct change tmp = v->ch[i];

		v->ch[i] = v->ch[j];
		v->ch[j] = tmp;
	}
	build_points(t, v);
	return;
fail:
	tui_error(t, "%s", err.msg);
}

static void *sku_open(struct tui *t, void *arg)
{
	struct skuview *v = xcalloc(1, sizeof(*v));

	snprintf(v->sku, sizeof(v->sku), "%s", arg ? (const char *)arg : "");
	load(t, v);
	return v;
}

static void sku_close(void *st)
{
	struct skuview *v = st;

	if (!v)
		return;
	clear_data(v);
	free(v->links);
	free(v->ch);
	free(v);
}

static void sku_refresh(struct tui *t, void *st)
{
	struct skuview *v = st;
	int64_t latest = 0;

	if (time_mono_ms() - v->loaded_mono < RELOAD_MS)
		return;
	/* ages move on by themselves; the data only when the log grew or a
	 * run finished, but a reload is cheap (one product) */
	if (report_history_latest(tui_db(t), &latest, NULL) == 0 && latest != v->latest_id)
		load(t, v);
	else if (time_mono_ms() - v->loaded_mono >= 5 * RELOAD_MS)
		load(t, v);
}

/* The product's figure at time at (step function). */
static int64_t value_at(const struct skuview *v, int64_t at)
{
	int lo = 0, hi = v->n_pts - 1;

	if (at < v->pts[0].at)
		return v->pts[0].v;
	while (lo < hi) {   /* last point with pts.at <= at */
		int mid = (lo + hi + 1) / 2;

		if (v->pts[mid].at <= at)
			lo = mid;
		else
			hi = mid - 1;
	}
	return v->pts[lo].v;
}

/* Appends the UTF-8 form of U+2800 + bits. */
static void put_braille(struct buf *b, unsigned bits)
{
	unsigned cp = 0x2800 + bits;

	buf_putc(b, (char)(0xE0 | (cp >> 12)));
	buf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
	buf_putc(b, (char)(0x80 | (cp & 0x3F)));
}

static void draw_chart(struct tui *t, const struct skuview *v, WINDOW *w, int y0, int h,
                       int cols)
{
	bool braille = tui_utf8(t);
	int lw = 8;                     /* the value labels on the left */
	int cw = cols - lw - 1;
	int xdots = braille ? cw * 2 : cw;
	int ydots = braille ? h * 4 : h;
	int64_t t0 = v->pts[0].at, t1 = time_now_ms(), vmax = 1;
	int *level;
	char lbl[32], tl[32], tr[32];
	struct buf b = BUF_INIT;

	if (cw < 4 || h < 1)
		return;
	if (v->pts[v->n_pts - 1].at > t1)
		t1 = v->pts[v->n_pts - 1].at;
	if (t1 <= t0)
		t1 = t0 + 1;
	for (int i = 0; i < v->n_pts; i++)
		if (v->pts[i].v > vmax)
			vmax = v->pts[i].v;
	level = xcalloc((size_t)xdots, sizeof(*level));
	for (int x = 0; x < xdots; x++) {
		int64_t at = t0 + (int64_t)((double)(t1 - t0) * x / (xdots > 1 ? xdots - 1 : 1));
		int64_t val = value_at(v, at);

		level[x] = val <= 0 ? 0 : (int)((double)val * ydots / (double)vmax + 0.5);
		if (val > 0 && level[x] == 0)
			level[x] = 1;   /* some stock always shows */
	}
	for (int r = 0; r < h; r++) {
		int y = y0 + r;

		buf_reset(&b);
		for (int cx = 0; cx < cw; cx++) {
			if (braille) {
				/* dots 1-3,7 left column top to bottom, 4-6,8 right */
				static const unsigned bit[2][4] = { { 0x01, 0x02, 0x04, 0x40 },
				                                    { 0x08, 0x10, 0x20, 0x80 } };
				unsigned bits = 0;

				for (int side = 0; side < 2; side++)
					for (int k = 0; k < 4; k++) {
						int dot = (h - 1 - r) * 4 + (3 - k);   /* from the bottom */

						if (dot < level[cx * 2 + side])
							bits |= bit[side][k];
					}
				if (bits)
					put_braille(&b, bits);
				else
					buf_putc(&b, ' ');
			} else {
				buf_putc(&b, (h - 1 - r) < level[cx] ? '#' : ' ');
			}
		}
		wattrset(w, tui_attr(t, TUI_C_DIM));
		if (r == 0 && (int)strlen(fmt_int(vmax)) <= lw - 1)
			snprintf(lbl, sizeof(lbl), "%s", fmt_int(vmax));
		else if (r == 0)     /* too wide once grouped: the plain digits */
			snprintf(lbl, sizeof(lbl), "%lld", (long long)vmax);
		else if (r == h - 1)
			snprintf(lbl, sizeof(lbl), "0");
		else
			lbl[0] = '\0';
		mvwprintw(w, y, 0, "%*.*s", lw - 1, lw - 1, lbl);
		mvwaddstr(w, y, lw - 1, braille ? "\xe2\x94\x82" : "|");
		wattrset(w, tui_attr(t, TUI_C_BAR));
		tui_put(w, y, lw, cw, buf_str(&b));
	}
	/* the time axis */
	time_format_local(t0, TIME_SHORT, tl, sizeof(tl));
	time_format_local(t1, TIME_SHORT, tr, sizeof(tr));
	wattrset(w, tui_attr(t, TUI_C_DIM));
	tui_put(w, y0 + h, lw, cw, tl);
	if (cw > (int)strlen(tl) + (int)strlen(tr) + 1)
		tui_put(w, y0 + h, lw + cw - (int)strlen(tr), (int)strlen(tr), tr);
	wattrset(w, A_NORMAL);
	buf_free(&b);
	free(level);
}

static void sku_draw(struct tui *t, void *st, WINDOW *w, int rows, int cols)
{
	struct skuview *v = st;
	char line[512], age[64], upd[64];
	int y = 0, max_links, wsup, wss;

	if (!v->loaded)
		load(t, v);
	werase(w);
	if (!v->found) {
		snprintf(line, sizeof(line), _("No product with SKU %s (Esc: back)"), v->sku);
		wattrset(w, tui_attr(t, TUI_C_ERROR));
		tui_put(w, 0, 0, cols, line);
		wattrset(w, A_NORMAL);
		return;
	}
	tui_format_age(v->updated_at, upd, sizeof(upd));
	/* TRANSLATORS: "SKU P1  Widget  stock 19 (changed 5 min ago)": the
	   product's SKU, name, stock and when its stock last changed */
	snprintf(line, sizeof(line), _("SKU %s  %s  stock %s (changed %s)"), v->sku,
	         v->name ? v->name : "", fmt_int(v->stock), upd);
	wattrset(w, tui_attr(t, TUI_C_TITLE));
	tui_put(w, y++, 0, cols, line);

	wsup = cols / 5;
	if (wsup > 16)
		wsup = 16;
	wss = cols - wsup - 10 - 16 - 3;
	if (wss > 30)
		wss = 30;
	if (wss < 8)
		wss = 8;
	wattrset(w, tui_attr(t, TUI_C_DIM) | A_BOLD);
	tui_put(w, y, 0, cols, "");
	/* TRANSLATORS: column headings of the SKU view: Supplier, Supplier SKU,
	   Stock (10 columns, right aligned), Age (of the figure) */
	tui_put(w, y, 0, wsup, _("Supplier"));
	tui_put(w, y, wsup + 1, wss, _("Supplier SKU"));
	snprintf(line, sizeof(line), "%s", fmt_col(_("Stock"), -10));
	tui_put(w, y, wsup + wss + 2, 10, line);
	if (wsup + wss + 13 < cols)
		tui_put(w, y, wsup + wss + 13, cols - (wsup + wss + 13), _("Age"));
	y++;
	/* keep at least 6 rows for the chart */
	max_links = rows - y - 8;
	if (max_links < 1)
		max_links = 1;
	for (int i = 0; i < v->n_links && i < max_links; i++) {
		const struct slink *l = &v->links[i];
		char stock[32];

		if (i == max_links - 1 && v->n_links > max_links) {
			snprintf(line, sizeof(line), P_("... and %d more supplier",
			                                "... and %d more suppliers",
			                                v->n_links - max_links + 1),
			         v->n_links - max_links + 1);
			wattrset(w, tui_attr(t, TUI_C_DIM));
			tui_put(w, y++, 0, cols, line);
			break;
		}
		wattrset(w, tui_attr(t, l->active ? TUI_C_NORMAL : TUI_C_DIM));
		tui_put(w, y, 0, wsup, l->supplier);
		tui_put(w, y, wsup + 1, wss, l->supplier_sku);
		if (l->has_stock)
			snprintf(stock, sizeof(stock), "%10s", fmt_int(l->stock));
		else
			/* TRANSLATORS: the Stock column before the supplier sent a
			   figure (10 columns) */
			snprintf(stock, sizeof(stock), "%s", fmt_col(_("none yet"), -10));
		tui_put(w, y, wsup + wss + 2, 10, stock);
		tui_format_age(l->cached_at, age, sizeof(age));
		if (wsup + wss + 13 < cols)
			tui_put(w, y, wsup + wss + 13, cols - (wsup + wss + 13), age);
		y++;
	}
	if (v->n_links == 0) {
		wattrset(w, tui_attr(t, TUI_C_DIM));
		tui_put(w, y++, 0, cols, _("No supplier is linked to this product."));
	}
	y++;
	if (v->n_pts == 0) {
		wattrset(w, tui_attr(t, TUI_C_DIM));
		tui_put(w, y, 0, cols, _("No stock changes recorded for this product yet."));
	} else if (y + 3 < rows) {
		snprintf(line, sizeof(line), P_("Stock over time (the last %s change)",
		                                "Stock over time (the last %s changes)", v->n_ch),
		         fmt_int(v->n_ch));
		wattrset(w, tui_attr(t, TUI_C_TITLE));
		tui_put(w, y++, 0, cols, line);
		draw_chart(t, v, w, y, rows - y - 2 > CHART_ROWS ? CHART_ROWS : rows - y - 2, cols);
	}
	wattrset(w, tui_attr(t, TUI_C_DIM));
	tui_put(w, rows - 1, 0, cols, _("Esc: back   r: reload"));
	wattrset(w, A_NORMAL);
}

static int sku_key(struct tui *t, void *st, int ch)
{
	struct skuview *v = st;

	switch (ch) {
	case 27:            /* Esc */
	case KEY_LEFT:
	case KEY_BACKSPACE:
	case 'h':
		return TUI_HANDLED | TUI_BACK;
	case 'r':
		load(t, v);
		return TUI_HANDLED | TUI_REDRAW;
	default:
		return TUI_UNHANDLED;
	}
}

static const struct tui_key sku_keys[] = {
	{ "Esc", N_("back to the previous screen"), false },
	{ "r", N_("reload now"), false },
	{ NULL, NULL, false },
};

const struct tui_screen_ops tui_screen_sku = {
	/* TRANSLATORS: a console screen's name (tab bar, titles, key help) */
	.name = N_("SKU"),
	.open = sku_open,
	.close = sku_close,
	.refresh = sku_refresh,
	.draw = sku_draw,
	.key = sku_key,
	.keys = sku_keys,
};
