/* daemon.c - the unattended process: scheduler, sync workers, outbox
 * deliverer and the HTTP service, one database connection per thread.
 *
 * Threads and what they share:
 *   main        signals (signalfd), reloads, watchdog pings, the service
 *   scheduler   queues due runs every second, recovers dead runs every 30 s
 *   workers     claim queued runs and carry them out
 *   deliverer   delivers outbox events to the store
 * The configuration is reference-counted (struct conf_ref): a thread takes a
 * reference for one piece of work (a job, a scheduler pass, a delivery
 * pass) and drops it afterwards, so a reload swaps the configuration in
 * between jobs and a job never sees it change under its feet.  Everything
 * in struct daemon that changes after the start is guarded by d->lock.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "engine/jobs.h"
#include "engine/outbox.h"
#include "engine/sync.h"
#include "service/service.h"
#include "store/db.h"
#include "store/store.h"
#include "util/schedule.h"

#define DEFAULT_FULL "daily 03:00"
#define DEFAULT_DELTA "every 30m"
#define DEFAULT_WORKERS 4
#define RECOVER_EVERY_MS 30000       /* the recover pass for runs whose process died */
#define STOP_DEADLINE_MS 8000        /* threads get this long to finish after SIGTERM */
#define IDLE_WAIT_MS 1000            /* a worker with nothing to do looks again after this */
#define WATCHDOG_STALE_MIN_MS 10000  /* a scheduler pass older than this stops the pings */

struct conf_ref {
	struct conf *conf;
	int refs;                        /* under daemon.lock */
	unsigned generation;
};

/* The schedule of one supplier, kept across reloads while its expressions
 * stay the same. */
struct sched_entry {
	char *slug;
	int64_t supplier_id;
	char *full_expr, *delta_expr;    /* delta_expr NULL: no delta source */
	struct schedule full, delta;
	int64_t next_full, next_delta;   /* ms, 0 = never */
};

struct daemon {
	pthread_mutex_t lock;
	pthread_cond_t wake;             /* work queued, stop: wakes every waiting thread */
	pthread_cond_t exited;           /* a thread ended */
	struct conf_ref *cur;
	volatile sig_atomic_t stop;      /* the flag sync_supplier watches */
	bool stopping;                   /* under lock, mirrors stop for the waits */
	int alive;                       /* threads still running, under lock */
	const struct daemon_opts *opts;
	char *db_path;
	struct db *db;                   /* the main thread's connection */
	struct service *svc;
	struct conf_ref *svc_ref;        /* the configuration the service runs with */
	pthread_t *threads;
	int n_threads;
	atomic_llong sched_tick;         /* time_mono_ms() of the scheduler's last pass */
};

/* ---- the shared configuration ---- */

static struct conf_ref *conf_acquire(struct daemon *d)
{
	struct conf_ref *r;

	pthread_mutex_lock(&d->lock);
	r = d->cur;
	r->refs++;
	pthread_mutex_unlock(&d->lock);
	return r;
}

static void conf_release(struct daemon *d, struct conf_ref *r)
{
	bool last;

	if (!r)
		return;
	pthread_mutex_lock(&d->lock);
	last = --r->refs == 0;
	pthread_mutex_unlock(&d->lock);
	if (last) {
		conf_free(r->conf);
		free(r);
	}
}

/* Installs c as the current configuration; the old one goes when its
 * last user drops it. */
static void conf_install(struct daemon *d, struct conf *c)
{
	struct conf_ref *r = xcalloc(1, sizeof(*r)), *old;

	r->conf = c;
	r->refs = 1;                     /* the reference of d->cur itself */
	pthread_mutex_lock(&d->lock);
	old = d->cur;
	r->generation = old ? old->generation + 1 : 1;
	d->cur = r;
	pthread_mutex_unlock(&d->lock);
	conf_release(d, old);
}

/* ---- waiting ---- */

static void wait_ms(struct daemon *d, int64_t ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&d->lock);
	if (!d->stopping)
		pthread_cond_timedwait(&d->wake, &d->lock, &ts);
	pthread_mutex_unlock(&d->lock);
}

static void wake_all(struct daemon *d)
{
	pthread_mutex_lock(&d->lock);
	pthread_cond_broadcast(&d->wake);
	pthread_mutex_unlock(&d->lock);
}

static void thread_exit(struct daemon *d)
{
	pthread_mutex_lock(&d->lock);
	d->alive--;
	pthread_cond_broadcast(&d->exited);
	pthread_mutex_unlock(&d->lock);
}

