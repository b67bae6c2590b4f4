/* store.c - access functions for every table, on cached prepared statements.
 *
 * Every statement is reset as soon as its rows have been read, so no
 * statement keeps a read transaction open between calls. */
#include "config.h"

#include <csv.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"
#include "util/util.h"

/* Steps a statement that returns no rows, then resets it.  what is an
 * untranslated N_() text, translated only on error: the hot path stays
 * free of gettext lookups. */
static int step_done(struct db *db, sqlite3_stmt *st, const char *what, struct error *err)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		db_error(db, err, _(what));
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

/* Steps a statement expected to return at most one row: 1 row (left
 * unreset for the caller to read; caller resets), 0 none (reset), -1 error.
 * what as for step_done. */
static int step_row(struct db *db, sqlite3_stmt *st, const char *what, struct error *err)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return 0;
	}
	db_error(db, err, _(what));
	sqlite3_reset(st);
	return -1;
}

/* step_done for a statement that changes at most one row: 1 when it changed
 * one, 0 when none, -1 on error. */
static int step_changed(struct db *db, sqlite3_stmt *st, const char *what, struct error *err)
{
	if (step_done(db, st, what, err) < 0)
		return -1;
	return sqlite3_changes(db_handle(db)) == 1 ? 1 : 0;
}

/* step_row for a one-value query: on a row, *out (if not NULL) gets its
 * first column and st is reset.  Returns as step_row. */
static int step_i64(struct db *db, sqlite3_stmt *st, const char *what, int64_t *out,
                    struct error *err)
{
	int rc = step_row(db, st, what, err);

	if (rc == 1) {
		if (out)
			*out = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	return rc;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static void bind_opt_i64(sqlite3_stmt *st, int i, int64_t v)
{
	if (v)
		sqlite3_bind_int64(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

/* ---- suppliers ---- */

int suppliers_upsert(struct db *db, const struct supplier_conf *s, int64_t *id, struct error *err)
{
	static const char sql[] =
		"INSERT INTO suppliers (slug, name, active, priority, created_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5)"
		" ON CONFLICT (slug) DO UPDATE SET name = excluded.name,"
		"  active = excluded.active, priority = excluded.priority"
		" RETURNING id";
	sqlite3_stmt *st;
	int rc;

	if (!s || str_empty(s->slug))
		return err_set(err, ERRK_INTERNAL, _("database %s: supplier without a slug"),
		               db_path(db));
	st = db_stmt(db, sql, err);
	if (!st)
		return -1;
	bind_text(st, 1, s->slug);
	bind_text(st, 2, s->name);
	sqlite3_bind_int(st, 3, s->active ? 1 : 0);
	sqlite3_bind_int(st, 4, s->priority);
	sqlite3_bind_int64(st, 5, time_now_ms());
	rc = step_row(db, st, N_("saving supplier"), err);
	if (rc == 0)
		rc = err_set(err, ERRK_INTERNAL, _("database %s: saving supplier %s returned no id"),
		             db_path(db), s->slug);
	if (rc < 0) {
		err_prefix(err, _("supplier %s"), s->slug);
		return -1;
	}
	if (id)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

int suppliers_find(struct db *db, const char *slug, int64_t *id, struct error *err)
{
	sqlite3_stmt *st = db_stmt(db, "SELECT id FROM suppliers WHERE slug = ?1", err);

	if (!st)
		return -1;
	bind_text(st, 1, slug);
	return step_i64(db, st, N_("finding supplier"), id, err);
}

int suppliers_set_last(struct db *db, int64_t supplier_id, const char *kind, int64_t at,
                       const char *status, struct error *err)
{
	static const char full_sql[] =
		"UPDATE suppliers SET last_full_at = ?2, last_full_status = ?3 WHERE id = ?1";
	static const char delta_sql[] =
		"UPDATE suppliers SET last_delta_at = ?2, last_delta_status = ?3 WHERE id = ?1";
	sqlite3_stmt *st;

	if (str_eq(kind, "full"))
		st = db_stmt(db, full_sql, err);
	else if (str_eq(kind, "delta"))
		st = db_stmt(db, delta_sql, err);
	else
		return err_set(err, ERRK_INTERNAL, _("database %s: unknown sync kind \"%s\""),
		               db_path(db), kind ? kind : "(null)");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, supplier_id);
	sqlite3_bind_int64(st, 2, at);
	bind_text(st, 3, status);
	return step_done(db, st, N_("recording the last sync"), err);
}

int suppliers_get_watermark(struct db *db, int64_t supplier_id, int64_t *ms, struct error *err)
{
	sqlite3_stmt *st = db_stmt(db, "SELECT delta_watermark FROM suppliers WHERE id = ?1", err);
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, supplier_id);
	rc = step_i64(db, st, N_("reading the delta watermark"), ms, err);
	if (rc == 0)
		return err_set(err, ERRK_INTERNAL, _("database %s: no supplier with id %lld"),
		               db_path(db), (long long)supplier_id);
	return rc < 0 ? -1 : 0;
}

int suppliers_set_watermark(struct db *db, int64_t supplier_id, int64_t ms, struct error *err)
{
	sqlite3_stmt *st = db_stmt(db, "UPDATE suppliers SET delta_watermark = ?2 WHERE id = ?1",
	                           err);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, supplier_id);
	bind_opt_i64(st, 2, ms);
	return step_done(db, st, N_("saving the delta watermark"), err);
}

/* Several rows to a statement (the *_many writers): 64 at a time, then 8,
 * then one by one (64 measured faster than 32 or 128 for pages of 500).
 * A row's "(?,...)" is repeated in the SQL text itself, so each statement
 * is prepared once and cached like the others. */
#define ROWS2(r) r "," r
#define ROWS8(r) ROWS2(ROWS2(r)) "," ROWS2(ROWS2(r))
#define ROWS64(r) ROWS8(ROWS8(r))
#define CHUNK_BIG 64
#define CHUNK_SMALL 8

/* The number of rows to write next of left remaining. */
static size_t chunk_size(size_t left)
{
	return left >= CHUNK_BIG ? CHUNK_BIG : left >= CHUNK_SMALL ? CHUNK_SMALL : 1;
}

/* Steps a several-row statement.  When it fails and the statement alone
 * was undone (SQLite rolls back a whole transaction on some errors: then
 * nothing can be retried), *retry tells the caller to write its rows one by
 * one, which finds the row at fault. */
static int step_many(struct db *db, sqlite3_stmt *st, const char *what, bool *retry,
                     struct error *err)
{
	bool in_tx = !sqlite3_get_autocommit(db_handle(db));

	*retry = false;
	if (step_done(db, st, what, err) == 0)
		return 0;
	*retry = !in_tx || !sqlite3_get_autocommit(db_handle(db));
	return -1;
}

/* How insert_many writes one kind of row. */
struct many_rows {
	const char *sql64, *sql8;     /* the INSERTs of CHUNK_BIG and CHUNK_SMALL rows */
	const char *what;             /* N_() text for errors */
	int cols;                     /* parameters per row */
	/* binds row i from parameter at + 1 on */
	void (*bind)(sqlite3_stmt *st, int at, const void *rows, size_t i);
	/* whether row i needs the one-row statement (NULL: never) */
	bool (*alone)(const void *rows, size_t i);
	/* writes row i with the one-row statement */
	int (*one)(struct db *db, const void *rows, size_t i, struct error *err);
};

/* Writes n rows CHUNK_BIG, then CHUNK_SMALL to a statement, the rest one
 * by one; a chunk that fails in a way that undid only itself is written
 * again row by row, so the error names the row at fault.  On failure
 * *failed (if given) is the index of that row, or n when unknown. */
static int insert_many(struct db *db, const struct many_rows *m, const void *rows, size_t n,
                       size_t *failed, struct error *err)
{
	size_t i = 0, k, j;
	bool retry;

	while (i < n) {
		sqlite3_stmt *st;

		k = chunk_size(n - i);
		for (j = 0; k > 1 && m->alone && j < k; j++)
			if (m->alone(rows, i + j))
				k = 1;
		st = k > 1 ? db_stmt(db, k == CHUNK_BIG ? m->sql64 : m->sql8, err) : NULL;
		if (st) {
			for (j = 0; j < k; j++)
				m->bind(st, (int)j * m->cols, rows, i + j);
			if (step_many(db, st, m->what, &retry, err) == 0) {
				i += k;
				continue;
			}
			if (!retry) {
				i = n;
				goto fail;
			}
		}
		/* one by one: a single row, a statement of many that could not
		 * be prepared, or the search for the row at fault */
		for (j = 0; j < k; j++, i++)
			if (m->one(db, rows, i, err) < 0)
				goto fail;
	}
	return 0;
fail:
	if (failed)
		*failed = i;
	return -1;
}

/* ---- products and supplier links ---- */

/* The columns link_from_row reads, first in a query of supplier_links. */
#define LINK_COLS "id, product_id, supplier_stock, raw_stock, source_time, synced_at"

static void link_from_row(sqlite3_stmt *st, struct link_row *out)
{
	out->id = sqlite3_column_int64(st, 0);
	out->product_id = sqlite3_column_int64(st, 1);
	out->has_stock = sqlite3_column_type(st, 2) != SQLITE_NULL;
	out->stock = sqlite3_column_int64(st, 2);
	out->raw_stock = sqlite3_column_int64(st, 3);
	out->source_time = sqlite3_column_int64(st, 4);
	out->synced_at = sqlite3_column_int64(st, 5);
}

int links_find(struct db *db, int64_t supplier_id, const char *supplier_sku,
               struct link_row *out, struct error *err)
{
	static const char sql[] =
		"SELECT " LINK_COLS " FROM supplier_links WHERE supplier_id = ?1 AND supplier_sku = ?2";
	sqlite3_stmt *st = db_stmt(db, sql, err);
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, supplier_id);
	bind_text(st, 2, supplier_sku);
	rc = step_row(db, st, N_("finding link"), err);
	if (rc == 1) {
		link_from_row(st, out);
		sqlite3_reset(st);
	}
	return rc;
}

int links_get(struct db *db, int64_t link_id, struct link_row *out, char **supplier_sku,
              struct error *err)
{
	static const char sql[] =
		"SELECT " LINK_COLS ", supplier_sku FROM supplier_links WHERE id = ?1";
	sqlite3_stmt *st = db_stmt(db, sql, err);
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, link_id);
	rc = step_row(db, st, N_("reading link"), err);
	if (rc == 1) {
		link_from_row(st, out);
		if (supplier_sku)
			*supplier_sku = xstrdup((const char *)sqlite3_column_text(st, 6));
		sqlite3_reset(st);
	}
	return rc;
}

