/* cmd_daemon.c - `dropstock daemon` (the unattended process, see
 * daemon/daemon.h) and `dropstock run-now` (a run for the daemon, or now in
 * the foreground when no daemon is running). */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "daemon/daemon.h"
#include "engine/jobs.h"
#include "engine/sync.h"
#include "store/store.h"

static void daemon_usage(FILE *out)
{
	fprintf(out, _("Usage: dropstock daemon [--listen ADDRESS:PORT] [--no-serve] [--syslog]\n"
	               "Runs unattended in the foreground: the scheduler, the sync workers, event\n"
	               "delivery to the store and the HTTP service, until SIGTERM or SIGINT.\n"
	               "SIGHUP reloads the configuration.\n\n"
	               "  -l, --listen ADDRESS:PORT  the HTTP service listens here instead of\n"
	               "                     service.listen (port 0 picks a free port)\n"
	               "  -n, --no-serve     no HTTP service\n"
	               "      --syslog       log to syslog(3) instead of stderr\n"
	               "  -h, --help         print this help\n\n"
	               "Under systemd (Type=notify) it reports READY=1 once the database is open\n"
	               "and the service listens, STOPPING=1 when it stops, and WATCHDOG=1 pings\n"
	               "when WatchdogSec= is set.\n"));
}

