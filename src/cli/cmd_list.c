/* cmd_list.c - the read-only subcommands: suppliers, runs, history,
 * unknown, export.
 *
 * JSON output (--json, export --format json).  One document per command,
 * written incrementally, one array element per line.  Keys never change
 * with the locale; times are ISO-8601 UTC strings ("2026-11-27T08:15:00Z",
 * milliseconds shown only when not zero: "2026-11-27T08:15:00.250Z") or
 * null when unknown; counts are plain integers.
 *
 *   dropstock suppliers --json
 *     {"suppliers":[{
 *       "slug": string, "name": string|null, "active": bool,
 *       "configured": bool (false: in the database, no longer in suppliers.d),
 *       "priority": int, "links": int,
 *       "last_full_at": time|null, "last_full_status": string|null,
 *       "last_delta_at": time|null, "last_delta_status": string|null,
 *       "running": null | {"run_id": int, "started_at": time|null,
 *                          "heartbeat_at": time|null, "done": int,
 *                          "total": int|null}
 *     }]}
 *
 *   dropstock runs --json
 *     {"runs":[{
 *       "id": int, "supplier": string, "kind": "full"|"delta",
 *       "trigger": string, "status": "queued"|"running"|"succeeded"|
 *       "failed"|"interrupted", "dry_run": bool, "attempt": int,
 *       "next_attempt_at": time|null, "pid": int|null,
 *       "started_at": time|null, "finished_at": time|null,
 *       "heartbeat_at": time|null, "done": int, "total": int|null,
 *       "pages": int, "bytes": int, "seen": int, "changed": int,
 *       "unknown": int, "invalid": int, "stale": int, "zeroed": int,
 *       "error": string|null
 *     }]}
 *
 *   dropstock history --json
 *     {"history":[{
 *       "id": int, "recorded_at": time, "supplier": string|null,
 *       "supplier_sku": string|null, "product_sku": string|null,
 *       "product_name": string|null, "prev_stock": int|null (null: first
 *       value seen), "new_stock": int, "source": "full"|"delta"|"webhook"|
 *       "check"|"manual", "run_id": int|null, "source_time": time|null
 *     }],
 *     "next_cursor": string|null}   (pass it to --after for the next page)
 *
 *   dropstock unknown --json
 *     {"unknown":[{
 *       "supplier": string, "supplier_sku": string,
 *       "first_seen": time|null, "last_seen": time|null,
 *       "last_stock": int|null, "times_seen": int
 *     }]}
 *
 *   dropstock export --format json
 *     {"products":[{
 *       "sku": string, "name": string|null, "stock": int,
 *       "available": bool, "updated_at": time|null
 *     }]}
 *
 *   dropstock export (--format csv): a header line, then one line per
 *   product (LF line ends), fields quoted as in RFC 4180 when they hold a
 *   comma, a quote, a line break, or leading/trailing blanks:
 *     sku,name,stock,available,updated_at
 *   available is 1 or 0; updated_at is ISO-8601 UTC or empty.
 *
 * Strings that are not valid UTF-8 are written with U+FFFD in place of
 * each bad byte.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "cli/cli.h"
#include "store/report.h"

/* ---- option parsing ---- */

/* Reports a getopt failure (c is '?' or ':'), prints the usage to stderr. */
static int bad_option(const char *cmd, int c, char **argv, const char *usage)
{
	const char *opt = optind > 0 ? argv[optind - 1] : "?";

	if (c == ':')
		cli_error(_("%s: option %s needs a value"), cmd, opt);
	else
		cli_error(_("%s: unknown option %s"), cmd, opt);
	fputs(usage, stderr);
	return EXIT_USAGE;
}

/* A bad option value: the message is out, the usage follows. */
static int usage_fail(const char *usage)
{
	fputs(usage, stderr);
	return EXIT_USAGE;
}

static int extra_args(const char *cmd, int argc, char **argv, const char *usage)
{
	if (optind >= argc)
		return 0;
	cli_error(_("%s: unexpected argument '%s'"), cmd, argv[optind]);
	fputs(usage, stderr);
	return -1;
}

static bool parse_limit(const char *cmd, const char *arg, int64_t *out)
{
	int64_t v;

	if (!str_to_i64(arg, &v) || v < 1 || v > 1000000) {
		cli_error(_("%s: --limit: expected a number from 1 to 1000000, got '%s'"), cmd, arg);
		return false;
	}
	*out = v;
	return true;
}