int links_set_stock(struct db *db, int64_t link_id, int64_t stock, int64_t raw_stock,
                    int64_t source_time, int64_t synced_at, struct error *err)
{
	static const char sql[] =
		"UPDATE supplier_links SET supplier_stock = ?2, raw_stock = ?3,"
		" source_time = ?4, synced_at = ?5 WHERE id = ?1";
	sqlite3_stmt *st = db_stmt(db, sql, err);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, link_id);
	sqlite3_bind_int64(st, 2, stock);
	sqlite3_bind_int64(st, 3, raw_stock);
	sqlite3_bind_int64(st, 4, source_time);
	sqlite3_bind_int64(st, 5, synced_at);
	if (step_done(db, st, N_("updating link stock"), err) < 0)
		return -1;
	if (sqlite3_changes(db_handle(db)) != 1)
		return err_set(err, ERRK_INTERNAL, _("database %s: link %lld does not exist"),
		               db_path(db), (long long)link_id);
	return 0;
}

int links_add_ex(struct db *db, const char *product_sku, const char *product_name,
                 const char *supplier_slug, const char *supplier_sku, int64_t *link_id,
                 int64_t *product_id, int64_t *old_product_id, struct error *err)
{
	static const char product_sql[] =
		"INSERT INTO products (sku, name) VALUES (?1, ?2)"
		" ON CONFLICT (sku) DO UPDATE SET name = coalesce(excluded.name, products.name)"
		" WHERE excluded.name IS NOT NULL AND excluded.name IS NOT products.name"
		" RETURNING id";
	static const char product_find_sql[] = "SELECT id FROM products WHERE sku = ?1";
	static const char old_sql[] =
		"SELECT id, product_id FROM supplier_links WHERE supplier_id = ?1 AND supplier_sku = ?2";
	static const char link_sql[] =
		"INSERT INTO supplier_links (supplier_id, supplier_sku, product_id) VALUES (?1, ?2, ?3)"
		" ON CONFLICT (supplier_id, supplier_sku) DO UPDATE SET product_id = excluded.product_id"
		" RETURNING id";
	sqlite3_stmt *st;
	int64_t sid, pid = 0, lid = 0, old = 0;
	int rc;

	if (str_empty(product_sku))
		return err_set(err, ERRK_USAGE, _("empty product sku"));
	if (str_empty(supplier_slug))
		return err_set(err, ERRK_USAGE, _("empty supplier slug"));
	if (str_empty(supplier_sku))
		return err_set(err, ERRK_USAGE, _("empty supplier sku"));
	if (strlen(product_sku) > 255)
		return err_set(err, ERRK_USAGE, _("product sku \"%.40s...\" is longer than 255 bytes"),
		               product_sku);
	if (strlen(supplier_sku) > 255)
		return err_set(err, ERRK_USAGE,
		               _("supplier sku \"%.40s...\" is longer than 255 bytes"), supplier_sku);
	rc = suppliers_find(db, supplier_slug, &sid, err);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return err_set(err, ERRK_USAGE,
		               _("unknown supplier '%s': it has no suppliers.d/%s.conf "
		                 "(or was never synced)"), supplier_slug, supplier_slug);

	/* the product: created when new, name updated when given */
	st = db_stmt(db, product_sql, err);
	if (!st)
		return -1;
	bind_text(st, 1, product_sku);
	bind_text(st, 2, str_empty(product_name) ? NULL : product_name);
	rc = step_row(db, st, N_("saving product"), err);
	if (rc < 0)
		goto fail;
	if (rc == 1) {
		pid = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	} else {
		/* existing product, nothing to update: RETURNING gives no row */
		st = db_stmt(db, product_find_sql, err);
		if (!st)
			return -1;
		bind_text(st, 1, product_sku);
		rc = step_row(db, st, N_("finding product"), err);
		if (rc <= 0) {
			if (rc == 0)
				err_set(err, ERRK_INTERNAL, _("database %s: product %s vanished"),
				        db_path(db), product_sku);
			goto fail;
		}
		pid = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}

	/* the link: remember where it pointed before */
	st = db_stmt(db, old_sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, sid);
	bind_text(st, 2, supplier_sku);
	rc = step_row(db, st, N_("finding link"), err);
	if (rc < 0)
		goto fail;
	if (rc == 1) {
		old = sqlite3_column_int64(st, 1);
		sqlite3_reset(st);
		if (old == pid)
			old = 0;
	}
	st = db_stmt(db, link_sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, sid);
	bind_text(st, 2, supplier_sku);
	sqlite3_bind_int64(st, 3, pid);
	rc = step_row(db, st, N_("saving link"), err);
	if (rc <= 0) {
		if (rc == 0)
			err_set(err, ERRK_INTERNAL, _("database %s: saving link returned no id"),
			        db_path(db));
		goto fail;
	}
	lid = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (unknown_forget(db, sid, supplier_sku, err) < 0)
		goto fail;
	if (link_id)
		*link_id = lid;
	if (product_id)
		*product_id = pid;
	if (old_product_id)
		*old_product_id = old;
	return 0;
fail:
	err_prefix(err, _("linking %s/%s to %s"), supplier_slug, supplier_sku, product_sku);
	return -1;
}

