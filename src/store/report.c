/* report.c - read-only queries behind the listing commands. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/report.h"
#include "store/store.h"

/* Column helpers: NULL columns read as 0 / NULL. */
static int64_t col_i64(sqlite3_stmt *st, int i)
{
	return sqlite3_column_int64(st, i);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return NULL;
	return (const char *)sqlite3_column_text(st, i);
}

static bool col_null(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL;
}

/* Binds text or NULL. */
static int bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (!s)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

/* Steps the statement to its end, calling row() for each row.  row returns
 * 0 to go on, -1 to stop (its error stands).  Always resets the statement so
 * that no read transaction stays open. */
static int run_rows(struct db *db, sqlite3_stmt *st, const char *what,
                    int (*row)(sqlite3_stmt *st, void *ctx), void *ctx, struct error *err)
{
	int rc, ret = -1;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (row(st, ctx) < 0)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		db_error(db, err, what);
		goto out;
	}
	ret = 0;
out:
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return ret;
}

int report_supplier_id(struct db *db, const char *slug, int64_t *id, struct error *err)
{
	int rc = suppliers_find(db, slug, id, err);

	if (rc == 0)
		return err_set(err, ERRK_USAGE,
		               _("no supplier \"%s\" in the database (see: dropstock suppliers)"), slug);
	return rc < 0 ? -1 : 0;
}

/* ---- suppliers ---- */

struct sup_ctx {
	int (*cb)(void *ud, const struct report_supplier *s);
	void *ud;
	struct error *err;
};

static int sup_row(sqlite3_stmt *st, void *p)
{
	struct sup_ctx *c = p;
	struct report_supplier s;

	memset(&s, 0, sizeof(s));
	s.id = col_i64(st, 0);
	s.slug = col_text(st, 1);
	s.name = col_text(st, 2);
	s.active = col_i64(st, 3) != 0;
	s.priority = col_i64(st, 4);
	s.links = col_i64(st, 5);
	s.last_full_at = col_i64(st, 6);
	s.last_full_status = col_text(st, 7);
	s.last_delta_at = col_i64(st, 8);
	s.last_delta_status = col_text(st, 9);
	s.running_run_id = col_i64(st, 10);
	s.running_started_at = col_i64(st, 11);
	s.running_heartbeat_at = col_i64(st, 12);
	s.running_done = col_i64(st, 13);
	s.running_total = col_i64(st, 14);
	if (!s.slug)
		s.slug = "";
	if (c->cb(c->ud, &s) < 0)
		return -1;
	return 0;
}

int report_suppliers(struct db *db, int (*cb)(void *ud, const struct report_supplier *s),
                     void *ud, struct error *err)
{
	struct sup_ctx c = { cb, ud, err };
	sqlite3_stmt *st;

	st = db_stmt(db,
	             "SELECT s.id, s.slug, s.name, s.active, s.priority,"
	             " (SELECT count(*) FROM supplier_links k WHERE k.supplier_id = s.id),"
	             " s.last_full_at, s.last_full_status, s.last_delta_at, s.last_delta_status,"
	             " r.id, r.started_at, r.heartbeat_at, r.done, r.total"
	             " FROM suppliers s"
	             " LEFT JOIN sync_runs r ON r.id = (SELECT max(id) FROM sync_runs"
	             "   WHERE supplier_id = s.id AND status = 'running')"
	             " ORDER BY s.slug",
	             err);
	if (!st)
		return -1;
	return run_rows(db, st, _("listing suppliers"), sup_row, &c, err);
}

/* ---- runs ---- */

struct run_ctx {
	int (*cb)(void *ud, const struct report_run *r);
	void *ud;
	struct error *err;
};