static bool parse_when(const char *cmd, const char *opt, const char *arg, int64_t *out)
{
	if (!cli_parse_time(arg, out)) {
		cli_error(_("%s: %s: expected a time such as 2026-11-27T08:00:00Z, "
		            "Unix seconds, or an age such as 30m, 2h, 7d; got '%s'"),
		          cmd, opt, arg);
		return false;
	}
	return true;
}

static int report_failed(const struct error *err)
{
	cli_error("%s", err->msg);
	return cli_exit_for(err->kind);
}

/* ---- human output ---- */

/* A table of strings printed with aligned columns; the header is row 0. */
struct table {
	int ncols;
	const char *align;      /* 'l' or 'r' per column */
	char **cells;
	size_t rows, cap;
};

/* Adds a row of t->ncols strings (NULL: empty) taken from ap. */
static void table_vrow(struct table *t, va_list ap)
{
	if (t->rows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->cells = xrealloc(t->cells, t->cap * (size_t)t->ncols * sizeof(char *));
	}
	for (int i = 0; i < t->ncols; i++) {
		const char *s = va_arg(ap, const char *);
		t->cells[t->rows * (size_t)t->ncols + (size_t)i] = xstrdup(s ? s : "");
	}
	t->rows++;
}

static void table_row(struct table *t, ...)
{
	va_list ap;

	va_start(ap, t);
	table_vrow(t, ap);
	va_end(ap);
}

static void table_print(const struct table *t, FILE *out)
{
	size_t *w = xcalloc((size_t)t->ncols, sizeof(size_t));
	struct buf line = BUF_INIT;
	int last;

	for (size_t r = 0; r < t->rows; r++)
		for (int i = 0; i < t->ncols; i++) {
			size_t cw = text_width(t->cells[r * (size_t)t->ncols + (size_t)i]);
			if (cw > w[i])
				w[i] = cw;
		}
	/* the last column with any text: nothing is padded after it */
	for (last = t->ncols - 1; last > 0 && w[last] == 0; last--)
		;
	for (size_t r = 0; r < t->rows; r++) {
		buf_reset(&line);
		for (int i = 0; i <= last; i++) {
			const char *s = t->cells[r * (size_t)t->ncols + (size_t)i];
			size_t pad = w[i] - text_width(s);

			if (i > 0)
				buf_puts(&line, "  ");
			if (t->align[i] == 'r')
				buf_printf(&line, "%*s%s", (int)pad, "", s);
			else
				buf_printf(&line, "%s%*s", s, (int)pad, "");
		}
		/* no blanks at the end of a line (an empty last cell) */
		while (line.len > 0 && line.data[line.len - 1] == ' ')
			line.data[--line.len] = '\0';
		fputs(buf_str(&line), out);
		fputc('\n', out);
	}
	buf_free(&line);
	free(w);
}

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->rows * (size_t)t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->rows = t->cap = 0;
}

/* "850 ms", "12.5 s", "3 min 05 s", "2 h 04 min". */
static char *fmt_duration(int64_t ms, char out[32])
{
	if (ms < 0)
		ms = 0;
	if (ms < 1000)
		/* TRANSLATORS: durations with unit symbols (milliseconds, seconds,
		   minutes, hours), as short as possible: they fill a table column */
		snprintf(out, 32, _("%d ms"), (int)ms);
	else if (ms < 60000)
		snprintf(out, 32, _("%s s"), fmt_dec((double)ms / 1000.0, 1));
	else if (ms < 3600000)
		snprintf(out, 32, _("%d min %02d s"), (int)(ms / 60000), (int)(ms / 1000 % 60));
	else
		snprintf(out, 32, _("%s h %02d min"), fmt_int(ms / 3600000), (int)(ms / 60000 % 60));
	return out;
}

static char *fmt_i64(int64_t v, char out[24])
{
	snprintf(out, 24, "%" PRId64, v);
	return out;
}

/* Replaces newlines and tabs so one value stays on one table line. */
static char *one_line(const char *s)
{
	char *c = xstrdup(s ? s : ""), *p;

	for (p = c; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	return c;
}

/* ---- JSON output ---- */

static json_t *jint_or_null(int64_t v)
{
	return v ? json_integer(v) : json_null();
}

/* {"KEY":[ elements one per line ] ... the caller writes the closing brace. */
struct jlist {
	FILE *out;
	size_t n;
};

static void jlist_open(struct jlist *j, FILE *out, const char *key)
{
	j->out = out;
	j->n = 0;
	fprintf(out, "{\"%s\":[", key);
}

/* Writes and releases o. */
static int jlist_add(struct jlist *j, json_t *o, struct error *err)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

	json_decref(o);
	if (!s)
		return err_set(err, ERRK_INTERNAL, _("cannot encode a JSON record (out of memory?)"));
	fputs(j->n++ ? ",\n" : "\n", j->out);
	fputs(s, j->out);
	free(s);
	if (ferror(j->out))
		return err_set(err, ERRK_INTERNAL, _("writing the output: %s"), strerror(errno));
	return 0;
}

