/* cmd_check.c - `dropstock check SKU`: ask the product's suppliers live,
 * update the cache, and say whether N units can be sold.
 *
 * --json prints one document:
 *   {"sku":"CASE-IP15-BLK",          the store product's SKU
 *    "requested":2,                  --qty
 *    "stock":9,                      the product's stock after the check
 *    "cached_stock":7,               the product's stock before it
 *    "ok":true,                      stock >= requested
 *    "checked_at":"2026-11-27T08:15:00Z",
 *    "suppliers":[{"supplier":"acme","supplier_sku":"AC-10045",
 *                  "cached":5|null,  the link's store-facing stock before the check
 *                  "cached_at":"2026-11-27T08:10:00Z"|null,
 *                  "live":7|null,    store-facing stock from the live answer
 *                  "asked":true,     a live ask was made
 *                  "error":null|"text"}]}
 * "error" says why there is no live figure (the ask failed, or the supplier
 * has no check source), else null.
 *
 * Exit status: 0 when the product has `requested` units, 7 (EXIT_UNAVAILABLE)
 * when it has fewer, 4 (EXIT_SUPPLIER) when a supplier with a check source
 * could not be asked (the figures printed then rest on the cache), 2 usage
 * (also: no such product), 3 configuration, 1 database.
 */
#include "config.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "engine/check.h"

#define CHECK_MAX_TIMEOUT_S 600.0

static void check_usage(FILE *out)
{
	fprintf(out, _("Usage: dropstock check SKU [--qty N] [--supplier SLUG] [--timeout SECONDS]\n"
	               "                       [--json]\n"
	               "Asks the product's suppliers for their stock now, updates the cache,\n"
	               "and tells whether N units can be sold.\n\n"
	               "  -n, --qty N            units wanted (default 1)\n"
	               "  -s, --supplier SLUG    SKU is this supplier's SKU; ask only this supplier\n"
	               "  -t, --timeout SECONDS  time allowed per supplier (default: each\n"
	               "                         supplier's check timeout, 2 s)\n"
	               "  -j, --json             print the result as JSON\n"
	               "  -h, --help             print this help\n\n"
	               "Exit status: 0 N units can be sold, 7 fewer are in stock, 4 a supplier\n"
	               "could not be asked (the answer rests on the cache), 2 usage or unknown\n"
	               "SKU, 3 configuration error.\n"));
}

static int print_json(const struct check_result *r, int64_t qty)
{
	json_t *sups = json_array(), *doc;
	int rc;

	for (int i = 0; i < r->n_links; i++) {
		const struct check_link *l = &r->links[i];

		json_array_append_new(sups, json_pack(
			"{s:o, s:o, s:o, s:o, s:o, s:b, s:o}",
			"supplier", cli_json_str(l->slug), "supplier_sku", cli_json_str(l->supplier_sku),
			"cached", l->has_cached ? json_integer(l->cached) : json_null(),
			"cached_at", cli_json_time(l->cached_at),
			"live", l->live_ok ? json_integer(l->live) : json_null(),
			"asked", l->asked,
			"error", l->error[0] ? cli_json_str(l->error) : json_null()));
	}
	doc = json_pack("{s:o, s:I, s:I, s:I, s:b, s:o, s:o}", "sku", cli_json_str(r->product_sku),
	                "requested", (json_int_t)qty, "stock", (json_int_t)r->stock,
	                "cached_stock", (json_int_t)r->cached_stock, "ok", r->stock >= qty,
	                "checked_at", cli_json_time(r->checked_at), "suppliers", sups);
	rc = json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(doc);
	return rc;
}

