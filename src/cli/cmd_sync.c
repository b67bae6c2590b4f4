/* cmd_sync.c - `dropstock sync`: run syncs now, print what changed.
 *
 * --json prints one document:
 *   {"dry_run":false,
 *    "results":[{"supplier":"demo","status":"succeeded"|"failed"|"interrupted"|"busy"
 *                           |"needs_approval",
 *                "kind":"full"|"delta","delta_fell_back":false,"run_id":12|null,"seen":27,"changed":20,"unknown":3,"invalid":1,
 *                "stale":0,"zeroed":0,"pages":1,"bytes":4242,"duration_ms":35,
 *                "error":null|"text","guard_reason":null|"text"}],
 *    "changes":[{"supplier":"demo","supplier_sku":"AC-10045","product_sku":"CASE-IP15-BLK",
 *                "previous":null|5,"stock":11,"product_previous":0,"product_stock":11}],
 *    "changes_truncated":false}
 * "changes" holds at most 1000 entries; "changes_truncated" tells if more changed.
 * "guard_reason" is why the mass-change guard stopped the run (status
 * "needs_approval"), or in a dry run why it would have; null otherwise.
 */
#include "config.h"

#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "engine/sync.h"

#define CHANGES_SHOWN 50      /* human output lists this many changes per supplier */
#define CHANGES_JSON 1000

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

struct sync_ui {
	struct cli *cli;
	bool json;
	const char *slug;
	int64_t shown;
	int64_t total_changes;
	json_t *changes;
	bool changes_truncated;
	struct progress *progress;
};

static void ui_change(void *ud, const struct stock_change *ch)
{
	struct sync_ui *ui = ud;

	ui->total_changes++;
	if (ui->json) {
		if (json_array_size(ui->changes) >= CHANGES_JSON)
			ui->changes_truncated = true;
		else
			json_array_append_new(ui->changes, json_pack(
				"{s:s, s:s, s:s, s:o, s:I, s:I, s:I}",
				"supplier", ui->slug, "supplier_sku", ch->supplier_sku,
				"product_sku", ch->product_sku ? ch->product_sku : "",
				"previous", ch->has_prev ? json_integer(ch->prev) : json_null(),
				"stock", (json_int_t)ch->new_stock,
				"product_previous", (json_int_t)ch->product_prev,
				"product_stock", (json_int_t)ch->product_new));
		return;
	}
	if (ui->cli->quiet || ui->shown >= CHANGES_SHOWN)
		return;
	ui->shown++;
	if (ui->progress)
		progress_done(ui->progress);   /* clear the bar line before printing */
	cli_print_change(ch->product_sku, ch->supplier_sku, ch->has_prev ? fmt_int(ch->prev) : NULL,
	                 ch->new_stock, ch->product_prev, ch->product_new);
}

static void ui_progress(void *ud, const struct sync_progress *p)
{
	struct sync_ui *ui = ud;

	if (ui->progress)
		progress_update(ui->progress, p->slug, p->stats->done, p->stats->total,
		                p->stats->changed, p->elapsed_ms);
}

static void sync_usage(FILE *out)
{
	fprintf(out, _("Usage: dropstock sync [--full|--delta] [--supplier SLUG|--all] [--dry-run]\n"
	               "                      [--wait] [--json]\n"
	               "Fetches supplier feeds now and applies every change.\n\n"
	               "  --full             full sync of the whole feed (default)\n"
	               "  --delta            delta sync (changes since the last sync)\n"
	               "  -s, --supplier SLUG  only this supplier (repeatable)\n"
	               "  -a, --all          every active supplier (default)\n"
	               "  -n, --dry-run      report what would change, write nothing\n"
	               "  -w, --wait         wait for a running sync of the supplier to end\n"
	               "                     instead of refusing\n"
	               "  -j, --json         print the result as JSON\n"
	               "  -h, --help         print this help\n\n"
	               "Exit status: 0 all succeeded, 3 configuration error, 4 every supplier\n"
	               "failed, 5 some failed, 6 a sync of the supplier is already running,\n"
	               "8 the mass-change guard stopped a run for approval (dropstock approve).\n"));
}

