/* catalogue.c - changing the links between store products and supplier
 * SKUs: add (or move) one link, remove one link.  Each change is one
 * transaction that recomputes every product it touched and tells the store
 * through the outbox, like any other stock change (source "manual").
 * Front ends (the CLI's `link`, the console) only parse, call and print. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/sync.h"
#include "util/util.h"

static enum aggregate_kind catalogue_agg(const struct conf *conf)
{
	return conf ? conf->aggregate : AGG_SUM;
}

/* 0 with *sid set, or -1 with err (ERRK_USAGE when the supplier is not in
 * the database). */
static int catalogue_supplier(struct db *db, const char *slug, int64_t *sid, struct error *err)
{
	int r;

	if (str_empty(slug))
		return err_set(err, ERRK_USAGE, _("empty supplier slug"));
	r = suppliers_find(db, slug, sid, err);
	if (r < 0)
		return -1;
	if (r == 0)
		return err_set(err, ERRK_USAGE,
		               _("unknown supplier '%s': it has no suppliers.d/%s.conf "
		                 "(or was never synced)"), slug, slug);
	return 0;
}

/* Recomputes a product and queues its event; *prev and *stock get its
 * figures, sku its sku (256 bytes). */
static int catalogue_recompute(struct db *db, const struct conf *conf, int64_t product_id,
                               const char *slug, const char *supplier_sku, int64_t now,
                               int64_t *prev, int64_t *stock, char sku[256], struct error *err)
{
	if (products_recompute(db, product_id, catalogue_agg(conf), prev, stock, sku, 256, now,
	                       err) < 0)
		return -1;
	return engine_product_event(db, product_id, sku, *prev, *stock, slug, supplier_sku,
	                            obs_source_name(SRC_MANUAL), now, now, err);
}

/* Starts a catalogue change: the supplier's id, the time, BEGIN.  0, or -1
 * with err (nothing begun). */
static int catalogue_begin(struct db *db, const char *slug, int64_t *sid, int64_t *now,
                           struct error *err)
{
	if (catalogue_supplier(db, slug, sid, err) < 0)
		return -1;
	*now = time_now_ms();
	return db_begin(db, err) < 0 ? -1 : 0;
}

/* Ends a change begun by catalogue_begin whose work returned rc: commits
 * and gives *o to *out (out may be NULL) when rc is 0, else rolls back.
 * Returns 0 or -1. */
static int catalogue_end(struct db *db, int rc, const struct link_outcome *o,
                         struct link_outcome *out, struct error *err)
{
	if (rc < 0) {
		db_rollback(db);
		return -1;
	}
	if (db_commit(db, err) < 0)
		return -1;
	if (out)
		*out = *o;
	return 0;
}

/* engine_link_add's work, inside its transaction. */
static int link_add_tx(struct db *db, const struct conf *conf, const char *product_sku,
                       const char *product_name, const char *supplier_slug,
                       const char *supplier_sku, int64_t sid, int64_t now,
                       struct link_outcome *o, struct error *err)
{
	struct link_row before, after;
	int64_t old = 0;
	int r;

	if ((r = links_find(db, sid, supplier_sku, &before, err)) < 0)
		return -1;
	o->existed = r == 1;
	/* validates the lengths, creates the product, forgets the unknown SKU */
	if (links_add_ex(db, product_sku, product_name, supplier_slug, supplier_sku, &o->link_id,
	                 &o->product_id, &old, err) < 0)
		return -1;
	if ((r = links_get(db, o->link_id, &after, NULL, err)) < 0)
		return -1;
	if (r == 0)
		return err_set(err, ERRK_INTERNAL, _("%s: link %s -> %s was not stored"),
		               supplier_slug, supplier_sku, product_sku);
	o->has_stock = after.has_stock;
	/* a link moved from another product takes its stock along */
	if (old) {
		o->moved = true;
		o->old_product_id = old;
		if (catalogue_recompute(db, conf, old, supplier_slug, supplier_sku, now, &o->old_prev,
		                        &o->old_stock, o->old_product_sku, err) < 0)
			return -1;
	}
	return catalogue_recompute(db, conf, o->product_id, supplier_slug, supplier_sku, now,
	                           &o->prev, &o->stock, o->product_sku, err);
}

int engine_link_add(struct db *db, const struct conf *conf, const char *product_sku,
                    const char *product_name, const char *supplier_slug,
                    const char *supplier_sku, struct link_outcome *out, struct error *err)
{
	struct link_outcome o;
	int64_t sid, now;
	int rc;

	memset(&o, 0, sizeof(o));
	if (str_empty(product_sku) || str_empty(supplier_sku))
		return err_set(err, ERRK_USAGE, _("product and supplier SKUs must not be empty"));
	if (catalogue_begin(db, supplier_slug, &sid, &now, err) < 0)
		return -1;
	rc = link_add_tx(db, conf, product_sku, product_name, supplier_slug, supplier_sku, sid, now,
	                 &o, err);
	return catalogue_end(db, rc, &o, out, err);
}

/* engine_link_remove's work, inside its transaction. */
static int link_remove_tx(struct db *db, const struct conf *conf, const char *supplier_slug,
                          const char *supplier_sku, int64_t now, struct link_outcome *o,
                          struct error *err)
{
	int r = links_remove(db, supplier_slug, supplier_sku, &o->product_id, err);

	if (r < 0)
		return -1;
	if (r == 0)
		return err_set(err, ERRK_USAGE, _("no such link: supplier %s has no SKU \"%s\" linked"),
		               supplier_slug, supplier_sku);
	o->existed = true;
	return catalogue_recompute(db, conf, o->product_id, supplier_slug, supplier_sku, now,
	                           &o->prev, &o->stock, o->product_sku, err);
}

int engine_link_remove(struct db *db, const struct conf *conf, const char *supplier_slug,
                       const char *supplier_sku, struct link_outcome *out, struct error *err)
{
	struct link_outcome o;
	int64_t sid, now;
	int rc;

	memset(&o, 0, sizeof(o));
	if (str_empty(supplier_sku))
		return err_set(err, ERRK_USAGE, _("empty supplier sku"));
	if (catalogue_begin(db, supplier_slug, &sid, &now, err) < 0)
		return -1;
	rc = link_remove_tx(db, conf, supplier_slug, supplier_sku, now, &o, err);
	return catalogue_end(db, rc, &o, out, err);
}

/* ---- removing a whole supplier (addition) ---- */

int engine_supplier_remove(struct db *db, const struct conf *conf, const char *slug,
                           int64_t *links, struct error *err)
{
	int64_t sid, now, n_links, *products = NULL;
	size_t n_products = 0;
	int lock, rc = -1;

	if (links)
		*links = 0;
	if (catalogue_supplier(db, slug, &sid, err) < 0)
		return -1;
	lock = sync_lock(db_path(db), slug, false, err);
	if (lock < 0)
		return -1;
	now = time_now_ms();
	if (db_begin(db, err) < 0)
		goto out;
	if ((n_links = links_count(db, sid, err)) < 0)
		goto fail;
	if (suppliers_remove(db, sid, &products, &n_products, err) < 0)
		goto fail;
	for (size_t i = 0; i < n_products; i++) {
		int64_t prev, stock;
		char sku[256];

		if (catalogue_recompute(db, conf, products[i], slug, NULL, now, &prev, &stock, sku,
		                        err) < 0)
			goto fail;
	}
	if (db_commit(db, err) < 0)
		goto out;
	if (links)
		*links = n_links;
	rc = 0;
	goto out;
fail:
	db_rollback(db);
out:
	free(products);
	sync_unlock(lock);
	return rc;
}
