/* apply.c - the one path every stock observation takes: find the link, drop
 * it when stale, apply the supplier's rules, and when the value changed
 * update the link, log it, recompute the product and queue outbox events,
 * all in one transaction per batch. */
#include "config.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "util/util.h"

const char *obs_source_name(enum obs_source s)
{
	static const char *const names[] = {
		[SRC_FULL] = "full",
		[SRC_DELTA] = "delta",
		[SRC_WEBHOOK] = "webhook",
		[SRC_CHECK] = "check",
		[SRC_MANUAL] = "manual",
	};

	if ((unsigned)s < ARRAY_SIZE(names))
		return names[s];
	return "unknown";
}

#define MAX64(a, b) ((a) > (b) ? (a) : (b))

/* The outbox payload, built once per call and refilled for each event
 * (no allocation per event but the strings). */
struct payload {
	json_t *obj;
	json_t *event, *product_sku, *stock, *previous_stock, *supplier, *supplier_sku,
	       *source, *at;
};

/* State for one call. */
struct batch {
	struct apply_ctx *ctx;
	const struct rules_conf *rules;
	const char *source;
	int64_t now;
	struct apply_counts c;
	struct payload pl;
	char product_sku[1024];
};

/* Sets a JSON string even from bytes that are not UTF-8 (a latin-1 feed):
 * bad bytes become U+FFFD rather than failing the event. */
static void json_text_set(json_t *j, const char *s)
{
	struct buf b = BUF_INIT;
	const unsigned char *p;

	if (json_string_set(j, s ? s : "") == 0)
		return;
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x80)
			buf_putc(&b, (char)*p);
		else
			buf_puts(&b, "\xEF\xBF\xBD");
	}
	json_string_set(j, buf_str(&b));
	buf_free(&b);
}

static json_t *payload_field(json_t *obj, const char *key, json_t *value)
{
	json_object_set_new(obj, key, value);
	return value;
}

static void payload_init(struct payload *pl)
{
	json_t *o = json_object();

	pl->obj = o;
	/* keys in this order in every payload */
	pl->event = payload_field(o, "event", json_string(""));
	pl->product_sku = payload_field(o, "product_sku", json_string(""));
	pl->stock = payload_field(o, "stock", json_integer(0));
	pl->previous_stock = payload_field(o, "previous_stock", json_integer(0));
	pl->supplier = payload_field(o, "supplier", json_string(""));
	pl->supplier_sku = payload_field(o, "supplier_sku", json_string(""));
	pl->source = payload_field(o, "source", json_string(""));
	pl->at = payload_field(o, "at", json_string(""));
}

