/* cmd_revert.c - `dropstock revert RUN_ID [--dry-run] [--json]`: set every
 * link a run changed back to its value before the run, unless something
 * newer changed it since.
 *
 * --json prints one document:
 *   {"dry_run": false, "reverted_run": 12, "run_id": 15|null (the revert's
 *    own run; null in a dry run), "supplier": "acme",
 *    "restored": 3, "newer": 1, "no_previous": 1, "gone": 0, "unchanged": 0,
 *    "events": 3,
 *    "restored_items": [{"supplier_sku", "product_sku"|null, "from", "to",
 *                        "product_previous", "product_stock"}],
 *    "newer_items": [{"supplier_sku", "product_sku"|null, "previous"
 *                     (before the run), "run_stock" (what the run left),
 *                     "stock" (now), "source"|null, "run_id"|null, "at"|null}],
 *    "no_previous_items": [{"supplier_sku", "product_sku"|null, "run_stock"}],
 *    "gone_items": [{"supplier_sku", "run_stock"}],
 *    "items_truncated": false}
 * Each list holds at most 1000 entries (the counts are complete);
 * "items_truncated" tells whether one was cut short.
 *
 * Exit status: 0 done; 2 usage (also: no such run, a queued run); 6 the
 * run is still running or its supplier is being synced; 1 database error.
 */
#include "config.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "engine/engine.h"

#define ITEMS_SHOWN 50
#define ITEMS_JSON 1000

static void revert_usage(FILE *out)
{
	fprintf(out, _("Usage: dropstock revert RUN_ID [--dry-run] [--json]\n"
	               "Sets every link the run RUN_ID changed back to its value before the run,\n"
	               "unless a newer observation (a later sync, webhook, check or manual\n"
	               "change) has changed it since: those are listed and left alone, as are\n"
	               "links the run gave their first value.  The revert is a run of its own\n"
	               "(see 'dropstock runs'), logged with source 'manual', and queues the\n"
	               "store events it implies.  The supplier's next sync applies its feed\n"
	               "again.\n\n"
	               "  -n, --dry-run   report what would be restored, write nothing\n"
	               "  -j, --json      print the result as JSON\n"
	               "  -h, --help      print this help\n\n"
	               "Exit status: 0 done, 2 no such run (or it changed nothing yet), 6 the run\n"
	               "is still running or its supplier is being synced, 1 database error.\n"));
}

static json_t *jsku(const char *s)
{
	json_t *j;

	if (!s)
		return json_null();
	j = json_string(s);
	return j ? j : json_string("?");
}

