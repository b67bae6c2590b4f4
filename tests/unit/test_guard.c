/* test_guard.c - the mass-change guard's pieces: engine_probe makes the
 * decisions engine_apply makes (and writes nothing), engine_probe_zero
 * those of engine_zero_links, and the store functions of staged items,
 * bounded link counts and superseded approvals. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "store/db.h"
#include "store/store.h"
#include "tap.h"

static int64_t q(struct db *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -999;

	if (sqlite3_prepare_v2(db_handle(db), sql, -1, &st, NULL) != SQLITE_OK) {
		printf("# %s: %s\n", sql, sqlite3_errmsg(db_handle(db)));
		return v;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static struct supplier_conf make_supplier(const char *slug)
{
	struct supplier_conf s;

	memset(&s, 0, sizeof(s));
	s.slug = (char *)slug;
	s.name = (char *)slug;
	s.active = true;
	s.priority = 100;
	s.rules.cap = 10;             /* raw 20 and 30 are both 10 for the store */
	s.rules.multiplier = 1.0;
	s.rules.pack_size = 1;
	s.rules.zero_missing_max_pct = 20.0;
	s.guard.enabled = true;
	s.guard.max_changed_pct = 50;
	s.guard.max_zeroed_pct = 50;
	return s;
}

static int seen_calls;

static void count_seen(void *ud, int64_t link_id)
{
	(void)ud;
	(void)link_id;
	seen_calls++;
}

static struct db *setup(struct supplier_conf *s, struct apply_ctx *ctx)
{
	struct error e = { 0 };
	struct db *db = db_open(":memory:", &e);
	char p[16], k[16];

	if (!db) {
		printf("Bail out! %s\n", e.msg);
		exit(99);
	}
	memset(ctx, 0, sizeof(*ctx));
	ctx->db = db;
	ctx->sup = s;
	ctx->agg = AGG_SUM;
	ctx->source = SRC_FULL;
	ctx->on_seen = count_seen;
	if (suppliers_upsert(db, s, &ctx->supplier_id, &e) != 0)
		goto bail;
	for (int i = 1; i <= 8; i++) {
		snprintf(p, sizeof(p), "P%d", i);
		snprintf(k, sizeof(k), "S%d", i);
		if (links_add(db, p, NULL, s->slug, k, &e) != 0)
			goto bail;
	}
	return db;
bail:
	printf("Bail out! %s\n", e.msg);
	exit(99);
}

#define OBS(sku, raw, at) { sku, raw, at, 0, 0 }