static const char *kind_name(enum sync_kind k)
{
	return k == SYNC_DELTA ? "delta" : "full";
}

/* ---- the scheduler ---- */

static const char *full_expr_of(const struct conf *c, const struct supplier_conf *s)
{
	if (s->schedule.full)
		return s->schedule.full;
	return c->daemon.full ? c->daemon.full : DEFAULT_FULL;
}

static const char *delta_expr_of(const struct conf *c, const struct supplier_conf *s)
{
	if (!s->has_delta)
		return NULL;
	if (s->schedule.delta)
		return s->schedule.delta;
	return c->daemon.delta ? c->daemon.delta : DEFAULT_DELTA;
}

static void sched_entry_free(struct sched_entry *e)
{
	free(e->slug);
	free(e->full_expr);
	free(e->delta_expr);
}

/* Parses expr; a bad one (the loader checks them, so only a bug gets here)
 * is logged and never fires. */
static void sched_parse(const struct supplier_conf *s, const char *what, const char *expr,
                        struct schedule *out)
{
	struct error err = { 0 };

	memset(out, 0, sizeof(*out));
	if (!expr)
		return;
	if (schedule_parse(expr, out, &err) != 0) {
		log_error(_("%s: %s schedule \"%s\": %s; it will not run"), s->slug, what, expr,
		          err.msg);
		memset(out, 0, sizeof(*out));
	}
}

/* When the supplier's last run (of kind, or of any kind when kind is NULL)
 * started; 0 when never. */
static int64_t last_start(struct db *db, int64_t supplier_id, const char *kind)
{
	static const char sql[] =
		"SELECT COALESCE(MAX(started_at), 0) FROM sync_runs"
		" WHERE supplier_id = ?1 AND dry_run = 0 AND (?2 IS NULL OR kind = ?2)";
	struct error err = { 0 };
	sqlite3_stmt *st = db_stmt(db, sql, &err);
	int64_t at = 0;

	if (!st) {
		log_error("%s", err.msg);
		return 0;
	}
	sqlite3_bind_int64(st, 1, supplier_id);
	if (kind)
		sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 2);
	if (sqlite3_step(st) == SQLITE_ROW)
		at = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return at;
}

/* Queues one run and logs what became of it.  Returns the enqueue result,
 * -1 on error. */
static int sched_enqueue(struct daemon *d, struct db *db, const struct sched_entry *e,
                         enum sync_kind kind, const char *trigger, int64_t due)
{
	struct error err = { 0 };
	int64_t run_id = 0;
	int rc = jobs_enqueue(db, e->supplier_id, kind, trigger, 0, &run_id, &err);
	char when[32];

	/* the fire time it was due at, so logs can be matched to the schedule */
	if (due)
		time_format_iso(due, when);
	else
		snprintf(when, sizeof(when), "-");
	switch (rc) {
	case ENQUEUE_ADDED:
		/* TRANSLATORS: "acme: full run 12 queued (schedule, due
		   2026-11-27T08:00:00Z)": the run's kind ("full" or "delta"), its
		   id, what started it ("schedule", "manual") and its fire time */
		log_info(_("%s: %s run %lld queued (%s, due %s)"), e->slug, kind_name(kind),
		         (long long)run_id, trigger, when);
		wake_all(d);
		break;
	case ENQUEUE_REPLACED:
		log_info(_("%s: full run %lld queued (%s, due %s); it replaces the queued delta run"),
		         e->slug, (long long)run_id, trigger, when);
		wake_all(d);
		break;
	case ENQUEUE_DUPLICATE:
		/* TRANSLATORS: the second %s is the run's kind, "full" or "delta" */
		log_info(_("%s: due %s run skipped: a run is already queued (due %s)"), e->slug,
		         kind_name(kind), when);
		break;
	case ENQUEUE_RUNNING:
		/* TRANSLATORS: the second %s is the run's kind, "full" or "delta" */
		log_info(_("%s: due %s run skipped: the supplier is being synced now (due %s)"),
		         e->slug, kind_name(kind), when);
		break;
	default:
		/* TRANSLATORS: the second %s is the run's kind, "full" or "delta" */
		log_error(_("%s: cannot queue a %s run: %s"), e->slug, kind_name(kind), err.msg);
		rc = -1;
		break;
	}
	return rc;
}

static void sched_log_next(const struct sched_entry *e)
{
	char f[32], dl[32];

	if (log_threshold < LOG_DEBUG)
		return;
	log_debug("%s: next full run %s, next delta run %s", e->slug,
	          e->next_full ? time_format_iso(e->next_full, f) : "-",
	          e->next_delta ? time_format_iso(e->next_delta, dl) : "-");
}