static json_t *report_json(const struct revert_report *r)
{
	json_t *restored = json_array(), *newer = json_array(), *no_prev = json_array();
	json_t *gone = json_array();
	bool truncated = false;
	size_t i;

	for (i = 0; i < r->n_restored && i < ITEMS_JSON; i++) {
		const struct revert_item *it = &r->restored[i];

		json_array_append_new(restored, json_pack(
			"{s:o, s:o, s:I, s:I, s:I, s:I}", "supplier_sku", jsku(it->supplier_sku),
			"product_sku", jsku(it->product_sku), "from", (json_int_t)it->current,
			"to", (json_int_t)it->prev, "product_previous", (json_int_t)it->product_prev,
			"product_stock", (json_int_t)it->product_new));
	}
	for (i = 0; i < r->n_newer && i < ITEMS_JSON; i++) {
		const struct revert_item *it = &r->newer[i];

		json_array_append_new(newer, json_pack(
			"{s:o, s:o, s:o, s:I, s:I, s:o, s:o, s:o}", "supplier_sku",
			jsku(it->supplier_sku), "product_sku", jsku(it->product_sku), "previous",
			it->has_prev ? json_integer(it->prev) : json_null(), "run_stock",
			(json_int_t)it->run_stock, "stock", (json_int_t)it->current, "source",
			it->newer_source[0] ? json_string(it->newer_source) : json_null(), "run_id",
			it->newer_run_id ? json_integer(it->newer_run_id) : json_null(), "at",
			cli_json_time(it->newer_at)));
	}
	for (i = 0; i < r->n_no_prev && i < ITEMS_JSON; i++) {
		const struct revert_item *it = &r->no_prev[i];

		json_array_append_new(no_prev, json_pack(
			"{s:o, s:o, s:I}", "supplier_sku", jsku(it->supplier_sku), "product_sku",
			jsku(it->product_sku), "run_stock", (json_int_t)it->run_stock));
	}
	for (i = 0; i < r->n_gone && i < ITEMS_JSON; i++)
		json_array_append_new(gone, json_pack("{s:o, s:I}", "supplier_sku",
		                                      jsku(r->gone[i].supplier_sku), "run_stock",
		                                      (json_int_t)r->gone[i].run_stock));
	truncated = r->n_restored > ITEMS_JSON || r->n_newer > ITEMS_JSON ||
	            r->n_no_prev > ITEMS_JSON || r->n_gone > ITEMS_JSON;
	return json_pack("{s:b, s:I, s:o, s:s, s:I, s:I, s:I, s:I, s:I, s:I,"
	                 " s:o, s:o, s:o, s:o, s:b}",
	                 "dry_run", r->dry_run, "reverted_run", (json_int_t)r->reverted_run,
	                 "run_id", r->run_id ? json_integer(r->run_id) : json_null(),
	                 "supplier", r->supplier,
	                 "restored", (json_int_t)r->n_restored, "newer", (json_int_t)r->n_newer,
	                 "no_previous", (json_int_t)r->n_no_prev, "gone", (json_int_t)r->n_gone,
	                 "unchanged", (json_int_t)r->n_unchanged, "events", (json_int_t)r->events,
	                 "restored_items", restored, "newer_items", newer,
	                 "no_previous_items", no_prev, "gone_items", gone,
	                 "items_truncated", truncated);
}

static const char *psku(const struct revert_item *it)
{
	return it->product_sku ? it->product_sku : "-";
}

static void more(size_t n)
{
	if (n > ITEMS_SHOWN)
		printf(P_("  ... and %s more\n", "  ... and %s more\n", n - ITEMS_SHOWN),
		       fmt_int((int64_t)(n - ITEMS_SHOWN)));
}

