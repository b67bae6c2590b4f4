/* gen_history.c - benchmark helper: a large stock history for the console.
 *
 *   gen_history links N FILE SLUG...     catalogue CSV of N linked SKUs, link i
 *                                        at supplier SLUG[i % count]: product
 *                                        "P-%07d", supplier SKU "SKU-%07d"
 *   gen_history fill DB ROWS DAYS SEED   appends ROWS stock_log rows to DB (a
 *                                        dropstock database whose links exist),
 *                                        spread over the DAYS days up to now;
 *                                        prints "filled: ROWS ms" on stderr
 *
 * fill writes directly with SQLite, in one transaction with one prepared
 * statement.  The stock_log indexes are dropped first and created again
 * from their own definitions afterwards (a sorted build is several times
 * faster than 10 million random index inserts), so the result has exactly
 * the schema dropstock made.  Rows come in time order, as real ones do; a
 * link's changes chain (prev is its previous new value; the first has
 * none); one link in ten changes ten times as often as the others; sources
 * are full 55%, delta 25%, webhook 12%, check 6%, manual 2%, full and delta
 * rows carrying the id of an hourly run.
 */
#include "config.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct link {
	int64_t id, supplier_id, product_id;
	char *sku;
	int64_t last;              /* -1 = no value yet */
};

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int gen_links(long n, const char *path, char **slugs, int nslugs)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return 1;
	fprintf(f, "product_sku,product_name,supplier_slug,supplier_sku\n");
	for (long i = 0; i < n; i++)
		fprintf(f, "P-%07ld,Product %ld,%s,SKU-%07ld\n", i, i, slugs[i % nslugs], i);
	return fclose(f) != 0;
}

static int exec(sqlite3 *h, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "gen_history: %s: %s\n", sql, msg ? msg : "?");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static const char *const source_names[] = { "full", "delta", "webhook", "check", "manual" };

static int pick_source(void)
{
	unsigned r = (unsigned)(rng() % 100);

	if (r < 55)
		return 0;
	if (r < 80)
		return 1;
	if (r < 92)
		return 2;
	if (r < 98)
		return 3;
	return 4;
}