static void jlist_close(struct jlist *j)
{
	fputs(j->n ? "\n]" : "]", j->out);
}

/* ---- one listing: JSON records or table rows ---- */

struct list_out {
	bool json;
	int64_t now;
	struct jlist jl;
	struct table t;
	struct error *err;
	struct conf *conf;         /* suppliers: tells the configured ones */
};

/* Starts a listing on stdout: {"KEY":[ with json, else a table of ncols
 * columns aligned as align says, whose header row is the ncols strings
 * that follow. */
static void list_start(struct list_out *o, bool json, const char *key, struct error *err,
                       int ncols, const char *align, ...)
{
	va_list ap;

	memset(o, 0, sizeof(*o));
	o->json = json;
	o->now = time_now_ms();
	o->err = err;
	o->t.ncols = ncols;
	o->t.align = align;
	if (json) {
		jlist_open(&o->jl, stdout, key);
		return;
	}
	va_start(ap, align);
	table_vrow(&o->t, ap);
	va_end(ap);
}

/* The report behind the listing failed: ends the line of JSON written so
 * far, prints the error and returns the exit code. */
static int list_failed(struct list_out *o)
{
	table_free(&o->t);
	if (o->json)
		fputc('\n', stdout);
	return report_failed(o->err);
}

/* Ends a listing: closes the JSON list and writes json_tail (NULL: "}\n"),
 * or prints the table, or the line empty when it has no rows.  Returns
 * true when a table was printed. */
static bool list_finish(struct list_out *o, const char *json_tail, const char *empty)
{
	bool printed = false;

	if (o->json) {
		jlist_close(&o->jl);
		fputs(json_tail ? json_tail : "}\n", stdout);
	} else if (o->t.rows <= 1) {
		printf("%s\n", empty);
	} else {
		table_print(&o->t, stdout);
		printed = true;
	}
	table_free(&o->t);
	return printed;
}

/* --supplier SLUG: checked before any output so that a bad slug prints
 * nothing.  Returns 0 or the exit code. */
static int check_supplier(struct db *db, const char *slug, struct error *err)
{
	int64_t sid;

	if (slug && report_supplier_id(db, slug, &sid, err) < 0)
		return report_failed(err);
	return 0;
}

/* ---- suppliers ---- */

static const char suppliers_usage[] = N_(
	"Usage: dropstock suppliers [--json]\n"
	"Lists the suppliers with their link counts, last full and delta syncs,\n"
	"and the sync running now, if any.\n\n"
	"  --json      print JSON instead of a table\n"
	"  -h, --help  print this help and exit\n");

