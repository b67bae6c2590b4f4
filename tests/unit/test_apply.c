/* test_apply.c - the database (open, migrations) and the engine's one apply
 * path: staleness, rules, writes only on change, product aggregates, outbox
 * events (one per product change), unknown SKUs, dry runs, rollback on
 * error, zero-missing, the catalogue import, link add/remove, history that
 * outlives its links, and webhook receipts in the apply transaction. */
#include "config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "store/db.h"
#include "store/report.h"
#include "store/store.h"
#include "tap.h"
#include "testlib.h"

static char *dbpath;

/* ---- helpers ---- */

static struct supplier_conf make_supplier(const char *slug, int priority)
{
	struct supplier_conf s;

	memset(&s, 0, sizeof(s));
	s.slug = (char *)slug;
	s.name = (char *)slug;
	s.active = true;
	s.priority = priority;
	s.rules.cap = -1;
	s.rules.multiplier = 1.0;
	s.rules.pack_size = 1;
	s.rules.zero_missing_max_pct = 20.0;
	return s;
}

struct recorder {
	int changes;
	struct stock_change last;
	char last_sku[64];
	int seen;
	int64_t last_seen;
};

static void rec_change(void *ud, const struct stock_change *ch)
{
	struct recorder *r = ud;

	r->changes++;
	r->last = *ch;
	snprintf(r->last_sku, sizeof(r->last_sku), "%s", ch->product_sku);
	r->last.product_sku = r->last_sku;
	r->last.supplier_sku = NULL;
}

static void rec_seen(void *ud, int64_t link_id)
{
	struct recorder *r = ud;

	r->seen++;
	r->last_seen = link_id;
}

static struct apply_ctx make_ctx(struct db *db, const struct supplier_conf *s, int64_t sid,
                                 struct recorder *rec)
{
	struct apply_ctx c;

	memset(&c, 0, sizeof(c));
	c.db = db;
	c.sup = s;
	c.supplier_id = sid;
	c.agg = AGG_SUM;
	c.source = SRC_FULL;
	c.on_change = rec_change;
	c.on_seen = rec_seen;
	c.ud = rec;
	return c;
}

static int apply1(struct apply_ctx *c, const char *sku, int64_t raw, int64_t observed_at,
                  int64_t source_time, struct apply_counts *n, struct error *e)
{
	struct observation o = { sku, raw, observed_at, source_time, 1 };

	return engine_apply(c, &o, 1, n, e);
}

/* ---- tests ---- */

static void test_memory(void)
{
	struct error e;
	struct db *db = db_open(":memory:", &e);

	ok(db != NULL, ":memory: opens");
	if (!db)
		return;
	is_int(q_int(db, "PRAGMA user_version"), DB_SCHEMA_VERSION, ":memory: migrated");
	is_int(q_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
	                 "('suppliers','products','supplier_links','stock_log','sync_runs',"
	                 "'unknown_skus','outbox','webhook_receipts')"), 8, "all tables exist");
	is_int(q_int(db, "PRAGMA foreign_keys"), 1, "foreign keys on");
	is_int(q_int(db, "PRAGMA wal_autocheckpoint"), 16384, "checkpoints every 64 MiB of WAL");
	db_close(db);
}

static void test_open(void)
{
	struct error e;
	struct db *db;
	sqlite3 *raw;
	sqlite3_stmt *a, *b;
	static const char sql[] = "SELECT 1";
	char *mode, *p;

	/* the directory does not exist yet */
	db = db_open(dbpath, &e);
	ok(db != NULL, "file database opens, creating its directory");
	if (!db) {
		printf("# %s\n", e.msg);
		exit(1);
	}
	is_int(q_int(db, "PRAGMA user_version"), 1, "migrations give user_version 1");
	mode = q_str(db, "PRAGMA journal_mode");
	is_str(mode, "wal", "WAL mode");
	free(mode);
	is_int(q_int(db, "PRAGMA foreign_keys"), 1, "foreign keys on");
	is_int(q_int(db, "PRAGMA synchronous"), 1, "synchronous NORMAL");
	is_int(q_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN "
	                 "('products_updated','supplier_links_product','sync_runs_supplier',"
	                 "'sync_runs_status','stock_log_link','stock_log_recorded',"
	                 "'stock_log_product','outbox_pending')"), 8, "indexes exist");
	a = db_stmt(db, sql, &e);
	b = db_stmt(db, sql, &e);
	ok(a && a == b, "db_stmt caches by SQL pointer");
	ok(db_stmt(db, "SELECT nope FROM no_such_table", &e) == NULL, "bad SQL fails to prepare");
	like(e.msg, dbpath, "prepare error names the database");
	like(e.msg, "no such table", "prepare error has the SQLite message");
	ok(db_exec(db, "INSERT INTO products (sku, stock) VALUES ('x', -1)", &e) < 0,
	   "CHECK rejects negative product stock");
	ok(db_exec(db, "INSERT INTO sync_runs (supplier_id, kind) VALUES (1, 'full')", &e) < 0,
	   "foreign key enforced on sync_runs");
	ok(db_exec(db, "INSERT INTO outbox (kind, product_id, payload, created_at) VALUES "
	               "('nope', 1, '{}', 1)", &e) < 0, "CHECK on outbox kind");
	db_close(db);

	/* reopen: nothing to migrate */
	db = db_open(dbpath, &e);
	ok(db != NULL, "reopens");
	db_close(db);

	/* a newer database is refused */
	if (sqlite3_open(dbpath, &raw) == SQLITE_OK) {
		sqlite3_exec(raw, "PRAGMA user_version = 7", NULL, NULL, NULL);
		sqlite3_close(raw);
	}
	db = db_open(dbpath, &e);
	ok(db == NULL, "a newer schema is refused");
	p = xasprintf("database %s was written by a newer dropstock (schema 7); this one knows "
	              "up to 1", dbpath);
	is_str(e.msg, p, "refusal message");
	free(p);
	db_close(db);
	if (sqlite3_open(dbpath, &raw) == SQLITE_OK) {
		sqlite3_exec(raw, "PRAGMA user_version = 1", NULL, NULL, NULL);
		sqlite3_close(raw);
	}
}

struct fixture {
	struct db *db;
	struct supplier_conf acme, beta;
	int64_t acme_id, beta_id;
};

static int fixture_open(struct fixture *f)
{
	struct error e;

	memset(f, 0, sizeof(*f));
	f->db = db_open(dbpath, &e);
	if (!f->db) {
		printf("# %s\n", e.msg);
		return -1;
	}
	f->acme = make_supplier("acme", 10);
	f->beta = make_supplier("beta", 5);
	if (suppliers_upsert(f->db, &f->acme, &f->acme_id, &e) < 0 ||
	    suppliers_upsert(f->db, &f->beta, &f->beta_id, &e) < 0) {
		printf("# %s\n", e.msg);
		return -1;
	}
	return 0;
}

struct each_ctx {
	int n;
	int stop_at;
	char skus[64];
};

static int each_cb(void *ud, const struct link_row *link, const char *supplier_sku)
{
	struct each_ctx *ec = ud;

	(void)link;
	ec->n++;
	if (ec->stop_at && ec->n >= ec->stop_at)
		return -1;
	strncat(ec->skus, supplier_sku, sizeof(ec->skus) - strlen(ec->skus) - 2);
	strcat(ec->skus, ",");
	return 0;
}

static void test_links(struct fixture *f)
{
	struct error e;
	int64_t id, lid, pid, old;
	struct link_row row;

	ok(suppliers_upsert(f->db, &f->acme, &id, &e) == 0 && id == f->acme_id,
	   "upsert twice keeps the id");
	ok(suppliers_find(f->db, "beta", &id, &e) == 1 && id == f->beta_id, "find beta");
	ok(suppliers_find(f->db, "nope", &id, &e) == 0, "unknown slug not found");

	ok(links_add(f->db, "P1", "Product one", "acme", "A1", &e) == 0, "link P1 <- acme A1");
	ok(links_add(f->db, "P1", NULL, "beta", "B1", &e) == 0, "link P1 <- beta B1");
	ok(links_add(f->db, "P2", "Product two", "acme", "A2", &e) == 0, "link P2 <- acme A2");
	ok(links_add(f->db, "P3", NULL, "acme", "A3", &e) == 0, "link P3 <- acme A3");
	ok(links_add(f->db, "P1", NULL, "nope", "X", &e) < 0, "unknown supplier refused");
	is_str(e.msg, "unknown supplier 'nope': it has no suppliers.d/nope.conf (or was never synced)",
	       "unknown supplier message");
	ok(links_add(f->db, "", NULL, "acme", "X", &e) < 0, "empty product sku refused");
	{
		char *n = q_str(f->db, "SELECT name FROM products WHERE sku = 'P1'");
		is_str(n, "Product one", "NULL name keeps the existing name");
		free(n);
	}
	is_int(links_count(f->db, f->acme_id, &e), 3, "acme has 3 links");

	ok(links_find(f->db, f->acme_id, "A1", &row, &e) == 1, "find A1");
	ok(!row.has_stock, "a new link has no stock yet");
	ok(links_find(f->db, f->acme_id, "B1", &row, &e) == 0, "B1 is not an acme sku");

	/* re-pointing tells the previous product */
	ok(links_add_ex(f->db, "P9", NULL, "acme", "A3", &lid, &pid, &old, &e) == 0, "re-point A3");
	is_int(old, q_int(f->db, "SELECT id FROM products WHERE sku = 'P3'"), "old product is P3");
	is_int(pid, q_int(f->db, "SELECT id FROM products WHERE sku = 'P9'"), "new product is P9");
	{
		struct each_ctx ec = { 0, 0, { 0 } };
		char *sku = NULL;

		ok(links_each(f->db, f->acme_id, each_cb, &ec, &e) == 0, "links_each");
		is_int(ec.n, 3, "links_each visits 3 links");
		is_str(ec.skus, "A1,A2,A3,", "in id order with their skus");
		ec.stop_at = 2;
		ok(links_each(f->db, f->acme_id, each_cb, &ec, &e) < 0, "callback stops links_each");
		ok(links_get(f->db, lid, &row, &sku, &e) == 1 && row.product_id == pid, "links_get");
		is_str(sku, "A3", "links_get copies the sku");
		free(sku);
		ok(links_get(f->db, 999999, &row, NULL, &e) == 0, "links_get of a missing id");
	}
	ok(links_remove(f->db, "acme", "A3", &pid, &e) == 1, "remove A3");
	ok(links_remove(f->db, "acme", "A3", &pid, &e) == 0, "remove again: no such link");
	is_int(links_count(f->db, f->acme_id, &e), 2, "acme has 2 links");
}

