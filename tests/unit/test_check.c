/* test_check.c - live single-SKU checks (src/engine/check.c) against the
 * mock supplier and local files: the live answer goes through the apply
 * path with source "check", suppliers without a check source say so,
 * failures leave the cache alone, two suppliers are asked together, and
 * only_stale asks only about stale caches; POST check sources send their
 * body template with the SKU filled in. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/check.h"
#include "feed/http.h"
#include "store/db.h"
#include "store/store.h"
#include "tap.h"
#include "testlib.h"

static const char *tmpdir;

/* ---- database helpers ---- */

static int64_t check_logs(struct db *db, const char *sku)
{
	return q_int(db,
	             "SELECT COUNT(*) FROM stock_log g JOIN supplier_links l ON l.id = g.link_id"
	             " WHERE l.supplier_sku = '%s' AND g.source = 'check'",
	             sku);
}

/* ---- configuration built in code ---- */

#define N_SUP 8
enum { S_ACME, S_BETA, S_DOWN, S_GAMMA, S_SLOW, S_FILE, S_POST, S_POST1 };

static struct supplier_conf sups[N_SUP];
static int64_t sup_ids[N_SUP];
static struct conf conf;

static void sup_init(struct supplier_conf *s, const char *slug, int priority)
{
	memset(s, 0, sizeof(*s));
	s->slug = xstrdup(slug);
	s->name = xstrdup(slug);
	s->active = true;
	s->priority = priority;
	s->rules.cap = -1;
	s->rules.multiplier = 1.0;
	s->rules.pack_size = 1;
	s->rules.zero_missing_max_pct = 20.0;
	s->timeout_ms = 5000;
	s->connect_timeout_ms = 2000;
	s->max_bytes = 1024 * 1024;
	s->retries = 3;
	s->retry_delay_ms = 10;
	s->max_retry_wait_ms = 1000;
	s->fresh_ms = 900000;
}

static void sup_check(struct supplier_conf *s, char *url, const char *items)
{
	s->has_check = true;
	s->check.url = url;
	s->check.format = FORMAT_JSON;
	s->check.map.items = items ? xstrdup(items) : NULL;
	s->check.map.sku = xstrdup("sku");
	s->check.map.stock = xstrdup("stock");
	s->check.map.updated_at = xstrdup("updated_at");
	s->check.timeout_ms = 2000;
}

static void sup_free(struct supplier_conf *s)
{
	free(s->slug);
	free(s->name);
	free(s->check.url);
	free(s->check.map.items);
	free(s->check.map.sku);
	free(s->check.map.stock);
	free(s->check.map.updated_at);
	free(s->check.method);
	free(s->check.body);
	free(s->check.content_type);
	memset(s, 0, sizeof(*s));
}

/* A full-sync figure for a link, at a given time. */
static void set_stock(struct db *db, int si, const char *sku, int64_t raw, int64_t observed_at,
                      int64_t source_time)
{
	struct apply_ctx ctx;
	struct observation o = { sku, raw, observed_at, source_time, 1 };
	struct error e = { 0 };

	memset(&ctx, 0, sizeof(ctx));
	ctx.db = db;
	ctx.sup = &sups[si];
	ctx.supplier_id = sup_ids[si];
	ctx.agg = AGG_SUM;
	ctx.source = SRC_FULL;
	if (engine_apply(&ctx, &o, 1, NULL, &e) != 0)
		printf("# set_stock %s: %s\n", sku, e.msg);
}

static void add_link(struct db *db, const char *product, int si, const char *sku)
{
	struct error e = { 0 };

	if (links_add(db, product, NULL, sups[si].slug, sku, &e) != 0)
		printf("# links_add %s %s: %s\n", product, sku, e.msg);
}

static const struct check_link *find_link(const struct check_result *r, const char *slug)
{
	for (int i = 0; i < r->n_links; i++)
		if (strcmp(r->links[i].slug, slug) == 0)
			return &r->links[i];
	return NULL;
}

/* ---- the tests ---- */