int links_add(struct db *db, const char *product_sku, const char *product_name,
              const char *supplier_slug, const char *supplier_sku, struct error *err)
{
	return links_add_ex(db, product_sku, product_name, supplier_slug, supplier_sku,
	                    NULL, NULL, NULL, err);
}

/* ---- links_import_csv ---- */

enum import_col { COL_PRODUCT_SKU, COL_PRODUCT_NAME, COL_SUPPLIER_SLUG, COL_SUPPLIER_SKU, NCOLS };
static const char *const import_col_names[NCOLS] = {
	"product_sku", "product_name", "supplier_slug", "supplier_sku",
};

struct import {
	struct db *db;
	const char *path;
	struct error *err;
	bool failed;
	bool header_done;
	int col[NCOLS];          /* field index of each column, -1 = absent */
	char **fields;
	size_t nfields, capfields;
	bool in_row;
	int64_t line;            /* line being fed */
	int64_t row_line;        /* line where the current row began */
	int64_t added;
};

static void import_field(void *data, size_t len, void *ud)
{
	struct import *im = ud;

	if (im->failed)
		return;
	im->in_row = true;
	if (im->nfields == im->capfields) {
		im->capfields = im->capfields ? im->capfields * 2 : 8;
		im->fields = xrealloc(im->fields, im->capfields * sizeof(*im->fields));
	}
	im->fields[im->nfields++] = data ? xstrndup(data, len) : xstrdup("");
}

static void import_clear_fields(struct import *im)
{
	size_t i;

	for (i = 0; i < im->nfields; i++)
		free(im->fields[i]);
	im->nfields = 0;
}

static void import_fail(struct import *im, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void import_fail(struct import *im, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err_set(im->err, ERRK_USAGE, "%s:%lld: %s", im->path, (long long)im->row_line, msg);
	im->failed = true;
}

static void import_header(struct import *im)
{
	size_t i;
	int c;

	for (c = 0; c < NCOLS; c++)
		im->col[c] = -1;
	for (i = 0; i < im->nfields; i++) {
		char *name = str_trim(im->fields[i]);

		/* a UTF-8 byte order mark before the first name */
		if (i == 0 && (unsigned char)name[0] == 0xEF && (unsigned char)name[1] == 0xBB &&
		    (unsigned char)name[2] == 0xBF)
			name += 3;
		for (c = 0; c < NCOLS; c++) {
			if (!str_caseeq(name, import_col_names[c]))
				continue;
			if (im->col[c] >= 0) {
				import_fail(im, _("column %s appears twice"), import_col_names[c]);
				return;
			}
			im->col[c] = (int)i;
		}
	}
	for (c = 0; c < NCOLS; c++) {
		if (c != COL_PRODUCT_NAME && im->col[c] < 0) {
			import_fail(im, _("missing column %s in the header (expected product_sku, "
			                  "product_name, supplier_slug, supplier_sku)"),
			            import_col_names[c]);
			return;
		}
	}
	im->header_done = true;
}

static const char *import_get(struct import *im, int c)
{
	int i = im->col[c];

	if (i < 0 || (size_t)i >= im->nfields)
		return NULL;
	return str_trim(im->fields[i]);
}

static void import_row(int term, void *ud)
{
	struct import *im = ud;
	const char *v[NCOLS];
	struct error e = { 0 };
	int c;

	(void)term;
	if (im->failed)
		goto out;
	if (!im->header_done) {
		import_header(im);
		goto out;
	}
	/* a line of only blanks / empty fields is skipped */
	for (c = 0; c < (int)im->nfields; c++)
		if (!str_empty(str_trim(im->fields[c])))
			break;
	if (c == (int)im->nfields)
		goto out;
	for (c = 0; c < NCOLS; c++) {
		v[c] = import_get(im, c);
		if (c == COL_PRODUCT_NAME)
			continue;
		if (!v[c]) {
			import_fail(im, _("missing column %s (the row has %zu fields)"),
			            import_col_names[c], im->nfields);
			goto out;
		}
		if (!*v[c]) {
			import_fail(im, _("empty %s"), import_col_names[c]);
			goto out;
		}
	}
	if (links_add(im->db, v[COL_PRODUCT_SKU], v[COL_PRODUCT_NAME], v[COL_SUPPLIER_SLUG],
	              v[COL_SUPPLIER_SKU], &e) < 0) {
		import_fail(im, "%s", e.msg);
		if (im->err)
			im->err->kind = e.kind;
		goto out;
	}
	im->added++;
out:
	import_clear_fields(im);
	im->in_row = false;
}

int links_import_csv(struct db *db, const char *path, int64_t *added, struct error *err)
{
	struct csv_parser p;
	struct import im;
	bool parser_ok = false, own_tx = false, savepoint = false;
	FILE *f = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = -1;

	memset(&im, 0, sizeof(im));
	im.db = db;
	im.path = path;
	im.err = err;
	f = fopen(path, "r");
	if (!f) {
		err_set(err, ERRK_USAGE, _("%s: cannot open: %s"), path, strerror(errno));
		goto out;
	}
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
		err_set(err, ERRK_INTERNAL, _("%s: cannot set up the CSV parser"), path);
		goto out;
	}
	parser_ok = true;
	if (sqlite3_get_autocommit(db_handle(db))) {
		if (db_begin(db, err) < 0)
			goto out;
		own_tx = true;
	} else {
		if (db_exec(db, "SAVEPOINT links_import", err) < 0)
			goto out;
		savepoint = true;
	}
	/* fed line by line so a failing row can name its line */
	while ((len = getline(&line, &cap, f)) > 0) {
		im.line++;
		if (!im.in_row)
			im.row_line = im.line;
		if (csv_parse(&p, line, (size_t)len, import_field, import_row, &im) != (size_t)len &&
		    !im.failed) {
			im.row_line = im.line;
			import_fail(&im, _("CSV syntax error: %s"), csv_strerror(csv_error(&p)));
		}
		if (im.failed)
			goto out;
	}
	if (ferror(f)) {
		err_set(err, ERRK_USAGE, _("%s: read error: %s"), path, strerror(errno));
		goto out;
	}
	if (csv_fini(&p, import_field, import_row, &im) != 0 && !im.failed) {
		im.row_line = im.line;
		import_fail(&im, _("CSV syntax error: %s"), csv_strerror(csv_error(&p)));
	}
	if (im.failed)
		goto out;
	if (!im.header_done) {
		err_set(err, ERRK_USAGE, _("%s: empty file: expected a header line with product_sku, "
		                           "product_name, supplier_slug, supplier_sku"), path);
		goto out;
	}
	if (own_tx) {
		own_tx = false;
		if (db_commit(db, err) < 0)
			goto out;
	} else {
		savepoint = false;
		if (db_exec(db, "RELEASE links_import", err) < 0)
			goto out;
	}
	if (added)
		*added = im.added;
	rc = 0;
out:
	if (own_tx)
		db_rollback(db);
	if (savepoint) {
		db_exec(db, "ROLLBACK TO links_import", NULL);
		db_exec(db, "RELEASE links_import", NULL);
	}
	import_clear_fields(&im);
	free(im.fields);
	free(line);
	if (parser_ok)
		csv_free(&p);
	if (f)
		fclose(f);
	return rc;
}