/* Rebuilds the schedule table from the configuration c.  Entries whose
 * slug and expressions are unchanged keep their next fire times; new ones
 * start from now.  At the daemon's start (catch_up), a supplier whose last
 * fire time before now passed without a run gets one catch-up run: a full
 * one when a full run was missed, else a delta. */
static void sched_build(struct daemon *d, struct db *db, const struct conf *c,
                        struct sched_entry **tab, int *n, int64_t now, bool catch_up)
{
	struct sched_entry *old = *tab, *t = xcalloc((size_t)c->n_suppliers + 1, sizeof(*t));
	int n_old = *n, k = 0;

	for (int i = 0; i < c->n_suppliers; i++) {
		const struct supplier_conf *s = &c->suppliers[i];
		const char *fx = full_expr_of(c, s), *dx = delta_expr_of(c, s);
		struct sched_entry *e = &t[k], *prev = NULL;
		struct error err = { 0 };
		int found;

		if (!s->active)
			continue;
		found = suppliers_find(db, s->slug, &e->supplier_id, &err);
		if (found == 0)
			found = suppliers_upsert(db, s, &e->supplier_id, &err) == 0 ? 1 : -1;
		if (found < 0) {
			log_error(_("%s: not scheduled: %s"), s->slug, err.msg);
			continue;
		}
		e->slug = xstrdup(s->slug);
		e->full_expr = xstrdup(fx);
		e->delta_expr = xstrdup(dx);
		sched_parse(s, "full", fx, &e->full);
		sched_parse(s, "delta", dx, &e->delta);
		for (int j = 0; j < n_old; j++)
			if (str_eq(old[j].slug, s->slug))
				prev = &old[j];
		e->next_full = prev && str_eq(prev->full_expr, fx) ? prev->next_full
		                                                   : schedule_next(&e->full, now);
		e->next_delta = prev && str_eq(prev->delta_expr, dx) ? prev->next_delta
		                                                     : schedule_next(&e->delta, now);
		k++;
		sched_log_next(e);
		if (!catch_up)
			continue;
		{
			int64_t pf = schedule_prev(&e->full, now);
			int64_t pd = dx ? schedule_prev(&e->delta, now) : 0;

			if (pf && last_start(db, e->supplier_id, "full") < pf)
				sched_enqueue(d, db, e, SYNC_FULL, "catch-up", 0);
			else if (pd && last_start(db, e->supplier_id, NULL) < pd)
				sched_enqueue(d, db, e, SYNC_DELTA, "catch-up", 0);
		}
	}
	for (int j = 0; j < n_old; j++)
		sched_entry_free(&old[j]);
	free(old);
	*tab = t;
	*n = k;
}

/* One pass: queues what came due.  Missed fire times (a stalled pass, a
 * clock step) do not pile up: the next fire time is counted from now.  A
 * full run due together with a delta run supersedes it. */
static void sched_pass(struct daemon *d, struct db *db, struct sched_entry *tab, int n,
                       int64_t now)
{
	for (int i = 0; i < n && !d->stop; i++) {
		struct sched_entry *e = &tab[i];
		bool full_due = e->next_full && now >= e->next_full;
		bool delta_due = e->next_delta && now >= e->next_delta;
		int64_t full_at = e->next_full, delta_at = e->next_delta;

		if (full_due)
			e->next_full = schedule_next(&e->full, now);
		if (delta_due)
			e->next_delta = schedule_next(&e->delta, now);
		if (full_due)
			sched_enqueue(d, db, e, SYNC_FULL, "schedule", full_at);
		else if (delta_due)
			sched_enqueue(d, db, e, SYNC_DELTA, "schedule", delta_at);
		if (full_due || delta_due)
			sched_log_next(e);
	}
}

static void recover_pass(struct db *db, const struct conf *c, int64_t now)
{
	struct error err = { 0 };
	int n = jobs_recover(db, c, now, &err);

	if (n < 0)
		log_error(_("recovering dead runs: %s"), err.msg);
	else if (n > 0)
		log_warn(P_("%d run whose process died was marked interrupted",
		            "%d runs whose process died were marked interrupted", (unsigned long)n),
		         n);
}