static void test_live_updates_cache(struct db *db)
{
	struct check_result r;
	struct check_opts o = { 0 };
	struct error e = { 0 };
	const struct check_link *a, *b;
	int64_t outbox_before = q_int(db, "SELECT COUNT(*) FROM outbox");

	/* P1: acme A-1 cached 5, beta B-1 cached 2; the mock says A-1 is 7 */
	is_int(q_product_stock(db, "P1"), 7, "P1 starts at 5 + 2");
	is_int(check_sku(db, &conf, "P1", &o, &r, &e), 0, "check P1 succeeds");
	is_str(r.product_sku, "P1", "product sku filled");
	ok(r.product_found, "product found");
	is_int(r.n_links, 2, "two links");
	ok(r.n_links == 2 && strcmp(r.links[0].slug, "acme") == 0 &&
	   strcmp(r.links[1].slug, "beta") == 0, "links in priority order");
	a = find_link(&r, "acme");
	b = find_link(&r, "beta");
	ok(a && b, "both links reported");
	if (a && b) {
		ok(a->available && a->asked && a->live_ok, "acme asked and answered");
		ok(a->has_cached && a->cached == 5, "acme cached 5");
		ok(a->cached_at > 0, "acme cache has an age");
		is_int(a->live, 7, "acme live 7");
		is_int(a->live_raw, 7, "acme live raw 7");
		is_str(a->error, "", "acme no error");
		ok(a->source_time > 0, "acme answer's updated_at parsed");
		ok(!b->available && !b->asked && !b->live_ok, "beta not asked");
		is_str(b->error,
		       "live checks are not available for supplier beta (no check source configured)",
		       "beta says why");
		ok(b->has_cached && b->cached == 2, "beta cached 2 still reported");
	}
	ok(!r.any_failed, "a supplier without a check source is not a failure");
	is_int(r.cached_stock, 7, "product stock before");
	is_int(r.stock, 9, "product stock after");
	ok(r.checked_at > 0, "checked_at set");
	check_result_free(&r);
	ok(r.links == NULL && r.n_links == 0, "result freed and zeroed");

	is_int(q_link_stock(db, "A-1"), 7, "cache updated");
	is_int(q_link_stock(db, "B-1"), 2, "beta's cache untouched");
	is_int(q_product_stock(db, "P1"), 9, "product recomputed");
	is_int(check_logs(db, "A-1"), 1, "stock log row with source check");
	is_int(q_int(db, "SELECT prev_stock FROM stock_log WHERE source = 'check' ORDER BY id DESC"),
	       5, "logged previous value");
	is_int(q_int(db, "SELECT COUNT(*) FROM outbox") - outbox_before, 1, "one outbox event");
	is_int(q_int(db, "SELECT COUNT(*) FROM outbox WHERE payload LIKE '%%\"source\":\"check\"%%'"),
	       1, "the event says source check");

	/* asked again: same answer, nothing new is logged */
	is_int(check_sku(db, &conf, "P1", &o, &r, &e), 0, "second check");
	is_int(r.stock, 9, "still 9");
	is_int(r.cached_stock, 9, "cached is now 9");
	is_int(check_logs(db, "A-1"), 1, "unchanged answer logs nothing");
	check_result_free(&r);
}