static int sup_cb(void *ud, const struct report_supplier *s)
{
	struct list_out *o = ud;
	bool configured = conf_find_supplier(o->conf, s->slug) != NULL;

	if (o->json) {
		json_t *obj = json_object(), *run = json_null();

		if (s->running_run_id) {
			run = json_object();
			json_object_set_new(run, "run_id", json_integer(s->running_run_id));
			json_object_set_new(run, "started_at", cli_json_time(s->running_started_at));
			json_object_set_new(run, "heartbeat_at", cli_json_time(s->running_heartbeat_at));
			json_object_set_new(run, "done", json_integer(s->running_done));
			json_object_set_new(run, "total", jint_or_null(s->running_total));
		}
		json_object_set_new(obj, "slug", cli_json_str(s->slug));
		json_object_set_new(obj, "name", cli_json_str(s->name));
		json_object_set_new(obj, "active", json_boolean(s->active));
		json_object_set_new(obj, "configured", json_boolean(configured));
		json_object_set_new(obj, "priority", json_integer(s->priority));
		json_object_set_new(obj, "links", json_integer(s->links));
		json_object_set_new(obj, "last_full_at", cli_json_time(s->last_full_at));
		json_object_set_new(obj, "last_full_status", cli_json_str(s->last_full_status));
		json_object_set_new(obj, "last_delta_at", cli_json_time(s->last_delta_at));
		json_object_set_new(obj, "last_delta_status", cli_json_str(s->last_delta_status));
		json_object_set_new(obj, "running", run);
		return jlist_add(&o->jl, obj, o->err);
	}

	char prio[24], full[160], delta[160], when[96], running[128];
	const char *active;

	if (!configured)
		/* TRANSLATORS: the ACTIVE column of 'dropstock suppliers': in the
		   database but no longer in the configuration */
		active = _("not configured");
	else
		/* TRANSLATORS: the ACTIVE column of 'dropstock suppliers' */
		active = s->active ? _("yes") : _("no");
	if (s->last_full_at > 0)
		snprintf(full, sizeof(full), "%s %s", cli_fmt_when(s->last_full_at, o->now, false, when),
		         s->last_full_status ? state_label(s->last_full_status) : "");
	else
		/* TRANSLATORS: in the last-sync columns: never synced */
		snprintf(full, sizeof(full), "%s", _("never"));
	if (s->last_delta_at > 0)
		snprintf(delta, sizeof(delta), "%s %s", cli_fmt_when(s->last_delta_at, o->now, false, when),
		         s->last_delta_status ? state_label(s->last_delta_status) : "");
	else
		snprintf(delta, sizeof(delta), "%s", _("never"));
	if (s->running_run_id) {
		char id[24];

		if (s->running_total > 0)
			/* TRANSLATORS: the RUNNING column: the run id, then items done
			   of the total ("run 12, 400/1830") */
			snprintf(running, sizeof(running), _("run %s, %s/%s"),
			         fmt_i64(s->running_run_id, id), fmt_int(s->running_done),
			         fmt_int(s->running_total));
		else
			/* TRANSLATORS: the RUNNING column when the total is not known:
			   the run id, then items done so far */
			snprintf(running, sizeof(running), _("run %s, done: %s"),
			         fmt_i64(s->running_run_id, id), fmt_int(s->running_done));
		/* the holder updates its heartbeat every few seconds */
		if (s->running_heartbeat_at > 0 && o->now - s->running_heartbeat_at > 60000) {
			char age[32];
			size_t n = strlen(running);

			/* TRANSLATORS: appended to the RUNNING column; %s is an age
			   such as "5m" */
			snprintf(running + n, sizeof(running) - n, _(", no heartbeat for %s"),
			         time_format_age(o->now - s->running_heartbeat_at, age));
		}
	} else {
		snprintf(running, sizeof(running), "-");
	}
	table_row(&o->t, s->slug, s->name ? s->name : "", active, fmt_i64(s->priority, prio),
	          fmt_int(s->links), full, delta, running);
	return 0;
}

int cmd_suppliers(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct list_out o;
	struct error err = { 0 };
	struct db *db;
	bool json = false;
	int c, rc;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(_(suppliers_usage), stdout);
			return EXIT_OK;
		default:
			return bad_option(argv[0], c, argv, _(suppliers_usage));
		}
	}
	if (extra_args(argv[0], argc, argv, _(suppliers_usage)) < 0)
		return EXIT_USAGE;
	if ((rc = cli_open_db(cli, &db)) != 0)
		return rc;

	list_start(&o, json, "suppliers", &err, 8, "lllrrlll",
	           /* TRANSLATORS: column headings of 'dropstock suppliers', upper
	              case; SLUG is the supplier's short name */
	           _("SLUG"), _("NAME"), _("ACTIVE"),
	           /* TRANSLATORS: column heading: the supplier's priority */
	           _("PRIO"),
	           /* TRANSLATORS: column heading: how many SKUs are linked */
	           _("LINKS"), _("LAST FULL SYNC"), _("LAST DELTA SYNC"),
	           /* TRANSLATORS: column heading: the sync running now */
	           _("RUNNING"));
	o.conf = cli->conf;
	if (report_suppliers(db, sup_cb, &o, &err) < 0)
		return list_failed(&o);
	list_finish(&o, NULL, _("no suppliers configured (add one under suppliers.d/)"));
	return cli_finish_output();
}

/* ---- runs ---- */

static const char runs_usage[] = N_(
	"Usage: dropstock runs [--supplier SLUG] [--limit N] [--json]\n"
	"Lists sync runs, newest first.\n\n"
	"  --supplier SLUG  only this supplier's runs\n"
	"  --limit N        at most N runs (default 20)\n"
	"  --json           print JSON instead of a table\n"
	"  -h, --help       print this help and exit\n");