static int run_row(sqlite3_stmt *st, void *p)
{
	struct run_ctx *c = p;
	struct report_run r;

	memset(&r, 0, sizeof(r));
	r.id = col_i64(st, 0);
	r.supplier_id = col_i64(st, 1);
	r.supplier = col_text(st, 2);
	r.kind = col_text(st, 3);
	r.trigger = col_text(st, 4);
	r.status = col_text(st, 5);
	r.attempt = col_i64(st, 6);
	r.next_attempt_at = col_i64(st, 7);
	r.pid = col_i64(st, 8);
	r.started_at = col_i64(st, 9);
	r.finished_at = col_i64(st, 10);
	r.heartbeat_at = col_i64(st, 11);
	r.done = col_i64(st, 12);
	r.total = col_i64(st, 13);
	r.pages = col_i64(st, 14);
	r.bytes = col_i64(st, 15);
	r.seen = col_i64(st, 16);
	r.changed = col_i64(st, 17);
	r.unknown = col_i64(st, 18);
	r.invalid = col_i64(st, 19);
	r.stale = col_i64(st, 20);
	r.zeroed = col_i64(st, 21);
	r.error = col_text(st, 22);
	r.dry_run = col_i64(st, 23) != 0;
	if (!r.supplier)
		r.supplier = "";
	if (!r.kind)
		r.kind = "";
	if (!r.trigger)
		r.trigger = "";
	if (!r.status)
		r.status = "";
	if (c->cb(c->ud, &r) < 0)
		return -1;
	return 0;
}

int report_runs(struct db *db, const char *supplier, int64_t limit,
                int (*cb)(void *ud, const struct report_run *r), void *ud, struct error *err)
{
	struct run_ctx c = { cb, ud, err };
	sqlite3_stmt *st;
	int64_t sid = 0;

	if (supplier && report_supplier_id(db, supplier, &sid, err) < 0)
		return -1;
	st = db_stmt(db,
	             "SELECT r.id, r.supplier_id, s.slug, r.kind, r.\"trigger\", r.status,"
	             " r.attempt, r.next_attempt_at, r.pid, r.started_at, r.finished_at,"
	             " r.heartbeat_at, r.done, r.total, r.pages, r.bytes, r.seen, r.changed,"
	             " r.unknown, r.invalid, r.stale, r.zeroed, r.error, r.dry_run"
	             " FROM sync_runs r LEFT JOIN suppliers s ON s.id = r.supplier_id"
	             " WHERE (?1 IS NULL OR r.supplier_id = ?1)"
	             " ORDER BY r.id DESC LIMIT ?2",
	             err);
	if (!st)
		return -1;
	if (supplier)
		sqlite3_bind_int64(st, 1, sid);
	sqlite3_bind_int64(st, 2, limit > 0 ? limit : 0);
	return run_rows(db, st, _("listing sync runs"), run_row, &c, err);
}

/* ---- history ---- */

char *report_cursor_format(const struct report_cursor *c, char out[48])
{
	snprintf(out, 48, "%" PRId64 ".%" PRId64, c->recorded_at, c->id);
	return out;
}

bool report_cursor_parse(const char *s, struct report_cursor *out)
{
	const char *dot;
	char head[24];
	size_t n;
	int64_t at, id;

	if (!s || !(dot = strchr(s, '.')))
		return false;
	n = (size_t)(dot - s);
	if (n == 0 || n >= sizeof(head))
		return false;
	memcpy(head, s, n);
	head[n] = '\0';
	/* digits only: no blanks, signs or other text inside a cursor */
	for (const char *p = s; *p; p++)
		if (p != dot && (*p < '0' || *p > '9'))
			return false;
	if (!str_to_i64(head, &at) || !str_to_i64(dot + 1, &id) || id <= 0)
		return false;
	out->recorded_at = at;
	out->id = id;
	return true;
}

/* "ab%c_" -> "%ab\%c\_%" for LIKE ... ESCAPE '\'. */
static char *like_pattern(const char *s)
{
	struct buf b = BUF_INIT;

	buf_putc(&b, '%');
	for (; *s; s++) {
		if (*s == '%' || *s == '_' || *s == '\\')
			buf_putc(&b, '\\');
		buf_putc(&b, *s);
	}
	buf_putc(&b, '%');
	return buf_steal(&b);
}

