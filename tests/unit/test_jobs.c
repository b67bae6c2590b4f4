/* test_jobs.c - the durable job queue on a temporary database: enqueue,
 * duplicates and a full replacing a queued delta, "running" by row and by
 * lock, claim order and due times, retries with backoff up to the attempt
 * limit, errors that fail at once, a claimed run the sync never started,
 * recovery of runs left by a dead process, and two claimers in two
 * processes never getting the same run. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/jobs.h"
#include "engine/sync.h"
#include "feed/http.h"
#include "store/db.h"
#include "store/store.h"
#include "tap.h"
#include "testlib.h"

static char *dbpath;

/* ---- helpers ---- */

/* The text of column col of run id, in a static buffer ("" when NULL). */
static const char *run_text(struct db *db, const char *col, int64_t id)
{
	static char out[2048];
	char *sql = xasprintf("SELECT %s FROM sync_runs WHERE id = %lld", col, (long long)id);
	sqlite3_stmt *st;

	out[0] = '\0';
	if (sqlite3_prepare_v2(db_handle(db), sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
			snprintf(out, sizeof(out), "%s", (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	free(sql);
	return out;
}

static int64_t add_supplier(struct db *db, const char *slug)
{
	struct supplier_conf s;
	struct error e;
	int64_t id = 0;

	memset(&s, 0, sizeof(s));
	s.slug = (char *)slug;
	s.name = (char *)slug;
	s.active = true;
	s.priority = 1;
	if (suppliers_upsert(db, &s, &id, &e) != 0)
		printf("# upsert %s: %s\n", slug, e.msg);
	return id;
}

static int64_t queued_count(struct db *db, int64_t sup)
{
	return q_int(db, "SELECT count(*) FROM sync_runs WHERE supplier_id = %lld"
	                 " AND status = 'queued'", (long long)sup);
}

static void clear_runs(struct db *db)
{
	q_exec(db, "DELETE FROM sync_runs");
}

static int64_t backoff_list[] = { 1000, 5000 };

static void conf_init(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	c->daemon.max_attempts = 3;
	c->daemon.backoff_ms = backoff_list;
	c->daemon.n_backoff = (int)ARRAY_SIZE(backoff_list);
	c->daemon.jitter = 0.0;
	c->daemon.heartbeat_stale_ms = 60000;
}

/* A report as sync_supplier leaves it for a run it carried out. */
static void report_set(struct sync_report *rep, int64_t run_id, const char *status,
                       enum err_kind kind, const char *msg)
{
	memset(rep, 0, sizeof(*rep));
	rep->run_id = run_id;
	rep->status = status;
	rep->kind = "full";
	rep->err.kind = kind;
	snprintf(rep->err.msg, sizeof(rep->err.msg), "%s", msg ? msg : "");
}

/* What sync_supplier does with a claimed run: start it, then finish it. */
static void fake_sync(struct db *db, const struct job *job, const char *status, const char *msg)
{
	struct run_stats st;
	struct error e;

	memset(&st, 0, sizeof(st));
	st.pages = 1;
	if (runs_start(db, job->run_id, &e) != 0 ||
	    runs_finish(db, job->run_id, status, &st, msg, &e) != 0)
		printf("# fake sync: %s\n", e.msg);
}

/* ---- tests ---- */

static void test_enqueue(struct db *db, int64_t a, int64_t b, int64_t c)
{
	struct error e;
	int64_t id1 = 0, id2 = 0, id3 = 0, t0 = time_now_ms(), later;
	int rc;

	clear_runs(db);
	rc = jobs_enqueue(db, a, SYNC_FULL, "daemon", 0, &id1, &e);
	is_int(rc, ENQUEUE_ADDED, "a first full run is added");
	ok(id1 > 0, "with a run id");
	is_str(run_text(db, "status", id1), "queued", "queued");
	is_str(run_text(db, "kind", id1), "full", "kind full");
	is_str(run_text(db, "\"trigger\"", id1), "daemon", "trigger kept");
	is_int(q_int(db, "SELECT attempt FROM sync_runs WHERE id = %" PRId64, id1), 1, "attempt 1");
	ok(q_int(db, "SELECT next_attempt_at FROM sync_runs WHERE id = %" PRId64, id1) >= t0,
	   "due now");
	ok(q_int(db, "SELECT retry_of IS NULL FROM sync_runs WHERE id = %" PRId64, id1) == 1,
	   "not a retry");

	rc = jobs_enqueue(db, a, SYNC_FULL, "cli", 0, &id2, &e);
	is_int(rc, ENQUEUE_DUPLICATE, "a second full run is a duplicate");
	is_int(id2, id1, "naming the queued run");
	rc = jobs_enqueue(db, a, SYNC_DELTA, "daemon", 0, &id2, &e);
	is_int(rc, ENQUEUE_DUPLICATE, "a delta behind a queued full is a duplicate");
	is_int(queued_count(db, a), 1, "still one queued run");

	rc = jobs_enqueue(db, b, SYNC_DELTA, "daemon", 0, &id1, &e);
	is_int(rc, ENQUEUE_ADDED, "a delta is added");
	rc = jobs_enqueue(db, b, SYNC_DELTA, "daemon", 0, &id2, &e);
	is_int(rc, ENQUEUE_DUPLICATE, "a second delta is a duplicate");
	rc = jobs_enqueue(db, b, SYNC_FULL, "daemon", 0, &id3, &e);
	is_int(rc, ENQUEUE_REPLACED, "a full replaces the queued delta");
	ok(id3 > 0, "as a new run");
	is_int(q_int(db, "SELECT count(*) FROM sync_runs WHERE supplier_id = %lld"
	                 " AND kind = 'delta'", (long long)b), 0,
	       "the delta row is gone (nothing ran)");
	is_int(queued_count(db, b), 1, "one queued run for the supplier");
	is_str(run_text(db, "kind", id3), "full", "and it is the full one");
	rc = jobs_enqueue(db, b, SYNC_DELTA, "daemon", 0, &id2, &e);
	is_int(rc, ENQUEUE_DUPLICATE, "a delta after that is a duplicate");

	/* a queued run due later is brought forward by a run due now */
	later = time_now_ms() + 3600000;
	rc = jobs_enqueue(db, c, SYNC_FULL, "daemon", later, &id1, &e);
	is_int(rc, ENQUEUE_ADDED, "a run due in an hour");
	is_int(q_int(db, "SELECT next_attempt_at FROM sync_runs WHERE id = %" PRId64, id1), later,
	       "due at not_before");
	rc = jobs_enqueue(db, c, SYNC_FULL, "cli", 0, &id2, &e);
	is_int(rc, ENQUEUE_DUPLICATE, "run-now on it is a duplicate");
	ok(q_int(db, "SELECT next_attempt_at FROM sync_runs WHERE id = %" PRId64, id1) <= time_now_ms(),
	   "which brings the queued run forward");
	rc = jobs_enqueue(db, c, SYNC_FULL, "cli", later, &id2, &e);
	is_int(rc, ENQUEUE_DUPLICATE, "a later one");
	ok(q_int(db, "SELECT next_attempt_at FROM sync_runs WHERE id = %" PRId64, id1) <= time_now_ms(),
	   "does not push it back");

	/* unknown supplier */
	rc = jobs_enqueue(db, 99999, SYNC_FULL, "cli", 0, &id1, &e);
	is_int(rc, -1, "an unknown supplier id is an error");
	like(e.msg, "99999", "naming the id");
	ok(sqlite3_get_autocommit(db_handle(db)), "no transaction left open");
}

static void test_running(struct db *db, int64_t d, int64_t e_id)
{
	struct error e;
	int64_t id = 0, run = 0;
	int fd, rc;

	clear_runs(db);
	fd = sync_lock(dbpath, "dee", false, &e);
	ok(fd >= 0, "the test takes dee's lock (a CLI sync)");
	rc = jobs_enqueue(db, d, SYNC_FULL, "daemon", 0, &id, &e);
	is_int(rc, ENQUEUE_RUNNING, "a run for a locked supplier is skipped");
	is_int(queued_count(db, d), 0, "nothing queued");
	sync_unlock(fd);
	rc = jobs_enqueue(db, d, SYNC_FULL, "daemon", 0, &id, &e);
	is_int(rc, ENQUEUE_ADDED, "once the lock is free it is queued");
	fd = sync_lock(dbpath, "dee", false, &e);
	ok(fd >= 0, "probing the lock left it free");
	sync_unlock(fd);

	/* a running row counts too */
	rc = runs_begin(db, e_id, "full", "cli", false, &run, &e);
	ok(rc == 0, "a running row for eee");
	rc = jobs_enqueue(db, e_id, SYNC_DELTA, "daemon", 0, &id, &e);
	is_int(rc, ENQUEUE_RUNNING, "a run for a supplier with a running row is skipped");
	is_int(queued_count(db, e_id), 0, "nothing queued");
	clear_runs(db);
}

static void test_claim(struct db *db, int64_t a, int64_t b, int64_t c, int64_t d)
{
	struct error e;
	struct job job;
	int64_t now = time_now_ms(), ida, idb, idc, idd;
	int fd, rc;

	clear_runs(db);
	jobs_enqueue(db, b, SYNC_DELTA, "daemon", now - 1000, &idb, &e);
	jobs_enqueue(db, a, SYNC_FULL, "cli", now - 2000, &ida, &e);
	jobs_enqueue(db, c, SYNC_FULL, "daemon", now + 60000, &idc, &e);
	jobs_enqueue(db, d, SYNC_FULL, "daemon", now - 5000, &idd, &e);

	fd = sync_lock(dbpath, "dee", false, &e);
	ok(fd >= 0, "dee is locked by someone else");

	rc = jobs_claim(db, now, &job, &e);
	is_int(rc, 1, "a run is claimed");
	is_int(job.run_id, ida, "the oldest due one whose supplier is free (dee is locked)");
	is_int(job.supplier_id, a, "supplier");
	is_str(job.slug, "aaa", "slug");
	is_int(job.kind, SYNC_FULL, "kind");
	is_int(job.attempt, 1, "attempt");
	is_str(job.trigger, "cli", "trigger");
	is_str(run_text(db, "status", ida), "running", "marked running");
	is_int(q_int(db, "SELECT pid FROM sync_runs WHERE id = %" PRId64, ida), getpid(),
	       "with this pid");
	ok(q_int(db, "SELECT heartbeat_at FROM sync_runs WHERE id = %" PRId64, ida) >= now,
	   "and a heartbeat");

	rc = jobs_claim(db, now, &job, &e);
	is_int(rc, 1, "another run is claimed");
	is_int(job.run_id, idb, "the next due one");
	is_int(job.kind, SYNC_DELTA, "a delta");

	rc = jobs_claim(db, now, &job, &e);
	is_int(rc, 0, "nothing else is due (ccc is due in a minute, dee is locked)");
	is_str(run_text(db, "status", idd), "queued", "dee stays queued");

	sync_unlock(fd);
	rc = jobs_claim(db, now, &job, &e);
	is_int(rc, 1, "dee is claimed once its lock is free");
	is_int(job.run_id, idd, "dee");

	rc = jobs_claim(db, now + 60000, &job, &e);
	is_int(rc, 1, "ccc is claimed when due");
	is_int(job.run_id, idc, "ccc");
	rc = jobs_claim(db, now + 60000, &job, &e);
	is_int(rc, 0, "queue empty");

	/* a second claim of a claimed row fails */
	rc = runs_claim(db, ida, 1, now, &e);
	is_int(rc, 0, "a running row cannot be claimed again");
	ok(sqlite3_get_autocommit(db_handle(db)), "no transaction left open");
	clear_runs(db);
}

static void test_after_run(struct db *db, int64_t a, int64_t b)
{
	struct conf c;
	struct error e;
	struct job job;
	struct sync_report rep;
	int64_t id, first, t0, t1, next_at = -1, retry;
	int rc, i;

	conf_init(&c);
	clear_runs(db);
	jobs_enqueue(db, a, SYNC_FULL, "daemon", 0, &first, &e);

	/* try 1 fails with a transient error: retry after backoff[0] */
	rc = jobs_claim(db, time_now_ms(), &job, &e);
	is_int(rc, 1, "claim try 1");
	fake_sync(db, &job, "failed", "aaa: page 1: HTTP 503 Service Unavailable");
	report_set(&rep, job.run_id, "failed", ERRK_TRANSIENT, "aaa: page 1: HTTP 503");
	t0 = time_now_ms();
	rc = jobs_after_run(db, &c, &job, &rep, &next_at, &e);
	t1 = time_now_ms();
	is_int(rc, 1, "a transient failure is retried");
	ok(next_at >= t0 + 1000 && next_at <= t1 + 1000, "after the first backoff (1 s)");
	retry = q_int(db, "SELECT id FROM sync_runs WHERE status = 'queued' AND supplier_id = %lld",
	              (long long)a);
	ok(retry > 0 && retry != first, "as a new queued row");
	is_int(q_int(db, "SELECT attempt FROM sync_runs WHERE id = %" PRId64, retry), 2, "attempt 2");
	is_int(q_int(db, "SELECT retry_of FROM sync_runs WHERE id = %" PRId64, retry), first,
	       "retry_of the failed run");
	is_int(q_int(db, "SELECT next_attempt_at FROM sync_runs WHERE id = %" PRId64, retry), next_at,
	       "due at next_at");
	is_str(run_text(db, "kind", retry), "full", "same kind");
	is_str(run_text(db, "\"trigger\"", retry), "daemon", "same trigger");
	is_str(run_text(db, "status", first), "failed", "the failed run stays failed");
	like(run_text(db, "error", first), "HTTP 503", "keeping its error");
	like(run_text(db, "error", first), "retry 2 of 3", "noting its retry");

	rc = jobs_claim(db, next_at - 1, &job, &e);
	is_int(rc, 0, "the retry is not claimed before it is due");

	/* try 2 fails: retry after backoff[1] */
	rc = jobs_claim(db, next_at, &job, &e);
	is_int(rc, 1, "claim try 2 when due");
	is_int(job.attempt, 2, "attempt 2");
	id = job.run_id;
	fake_sync(db, &job, "interrupted", "aaa: time limit of 1800 s reached");
	report_set(&rep, job.run_id, "interrupted", ERRK_INTERRUPTED, "time limit");
	t0 = time_now_ms();
	rc = jobs_after_run(db, &c, &job, &rep, &next_at, &e);
	t1 = time_now_ms();
	is_int(rc, 1, "an interrupted run is retried");
	ok(next_at >= t0 + 5000 && next_at <= t1 + 5000, "after the second backoff (5 s)");

	/* try 3 fails: no more */
	rc = jobs_claim(db, next_at, &job, &e);
	is_int(rc, 1, "claim try 3");
	is_int(job.attempt, 3, "attempt 3");
	is_int(q_int(db, "SELECT retry_of FROM sync_runs WHERE id = %" PRId64, job.run_id), id,
	       "chained to try 2");
	fake_sync(db, &job, "failed", "aaa: timeout");
	report_set(&rep, job.run_id, "failed", ERRK_TRANSIENT, "aaa: timeout");
	rc = jobs_after_run(db, &c, &job, &rep, &next_at, &e);
	is_int(rc, 0, "no retry after max_attempts");
	is_int(next_at, 0, "next_at 0");
	is_int(queued_count(db, a), 0, "nothing queued");
	like(run_text(db, "error", job.run_id), "gave up after 3 attempts", "the run says so");
	is_int(q_int(db, "SELECT count(*) FROM sync_runs"), 3, "three rows in all");

	/* the last backoff value repeats */
	c.daemon.max_attempts = 5;
	clear_runs(db);
	jobs_enqueue(db, a, SYNC_FULL, "daemon", 0, &id, &e);
	for (i = 1; i <= 4; i++) {
		int64_t want = i == 1 ? 1000 : 5000;

		rc = jobs_claim(db, next_at > 0 ? next_at : time_now_ms(), &job, &e);
		if (rc != 1) {
			ok(0, "claim try %d", i);
			break;
		}
		fake_sync(db, &job, "failed", "x");
		report_set(&rep, job.run_id, "failed", ERRK_TRANSIENT, "x");
		t0 = time_now_ms();
		rc = jobs_after_run(db, &c, &job, &rep, &next_at, &e);
		t1 = time_now_ms();
		is_int(rc, 1, "try %d of 5 retried", i);
		ok(next_at >= t0 + want && next_at <= t1 + want, "after %lld ms", (long long)want);
	}
	c.daemon.max_attempts = 3;

	/* jitter stays within +- the fraction */
	c.daemon.jitter = 0.5;
	{
		int64_t lo = INT64_MAX, hi = 0, d;
		bool inside = true;

		for (i = 0; i < 20; i++) {
			clear_runs(db);
			jobs_enqueue(db, b, SYNC_FULL, "daemon", 0, &id, &e);
			jobs_claim(db, time_now_ms(), &job, &e);
			fake_sync(db, &job, "failed", "x");
			report_set(&rep, job.run_id, "failed", ERRK_TRANSIENT, "x");
			t0 = time_now_ms();
			jobs_after_run(db, &c, &job, &rep, &next_at, &e);
			t1 = time_now_ms();
			d = next_at - t0;
			if (next_at < t0 + 500 || next_at > t1 + 1500)
				inside = false;
			if (d < lo)
				lo = d;
			if (d > hi)
				hi = d;
		}
		ok(inside, "jitter 0.5 of 1 s keeps the retry within 0.5..1.5 s");
		ok(hi - lo > 10, "and varies (%lld..%lld ms)", (long long)lo, (long long)hi);
	}
	c.daemon.jitter = 0.0;

	/* success: nothing to do */
	clear_runs(db);
	jobs_enqueue(db, a, SYNC_FULL, "daemon", 0, &id, &e);
	jobs_claim(db, time_now_ms(), &job, &e);
	fake_sync(db, &job, "succeeded", NULL);
	report_set(&rep, job.run_id, "succeeded", ERRK_NONE, NULL);
	rc = jobs_after_run(db, &c, &job, &rep, &next_at, &e);
	is_int(rc, 0, "a succeeded run is not retried");
	is_int(queued_count(db, a), 0, "nothing queued");
	is_str(run_text(db, "error", job.run_id), "", "and gets no note");
	ok(sqlite3_get_autocommit(db_handle(db)), "no transaction left open");
}

static void test_not_retryable(struct db *db, int64_t a)
{
	static const struct {
		enum err_kind kind;
		const char *name;
	} kinds[] = {
		{ ERRK_PERMANENT, "permanent (HTTP 401)" },
		{ ERRK_CONFIG, "config" },
		{ ERRK_USAGE, "usage" },
		{ ERRK_INTERNAL, "internal" },
		{ ERRK_DB, "db" },
	};
	struct conf c;
	struct error e;
	struct job job;
	struct sync_report rep;
	int64_t id, next_at;
	size_t i;
	int rc;

	conf_init(&c);
	for (i = 0; i < ARRAY_SIZE(kinds); i++) {
		clear_runs(db);
		jobs_enqueue(db, a, SYNC_FULL, "daemon", 0, &id, &e);
		jobs_claim(db, time_now_ms(), &job, &e);
		fake_sync(db, &job, "failed", "aaa: HTTP 401 Unauthorized");
		report_set(&rep, job.run_id, "failed", kinds[i].kind, "aaa: HTTP 401 Unauthorized");
		rc = jobs_after_run(db, &c, &job, &rep, &next_at, &e);
		is_int(rc, 0, "%s error: not retried", kinds[i].name);
		is_int(queued_count(db, a), 0, "%s error: nothing queued", kinds[i].name);
		is_str(run_text(db, "status", job.run_id), "failed", "%s error: failed at once",
		       kinds[i].name);
	}
	like(run_text(db, "error", job.run_id), "HTTP 401", "the error is kept");
	like(run_text(db, "error", job.run_id), "not retried", "with the reason for no retry");
	ok(jobs_retryable(ERRK_TRANSIENT) && jobs_retryable(ERRK_INTERRUPTED),
	   "transient and interrupted are retryable");
	ok(!jobs_retryable(ERRK_BUSY) && !jobs_retryable(ERRK_NONE), "busy and none are not");
}

static void test_never_started(struct db *db, int64_t a)
{
	struct conf c;
	struct error e;
	struct job job;
	struct sync_report rep;
	int64_t id, next_at;
	int rc;

	conf_init(&c);
	clear_runs(db);

	/* the sync could not take the lock: another process syncs; skipped */
	jobs_enqueue(db, a, SYNC_FULL, "daemon", 0, &id, &e);
	jobs_claim(db, time_now_ms(), &job, &e);
	report_set(&rep, 0, "busy", ERRK_BUSY, "supplier 'aaa' is already being synced");
	rc = jobs_after_run(db, &c, &job, &rep, &next_at, &e);
	is_int(rc, 0, "busy: no retry");
	is_int(q_int(db, "SELECT count(*) FROM sync_runs WHERE id = %" PRId64, job.run_id), 0,
	       "busy: the claimed run is dropped (nothing ran)");
	is_int(q_int(db, "SELECT count(*) FROM sync_runs"), 0, "busy: no row left");

	/* a config error before the run started: the claimed row is failed */
	jobs_enqueue(db, a, SYNC_DELTA, "daemon", 0, &id, &e);
	jobs_claim(db, time_now_ms(), &job, &e);
	report_set(&rep, 0, "failed", ERRK_CONFIG, "aaa: no delta source configured");
	rc = jobs_after_run(db, &c, &job, &rep, &next_at, &e);
	is_int(rc, 0, "config: no retry");
	is_str(run_text(db, "status", job.run_id), "failed", "config: the claimed run is failed");
	like(run_text(db, "error", job.run_id), "no delta source", "with the error");
	ok(q_int(db, "SELECT finished_at FROM sync_runs WHERE id = %" PRId64, job.run_id) > 0,
	   "and finished");

	/* a transient failure before the run started is retried */
	jobs_enqueue(db, a, SYNC_FULL, "daemon", 0, &id, &e);
	jobs_claim(db, time_now_ms(), &job, &e);
	report_set(&rep, 0, "failed", ERRK_TRANSIENT, "database busy");
	rc = jobs_after_run(db, &c, &job, &rep, &next_at, &e);
	is_int(rc, 1, "transient before start: retried");
	is_str(run_text(db, "status", job.run_id), "failed", "the claimed run is failed");
	is_int(queued_count(db, a), 1, "its retry is queued");
	clear_runs(db);
}

static void test_retry_merges(struct db *db, int64_t a)
{
	struct conf c;
	struct error e;
	struct job job;
	struct sync_report rep;
	int64_t id, full, next_at;
	int rc;

	conf_init(&c);
	clear_runs(db);
	jobs_enqueue(db, a, SYNC_DELTA, "daemon", 0, &id, &e);
	jobs_claim(db, time_now_ms(), &job, &e);
	/* while it runs a full is queued behind it (by hand: enqueue would
	 * refuse a running supplier) */
	runs_enqueue(db, a, "full", "daemon", 1, 0, time_now_ms() + 500, &full, &e);
	fake_sync(db, &job, "failed", "x");
	report_set(&rep, job.run_id, "failed", ERRK_TRANSIENT, "x");
	rc = jobs_after_run(db, &c, &job, &rep, &next_at, &e);
	is_int(rc, 1, "a delta's retry behind a queued full");
	is_int(queued_count(db, a), 1, "is covered by the full: one queued run");
	is_int(q_int(db, "SELECT next_attempt_at FROM sync_runs WHERE id = %" PRId64, full), next_at,
	       "next_at is the full's due time");
	like(run_text(db, "error", job.run_id), "covered by run", "the failed run says so");
	clear_runs(db);
}

static void test_recover(struct db *db, int64_t a, int64_t b, int64_t d)
{
	struct conf c;
	struct error e;
	int64_t run_dead, run_alive, run_stale, run_locked, now, retry;
	pid_t child;
	int status, rc, fd;
	char *sql;

	conf_init(&c);
	clear_runs(db);

	/* a pid that certainly no longer exists */
	child = fork();
	if (child == 0)
		_exit(0);
	waitpid(child, &status, 0);

	runs_begin(db, a, "full", "daemon", false, &run_dead, &e);
	sql = xasprintf("UPDATE sync_runs SET pid = %ld, heartbeat_at = %lld WHERE id = %lld",
	                (long)child, (long long)(time_now_ms() - 3723000), (long long)run_dead);
	q_exec(db, sql);
	free(sql);
	runs_begin(db, b, "delta", "daemon", false, &run_alive, &e);   /* this process, fresh */

	now = time_now_ms();
	rc = jobs_recover(db, &c, now, &e);
	is_int(rc, 1, "one run recovered");
	is_str(run_text(db, "status", run_dead), "interrupted", "the dead process's run is interrupted");
	sql = xasprintf("process %ld died (heartbeat 01:02:0", (long)child);
	like(run_text(db, "error", run_dead), sql, "naming the process and the heartbeat age");
	free(sql);
	like(run_text(db, "error", run_dead), "retry 2 of 3", "and its retry");
	ok(q_int(db, "SELECT finished_at FROM sync_runs WHERE id = %" PRId64, run_dead) > 0,
	   "finished");
	retry = q_int(db, "SELECT id FROM sync_runs WHERE status = 'queued' AND supplier_id = %lld",
	              (long long)a);
	ok(retry > 0, "a retry is queued");
	is_int(q_int(db, "SELECT attempt FROM sync_runs WHERE id = %" PRId64, retry), 2, "attempt 2");
	is_int(q_int(db, "SELECT retry_of FROM sync_runs WHERE id = %" PRId64, retry), run_dead,
	       "retry_of the interrupted run");
	ok(q_int(db, "SELECT next_attempt_at FROM sync_runs WHERE id = %" PRId64, retry) <= now,
	   "due now");
	is_str(run_text(db, "status", run_alive), "running", "a live process's run is left alone");

	/* a live pid whose heartbeat is stale and whose lock is free */
	sql = xasprintf("UPDATE sync_runs SET heartbeat_at = %lld WHERE id = %lld",
	                (long long)(time_now_ms() - 120000), (long long)run_alive);
	q_exec(db, sql);
	free(sql);
	fd = sync_lock(dbpath, "bee", false, &e);
	rc = jobs_recover(db, &c, time_now_ms(), &e);
	is_int(rc, 0, "a stale heartbeat with the lock held is left alone");
	sync_unlock(fd);
	rc = jobs_recover(db, &c, time_now_ms(), &e);
	is_int(rc, 1, "a stale heartbeat with the lock free is recovered");
	like(run_text(db, "error", run_alive), "stopped sending heartbeats (last 00:02:0",
	     "saying so");
	is_int(queued_count(db, b), 1, "and retried");

	/* a dead pid, but the lock is held: someone is syncing */
	runs_begin(db, d, "full", "cli", false, &run_locked, &e);
	sql = xasprintf("UPDATE sync_runs SET pid = %ld WHERE id = %lld", (long)child,
	                (long long)run_locked);
	q_exec(db, sql);
	free(sql);
	fd = sync_lock(dbpath, "dee", false, &e);
	rc = jobs_recover(db, &c, time_now_ms(), &e);
	is_int(rc, 0, "a dead pid with the lock held is left alone");
	is_str(run_text(db, "status", run_locked), "running", "still running");
	sync_unlock(fd);

	/* the last attempt is not retried */
	q_exec(db, "DELETE FROM sync_runs WHERE status = 'queued'");
	sql = xasprintf("UPDATE sync_runs SET attempt = 3 WHERE id = %lld", (long long)run_locked);
	q_exec(db, sql);
	free(sql);
	rc = jobs_recover(db, &c, time_now_ms(), &e);
	is_int(rc, 1, "a dead run on its last attempt is recovered");
	is_str(run_text(db, "status", run_locked), "interrupted", "interrupted");
	like(run_text(db, "error", run_locked), "not retried", "not retried");
	is_int(queued_count(db, d), 0, "nothing queued");

	/* fresh and alive, nothing to do */
	runs_begin(db, a, "full", "daemon", false, &run_stale, &e);
	q_exec(db, "DELETE FROM sync_runs WHERE status = 'queued'");
	rc = jobs_recover(db, &c, time_now_ms(), &e);
	is_int(rc, 0, "nothing else to recover");
	ok(sqlite3_get_autocommit(db_handle(db)), "no transaction left open");
	clear_runs(db);
}

/* The whole handoff with the real sync: claim, sync_supplier on the
 * claimed run, jobs_after_run. */
static void test_with_sync(struct db *db)
{
	struct conf c;
	struct supplier_conf s;
	struct sync_opts o;
	struct sync_report rep;
	struct error e;
	struct job job;
	char *feed = tmp_path("fff.json");
	char *file = tmp_path("fff.conf");
	char *text;
	int64_t sup, id, next_at;
	int rc, fd;

	conf_init(&c);
	clear_runs(db);
	memset(&s, 0, sizeof(s));
	tmp_write_text("fff.json",
	               "{\"items\": [{\"sku\": \"F-1\", \"qty\": 4}, {\"sku\": \"F-2\", \"qty\": 0}]}");
	text = xasprintf("slug = \"fff\";\nsource = {\n  url = \"file://%s\";\n  format = \"json\";\n"
	                 "  map = { items = \"items\"; sku = \"sku\"; stock = \"qty\"; };\n};\n", feed);
	tmp_write_text("fff.conf", text);
	free(text);
	if (conf_load_supplier(file, &s, &e) != 0) {
		ok(0, "supplier file loads: %s", e.msg);
		goto out;
	}
	sup = add_supplier(db, "fff");

	/* success */
	jobs_enqueue(db, sup, SYNC_FULL, "daemon", 0, &id, &e);
	rc = jobs_claim(db, time_now_ms(), &job, &e);
	is_int(rc, 1, "sync: claimed");
	memset(&o, 0, sizeof(o));
	o.kind = job.kind;
	o.trigger = job.trigger;
	o.run_id = job.run_id;
	rc = sync_supplier(db, &c, &s, &o, &rep);
	is_int(rc, 0, "sync: the claimed run succeeds (%s)", rep.err.msg);
	is_int(rep.run_id, job.run_id, "sync: on the claimed row");
	rc = jobs_after_run(db, &c, &job, &rep, &next_at, &e);
	is_int(rc, 0, "sync: no retry after success");
	is_str(run_text(db, "status", id), "succeeded", "sync: the row succeeded");
	is_str(run_text(db, "error", id), "", "sync: without an error");
	is_int(q_int(db, "SELECT seen FROM sync_runs WHERE id = %" PRId64, id), 2, "sync: counted");
	is_int(q_int(db, "SELECT count(*) FROM sync_runs"), 1, "sync: one row, no other recorded");

	/* someone holds the lock between claim and sync: skipped */
	jobs_enqueue(db, sup, SYNC_FULL, "daemon", 0, &id, &e);
	rc = jobs_claim(db, time_now_ms(), &job, &e);
	is_int(rc, 1, "busy: claimed");
	fd = sync_lock(dbpath, "fff", false, &e);
	o.run_id = job.run_id;
	rc = sync_supplier(db, &c, &s, &o, &rep);
	sync_unlock(fd);
	is_int(rc, -1, "busy: the sync refuses");
	is_int(rep.err.kind, ERRK_BUSY, "busy: with ERRK_BUSY");
	rc = jobs_after_run(db, &c, &job, &rep, &next_at, &e);
	is_int(rc, 0, "busy: no retry");
	is_int(q_int(db, "SELECT count(*) FROM sync_runs"), 1, "busy: the claimed row is dropped");

	/* a feed that cannot be read: failed, retried or not by its kind */
	unlink(feed);
	jobs_enqueue(db, sup, SYNC_FULL, "daemon", 0, &id, &e);
	jobs_claim(db, time_now_ms(), &job, &e);
	o.run_id = job.run_id;
	rc = sync_supplier(db, &c, &s, &o, &rep);
	is_int(rc, -1, "missing feed: the sync fails");
	is_str(run_text(db, "status", id), "failed", "missing feed: the row failed");
	rc = jobs_after_run(db, &c, &job, &rep, &next_at, &e);
	is_int(rc, jobs_retryable(rep.err.kind) ? 1 : 0,
	       "missing feed: retried exactly when the error kind (%d) is retryable", rep.err.kind);
	like(run_text(db, "error", id), "fff", "missing feed: the error names the supplier");
	conf_supplier_free(&s);
out:
	clear_runs(db);
	free(feed);
	free(file);
}

#define NSUP 24

/* Two processes, each with its own connection, claim until the queue is
 * empty and write what they got to a pipe. */
static void test_two_claimers(struct db *db)
{
	struct error e;
	int64_t sup[NSUP], id, got[2 * NSUP];
	int fds[2][2], k, i, j, n = 0, dup = 0, rc;
	pid_t pid[2];
	char slug[16];

	clear_runs(db);
	for (i = 0; i < NSUP; i++) {
		snprintf(slug, sizeof(slug), "two%02d", i);
		sup[i] = add_supplier(db, slug);
		jobs_enqueue(db, sup[i], SYNC_FULL, "daemon", 0, &id, &e);
	}
	for (k = 0; k < 2; k++) {
		if (pipe(fds[k]) != 0) {
			ok(0, "pipe");
			return;
		}
		pid[k] = fork();
		if (pid[k] == 0) {
			struct db *mine = db_open(dbpath, &e);
			struct job job;

			close(fds[k][0]);
			if (!mine)
				_exit(2);
			while ((rc = jobs_claim(mine, time_now_ms(), &job, &e)) == 1) {
				if (write(fds[k][1], &job.run_id, sizeof(job.run_id)) != sizeof(job.run_id))
					_exit(3);
			}
			db_close(mine);
			_exit(rc == 0 ? 0 : 4);
		}
		close(fds[k][1]);
	}
	for (k = 0; k < 2; k++) {
		int per = 0;

		while (n < 2 * NSUP && read(fds[k][0], &got[n], sizeof(got[n])) == sizeof(got[n])) {
			n++;
			per++;
		}
		close(fds[k][0]);
		waitpid(pid[k], &rc, 0);
		ok(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "claimer %d ended cleanly (%d claims)", k + 1,
		   per);
	}
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (got[i] == got[j])
				dup++;
	is_int(n, NSUP, "every queued run was claimed");
	is_int(dup, 0, "never the same run twice");
	is_int(q_int(db, "SELECT count(*) FROM sync_runs WHERE status = 'running'"), NSUP,
	       "all running");
	clear_runs(db);
}

int main(void)
{
	struct error e;
	struct db *db;
	int64_t a, b, c, d, ee;

	tmp_make("test_jobs");
	dbpath = tmp_path("dropstock.db");
	http_global_init();
	db = db_open(dbpath, &e);
	ok(db != NULL, "database opens");
	if (db) {
		a = add_supplier(db, "aaa");
		b = add_supplier(db, "bee");
		c = add_supplier(db, "ccc");
		d = add_supplier(db, "dee");
		ee = add_supplier(db, "eee");
		test_enqueue(db, a, b, c);
		test_running(db, d, ee);
		test_claim(db, a, b, c, d);
		test_after_run(db, a, b);
		test_not_retryable(db, a);
		test_never_started(db, a);
		test_retry_merges(db, a);
		test_recover(db, a, b, d);
		test_two_claimers(db);
		test_with_sync(db);
		db_close(db);
	}
	http_global_cleanup();
	tmp_remove();
	free(dbpath);
	return tap_done();
}
