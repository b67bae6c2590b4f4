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
	const char *status;                  /* "succeeded", "failed", "interrupted", "busy" */
	const char *kind;                    /* "full" or "delta": what actually ran */
	bool delta_fell_back;                /* a delta was asked, but the supplier had no
	                                      * watermark yet, so a full sync ran instead */
	int64_t watermark;                   /* the supplier's delta watermark after the run (ms) */
	struct run_stats stats;
	int64_t duration_ms;
	struct error err;                    /* kind ERRK_NONE on success */
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

/* The supplier lock.  Returns an fd >= 0, or -1 with ERRK_BUSY when another
 * process holds it (and wait is false). */
int sync_lock(const char *db_path, const char *slug, bool wait, struct error *err);
void sync_unlock(int fd);

#endif
