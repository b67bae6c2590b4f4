/* cmd_events.c - `dropstock events`: the store events in the outbox, and
 * what to do with them.
 *
 *   dropstock events [--pending|--dead|--delivered] [--since T] [--limit N] [--json]
 *   dropstock events retry ID | --all-dead
 *   dropstock events deliver      one delivery pass (for cron without the daemon)
 *
 * --json prints one document, one event per line:
 *   {"events":[{
 *     "id": int, "kind": "back_in_stock"|"out_of_stock"|"stock_changed",
 *     "product_sku": string|null (null: the product is gone),
 *     "state": "pending"|"dead"|"delivered",
 *     "created_at": time, "attempts": int,
 *     "next_attempt_at": time|null (null unless pending),
 *     "delivered_at": time|null, "last_error": string|null,
 *     "payload": object (the event as stored; a string if it is not JSON)
 *   }]}
 * Times are ISO-8601 UTC strings as in the other lists.
 *
 * Exit status: 0; 2 usage (also: retry of an unknown event id); 1 database
 * error or retry of a delivered event; 3 configuration (deliver with no
 * target); 6 deliver while another process delivers.
 */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "engine/outbox.h"

static const char events_usage[] = N_(
	"Usage: dropstock events [--pending|--dead|--delivered] [--since T] [--limit N] [--json]\n"
	"       dropstock events retry ID|--all-dead\n"
	"       dropstock events deliver\n"
	"Lists the events for the store (newest first), retries dead ones, or\n"
	"delivers the due ones once (for cron, when no daemon runs).\n\n"
	"  --pending     only events still to be delivered\n"
	"  --dead        only events that were given up on (retry them with 'retry')\n"
	"  --delivered   only delivered events\n"
	"  --since T     events created at or after T: 2026-11-27T08:00:00Z, Unix\n"
	"                seconds, or an age such as 30m, 2h, 7d\n"
	"  --limit N     at most N events (default 50)\n"
	"  --json        print JSON instead of a table\n"
	"  -h, --help    print this help and exit\n\n"
	"retry ID      makes the dead event ID pending again, due now\n"
	"retry --all-dead   the same for every dead event\n"
	"deliver       one delivery pass: sends every due event to events.url\n"
	"              and/or events.command, reschedules failures\n");

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int usage_error(const char *fmt, const char *arg)
{
	cli_error(fmt, arg);
	fputs(_(events_usage), stderr);
	return EXIT_USAGE;
}

/* ---- the list ---- */

struct list_out {
	bool json;
	int64_t now;
	size_t n;
	/* table: rows of 9 cells, the header first */
	char **cells;
	size_t rows, cap;
};

#define NCOLS 9

static void row_add(struct list_out *o, const char *const cells[NCOLS])
{
	if (o->rows == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 32;
		o->cells = xrealloc(o->cells, o->cap * NCOLS * sizeof(char *));
	}
	for (int i = 0; i < NCOLS; i++) {
		char *c = xstrdup(cells[i] ? cells[i] : "");

		/* one value stays on one line */
		for (char *p = c; *p; p++)
			if (*p == '\n' || *p == '\r' || *p == '\t')
				*p = ' ';
		o->cells[o->rows * NCOLS + (size_t)i] = c;
	}
	o->rows++;
}

/* Display width, counting UTF-8 continuation bytes as nothing. */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			w++;
	return w;
}

static void table_print(struct list_out *o)
{
	static const char align[NCOLS + 1] = "rllllrlll";
	size_t w[NCOLS] = { 0 };
	struct buf line = BUF_INIT;

	for (size_t r = 0; r < o->rows; r++)
		for (int i = 0; i < NCOLS; i++) {
			size_t cw = width(o->cells[r * NCOLS + (size_t)i]);
			if (cw > w[i])
				w[i] = cw;
		}
	for (size_t r = 0; r < o->rows; r++) {
		buf_reset(&line);
		for (int i = 0; i < NCOLS; i++) {
			const char *s = o->cells[r * NCOLS + (size_t)i];
			int pad = (int)(w[i] - width(s));

			if (i > 0)
				buf_puts(&line, "  ");
			if (align[i] == 'r')
				buf_printf(&line, "%*s%s", pad, "", s);
			else
				buf_printf(&line, "%s%*s", s, pad, "");
		}
		while (line.len > 0 && line.data[line.len - 1] == ' ')
			line.data[--line.len] = '\0';
		puts(buf_str(&line));
	}
	buf_free(&line);
}