static void test_first_and_unchanged(struct fixture *f)
{
	struct recorder rec = { 0 };
	struct apply_ctx c = make_ctx(f->db, &f->acme, f->acme_id, &rec);
	struct apply_counts n = { 0 };
	struct error e;
	char *payload;
	json_t *j;
	int64_t log_rows, outbox_rows;

	c.run_id = 42;
	ok(apply1(&c, "A1", 5, 1000, 0, &n, &e) == 0, "first value applied");
	is_int(n.seen, 1, "seen 1");
	is_int(n.changed, 1, "a first value is a change");
	is_int(rec.changes, 1, "on_change called");
	ok(!rec.last.has_prev, "change has no previous value");
	is_int(rec.last.new_stock, 5, "change new stock");
	is_int(rec.last.product_prev, 0, "product was 0");
	is_int(rec.last.product_new, 5, "product is 5");
	is_str(rec.last.product_sku, "P1", "change names the product");
	is_int(rec.seen, 1, "on_seen called");
	is_int(q_int(f->db, "SELECT count(*) FROM stock_log"), 1, "one log row");
	is_int(q_int(f->db, "SELECT prev_stock IS NULL FROM stock_log"), 1, "first value logs prev NULL");
	is_int(q_int(f->db, "SELECT new_stock FROM stock_log"), 5, "log new 5");
	is_int(q_int(f->db, "SELECT run_id FROM stock_log"), 42, "log run id");
	is_int(q_int(f->db, "SELECT source = 'full' FROM stock_log"), 1, "log source full");
	is_int(q_link_stock(f->db, "A1"), 5, "link stock 5");
	is_int(q_int(f->db, "SELECT synced_at FROM supplier_links WHERE supplier_sku = 'A1'"), 1000,
	       "link synced_at = observed_at");
	is_int(q_product_stock(f->db, "P1"), 5, "product P1 stock 5");
	is_int(q_int(f->db, "SELECT available FROM products WHERE sku = 'P1'"), 1, "P1 available");
	is_int(q_int(f->db, "SELECT count(*) FROM outbox"), 1, "one event per product change");
	is_int(q_int(f->db, "SELECT count(*) FROM outbox WHERE kind = 'back_in_stock'"), 1,
	       "0 -> 5 is a back_in_stock event");
	is_int(q_int(f->db, "SELECT count(*) FROM outbox WHERE kind = 'stock_changed'"), 0,
	       "the crossing writes no stock_changed besides");
	is_int(q_int(f->db, "SELECT created_at FROM outbox"),
	       q_int(f->db, "SELECT recorded_at FROM stock_log"),
	       "outbox created_at is the call's time, like the log");

	payload = q_str(f->db, "SELECT payload FROM outbox WHERE kind = 'back_in_stock'");
	j = payload ? json_loads(payload, 0, NULL) : NULL;
	ok(j != NULL, "payload is JSON");
	if (j) {
		is_str(json_string_value(json_object_get(j, "event")), "back_in_stock", "payload event");
		is_str(json_string_value(json_object_get(j, "product_sku")), "P1", "payload product_sku");
		is_int(json_integer_value(json_object_get(j, "stock")), 5, "payload stock");
		is_int(json_integer_value(json_object_get(j, "previous_stock")), 0,
		       "payload previous_stock");
		is_str(json_string_value(json_object_get(j, "supplier")), "acme", "payload supplier");
		is_str(json_string_value(json_object_get(j, "supplier_sku")), "A1",
		       "payload supplier_sku");
		is_str(json_string_value(json_object_get(j, "source")), "full", "payload source");
		is_str(json_string_value(json_object_get(j, "at")), "1970-01-01T00:00:01Z",
		       "payload at is ISO-8601 UTC");
		json_decref(j);
	}
	is_str(payload, "{\"event\":\"back_in_stock\",\"product_sku\":\"P1\",\"stock\":5,"
	       "\"previous_stock\":0,\"supplier\":\"acme\",\"supplier_sku\":\"A1\","
	       "\"source\":\"full\",\"at\":\"1970-01-01T00:00:01Z\"}",
	       "payload is compact JSON with its keys in order");
	free(payload);

	/* the same value again: nothing written */
	log_rows = q_int(f->db, "SELECT count(*) FROM stock_log");
	outbox_rows = q_int(f->db, "SELECT count(*) FROM outbox");
	rec.changes = 0;
	memset(&n, 0, sizeof(n));
	ok(apply1(&c, "A1", 5, 2000, 0, &n, &e) == 0, "same value applied");
	is_int(n.changed, 0, "unchanged: not counted");
	is_int(rec.changes, 0, "unchanged: no on_change");
	is_int(q_int(f->db, "SELECT count(*) FROM stock_log"), log_rows, "unchanged: no stock_log row");
	is_int(q_int(f->db, "SELECT count(*) FROM outbox"), outbox_rows, "unchanged: no outbox row");
	is_int(q_int(f->db, "SELECT synced_at FROM supplier_links WHERE supplier_sku = 'A1'"), 1000,
	       "unchanged full sync: link row untouched");

	/* a change */
	c.source = SRC_DELTA;
	c.run_id = 7;
	memset(&n, 0, sizeof(n));
	ok(apply1(&c, "A1", 3, 3000, 0, &n, &e) == 0, "change applied");
	is_int(n.changed, 1, "change counted");
	is_int(q_int(f->db, "SELECT prev_stock FROM stock_log ORDER BY id DESC LIMIT 1"), 5, "log prev 5");
	is_int(q_int(f->db, "SELECT new_stock FROM stock_log ORDER BY id DESC LIMIT 1"), 3, "log new 3");
	is_int(q_int(f->db, "SELECT source = 'delta' FROM stock_log ORDER BY id DESC LIMIT 1"), 1,
	       "log source delta");
	is_int(q_int(f->db, "SELECT run_id FROM stock_log ORDER BY id DESC LIMIT 1"), 7, "log run 7");
	is_int(q_int(f->db, "SELECT count(*) FROM outbox"), outbox_rows + 1,
	       "5 -> 3: one stock_changed, no crossing");
	payload = q_str(f->db, "SELECT payload FROM outbox ORDER BY id DESC LIMIT 1");
	like(payload, "\"previous_stock\":5", "payload previous_stock 5");
	like(payload, "\"stock\":3", "payload stock 3");
	like(payload, "\"source\":\"delta\"", "payload source delta");
	like(payload, "\"event\":\"stock_changed\"", "5 -> 3 is a stock_changed event");
	free(payload);
	is_int(rec.last.prev, 5, "on_change prev");
	ok(rec.last.has_prev, "on_change has_prev");
}

