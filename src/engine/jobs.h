/* jobs.h - the durable job queue: every run (scheduled, manual, console) is
 * a row in sync_runs.
 *
 *   queued -> running -> succeeded | failed | interrupted
 *
 * A failed or interrupted run whose error can heal by waiting gets a new
 * queued row (attempt + 1, retry_of = the failed run) due after the
 * configured backoff with jitter, until daemon.max_attempts tries; errors
 * that cannot heal (configuration, 401/403/404, malformed feed, guard) fail
 * at once.  Nothing is queued twice: a supplier has at most one queued run
 * (a full one replaces a queued delta) and a due run for a supplier that is
 * running is skipped.
 */
#ifndef DROPSTOCK_JOBS_H
#define DROPSTOCK_JOBS_H

#include <stdbool.h>
#include <stdint.h>

#include "conf/conf.h"
#include "engine/sync.h"
#include "store/db.h"

struct job {
	int64_t run_id;
	int64_t supplier_id;
	char slug[64];
	enum sync_kind kind;
	int attempt;
	char trigger[16];
};

enum enqueue_result {
	ENQUEUE_ADDED = 0,
	ENQUEUE_REPLACED,      /* a queued delta was replaced by this full run */
	ENQUEUE_DUPLICATE,     /* an equal or stronger run is already queued */
	ENQUEUE_RUNNING,       /* the supplier is syncing now (by anyone): skipped */
};

/* Queues a run due at not_before (0 = now).  Returns the result, -1 on error;
 * sets *run_id when added or replaced, and to the queued run that covers
 * this one on ENQUEUE_DUPLICATE.  A replaced queued delta is deleted
 * (nothing ran).  When the queued run is due later than not_before, its
 * due time is brought forward (a run-now does not wait for a pending
 * retry's backoff).  "Running" means a sync_runs row with status running
 * for the supplier, or the supplier's lock held by anyone. */
int jobs_enqueue(struct db *db, int64_t supplier_id, enum sync_kind kind, const char *trigger,
                 int64_t not_before, int64_t *run_id, struct error *err);

/* Claims the oldest due queued run (next_attempt_at <= now) whose supplier is
 * not locked by anyone, marking it running.  1 claimed (job filled), 0 none,
 * -1 error. */
int jobs_claim(struct db *db, int64_t now, struct job *job, struct error *err);

/* After a run ended: when it failed or was interrupted with a retryable
 * error and attempts remain, queues the next attempt.  Returns 1 when a
 * retry was queued (its due time in *next_at), 0 when not, -1 on error.
 *
 * Call it after every sync_supplier() of a claimed job, whatever happened:
 * when the sync never took the claimed run over (rep->run_id differs from
 * job->run_id), this finishes the claimed row itself: with ERRK_BUSY
 * (another process syncs the supplier now) the row is deleted, the run is
 * skipped and not retried; otherwise it is marked failed (interrupted for
 * ERRK_INTERRUPTED) with rep->err.msg.  A caller that cannot run the job
 * at all (its supplier left the configuration) passes a report with
 * run_id 0 and an ERRK_CONFIG error.  The ended run's error text gets a
 * note: where its retry went, or why there is none.  A retry that finds a
 * queued run covering it (a full, or the same kind) is merged into it
 * (returns 1, that run's due time in *next_at). */
int jobs_after_run(struct db *db, const struct conf *c, const struct job *job,
                   const struct sync_report *rep, int64_t *next_at, struct error *err);

/* Runs left "running" by a process that died (heartbeat older than
 * daemon.heartbeat_stale_ms and the supplier lock free, or the pid gone):
 * marks them interrupted and queues their retry.  Returns how many.
 * The lock must be free in both cases (a held lock means the run or its
 * successor is alive).  The retry (attempt + 1, due now) is queued only
 * while attempts remain, as in jobs_after_run. */
int jobs_recover(struct db *db, const struct conf *c, int64_t now, struct error *err);

/* Whether the error kind can heal by waiting. */
bool jobs_retryable(enum err_kind k);

#endif
