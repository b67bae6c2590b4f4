/* testconn.h - "test connection": fetch the first page of a supplier's
 * source, map its first items exactly as a sync would, and write nothing.
 * Used by the console (suppliers screen `t`, and the editor on unsaved
 * values).
 */
#ifndef DROPSTOCK_TESTCONN_H
#define DROPSTOCK_TESTCONN_H

#include <stdbool.h>
#include <stdint.h>

#include "conf/conf.h"

#define TESTCONN_MAX_ITEMS 20

struct testconn_item {
	int64_t position;
	char sku[128];            /* "" when the item has none */
	bool ok;                  /* mapped to a stock figure */
	int64_t stock;            /* raw stock as mapped (before rules) */
	int64_t store_stock;      /* after the supplier's rules */
	int64_t updated_at;       /* ms, 0 = none */
	char error[256];          /* why the item would be skipped */
};

struct testconn_result {
	long status;              /* HTTP status, 0 for file/ftp */
	int64_t bytes;
	int64_t items_in_page;
	bool has_total;
	int64_t total;
	int n;                    /* items shown (at most TESTCONN_MAX_ITEMS) */
	struct testconn_item items[TESTCONN_MAX_ITEMS];
	int64_t elapsed_ms;
};

/* Fetches the first page (or the start of a single document: parsing stops
 * after max_items items), maps the items.  Returns 0 when the page was
 * fetched and parsed, -1 with err otherwise (the same messages a sync
 * would give).  Writes nothing anywhere. */
int engine_test_connection(const struct conf *c, const struct supplier_conf *s, int max_items,
                           struct testconn_result *r, struct error *err);

#endif