static void print_result(const struct supplier_conf *s, const struct sync_report *rep,
                         bool dry_run)
{
	const struct run_stats *st = &rep->stats;

	if (strcmp(rep->status, "needs_approval") == 0) {
		cli_error("%s", rep->err.msg);
		fprintf(stderr, P_("dropstock: %s: run %lld read %s item and holds its changes; "
		                   "'dropstock approve %lld --dry-run' lists them\n",
		                   "dropstock: %s: run %lld read %s items and holds its changes; "
		                   "'dropstock approve %lld --dry-run' lists them\n",
		                   st->seen > 0 ? st->seen : 0),
		        s->slug, (long long)rep->run_id, fmt_int(st->seen), (long long)rep->run_id);
		return;
	}
	if (strcmp(rep->status, "succeeded") == 0) {
		const char *secs = fmt_dec((double)rep->duration_ms / 1000.0, 1);

		if (dry_run)
			printf(_("%s: dry run done in %s s"), s->slug, secs);
		else
			printf(_("%s: synced in %s s"), s->slug, secs);
		/* TRANSLATORS: follows "SLUG: synced in 1.2 s" on the same line; each
		   label is followed by its count: items read, stock figures changed,
		   SKUs linked to nothing, items with no usable stock, figures older
		   than the known ones, linked SKUs missing from the feed set to 0 */
		printf(_("; items: %s, changed: %s, unknown: %s, invalid: %s, stale: %s, "
		         "zeroed: %s, pages: %s"),
		       fmt_int(st->seen), fmt_int(st->changed), fmt_int(st->unknown),
		       fmt_int(st->invalid), fmt_int(st->stale), fmt_int(st->zeroed),
		       fmt_int(st->pages));
		/* TRANSLATORS: ends the line of a dry run's summary */
		printf("%s\n", dry_run ? _(" (nothing was written)") : "");
		if (dry_run && rep->guard_reason[0])
			printf(_("%s: the mass-change guard would stop this run for approval: %s\n"),
			       s->slug, rep->guard_reason);
	} else {
		cli_error("%s", rep->err.msg);
		if (rep->run_id)
			/* TRANSLATORS: the second %s is the run's status as stored
			   ("failed", "interrupted"); the last %s is how many stock
			   figures the run changed before it stopped */
			fprintf(stderr, P_("dropstock: %s: run %lld (%s) stopped after %s item; "
			                   "changed and kept: %s\n",
			                   "dropstock: %s: run %lld (%s) stopped after %s items; "
			                   "changed and kept: %s\n",
			                   st->seen > 0 ? st->seen : 0),
			        s->slug, (long long)rep->run_id, rep->status, fmt_int(st->seen),
			        fmt_int(st->changed));
	}
}

static json_t *result_json(const struct supplier_conf *s, const struct sync_report *rep)
{
	const struct run_stats *st = &rep->stats;

	return json_pack("{s:s, s:s, s:s, s:b, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o,"
	                 " s:o}",
	                 "supplier", s->slug, "status", rep->status, "kind",
	                 rep->kind ? rep->kind : "full", "delta_fell_back", rep->delta_fell_back,
	                 "run_id",
	                 rep->run_id ? json_integer(rep->run_id) : json_null(),
	                 "seen", (json_int_t)st->seen, "changed", (json_int_t)st->changed,
	                 "unknown", (json_int_t)st->unknown, "invalid", (json_int_t)st->invalid,
	                 "stale", (json_int_t)st->stale, "zeroed", (json_int_t)st->zeroed,
	                 "pages", (json_int_t)st->pages, "bytes", (json_int_t)st->bytes,
	                 "duration_ms", (json_int_t)rep->duration_ms, "error",
	                 rep->err.kind == ERRK_NONE ? json_null() : json_string(rep->err.msg),
	                 "guard_reason",
	                 rep->guard_reason[0] ? json_string(rep->guard_reason) : json_null());
}

