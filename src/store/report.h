/* report.h - read-only queries behind the listing commands (suppliers,
 * runs, history, unknown SKUs, export).  The SQL lives here; front ends
 * only format what they are given.
 *
 * Every function takes an open struct db and an optional struct error,
 * returns 0 on success and -1 on error, and iterates its rows into a
 * callback.  The strings in a row are owned by the query and valid only
 * during the callback: copy what you keep.  A callback returns 0 to go
 * on, or -1 to stop; the function then returns -1 and leaves err as the
 * callback set it (a callback that stops without an error should set one).
 *
 * A supplier filter is a slug; a slug with no row in the suppliers table
 * fails with kind ERRK_USAGE and a message naming it.
 *
 * All times are int64 ms since the epoch UTC, 0 = none.
 */
#ifndef DROPSTOCK_REPORT_H
#define DROPSTOCK_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/db.h"
#include "util/util.h"

/* Resolves a supplier slug for a filter: 0 with *id set, or -1 with
 * ERRK_USAGE ("no supplier \"acme\" in the database") or ERRK_DB. */
int report_supplier_id(struct db *db, const char *slug, int64_t *id, struct error *err);

/* ---- suppliers overview, ordered by slug ---- */
struct report_supplier {
	int64_t id;
	const char *slug;
	const char *name;                /* may be NULL */
	bool active;
	int64_t priority;
	int64_t links;                   /* number of supplier links */
	int64_t last_full_at;            /* 0 = never */
	const char *last_full_status;    /* NULL = never */
	int64_t last_delta_at;
	const char *last_delta_status;
	int64_t running_run_id;          /* newest run with status "running", 0 = none */
	int64_t running_started_at;
	int64_t running_heartbeat_at;
	int64_t running_done, running_total;  /* total 0 = unknown */
};
int report_suppliers(struct db *db,
                     int (*cb)(void *ud, const struct report_supplier *s),
                     void *ud, struct error *err);

/* ---- sync runs, newest first (by id) ---- */
struct report_run {
	int64_t id;
	int64_t supplier_id;
	const char *supplier;            /* slug */
	const char *kind;                /* "full", "delta" */
	const char *trigger;             /* "cli", "console", "daemon", ... */
	const char *status;              /* queued|running|succeeded|failed|interrupted */
	int64_t attempt;
	int64_t next_attempt_at;
	int64_t pid;
	int64_t started_at, finished_at, heartbeat_at;
	int64_t done, total, pages, bytes;
	int64_t seen, changed, unknown, invalid, stale, zeroed;
	const char *error;               /* NULL = none */
	bool dry_run;
};
/* supplier: slug or NULL for all; limit > 0. */
int report_runs(struct db *db, const char *supplier, int64_t limit,
                int (*cb)(void *ud, const struct report_run *r),
                void *ud, struct error *err);

/* ---- stock history (stock_log), newest first ----
 * Keyset pagination on (recorded_at, id): a page holds the rows strictly
 * older than the cursor, never an OFFSET, so pages stay stable while new
 * changes are recorded. */
struct report_cursor {
	int64_t recorded_at;
	int64_t id;
};
/* The cursor as text ("1764230100000.42"); out holds 48 bytes. */
char *report_cursor_format(const struct report_cursor *c, char out[48]);
/* Parses report_cursor_format() text; false on anything else. */
bool report_cursor_parse(const char *s, struct report_cursor *out);

struct report_history_filter {
	const char *sku;           /* substring of the supplier sku or the product sku
	                            * (ASCII case-insensitive), NULL = any */
	const char *supplier;      /* slug, NULL = any */
	int64_t since;             /* recorded_at >= since; 0 = any */
	const char *source;        /* "full", "delta", "webhook", "check", "manual", NULL = any */
	int64_t limit;             /* rows per page, > 0 */
	bool has_after;            /* start after this cursor (the next_cursor of the previous page) */
	struct report_cursor after;
};
struct report_history_row {
	int64_t id;
	int64_t recorded_at;
	const char *supplier;      /* slug; NULL when the link is gone */
	const char *supplier_sku;  /* NULL when the link is gone */
	int64_t product_id;
	const char *product_sku;   /* NULL when the product is gone */
	const char *product_name;  /* may be NULL */
	bool has_prev;             /* false: first value ever seen */
	int64_t prev;
	int64_t new_stock;
	const char *source;
	int64_t run_id;            /* 0 = none */
	int64_t source_time;       /* 0 = none */
};
/* Calls cb for at most f->limit rows.  *has_more tells whether another
 * page exists; *next is then the cursor to pass as f->after. */
int report_history(struct db *db, const struct report_history_filter *f,
                   int (*cb)(void *ud, const struct report_history_row *r), void *ud,
                   bool *has_more, struct report_cursor *next, struct error *err);

/* ---- unknown SKUs, by supplier slug then most recently seen; SKUs that
 * got linked since they were recorded are left out ---- */