int links_remove(struct db *db, const char *supplier_slug, const char *supplier_sku,
                 int64_t *product_id, struct error *err)
{
	static const char sql[] =
		"DELETE FROM supplier_links WHERE supplier_id = ?1 AND supplier_sku = ?2"
		" RETURNING product_id";
	sqlite3_stmt *st;
	int64_t sid;
	int rc;

	rc = suppliers_find(db, supplier_slug, &sid, err);
	if (rc <= 0)
		return rc;
	st = db_stmt(db, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, sid);
	bind_text(st, 2, supplier_sku);
	rc = step_row(db, st, N_("removing link"), err);
	if (rc == 1) {
		if (product_id)
			*product_id = sqlite3_column_int64(st, 0);
		/* run to completion so the delete is done before the reset */
		if (sqlite3_step(st) != SQLITE_DONE) {
			db_error(db, err, _("removing link"));
			rc = -1;
		}
		sqlite3_reset(st);
	}
	return rc;
}

int64_t links_count(struct db *db, int64_t supplier_id, struct error *err)
{
	sqlite3_stmt *st = db_stmt(db, "SELECT count(*) FROM supplier_links WHERE supplier_id = ?1",
	                           err);
	int64_t n;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, supplier_id);
	return step_i64(db, st, N_("counting links"), &n, err) == 1 ? n : -1;
}

int links_each(struct db *db, int64_t supplier_id,
               int (*cb)(void *ud, const struct link_row *link, const char *supplier_sku),
               void *ud, struct error *err)
{
	static const char sql[] =
		"SELECT " LINK_COLS ", supplier_sku FROM supplier_links WHERE supplier_id = ?1"
		" ORDER BY id";
	sqlite3_stmt *st = db_stmt(db, sql, err);
	struct link_row row;
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, supplier_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		link_from_row(st, &row);
		if (cb(ud, &row, (const char *)sqlite3_column_text(st, 6)) != 0) {
			sqlite3_reset(st);
			return -1;
		}
	}
	if (rc != SQLITE_DONE) {
		db_error(db, err, _("listing links"));
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

int products_recompute(struct db *db, int64_t product_id, enum aggregate_kind agg,
                       int64_t *old_stock, int64_t *new_stock, char *sku, size_t sku_size,
                       int64_t now, struct error *err)
{
	/* One read gives the stored figure, the sku and the new aggregate. */
	static const char sum_sql[] =
		"SELECT p.stock, p.sku, (SELECT coalesce(sum(l.supplier_stock), 0)"
		"  FROM supplier_links l WHERE l.product_id = p.id)"
		" FROM products p WHERE p.id = ?1";
	static const char max_sql[] =
		"SELECT p.stock, p.sku, (SELECT coalesce(max(l.supplier_stock), 0)"
		"  FROM supplier_links l WHERE l.product_id = p.id)"
		" FROM products p WHERE p.id = ?1";
	static const char first_sql[] =
		"SELECT p.stock, p.sku, coalesce((SELECT l.supplier_stock"
		"  FROM supplier_links l JOIN suppliers s ON s.id = l.supplier_id"
		"  WHERE l.product_id = p.id AND l.supplier_stock > 0"
		"  ORDER BY s.priority, s.id LIMIT 1), 0)"
		" FROM products p WHERE p.id = ?1";
	static const char update_sql[] =
		"UPDATE products SET stock = ?2, available = ?3, updated_at = ?4 WHERE id = ?1";
	sqlite3_stmt *st;
	const char *sql = agg == AGG_MAX ? max_sql : agg == AGG_FIRST ? first_sql : sum_sql;
	int64_t o, n;
	int rc;

	st = db_stmt(db, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, product_id);
	rc = step_row(db, st, N_("computing product stock"), err);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return err_set(err, ERRK_DB, _("database %s: product %lld does not exist"),
		               db_path(db), (long long)product_id);
	o = sqlite3_column_int64(st, 0);
	n = sqlite3_column_int64(st, 2);
	if (sku && sku_size) {
		const char *s = (const char *)sqlite3_column_text(st, 1);
		size_t l = s ? strlen(s) : 0;

		if (l >= sku_size)
			l = sku_size - 1;
		if (l)
			memcpy(sku, s, l);
		sku[l] = '\0';
	}
	sqlite3_reset(st);
	if (n != o) {
		st = db_stmt(db, update_sql, err);
		if (!st)
			return -1;
		sqlite3_bind_int64(st, 1, product_id);
		sqlite3_bind_int64(st, 2, n);
		sqlite3_bind_int(st, 3, n > 0);
		sqlite3_bind_int64(st, 4, now);
		if (step_done(db, st, N_("updating product stock"), err) < 0)
			return -1;
	}
	if (old_stock)
		*old_stock = o;
	if (new_stock)
		*new_stock = n;
	return 0;
}

/* ---- stock log ---- */

#define STOCKLOG_INSERT \
	"INSERT INTO stock_log (link_id, product_id, prev_stock, new_stock, source, run_id," \
	" recorded_at, source_time, supplier_id, supplier_sku) VALUES "
#define STOCKLOG_ROW "(?,?,?,?,?,?,?,?,?,?)"

/* Binds one row's ten values from parameter at + 1 on: the one-row
 * statement below (at = 0) and the rows of the multi-row ones. */
static void stocklog_bind(sqlite3_stmt *st, int at, const struct stocklog_entry *e)
{
	sqlite3_bind_int64(st, at + 1, e->link_id);
	sqlite3_bind_int64(st, at + 2, e->product_id);
	if (e->has_prev)
		sqlite3_bind_int64(st, at + 3, e->prev);
	else
		sqlite3_bind_null(st, at + 3);
	sqlite3_bind_int64(st, at + 4, e->new_stock);
	bind_text(st, at + 5, e->source);
	bind_opt_i64(st, at + 6, e->run_id);
	sqlite3_bind_int64(st, at + 7, e->recorded_at);
	bind_opt_i64(st, at + 8, e->source_time);
	bind_opt_i64(st, at + 9, e->supplier_id);
	bind_text(st, at + 10, e->supplier_sku);
}

int stocklog_append(struct db *db, const struct stocklog_entry *e, struct error *err)
{
	/* coalesce evaluates its subqueries only when the caller left the
	 * value out: the hot path (the engine gives both) reads no link */
	static const char sql[] =
		"INSERT INTO stock_log (link_id, product_id, prev_stock, new_stock, source, run_id,"
		" recorded_at, source_time, supplier_id, supplier_sku)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
		"  coalesce(?9, (SELECT supplier_id FROM supplier_links WHERE id = ?1)),"
		"  coalesce(?10, (SELECT supplier_sku FROM supplier_links WHERE id = ?1)))";
	sqlite3_stmt *st = db_stmt(db, sql, err);

	if (!st)
		return -1;
	stocklog_bind(st, 0, e);
	return step_done(db, st, N_("writing the stock log"), err);
}

static void stocklog_bind_row(sqlite3_stmt *st, int at, const void *rows, size_t i)
{
	stocklog_bind(st, at, (const struct stocklog_entry *)rows + i);
}

/* A row taking its supplier from its link needs the one-row statement's
 * subqueries. */
static bool stocklog_alone(const void *rows, size_t i)
{
	const struct stocklog_entry *e = (const struct stocklog_entry *)rows + i;

	return !e->supplier_id || !e->supplier_sku;
}

static int stocklog_one(struct db *db, const void *rows, size_t i, struct error *err)
{
	return stocklog_append(db, (const struct stocklog_entry *)rows + i, err);
}

int stocklog_append_many(struct db *db, const struct stocklog_entry *e, size_t n,
                         size_t *failed, struct error *err)
{
	static const struct many_rows m = {
		STOCKLOG_INSERT ROWS64(STOCKLOG_ROW), STOCKLOG_INSERT ROWS8(STOCKLOG_ROW),
		N_("writing the stock log"), 10, stocklog_bind_row, stocklog_alone, stocklog_one,
	};

	return insert_many(db, &m, e, n, failed, err);
}

/* ---- unknown SKUs ---- */

int unknown_record(struct db *db, int64_t supplier_id, const char *supplier_sku,
                   int64_t stock, int64_t at, struct error *err)
{
	static const char sql[] =
		"INSERT INTO unknown_skus (supplier_id, supplier_sku, first_seen, last_seen,"
		" last_stock, times_seen) VALUES (?1, ?2, ?3, ?3, ?4, 1)"
		" ON CONFLICT (supplier_id, supplier_sku) DO UPDATE SET"
		"  last_seen = max(last_seen, excluded.last_seen),"
		"  last_stock = excluded.last_stock, times_seen = times_seen + 1";
	sqlite3_stmt *st = db_stmt(db, sql, err);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, supplier_id);
	bind_text(st, 2, supplier_sku);
	sqlite3_bind_int64(st, 3, at);
	sqlite3_bind_int64(st, 4, stock);
	return step_done(db, st, N_("recording an unknown SKU"), err);
}

