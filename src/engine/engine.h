/* engine.h - the one path every stock observation takes, and the rules that
 * turn what a supplier says into a store-facing stock figure.
 *
 * Nothing here knows about argv, terminals or HTTP servers.
 */
#ifndef DROPSTOCK_ENGINE_H
#define DROPSTOCK_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "feed/feed.h"
#include "store/db.h"
#include "store/store.h"
#include "util/util.h"

enum obs_source { SRC_FULL = 0, SRC_DELTA, SRC_WEBHOOK, SRC_CHECK, SRC_MANUAL };
const char *obs_source_name(enum obs_source s);    /* "full", "delta", ... */

/* One supplier stock figure, from any source. */
struct observation {
	const char *supplier_sku;
	int64_t raw_stock;       /* as the supplier said (text values already mapped), >= 0 */
	int64_t observed_at;     /* when dropstock received it (ms) */
	int64_t source_time;     /* supplier's own timestamp, 0 = none */
	int64_t position;        /* place in the feed, for messages; 0 = n/a */
};

struct apply_counts {
	int64_t seen;            /* observations given */
	int64_t changed;         /* links whose store-facing stock changed */
	int64_t unknown;         /* supplier SKU linked to nothing */
	int64_t stale;           /* older than what is stored: ignored */
	int64_t zeroed;          /* set to 0 by zero-missing */
};

/* A change, reported to the front end (print "what changed"). */
struct stock_change {
	const char *supplier_sku;
	const char *product_sku;
	bool has_prev;
	int64_t prev, new_stock;            /* the link's store-facing stock */
	int64_t product_prev, product_new;  /* the product's aggregated stock */
};

struct apply_ctx {
	struct db *db;
	const struct supplier_conf *sup;
	int64_t supplier_id;
	enum aggregate_kind agg;
	enum obs_source source;
	int64_t run_id;          /* 0 = none */
	bool dry_run;            /* do everything, then roll back */
	/* optional callbacks */
	void (*on_change)(void *ud, const struct stock_change *ch);
	void (*on_seen)(void *ud, int64_t link_id);   /* every link found (zero-missing bookkeeping) */
	void *ud;
	/* engine_zero_links only: when the feed that missed these links was
	 * fetched (its start).  A link synced after that (say by a webhook
	 * during the sync) is left alone and counted stale.  0 = now. */
	int64_t zero_as_of;
	/* engine_apply only: a webhook delivery's event id (idempotency), NULL
	 * or "" = none.  See engine_apply. */
	const char *receipt_event_id;
};

/* Applies a batch inside ONE transaction (BEGIN IMMEDIATE ... COMMIT, or
 * ROLLBACK when dry_run): for each observation, find the link; unknown SKU ->
 * unknown_skus; older than stored (by source_time when both have one, else
 * by observed_at vs synced_at) -> stale; apply the supplier's rules; when the
 * store-facing value changed: update the link, append stock_log, recompute
 * the product, and add ONE outbox event through engine_product_event
 * (back_in_stock when the product goes from 0 to >0, out_of_stock from >0
 * to 0, stock_changed otherwise).
 * On error the whole batch is rolled back and counts are left untouched.
 *
 * With ctx->receipt_event_id set (a webhook delivery's event id), the id is
 * recorded in webhook_receipts FIRST, inside the same transaction; when it
 * was recorded before (a repeated delivery) the transaction is rolled back,
 * nothing changes, counts are left untouched and the call returns 1.
 * Otherwise it returns 0, or -1 with err.
 *
 * Details:
 * - A link whose store-facing stock and raw stock are both unchanged writes
 *   nothing for SRC_FULL (the hot path: one SELECT per item).  For the other
 *   sources it only moves the link's source_time/synced_at forward, so a
 *   fresher unchanged webhook still guards against an older full page.
 * - Raw stock changed but store-facing stock not (say both above the cap):
 *   the link row is updated, nothing is logged, counted or announced.
 * - A first value ever (the link had no stock) is a change with has_prev
 *   false, even when it is 0.
 * - stock_log.recorded_at, products.updated_at and outbox.created_at are
 *   the call's time; the link's synced_at and the event's "at" are the
 *   observation's observed_at.
 * - Outbox payload: {"event", "product_sku", "stock", "previous_stock"
 *   (the product's aggregated figures), "supplier", "supplier_sku",
 *   "source", "at" (ISO-8601 UTC)}.  One event per product change: a 0
 *   crossing is announced by its crossing kind alone (the payload carries
 *   stock and previous_stock).  A link change that leaves the product's
 *   aggregate as it was writes no event.
 * - stock_log rows keep the supplier id and supplier sku, so the history
 *   still names them after the link is removed (link_id becomes NULL).
 * - on_change is called for every change, in dry runs too (what would
 *   change); on_seen for every link found, stale or not.
 * - An observation without a SKU or with a negative raw_stock is a caller
 *   bug: the batch fails (ERRK_INTERNAL) naming its position.
 * - It must not be called inside a transaction of the caller. */