static void test_aggregates(struct fixture *f)
{
	struct recorder rec = { 0 };
	struct apply_ctx a = make_ctx(f->db, &f->acme, f->acme_id, &rec);
	struct apply_ctx b = make_ctx(f->db, &f->beta, f->beta_id, &rec);
	struct apply_counts n = { 0 };
	struct error e;
	int64_t o, nw, pid = q_int(f->db, "SELECT id FROM products WHERE sku = 'P1'");
	char sku[16];

	/* A1 = 3 from before; B1 = 4 */
	ok(apply1(&b, "B1", 4, 4000, 0, &n, &e) == 0, "beta B1 = 4");
	is_int(q_product_stock(f->db, "P1"), 7, "sum: 3 + 4");
	ok(products_recompute(f->db, pid, AGG_MAX, &o, &nw, sku, sizeof(sku), 5000, &e) == 0,
	   "recompute max");
	is_int(o, 7, "max: was 7");
	is_int(nw, 4, "max: 4");
	is_str(sku, "P1", "recompute copies the sku");
	ok(products_recompute(f->db, pid, AGG_FIRST, &o, &nw, NULL, 0, 5000, &e) == 0,
	   "recompute first");
	is_int(nw, 4, "first: beta (priority 5) before acme (10)");
	ok(products_recompute(f->db, pid, AGG_SUM, &o, &nw, NULL, 0, 5000, &e) == 0 && nw == 7,
	   "back to sum");
	ok(products_recompute(f->db, 999999, AGG_SUM, &o, &nw, NULL, 0, 5000, &e) < 0,
	   "recompute of a missing product fails");

	/* engine with AGG_FIRST: beta goes to 0, acme's 3 takes over */
	b.agg = AGG_FIRST;
	ok(apply1(&b, "B1", 0, 5000, 0, &n, &e) == 0, "beta B1 = 0 (first)");
	is_int(q_product_stock(f->db, "P1"), 3, "first: beta has 0, acme's 3 counts");
	a.agg = AGG_MAX;
	ok(apply1(&a, "A1", 2, 5000, 0, &n, &e) == 0, "acme A1 = 2 (max)");
	is_int(q_product_stock(f->db, "P1"), 2, "max of 2 and 0");
	a.agg = AGG_SUM;

	/* out of stock: the product crosses to 0 */
	ok(apply1(&a, "A1", 0, 6000, 0, &n, &e) == 0, "acme A1 = 0");
	is_int(q_product_stock(f->db, "P1"), 0, "P1 is 0");
	is_int(q_int(f->db, "SELECT available FROM products WHERE sku = 'P1'"), 0, "P1 unavailable");
	is_int(q_int(f->db, "SELECT count(*) FROM outbox WHERE kind = 'out_of_stock'"), 1,
	       "an out_of_stock event");
	{
		char *p = q_str(f->db, "SELECT payload FROM outbox WHERE kind = 'out_of_stock'");
		like(p, "\"event\":\"out_of_stock\"", "out_of_stock payload event");
		like(p, "\"previous_stock\":2", "out_of_stock previous_stock");
		like(p, "\"stock\":0", "out_of_stock stock");
		free(p);
	}
	is_int(q_int(f->db, "SELECT kind = 'out_of_stock' FROM outbox ORDER BY id DESC LIMIT 1"), 1,
	       "the crossing is the last event: no stock_changed after it");
	{
		int64_t events = q_int(f->db, "SELECT count(*) FROM outbox");

		ok(apply1(&b, "B1", 6, 7000, 0, &n, &e) == 0, "beta B1 = 6");
		is_int(q_int(f->db, "SELECT count(*) FROM outbox WHERE kind = 'back_in_stock'"), 2,
		       "back in stock again");
		is_int(q_int(f->db, "SELECT count(*) FROM outbox"), events + 1,
		       "back in stock is one event");
	}
}

static void test_rules_in_apply(struct fixture *f)
{
	struct recorder rec = { 0 };
	struct supplier_conf s = f->acme;
	struct apply_ctx c = make_ctx(f->db, &s, f->acme_id, &rec);
	struct apply_counts n = { 0 };
	struct error e;
	int64_t logs;

	s.rules.safety_buffer = 2;
	s.rules.cap = 10;
	ok(apply1(&c, "A2", 20, 10000, 0, &n, &e) == 0, "A2 raw 20");
	is_int(q_link_stock(f->db, "A2"), 10, "20 - 2 capped at 10");
	is_int(q_int(f->db, "SELECT raw_stock FROM supplier_links WHERE supplier_sku = 'A2'"), 20,
	       "raw stock kept");
	logs = q_int(f->db, "SELECT count(*) FROM stock_log");
	memset(&n, 0, sizeof(n));
	ok(apply1(&c, "A2", 30, 11000, 0, &n, &e) == 0, "A2 raw 30 (still capped)");
	is_int(n.changed, 0, "raw-only change is not a change");
	is_int(q_int(f->db, "SELECT count(*) FROM stock_log"), logs, "raw-only change not logged");
	is_int(q_int(f->db, "SELECT raw_stock FROM supplier_links WHERE supplier_sku = 'A2'"), 30,
	       "raw stock updated");
	ok(apply1(&c, "A2", 1, 12000, 0, &n, &e) == 0, "A2 raw 1");
	is_int(q_link_stock(f->db, "A2"), 0, "1 - 2 floors at 0");
	is_int(q_product_stock(f->db, "P2"), 0, "P2 0");
}

static void test_unknown(struct fixture *f)
{
	struct recorder rec = { 0 };
	struct apply_ctx c = make_ctx(f->db, &f->acme, f->acme_id, &rec);
	struct apply_counts n = { 0 };
	struct error e;

	ok(apply1(&c, "ZZZ", 4, 20000, 0, &n, &e) == 0, "unknown SKU applied");
	is_int(n.unknown, 1, "counted unknown");
	is_int(n.changed, 0, "not changed");
	is_int(rec.seen, 0, "on_seen not called for unknown");
	ok(apply1(&c, "ZZZ", 6, 21000, 0, &n, &e) == 0, "unknown again");
	is_int(n.unknown, 2, "counted again (counts accumulate)");
	is_int(q_int(f->db, "SELECT times_seen FROM unknown_skus WHERE supplier_sku = 'ZZZ'"), 2,
	       "times_seen 2");
	is_int(q_int(f->db, "SELECT last_stock FROM unknown_skus WHERE supplier_sku = 'ZZZ'"), 6,
	       "last stock 6");
	is_int(q_int(f->db, "SELECT first_seen FROM unknown_skus WHERE supplier_sku = 'ZZZ'"), 20000,
	       "first_seen kept");
	is_int(q_int(f->db, "SELECT last_seen FROM unknown_skus WHERE supplier_sku = 'ZZZ'"), 21000,
	       "last_seen moved");
	ok(links_add(f->db, "PZ", NULL, "acme", "ZZZ", &e) == 0, "link the unknown SKU");
	is_int(q_int(f->db, "SELECT count(*) FROM unknown_skus"), 0, "linking forgets it");
}

static void ordering_case(struct fixture *f, const char *sku, bool by_source_time, bool newer_first,
                          bool one_batch)
{
	struct recorder rec = { 0 };
	struct apply_ctx c = make_ctx(f->db, &f->beta, f->beta_id, &rec);
	struct apply_counts n = { 0 };
	struct error e;
	struct observation older = { sku, 2, 100000, 0, 1 }, newer = { sku, 8, 200000, 0, 2 };
	struct observation two[2];
	const char *how = by_source_time ? "source_time" : "observed_at";
	const char *order = newer_first ? "newer then older" : "older then newer";
	int rc;

	if (by_source_time) {
		/* supplier times decide; observed_at deliberately the other way */
		older.source_time = 50000;
		newer.source_time = 60000;
		older.observed_at = 300000;
		newer.observed_at = 250000;
	}
	two[0] = newer_first ? newer : older;
	two[1] = newer_first ? older : newer;
	if (one_batch) {
		rc = engine_apply(&c, two, 2, &n, &e);
	} else {
		rc = engine_apply(&c, &two[0], 1, &n, &e);
		if (rc == 0)
			rc = engine_apply(&c, &two[1], 1, &n, &e);
	}
	ok(rc == 0, "%s, %s, %s: applied", how, order, one_batch ? "one batch" : "two batches");
	is_int(q_link_stock(f->db, sku), 8, "%s, %s: ends at the newer value", how, order);
	is_int(n.stale, newer_first ? 1 : 0, "%s, %s: stale count", how, order);
	is_int(rec.seen, 2, "%s, %s: on_seen for stale and fresh", how, order);
}

static void test_ordering(struct fixture *f)
{
	struct error e;
	int i;

	for (i = 0; i < 8; i++) {
		char sku[16];

		snprintf(sku, sizeof(sku), "ORD%d", i);
		if (links_add(f->db, sku, NULL, "beta", sku, &e) < 0)
			printf("# %s\n", e.msg);
		ordering_case(f, sku, i & 1, i & 2, i & 4);
	}
	/* equal times are not stale */
	{
		struct recorder rec = { 0 };
		struct apply_ctx c = make_ctx(f->db, &f->beta, f->beta_id, &rec);
		struct apply_counts n = { 0 };

		ok(apply1(&c, "ORD0", 9, 200000, 0, &n, &e) == 0 && n.stale == 0 &&
		   q_link_stock(f->db, "ORD0") == 9, "equal observed_at is not stale");
		ok(apply1(&c, "ORD1", 9, 1, 60000, &n, &e) == 0 && n.stale == 0 &&
		   q_link_stock(f->db, "ORD1") == 9, "equal source_time is not stale");
	}
	/* a fresher unchanged webhook still guards against an older full page */
	{
		struct recorder rec = { 0 };
		struct apply_ctx c = make_ctx(f->db, &f->beta, f->beta_id, &rec);
		struct apply_counts n = { 0 };
		int64_t logs = q_int(f->db, "SELECT count(*) FROM stock_log");

		c.source = SRC_WEBHOOK;
		ok(apply1(&c, "ORD2", 8, 500000, 0, &n, &e) == 0, "webhook with the same value");
		is_int(q_int(f->db, "SELECT count(*) FROM stock_log"), logs, "webhook unchanged: not logged");
		c.source = SRC_FULL;
		ok(apply1(&c, "ORD2", 1, 400000, 0, &n, &e) == 0, "older full page");
		is_int(n.stale, 1, "older full page is stale after an unchanged webhook");
		is_int(q_link_stock(f->db, "ORD2"), 8, "value kept");
	}
}

