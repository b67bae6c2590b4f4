/* db.c - opening the database, pragmas, migrations, transactions and the
 * prepared statement cache. */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "util/util.h"

/* ---- migrations ----
 * migrations[i] brings the schema from version i to version i + 1.  Never
 * edit a released entry: append a new one and bump DB_SCHEMA_VERSION.
 *
 * Enum CHECKs on hot tables are written as OR chains, not IN lists: SQLite
 * builds a small ephemeral index for an IN list of three or more values on
 * every row checked, which tripled the cost of a stock_log or outbox insert. */
static const char *const migrations[] = {
	/* 1: the initial schema */
	"CREATE TABLE suppliers ("
	"  id INTEGER PRIMARY KEY,"
	"  slug TEXT NOT NULL UNIQUE CHECK (length(slug) > 0),"
	"  name TEXT,"
	"  active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),"
	"  priority INTEGER NOT NULL DEFAULT 100,"
	"  last_full_at INTEGER,"
	"  last_full_status TEXT"
	"    CHECK (last_full_status = 'succeeded' OR last_full_status = 'failed'"
	"      OR last_full_status = 'interrupted'),"
	"  last_delta_at INTEGER,"
	"  last_delta_status TEXT"
	"    CHECK (last_delta_status = 'succeeded' OR last_delta_status = 'failed'"
	"      OR last_delta_status = 'interrupted'),"
	"  delta_watermark INTEGER,"
	"  created_at INTEGER NOT NULL"
	");"
	"CREATE TABLE products ("
	"  id INTEGER PRIMARY KEY,"
	"  sku TEXT NOT NULL UNIQUE CHECK (length(sku) BETWEEN 1 AND 255),"
	"  name TEXT,"
	"  stock INTEGER NOT NULL DEFAULT 0 CHECK (stock >= 0),"
	"  available INTEGER NOT NULL DEFAULT 0 CHECK (available IN (0, 1)),"
	"  updated_at INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX products_updated ON products (updated_at, id);"
	"CREATE TABLE supplier_links ("
	"  id INTEGER PRIMARY KEY,"
	"  supplier_id INTEGER NOT NULL REFERENCES suppliers (id) ON DELETE CASCADE,"
	"  supplier_sku TEXT NOT NULL CHECK (length(supplier_sku) BETWEEN 1 AND 255),"
	"  product_id INTEGER NOT NULL REFERENCES products (id),"
	"  supplier_stock INTEGER CHECK (supplier_stock >= 0),"
	"  raw_stock INTEGER CHECK (raw_stock >= 0),"
	"  source_time INTEGER NOT NULL DEFAULT 0,"
	"  synced_at INTEGER NOT NULL DEFAULT 0,"
	"  UNIQUE (supplier_id, supplier_sku)"
	");"
	"CREATE INDEX supplier_links_product ON supplier_links (product_id);"
	"CREATE TABLE sync_runs ("
	"  id INTEGER PRIMARY KEY,"
	"  supplier_id INTEGER NOT NULL REFERENCES suppliers (id) ON DELETE CASCADE,"
	"  kind TEXT NOT NULL CHECK (kind = 'full' OR kind = 'delta' OR kind = 'revert'),"
	"  \"trigger\" TEXT NOT NULL DEFAULT 'cli',"
	"  status TEXT NOT NULL DEFAULT 'queued'"
	"    CHECK (status = 'queued' OR status = 'running' OR status = 'succeeded'"
	"      OR status = 'failed' OR status = 'interrupted' OR status = 'needs_approval'),"
	"  attempt INTEGER NOT NULL DEFAULT 1,"
	"  retry_of INTEGER REFERENCES sync_runs (id) ON DELETE SET NULL,"
	"  next_attempt_at INTEGER,"
	"  pid INTEGER,"
	"  started_at INTEGER,"
	"  finished_at INTEGER,"
	"  heartbeat_at INTEGER,"
	"  done INTEGER NOT NULL DEFAULT 0,"
	"  total INTEGER NOT NULL DEFAULT 0,"
	"  pages INTEGER NOT NULL DEFAULT 0,"
	"  bytes INTEGER NOT NULL DEFAULT 0,"
	"  seen INTEGER NOT NULL DEFAULT 0,"
	"  changed INTEGER NOT NULL DEFAULT 0,"
	"  unknown INTEGER NOT NULL DEFAULT 0,"
	"  invalid INTEGER NOT NULL DEFAULT 0,"
	"  stale INTEGER NOT NULL DEFAULT 0,"
	"  zeroed INTEGER NOT NULL DEFAULT 0,"
	"  error TEXT,"
	"  dry_run INTEGER NOT NULL DEFAULT 0 CHECK (dry_run IN (0, 1)),"
	"  guard_reason TEXT,"
	/* set by an operator (console `c`): the run stops after its page */
	"  cancel_requested INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested IN (0, 1)),"
	"  reverts INTEGER REFERENCES sync_runs (id) ON DELETE SET NULL"
	");"
	"CREATE INDEX sync_runs_supplier ON sync_runs (supplier_id, id);"
	/* a guarded run's observations that would change something, held until
	 * the run is applied (at once, or after `dropstock approve`) */
	"CREATE TABLE run_items ("
	"  run_id INTEGER NOT NULL REFERENCES sync_runs (id) ON DELETE CASCADE,"
	"  seq INTEGER NOT NULL,"
	"  supplier_sku TEXT NOT NULL,"
	"  raw_stock INTEGER NOT NULL,"
	"  observed_at INTEGER NOT NULL,"
	"  source_time INTEGER NOT NULL DEFAULT 0,"
	"  position INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (run_id, seq)"
	") WITHOUT ROWID;"

	"CREATE INDEX sync_runs_status ON sync_runs (status);"
	/* history outlives links: a removed link leaves link_id NULL and the
	 * row still names its supplier and supplier sku */
	"CREATE TABLE stock_log ("
	"  id INTEGER PRIMARY KEY,"
	"  link_id INTEGER REFERENCES supplier_links (id) ON DELETE SET NULL,"
	"  product_id INTEGER NOT NULL,"
	"  supplier_id INTEGER REFERENCES suppliers (id) ON DELETE SET NULL,"
	"  supplier_sku TEXT NOT NULL,"
	"  prev_stock INTEGER,"
	"  new_stock INTEGER NOT NULL CHECK (new_stock >= 0),"
	"  source TEXT NOT NULL"
	"    CHECK (source = 'full' OR source = 'delta' OR source = 'webhook'"
	"      OR source = 'check' OR source = 'manual'),"
	"  run_id INTEGER,"
	"  recorded_at INTEGER NOT NULL,"
	"  source_time INTEGER"
	");"
	"CREATE INDEX stock_log_link ON stock_log (link_id, recorded_at);"
	"CREATE INDEX stock_log_recorded ON stock_log (recorded_at, id);"
	"CREATE INDEX stock_log_product ON stock_log (product_id, recorded_at);"
	"CREATE INDEX stock_log_run ON stock_log (run_id) WHERE run_id IS NOT NULL;"
	"CREATE TABLE unknown_skus ("
	"  supplier_id INTEGER NOT NULL REFERENCES suppliers (id) ON DELETE CASCADE,"
	"  supplier_sku TEXT NOT NULL,"
	"  first_seen INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  last_stock INTEGER,"
	"  times_seen INTEGER NOT NULL DEFAULT 1,"
	"  PRIMARY KEY (supplier_id, supplier_sku)"
	") WITHOUT ROWID;"
	"CREATE TABLE outbox ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL"
	"    CHECK (kind = 'back_in_stock' OR kind = 'out_of_stock'"
	"      OR kind = 'stock_changed'),"
	"  product_id INTEGER NOT NULL,"
	"  payload TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_attempt_at INTEGER NOT NULL DEFAULT 0,"
	"  delivered_at INTEGER,"
	"  last_error TEXT,"
	"  dead INTEGER NOT NULL DEFAULT 0 CHECK (dead IN (0, 1))"
	");"
	"CREATE INDEX outbox_pending ON outbox (delivered_at, next_attempt_at);"
	"CREATE INDEX outbox_product_pending ON outbox (product_id, id)"
	"  WHERE delivered_at IS NULL AND dead = 0;"
	"CREATE TABLE webhook_receipts ("
	"  supplier_id INTEGER NOT NULL REFERENCES suppliers (id) ON DELETE CASCADE,"
	"  event_id TEXT NOT NULL,"
	"  received_at INTEGER NOT NULL,"
	"  PRIMARY KEY (supplier_id, event_id)"
	") WITHOUT ROWID;"
	"CREATE INDEX webhook_receipts_received ON webhook_receipts (received_at);",
};

