/* test_revert.c - engine_set_links (the write path shared with
 * zero-missing) and engine_revert: restoring a run's changes, leaving
 * newer ones and first values alone, dry runs that write nothing, the
 * events a revert queues, the revert recorded as a run, reverts of
 * reverts, and the refusals (unknown, queued and running runs, a
 * supplier being synced). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/sync.h"
#include "store/db.h"
#include "store/store.h"
#include "tap.h"
#include "testlib.h"

static char *dbpath;

/* ---- helpers ---- */

/* Counts of every table a revert may write, to prove a dry run wrote nothing. */
static char *snapshot(struct db *db)
{
	return xasprintf("%lld/%lld/%lld/%lld/%lld",
	                 (long long)q_int(db, "SELECT count(*) FROM stock_log"),
	                 (long long)q_int(db, "SELECT count(*) FROM outbox"),
	                 (long long)q_int(db, "SELECT count(*) FROM sync_runs"),
	                 (long long)q_int(db, "SELECT total(supplier_stock) + total(synced_at)"
	                                      " FROM supplier_links"),
	                 (long long)q_int(db, "SELECT total(stock) + total(updated_at) FROM products"));
}

static const struct revert_item *find_item(const struct revert_item *list, size_t n,
                                           const char *sku)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].supplier_sku, sku) == 0)
			return &list[i];
	return NULL;
}

struct fixture {
	struct db *db;
	struct supplier_conf sup;
	struct conf conf;
	int64_t sid;
	int64_t t0;
};

static struct supplier_conf make_supplier(const char *slug)
{
	struct supplier_conf s;

	memset(&s, 0, sizeof(s));
	s.slug = (char *)slug;
	s.name = (char *)slug;
	s.active = true;
	s.priority = 100;
	s.rules.cap = -1;
	s.rules.multiplier = 1.0;
	s.rules.pack_size = 1;
	return s;
}

static struct apply_ctx make_ctx(struct fixture *f, enum obs_source src, int64_t run_id)
{
	struct apply_ctx c;

	memset(&c, 0, sizeof(c));
	c.db = f->db;
	c.sup = &f->sup;
	c.supplier_id = f->sid;
	c.agg = AGG_SUM;
	c.source = src;
	c.run_id = run_id;
	return c;
}

/* Applies sku = raw as one observation at t. */
static void put(struct fixture *f, enum obs_source src, int64_t run_id, const char *sku,
                int64_t raw, int64_t t)
{
	struct apply_ctx c = make_ctx(f, src, run_id);
	struct observation o = { sku, raw, t, 0, 1 };
	struct error e;

	if (engine_apply(&c, &o, 1, NULL, &e) != 0)
		printf("# apply %s failed: %s\n", sku, e.msg);
}

static int64_t begin_run(struct fixture *f)
{
	struct error e;
	int64_t id = 0;

	if (runs_begin(f->db, f->sid, "full", "cli", false, &id, &e) != 0)
		printf("# runs_begin: %s\n", e.msg);
	return id;
}

static void end_run(struct fixture *f, int64_t id)
{
	struct run_stats st = { 0 };
	struct error e;

	if (runs_finish(f->db, id, "succeeded", &st, NULL, &e) != 0)
		printf("# runs_finish: %s\n", e.msg);
}

static int fixture_open(struct fixture *f)
{
	static const char *const links[][2] = {
		{ "P-1", "A-1" }, { "P-2", "A-2" }, { "P-3", "A-3" }, { "P-4", "A-4" },
		{ "P-5", "A-5" }, { "P-6", "A-6" },
	};
	struct error e;

	memset(f, 0, sizeof(*f));
	f->db = db_open(dbpath, &e);
	if (!f->db) {
		printf("# %s\n", e.msg);
		return -1;
	}
	f->sup = make_supplier("acme");
	f->conf.aggregate = AGG_SUM;
	f->conf.suppliers = &f->sup;
	f->conf.n_suppliers = 1;
	if (suppliers_upsert(f->db, &f->sup, &f->sid, &e) != 0) {
		printf("# %s\n", e.msg);
		return -1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(links); i++)
		if (links_add(f->db, links[i][0], NULL, "acme", links[i][1], &e) != 0) {
			printf("# %s\n", e.msg);
			return -1;
		}
	f->t0 = time_now_ms() - 60000;
	return 0;
}