struct hist_ctx {
	int (*cb)(void *ud, const struct report_history_row *r);
	void *ud;
	struct error *err;
	int64_t limit;
	int64_t n;
	bool more;
	struct report_cursor last;
};

static int hist_row(sqlite3_stmt *st, void *p)
{
	struct hist_ctx *c = p;
	struct report_history_row r;

	if (c->n >= c->limit) {
		/* the extra row fetched only to learn that another page exists */
		c->more = true;
		return 0;
	}
	memset(&r, 0, sizeof(r));
	r.id = col_i64(st, 0);
	r.recorded_at = col_i64(st, 1);
	r.supplier = col_text(st, 2);
	r.supplier_sku = col_text(st, 3);
	r.product_id = col_i64(st, 4);
	r.product_sku = col_text(st, 5);
	r.product_name = col_text(st, 6);
	r.has_prev = !col_null(st, 7);
	r.prev = col_i64(st, 7);
	r.new_stock = col_i64(st, 8);
	r.source = col_text(st, 9);
	r.run_id = col_i64(st, 10);
	r.source_time = col_i64(st, 11);
	if (!r.source)
		r.source = "";
	c->n++;
	c->last.recorded_at = r.recorded_at;
	c->last.id = r.id;
	if (c->cb(c->ud, &r) < 0)
		return -1;
	return 0;
}

#define HIST_SELECT \
	"SELECT l.id, l.recorded_at, s.slug, l.supplier_sku, l.product_id," \
	" p.sku, p.name, l.prev_stock, l.new_stock, l.source, l.run_id," \
	" l.source_time" \
	" FROM stock_log l" \
	" LEFT JOIN suppliers s ON s.id = l.supplier_id" \
	" LEFT JOIN products p ON p.id = l.product_id"
#define HIST_REST \
	" AND (?3 IS NULL OR l.supplier_sku LIKE ?3 ESCAPE '\\'" \
	"      OR p.sku LIKE ?3 ESCAPE '\\')" \
	" AND (?4 IS NULL OR l.supplier_id = ?4)" \
	" AND l.recorded_at >= ?5" \
	" AND (?6 IS NULL OR l.source = ?6)" \
	" ORDER BY l.recorded_at DESC, l.id DESC LIMIT ?7"
/* The rows a SKU pattern matches, newest first, from the indexes alone: a
 * row's supplier sku is its link's (links never change their sku) unless
 * the link is gone (link_id NULL, the sku then read from the row); its
 * store sku is its product's.  Only the newest ?8 are taken (-1: all, when
 * a supplier or source filter must still read the rows); UNION drops a
 * row that matches by both skus. */
#define HIST_SPARSE_BOUNDS " AND (recorded_at, id) < (?1, ?2) AND recorded_at >= ?5"
#define HIST_SPARSE_IDS \
	"SELECT id FROM (SELECT id, recorded_at FROM stock_log WHERE link_id IN" \
	" (SELECT id FROM supplier_links WHERE supplier_sku LIKE ?3 ESCAPE '\\')" \
	HIST_SPARSE_BOUNDS \
	" UNION SELECT id, recorded_at FROM stock_log WHERE product_id IN" \
	" (SELECT id FROM products WHERE sku LIKE ?3 ESCAPE '\\')" \
	HIST_SPARSE_BOUNDS \
	" UNION SELECT id, recorded_at FROM stock_log WHERE link_id IS NULL" \
	" AND supplier_sku LIKE ?3 ESCAPE '\\'" HIST_SPARSE_BOUNDS \
	" ORDER BY recorded_at DESC, id DESC LIMIT ?8)"
/* Above this many candidate rows the walk back through the time index
 * finds a page as soon as sorting the candidates, matches being dense
 * enough: on 10 million rows (make bench), 55,000 candidates take about
 * 10 ms either way, one SKU's 500 to 5,000 rows take under 10 ms sorted
 * and 100 to 900 ms walked. */
