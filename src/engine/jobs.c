/* jobs.c - the durable job queue: queued runs in sync_runs, claimed by the
 * daemon's workers, retried with backoff, recovered after a crash.
 *
 * "Running" is decided by two witnesses: a sync_runs row with status
 * running, and the supplier's flock (the truth across processes: a CLI sync
 * holds it too).  The flock is probed by taking it without waiting and
 * dropping it at once; the database is asked first, so a supplier that one
 * of the daemon's own workers has claimed is never probed.
 *
 * Every function here owns its transaction (BEGIN IMMEDIATE), so two
 * claimers on two connections are serialised by SQLite and the claim's
 * "WHERE status = 'queued'" makes sure only one of them gets a row.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "engine/jobs.h"
#include "store/store.h"

#define DEFAULT_MAX_ATTEMPTS 3
#define DEFAULT_STALE_MS 60000

static const int64_t default_backoff_ms[] = { 60000, 300000, 900000 };

static const char *kind_name(enum sync_kind k)
{
	return k == SYNC_DELTA ? "delta" : "full";
}

static int max_attempts(const struct conf *c)
{
	return c && c->daemon.max_attempts > 0 ? c->daemon.max_attempts : DEFAULT_MAX_ATTEMPTS;
}

static int64_t stale_ms(const struct conf *c)
{
	return c && c->daemon.heartbeat_stale_ms > 0 ? c->daemon.heartbeat_stale_ms
	                                             : DEFAULT_STALE_MS;
}

/* A random number in [-1, 1], from a stateless mix of the clock and a salt:
 * thread-safe without a shared generator; jitter needs no more. */
static double jitter_unit(uint64_t salt)
{
	struct timespec ts;
	uint64_t z;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	z = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ (salt * 0x9e3779b97f4a7c15ULL)
	    ^ ((uint64_t)getpid() << 17);
	/* splitmix64 finaliser */
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return (double)(z >> 11) / (double)(1ULL << 52) - 1.0;
}

/* The wait before the try after `attempt` (1-based) failed: backoff_ms[attempt-1],
 * the last value repeated, times 1 +- jitter. */
static int64_t backoff_delay(const struct conf *c, int attempt, int64_t salt)
{
	const int64_t *list = default_backoff_ms;
	int n = (int)ARRAY_SIZE(default_backoff_ms);
	double jitter = 0.0, d;
	int i;

	if (c && c->daemon.n_backoff > 0 && c->daemon.backoff_ms) {
		list = c->daemon.backoff_ms;
		n = c->daemon.n_backoff;
		jitter = c->daemon.jitter;
	} else if (c) {
		jitter = c->daemon.jitter;
	}
	i = attempt - 1;
	if (i < 0)
		i = 0;
	if (i >= n)
		i = n - 1;
	d = (double)list[i];
	if (jitter > 0.0)
		d *= 1.0 + (jitter > 1.0 ? 1.0 : jitter) * jitter_unit((uint64_t)salt);
	return d < 0.0 ? 0 : (int64_t)d;
}

/* 1 when someone (any process, or another thread of this one) holds the
 * supplier's lock, 0 when it is free, -1 on error. */
static int supplier_locked(struct db *db, const char *slug, struct error *err)
{
	struct error e;
	int fd;

	memset(&e, 0, sizeof(e));
	fd = sync_lock(db_path(db), slug, false, &e);
	if (fd >= 0) {
		sync_unlock(fd);
		return 0;
	}
	if (e.kind == ERRK_BUSY)
		return 1;
	if (err)
		*err = e;
	return -1;
}

/* Inside a transaction: queues a run unless the supplier already has a
 * queued run that covers it.  A queued delta is deleted (nothing ran) and
 * replaced by a full run; a queued run of equal or stronger kind makes
 * this one a duplicate.  Either way the queued run is due at the earlier
 * of the two times: *due in, the resulting row's due time out; *run_id is
 * the resulting row.  Returns an enqueue_result, -1 on error. */