int unknown_forget(struct db *db, int64_t supplier_id, const char *supplier_sku, struct error *err)
{
	sqlite3_stmt *st = db_stmt(db,
	                           "DELETE FROM unknown_skus WHERE supplier_id = ?1 AND supplier_sku = ?2",
	                           err);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, supplier_id);
	bind_text(st, 2, supplier_sku);
	return step_done(db, st, N_("forgetting an unknown SKU"), err);
}

/* ---- outbox ---- */

int outbox_add(struct db *db, const char *kind, int64_t product_id, const char *payload,
               int64_t at, struct error *err)
{
	static const char sql[] =
		"INSERT INTO outbox (kind, product_id, payload, created_at, next_attempt_at)"
		" VALUES (?1, ?2, ?3, ?4, ?4)";
	sqlite3_stmt *st = db_stmt(db, sql, err);

	if (!st)
		return -1;
	bind_text(st, 1, kind);
	sqlite3_bind_int64(st, 2, product_id);
	bind_text(st, 3, payload);
	sqlite3_bind_int64(st, 4, at);
	return step_done(db, st, N_("adding an outbox event"), err);
}

#define OUTBOX_INSERT \
	"INSERT INTO outbox (kind, product_id, payload, created_at, next_attempt_at) VALUES "
#define OUTBOX_ROW "(?,?,?,?,?)"

static void outbox_bind_row(sqlite3_stmt *st, int at, const void *rows, size_t i)
{
	const struct outbox_entry *o = (const struct outbox_entry *)rows + i;

	bind_text(st, at + 1, o->kind);
	sqlite3_bind_int64(st, at + 2, o->product_id);
	bind_text(st, at + 3, o->payload);
	sqlite3_bind_int64(st, at + 4, o->at);
	sqlite3_bind_int64(st, at + 5, o->at);
}

static int outbox_one(struct db *db, const void *rows, size_t i, struct error *err)
{
	const struct outbox_entry *o = (const struct outbox_entry *)rows + i;

	return outbox_add(db, o->kind, o->product_id, o->payload, o->at, err);
}

int outbox_add_many(struct db *db, const struct outbox_entry *e, size_t n, size_t *failed,
                    struct error *err)
{
	static const struct many_rows m = {
		OUTBOX_INSERT ROWS64(OUTBOX_ROW), OUTBOX_INSERT ROWS8(OUTBOX_ROW),
		N_("adding an outbox event"), 5, outbox_bind_row, NULL, outbox_one,
	};

	return insert_many(db, &m, e, n, failed, err);
}

/* ---- webhook receipts ---- */

int receipts_record(struct db *db, int64_t supplier_id, const char *event_id, int64_t at,
                    struct error *err)
{
	static const char sql[] =
		"INSERT INTO webhook_receipts (supplier_id, event_id, received_at)"
		" VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING";
	sqlite3_stmt *st = db_stmt(db, sql, err);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, supplier_id);
	bind_text(st, 2, event_id);
	sqlite3_bind_int64(st, 3, at);
	return step_changed(db, st, N_("recording a webhook receipt"), err);
}

/* ---- sync runs ---- */

int runs_begin(struct db *db, int64_t supplier_id, const char *kind, const char *trigger,
               bool dry_run, int64_t *run_id, struct error *err)
{
	static const char sql[] =
		"INSERT INTO sync_runs (supplier_id, kind, \"trigger\", status, attempt, pid,"
		" started_at, heartbeat_at, dry_run)"
		" VALUES (?1, ?2, ?3, 'running', 1, ?4, ?5, ?5, ?6)";
	sqlite3_stmt *st = db_stmt(db, sql, err);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, supplier_id);
	bind_text(st, 2, kind);
	bind_text(st, 3, trigger ? trigger : "cli");
	sqlite3_bind_int64(st, 4, (int64_t)getpid());
	sqlite3_bind_int64(st, 5, time_now_ms());
	sqlite3_bind_int(st, 6, dry_run ? 1 : 0);
	if (step_done(db, st, N_("recording a sync run"), err) < 0)
		return -1;
	if (run_id)
		*run_id = sqlite3_last_insert_rowid(db_handle(db));
	return 0;
}

int runs_start(struct db *db, int64_t run_id, struct error *err)
{
	static const char sql[] =
		"UPDATE sync_runs SET status = 'running', pid = ?2, started_at = ?3,"
		" heartbeat_at = ?3, finished_at = NULL, error = NULL WHERE id = ?1";
	sqlite3_stmt *st = db_stmt(db, sql, err);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_int64(st, 2, (int64_t)getpid());
	sqlite3_bind_int64(st, 3, time_now_ms());
	return step_done(db, st, N_("starting a queued sync run"), err);
}

static void bind_stats(sqlite3_stmt *st, const struct run_stats *s)
{
	sqlite3_bind_int64(st, 2, s->done);
	sqlite3_bind_int64(st, 3, s->total);
	sqlite3_bind_int64(st, 4, s->pages);
	sqlite3_bind_int64(st, 5, s->bytes);
	sqlite3_bind_int64(st, 6, s->seen);
	sqlite3_bind_int64(st, 7, s->changed);
	sqlite3_bind_int64(st, 8, s->unknown);
	sqlite3_bind_int64(st, 9, s->invalid);
	sqlite3_bind_int64(st, 10, s->stale);
	sqlite3_bind_int64(st, 11, s->zeroed);
	sqlite3_bind_int64(st, 12, time_now_ms());
}

int runs_update(struct db *db, int64_t run_id, const struct run_stats *s, struct error *err)
{
	static const char sql[] =
		"UPDATE sync_runs SET done = ?2, total = ?3, pages = ?4, bytes = ?5, seen = ?6,"
		" changed = ?7, unknown = ?8, invalid = ?9, stale = ?10, zeroed = ?11,"
		" heartbeat_at = ?12 WHERE id = ?1";
	sqlite3_stmt *st = db_stmt(db, sql, err);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	bind_stats(st, s);
	return step_done(db, st, N_("recording sync progress"), err);
}

int runs_request_cancel(struct db *db, int64_t run_id, struct error *err)
{
	static const char sql[] =
		"UPDATE sync_runs SET cancel_requested = 1 WHERE id = ?1 AND status = 'running'";
	sqlite3_stmt *st = db_stmt(db, sql, err);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	if (step_done(db, st, N_("asking a run to stop"), err) < 0)
		return -1;
	return sqlite3_changes(db_handle(db));
}

bool runs_cancel_requested(struct db *db, int64_t run_id)
{
	static const char sql[] = "SELECT cancel_requested FROM sync_runs WHERE id = ?1";
	sqlite3_stmt *st = db_stmt(db, sql, NULL);
	bool yes = false;

	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, run_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		yes = sqlite3_column_int(st, 0) != 0;
	sqlite3_reset(st);
	return yes;
}