static void table_free(struct list_out *o)
{
	for (size_t i = 0; i < o->rows * NCOLS; i++)
		free(o->cells[i]);
	free(o->cells);
}

static int list_cb(void *ud, const struct outbox_event *e)
{
	struct list_out *o = ud;
	const char *state = outbox_state_name(e);
	bool pending = !e->dead && e->delivered_at <= 0;

	o->n++;
	if (o->json) {
		json_t *obj = json_object(), *payload;
		json_error_t je;
		char *s;

		json_object_set_new(obj, "id", json_integer(e->id));
		json_object_set_new(obj, "kind", cli_json_str(e->kind));
		json_object_set_new(obj, "product_sku", cli_json_str(e->product_sku));
		json_object_set_new(obj, "state", json_string(state));
		json_object_set_new(obj, "created_at", cli_json_time(e->created_at));
		json_object_set_new(obj, "attempts", json_integer(e->attempts));
		json_object_set_new(obj, "next_attempt_at",
		                    pending ? cli_json_time(e->next_attempt_at) : json_null());
		json_object_set_new(obj, "delivered_at", cli_json_time(e->delivered_at));
		json_object_set_new(obj, "last_error", cli_json_str(e->last_error));
		payload = e->payload ? json_loads(e->payload, JSON_DECODE_ANY, &je) : NULL;
		json_object_set_new(obj, "payload", payload ? payload : cli_json_str(e->payload));
		s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(obj);
		if (!s) {
			cli_error(_("cannot encode event %lld as JSON"), (long long)e->id);
			return -1;
		}
		fputs(o->n > 1 ? ",\n" : "\n", stdout);
		fputs(s, stdout);
		free(s);
		return 0;
	}
	{
		char id[24], attempts[48], created[96], next[96], delivered[96];
		const char *cells[NCOLS];

		snprintf(id, sizeof(id), "%" PRId64, e->id);
		snprintf(attempts, sizeof(attempts), "%s", fmt_int(e->attempts));
		cli_fmt_when(e->created_at, o->now, true, created);
		if (!pending)
			snprintf(next, sizeof(next), "-");
		else if (e->next_attempt_at <= o->now)
			/* TRANSLATORS: the NEXT ATTEMPT column of 'dropstock events' */
			snprintf(next, sizeof(next), "%s", _("due now"));
		else
			cli_fmt_when(e->next_attempt_at, o->now, true, next);
		cli_fmt_when(e->delivered_at, o->now, true, delivered);
		cells[0] = id;
		cells[1] = e->kind;
		cells[2] = e->product_sku ? e->product_sku : "-";
		cells[3] = _(state);
		cells[4] = created;
		cells[5] = attempts;
		cells[6] = next;
		cells[7] = delivered;
		cells[8] = e->last_error ? e->last_error : "";
		row_add(o, cells);
	}
	return 0;
}