static int runs_cb(void *ud, const struct report_run *r)
{
	struct list_out *o = ud;

	if (o->json) {
		json_t *obj = json_object();

		json_object_set_new(obj, "id", json_integer(r->id));
		json_object_set_new(obj, "supplier", cli_json_str(r->supplier));
		json_object_set_new(obj, "kind", cli_json_str(r->kind));
		json_object_set_new(obj, "trigger", cli_json_str(r->trigger));
		json_object_set_new(obj, "status", cli_json_str(r->status));
		json_object_set_new(obj, "dry_run", json_boolean(r->dry_run));
		json_object_set_new(obj, "attempt", json_integer(r->attempt));
		json_object_set_new(obj, "next_attempt_at", cli_json_time(r->next_attempt_at));
		json_object_set_new(obj, "pid", jint_or_null(r->pid));
		json_object_set_new(obj, "started_at", cli_json_time(r->started_at));
		json_object_set_new(obj, "finished_at", cli_json_time(r->finished_at));
		json_object_set_new(obj, "heartbeat_at", cli_json_time(r->heartbeat_at));
		json_object_set_new(obj, "done", json_integer(r->done));
		json_object_set_new(obj, "total", jint_or_null(r->total));
		json_object_set_new(obj, "pages", json_integer(r->pages));
		json_object_set_new(obj, "bytes", json_integer(r->bytes));
		json_object_set_new(obj, "seen", json_integer(r->seen));
		json_object_set_new(obj, "changed", json_integer(r->changed));
		json_object_set_new(obj, "unknown", json_integer(r->unknown));
		json_object_set_new(obj, "invalid", json_integer(r->invalid));
		json_object_set_new(obj, "stale", json_integer(r->stale));
		json_object_set_new(obj, "zeroed", json_integer(r->zeroed));
		json_object_set_new(obj, "error", cli_json_str(r->error));
		return jlist_add(&o->jl, obj, o->err);
	}

	char id[24], started[96], dur[32], items[64];
	char status[96];
	char *error = one_line(r->error);
	bool running = str_eq(r->status, "running");

	if (r->dry_run)
		/* TRANSLATORS: the STATUS column of a dry run; %s is the status as
		   stored ("succeeded") */
		snprintf(status, sizeof(status), _("%s (dry run)"), state_label(r->status));
	else
		snprintf(status, sizeof(status), "%s", state_label(r->status));
	if (r->started_at <= 0)
		snprintf(dur, sizeof(dur), "-");
	else if (r->finished_at > 0)
		fmt_duration(r->finished_at - r->started_at, dur);
	else if (running)
		fmt_duration(o->now - r->started_at, dur);
	else
		snprintf(dur, sizeof(dur), "-");
	if (running && r->total > 0)
		snprintf(items, sizeof(items), "%s/%s", fmt_int(r->done), fmt_int(r->total));
	else if (running)
		snprintf(items, sizeof(items), "%s", fmt_int(r->done));
	else
		snprintf(items, sizeof(items), "%s", fmt_int(r->seen));
	table_row(&o->t, fmt_i64(r->id, id), r->supplier, state_label(r->kind),
	          state_label(r->trigger), status,
	          cli_fmt_when(r->started_at, o->now, false, started), dur, items,
	          fmt_int(r->changed), fmt_int(r->unknown), fmt_int(r->invalid), error);
	free(error);
	return 0;
}

int cmd_runs(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "supplier", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct list_out o;
	struct error err = { 0 };
	struct db *db;
	const char *supplier = NULL;
	char *empty;
	int64_t limit = 20;
	bool json = false;
	int c, rc;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			supplier = optarg;
			break;
		case 'n':
			if (!parse_limit(argv[0], optarg, &limit))
				return usage_fail(_(runs_usage));
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(_(runs_usage), stdout);
			return EXIT_OK;
		default:
			return bad_option(argv[0], c, argv, _(runs_usage));
		}
	}
	if (extra_args(argv[0], argc, argv, _(runs_usage)) < 0)
		return EXIT_USAGE;
	if ((rc = cli_open_db(cli, &db)) != 0 || (rc = check_supplier(db, supplier, &err)) != 0)
		return rc;

	list_start(&o, json, "runs", &err, 12, "rlllllrrrrrl",
	           /* TRANSLATORS: column headings of 'dropstock runs', upper case;
	              ID is the run's number */
	           _("ID"), _("SUPPLIER"),
	           /* TRANSLATORS: column heading: "full" or "delta" sync */
	           _("KIND"),
	           /* TRANSLATORS: column heading: what started the run ("cli",
	              "schedule", "console") */
	           _("TRIGGER"), _("STATUS"), _("STARTED"), _("DURATION"),
	           /* TRANSLATORS: column heading: items read from the feed */
	           _("ITEMS"),
	           /* TRANSLATORS: column headings: stock figures changed, SKUs
	              linked to nothing, items with no usable stock */
	           _("CHANGED"), _("UNKNOWN"), _("INVALID"), _("ERROR"));
	if (report_runs(db, supplier, limit, runs_cb, &o, &err) < 0)
		return list_failed(&o);
	empty = supplier ? xasprintf(_("no sync runs of %s yet"), supplier)
	                 : xstrdup(_("no sync runs yet"));
	list_finish(&o, NULL, empty);
	free(empty);
	return cli_finish_output();
}

