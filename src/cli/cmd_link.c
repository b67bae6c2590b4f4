/* cmd_link.c - `dropstock link`: import, add and remove the links between
 * store products and supplier SKUs.
 *
 *   link import FILE.csv
 *   link add PRODUCT_SKU SUPPLIER_SLUG SUPPLIER_SKU [--name NAME]
 *   link remove SUPPLIER_SLUG SUPPLIER_SKU
 *
 * Each change runs in one transaction; a product whose links changed gets
 * its aggregated stock recomputed with the configured aggregate.
 */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "store/report.h"
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

static int open_db(struct cli *cli, struct db **db)
{
	if (!cli_conf(cli))
		return EXIT_CONFIG;
	if (!(*db = cli_db(cli)))
		return EXIT_FAILURE_;
	return 0;
}

/* Finds a configured-or-known supplier for an argument; 0 or exit code. */
static int find_supplier(struct db *db, const char *slug, int64_t *id)
{
	struct error err = { 0 };
	int r = suppliers_find(db, slug, id, &err);

	if (r < 0) {
		cli_error("%s", err.msg);
		return cli_exit_for(err.kind);
	}
	if (r == 0) {
		cli_error(_("no supplier \"%s\" (see: dropstock suppliers)"), slug);
		return EXIT_USAGE;
	}
	return 0;
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
	if ((rc = open_db(cli, &db)) != 0)
		return rc;
	/* links_import_csv runs the whole file in one transaction itself */
	if (links_import_csv(db, argv[optind], &added, &err) < 0) {
		cli_error("%s", err.msg);
		return cli_exit_for(err.kind);
	}
	if (!cli->quiet)
		printf(P_("imported %lld link from %s\n", "imported %lld links from %s\n",
		          (unsigned long)added),
		       (long long)added, argv[optind]);
	return EXIT_OK;
}

/* Writes "stock 4 -> 0" or "stock 4, unchanged" into out. */
static const char *stock_note(int64_t old_stock, int64_t new_stock, char out[96])
{
	if (old_stock == new_stock)
		snprintf(out, 96, _("stock %lld, unchanged"), (long long)new_stock);
	else
		snprintf(out, 96, _("stock %lld -> %lld"), (long long)old_stock,
		         (long long)new_stock);
	return out;
}

/* A JSON string; bytes that are not valid UTF-8 become U+FFFD. */
static json_t *jtext(const char *s)
{
	struct buf b = BUF_INIT;
	json_t *j;

	if (!s)
		return json_null();
	if ((j = json_string(s)))
		return j;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x80)
			buf_putc(&b, (char)*p);
		else
			buf_puts(&b, "\xEF\xBF\xBD");
	}
	j = json_string(buf_str(&b));
	buf_free(&b);
	return j ? j : json_null();
}

/* A product's stock changed because its links changed: tell the store
 * through the outbox like every other change (same events and payload as
 * the engine's: back_in_stock / out_of_stock when it crosses 0, and
 * stock_changed), with source "manual". */
static int product_events(struct db *db, int64_t product_id, const char *product_sku,
                          const char *slug, const char *supplier_sku, int64_t prev,
                          int64_t cur, int64_t now, struct error *err)
{
	const char *kinds[2];
	char iso[32];
	json_t *o;
	int n = 0, rc = -1;

	if (prev == cur)
		return 0;
	if (prev == 0 && cur > 0)
		kinds[n++] = "back_in_stock";
	else if (prev > 0 && cur == 0)
		kinds[n++] = "out_of_stock";
	kinds[n++] = "stock_changed";
	o = json_object();
	json_object_set_new(o, "event", json_string(kinds[0]));
	json_object_set_new(o, "product_sku", jtext(product_sku));
	json_object_set_new(o, "stock", json_integer(cur));
	json_object_set_new(o, "previous_stock", json_integer(prev));
	json_object_set_new(o, "supplier", jtext(slug));
	json_object_set_new(o, "supplier_sku", jtext(supplier_sku));
	json_object_set_new(o, "source", json_string("manual"));
	json_object_set_new(o, "at", json_string(time_format_iso(now, iso)));
	for (int i = 0; i < n; i++) {
		char *payload;
		int r;

		json_object_set_new(o, "event", json_string(kinds[i]));
		payload = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (!payload) {
			err_set(err, ERRK_INTERNAL, _("product %s: cannot encode the %s event"),
			        product_sku, kinds[i]);
			goto out;
		}
		r = outbox_add(db, kinds[i], product_id, payload, now, err);
		free(payload);
		if (r < 0)
			goto out;
	}
	rc = 0;
out:
	json_decref(o);
	return rc;
}