#define HIST_SPARSE_MAX 50000
/* ... and when a supplier or source filter has every candidate row read */
#define HIST_SPARSE_MAX_READ 5000

/* Whether a SKU filter matches at most max rows, few enough to gather them
 * by link and product.  Counts index entries only, and at most max + 1;
 * rows whose link is gone count whatever their sku, since checking it
 * would read each of them. */
static int hist_sparse(struct db *db, const char *pattern, int64_t max, bool *sparse,
                       struct error *err)
{
	sqlite3_stmt *st;
	int rc, ret = -1;

	*sparse = false;
	st = db_stmt(db,
	             "SELECT count(*) FROM (SELECT 1 FROM stock_log WHERE link_id IN"
	             " (SELECT id FROM supplier_links WHERE supplier_sku LIKE ?1 ESCAPE '\\')"
	             " UNION ALL SELECT 1 FROM stock_log WHERE product_id IN"
	             " (SELECT id FROM products WHERE sku LIKE ?1 ESCAPE '\\')"
	             " UNION ALL SELECT 1 FROM stock_log WHERE link_id IS NULL"
	             " LIMIT ?2)",
	             err);
	if (!st)
		return -1;
	bind_text(st, 1, pattern);
	sqlite3_bind_int64(st, 2, max + 1);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		db_error(db, err, _("reading the stock history"));
		goto out;
	}
	*sparse = col_i64(st, 0) <= max;
	ret = 0;
out:
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return ret;
}

int report_history(struct db *db, const struct report_history_filter *f,
                   int (*cb)(void *ud, const struct report_history_row *r), void *ud,
                   bool *has_more, struct report_cursor *next, struct error *err)
{
	struct hist_ctx c;
	sqlite3_stmt *st;
	char *pattern = NULL;
	int64_t sid = 0;
	bool sparse = false;
	int ret = -1;

	memset(&c, 0, sizeof(c));
	c.cb = cb;
	c.ud = ud;
	c.err = err;
	c.limit = f->limit > 0 ? f->limit : 50;
	if (has_more)
		*has_more = false;
	if (f->supplier && report_supplier_id(db, f->supplier, &sid, err) < 0)
		goto out;
	if (!str_empty(f->sku)) {
		pattern = like_pattern(f->sku);
		if (hist_sparse(db, pattern, f->supplier || f->source ? HIST_SPARSE_MAX_READ
		                                                      : HIST_SPARSE_MAX,
		                &sparse, err) < 0)
			goto out;
	}
	/* No OR around the keyset and since bounds: with no cursor the key is
	 * compared with the largest one and with no since with the smallest, so
	 * the (recorded_at, id) index serves every page as a bounded range.
	 * A SKU filter that matches few rows instead gathers them by link and
	 * product (see hist_sparse) and sorts them; the unary + keeps the
	 * planner from walking the time index for it. */
	st = db_stmt(db, sparse ? HIST_SELECT
	             " WHERE (+l.recorded_at, l.id) < (?1, ?2)"
	             " AND l.id IN (" HIST_SPARSE_IDS ")" HIST_REST
	             : HIST_SELECT
	             " WHERE (l.recorded_at, l.id) < (?1, ?2)" HIST_REST,
	             err);
	if (!st)
		goto out;
	if (f->has_after) {
		sqlite3_bind_int64(st, 1, f->after.recorded_at);
		sqlite3_bind_int64(st, 2, f->after.id);
	} else {
		sqlite3_bind_int64(st, 1, INT64_MAX);
		sqlite3_bind_int64(st, 2, INT64_MAX);
	}
	if (pattern)
		bind_text(st, 3, pattern);
	if (f->supplier)
		sqlite3_bind_int64(st, 4, sid);
	sqlite3_bind_int64(st, 5, f->since > 0 ? f->since : INT64_MIN);
	if (f->source)
		bind_text(st, 6, f->source);
	sqlite3_bind_int64(st, 7, c.limit + 1);
	if (sparse)
		sqlite3_bind_int64(st, 8, f->supplier || f->source ? -1 : c.limit + 1);
	if (run_rows(db, st, _("reading the stock history"), hist_row, &c, err) < 0)
		goto out;
	if (has_more)
		*has_more = c.more;
	if (next && c.more)
		*next = c.last;
	ret = 0;
out:
	free(pattern);
	return ret;
}

