/* cmd_link.c - `dropstock link`: import, add and remove the links between
 * store products and supplier SKUs.
 *
 *   link import FILE.csv
 *   link add PRODUCT_SKU SUPPLIER_SLUG SUPPLIER_SKU [--name NAME]
 *   link remove SUPPLIER_SLUG SUPPLIER_SKU
 *
 * A thin front end: the work (one transaction per change, products
 * recomputed, events queued) is engine_link_add / engine_link_remove.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "engine/engine.h"
#include "store/store.h"

static const char link_usage[] = N_(
	"Usage: dropstock link import FILE.csv\n"
	"       dropstock link add PRODUCT_SKU SUPPLIER_SLUG SUPPLIER_SKU [--name NAME]\n"
	"       dropstock link remove SUPPLIER_SLUG SUPPLIER_SKU\n"
	"Links store products to supplier SKUs.\n\n"
	"  import  reads a CSV with a header line and the columns product_sku,\n"
	"          product_name, supplier_slug, supplier_sku (any order); a bad row\n"
	"          fails the whole import\n"
	"  add     links one supplier SKU to a product, creating the product when\n"
	"          its SKU is new (--name NAME names it); an existing link of that\n"
	"          supplier SKU is moved to the product\n"
	"  remove  removes one link and recomputes the product's stock\n\n"
	"  -h, --help  print this help and exit\n");

static int bad_option(const char *cmd, int c, char **argv)
{
	const char *opt = optind > 0 ? argv[optind - 1] : "?";

	if (c == ':')
		cli_error(_("%s: option %s needs a value"), cmd, opt);
	else
		cli_error(_("%s: unknown option %s"), cmd, opt);
	fputs(_(link_usage), stderr);
	return EXIT_USAGE;
}

/* Parses the options of `link SUB ...` (argv[0] is SUB): only --help and,
 * for add, --name.  Leaves the positional arguments from optind.
 * Returns -1 to go on, else the exit code. */
static int parse_sub(int argc, char **argv, bool with_name, const char **name)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'N':
			if (!with_name) {
				cli_error(_("link %s: unknown option --name"), argv[0]);
				fputs(_(link_usage), stderr);
				return EXIT_USAGE;
			}
			*name = optarg;
			break;
		case 'h':
			fputs(_(link_usage), stdout);
			return EXIT_OK;
		default:
			return bad_option("link", c, argv);
		}
	}
	return -1;
}

static int want_args(int argc, char **argv, int n, const char *what)
{
	if (argc - optind == n)
		return 0;
	if (argc - optind < n)
		cli_error(_("link %s: expected %s"), argv[0], what);
	else
		cli_error(_("link %s: unexpected argument '%s'"), argv[0], argv[optind + n]);
	fputs(_(link_usage), stderr);
	return -1;
}

static int link_import(struct cli *cli, int argc, char **argv)
{
	struct error err = { 0 };
	struct db *db;
	int64_t added = 0;
	int rc;

	if ((rc = parse_sub(argc, argv, false, NULL)) >= 0)
		return rc;
	if (want_args(argc, argv, 1, _("a CSV file")) < 0)
		return EXIT_USAGE;
	if ((rc = cli_open_db(cli, &db)) != 0)
		return rc;
	/* links_import_csv runs the whole file in one transaction itself */
	if (links_import_csv(db, argv[optind], &added, &err) < 0) {
		cli_error("%s", err.msg);
		return cli_exit_for(err.kind);
	}
	if (!cli->quiet)
		printf(P_("imported %s link from %s\n", "imported %s links from %s\n",
		          added > 0 ? added : 0),
		       fmt_int(added), argv[optind]);
	return EXIT_OK;
}

