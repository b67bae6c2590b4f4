/* store.h - the tables' access functions, one small group per table.
 *
 * Every function works on an open struct db, takes an optional struct error
 * and returns 0 on success, -1 on error, unless its comment says otherwise.
 * None of them begins or commits a transaction: the caller (the engine)
 * owns transactions.  All hot-path functions use db_stmt() prepared
 * statements.
 */
#ifndef DROPSTOCK_STORE_H
#define DROPSTOCK_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "conf/conf.h"
#include "store/db.h"
#include "util/util.h"

/* ---- suppliers ---- */
/* Inserts or updates (name, active, priority) the row for s; sets *id. */
int suppliers_upsert(struct db *db, const struct supplier_conf *s, int64_t *id, struct error *err);
/* 1 found (sets *id), 0 not found, -1 error. */
int suppliers_find(struct db *db, const char *slug, int64_t *id, struct error *err);
/* kind "full" or "delta"; status "succeeded", "failed", "interrupted". */
int suppliers_set_last(struct db *db, int64_t supplier_id, const char *kind, int64_t at,
                       const char *status, struct error *err);
/* The delta watermark (suppliers.delta_watermark): *ms = 0 when none. */
int suppliers_get_watermark(struct db *db, int64_t supplier_id, int64_t *ms, struct error *err);
int suppliers_set_watermark(struct db *db, int64_t supplier_id, int64_t ms, struct error *err);

/* ---- products and supplier links ---- */
struct link_row {
	int64_t id;
	int64_t product_id;
	bool has_stock;          /* false until the supplier's stock was first seen */
	int64_t stock;           /* store-facing contribution after rules */
	int64_t raw_stock;       /* as the supplier said, before rules */
	int64_t source_time;     /* supplier's timestamp of the stored value, 0 = none */
	int64_t synced_at;       /* when dropstock received the stored value */
};
/* 1 found, 0 no such link, -1 error.  The hot path: one indexed SELECT. */
int links_find(struct db *db, int64_t supplier_id, const char *supplier_sku,
               struct link_row *out, struct error *err);
/* A link by id; when supplier_sku is not NULL it gets a copy of the
 * supplier sku (caller frees).  1 found, 0 no such link, -1 error. */
int links_get(struct db *db, int64_t link_id, struct link_row *out, char **supplier_sku,
              struct error *err);
int links_set_stock(struct db *db, int64_t link_id, int64_t stock, int64_t raw_stock,
                    int64_t source_time, int64_t synced_at, struct error *err);
/* Creates the product (when its sku is new; name may be NULL) and the link.
 * A link that already exists is re-pointed to the product.  The supplier
 * must exist in the suppliers table (err names it otherwise). */
int links_add(struct db *db, const char *product_sku, const char *product_name,
              const char *supplier_slug, const char *supplier_sku, struct error *err);
/* links_add that also returns the link and product ids and, when an
 * existing link was re-pointed to another product, that previous product
 * (*old_product_id, else 0), so the caller can recompute both products.
 * Any out pointer may be NULL.  Also forgets the SKU in unknown_skus.
 * Skus are at most 255 bytes. */
int links_add_ex(struct db *db, const char *product_sku, const char *product_name,
                 const char *supplier_slug, const char *supplier_sku, int64_t *link_id,
                 int64_t *product_id, int64_t *old_product_id, struct error *err);
/* Imports a catalogue CSV with a header line and the columns
 * product_sku, product_name, supplier_slug, supplier_sku (libcsv, any
 * order, names matched case-insensitively) through links_add, in one
 * transaction: a bad row fails the whole import naming its line.  Sets
 * *added to the number of rows imported.  product_name may be missing or
 * empty; other columns are ignored.  The one exception to "callers own
 * transactions": it runs BEGIN IMMEDIATE ... COMMIT itself, or a SAVEPOINT
 * when called inside the caller's transaction. */
int links_import_csv(struct db *db, const char *path, int64_t *added, struct error *err);
/* 1 removed, 0 no such link, -1 error.  Recomputes nothing: caller does. */
int links_remove(struct db *db, const char *supplier_slug, const char *supplier_sku,
                 int64_t *product_id, struct error *err);
/* Number of links of a supplier, -1 on error. */
int64_t links_count(struct db *db, int64_t supplier_id, struct error *err);
/* Calls cb for every link of the supplier (in id order) with its supplier sku.
 * cb returns 0 to go on, -1 to stop (the call then returns -1).  cb must
 * not call links_each itself (the statement is shared). */
int links_each(struct db *db, int64_t supplier_id,
               int (*cb)(void *ud, const struct link_row *link, const char *supplier_sku),
               void *ud, struct error *err);