static int add_events(struct batch *bt, int64_t product_id, const char *supplier_sku,
                      int64_t prev, int64_t now_stock, int64_t at, struct error *err)
{
	struct apply_ctx *ctx = bt->ctx;
	struct payload *pl = &bt->pl;
	const char *kinds[2];
	char iso[32], small[1024], *text;
	int n = 0, i;

	if (prev == 0 && now_stock > 0)
		kinds[n++] = "back_in_stock";
	else if (prev > 0 && now_stock == 0)
		kinds[n++] = "out_of_stock";
	kinds[n++] = "stock_changed";

	if (!pl->obj)
		payload_init(pl);
	json_text_set(pl->product_sku, bt->product_sku);
	json_integer_set(pl->stock, now_stock);
	json_integer_set(pl->previous_stock, prev);
	json_text_set(pl->supplier, ctx->sup->slug);
	json_text_set(pl->supplier_sku, supplier_sku);
	json_string_set(pl->source, bt->source);
	json_string_set(pl->at, time_format_iso(at, iso));
	for (i = 0; i < n; i++) {
		size_t len;
		int r;

		json_string_set(pl->event, kinds[i]);
		text = small;
		len = json_dumpb(pl->obj, small, sizeof(small) - 1, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (len >= sizeof(small)) {
			text = xmalloc(len + 1);
			len = json_dumpb(pl->obj, text, len, JSON_COMPACT | JSON_PRESERVE_ORDER);
		}
		if (len == 0) {
			if (text != small)
				free(text);
			return err_set(err, ERRK_INTERNAL, _("cannot encode the %s event"), kinds[i]);
		}
		text[len] = '\0';
		r = outbox_add(ctx->db, kinds[i], product_id, text, bt->now, err);
		if (text != small)
			free(text);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* Records a new store-facing value for a link. */
static int apply_change(struct batch *bt, const struct link_row *link, const char *supplier_sku,
                        int64_t stock, int64_t raw, int64_t source_time, int64_t observed_at,
                        bool zeroing, struct error *err)
{
	struct apply_ctx *ctx = bt->ctx;
	struct stocklog_entry e;
	struct stock_change ch;
	int64_t pold, pnew;

	if (links_set_stock(ctx->db, link->id, stock, raw, source_time, observed_at, err) < 0)
		return -1;
	if (link->has_stock && link->stock == stock)
		return 0;     /* only the raw figure moved: nothing the store sees */
	e.link_id = link->id;
	e.product_id = link->product_id;
	e.has_prev = link->has_stock;
	e.prev = link->stock;
	e.new_stock = stock;
	e.source = bt->source;
	e.run_id = ctx->run_id;
	e.recorded_at = bt->now;
	e.source_time = source_time;
	if (stocklog_append(ctx->db, &e, err) < 0)
		return -1;
	if (products_recompute(ctx->db, link->product_id, ctx->agg, &pold, &pnew, bt->product_sku,
	                       sizeof(bt->product_sku), bt->now, err) < 0)
		return -1;
	if (pold != pnew &&
	    add_events(bt, link->product_id, supplier_sku, pold, pnew, observed_at, err) < 0)
		return -1;
	if (zeroing)
		bt->c.zeroed++;
	else
		bt->c.changed++;
	if (ctx->on_change) {
		ch.supplier_sku = supplier_sku;
		ch.product_sku = bt->product_sku;
		ch.has_prev = link->has_stock;
		ch.prev = link->has_stock ? link->stock : 0;
		ch.new_stock = stock;
		ch.product_prev = pold;
		ch.product_new = pnew;
		ctx->on_change(ctx->ud, &ch);
	}
	return 0;
}

static bool is_stale(const struct link_row *link, int64_t source_time, int64_t observed_at)
{
	if (source_time && link->source_time)
		return source_time < link->source_time;
	return observed_at < link->synced_at;
}

static int batch_begin(struct batch *bt, struct apply_ctx *ctx, struct error *err)
{
	memset(bt, 0, sizeof(*bt));
	bt->ctx = ctx;
	if (!ctx || !ctx->db || !ctx->sup)
		return err_set(err, ERRK_INTERNAL, _("engine: called without a database or supplier"));
	bt->rules = &ctx->sup->rules;
	bt->source = obs_source_name(ctx->source);
	bt->now = time_now_ms();
	return db_begin(ctx->db, err);
}

static int batch_end(struct batch *bt, struct apply_counts *counts, struct error *err)
{
	struct apply_ctx *ctx = bt->ctx;

	if (ctx->dry_run)
		db_rollback(ctx->db);
	else if (db_commit(ctx->db, err) < 0)
		return -1;
	if (counts) {
		counts->seen += bt->c.seen;
		counts->changed += bt->c.changed;
		counts->unknown += bt->c.unknown;
		counts->stale += bt->c.stale;
		counts->zeroed += bt->c.zeroed;
	}
	return 0;
}

static void where(struct error *err, const struct observation *o)
{
	if (o->position)
		err_prefix(err, _("item %lld (SKU %s)"), (long long)o->position, o->supplier_sku);
	else
		err_prefix(err, _("SKU %s"), o->supplier_sku);
}

int engine_apply(struct apply_ctx *ctx, const struct observation *obs, size_t n,
                 struct apply_counts *counts, struct error *err)
{
	struct batch bt;
	struct link_row link;
	size_t i;
	int rc = -1;

	if (batch_begin(&bt, ctx, err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		const struct observation *o = &obs[i];
		int64_t stock;
		int r;

		bt.c.seen++;
		if (str_empty(o->supplier_sku)) {
			err_set(err, ERRK_INTERNAL, _("item %lld: observation without a SKU"),
			        (long long)o->position);
			goto out;
		}
		if (o->raw_stock < 0) {
			err_set(err, ERRK_INTERNAL, _("negative stock %lld reached the engine"),
			        (long long)o->raw_stock);
			where(err, o);
			goto out;
		}
		r = links_find(ctx->db, ctx->supplier_id, o->supplier_sku, &link, err);
		if (r < 0) {
			where(err, o);
			goto out;
		}
		if (r == 0) {
			if (unknown_record(ctx->db, ctx->supplier_id, o->supplier_sku, o->raw_stock,
			                   o->observed_at, err) < 0) {
				where(err, o);
				goto out;
			}
			bt.c.unknown++;
			continue;
		}
		if (ctx->on_seen)
			ctx->on_seen(ctx->ud, link.id);
		if (is_stale(&link, o->source_time, o->observed_at)) {
			bt.c.stale++;
			continue;
		}
		stock = rules_apply(bt.rules, o->raw_stock);
		if (link.has_stock && link.stock == stock && link.raw_stock == o->raw_stock) {
			/* unchanged: a full sync writes nothing; a fresher push or
			 * check moves the link's clock so older pages stay stale */
			if (ctx->source != SRC_FULL &&
			    (o->observed_at > link.synced_at || o->source_time > link.source_time) &&
			    links_set_stock(ctx->db, link.id, stock, o->raw_stock,
			                    MAX64(o->source_time, link.source_time),
			                    MAX64(o->observed_at, link.synced_at), err) < 0) {
				where(err, o);
				goto out;
			}
			continue;
		}
		if (apply_change(&bt, &link, o->supplier_sku, stock, o->raw_stock, o->source_time,
		                 o->observed_at, false, err) < 0) {
			where(err, o);
			goto out;
		}
	}
	rc = batch_end(&bt, counts, err);
out:
	if (rc < 0)
		db_rollback(ctx->db);    /* no-op when nothing is open */
	json_decref(bt.pl.obj);
	return rc;
}

int engine_zero_links(struct apply_ctx *ctx, const int64_t *link_ids, size_t n,
                      struct apply_counts *counts, struct error *err)
{
	struct batch bt;
	struct link_row link;
	int64_t at;
	size_t i;
	int rc = -1;

	if (batch_begin(&bt, ctx, err) < 0)
		return -1;
	at = ctx->zero_as_of ? ctx->zero_as_of : bt.now;
	for (i = 0; i < n; i++) {
		char *sku = NULL;
		int64_t stock;
		int r;

		r = links_get(ctx->db, link_ids[i], &link, &sku, err);
		if (r < 0)
			goto out;
		if (r == 0)
			continue;     /* removed meanwhile */
		if (is_stale(&link, 0, at)) {
			bt.c.stale++;
			free(sku);
			continue;
		}
		stock = rules_apply(bt.rules, 0);
		if (link.has_stock && link.stock == stock && link.raw_stock == 0) {
			free(sku);
			continue;
		}
		r = apply_change(&bt, &link, sku, stock, 0, 0, at, true, err);
		if (r < 0) {
			err_prefix(err, _("zeroing SKU %s"), sku);
			free(sku);
			goto out;
		}
		free(sku);
	}
	rc = batch_end(&bt, counts, err);
out:
	if (rc < 0)
		db_rollback(ctx->db);    /* no-op when nothing is open */
	json_decref(bt.pl.obj);
	return rc;
}
