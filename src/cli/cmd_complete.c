/* cmd_complete.c - `dropstock __complete WHAT`: candidates for the shell
 * completion (data/completion/dropstock.bash), one per line.
 *
 *   commands            the subcommands --help lists
 *   options CMD         CMD's long options, read from its own --help
 *   suppliers           the configured supplier slugs
 *   runs [STATUS]       sync run ids, newest first (only STATUS ones)
 *   events [dead]       event ids, newest first (only dead ones)
 *
 * Hidden from --help.  A missing or broken configuration or database is
 * not an error here: it prints nothing and exits 0, so a TAB never
 * prints noise.  The database is opened read-only and never created.
 */
#include "config.h"

#include <ctype.h>
#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

#define COMPLETE_MAX_IDS 200

static int complete_commands(void)
{
	const char *name;

	for (size_t i = 0; (name = cli_command(i, NULL)); i++)
		printf("%s\n", name);
	return EXIT_OK;
}

/* Prints every distinct "--word" of text once, in order of appearance. */
static void complete_print_long_options(FILE *in)
{
	char line[1024];
	char **seen = NULL;
	size_t nseen = 0;

	while (fgets(line, sizeof line, in)) {
		for (char *p = line; (p = strstr(p, "--"));) {
			char *start = p;
			char *end = p + 2;
			bool dup = false;

			/* "--" starts the word, and a letter follows */
			if ((start > line && (isalnum((unsigned char)start[-1]) || start[-1] == '-')) ||
			    !islower((unsigned char)*end)) {
				p = end;
				continue;
			}
			while (islower((unsigned char)*end) || isdigit((unsigned char)*end) ||
			       *end == '-')
				end++;
			while (end[-1] == '-')
				end--;
			for (size_t i = 0; i < nseen && !dup; i++)
				dup = strlen(seen[i]) == (size_t)(end - start) &&
				      strncmp(seen[i], start, (size_t)(end - start)) == 0;
			if (!dup) {
				seen = xrealloc(seen, (nseen + 1) * sizeof *seen);
				seen[nseen] = xmalloc((size_t)(end - start) + 1);
				memcpy(seen[nseen], start, (size_t)(end - start));
				seen[nseen][end - start] = '\0';
				printf("%s\n", seen[nseen]);
				nseen++;
			}
			p = end;
		}
	}
	for (size_t i = 0; i < nseen; i++)
		free(seen[i]);
	free(seen);
}

/* Runs `CMD --help` in this process with standard output going to a
 * temporary file, then prints the long options it names. */
static int complete_options(struct cli *cli, const char *cmd)
{
	int (*run)(struct cli *cli, int argc, char **argv) = NULL;
	const char *name;
	char *args[3] = { NULL, NULL, NULL };
	FILE *tmp = NULL;
	int saved = -1;

	for (size_t i = 0; (name = cli_command(i, &run)); i++)
		if (strcmp(name, cmd) == 0)
			break;
	if (!name)
		return EXIT_OK;
	tmp = tmpfile();
	if (!tmp)
		goto out;
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	if (saved < 0 || dup2(fileno(tmp), STDOUT_FILENO) < 0)
		goto out;
	args[0] = xstrdup(name);
	args[1] = xstrdup("--help");
	optind = 0;
	run(cli, 2, args);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	rewind(tmp);
	complete_print_long_options(tmp);
out:
	if (saved >= 0)
		close(saved);
	if (tmp)
		fclose(tmp);
	free(args[0]);
	free(args[1]);
	return EXIT_OK;
}

/* The configuration, loaded without printing anything; NULL when there is
 * none that loads. */
static struct conf *complete_conf(struct cli *cli)
{
	struct error err = { 0 };

	if (!cli->conf)
		cli->conf = conf_load(cli->config_path, &err);
	return cli->conf;
}

static int complete_suppliers(struct cli *cli)
{
	struct conf *c = complete_conf(cli);

	for (int i = 0; c && i < c->n_suppliers; i++)
		printf("%s\n", c->suppliers[i].slug);
	return EXIT_OK;
}

/* Prints the integer first column of sql (one text parameter, may be NULL)
 * from the configured database, opened read-only. */
static int complete_ids(struct cli *cli, const char *sql, const char *param)
{
	struct conf *c = complete_conf(cli);
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;

	if (!c || !c->db_path || access(c->db_path, R_OK) != 0)
		goto out;
	if (sqlite3_open_v2(c->db_path, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		goto out;
	sqlite3_busy_timeout(h, 500);
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
		goto out;
	if (param)
		sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, param ? 2 : 1, COMPLETE_MAX_IDS);
	while (sqlite3_step(st) == SQLITE_ROW)
		printf("%lld\n", (long long)sqlite3_column_int64(st, 0));
out:
	sqlite3_finalize(st);
	sqlite3_close(h);
	return EXIT_OK;
}

int cmd_complete(struct cli *cli, int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	const char *arg = argc > 2 ? argv[2] : NULL;

	if (strcmp(what, "commands") == 0)
		return complete_commands();
	if (strcmp(what, "options") == 0 && arg)
		return complete_options(cli, arg);
	if (strcmp(what, "suppliers") == 0)
		return complete_suppliers(cli);
	if (strcmp(what, "runs") == 0)
		return arg ? complete_ids(cli, "SELECT id FROM sync_runs WHERE status = ?1 "
		                               "ORDER BY id DESC LIMIT ?2", arg)
		           : complete_ids(cli, "SELECT id FROM sync_runs ORDER BY id DESC LIMIT ?1",
		                          NULL);
	if (strcmp(what, "events") == 0) {
		if (arg && strcmp(arg, "dead") != 0)
			goto usage;
		return arg ? complete_ids(cli, "SELECT id FROM outbox WHERE dead = 1 "
		                               "ORDER BY id DESC LIMIT ?1", NULL)
		           : complete_ids(cli, "SELECT id FROM outbox ORDER BY id DESC LIMIT ?1",
		                          NULL);
	}
usage:
	cli_error(_("usage: dropstock __complete commands | options COMMAND | suppliers | "
	            "runs [STATUS] | events [dead]"));
	return EXIT_USAGE;
}