static int events_list(struct cli *cli, const struct outbox_query *q, bool json)
{
	struct list_out o;
	struct error err = { 0 };
	struct db *db;
	int rc;

	if ((rc = cli_open_db(cli, &db)) != 0)
		return rc;
	memset(&o, 0, sizeof(o));
	o.json = json;
	o.now = time_now_ms();
	if (json) {
		fputs("{\"events\":[", stdout);
	} else {
		const char *head[NCOLS] = {
			/* TRANSLATORS: column headings of 'dropstock events', upper
			   case; ID is the event's number */
			_("ID"),
			/* TRANSLATORS: column heading: the event kind ("back_in_stock") */
			_("KIND"),
			/* TRANSLATORS: column heading: the store product's SKU */
			_("PRODUCT"),
			/* TRANSLATORS: column heading: pending, dead or delivered */
			_("STATE"), _("CREATED"),
			/* TRANSLATORS: column heading: delivery attempts made */
			_("ATTEMPTS"), _("NEXT ATTEMPT"), _("DELIVERED"), _("LAST ERROR")
		};
		row_add(&o, head);
	}
	rc = outbox_list(db, q, list_cb, &o, &err);
	if (rc != 0) {
		if (rc < 0 && err.kind != ERRK_NONE)
			cli_error("%s", err.msg);
		table_free(&o);
		if (json)
			fputc('\n', stdout);
		return rc < 0 && err.kind != ERRK_NONE ? cli_exit_for(err.kind) : EXIT_FAILURE_;
	}
	if (json) {
		fputs(o.n ? "\n]}\n" : "]}\n", stdout);
	} else if (o.n == 0) {
		switch (q->state) {
		case OUTBOX_PENDING:
			puts(_("no pending events"));
			break;
		case OUTBOX_DEAD:
			puts(_("no dead events"));
			break;
		case OUTBOX_DELIVERED:
			puts(_("no delivered events"));
			break;
		default:
			puts(_("no events"));
			break;
		}
	} else {
		table_print(&o);
	}
	table_free(&o);
	return cli_finish_output();
}

/* ---- retry ---- */

static int find_cb(void *ud, const struct outbox_event *e)
{
	struct outbox_event *found = ud;

	*found = *e;
	found->kind = found->product_sku = found->payload = found->last_error = NULL;
	return 1;
}

static int events_retry(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all-dead", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct error err = { 0 };
	struct db *db;
	bool all = false;
	int64_t id = 0;
	int c, rc, n;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			all = true;
			break;
		case 'h':
			fputs(_(events_usage), stdout);
			return EXIT_OK;
		default:
			return usage_error(c == ':' ? _("events retry: option %s needs a value")
			                            : _("events retry: unknown option %s"),
			                   optind > 0 ? argv[optind - 1] : "?");
		}
	}
	if (optind < argc) {
		if (!str_to_i64(argv[optind], &id) || id < 1)
			return usage_error(_("events retry: expected an event id (a number from 1), "
			                     "got '%s'"), argv[optind]);
		optind++;
	}
	if (optind < argc)
		return usage_error(_("events retry: unexpected argument '%s'"), argv[optind]);
	if (all == (id != 0))
		return usage_error("%s", _("events retry: give either an event ID or --all-dead"));
	if ((rc = cli_open_db(cli, &db)) != 0)
		return rc;

	if (id) {
		struct outbox_query q = { OUTBOX_ANY, id, 0, 1 };
		struct outbox_event e;
		char when[96];

		memset(&e, 0, sizeof(e));
		rc = outbox_list(db, &q, find_cb, &e, &err);
		if (rc < 0) {
			cli_error("%s", err.msg);
			return cli_exit_for(err.kind);
		}
		if (rc == 0) {
			cli_error(_("events retry: no event %lld"), (long long)id);
			return EXIT_USAGE;
		}
		if (e.delivered_at > 0) {
			cli_error(_("event %lld was delivered already, %s; nothing to retry"),
			          (long long)id, cli_fmt_when(e.delivered_at, time_now_ms(), true, when));
			return EXIT_FAILURE_;
		}
		if (!e.dead) {
			if (!cli->quiet)
				/* TRANSLATORS: the last %s is a date and time, or "now" */
				printf(_("event %lld is pending, not dead: next attempt %s\n"), (long long)id,
				       e.next_attempt_at <= time_now_ms()
				               ? _("now")
				               : cli_fmt_when(e.next_attempt_at, time_now_ms(), true, when));
			return cli_finish_output();
		}
	}
	n = outbox_retry(db, id, &err);
	if (n < 0) {
		cli_error("%s", err.msg);
		return cli_exit_for(err.kind);
	}
	if (!cli->quiet) {
		if (id)
			printf(_("event %lld is pending again and will be delivered at the next pass\n"),
			       (long long)id);
		else if (n == 0)
			puts(_("no dead events"));
		else
			printf(P_("%s dead event is pending again\n", "%s dead events are pending again\n",
			          n),
			       fmt_int(n));
	}
	return cli_finish_output();
}

