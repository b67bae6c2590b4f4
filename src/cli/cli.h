/* cli.h - the command-line front end: thin subcommands over the engine.
 *
 * Each subcommand is `int cmd_NAME(struct cli *cli, int argc, char **argv)`
 * where argv[0] is the subcommand name; it parses its own options with
 * getopt_long, prints --help, and returns an exit code below.
 */
#ifndef DROPSTOCK_CLI_H
#define DROPSTOCK_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "conf/conf.h"
#include "store/db.h"
#include "util/util.h"

/* Documented exit codes (dropstock(1) EXIT STATUS). */
enum exit_code {
	EXIT_OK = 0,
	EXIT_FAILURE_ = 1,     /* internal or database error */
	EXIT_USAGE = 2,        /* bad command line */
	EXIT_CONFIG = 3,       /* bad configuration: nothing was run */
	EXIT_SUPPLIER = 4,     /* every supplier asked failed */
	EXIT_PARTIAL = 5,      /* some suppliers (or pages) failed, others succeeded */
	EXIT_BUSY = 6,         /* a sync of that supplier is already running */
	EXIT_UNAVAILABLE = 7,  /* check: fewer units in stock than requested */
	EXIT_APPROVAL = 8,     /* sync: the mass-change guard stopped a run (needs_approval) */
};

struct cli {
	const char *config_path;   /* --config, may be NULL */
	bool quiet;                /* -q */
	int verbose;               /* -v count */
	struct conf *conf;         /* loaded lazily by cli_conf() */
	struct db *db;             /* opened lazily by cli_db() */
};

/* Loads the configuration once; prints the error and returns NULL on failure
 * (the caller then returns EXIT_CONFIG). */
struct conf *cli_conf(struct cli *cli);
/* Opens the database named by the configuration once (and, on the embedded
 * demo default, imports the demo catalogue into an empty database); prints
 * the error and returns NULL on failure (caller returns EXIT_FAILURE_). */
struct db *cli_db(struct cli *cli);
/* Maps an error kind to an exit code. */
int cli_exit_for(enum err_kind k);
/* Prints "dropstock: MESSAGE" to stderr. */
void cli_error(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* Shared option parsing helpers: "--since T" values. */
bool cli_parse_time(const char *arg, int64_t *out_ms);

/* output.c: helpers the subcommands share. */
struct json_t;
/* cli_conf() then cli_db(); 0, or EXIT_CONFIG / EXIT_FAILURE_ (the error is
 * printed). */
int cli_open_db(struct cli *cli, struct db **db);
/* Flushes stdout; EXIT_OK, or prints the write error and EXIT_FAILURE_. */
int cli_finish_output(void);
/* Local "YYYY-MM-DD HH:MM[:SS] (5 min ago)" or "(in 5 s)", "-" for ms <= 0. */
/* One stock change as the sync, approve and revert commands list it:
 * "  STORE-SKU  SUPPLIER-SKU  PREV -> NEW  (product A -> B)", in columns
 * counted on screen.  prev is the formatted previous figure, or NULL for a
 * SKU seen for the first time ("new"). */
void cli_print_change(const char *product_sku, const char *supplier_sku, const char *prev,
                      int64_t stock, int64_t product_prev, int64_t product_stock);
char *cli_fmt_when(int64_t ms, int64_t now, bool seconds, char out[96]);
/* An ISO-8601 UTC string, or null for ms <= 0. */
struct json_t *cli_json_time(int64_t ms);
/* A JSON string, null for NULL; bytes that are not UTF-8 (a latin-1 SKU)
 * become U+FFFD, valid sequences are kept. */
struct json_t *cli_json_str(const char *s);

int cmd_sync(struct cli *cli, int argc, char **argv);
int cmd_suppliers(struct cli *cli, int argc, char **argv);
int cmd_runs(struct cli *cli, int argc, char **argv);
int cmd_history(struct cli *cli, int argc, char **argv);
int cmd_unknown(struct cli *cli, int argc, char **argv);
int cmd_export(struct cli *cli, int argc, char **argv);
int cmd_link(struct cli *cli, int argc, char **argv);
int cmd_serve(struct cli *cli, int argc, char **argv);
int cmd_check(struct cli *cli, int argc, char **argv);
int cmd_events(struct cli *cli, int argc, char **argv);
int cmd_daemon(struct cli *cli, int argc, char **argv);
int cmd_run_now(struct cli *cli, int argc, char **argv);
int cmd_console(struct cli *cli, int argc, char **argv);   /* cmd_console.c */
int cmd_approve(struct cli *cli, int argc, char **argv);
int cmd_revert(struct cli *cli, int argc, char **argv);
int cmd_complete(struct cli *cli, int argc, char **argv);  /* hidden: shell completion */
/* main.c: the I-th subcommand that --help lists (hidden ones skipped) and,
 * when run is not NULL, its function; NULL past the last. */
const char *cli_command(size_t i, int (**run)(struct cli *cli, int argc, char **argv));

/* progress.c: a progress bar on stderr when it is a terminal, plain log
 * lines otherwise. */
struct progress;
struct progress *progress_new(FILE *out, bool force_plain);
void progress_update(struct progress *p, const char *slug, int64_t done, int64_t total,
                     int64_t changed, int64_t elapsed_ms);
void progress_done(struct progress *p);
void progress_free(struct progress *p);

#endif