static void test_dry_run(struct fixture *f)
{
	struct recorder rec = { 0 };
	struct apply_ctx c = make_ctx(f->db, &f->acme, f->acme_id, &rec);
	struct apply_counts n = { 0 };
	struct error e;
	int64_t logs = q_int(f->db, "SELECT count(*) FROM stock_log");
	int64_t events = q_int(f->db, "SELECT count(*) FROM outbox");
	int64_t unknown = q_int(f->db, "SELECT count(*) FROM unknown_skus");
	int64_t before = q_link_stock(f->db, "A1"), pbefore = q_product_stock(f->db, "P1");
	struct observation o[2] = { { "A1", 77, 900000, 0, 1 }, { "NEW-UNKNOWN", 1, 900000, 0, 2 } };

	c.dry_run = true;
	ok(engine_apply(&c, o, 2, &n, &e) == 0, "dry run applied");
	is_int(n.changed, 1, "dry run counts the change");
	is_int(n.unknown, 1, "dry run counts the unknown");
	is_int(rec.changes, 1, "dry run reports the change");
	is_int(rec.last.new_stock, 77, "dry run reports the new value");
	is_int(q_link_stock(f->db, "A1"), before, "dry run: link unchanged");
	is_int(q_product_stock(f->db, "P1"), pbefore, "dry run: product unchanged");
	is_int(q_int(f->db, "SELECT count(*) FROM stock_log"), logs, "dry run: no log");
	is_int(q_int(f->db, "SELECT count(*) FROM outbox"), events, "dry run: no events");
	is_int(q_int(f->db, "SELECT count(*) FROM unknown_skus"), unknown, "dry run: no unknown row");
}

static void test_rollback(struct fixture *f)
{
	struct recorder rec = { 0 };
	struct apply_ctx c = make_ctx(f->db, &f->acme, f->acme_id, &rec);
	struct apply_counts n = { 11, 12, 13, 14, 15 };
	struct error e;
	int64_t logs, events, a1 = q_link_stock(f->db, "A1");
	struct observation o[3] = {
		{ "A1", 31, 1000000, 0, 1 }, { "UNK-RB", 1, 1000000, 0, 2 }, { "A2", 666, 1000000, 0, 3 },
	};

	q_exec(f->db, "CREATE TRIGGER boom BEFORE INSERT ON stock_log WHEN NEW.new_stock = 666 "
	              "BEGIN SELECT RAISE(ABORT, 'boom'); END");
	logs = q_int(f->db, "SELECT count(*) FROM stock_log");
	events = q_int(f->db, "SELECT count(*) FROM outbox");
	ok(engine_apply(&c, o, 3, &n, &e) < 0, "an error mid-batch fails the batch");
	like(e.msg, "item 3 (SKU A2)", "error names the item and SKU");
	like(e.msg, "boom", "error carries the SQLite message");
	like(e.msg, dbpath, "error names the database");
	is_int(q_link_stock(f->db, "A1"), a1, "earlier item rolled back");
	is_int(q_int(f->db, "SELECT count(*) FROM stock_log"), logs, "no log rows kept");
	is_int(q_int(f->db, "SELECT count(*) FROM outbox"), events, "no events kept");
	is_int(q_int(f->db, "SELECT count(*) FROM unknown_skus WHERE supplier_sku = 'UNK-RB'"), 0,
	       "no unknown row kept");
	ok(n.seen == 11 && n.changed == 12 && n.unknown == 13 && n.stale == 14 && n.zeroed == 15,
	   "counts untouched on error");
	ok(sqlite3_get_autocommit(db_handle(f->db)), "no transaction left open");
	q_exec(f->db, "DROP TRIGGER boom");

	/* bad observations are refused, not turned into 0 */
	o[0].raw_stock = -1;
	ok(engine_apply(&c, o, 1, &n, &e) < 0, "negative raw stock refused");
	like(e.msg, "negative stock -1", "negative message");
	o[0].supplier_sku = "";
	ok(engine_apply(&c, o, 1, &n, &e) < 0, "empty SKU refused");

	/* the engine works after a failure */
	memset(&n, 0, sizeof(n));
	ok(apply1(&c, "A1", 31, 1000000, 0, &n, &e) == 0 && n.changed == 1, "applies after an error");
}

static void test_zero(struct fixture *f)
{
	struct recorder rec = { 0 };
	struct apply_ctx c = make_ctx(f->db, &f->acme, f->acme_id, &rec);
	struct apply_counts n = { 0 };
	struct error e;
	int64_t ids[3], later;

	ids[0] = q_int(f->db, "SELECT id FROM supplier_links WHERE supplier_sku = 'A1'");
	ids[1] = q_int(f->db, "SELECT id FROM supplier_links WHERE supplier_sku = 'A2'");
	ids[2] = 987654;    /* gone */
	ok(q_link_stock(f->db, "A1") > 0, "A1 has stock before zeroing");
	ok(engine_zero_links(&c, ids, 3, &n, &e) == 0, "zero links");
	is_int(n.zeroed, 1, "one zeroed (A2 was already 0, the third is gone)");
	is_int(n.changed, 0, "zeroing is not counted as changed");
	is_int(n.seen, 0, "zeroing is not counted as seen");
	is_int(q_link_stock(f->db, "A1"), 0, "A1 is 0");
	is_int(q_int(f->db, "SELECT new_stock FROM stock_log ORDER BY id DESC LIMIT 1"), 0,
	       "zeroing is logged");
	is_int(q_int(f->db, "SELECT prev_stock FROM stock_log ORDER BY id DESC LIMIT 1"), 31,
	       "zeroing logs the previous value");
	is_int(rec.changes, 1, "on_change for zeroing");

	/* a link synced after the feed was fetched is left alone (zeroing
	 * stamped A1 with the wall clock, so work from there) */
	later = time_now_ms() + 60000;
	ok(apply1(&c, "A1", 5, later, 0, &n, &e) == 0 && q_link_stock(f->db, "A1") == 5,
	   "A1 = 5 a minute from now");
	memset(&n, 0, sizeof(n));
	c.zero_as_of = later - 1;
	ok(engine_zero_links(&c, ids, 1, &n, &e) == 0, "zero with an older feed time");
	is_int(n.stale, 1, "counted stale");
	is_int(q_link_stock(f->db, "A1"), 5, "fresher value kept");
}

static void test_runs(struct fixture *f)
{
	struct error e;
	struct run_stats st = { 10, 100, 1, 2048, 10, 3, 1, 0, 0, 0 };
	int64_t r1, r2;

	ok(runs_begin(f->db, f->acme_id, "full", "cli", false, &r1, &e) == 0, "run begins");
	is_int(q_int(f->db, "SELECT pid FROM sync_runs WHERE id = %s", "1"), getpid(), "pid stored");
	is_int(q_int(f->db, "SELECT status = 'running' FROM sync_runs WHERE id = 1"), 1, "running");
	ok(runs_update(f->db, r1, &st, &e) == 0, "run progress");
	is_int(q_int(f->db, "SELECT done FROM sync_runs WHERE id = 1"), 10, "done stored");
	ok(runs_finish(f->db, r1, "succeeded", &st, NULL, &e) == 0, "run finished");
	is_int(runs_last_seen(f->db, f->acme_id, "full"), 10, "last seen of the full run");
	is_int(runs_last_seen(f->db, f->acme_id, "delta"), 0, "no delta run");
	ok(runs_begin(f->db, f->acme_id, "full", "daemon", false, &r2, &e) == 0, "second run");
	is_int(runs_mark_orphans(f->db, f->acme_id, 0, &e), 1, "one orphan marked");
	{
		char *msg = q_str(f->db, "SELECT error FROM sync_runs ORDER BY id DESC LIMIT 1");
		char *want = xasprintf("process %d died", (int)getpid());
		is_str(msg, want, "orphan note");
		free(msg);
		free(want);
	}
	ok(runs_finish(f->db, r2, "nonsense", &st, NULL, &e) < 0, "bad status refused by CHECK");
	ok(suppliers_set_last(f->db, f->acme_id, "full", 123, "succeeded", &e) == 0, "set last full");
	is_int(q_int(f->db, "SELECT last_full_at FROM suppliers WHERE slug = 'acme'"), 123, "last_full_at");
	ok(suppliers_set_last(f->db, f->acme_id, "weekly", 123, "succeeded", &e) < 0, "bad kind refused");
	{
		int64_t w = -1;

		ok(suppliers_get_watermark(f->db, f->acme_id, &w, &e) == 0 && w == 0, "no watermark yet");
		ok(suppliers_set_watermark(f->db, f->acme_id, 777, &e) == 0, "set watermark");
		ok(suppliers_get_watermark(f->db, f->acme_id, &w, &e) == 0 && w == 777, "watermark 777");
	}
	is_int(receipts_record(f->db, f->acme_id, "evt-1", 1, &e), 1, "receipt recorded");
	is_int(receipts_record(f->db, f->acme_id, "evt-1", 2, &e), 0, "duplicate receipt seen");
}