/* Recomputes the product's stock from its links (sum, max, or the first
 * supplier in priority order that has stock > 0) and writes it when changed
 * (stock, available = stock > 0, updated_at = now).  Links never seen
 * (supplier_stock NULL) count as nothing.  Skus are at most 255 characters,
 * so a 1024-byte buffer never truncates.
 * Sets *old_stock and *new_stock (equal when unchanged) and, when sku is not
 * NULL, copies the product sku into sku (NUL-terminated, truncated to
 * sku_size). */
int products_recompute(struct db *db, int64_t product_id, enum aggregate_kind agg,
                       int64_t *old_stock, int64_t *new_stock, char *sku, size_t sku_size,
                       int64_t now, struct error *err);

/* ---- stock log ----
 * A row outlives its link: removing the link sets link_id to NULL, and the
 * row keeps the supplier and supplier sku it was about. */
struct stocklog_entry {
	int64_t link_id;
	int64_t product_id;
	int64_t supplier_id;      /* 0 = take it from the link */
	const char *supplier_sku; /* NULL = take it from the link */
	bool has_prev;            /* false: first value ever seen (prev is NULL) */
	int64_t prev;
	int64_t new_stock;
	const char *source;       /* "full", "delta", "webhook", "check", "manual" */
	int64_t run_id;           /* 0 = none */
	int64_t recorded_at;
	int64_t source_time;      /* 0 = none */
};
int stocklog_append(struct db *db, const struct stocklog_entry *e, struct error *err);
/* The rows of n stocklog_append calls, in order (ids ascending as given),
 * written several to a statement: a fraction of the per-statement cost for
 * a page of changes.  On an error *failed (when not NULL) is the index of
 * the entry that failed, or n when that is not known. */
int stocklog_append_many(struct db *db, const struct stocklog_entry *e, size_t n,
                         size_t *failed, struct error *err);

/* ---- unknown SKUs ---- */
/* Upserts (first_seen kept, last_seen/last_stock/times_seen updated). */
int unknown_record(struct db *db, int64_t supplier_id, const char *supplier_sku,
                   int64_t stock, int64_t at, struct error *err);
/* Removes the entry once the SKU gets linked. */
int unknown_forget(struct db *db, int64_t supplier_id, const char *supplier_sku, struct error *err);

/* ---- outbox ---- */
/* kind: "back_in_stock", "out_of_stock", "stock_changed"; payload is JSON text. */
int outbox_add(struct db *db, const char *kind, int64_t product_id, const char *payload,
               int64_t at, struct error *err);
/* One event for outbox_add_many. */
struct outbox_entry {
	const char *kind;
	int64_t product_id;
	const char *payload;
	int64_t at;
};
/* The events of n outbox_add calls, in order, several to a statement; on an
 * error *failed as for stocklog_append_many. */
int outbox_add_many(struct db *db, const struct outbox_entry *e, size_t n, size_t *failed,
                    struct error *err);

/* ---- webhook receipts (idempotency) ---- */
/* 1 recorded (first time), 0 already seen (a duplicate delivery), -1 error. */
int receipts_record(struct db *db, int64_t supplier_id, const char *event_id, int64_t at,
                    struct error *err);

/* ---- sync runs ---- */
struct run_stats {
	int64_t done, total;      /* total 0 = unknown */
	int64_t pages, bytes;
	int64_t seen, changed, unknown, invalid, stale, zeroed;
};
/* Inserts a run with status "running", started_at/heartbeat_at = now, pid. */
int runs_begin(struct db *db, int64_t supplier_id, const char *kind, const char *trigger,
               bool dry_run, int64_t *run_id, struct error *err);
/* Turns an existing (queued or claimed) run into "running" for this process:
 * pid, started_at = heartbeat_at = now. */
int runs_start(struct db *db, int64_t run_id, struct error *err);
/* Asks a running run to stop (any process: the run checks the flag with its
 * progress, about 4 times a second).  1 asked, 0 not running, -1 error. */
int runs_request_cancel(struct db *db, int64_t run_id, struct error *err);
bool runs_cancel_requested(struct db *db, int64_t run_id);
/* Writes progress and heartbeat_at = now. */
int runs_update(struct db *db, int64_t run_id, const struct run_stats *st, struct error *err);
/* status: "succeeded", "failed", "interrupted"; error may be NULL. */
int runs_finish(struct db *db, int64_t run_id, const char *status, const struct run_stats *st,
                const char *error, struct error *err);
/* Marks every run of the supplier still "running" as "interrupted" with the
 * note "process N died"; called by the lock holder, so none of them can be
 * alive; exclude_run_id (0 = none) is the caller's own claimed run.  Returns
 * the number marked, -1 on error. */
