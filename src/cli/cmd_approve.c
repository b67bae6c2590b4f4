/* cmd_approve.c - `dropstock approve RUN_ID`: apply a run that the
 * mass-change guard stopped (status needs_approval), and print what
 * changed.  The work is sync_approve's (engine/sync.c). */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "engine/sync.h"
#include "store/store.h"

#define CHANGES_SHOWN 50      /* changes listed; the rest are counted */

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

struct approve_ui {
	struct cli *cli;
	int64_t shown, total;
};

static void ui_change(void *ud, const struct stock_change *ch)
{
	struct approve_ui *ui = ud;

	ui->total++;
	if (ui->cli->quiet || ui->shown >= CHANGES_SHOWN)
		return;
	ui->shown++;
	cli_print_change(ch->product_sku, ch->supplier_sku, ch->has_prev ? fmt_int(ch->prev) : NULL,
	                 ch->new_stock, ch->product_prev, ch->product_new);
}

static void approve_usage(FILE *out)
{
	fprintf(out, _("Usage: dropstock approve RUN_ID [--dry-run] [--wait]\n"
	               "Applies a sync run that the mass-change guard stopped before applying\n"
	               "anything (status needs_approval), and prints what changed.  Figures\n"
	               "that are newer than the run's win: its older ones count as stale.\n\n"
	               "  -n, --dry-run      list what it would change, write nothing\n"
	               "  -w, --wait         wait for a running sync of the supplier to end\n"
	               "                     instead of refusing\n"
	               "  -h, --help         print this help\n\n"
	               "Exit status: 0 applied, 1 database error, 2 no such run or not waiting\n"
	               "for approval, 3 its supplier is not configured, 4 interrupted, 6 the\n"
	               "supplier is being synced.\n"));
}

static bool parse_run_id(const char *s, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v <= 0)
		return false;
	*out = v;
	return true;
}

int cmd_approve(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "wait", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sync_opts so = { .kind = SYNC_FULL, .trigger = "cli" };
	struct approve_ui ui = { .cli = cli };
	struct sync_report rep;
	struct error err = { 0 };
	struct run_row row;
	struct sigaction sa;
	struct conf *conf;
	struct db *db;
	int64_t run_id = 0;
	int c, r;

	while ((c = getopt_long(argc, argv, "nwh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			so.dry_run = true;
			break;
		case 'w':
			so.wait_lock = true;
			break;
		case 'h':
			approve_usage(stdout);
			return EXIT_OK;
		default:
			approve_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		approve_usage(stderr);
		return EXIT_USAGE;
	}
	if (!parse_run_id(argv[optind], &run_id)) {
		cli_error(_("'%s' is not a run id (a number from 'dropstock runs')"), argv[optind]);
		return EXIT_USAGE;
	}
	if (!(conf = cli_conf(cli)))
		return EXIT_CONFIG;
	if (!(db = cli_db(cli)))
		return EXIT_FAILURE_;

	/* the heading; sync_approve checks everything again under the lock */
	r = runs_get(db, run_id, &row, &err);
	if (r < 0) {
		cli_error("%s", err.msg);
		return EXIT_FAILURE_;
	}
	if (r == 1 && !cli->quiet && strcmp(row.status, "needs_approval") == 0)
		/* TRANSLATORS: the last %s is " (dry run: what approving it would
		   change)" or nothing */
		printf(str_eq(row.kind, "delta") ? _("%s: delta run %lld%s\n")
		                                 : _("%s: full run %lld%s\n"),
		       row.slug, (long long)run_id,
		       so.dry_run ? _(" (dry run: what approving it would change)") : "");
	fflush(stdout);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	so.stop = &stop_requested;
	so.on_change = ui_change;
	so.ud = &ui;
	if (sync_approve(db, conf, run_id, &so, &rep) != 0) {
		cli_error("%s", rep.err.msg);
		if (strcmp(rep.status, "busy") == 0)
			return EXIT_BUSY;
		return cli_exit_for(rep.err.kind);
	}
	if (cli->quiet)
		return EXIT_OK;
	if (ui.total > ui.shown)
		printf(P_("  ... and %s more change (see 'dropstock history')\n",
		          "  ... and %s more changes (see 'dropstock history')\n",
		          ui.total - ui.shown),
		       fmt_int(ui.total - ui.shown));
	if (so.dry_run)
		/* TRANSLATORS: "zeroed" counts the linked SKUs missing from the feed
		   that would be set to 0; "stale" the figures older than the ones
		   known now, which would be left alone */
		printf(P_("%s: run %lld would apply %s change (zeroed: %s, stale: %s); "
		          "nothing was written, the run still waits for approval\n",
		          "%s: run %lld would apply %s changes (zeroed: %s, stale: %s); "
		          "nothing was written, the run still waits for approval\n",
		          rep.stats.changed > 0 ? rep.stats.changed : 0),
		       row.slug, (long long)run_id, fmt_int(rep.stats.changed),
		       fmt_int(rep.stats.zeroed), fmt_int(rep.stats.stale));
	else
		/* TRANSLATORS: each label is followed by its count; "stale" counts
		   the figures older than the ones known now, which were left alone */
		printf(_("%s: run %lld approved in %s s; changed: %s, zeroed: %s, stale (newer "
		         "figures kept): %s; the run succeeded\n"),
		       row.slug, (long long)run_id, fmt_dec((double)rep.duration_ms / 1000.0, 1),
		       fmt_int(rep.stats.changed), fmt_int(rep.stats.zeroed),
		       fmt_int(rep.stats.stale));
	return EXIT_OK;
}