int runs_finish(struct db *db, int64_t run_id, const char *status, const struct run_stats *s,
                const char *error, struct error *err)
{
	static const char sql[] =
		"UPDATE sync_runs SET done = ?2, total = ?3, pages = ?4, bytes = ?5, seen = ?6,"
		" changed = ?7, unknown = ?8, invalid = ?9, stale = ?10, zeroed = ?11,"
		" heartbeat_at = ?12, finished_at = ?12, status = ?13, error = ?14 WHERE id = ?1";
	sqlite3_stmt *st = db_stmt(db, sql, err);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	bind_stats(st, s);
	bind_text(st, 13, status);
	bind_text(st, 14, error);
	return step_done(db, st, N_("finishing a sync run"), err);
}

int runs_mark_orphans(struct db *db, int64_t supplier_id, int64_t exclude_run_id,
                      struct error *err)
{
	static const char sql[] =
		"UPDATE sync_runs SET status = 'interrupted', finished_at = ?2,"
		" error = printf(?3, coalesce(pid, 0))"
		" WHERE supplier_id = ?1 AND status = 'running' AND id <> ?4";
	sqlite3_stmt *st = db_stmt(db, sql, err);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, supplier_id);
	sqlite3_bind_int64(st, 2, time_now_ms());
	bind_text(st, 3, _("process %d died"));
	sqlite3_bind_int64(st, 4, exclude_run_id);
	if (step_done(db, st, N_("marking interrupted runs"), err) < 0)
		return -1;
	return sqlite3_changes(db_handle(db));
}

int64_t runs_last_seen(struct db *db, int64_t supplier_id, const char *kind)
{
	static const char sql[] =
		"SELECT seen FROM sync_runs WHERE supplier_id = ?1 AND kind = ?2"
		" AND status = 'succeeded' ORDER BY id DESC LIMIT 1";
	sqlite3_stmt *st = db_stmt(db, sql, NULL);
	int64_t n = 0;

	if (!st)
		return 0;
	sqlite3_bind_int64(st, 1, supplier_id);
	bind_text(st, 2, kind);
	step_i64(db, st, N_("reading the last run"), &n, NULL);
	return n;
}

static void copy_col(sqlite3_stmt *st, int i, char *dst, size_t size);

/* ---- the mass-change guard: run_items ---- */

int run_items_add(struct db *db, int64_t run_id, const struct run_item *it, struct error *err)
{
	static const char sql[] =
		"INSERT INTO run_items (run_id, seq, supplier_sku, raw_stock, observed_at,"
		" source_time, position) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
	sqlite3_stmt *st = db_stmt(db, sql, err);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_int64(st, 2, it->seq);
	bind_text(st, 3, it->supplier_sku);
	sqlite3_bind_int64(st, 4, it->raw_stock);
	sqlite3_bind_int64(st, 5, it->observed_at);
	sqlite3_bind_int64(st, 6, it->source_time);
	sqlite3_bind_int64(st, 7, it->position);
	return step_done(db, st, N_("staging an item of a guarded run"), err);
}

int run_items_each(struct db *db, int64_t run_id, int64_t after_seq, int64_t limit,
                   int (*cb)(void *ud, const struct run_item *it), void *ud, struct error *err)
{
	static const char sql[] =
		"SELECT seq, supplier_sku, raw_stock, observed_at, source_time, position"
		" FROM run_items WHERE run_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3";
	sqlite3_stmt *st = db_stmt(db, sql, err);
	struct run_item it;
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_int64(st, 2, after_seq);
	sqlite3_bind_int64(st, 3, limit > 0 ? limit : -1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *sku = sqlite3_column_text(st, 1);

		it.seq = sqlite3_column_int64(st, 0);
		it.supplier_sku = sku ? (const char *)sku : "";
		it.raw_stock = sqlite3_column_int64(st, 2);
		it.observed_at = sqlite3_column_int64(st, 3);
		it.source_time = sqlite3_column_int64(st, 4);
		it.position = sqlite3_column_int64(st, 5);
		if (cb(ud, &it) != 0) {
			sqlite3_reset(st);
			return -1;
		}
	}
	if (rc != SQLITE_DONE) {
		db_error(db, err, _("reading the staged items of a run"));
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

int64_t run_items_count(struct db *db, int64_t run_id, struct error *err)
{
	sqlite3_stmt *st = db_stmt(db, "SELECT count(*) FROM run_items WHERE run_id = ?1", err);
	int64_t n;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	if (step_row(db, st, N_("counting the staged items of a run"), err) != 1)
		return -1;
	n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return n;
}

int run_items_delete(struct db *db, int64_t run_id, struct error *err)
{
	sqlite3_stmt *st = db_stmt(db, "DELETE FROM run_items WHERE run_id = ?1", err);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	return step_done(db, st, N_("deleting the staged items of a run"), err);
}

int64_t run_items_purge(struct db *db, int64_t supplier_id, struct error *err)
{
	static const char sql[] =
		"DELETE FROM run_items WHERE run_id IN (SELECT id FROM sync_runs"
		" WHERE supplier_id = ?1 AND status <> 'needs_approval')";
	sqlite3_stmt *st = db_stmt(db, sql, err);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, supplier_id);
	if (step_done(db, st, N_("deleting staged items left behind"), err) < 0)
		return -1;
	return sqlite3_changes(db_handle(db));
}

int64_t links_count_upto(struct db *db, int64_t supplier_id, bool in_stock, int64_t limit,
                         struct error *err)
{
	static const char all_sql[] =
		"SELECT count(*) FROM (SELECT 1 FROM supplier_links WHERE supplier_id = ?1 LIMIT ?2)";
	static const char stock_sql[] =
		"SELECT count(*) FROM (SELECT 1 FROM supplier_links WHERE supplier_id = ?1"
		" AND supplier_stock > 0 LIMIT ?2)";
	sqlite3_stmt *st = db_stmt(db, in_stock ? stock_sql : all_sql, err);
	int64_t n;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, supplier_id);
	sqlite3_bind_int64(st, 2, limit > 0 ? limit : -1);
	if (step_row(db, st, N_("counting links"), err) != 1)
		return -1;
	n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return n;
}

int runs_set_guard_reason(struct db *db, int64_t run_id, const char *reason, struct error *err)
{
	sqlite3_stmt *st = db_stmt(db, "UPDATE sync_runs SET guard_reason = ?2 WHERE id = ?1", err);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	bind_text(st, 2, reason);
	return step_done(db, st, N_("recording why the guard stopped a run"), err);
}

int runs_get_stats(struct db *db, int64_t run_id, struct run_stats *out, char *reason,
                   size_t reason_size, struct error *err)
{
	static const char sql[] =
		"SELECT done, total, pages, bytes, seen, changed, unknown, invalid, stale, zeroed,"
		" guard_reason FROM sync_runs WHERE id = ?1";
	sqlite3_stmt *st = db_stmt(db, sql, err);
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	rc = step_row(db, st, N_("reading a run's counts"), err);
	if (rc != 1)
		return rc;
	out->done = sqlite3_column_int64(st, 0);
	out->total = sqlite3_column_int64(st, 1);
	out->pages = sqlite3_column_int64(st, 2);
	out->bytes = sqlite3_column_int64(st, 3);
	out->seen = sqlite3_column_int64(st, 4);
	out->changed = sqlite3_column_int64(st, 5);
	out->unknown = sqlite3_column_int64(st, 6);
	out->invalid = sqlite3_column_int64(st, 7);
	out->stale = sqlite3_column_int64(st, 8);
	out->zeroed = sqlite3_column_int64(st, 9);
	if (reason && reason_size)
		copy_col(st, 10, reason, reason_size);
	sqlite3_reset(st);
	return 1;
}

