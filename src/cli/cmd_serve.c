/* cmd_serve.c - `dropstock serve`: run the HTTP service in the foreground
 * until SIGTERM or SIGINT, then stop cleanly (exit 0). */
#include "config.h"

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "service/service.h"

static void serve_usage(FILE *out)
{
	fprintf(out, _("Usage: dropstock serve [--listen ADDRESS:PORT]\n"
	               "Runs the HTTP service (stock checks, changed stock, supplier webhooks,\n"
	               "health and metrics) in the foreground until SIGTERM or SIGINT.\n\n"
	               "  -l, --listen ADDRESS:PORT  listen here instead of service.listen\n"
	               "                     (default 127.0.0.1:8787; [::1]:8787 for IPv6;\n"
	               "                     port 0 picks a free port)\n"
	               "  -h, --help         print this help\n\n"
	               "Once listening it prints \"dropstock: listening on ADDRESS:PORT\" on stderr.\n"));
}

int cmd_serve(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *listen = NULL;
	struct error err = { 0 };
	struct service *svc;
	struct conf *conf;
	sigset_t set, old;
	int c, sig = 0;

	while ((c = getopt_long(argc, argv, "l:h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			listen = optarg;
			break;
		case 'h':
			serve_usage(stdout);
			return EXIT_OK;
		default:
			serve_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_error(_("serve: unexpected argument '%s'"), argv[optind]);
		return EXIT_USAGE;
	}
	if (!(conf = cli_conf(cli)))
		return EXIT_CONFIG;
	/* opens and migrates the database and records the suppliers once, so
	 * the worker threads only open it */
	if (!cli_db(cli))
		return EXIT_FAILURE_;

	/* The signals are taken with sigwait() below: block them before any
	 * thread starts so every thread inherits the mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	signal(SIGPIPE, SIG_IGN);

	svc = service_start(conf, listen, &err);
	if (!svc) {
		cli_error("%s", err.msg);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return cli_exit_for(err.kind);
	}
	/* not translated: scripts read the port from this line */
	fprintf(stderr, "dropstock: listening on %s\n", service_address(svc));
	fflush(stderr);

	while (sigwait(&set, &sig) != 0)
		;
	log_info(_("received signal %d, stopping"), sig);
	service_stop(svc);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!cli->quiet)
		fprintf(stderr, _("dropstock: stopped\n"));
	return EXIT_OK;
}