static void test_import(struct fixture *f)
{
	struct error e;
	char *good = tmp_path("catalogue.csv");
	char *bad = tmp_path("bad.csv");
	char *want;
	int64_t added = -1;

	tmp_write_text("catalogue.csv",
	               "\xEF\xBB\xBFSupplier_SKU,product_sku,extra,SUPPLIER_SLUG,product_name\n"
	               "IA-1,IP-1,x,acme,\"Widget, large\"\n"
	               "\n"
	               "IB-1,IP-1,x,beta,\n"
	               "\"IA-2\",IP-2,x,acme,\"Two\nlines\"\n"
	               "IA-3,IP-3,x,acme,Three\n");
	ok(links_import_csv(f->db, good, &added, &e) == 0, "import succeeds");
	if (added < 0)
		printf("# %s\n", e.msg);
	is_int(added, 4, "4 rows imported");
	{
		char *n = q_str(f->db, "SELECT name FROM products WHERE sku = 'IP-1'");
		is_str(n, "Widget, large", "quoted name with a comma");
		free(n);
		n = q_str(f->db, "SELECT name FROM products WHERE sku = 'IP-2'");
		is_str(n, "Two\nlines", "quoted name across lines");
		free(n);
	}
	is_int(q_int(f->db, "SELECT count(*) FROM supplier_links l JOIN products p ON p.id = "
	                    "l.product_id WHERE p.sku = 'IP-1'"), 2, "IP-1 has two suppliers");

	tmp_write_text("bad.csv",
	               "product_sku,product_name,supplier_slug,supplier_sku\n"
	               "BP-1,One,acme,BA-1\n"
	               "\"BP-2\",\"Two\nlines\",acme,BA-2\n"
	               "BP-3,Three,nope,BA-3\n");
	ok(links_import_csv(f->db, bad, &added, &e) < 0, "bad supplier fails the import");
	want = xasprintf("%s:5: unknown supplier 'nope'", bad);
	like(e.msg, want, "error names FILE:LINE (line 5, after a two-line row)");
	free(want);
	is_int(q_int(f->db, "SELECT count(*) FROM products WHERE sku LIKE 'BP-%%'"), 0,
	       "nothing of the failed import kept");

	tmp_write_text("bad.csv", "product_sku,product_name,supplier_slug,supplier_sku\nBP-1,One,acme,\n");
	ok(links_import_csv(f->db, bad, &added, &e) < 0, "empty supplier sku fails");
	want = xasprintf("%s:2: empty supplier_sku", bad);
	is_str(e.msg, want, "empty column message");
	free(want);

	tmp_write_text("bad.csv", "product_sku,product_name,supplier_slug,supplier_sku\nBP-1,One\n");
	ok(links_import_csv(f->db, bad, &added, &e) < 0, "short row fails");
	want = xasprintf("%s:2: missing column supplier_slug", bad);
	like(e.msg, want, "short row message");
	free(want);

	tmp_write_text("bad.csv", "sku,name,supplier\nBP-1,One,acme\n");
	ok(links_import_csv(f->db, bad, &added, &e) < 0, "bad header fails");
	want = xasprintf("%s:1: missing column product_sku", bad);
	like(e.msg, want, "header message names line 1");
	free(want);

	tmp_write_text("bad.csv", "product_sku,supplier_slug,supplier_sku\nBP-1,acme,\"BA-1\n");
	ok(links_import_csv(f->db, bad, &added, &e) < 0, "unterminated quote fails");
	like(e.msg, bad, "syntax error names the file");

	/* inside the caller's transaction: a savepoint, the caller's work survives */
	ok(db_begin(f->db, &e) == 0, "caller's transaction");
	q_exec(f->db, "INSERT INTO products (sku) VALUES ('OUTER')");
	tmp_write_text("bad.csv", "product_sku,supplier_slug,supplier_sku\nSP-1,acme,SA-1\nSP-2,nope,SA-2\n");
	ok(links_import_csv(f->db, bad, &added, &e) < 0, "failing import inside a transaction");
	ok(!sqlite3_get_autocommit(db_handle(f->db)), "the caller's transaction is still open");
	is_int(q_int(f->db, "SELECT count(*) FROM products WHERE sku IN ('OUTER', 'SP-1')"), 1,
	       "import undone, caller's row kept");
	ok(db_commit(f->db, &e) == 0, "caller commits");

	ok(links_import_csv(f->db, "/nonexistent/x.csv", &added, &e) < 0, "missing file fails");
	like(e.msg, "/nonexistent/x.csv", "names the file");
	ok(sqlite3_get_autocommit(db_handle(f->db)), "no transaction left open");

	unlink(good);
	unlink(bad);
	free(good);
	free(bad);
}

/* ---- one event per product change, from one place ---- */

static void test_product_event(struct fixture *f)
{
	struct error e;
	int64_t pid = q_int(f->db, "SELECT id FROM products WHERE sku = 'P1'");
	int64_t events = q_int(f->db, "SELECT count(*) FROM outbox");
	json_t *j;
	char *p;

	ok(engine_product_event(f->db, pid, "P1", 4, 4, "acme", "A1", "manual", 1000, 2000, &e) == 0,
	   "no change");
	is_int(q_int(f->db, "SELECT count(*) FROM outbox"), events, "no change, no event");
	ok(engine_product_event(f->db, pid, "P1", 4, 9, "acme", "A1", "check", 1000, 2000, &e) == 0,
	   "4 -> 9");
	is_int(q_int(f->db, "SELECT count(*) FROM outbox"), events + 1, "one event");
	is_int(q_int(f->db, "SELECT kind = 'stock_changed' FROM outbox ORDER BY id DESC LIMIT 1"), 1,
	       "4 -> 9 is stock_changed");
	is_int(q_int(f->db, "SELECT created_at FROM outbox ORDER BY id DESC LIMIT 1"), 2000,
	       "created_at as given");
	is_int(q_int(f->db, "SELECT next_attempt_at FROM outbox ORDER BY id DESC LIMIT 1"), 2000,
	       "due at once");
	ok(engine_product_event(f->db, pid, "P1", 9, 0, "acme", "A1", "check", 3000, 0, &e) == 0,
	   "9 -> 0");
	is_int(q_int(f->db, "SELECT kind = 'out_of_stock' FROM outbox ORDER BY id DESC LIMIT 1"), 1,
	       "9 -> 0 is out_of_stock");
	is_int(q_int(f->db, "SELECT created_at FROM outbox ORDER BY id DESC LIMIT 1"), 3000,
	       "created_at 0 means at");

	/* quotes, backslashes, control characters and bytes that are not
	 * UTF-8 still give valid JSON */
	ok(engine_product_event(f->db, pid, "P\"1\\\n\x01", 0, 2, "ac\xC3\xA9me",
	                        "bad\xFF\xC3(\xE2\x82\xAC", "manual", 1500, 0, &e) == 0,
	   "odd strings");
	p = q_str(f->db, "SELECT payload FROM outbox ORDER BY id DESC LIMIT 1");
	j = p ? json_loads(p, 0, NULL) : NULL;
	ok(j != NULL, "payload with odd strings is valid JSON");
	if (j) {
		is_str(json_string_value(json_object_get(j, "event")), "back_in_stock", "0 -> 2");
		is_str(json_string_value(json_object_get(j, "product_sku")), "P\"1\\\n\x01",
		       "escapes round-trip");
		is_str(json_string_value(json_object_get(j, "supplier")), "ac\xC3\xA9me",
		       "valid UTF-8 kept");
		is_str(json_string_value(json_object_get(j, "supplier_sku")),
		       "bad\xEF\xBF\xBD\xEF\xBF\xBD(\xE2\x82\xAC",
		       "each bad byte becomes U+FFFD, the rest kept");
		is_str(json_string_value(json_object_get(j, "at")), "1970-01-01T00:00:01.500Z", "at");
		json_decref(j);
	}
	free(p);
	q_exec(f->db, "DELETE FROM outbox WHERE created_at IN (1500, 2000, 3000)");
}

/* ---- history outlives links ---- */

static int hist_cb(void *ud, const struct report_history_row *r)
{
	int *n = ud;

	if (r->new_stock == 13 && str_eq(r->product_sku, "HP-1"))
		(*n)++;
	return 0;
}