/* ---- engine_set_links ---- */

static void test_set_links(struct fixture *f)
{
	struct apply_ctx c;
	struct apply_counts n;
	struct error e;
	int64_t ids[3], stocks[3];
	int64_t l6 = q_int(f->db, "SELECT id FROM supplier_links WHERE supplier_sku = 'A-6'");
	int64_t log0, out0;

	put(f, SRC_FULL, 0, "A-6", 12, f->t0);
	is_int(q_link_stock(f->db, "A-6"), 12, "A-6 starts at 12");
	log0 = q_int(f->db, "SELECT count(*) FROM stock_log");
	out0 = q_int(f->db, "SELECT count(*) FROM outbox");

	/* a value, the same value again, and a link that does not exist */
	c = make_ctx(f, SRC_MANUAL, 0);
	memset(&n, 0, sizeof(n));
	ids[0] = l6;
	stocks[0] = 3;
	ids[1] = l6;
	stocks[1] = 3;
	ids[2] = 999999;
	stocks[2] = 1;
	ok(engine_set_links(&c, ids, stocks, 3, &n, &e) == 0, "set_links succeeds");
	is_int(n.changed, 1, "one change (the repeat is unchanged, the missing link skipped)");
	is_int(n.seen, 2, "two links found");
	is_int(n.zeroed, 0, "nothing counted as zeroed");
	is_int(q_link_stock(f->db, "A-6"), 3, "A-6 set to 3");
	is_int(q_int(f->db, "SELECT raw_stock FROM supplier_links WHERE supplier_sku = 'A-6'"), 12,
	       "the raw figure is kept");
	is_int(q_product_stock(f->db, "P-6"), 3, "its product recomputed");
	is_int(q_int(f->db, "SELECT count(*) FROM stock_log") - log0, 1, "one stock_log row");
	is_int(q_int(f->db, "SELECT prev_stock * 100 + new_stock FROM stock_log "
	                    "ORDER BY id DESC LIMIT 1"), 1203, "logged 12 -> 3");
	is_int(q_int(f->db, "SELECT source = 'manual' FROM stock_log ORDER BY id DESC LIMIT 1"), 1,
	       "logged with the context's source");
	is_int(q_int(f->db, "SELECT count(*) FROM outbox") - out0, 1, "one event");
	is_int(q_int(f->db, "SELECT payload LIKE '%%\"source\":\"manual\"%%' FROM outbox "
	                    "ORDER BY id DESC LIMIT 1"), 1, "the event says manual");

	/* zero_as_of: a link synced after it is left alone */
	put(f, SRC_WEBHOOK, 0, "A-6", 9, time_now_ms());
	c = make_ctx(f, SRC_MANUAL, 0);
	c.zero_as_of = time_now_ms() - 30000;
	memset(&n, 0, sizeof(n));
	stocks[0] = 4;
	ok(engine_set_links(&c, ids, stocks, 1, &n, &e) == 0, "set_links with zero_as_of");
	is_int(n.stale, 1, "a link synced after zero_as_of counts stale");
	is_int(q_link_stock(f->db, "A-6"), 9, "and keeps its newer value");

	/* a negative value is a caller bug: nothing is written */
	c = make_ctx(f, SRC_MANUAL, 0);
	ids[1] = l6;
	stocks[0] = 5;
	stocks[1] = -1;
	ok(engine_set_links(&c, ids, stocks, 2, NULL, &e) < 0, "negative value refused");
	is_int(e.kind, ERRK_INTERNAL, "as an internal error");
	like(e.msg, "A-6", "naming the SKU");
	is_int(q_link_stock(f->db, "A-6"), 9, "the batch was rolled back");
	ok(sqlite3_get_autocommit(db_handle(f->db)), "no transaction left open");

	/* dry run: reports, writes nothing */
	c = make_ctx(f, SRC_MANUAL, 0);
	c.dry_run = true;
	memset(&n, 0, sizeof(n));
	stocks[0] = 1;
	ok(engine_set_links(&c, ids, stocks, 1, &n, &e) == 0, "dry run");
	is_int(n.changed, 1, "dry run counts the change");
	is_int(q_link_stock(f->db, "A-6"), 9, "dry run wrote nothing");

	/* engine_zero_links still works through the shared path */
	c = make_ctx(f, SRC_FULL, 0);
	memset(&n, 0, sizeof(n));
	ok(engine_zero_links(&c, ids, 1, &n, &e) == 0, "zero_links");
	is_int(n.zeroed, 1, "zeroed counted");
	is_int(n.seen + n.changed, 0, "zeroing counts neither seen nor changed");
	is_int(q_link_stock(f->db, "A-6"), 0, "A-6 zeroed");
	is_int(q_int(f->db, "SELECT raw_stock FROM supplier_links WHERE supplier_sku = 'A-6'"), 0,
	       "zeroing sets the raw figure to 0");
}