static void *scheduler_main(void *arg)
{
	struct daemon *d = arg;
	struct sched_entry *tab = NULL;
	struct error err = { 0 };
	unsigned built = 0;
	int n = 0;
	int64_t last_recover, last_now = 0;
	struct db *db = db_open(d->db_path, &err);

	if (!db) {
		log_error(_("scheduler: %s; nothing will be scheduled"), err.msg);
		goto out;
	}
	last_recover = time_mono_ms();
	while (!d->stop) {
		struct conf_ref *r = conf_acquire(d);
		int64_t now = time_now_ms(), mono = time_mono_ms();

		atomic_store(&d->sched_tick, (long long)mono);
		if (r->generation != built || now < last_now - 1000) {
			/* a new configuration, or the clock stepped back: fire times
			 * counted from an unchanged schedule are recomputed only on
			 * a clock step */
			if (now < last_now - 1000) {
				for (int i = 0; i < n; i++) {
					tab[i].next_full = schedule_next(&tab[i].full, now);
					tab[i].next_delta = schedule_next(&tab[i].delta, now);
				}
			}
			if (r->generation != built)
				sched_build(d, db, r->conf, &tab, &n, now, built == 0);
			built = r->generation;
		}
		last_now = now;
		sched_pass(d, db, tab, n, now);
		if (mono - last_recover >= RECOVER_EVERY_MS) {
			recover_pass(db, r->conf, now);
			last_recover = mono;
		}
		conf_release(d, r);
		/* sleep to the next whole second */
		wait_ms(d, 1000 - time_now_ms() % 1000);
	}
out:
	for (int i = 0; i < n; i++)
		sched_entry_free(&tab[i]);
	free(tab);
	db_close(db);
	thread_exit(d);
	return NULL;
}

/* ---- the workers ---- */

static void run_job(struct daemon *d, struct db *db, const struct conf *c, const struct job *job)
{
	struct sync_opts o = { 0 };
	struct sync_report rep;
	struct error err = { 0 };
	const struct supplier_conf *s = conf_find_supplier((struct conf *)c, job->slug);
	int64_t next_at = 0;
	int retry;

	memset(&rep, 0, sizeof(rep));
	if (!s || (!s->active && !str_eq(job->trigger, "manual"))) {
		/* jobs_after_run closes the claimed row (run_id 0 here) */
		rep.status = "failed";
		err_set(&rep.err, ERRK_CONFIG,
		        s ? _("%s: the supplier is not active (active = false); run %lld dropped")
		          : _("%s: the supplier is no longer in the configuration; run %lld dropped"),
		        job->slug, (long long)job->run_id);
	} else {
		o.kind = job->kind;
		o.trigger = job->trigger;
		o.run_id = job->run_id;
		o.time_limit_ms = c->daemon.run_timeout_ms;
		o.stop = &d->stop;
		/* TRANSLATORS: "acme: full run 12 started (attempt 1, schedule)": the
		   run's kind ("full" or "delta"), its id, the attempt's number and
		   what started it */
		log_info(_("%s: %s run %lld started (attempt %d, %s)"), job->slug,
		         kind_name(job->kind), (long long)job->run_id, job->attempt, job->trigger);
		sync_supplier(db, c, s, &o, &rep);
	}

	if (str_eq(rep.status, "succeeded"))
		/* TRANSLATORS: each label is followed by its count: items read,
		   stock figures changed, SKUs linked to nothing */
		log_info(_("%s: run %lld succeeded in %.1f s; items: %lld, changed: %lld, "
		           "unknown: %lld"),
		         job->slug, (long long)job->run_id, (double)rep.duration_ms / 1000.0,
		         (long long)rep.stats.seen, (long long)rep.stats.changed,
		         (long long)rep.stats.unknown);
	else if (rep.err.kind == ERRK_BUSY)
		log_info(_("%s: run %lld skipped: %s"), job->slug, (long long)job->run_id,
		         rep.err.msg);
	else
		/* TRANSLATORS: "run 12 failed: <the error>"; %s is the run's status
		   as stored ("failed", "interrupted") */
		log_warn(_("run %lld %s: %s"), (long long)job->run_id, rep.status, rep.err.msg);

	retry = jobs_after_run(db, c, job, &rep, &next_at, &err);
	if (retry < 0) {
		log_error(_("%s: run %lld: %s"), job->slug, (long long)job->run_id, err.msg);
	} else if (retry > 0) {
		char when[32];

		log_info(_("%s: attempt %d queued for %s"), job->slug, job->attempt + 1,
		         time_format_iso(next_at, when));
	} else if (str_eq(rep.status, "needs_approval")) {
		log_warn(_("%s: run %lld waits for approval (dropstock approve %lld)"), job->slug,
		         (long long)job->run_id, (long long)job->run_id);
	} else if (!str_eq(rep.status, "succeeded") && rep.err.kind != ERRK_BUSY) {
		if (!jobs_retryable(rep.err.kind))
			log_warn(_("%s: run %lld not retried: this error does not heal by waiting"),
			         job->slug, (long long)job->run_id);
		else
			log_warn(P_("%s: run %lld not retried: no attempts left (%d tried)",
			            "%s: run %lld not retried: no attempts left (%d tried)",
			            job->attempt),
			         job->slug, (long long)job->run_id, job->attempt);
	}
}

