/* sync.c - full sync of one supplier: fetch pages, parse as they stream,
 * apply each page in one transaction, record the run, zero missing links
 * only after a complete feed.  With the supplier's mass-change guard on,
 * pages are probed and staged instead, and applied once the whole feed is
 * known to stay within the guard's limits (or after `dropstock approve`).
 */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/sync.h"
#include "feed/feed.h"
#include "feed/http.h"

#define BATCH_ITEMS 500          /* streamed single documents apply in batches of this */
#define MAX_PAGES 10000000       /* a runaway paginator stops here */
#define RUN_UPDATE_MS 250        /* progress written to sync_runs at most this often */
#define INVALID_LOG_MAX 10       /* invalid items logged one by one, then summarised */
#define QUEUE_DEPTH 4            /* batches parsed ahead of the one being applied */

/* Observations of one page (or batch), with their SKUs in one arena. */
struct batch {
	struct observation *obs;
	size_t n, cap;
	struct buf skus;         /* NUL-separated SKU strings */
	size_t *sku_off;         /* offset of each SKU in skus */
};

struct bitset {
	unsigned char *bits;
	size_t nbytes;
};

/* What the fetcher knows, copied into the run's stats as its batches are
 * applied (so progress never runs ahead of what is committed). */
struct fetch_stats {
	int64_t invalid, bytes, pages, total;
};

/* A batch handed from the fetcher thread to the applier (the caller's
 * thread), or the end of the feed. */
struct message {
	struct batch batch;
	struct fetch_stats fs;
	int page;
	bool end;                /* the fetcher is done: rc and err say how */
	int rc;
	struct error err;
};

struct queue {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct message slots[QUEUE_DEPTH];
	size_t head, count;
	struct batch spare;      /* an emptied batch returned for reuse */
};

struct sync_state {
	struct db *db;
	const struct conf *conf;
	const struct supplier_conf *sup;
	const struct source_conf *src;   /* the full source, or the delta source */
	char *base_url;                  /* src->url, plus the since parameter for a delta */
	int64_t max_source_time;         /* newest supplier timestamp seen (watermark) */
	const struct sync_opts *opts;
	struct sync_report *rep;
	struct apply_ctx actx;
	struct apply_counts counts;
	struct batch batch;
	struct bitset seen;      /* links seen in this run (zero-missing) */
	bool track_seen;
	/* SKUs of items present in the feed but unreadable (fetcher side):
	 * zero-missing leaves their links alone, an unreadable line is not
	 * a missing one */
	char **invalid_skus;
	size_t n_invalid_skus, cap_invalid_skus;
	bool stream_apply;       /* single document: apply in batches while it streams */
	struct feed_parser *parser;
	int64_t page_observed_at;
	int64_t page_base_pos;   /* items before this page */
	int64_t page_items;      /* items delivered by the current attempt of the page */
	int page;                /* fetcher: the page being fetched */
	int applied_page;        /* applier: the last page committed */
	int64_t started_mono;
	int64_t deadline_mono;   /* time limit, 0 = none */
	int64_t last_update_mono;
	int64_t last_progress_mono;
	struct error item_err;   /* error raised inside a callback */
	/* the mass-change guard */
	bool guarded;            /* pages are probed and staged, applied at the end */
	bool settled;            /* the staged items were applied or dropped */
	int64_t staged;          /* run_items written: the last seq */
	struct probe_result probe;
	struct apply_counts applied;   /* what applying the staged items did */
	bool count_dry;          /* a dry run under the guard: count what on_change sees */
	int64_t dry_changed, dry_to_zero;
	/* the pipeline: the fetcher downloads and parses while the applier writes */
	struct fetch_stats fs;   /* fetcher side */
	struct queue q;
	atomic_bool abort;       /* the applier failed: the fetcher stops */
	atomic_bool cancel;      /* an operator asked the run to stop (sync_runs flag) */
	struct http_client *http;
};

static int stop_requested(void *ud)
{
	const struct sync_state *st = ud;

	return (st->opts->stop && *st->opts->stop) || atomic_load(&st->abort) ||
	       atomic_load(&st->cancel) ||
	       (st->deadline_mono && time_mono_ms() >= st->deadline_mono);
}

/* The error of a stopped run: a signal, or the time limit. */
static int stop_error(const struct sync_state *st, struct error *err)
{
	if (atomic_load(&st->cancel))
		return err_set(err, ERRK_INTERRUPTED, _("cancelled by an operator"));
	if (atomic_load(&st->abort))
		return err_set(err, ERRK_INTERRUPTED, _("stopped: applying an earlier page failed"));
	if (st->deadline_mono && time_mono_ms() >= st->deadline_mono)
		return err_set(err, ERRK_INTERRUPTED, _("time limit of %lld s reached"),
		               (long long)(st->opts->time_limit_ms / 1000));
	return err_set(err, ERRK_INTERRUPTED, _("stopped by a signal"));
}

/* ---- small containers ---- */

static void batch_add(struct batch *b, const char *sku, int64_t raw, int64_t observed_at,
                      int64_t source_time, int64_t position)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : BATCH_ITEMS;
		b->obs = xrealloc(b->obs, b->cap * sizeof(*b->obs));
		b->sku_off = xrealloc(b->sku_off, b->cap * sizeof(*b->sku_off));
	}
	b->sku_off[b->n] = b->skus.len;
	buf_append(&b->skus, sku, strlen(sku) + 1);
	b->obs[b->n] = (struct observation){
		.supplier_sku = NULL,
		.raw_stock = raw,
		.observed_at = observed_at,
		.source_time = source_time,
		.position = position,
	};
	b->n++;
}

/* Fixes the SKU pointers once the arena has stopped moving. */
static void batch_seal(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		b->obs[i].supplier_sku = b->skus.data + b->sku_off[i];
}

static void batch_clear(struct batch *b)
{
	b->n = 0;
	buf_reset(&b->skus);
}

static void batch_free(struct batch *b)
{
	free(b->obs);
	free(b->sku_off);
	buf_free(&b->skus);
}

static void bitset_set(struct bitset *s, int64_t i)
{
	size_t byte = (size_t)(i / 8);

	if (i < 0)
		return;
	if (byte >= s->nbytes) {
		size_t n = s->nbytes ? s->nbytes : 4096;
		while (n <= byte)
			n *= 2;
		s->bits = xrealloc(s->bits, n);
		memset(s->bits + s->nbytes, 0, n - s->nbytes);
		s->nbytes = n;
	}
	s->bits[byte] |= (unsigned char)(1u << (i % 8));
}

