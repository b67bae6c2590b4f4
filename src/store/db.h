/* db.h - the SQLite database: open, pragmas, migrations, transactions and a
 * cache of prepared statements.
 *
 * One struct db per thread.  WAL mode, foreign keys on, busy timeout 10 s.
 * Writers use db_begin() (BEGIN IMMEDIATE).  The schema is versioned by
 * PRAGMA user_version and migrated forward on open; an older binary refuses
 * a newer database.  ":memory:" works for tests.
 *
 * Schema (version 1), all times are int64 ms since the epoch UTC:
 *   suppliers(id, slug UNIQUE, name, active, priority, last_full_at,
 *             last_full_status, last_delta_at, last_delta_status,
 *             delta_watermark, created_at)
 *   products(id, sku UNIQUE, name, stock, available, updated_at)
 *   supplier_links(id, supplier_id, supplier_sku, product_id, supplier_stock
 *             NULL until first seen, raw_stock, source_time, synced_at,
 *             UNIQUE(supplier_id, supplier_sku))
 *   stock_log(id, link_id NULL once the link is removed, product_id,
 *             supplier_id NULL once the supplier is removed, supplier_sku,
 *             prev_stock NULL=unknown, new_stock, source, run_id NULL,
 *             recorded_at, source_time)
 *   sync_runs(id, supplier_id, kind full|delta, trigger cli|console|daemon|...,
 *             status queued|running|succeeded|failed|interrupted, attempt,
 *             next_attempt_at, pid, started_at, finished_at, heartbeat_at,
 *             done, total, pages, bytes, seen, changed, unknown, invalid,
 *             stale, zeroed, error, dry_run)
 *   unknown_skus(supplier_id, supplier_sku, first_seen, last_seen,
 *             last_stock, times_seen, PRIMARY KEY(supplier_id, supplier_sku))
 *   outbox(id, kind back_in_stock|out_of_stock|stock_changed, product_id,
 *             payload JSON, created_at, attempts, next_attempt_at,
 *             delivered_at, last_error, dead)
 *   webhook_receipts(supplier_id, event_id, received_at,
 *             PRIMARY KEY(supplier_id, event_id))
 *
 * Notes: products.available = stock > 0; products.updated_at is when the
 * stock last changed (0 = never); supplier_links.source_time/synced_at are
 * 0 until the first value; stock_log.prev_stock, run_id and source_time are
 * NULL when unknown / none; stock_log keeps supplier_id and supplier_sku
 * so the history names them after the link is gone (report from these
 * columns, not through supplier_links); outbox.next_attempt_at starts at
 * created_at; one outbox event per product change;
 * sync_runs."trigger" is best quoted in SQL (a keyword).  Skus are 1..255
 * characters (CHECK).  The full DDL is migrations[] in db.c.
 */
#ifndef DROPSTOCK_DB_H
#define DROPSTOCK_DB_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/util.h"

#define DB_SCHEMA_VERSION 1

struct db;

/* Opens (creating the file and its directory when missing) and migrates. */
struct db *db_open(const char *path, struct error *err);
void db_close(struct db *db);
sqlite3 *db_handle(struct db *db);
const char *db_path(struct db *db);

/* Returns a prepared statement for sql, reset and with bindings cleared,
 * owned by the db (do not finalize).  The sql text must be a string literal
 * or otherwise outlive the db: it is the cache key.  NULL with err on a
 * prepare error. */
sqlite3_stmt *db_stmt(struct db *db, const char *sql, struct error *err);

int db_exec(struct db *db, const char *sql, struct error *err);
int db_begin(struct db *db, struct error *err);      /* BEGIN IMMEDIATE */
int db_commit(struct db *db, struct error *err);     /* rolls back itself when COMMIT fails */
void db_rollback(struct db *db);                      /* never fails loudly */

/* Fills err from the connection's last error: "database PATH: what: sqlite msg".
 * Kind ERRK_TRANSIENT for SQLITE_BUSY/LOCKED (another writer held the lock
 * past the busy timeout), ERRK_DB otherwise.  Returns -1. */
int db_error(struct db *db, struct error *err, const char *what);

#endif