static void *worker_main(void *arg)
{
	struct daemon *d = arg;
	struct error err = { 0 };
	struct db *db = db_open(d->db_path, &err);

	if (!db) {
		log_error(_("sync worker: %s"), err.msg);
		goto out;
	}
	while (!d->stop) {
		struct job job;
		struct conf_ref *r;
		int rc;

		memset(&job, 0, sizeof(job));
		rc = jobs_claim(db, time_now_ms(), &job, &err);
		if (rc < 0) {
			log_error(_("sync worker: %s"), err.msg);
			wait_ms(d, IDLE_WAIT_MS);
			continue;
		}
		if (rc == 0) {
			wait_ms(d, IDLE_WAIT_MS);
			continue;
		}
		r = conf_acquire(d);
		run_job(d, db, r->conf, &job);
		conf_release(d, r);
		wake_all(d);   /* the deliverer: the run may have raised events */
	}
out:
	db_close(db);
	thread_exit(d);
	return NULL;
}

/* ---- the outbox deliverer ---- */

static void *deliverer_main(void *arg)
{
	struct daemon *d = arg;
	struct error err = { 0 };
	struct db *db = db_open(d->db_path, &err);

	if (!db) {
		log_error(_("event delivery: %s"), err.msg);
		goto out;
	}
	while (!d->stop) {
		struct conf_ref *r = conf_acquire(d);
		const struct events_conf *ev = &r->conf->events;
		int64_t now = time_now_ms(), wait = IDLE_WAIT_MS;

		if (ev->url || ev->command) {
			struct outbox_pass p = { 0 };

			if (outbox_deliver_stop(db, r->conf, now, &d->stop, &p, &err) != 0) {
				log_error(_("event delivery: %s"), err.msg);
			} else {
				if (p.delivered)
					log_info(P_("%lld event delivered", "%lld events delivered",
					            (unsigned long)p.delivered),
					         (long long)p.delivered);
				if (p.dead)
					log_warn(P_("%lld event could not be delivered and was parked as "
					            "dead (see 'dropstock events --dead')",
					            "%lld events could not be delivered and were parked as "
					            "dead (see 'dropstock events --dead')",
					            (unsigned long)p.dead),
					         (long long)p.dead);
				if (p.next_due_at) {
					now = time_now_ms();
					wait = p.next_due_at - now;
					if (wait > IDLE_WAIT_MS)
						wait = IDLE_WAIT_MS;
				}
			}
		}
		conf_release(d, r);
		wait_ms(d, wait > 10 ? wait : 10);
	}
out:
	db_close(db);
	thread_exit(d);
	return NULL;
}

/* ---- the HTTP service ---- */

static bool serve_wanted(const struct daemon *d, const struct conf *c)
{
	return !d->opts->no_serve && c->daemon.serve;
}

/* Starts the service with the configuration r (taking a reference). */
static int service_up(struct daemon *d, struct conf_ref *r, const char *listen,
                      struct error *err)
{
	d->svc = service_start(r->conf, listen, err);
	if (!d->svc)
		return -1;
	pthread_mutex_lock(&d->lock);
	r->refs++;
	pthread_mutex_unlock(&d->lock);
	d->svc_ref = r;
	log_info(_("listening on %s"), service_address(d->svc));
	return 0;
}

static void service_down(struct daemon *d)
{
	if (!d->svc)
		return;
	service_stop(d->svc);
	d->svc = NULL;
	conf_release(d, d->svc_ref);
	d->svc_ref = NULL;
}

/* After a reload: the service restarts with the new configuration (its
 * API keys, suppliers and webhook secrets).  A listen address with port 0
 * keeps the port it got.  When the new configuration cannot listen, the
 * old one is started again. */