int engine_apply(struct apply_ctx *ctx, const struct observation *obs, size_t n,
                 struct apply_counts *counts, struct error *err);

/* Queues the one outbox event for a change of a product's aggregated stock
 * from prev to stock, inside the caller's transaction: back_in_stock when
 * it goes from 0 to >0, out_of_stock from >0 to 0, else stock_changed;
 * nothing when prev == stock.  Payload, keys in this order:
 *   {"event", "product_sku", "stock", "previous_stock", "supplier",
 *    "supplier_sku", "source", "at"}
 * source is "full", "delta", "webhook", "check" or "manual"; at (ms) is
 * the time of the observation, written as ISO-8601 UTC; created_at (ms) is
 * the outbox row's time (0 = at).  Strings that are not valid UTF-8 get
 * U+FFFD for each bad byte rather than failing.  The single place where
 * events are made: engine_apply and the catalogue functions use it. */
int engine_product_event(struct db *db, int64_t product_id, const char *product_sku,
                         int64_t prev, int64_t stock, const char *supplier_slug,
                         const char *supplier_sku, const char *source, int64_t at,
                         int64_t created_at, struct error *err);

/* Sets the given links to 0 (zero-missing), same transaction and logging
 * rules as engine_apply, source as in ctx.  Counts go to counts->zeroed
 * (not changed, not seen); links already at 0, and links that no longer
 * exist, are skipped; links synced after ctx->zero_as_of count as stale. */
int engine_zero_links(struct apply_ctx *ctx, const int64_t *link_ids, size_t n,
                      struct apply_counts *counts, struct error *err);

/* ---- the catalogue: links between products and supplier SKUs
 * (engine/catalogue.c) ----
 * Each call runs in ONE transaction (BEGIN IMMEDIATE ... COMMIT; it must
 * not be called inside one of the caller's), recomputes every product
 * whose links changed with conf->aggregate (sum when conf is NULL) and
 * queues their events through engine_product_event with source "manual".
 * Errors: ERRK_USAGE for an empty or too long SKU, an unknown supplier or
 * (remove) a link that does not exist; ERRK_DB / ERRK_TRANSIENT from the
 * database. */
struct link_outcome {
	bool existed;              /* add: the supplier SKU was linked before */
	bool moved;                /* add: ... to another product, now left */
	bool has_stock;            /* add: the link has a supplier stock already
	                            * (else the next sync of the supplier sets it) */
	int64_t link_id;           /* add: the link */
	int64_t product_id;        /* the product linked (add) or unlinked (remove) */
	char product_sku[256];
	int64_t prev, stock;       /* its aggregated stock before and after */
	int64_t old_product_id;    /* moved: the product the link left */
	char old_product_sku[256];
	int64_t old_prev, old_stock;
};

/* Links supplier_slug/supplier_sku to the product product_sku, creating
 * the product when new (product_name may be NULL; given, it renames an
 * existing product).  An existing link of that supplier SKU is moved to
 * the product, taking its stock along.  Forgets the SKU in unknown_skus.
 * out may be NULL. */
int engine_link_add(struct db *db, const struct conf *conf, const char *product_sku,
                    const char *product_name, const char *supplier_slug,
                    const char *supplier_sku, struct link_outcome *out, struct error *err);

/* Removes the link of supplier_slug/supplier_sku; its product loses the
 * link's stock.  The link's stock_log rows stay (with link_id NULL).  out
 * may be NULL. */
int engine_link_remove(struct db *db, const struct conf *conf, const char *supplier_slug,
                       const char *supplier_sku, struct link_outcome *out, struct error *err);

/* ---- rules (engine/rules.c) ---- */

/* Booleans as suppliers write them: true/false, yes/no, y/n, 1/0, on/off,
 * in stock/out of stock are NOT booleans.  Returns 1, 0, or -1 when not a
 * boolean. */
int rules_parse_bool(const char *s);

/* One raw stock text -> number: the mapping's text values first
 * (case-insensitive), then a plain number ("12", "12.0", "12.7" floors to 12),
 * then ">10" / "10+" style bounds taken as their number.  false on anything
 * else. */
bool rules_parse_stock(const struct mapping *m, const char *text, int64_t *out);

/* Feed item -> observation fields.  Sums every stock value (warehouses),
 * forces 0 when the availability flag is false, parses updated_at.
 * Returns 0, or -1 with a reason in err ("item 17: missing SKU",
 * "item 17 (SKU AB-1): stock \"lots\" is not a number",
 * "item 17 (SKU AB-1): negative stock -3"). */
int rules_item_to_obs(const struct supplier_conf *s, const struct feed_item *it,
                      int64_t *raw_stock, int64_t *source_time, struct error *err);

/* Raw supplier quantity -> store-facing stock: multiplier (floored),
 * pack_size (floor division), minus safety_buffer (floor 0), cap. */
int64_t rules_apply(const struct rules_conf *r, int64_t raw);

#endif