static void test_probe_matches_apply(void)
{
	struct supplier_conf s = make_supplier("g");
	struct apply_ctx ctx;
	struct db *db = setup(&s, &ctx);
	struct probe_result pr = { 0 };
	struct apply_counts n = { 0 };
	struct error e = { 0 };
	/* first values for S1..S5; S6..S8 stay without stock */
	struct observation first[] = {
		OBS("S1", 5, 1000), OBS("S2", 5, 1000), OBS("S3", 20, 1000), OBS("S4", 0, 1000),
		OBS("S5", 7, 1000), OBS("NOPE", 3, 1000),
	};
	struct observation next[] = {
		OBS("S1", 5, 2000),      /* unchanged */
		OBS("S2", 0, 2000),      /* 5 -> 0 */
		OBS("S3", 30, 2000),     /* raw 20 -> 30, store-facing 10 both: raw only */
		OBS("S4", 4, 2000),      /* 0 -> 4 */
		OBS("S5", 6, 500),       /* older than what is stored: stale */
		OBS("S6", 0, 2000),      /* first value, even 0 */
		OBS("NOPE", 3, 2000),    /* unknown */
	};
	int64_t log_rows, changes;

	ok(engine_probe(&ctx, first, 6, &pr, &e) == 0, "probe of first values");
	is_int(pr.c.first, 5, "5 first values");
	is_int(pr.c.changed, 0, "first values are not changes for the guard");
	is_int(pr.c.unknown, 1, "one unknown SKU");
	is_int(pr.c.writes, 6, "all would write");
	is_int(q(db, "SELECT count(*) FROM unknown_skus"), 0, "the probe recorded no unknown SKU");
	is_int(q(db, "SELECT count(*) FROM supplier_links WHERE supplier_stock IS NOT NULL"), 0,
	       "the probe set no stock");
	is_int(seen_calls, 5, "on_seen called for every link found");
	ok(engine_apply(&ctx, first, 6, &n, &e) == 0, "apply the first values");

	memset(&pr.c, 0, sizeof(pr.c));
	log_rows = q(db, "SELECT count(*) FROM stock_log");
	changes = sqlite3_total_changes(db_handle(db));
	ok(engine_probe(&ctx, next, 7, &pr, &e) == 0, "probe of the next batch");
	is_int(sqlite3_total_changes(db_handle(db)), changes, "the probe wrote nothing");
	is_int(pr.flags[0], 0, "unchanged: no flag");
	is_int(pr.flags[1], PROBE_WRITES | PROBE_CHANGES | PROBE_TO_ZERO, "5 -> 0: a drop to 0");
	is_int(pr.flags[2], PROBE_WRITES, "raw figure alone: writes, no change");
	is_int(pr.flags[3], PROBE_WRITES | PROBE_CHANGES, "0 -> 4: a change");
	is_int(pr.flags[4], PROBE_STALE, "older: stale");
	is_int(pr.flags[5], PROBE_WRITES | PROBE_FIRST, "first value 0");
	is_int(pr.flags[6], PROBE_WRITES | PROBE_UNKNOWN, "unknown SKU");
	is_int(pr.c.changed, 2, "2 changes");
	is_int(pr.c.to_zero, 1, "1 drop to 0");

	/* the same batch applied: the counts agree with the probe's */
	memset(&n, 0, sizeof(n));
	ok(engine_apply(&ctx, next, 7, &n, &e) == 0, "apply the next batch");
	is_int(n.changed, pr.c.changed + pr.c.first, "changed = probe's changes + first values");
	is_int(n.unknown, pr.c.unknown, "unknown agrees");
	is_int(n.stale, pr.c.stale, "stale agrees");
	is_int(q(db, "SELECT count(*) FROM stock_log") - log_rows, 3, "3 rows logged");
	is_int(q(db, "SELECT raw_stock FROM supplier_links WHERE supplier_sku = 'S3'"), 30,
	       "the raw figure moved");

	/* a delta: an unchanged but fresher figure moves the link's clock */
	ctx.source = SRC_DELTA;
	{
		struct observation d[] = { OBS("S1", 5, 3000), OBS("S1", 5, 100) };

		ok(engine_probe(&ctx, d, 2, &pr, &e) == 0, "probe of a delta");
		is_int(pr.flags[0], PROBE_WRITES, "delta, unchanged, fresher: writes (the clock)");
		is_int(pr.flags[1], PROBE_STALE, "delta, older: stale");
	}
	ctx.source = SRC_FULL;

	/* caller bugs fail as in engine_apply */
	{
		struct observation bad[] = { OBS("S1", -1, 1000) };

		ok(engine_probe(&ctx, bad, 1, &pr, &e) == -1 && e.kind == ERRK_INTERNAL,
		   "a negative stock is refused");
	}
	probe_result_free(&pr);
	db_close(db);
}

static void test_probe_zero(void)
{
	struct supplier_conf s = make_supplier("z");
	struct apply_ctx ctx;
	struct db *db = setup(&s, &ctx);
	struct apply_counts n = { 0 };
	struct link_row l;
	struct error e = { 0 };
	struct observation o[] = { OBS("S1", 5, 1000), OBS("S2", 0, 1000), OBS("S3", 4, 9000) };

	ok(engine_apply(&ctx, o, 3, &n, &e) == 0, "stock for S1-S3");
	ctx.zero_as_of = 5000;
	links_find(db, ctx.supplier_id, "S1", &l, &e);
	is_int(engine_probe_zero(&ctx, &l), PROBE_WRITES | PROBE_CHANGES | PROBE_TO_ZERO,
	       "5 -> 0");
	links_find(db, ctx.supplier_id, "S2", &l, &e);
	is_int(engine_probe_zero(&ctx, &l), 0, "already 0");
	links_find(db, ctx.supplier_id, "S3", &l, &e);
	is_int(engine_probe_zero(&ctx, &l), PROBE_STALE, "synced after the feed: stale");
	links_find(db, ctx.supplier_id, "S4", &l, &e);
	is_int(engine_probe_zero(&ctx, &l), PROBE_WRITES | PROBE_FIRST, "no stock yet: first");

	/* engine_zero_links agrees */
	{
		int64_t ids[3];

		links_find(db, ctx.supplier_id, "S1", &l, &e);
		ids[0] = l.id;
		links_find(db, ctx.supplier_id, "S2", &l, &e);
		ids[1] = l.id;
		links_find(db, ctx.supplier_id, "S3", &l, &e);
		ids[2] = l.id;
		memset(&n, 0, sizeof(n));
		ok(engine_zero_links(&ctx, ids, 3, &n, &e) == 0, "zero them");
		is_int(n.zeroed, 1, "one zeroed");
		is_int(n.stale, 1, "one stale");
	}
	db_close(db);
}