/* ---- unknown SKUs ---- */

struct unk_ctx {
	int (*cb)(void *ud, const struct report_unknown_row *r);
	void *ud;
	struct error *err;
};

static int unk_row(sqlite3_stmt *st, void *p)
{
	struct unk_ctx *c = p;
	struct report_unknown_row r;

	memset(&r, 0, sizeof(r));
	r.supplier = col_text(st, 0);
	r.supplier_sku = col_text(st, 1);
	r.first_seen = col_i64(st, 2);
	r.last_seen = col_i64(st, 3);
	r.has_stock = !col_null(st, 4);
	r.last_stock = col_i64(st, 4);
	r.times_seen = col_i64(st, 5);
	if (!r.supplier)
		r.supplier = "";
	if (!r.supplier_sku)
		r.supplier_sku = "";
	if (c->cb(c->ud, &r) < 0)
		return -1;
	return 0;
}

int report_unknown(struct db *db, const char *supplier,
                   int (*cb)(void *ud, const struct report_unknown_row *r),
                   void *ud, struct error *err)
{
	struct unk_ctx c = { cb, ud, err };
	sqlite3_stmt *st;
	int64_t sid = 0;

	if (supplier && report_supplier_id(db, supplier, &sid, err) < 0)
		return -1;
	st = db_stmt(db,
	             "SELECT s.slug, u.supplier_sku, u.first_seen, u.last_seen, u.last_stock,"
	             " u.times_seen"
	             " FROM unknown_skus u JOIN suppliers s ON s.id = u.supplier_id"
	             " WHERE (?1 IS NULL OR u.supplier_id = ?1)"
	             /* linked since it was recorded (e.g. by a catalogue import) */
	             " AND NOT EXISTS (SELECT 1 FROM supplier_links k"
	             "   WHERE k.supplier_id = u.supplier_id AND k.supplier_sku = u.supplier_sku)"
	             " ORDER BY s.slug, u.last_seen DESC, u.supplier_sku",
	             err);
	if (!st)
		return -1;
	if (supplier)
		sqlite3_bind_int64(st, 1, sid);
	return run_rows(db, st, _("listing unknown SKUs"), unk_row, &c, err);
}

/* ---- products ---- */

struct prod_ctx {
	int (*cb)(void *ud, const struct report_product *p);
	void *ud;
	struct error *err;
};

/* The columns product_from_row reads. */
#define PRODUCT_COLS "id, sku, name, stock, available, updated_at"

static void product_from_row(sqlite3_stmt *st, struct report_product *r)
{
	memset(r, 0, sizeof(*r));
	r->id = col_i64(st, 0);
	r->sku = col_text(st, 1);
	r->name = col_text(st, 2);
	r->stock = col_i64(st, 3);
	/* no availability flag stored: available means stock > 0 */
	r->available = col_null(st, 4) ? r->stock > 0 : col_i64(st, 4) != 0;
	r->updated_at = col_i64(st, 5);
	if (!r->sku)
		r->sku = "";
}

static int prod_row(sqlite3_stmt *st, void *p)
{
	struct prod_ctx *c = p;
	struct report_product r;

	product_from_row(st, &r);
	if (c->cb(c->ud, &r) < 0)
		return -1;
	return 0;
}

int report_products(struct db *db, int64_t changed_since,
                    int (*cb)(void *ud, const struct report_product *p),
                    void *ud, struct error *err)
{
	struct prod_ctx c = { cb, ud, err };
	sqlite3_stmt *st;

	st = db_stmt(db,
	             "SELECT " PRODUCT_COLS " FROM products"
	             " WHERE (?1 IS NULL OR updated_at >= ?1)"
	             " ORDER BY sku",
	             err);
	if (!st)
		return -1;
	if (changed_since > 0)
		sqlite3_bind_int64(st, 1, changed_since);
	return run_rows(db, st, _("exporting products"), prod_row, &c, err);
}