static void service_reload(struct daemon *d, struct conf_ref *r)
{
	struct error err = { 0 };
	const char *want = d->opts->listen ? d->opts->listen : r->conf->service.listen;
	char *listen = want ? xstrdup(want) : NULL;
	char *old_addr = d->svc ? xstrdup(service_address(d->svc)) : NULL;
	struct conf_ref *old_ref = d->svc_ref;
	int port = -1;

	if (!serve_wanted(d, r->conf)) {
		if (d->svc) {
			service_down(d);
			log_info(_("HTTP service stopped (daemon.serve = false)"));
		}
		goto out;
	}
	if (listen && old_addr && conf_listen_split(listen, NULL, 0, &port) == 0 && port == 0) {
		free(listen);
		listen = xstrdup(old_addr);
	}
	if (old_ref) {
		/* keep the old configuration alive in case it must serve again */
		pthread_mutex_lock(&d->lock);
		old_ref->refs++;
		pthread_mutex_unlock(&d->lock);
	}
	service_down(d);
	if (service_up(d, r, listen, &err) != 0) {
		log_error(_("HTTP service with the new configuration: %s"), err.msg);
		if (old_ref && service_up(d, old_ref, old_addr, &err) != 0)
			log_error(_("HTTP service stopped: %s"), err.msg);
	}
	conf_release(d, old_ref);
out:
	free(listen);
	free(old_addr);
}

/* ---- configuration reload (SIGHUP) ---- */

static int upsert_suppliers(struct db *db, const struct conf *c, struct error *err)
{
	if (db_begin(db, err) != 0)
		return -1;
	for (int i = 0; i < c->n_suppliers; i++) {
		int64_t id;

		if (suppliers_upsert(db, &c->suppliers[i], &id, err) != 0) {
			db_rollback(db);
			return -1;
		}
	}
	return db_commit(db, err);
}

static void reload(struct daemon *d)
{
	struct error err = { 0 };
	struct conf *c;
	struct conf_ref *r;
	const struct conf *old;

	sdnotifyf(NULL, "RELOADING=1\nMONOTONIC_USEC=%lld\nSTATUS=reloading the configuration",
	          (long long)time_mono_ms() * 1000);
	log_info(_("SIGHUP: reloading the configuration"));
	c = conf_load(d->opts->config_path, &err);
	if (!c) {
		log_error(_("the new configuration was not loaded, the old one stays in effect: %s"),
		          err.msg);
		goto out;
	}
	r = conf_acquire(d);
	old = r->conf;
	if (!str_eq(c->db_path, old->db_path)) {
		log_error(_("the new configuration names another database (%s instead of %s); "
		            "restart the daemon to change it; the old configuration stays in effect"),
		          c->db_path, old->db_path);
		conf_release(d, r);
		conf_free(c);
		goto out;
	}
	if (!str_eq(c->daemon.timezone, old->daemon.timezone))
		log_warn(_("daemon.timezone changed: it takes effect when the daemon restarts"));
	if (c->daemon.workers != old->daemon.workers)
		log_warn(_("daemon.workers changed: it takes effect when the daemon restarts"));
	conf_release(d, r);
	if (upsert_suppliers(d->db, c, &err) != 0) {
		log_error(_("the new configuration was not applied, the old one stays in effect: %s"),
		          err.msg);
		conf_free(c);
		goto out;
	}
	conf_install(d, c);
	r = conf_acquire(d);
	if (d->svc || serve_wanted(d, r->conf))
		service_reload(d, r);
	log_info(P_("configuration reloaded: %d supplier", "configuration reloaded: %d suppliers",
	            (unsigned long)r->conf->n_suppliers),
	         r->conf->n_suppliers);
	conf_release(d, r);
	wake_all(d);
out:
	sdnotify("READY=1\nSTATUS=running", NULL);
}

/* ---- the daemon lock ---- */

static char *daemon_lock_path(const char *db_path)
{
	char *dir, *path;

	if (!db_path || !*db_path || strcmp(db_path, ":memory:") == 0) {
		char *state = path_state_dir();
		dir = path_join(state, "locks");
		free(state);
	} else {
		char *parent = path_dirname(db_path);
		dir = path_join(parent, "locks");
		free(parent);
	}
	path = path_join(dir, ".daemon.lock");
	free(dir);
	return path;
}

static long read_pid(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	int64_t pid;

	/* the file holds "PID\n" */
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n > 0 ? n : 0] = '\0';
	return str_to_i64(buf, &pid) && pid > 0 ? (long)pid : 0;
}