int cmd_daemon(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "no-serve", no_argument, NULL, 'n' },
		{ "syslog", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon_opts o = { .lock_fd = -1 };
	struct error err = { 0 };
	bool use_syslog = false;
	struct conf *conf;
	int c;

	while ((c = getopt_long(argc, argv, "l:nh", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			o.listen = optarg;
			break;
		case 'n':
			o.no_serve = true;
			break;
		case 'S':
			use_syslog = true;
			break;
		case 'h':
			daemon_usage(stdout);
			return EXIT_OK;
		default:
			daemon_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_error(_("daemon: unexpected argument '%s'"), argv[optind]);
		return EXIT_USAGE;
	}
	if (o.listen && conf_listen_split(o.listen, NULL, 0, NULL) != 0) {
		cli_error(_("daemon: --listen %s: expected ADDRESS:PORT with a numeric address, "
		            "such as 127.0.0.1:8787 or [::1]:8787"),
		          o.listen);
		return EXIT_USAGE;
	}
	log_setup(use_syslog, "dropstock");
	/* a daemon tells what it does: info unless -q */
	if (!cli->quiet && log_threshold < LOG_INFO)
		log_threshold = LOG_INFO;
	o.config_path = cli->config_path;

	conf = conf_load(cli->config_path, &err);
	if (!conf) {
		log_error("%s", err.msg);
		return EXIT_CONFIG;
	}
	cli->conf = conf;
	o.lock_fd = daemon_lock(conf->db_path, &err);
	if (o.lock_fd < 0) {
		log_error("%s", err.msg);
		return cli_exit_for(err.kind);
	}
	/* opens and migrates the database (and seeds the built-in demo's
	 * catalogue) the way every command does; the daemon's threads then
	 * open their own connections */
	if (!cli_db(cli)) {
		daemon_unlock(o.lock_fd);
		return EXIT_FAILURE_;
	}
	db_close(cli->db);
	cli->db = NULL;
	cli->conf = NULL;   /* daemon_run owns it now */
	if (daemon_run(conf, &o, &err) != 0) {
		log_error("%s", err.msg);
		return cli_exit_for(err.kind);
	}
	return EXIT_OK;
}

/* ---- run-now ---- */

static volatile sig_atomic_t run_now_stop;

static void run_now_signal(int sig)
{
	(void)sig;
	run_now_stop = 1;
}

static void run_now_usage(FILE *out)
{
	fprintf(out, _("Usage: dropstock run-now SLUG [--full|--delta]\n"
	               "Queues a sync of the supplier for the daemon to run now; when no daemon\n"
	               "is running on the database, runs it here in the foreground instead.\n\n"
	               "  --full             a full sync (default)\n"
	               "  --delta            a delta sync (changes since the last sync)\n"
	               "  -h, --help         print this help\n\n"
	               "Exit status: 0 queued (or, in the foreground, succeeded), 3 configuration\n"
	               "error, 4 the sync failed, 6 the supplier is being synced now.\n"));
}

/* No daemon: the run happens here, as `dropstock sync --supplier SLUG`. */
static int run_now_foreground(struct cli *cli, struct db *db, const struct conf *conf,
                              const struct supplier_conf *s, enum sync_kind kind,
                              const char *trigger)
{
	struct sync_opts so = { .kind = kind, .trigger = trigger, .stop = &run_now_stop };
	struct sync_report rep;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = run_now_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (!cli->quiet)
		fprintf(stderr, _("dropstock: no daemon is running; syncing %s here\n"), s->slug);
	if (sync_supplier(db, conf, s, &so, &rep) == 0) {
		if (!cli->quiet)
			/* TRANSLATORS: each label is followed by its count: items read,
			   stock figures changed, SKUs linked to nothing */
			printf(str_eq(rep.kind, "delta")
			               ? _("%s: delta run %lld succeeded in %s s; items: %s, "
			                   "changed: %s, unknown: %s\n")
			               : _("%s: full run %lld succeeded in %s s; items: %s, "
			                   "changed: %s, unknown: %s\n"),
			       s->slug, (long long)rep.run_id,
			       fmt_dec((double)rep.duration_ms / 1000.0, 1), fmt_int(rep.stats.seen),
			       fmt_int(rep.stats.changed), fmt_int(rep.stats.unknown));
		return EXIT_OK;
	}
	cli_error("%s", rep.err.msg);
	if (str_eq(rep.status, "needs_approval"))
		return EXIT_APPROVAL;
	return cli_exit_for(rep.err.kind);
}

int cmd_run_now(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "full", no_argument, NULL, 'F' },
		{ "delta", no_argument, NULL, 'D' },
		/* not in --help: the console starts its syncs with
		 * --trigger=console, so they are recorded as its own */
		{ "trigger", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum sync_kind kind = SYNC_FULL;
	const char *trigger = "manual";
	const struct supplier_conf *s;
	struct error err = { 0 };
	int64_t supplier_id = 0, run_id = 0;
	struct conf *conf;
	struct db *db;
	long pid;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'F':
			kind = SYNC_FULL;
			break;
		case 'D':
			kind = SYNC_DELTA;
			break;
		case 'T':
			if (!str_eq(optarg, "manual") && !str_eq(optarg, "console")) {
				cli_error(_("run-now: --trigger takes manual or console, not \"%s\""),
				          optarg);
				return EXIT_USAGE;
			}
			trigger = optarg;
			break;
		case 'h':
			run_now_usage(stdout);
			return EXIT_OK;
		default:
			run_now_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		run_now_usage(stderr);
		return EXIT_USAGE;
	}
	if (!(conf = cli_conf(cli)))
		return EXIT_CONFIG;
	s = conf_find_supplier(conf, argv[optind]);
	if (!s) {
		cli_error(_("no supplier '%s' in the configuration; see 'dropstock suppliers'"),
		          argv[optind]);
		return EXIT_USAGE;
	}
	if (kind == SYNC_DELTA && !s->has_delta) {
		cli_error(_("%s: no delta source configured (add a delta group to %s); run a full "
		            "sync instead"),
		          s->slug, s->file ? s->file : _("its supplier file"));
		return EXIT_CONFIG;
	}
	if (!(db = cli_db(cli)))
		return EXIT_FAILURE_;
	if (!daemon_is_running(conf->db_path, &pid))
		return run_now_foreground(cli, db, conf, s, kind, trigger);

	if (suppliers_find(db, s->slug, &supplier_id, &err) != 1) {
		cli_error("%s", err.kind ? err.msg : _("the supplier is not in the database"));
		return EXIT_FAILURE_;
	}
	rc = jobs_enqueue(db, supplier_id, kind, trigger, 0, &run_id, &err);
	switch (rc) {
	case ENQUEUE_ADDED:
	case ENQUEUE_REPLACED:
		if (!cli->quiet)
			printf(kind == SYNC_DELTA
			               ? _("%s: delta run %lld queued for the daemon (process %ld)\n")
			               : _("%s: full run %lld queued for the daemon (process %ld)\n"),
			       s->slug, (long long)run_id, pid);
		return EXIT_OK;
	case ENQUEUE_DUPLICATE:
		if (!cli->quiet)
			printf(_("%s: a run is already queued for the daemon; nothing added\n"),
			       s->slug);
		return EXIT_OK;
	case ENQUEUE_RUNNING:
		cli_error(_("%s: the supplier is being synced now; no run queued"), s->slug);
		return EXIT_BUSY;
	default:
		cli_error("%s", err.msg);
		return cli_exit_for(err.kind);
	}
}