int report_products_changed(struct db *db, int64_t changed_since, int64_t limit,
                            const struct report_cursor *after,
                            int (*cb)(void *ud, const struct report_product *p), void *ud,
                            bool *has_more, struct report_cursor *next, struct error *err)
{
	sqlite3_stmt *st;
	struct report_product r;
	int64_t given = 0;
	int rc, ret = -1;

	*has_more = false;
	if (limit <= 0)
		return err_set(err, ERRK_INTERNAL, _("changed products: page size %lld is not positive"),
		               (long long)limit);
	/* (updated_at, id) row values use the products_updated index */
	if (after)
		st = db_stmt(db,
		             "SELECT " PRODUCT_COLS " FROM products"
		             " WHERE updated_at >= ?1 AND (updated_at, id) > (?2, ?3)"
		             " ORDER BY updated_at, id LIMIT ?4",
		             err);
	else
		st = db_stmt(db,
		             "SELECT " PRODUCT_COLS " FROM products"
		             " WHERE updated_at >= ?1"
		             " ORDER BY updated_at, id LIMIT ?4",
		             err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, changed_since);
	if (after) {
		sqlite3_bind_int64(st, 2, after->recorded_at);
		sqlite3_bind_int64(st, 3, after->id);
	}
	/* one row more than asked tells whether another page exists */
	sqlite3_bind_int64(st, 4, limit + 1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (given == limit) {
			*has_more = true;
			break;
		}
		product_from_row(st, &r);
		if (next) {
			next->recorded_at = r.updated_at;
			next->id = r.id;
		}
		given++;
		if (cb(ud, &r) < 0)
			goto out;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		db_error(db, err, _("listing changed products"));
		goto out;
	}
	ret = 0;
out:
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return ret;
}

/* ---- the console's SKU view and checks ---- */

int report_history_latest(struct db *db, int64_t *id, struct error *err)
{
	sqlite3_stmt *st;
	int rc, ret = -1;

	*id = 0;
	st = db_stmt(db, "SELECT max(id) FROM stock_log", err);
	if (!st)
		return -1;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		db_error(db, err, _("reading the newest stock change"));
		goto out;
	}
	*id = col_i64(st, 0);
	ret = 0;
out:
	sqlite3_reset(st);
	return ret;
}

int report_product_find(struct db *db, const char *sku,
                        int (*cb)(void *ud, const struct report_product *p),
                        void *ud, struct error *err)
{
	struct prod_ctx c = { cb, ud, err };
	sqlite3_stmt *st;

	st = db_stmt(db, "SELECT " PRODUCT_COLS " FROM products WHERE sku = ?1", err);
	if (!st)
		return -1;
	bind_text(st, 1, sku ? sku : "");
	return run_rows(db, st, _("looking up a product"), prod_row, &c, err);
}

struct link_ctx {
	int (*cb)(void *ud, const struct report_link_row *r);
	void *ud;
	struct error *err;
};

/* The columns link_row reads, after FROM supplier_links l JOIN suppliers s
 * JOIN products p. */
#define LINK_COLS \
	"l.id, s.id, s.slug, s.name, s.active, s.priority, l.supplier_sku, p.id, p.sku," \
	" l.supplier_stock, l.source_time, l.synced_at," \
	" (SELECT r.started_at FROM sync_runs r WHERE r.supplier_id = s.id" \
	"   AND r.status = 'succeeded' AND r.kind IN ('full', 'delta') AND r.dry_run = 0" \
	"   ORDER BY r.id DESC LIMIT 1)"