static void report_print(const struct revert_report *r)
{
	size_t i;
	char when[64];

	if (r->dry_run)
		/* TRANSLATORS: the last %s is the number of stock events (for the
		   store) the revert would queue */
		printf(P_("Dry run: reverting run %lld of %s would restore %s link; events it "
		          "would queue: %s (nothing was written).\n",
		          "Dry run: reverting run %lld of %s would restore %s links; events it "
		          "would queue: %s (nothing was written).\n", r->n_restored),
		       (long long)r->reverted_run, r->supplier, fmt_int((int64_t)r->n_restored),
		       fmt_int(r->events));
	else
		/* TRANSLATORS: the last %s is the number of stock events (for the
		   store) the revert queued */
		printf(P_("Run %lld of %s reverted by run %lld: %s link restored; events "
		          "queued: %s.\n",
		          "Run %lld of %s reverted by run %lld: %s links restored; events "
		          "queued: %s.\n", r->n_restored),
		       (long long)r->reverted_run, r->supplier, (long long)r->run_id,
		       fmt_int((int64_t)r->n_restored), fmt_int(r->events));
	if (r->n_restored) {
		printf(r->dry_run ? _("Would restore:\n") : _("Restored:\n"));
		for (i = 0; i < r->n_restored && i < ITEMS_SHOWN; i++) {
			const struct revert_item *it = &r->restored[i];

			cli_print_change(psku(it), it->supplier_sku, fmt_int(it->current), it->prev,
			                 it->product_prev, it->product_new);
		}
		more(r->n_restored);
	}
	if (r->n_newer) {
		printf(_("Left alone, changed again since the run (%s):\n"),
		       fmt_int((int64_t)r->n_newer));
		for (i = 0; i < r->n_newer && i < ITEMS_SHOWN; i++) {
			const struct revert_item *it = &r->newer[i];

			if (!it->newer_source[0])
				/* TRANSLATORS: "run left 5, now 8": the stock the run set
				   and the stock now; in the variants with more, the source
				   of the newer figure (the label of "webhook", "manual", ...), the
				   run that set it and when */
				printf(_("  %-20s %-14s run left %s, now %s (changed while "
				         "reverting)\n"),
				       psku(it), it->supplier_sku, fmt_int(it->run_stock),
				       fmt_int(it->current));
			else if (it->newer_run_id)
				printf(_("  %-20s %-14s run left %s, now %s (%s, run %lld, %s)\n"),
				       psku(it), it->supplier_sku, fmt_int(it->run_stock),
				       fmt_int(it->current), state_label(it->newer_source), (long long)it->newer_run_id,
				       time_format_local(it->newer_at, TIME_SECONDS, when, sizeof(when)));
			else
				printf(_("  %-20s %-14s run left %s, now %s (%s, %s)\n"), psku(it),
				       it->supplier_sku, fmt_int(it->run_stock), fmt_int(it->current),
				       state_label(it->newer_source),
				       time_format_local(it->newer_at, TIME_SECONDS, when, sizeof(when)));
		}
		more(r->n_newer);
	}
	if (r->n_no_prev) {
		printf(_("Left alone, no value before the run (%s):\n"),
		       fmt_int((int64_t)r->n_no_prev));
		for (i = 0; i < r->n_no_prev && i < ITEMS_SHOWN; i++)
			printf(_("  %-20s %-14s first value %s\n"), psku(&r->no_prev[i]),
			       r->no_prev[i].supplier_sku, fmt_int(r->no_prev[i].run_stock));
		more(r->n_no_prev);
	}
	if (r->n_gone) {
		printf(_("Left alone, link removed since the run (%s):\n"),
		       fmt_int((int64_t)r->n_gone));
		for (i = 0; i < r->n_gone && i < ITEMS_SHOWN; i++)
			printf("  %s\n", r->gone[i].supplier_sku);
		more(r->n_gone);
	}
	if (r->n_unchanged)
		printf(P_("%s link was already at its value before the run.\n",
		          "%s links were already at their value before the run.\n", r->n_unchanged),
		       fmt_int((int64_t)r->n_unchanged));
}

int cmd_revert(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct revert_report r;
	struct error err = { 0 };
	bool dry_run = false, json = false;
	struct conf *conf;
	struct db *db;
	int64_t run_id;
	int c;

	while ((c = getopt_long(argc, argv, "njh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			dry_run = true;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			revert_usage(stdout);
			return EXIT_OK;
		default:
			revert_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		cli_error(optind < argc ? _("revert takes one run id") : _("which run? give its id"));
		revert_usage(stderr);
		return EXIT_USAGE;
	}
	if (!str_to_i64(argv[optind], &run_id) || run_id < 1) {
		cli_error(_("run id \"%s\" is not a whole number of at least 1 (see 'dropstock runs')"),
		          argv[optind]);
		return EXIT_USAGE;
	}
	if (!(conf = cli_conf(cli)))
		return EXIT_CONFIG;
	if (!(db = cli_db(cli)))
		return EXIT_FAILURE_;

	if (engine_revert(db, conf, run_id, dry_run, &r, &err) != 0) {
		cli_error("%s", err.msg);
		revert_report_free(&r);
		return cli_exit_for(err.kind);
	}
	if (json) {
		json_t *doc = report_json(&r);

		json_dumpf(doc, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(doc);
	} else if (!cli->quiet) {
		report_print(&r);
	}
	revert_report_free(&r);
	return cli_finish_output();
}