static void test_history_survives(struct fixture *f)
{
	struct recorder rec = { 0 };
	struct apply_ctx c = make_ctx(f->db, &f->acme, f->acme_id, &rec);
	struct apply_counts n = { 0 };
	struct report_history_filter hf;
	struct link_outcome o;
	struct stocklog_entry le;
	struct error e;
	int64_t lid;
	int found = 0;

	ok(links_add(f->db, "HP-1", NULL, "acme", "HA-1", &e) == 0, "link HP-1 <- acme HA-1");
	lid = q_int(f->db, "SELECT id FROM supplier_links WHERE supplier_sku = 'HA-1'");
	ok(apply1(&c, "HA-1", 13, 3000000, 0, &n, &e) == 0, "HA-1 = 13");
	is_int(q_int(f->db, "SELECT supplier_id FROM stock_log WHERE supplier_sku = 'HA-1'"),
	       f->acme_id, "the log row keeps the supplier id");

	/* callers that leave the supplier out get it from the link */
	memset(&le, 0, sizeof(le));
	le.link_id = lid;
	le.product_id = q_int(f->db, "SELECT id FROM products WHERE sku = 'HP-1'");
	le.new_stock = 13;
	le.source = "manual";
	le.recorded_at = 3000001;
	ok(stocklog_append(f->db, &le, &e) == 0, "stocklog_append without supplier fields");
	is_int(q_int(f->db, "SELECT count(*) FROM stock_log WHERE supplier_sku = 'HA-1' AND "
	                    "supplier_id = (SELECT id FROM suppliers WHERE slug = 'acme')"), 2,
	       "supplier id and sku filled in from the link");

	ok(engine_link_remove(f->db, NULL, "acme", "HA-1", &o, &e) == 0, "remove the link");
	is_int(q_int(f->db, "SELECT count(*) FROM supplier_links WHERE supplier_sku = 'HA-1'"), 0,
	       "link gone");
	is_int(q_int(f->db, "SELECT count(*) FROM stock_log WHERE supplier_sku = 'HA-1'"), 2,
	       "its history stays");
	is_int(q_int(f->db, "SELECT count(*) FROM stock_log WHERE supplier_sku = 'HA-1' "
	                    "AND link_id IS NULL"), 2, "with link_id NULL");
	is_int(q_int(f->db, "SELECT count(*) FROM stock_log l JOIN suppliers s ON s.id = l.supplier_id "
	                    "WHERE l.supplier_sku = 'HA-1' AND s.slug = 'acme'"), 2,
	       "still naming supplier acme");
	memset(&hf, 0, sizeof(hf));
	hf.sku = "HP-1";
	hf.limit = 10;
	ok(report_history(f->db, &hf, hist_cb, &found, NULL, NULL, &e) == 0, "history query runs");
	is_int(found, 2, "the history still lists the removed link's changes");

	/* a link removed and linked again starts with no stock */
	ok(engine_link_add(f->db, NULL, "HP-1", NULL, "acme", "HA-1", &o, &e) == 0, "relink");
	ok(!o.existed && !o.has_stock, "a new link, no stock yet");
	is_int(q_int(f->db, "SELECT count(*) FROM stock_log WHERE link_id = (SELECT id FROM "
	                    "supplier_links WHERE supplier_sku = 'HA-1')"), 0,
	       "old history not attached to the new link");
}

/* ---- webhook receipts inside the apply transaction ---- */

static void test_receipt(struct fixture *f)
{
	struct recorder rec = { 0 };
	struct apply_ctx c = make_ctx(f->db, &f->acme, f->acme_id, &rec);
	struct apply_counts n = { 0 };
	struct observation o = { "HA-1", 21, 4000000, 0, 1 };
	struct error e;
	int64_t logs, events;

	c.source = SRC_WEBHOOK;
	c.receipt_event_id = "delivery-1";
	is_int(engine_apply(&c, &o, 1, &n, &e), 0, "first delivery applies");
	is_int(n.changed, 1, "counted");
	is_int(q_link_stock(f->db, "HA-1"), 21, "value stored");
	is_int(q_int(f->db, "SELECT count(*) FROM webhook_receipts WHERE event_id = 'delivery-1'"), 1,
	       "receipt recorded");

	logs = q_int(f->db, "SELECT count(*) FROM stock_log");
	events = q_int(f->db, "SELECT count(*) FROM outbox");
	o.raw_stock = 50;
	o.observed_at = 4000100;
	rec.changes = 0;
	memset(&n, 0, sizeof(n));
	n.seen = 5;
	is_int(engine_apply(&c, &o, 1, &n, &e), 1, "the same event id again returns 1");
	is_int(n.seen, 5, "duplicate: counts untouched");
	is_int(n.changed, 0, "duplicate: nothing changed");
	is_int(rec.changes, 0, "duplicate: no on_change");
	is_int(q_link_stock(f->db, "HA-1"), 21, "duplicate: value kept");
	is_int(q_int(f->db, "SELECT synced_at FROM supplier_links WHERE supplier_sku = 'HA-1'"),
	       4000000, "duplicate: link clock kept");
	is_int(q_int(f->db, "SELECT count(*) FROM stock_log"), logs, "duplicate: no log");
	is_int(q_int(f->db, "SELECT count(*) FROM outbox"), events, "duplicate: no event");
	ok(sqlite3_get_autocommit(db_handle(f->db)), "duplicate: no transaction left open");

	/* another supplier may use the same id */
	{
		struct apply_ctx b = make_ctx(f->db, &f->beta, f->beta_id, &rec);

		b.receipt_event_id = "delivery-1";
		is_int(engine_apply(&b, NULL, 0, &n, &e), 0, "ids are per supplier");
	}
	/* a failing batch does not keep its receipt: the retry applies */
	q_exec(f->db, "CREATE TRIGGER boom BEFORE INSERT ON stock_log WHEN NEW.new_stock = 666 "
	              "BEGIN SELECT RAISE(ABORT, 'boom'); END");
	c.receipt_event_id = "delivery-2";
	o.raw_stock = 666;
	ok(engine_apply(&c, &o, 1, &n, &e) < 0, "a failing delivery");
	is_int(q_int(f->db, "SELECT count(*) FROM webhook_receipts WHERE event_id = 'delivery-2'"), 0,
	       "its receipt is rolled back");
	q_exec(f->db, "DROP TRIGGER boom");
	is_int(engine_apply(&c, &o, 1, &n, &e), 0, "the retried delivery applies");
	is_int(q_link_stock(f->db, "HA-1"), 666, "retried value stored");
	/* dry runs record nothing */
	c.receipt_event_id = "delivery-3";
	c.dry_run = true;
	is_int(engine_apply(&c, &o, 1, &n, &e), 0, "dry run with an id");
	is_int(q_int(f->db, "SELECT count(*) FROM webhook_receipts WHERE event_id = 'delivery-3'"), 0,
	       "dry run: no receipt kept");
	/* no id: no idempotency */
	c.dry_run = false;
	c.receipt_event_id = "";
	is_int(engine_apply(&c, &o, 1, &n, &e), 0, "empty id: applied");
	is_int(engine_apply(&c, &o, 1, &n, &e), 0, "empty id again: applied again");
}

/* ---- the catalogue: link add / remove ---- */