static int link_row(sqlite3_stmt *st, void *p)
{
	struct link_ctx *c = p;
	struct report_link_row r;
	int64_t run_at;

	memset(&r, 0, sizeof(r));
	r.link_id = col_i64(st, 0);
	r.supplier_id = col_i64(st, 1);
	r.supplier = col_text(st, 2);
	r.supplier_name = col_text(st, 3);
	r.supplier_active = col_i64(st, 4) != 0;
	r.priority = col_i64(st, 5);
	r.supplier_sku = col_text(st, 6);
	r.product_id = col_i64(st, 7);
	r.product_sku = col_text(st, 8);
	r.has_stock = !col_null(st, 9);
	r.stock = col_i64(st, 9);
	r.source_time = col_i64(st, 10);
	r.synced_at = col_i64(st, 11);
	run_at = col_i64(st, 12);
	if (r.has_stock)
		r.cached_at = run_at > r.synced_at ? run_at : r.synced_at;
	if (!r.supplier)
		r.supplier = "";
	if (!r.supplier_sku)
		r.supplier_sku = "";
	if (!r.product_sku)
		r.product_sku = "";
	if (c->cb(c->ud, &r) < 0)
		return -1;
	return 0;
}

int report_product_links(struct db *db, const char *product_sku,
                         int (*cb)(void *ud, const struct report_link_row *r),
                         void *ud, struct error *err)
{
	struct link_ctx c = { cb, ud, err };
	sqlite3_stmt *st;

	st = db_stmt(db,
	             "SELECT " LINK_COLS
	             " FROM products p JOIN supplier_links l ON l.product_id = p.id"
	             " JOIN suppliers s ON s.id = l.supplier_id"
	             " WHERE p.sku = ?1"
	             " ORDER BY s.priority, s.slug, l.supplier_sku",
	             err);
	if (!st)
		return -1;
	bind_text(st, 1, product_sku ? product_sku : "");
	return run_rows(db, st, _("listing a product's suppliers"), link_row, &c, err);
}

int report_link_find(struct db *db, const char *supplier, const char *supplier_sku,
                     int (*cb)(void *ud, const struct report_link_row *r),
                     void *ud, struct error *err)
{
	struct link_ctx c = { cb, ud, err };
	sqlite3_stmt *st;
	int64_t sid = 0;

	if (report_supplier_id(db, supplier, &sid, err) < 0)
		return -1;
	st = db_stmt(db,
	             "SELECT " LINK_COLS
	             " FROM supplier_links l JOIN suppliers s ON s.id = l.supplier_id"
	             " JOIN products p ON p.id = l.product_id"
	             " WHERE l.supplier_id = ?1 AND l.supplier_sku = ?2",
	             err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, sid);
	bind_text(st, 2, supplier_sku ? supplier_sku : "");
	return run_rows(db, st, _("looking up a supplier SKU"), link_row, &c, err);
}

struct change_ctx {
	int (*cb)(void *ud, const struct report_product_change *r);
	void *ud;
	struct error *err;
};

static int change_row(sqlite3_stmt *st, void *p)
{
	struct change_ctx *c = p;
	struct report_product_change r;

	memset(&r, 0, sizeof(r));
	r.id = col_i64(st, 0);
	r.recorded_at = col_i64(st, 1);
	r.supplier_id = col_i64(st, 2);
	r.supplier_sku = col_text(st, 3);
	r.has_prev = !col_null(st, 4);
	r.prev = col_i64(st, 4);
	r.new_stock = col_i64(st, 5);
	r.source = col_text(st, 6);
	if (!r.supplier_sku)
		r.supplier_sku = "";
	if (!r.source)
		r.source = "";
	if (c->cb(c->ud, &r) < 0)
		return -1;
	return 0;
}

int report_product_changes(struct db *db, int64_t product_id, int64_t limit,
                           int (*cb)(void *ud, const struct report_product_change *r),
                           void *ud, struct error *err)
{
	struct change_ctx c = { cb, ud, err };
	sqlite3_stmt *st;

	if (limit <= 0)
		return err_set(err, ERRK_INTERNAL, _("product changes: limit %lld is not positive"),
		               (long long)limit);
	st = db_stmt(db,
	             "SELECT id, recorded_at, supplier_id, supplier_sku, prev_stock, new_stock,"
	             " source FROM stock_log WHERE product_id = ?1"
	             " ORDER BY recorded_at DESC, id DESC LIMIT ?2",
	             err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, product_id);
	sqlite3_bind_int64(st, 2, limit);
	return run_rows(db, st, _("reading a product's stock changes"), change_row, &c, err);
}