int cmd_sync(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "full", no_argument, NULL, 'F' },
		{ "delta", no_argument, NULL, 'D' },
		{ "supplier", required_argument, NULL, 's' },
		{ "all", no_argument, NULL, 'a' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "wait", no_argument, NULL, 'w' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sync_opts so = { .kind = SYNC_FULL, .trigger = "cli" };
	struct sync_ui ui = { .cli = cli };
	const char **slugs = xcalloc((size_t)argc, sizeof(*slugs));
	int n_slugs = 0, n_ok = 0, n_failed = 0, n_busy = 0, n_config = 0, n_approval = 0, c, rc;
	bool all = false;
	struct conf *conf;
	struct db *db;
	json_t *results = NULL;
	struct sigaction sa;

	while ((c = getopt_long(argc, argv, "s:anwjh", opts, NULL)) != -1) {
		switch (c) {
		case 'F':
			so.kind = SYNC_FULL;
			break;
		case 'D':
			so.kind = SYNC_DELTA;
			break;
		case 's':
			slugs[n_slugs++] = optarg;
			break;
		case 'a':
			all = true;
			break;
		case 'n':
			so.dry_run = true;
			break;
		case 'w':
			so.wait_lock = true;
			break;
		case 'j':
			ui.json = true;
			break;
		case 'h':
			sync_usage(stdout);
			free(slugs);
			return EXIT_OK;
		default:
			sync_usage(stderr);
			free(slugs);
			return EXIT_USAGE;
		}
	}
	if (optind < argc || (all && n_slugs)) {
		sync_usage(stderr);
		free(slugs);
		return EXIT_USAGE;
	}
	if (!(conf = cli_conf(cli))) {
		free(slugs);
		return EXIT_CONFIG;
	}
	for (int i = 0; i < n_slugs; i++) {
		if (!conf_find_supplier(conf, slugs[i])) {
			cli_error(_("no supplier '%s' in the configuration; see 'dropstock suppliers'"),
			          slugs[i]);
			free(slugs);
			return EXIT_USAGE;
		}
	}
	if (!(db = cli_db(cli))) {
		free(slugs);
		return EXIT_FAILURE_;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	so.stop = &stop_requested;
	so.on_change = ui_change;
	so.on_progress = ui_progress;
	so.ud = &ui;
	if (ui.json) {
		ui.changes = json_array();
		results = json_array();
	} else if (!cli->quiet) {
		ui.progress = progress_new(stderr, false);
	}

	for (int i = 0; i < conf->n_suppliers; i++) {
		const struct supplier_conf *s = &conf->suppliers[i];
		struct sync_report rep;
		bool wanted = n_slugs == 0 ? s->active : false;

		for (int k = 0; k < n_slugs; k++)
			if (strcmp(slugs[k], s->slug) == 0)
				wanted = true;
		if (!wanted)
			continue;
		if (so.kind == SYNC_DELTA && !s->has_delta && n_slugs == 0) {
			if (!ui.json && !cli->quiet)
				printf(_("%s: no delta source, skipped (its full sync runs on schedule)\n"),
				       s->slug);
			continue;
		}
		if (stop_requested)
			break;
		ui.slug = s->slug;
		ui.shown = 0;
		ui.total_changes = 0;
		if (!ui.json && !cli->quiet)
			/* TRANSLATORS: the last %s is " (dry run)" or nothing */
			printf(so.kind == SYNC_DELTA ? _("%s: delta sync of %s%s\n")
			                             : _("%s: full sync of %s%s\n"),
			       s->slug, s->name ? s->name : s->slug,
			       so.dry_run ? _(" (dry run)") : "");
		fflush(stdout);
		rc = sync_supplier(db, conf, s, &so, &rep);
		if (rep.delta_fell_back && !ui.json && !cli->quiet)
			printf(_("%s: no delta watermark yet, so a full sync ran instead\n"), s->slug);
		if (ui.progress)
			progress_done(ui.progress);
		if (!ui.json && !cli->quiet && ui.total_changes > ui.shown)
			printf(P_("  ... and %s more change (see 'dropstock history')\n",
			          "  ... and %s more changes (see 'dropstock history')\n",
			          ui.total_changes - ui.shown),
			       fmt_int(ui.total_changes - ui.shown));
		if (ui.json)
			json_array_append_new(results, result_json(s, &rep));
		else if (!cli->quiet || rc != 0)
			print_result(s, &rep, so.dry_run);
		if (rc == 0)
			n_ok++;
		else if (strcmp(rep.status, "needs_approval") == 0)
			n_approval++;
		else if (rep.err.kind == ERRK_BUSY)
			n_busy++;
		else if (rep.err.kind == ERRK_CONFIG)
			n_config++;
		else
			n_failed++;
	}
	if (n_ok + n_failed + n_busy + n_config + n_approval == 0 && !ui.json && !cli->quiet)
		printf(_("no active suppliers to sync\n"));

	if (ui.json) {
		json_t *doc = json_pack("{s:b, s:o, s:o, s:b}", "dry_run", so.dry_run, "results",
		                        results, "changes", ui.changes, "changes_truncated",
		                        ui.changes_truncated);
		json_dumpf(doc, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(doc);
	}
	progress_free(ui.progress);
	free(slugs);
	if (n_failed + n_busy + n_config == 0)
		return n_approval ? EXIT_APPROVAL : EXIT_OK;
	if (n_ok + n_approval > 0)
		return EXIT_PARTIAL;
	if (n_busy && !n_failed && !n_config)
		return EXIT_BUSY;
	if (n_config && !n_failed)
		return EXIT_CONFIG;
	return EXIT_SUPPLIER;
}
