/* daemon.h - `dropstock daemon`: the one process that runs unattended.
 *
 * It runs the scheduler (one thread: every second, per active supplier, the
 * full and delta runs that came due are queued with jobs_enqueue), a pool of
 * daemon.workers sync workers (jobs_claim -> sync_supplier -> jobs_after_run,
 * each with its own database connection), the outbox deliverer, and unless
 * disabled the HTTP service of `dropstock serve`.
 *
 * Signals are handled in the main loop (signalfd), never in handlers:
 *   SIGTERM, SIGINT  stop taking work; running syncs stop after the page in
 *                    flight and are marked interrupted (and retried at the
 *                    next start); the service stops; exit 0 within 10 s
 *   SIGHUP           reload the configuration; a bad one is logged and the
 *                    old one kept.  Running jobs keep the configuration they
 *                    started with; the next job takes the new one.
 *
 * One daemon per database: it holds an flock() on DBDIR/locks/.daemon.lock
 * (the leading dot keeps it apart from supplier locks, whose slugs cannot
 * start with one), which the kernel drops when it dies.
 */
#ifndef DROPSTOCK_DAEMON_H
#define DROPSTOCK_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "conf/conf.h"
#include "util/util.h"

struct daemon_opts {
	const char *config_path;     /* --config, for reloads; may be NULL (the usual lookup) */
	const char *listen;          /* --listen: overrides service.listen; may be NULL */
	bool no_serve;               /* --no-serve: no HTTP service (also daemon.serve = false) */
	int lock_fd;                 /* the daemon lock from daemon_lock(), released at the end */
};

/* Runs until SIGTERM or SIGINT.  Takes ownership of conf (freed before it
 * returns) and of o->lock_fd.  Blocks SIGTERM, SIGINT and SIGHUP in the
 * calling thread (and so in every thread it starts).  Returns 0 after a
 * clean stop, -1 with err when it could not start (database, listener). */
int daemon_run(struct conf *conf, const struct daemon_opts *o, struct error *err);

/* Takes the daemon lock of the database at db_path.  Returns the fd, or -1
 * with ERRK_BUSY ("a daemon (process N) is already running on ...") when a
 * daemon holds it, another kind on other failures. */
int daemon_lock(const char *db_path, struct error *err);
void daemon_unlock(int fd);

/* Whether a daemon holds the lock of the database at db_path; *pid (when
 * not NULL) gets its process id, 0 when unknown. */
bool daemon_is_running(const char *db_path, long *pid);

/* ---- sd_notify (sdnotify.c) ----
 * The systemd notification protocol without libsystemd: one datagram on
 * the AF_UNIX socket named by $NOTIFY_SOCKET (a path, or "@name" for the
 * abstract namespace). */

/* Sends state ("READY=1", "STOPPING=1", "WATCHDOG=1", "STATUS=...", several
 * separated by newlines).  Returns 1 when sent, 0 when $NOTIFY_SOCKET is not
 * set (not under systemd), -1 with err when sending failed. */
int sdnotify(const char *state, struct error *err);
/* printf-style sdnotify. */
int sdnotifyf(struct error *err, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* The interval at which WATCHDOG=1 must be sent, in ms: half of
 * $WATCHDOG_USEC when it is set (and $WATCHDOG_PID, when set, is this
 * process), else 0. */
int64_t sdnotify_watchdog_ms(void);

#endif