/* ---- the console's queries (additions) ---- */

int report_runs_active(struct db *db, int (*cb)(void *ud, const struct report_run *r),
                       void *ud, struct error *err)
{
	struct run_ctx c = { cb, ud, err };
	sqlite3_stmt *st;

	st = db_stmt(db,
	             "SELECT r.id, r.supplier_id, s.slug, r.kind, r.\"trigger\", r.status,"
	             " r.attempt, r.next_attempt_at, r.pid, r.started_at, r.finished_at,"
	             " r.heartbeat_at, r.done, r.total, r.pages, r.bytes, r.seen, r.changed,"
	             " r.unknown, r.invalid, r.stale, r.zeroed, r.error, r.dry_run"
	             " FROM sync_runs r LEFT JOIN suppliers s ON s.id = r.supplier_id"
	             " WHERE r.status = 'queued' OR r.status = 'running'"
	             " ORDER BY r.id",
	             err);
	if (!st)
		return -1;
	return run_rows(db, st, _("listing queued and running sync runs"), run_row, &c, err);
}

int report_run(struct db *db, int64_t run_id, int (*cb)(void *ud, const struct report_run *r),
               void *ud, struct error *err)
{
	struct run_ctx c = { cb, ud, err };
	sqlite3_stmt *st;

	st = db_stmt(db,
	             "SELECT r.id, r.supplier_id, s.slug, r.kind, r.\"trigger\", r.status,"
	             " r.attempt, r.next_attempt_at, r.pid, r.started_at, r.finished_at,"
	             " r.heartbeat_at, r.done, r.total, r.pages, r.bytes, r.seen, r.changed,"
	             " r.unknown, r.invalid, r.stale, r.zeroed, r.error, r.dry_run"
	             " FROM sync_runs r LEFT JOIN suppliers s ON s.id = r.supplier_id"
	             " WHERE r.id = ?1",
	             err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	return run_rows(db, st, _("reading a sync run"), run_row, &c, err);
}

int report_run_changes(struct db *db, int64_t run_id, int64_t limit,
                       int (*cb)(void *ud, const struct report_history_row *r), void *ud,
                       int64_t *total, struct error *err)
{
	struct hist_ctx c;
	sqlite3_stmt *st;

	memset(&c, 0, sizeof(c));
	c.cb = cb;
	c.ud = ud;
	c.err = err;
	c.limit = limit > 0 ? limit : 20;
	if (total) {
		*total = 0;
		st = db_stmt(db, "SELECT count(*) FROM stock_log WHERE run_id = ?1", err);
		if (!st)
			return -1;
		sqlite3_bind_int64(st, 1, run_id);
		if (sqlite3_step(st) == SQLITE_ROW)
			*total = sqlite3_column_int64(st, 0);
		else {
			db_error(db, err, _("counting a run's changes"));
			sqlite3_reset(st);
			return -1;
		}
		sqlite3_reset(st);
	}
	st = db_stmt(db,
	             "SELECT l.id, l.recorded_at, s.slug, l.supplier_sku, l.product_id,"
	             " p.sku, p.name, l.prev_stock, l.new_stock, l.source, l.run_id,"
	             " l.source_time"
	             " FROM stock_log l"
	             " LEFT JOIN suppliers s ON s.id = l.supplier_id"
	             " LEFT JOIN products p ON p.id = l.product_id"
	             " WHERE l.run_id = ?1 ORDER BY l.id LIMIT ?2",
	             err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_int64(st, 2, c.limit);
	return run_rows(db, st, _("reading a run's changes"), hist_row, &c, err);
}