static void test_failures(struct db *db)
{
	struct check_result r;
	struct check_opts o = { 0 };
	struct error e = { 0 };
	const struct check_link *d, *a;

	/* P2: down D-1 (cached 4) and acme "A 2/x" (mock: 4) */
	is_int(check_sku(db, &conf, "P2", &o, &r, &e), 0, "a failed supplier still returns 0");
	d = find_link(&r, "down");
	a = find_link(&r, "acme");
	ok(d && a, "both links");
	if (d && a) {
		ok(d->available && d->asked && !d->live_ok, "down asked, no answer");
		like(d->error, "down", "error names the supplier");
		like(d->error, "D-1", "error names the SKU");
		printf("# %s\n", d->error);
		ok(d->has_cached && d->cached == 4, "down's cached figure still reported");
		ok(a->live_ok && a->live == 4, "acme answered for a SKU with a space and a slash");
	}
	ok(r.any_failed, "any_failed");
	is_int(q_link_stock(db, "D-1"), 4, "down's cache unchanged");
	is_int(r.stock, 8, "product stock from the cache and the live answer");
	check_result_free(&r);

	/* 404: the supplier does not know the SKU; the cache stays */
	is_int(check_sku(db, &conf, "P4", &o, &r, &e), 0, "404 check returns 0");
	ok(r.n_links == 1 && r.links[0].asked && !r.links[0].live_ok, "404: asked, no answer");
	if (r.n_links == 1)
		is_str(r.links[0].error, "supplier acme does not know SKU NOPE (HTTP 404)",
		       "404 message");
	ok(r.any_failed, "404 counts as failed");
	is_int(q_link_stock(db, "NOPE"), 3, "404 leaves the cache");
	is_int(r.stock, 3, "404: stock from the cache");
	check_result_free(&r);

	/* timeout: a slow supplier is given up after the check timeout */
	{
		int64_t t0 = time_mono_ms();

		is_int(check_sku(db, &conf, "P5", &o, &r, &e), 0, "slow check returns 0");
		ok(time_mono_ms() - t0 < 2500, "gave up within the check timeout (%lld ms)",
		   (long long)(time_mono_ms() - t0));
		ok(r.n_links == 1 && r.links[0].asked && !r.links[0].live_ok, "slow: no answer");
		ok(r.any_failed, "slow counts as failed");
		is_int(q_link_stock(db, "S-1"), 6, "slow: cache unchanged");
		check_result_free(&r);
	}

	/* a timeout option overrides the supplier's */
	{
		int64_t t0 = time_mono_ms();

		o.timeout_ms = 100;
		is_int(check_sku(db, &conf, "P5", &o, &r, &e), 0, "short timeout check");
		ok(time_mono_ms() - t0 < 1500, "gave up after the given timeout");
		o.timeout_ms = 0;
		check_result_free(&r);
	}

	/* no such product */
	is_int(check_sku(db, &conf, "NO-SUCH", &o, &r, &e), -1, "unknown product fails");
	is_int(e.kind, ERRK_USAGE, "usage error");
	is_str(e.msg, "no product with SKU NO-SUCH", "message");
	ok(!r.product_found, "not found");
	check_result_free(&r);
}

static void test_two_suppliers(struct db *db)
{
	struct check_result r;
	struct check_opts o = { 0 };
	struct error e = { 0 };
	const struct check_link *a, *g;

	/* P3: acme C-1 (mock 12, single object) and gamma G-1 (mock 10 in the
	 * /items list, safety buffer 1) */
	is_int(q_product_stock(db, "P3"), 2, "P3 starts at 1 + 1");
	is_int(check_sku(db, &conf, "P3", &o, &r, &e), 0, "check P3");
	a = find_link(&r, "acme");
	g = find_link(&r, "gamma");
	ok(a && g, "both suppliers reported");
	if (a && g) {
		ok(a->live_ok && a->live == 12, "acme live 12");
		ok(g->live_ok && g->live == 9 && g->live_raw == 10,
		   "gamma picked G-1 from a list, rules applied (raw 10 -> 9)");
	}
	ok(!r.any_failed, "no failure");
	is_int(r.cached_stock, 2, "before");
	is_int(r.stock, 21, "after: 12 + 9");
	is_int(q_product_stock(db, "P3"), 21, "product in the database");
	is_int(check_logs(db, "C-1") + check_logs(db, "G-1"), 2, "two check log rows");
	check_result_free(&r);

	/* by supplier SKU: only that supplier is asked */
	is_int(check_sku(db, &conf, "G-1", &(struct check_opts){ .supplier_slug = "gamma" }, &r,
	                 &e), 0, "check by supplier SKU");
	is_str(r.product_sku, "P3", "finds the product");
	ok(r.n_links == 1 && strcmp(r.links[0].slug, "gamma") == 0, "only gamma's link");
	is_int(r.stock, 21, "product stock");
	check_result_free(&r);

	is_int(check_sku(db, &conf, "C-1", &(struct check_opts){ .supplier_slug = "gamma" }, &r,
	                 &e), -1, "supplier SKU of another supplier");
	is_int(e.kind, ERRK_USAGE, "usage error");
	like(e.msg, "gamma", "names the supplier");
	check_result_free(&r);
	is_int(check_sku(db, &conf, "C-1", &(struct check_opts){ .supplier_slug = "nobody" }, &r,
	                 &e), -1, "unknown supplier");
	like(e.msg, "nobody", "names it");
	check_result_free(&r);
}

