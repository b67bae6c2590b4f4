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
 * the product, and add ONE outbox event with the payload
 * engine_product_event writes (back_in_stock when the product goes from 0
 * to >0, out_of_stock from >0 to 0, stock_changed otherwise).  The
 * stock_log rows and events of a batch are written in multi-row INSERTs
 * inside its transaction (every 1,024 changes and at its end).
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

/* ---- the read-only probe of the mass-change guard ---- */

/* What applying one observation would do (engine_probe), as flags. */
enum probe_flag {
	PROBE_WRITES = 1 << 0,    /* engine_apply would write something for it (a new
	                           * value, a raw figure, a fresher clock, an unknown SKU) */
	PROBE_CHANGES = 1 << 1,   /* the link's KNOWN store-facing stock would change */
	PROBE_FIRST = 1 << 2,     /* the link's first value ever (it has no stock yet):
	                           * a change for engine_apply, not for the guard */
	PROBE_TO_ZERO = 1 << 3,   /* ... a change from > 0 to 0 */
	PROBE_UNKNOWN = 1 << 4,   /* its SKU is linked to nothing */
	PROBE_STALE = 1 << 5,     /* older than what is stored: would be ignored */
};

struct probe_counts {
	int64_t seen;            /* observations probed */
	int64_t writes, changed, first, to_zero, unknown, stale;   /* by flag */
};

struct probe_result {
	unsigned char *flags;    /* flags[i]: PROBE_* of obs[i] of the last call */
	size_t cap;
	struct probe_counts c;   /* added to by every call */
};

/* Tells, for each observation, what engine_apply would do with it, making
 * the same decisions through the same code (link lookup, staleness, rules,
 * comparison) but writing nothing: out->flags[i] (resized as needed) gets
 * its PROBE_* flags and out->c is added to.  ctx->on_seen is called for
 * every link found, as engine_apply does (zero-missing bookkeeping);
 * on_change is not called.  An unchanged item of a full sync costs one
 * SELECT.  It runs no transaction of its own: call it inside the caller's
 * (one per batch, for speed and a consistent view), or outside any, where
 * each lookup is its own.  Errors as engine_apply (caller bugs, database).
 * Start with a zeroed probe_result; free it with probe_result_free. */
int engine_probe(struct apply_ctx *ctx, const struct observation *obs, size_t n,
                 struct probe_result *out, struct error *err);
/* The PROBE_* flags of what engine_zero_links would do to this link (as
 * read from the database; ctx->zero_as_of as there): 0 when it is at 0
 * already, PROBE_STALE when it was synced after zero_as_of. */
unsigned engine_probe_zero(const struct apply_ctx *ctx, const struct link_row *link);
void probe_result_free(struct probe_result *r);

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

/* Sets the given links' store-facing stock to stocks[i] (a manual
 * correction such as a revert: the supplier's rules are NOT applied, the
 * values are store-facing already), same transaction, logging and event
 * rules as engine_apply, source as in ctx.  The links' raw figures are kept
 * (a link without one gets stocks[i]), source_time becomes 0 and synced_at
 * the call's time, so the supplier's next observation wins again.  Counts:
 * seen for every link found, changed for every link given a new value;
 * links already at their value and links that no longer exist are skipped;
 * with ctx->zero_as_of set, links synced after it are left alone and
 * counted stale (0 = no such check).  A negative value is a caller bug
 * (ERRK_INTERNAL, nothing written).  engine_zero_links shares its code. */
int engine_set_links(struct apply_ctx *ctx, const int64_t *link_ids, const int64_t *stocks,
                     size_t n, struct apply_counts *counts, struct error *err);
/* engine_set_links for links that must not have changed since the caller
 * looked: a link whose newest stock_log row (any source) is no longer
 * last_log_ids[i] (0 = it had none) is left alone and counted stale.  The
 * check is made inside the transaction that writes, so no observation can
 * slip in between (engine_revert uses it). */
int engine_set_links_if(struct apply_ctx *ctx, const int64_t *link_ids, const int64_t *stocks,
                        const int64_t *last_log_ids, size_t n, struct apply_counts *counts,
                        struct error *err);

/* ---- reverting a run (engine/revert.c) ---- */

/* One link a reverted run changed.  Strings are owned by the report. */
struct revert_item {
	char *supplier_sku;
	char *product_sku;        /* NULL when the product is gone */
	bool has_prev;            /* false: the run gave the link its first value */
	int64_t prev;             /* the link's value before the run (what a restore sets) */
	int64_t run_stock;        /* the value the run left */
	int64_t current;          /* the link's value when the revert ran (newer: the newer value) */
	int64_t product_prev, product_new;   /* restored: the product's aggregated stock */
	/* newer: the change that came after the run; newer_source "" means
	 * the link changed while the revert was running */
	char newer_source[16];
	int64_t newer_run_id;     /* 0 = none */
	int64_t newer_at;         /* ms; 0 = unknown */
};

struct revert_report {
	int64_t reverted_run;     /* the run reverted */
	int64_t run_id;           /* the revert's own run; 0 in a dry run */
	char supplier[64];        /* the run's supplier slug */
	bool dry_run;
	struct revert_item *restored;   /* set back to their value before the run */
	size_t n_restored;
	struct revert_item *newer;      /* changed again since the run: left alone */
	size_t n_newer;
	struct revert_item *no_prev;    /* had no value before the run: left alone */
	size_t n_no_prev;
	struct revert_item *gone;       /* the link was removed since: nothing to restore */
	size_t n_gone;
	size_t n_unchanged;       /* already at their value before the run */
	int64_t events;           /* outbox events queued (a dry run: that would be) */
};

/* Reverts run run_id: every link the run changed (its stock_log rows) is
 * set back to its value before the run (the run's first row's prev_stock
 * for a link changed several times) through engine_set_links_if, in one
 * transaction, with source "manual" - unless a newer observation changed
 * it since (a later stock_log row for the link, from any source), or it
 * had no value before the run; those are listed and left alone.  The
 * revert is a run itself (sync_runs kind "revert", reverts = run_id,
 * trigger "cli"), logged and announced (outbox events) like any other,
 * and holds the supplier lock (sync_lock) while it works; a revert of a
 * revert is just another run.  A dry run takes no lock, records no run
 * and writes nothing, but reports what it would do.
 * conf gives the aggregate and the supplier (a supplier no longer
 * configured is reverted by its slug); it may be NULL (sum).
 * Errors: ERRK_USAGE for an unknown run or a queued one (it changed
 * nothing yet; a run waiting for approval is reverted as far as it was
 * applied); ERRK_BUSY for a run still running or
 * a supplier being synced now; ERRK_DB / ERRK_TRANSIENT from the
 * database.  On error nothing is restored (the revert run, when recorded,
 * is marked failed).  Free the report with revert_report_free, whatever
 * was returned. */
int engine_revert(struct db *db, const struct conf *conf, int64_t run_id, bool dry_run,
                  struct revert_report *r, struct error *err);
void revert_report_free(struct revert_report *r);

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

/* (Addition.) Removes a supplier from the database: its row, its links
 * (their products are recomputed and announced, source "manual"), its runs
 * and unknown SKUs; its stock_log rows stay without supplier and link.
 * Holds the supplier lock meanwhile: fails with ERRK_BUSY while a sync of
 * the supplier runs.  Its configuration file is the caller's business.
 * *links (when not NULL) gets the number of links removed.  ERRK_USAGE
 * when the supplier is not in the database. */
int engine_supplier_remove(struct db *db, const struct conf *conf, const char *slug,
                           int64_t *links, struct error *err);

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