#if DB_SCHEMA_VERSION != 1
#error "migrations[] must hold DB_SCHEMA_VERSION entries"
#endif

/* ---- the statement cache: open addressing keyed by the SQL pointer ---- */
struct stmt_slot {
	const char *sql;
	sqlite3_stmt *stmt;
};

struct db {
	sqlite3 *h;
	char *path;
	struct stmt_slot *slots;
	size_t nslots;        /* power of two */
	size_t used;
};

static size_t slot_hash(const char *sql, size_t mask)
{
	uintptr_t p = (uintptr_t)sql;

	p ^= p >> 17;
	p *= (uintptr_t)0x9E3779B97F4A7C15ull;
	return (size_t)(p >> 7) & mask;
}

static void cache_grow(struct db *db)
{
	struct stmt_slot *old = db->slots;
	size_t oldn = db->nslots, i;

	db->nslots = oldn ? oldn * 2 : 64;
	db->slots = xcalloc(db->nslots, sizeof(*db->slots));
	for (i = 0; i < oldn; i++) {
		size_t j;

		if (!old[i].sql)
			continue;
		j = slot_hash(old[i].sql, db->nslots - 1);
		while (db->slots[j].sql)
			j = (j + 1) & (db->nslots - 1);
		db->slots[j] = old[i];
	}
	free(old);
}

