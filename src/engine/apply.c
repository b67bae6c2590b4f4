/* apply.c - the one path every stock observation takes: find the link, drop
 * it when stale, apply the supplier's rules, and when the value changed
 * update the link, log it, recompute the product and queue its outbox
 * event, all in one transaction per batch. */
#include "config.h"

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

/* The ISO form of the last event time formatted: the items of one page
 * mostly share their observation time, so a batch formats it once. */
struct iso_cache {
	bool valid;
	int64_t at;
	char iso[32];
};

/* Whose error a pending write's failure is, for its prefix. */
enum pend_who {
	WHO_ITEM,        /* an observation of engine_apply: where() */
	WHO_ZEROING,     /* engine_zero_links */
	WHO_SETTING,     /* engine_set_links(_if) */
};

/* A change's stock_log row and outbox event, written at the end of the batch
 * (or every PENDING_MAX changes, or before the batch reads stock_log) with
 * several rows to a statement.  Strings are offsets into batch.strs. */
struct pending {
	struct stocklog_entry log;   /* supplier_sku filled in at the flush */
	size_t sku;
	size_t product_sku;
	size_t payload;              /* NO_EVENT: the product did not change */
	const char *kind;
	int64_t event_at;
	int64_t position;            /* the observation's, for WHO_ITEM */
	enum pend_who who;
};
#define NO_EVENT ((size_t)-1)
#define PENDING_MAX 1024

/* State for one call. */
struct batch {
	struct apply_ctx *ctx;
	const struct rules_conf *rules;
	const char *source;
	int64_t now;
	struct apply_counts c;
	struct iso_cache iso;
	struct pending *pend;
	size_t npend, cappend;
	struct buf strs;             /* the pending writes' strings, NUL-separated */
	struct stocklog_entry *logs; /* flush scratch */
	struct outbox_entry *events;
	size_t *event_of;            /* events[j] belongs to pend[event_of[j]] */
	char product_sku[1024];
};

/* ---- outbox events ---- */

/* Length of the valid UTF-8 sequence at p (1..4), 0 when p does not start
 * one (a stray continuation byte, an overlong form, a surrogate, a code
 * point above U+10FFFF, or a sequence cut short by the NUL). */
static size_t utf8_seq(const unsigned char *p)
{
	unsigned char c = p[0];
	size_t n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4;
	else
		return 0;
	/* the second byte's range is narrower after these leads */
	if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F) ||
	    (c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] > 0x8F))
		return 0;
	for (i = 1; i < n; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	return n;
}

/* Appends s as a JSON string (quotes included); NULL as "". */
static void json_put_string(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	const unsigned char *run = p;

	buf_putc(b, '"');
	while (*p) {
		size_t n = utf8_seq(p);
		const char *esc = NULL;
		char u[7];

		if (n == 1 && *p >= 0x20 && *p != '"' && *p != '\\') {
			p++;
			continue;
		}
		if (n > 1) {
			p += n;
			continue;
		}
		buf_append(b, run, (size_t)(p - run));
		switch (n == 0 ? 0 : *p) {
		case 0:    esc = "\xEF\xBF\xBD"; break;      /* not UTF-8: U+FFFD */
		case '"':  esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		default:
			u[0] = '\\';
			u[1] = 'u';
			u[2] = '0';
			u[3] = '0';
			u[4] = hex[*p >> 4];
			u[5] = hex[*p & 0xF];
			u[6] = '\0';
			esc = u;
			break;
		}
		buf_puts(b, esc);
		run = ++p;
	}
	buf_append(b, run, (size_t)(p - run));
	buf_putc(b, '"');
}