/* ---- engine_revert ---- */

static void test_revert(struct fixture *f)
{
	struct revert_report r;
	const struct revert_item *it;
	struct error e;
	int64_t r1, r2, rv, rv2, out0;
	char *before, *after;

	/* run 1: first values */
	r1 = begin_run(f);
	put(f, SRC_FULL, r1, "A-1", 10, f->t0 + 1000);
	put(f, SRC_FULL, r1, "A-2", 20, f->t0 + 1000);
	put(f, SRC_FULL, r1, "A-3", 30, f->t0 + 1000);
	put(f, SRC_FULL, r1, "A-5", 5, f->t0 + 1000);
	end_run(f, r1);
	/* run 2: changes; A-4 gets its first value; A-5 changes twice */
	r2 = begin_run(f);
	put(f, SRC_FULL, r2, "A-1", 0, f->t0 + 2000);
	put(f, SRC_FULL, r2, "A-2", 25, f->t0 + 2000);
	put(f, SRC_FULL, r2, "A-3", 35, f->t0 + 2000);
	put(f, SRC_FULL, r2, "A-4", 7, f->t0 + 2000);
	put(f, SRC_FULL, r2, "A-5", 6, f->t0 + 2000);
	put(f, SRC_DELTA, r2, "A-5", 8, f->t0 + 2500);
	end_run(f, r2);
	/* a webhook after run 2 */
	put(f, SRC_WEBHOOK, 0, "A-3", 40, f->t0 + 3000);
	is_int(q_product_stock(f->db, "P-1"), 0, "P-1 out of stock after run 2");

	/* dry run: the report, and nothing written */
	before = snapshot(f->db);
	ok(engine_revert(f->db, &f->conf, r2, true, &r, &e) == 0, "dry-run revert");
	after = snapshot(f->db);
	is_str(after, before, "dry run wrote nothing (stock_log/outbox/runs/links/products)");
	free(before);
	free(after);
	is_int(r.run_id, 0, "dry run records no run");
	is_int(r.n_restored, 3, "dry run: 3 would be restored");
	is_int(r.n_newer, 1, "dry run: 1 newer");
	is_int(r.n_no_prev, 1, "dry run: 1 without a value before");
	is_int(r.events, 3, "dry run: 3 events would be queued");
	is_str(r.supplier, "acme", "the run's supplier");
	revert_report_free(&r);

	/* the revert */
	out0 = q_int(f->db, "SELECT max(id) FROM outbox");
	ok(engine_revert(f->db, &f->conf, r2, false, &r, &e) == 0, "revert run 2");
	if (r.n_restored == 0)
		printf("# %s\n", e.msg);
	rv = r.run_id;
	ok(rv > r2, "the revert is a run of its own");
	is_int(r.n_restored, 3, "3 restored");
	it = find_item(r.restored, r.n_restored, "A-1");
	ok(it && it->prev == 0 + 10 && it->current == 0 && it->run_stock == 0,
	   "A-1: 0 -> 10 reported");
	ok(it && it->product_sku && strcmp(it->product_sku, "P-1") == 0 && it->product_prev == 0 &&
	   it->product_new == 10, "A-1: with its product P-1 0 -> 10");
	it = find_item(r.restored, r.n_restored, "A-5");
	ok(it && it->prev == 5 && it->run_stock == 8, "A-5: back to its value before the run");
	is_int(r.n_newer, 1, "1 left alone as newer");
	it = find_item(r.newer, r.n_newer, "A-3");
	ok(it != NULL, "A-3 is the newer one");
	ok(it && strcmp(it->newer_source, "webhook") == 0 && it->current == 40 &&
	   it->run_stock == 35 && it->prev == 30, "A-3: newer webhook value 40 named");
	is_int(r.n_no_prev, 1, "1 had no value before");
	ok(find_item(r.no_prev, r.n_no_prev, "A-4") != NULL, "A-4 had no value before");
	is_int(r.n_gone + r.n_unchanged, 0, "nothing gone or unchanged");
	is_int(r.events, 3, "3 events");
	revert_report_free(&r);

	is_int(q_link_stock(f->db, "A-1"), 10, "A-1 restored to 10");
	is_int(q_link_stock(f->db, "A-2"), 20, "A-2 restored to 20");
	is_int(q_link_stock(f->db, "A-3"), 40, "A-3 keeps the newer 40");
	is_int(q_link_stock(f->db, "A-4"), 7, "A-4 keeps its first value");
	is_int(q_link_stock(f->db, "A-5"), 5, "A-5 restored to 5 (the first row's prev)");
	is_int(q_product_stock(f->db, "P-1"), 10, "P-1 back in stock");
	is_int(q_product_stock(f->db, "P-5"), 5, "P-5 recomputed");

	/* recorded as a run */
	is_int(q_int(f->db, "SELECT count(*) FROM sync_runs WHERE id = %lld AND kind = 'revert' "
	                    "AND reverts = %lld AND status = 'succeeded' AND \"trigger\" = 'cli' "
	                    "AND finished_at IS NOT NULL", (long long)rv, (long long)r2), 1,
	       "sync_runs: kind revert, reverts run 2, succeeded, trigger cli");
	is_int(q_int(f->db, "SELECT changed * 100 + stale * 10 + seen FROM sync_runs WHERE id = %lld",
	             (long long)rv), 315, "its counts: 3 changed, 1 stale, 5 seen");
	is_int(q_int(f->db, "SELECT count(*) FROM stock_log WHERE run_id = %lld AND source = 'manual'",
	             (long long)rv), 3, "3 stock_log rows, source manual, with the revert's run id");
	/* events */
	is_int(q_int(f->db, "SELECT count(*) FROM outbox WHERE id > %lld", (long long)out0), 3,
	       "3 events queued");
	is_int(q_int(f->db, "SELECT count(*) FROM outbox WHERE id > %lld AND kind = 'back_in_stock' "
	                    "AND payload LIKE '%%\"product_sku\":\"P-1\"%%'", (long long)out0), 1,
	       "P-1 back_in_stock");
	is_int(q_int(f->db, "SELECT count(*) FROM outbox WHERE id > %lld AND "
	                    "payload LIKE '%%\"source\":\"manual\"%%'", (long long)out0), 3,
	       "every event says manual");
	ok(sqlite3_get_autocommit(db_handle(f->db)), "no transaction left open");

	/* reverting run 2 again: everything has changed since */
	ok(engine_revert(f->db, &f->conf, r2, false, &r, &e) == 0, "revert run 2 again");
	is_int(r.n_restored, 0, "nothing restored the second time");
	is_int(r.n_newer, 4, "its changes are all newer now");
	it = find_item(r.newer, r.n_newer, "A-1");
	ok(it && strcmp(it->newer_source, "manual") == 0 && it->newer_run_id == rv,
	   "A-1: changed by the revert run");
	rv2 = r.run_id;
	revert_report_free(&r);
	ok(rv2 > rv, "still recorded as a run");

	/* a revert of a revert is just another run */
	ok(engine_revert(f->db, &f->conf, rv, false, &r, &e) == 0, "revert the revert");
	is_int(r.n_restored, 3, "3 restored");
	revert_report_free(&r);
	is_int(q_link_stock(f->db, "A-1"), 0, "A-1 back to run 2's 0");
	is_int(q_link_stock(f->db, "A-2"), 25, "A-2 back to 25");
	is_int(q_link_stock(f->db, "A-5"), 8, "A-5 back to 8");
	is_int(q_link_stock(f->db, "A-3"), 40, "A-3 untouched");
}