/* ---- history ---- */

static const char history_usage[] = N_(
	"Usage: dropstock history [OPTIONS]\n"
	"Shows the stock-change log, newest first, one page at a time.\n\n"
	"  --sku S           supplier SKU or product SKU contains S\n"
	"  --supplier SLUG   only this supplier's changes\n"
	"  --since T         changes at or after T: 2026-11-27T08:00:00Z, Unix\n"
	"                    seconds, or an age such as 30m, 2h, 7d\n"
	"  --source SOURCE   full, delta, webhook, check or manual\n"
	"  --limit N         at most N changes per page (default 50)\n"
	"  --after CURSOR    the next page: the cursor printed after the last page\n"
	"  --json            print JSON instead of a table\n"
	"  -h, --help        print this help and exit\n");

static const char *const sources[] = { "full", "delta", "webhook", "check", "manual" };

static int hist_cb(void *ud, const struct report_history_row *r)
{
	struct list_out *o = ud;

	if (o->json) {
		json_t *obj = json_object();

		json_object_set_new(obj, "id", json_integer(r->id));
		json_object_set_new(obj, "recorded_at", cli_json_time(r->recorded_at));
		json_object_set_new(obj, "supplier", cli_json_str(r->supplier));
		json_object_set_new(obj, "supplier_sku", cli_json_str(r->supplier_sku));
		json_object_set_new(obj, "product_sku", cli_json_str(r->product_sku));
		json_object_set_new(obj, "product_name", cli_json_str(r->product_name));
		json_object_set_new(obj, "prev_stock",
		                    r->has_prev ? json_integer(r->prev) : json_null());
		json_object_set_new(obj, "new_stock", json_integer(r->new_stock));
		json_object_set_new(obj, "source", cli_json_str(r->source));
		json_object_set_new(obj, "run_id", jint_or_null(r->run_id));
		json_object_set_new(obj, "source_time", cli_json_time(r->source_time));
		return jlist_add(&o->jl, obj, o->err);
	}

	char when[96], change[128], run[24];

	if (r->has_prev)
		snprintf(change, sizeof(change), "%s -> %s", fmt_int(r->prev), fmt_int(r->new_stock));
	else
		/* TRANSLATORS: the STOCK column for the first value seen of a SKU */
		snprintf(change, sizeof(change), _("new -> %s"), fmt_int(r->new_stock));
	if (r->run_id)
		fmt_i64(r->run_id, run);
	else
		snprintf(run, sizeof(run), "-");
	table_row(&o->t, cli_fmt_when(r->recorded_at, o->now, false, when),
	          r->supplier ? r->supplier : "-", r->supplier_sku ? r->supplier_sku : "-",
	          r->product_sku ? r->product_sku : "-", change, state_label(r->source), run);
	return 0;
}