static int queue_run(struct db *db, int64_t supplier_id, const char *kind, const char *trigger,
                     int attempt, int64_t retry_of, int64_t *due, int64_t *run_id,
                     struct error *err)
{
	struct run_row q;
	int rc, result = ENQUEUE_ADDED;

	rc = runs_find_queued(db, supplier_id, &q, err);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		if (str_eq(q.kind, "delta") && str_eq(kind, "full")) {
			if (runs_discard(db, q.id, err) < 0)
				return -1;
			if (q.next_attempt_at < *due)
				*due = q.next_attempt_at;
			result = ENQUEUE_REPLACED;
		} else {
			if (*due < q.next_attempt_at) {
				if (runs_set_due(db, q.id, *due, err) < 0)
					return -1;
			} else {
				*due = q.next_attempt_at;
			}
			*run_id = q.id;
			return ENQUEUE_DUPLICATE;
		}
	}
	if (runs_enqueue(db, supplier_id, kind, trigger, attempt, retry_of, *due, run_id, err) != 0)
		return -1;
	return result;
}

int jobs_enqueue(struct db *db, int64_t supplier_id, enum sync_kind kind, const char *trigger,
                 int64_t not_before, int64_t *run_id, struct error *err)
{
	char slug[64];
	int64_t due = not_before > 0 ? not_before : time_now_ms();
	int64_t id = 0, running;
	int rc, result = -1;

	if (db_begin(db, err) != 0)
		return -1;
	rc = suppliers_get_slug(db, supplier_id, slug, sizeof(slug), err);
	if (rc < 0)
		goto out;
	if (rc == 0) {
		err_set(err, ERRK_USAGE,
		        _("database %s: cannot queue a run: no supplier with id %lld (sync it once "
		          "or check the configuration)"),
		        db_path(db), (long long)supplier_id);
		goto out;
	}
	running = runs_count_running(db, supplier_id, err);
	if (running < 0)
		goto out;
	if (running == 0) {
		rc = supplier_locked(db, slug, err);
		if (rc < 0)
			goto out;
		running = rc;
	}
	if (running > 0) {
		result = ENQUEUE_RUNNING;
	} else {
		result = queue_run(db, supplier_id, kind_name(kind), trigger ? trigger : "cli", 1, 0,
		                   &due, &id, err);
		if (result < 0)
			goto out;
	}
	if (db_commit(db, err) != 0) {
		result = -1;
		goto out;
	}
	if (run_id && result != ENQUEUE_RUNNING)
		*run_id = id;
out:
	if (result < 0)
		db_rollback(db);
	return result;
}

int jobs_claim(struct db *db, int64_t now, struct job *job, struct error *err)
{
	struct run_row *rows = NULL;
	size_t n = 0, i;
	int rc, result = -1;

	if (db_begin(db, err) != 0)
		return -1;
	if (runs_list_due(db, now, &rows, &n, err) < 0)
		goto out;
	result = 0;
	for (i = 0; i < n && result == 0; i++) {
		const struct run_row *r = &rows[i];

		rc = supplier_locked(db, r->slug, err);
		if (rc < 0) {
			result = -1;
			goto out;
		}
		if (rc == 1)
			continue;   /* a CLI or console sync is running it now */
		rc = runs_claim(db, r->id, (int64_t)getpid(), time_now_ms(), err);
		if (rc < 0) {
			result = -1;
			goto out;
		}
		if (rc == 0)
			continue;
		memset(job, 0, sizeof(*job));
		job->run_id = r->id;
		job->supplier_id = r->supplier_id;
		snprintf(job->slug, sizeof(job->slug), "%s", r->slug);
		job->kind = str_eq(r->kind, "delta") ? SYNC_DELTA : SYNC_FULL;
		job->attempt = r->attempt > 0 ? r->attempt : 1;
		snprintf(job->trigger, sizeof(job->trigger), "%s", r->trigger);
		result = 1;
	}
	if (db_commit(db, err) != 0)
		result = -1;
out:
	if (result < 0)
		db_rollback(db);
	free(rows);
	return result;
}