int runs_mark_orphans(struct db *db, int64_t supplier_id, int64_t exclude_run_id,
                      struct error *err);
/* Items seen by the supplier's last succeeded run of that kind (progress
 * estimate), 0 when none. */
int64_t runs_last_seen(struct db *db, int64_t supplier_id, const char *kind);

/* ---- the mass-change guard: staged items of guarded runs (run_items) ----
 * A guarded run stages the observations that would change something and
 * applies them only once the whole feed was read (or after `dropstock
 * approve`).  An item with position RUN_ITEM_ZERO is a zero-missing
 * candidate: supplier_sku is the link's, raw_stock 0, observed_at the time
 * the feed that missed it was fetched (the zero-as-of time). */
#define RUN_ITEM_ZERO (-1)
struct run_item {
	int64_t seq;              /* 1, 2, ... in the order of the feed */
	const char *supplier_sku; /* run_items_each: valid during the callback only */
	int64_t raw_stock;
	int64_t observed_at;
	int64_t source_time;      /* 0 = none */
	int64_t position;         /* place in the feed (0 = n/a), or RUN_ITEM_ZERO */
};
int run_items_add(struct db *db, int64_t run_id, const struct run_item *it, struct error *err);
/* Calls cb for the run's items with seq > after_seq in seq order, at most
 * limit of them (0 = all).  cb returns 0 to go on, -1 to stop (the call
 * then returns -1; cb sets err).  The statement is reset before the call
 * returns, so the caller may write afterwards. */
int run_items_each(struct db *db, int64_t run_id, int64_t after_seq, int64_t limit,
                   int (*cb)(void *ud, const struct run_item *it), void *ud, struct error *err);
/* Number of the run's staged items, -1 on error. */
int64_t run_items_count(struct db *db, int64_t run_id, struct error *err);
int run_items_delete(struct db *db, int64_t run_id, struct error *err);
/* Deletes the staged items of the supplier's runs that are not waiting for
 * approval (left behind by a process that died); call it holding the
 * supplier lock, before a run begins.  Returns the number deleted, -1 on
 * error. */
int64_t run_items_purge(struct db *db, int64_t supplier_id, struct error *err);
/* Number of the supplier's links (all of them, or those whose store-facing
 * stock is > 0), counted up to limit (0 = no limit: a bounded count stops
 * early, so a guard that only needs to know "at least N" stays cheap on a
 * large catalogue).  -1 on error. */
int64_t links_count_upto(struct db *db, int64_t supplier_id, bool in_stock, int64_t limit,
                         struct error *err);
/* Sets a run's guard_reason (NULL clears it). */
int runs_set_guard_reason(struct db *db, int64_t run_id, const char *reason, struct error *err);
/* A run's recorded counts, its guard_reason (into reason, NUL-terminated,
 * "" when none; reason may be NULL) and dry_run flag.  1 found, 0 no such
 * run, -1 error. */
int runs_get_stats(struct db *db, int64_t run_id, struct run_stats *out, char *reason,
                   size_t reason_size, struct error *err);
/* The supplier's runs waiting for approval older than run_id, that run_id
 * (of kind full, or delta when full is false) supersedes: a full run
 * supersedes every older one, a delta the older deltas.  They become
 * "failed" with error note and lose their staged items.  Returns how
 * many, -1 on error.  Runs no transaction itself. */
int64_t runs_supersede_approvals(struct db *db, int64_t supplier_id, int64_t run_id, bool full,
                                 const char *note, struct error *err);

/* ---- the run queue (used by engine/jobs.c) ----
 * A queued run is a sync_runs row with status "queued", due at
 * next_attempt_at.  None of these functions begins a transaction. */
struct run_row {
	int64_t id;
	int64_t supplier_id;
	char slug[64];            /* the supplier's slug (truncated past 63 bytes) */
	char kind[8];             /* "full" or "delta" */
	char trigger[16];
	char status[16];
	int attempt;
	int64_t retry_of;         /* 0 = none */
	int64_t pid;              /* 0 = none */
	int64_t started_at;       /* 0 = none */
	int64_t heartbeat_at;     /* 0 = none */
	int64_t next_attempt_at;  /* 0 = none */
};
/* The slug of the supplier with that id into slug (NUL-terminated,
 * truncated to size).  1 found, 0 no such supplier, -1 error. */
int suppliers_get_slug(struct db *db, int64_t supplier_id, char *slug, size_t size,
                       struct error *err);
/* Inserts a queued run (attempt >= 1, retry_of 0 = none) due at due; sets *run_id. */
int runs_enqueue(struct db *db, int64_t supplier_id, const char *kind, const char *trigger,
                 int attempt, int64_t retry_of, int64_t due, int64_t *run_id,
                 struct error *err);