static void test_removed_link(struct fixture *f)
{
	struct revert_report r;
	struct error e;
	int64_t id;

	id = begin_run(f);
	put(f, SRC_FULL, id, "A-2", 2, time_now_ms());
	end_run(f, id);
	ok(links_remove(f->db, "acme", "A-2", NULL, &e) == 1, "link A-2 removed");
	ok(engine_revert(f->db, &f->conf, id, false, &r, &e) == 0, "revert with a removed link");
	is_int(r.n_gone, 1, "listed as gone");
	is_int(r.n_restored, 0, "nothing restored");
	ok(r.n_gone == 1 && strcmp(r.gone[0].supplier_sku, "A-2") == 0, "naming A-2");
	revert_report_free(&r);
}

static void test_refusals(struct fixture *f)
{
	struct revert_report r;
	struct error e;
	int64_t id, queued, running;
	int fd;

	ok(engine_revert(f->db, &f->conf, 424242, false, &r, &e) < 0, "unknown run refused");
	is_int(e.kind, ERRK_USAGE, "as a usage error");
	like(e.msg, "424242", "naming the run");
	revert_report_free(&r);

	if (runs_enqueue(f->db, f->sid, "full", "daemon", 1, 0, time_now_ms() + 3600000, &queued,
	                 &e) != 0)
		printf("# %s\n", e.msg);
	ok(engine_revert(f->db, &f->conf, queued, false, &r, &e) < 0, "queued run refused");
	is_int(e.kind, ERRK_USAGE, "as a usage error");
	like(e.msg, "queued", "saying it is queued");
	revert_report_free(&r);

	running = begin_run(f);
	ok(engine_revert(f->db, &f->conf, running, false, &r, &e) < 0, "running run refused");
	is_int(e.kind, ERRK_BUSY, "as busy");
	like(e.msg, "still running", "saying so");
	revert_report_free(&r);
	end_run(f, running);

	/* the supplier lock */
	id = begin_run(f);
	put(f, SRC_FULL, id, "A-1", 33, time_now_ms());
	end_run(f, id);
	fd = sync_lock(dbpath, "acme", false, &e);
	ok(fd >= 0, "lock taken by 'another sync'");
	ok(engine_revert(f->db, &f->conf, id, false, &r, &e) < 0, "revert refused while syncing");
	is_int(e.kind, ERRK_BUSY, "as busy");
	like(e.msg, "acme", "naming the supplier");
	revert_report_free(&r);
	is_int(q_link_stock(f->db, "A-1"), 33, "nothing restored");
	ok(engine_revert(f->db, &f->conf, id, true, &r, &e) == 0, "a dry run needs no lock");
	is_int(r.n_restored, 1, "and reports the restore");
	revert_report_free(&r);
	sync_unlock(fd);
	ok(engine_revert(f->db, &f->conf, id, false, &r, &e) == 0, "after the lock is free");
	revert_report_free(&r);
	is_int(q_link_stock(f->db, "A-1"), 0, "restored");

	/* a supplier no longer configured is reverted by its slug */
	id = begin_run(f);
	put(f, SRC_FULL, id, "A-1", 44, time_now_ms());
	end_run(f, id);
	ok(engine_revert(f->db, NULL, id, false, &r, &e) == 0, "revert without a configuration");
	revert_report_free(&r);
	is_int(q_link_stock(f->db, "A-1"), 0, "restored");
	is_int(q_int(f->db, "SELECT payload LIKE '%%\"supplier\":\"acme\"%%' FROM outbox "
	                    "ORDER BY id DESC LIMIT 1"), 1, "its event names the supplier");
}