bool jobs_retryable(enum err_kind k)
{
	switch (k) {
	case ERRK_TRANSIENT:
	case ERRK_INTERRUPTED:
		return true;
	case ERRK_NONE:
	case ERRK_INTERNAL:
	case ERRK_CONFIG:
	case ERRK_DB:
	case ERRK_PERMANENT:
	case ERRK_BUSY:
	case ERRK_USAGE:
		break;
	}
	return false;
}

/* Inside a transaction: queues the try after the failed run `failed`
 * (attempt `attempt` of the supplier) due at *due, and notes on the failed
 * run where its retry went.  Returns 1 queued (or covered by a run already
 * queued; *due is its due time), -1 on error. */
static int queue_retry(struct db *db, int64_t supplier_id, const char *kind, const char *trigger,
                       int attempt, int max, int64_t failed, int64_t *due, struct error *err)
{
	int64_t id = 0;
	char when[32];
	char *note;
	int rc;

	rc = queue_run(db, supplier_id, kind, trigger, attempt + 1, failed, due, &id, err);
	if (rc < 0)
		return -1;
	time_format_iso(*due, when);
	if (rc == ENQUEUE_DUPLICATE)
		note = xasprintf(_("retry covered by run %lld, already queued for %s"), (long long)id,
		                 when);
	else
		/* TRANSLATORS: "retry 2 of 3": the attempt's number and the most
		   attempts allowed; the last %s is a UTC time (ISO 8601) */
		note = xasprintf(_("retry %d of %d queued as run %lld for %s"), attempt + 1, max,
		                 (long long)id, when);
	rc = runs_note(db, failed, note, err);
	free(note);
	return rc < 0 ? -1 : 1;
}

int jobs_after_run(struct db *db, const struct conf *c, const struct job *job,
                   const struct sync_report *rep, int64_t *next_at, struct error *err)
{
	struct run_row row;
	enum err_kind k = rep->err.kind;
	const char *status = rep->status;
	int64_t now = time_now_ms(), due;
	int max = max_attempts(c);
	char *note = NULL;
	int rc, result = -1;

	if (next_at)
		*next_at = 0;
	if (db_begin(db, err) != 0)
		return -1;
	rc = runs_get(db, job->run_id, &row, err);
	if (rc < 0)
		goto out;
	if (rc == 0) {
		result = 0;   /* the row is gone (removed by an operator): nothing to retry */
		goto commit;
	}
	if (rep->run_id != job->run_id) {
		/* sync_supplier never took the claimed run over: it could not
		 * get the supplier lock, or it failed before starting */
		if (k == ERRK_BUSY || str_eq(rep->status, "busy")) {
			/* someone else is syncing the supplier right now: skip */
			if (runs_discard(db, job->run_id, err) < 0)
				goto out;
			result = 0;
			goto commit;
		}
		status = k == ERRK_INTERRUPTED ? "interrupted" : "failed";
		if (str_eq(row.status, "running") || str_eq(row.status, "interrupted")) {
			if (runs_transition(db, job->run_id, row.status, status,
			                    rep->err.msg[0] ? rep->err.msg
			                                    : _("the run ended before it started"),
			                    now, err) < 0)
				goto out;
		}
	}
	result = 0;
	if (!str_eq(status, "failed") && !str_eq(status, "interrupted"))
		goto commit;
	if (rep->cancelled) {
		note = xstrdup(_("not retried: cancelled by an operator"));
	} else if (!jobs_retryable(k)) {
		note = xstrdup(_("not retried: this error will not heal by waiting"));
	} else if (job->attempt >= max) {
		note = xasprintf(P_("gave up after %d attempt", "gave up after %d attempts",
		                    job->attempt),
		                 job->attempt);
	} else {
		due = now + backoff_delay(c, job->attempt, job->run_id);
		if (queue_retry(db, job->supplier_id, kind_name(job->kind), job->trigger, job->attempt,
		                max, job->run_id, &due, err) < 0) {
			result = -1;
			goto out;
		}
		if (next_at)
			*next_at = due;
		result = 1;
	}
	if (note && runs_note(db, job->run_id, note, err) < 0) {
		result = -1;
		goto out;
	}
commit:
	if (db_commit(db, err) != 0)
		result = -1;
out:
	if (result < 0)
		db_rollback(db);
	free(note);
	return result;
}