int db_error(struct db *db, struct error *err, const char *what)
{
	int code = sqlite3_extended_errcode(db->h) & 0xff;
	enum err_kind kind = ERRK_DB;

	if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
		kind = ERRK_TRANSIENT;
	return err_set(err, kind, _("database %s: %s: %s"), db->path, what,
	               sqlite3_errmsg(db->h));
}

sqlite3_stmt *db_stmt(struct db *db, const char *sql, struct error *err)
{
	size_t j;
	sqlite3_stmt *st = NULL;

	if (db->nslots) {
		j = slot_hash(sql, db->nslots - 1);
		while (db->slots[j].sql) {
			if (db->slots[j].sql == sql) {
				st = db->slots[j].stmt;
				sqlite3_reset(st);
				sqlite3_clear_bindings(st);
				return st;
			}
			j = (j + 1) & (db->nslots - 1);
		}
	}
	if (sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
		db_error(db, err, _("preparing a statement"));
		sqlite3_finalize(st);
		return NULL;
	}
	if (!st) {
		err_set(err, ERRK_INTERNAL, _("database %s: empty statement \"%s\""), db->path, sql);
		return NULL;
	}
	if ((db->used + 1) * 2 > db->nslots)
		cache_grow(db);
	j = slot_hash(sql, db->nslots - 1);
	while (db->slots[j].sql)
		j = (j + 1) & (db->nslots - 1);
	db->slots[j].sql = sql;
	db->slots[j].stmt = st;
	db->used++;
	return st;
}