static int link_add(struct cli *cli, int argc, char **argv)
{
	struct error err = { 0 };
	struct link_row before, after;
	struct db *db;
	const char *name = NULL, *product_sku, *slug, *supplier_sku;
	char old_sku[256] = "", new_sku[256] = "", note[96], old_note[96];
	int64_t sid, now, old_prev = 0, old_new = 0, prev = 0, cur = 0;
	bool had_link, moved = false, in_tx = false;
	int rc, r, ret = EXIT_FAILURE_;

	if ((rc = parse_sub(argc, argv, true, &name)) >= 0)
		return rc;
	if (want_args(argc, argv, 3, _("PRODUCT_SKU SUPPLIER_SLUG SUPPLIER_SKU")) < 0)
		return EXIT_USAGE;
	product_sku = argv[optind];
	slug = argv[optind + 1];
	supplier_sku = argv[optind + 2];
	if (str_empty(product_sku) || str_empty(supplier_sku)) {
		cli_error(_("link add: product and supplier SKUs must not be empty"));
		return EXIT_USAGE;
	}
	if ((rc = open_db(cli, &db)) != 0)
		return rc;
	if ((rc = find_supplier(db, slug, &sid)) != 0)
		return rc;

	now = time_now_ms();
	if (db_begin(db, &err) < 0)
		goto fail;
	in_tx = true;
	if ((r = links_find(db, sid, supplier_sku, &before, &err)) < 0)
		goto fail;
	had_link = r == 1;
	if (links_add(db, product_sku, name, slug, supplier_sku, &err) < 0)
		goto fail;
	if ((r = links_find(db, sid, supplier_sku, &after, &err)) < 0)
		goto fail;
	if (r == 0) {
		err_set(&err, ERRK_INTERNAL, _("%s: link %s -> %s was not stored"), slug,
		        supplier_sku, product_sku);
		goto fail;
	}
	if (unknown_forget(db, sid, supplier_sku, &err) < 0)
		goto fail;
	/* a link moved from another product takes its stock along */
	if (had_link && before.product_id != after.product_id) {
		moved = true;
		if (products_recompute(db, before.product_id, cli->conf->aggregate, &old_prev,
		                       &old_new, old_sku, sizeof(old_sku), now, &err) < 0)
			goto fail;
	}
	if (moved && product_events(db, before.product_id, old_sku, slug, supplier_sku, old_prev,
	                            old_new, now, &err) < 0)
		goto fail;
	if (products_recompute(db, after.product_id, cli->conf->aggregate, &prev, &cur, new_sku,
	                       sizeof(new_sku), now, &err) < 0)
		goto fail;
	if (product_events(db, after.product_id, new_sku, slug, supplier_sku, prev, cur, now,
	                   &err) < 0)
		goto fail;
	if (db_commit(db, &err) < 0)
		goto fail;
	in_tx = false;

	if (!cli->quiet) {
		if (moved)
			printf(_("moved link %s:%s from product %s (%s) to product %s (%s)\n"),
			       slug, supplier_sku, old_sku, stock_note(old_prev, old_new, old_note),
			       product_sku, stock_note(prev, cur, note));
		else if (had_link)
			printf(_("link %s:%s -> product %s already existed (%s)\n"), slug,
			       supplier_sku, product_sku, stock_note(prev, cur, note));
		else if (after.has_stock)
			printf(_("linked %s:%s to product %s (%s)\n"), slug, supplier_sku,
			       product_sku, stock_note(prev, cur, note));
		else
			printf(_("linked %s:%s to product %s; its stock is set by the next sync "
			         "of %s\n"), slug, supplier_sku, product_sku, slug);
	}
	ret = EXIT_OK;
	goto out;
fail:
	cli_error("%s", err.msg);
	ret = cli_exit_for(err.kind);
out:
	if (in_tx)
		db_rollback(db);
	return ret;
}

static int link_remove(struct cli *cli, int argc, char **argv)
{
	struct error err = { 0 };
	struct db *db;
	const char *slug, *supplier_sku;
	char sku[256] = "", note[96];
	int64_t sid, now, product_id = 0, prev = 0, cur = 0;
	bool in_tx = false;
	int rc, r, ret = EXIT_FAILURE_;

	if ((rc = parse_sub(argc, argv, false, NULL)) >= 0)
		return rc;
	if (want_args(argc, argv, 2, _("SUPPLIER_SLUG SUPPLIER_SKU")) < 0)
		return EXIT_USAGE;
	slug = argv[optind];
	supplier_sku = argv[optind + 1];
	if ((rc = open_db(cli, &db)) != 0)
		return rc;
	if ((rc = find_supplier(db, slug, &sid)) != 0)
		return rc;

	if (db_begin(db, &err) < 0)
		goto fail;
	in_tx = true;
	if ((r = links_remove(db, slug, supplier_sku, &product_id, &err)) < 0)
		goto fail;
	if (r == 0) {
		err_set(&err, ERRK_USAGE, _("no such link: supplier %s has no SKU \"%s\" linked"),
		        slug, supplier_sku);
		goto fail;
	}
	now = time_now_ms();
	if (products_recompute(db, product_id, cli->conf->aggregate, &prev, &cur, sku,
	                       sizeof(sku), now, &err) < 0)
		goto fail;
	if (product_events(db, product_id, sku, slug, supplier_sku, prev, cur, now, &err) < 0)
		goto fail;
	if (db_commit(db, &err) < 0)
		goto fail;
	in_tx = false;
	if (!cli->quiet)
		printf(_("removed link %s:%s from product %s (%s)\n"), slug, supplier_sku, sku,
		       stock_note(prev, cur, note));
	ret = EXIT_OK;
	goto out;
fail:
	cli_error("%s", err.msg);
	ret = cli_exit_for(err.kind);
out:
	if (in_tx)
		db_rollback(db);
	return ret;
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