/* Writes "stock 4 -> 0" or "stock 4, unchanged" into out. */
static const char *stock_note(int64_t old_stock, int64_t new_stock, char out[96])
{
	if (old_stock == new_stock)
		/* TRANSLATORS: in parentheses after a product SKU: "(stock 4, unchanged)" */
		snprintf(out, 96, _("stock %s, unchanged"), fmt_int(new_stock));
	else
		/* TRANSLATORS: in parentheses after a product SKU: "(stock 4 -> 0)" */
		snprintf(out, 96, _("stock %s -> %s"), fmt_int(old_stock), fmt_int(new_stock));
	return out;
}

static int link_add(struct cli *cli, int argc, char **argv)
{
	struct error err = { 0 };
	struct link_outcome o;
	struct db *db;
	const char *name = NULL, *product_sku, *slug, *supplier_sku;
	char note[96], old_note[96];
	int rc;

	if ((rc = parse_sub(argc, argv, true, &name)) >= 0)
		return rc;
	if (want_args(argc, argv, 3, _("PRODUCT_SKU SUPPLIER_SLUG SUPPLIER_SKU")) < 0)
		return EXIT_USAGE;
	product_sku = argv[optind];
	slug = argv[optind + 1];
	supplier_sku = argv[optind + 2];
	if ((rc = cli_open_db(cli, &db)) != 0)
		return rc;
	if (engine_link_add(db, cli->conf, product_sku, name, slug, supplier_sku, &o, &err) < 0) {
		cli_error(_("link add: %s"), err.msg);
		return cli_exit_for(err.kind);
	}
	if (cli->quiet)
		return EXIT_OK;
	if (o.moved)
		printf(_("moved link %s:%s from product %s (%s) to product %s (%s)\n"), slug,
		       supplier_sku, o.old_product_sku, stock_note(o.old_prev, o.old_stock, old_note),
		       o.product_sku, stock_note(o.prev, o.stock, note));
	else if (o.existed)
		printf(_("link %s:%s -> product %s already existed (%s)\n"), slug, supplier_sku,
		       o.product_sku, stock_note(o.prev, o.stock, note));
	else if (o.has_stock)
		printf(_("linked %s:%s to product %s (%s)\n"), slug, supplier_sku, o.product_sku,
		       stock_note(o.prev, o.stock, note));
	else
		printf(_("linked %s:%s to product %s; its stock is set by the next sync of %s\n"),
		       slug, supplier_sku, o.product_sku, slug);
	return EXIT_OK;
}

static int link_remove(struct cli *cli, int argc, char **argv)
{
	struct error err = { 0 };
	struct link_outcome o;
	struct db *db;
	const char *slug, *supplier_sku;
	char note[96];
	int rc;

	if ((rc = parse_sub(argc, argv, false, NULL)) >= 0)
		return rc;
	if (want_args(argc, argv, 2, _("SUPPLIER_SLUG SUPPLIER_SKU")) < 0)
		return EXIT_USAGE;
	slug = argv[optind];
	supplier_sku = argv[optind + 1];
	if ((rc = cli_open_db(cli, &db)) != 0)
		return rc;
	if (engine_link_remove(db, cli->conf, slug, supplier_sku, &o, &err) < 0) {
		cli_error(_("link remove: %s"), err.msg);
		return cli_exit_for(err.kind);
	}
	if (!cli->quiet)
		printf(_("removed link %s:%s from product %s (%s)\n"), slug, supplier_sku,
		       o.product_sku, stock_note(o.prev, o.stock, note));
	return EXIT_OK;
}

int cmd_link(struct cli *cli, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(struct cli *cli, int argc, char **argv);
	} subs[] = {
		{ "import", link_import },
		{ "add", link_add },
		{ "remove", link_remove },
	};

	if (argc < 2) {
		cli_error(_("link: expected import, add or remove"));
		fputs(_(link_usage), stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(_(link_usage), stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
		if (strcmp(argv[1], subs[i].name) == 0)
			return subs[i].run(cli, argc - 1, argv + 1);
	cli_error(_("link: unknown subcommand '%s'; expected import, add or remove"), argv[1]);
	fputs(_(link_usage), stderr);
	return EXIT_USAGE;
}