static bool bitset_has(const struct bitset *s, int64_t i)
{
	size_t byte = (size_t)(i / 8);

	return i >= 0 && byte < s->nbytes && (s->bits[byte] & (1u << (i % 8)));
}

/* ---- progress ---- */

static void stats_from_counts(struct sync_state *st)
{
	struct run_stats *rs = &st->rep->stats;

	rs->seen = st->counts.seen + rs->invalid;
	rs->changed = st->counts.changed + st->applied.changed;
	rs->unknown = st->counts.unknown;
	rs->stale = st->counts.stale + st->applied.stale;
	rs->zeroed = st->counts.zeroed + st->applied.zeroed;
	rs->done = rs->seen;
}

static void report_progress(struct sync_state *st, bool force)
{
	int64_t now = time_mono_ms();

	stats_from_counts(st);
	if (st->rep->run_id && (force || now - st->last_update_mono >= RUN_UPDATE_MS)) {
		struct error e;
		if (runs_update(st->db, st->rep->run_id, &st->rep->stats, &e) != 0)
			log_warn("%s", e.msg);
		if (runs_cancel_requested(st->db, st->rep->run_id))
			atomic_store(&st->cancel, true);
		st->last_update_mono = now;
	}
	if (st->opts->on_progress && (force || now - st->last_progress_mono >= RUN_UPDATE_MS)) {
		struct sync_progress p = {
			.slug = st->sup->slug,
			.run_id = st->rep->run_id,
			.page = st->applied_page,
			.stats = &st->rep->stats,
			.elapsed_ms = now - st->started_mono,
		};
		st->opts->on_progress(st->opts->ud, &p);
		st->last_progress_mono = now;
	}
}

/* ---- applying ---- */

static void on_seen(void *ud, int64_t link_id)
{
	struct sync_state *st = ud;

	if (st->track_seen)
		bitset_set(&st->seen, link_id);
}

static void on_change(void *ud, const struct stock_change *ch)
{
	struct sync_state *st = ud;

	if (st->count_dry && ch->has_prev && ch->prev != ch->new_stock) {
		st->dry_changed++;
		if (ch->prev > 0 && ch->new_stock == 0)
			st->dry_to_zero++;
	}
	if (st->opts->on_change)
		st->opts->on_change(st->opts->ud, ch);
}

/* ---- the mass-change guard ---- */