static void test_only_stale(struct db *db)
{
	struct check_result r;
	struct check_opts o = { .only_stale = true };
	struct error e = { 0 };
	const struct check_link *a, *g;
	int64_t now = time_now_ms();

	/* P3 was just checked: acme (fresh 15 min) is fresh; gamma has fresh 0 */
	is_int(check_sku(db, &conf, "P3", &o, &r, &e), 0, "only_stale check");
	a = find_link(&r, "acme");
	g = find_link(&r, "gamma");
	ok(a && g, "both reported");
	if (a && g) {
		ok(a->fresh && !a->asked, "acme is fresh: not asked");
		ok(a->cached_at >= now - 60000, "acme's cache age is the last check");
		ok(!g->fresh && g->asked && g->live_ok, "gamma is stale: asked");
	}
	check_result_free(&r);

	/* P6: F-1 synced two hours ago; file supplier fresh 10 min */
	is_int(check_sku(db, &conf, "P6", &o, &r, &e), 0, "old cache");
	ok(r.n_links == 1 && r.links[0].asked && r.links[0].live_ok, "old cache: asked");
	if (r.n_links == 1) {
		is_int(r.links[0].live, 42, "answer from a nested single object (file://)");
		ok(r.links[0].cached_at < now - 3600000, "cached_at is the old sync");
	}
	check_result_free(&r);
	/* back to an old value, then a succeeded full run started 1 min ago
	 * confirms it: fresh without touching the link row */
	{
		char *sql = xasprintf("UPDATE supplier_links SET supplier_stock = 40, raw_stock = 40,"
		                      " synced_at = %lld WHERE supplier_sku = 'F-1';"
		                      "INSERT INTO sync_runs (supplier_id, kind, status, started_at,"
		                      " finished_at) VALUES (%lld, 'full', 'succeeded', %lld, %lld)",
		                      (long long)(now - 7200000), (long long)sup_ids[S_FILE],
		                      (long long)(now - 60000), (long long)(now - 50000));
		struct error e2 = { 0 };

		if (db_exec(db, sql, &e2) != 0)
			printf("# %s\n", e2.msg);
		free(sql);
	}
	is_int(check_sku(db, &conf, "P6", &o, &r, &e), 0, "after a full run");
	ok(r.n_links == 1 && r.links[0].fresh && !r.links[0].asked,
	   "a succeeded full run counts as confirmation");
	if (r.n_links == 1)
		is_int(r.links[0].cached_at, now - 60000, "cached_at is the run's start");
	check_result_free(&r);

	/* without only_stale it is asked anyway */
	is_int(check_sku(db, &conf, "P6", &(struct check_opts){ 0 }, &r, &e), 0, "forced");
	ok(r.n_links == 1 && r.links[0].asked && r.links[0].live == 42, "asked without only_stale");
	check_result_free(&r);
}

static void test_stale_and_dry_run(struct db *db)
{
	struct check_result r;
	struct error e = { 0 };
	int64_t logs;

	/* P7: acme E-1, cached 1 with a supplier time in 2030; the mock's
	 * answer (updated 2026) is older: reported, not applied */
	is_int(check_sku(db, &conf, "P7", &(struct check_opts){ 0 }, &r, &e), 0, "stale answer");
	ok(r.n_links == 1 && r.links[0].live_ok && r.links[0].live_stale, "live_stale");
	if (r.n_links == 1)
		is_int(r.links[0].live, 8, "the live figure is still reported");
	is_int(q_link_stock(db, "E-1"), 1, "not applied");
	is_int(r.stock, 1, "product unchanged");
	check_result_free(&r);

	/* dry run: the would-be stock, nothing written */
	set_stock(db, S_ACME, "A-1", 3, time_now_ms(), 0);
	logs = q_int(db, "SELECT COUNT(*) FROM stock_log");
	is_int(check_sku(db, &conf, "P1", &(struct check_opts){ .dry_run = true }, &r, &e), 0,
	       "dry run");
	is_int(r.cached_stock, 5, "before: 3 + 2");
	is_int(r.stock, 9, "would be 7 + 2");
	is_int(q_link_stock(db, "A-1"), 3, "nothing written");
	is_int(q_int(db, "SELECT COUNT(*) FROM stock_log"), logs, "nothing logged");
	check_result_free(&r);
}

/* The SKU with a quote, a backslash and a non-ASCII letter. */
#define ODD_SKU "Q \"1\" \\ \xc3\xa9"