int64_t runs_supersede_approvals(struct db *db, int64_t supplier_id, int64_t run_id, bool full,
                                 const char *note, struct error *err)
{
	static const char del_sql[] =
		"DELETE FROM run_items WHERE run_id IN (SELECT id FROM sync_runs"
		" WHERE supplier_id = ?1 AND status = 'needs_approval' AND id < ?2"
		" AND (?3 OR kind = 'delta'))";
	static const char upd_sql[] =
		"UPDATE sync_runs SET status = 'failed', error = ?4"
		" WHERE supplier_id = ?1 AND status = 'needs_approval' AND id < ?2"
		" AND (?3 OR kind = 'delta')";
	sqlite3_stmt *st = db_stmt(db, del_sql, err);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, supplier_id);
	sqlite3_bind_int64(st, 2, run_id);
	sqlite3_bind_int(st, 3, full ? 1 : 0);
	if (step_done(db, st, N_("dropping the staged items of superseded runs"), err) < 0)
		return -1;
	st = db_stmt(db, upd_sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, supplier_id);
	sqlite3_bind_int64(st, 2, run_id);
	sqlite3_bind_int(st, 3, full ? 1 : 0);
	bind_text(st, 4, note);
	if (step_done(db, st, N_("marking superseded runs"), err) < 0)
		return -1;
	return sqlite3_changes(db_handle(db));
}

/* ---- the run queue ---- */

#define RUN_COLS \
	"r.id, r.supplier_id, s.slug, r.kind, r.\"trigger\", r.status, r.attempt," \
	" coalesce(r.retry_of, 0), coalesce(r.pid, 0), coalesce(r.started_at, 0)," \
	" coalesce(r.heartbeat_at, 0), coalesce(r.next_attempt_at, 0)" \
	" FROM sync_runs r JOIN suppliers s ON s.id = r.supplier_id"

static void copy_col(sqlite3_stmt *st, int i, char *dst, size_t size)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	snprintf(dst, size, "%s", t ? (const char *)t : "");
}

static void run_from_row(sqlite3_stmt *st, struct run_row *out)
{
	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(st, 0);
	out->supplier_id = sqlite3_column_int64(st, 1);
	copy_col(st, 2, out->slug, sizeof(out->slug));
	copy_col(st, 3, out->kind, sizeof(out->kind));
	copy_col(st, 4, out->trigger, sizeof(out->trigger));
	copy_col(st, 5, out->status, sizeof(out->status));
	out->attempt = sqlite3_column_int(st, 6);
	out->retry_of = sqlite3_column_int64(st, 7);
	out->pid = sqlite3_column_int64(st, 8);
	out->started_at = sqlite3_column_int64(st, 9);
	out->heartbeat_at = sqlite3_column_int64(st, 10);
	out->next_attempt_at = sqlite3_column_int64(st, 11);
}

/* step_row for a query of RUN_COLS: on a row, *out is filled and st reset. */
static int run_step_one(struct db *db, sqlite3_stmt *st, struct run_row *out, const char *what,
                        struct error *err)
{
	int rc = step_row(db, st, what, err);

	if (rc == 1) {
		run_from_row(st, out);
		sqlite3_reset(st);
	}
	return rc;
}

/* Steps st to the end, collecting every row; resets st.  -1 on error. */
static int runs_collect(struct db *db, sqlite3_stmt *st, struct run_row **rows, size_t *n,
                        const char *what, struct error *err)
{
	size_t cap = 0;
	int rc;

	*rows = NULL;
	*n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*rows = xrealloc(*rows, cap * sizeof(**rows));
		}
		run_from_row(st, &(*rows)[(*n)++]);
	}
	if (rc != SQLITE_DONE) {
		db_error(db, err, _(what));
		sqlite3_reset(st);
		free(*rows);
		*rows = NULL;
		*n = 0;
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

int runs_enqueue(struct db *db, int64_t supplier_id, const char *kind, const char *trigger,
                 int attempt, int64_t retry_of, int64_t due, int64_t *run_id,
                 struct error *err)
{
	static const char sql[] =
		"INSERT INTO sync_runs (supplier_id, kind, \"trigger\", status, attempt, retry_of,"
		" next_attempt_at) VALUES (?1, ?2, ?3, 'queued', ?4, ?5, ?6)";
	sqlite3_stmt *st = db_stmt(db, sql, err);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, supplier_id);
	bind_text(st, 2, kind);
	bind_text(st, 3, trigger ? trigger : "cli");
	sqlite3_bind_int(st, 4, attempt > 0 ? attempt : 1);
	bind_opt_i64(st, 5, retry_of);
	sqlite3_bind_int64(st, 6, due);
	if (step_done(db, st, N_("queueing a sync run"), err) < 0)
		return -1;
	if (run_id)
		*run_id = sqlite3_last_insert_rowid(db_handle(db));
	return 0;
}

int runs_get(struct db *db, int64_t run_id, struct run_row *out, struct error *err)
{
	static const char sql[] = "SELECT " RUN_COLS " WHERE r.id = ?1";
	sqlite3_stmt *st = db_stmt(db, sql, err);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	return run_step_one(db, st, out, N_("reading a sync run"), err);
}

int runs_find_queued(struct db *db, int64_t supplier_id, struct run_row *out, struct error *err)
{
	static const char sql[] =
		"SELECT " RUN_COLS " WHERE r.supplier_id = ?1 AND r.status = 'queued'"
		" ORDER BY r.next_attempt_at, r.id LIMIT 1";
	sqlite3_stmt *st = db_stmt(db, sql, err);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, supplier_id);
	return run_step_one(db, st, out, N_("reading the queued runs"), err);
}

int64_t runs_count_running(struct db *db, int64_t supplier_id, struct error *err)
{
	static const char sql[] =
		"SELECT count(*) FROM sync_runs WHERE supplier_id = ?1 AND status = 'running'";
	sqlite3_stmt *st = db_stmt(db, sql, err);
	int64_t n;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, supplier_id);
	return step_i64(db, st, N_("counting running runs"), &n, err) == 1 ? n : -1;
}

int runs_set_due(struct db *db, int64_t run_id, int64_t due, struct error *err)
{
	static const char sql[] =
		"UPDATE sync_runs SET next_attempt_at = ?2 WHERE id = ?1 AND status = 'queued'";
	sqlite3_stmt *st = db_stmt(db, sql, err);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_int64(st, 2, due);
	return step_changed(db, st, N_("rescheduling a queued run"), err);
}

int runs_list_due(struct db *db, int64_t now, struct run_row **rows, size_t *n,
                  struct error *err)
{
	static const char sql[] =
		"SELECT " RUN_COLS " WHERE r.status = 'queued' AND r.next_attempt_at <= ?1"
		" AND NOT EXISTS (SELECT 1 FROM sync_runs x WHERE x.supplier_id = r.supplier_id"
		"  AND x.status = 'running')"
		" ORDER BY r.next_attempt_at, r.id";
	sqlite3_stmt *st = db_stmt(db, sql, err);

	*rows = NULL;
	*n = 0;
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	return runs_collect(db, st, rows, n, N_("reading the due runs"), err);
}

int runs_list_running(struct db *db, struct run_row **rows, size_t *n, struct error *err)
{
	static const char sql[] = "SELECT " RUN_COLS " WHERE r.status = 'running' ORDER BY r.id";
	sqlite3_stmt *st = db_stmt(db, sql, err);

	*rows = NULL;
	*n = 0;
	if (!st)
		return -1;
	return runs_collect(db, st, rows, n, N_("reading the running runs"), err);
}