static void err_append(struct error *err, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void err_append(struct error *err, const char *fmt, ...)
{
	size_t len = strlen(err->msg);
	va_list ap;

	if (len + 3 >= sizeof(err->msg))
		return;
	if (len) {
		memcpy(err->msg + len, "; ", 3);
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(err->msg + len, sizeof(err->msg) - len, fmt, ap);
	va_end(ap);
}

/* Probes a batch and stages what would write something, in one
 * transaction.  Counts go to st->counts (seen, unknown, stale) and
 * st->probe; on error nothing of the batch is counted or kept. */
static int stage_batch(struct sync_state *st, const struct batch *b, struct error *err)
{
	struct probe_counts before = st->probe.c;
	int64_t staged = st->staged;
	size_t i;

	if (db_begin(st->db, err) != 0)
		return -1;
	if (engine_probe(&st->actx, b->obs, b->n, &st->probe, err) != 0)
		goto fail;
	for (i = 0; i < b->n; i++) {
		const struct observation *o = &b->obs[i];
		struct run_item it;

		if (!(st->probe.flags[i] & PROBE_WRITES))
			continue;
		it.seq = ++st->staged;
		it.supplier_sku = o->supplier_sku;
		it.raw_stock = o->raw_stock;
		it.observed_at = o->observed_at;
		it.source_time = o->source_time;
		it.position = o->position;
		if (run_items_add(st->db, st->rep->run_id, &it, err) != 0) {
			err_prefix(err, _("item %lld (SKU %s)"), (long long)o->position,
			           o->supplier_sku);
			goto fail;
		}
	}
	if (db_commit(st->db, err) != 0)
		goto fail;
	st->counts.seen += st->probe.c.seen - before.seen;
	st->counts.unknown += st->probe.c.unknown - before.unknown;
	st->counts.stale += st->probe.c.stale - before.stale;
	return 0;
fail:
	db_rollback(st->db);
	st->probe.c = before;
	st->staged = staged;
	return -1;
}

/* v as a percentage for a message: whole when it is, else with one or two
 * decimals, so "50.01%" never reads as "50% (limit 50%)". */
static void pct_text(double v, char *out, size_t size)
{
	if (v == (double)(int64_t)v)
		snprintf(out, size, "%.0f", v);
	else if (v - (double)(int64_t)v < 0.05 || v - (double)(int64_t)v >= 0.95)
		snprintf(out, size, "%.2f", v);
	else
		snprintf(out, size, "%.1f", v);
}

/* Whether changed (of links) and to_zero (of in_stock) are over the
 * guard's limits; reason gets why ("" when not). */
static bool guard_over(const struct guard_conf *g, int64_t links, int64_t in_stock,
                       int64_t changed, int64_t to_zero, char *reason, size_t size)
{
	char pct[32], lim[32];
	size_t len = 0;
	double p;

	reason[0] = '\0';
	if (links < SYNC_GUARD_MIN_LINKS)
		return false;
	p = (double)changed * 100.0 / (double)links;
	if (p > g->max_changed_pct) {
		pct_text(p, pct, sizeof(pct));
		pct_text(g->max_changed_pct, lim, sizeof(lim));
		/* TRANSLATORS: why the mass-change guard stopped a run; when both
		   reasons hold, they are joined with "; " */
		snprintf(reason, size, P_("would change %s%% of %lld link (limit %s%%)",
		                          "would change %s%% of %lld links (limit %s%%)", links),
		         pct, (long long)links, lim);
		len = strlen(reason);
	}
	if (in_stock > 0) {
		p = (double)to_zero * 100.0 / (double)in_stock;
		if (p > g->max_zeroed_pct && len + 3 < size) {
			pct_text(p, pct, sizeof(pct));
			pct_text(g->max_zeroed_pct, lim, sizeof(lim));
			if (len) {
				memcpy(reason + len, "; ", 3);
				len += 2;
			}
			/* TRANSLATORS: why the mass-change guard stopped a run; when both
			   reasons hold, they are joined with "; " */
			snprintf(reason + len, size - len, P_("would set %s%% of %lld in-stock link to 0 "
			                                      "(limit %s%%)",
			                                      "would set %s%% of %lld in-stock links to 0 "
			                                      "(limit %s%%)", in_stock),
			         pct, (long long)in_stock, lim);
		}
	}
	return reason[0] != '\0';
}

/* How far a count of links must go for a rule with n of them over pct
 * percent: a total above n * 100 / pct keeps the rule within its limit,
 * so counting stops there (0: count them all). */
static int64_t guard_bound(int64_t n, double pct)
{
	double b;

	if (pct <= 0.0)
		return 0;
	b = (double)n * 100.0 / pct + 1.0;
	if (b < SYNC_GUARD_MIN_LINKS)
		return SYNC_GUARD_MIN_LINKS;
	if (b > 9e18)
		return 0;
	return (int64_t)b;
}

/* The supplier's links and links in stock, counted as far as the guard
 * needs (exact whenever a rule trips); 0 when nothing would change. */
static int guard_counts(struct db *db, int64_t supplier_id, const struct guard_conf *g,
                        int64_t changed, int64_t to_zero, int64_t *links, int64_t *in_stock,
                        struct error *err)
{
	*links = 0;
	*in_stock = 0;
	if (changed == 0 && to_zero == 0)
		return 0;
	*links = links_count_upto(db, supplier_id, false, guard_bound(changed, g->max_changed_pct),
	                          err);
	if (*links < 0)
		return -1;
	if (to_zero > 0 && *links >= SYNC_GUARD_MIN_LINKS) {
		*in_stock = links_count_upto(db, supplier_id, true,
		                             guard_bound(to_zero, g->max_zeroed_pct), err);
		if (*in_stock < 0)
			return -1;
	}
	return 0;
}

/* Reading staged items back into a batch. */
struct staged_read {
	struct batch *b;
	int64_t last_seq;
	int64_t max_source_time;
};

static int staged_read_cb(void *ud, const struct run_item *it)
{
	struct staged_read *r = ud;

	r->last_seq = it->seq;
	if (it->source_time > r->max_source_time)
		r->max_source_time = it->source_time;
	batch_add(r->b, it->supplier_sku, it->raw_stock, it->observed_at, it->source_time,
	          it->position);
	return 0;
}

/* Applies one batch of staged items in their order: observations through
 * engine_apply, zero-missing items (RUN_ITEM_ZERO) through
 * engine_zero_links, as of the time their feed was fetched. */
static int apply_staged_batch(struct apply_ctx *ctx, const struct batch *b,
                              struct apply_counts *counts, struct error *err)
{
	int64_t *ids = NULL;
	int64_t saved_as_of = ctx->zero_as_of;
	size_t i = 0, j, k;
	int rc = -1;

	while (i < b->n) {
		bool zero = b->obs[i].position == RUN_ITEM_ZERO;

		for (j = i; j < b->n && (b->obs[j].position == RUN_ITEM_ZERO) == zero; j++)
			;
		if (!zero) {
			if (engine_apply(ctx, b->obs + i, j - i, counts, err) != 0)
				goto out;
		} else {
			ids = xrealloc(ids, (j - i) * sizeof(*ids));
			for (k = 0; i < j; i++) {
				struct link_row link;
				int r = links_find(ctx->db, ctx->supplier_id, b->obs[i].supplier_sku, &link,
				                   err);

				if (r < 0)
					goto out;
				if (r == 1)
					ids[k++] = link.id;   /* else: unlinked meanwhile */
			}
			ctx->zero_as_of = b->obs[j - 1].observed_at;
			if (k > 0 && engine_zero_links(ctx, ids, k, counts, err) != 0)
				goto out;
		}
		i = j;
	}
	rc = 0;
out:
	ctx->zero_as_of = saved_as_of;
	free(ids);
	return rc;
}

/* Applies a run's staged items in order, BATCH_ITEMS at a time, each batch
 * in its own transaction; counts go to *counts.  Between batches, tick(ud)
 * is called and stop(ud, err) asked (nonzero: stop with err set).  Sets
 * *max_source_time (when not NULL) to the newest supplier time seen. */
static int apply_staged(struct apply_ctx *ctx, int64_t run_id, struct apply_counts *counts,
                        int64_t *max_source_time, void (*tick)(void *ud),
                        int (*stop)(void *ud, struct error *err), void *ud, struct error *err)
{
	void (*seen_cb)(void *, int64_t) = ctx->on_seen;
	struct batch b = { 0 };
	struct staged_read r = { .b = &b };
	int rc = -1;

	ctx->on_seen = NULL;   /* zero-missing bookkeeping is done */
	for (;;) {
		int64_t after = r.last_seq;

		batch_clear(&b);
		if (run_items_each(ctx->db, run_id, after, BATCH_ITEMS, staged_read_cb, &r, err) != 0)
			goto out;
		if (b.n == 0)
			break;
		batch_seal(&b);
		if (apply_staged_batch(ctx, &b, counts, err) != 0)
			goto out;
		if (tick)
			tick(ud);
		if (stop && stop(ud, err) != 0)
			goto out;
	}
	rc = 0;
out:
	ctx->on_seen = seen_cb;
	if (max_source_time)
		*max_source_time = r.max_source_time;
	batch_free(&b);
	return rc;
}

static void sync_tick(void *ud)
{
	report_progress(ud, false);
}

static int sync_stop(void *ud, struct error *err)
{
	struct sync_state *st = ud;

	if (!stop_requested(st))
		return 0;
	stop_error(st, err);
	return -1;
}

/* The end of a guarded run (whether or not its feed was read to the end):
 * compares what the staged items would change with the guard's limits;
 * within them, applies them.  Returns 0 (applied, or nothing to apply), 1
 * over a limit (nothing applied; rep->guard_reason says why), -1 with err.
 * The staged items are left for the caller to delete. */
static int guard_settle(struct sync_state *st, struct error *err)
{
	struct sync_report *rep = st->rep;
	int64_t links, in_stock;

	st->settled = true;
	if (guard_counts(st->db, st->actx.supplier_id, &st->sup->guard, st->probe.c.changed,
	                 st->probe.c.to_zero, &links, &in_stock, err) != 0)
		return -1;
	rep->guard_links = links;
	rep->guard_in_stock = in_stock;
	rep->guard_changed = st->probe.c.changed;
	rep->guard_to_zero = st->probe.c.to_zero;
	if (guard_over(&st->sup->guard, links, in_stock, st->probe.c.changed, st->probe.c.to_zero,
	               rep->guard_reason, sizeof(rep->guard_reason)))
		return 1;
	if (st->staged == 0)
		return 0;
	return apply_staged(&st->actx, rep->run_id, &st->applied, NULL, sync_tick, sync_stop, st,
	                    err);
}

/* A dry run under the guard: what the guard would have said. */
static void guard_dry(struct sync_state *st)
{
	struct sync_report *rep = st->rep;
	struct error e;

	rep->guard_changed = st->dry_changed;
	rep->guard_to_zero = st->dry_to_zero;
	if (guard_counts(st->db, st->actx.supplier_id, &st->sup->guard, st->dry_changed,
	                 st->dry_to_zero, &rep->guard_links, &rep->guard_in_stock, &e) == 0)
		guard_over(&st->sup->guard, rep->guard_links, rep->guard_in_stock, st->dry_changed,
		           st->dry_to_zero, rep->guard_reason, sizeof(rep->guard_reason));
}

/* ---- the pipeline ---- */

/* Fetcher: hands the current batch to the applier (blocks while the queue
 * is full) and takes an empty one back. */
static int emit(struct sync_state *st, bool end, int rc, const struct error *err)
{
	struct queue *q = &st->q;
	struct message *m;

	if (!end && st->batch.n == 0)
		return 0;
	pthread_mutex_lock(&q->lock);
	/* the end message always goes in: after an abort the applier drains */
	while (q->count == QUEUE_DEPTH && (end || !atomic_load(&st->abort)))
		pthread_cond_wait(&q->changed, &q->lock);
	if (atomic_load(&st->abort) && !end) {
		pthread_mutex_unlock(&q->lock);
		return -1;
	}
	m = &q->slots[(q->head + q->count) % QUEUE_DEPTH];
	m->batch = st->batch;
	m->fs = st->fs;
	m->page = st->page;
	m->end = end;
	m->rc = rc;
	if (err)
		m->err = *err;
	else
		err_clear(&m->err);
	q->count++;
	st->batch = q->spare;
	memset(&q->spare, 0, sizeof(q->spare));
	batch_clear(&st->batch);
	pthread_cond_broadcast(&q->changed);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

static int apply_batch(struct sync_state *st, struct error *err)
{
	if (emit(st, false, 0, NULL) != 0)
		return stop_error(st, err);
	return 0;
}

/* Applier: takes the next message (blocks until there is one). */
static void queue_pop(struct queue *q, struct message *out)
{
	pthread_mutex_lock(&q->lock);
	while (q->count == 0)
		pthread_cond_wait(&q->changed, &q->lock);
	*out = q->slots[q->head];
	q->head = (q->head + 1) % QUEUE_DEPTH;
	q->count--;
	pthread_cond_broadcast(&q->changed);
	pthread_mutex_unlock(&q->lock);
}

/* Applier: gives an applied batch's memory back to the fetcher. */
static void queue_recycle(struct queue *q, struct batch *b)
{
	pthread_mutex_lock(&q->lock);
	if (!q->spare.obs && !q->spare.skus.data) {
		q->spare = *b;
		memset(b, 0, sizeof(*b));
	}
	pthread_mutex_unlock(&q->lock);
	batch_free(b);
}

static int on_item(void *ud, const struct feed_item *it, struct error *err)
{
	struct sync_state *st = ud;
	int64_t raw = 0, source_time = 0;
	struct error ierr;

	st->page_items++;
	if (stop_requested(st))
		return stop_error(st, err);
	if (rules_item_to_obs(st->sup, it, &raw, &source_time, &ierr) != 0) {
		st->fs.invalid++;
		if (st->track_seen && it->sku && it->sku[0]) {
			if (st->n_invalid_skus == st->cap_invalid_skus) {
				st->cap_invalid_skus = st->cap_invalid_skus ? st->cap_invalid_skus * 2 : 64;
				st->invalid_skus = xrealloc(st->invalid_skus, st->cap_invalid_skus *
				                            sizeof(*st->invalid_skus));
			}
			st->invalid_skus[st->n_invalid_skus++] = xstrdup(it->sku);
		}
		if (st->fs.invalid <= INVALID_LOG_MAX)
			log_warn(_("%s: page %d: skipped invalid item: %s"), st->sup->slug, st->page,
			         ierr.msg);
		return 0;
	}
	if (source_time > st->max_source_time)
		st->max_source_time = source_time;
	batch_add(&st->batch, it->sku, raw, st->page_observed_at, source_time,
	          st->page_base_pos + it->position);
	if (st->stream_apply && st->batch.n >= BATCH_ITEMS)
		return apply_batch(st, err);
	return 0;
}

/* ---- one page ---- */

static int sink_begin(void *ud)
{
	struct sync_state *st = ud;

	/* A retried attempt starts the document over. */
	feed_parser_free(st->parser);
	st->parser = feed_parser_new(st->src, on_item, st);
	batch_clear(&st->batch);
	st->page_items = 0;
	return 0;
}

static int sink_data(void *ud, const char *bytes, size_t len, struct error *err)
{
	struct sync_state *st = ud;

	st->fs.bytes += (int64_t)len;
	return feed_parser_write(st->parser, bytes, len, err);
}

/* Builds the URL of the next page.  Caller frees. */
static char *page_url(const struct source_conf *src, const char *base, int64_t page_index,
                      int64_t offset, const char *cursor, const char *next_url)
{
	char num[32], *u, *v;

	switch (src->paging) {
	case PAGE_NUMBER:
		snprintf(num, sizeof(num), "%lld", (long long)(src->first_page + page_index));
		u = http_url_add_param(base, src->page_param, num);
		snprintf(num, sizeof(num), "%lld", (long long)src->page_size);
		v = http_url_add_param(u, src->size_param, num);
		free(u);
		return v;
	case PAGE_OFFSET:
		snprintf(num, sizeof(num), "%lld", (long long)offset);
		u = http_url_add_param(base, src->offset_param, num);
		snprintf(num, sizeof(num), "%lld", (long long)src->page_size);
		v = http_url_add_param(u, src->size_param, num);
		free(u);
		return v;
	case PAGE_CURSOR:
		snprintf(num, sizeof(num), "%lld", (long long)src->page_size);
		u = http_url_add_param(base, src->size_param, num);
		if (!cursor)
			return u;
		v = http_url_add_param(u, src->cursor_param, cursor);
		free(u);
		return v;
	case PAGE_NEXT_URL:
	case PAGE_LINK:
		return xstrdup(next_url ? next_url : base);
	case PAGE_NONE:
	default:
		return xstrdup(base);
	}
}

/* ---- zero-missing ---- */

struct missing {
	struct sync_state *st;
	int64_t *ids;
	size_t n, cap;
	int64_t links;
	/* guarded: candidates are staged (RUN_ITEM_ZERO) instead of collected */
	bool stage;
	struct probe_counts pc;
	int64_t staged;
	struct error *err;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int collect_missing(void *ud, const struct link_row *link, const char *supplier_sku)
{
	struct missing *m = ud;
	struct sync_state *st = m->st;

	m->links++;
	if (bitset_has(&st->seen, link->id))
		return 0;
	if (st->n_invalid_skus &&
	    bsearch(&supplier_sku, st->invalid_skus, st->n_invalid_skus, sizeof(char *), cmp_str))
		return 0;             /* in the feed, but unreadable: keep its figure */
	if (link->has_stock && link->stock == 0 && link->raw_stock == 0)
		return 0;             /* already zero */
	if (m->stage) {
		unsigned f = engine_probe_zero(&st->actx, link);
		struct run_item it = {
			.seq = st->staged + m->staged + 1,
			.supplier_sku = supplier_sku,
			.raw_stock = 0,
			.observed_at = st->actx.zero_as_of,
			.source_time = 0,
			.position = RUN_ITEM_ZERO,
		};

		m->n++;
		m->pc.seen++;
		if (f & PROBE_STALE)
			m->pc.stale++;
		if (f & PROBE_CHANGES)
			m->pc.changed++;
		if (f & PROBE_TO_ZERO)
			m->pc.to_zero++;
		if (f & PROBE_FIRST)
			m->pc.first++;
		if (!(f & PROBE_WRITES))
			return 0;
		m->pc.writes++;
		if (run_items_add(st->db, st->rep->run_id, &it, m->err) != 0) {
			err_prefix(m->err, _("zero-missing of SKU %s"), supplier_sku);
			return -1;
		}
		m->staged++;
		return 0;
	}
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 256;
		m->ids = xrealloc(m->ids, m->cap * sizeof(*m->ids));
	}
	m->ids[m->n++] = link->id;
	return 0;
}

static int zero_missing(struct sync_state *st, struct error *err)
{
	const struct rules_conf *r = &st->sup->rules;
	struct missing m = { .st = st, .stage = st->guarded, .err = err };
	int rc = -1;

	if (st->n_invalid_skus)
		qsort(st->invalid_skus, st->n_invalid_skus, sizeof(char *), cmp_str);
	if (m.stage && db_begin(st->db, err) != 0)
		return -1;
	if (links_each(st->db, st->actx.supplier_id, collect_missing, &m, err) != 0)
		goto out;
	if (m.links == 0) {
		rc = 0;
		goto out;
	}
	if (st->rep->stats.seen == 0) {
		err_set(err, ERRK_PERMANENT,
		        P_("zero-missing refused: the feed was empty, so the %lld linked SKU would "
		           "be set to 0; nothing was zeroed",
		           "zero-missing refused: the feed was empty, so all %lld linked SKUs would "
		           "be set to 0; nothing was zeroed", m.links),
		        (long long)m.links);
		goto out;
	}
	if ((double)m.n * 100.0 / (double)m.links > r->zero_missing_max_pct) {
		err_set(err, ERRK_PERMANENT,
		        P_("zero-missing refused: %zu of %lld linked SKU (%.1f%%) is absent from "
		           "the feed, above the %.1f%% guard (rules.zero_missing_max_pct); nothing "
		           "was zeroed",
		           "zero-missing refused: %zu of %lld linked SKUs (%.1f%%) are absent from "
		           "the feed, above the %.1f%% guard (rules.zero_missing_max_pct); nothing "
		           "was zeroed", m.links),
		        m.n, (long long)m.links, (double)m.n * 100.0 / (double)m.links,
		        r->zero_missing_max_pct);
		goto out;
	}
	if (m.stage) {
		/* staged for the guard: applied with the pages' items */
		if (db_commit(st->db, err) != 0)
			goto out;
		st->staged += m.staged;
		st->counts.stale += m.pc.stale;
		st->probe.c.changed += m.pc.changed;
		st->probe.c.to_zero += m.pc.to_zero;
		st->probe.c.first += m.pc.first;
		st->probe.c.writes += m.pc.writes;
		rc = 0;
		goto out;
	}
	for (size_t i = 0; i < m.n; i += BATCH_ITEMS) {
		size_t k = m.n - i < BATCH_ITEMS ? m.n - i : BATCH_ITEMS;
		if (engine_zero_links(&st->actx, m.ids + i, k, &st->counts, err) != 0)
			goto out;
	}
	rc = 0;
out:
	if (m.stage)
		db_rollback(st->db);    /* no-op once committed */
	free(m.ids);
	return rc;
}

/* ---- the run ---- */


static int fetch_all(struct sync_state *st, struct http_client *http, struct error *err)
{
	const struct source_conf *src = st->src;
	char *cursor = NULL, *next_url = NULL, *url = NULL;
	int64_t offset = 0;
	int rc = -1;

	for (st->page = 1; st->page <= MAX_PAGES; st->page++) {
		struct http_sink sink = { sink_begin, sink_data, st };
		struct http_result res = { 0 };
		struct feed_page_meta meta = { 0 };
		char *masked;
		bool last = false;

		if (stop_requested(st)) {
			stop_error(st, err);
			err_prefix(err, _("after page %d"), st->page - 1);
			goto out;
		}
		free(url);
		url = page_url(src, st->base_url, st->page - 1, offset, cursor, next_url);
		st->page_observed_at = time_now_ms();
		sink_begin(st);        /* an empty body never calls begin() */
		if (http_get(http, url, &sink, &res, err) != 0 ||
		    feed_parser_finish(st->parser, &meta, err) != 0 ||
		    apply_batch(st, err) != 0) {
			/* stopped in the middle of a transfer: say why, as between pages */
			if (err->kind == ERRK_INTERRUPTED && stop_requested(st)) {
				stop_error(st, err);
				err_prefix(err, _("page %d"), st->page);
				http_result_clear(&res);
				feed_page_meta_clear(&meta);
				goto out;
			}
			/* http errors already name the URL ("GET URL: ..."); parse and
			 * apply errors get it here */
			masked = http_url_mask(url, st->sup->auth.kind == AUTH_QUERY ?
			                                st->sup->auth.param : NULL);
			if (str_startswith(err->msg, "GET ")) {
				if (src->paging != PAGE_NONE)
					err_prefix(err, _("page %d"), st->page);
			} else if (src->paging == PAGE_NONE) {
				err_prefix(err, "%s", masked);
			} else {
				err_prefix(err, _("page %d (%s)"), st->page, masked);
			}
			free(masked);
			http_result_clear(&res);
			feed_page_meta_clear(&meta);
			goto out;
		}
		feed_parser_free(st->parser);
		st->parser = NULL;
		st->fs.pages = st->page;
		if (meta.has_total)
			st->fs.total = meta.total;
		st->page_base_pos += meta.n_items;
		offset += meta.n_items;

		switch (src->paging) {
		case PAGE_NONE:
			last = true;
			break;
		case PAGE_NUMBER:
		case PAGE_OFFSET:
			if (meta.n_items == 0)
				last = true;
			else if (src->end == END_SHORT)
				last = meta.n_items < src->page_size;
			else if (src->end == END_TOTAL)
				last = !meta.has_total || st->page_base_pos >= meta.total;
			break;
		case PAGE_CURSOR:
		case PAGE_NEXT_URL:
			if (str_empty(meta.next) || (src->paging == PAGE_CURSOR && str_eq(meta.next, cursor)) ||
			    (src->paging == PAGE_NEXT_URL && str_eq(meta.next, url))) {
				last = true;
			} else if (src->paging == PAGE_CURSOR) {
				free(cursor);
				cursor = xstrdup(meta.next);
			} else {
				free(next_url);
				next_url = xstrdup(meta.next);
			}
			if (src->end == END_TOTAL && meta.has_total && st->page_base_pos >= meta.total)
				last = true;
			break;
		case PAGE_LINK:
			if (!res.link_next || str_eq(res.link_next, url)) {
				last = true;
			} else {
				free(next_url);
				next_url = xstrdup(res.link_next);
			}
			break;
		}
		http_result_clear(&res);
		feed_page_meta_clear(&meta);
		if (last) {
			rc = 0;
			goto out;
		}
	}
	err_set(err, ERRK_PERMANENT, P_("more than %d page: the paginator does not end",
	                                "more than %d pages: the paginator does not end", MAX_PAGES),
	        MAX_PAGES);
out:
	free(url);
	free(cursor);
	free(next_url);
	return rc;
}

/* The fetcher thread: downloads and parses every page, handing batches over. */
static void *fetcher_main(void *arg)
{
	struct sync_state *st = arg;
	struct error e = { 0 };
	int rc = fetch_all(st, st->http, &e);

	if (rc != 0)
		batch_clear(&st->batch);   /* a failed page is never applied */
	emit(st, true, rc, &e);
	return NULL;
}

static void stats_from_fetch(struct sync_state *st, const struct fetch_stats *fs)
{
	st->rep->stats.invalid = fs->invalid;
	st->rep->stats.bytes = fs->bytes;
	st->rep->stats.pages = fs->pages;
	if (fs->total > 0)
		st->rep->stats.total = fs->total;
}

/* Runs the fetcher in its own thread and applies its batches here, each in
 * its own transaction, so the next page downloads and parses while this one
 * is written. */
static int run_pipeline(struct sync_state *st, struct http_client *http, struct error *err)
{
	struct message m;
	pthread_t th;
	bool failed = false;
	int rc = 0;

	st->http = http;
	pthread_mutex_init(&st->q.lock, NULL);
	pthread_cond_init(&st->q.changed, NULL);
	if (pthread_create(&th, NULL, fetcher_main, st) != 0) {
		rc = err_set(err, ERRK_INTERNAL, _("cannot start the fetcher thread"));
		goto out;
	}
	for (;;) {
		queue_pop(&st->q, &m);
		if (!failed && m.batch.n > 0) {
			int r;

			batch_seal(&m.batch);
			if (st->guarded)
				r = stage_batch(st, &m.batch, err);
			else
				r = engine_apply(&st->actx, m.batch.obs, m.batch.n, &st->counts, err);
			if (r != 0) {
				failed = true;
				err_prefix(err, _("page %d"), m.page);
				pthread_mutex_lock(&st->q.lock);
				atomic_store(&st->abort, true);
				pthread_cond_broadcast(&st->q.changed);
				pthread_mutex_unlock(&st->q.lock);
			} else {
				stats_from_fetch(st, &m.fs);
				st->applied_page = m.page;
				report_progress(st, false);
			}
		}
		if (m.end) {
			if (failed) {
				rc = -1;
			} else {
				stats_from_fetch(st, &m.fs);
				st->applied_page = m.page;
				if (m.rc != 0) {
					*err = m.err;
					rc = -1;
				}
			}
			batch_free(&m.batch);
			break;
		}
		queue_recycle(&st->q, &m.batch);
	}
	pthread_join(th, NULL);
out:
	batch_free(&st->q.spare);
	pthread_cond_destroy(&st->q.changed);
	pthread_mutex_destroy(&st->q.lock);
	return rc;
}

/* Older runs waiting for approval that run_id makes pointless (see
 * sync.h); failures are logged, never fatal. */
static void supersede(struct db *db, int64_t supplier_id, int64_t run_id, bool full)
{
	struct error e;
	char *note = xasprintf(_("not approved: superseded by run %lld, which read the feed "
	                         "again"),
	                       (long long)run_id);
	int64_t n = -1;

	if (db_begin(db, &e) == 0) {
		n = runs_supersede_approvals(db, supplier_id, run_id, full, note, &e);
		if (n < 0 || db_commit(db, &e) != 0) {
			db_rollback(db);
			n = -1;
		}
	}
	if (n < 0)
		log_warn("%s", e.msg);
	else if (n > 0)
		log_info(P_("%lld run waiting for approval was superseded by run %lld",
		            "%lld runs waiting for approval were superseded by run %lld",
		            (unsigned long)n),
		         (long long)n, (long long)run_id);
	free(note);
}

int sync_supplier(struct db *db, const struct conf *c, const struct supplier_conf *s,
                  const struct sync_opts *o, struct sync_report *rep)
{
	struct sync_state st = { 0 };
	struct http_client *http = NULL;
	struct error *err = &rep->err;
	const char *kind = o->kind == SYNC_DELTA ? "delta" : "full";
	int64_t started_at;
	bool needs_approval = false;
	int lock_fd = -1;
	int rc = -1;

	memset(rep, 0, sizeof(*rep));
	rep->status = "failed";
	st.db = db;
	st.conf = c;
	st.sup = s;
	st.opts = o;
	st.rep = rep;
	st.started_mono = time_mono_ms();
	if (o->time_limit_ms > 0)
		st.deadline_mono = st.started_mono + o->time_limit_ms;
	started_at = time_now_ms();
	rep->kind = kind;

	if (o->kind == SYNC_DELTA && !s->has_delta) {
		err_set(err, ERRK_CONFIG,
		        _("%s: no delta source configured (add a delta group to %s); run a full "
		          "sync instead"),
		        s->slug, s->file ? s->file : _("its supplier file"));
		goto out;
	}
	lock_fd = sync_lock(db_path(db), s->slug, o->wait_lock, err);
	if (lock_fd < 0) {
		if (err->kind == ERRK_BUSY)
			rep->status = "busy";
		goto out;
	}
	if (suppliers_upsert(db, s, &st.actx.supplier_id, err) != 0)
		goto out;
	if (runs_mark_orphans(db, st.actx.supplier_id, o->run_id, err) < 0)
		goto out;
	if (!o->dry_run && run_items_purge(db, st.actx.supplier_id, err) < 0)
		goto out;
	if (suppliers_get_watermark(db, st.actx.supplier_id, &rep->watermark, err) != 0)
		goto out;
	st.src = &s->source;
	st.actx.source = SRC_FULL;
	if (o->kind == SYNC_DELTA && rep->watermark == 0) {
		rep->delta_fell_back = true;
		kind = "full";
	} else if (o->kind == SYNC_DELTA) {
		int64_t since = rep->watermark - s->delta.overlap_ms;
		char text[32];

		if (since < 0)
			since = 0;
		if (s->delta.since_format == SINCE_UNIX)
			snprintf(text, sizeof(text), "%lld", (long long)(since / 1000));
		else
			time_format_iso(since / 1000 * 1000, text);
		st.src = &s->delta.source;
		st.actx.source = SRC_DELTA;
		st.base_url = http_url_add_param(st.src->url, s->delta.since_param, text);
	}
	if (!st.base_url)
		st.base_url = xstrdup(st.src->url);
	rep->kind = kind;
	if (o->run_id && !o->dry_run) {
		rep->run_id = o->run_id;
		if (runs_start(db, o->run_id, err) != 0)
			goto out;
	} else if (!o->dry_run &&
	           runs_begin(db, st.actx.supplier_id, kind, o->trigger ? o->trigger : "cli", false,
	                      &rep->run_id, err) != 0) {
		goto out;
	}

	st.actx.db = db;
	st.actx.sup = s;
	st.actx.agg = c->aggregate;
	st.actx.zero_as_of = started_at;   /* a webhook during the sync is newer: not missing */
	st.actx.run_id = rep->run_id;
	st.actx.dry_run = o->dry_run;
	st.actx.on_change = on_change;
	st.actx.on_seen = on_seen;
	st.actx.ud = &st;
	st.track_seen = s->rules.zero_missing && st.actx.source == SRC_FULL;
	st.stream_apply = st.src->paging == PAGE_NONE;
	st.guarded = s->guard.enabled && !o->dry_run && rep->run_id;
	st.count_dry = s->guard.enabled && o->dry_run;
	rep->stats.total = runs_last_seen(db, st.actx.supplier_id, kind);

	http = http_client_new(s, c->user_agent_extra);
	http_client_set_cancel(http, stop_requested, &st);
	if (run_pipeline(&st, http, err) != 0)
		goto finish;
	stats_from_counts(&st);
	if (st.track_seen && zero_missing(&st, err) != 0)
		goto finish;
	if (st.guarded) {
		int g = guard_settle(&st, err);

		if (g < 0)
			goto finish;
		if (g > 0) {
			needs_approval = true;
			err_set(err, ERRK_PERMANENT,
			        _("run %lld needs approval: %s; nothing was applied; check the feed, "
			          "then 'dropstock approve %lld' applies the run"),
			        (long long)rep->run_id, rep->guard_reason, (long long)rep->run_id);
			goto finish;
		}
	}
	if (st.count_dry)
		guard_dry(&st);
	rc = 0;
	if (!o->dry_run) {
		/* the newest supplier timestamp seen, else the run's start */
		int64_t wm = st.max_source_time ? st.max_source_time : started_at;

		if (wm > rep->watermark) {
			if (suppliers_set_watermark(db, st.actx.supplier_id, wm, err) != 0) {
				rc = -1;
				goto finish;
			}
			rep->watermark = wm;
		}
	}
finish:
	if (st.guarded && !st.settled) {
		/* the feed was not read to its end: the pages read stay applied
		 * within the guard's limits, as without the guard; an interrupted
		 * run stops at once and applies nothing */
		if (err->kind == ERRK_INTERRUPTED) {
			if (st.staged > 0)
				err_append(err, P_("nothing of the %lld item read was applied",
				                   "nothing of the %lld items read was applied",
				                   rep->stats.seen),
				           (long long)rep->stats.seen);
		} else if (st.staged > 0) {
			struct error e2 = { 0 };
			int g = guard_settle(&st, &e2);

			if (g > 0)
				err_append(err, _("the changes of the items read were not applied: "
				                  "the guard: %s"),
				           rep->guard_reason);
			else if (g < 0)
				err_append(err, _("applying the items read failed: %s"), e2.msg);
		}
	}
	if (st.guarded && !needs_approval && st.staged > 0) {
		struct error e2;

		if (run_items_delete(db, rep->run_id, &e2) != 0)
			log_warn("%s", e2.msg);
	}
	if (rep->stats.invalid > INVALID_LOG_MAX)
		log_warn(P_("%s: %lld invalid item skipped in all",
		            "%s: %lld invalid items skipped in all", rep->stats.invalid),
		         s->slug, (long long)rep->stats.invalid);
	stats_from_counts(&st);
	if (rc == 0)
		rep->status = "succeeded";
	else if (needs_approval)
		rep->status = "needs_approval";
	else if (err->kind == ERRK_INTERRUPTED)
		rep->status = "interrupted";
	rep->cancelled = rc != 0 && atomic_load(&st.cancel);
	if (rc != 0 && !str_startswith(err->msg, s->slug))
		err_prefix(err, "%s", s->slug);
	if (rep->run_id) {
		struct error e2;
		if (runs_finish(db, rep->run_id, rep->status, &rep->stats,
		                rc == 0 ? NULL : err->msg, &e2) != 0)
			log_error("%s", e2.msg);
		if (needs_approval &&
		    runs_set_guard_reason(db, rep->run_id, rep->guard_reason, &e2) != 0)
			log_error("%s", e2.msg);
		/* the suppliers table knows succeeded, failed and interrupted:
		 * a run waiting for approval is recorded when it is approved */
		if (!needs_approval &&
		    suppliers_set_last(db, st.actx.supplier_id, kind, time_now_ms(), rep->status,
		                       &e2) != 0)
			log_error("%s", e2.msg);
		if (rc == 0 || needs_approval)
			supersede(db, st.actx.supplier_id, rep->run_id, str_eq(kind, "full"));
	}
	report_progress(&st, true);
out:
	if (rc == 0)
		err_clear(err);
	else if (err->kind != ERRK_BUSY && !str_eq(err->msg, "") &&
	         !str_startswith(err->msg, s->slug))
		err_prefix(err, "%s", s->slug);
	feed_parser_free(st.parser);
	free(st.base_url);
	http_client_free(http);
	batch_free(&st.batch);
	free(st.seen.bits);
	for (size_t i = 0; i < st.n_invalid_skus; i++)
		free(st.invalid_skus[i]);
	free(st.invalid_skus);
	probe_result_free(&st.probe);
	sync_unlock(lock_fd);
	rep->duration_ms = time_mono_ms() - st.started_mono;
	return rc;
}

/* ---- dropstock approve ---- */

struct approve_state {
	const struct sync_opts *o;
	struct sync_report *rep;
	struct run_stats base;    /* the run's counts when it stopped */
	struct apply_counts counts;
	int64_t started_mono;
};

static void approve_totals(struct approve_state *a)
{
	struct run_stats *rs = &a->rep->stats;

	*rs = a->base;
	rs->changed += a->counts.changed;
	rs->stale += a->counts.stale;
	rs->zeroed += a->counts.zeroed;
	a->rep->duration_ms = time_mono_ms() - a->started_mono;
}

static void approve_tick(void *ud)
{
	struct approve_state *a = ud;
	struct sync_progress p;

	approve_totals(a);
	if (!a->o->on_progress)
		return;
	p.slug = NULL;
	p.run_id = a->rep->run_id;
	p.page = 0;
	p.stats = &a->rep->stats;
	p.elapsed_ms = a->rep->duration_ms;
	a->o->on_progress(a->o->ud, &p);
}

static int approve_stop(void *ud, struct error *err)
{
	struct approve_state *a = ud;

	if (a->o->stop && *a->o->stop)
		return err_set(err, ERRK_INTERRUPTED, _("stopped by a signal"));
	return 0;
}

/* Finds run_id and checks that it waits for approval. */
static int approve_check(struct db *db, int64_t run_id, struct run_row *row, struct error *err)
{
	int r = runs_get(db, run_id, row, err);

	if (r < 0)
		return -1;
	if (r == 0)
		return err_set(err, ERRK_USAGE, _("no run %lld in the database; see 'dropstock runs'"),
		               (long long)run_id);
	if (!str_eq(row->status, "needs_approval"))
		return err_set(err, ERRK_USAGE,
		               _("run %lld of %s is not waiting for approval (its status is %s); "
		                 "only a run stopped by the guard (needs_approval) can be approved"),
		               (long long)run_id, row->slug, row->status);
	return 0;
}

int sync_approve(struct db *db, const struct conf *c, int64_t run_id, const struct sync_opts *o,
                 struct sync_report *rep)
{
	struct approve_state a = { .o = o, .rep = rep };
	struct error *err = &rep->err;
	const struct supplier_conf *s;
	struct apply_ctx ctx = { 0 };
	struct run_row row = { 0 };
	int64_t max_source_time = 0, wm = 0;
	bool full;
	int lock_fd = -1, rc = -1, r;

	memset(rep, 0, sizeof(*rep));
	rep->status = "failed";
	rep->kind = "full";
	a.started_mono = time_mono_ms();
	if (approve_check(db, run_id, &row, err) != 0)
		goto out;
	full = !str_eq(row.kind, "delta");
	rep->kind = full ? "full" : "delta";
	s = conf_find_supplier((struct conf *)c, row.slug);
	if (!s) {
		err_set(err, ERRK_CONFIG,
		        _("run %lld is of supplier %s, which is no longer in the configuration; "
		          "nothing was applied"),
		        (long long)run_id, row.slug);
		goto out;
	}
	lock_fd = sync_lock(db_path(db), row.slug, o->wait_lock, err);
	if (lock_fd < 0) {
		if (err->kind == ERRK_BUSY)
			rep->status = "busy";
		goto out;
	}
	/* again, under the lock: another approval may have come first */
	if (approve_check(db, run_id, &row, err) != 0)
		goto out;
	r = runs_get_stats(db, run_id, &a.base, rep->guard_reason, sizeof(rep->guard_reason), err);
	if (r <= 0) {
		if (r == 0)
			err_set(err, ERRK_USAGE, _("run %lld vanished from the database"),
			        (long long)run_id);
		goto out;
	}
	approve_totals(&a);
	rep->run_id = run_id;
	ctx.db = db;
	ctx.sup = s;
	ctx.supplier_id = row.supplier_id;
	ctx.agg = c->aggregate;
	ctx.source = full ? SRC_FULL : SRC_DELTA;
	ctx.run_id = run_id;
	ctx.dry_run = o->dry_run;
	ctx.on_change = o->on_change;
	ctx.ud = o->ud;
	ctx.zero_as_of = row.started_at;
	if (apply_staged(&ctx, run_id, &a.counts, &max_source_time, approve_tick, approve_stop, &a,
	                 err) != 0) {
		approve_totals(&a);
		if (err->kind == ERRK_INTERRUPTED) {
			rep->status = "interrupted";
			if (!o->dry_run)
				err_append(err, _("what was applied stays and the run still waits for "
				                  "approval: approve it again to apply the rest"));
		}
		goto out;
	}
	approve_totals(&a);
	if (o->dry_run) {
		rc = 0;
		goto out;
	}
	if (db_begin(db, err) != 0)
		goto out;
	if (runs_finish(db, run_id, "succeeded", &rep->stats, NULL, err) != 0 ||
	    run_items_delete(db, run_id, err) != 0 ||
	    suppliers_set_last(db, row.supplier_id, rep->kind, time_now_ms(), "succeeded", err) != 0 ||
	    suppliers_get_watermark(db, row.supplier_id, &wm, err) != 0)
		goto rollback;
	/* the watermark moves as the run would have moved it: to the newest
	 * supplier time among its items, else to its start */
	if (max_source_time == 0)
		max_source_time = row.started_at;
	if (max_source_time > wm) {
		if (suppliers_set_watermark(db, row.supplier_id, max_source_time, err) != 0)
			goto rollback;
		wm = max_source_time;
	}
	if (db_commit(db, err) != 0)
		goto out;
	rep->watermark = wm;
	supersede(db, row.supplier_id, run_id, full);
	rc = 0;
	goto out;
rollback:
	db_rollback(db);
out:
	if (rc == 0) {
		rep->status = "succeeded";
		err_clear(err);
	} else if (err->kind != ERRK_BUSY && !str_empty(row.slug) && err->kind != ERRK_USAGE &&
	           !str_startswith(err->msg, row.slug)) {
		err_prefix(err, "%s", row.slug);
	}
	sync_unlock(lock_fd);
	return rc;
}