/* A change that slips in between what engine_revert read and its write
 * (a webhook at that moment): simulated by a trigger on the revert's own
 * run row, which is inserted between the two. */
static void test_race(struct fixture *f)
{
	struct revert_report r;
	struct apply_ctx c;
	struct apply_counts n;
	struct error e;
	int64_t id, l6, last, stock;

	/* engine_set_links_if itself */
	l6 = q_int(f->db, "SELECT id FROM supplier_links WHERE supplier_sku = 'A-6'");
	last = q_int(f->db, "SELECT max(id) FROM stock_log WHERE link_id = %lld", (long long)l6);
	put(f, SRC_WEBHOOK, 0, "A-6", 13, time_now_ms());
	c = make_ctx(f, SRC_MANUAL, 0);
	memset(&n, 0, sizeof(n));
	stock = 2;
	ok(engine_set_links_if(&c, &l6, &stock, &last, 1, &n, &e) == 0, "set_links_if");
	is_int(n.stale, 1, "a link with a newer history row counts stale");
	is_int(n.changed, 0, "and is not changed");
	is_int(q_link_stock(f->db, "A-6"), 13, "it keeps the newer value");
	last = q_int(f->db, "SELECT max(id) FROM stock_log WHERE link_id = %lld", (long long)l6);
	memset(&n, 0, sizeof(n));
	ok(engine_set_links_if(&c, &l6, &stock, &last, 1, &n, &e) == 0, "set_links_if, current");
	is_int(n.changed, 1, "with the current last row it is set");
	is_int(q_link_stock(f->db, "A-6"), 2, "to 2");

	/* inside engine_revert */
	id = begin_run(f);
	put(f, SRC_FULL, id, "A-6", 21, time_now_ms());
	put(f, SRC_FULL, id, "A-3", 31, time_now_ms());
	end_run(f, id);
	db_exec(f->db,
	        "CREATE TEMP TRIGGER race AFTER INSERT ON sync_runs WHEN NEW.kind = 'revert' BEGIN"
	        " UPDATE supplier_links SET supplier_stock = 77 WHERE supplier_sku = 'A-6';"
	        " INSERT INTO stock_log (link_id, product_id, supplier_id, supplier_sku, prev_stock,"
	        "   new_stock, source, recorded_at)"
	        "   SELECT id, product_id, supplier_id, supplier_sku, 21, 77, 'webhook', 1"
	        "   FROM supplier_links WHERE supplier_sku = 'A-6';"
	        " END", &e);
	ok(engine_revert(f->db, &f->conf, id, false, &r, &e) == 0, "revert with a change slipping in");
	db_exec(f->db, "DROP TRIGGER race", &e);
	is_int(r.n_restored, 1, "the other link is restored");
	is_int(r.n_newer, 1, "the one changed meanwhile is left alone");
	ok(r.n_newer == 1 && strcmp(r.newer[0].supplier_sku, "A-6") == 0 &&
	   r.newer[0].newer_source[0] == '\0' && r.newer[0].current == 77,
	   "listed as changed while reverting, with its value now");
	revert_report_free(&r);
	is_int(q_link_stock(f->db, "A-6"), 77, "its newer value stands");
	is_int(q_link_stock(f->db, "A-3"), 40, "A-3 restored");
}

int main(void)
{
	struct fixture f;

	tmp_make("test_revert");
	dbpath = tmp_path("dropstock.db");
	if (fixture_open(&f) == 0) {
		test_set_links(&f);
		test_revert(&f);
		test_removed_link(&f);
		test_refusals(&f);
		test_race(&f);
	} else {
		ok(0, "fixture opens");
	}
	db_close(f.db);
	tmp_remove();
	free(dbpath);
	return tap_done();
}