struct collect {
	int n;
	int64_t seqs[8];
	int64_t zero;
};

static int collect_item(void *ud, const struct run_item *it)
{
	struct collect *c = ud;

	if (c->n < 8)
		c->seqs[c->n] = it->seq;
	c->n++;
	if (it->position == RUN_ITEM_ZERO)
		c->zero++;
	return 0;
}

static void test_store(void)
{
	struct supplier_conf s = make_supplier("st");
	struct apply_ctx ctx;
	struct db *db = setup(&s, &ctx);
	struct apply_counts n = { 0 };
	struct error e = { 0 };
	struct collect c = { 0 };
	struct run_stats rs = { 0 };
	int64_t r1, r2, r3;
	char reason[64];
	struct observation o[] = { OBS("S1", 5, 1000), OBS("S2", 5, 1000), OBS("S3", 0, 1000) };

	engine_apply(&ctx, o, 3, &n, &e);
	is_int(links_count_upto(db, ctx.supplier_id, false, 0, &e), 8, "8 links");
	is_int(links_count_upto(db, ctx.supplier_id, false, 3, &e), 3, "counted up to 3");
	is_int(links_count_upto(db, ctx.supplier_id, true, 0, &e), 2, "2 in stock");

	ok(runs_begin(db, ctx.supplier_id, "full", "cli", false, &r1, &e) == 0, "run 1");
	for (int i = 1; i <= 5; i++) {
		struct run_item it = { i, "S1", 3, 1000, 0, i == 5 ? RUN_ITEM_ZERO : i };

		run_items_add(db, r1, &it, &e);
	}
	is_int(run_items_count(db, r1, &e), 5, "5 staged");
	ok(run_items_each(db, r1, 2, 2, collect_item, &c, &e) == 0, "read a batch");
	is_int(c.n, 2, "limit respected");
	is_int(c.seqs[0], 3, "after seq 2 ...");
	is_int(c.seqs[1], 4, "... in order");
	memset(&c, 0, sizeof(c));
	run_items_each(db, r1, 0, 0, collect_item, &c, &e);
	is_int(c.n, 5, "all of them");
	is_int(c.zero, 1, "the zero-missing item");

	/* a run left behind: its items are purged; a waiting one keeps them */
	ok(runs_begin(db, ctx.supplier_id, "full", "cli", false, &r2, &e) == 0, "run 2");
	{
		struct run_item it = { 1, "S2", 1, 1000, 0, 1 };

		run_items_add(db, r2, &it, &e);
	}
	runs_finish(db, r2, "needs_approval", &rs, NULL, &e);
	runs_set_guard_reason(db, r2, "would change everything", &e);
	runs_finish(db, r1, "interrupted", &rs, NULL, &e);
	is_int(run_items_purge(db, ctx.supplier_id, &e), 5, "the interrupted run's items purged");
	is_int(run_items_count(db, r2, &e), 1, "the waiting run's items kept");
	ok(runs_get_stats(db, r2, &rs, reason, sizeof(reason), &e) == 1 &&
	   strcmp(reason, "would change everything") == 0, "guard_reason read back");

	/* a delta does not supersede a waiting full run; a full one does */
	ok(runs_begin(db, ctx.supplier_id, "delta", "cli", false, &r3, &e) == 0, "run 3");
	is_int(runs_supersede_approvals(db, ctx.supplier_id, r3, false, "x", &e), 0,
	       "a delta leaves a full run waiting");
	runs_begin(db, ctx.supplier_id, "full", "cli", false, &r3, &e);
	is_int(runs_supersede_approvals(db, ctx.supplier_id, r3, true, "superseded", &e), 1,
	       "a full run supersedes it");
	is_int(q(db, "SELECT count(*) FROM sync_runs WHERE status = 'needs_approval'"), 0,
	       "nothing waits any more");
	is_int(run_items_count(db, r2, &e), 0, "its items are gone");
	run_items_delete(db, r1, &e);
	db_close(db);
}

int main(void)
{
	test_probe_matches_apply();
	test_probe_zero();
	test_store();
	return tap_done();
}
