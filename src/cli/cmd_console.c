/* cmd_console.c - `dropstock console [--read-only]`: the operator console
 * (src/tui/) on the configured database.  Also what `dropstock` with no
 * command runs on a terminal. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "tui/tui.h"

static void console_usage(FILE *out)
{
	fprintf(out, _("Usage: dropstock console [--read-only | --keys[=man]]\n"
	               "Opens the operator console: suppliers, running syncs with their\n"
	               "progress, the stock history, live checks and unknown SKUs.\n"
	               "Press ? inside for the keys of each screen, q to quit.\n\n"
	               "  -r, --read-only    no key that changes anything (syncs, edits, links)\n"
	               "      --keys[=man]   print every key of every screen and exit (man: as\n"
	               "                     roff for the manual page, in English)\n"
	               "  -h, --help         print this help\n"));
}

int cmd_console(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "read-only", no_argument, NULL, 'r' },
		{ "keys", optional_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct tui_opts o = { 0 };
	struct conf *conf;
	struct db *db;
	int c;

	while ((c = getopt_long(argc, argv, "rh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			o.read_only = true;
			break;
		case 'k':
			if (optarg && strcmp(optarg, "man") != 0) {
				cli_error(_("console: --keys takes no value or \"man\", not \"%s\""), optarg);
				return EXIT_USAGE;
			}
			tui_print_keys(stdout, optarg != NULL);
			return EXIT_OK;
		case 'h':
			console_usage(stdout);
			return EXIT_OK;
		default:
			console_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		console_usage(stderr);
		return EXIT_USAGE;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		cli_error(_("the console needs a terminal on standard input and output; "
		            "see 'dropstock --help' for the commands"));
		return EXIT_USAGE;
	}
	if (!(conf = cli_conf(cli)))
		return EXIT_CONFIG;
	if (!(db = cli_db(cli)))
		return EXIT_FAILURE_;
	o.config_path = cli->config_path;
	return tui_run(conf, db, &o) == 0 ? EXIT_OK : EXIT_FAILURE_;
}