int cmd_history(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sku", required_argument, NULL, 'k' },
		{ "supplier", required_argument, NULL, 's' },
		{ "since", required_argument, NULL, 't' },
		{ "source", required_argument, NULL, 'o' },
		{ "limit", required_argument, NULL, 'n' },
		{ "after", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct report_history_filter f;
	struct report_cursor next = { 0, 0 };
	struct list_out o;
	struct error err = { 0 };
	struct db *db;
	char cur[48], *tail;
	bool json = false, more = false;
	int c, rc;

	memset(&f, 0, sizeof(f));
	f.limit = 50;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			f.sku = optarg;
			break;
		case 's':
			f.supplier = optarg;
			break;
		case 't':
			if (!parse_when(argv[0], "--since", optarg, &f.since))
				return usage_fail(_(history_usage));
			break;
		case 'o': {
			bool known = false;

			for (size_t i = 0; i < ARRAY_SIZE(sources); i++)
				known = known || strcmp(optarg, sources[i]) == 0;
			if (!known) {
				cli_error(_("%s: --source: expected full, delta, webhook, check or "
				            "manual, got '%s'"), argv[0], optarg);
				return usage_fail(_(history_usage));
			}
			f.source = optarg;
			break;
		}
		case 'n':
			if (!parse_limit(argv[0], optarg, &f.limit))
				return usage_fail(_(history_usage));
			break;
		case 'a':
			if (!report_cursor_parse(optarg, &f.after)) {
				cli_error(_("%s: --after: '%s' is not a cursor printed by an earlier "
				            "history page"), argv[0], optarg);
				return usage_fail(_(history_usage));
			}
			f.has_after = true;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(_(history_usage), stdout);
			return EXIT_OK;
		default:
			return bad_option(argv[0], c, argv, _(history_usage));
		}
	}
	if (extra_args(argv[0], argc, argv, _(history_usage)) < 0)
		return EXIT_USAGE;
	if ((rc = cli_open_db(cli, &db)) != 0 || (rc = check_supplier(db, f.supplier, &err)) != 0)
		return rc;

	list_start(&o, json, "history", &err, 7, "lllllll",
	           /* TRANSLATORS: column headings of 'dropstock history', upper
	              case */
	           _("WHEN"), _("SUPPLIER"), _("SUPPLIER SKU"),
	           /* TRANSLATORS: column heading: the store product's SKU */
	           _("PRODUCT"),
	           /* TRANSLATORS: column heading: the stock before and after */
	           _("STOCK"),
	           /* TRANSLATORS: column heading: what brought the figure ("full",
	              "delta", "webhook", "check", "manual") */
	           _("SOURCE"),
	           /* TRANSLATORS: column heading: the run's number */
	           _("RUN"));
	if (report_history(db, &f, hist_cb, &o, &more, &next, &err) < 0)
		return list_failed(&o);
	tail = more ? xasprintf(",\"next_cursor\":\"%s\"}\n", report_cursor_format(&next, cur))
	            : xstrdup(",\"next_cursor\":null}\n");
	if (list_finish(&o, tail, f.has_after ? _("no more stock changes match")
	                                      : _("no stock changes match")) && more)
		printf(_("more: add --after %s for the next page\n"), cur);
	free(tail);
	return cli_finish_output();
}

/* ---- unknown ---- */

static const char unknown_usage[] = N_(
	"Usage: dropstock unknown [--supplier SLUG] [--json]\n"
	"Lists supplier SKUs seen in feeds but linked to no store product.\n"
	"Link one with: dropstock link add PRODUCT_SKU SUPPLIER_SLUG SUPPLIER_SKU\n\n"
	"  --supplier SLUG  only this supplier's SKUs\n"
	"  --json           print JSON instead of a table\n"
	"  -h, --help       print this help and exit\n");

static int unk_cb(void *ud, const struct report_unknown_row *r)
{
	struct list_out *o = ud;

	if (o->json) {
		json_t *obj = json_object();

		json_object_set_new(obj, "supplier", cli_json_str(r->supplier));
		json_object_set_new(obj, "supplier_sku", cli_json_str(r->supplier_sku));
		json_object_set_new(obj, "first_seen", cli_json_time(r->first_seen));
		json_object_set_new(obj, "last_seen", cli_json_time(r->last_seen));
		json_object_set_new(obj, "last_stock",
		                    r->has_stock ? json_integer(r->last_stock) : json_null());
		json_object_set_new(obj, "times_seen", json_integer(r->times_seen));
		return jlist_add(&o->jl, obj, o->err);
	}

	char stock[48], first[96], last[96];

	if (r->has_stock)
		snprintf(stock, sizeof(stock), "%s", fmt_int(r->last_stock));
	else
		snprintf(stock, sizeof(stock), "-");
	table_row(&o->t, r->supplier, r->supplier_sku, stock, fmt_int(r->times_seen),
	          cli_fmt_when(r->first_seen, o->now, false, first),
	          cli_fmt_when(r->last_seen, o->now, false, last));
	return 0;
}

