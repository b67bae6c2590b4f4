/* main.c - dropstock: global options and subcommand dispatch. */
#include "config.h"

#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "feed/http.h"
#include "store/db.h"

struct command {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
	const char *summary;   /* NULL: hidden from --help and `__complete commands` */
};

static const struct command commands[] = {
	{ "sync", cmd_sync, N_("fetch supplier feeds and update the store's stock") },
	{ "suppliers", cmd_suppliers, N_("list configured suppliers and their last syncs") },
	{ "runs", cmd_runs, N_("list sync runs") },
	{ "history", cmd_history, N_("show the stock-change log") },
	{ "link", cmd_link, N_("link store products to supplier SKUs (import, add, remove)") },
	{ "unknown", cmd_unknown, N_("list supplier SKUs that are linked to nothing") },
	{ "export", cmd_export, N_("export the store-facing stock as CSV or JSON") },
	{ "serve", cmd_serve, N_("run the HTTP service: stock checks, changed stock, webhooks") },
	{ "check", cmd_check, N_("ask suppliers live whether a product can be sold now") },
	{ "events", cmd_events, N_("list, retry or deliver the events sent to the store") },
	{ "daemon", cmd_daemon, N_("run unattended: scheduled syncs, event delivery, HTTP service") },
	{ "run-now", cmd_run_now, N_("queue a sync for the daemon, or run it now without one") },
	{ "console", cmd_console, N_("open the operator console (the default on a terminal)") },
	{ "approve", cmd_approve, N_("apply a run that the mass-change guard stopped") },
	{ "revert", cmd_revert, N_("set the links a run changed back to their values before it") },
	{ "__complete", cmd_complete, NULL },
};

const char *cli_command(size_t i, int (**run)(struct cli *cli, int argc, char **argv))
{
	for (size_t k = 0; k < ARRAY_SIZE(commands); k++) {
		if (!commands[k].summary || i-- > 0)
			continue;
		if (run)
			*run = commands[k].run;
		return commands[k].name;
	}
	return NULL;
}

static void usage(FILE *out)
{
	fprintf(out, _("Usage: dropstock [--config FILE] [-q] [-v] COMMAND [OPTIONS]\n"
	               "Keeps an online store's stock in step with its dropshipping suppliers.\n\n"
	               "Commands:\n"));
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (commands[i].summary)
			fprintf(out, "  %-10s %s\n", commands[i].name, _(commands[i].summary));
	fprintf(out, _("\nGlobal options:\n"
	               "  -c, --config FILE  configuration file (default: $DROPSTOCK_CONFIG,\n"
	               "                     $XDG_CONFIG_HOME/dropstock/dropstock.conf,\n"
	               "                     %s, /etc/dropstock/dropstock.conf,\n"
	               "                     else the built-in demo)\n"
	               "  -q, --quiet        print only errors\n"
	               "  -v, --verbose      print more (repeat for debug output)\n"
	               "  -V, --version      print the version and exit\n"
	               "  -h, --help         print this help and exit\n\n"
	               "Run 'dropstock COMMAND --help' for the options of a command.\n"
	               "See dropstock(1) and dropstock.conf(5).\n"),
	        SYSCONFDIR "/dropstock/dropstock.conf");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli cli = { 0 };
	const char *env;
	int c, rc;

	i18n_init();
	if ((env = getenv("DROPSTOCK_DEBUG")) && *env)
		log_threshold = LOG_DEBUG;
	/* '+': stop at the first non-option, the subcommand */
	while ((c = getopt_long(argc, argv, "+c:qvVh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cli.config_path = optarg;
			break;
		case 'q':
			cli.quiet = true;
			log_threshold = LOG_ERROR;
			break;
		case 'v':
			cli.verbose++;
			log_threshold = cli.verbose > 1 ? LOG_DEBUG : LOG_INFO;
			break;
		case 'V':
			printf("dropstock %s\n", PACKAGE_VERSION);
			printf(_("database schema %d; %s; SQLite %s\n"), DB_SCHEMA_VERSION,
			       curl_version(), sqlite3_libversion());
			return EXIT_OK;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		/* no command: the console on a terminal, the usage otherwise */
		static char console_name[] = "console";
		static char *console_argv[] = { console_name, NULL };

		if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
			usage(stderr);
			return EXIT_USAGE;
		}
		http_global_init();
		optind = 0;
		rc = cmd_console(&cli, 1, console_argv);
		if (cli.db)
			db_close(cli.db);
		if (cli.conf)
			conf_free(cli.conf);
		http_global_cleanup();
		return rc;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcmp(argv[optind], commands[i].name) == 0) {
			int first = optind;

			http_global_init();
			optind = 0;   /* glibc: re-initialise getopt for the subcommand */
			rc = commands[i].run(&cli, argc - first, argv + first);
			if (cli.db)
				db_close(cli.db);
			if (cli.conf)
				conf_free(cli.conf);
			http_global_cleanup();
			return rc;
		}
	}
	cli_error(_("unknown command '%s'; run 'dropstock --help' for the list"), argv[optind]);
	return EXIT_USAGE;
}