static void test_catalogue(struct fixture *f)
{
	struct recorder rec = { 0 };
	struct apply_ctx c = make_ctx(f->db, &f->acme, f->acme_id, &rec);
	struct apply_counts n = { 0 };
	struct link_outcome o;
	struct conf conf;
	struct error e;
	int64_t events;
	char *p;

	memset(&conf, 0, sizeof(conf));
	conf.aggregate = AGG_SUM;

	ok(unknown_record(f->db, f->acme_id, "CA-1", 3, 1, &e) == 0, "CA-1 seen unknown");
	events = q_int(f->db, "SELECT count(*) FROM outbox");
	ok(engine_link_add(f->db, &conf, "CP-1", "Cat one", "acme", "CA-1", &o, &e) == 0,
	   "link add");
	ok(!o.existed && !o.moved && !o.has_stock, "a new link without stock");
	is_str(o.product_sku, "CP-1", "outcome names the product");
	ok(o.link_id > 0 && o.product_id > 0, "outcome ids");
	is_int(q_int(f->db, "SELECT count(*) FROM unknown_skus WHERE supplier_sku = 'CA-1'"), 0,
	       "no longer unknown");
	is_int(q_int(f->db, "SELECT count(*) FROM outbox"), events, "no stock yet: no event");
	ok(sqlite3_get_autocommit(db_handle(f->db)), "committed");

	ok(apply1(&c, "CA-1", 6, 5000000, 0, &n, &e) == 0, "CA-1 = 6");
	is_int(q_product_stock(f->db, "CP-1"), 6, "CP-1 = 6");
	ok(engine_link_add(f->db, &conf, "CP-1", NULL, "acme", "CA-1", &o, &e) == 0, "add again");
	ok(o.existed && !o.moved && o.has_stock, "existed, not moved");
	is_int(o.stock, 6, "stock unchanged");
	is_int(o.prev, 6, "prev unchanged");

	/* moving the link takes its stock along: one event per product */
	events = q_int(f->db, "SELECT count(*) FROM outbox");
	ok(engine_link_add(f->db, &conf, "CP-2", "Cat two", "acme", "CA-1", &o, &e) == 0, "move");
	ok(o.existed && o.moved, "moved");
	is_str(o.old_product_sku, "CP-1", "from CP-1");
	is_str(o.product_sku, "CP-2", "to CP-2");
	ok(o.old_prev == 6 && o.old_stock == 0, "CP-1 6 -> 0");
	ok(o.prev == 0 && o.stock == 6, "CP-2 0 -> 6");
	is_int(q_product_stock(f->db, "CP-1"), 0, "CP-1 stored 0");
	is_int(q_product_stock(f->db, "CP-2"), 6, "CP-2 stored 6");
	is_int(q_int(f->db, "SELECT count(*) FROM outbox"), events + 2, "two events, one per product");
	p = q_str(f->db, "SELECT payload FROM outbox WHERE kind = 'out_of_stock' ORDER BY id DESC "
	                 "LIMIT 1");
	like(p, "\"product_sku\":\"CP-1\"", "CP-1 out of stock");
	like(p, "\"source\":\"manual\"", "source manual");
	like(p, "\"supplier\":\"acme\",\"supplier_sku\":\"CA-1\"", "names the link");
	free(p);
	p = q_str(f->db, "SELECT payload FROM outbox ORDER BY id DESC LIMIT 1");
	like(p, "\"event\":\"back_in_stock\",\"product_sku\":\"CP-2\"", "CP-2 back in stock");
	free(p);

	/* aggregate from the configuration */
	ok(links_add(f->db, "CP-2", NULL, "beta", "CB-1", &e) == 0, "beta CB-1 -> CP-2");
	{
		struct apply_ctx b = make_ctx(f->db, &f->beta, f->beta_id, &rec);

		b.agg = AGG_MAX;
		ok(apply1(&b, "CB-1", 10, 5000000, 0, &n, &e) == 0, "CB-1 = 10 (max)");
	}
	is_int(q_product_stock(f->db, "CP-2"), 10, "max(6, 10)");
	conf.aggregate = AGG_MAX;
	ok(engine_link_remove(f->db, &conf, "beta", "CB-1", &o, &e) == 0, "remove CB-1 (max)");
	ok(o.prev == 10 && o.stock == 6, "max: 10 -> 6");
	is_str(o.product_sku, "CP-2", "remove names the product");

	/* errors */
	ok(engine_link_remove(f->db, &conf, "beta", "CB-1", &o, &e) < 0, "remove again fails");
	is_int(e.kind, ERRK_USAGE, "a usage error");
	is_str(e.msg, "no such link: supplier beta has no SKU \"CB-1\" linked", "no such link");
	ok(engine_link_remove(f->db, &conf, "nope", "CB-1", &o, &e) < 0, "unknown supplier");
	is_int(e.kind, ERRK_USAGE, "unknown supplier: usage");
	like(e.msg, "unknown supplier 'nope'", "unknown supplier message");
	ok(engine_link_add(f->db, &conf, "CP-3", NULL, "nope", "X", &o, &e) < 0, "add: unknown supplier");
	ok(engine_link_add(f->db, &conf, "", NULL, "acme", "X", &o, &e) < 0, "add: empty product");
	is_int(e.kind, ERRK_USAGE, "empty sku: usage");
	{
		char longsku[300];

		memset(longsku, 'x', sizeof(longsku) - 1);
		longsku[sizeof(longsku) - 1] = '\0';
		ok(engine_link_add(f->db, &conf, longsku, NULL, "acme", "X", &o, &e) < 0,
		   "add: a SKU over 255 bytes");
		like(e.msg, "longer than 255 bytes", "long sku message");
	}
	ok(sqlite3_get_autocommit(db_handle(f->db)), "no transaction left open after errors");

	/* a database error rolls the whole change back */
	q_exec(f->db, "CREATE TRIGGER boom BEFORE INSERT ON outbox "
	              "BEGIN SELECT RAISE(ABORT, 'boom'); END");
	ok(engine_link_add(f->db, &conf, "CP-1", NULL, "acme", "CA-1", &o, &e) < 0,
	   "event failure fails the move");
	like(e.msg, "boom", "with the database's message");
	q_exec(f->db, "DROP TRIGGER boom");
	is_int(q_int(f->db, "SELECT p.sku = 'CP-2' FROM supplier_links l JOIN products p ON "
	                    "p.id = l.product_id WHERE l.supplier_sku = 'CA-1'"), 1,
	       "the link stayed where it was");
	is_int(q_product_stock(f->db, "CP-2"), 6, "CP-2 kept its stock");
	ok(sqlite3_get_autocommit(db_handle(f->db)), "rolled back");
}

/* ---- a page of changes: writes several rows to a statement ---- */

#define BULK_N 1100     /* more than the engine holds before writing (1024) */

