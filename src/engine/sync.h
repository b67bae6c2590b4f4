/* sync.h - a full sync of one supplier: fetch the feed page by page, parse
 * it as it streams, apply each page (or batch of a single-document feed) in
 * its own transaction, record the run, and zero missing links only after a
 * complete, successful feed.
 *
 * Locking: one sync per supplier at a time, whoever starts it.  The lock is
 * an flock() on LOCKDIR/SLUG.lock (next to the database), which the kernel
 * releases when the holder dies; whoever takes the lock marks runs left
 * "running" by a dead holder as interrupted.
 */
#ifndef DROPSTOCK_SYNC_H
#define DROPSTOCK_SYNC_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "conf/conf.h"
#include "engine/engine.h"
#include "store/db.h"
#include "store/store.h"

enum sync_kind { SYNC_FULL = 0, SYNC_DELTA };

struct sync_progress {
	const char *slug;
	int64_t run_id;
	int page;
	const struct run_stats *stats;
	int64_t elapsed_ms;
};

struct sync_opts {
	enum sync_kind kind;
	bool dry_run;
	const char *trigger;                 /* "cli", "console", "daemon" */
	bool wait_lock;                      /* wait for a running sync instead of refusing */
	volatile sig_atomic_t *stop;         /* set by a signal handler: stop after the current page */
	int64_t run_id;                      /* an existing queued run to carry out (the job queue);
	                                      * 0 = record a new run */
	int64_t time_limit_ms;               /* stop (status interrupted) after this long; 0 = none */
	void (*on_progress)(void *ud, const struct sync_progress *p);   /* throttled to ~4/s */
	void (*on_change)(void *ud, const struct stock_change *ch);
	void *ud;
};

struct sync_report {
	int64_t run_id;                      /* 0 when no run was recorded (lock refused, dry run) */
	const char *status;                  /* "succeeded", "failed", "interrupted", "busy",
	                                      * "needs_approval" (the guard stopped the run) */
	const char *kind;                    /* "full" or "delta": what actually ran */
	bool cancelled;                      /* an operator asked it to stop (not retried) */
	bool delta_fell_back;                /* a delta was asked, but the supplier had no
	                                      * watermark yet, so a full sync ran instead */
	int64_t watermark;                   /* the supplier's delta watermark after the run (ms) */
	struct run_stats stats;
	int64_t duration_ms;
	struct error err;                    /* kind ERRK_NONE on success */
	/* The mass-change guard (see below), filled by guarded runs and by dry
	 * runs of a supplier whose guard is on: */
	char guard_reason[256];              /* why it stopped the run (status "needs_approval"),
	                                      * or in a dry run would have; "" = within limits */
	int64_t guard_changed;               /* links whose known stock would change */
	int64_t guard_to_zero;               /* ... of them from > 0 to 0 */
	int64_t guard_links;                 /* the supplier's links before the run, and */
	int64_t guard_in_stock;              /* ... those with a store-facing stock > 0:
	                                      * counted only as far as the guard needs to
	                                      * decide (exact when it trips; 0 when
	                                      * nothing would change) */
};

/* Runs one sync.  Returns 0 when the run succeeded, -1 otherwise (report
 * says why).  The supplier row is upserted from the config first.
 *
 * Delta: the supplier's delta source is asked for items changed since its
 * watermark minus delta.overlap_ms, with the since parameter in ISO-8601 or
 * Unix seconds.  The watermark is the newest supplier updated_at seen by the
 * last successful delta or full sync, or that run's start time when the
 * feed gives no timestamps; it never moves backwards, and a failed run does
 * not move it.  With no watermark yet, a full sync runs instead (and
 * report->delta_fell_back says so).  A supplier without a delta source
 * fails with ERRK_CONFIG. */
int sync_supplier(struct db *db, const struct conf *c, const struct supplier_conf *s,
                  const struct sync_opts *o, struct sync_report *rep);

/* The mass-change guard (supplier guard group; on by default).  A full or
 * delta run of a supplier whose guard is on (and not a dry run) applies
 * nothing while it reads the feed: each page is probed (engine_probe, one
 * SELECT per unchanged item) and the items that would write something are
 * staged in run_items, one transaction per page.  Once the feed is read
 * (and zero-missing has staged its candidates, which count as changes to
 * 0), the guard compares, before anything is applied:
 *   - the links whose KNOWN store-facing stock would change, as a
 *     percentage of the supplier's links, with guard.max_changed_pct;
 *   - the links that would drop from > 0 to 0, as a percentage of the
 *     supplier's links in stock, with guard.max_zeroed_pct.
 * A link's first value (it had no stock yet) is not a change for the
 * guard, so the first sync of a new catalogue never trips it; and neither
 * rule applies while the supplier has fewer than SYNC_GUARD_MIN_LINKS links
 * (a small supplier does not trip on noise).  Over a limit (strictly more
 * than the percentage) nothing is applied: the run ends "needs_approval"
 * with sync_runs.guard_reason such as "would change 80% of 1000 links
 * (limit 50%)", its staged items are kept for sync_approve, and the call
 * returns -1 with an ERRK_PERMANENT error saying so (not retryable).
 * Within the limits the staged items are applied in order, in batches
 * through engine_apply (zero-missing ones through engine_zero_links), then
 * deleted; the run's counts are those of an unguarded run.
 * A guarded run that fails part way applies the items of the pages it
 * read, as an unguarded one would have, when they are within the limits
 * (else nothing, and the error says so); an interrupted one (signal, time
 * limit) applies nothing.  A run that succeeds or stops for approval
 * supersedes the supplier's older runs waiting for approval (a full run
 * all of them, a delta the deltas): they become "failed" ("superseded").
 * Dry runs are not stopped, but report in rep->guard_reason what the
 * guard would do. */
#define SYNC_GUARD_MIN_LINKS 20

/* `dropstock approve`: applies a run waiting for approval.  Takes the
 * supplier lock (o->wait_lock as for a sync), applies the run's staged
 * items in order in batches through engine_apply / engine_zero_links with
 * the run's id and source (an observation older than what is stored now
 * is stale, so anything newer that arrived meanwhile wins), then marks the
 * run succeeded with its final counts, moves the supplier's last-sync
 * status and delta watermark as the run would have, deletes the staged
 * items and supersedes older runs waiting for approval.  Uses o->dry_run
 * (apply and roll back each batch; nothing is recorded), o->wait_lock,
 * o->stop (stop after the current batch: what was applied stays, the run
 * still waits for approval and approving it again applies the rest),
 * o->on_change, o->on_progress and o->ud; the other fields are ignored.
 * rep as for sync_supplier (stats: the run's counts, with changed, stale
 * and zeroed of the approval added; guard_reason: the run's).  Returns 0,
 * or -1 with rep->err: ERRK_USAGE for an unknown run or one that is not
 * waiting for approval, ERRK_CONFIG when its supplier is no longer
 * configured, ERRK_BUSY (status "busy") when the supplier is syncing. */
int sync_approve(struct db *db, const struct conf *c, int64_t run_id, const struct sync_opts *o,
                 struct sync_report *rep);

/* The supplier lock.  Returns an fd >= 0, or -1 with ERRK_BUSY when another
 * process holds it (and wait is false). */
int sync_lock(const char *db_path, const char *slug, bool wait, struct error *err);
void sync_unlock(int fd);

#endif