int runs_claim(struct db *db, int64_t run_id, int64_t pid, int64_t at, struct error *err)
{
	static const char sql[] =
		"UPDATE sync_runs SET status = 'running', pid = ?2, started_at = ?3,"
		" heartbeat_at = ?3, finished_at = NULL, error = NULL"
		" WHERE id = ?1 AND status = 'queued'"
		" AND NOT EXISTS (SELECT 1 FROM sync_runs x WHERE x.supplier_id ="
		"  sync_runs.supplier_id AND x.status = 'running')";
	sqlite3_stmt *st = db_stmt(db, sql, err);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_int64(st, 2, pid);
	sqlite3_bind_int64(st, 3, at);
	return step_changed(db, st, N_("claiming a queued run"), err);
}

int runs_transition(struct db *db, int64_t run_id, const char *from, const char *to,
                    const char *error, int64_t at, struct error *err)
{
	static const char sql[] =
		"UPDATE sync_runs SET status = ?3, finished_at = ?4, error = coalesce(?5, error)"
		" WHERE id = ?1 AND status = ?2";
	sqlite3_stmt *st = db_stmt(db, sql, err);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	bind_text(st, 2, from);
	bind_text(st, 3, to);
	sqlite3_bind_int64(st, 4, at);
	bind_text(st, 5, error);
	return step_changed(db, st, N_("changing a run's status"), err);
}

int runs_note(struct db *db, int64_t run_id, const char *note, struct error *err)
{
	static const char sql[] =
		"UPDATE sync_runs SET error = CASE WHEN error IS NULL OR error = '' THEN ?2"
		" ELSE error || '; ' || ?2 END WHERE id = ?1";
	sqlite3_stmt *st = db_stmt(db, sql, err);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	bind_text(st, 2, note);
	return step_done(db, st, N_("noting a run's outcome"), err);
}

int runs_discard(struct db *db, int64_t run_id, struct error *err)
{
	static const char sql[] =
		"DELETE FROM sync_runs WHERE id = ?1 AND pages = 0 AND done = 0"
		" AND status IN ('queued', 'running', 'interrupted')";
	sqlite3_stmt *st = db_stmt(db, sql, err);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	return step_changed(db, st, N_("discarding a sync run"), err);
}

int suppliers_get_slug(struct db *db, int64_t supplier_id, char *slug, size_t size,
                       struct error *err)
{
	static const char sql[] = "SELECT slug FROM suppliers WHERE id = ?1";
	sqlite3_stmt *st = db_stmt(db, sql, err);
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, supplier_id);
	rc = step_row(db, st, N_("reading a supplier"), err);
	if (rc == 1) {
		copy_col(st, 0, slug, size);
		sqlite3_reset(st);
	}
	return rc;
}

/* ---- reverts ---- */

int runs_begin_revert(struct db *db, int64_t supplier_id, int64_t reverts, const char *trigger,
                      int64_t *run_id, struct error *err)
{
	static const char sql[] =
		"INSERT INTO sync_runs (supplier_id, kind, \"trigger\", status, attempt, pid,"
		" started_at, heartbeat_at, reverts)"
		" VALUES (?1, 'revert', ?2, 'running', 1, ?3, ?4, ?4, ?5)";
	sqlite3_stmt *st = db_stmt(db, sql, err);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, supplier_id);
	bind_text(st, 2, trigger ? trigger : "cli");
	sqlite3_bind_int64(st, 3, (int64_t)getpid());
	sqlite3_bind_int64(st, 4, time_now_ms());
	bind_opt_i64(st, 5, reverts);
	if (step_done(db, st, N_("recording a revert run"), err) < 0)
		return -1;
	if (run_id)
		*run_id = sqlite3_last_insert_rowid(db_handle(db));
	return 0;
}

void stocklog_run_changes_free(struct run_change *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(c[i].supplier_sku);
		free(c[i].product_sku);
	}
	free(c);
}

int stocklog_run_changes(struct db *db, int64_t run_id, struct run_change **out, size_t *n,
                         struct error *err)
{
	/* g: per link (or, for a removed link, per supplier sku) the run's
	 * first and last rows; nw: the link's newest row after the run's last */
	static const char sql[] =
		"SELECT coalesce(g.link_id, 0), la.product_id, g.supplier_sku, p.sku,"
		" f.prev_stock, la.new_stock, nw.id, nw.source, nw.new_stock,"
		" coalesce(nw.run_id, 0), nw.recorded_at, g.last_id"
		" FROM (SELECT link_id, supplier_sku, min(id) AS first_id, max(id) AS last_id"
		"       FROM stock_log WHERE run_id = ?1 GROUP BY link_id, supplier_sku) g"
		" JOIN stock_log f ON f.id = g.first_id"
		" JOIN stock_log la ON la.id = g.last_id"
		" LEFT JOIN stock_log nw ON nw.id = (SELECT max(n.id) FROM stock_log n"
		"       WHERE n.link_id = g.link_id AND n.id > g.last_id)"
		" LEFT JOIN products p ON p.id = la.product_id"
		" ORDER BY g.first_id";
	sqlite3_stmt *st = db_stmt(db, sql, err);
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct run_change *c;
		const unsigned char *t;

		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		c = &(*out)[(*n)++];
		memset(c, 0, sizeof(*c));
		c->link_id = sqlite3_column_int64(st, 0);
		c->product_id = sqlite3_column_int64(st, 1);
		t = sqlite3_column_text(st, 2);
		c->supplier_sku = xstrdup(t ? (const char *)t : "");
		t = sqlite3_column_text(st, 3);
		c->product_sku = t ? xstrdup((const char *)t) : NULL;
		c->has_prev = sqlite3_column_type(st, 4) != SQLITE_NULL;
		c->prev = sqlite3_column_int64(st, 4);
		c->run_stock = sqlite3_column_int64(st, 5);
		c->last_id = sqlite3_column_int64(st, 11);
		c->newer_id = sqlite3_column_int64(st, 6);
		if (c->newer_id) {
			copy_col(st, 7, c->newer_source, sizeof(c->newer_source));
			c->newer_stock = sqlite3_column_int64(st, 8);
			c->newer_run_id = sqlite3_column_int64(st, 9);
			c->newer_at = sqlite3_column_int64(st, 10);
		}
	}
	if (rc != SQLITE_DONE) {
		db_error(db, err, _("reading what a run changed"));
		sqlite3_reset(st);
		stocklog_run_changes_free(*out, *n);
		*out = NULL;
		*n = 0;
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

int stocklog_last_id(struct db *db, int64_t link_id, int64_t *id, struct error *err)
{
	static const char sql[] = "SELECT coalesce(max(id), 0) FROM stock_log WHERE link_id = ?1";
	sqlite3_stmt *st = db_stmt(db, sql, err);
	int rc;

	*id = 0;
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, link_id);
	rc = step_row(db, st, N_("reading a link's history"), err);
	if (rc == 1) {
		*id = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	return rc < 0 ? -1 : 0;
}

/* ---- removing a supplier (addition) ---- */

int suppliers_remove(struct db *db, int64_t supplier_id, int64_t **products, size_t *n,
                     struct error *err)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	*products = NULL;
	*n = 0;
	st = db_stmt(db, "SELECT DISTINCT product_id FROM supplier_links WHERE supplier_id = ?1",
	             err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, supplier_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			*products = xrealloc(*products, cap * sizeof(**products));
		}
		(*products)[(*n)++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		goto fail;
	st = db_stmt(db, "DELETE FROM suppliers WHERE id = ?1", err);
	if (!st)
		goto fail_quiet;
	sqlite3_bind_int64(st, 1, supplier_id);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		goto fail;
	return sqlite3_changes(db_handle(db)) > 0 ? 1 : 0;
fail:
	db_error(db, err, _("removing a supplier"));
fail_quiet:
	free(*products);
	*products = NULL;
	*n = 0;
	return -1;
}