int daemon_lock(const char *db_path, struct error *err)
{
	char *path = daemon_lock_path(db_path);
	char *dir = path_dirname(path);
	char pidbuf[32];
	int fd = -1;

	if (mkdir_p(dir, err) != 0)
		goto out;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		err_set(err, ERRK_INTERNAL, _("%s: cannot open the daemon lock: %s"), path,
		        strerror(errno));
		goto out;
	}
	/* a `run-now` asking whether a daemon runs holds the lock shared for
	 * an instant: try a few times before calling it busy */
	for (int i = 0; flock(fd, LOCK_EX | LOCK_NB) != 0; i++) {
		if ((errno != EWOULDBLOCK && errno != EINTR) || i >= 10) {
			if (errno == EWOULDBLOCK || errno == EINTR)
				err_set(err, ERRK_BUSY,
				        _("a daemon (process %ld) is already running on the database %s"),
				        read_pid(fd), db_path);
			else
				err_set(err, ERRK_INTERNAL, _("%s: cannot lock: %s"), path,
				        strerror(errno));
			close(fd);
			fd = -1;
			goto out;
		}
		usleep(20000);
	}
	snprintf(pidbuf, sizeof(pidbuf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pidbuf, strlen(pidbuf), 0) < 0) {
		/* the pid is only informative */
	}
out:
	free(dir);
	free(path);
	return fd;
}

void daemon_unlock(int fd)
{
	if (fd < 0)
		return;
	if (ftruncate(fd, 0) != 0) {
		/* informative only */
	}
	flock(fd, LOCK_UN);
	close(fd);
}

bool daemon_is_running(const char *db_path, long *pid)
{
	char *path = daemon_lock_path(db_path);
	bool running = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (pid)
		*pid = 0;
	if (fd >= 0) {
		if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
			flock(fd, LOCK_UN);
		} else if (errno == EWOULDBLOCK) {
			running = true;
			if (pid)
				*pid = read_pid(fd);
		}
		close(fd);
	}
	free(path);
	return running;
}

/* ---- start and stop ---- */

static int start_thread(struct daemon *d, void *(*fn)(void *), struct error *err)
{
	int rc;

	pthread_mutex_lock(&d->lock);
	d->alive++;
	pthread_mutex_unlock(&d->lock);
	rc = pthread_create(&d->threads[d->n_threads], NULL, fn, d);
	if (rc != 0) {
		pthread_mutex_lock(&d->lock);
		d->alive--;
		pthread_mutex_unlock(&d->lock);
		return err_set(err, ERRK_INTERNAL, _("cannot start a thread: %s"), strerror(rc));
	}
	d->n_threads++;
	return 0;
}

/* Tells every thread to stop and waits for them up to the deadline.
 * Returns true when all ended (and were joined). */
static bool stop_threads(struct daemon *d, int64_t deadline_mono)
{
	bool all = true;

	d->stop = 1;
	pthread_mutex_lock(&d->lock);
	d->stopping = true;
	pthread_cond_broadcast(&d->wake);
	while (d->alive > 0) {
		int64_t left = deadline_mono - time_mono_ms();
		struct timespec ts;

		if (left <= 0) {
			all = false;
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t)(left / 1000);
		ts.tv_nsec += (long)(left % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&d->exited, &d->lock, &ts);
	}
	pthread_mutex_unlock(&d->lock);
	if (all)
		for (int i = 0; i < d->n_threads; i++)
			pthread_join(d->threads[i], NULL);
	return all;
}

/* Whether the scheduler passed recently enough to tell systemd all is well. */
static bool alive_enough(struct daemon *d, int64_t wd_ms)
{
	int64_t stale = wd_ms > WATCHDOG_STALE_MIN_MS ? wd_ms : WATCHDOG_STALE_MIN_MS;

	return time_mono_ms() - (int64_t)atomic_load(&d->sched_tick) < stale;
}