static void print_human(const struct check_result *r, int64_t qty)
{
	int64_t now = time_now_ms();
	char age[32], cached[96];

	if (r->n_links == 0)
		printf(_("%s: no supplier is linked to this product\n"), r->product_sku);
	for (int i = 0; i < r->n_links; i++) {
		const struct check_link *l = &r->links[i];

		if (!l->has_cached)
			/* TRANSLATORS: no cached stock figure: "acme AC-1: cached none; " */
			snprintf(cached, sizeof(cached), _("none"));
		else if (l->cached_at > 0)
			/* TRANSLATORS: a cached stock figure and its age: "5 (3m ago)" */
			snprintf(cached, sizeof(cached), _("%s (%s ago)"), fmt_int(l->cached),
			         time_format_age(now > l->cached_at ? now - l->cached_at : 0, age));
		else
			snprintf(cached, sizeof(cached), "%s", fmt_int(l->cached));
		/* TRANSLATORS: the start of a line "  acme AC-1: cached 5 (3m ago); live 8";
		   one of the next messages ("live %s", "fresh, not asked", "no live
		   answer: %s") ends it */
		printf(_("  %s %s: cached %s; "), l->slug, l->supplier_sku, cached);
		if (l->live_ok && l->live_stale)
			printf(_("live %s, older than the cached figure (not applied)\n"),
			       fmt_int(l->live));
		else if (l->live_ok)
			/* TRANSLATORS: the supplier's live stock figure, ends "cached %s; " */
			printf(_("live %s\n"), fmt_int(l->live));
		else if (l->fresh)
			/* TRANSLATORS: the cached figure is fresh, so the supplier was not
			   asked; ends "cached %s; " */
			printf(_("fresh, not asked\n"));
		else
			printf(_("no live answer: %s\n"), l->error);
	}
	if (r->stock >= qty)
		/* TRANSLATORS: "P1: stock 10 (cached 7): 1 can be sold"; the last %s
		   is the quantity asked for */
		printf(P_("%s: stock %s (cached %s): %s can be sold\n",
		          "%s: stock %s (cached %s): %s can be sold\n", qty),
		       r->product_sku, fmt_int(r->stock), fmt_int(r->cached_stock), fmt_int(qty));
	else
		/* TRANSLATORS: the last %s is the quantity asked for */
		printf(P_("%s: stock %s (cached %s): %s cannot be sold\n",
		          "%s: stock %s (cached %s): %s cannot be sold\n", qty),
		       r->product_sku, fmt_int(r->stock), fmt_int(r->cached_stock), fmt_int(qty));
	if (r->any_failed)
		printf(_("(a supplier could not be asked: this answer rests on its cached figure)\n"));
}

int cmd_check(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "qty", required_argument, NULL, 'n' },
		{ "supplier", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct check_opts co = { 0 };
	struct check_result r = { 0 };
	struct error err = { 0 };
	int64_t qty = 1;
	double secs;
	bool json = false;
	const char *sku;
	struct conf *conf;
	struct db *db;
	int c, rc;

	while ((c = getopt_long(argc, argv, "n:s:t:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (!str_to_i64(optarg, &qty) || qty < 1) {
				cli_error(_("check: --qty: expected a whole number of at least 1, got '%s'"),
				          optarg);
				return EXIT_USAGE;
			}
			break;
		case 's':
			co.supplier_slug = optarg;
			break;
		case 't':
			if (!str_to_double(optarg, &secs) || !(secs > 0.0) || secs > CHECK_MAX_TIMEOUT_S) {
				cli_error(_("check: --timeout: expected seconds above 0 and at most %g, "
				            "got '%s'"),
				          CHECK_MAX_TIMEOUT_S, optarg);
				return EXIT_USAGE;
			}
			co.timeout_ms = (int64_t)(secs * 1000.0 + 0.5);
			if (co.timeout_ms < 1)
				co.timeout_ms = 1;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			check_usage(stdout);
			return EXIT_OK;
		default:
			check_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		if (optind >= argc)
			cli_error(_("check: which SKU? give one product SKU"));
		else
			cli_error(_("check: unexpected argument '%s'"), argv[optind + 1]);
		check_usage(stderr);
		return EXIT_USAGE;
	}
	sku = argv[optind];
	if (!(conf = cli_conf(cli)))
		return EXIT_CONFIG;
	if (co.supplier_slug && !conf_find_supplier(conf, co.supplier_slug)) {
		cli_error(_("no supplier '%s' in the configuration; see 'dropstock suppliers'"),
		          co.supplier_slug);
		return EXIT_USAGE;
	}
	if (!(db = cli_db(cli)))
		return EXIT_FAILURE_;

	if (check_sku(db, conf, sku, &co, &r, &err) != 0) {
		cli_error("%s", err.msg);
		rc = cli_exit_for(err.kind);
		goto out;
	}
	if (json) {
		if (print_json(&r, qty) != 0) {
			cli_error(_("writing the output failed"));
			rc = EXIT_FAILURE_;
			goto out;
		}
	} else if (!cli->quiet) {
		print_human(&r, qty);
	} else if (r.any_failed) {
		for (int i = 0; i < r.n_links; i++)
			if (r.links[i].asked && !r.links[i].live_ok)
				cli_error("%s", r.links[i].error);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error(_("writing the output failed"));
		rc = EXIT_FAILURE_;
		goto out;
	}
	if (r.any_failed)
		rc = EXIT_SUPPLIER;
	else
		rc = r.stock >= qty ? EXIT_OK : EXIT_UNAVAILABLE;
out:
	check_result_free(&r);
	return rc;
}