static void test_bulk(struct fixture *f)
{
	struct supplier_conf bulk = make_supplier("bulk", 50);
	struct recorder rec = { 0 };
	struct apply_ctx c;
	struct apply_counts n = { 0 };
	struct observation *o = xcalloc(BULK_N, sizeof(*o));
	char **skus = xcalloc(BULK_N, sizeof(*skus));
	struct error e;
	int64_t bid, log0, ev0, ids[2], stocks[2], last[2];
	char *p;
	int i, bad;

	if (suppliers_upsert(f->db, &bulk, &bid, &e) < 0) {
		ok(0, "bulk supplier: %s", e.msg);
		goto out;
	}
	q_exec(f->db, "BEGIN");
	for (i = 0; i < BULK_N; i++) {
		char psku[32];

		skus[i] = xasprintf("BULK-%04d", i);
		snprintf(psku, sizeof(psku), "PB-%04d", i);
		if (links_add(f->db, psku, NULL, "bulk", skus[i], &e) < 0) {
			ok(0, "link %s: %s", skus[i], e.msg);
			q_exec(f->db, "ROLLBACK");
			goto out;
		}
		o[i].supplier_sku = skus[i];
		o[i].raw_stock = i % 7;       /* 0 keeps products at 0: no event */
		o[i].observed_at = 5000000;
		o[i].position = i + 1;
	}
	q_exec(f->db, "COMMIT");
	c = make_ctx(f->db, &bulk, bid, &rec);
	c.run_id = 4242;
	log0 = q_int(f->db, "SELECT coalesce(max(id), 0) FROM stock_log");
	ev0 = q_int(f->db, "SELECT coalesce(max(id), 0) FROM outbox");

	/* a failing row deep in a chunk of many: the batch fails, names it */
	q_exec(f->db, "CREATE TRIGGER boom BEFORE INSERT ON stock_log WHEN "
	              "NEW.supplier_sku = 'BULK-0100' BEGIN SELECT RAISE(ABORT, 'boom'); END");
	ok(engine_apply(&c, o, BULK_N, &n, &e) < 0, "bulk: a failing log row fails the batch");
	like(e.msg, "item 101 (SKU BULK-0100)", "bulk: the error names the failing item");
	like(e.msg, "boom", "bulk: with the SQLite message");
	q_exec(f->db, "DROP TRIGGER boom");
	is_int(q_int(f->db, "SELECT count(*) FROM stock_log WHERE id > %lld", (long long)log0), 0,
	       "bulk: no log row kept");
	is_int(q_int(f->db, "SELECT count(*) FROM supplier_links WHERE supplier_stock IS NOT NULL"
	             " AND supplier_id = %lld", (long long)bid), 0, "bulk: no link kept");
	q_exec(f->db, "CREATE TRIGGER boom BEFORE INSERT ON outbox WHEN "
	              "NEW.payload LIKE '%\"PB-0078\"%' BEGIN SELECT RAISE(ABORT, 'bang'); END");
	ok(engine_apply(&c, o, BULK_N, &n, &e) < 0, "bulk: a failing event fails the batch");
	like(e.msg, "item 79 (SKU BULK-0078): product PB-0078: back_in_stock event", "bulk: names it");
	like(e.msg, "bang", "bulk: with the SQLite message");
	q_exec(f->db, "DROP TRIGGER boom");
	is_int(q_int(f->db, "SELECT count(*) FROM outbox WHERE id > %lld", (long long)ev0), 0,
	       "bulk: no event kept");
	ok(sqlite3_get_autocommit(db_handle(f->db)), "bulk: no transaction left open");

	/* the whole page, as one item at a time would write it */
	memset(&n, 0, sizeof(n));
	rec.changes = 0;
	ok(engine_apply(&c, o, BULK_N, &n, &e) == 0, "bulk: %d items applied", BULK_N);
	is_int(n.changed, BULK_N, "bulk: all changed");
	is_int(rec.changes, BULK_N, "bulk: on_change for each");
	is_int(q_int(f->db, "SELECT count(*) FROM stock_log WHERE id > %lld", (long long)log0), BULK_N,
	       "bulk: one log row each");
	bad = (int)q_int(f->db, "SELECT count(*) FROM stock_log WHERE id > %lld AND ("
	                 " supplier_sku <> printf('BULK-%%04d', id - %lld - 1)"
	                 " OR new_stock <> (id - %lld - 1) %% 7 OR prev_stock IS NOT NULL"
	                 " OR source <> 'full' OR run_id <> 4242 OR supplier_id <> %lld"
	                 " OR link_id <> (SELECT id FROM supplier_links WHERE supplier_sku ="
	                 "   stock_log.supplier_sku)"
	                 " OR product_id <> (SELECT product_id FROM supplier_links WHERE"
	                 "   supplier_sku = stock_log.supplier_sku)"
	                 " OR recorded_at <> (SELECT min(recorded_at) FROM stock_log WHERE id > %lld)"
	                 " OR source_time IS NOT NULL)",
	                 (long long)log0, (long long)log0, (long long)log0, (long long)bid,
	                 (long long)log0);
	is_int(bad, 0, "bulk: log rows in item order with every column right");
	is_int(q_int(f->db, "SELECT count(*) FROM outbox WHERE id > %lld", (long long)ev0),
	       BULK_N - (BULK_N + 6) / 7, "bulk: one event per product that changed");
	bad = (int)q_int(f->db, "SELECT count(*) FROM (SELECT o.id, p.sku, o.payload, o.kind,"
	                 " o.product_id, p.id AS pid, row_number() OVER (ORDER BY o.id) AS r"
	                 " FROM outbox o JOIN products p ON p.id = o.product_id WHERE o.id > %lld)"
	                 " WHERE kind <> 'back_in_stock' OR payload NOT LIKE"
	                 " '{\"event\":\"back_in_stock\",\"product_sku\":\"' || sku || '\",%%'"
	                 " OR sku <> printf('PB-%%04d', r - 1 + (r - 1) / 6 + 1)",
	                 (long long)ev0);
	is_int(bad, 0, "bulk: events in item order, each for its product");
	p = q_str(f->db, "SELECT payload FROM outbox WHERE id > %lld ORDER BY id LIMIT 1",
	          (long long)ev0);
	is_str(p, "{\"event\":\"back_in_stock\",\"product_sku\":\"PB-0001\",\"stock\":1,"
	          "\"previous_stock\":0,\"supplier\":\"bulk\",\"supplier_sku\":\"BULK-0001\","
	          "\"source\":\"full\",\"at\":\"1970-01-01T01:23:20Z\"}", "bulk: payload");
	free(p);
	is_int(q_product_stock(f->db, "PB-1099"), 1099 % 7, "bulk: products recomputed");

	/* two links of one product in one batch: two events, the second from
	 * the figure the first left */
	if (links_add(f->db, "PB-0001", NULL, "bulk", "BULK-TWIN", &e) < 0)
		ok(0, "twin link: %s", e.msg);
	ev0 = q_int(f->db, "SELECT max(id) FROM outbox");
	o[0].supplier_sku = "BULK-0001";
	o[0].raw_stock = 3;
	o[0].observed_at = 6000000;
	o[1].supplier_sku = "BULK-TWIN";
	o[1].raw_stock = 4;
	o[1].observed_at = 6000000;
	ok(engine_apply(&c, o, 2, &n, &e) == 0, "bulk: two links of one product");
	p = q_str(f->db, "SELECT group_concat(kind || ':' || json_extract(payload,"
	          " '$.previous_stock') || '>' || json_extract(payload, '$.stock'), ' ')"
	          " FROM (SELECT * FROM outbox WHERE id > %lld ORDER BY id)", (long long)ev0);
	is_str(p, "stock_changed:1>3 stock_changed:3>7", "bulk: one event per link change");
	free(p);
	is_int(q_product_stock(f->db, "PB-0001"), 7, "bulk: product is the sum");

	/* engine_set_links_if reads stock_log: the batch's own rows count */
	ids[0] = ids[1] = q_int(f->db, "SELECT id FROM supplier_links WHERE supplier_sku = 'BULK-0002'");
	last[0] = last[1] = q_int(f->db, "SELECT max(id) FROM stock_log WHERE link_id = %lld",
	                          (long long)ids[0]);
	stocks[0] = 20;
	stocks[1] = 30;
	memset(&n, 0, sizeof(n));
	c.source = SRC_MANUAL;
	ok(engine_set_links_if(&c, ids, stocks, last, 2, &n, &e) == 0, "bulk: set one link twice");
	is_int(n.changed, 1, "bulk: the first is set");
	is_int(n.stale, 1, "bulk: the second sees the first's row and is stale");
	is_int(q_link_stock(f->db, "BULK-0002"), 20, "bulk: the first value stays");
out:
	for (i = 0; i < BULK_N; i++)
		free(skus[i]);
	free(skus);
	free(o);
}

/* stocklog_append_many as n stocklog_append calls, a row without its
 * supplier taking it from its link */
static void test_append_many(struct fixture *f)
{
	struct stocklog_entry es[75];
	int64_t link = q_int(f->db, "SELECT id FROM supplier_links WHERE supplier_sku = 'BULK-0003'");
	int64_t pid = q_int(f->db, "SELECT product_id FROM supplier_links WHERE id = %lld",
	                    (long long)link);
	int64_t log0 = q_int(f->db, "SELECT max(id) FROM stock_log");
	struct outbox_entry ev[9];
	struct error e;
	size_t bad = 99;
	int i;

	memset(es, 0, sizeof(es));
	for (i = 0; i < 75; i++) {
		es[i].link_id = link;
		es[i].product_id = pid;
		es[i].supplier_id = i == 70 ? 0 : f->acme_id;
		es[i].supplier_sku = i == 70 ? NULL : "MANY";
		es[i].has_prev = i > 0;
		es[i].prev = i - 1;
		es[i].new_stock = i;
		es[i].source = "check";
		es[i].recorded_at = 7000000 + i;
	}
	ok(stocklog_append_many(f->db, es, 75, &bad, &e) == 0, "append_many: 75 rows");
	is_int(q_int(f->db, "SELECT count(*) FROM stock_log WHERE id > %lld", (long long)log0), 75,
	       "append_many: all there");
	is_int(q_int(f->db, "SELECT count(*) FROM stock_log WHERE id > %lld AND"
	             " (new_stock <> id - %lld - 1 OR recorded_at <> 7000000 + new_stock"
	             " OR (new_stock = 0) <> (prev_stock IS NULL))",
	             (long long)log0, (long long)log0), 0, "append_many: in order");
	is_int(q_int(f->db, "SELECT supplier_id = (SELECT supplier_id FROM supplier_links WHERE"
	             " id = %lld) AND supplier_sku = 'BULK-0003' FROM stock_log WHERE id > %lld"
	             " AND new_stock = 70", (long long)link, (long long)log0), 1,
	       "append_many: a row without its supplier takes the link's");
	es[66].new_stock = -1;    /* the CHECK fails: the index of the row */
	ok(stocklog_append_many(f->db, es, 75, &bad, &e) < 0, "append_many: a bad row fails");
	is_int((int64_t)bad, 66, "append_many: tells which");
	like(e.msg, "CHECK constraint failed", "append_many: the cause");
	is_int(q_int(f->db, "SELECT count(*) FROM stock_log WHERE id > %lld", (long long)log0), 75 + 66,
	       "append_many: outside a transaction the rows before it stay (as one by one)");
	q_exec(f->db, "DELETE FROM stock_log WHERE recorded_at BETWEEN 7000000 AND 7000100");

	for (i = 0; i < 9; i++) {
		ev[i].kind = i == 4 ? "nonsense" : "stock_changed";
		ev[i].product_id = pid;
		ev[i].payload = "{}";
		ev[i].at = 8000000 + i;
	}
	ok(outbox_add_many(f->db, ev, 9, &bad, &e) < 0, "outbox_add_many: a bad kind fails");
	is_int((int64_t)bad, 4, "outbox_add_many: tells which");
	ev[4].kind = "out_of_stock";
	ok(outbox_add_many(f->db, ev, 9, &bad, &e) == 0, "outbox_add_many: 9 events");
	is_int(q_int(f->db, "SELECT count(*) FROM outbox WHERE created_at BETWEEN 8000000 AND 8000008"
	             " AND next_attempt_at = created_at"), 9 + 4, "outbox_add_many: all there");
	q_exec(f->db, "DELETE FROM outbox WHERE created_at BETWEEN 8000000 AND 8000008");
}

int main(void)
{
	struct fixture f;

	tmp_make("test_apply");
	dbpath = tmp_path("sub/dropstock.db");

	test_memory();
	test_open();
	if (fixture_open(&f) == 0) {
		test_links(&f);
		test_first_and_unchanged(&f);
		test_aggregates(&f);
		test_rules_in_apply(&f);
		test_unknown(&f);
		test_ordering(&f);
		test_dry_run(&f);
		test_rollback(&f);
		test_zero(&f);
		test_runs(&f);
		test_import(&f);
		test_product_event(&f);
		test_history_survives(&f);
		test_receipt(&f);
		test_catalogue(&f);
		test_bulk(&f);
		test_append_many(&f);
	} else {
		ok(0, "fixture opens");
	}
	db_close(f.db);
	tmp_remove();
	free(dbpath);
	return tap_done();
}
