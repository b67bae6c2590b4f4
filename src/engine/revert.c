/* revert.c - undoing a run: every link the run changed goes back to its
 * value before the run, unless something newer changed it since.
 *
 * What a run changed is in stock_log (rows with its run_id).  The revert
 * is a run of its own (kind "revert") that writes through the engine's one
 * path (engine_set_links, source "manual"), so it is logged, recomputes the
 * products and queues their events like any other change.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/sync.h"
#include "util/util.h"

/* The links handed to engine_set_links, and what became of them. */
struct plan {
	struct run_change *ch;     /* from stocklog_run_changes */
	size_t *idx;               /* candidates: index into ch */
	int64_t *ids, *stocks, *last_ids;
	bool *restored;            /* per candidate */
	int64_t *product_prev, *product_new, *current;
	size_t n, cur;             /* candidates; on_change's cursor */
	int64_t events;
};

static void item_add(struct revert_item **list, size_t *n, struct run_change *c)
{
	struct revert_item *it;

	*list = xrealloc(*list, (*n + 1) * sizeof(**list));
	it = &(*list)[(*n)++];
	memset(it, 0, sizeof(*it));
	it->supplier_sku = c->supplier_sku;
	it->product_sku = c->product_sku;
	c->supplier_sku = NULL;    /* the report owns them now */
	c->product_sku = NULL;
	it->has_prev = c->has_prev;
	it->prev = c->has_prev ? c->prev : 0;
	it->run_stock = c->run_stock;
	it->current = c->newer_id ? c->newer_stock : c->run_stock;
	if (c->newer_id) {
		snprintf(it->newer_source, sizeof(it->newer_source), "%s", c->newer_source);
		it->newer_run_id = c->newer_run_id;
		it->newer_at = c->newer_at;
	}
}

/* engine_set_links reports each change in the order of the links given:
 * match it to its candidate by supplier sku (unique per supplier). */
static void on_change(void *ud, const struct stock_change *sc)
{
	struct plan *p = ud;

	while (p->cur < p->n && !str_eq(p->ch[p->idx[p->cur]].supplier_sku, sc->supplier_sku))
		p->cur++;
	if (p->cur == p->n)
		return;     /* cannot happen: every change is one of ours */
	p->restored[p->cur] = true;
	p->current[p->cur] = sc->has_prev ? sc->prev : 0;
	p->product_prev[p->cur] = sc->product_prev;
	p->product_new[p->cur] = sc->product_new;
	if (sc->product_prev != sc->product_new)
		p->events++;
	p->cur++;
}

static void plan_free(struct plan *p, size_t n_changes)
{
	stocklog_run_changes_free(p->ch, n_changes);
	free(p->idx);
	free(p->ids);
	free(p->stocks);
	free(p->last_ids);
	free(p->restored);
	free(p->product_prev);
	free(p->product_new);
	free(p->current);
}

/* A candidate that engine_set_links_if did not change: removed meanwhile,
 * changed meanwhile (a newer stock_log row), or already at its value. */
static int settle_unchanged(struct db *db, struct revert_report *r, struct run_change *c,
                            struct error *err)
{
	struct link_row link;
	int64_t last = 0;
	int rc = links_get(db, c->link_id, &link, NULL, err);

	if (rc < 0)
		return -1;
	if (rc == 0) {
		item_add(&r->gone, &r->n_gone, c);
		return 0;
	}
	if (stocklog_last_id(db, c->link_id, &last, err) < 0)
		return -1;
	if (last != c->last_id) {
		item_add(&r->newer, &r->n_newer, c);
		r->newer[r->n_newer - 1].current = link.has_stock ? link.stock : 0;
		r->newer[r->n_newer - 1].newer_at = link.synced_at;
		return 0;
	}
	r->n_unchanged++;
	return 0;
}

int engine_revert(struct db *db, const struct conf *conf, int64_t run_id, bool dry_run,
                  struct revert_report *r, struct error *err)
{
	struct supplier_conf fallback;
	const struct supplier_conf *sup = NULL;
	struct apply_ctx ctx;
	struct apply_counts counts = { 0 };
	struct run_stats stats = { 0 };
	struct plan p = { 0 };
	struct run_row run;
	size_t n_changes = 0, i;
	int lock_fd = -1, rc = -1, found;
	bool applied = false;

	memset(r, 0, sizeof(*r));
	r->reverted_run = run_id;
	r->dry_run = dry_run;
	found = runs_get(db, run_id, &run, err);
	if (found < 0)
		goto out;
	if (found == 0) {
		err_set(err, ERRK_USAGE, _("there is no run %lld (see 'dropstock runs')"),
		        (long long)run_id);
		goto out;
	}
	snprintf(r->supplier, sizeof(r->supplier), "%s", run.slug);
	if (str_eq(run.status, "running")) {
		err_set(err, ERRK_BUSY,
		        _("run %lld of %s is still running (process %lld); revert it once it has ended"),
		        (long long)run_id, run.slug, (long long)run.pid);
		goto out;
	}
	/* a run waiting for approval may have been applied in part (an
	 * approval stopped half way): what it applied can be reverted */
	if (str_eq(run.status, "queued")) {
		err_set(err, ERRK_USAGE, _("run %lld of %s is queued: it has changed nothing yet"),
		        (long long)run_id, run.slug);
		goto out;
	}
	for (i = 0; conf && i < (size_t)conf->n_suppliers; i++)
		if (str_eq(conf->suppliers[i].slug, run.slug))
			sup = &conf->suppliers[i];
	if (!sup) {
		/* no longer configured: only the slug is needed (events name it) */
		memset(&fallback, 0, sizeof(fallback));
		fallback.slug = run.slug;
		fallback.name = run.slug;
		fallback.rules.cap = -1;
		sup = &fallback;
	}
	if (!dry_run) {
		lock_fd = sync_lock(db_path(db), run.slug, false, err);
		if (lock_fd < 0)
			goto out;
	}