static void test_post(struct db *db)
{
	struct check_result r;
	struct error e = { 0 };
	char *saved, *p, *log;

	/* {"skus": {skus}}: the SKU goes as a JSON array, escaped */
	is_int(q_product_stock(db, "P11"), 2, "P11 starts at 2");
	is_int(check_sku(db, &conf, "P11", &(struct check_opts){ 0 }, &r, &e), 0, "POST check");
	ok(r.n_links == 1 && r.links[0].asked && r.links[0].live_ok, "POST: answered (%s)",
	   r.n_links == 1 ? r.links[0].error : "");
	if (r.n_links == 1)
		is_int(r.links[0].live, 11, "POST: live figure from the {\"items\":[...]} answer");
	ok(!r.any_failed, "POST: no failure");
	is_int(r.stock, 11, "POST: product stock after");
	check_result_free(&r);
	is_int(q_link_stock(db, ODD_SKU), 11, "POST: cache updated");
	is_int(check_logs(db, ODD_SKU), 1, "POST: stock log row with source check");

	/* {"sku": "{sku}"}: the SKU inside the template's quotes */
	is_int(check_sku(db, &conf, "P12", &(struct check_opts){ 0 }, &r, &e), 0, "POST sku check");
	ok(r.n_links == 1 && r.links[0].live_ok && r.links[0].live == 12,
	   "POST {sku}: live 12 (%s)", r.n_links == 1 ? r.links[0].error : "");
	check_result_free(&r);
	is_int(q_link_stock(db, "K-1"), 12, "POST {sku}: cache updated");
	is_int(q_product_stock(db, "P12"), 12, "POST {sku}: product updated");

	/* a SKU the supplier leaves out of its answer */
	is_int(check_sku(db, &conf, "P13", &(struct check_opts){ 0 }, &r, &e), 0,
	       "POST unknown SKU returns 0");
	ok(r.n_links == 1 && r.links[0].asked && !r.links[0].live_ok, "POST unknown: no answer");
	if (r.n_links == 1)
		like(r.links[0].error, "holds no item with that SKU (0 items)", "POST unknown: says why");
	ok(r.any_failed, "POST unknown: counts as failed");
	is_int(q_link_stock(db, "ZZ-9"), 5, "POST unknown: cache unchanged, not 0");
	check_result_free(&r);

	/* a SKU that is not UTF-8 cannot go into JSON: said, nothing sent */
	is_int(check_sku(db, &conf, "P14", &(struct check_opts){ 0 }, &r, &e), 0,
	       "POST non-UTF-8 SKU returns 0");
	ok(r.n_links == 1 && r.links[0].asked && !r.links[0].live_ok, "POST non-UTF-8: no answer");
	if (r.n_links == 1)
		like(r.links[0].error, "not valid UTF-8", "POST non-UTF-8: says why (%s)",
		     r.links[0].error);
	is_int(q_link_stock(db, "BAD\xff"), 5, "POST non-UTF-8: cache unchanged");
	check_result_free(&r);

	/* the mock saw the bodies and the content type */
	p = tmp_path("main.log");
	log = file_read_all(p, NULL, NULL);
	free(p);
	ok(log != NULL, "mock log read");
	if (log) {
		like(log, "POST /check auth=- key=- accept-encoding=", "POST went to /check");
		like(log, "content-type=application/json body={\"skus\": [\"Q \\\"1\\\" \\\\ \\xC3\\xA9\"]}",
		     "{skus} became a JSON array with the SKU escaped");
		like(log, "content-type=application/json body={\"sku\":\"K-1\"}", "{sku} filled in");
		like(log, "body={\"skus\": [\"ZZ-9\"]}", "one SKU per ask");
		ok(!strstr(log, "BAD"), "the non-UTF-8 SKU was never sent");
	}
	free(log);

	/* POST needs an http(s) URL: a file source with method POST fails */
	saved = sups[S_FILE].check.method;
	sups[S_FILE].check.method = (char *)"POST";
	is_int(check_sku(db, &conf, "P6", &(struct check_opts){ 0 }, &r, &e), 0, "POST file check");
	ok(r.n_links == 1 && r.links[0].asked && !r.links[0].live_ok, "POST file: no answer");
	if (r.n_links == 1) {
		like(r.links[0].error, "only http and https", "POST file: says why (%s)",
		     r.links[0].error);
		like(r.links[0].error, "F-1", "POST file: names the SKU");
	}
	ok(r.any_failed, "POST file: counts as failed");
	check_result_free(&r);
	sups[S_FILE].check.method = saved;
}