int db_exec(struct db *db, const char *sql, struct error *err)
{
	char *msg = NULL;

	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int code = sqlite3_extended_errcode(db->h) & 0xff;

		err_set(err, code == SQLITE_BUSY || code == SQLITE_LOCKED ? ERRK_TRANSIENT : ERRK_DB,
		        _("database %s: %s"), db->path,
		        msg ? msg : sqlite3_errmsg(db->h));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int db_begin(struct db *db, struct error *err)
{
	if (sqlite3_exec(db->h, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_error(db, err, _("starting a write transaction"));
	return 0;
}

int db_commit(struct db *db, struct error *err)
{
	if (sqlite3_exec(db->h, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		db_error(db, err, _("committing"));
		db_rollback(db);
		return -1;
	}
	return 0;
}

void db_rollback(struct db *db)
{
	if (!sqlite3_get_autocommit(db->h))
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
}

sqlite3 *db_handle(struct db *db)
{
	return db->h;
}

const char *db_path(struct db *db)
{
	return db->path;
}

static int db_user_version(struct db *db, int64_t *out, struct error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db->h, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return db_error(db, err, _("reading the schema version"));
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		db_error(db, err, _("reading the schema version"));
		sqlite3_finalize(st);
		return -1;
	}
	*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return 0;
}

static int db_migrate(struct db *db, struct error *err)
{
	int64_t v;
	char *sql;

	if (db_user_version(db, &v, err) < 0)
		return -1;
	if (v == DB_SCHEMA_VERSION)
		return 0;
	/* Take the write lock before reading the version again, so two
	 * processes opening a new database never both migrate it. */
	if (db_begin(db, err) < 0)
		return -1;
	if (db_user_version(db, &v, err) < 0)
		goto fail;
	if (v > DB_SCHEMA_VERSION) {
		err_set(err, ERRK_DB,
		        _("database %s was written by a newer dropstock (schema %lld); "
		          "this one knows up to %d"),
		        db->path, (long long)v, DB_SCHEMA_VERSION);
		goto fail;
	}
	if (v < 0) {
		err_set(err, ERRK_DB, _("database %s: invalid schema version %lld"), db->path,
		        (long long)v);
		goto fail;
	}
	for (; v < DB_SCHEMA_VERSION; v++) {
		if (db_exec(db, migrations[v], err) < 0) {
			err_prefix(err, _("migrating to schema %lld"), (long long)(v + 1));
			goto fail;
		}
	}
	sql = xasprintf("PRAGMA user_version = %d", DB_SCHEMA_VERSION);
	if (db_exec(db, sql, err) < 0) {
		free(sql);
		goto fail;
	}
	free(sql);
	return db_commit(db, err);
fail:
	db_rollback(db);
	return -1;
}

/* Process-wide SQLite settings, before the library initialises: memory
 * statistics off (they take a global mutex on every allocation, some 10%
 * of a sync's time).  Harmless when SQLite was already initialised. */
static void db_global_init(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

struct db *db_open(const char *path, struct error *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct db *db = NULL;
	bool memory = str_eq(path, ":memory:");
	int rc;

	if (str_empty(path)) {
		err_set(err, ERRK_CONFIG, _("no database path given"));
		return NULL;
	}
	if (!memory && !str_startswith(path, "file:")) {
		char *dir = path_dirname(path);

		rc = mkdir_p(dir, err);
		if (rc < 0) {
			err_prefix(err, _("database %s"), path);
			free(dir);
			return NULL;
		}
		free(dir);
	}
	pthread_once(&once, db_global_init);
	db = xcalloc(1, sizeof(*db));
	db->path = xstrdup(path);
	rc = sqlite3_open_v2(path, &db->h,
	                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
	                     SQLITE_OPEN_URI, NULL);
	if (rc != SQLITE_OK) {
		if (db->h)
			db_error(db, err, _("opening"));
		else
			err_set(err, ERRK_DB, _("database %s: opening: %s"), path, sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_busy_timeout(db->h, 10000);
	if (db_exec(db, "PRAGMA journal_mode = WAL", err) < 0 ||
	    db_exec(db, "PRAGMA foreign_keys = ON", err) < 0 ||
	    db_exec(db, "PRAGMA synchronous = NORMAL", err) < 0 ||
	    db_exec(db, "PRAGMA temp_store = MEMORY", err) < 0 ||
	    /* 64 MiB of page cache: a million links stay hot during a sync */
	    db_exec(db, "PRAGMA cache_size = -65536", err) < 0 ||
	    /* checkpoint every 64 MiB of WAL rather than 4: a cold sync writes
	     * the same table and index tail pages in every page's commit, and
	     * a checkpoint copies only their last version (some 5% of it) */
	    db_exec(db, "PRAGMA wal_autocheckpoint = 16384", err) < 0)
		goto fail;
	if (db_migrate(db, err) < 0)
		goto fail;
	return db;
fail:
	db_close(db);
	return NULL;
}

void db_close(struct db *db)
{
	size_t i;

	if (!db)
		return;
	for (i = 0; i < db->nslots; i++)
		if (db->slots[i].stmt)
			sqlite3_finalize(db->slots[i].stmt);
	free(db->slots);
	if (db->h)
		sqlite3_close_v2(db->h);
	free(db->path);
	free(db);
}