	/* what the run did, and what has happened to those links since */
	if (stocklog_run_changes(db, run_id, &p.ch, &n_changes, err) < 0) {
		err_prefix(err, _("run %lld"), (long long)run_id);
		goto out;
	}
	p.idx = xcalloc(n_changes + 1, sizeof(*p.idx));
	p.ids = xcalloc(n_changes + 1, sizeof(*p.ids));
	p.stocks = xcalloc(n_changes + 1, sizeof(*p.stocks));
	p.last_ids = xcalloc(n_changes + 1, sizeof(*p.last_ids));
	for (i = 0; i < n_changes; i++) {
		struct run_change *c = &p.ch[i];

		if (!c->link_id)
			item_add(&r->gone, &r->n_gone, c);
		else if (c->newer_id)
			item_add(&r->newer, &r->n_newer, c);
		else if (!c->has_prev)
			item_add(&r->no_prev, &r->n_no_prev, c);
		else {
			p.idx[p.n] = i;
			p.ids[p.n] = c->link_id;
			p.stocks[p.n] = c->prev;
			p.last_ids[p.n] = c->last_id;
			p.n++;
		}
	}
	p.restored = xcalloc(p.n + 1, sizeof(*p.restored));
	p.product_prev = xcalloc(p.n + 1, sizeof(*p.product_prev));
	p.product_new = xcalloc(p.n + 1, sizeof(*p.product_new));
	p.current = xcalloc(p.n + 1, sizeof(*p.current));

	if (!dry_run && runs_begin_revert(db, run.supplier_id, run_id, "cli", &r->run_id, err) < 0)
		goto out;
	memset(&ctx, 0, sizeof(ctx));
	ctx.db = db;
	ctx.sup = sup;
	ctx.supplier_id = run.supplier_id;
	ctx.agg = conf ? conf->aggregate : AGG_SUM;
	ctx.source = SRC_MANUAL;
	ctx.run_id = r->run_id;
	ctx.dry_run = dry_run;
	ctx.on_change = on_change;
	ctx.ud = &p;
	/* a link changed after we looked (a webhook meanwhile) is left alone:
	 * checked in the transaction that writes */
	if (engine_set_links_if(&ctx, p.ids, p.stocks, p.last_ids, p.n, &counts, err) < 0) {
		err_prefix(err, _("reverting run %lld of %s"), (long long)run_id, run.slug);
		goto finish;
	}
	applied = true;
	for (i = 0; i < p.n; i++) {
		struct run_change *c = &p.ch[p.idx[i]];
		struct revert_item *it;

		if (!p.restored[i]) {
			if (settle_unchanged(db, r, c, err) < 0) {
				err_prefix(err, _("run %lld was reverted, but the report of what was "
				                  "left alone is incomplete"), (long long)run_id);
				goto finish;
			}
			continue;
		}
		item_add(&r->restored, &r->n_restored, c);
		it = &r->restored[r->n_restored - 1];
		it->current = p.current[i];
		it->product_prev = p.product_prev[i];
		it->product_new = p.product_new[i];
	}
	rc = 0;
finish:
	if (r->run_id) {
		struct error e2;

		stats.done = stats.seen = (int64_t)n_changes;
		/* once engine_set_links has committed, the revert has happened */
		stats.changed = applied ? counts.changed : 0;
		stats.stale = (int64_t)r->n_newer;
		if (runs_finish(db, r->run_id, applied ? "succeeded" : "failed", &stats,
		                applied ? NULL : err->msg, &e2) < 0 && rc == 0) {
			*err = e2;
			rc = -1;
		}
	}
out:
	if (rc == 0)
		err_clear(err);
	r->events = p.events;
	/* items not handed to the report are freed with the plan */
	plan_free(&p, n_changes);
	sync_unlock(lock_fd);
	return rc;
}

static void items_free(struct revert_item *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(list[i].supplier_sku);
		free(list[i].product_sku);
	}
	free(list);
}

void revert_report_free(struct revert_report *r)
{
	if (!r)
		return;
	items_free(r->restored, r->n_restored);
	items_free(r->newer, r->n_newer);
	items_free(r->no_prev, r->n_no_prev);
	items_free(r->gone, r->n_gone);
	r->restored = r->newer = r->no_prev = r->gone = NULL;
	r->n_restored = r->n_newer = r->n_no_prev = r->n_gone = 0;
}
