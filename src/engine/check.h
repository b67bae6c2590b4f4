/* check.h - asking suppliers about one SKU now (live single-SKU check).
 *
 * The answer goes through the engine's apply path with source "check", so
 * the cache, the stock log and the store's events stay in step.
 */
#ifndef DROPSTOCK_CHECK_H
#define DROPSTOCK_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "conf/conf.h"
#include "engine/engine.h"
#include "store/db.h"

/* What one supplier link of the product said. */
struct check_link {
	char slug[64];
	char supplier_sku[256];
	bool has_cached;
	int64_t cached;              /* store-facing stock in the cache before asking */
	int64_t cached_at;           /* when the cache was last confirmed (ms), 0 = never */
	bool asked;                  /* a live ask was made */
	bool live_ok;                /* the supplier answered */
	int64_t live;                /* store-facing stock from the live answer (after rules) */
	int64_t live_raw;            /* raw stock from the live answer */
	bool available;              /* false: no check source configured for the supplier */
	char error[512];             /* why the ask failed, or why it was not possible */
	/* additions (check.c) */
	bool fresh;                  /* only_stale: the cache is younger than fresh_ms, not asked */
	bool live_stale;             /* the answer was older (by the supplier's updated_at) than
	                              * the cached value: reported, not applied */
	int64_t source_time;         /* the answer's updated_at (ms), 0 = none */
};

struct check_result {
	char product_sku[256];
	bool product_found;
	int64_t cached_stock;        /* product stock before the check */
	int64_t stock;               /* product stock after the check */
	struct check_link *links;
	int n_links;
	bool any_failed;             /* at least one linked supplier with a check source could
	                              * not be asked or gave no usable answer (a supplier
	                              * without a check source is not a failure: available
	                              * = false and error say why) */
	int64_t checked_at;
};
void check_result_free(struct check_result *r);

struct check_opts {
	const char *supplier_slug;   /* NULL: sku is a store product SKU; else a supplier SKU */
	bool only_stale;             /* ask only suppliers whose cache is older than fresh_ms */
	int64_t timeout_ms;          /* 0: each supplier's check.timeout */
	bool dry_run;                /* apply nothing; r->stock is then what the product's
	                              * stock would be (exact when at most one link changes) */
};

/* Asks every supplier linked to the product (or the one supplier) live,
 * applies the answers with source "check", and fills r.  Returns 0 when the
 * product (or supplier SKU) exists (even if some suppliers failed: see
 * r->any_failed and each link's error), -1 with err when it does not
 * (ERRK_USAGE "no product with SKU X") or on a database error.
 *
 * Details (check.c):
 * - Links are listed by supplier priority, then slug.  cached_at is the
 *   later of the link's synced_at and the start of its supplier's last
 *   succeeded full or delta run (an unchanged value in a full sync does not
 *   touch the link row); 0 when the link never had a value.
 * - Suppliers are asked concurrently (one thread each, network and parsing
 *   only); the answers are then applied one by one through engine_apply
 *   (SRC_CHECK, observed_at = when the answer arrived, source_time from
 *   updated_at).  Each ask gets one attempt (no retries) with the check
 *   timeout, connect timeout capped to it.
 * - The URL template's {sku} is replaced by the URL-encoded supplier SKU.
 *   The answer is parsed with the check mapping: a list (the item whose SKU
 *   equals the supplier SKU is taken) or, for JSON, a single object (at
 *   the items path, or the document itself when items is empty).
 * - HTTP 404: "supplier X does not know SKU Y (HTTP 404)"; the cache is
 *   left alone.  method = "POST" sends the body template with {sku} (the
 *   JSON-escaped SKU) and {skus} (a JSON array of the SKUs asked).
 * - A link whose supplier is not in the configuration, or has no check
 *   source, gets available = false and a reason in error; never a guess.
 * - r must be released with check_result_free() whatever is returned. */
int check_sku(struct db *db, const struct conf *c, const char *sku, const struct check_opts *o,
              struct check_result *r, struct error *err);

#endif