/* Appends v in decimal (buf_printf's vfprintf is a visible cost per event). */
static void buf_put_i64(struct buf *b, int64_t v)
{
	char d[24];
	size_t i = sizeof(d);
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do {
		d[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		d[--i] = '-';
	buf_append(b, d + i, sizeof(d) - i);
}

/* The outbox kind of a product going from prev to stock (not equal). */
static const char *event_kind(int64_t prev, int64_t stock)
{
	if (prev == 0 && stock > 0)
		return "back_in_stock";
	if (prev > 0 && stock == 0)
		return "out_of_stock";
	return "stock_changed";
}

/* Appends an event's JSON payload to b, the time's ISO form taken from ic
 * when it holds the same instant. */
static void event_payload(struct buf *b, const char *kind, const char *product_sku,
                          int64_t prev, int64_t stock, const char *supplier_slug,
                          const char *supplier_sku, const char *source, int64_t at,
                          struct iso_cache *ic)
{
	if (!ic->valid || ic->at != at) {
		time_format_iso(at, ic->iso);
		ic->at = at;
		ic->valid = true;
	}
	/* written by hand rather than through Jansson: this runs once per
	 * changed product on the hot path, and the shape is fixed */
	buf_puts(b, "{\"event\":\"");
	buf_puts(b, kind);
	buf_puts(b, "\",\"product_sku\":");
	json_put_string(b, product_sku);
	buf_puts(b, ",\"stock\":");
	buf_put_i64(b, stock);
	buf_puts(b, ",\"previous_stock\":");
	buf_put_i64(b, prev);
	buf_puts(b, ",\"supplier\":");
	json_put_string(b, supplier_slug);
	buf_puts(b, ",\"supplier_sku\":");
	json_put_string(b, supplier_sku);
	buf_puts(b, ",\"source\":");
	json_put_string(b, source);
	buf_puts(b, ",\"at\":\"");
	buf_puts(b, ic->iso);
	buf_puts(b, "\"}");
}

/* The prefix of an outbox event's error. */
static void event_where(struct error *err, const char *product_sku, const char *kind)
{
	/* TRANSLATORS: prefixes an error: "product P-1: back_in_stock event:
	   ..."; the second %s is the event kind as sent to the store */
	err_prefix(err, _("product %s: %s event"), product_sku ? product_sku : "?", kind);
}

int engine_product_event(struct db *db, int64_t product_id, const char *product_sku,
                         int64_t prev, int64_t stock, const char *supplier_slug,
                         const char *supplier_sku, const char *source, int64_t at,
                         int64_t created_at, struct error *err)
{
	struct iso_cache ic = { 0 };
	struct buf b = BUF_INIT;
	const char *kind;
	int rc;

	if (prev == stock)
		return 0;
	kind = event_kind(prev, stock);
	event_payload(&b, kind, product_sku, prev, stock, supplier_slug, supplier_sku, source, at,
	              &ic);
	rc = outbox_add(db, kind, product_id, buf_str(&b), created_at ? created_at : at, err);
	buf_free(&b);
	if (rc < 0)
		event_where(err, product_sku, kind);
	return rc;
}

/* ---- the pending writes of a batch ---- */

/* Copies s (NULL as "") into bt->strs; returns its offset. */
static size_t strs_add(struct batch *bt, const char *s)
{
	size_t off = bt->strs.len;

	buf_append(&bt->strs, s ? s : "", (s ? strlen(s) : 0) + 1);
	return off;
}

/* The prefix naming the change p in an error. */
static void pending_where(struct error *err, const struct pending *p, const char *strs)
{
	const char *sku = strs + p->sku;

	switch (p->who) {
	case WHO_ITEM:
		if (p->position)
			err_prefix(err, _("item %lld (SKU %s)"), (long long)p->position, sku);
		else
			err_prefix(err, _("SKU %s"), sku);
		break;
	case WHO_ZEROING:
		err_prefix(err, _("zeroing SKU %s"), sku);
		break;
	case WHO_SETTING:
		err_prefix(err, _("setting SKU %s"), sku);
		break;
	}
}

/* Writes the pending stock_log rows, then the pending outbox events, in
 * the order of their changes. */
static int pending_flush(struct batch *bt, struct error *err)
{
	struct db *db = bt->ctx->db;
	const char *strs = buf_str(&bt->strs);
	size_t i, m = 0, bad;
	int rc = -1;

	if (bt->npend == 0)
		return 0;
	bt->logs = xrealloc(bt->logs, bt->npend * sizeof(*bt->logs));
	bt->events = xrealloc(bt->events, bt->npend * sizeof(*bt->events));
	bt->event_of = xrealloc(bt->event_of, bt->npend * sizeof(*bt->event_of));
	for (i = 0; i < bt->npend; i++) {
		const struct pending *p = &bt->pend[i];

		bt->logs[i] = p->log;
		bt->logs[i].supplier_sku = strs + p->sku;
		if (p->payload == NO_EVENT)
			continue;
		bt->events[m].kind = p->kind;
		bt->events[m].product_id = p->log.product_id;
		bt->events[m].payload = strs + p->payload;
		bt->events[m].at = p->event_at;
		bt->event_of[m++] = i;
	}
	if (stocklog_append_many(db, bt->logs, bt->npend, &bad, err) < 0) {
		if (bad < bt->npend)
			pending_where(err, &bt->pend[bad], strs);
		goto out;
	}
	if (outbox_add_many(db, bt->events, m, &bad, err) < 0) {
		if (bad < m) {
			const struct pending *p = &bt->pend[bt->event_of[bad]];

			event_where(err, strs + p->product_sku, p->kind);
			pending_where(err, p, strs);
		}
		goto out;
	}
	rc = 0;
out:
	bt->npend = 0;
	buf_reset(&bt->strs);
	return rc;
}

static void batch_free(struct batch *bt)
{
	free(bt->pend);
	free(bt->logs);
	free(bt->events);
	free(bt->event_of);
	buf_free(&bt->strs);
}

/* Records a new store-facing value for a link: the link and the product
 * at once, its stock_log row and outbox event as pending writes.  who and
 * position name the change in a pending write's error. */
static int apply_change(struct batch *bt, const struct link_row *link, const char *supplier_sku,
                        int64_t stock, int64_t raw, int64_t source_time, int64_t observed_at,
                        bool zeroing, enum pend_who who, int64_t position, struct error *err)
{
	struct apply_ctx *ctx = bt->ctx;
	struct pending *p;
	struct stock_change ch;
	int64_t pold, pnew;

	if (links_set_stock(ctx->db, link->id, stock, raw, source_time, observed_at, err) < 0)
		return -1;
	if (link->has_stock && link->stock == stock)
		return 0;     /* only the raw figure moved: nothing the store sees */
	if (products_recompute(ctx->db, link->product_id, ctx->agg, &pold, &pnew, bt->product_sku,
	                       sizeof(bt->product_sku), bt->now, err) < 0)
		return -1;
	if (bt->npend == bt->cappend) {
		bt->cappend = bt->cappend ? bt->cappend * 2 : 64;
		bt->pend = xrealloc(bt->pend, bt->cappend * sizeof(*bt->pend));
	}
	p = &bt->pend[bt->npend++];
	p->log.link_id = link->id;
	p->log.product_id = link->product_id;
	p->log.supplier_id = ctx->supplier_id;
	p->log.supplier_sku = NULL;
	p->log.has_prev = link->has_stock;
	p->log.prev = link->stock;
	p->log.new_stock = stock;
	p->log.source = bt->source;
	p->log.run_id = ctx->run_id;
	p->log.recorded_at = bt->now;
	p->log.source_time = source_time;
	p->sku = strs_add(bt, supplier_sku);
	p->product_sku = strs_add(bt, bt->product_sku);
	p->payload = NO_EVENT;
	p->kind = NULL;
	p->event_at = bt->now ? bt->now : observed_at;    /* as engine_product_event */
	p->position = position;
	p->who = who;
	if (pold != pnew) {
		p->kind = event_kind(pold, pnew);
		p->payload = bt->strs.len;
		event_payload(&bt->strs, p->kind, bt->product_sku, pold, pnew, ctx->sup->slug,
		              supplier_sku, bt->source, observed_at, &bt->iso);
		buf_putc(&bt->strs, '\0');
	}
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

/* Writes the pending rows once there are PENDING_MAX of them (a long call
 * holds no more than that in memory).  The error names its own change. */
static int pending_check(struct batch *bt, struct error *err)
{
	return bt->npend >= PENDING_MAX ? pending_flush(bt, err) : 0;
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

	if (pending_flush(bt, err) < 0)
		return -1;
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

/* What engine_apply does with one observation. */
enum obs_verdict {
	OBS_UNKNOWN,     /* its SKU is linked to nothing: unknown_skus */
	OBS_STALE,       /* older than what is stored: ignored */
	OBS_SAME,        /* unchanged: nothing is written */
	OBS_TOUCH,       /* unchanged, but a fresher push or check moves the link's clock */
	OBS_CHANGE,      /* a new value (store-facing or raw): apply_change */
};

/* The one decision of engine_apply and engine_probe: checks o, finds its
 * link (into *link; on_seen is called for it), and tells what applying o
 * would do, with the store-facing stock in *stock.  Reads only.  Returns
 * an obs_verdict, or -1 with err. */
static int obs_decide(struct apply_ctx *ctx, const struct rules_conf *rules,
                      const struct observation *o, struct link_row *link, int64_t *stock,
                      struct error *err)
{
	int r;

	if (str_empty(o->supplier_sku))
		return err_set(err, ERRK_INTERNAL, _("item %lld: observation without a SKU"),
		               (long long)o->position);
	if (o->raw_stock < 0) {
		err_set(err, ERRK_INTERNAL, _("negative stock %lld reached the engine"),
		        (long long)o->raw_stock);
		where(err, o);
		return -1;
	}
	r = links_find(ctx->db, ctx->supplier_id, o->supplier_sku, link, err);
	if (r < 0) {
		where(err, o);
		return -1;
	}
	if (r == 0)
		return OBS_UNKNOWN;
	if (ctx->on_seen)
		ctx->on_seen(ctx->ud, link->id);
	if (is_stale(link, o->source_time, o->observed_at))
		return OBS_STALE;
	*stock = rules_apply(rules, o->raw_stock);
	if (link->has_stock && link->stock == *stock && link->raw_stock == o->raw_stock) {
		/* unchanged: a full sync writes nothing; a fresher push or
		 * check moves the link's clock so older pages stay stale */
		if (ctx->source != SRC_FULL &&
		    (o->observed_at > link->synced_at || o->source_time > link->source_time))
			return OBS_TOUCH;
		return OBS_SAME;
	}
	return OBS_CHANGE;
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
	if (!str_empty(ctx->receipt_event_id)) {
		/* first, so a repeated delivery costs one insert and changes nothing */
		int r = receipts_record(ctx->db, ctx->supplier_id, ctx->receipt_event_id, bt.now, err);

		if (r < 0) {
			err_prefix(err, _("event %s"), ctx->receipt_event_id);
			goto out;
		}
		if (r == 0) {
			db_rollback(ctx->db);
			return 1;
		}
	}
	for (i = 0; i < n; i++) {
		const struct observation *o = &obs[i];
		int64_t stock = 0;
		int v;

		bt.c.seen++;
		v = obs_decide(ctx, bt.rules, o, &link, &stock, err);
		switch (v) {
		case OBS_UNKNOWN:
			if (unknown_record(ctx->db, ctx->supplier_id, o->supplier_sku, o->raw_stock,
			                   o->observed_at, err) < 0) {
				where(err, o);
				goto out;
			}
			bt.c.unknown++;
			break;
		case OBS_STALE:
			bt.c.stale++;
			break;
		case OBS_SAME:
			break;
		case OBS_TOUCH:
			if (links_set_stock(ctx->db, link.id, stock, o->raw_stock,
			                    MAX64(o->source_time, link.source_time),
			                    MAX64(o->observed_at, link.synced_at), err) < 0) {
				where(err, o);
				goto out;
			}
			break;
		case OBS_CHANGE:
			if (apply_change(&bt, &link, o->supplier_sku, stock, o->raw_stock,
			                 o->source_time, o->observed_at, false, WHO_ITEM, o->position,
			                 err) < 0) {
				where(err, o);
				goto out;
			}
			break;
		default:
			goto out;    /* -1: err is set */
		}
		if (pending_check(&bt, err) < 0)
			goto out;
	}
	rc = batch_end(&bt, counts, err);
out:
	if (rc < 0)
		db_rollback(ctx->db);    /* no-op when nothing is open */
	batch_free(&bt);
	return rc;
}

/* ---- the read-only probe (guarded runs) ---- */

/* The guard's flags of a link going from what link holds to stock (raw
 * raw): a known value changing, a first value, a raw figure alone. */
static unsigned change_flags(const struct link_row *link, int64_t stock)
{
	unsigned f = PROBE_WRITES;

	if (!link->has_stock)
		return f | PROBE_FIRST;
	if (link->stock != stock) {
		f |= PROBE_CHANGES;
		if (link->stock > 0 && stock == 0)
			f |= PROBE_TO_ZERO;
	}
	return f;
}

static void probe_count(struct probe_counts *c, unsigned f)
{
	if (f & PROBE_WRITES)
		c->writes++;
	if (f & PROBE_CHANGES)
		c->changed++;
	if (f & PROBE_FIRST)
		c->first++;
	if (f & PROBE_TO_ZERO)
		c->to_zero++;
	if (f & PROBE_UNKNOWN)
		c->unknown++;
	if (f & PROBE_STALE)
		c->stale++;
}

int engine_probe(struct apply_ctx *ctx, const struct observation *obs, size_t n,
                 struct probe_result *out, struct error *err)
{
	const struct rules_conf *rules;
	struct link_row link;
	size_t i;

	if (!ctx || !ctx->db || !ctx->sup || !out)
		return err_set(err, ERRK_INTERNAL, _("engine: probe called without a database or supplier"));
	rules = &ctx->sup->rules;
	if (n > out->cap) {
		out->cap = n;
		out->flags = xrealloc(out->flags, n);
	}
	for (i = 0; i < n; i++) {
		const struct observation *o = &obs[i];
		int64_t stock = 0;
		unsigned f = 0;

		switch (obs_decide(ctx, rules, o, &link, &stock, err)) {
		case OBS_UNKNOWN:
			f = PROBE_UNKNOWN | PROBE_WRITES;
			break;
		case OBS_STALE:
			f = PROBE_STALE;
			break;
		case OBS_SAME:
			break;
		case OBS_TOUCH:
			f = PROBE_WRITES;
			break;
		case OBS_CHANGE:
			f = change_flags(&link, stock);
			break;
		default:
			return -1;
		}
		out->flags[i] = (unsigned char)f;
		out->c.seen++;
		probe_count(&out->c, f);
	}
	return 0;
}

unsigned engine_probe_zero(const struct apply_ctx *ctx, const struct link_row *link)
{
	int64_t at = ctx->zero_as_of ? ctx->zero_as_of : time_now_ms();
	int64_t stock = rules_apply(&ctx->sup->rules, 0);

	/* the decisions of engine_zero_links */
	if (is_stale(link, 0, at))
		return PROBE_STALE;
	if (link->has_stock && link->stock == stock && link->raw_stock == 0)
		return 0;
	return change_flags(link, stock);
}

void probe_result_free(struct probe_result *r)
{
	if (!r)
		return;
	free(r->flags);
	r->flags = NULL;
	r->cap = 0;
}

static int set_links(struct apply_ctx *ctx, const int64_t *link_ids, const int64_t *stocks,
                     const int64_t *last_log_ids, size_t n, struct apply_counts *counts,
                     struct error *err);

int engine_zero_links(struct apply_ctx *ctx, const int64_t *link_ids, size_t n,
                      struct apply_counts *counts, struct error *err)
{
	return set_links(ctx, link_ids, NULL, NULL, n, counts, err);
}

/* ---- setting links to given values (zero-missing, manual corrections) ---- */

/* The one path of engine_zero_links (stocks NULL: every link to what the
 * rules make of 0, raw 0) and engine_set_links / engine_set_links_if
 * (stocks[i] as given, the raw figure kept; with last_log_ids, only links
 * whose newest stock_log row is still that one). */
static int set_links(struct apply_ctx *ctx, const int64_t *link_ids, const int64_t *stocks,
                     const int64_t *last_log_ids, size_t n, struct apply_counts *counts,
                     struct error *err)
{
	struct batch bt;
	struct link_row link;
	bool zeroing = stocks == NULL;
	int64_t at;
	size_t i;
	int rc = -1;

	if (batch_begin(&bt, ctx, err) < 0)
		return -1;
	at = ctx->zero_as_of ? ctx->zero_as_of : bt.now;
	for (i = 0; i < n; i++) {
		char *sku = NULL;
		int64_t stock, raw;
		bool same;
		int r;

		r = links_get(ctx->db, link_ids[i], &link, &sku, err);
		if (r < 0)
			goto out;
		if (r == 0)
			continue;     /* removed meanwhile */
		if (!zeroing)
			bt.c.seen++;
		if (is_stale(&link, 0, at)) {
			bt.c.stale++;
			free(sku);
			continue;
		}
		if (last_log_ids) {
			int64_t last = 0;

			/* the rows of this batch so far must be there to be read */
			if (pending_flush(&bt, err) < 0) {
				free(sku);
				goto out;
			}
			if (stocklog_last_id(ctx->db, link.id, &last, err) < 0) {
				err_prefix(err, _("SKU %s"), sku);
				free(sku);
				goto out;
			}
			if (last != last_log_ids[i]) {
				bt.c.stale++;     /* changed since the caller looked */
				free(sku);
				continue;
			}
		}
		if (zeroing) {
			stock = rules_apply(bt.rules, 0);
			raw = 0;
			same = link.has_stock && link.stock == stock && link.raw_stock == 0;
		} else {
			if (stocks[i] < 0) {
				err_set(err, ERRK_INTERNAL, _("SKU %s: negative stock %lld reached the engine"),
				        sku, (long long)stocks[i]);
				free(sku);
				goto out;
			}
			stock = stocks[i];
			raw = link.has_stock ? link.raw_stock : stock;
			same = link.has_stock && link.stock == stock;
		}
		if (same) {
			free(sku);
			continue;
		}
		r = apply_change(&bt, &link, sku, stock, raw, 0, zeroing ? at : bt.now, zeroing,
		                 zeroing ? WHO_ZEROING : WHO_SETTING, 0, err);
		if (r < 0) {
			err_prefix(err, zeroing ? _("zeroing SKU %s") : _("setting SKU %s"), sku);
			free(sku);
			goto out;
		}
		free(sku);
		if (pending_check(&bt, err) < 0)
			goto out;
	}
	rc = batch_end(&bt, counts, err);
out:
	if (rc < 0)
		db_rollback(ctx->db);    /* no-op when nothing is open */
	batch_free(&bt);
	return rc;
}

int engine_set_links(struct apply_ctx *ctx, const int64_t *link_ids, const int64_t *stocks,
                     size_t n, struct apply_counts *counts, struct error *err)
{
	if (n > 0 && !stocks)
		return err_set(err, ERRK_INTERNAL, _("engine: links to set without their values"));
	return set_links(ctx, link_ids, stocks ? stocks : link_ids, NULL, n, counts, err);
}

int engine_set_links_if(struct apply_ctx *ctx, const int64_t *link_ids, const int64_t *stocks,
                        const int64_t *last_log_ids, size_t n, struct apply_counts *counts,
                        struct error *err)
{
	if (n > 0 && (!stocks || !last_log_ids))
		return err_set(err, ERRK_INTERNAL, _("engine: links to set without their values"));
	return set_links(ctx, link_ids, stocks ? stocks : link_ids,
	                 last_log_ids ? last_log_ids : link_ids, n, counts, err);
}