int cmd_unknown(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "supplier", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct list_out o;
	struct error err = { 0 };
	struct db *db;
	const char *supplier = NULL;
	bool json = false;
	int c, rc;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			supplier = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(_(unknown_usage), stdout);
			return EXIT_OK;
		default:
			return bad_option(argv[0], c, argv, _(unknown_usage));
		}
	}
	if (extra_args(argv[0], argc, argv, _(unknown_usage)) < 0)
		return EXIT_USAGE;
	if ((rc = cli_open_db(cli, &db)) != 0 || (rc = check_supplier(db, supplier, &err)) != 0)
		return rc;

	list_start(&o, json, "unknown", &err, 6, "llrrll",
	           /* TRANSLATORS: column headings of 'dropstock unknown', upper
	              case */
	           _("SUPPLIER"), _("SUPPLIER SKU"), _("LAST STOCK"),
	           /* TRANSLATORS: column heading: how many times the SKU was seen */
	           _("SEEN"),
	           /* TRANSLATORS: column headings: when the SKU was first and last
	              seen */
	           _("FIRST SEEN"), _("LAST SEEN"));
	if (report_unknown(db, supplier, unk_cb, &o, &err) < 0)
		return list_failed(&o);
	if (list_finish(&o, NULL, _("no unknown SKUs: every SKU seen in the feeds is linked")))
		printf("%s\n", _("link one with: dropstock link add PRODUCT_SKU SUPPLIER_SLUG "
		                 "SUPPLIER_SKU"));
	return cli_finish_output();
}

/* ---- export ---- */

static const char export_usage[] = N_(
	"Usage: dropstock export [--format csv|json] [--changed-since T]\n"
	"Writes the store-facing stock of every product, ordered by SKU, to\n"
	"standard output.\n\n"
	"  --format FORMAT    csv (default) or json\n"
	"  --changed-since T  only products whose stock changed at or after T:\n"
	"                     2026-11-27T08:00:00Z, Unix seconds, or an age such\n"
	"                     as 30m, 2h, 7d\n"
	"  -h, --help         print this help and exit\n");

/* RFC 4180: quoted when it holds a comma, quote, CR or LF, or edge blanks. */
static void csv_field(FILE *out, const char *s)
{
	size_t n = strlen(s);

	if (strpbrk(s, ",\"\r\n") || (n > 0 && (s[0] == ' ' || s[n - 1] == ' '))) {
		fputc('"', out);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', out);
			fputc(*s, out);
		}
		fputc('"', out);
	} else {
		fputs(s, out);
	}
}

struct exp_out {
	bool json;
	struct jlist jl;
	struct error *err;
};

static int exp_cb(void *ud, const struct report_product *p)
{
	struct exp_out *o = ud;
	char iso[32];

	if (o->json) {
		json_t *obj = json_object();

		json_object_set_new(obj, "sku", cli_json_str(p->sku));
		json_object_set_new(obj, "name", cli_json_str(p->name));
		json_object_set_new(obj, "stock", json_integer(p->stock));
		json_object_set_new(obj, "available", json_boolean(p->available));
		json_object_set_new(obj, "updated_at", cli_json_time(p->updated_at));
		return jlist_add(&o->jl, obj, o->err);
	}
	csv_field(stdout, p->sku);
	fputc(',', stdout);
	csv_field(stdout, p->name ? p->name : "");
	printf(",%" PRId64 ",%d,%s\n", p->stock, p->available ? 1 : 0,
	       p->updated_at > 0 ? time_format_iso(p->updated_at, iso) : "");
	if (ferror(stdout))
		return err_set(o->err, ERRK_INTERNAL, _("writing the output: %s"), strerror(errno));
	return 0;
}

int cmd_export(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "changed-since", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct exp_out o;
	struct error err = { 0 };
	struct db *db;
	int64_t since = 0;
	bool json = false;
	int c, rc;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (strcmp(optarg, "json") == 0) {
				json = true;
			} else if (strcmp(optarg, "csv") == 0) {
				json = false;
			} else {
				cli_error(_("%s: --format: expected csv or json, got '%s'"),
				          argv[0], optarg);
				return usage_fail(_(export_usage));
			}
			break;
		case 't':
			if (!parse_when(argv[0], "--changed-since", optarg, &since))
				return usage_fail(_(export_usage));
			break;
		case 'h':
			fputs(_(export_usage), stdout);
			return EXIT_OK;
		default:
			return bad_option(argv[0], c, argv, _(export_usage));
		}
	}
	if (extra_args(argv[0], argc, argv, _(export_usage)) < 0)
		return EXIT_USAGE;
	if ((rc = cli_open_db(cli, &db)) != 0)
		return rc;

	memset(&o, 0, sizeof(o));
	o.json = json;
	o.err = &err;
	if (json)
		jlist_open(&o.jl, stdout, "products");
	else
		fputs("sku,name,stock,available,updated_at\n", stdout);
	if (report_products(db, since, exp_cb, &o, &err) < 0) {
		if (json)
			fputc('\n', stdout);
		return report_failed(&err);
	}
	if (json) {
		jlist_close(&o.jl);
		fputs("}\n", stdout);
	}
	return cli_finish_output();
}