/* A run by id.  1 found, 0 no such run, -1 error. */
int runs_get(struct db *db, int64_t run_id, struct run_row *out, struct error *err);
/* The supplier's earliest queued run (by due time, then id).  1 found, 0
 * none, -1 error. */
int runs_find_queued(struct db *db, int64_t supplier_id, struct run_row *out, struct error *err);
/* Number of the supplier's runs with status "running", -1 on error. */
int64_t runs_count_running(struct db *db, int64_t supplier_id, struct error *err);
/* Moves a queued run's due time.  1 moved, 0 not queued (any more), -1 error. */
int runs_set_due(struct db *db, int64_t run_id, int64_t due, struct error *err);
/* Queued runs due at or before now whose supplier has no running run, by
 * due time then id.  *rows (caller frees) and *n; -1 on error. */
int runs_list_due(struct db *db, int64_t now, struct run_row **rows, size_t *n,
                  struct error *err);
/* Every run with status "running".  *rows (caller frees) and *n; -1 on error. */
int runs_list_running(struct db *db, struct run_row **rows, size_t *n, struct error *err);
/* Claims a queued run for process pid: status "running", pid, started_at =
 * heartbeat_at = at, only while it is still queued and its supplier has no
 * other running run.  1 claimed, 0 taken by someone else, -1 error. */
int runs_claim(struct db *db, int64_t run_id, int64_t pid, int64_t at, struct error *err);
/* Changes a run's status from `from` to `to` (finished_at = at, error =
 * error when not NULL), only while its status is still `from`.  1 changed,
 * 0 not (its status was something else), -1 error. */
int runs_transition(struct db *db, int64_t run_id, const char *from, const char *to,
                    const char *error, int64_t at, struct error *err);
/* Appends "; note" to a run's error text (or sets it when there is none). */
int runs_note(struct db *db, int64_t run_id, const char *note, struct error *err);
/* Deletes a run that never did any work: a queued run replaced by a
 * stronger one, or a claimed run whose sync could not take the supplier
 * lock (status queued, running or interrupted, with no page fetched).
 * 1 deleted, 0 not (it had moved on), -1 error. */
int runs_discard(struct db *db, int64_t run_id, struct error *err);

/* ---- reverts (used by engine/revert.c) ---- */
/* Inserts a run of kind "revert" undoing run `reverts` (sync_runs.reverts),
 * status "running", started_at/heartbeat_at = now, pid; sets *run_id. */
int runs_begin_revert(struct db *db, int64_t supplier_id, int64_t reverts, const char *trigger,
                      int64_t *run_id, struct error *err);
/* What a run did to one link, from its stock_log rows. */
struct run_change {
	int64_t link_id;          /* 0: the link was removed since */
	int64_t product_id;       /* the product of the run's last row for the link */
	char *supplier_sku;
	char *product_sku;        /* NULL when that product is gone */
	bool has_prev;            /* false: the run gave the link its first value */
	int64_t prev;             /* before the run: the run's FIRST row's prev_stock */
	int64_t run_stock;        /* after the run: the run's LAST row's new_stock */
	int64_t last_id;          /* the run's last stock_log row for the link */
	/* the link's newest stock_log row after the run's last one (any
	 * source, by id), when there is one: the value changed since */
	int64_t newer_id;         /* 0 = none */
	char newer_source[16];
	int64_t newer_stock;
	int64_t newer_run_id;     /* 0 = none */
	int64_t newer_at;         /* its recorded_at */
};
/* Every link run_id changed, in the order the run first changed them:
 * *out (free with stocklog_run_changes_free) and *n. */
int stocklog_run_changes(struct db *db, int64_t run_id, struct run_change **out, size_t *n,
                         struct error *err);
void stocklog_run_changes_free(struct run_change *c, size_t n);
/* The id of the link's newest stock_log row into *id (0 = none). */
int stocklog_last_id(struct db *db, int64_t link_id, int64_t *id, struct error *err);

/* ---- (addition) removing a supplier (used by engine/catalogue.c) ---- */
/* Deletes the supplier's row and with it (ON DELETE CASCADE) its links,
 * runs, unknown SKUs and webhook receipts; its stock_log rows stay, with
 * supplier_id and link_id NULL (they keep the supplier sku).  *products
 * (caller frees; may be NULL when *n is 0) gets the distinct products its
 * links pointed to, for recomputing.  1 removed, 0 no such supplier, -1
 * error.  The caller owns the transaction. */
int suppliers_remove(struct db *db, int64_t supplier_id, int64_t **products, size_t *n,
                     struct error *err);

#endif
