/* cli.c - what every subcommand shares: configuration, database, errors. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "store/store.h"

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("dropstock: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_exit_for(enum err_kind k)
{
	switch (k) {
	case ERRK_NONE:
		return EXIT_OK;
	case ERRK_CONFIG:
		return EXIT_CONFIG;
	case ERRK_USAGE:
		return EXIT_USAGE;
	case ERRK_BUSY:
		return EXIT_BUSY;
	case ERRK_TRANSIENT:
	case ERRK_PERMANENT:
	case ERRK_INTERRUPTED:
		return EXIT_SUPPLIER;
	case ERRK_DB:
	case ERRK_INTERNAL:
	default:
		return EXIT_FAILURE_;
	}
}

struct conf *cli_conf(struct cli *cli)
{
	struct error err = { 0 };

	if (cli->conf)
		return cli->conf;
	cli->conf = conf_load(cli->config_path, &err);
	if (!cli->conf)
		cli_error("%s", err.msg);
	return cli->conf;
}

/* On the embedded demo default, an empty database gets the demo catalogue,
 * so the very first sync shows real changes. */
static int seed_demo(struct cli *cli, struct error *err)
{
	sqlite3_stmt *st;
	int64_t added = 0;
	bool empty;

	if (!cli->conf->embedded || !cli->conf->demo_catalogue)
		return 0;
	st = db_stmt(cli->db, "SELECT NOT EXISTS (SELECT 1 FROM products)", err);
	if (!st)
		return -1;
	empty = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	if (!empty)
		return 0;
	if (links_import_csv(cli->db, cli->conf->demo_catalogue, &added, err) != 0)
		return -1;
	if (!cli->quiet)
		fprintf(stderr, P_("dropstock: no configuration found; using the built-in demo "
		                   "(%s linked product) in %s\n",
		                   "dropstock: no configuration found; using the built-in demo "
		                   "(%s linked products) in %s\n", added > 0 ? added : 0),
		        fmt_int(added), db_path(cli->db));
	return 0;
}

struct db *cli_db(struct cli *cli)
{
	struct error err = { 0 };

	if (cli->db)
		return cli->db;
	if (!cli_conf(cli))
		return NULL;
	cli->db = db_open(cli->conf->db_path, &err);
	if (!cli->db)
		goto fail;
	if (db_begin(cli->db, &err) != 0)
		goto fail;
	for (int i = 0; i < cli->conf->n_suppliers; i++) {
		int64_t id;
		if (suppliers_upsert(cli->db, &cli->conf->suppliers[i], &id, &err) != 0) {
			db_rollback(cli->db);
			goto fail;
		}
	}
	if (db_commit(cli->db, &err) != 0)
		goto fail;
	if (seed_demo(cli, &err) != 0)
		goto fail;
	return cli->db;
fail:
	cli_error("%s", err.msg);
	if (cli->db)
		db_close(cli->db);
	cli->db = NULL;
	return NULL;
}

bool cli_parse_time(const char *arg, int64_t *out_ms)
{
	char *end;
	long long n;
	int64_t unit;

	if (time_parse(arg, out_ms))
		return true;
	/* relative: 30m, 2h, 7d, 45s ago */
	n = strtoll(arg, &end, 10);
	if (end == arg || n < 0)
		return false;
	switch (tolower((unsigned char)*end)) {
	case 's':
		unit = 1000;
		break;
	case 'm':
		unit = 60 * 1000;
		break;
	case 'h':
		unit = 3600 * 1000;
		break;
	case 'd':
		unit = 86400 * 1000;
		break;
	case 'w':
		unit = 7 * 86400 * 1000;
		break;
	default:
		return false;
	}
	if (end[1] != '\0')
		return false;
	*out_ms = time_now_ms() - n * unit;
	return true;
}