/* ---- deliver ---- */

static int events_deliver(struct cli *cli, int argc, char **argv)
{
	struct outbox_pass p;
	struct error err = { 0 };
	struct sigaction sa;
	struct conf *conf;
	struct db *db;
	char when[96];
	int rc;

	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		fputs(_(events_usage), stdout);
		return EXIT_OK;
	}
	if (argc > 1)
		return usage_error(_("events deliver: unexpected argument '%s'"), argv[1]);
	if ((rc = cli_open_db(cli, &db)) != 0)
		return rc;
	conf = cli->conf;
	if (str_empty(conf->events.url) && str_empty(conf->events.command)) {
		cli_error(_("no event target is configured: set events.url or events.command in %s"),
		          conf->file ? conf->file : "dropstock.conf");
		return EXIT_CONFIG;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (outbox_deliver_stop(db, conf, time_now_ms(), &stop_requested, &p, &err) != 0) {
		cli_error("%s", err.msg);
		return cli_exit_for(err.kind);
	}
	if (p.busy) {
		cli_error("%s", _("another process is delivering events now; nothing was done"));
		return EXIT_BUSY;
	}
	if (!cli->quiet) {
		/* TRANSLATORS: the events handled by a delivery pass, each word
		   followed by its count: delivered to the store, failed (will be
		   retried), dead (given up), put off (not tried this time) */
		printf(_("delivered %s, failed %s (retried later), dead %s, put off %s\n"),
		       fmt_int(p.delivered), fmt_int(p.failed), fmt_int(p.dead),
		       fmt_int(p.deferred));
		if (p.next_due_at > 0)
			printf(_("next attempt: %s\n"), p.next_due_at <= time_now_ms()
			                                        ? _("now")
			                                        : cli_fmt_when(p.next_due_at, time_now_ms(), true, when));
	}
	if (stop_requested) {
		cli_error("%s", _("stopped by a signal"));
		return EXIT_FAILURE_;
	}
	return cli_finish_output();
}

/* ---- the command ---- */

int cmd_events(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pending", no_argument, NULL, 'p' },
		{ "dead", no_argument, NULL, 'd' },
		{ "delivered", no_argument, NULL, 'D' },
		{ "since", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct outbox_query q = { OUTBOX_ANY, 0, 0, 50 };
	bool json = false;
	int c, states = 0;

	if (argc > 1 && strcmp(argv[1], "retry") == 0)
		return events_retry(cli, argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "deliver") == 0)
		return events_deliver(cli, argc - 1, argv + 1);

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			q.state = OUTBOX_PENDING;
			states++;
			break;
		case 'd':
			q.state = OUTBOX_DEAD;
			states++;
			break;
		case 'D':
			q.state = OUTBOX_DELIVERED;
			states++;
			break;
		case 's':
			if (!cli_parse_time(optarg, &q.since))
				return usage_error(_("events: --since: expected a time such as "
				                     "2026-11-27T08:00:00Z, Unix seconds, or an age such as "
				                     "30m, 2h, 7d; got '%s'"), optarg);
			break;
		case 'n':
			if (!str_to_i64(optarg, &q.limit) || q.limit < 1 || q.limit > 1000000)
				return usage_error(_("events: --limit: expected a number from 1 to 1000000, "
				                     "got '%s'"), optarg);
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(_(events_usage), stdout);
			return EXIT_OK;
		default:
			return usage_error(c == ':' ? _("events: option %s needs a value")
			                            : _("events: unknown option %s"),
			                   optind > 0 ? argv[optind - 1] : "?");
		}
	}
	if (optind < argc)
		return usage_error(_("events: unexpected argument '%s'"), argv[optind]);
	if (states > 1)
		return usage_error("%s", _("events: --pending, --dead and --delivered exclude each other"));
	return events_list(cli, &q, json);
}