static int fill(const char *path, long rows, long days, unsigned long seed)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	struct link *links = NULL;
	char **index_sql = NULL;     /* name, sql, name, sql, ... */
	long nlinks = 0, cap = 0, nindex = 0, hot;
	int64_t end, start, span, t0 = mono_ms();
	int ret = 1;

	rng_state = seed ? seed : 1;
	if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		fprintf(stderr, "gen_history: %s: %s\n", path, h ? sqlite3_errmsg(h) : "?");
		goto out;
	}
	if (exec(h, "PRAGMA journal_mode = DELETE") < 0 ||
	    exec(h, "PRAGMA synchronous = OFF") < 0 ||
	    exec(h, "PRAGMA cache_size = -1048576") < 0 ||
	    exec(h, "PRAGMA temp_store = MEMORY") < 0)
		goto out;

	if (sqlite3_prepare_v2(h, "SELECT id, supplier_id, product_id, supplier_sku"
	                          " FROM supplier_links ORDER BY id", -1, &st, NULL) != SQLITE_OK)
		goto sqlerr;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (nlinks == cap) {
			cap = cap ? cap * 2 : 1024;
			links = realloc(links, (size_t)cap * sizeof(*links));
			if (!links)
				goto out;
		}
		links[nlinks].id = sqlite3_column_int64(st, 0);
		links[nlinks].supplier_id = sqlite3_column_int64(st, 1);
		links[nlinks].product_id = sqlite3_column_int64(st, 2);
		links[nlinks].sku = strdup((const char *)sqlite3_column_text(st, 3));
		links[nlinks].last = -1;
		nlinks++;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (nlinks == 0) {
		fprintf(stderr, "gen_history: %s has no supplier links\n", path);
		goto out;
	}

	if (exec(h, "BEGIN") < 0)
		goto out;
	/* the stock_log indexes, kept to be built again after the rows */
	if (sqlite3_prepare_v2(h, "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
	                          " AND tbl_name = 'stock_log' AND sql IS NOT NULL",
	                       -1, &st, NULL) != SQLITE_OK)
		goto sqlerr;
	while (sqlite3_step(st) == SQLITE_ROW) {
		index_sql = realloc(index_sql, (size_t)(nindex + 1) * 2 * sizeof(*index_sql));
		if (!index_sql)
			goto out;
		index_sql[2 * nindex] = strdup((const char *)sqlite3_column_text(st, 0));
		index_sql[2 * nindex + 1] = strdup((const char *)sqlite3_column_text(st, 1));
		nindex++;
	}
	sqlite3_finalize(st);
	st = NULL;
	for (long i = 0; i < nindex; i++) {
		char *drop = sqlite3_mprintf("DROP INDEX \"%w\"", index_sql[2 * i]);
		int rc = drop ? exec(h, drop) : -1;

		sqlite3_free(drop);
		if (rc < 0)
			goto out;
	}

	if (sqlite3_prepare_v2(h, "INSERT INTO stock_log (link_id, product_id, supplier_id,"
	                          " supplier_sku, prev_stock, new_stock, source, run_id,"
	                          " recorded_at, source_time)"
	                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	                       -1, &st, NULL) != SQLITE_OK)
		goto sqlerr;
	end = now_ms() - 60 * 1000;
	span = (int64_t)days * 24 * 3600 * 1000;
	start = end - span;
	hot = nlinks / 10 > 0 ? nlinks / 10 : 1;
	for (long i = 0; i < rows; i++) {
		int64_t at = start + (int64_t)((double)span * (double)i / (double)rows);
		int src = pick_source();
		struct link *l;
		int64_t v;

		/* half the changes go to the hot tenth of the links */
		if (rng() % 2)
			l = &links[rng() % (uint64_t)hot];
		else
			l = &links[rng() % (uint64_t)nlinks];
		do
			v = (int64_t)(rng() % 120);
		while (v == l->last);
		sqlite3_bind_int64(st, 1, l->id);
		sqlite3_bind_int64(st, 2, l->product_id);
		sqlite3_bind_int64(st, 3, l->supplier_id);
		sqlite3_bind_text(st, 4, l->sku, -1, SQLITE_STATIC);
		if (l->last >= 0)
			sqlite3_bind_int64(st, 5, l->last);
		else
			sqlite3_bind_null(st, 5);
		sqlite3_bind_int64(st, 6, v);
		sqlite3_bind_text(st, 7, source_names[src], -1, SQLITE_STATIC);
		if (src <= 1)
			sqlite3_bind_int64(st, 8, 1 + (at - start) / (3600 * 1000));
		else
			sqlite3_bind_null(st, 8);
		sqlite3_bind_int64(st, 9, at);
		if (src == 3 || src == 4)
			sqlite3_bind_null(st, 10);
		else
			sqlite3_bind_int64(st, 10, at - (int64_t)(rng() % (15 * 60 * 1000)));
		if (sqlite3_step(st) != SQLITE_DONE)
			goto sqlerr;
		sqlite3_reset(st);
		l->last = v;
	}
	sqlite3_finalize(st);
	st = NULL;
	for (long i = 0; i < nindex; i++)
		if (exec(h, index_sql[2 * i + 1]) < 0)
			goto out;
	if (exec(h, "COMMIT") < 0 || exec(h, "PRAGMA journal_mode = WAL") < 0)
		goto out;
	fprintf(stderr, "filled: %ld %lld\n", rows, (long long)(mono_ms() - t0));
	ret = 0;
	goto out;
sqlerr:
	fprintf(stderr, "gen_history: %s: %s\n", path, sqlite3_errmsg(h));
out:
	sqlite3_finalize(st);
	sqlite3_close(h);
	for (long i = 0; i < nlinks; i++)
		free(links[i].sku);
	free(links);
	for (long i = 0; i < 2 * nindex; i++)
		free(index_sql[i]);
	free(index_sql);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc >= 5 && strcmp(argv[1], "links") == 0)
		return gen_links(atol(argv[2]), argv[3], argv + 4, argc - 4);
	if (argc == 6 && strcmp(argv[1], "fill") == 0)
		return fill(argv[2], atol(argv[3]), atol(argv[4]), strtoul(argv[5], NULL, 10));
	fprintf(stderr, "usage: gen_history links N FILE SLUG...\n"
	                "       gen_history fill DB ROWS DAYS SEED\n");
	return 2;
}