/* "H:MM:SS" of a duration. */
static void format_hms(int64_t ms, char out[32])
{
	long long s = ms > 0 ? ms / 1000 : 0;

	snprintf(out, 32, "%02lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
}

/* Recovers one orphaned run in its own transaction: 1 recovered, 0 not
 * (its status moved on meanwhile), -1 error. */
static int recover_one(struct db *db, const struct conf *c, const struct run_row *r, bool dead,
                       int64_t hb, int64_t now, struct error *err)
{
	char age[32];
	char *msg;
	int max = max_attempts(c);
	int rc;

	format_hms(hb ? now - hb : 0, age);
	if (dead && hb)
		msg = xasprintf(_("process %lld died (heartbeat %s ago)"), (long long)r->pid, age);
	else if (dead)
		msg = xasprintf(_("process %lld died"), (long long)r->pid);
	else if (hb)
		msg = xasprintf(_("process %lld stopped sending heartbeats (last %s ago)"),
		                (long long)r->pid, age);
	else
		msg = xasprintf(_("process %lld never sent a heartbeat"), (long long)r->pid);
	if (db_begin(db, err) != 0) {
		free(msg);
		return -1;
	}
	rc = runs_transition(db, r->id, "running", "interrupted", msg, now, err);
	free(msg);
	if (rc <= 0)
		goto out;
	if (str_eq(r->kind, "revert")) {
		/* a revert is one transaction: nothing half-done to finish, and
		 * whether to revert again is the operator's call */
		rc = runs_note(db, r->id, _("not retried: run the revert again if needed"), err) < 0
		             ? -1 : 1;
	} else if (r->attempt >= max) {
		char *note = xasprintf(P_("not retried: gave up after %d attempt",
		                          "not retried: gave up after %d attempts", r->attempt),
		                       r->attempt);

		rc = runs_note(db, r->id, note, err) < 0 ? -1 : 1;
		free(note);
	} else {
		int64_t due = now;

		rc = queue_retry(db, r->supplier_id, r->kind, r->trigger, r->attempt > 0 ? r->attempt : 1,
		                 max, r->id, &due, err);
	}
	if (rc < 0)
		goto out;
	if (db_commit(db, err) != 0)
		rc = -1;
out:
	if (rc <= 0)
		db_rollback(db);
	return rc;
}

int jobs_recover(struct db *db, const struct conf *c, int64_t now, struct error *err)
{
	struct run_row *rows = NULL;
	size_t n = 0, i;
	int64_t stale = stale_ms(c);
	int count = 0, rc;

	if (runs_list_running(db, &rows, &n, err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		const struct run_row *r = &rows[i];
		int64_t hb = r->heartbeat_at ? r->heartbeat_at : r->started_at;
		bool dead = false, is_stale = hb == 0 || now - hb > stale;

		if (r->pid > 0 && (pid_t)r->pid > 0 && kill((pid_t)r->pid, 0) == -1 && errno == ESRCH)
			dead = true;
		if (!dead && !is_stale)
			continue;
		rc = supplier_locked(db, r->slug, err);
		if (rc < 0) {
			count = -1;
			break;
		}
		if (rc == 1)
			continue;   /* someone holds the lock: the run (or its successor) is alive */
		rc = recover_one(db, c, r, dead, hb, now, err);
		if (rc < 0) {
			count = -1;
			break;
		}
		count += rc;
	}
	free(rows);
	return count;
}