/* The main loop: signals, watchdog.  Returns when SIGTERM or SIGINT came. */
static void main_loop(struct daemon *d, int sfd)
{
	int64_t wd_ms = sdnotify_watchdog_ms(), next_ping = 0;
	struct error err = { 0 };

	if (wd_ms)
		log_info(_("systemd watchdog: pinging every %lld ms"), (long long)wd_ms);
	for (;;) {
		struct pollfd pfd = { .fd = sfd, .events = POLLIN };
		int timeout = 1000;
		int64_t mono = time_mono_ms();

		if (wd_ms && mono >= next_ping) {
			if (alive_enough(d, wd_ms)) {
				if (sdnotify("WATCHDOG=1", &err) < 0)
					log_warn("%s", err.msg);
			} else {
				log_error(_("the scheduler has not run for a while; no watchdog ping"));
			}
			next_ping = mono + wd_ms;
		}
		if (wd_ms && next_ping - mono < timeout)
			timeout = (int)(next_ping - mono > 0 ? next_ping - mono : 0);
		if (poll(&pfd, 1, timeout) > 0 && (pfd.revents & POLLIN)) {
			struct signalfd_siginfo si;
			ssize_t n = read(sfd, &si, sizeof(si));

			if (n != (ssize_t)sizeof(si))
				continue;
			if (si.ssi_signo == SIGHUP) {
				reload(d);
				continue;
			}
			log_info(_("received %s, stopping"), si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
			return;
		}
	}
}

int daemon_run(struct conf *conf, const struct daemon_opts *o, struct error *err)
{
	struct daemon dd, *d = &dd;
	pthread_condattr_t ca;
	sigset_t set, old;
	int64_t stop_deadline = 0;
	int workers, sfd = -1, rc = -1;
	bool joined = true;

	memset(d, 0, sizeof(*d));
	d->opts = o;
	pthread_mutex_init(&d->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->wake, &ca);
	pthread_cond_init(&d->exited, &ca);
	pthread_condattr_destroy(&ca);
	atomic_init(&d->sched_tick, (long long)time_mono_ms());

	/* signals go to the signalfd of the main loop: blocked before any
	 * thread (ours, the service's, libcurl's) starts, so all inherit it */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0) {
		err_set(err, ERRK_INTERNAL, _("cannot receive signals (signalfd): %s"),
		        strerror(errno));
		conf_free(conf);
		goto out;
	}

	if (conf->daemon.timezone && *conf->daemon.timezone) {
		/* before any thread exists: setenv is not thread-safe */
		setenv("TZ", conf->daemon.timezone, 1);
		tzset();
	}
	d->db_path = xstrdup(conf->db_path);
	workers = conf->daemon.workers > 0 ? conf->daemon.workers : DEFAULT_WORKERS;
	conf_install(d, conf);

	d->db = db_open(d->db_path, err);
	if (!d->db)
		goto out;
	if (upsert_suppliers(d->db, conf, err) != 0)
		goto out;
	recover_pass(d->db, conf, time_now_ms());

	if (serve_wanted(d, conf)) {
		if (service_up(d, d->cur, o->listen, err) != 0)
			goto out;
	}

	d->threads = xcalloc((size_t)workers + 2, sizeof(*d->threads));
	if (start_thread(d, scheduler_main, err) != 0)
		goto out;
	for (int i = 0; i < workers; i++)
		if (start_thread(d, worker_main, err) != 0)
			goto out;
	if (start_thread(d, deliverer_main, err) != 0)
		goto out;

	log_info(P_("daemon started (process %ld): %d supplier configured, sync workers: %d, "
	            "database %s",
	            "daemon started (process %ld): %d suppliers configured, sync workers: %d, "
	            "database %s", conf->n_suppliers),
	         (long)getpid(), conf->n_suppliers, workers, d->db_path);
	if (sdnotifyf(err, "READY=1\nSTATUS=running: %d suppliers, %d workers%s%s",
	              conf->n_suppliers, workers, d->svc ? ", listening on " : "",
	              d->svc ? service_address(d->svc) : "") < 0)
		log_warn("%s", err->msg);
	err_clear(err);

	main_loop(d, sfd);
	rc = 0;
out:
	/* from here on, at most STOP_DEADLINE_MS until the threads are gone */
	stop_deadline = time_mono_ms() + STOP_DEADLINE_MS;
	if (sdnotify("STOPPING=1\nSTATUS=stopping", NULL) < 0) {
		/* nothing to tell then */
	}
	service_down(d);
	joined = stop_threads(d, stop_deadline);
	if (!joined) {
		/* a thread is stuck (a delivery POST waiting for its timeout):
		 * what it was doing is safe to lose (runs are recovered, events
		 * are delivered at least once), so leave now rather than late */
		log_warn(_("some work did not stop in time; leaving it to be recovered at the next "
		           "start"));
		fflush(stderr);
		_exit(rc == 0 ? 0 : 1);
	}
	db_close(d->db);
	if (d->cur)
		conf_release(d, d->cur);
	d->cur = NULL;
	free(d->threads);
	free(d->db_path);
	daemon_unlock(o->lock_fd);
	if (sfd >= 0)
		close(sfd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_cond_destroy(&d->wake);
	pthread_cond_destroy(&d->exited);
	pthread_mutex_destroy(&d->lock);
	if (rc == 0)
		log_info(_("daemon stopped"));
	return rc;
}