struct report_unknown_row {
	const char *supplier;      /* slug */
	const char *supplier_sku;
	int64_t first_seen, last_seen;
	bool has_stock;
	int64_t last_stock;
	int64_t times_seen;
};
/* supplier: slug or NULL for all. */
int report_unknown(struct db *db, const char *supplier,
                   int (*cb)(void *ud, const struct report_unknown_row *r),
                   void *ud, struct error *err);

/* ---- product export, ordered by sku, streamed row by row ---- */
struct report_product {
	int64_t id;
	const char *sku;
	const char *name;          /* may be NULL */
	int64_t stock;
	bool available;
	int64_t updated_at;        /* 0 = never */
};
/* changed_since: only products with updated_at >= changed_since; 0 = all. */
int report_products(struct db *db, int64_t changed_since,
                    int (*cb)(void *ud, const struct report_product *p),
                    void *ud, struct error *err);

/* ---- changed store stock (the HTTP service's feed), oldest change first ----
 * Keyset pagination on products (updated_at, id) ascending, never an
 * OFFSET: a page holds the products with updated_at >= changed_since that
 * come strictly after the cursor.  The cursor reuses struct report_cursor
 * (and its text form): recorded_at holds products.updated_at.
 * Calls cb for at most limit rows (limit > 0); *has_more tells whether
 * another page exists, *next is then the cursor of the last row given. */
int report_products_changed(struct db *db, int64_t changed_since, int64_t limit,
                            const struct report_cursor *after,
                            int (*cb)(void *ud, const struct report_product *p), void *ud,
                            bool *has_more, struct report_cursor *next, struct error *err);

/* ---- the console's SKU view and checks (additions) ---- */

/* The newest stock_log id (0 when the log is empty): a cheap way to learn
 * whether the history changed since it was last read. */
int report_history_latest(struct db *db, int64_t *id, struct error *err);

/* One product by its SKU: cb is called once when it exists, not at all
 * otherwise (not an error). */
int report_product_find(struct db *db, const char *sku,
                        int (*cb)(void *ud, const struct report_product *p),
                        void *ud, struct error *err);

/* One supplier link of a product, as the check sees it. */
struct report_link_row {
	int64_t link_id;
	int64_t supplier_id;
	const char *supplier;      /* slug */
	const char *supplier_name; /* may be NULL */
	bool supplier_active;
	int64_t priority;
	const char *supplier_sku;
	int64_t product_id;
	const char *product_sku;
	bool has_stock;            /* false until the first value */
	int64_t stock;             /* store-facing stock (after the supplier's rules) */
	int64_t source_time;       /* the supplier's own time of the value, 0 = none */
	int64_t synced_at;         /* when the link row last changed, 0 = never */
	int64_t cached_at;         /* when the value was last confirmed: the later of
	                            * synced_at and the start of the supplier's last
	                            * succeeded full or delta run (as check_sku);
	                            * 0 when the link never had a value */
};
/* The links of the product product_sku, by supplier priority, slug and
 * supplier SKU.  No rows when the product does not exist. */
int report_product_links(struct db *db, const char *product_sku,
                         int (*cb)(void *ud, const struct report_link_row *r),
                         void *ud, struct error *err);
/* The link of supplier slug / supplier_sku (cb once, or not at all when
 * there is none); a slug with no supplier row fails with ERRK_USAGE. */
int report_link_find(struct db *db, const char *supplier, const char *supplier_sku,
                     int (*cb)(void *ud, const struct report_link_row *r),
                     void *ud, struct error *err);

/* The last limit (> 0) stock_log rows of a product, newest first (the
 * stock_log_product index), for charts.  Rows carry the supplier and
 * supplier SKU even when the link is gone (supplier_id 0 then when the
 * supplier is gone too). */
struct report_product_change {
	int64_t id;
	int64_t recorded_at;
	int64_t supplier_id;       /* 0 = supplier removed */
	const char *supplier_sku;  /* never NULL */
	bool has_prev;
	int64_t prev;
	int64_t new_stock;
	const char *source;
};
int report_product_changes(struct db *db, int64_t product_id, int64_t limit,
                           int (*cb)(void *ud, const struct report_product_change *r),
                           void *ud, struct error *err);

/* ---- (addition, console) queued and running runs, oldest first (by id);
 * served by the status index, so it stays cheap however many runs the
 * table holds.  Rows as report_runs gives them. */
int report_runs_active(struct db *db, int (*cb)(void *ud, const struct report_run *r),
                       void *ud, struct error *err);

/* ---- (addition, console) one run by id: cb is called once, or not at
 * all when there is no such run (still 0). */
int report_run(struct db *db, int64_t run_id, int (*cb)(void *ud, const struct report_run *r),
               void *ud, struct error *err);

/* ---- (addition, console) the first `limit` stock changes a run made, in
 * the order it made them (stock_log rows with that run_id, by id).
 * *total (when not NULL) gets how many rows the run logged in all. */
int report_run_changes(struct db *db, int64_t run_id, int64_t limit,
                       int (*cb)(void *ud, const struct report_history_row *r), void *ud,
                       int64_t *total, struct error *err);

#endif