static void test_bad_answers(struct db *db)
{
	static const struct {
		const char *product, *sku, *want;
	} cases[] = {
		{ "P8", "F-2", "stock \"lots\" is not a number" },
		{ "P9", "F-3", "JSON" },
		{ "P10", "F-4", "holds no item with that SKU" },
	};
	struct check_result r;
	struct error e = { 0 };

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		is_int(check_sku(db, &conf, cases[i].product, &(struct check_opts){ 0 }, &r, &e), 0,
		       "%s: a bad answer is not a database error", cases[i].sku);
		ok(r.n_links == 1 && r.links[0].asked && !r.links[0].live_ok, "%s: no live figure",
		   cases[i].sku);
		if (r.n_links == 1) {
			like(r.links[0].error, cases[i].want, "%s: says why", cases[i].sku);
			like(r.links[0].error, cases[i].sku, "%s: names the SKU", cases[i].sku);
			printf("# %s\n", r.links[0].error);
		}
		ok(r.any_failed, "%s: counts as failed", cases[i].sku);
		is_int(q_link_stock(db, cases[i].sku), 5, "%s: cache unchanged, not 0", cases[i].sku);
		check_result_free(&r);
	}
}

int main(void)
{
	struct mock m, slow, dead;
	struct error e = { 0 };
	struct db *db = NULL;
	char *p, *logp;
	int64_t now;

	setenv("NO_PROXY", "127.0.0.1,localhost", 1);
	setenv("no_proxy", "127.0.0.1,localhost", 1);
	http_global_init();
	if (!mock_bin()) {
		printf("1..0 # SKIP MOCK_SUPPLIER not set or not executable\n");
		http_global_cleanup();
		return 0;
	}
	tmpdir = tmp_make("test_check");

	tmp_write_text("items.json",
	               "[{\"sku\":\"A-1\",\"stock\":7,\"updated_at\":\"2026-11-27T08:00:00Z\"},"
	               "{\"sku\":\"A 2/x\",\"stock\":4},"
	               "{\"sku\":\"C-1\",\"stock\":\"12\"},"
	               "{\"sku\":\"G-1\",\"stock\":10},"
	               "{\"sku\":\"S-1\",\"stock\":9},"
	               "{\"sku\":\"E-1\",\"stock\":8,\"updated_at\":\"2026-01-01T00:00:00Z\"},"
	               "{\"sku\":\"K-1\",\"stock\":\"12\"},"
	               "{\"sku\":\"Q \\\"1\\\" \\\\ \xc3\xa9\",\"stock\":11}]\n");
	tmp_write_text("check-F-1.json",
	               "{\"success\":true,\"data\":{\"sku\":\"F-1\",\"stock\":42}}\n");
	tmp_write_text("check-F-2.json", "{\"data\":{\"sku\":\"F-2\",\"stock\":\"lots\"}}\n");
	tmp_write_text("check-F-3.json", "{\"data\":{\"sku\":\"F-3\",\"stock\":");
	tmp_write_text("check-F-4.json", "{\"data\":[{\"sku\":\"F-40\",\"stock\":1}]}\n");
	p = tmp_path("items.json");
	logp = tmp_path("main.log");
	if (mock_start(&m, "main", "--items", p, "--log", logp, NULL) != 0 ||
	    mock_start(&slow, "slow", "--items", p, "--check-delay-ms", "3000", NULL) != 0 ||
	    mock_start(&dead, "dead", "--items", p, NULL) != 0) {
		printf("Bail out! the mock supplier did not start\n");
		free(p);
		free(logp);
		return 99;
	}
	free(p);
	free(logp);
	mock_stop(&dead);     /* its port now refuses connections */

	sup_init(&sups[S_ACME], "acme", 10);
	sup_check(&sups[S_ACME], xasprintf("http://127.0.0.1:%d/check/{sku}", m.port), NULL);
	sup_init(&sups[S_BETA], "beta", 20);
	sup_init(&sups[S_DOWN], "down", 30);
	sup_check(&sups[S_DOWN], xasprintf("http://127.0.0.1:%d/check/{sku}", dead.port), NULL);
	sup_init(&sups[S_GAMMA], "gamma", 40);
	sup_check(&sups[S_GAMMA], xasprintf("http://127.0.0.1:%d/items?q={sku}", m.port), "data.items");
	sups[S_GAMMA].rules.safety_buffer = 1;
	sups[S_GAMMA].fresh_ms = 0;
	sup_init(&sups[S_SLOW], "slow", 50);
	sup_check(&sups[S_SLOW], xasprintf("http://127.0.0.1:%d/check/{sku}", slow.port), NULL);
	sups[S_SLOW].check.timeout_ms = 300;
	sup_init(&sups[S_FILE], "file", 60);
	sup_check(&sups[S_FILE], xasprintf("file://%s/check-{sku}.json", tmpdir), "data");
	sups[S_FILE].fresh_ms = 600000;
	sup_init(&sups[S_POST], "post", 70);
	sup_check(&sups[S_POST], xasprintf("http://127.0.0.1:%d/check", m.port), "items");
	sups[S_POST].check.method = xstrdup("POST");
	sups[S_POST].check.body = xstrdup("{\"skus\": {skus}}");
	sups[S_POST].check.content_type = xstrdup("application/json");
	sup_init(&sups[S_POST1], "post1", 80);
	sup_check(&sups[S_POST1], xasprintf("http://127.0.0.1:%d/check", m.port), "items");
	sups[S_POST1].check.method = xstrdup("POST");
	sups[S_POST1].check.body = xstrdup("{\"sku\":\"{sku}\"}");
	conf.suppliers = sups;
	conf.n_suppliers = N_SUP;
	conf.aggregate = AGG_SUM;

	p = tmp_path("db.sqlite");
	db = db_open(p, &e);
	free(p);
	if (!db) {
		printf("Bail out! db_open: %s\n", e.msg);
		return 99;
	}
	for (int i = 0; i < N_SUP; i++)
		if (suppliers_upsert(db, &sups[i], &sup_ids[i], &e) != 0)
			printf("# upsert: %s\n", e.msg);
	add_link(db, "P1", S_ACME, "A-1");
	add_link(db, "P1", S_BETA, "B-1");
	add_link(db, "P2", S_DOWN, "D-1");
	add_link(db, "P2", S_ACME, "A 2/x");
	add_link(db, "P3", S_ACME, "C-1");
	add_link(db, "P3", S_GAMMA, "G-1");
	add_link(db, "P4", S_ACME, "NOPE");
	add_link(db, "P5", S_SLOW, "S-1");
	add_link(db, "P6", S_FILE, "F-1");
	add_link(db, "P7", S_ACME, "E-1");
	add_link(db, "P8", S_FILE, "F-2");
	add_link(db, "P9", S_FILE, "F-3");
	add_link(db, "P10", S_FILE, "F-4");
	add_link(db, "P11", S_POST, ODD_SKU);
	add_link(db, "P12", S_POST1, "K-1");
	add_link(db, "P13", S_POST, "ZZ-9");
	add_link(db, "P14", S_POST, "BAD\xff");
	now = time_now_ms();
	set_stock(db, S_ACME, "A-1", 5, now - 600000, 0);
	set_stock(db, S_BETA, "B-1", 2, now - 600000, 0);
	set_stock(db, S_DOWN, "D-1", 4, now - 600000, 0);
	set_stock(db, S_ACME, "A 2/x", 1, now - 600000, 0);
	set_stock(db, S_ACME, "C-1", 1, now - 600000, 0);
	set_stock(db, S_GAMMA, "G-1", 2, now - 600000, 0);   /* 2 - buffer 1 */
	set_stock(db, S_ACME, "NOPE", 3, now - 600000, 0);
	set_stock(db, S_SLOW, "S-1", 6, now - 600000, 0);
	set_stock(db, S_FILE, "F-1", 40, now - 7200000, 0);
	set_stock(db, S_ACME, "E-1", 1, now - 600000, 1893456000000LL);   /* 2030 */
	set_stock(db, S_FILE, "F-2", 5, now - 600000, 0);
	set_stock(db, S_FILE, "F-3", 5, now - 600000, 0);
	set_stock(db, S_FILE, "F-4", 5, now - 600000, 0);
	set_stock(db, S_POST, ODD_SKU, 2, now - 600000, 0);
	set_stock(db, S_POST1, "K-1", 3, now - 600000, 0);
	set_stock(db, S_POST, "ZZ-9", 5, now - 600000, 0);
	set_stock(db, S_POST, "BAD\xff", 5, now - 600000, 0);

	test_live_updates_cache(db);
	test_failures(db);
	test_two_suppliers(db);
	test_only_stale(db);
	test_stale_and_dry_run(db);
	test_post(db);
	test_bad_answers(db);

	db_close(db);
	mock_stop(&m);
	mock_stop(&slow);
	for (int i = 0; i < N_SUP; i++)
		sup_free(&sups[i]);
	tmp_remove();
	http_global_cleanup();
	return tap_done();
}
