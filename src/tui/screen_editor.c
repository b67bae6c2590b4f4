/* screen_editor.c - the supplier editor: a form (the ncurses form library)
 * over every option of a suppliers.d/SLUG.conf, one group per page.
 *
 * The form holds text; saving turns it into the supplier's settings, those
 * into a file text (conf_supplier_text), checks that text with the config
 * loader itself (conf_supplier_validate) and only then writes it
 * atomically (conf_supplier_save) and tells a running daemon to reload.
 * A loader error names an option ("source.format: expected one of ..."),
 * which is mapped back to its field and focused.  What the form does not
 * show (a delta's own map, several webhook secrets at once) is kept as it
 * was in the file.
 *
 * Two modes: moving between fields (letters are commands: s saves, t tests
 * the connection on the unsaved values), and editing a text field (Enter
 * starts and ends it, Esc undoes it).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <form.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <wchar.h>

#include "daemon/daemon.h"
#include "engine/testconn.h"
#include "tui/tui.h"

/* ---- the fields ---- */

enum fkind { F_TEXT, F_INT, F_NUM, F_SECONDS, F_ENUM, F_BOOL };

enum fid {
	/* supplier */
	FD_SLUG, FD_NAME, FD_ACTIVE, FD_PRIORITY,
	/* source */
	FD_URL, FD_FORMAT, FD_PAGING, FD_PAGE_SIZE, FD_FIRST_PAGE, FD_PAGE_PARAM, FD_SIZE_PARAM,
	FD_OFFSET_PARAM, FD_CURSOR_PARAM, FD_END,
	/* format and mapping */
	FD_ITEMS, FD_SKU, FD_STOCK, FD_UPDATED, FD_AVAILABLE, FD_SUCCESS, FD_MESSAGE, FD_TOTAL,
	FD_NEXT, FD_TEXT_VALUES, FD_DELIMITER, FD_QUOTE, FD_HEADER, FD_ENCODING,
	/* auth */
	FD_AUTH, FD_AUTH_HEADER, FD_AUTH_PARAM, FD_USERNAME, FD_TOKEN_FROM, FD_TOKEN,
	FD_PASSWORD_FROM, FD_PASSWORD,
	/* rules */
	FD_SAFETY, FD_CAP, FD_MULTIPLIER, FD_PACK, FD_ZERO_MISSING, FD_ZERO_MAX,
	/* requests */
	FD_TIMEOUT, FD_CONNECT_TIMEOUT, FD_RATE_SEC, FD_RATE_HOUR, FD_MAX_BYTES, FD_RETRIES,
	FD_RETRY_DELAY, FD_MAX_RETRY_WAIT, FD_CACHE_FRESH,
	/* schedule and guard */
	FD_SCHED_FULL, FD_SCHED_DELTA, FD_GUARD, FD_GUARD_CHANGED, FD_GUARD_ZEROED,
	/* delta */
	FD_DELTA_URL, FD_SINCE_PARAM, FD_SINCE_FORMAT, FD_OVERLAP,
	/* check */
	FD_CHECK_URL, FD_CHECK_METHOD, FD_CHECK_BODY, FD_CHECK_CTYPE, FD_CHECK_FORMAT,
	FD_CHECK_TIMEOUT, FD_CHECK_FAILURE,
	/* webhook */
	FD_WH_SCHEME, FD_WH_HEADER, FD_WH_PREFIX, FD_WH_ENCODING, FD_WH_KEY_B64, FD_WH_SECRET_FROM,
	FD_WH_SECRET, FD_WH_TS_HEADER, FD_WH_TOLERANCE, FD_WH_ID_HEADER, FD_WH_ID_FIELD,
	FD_WH_MAX_BODY,
	FD_COUNT
};

static const char *const formats[] = { "json", "csv", "xml", NULL };
static const char *const pagings[] = { "none", "page", "offset", "cursor", "next_url", "link", NULL };
static const char *const ends[] = { "short", "empty", "total", NULL };
static const char *const auths[] = { "none", "bearer", "header", "basic", "query", NULL };
static const char *const froms[] = { "env", "cmd", "inline", NULL };
static const char *const bools[] = { "true", "false", NULL };
static const char *const sinces[] = { "iso", "unix", NULL };
static const char *const methods[] = { "GET", "POST", NULL };
static const char *const failures[] = { "cache", "refuse", NULL };
static const char *const schemes[] = { "off", "custom", "github", "standard", "base64", NULL };
static const char *const encodings[] = { "hex", "base64", NULL };

struct fdef {
	const char *group;           /* starts a group (a page) when not NULL */
	const char *path;            /* the option as the loader names it */
	const char *label;
	const char *help;
	enum fkind kind;
	const char *const *choices;
};

static const struct fdef fdefs[FD_COUNT] = {
	[FD_SLUG] = { N_("Supplier"), "slug", N_("Slug"),
		N_("Short name, also the file name: 1-64 of a-z, 0-9, '-', '_'. Fixed once saved."),
		F_TEXT, NULL },
	[FD_NAME] = { NULL, "name", N_("Name"), N_("Shown in lists. Empty: the slug."), F_TEXT, NULL },
	[FD_ACTIVE] = { NULL, "active", N_("Active"),
		N_("false keeps the supplier configured but skips it in syncs."), F_BOOL, bools },
	[FD_PRIORITY] = { NULL, "priority", N_("Priority"),
		N_("Lower first, for aggregate = \"first\". Empty: 100."), F_INT, NULL },

	[FD_URL] = { N_("Source"), "source.url", N_("URL"),
		N_("http, https, ftp, ftps, sftp or file URL of the full feed (its first page)."),
		F_TEXT, NULL },
	[FD_FORMAT] = { NULL, "source.format", N_("Format"), N_("json, csv or xml."), F_ENUM,
		formats },
	[FD_PAGING] = { NULL, "source.paging", N_("Paging"),
		N_("none: one document; page, offset, cursor (map.next), next_url (map.next), link "
		   "(Link header)."), F_ENUM, pagings },
	[FD_PAGE_SIZE] = { NULL, "source.page_size", N_("Page size"),
		N_("Items asked for per page, 1-100000. Empty: 500."), F_INT, NULL },
	[FD_FIRST_PAGE] = { NULL, "source.first_page", N_("First page"),
		N_("Number of the first page for paging = page. Empty: 1."), F_INT, NULL },
	[FD_PAGE_PARAM] = { NULL, "source.page_param", N_("Page parameter"),
		N_("Query parameter of the page number. Empty: page."), F_TEXT, NULL },
	[FD_SIZE_PARAM] = { NULL, "source.size_param", N_("Size parameter"),
		N_("Query parameter of the page size. Empty: limit."), F_TEXT, NULL },
	[FD_OFFSET_PARAM] = { NULL, "source.offset_param", N_("Offset parameter"),
		N_("Query parameter of the offset. Empty: offset."), F_TEXT, NULL },
	[FD_CURSOR_PARAM] = { NULL, "source.cursor_param", N_("Cursor parameter"),
		N_("Query parameter of the cursor. Empty: cursor."), F_TEXT, NULL },
	[FD_END] = { NULL, "source.end", N_("Last page"),
		N_("short: fewer than page size items; empty: no items; total: map.total reached."),
		F_ENUM, ends },

	[FD_ITEMS] = { N_("Format and mapping"), "source.map.items", N_("Items"),
		N_("Path to the item list (data.items); XML: the item element. Empty: the root."),
		F_TEXT, NULL },
	[FD_SKU] = { NULL, "source.map.sku", N_("SKU"),
		N_("Path of the supplier SKU in an item; CSV: column name (or number)."), F_TEXT,
		NULL },
	[FD_STOCK] = { NULL, "source.map.stock", N_("Stock"),
		N_("Path of the stock in an item; several values found are summed."), F_TEXT, NULL },
	[FD_UPDATED] = { NULL, "source.map.updated_at", N_("Updated at"),
		N_("Optional: the supplier's update time of the item."), F_TEXT, NULL },
	[FD_AVAILABLE] = { NULL, "source.map.available", N_("Available"),
		N_("Optional: availability flag; false/no/0 forces stock 0."), F_TEXT, NULL },
	[FD_SUCCESS] = { NULL, "source.map.success", N_("Success flag"),
		N_("Optional: envelope flag that must be true, else the page fails."), F_TEXT, NULL },
	[FD_MESSAGE] = { NULL, "source.map.message", N_("Error message"),
		N_("Optional: envelope error message shown when success is false."), F_TEXT, NULL },
	[FD_TOTAL] = { NULL, "source.map.total", N_("Total"),
		N_("Optional: envelope item count (end = total, progress)."), F_TEXT, NULL },
	[FD_NEXT] = { NULL, "source.map.next", N_("Next"),
		N_("Envelope cursor or next URL (paging = cursor / next_url)."), F_TEXT, NULL },
	[FD_TEXT_VALUES] = { NULL, "source.map.text_values", N_("Text values"),
		N_("Stock texts as numbers: in stock=5; >10=11; out of stock=0"), F_TEXT, NULL },
	[FD_DELIMITER] = { NULL, "source.map.delimiter", N_("CSV delimiter"),
		N_("CSV only: one character. Empty: ','."), F_TEXT, NULL },
	[FD_QUOTE] = { NULL, "source.map.quote", N_("CSV quote"),
		N_("CSV only: one character. Empty: '\"'."), F_TEXT, NULL },
	[FD_HEADER] = { NULL, "source.map.header", N_("CSV header"),
		N_("CSV only: false when the first line is data (columns by number)."), F_BOOL,
		bools },
	[FD_ENCODING] = { NULL, "source.map.encoding", N_("CSV encoding"),
		N_("CSV only: character set of the file. Empty: UTF-8."), F_TEXT, NULL },

	[FD_AUTH] = { N_("Auth"), "auth.type", N_("Type"),
		N_("none, bearer (token), header (header + token), basic (username + password), "
		   "query."), F_ENUM, auths },
	[FD_AUTH_HEADER] = { NULL, "auth.header", N_("Header name"),
		N_("type = header: the header carrying the token, e.g. X-Api-Key."), F_TEXT, NULL },
	[FD_AUTH_PARAM] = { NULL, "auth.param", N_("Query parameter"),
		N_("type = query: the parameter carrying the token, e.g. api_key."), F_TEXT, NULL },
	[FD_USERNAME] = { NULL, "auth.username", N_("Username"), N_("type = basic."), F_TEXT,
		NULL },
	[FD_TOKEN_FROM] = { NULL, "auth.token_from", N_("Token from"),
		N_("env: an environment variable's name; cmd: a command's output; inline: the "
		   "token itself."), F_ENUM, froms },
	[FD_TOKEN] = { NULL, "auth.token", N_("Token"),
		N_("Variable name, command, or the token (inline: the file is kept mode 600)."),
		F_TEXT, NULL },
	[FD_PASSWORD_FROM] = { NULL, "auth.password_from", N_("Password from"),
		N_("env: an environment variable's name; cmd: a command's output; inline: the "
		   "password itself."), F_ENUM, froms },
	[FD_PASSWORD] = { NULL, "auth.password", N_("Password"),
		N_("Variable name, command, or the password (type = basic)."), F_TEXT, NULL },

	[FD_SAFETY] = { N_("Rules"), "rules.safety_buffer", N_("Safety buffer"),
		N_("Units subtracted from the supplier's figure, floor 0. Empty: 0."), F_INT, NULL },
	[FD_CAP] = { NULL, "rules.cap", N_("Cap"),
		N_("Most units shown in the store. Empty: no cap."), F_INT, NULL },
	[FD_MULTIPLIER] = { NULL, "rules.multiplier", N_("Multiplier"),
		N_("Applied first, result floored (0.5 = half). Empty: 1."), F_NUM, NULL },
	[FD_PACK] = { NULL, "rules.pack_size", N_("Pack size"),
		N_("Supplier units per store unit. Empty: 1."), F_INT, NULL },
	[FD_ZERO_MISSING] = { NULL, "rules.zero_missing", N_("Zero missing"),
		N_("true: linked SKUs absent from a full feed drop to 0."), F_BOOL, bools },
	[FD_ZERO_MAX] = { NULL, "rules.zero_missing_max_pct", N_("Zero missing max %"),
		N_("Refuse when more than this percentage of links would be zeroed. Empty: 20."), F_NUM,
		NULL },

	[FD_TIMEOUT] = { N_("Requests"), "timeout", N_("Timeout"),
		N_("Seconds per request in total. Empty: 60."), F_SECONDS, NULL },
	[FD_CONNECT_TIMEOUT] = { NULL, "connect_timeout", N_("Connect timeout"),
		N_("Seconds to connect. Empty: 10."), F_SECONDS, NULL },
	[FD_RATE_SEC] = { NULL, "rate_per_sec", N_("Requests/second"),
		N_("Most requests per second. Empty: unlimited."), F_NUM, NULL },
	[FD_RATE_HOUR] = { NULL, "rate_per_hour", N_("Requests/hour"),
		N_("Most requests per hour. Empty: unlimited."), F_INT, NULL },
	[FD_MAX_BYTES] = { NULL, "max_bytes", N_("Max bytes"),
		N_("Largest response accepted, in bytes. Empty: 256 MiB."), F_INT, NULL },
	[FD_RETRIES] = { NULL, "retries", N_("Retries"),
		N_("Tries again on timeouts, 5xx and 429, 0-10. Empty: 3."), F_INT, NULL },
	[FD_RETRY_DELAY] = { NULL, "retry_delay", N_("Retry delay"),
		N_("Seconds before the first retry, doubled each time. Empty: 1."), F_SECONDS, NULL },
	[FD_MAX_RETRY_WAIT] = { NULL, "max_retry_wait", N_("Max retry wait"),
		N_("Longest single wait in seconds, Retry-After included. Empty: 120."), F_SECONDS,
		NULL },
	[FD_CACHE_FRESH] = { NULL, "cache_fresh", N_("Cache fresh"),
		N_("Seconds a cached value answers stock checks without asking. Empty: 900."),
		F_SECONDS, NULL },

	[FD_SCHED_FULL] = { N_("Schedule"), "schedule.full", N_("Full sync"),
		N_("\"every 30m\", \"daily 03:00\", \"hourly :15\", cron, \"off\". Empty: daemon's."),
		F_TEXT, NULL },
	[FD_SCHED_DELTA] = { NULL, "schedule.delta", N_("Delta sync"),
		N_("Like full; needs a delta URL. Empty: the daemon's default."), F_TEXT, NULL },
	[FD_GUARD] = { NULL, "guard.enabled", N_("Guard"),
		N_("The mass-change guard: runs changing too much wait for approval."), F_BOOL,
		bools },
	[FD_GUARD_CHANGED] = { NULL, "guard.max_changed_pct", N_("Max changed %"),
		N_("A run changing more than this percentage of links waits. Empty: 50."), F_NUM, NULL },
	[FD_GUARD_ZEROED] = { NULL, "guard.max_zeroed_pct", N_("Max zeroed %"),
		N_("A run dropping more than this percentage of in-stock links to 0 waits. Empty: 50."),
		F_NUM, NULL },

	[FD_DELTA_URL] = { N_("Delta"), "delta.url", N_("Delta URL"),
		N_("Source of the items changed since a time. Empty: no delta. Format, paging, map: "
		   "the source's."), F_TEXT, NULL },
	[FD_SINCE_PARAM] = { NULL, "delta.since_param", N_("Since parameter"),
		N_("Query parameter of the time. Empty: updated_since."), F_TEXT, NULL },
	[FD_SINCE_FORMAT] = { NULL, "delta.since_format", N_("Since format"),
		N_("iso (2026-11-27T08:15:00Z) or unix (seconds)."), F_ENUM, sinces },
	[FD_OVERLAP] = { NULL, "delta.overlap", N_("Overlap"),
		N_("Seconds subtracted from the last run's time. Empty: 120."), F_SECONDS, NULL },

	[FD_CHECK_URL] = { N_("Live check"), "check.url", N_("Check URL"),
		N_("Asks about one SKU: {sku} is replaced. Empty: no live check."), F_TEXT, NULL },
	[FD_CHECK_METHOD] = { NULL, "check.method", N_("Method"), N_("GET or POST."), F_ENUM,
		methods },
	[FD_CHECK_BODY] = { NULL, "check.body", N_("POST body"),
		N_("POST only: {sku} or {skus} (a JSON array) are replaced."), F_TEXT, NULL },
	[FD_CHECK_CTYPE] = { NULL, "check.content_type", N_("Content type"),
		N_("POST only. Empty: application/json."), F_TEXT, NULL },
	[FD_CHECK_FORMAT] = { NULL, "check.format", N_("Format"),
		N_("Of the answer; the source's map is used when formats match."), F_ENUM, formats },
	[FD_CHECK_TIMEOUT] = { NULL, "check.timeout", N_("Timeout"),
		N_("Seconds. Empty: 2."), F_SECONDS, NULL },
	[FD_CHECK_FAILURE] = { NULL, "check.on_failure", N_("On failure"),
		N_("cache: answer from the cache; refuse: answer not available."), F_ENUM,
		failures },

	[FD_WH_SCHEME] = { N_("Webhook"), "webhook.scheme", N_("Scheme"),
		N_("off, custom, github, standard (Standard Webhooks), base64."), F_ENUM, schemes },
	[FD_WH_HEADER] = { NULL, "webhook.header", N_("Signature header"),
		N_("Header carrying the signature. Empty: the scheme's."), F_TEXT, NULL },
	[FD_WH_PREFIX] = { NULL, "webhook.prefix", N_("Prefix"),
		N_("Before the signature, e.g. sha256=. Empty: the scheme's."), F_TEXT, NULL },
	[FD_WH_ENCODING] = { NULL, "webhook.encoding", N_("Encoding"),
		N_("custom only: hex or base64."), F_ENUM, encodings },
	[FD_WH_KEY_B64] = { NULL, "webhook.key_base64", N_("Key is base64"),
		N_("custom and base64 only: the secret is base64."), F_BOOL, bools },
	[FD_WH_SECRET_FROM] = { NULL, "webhook.secret_from", N_("Secret from"),
		N_("env: an environment variable's name; cmd: a command's output; inline: the "
		   "secret."), F_ENUM, froms },
	[FD_WH_SECRET] = { NULL, "webhook.secret", N_("Secret"),
		N_("Variable name, command, or the signing secret."), F_TEXT, NULL },
	[FD_WH_TS_HEADER] = { NULL, "webhook.timestamp_header", N_("Timestamp header"),
		N_("Header with the signing time. Empty: the scheme's (standard has one)."), F_TEXT,
		NULL },
	[FD_WH_TOLERANCE] = { NULL, "webhook.tolerance", N_("Tolerance"),
		N_("Seconds a timestamp may be off. Empty: 300."), F_SECONDS, NULL },
	[FD_WH_ID_HEADER] = { NULL, "webhook.id_header", N_("Event id header"),
		N_("Header with the event id (duplicates ignored). Empty: the scheme's."), F_TEXT,
		NULL },
	[FD_WH_ID_FIELD] = { NULL, "webhook.id_field", N_("Event id field"),
		N_("Or the path of the event id in the body."), F_TEXT, NULL },
	[FD_WH_MAX_BODY] = { NULL, "webhook.max_body", N_("Max body"),
		N_("Largest delivery in bytes. Empty: 1 MiB."), F_INT, NULL },
};

#define LABEL_W 20
#define FIELD_X (LABEL_W + 3)

/* ---- state ---- */

struct testjob {
	struct supplier_conf s;
	struct testconn_result r;
	struct error err;
	int rc;
};

struct editor {
	struct tui *t;
	bool is_new;
	bool loaded;                   /* false: the file did not load, only Esc works */
	char *orig_slug;
	struct supplier_conf s;        /* the working settings; the form is applied onto it */
	bool delta_inherits, check_inherits, webhook_inherits;
	bool multi_secrets;

	char *val[FD_COUNT];           /* the form's text, kept across rebuilds */
	char *initial[FD_COUNT];       /* as opened, to tell whether anything changed */
	char *undo;                    /* the field's text when editing started */

	WINDOW *fwin;                  /* off-screen window the form draws in */
	FORM *form;
	FIELD **fields;                /* labels and values, NULL-terminated */
	FIELD *vf[FD_COUNT];           /* the value fields */
	int nfields;
	int rows, cols;                /* body size the form was built for */
	int npages;
	int cur;                       /* the focused fid */
	bool editing;
	char mb[8];                    /* a UTF-8 character being typed */
	size_t mb_len;

	char *msg;                     /* an error shown under the form, or NULL */
	int err_field;                 /* field marked by it, -1 */

	struct tui_job *job;           /* test connection */
	struct testjob *result;        /* its result, shown until a key */
};

static void set_val(struct editor *ed, int id, const char *v)
{
	free(ed->val[id]);
	ed->val[id] = xstrdup(v ? v : "");
}

static void set_val_own(struct editor *ed, int id, char *v)
{
	free(ed->val[id]);
	ed->val[id] = v;
}

/* ---- settings -> text ---- */

static char *fmt_i64(int64_t v)
{
	return xasprintf("%lld", (long long)v);
}

static char *fmt_num(double v)
{
	char tmp[64];
	int prec;

	for (prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	return xstrdup(tmp);
}

static char *fmt_sec(int64_t ms)
{
	if (ms % 1000 == 0)
		return fmt_i64(ms / 1000);
	return fmt_num((double)ms / 1000.0);
}

static const char *from_name(enum secret_origin o)
{
	return o == SECRET_CMD ? "cmd" : o == SECRET_INLINE ? "inline" : "env";
}

/* Shows an option only when it differs from its default (empty = default). */
static char *str_unless(const char *v, const char *dflt)
{
	return xstrdup(v && !str_eq(v, dflt) ? v : "");
}

static char *text_values_str(const struct mapping *m)
{
	struct buf b = BUF_INIT;
	int i;

	for (i = 0; i < m->n_text_values; i++)
		buf_printf(&b, "%s%s=%lld", i ? "; " : "", m->text_values[i].text,
		           (long long)m->text_values[i].value);
	return buf_steal(&b);
}

static void fill_values(struct editor *ed)
{
	const struct supplier_conf *s = &ed->s;
	const struct mapping *m = &s->source.map;
	const struct webhook_preset *p = conf_webhook_preset(s->webhook.scheme);
	char ch[2] = { 0, 0 };

	set_val(ed, FD_SLUG, s->slug);
	set_val_own(ed, FD_NAME, str_unless(s->name, s->slug));
	set_val(ed, FD_ACTIVE, s->active ? "true" : "false");
	set_val_own(ed, FD_PRIORITY, s->priority != 100 ? fmt_i64(s->priority) : xstrdup(""));

	set_val(ed, FD_URL, s->source.url);
	set_val(ed, FD_FORMAT, conf_format_name(s->source.format));
	set_val(ed, FD_PAGING, conf_paging_name(s->source.paging));
	set_val_own(ed, FD_PAGE_SIZE, s->source.page_size != 500 ? fmt_i64(s->source.page_size)
	                                                        : xstrdup(""));
	set_val_own(ed, FD_FIRST_PAGE, s->source.first_page != 1 ? fmt_i64(s->source.first_page)
	                                                         : xstrdup(""));
	set_val_own(ed, FD_PAGE_PARAM, str_unless(s->source.page_param, "page"));
	set_val_own(ed, FD_SIZE_PARAM, str_unless(s->source.size_param, "limit"));
	set_val_own(ed, FD_OFFSET_PARAM, str_unless(s->source.offset_param, "offset"));
	set_val_own(ed, FD_CURSOR_PARAM, str_unless(s->source.cursor_param, "cursor"));
	set_val(ed, FD_END, conf_end_name(s->source.end));

	set_val(ed, FD_ITEMS, m->items);
	set_val(ed, FD_SKU, m->sku);
	set_val(ed, FD_STOCK, m->stock);
	set_val(ed, FD_UPDATED, m->updated_at);
	set_val(ed, FD_AVAILABLE, m->available);
	set_val(ed, FD_SUCCESS, m->success);
	set_val(ed, FD_MESSAGE, m->message);
	set_val(ed, FD_TOTAL, m->total);
	set_val(ed, FD_NEXT, m->next);
	set_val_own(ed, FD_TEXT_VALUES, text_values_str(m));
	ch[0] = m->delimiter;
	set_val(ed, FD_DELIMITER, m->delimiter && m->delimiter != ',' ? ch : "");
	ch[0] = m->quote;
	set_val(ed, FD_QUOTE, m->quote && m->quote != '"' ? ch : "");
	set_val(ed, FD_HEADER, m->header ? "true" : "false");
	set_val_own(ed, FD_ENCODING, str_unless(m->encoding, "UTF-8"));

	set_val(ed, FD_AUTH, conf_auth_name(s->auth.kind));
	set_val(ed, FD_AUTH_HEADER, s->auth.header);
	set_val(ed, FD_AUTH_PARAM, s->auth.param);
	set_val(ed, FD_USERNAME, s->auth.username);
	set_val(ed, FD_TOKEN_FROM, from_name(s->auth.token.origin));
	set_val(ed, FD_TOKEN, s->auth.token.spec);
	set_val(ed, FD_PASSWORD_FROM, from_name(s->auth.password.origin));
	set_val(ed, FD_PASSWORD, s->auth.password.spec);

	set_val_own(ed, FD_SAFETY, s->rules.safety_buffer ? fmt_i64(s->rules.safety_buffer)
	                                                  : xstrdup(""));
	set_val_own(ed, FD_CAP, s->rules.cap >= 0 ? fmt_i64(s->rules.cap) : xstrdup(""));
	set_val_own(ed, FD_MULTIPLIER, s->rules.multiplier != 1.0 ? fmt_num(s->rules.multiplier)
	                                                          : xstrdup(""));
	set_val_own(ed, FD_PACK, s->rules.pack_size != 1 ? fmt_i64(s->rules.pack_size)
	                                                 : xstrdup(""));
	set_val(ed, FD_ZERO_MISSING, s->rules.zero_missing ? "true" : "false");
	set_val_own(ed, FD_ZERO_MAX, s->rules.zero_missing_max_pct != 20.0
	                             ? fmt_num(s->rules.zero_missing_max_pct) : xstrdup(""));

	set_val_own(ed, FD_TIMEOUT, s->timeout_ms != 60000 ? fmt_sec(s->timeout_ms) : xstrdup(""));
	set_val_own(ed, FD_CONNECT_TIMEOUT, s->connect_timeout_ms != 10000
	                                    ? fmt_sec(s->connect_timeout_ms) : xstrdup(""));
	set_val_own(ed, FD_RATE_SEC, s->rate_per_sec != 0 ? fmt_num(s->rate_per_sec) : xstrdup(""));
	set_val_own(ed, FD_RATE_HOUR, s->rate_per_hour ? fmt_i64(s->rate_per_hour) : xstrdup(""));
	set_val_own(ed, FD_MAX_BYTES, s->max_bytes != 268435456 ? fmt_i64(s->max_bytes)
	                                                        : xstrdup(""));
	set_val_own(ed, FD_RETRIES, s->retries != 3 ? fmt_i64(s->retries) : xstrdup(""));
	set_val_own(ed, FD_RETRY_DELAY, s->retry_delay_ms != 1000 ? fmt_sec(s->retry_delay_ms)
	                                                          : xstrdup(""));
	set_val_own(ed, FD_MAX_RETRY_WAIT, s->max_retry_wait_ms != 120000
	                                   ? fmt_sec(s->max_retry_wait_ms) : xstrdup(""));
	set_val_own(ed, FD_CACHE_FRESH, s->fresh_ms != 900000 ? fmt_sec(s->fresh_ms) : xstrdup(""));

	set_val(ed, FD_SCHED_FULL, s->schedule.full);
	set_val(ed, FD_SCHED_DELTA, s->schedule.delta);
	set_val(ed, FD_GUARD, s->guard.enabled ? "true" : "false");
	set_val_own(ed, FD_GUARD_CHANGED, s->guard.max_changed_pct != 50.0
	                                  ? fmt_num(s->guard.max_changed_pct) : xstrdup(""));
	set_val_own(ed, FD_GUARD_ZEROED, s->guard.max_zeroed_pct != 50.0
	                                 ? fmt_num(s->guard.max_zeroed_pct) : xstrdup(""));

	set_val(ed, FD_DELTA_URL, s->has_delta ? s->delta.source.url : "");
	set_val_own(ed, FD_SINCE_PARAM, s->has_delta ? str_unless(s->delta.since_param,
	                                                         "updated_since") : xstrdup(""));
	set_val(ed, FD_SINCE_FORMAT, s->has_delta && s->delta.since_format == SINCE_UNIX
	                             ? "unix" : "iso");
	set_val_own(ed, FD_OVERLAP, s->has_delta && s->delta.overlap_ms != 120000
	                            ? fmt_sec(s->delta.overlap_ms) : xstrdup(""));

	set_val(ed, FD_CHECK_URL, s->has_check ? s->check.url : "");
	set_val(ed, FD_CHECK_METHOD, s->has_check && str_eq(s->check.method, "POST") ? "POST" : "GET");
	set_val(ed, FD_CHECK_BODY, s->has_check ? s->check.body : "");
	set_val_own(ed, FD_CHECK_CTYPE, s->has_check ? str_unless(s->check.content_type,
	                                                         "application/json") : xstrdup(""));
	set_val(ed, FD_CHECK_FORMAT, conf_format_name(s->has_check ? s->check.format : FORMAT_JSON));
	set_val_own(ed, FD_CHECK_TIMEOUT, s->has_check && s->check.timeout_ms != 2000
	                                  ? fmt_sec(s->check.timeout_ms) : xstrdup(""));
	set_val(ed, FD_CHECK_FAILURE, s->has_check && s->check.on_failure == CHECK_REFUSE
	                              ? "refuse" : "cache");

	set_val(ed, FD_WH_SCHEME, s->webhook.enabled ? schemes[s->webhook.scheme + 1] : "off");
	set_val_own(ed, FD_WH_HEADER, str_unless(s->webhook.header, p->header));
	set_val_own(ed, FD_WH_PREFIX, str_unless(s->webhook.prefix, p->prefix));
	set_val(ed, FD_WH_ENCODING, s->webhook.encoding == SIG_BASE64 ? "base64" : "hex");
	set_val(ed, FD_WH_KEY_B64, s->webhook.key_base64 ? "true" : "false");
	if (s->webhook.n_secrets > 1) {
		set_val(ed, FD_WH_SECRET_FROM, from_name(s->webhook.secrets[0].origin));
		set_val_own(ed, FD_WH_SECRET, xasprintf(P_("(%d secret: kept as in the file)",
		                                           "(%d secrets: kept as in the file)",
		                                           s->webhook.n_secrets),
		                                        s->webhook.n_secrets));
	} else {
		set_val(ed, FD_WH_SECRET_FROM, from_name(s->webhook.n_secrets
		                                         ? s->webhook.secrets[0].origin : SECRET_ENV));
		set_val(ed, FD_WH_SECRET, s->webhook.n_secrets ? s->webhook.secrets[0].spec : "");
	}
	set_val_own(ed, FD_WH_TS_HEADER, str_unless(s->webhook.timestamp_header,
	                                            p->timestamp_header));
	set_val_own(ed, FD_WH_TOLERANCE, s->webhook.enabled
	                                 && s->webhook.tolerance_ms != CONF_WEBHOOK_TOLERANCE_MS
	                                 ? fmt_sec(s->webhook.tolerance_ms) : xstrdup(""));
	set_val_own(ed, FD_WH_ID_HEADER, str_unless(s->webhook.id_header, p->id_header));
	set_val(ed, FD_WH_ID_FIELD, s->webhook.id_field);
	set_val_own(ed, FD_WH_MAX_BODY, s->webhook.enabled && s->webhook.max_body != 1048576
	                                ? fmt_i64(s->webhook.max_body) : xstrdup(""));
}

/* ---- text -> settings ---- */

struct apply {
	struct editor *ed;
	int bad;                       /* the field that could not be read, -1 */
	char msg[512];
};

static const char *v(struct apply *a, int id)
{
	return a->ed->val[id];
}

static int fail(struct apply *a, int id, const char *what)
{
	if (a->bad < 0) {
		a->bad = id;
		snprintf(a->msg, sizeof(a->msg), _("%s: expected %s, got \"%s\""), fdefs[id].path,
		         what, v(a, id));
	}
	return -1;
}

/* Empty -> dflt (a copy, or NULL). */
static void put_str(char **dst, const char *val, const char *dflt)
{
	free(*dst);
	*dst = xstrdup(*val ? val : dflt);
}

static int put_i64(struct apply *a, int id, int64_t *dst, int64_t dflt)
{
	if (!*v(a, id)) {
		*dst = dflt;
		return 0;
	}
	if (!str_to_i64(v(a, id), dst))
		return fail(a, id, _("a whole number"));
	return 0;
}

static int put_int(struct apply *a, int id, int *dst, int dflt)
{
	int64_t x;

	if (put_i64(a, id, &x, dflt) < 0)
		return -1;
	if (x < INT32_MIN || x > INT32_MAX)
		return fail(a, id, _("a smaller number"));
	*dst = (int)x;
	return 0;
}

static int put_num(struct apply *a, int id, double *dst, double dflt)
{
	if (!*v(a, id)) {
		*dst = dflt;
		return 0;
	}
	if (!str_to_double(v(a, id), dst) || !isfinite(*dst))
		return fail(a, id, _("a number"));
	return 0;
}

static int put_sec(struct apply *a, int id, int64_t *dst, int64_t dflt)
{
	double x;

	if (!*v(a, id)) {
		*dst = dflt;
		return 0;
	}
	if (!str_to_double(v(a, id), &x) || !isfinite(x) || fabs(x) > 1e12)
		return fail(a, id, _("a number of seconds"));
	*dst = (int64_t)llround(x * 1000.0);
	return 0;
}

static int choice(struct apply *a, int id)
{
	const char *const *c = fdefs[id].choices;
	int i;

	for (i = 0; c[i]; i++)
		if (strcmp(c[i], v(a, id)) == 0)
			return i;
	fail(a, id, _("one of the listed choices"));
	return -1;
}

static bool truth(struct apply *a, int id)
{
	return strcmp(v(a, id), "true") == 0;
}

static enum secret_origin origin_of(struct apply *a, int id)
{
	int c = choice(a, id);

	return c == 1 ? SECRET_CMD : c == 2 ? SECRET_INLINE : SECRET_ENV;
}

/* A secret: empty text = none. */
static void put_secret(struct secret *sec, enum secret_origin o, const char *text)
{
	free(sec->spec);
	free(sec->value);
	sec->spec = NULL;
	sec->value = NULL;
	sec->origin = SECRET_NONE;
	if (!*text || o == SECRET_NONE)
		return;
	sec->origin = o;
	sec->spec = xstrdup(text);
}

static int put_char(struct apply *a, int id, char *dst, char dflt)
{
	if (!*v(a, id)) {
		*dst = dflt;
		return 0;
	}
	if (strlen(v(a, id)) != 1)
		return fail(a, id, _("exactly one character"));
	*dst = v(a, id)[0];
	return 0;
}

static int put_text_values(struct apply *a, struct mapping *m)
{
	char *copy = xstrdup(v(a, FD_TEXT_VALUES)), *p, *next, *eq;
	int i, rc = 0;

	for (i = 0; i < m->n_text_values; i++)
		free(m->text_values[i].text);
	free(m->text_values);
	m->text_values = NULL;
	m->n_text_values = 0;
	for (p = copy; p && *p; p = next) {
		int64_t n;
		char *text;

		next = strchr(p, ';');
		if (next)
			*next++ = '\0';
		if (!*str_trim(p))
			continue;
		eq = strrchr(p, '=');
		if (!eq || !str_to_i64(eq + 1, &n)) {
			rc = fail(a, FD_TEXT_VALUES, _("TEXT=NUMBER pairs separated by ';'"));
			break;
		}
		*eq = '\0';
		text = str_trim(p);
		m->text_values = xrealloc(m->text_values,
		                          (size_t)(m->n_text_values + 1) * sizeof(*m->text_values));
		m->text_values[m->n_text_values].text = xstrdup(text);
		m->text_values[m->n_text_values].value = n;
		m->n_text_values++;
	}
	free(copy);
	return rc;
}

/* A delta source taking format, paging and map over from the source. */
static void delta_start(struct supplier_conf *s)
{
	struct source_conf *d = &s->delta.source;

	memset(&s->delta, 0, sizeof(s->delta));
	d->format = s->source.format;
	d->paging = s->source.paging;
	d->page_size = s->source.page_size;
	d->first_page = s->source.first_page;
	d->page_param = xstrdup(s->source.page_param);
	d->size_param = xstrdup(s->source.size_param);
	d->offset_param = xstrdup(s->source.offset_param);
	d->cursor_param = xstrdup(s->source.cursor_param);
	d->end = s->source.end;
	conf_map_copy(&d->map, &s->source.map);
}

static void delta_clear(struct supplier_conf *s)
{
	struct source_conf *d = &s->delta.source;

	free(d->url);
	free(d->page_param);
	free(d->size_param);
	free(d->offset_param);
	free(d->cursor_param);
	conf_map_clear(&d->map);
	free(s->delta.since_param);
	memset(&s->delta, 0, sizeof(s->delta));
	s->has_delta = false;
}

/* Applies the form onto ed->s.  Returns 0, or -1 with a->bad and a->msg. */
static int apply_values(struct apply *a)
{
	struct editor *ed = a->ed;
	struct supplier_conf *s = &ed->s;
	struct mapping *m = &s->source.map;
	struct webhook_conf *w = &s->webhook;
	int c;

	a->bad = -1;
	a->msg[0] = '\0';
	/* required text left empty is left out: the loader names it missing */
	put_str(&s->slug, v(a, FD_SLUG), NULL);
	put_str(&s->name, v(a, FD_NAME), s->slug);
	s->active = truth(a, FD_ACTIVE);
	put_int(a, FD_PRIORITY, &s->priority, 100);

	put_str(&s->source.url, v(a, FD_URL), NULL);
	if ((c = choice(a, FD_FORMAT)) >= 0)
		s->source.format = (enum feed_format)c;
	if ((c = choice(a, FD_PAGING)) >= 0)
		s->source.paging = (enum page_kind)c;
	put_i64(a, FD_PAGE_SIZE, &s->source.page_size, 500);
	put_i64(a, FD_FIRST_PAGE, &s->source.first_page, 1);
	put_str(&s->source.page_param, v(a, FD_PAGE_PARAM), "page");
	put_str(&s->source.size_param, v(a, FD_SIZE_PARAM), "limit");
	put_str(&s->source.offset_param, v(a, FD_OFFSET_PARAM), "offset");
	put_str(&s->source.cursor_param, v(a, FD_CURSOR_PARAM), "cursor");
	if ((c = choice(a, FD_END)) >= 0)
		s->source.end = (enum page_end)c;

	/* items may be "" (the root); it is left out when empty */
	put_str(&m->items, v(a, FD_ITEMS), NULL);
	put_str(&m->sku, v(a, FD_SKU), NULL);
	put_str(&m->stock, v(a, FD_STOCK), NULL);
	put_str(&m->updated_at, v(a, FD_UPDATED), NULL);
	put_str(&m->available, v(a, FD_AVAILABLE), NULL);
	put_str(&m->success, v(a, FD_SUCCESS), NULL);
	put_str(&m->message, v(a, FD_MESSAGE), NULL);
	put_str(&m->total, v(a, FD_TOTAL), NULL);
	put_str(&m->next, v(a, FD_NEXT), NULL);
	put_text_values(a, m);
	put_char(a, FD_DELIMITER, &m->delimiter, ',');
	put_char(a, FD_QUOTE, &m->quote, '"');
	m->header = truth(a, FD_HEADER);
	put_str(&m->encoding, v(a, FD_ENCODING), "UTF-8");

	if ((c = choice(a, FD_AUTH)) >= 0)
		s->auth.kind = (enum auth_kind)c;
	put_str(&s->auth.header, v(a, FD_AUTH_HEADER), NULL);
	put_str(&s->auth.param, v(a, FD_AUTH_PARAM), NULL);
	put_str(&s->auth.username, v(a, FD_USERNAME), NULL);
	put_secret(&s->auth.token, origin_of(a, FD_TOKEN_FROM), v(a, FD_TOKEN));
	put_secret(&s->auth.password, origin_of(a, FD_PASSWORD_FROM), v(a, FD_PASSWORD));

	put_i64(a, FD_SAFETY, &s->rules.safety_buffer, 0);
	put_i64(a, FD_CAP, &s->rules.cap, -1);
	put_num(a, FD_MULTIPLIER, &s->rules.multiplier, 1.0);
	put_i64(a, FD_PACK, &s->rules.pack_size, 1);
	s->rules.zero_missing = truth(a, FD_ZERO_MISSING);
	put_num(a, FD_ZERO_MAX, &s->rules.zero_missing_max_pct, 20.0);

	put_sec(a, FD_TIMEOUT, &s->timeout_ms, 60000);
	put_sec(a, FD_CONNECT_TIMEOUT, &s->connect_timeout_ms, 10000);
	put_num(a, FD_RATE_SEC, &s->rate_per_sec, 0);
	put_i64(a, FD_RATE_HOUR, &s->rate_per_hour, 0);
	put_i64(a, FD_MAX_BYTES, &s->max_bytes, 268435456);
	put_int(a, FD_RETRIES, &s->retries, 3);
	put_sec(a, FD_RETRY_DELAY, &s->retry_delay_ms, 1000);
	put_sec(a, FD_MAX_RETRY_WAIT, &s->max_retry_wait_ms, 120000);
	put_sec(a, FD_CACHE_FRESH, &s->fresh_ms, 900000);

	put_str(&s->schedule.full, v(a, FD_SCHED_FULL), NULL);
	put_str(&s->schedule.delta, v(a, FD_SCHED_DELTA), NULL);
	s->guard.enabled = truth(a, FD_GUARD);
	put_num(a, FD_GUARD_CHANGED, &s->guard.max_changed_pct, 50.0);
	put_num(a, FD_GUARD_ZEROED, &s->guard.max_zeroed_pct, 50.0);

	if (!*v(a, FD_DELTA_URL)) {
		delta_clear(s);
		/* a delta schedule without a delta: let the loader say so */
		if (s->schedule.delta && a->bad < 0) {
			/* conf_supplier_text would drop it silently */
			a->bad = FD_SCHED_DELTA;
			snprintf(a->msg, sizeof(a->msg), _("schedule.delta: only used when the supplier "
			                                   "has a delta URL"));
		}
	} else {
		if (!s->has_delta) {
			delta_start(s);
			s->has_delta = true;
			ed->delta_inherits = true;
		}
		put_str(&s->delta.source.url, v(a, FD_DELTA_URL), NULL);
		put_str(&s->delta.since_param, v(a, FD_SINCE_PARAM), "updated_since");
		if ((c = choice(a, FD_SINCE_FORMAT)) >= 0)
			s->delta.since_format = (enum since_format)c;
		put_sec(a, FD_OVERLAP, &s->delta.overlap_ms, 120000);
		if (ed->delta_inherits) {
			/* format, paging and map follow the source */
			conf_map_clear(&s->delta.source.map);
			conf_map_copy(&s->delta.source.map, &s->source.map);
			s->delta.source.format = s->source.format;
			s->delta.source.paging = s->source.paging;
			s->delta.source.page_size = s->source.page_size;
			s->delta.source.first_page = s->source.first_page;
			s->delta.source.end = s->source.end;
			put_str(&s->delta.source.page_param, s->source.page_param, NULL);
			put_str(&s->delta.source.size_param, s->source.size_param, NULL);
			put_str(&s->delta.source.offset_param, s->source.offset_param, NULL);
			put_str(&s->delta.source.cursor_param, s->source.cursor_param, NULL);
		}
	}

	if (!*v(a, FD_CHECK_URL)) {
		free(s->check.url);
		free(s->check.method);
		free(s->check.body);
		free(s->check.content_type);
		conf_map_clear(&s->check.map);
		memset(&s->check, 0, sizeof(s->check));
		s->has_check = false;
	} else {
		if (!s->has_check) {
			memset(&s->check, 0, sizeof(s->check));
			conf_map_copy(&s->check.map, &s->source.map);
			s->has_check = true;
			ed->check_inherits = true;
		}
		put_str(&s->check.url, v(a, FD_CHECK_URL), NULL);
		if ((c = choice(a, FD_CHECK_METHOD)) >= 0)
			put_str(&s->check.method, methods[c], NULL);
		put_str(&s->check.body, v(a, FD_CHECK_BODY), NULL);
		put_str(&s->check.content_type, v(a, FD_CHECK_CTYPE), "application/json");
		if ((c = choice(a, FD_CHECK_FORMAT)) >= 0)
			s->check.format = (enum feed_format)c;
		put_sec(a, FD_CHECK_TIMEOUT, &s->check.timeout_ms, 2000);
		if ((c = choice(a, FD_CHECK_FAILURE)) >= 0)
			s->check.on_failure = (enum check_failure)c;
		if (ed->check_inherits) {
			conf_map_clear(&s->check.map);
			conf_map_copy(&s->check.map, &s->source.map);
		}
	}

	c = choice(a, FD_WH_SCHEME);
	if (c <= 0) {
		/* off: the webhook group goes */
		if (w->enabled) {
			int i;

			free(w->header);
			free(w->prefix);
			for (i = 0; i < w->n_secrets; i++)
				put_secret(&w->secrets[i], SECRET_NONE, "");
			free(w->secrets);
			free(w->timestamp_header);
			free(w->id_header);
			free(w->id_field);
			conf_map_clear(&w->map);
			memset(w, 0, sizeof(*w));
		}
	} else {
		if (!w->enabled) {
			memset(w, 0, sizeof(*w));
			conf_map_copy(&w->map, &s->source.map);
			w->enabled = true;
			ed->webhook_inherits = true;
		}
		w->scheme = (enum webhook_scheme)(c - 1);
		put_str(&w->header, v(a, FD_WH_HEADER), NULL);
		put_str(&w->prefix, v(a, FD_WH_PREFIX), NULL);
		if ((c = choice(a, FD_WH_ENCODING)) >= 0)
			w->encoding = (enum sig_encoding)c;
		w->key_base64 = truth(a, FD_WH_KEY_B64);
		if (!ed->multi_secrets) {
			if (w->n_secrets == 0) {
				w->secrets = xcalloc(1, sizeof(*w->secrets));
				w->n_secrets = 1;
			}
			put_secret(&w->secrets[0], origin_of(a, FD_WH_SECRET_FROM), v(a, FD_WH_SECRET));
			if (w->secrets[0].origin == SECRET_NONE) {
				free(w->secrets);
				w->secrets = NULL;
				w->n_secrets = 0;
			}
		}
		put_str(&w->timestamp_header, v(a, FD_WH_TS_HEADER), NULL);
		put_sec(a, FD_WH_TOLERANCE, &w->tolerance_ms, CONF_WEBHOOK_TOLERANCE_MS);
		put_str(&w->id_header, v(a, FD_WH_ID_HEADER), NULL);
		put_str(&w->id_field, v(a, FD_WH_ID_FIELD), NULL);
		put_i64(a, FD_WH_MAX_BODY, &w->max_body, 1048576);
		if (ed->webhook_inherits) {
			conf_map_clear(&w->map);
			conf_map_copy(&w->map, &s->source.map);
		}
	}
	return a->bad >= 0 ? -1 : 0;
}

/* ---- the form ---- */

static bool is_choice(int id)
{
	return fdefs[id].kind == F_ENUM || fdefs[id].kind == F_BOOL;
}

static bool editable(const struct editor *ed, int id)
{
	if (is_choice(id))
		return false;
	if (id == FD_SLUG && !ed->is_new)
		return false;
	if (id == FD_WH_SECRET && ed->multi_secrets)
		return false;
	return true;
}

/* The secret field whose "from" field is id, or -1. */
static int secret_of(int id)
{
	switch (id) {
	case FD_TOKEN_FROM: return FD_TOKEN;
	case FD_PASSWORD_FROM: return FD_PASSWORD;
	case FD_WH_SECRET_FROM: return FD_WH_SECRET;
	}
	return -1;
}

/* An inline secret is not shown on the screen. */
static void secret_visibility(struct editor *ed, int from)
{
	int id = secret_of(from);

	if (id < 0 || !ed->vf[id])
		return;
	if (strcmp(ed->val[from], "inline") == 0 && !(id == FD_WH_SECRET && ed->multi_secrets))
		field_opts_off(ed->vf[id], O_PUBLIC);
	else
		field_opts_on(ed->vf[id], O_PUBLIC);
}

static char *rtrim_dup(const char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return xstrndup(s, n);
}

/* Copies the form's text into ed->val. */
static void sync_values(struct editor *ed)
{
	int id;

	if (!ed->form)
		return;
	form_driver(ed->form, REQ_VALIDATION);
	for (id = 0; id < FD_COUNT; id++)
		if (ed->vf[id] && field_buffer(ed->vf[id], 0))
			set_val_own(ed, id, rtrim_dup(field_buffer(ed->vf[id], 0)));
}

static int field_id(FIELD *f)
{
	return f ? (int)(intptr_t)field_userptr(f) - 1 : -1;
}

static void form_destroy(struct editor *ed)
{
	int i;

	if (ed->form) {
		unpost_form(ed->form);
		free_form(ed->form);
		ed->form = NULL;
	}
	for (i = 0; i < ed->nfields; i++)
		free_field(ed->fields[i]);
	free(ed->fields);
	ed->fields = NULL;
	ed->nfields = 0;
	memset(ed->vf, 0, sizeof(ed->vf));
	if (ed->fwin) {
		delwin(ed->fwin);
		ed->fwin = NULL;
	}
}

static void add_field(struct editor *ed, FIELD *f, bool *new_page)
{
	if (!f)
		return;
	if (*new_page) {
		set_new_page(f, TRUE);
		*new_page = false;
	}
	ed->fields = xrealloc(ed->fields, (size_t)(ed->nfields + 2) * sizeof(*ed->fields));
	ed->fields[ed->nfields++] = f;
	ed->fields[ed->nfields] = NULL;
}

static FIELD *label_field(struct editor *ed, int row, int col, int width, const char *text,
                          attr_t attr, bool *new_page)
{
	FIELD *f = new_field(1, width, row, col, 0, 0);

	if (!f)
		return NULL;
	field_opts_off(f, O_ACTIVE);
	set_field_buffer(f, 0, text);
	set_field_fore(f, attr);
	add_field(ed, f, new_page);
	return f;
}

/* Lays the fields out for a body of rows x cols: groups on pages of
 * rows - 5 lines (title above, help and keys below). */
static void form_build(struct editor *ed, int rows, int cols)
{
	int form_h = rows - 5, fw = cols - FIELD_X - 1, row = 0, id, g;
	bool new_page = false;
	const char *group = NULL;
	char title[128];

	form_destroy(ed);
	ed->rows = rows;
	ed->cols = cols;
	ed->npages = 0;
	if (form_h < 3 || fw < 8)
		return;
	if (fw > 72)
		fw = 72;
	ed->fwin = newwin(form_h, cols, 0, 0);
	if (!ed->fwin)
		return;
	ed->npages = 1;
	for (id = 0; id < FD_COUNT; id++) {
		FIELD *f;

		if (fdefs[id].group) {
			int n = 1;

			group = fdefs[id].group;
			for (g = id + 1; g < FD_COUNT && !fdefs[g].group; g++)
				n++;
			/* a group starts a page when it does not fit on this one */
			if (row > 0 && row + 1 + n > form_h) {
				row = 0;
				new_page = true;
				ed->npages++;
			} else if (row > 0) {
				row++;        /* a blank line between groups */
			}
			snprintf(title, sizeof(title), "%s", _(group));
			label_field(ed, row++, 0, cols - 1, title, tui_attr(ed->t, TUI_C_TITLE),
			            &new_page);
		} else if (row >= form_h) {
			row = 0;
			new_page = true;
			ed->npages++;
			snprintf(title, sizeof(title), _("%s (continued)"), _(group));
			label_field(ed, row++, 0, cols - 1, title, tui_attr(ed->t, TUI_C_TITLE),
			            &new_page);
		}
		label_field(ed, row, 2, LABEL_W, _(fdefs[id].label), A_NORMAL, &new_page);
		f = new_field(1, fw, row, FIELD_X, 0, 0);
		row++;
		if (!f)
			continue;
		set_field_userptr(f, (void *)(intptr_t)(id + 1));
		field_opts_off(f, O_AUTOSKIP | O_BLANK | O_STATIC);
		set_max_field(f, 4096);
		if (!editable(ed, id))
			field_opts_off(f, O_EDIT);
		set_field_back(f, is_choice(id) ? A_BOLD : A_UNDERLINE);
		set_field_buffer(f, 0, ed->val[id]);
		ed->vf[id] = f;
		add_field(ed, f, &new_page);
	}
	secret_visibility(ed, FD_TOKEN_FROM);
	secret_visibility(ed, FD_PASSWORD_FROM);
	secret_visibility(ed, FD_WH_SECRET_FROM);
	ed->form = new_form(ed->fields);
	if (!ed->form) {
		form_destroy(ed);
		return;
	}
	set_form_win(ed->form, ed->fwin);
	set_form_sub(ed->form, ed->fwin);
	if (post_form(ed->form) != E_OK) {
		form_destroy(ed);
		return;
	}
	if (ed->vf[ed->cur])
		set_current_field(ed->form, ed->vf[ed->cur]);
}

static void focus(struct editor *ed, int id)
{
	if (id < 0 || id >= FD_COUNT)
		return;
	ed->cur = id;
	if (ed->form && ed->vf[id])
		set_current_field(ed->form, ed->vf[id]);
}

static void follow_form(struct editor *ed)
{
	int id = ed->form ? field_id(current_field(ed->form)) : -1;

	if (id >= 0)
		ed->cur = id;
}

static void set_msg(struct editor *ed, int field, const char *msg)
{
	free(ed->msg);
	ed->msg = msg ? xstrdup(msg) : NULL;
	ed->err_field = field;
	if (field >= 0)
		focus(ed, field);
}

/* ---- loader errors -> fields ---- */

static int field_by_path(const char *path)
{
	int id;

	for (id = 0; id < FD_COUNT; id++)
		if (strcmp(fdefs[id].path, path) == 0)
			return id;
	return -1;
}

static int field_under(const char *prefix)
{
	size_t n = strlen(prefix);
	int id;

	for (id = 0; id < FD_COUNT; id++)
		if (strncmp(fdefs[id].path, prefix, n) == 0 && fdefs[id].path[n] == '.')
			return id;
	return -1;
}

/* The field an option path ("auth.token_env", "source.map.text_values[1]",
 * "webhook.secrets_env[0]", "delta.map.sku") is edited in, or -1. */
static int field_for_option(const char *option)
{
	static const struct { const char *from, *to; } alias[] = {
		{ "auth.token_env", "auth.token" }, { "auth.token_cmd", "auth.token" },
		{ "auth.password_env", "auth.password" }, { "auth.password_cmd", "auth.password" },
		{ "webhook.secret_env", "webhook.secret" }, { "webhook.secret_cmd", "webhook.secret" },
		{ "webhook.secrets", "webhook.secret" }, { "webhook.secrets_env", "webhook.secret" },
		{ "webhook.secrets_cmd", "webhook.secret" },
	};
	char *p = xstrdup(option), *br, *dot;
	size_t i;
	int id = -1;

	while ((br = strchr(p, '[')) != NULL)
		*br = '\0';
	for (i = 0; i < ARRAY_SIZE(alias); i++) {
		if (strcmp(p, alias[i].from) == 0) {
			free(p);
			p = xstrdup(alias[i].to);
			break;
		}
	}
	while (*p && (id = field_by_path(p)) < 0 && (id = field_under(p)) < 0) {
		dot = strrchr(p, '.');
		if (!dot)
			break;
		*dot = '\0';
	}
	free(p);
	return id;
}

/* "FILE:LINE: OPTION: cause" -> the field of OPTION and "OPTION: cause".
 * The loader names the option in err->option when it knows it (a missing
 * required option, for one, whose name is not in the location); else the
 * location's OPTION, which is never translated, tells the field. */
static void show_load_error(struct editor *ed, const char *shown, const struct error *err)
{
	const char *p = err->msg, *end;
	char *option = NULL;
	int id = -1;

	if (str_startswith(p, shown)) {
		p += strlen(shown);
		if (*p == ':' && p[1] >= '0' && p[1] <= '9') {
			p++;
			while (*p >= '0' && *p <= '9')
				p++;
		}
		if (*p == ':' && p[1] == ' ')
			p += 2;
	}
	if (err->option[0]) {
		id = field_by_path(err->option);
		if (id < 0)
			id = field_for_option(err->option);
	}
	end = strstr(p, ": ");
	if (id < 0 && end && !memchr(p, ' ', (size_t)(end - p))) {
		option = xstrndup(p, (size_t)(end - p));
		id = field_for_option(option);
	}
	free(option);
	set_msg(ed, id, p);
}

/* ---- save and test ---- */

/* "suppliers.d/SLUG.conf": the file as messages name it. */
static char *supplier_short(const struct conf *c, const char *slug)
{
	const char *dir = c->suppliers_dir, *base;
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	base = dir;
	for (size_t i = 0; i + 1 < n; i++)
		if (dir[i] == '/')
			base = dir + i + 1;
	return xasprintf("%.*s/%s.conf", (int)(n - (size_t)(base - dir)), base, slug);
}

static char *supplier_path(const struct conf *c, const char *slug)
{
	char *name = xasprintf("%s.conf", slug);
	char *path = path_join(c->suppliers_dir, name);

	free(name);
	return path;
}

/* Tells a running daemon to read the configuration again; true when told. */
static bool notify_daemon(const struct conf *c)
{
	long pid = 0;

	if (!daemon_is_running(c->db_path, &pid) || pid <= 0)
		return false;
	return kill((pid_t)pid, SIGHUP) == 0;
}

/* Applies the form and checks the result with the loader: the text in
 * *text and (out not NULL) the loaded settings.  Shows what is wrong and
 * returns -1 otherwise. */
static int editor_check(struct editor *ed, char **text, char **shown, struct supplier_conf *out)
{
	const struct conf *c = tui_conf(ed->t);
	struct apply a = { ed, -1, "" };
	struct error err;

	*text = NULL;
	*shown = NULL;
	sync_values(ed);
	if (apply_values(&a) < 0) {
		set_msg(ed, a.bad, a.msg);
		return -1;
	}
	*text = conf_supplier_text(&ed->s);
	*shown = supplier_path(c, ed->s.slug ? ed->s.slug : "");
	err_clear(&err);
	if (conf_supplier_validate(*text, ed->s.slug, *shown, out, &err) < 0) {
		show_load_error(ed, *shown, &err);
		return -1;
	}
	set_msg(ed, -1, NULL);
	return 0;
}

static int editor_save(struct editor *ed)
{
	const struct conf *c = tui_conf(ed->t);
	char *text = NULL, *shown = NULL;
	struct error err;
	struct stat st;
	char *short_name = NULL;
	bool told;
	int r = TUI_HANDLED;

	if (c->embedded || !c->suppliers_dir) {
		set_msg(ed, -1, _("the console runs on the embedded demo configuration: write a "
		                  "dropstock.conf first (see dropstock.conf(5)), then add suppliers"));
		return r;
	}
	if (editor_check(ed, &text, &shown, NULL) < 0)
		goto out;
	if (ed->is_new && stat(shown, &st) == 0) {
		char *m = xasprintf(_("slug: %s already exists; edit that supplier with e"), shown);

		set_msg(ed, FD_SLUG, m);
		free(m);
		goto out;
	}
	err_clear(&err);
	if (conf_supplier_save(c->suppliers_dir, ed->s.slug, text, &err) < 0) {
		set_msg(ed, -1, err.msg);
		goto out;
	}
	short_name = supplier_short(c, ed->s.slug);
	err_clear(&err);
	if (tui_conf_reload(ed->t, &err) < 0) {
		tui_error(ed->t, _("saved %s, but the configuration did not reload: %s"), short_name,
		          err.msg);
	} else {
		c = tui_conf(ed->t);
		told = notify_daemon(c);
		if (told)
			tui_message(ed->t, _("saved %s; the daemon was told to reload"), short_name);
		else
			tui_message(ed->t, _("saved %s"), short_name);
	}
	r = TUI_HANDLED | TUI_BACK;
out:
	free(short_name);
	free(text);
	free(shown);
	return r;
}

static void test_run(struct db *db, const struct conf *c, void *arg)
{
	struct testjob *tj = arg;

	(void)db;
	err_clear(&tj->err);
	tj->rc = engine_test_connection(c, &tj->s, TESTCONN_MAX_ITEMS, &tj->r, &tj->err);
}

static void test_free(void *arg)
{
	struct testjob *tj = arg;

	conf_supplier_free(&tj->s);
	free(tj);
}

static void editor_test(struct editor *ed)
{
	struct testjob *tj = xcalloc(1, sizeof(*tj));
	char *text = NULL, *shown = NULL;

	if (editor_check(ed, &text, &shown, &tj->s) < 0) {
		free(tj);
		goto out;
	}
	ed->job = tui_job_start(ed->t, test_run, tj, test_free);
	if (!ed->job)
		set_msg(ed, -1, _("cannot start the connection test"));
out:
	free(text);
	free(shown);
}

/* ---- screen ---- */

static bool modified(struct editor *ed)
{
	int id;

	sync_values(ed);
	for (id = 0; id < FD_COUNT; id++)
		if (!str_eq(ed->val[id], ed->initial[id]))
			return true;
	return false;
}

static void *editor_open(struct tui *t, void *arg)
{
	struct editor *ed = xcalloc(1, sizeof(*ed));
	const struct conf *c = tui_conf(t);
	struct error err;
	int id;

	ed->t = t;
	ed->err_field = -1;
	err_clear(&err);
	if (tui_read_only(t)) {
		ed->orig_slug = arg ? xstrdup(arg) : NULL;
		ed->msg = xstrdup(_("read-only console: the supplier editor is not available"));
		return ed;
	}
	if (arg) {
		char *path = supplier_path(c, arg);

		ed->orig_slug = xstrdup(arg);
		ed->cur = FD_NAME;
		if (conf_load_supplier(path, &ed->s, &err) < 0) {
			free(path);
			ed->msg = xstrdup(err.msg);
			return ed;
		}
		free(path);
	} else {
		static const char tmpl[] =
			"slug = \"new\";\n"
			"source = { url = \"file:///dev/null\"; format = \"json\";\n"
			"           map = { sku = \"sku\"; stock = \"stock\"; }; };\n";

		ed->is_new = true;
		ed->cur = FD_SLUG;
		if (conf_supplier_validate(tmpl, "new", NULL, &ed->s, &err) < 0) {
			ed->msg = xstrdup(err.msg);
			return ed;
		}
	}
	ed->delta_inherits = ed->s.has_delta && ed->s.delta.source.format == ed->s.source.format
	                     && ed->s.delta.source.paging == ed->s.source.paging
	                     && conf_map_equal(&ed->s.delta.source.map, &ed->s.source.map);
	ed->check_inherits = ed->s.has_check && ed->s.check.format == ed->s.source.format
	                     && conf_map_equal(&ed->s.check.map, &ed->s.source.map);
	ed->webhook_inherits = ed->s.webhook.enabled && ed->s.source.format == FORMAT_JSON
	                       && conf_map_equal(&ed->s.webhook.map, &ed->s.source.map);
	ed->multi_secrets = ed->s.webhook.n_secrets > 1;
	ed->loaded = true;
	fill_values(ed);
	if (ed->is_new) {
		set_val(ed, FD_SLUG, "");
		set_val(ed, FD_NAME, "");
		set_val(ed, FD_URL, "");
		set_val(ed, FD_SKU, "");
		set_val(ed, FD_STOCK, "");
	}
	for (id = 0; id < FD_COUNT; id++)
		ed->initial[id] = xstrdup(ed->val[id]);
	return ed;
}

static void editor_close(void *st)
{
	struct editor *ed = st;
	int id;

	if (!ed)
		return;
	if (ed->job)
		tui_job_abandon(ed->job);
	if (ed->editing)
		curs_set(0);
	form_destroy(ed);
	for (id = 0; id < FD_COUNT; id++) {
		free(ed->val[id]);
		free(ed->initial[id]);
	}
	free(ed->undo);
	free(ed->msg);
	free(ed->result);
	free(ed->orig_slug);
	conf_supplier_free(&ed->s);
	free(ed);
}

static void editor_refresh(struct tui *t, void *st)
{
	struct editor *ed = st;

	(void)t;
	if (ed->job && tui_job_done(ed->job)) {
		struct testjob *tj = tui_job_arg(ed->job);

		free(ed->result);
		ed->result = xmalloc(sizeof(*ed->result));
		ed->result->r = tj->r;
		ed->result->err = tj->err;
		ed->result->rc = tj->rc;
		memset(&ed->result->s, 0, sizeof(ed->result->s));
		tui_job_free(ed->job);
		ed->job = NULL;
	}
}

/* Puts text on up to n lines from y, breaking at blanks. */
static int put_wrapped(WINDOW *w, int y, int n, int cols, const char *text)
{
	const char *p = text;
	int used = 0;

	while (*p && used < n) {
		size_t len = strlen(p), cut = len;

		if ((int)len > cols - 1) {
			cut = (size_t)(cols - 1);
			while (cut > 0 && p[cut] != ' ')
				cut--;
			if (cut == 0)
				cut = (size_t)(cols - 1);
		}
		{
			char *line = xstrndup(p, cut);

			tui_put(w, y + used, 0, cols, line);
			free(line);
		}
		used++;
		p += cut;
		while (*p == ' ')
			p++;
	}
	return used;
}

static void draw_test(struct editor *ed, WINDOW *w, int rows, int cols)
{
	const struct testjob *r = ed->result;
	char line[512], upd[48], nbytes[96], nitems[96];
	int y = 1, i;

	if (!r) {
		snprintf(line, sizeof(line), _("%s Testing the connection with the unsaved values... "
		                               "(Esc abandons)"), tui_spinner(ed->t));
		tui_put(w, y, 0, cols, line);
		return;
	}
	if (r->rc < 0) {
		wattron(w, tui_attr(ed->t, TUI_C_ERROR));
		tui_put(w, y++, 0, cols, _("Test connection failed:"));
		y += put_wrapped(w, y, rows - y - 2, cols, r->err.msg);
		wattroff(w, tui_attr(ed->t, TUI_C_ERROR));
	} else {
		/* TRANSLATORS: a part of "Test connection: HTTP 200, 4,242 bytes, 50
		   items in the first page, 120 ms" */
		snprintf(nbytes, sizeof(nbytes), P_("%s byte", "%s bytes", r->r.bytes),
		         fmt_int(r->r.bytes));
		/* TRANSLATORS: a part of "Test connection: HTTP 200, 4,242 bytes, 50
		   items in the first page, 120 ms" */
		snprintf(nitems, sizeof(nitems), P_("%s item in the first page",
		                                    "%s items in the first page", r->r.items_in_page),
		         fmt_int(r->r.items_in_page));
		if (r->r.status)
			/* TRANSLATORS: "Test connection: HTTP 200, 4,242 bytes, 50 items in
			   the first page, 120 ms": "%s bytes", then "%s items in the first
			   page", then the milliseconds */
			snprintf(line, sizeof(line), _("Test connection: HTTP %ld, %s, %s, %s ms"),
			         r->r.status, nbytes, nitems, fmt_int(r->r.elapsed_ms));
		else
			/* TRANSLATORS: "Test connection: 4,242 bytes, 50 items in the first
			   page, 120 ms" */
			snprintf(line, sizeof(line), _("Test connection: %s, %s, %s ms"), nbytes, nitems,
			         fmt_int(r->r.elapsed_ms));
		wattron(w, tui_attr(ed->t, TUI_C_OK));
		tui_put(w, y++, 0, cols, line);
		wattroff(w, tui_attr(ed->t, TUI_C_OK));
		if (r->r.has_total) {
			snprintf(line, sizeof(line), P_("The supplier reports %s item in all.",
			                                "The supplier reports %s items in all.",
			                                r->r.total),
			         fmt_int(r->r.total));
			tui_put(w, y++, 0, cols, line);
		}
		y++;
		/* TRANSLATORS: column headings of the editor's connection test:
		   the item's position (5 columns), its SKU (20), the supplier's
		   stock and the stock the store gets (8 columns each), the
		   supplier's time of the figure (20), why it was skipped */
		snprintf(line, sizeof(line), "%s  %s %s %s  %s %s", fmt_col(_("#"), -5),
		         fmt_col(_("SKU"), 20), fmt_col(_("stock"), -8), fmt_col(_("store"), -8),
		         fmt_col(_("updated"), 20), _("note"));
		wattron(w, tui_attr(ed->t, TUI_C_TITLE));
		tui_put(w, y++, 0, cols, line);
		wattroff(w, tui_attr(ed->t, TUI_C_TITLE));
		for (i = 0; i < r->r.n && y < rows - 2; i++) {
			const struct testconn_item *it = &r->r.items[i];

			if (it->updated_at)
				time_format_local(it->updated_at, TIME_SECONDS, upd, sizeof(upd));
			else
				snprintf(upd, sizeof(upd), "-");
			if (it->ok)
				snprintf(line, sizeof(line), "%5lld  %s %s %s  %s",
				         (long long)it->position, fmt_col(it->sku, 20),
				         fmt_col(fmt_int(it->stock), -8),
				         fmt_col(fmt_int(it->store_stock), -8), fmt_col(upd, 20));
			else
				snprintf(line, sizeof(line), "%5lld  %s %8s %8s  %s %s",
				         (long long)it->position, fmt_col(it->sku, 20), "-", "-",
				         fmt_col(upd, 20), it->error);
			if (!it->ok)
				wattron(w, tui_attr(ed->t, TUI_C_ERROR));
			tui_put(w, y++, 0, cols, line);
			if (!it->ok)
				wattroff(w, tui_attr(ed->t, TUI_C_ERROR));
		}
	}
	wattron(w, tui_attr(ed->t, TUI_C_DIM));
	tui_put(w, rows - 1, 0, cols, _("Any key returns to the form; nothing was written."));
	wattroff(w, tui_attr(ed->t, TUI_C_DIM));
}

static void editor_draw(struct tui *t, void *st, WINDOW *w, int rows, int cols)
{
	struct editor *ed = st;
	char line[512];
	int id, y, page;
	FIELD *cf;

	if (ed->orig_slug)
		snprintf(line, sizeof(line), _("Edit supplier %s"), ed->orig_slug);
	else
		snprintf(line, sizeof(line), "%s", _("New supplier"));
	wattron(w, tui_attr(t, TUI_C_TITLE));
	tui_put(w, 0, 0, cols, line);
	wattroff(w, tui_attr(t, TUI_C_TITLE));
	if (!ed->loaded) {
		/* the file did not load: say why, and only Esc works */
		wattron(w, tui_attr(t, TUI_C_ERROR));
		put_wrapped(w, 2, rows - 4, cols, ed->msg ? ed->msg : "");
		wattroff(w, tui_attr(t, TUI_C_ERROR));
		tui_put(w, rows - 1, 0, cols, _("Esc back"));
		return;
	}
	if (ed->job || ed->result) {
		draw_test(ed, w, rows, cols);
		return;
	}
	if (!ed->form || rows != ed->rows || cols != ed->cols) {
		sync_values(ed);
		form_build(ed, rows, cols);
	}
	if (!ed->form) {
		tui_put(w, 1, 0, cols, _("The window is too small for the editor."));
		return;
	}
	/* the focused field stands out; a field named by an error too */
	for (id = 0; id < FD_COUNT; id++) {
		attr_t want;

		if (!ed->vf[id])
			continue;
		want = is_choice(id) ? A_BOLD : A_UNDERLINE;
		if (id == ed->cur)
			want = A_REVERSE;
		if (field_back(ed->vf[id]) != want)
			set_field_back(ed->vf[id], want);
	}
	pos_form_cursor(ed->form);
	copywin(ed->fwin, w, 0, 0, 1, 0, rows - 5, cols - 1, FALSE);

	cf = current_field(ed->form);
	page = form_page(ed->form);
	y = rows - 4;
	if (ed->msg) {
		wattron(w, tui_attr(t, TUI_C_ERROR));
		y += put_wrapped(w, y, 2, cols, ed->msg);
		wattroff(w, tui_attr(t, TUI_C_ERROR));
	} else {
		snprintf(line, sizeof(line), _("Page %d/%d  (PgUp/PgDn)"), page + 1, ed->npages);
		wattron(w, tui_attr(t, TUI_C_DIM));
		tui_put(w, y++, 0, cols, line);
		wattroff(w, tui_attr(t, TUI_C_DIM));
	}
	id = field_id(cf);
	if (id >= 0) {
		snprintf(line, sizeof(line), "%s: %s", fdefs[id].path, _(fdefs[id].help));
		put_wrapped(w, y, rows - 1 - y, cols, line);
	}
	wattron(w, tui_attr(t, TUI_C_DIM));
	tui_put(w, rows - 1, 0, cols, ed->editing
	        ? _("Enter/Tab done  Esc undo  ^U clear  F2 save")
	        : _("Enter edit/change  Space change  s save  t test  PgDn page  Esc back  ? keys"));
	wattroff(w, tui_attr(t, TUI_C_DIM));
	if (ed->editing) {
		int cy, cx;

		getyx(ed->fwin, cy, cx);
		wmove(w, cy + 1, cx);
	}
}

/* ---- keys ---- */

static void cycle(struct editor *ed, int id, int dir)
{
	const char *const *c = fdefs[id].choices;
	int n = 0, i = 0, k;

	if (!c || !ed->vf[id])
		return;
	while (c[n])
		n++;
	for (k = 0; k < n; k++)
		if (strcmp(c[k], ed->val[id]) == 0)
			i = k;
	i = ((i + dir) % n + n) % n;
	set_val(ed, id, c[i]);
	set_field_buffer(ed->vf[id], 0, c[i]);
	secret_visibility(ed, id);
}

static void edit_start(struct editor *ed)
{
	free(ed->undo);
	sync_values(ed);
	ed->undo = xstrdup(ed->val[ed->cur]);
	ed->editing = true;
	ed->mb_len = 0;
	form_driver(ed->form, REQ_END_FIELD);
	curs_set(1);
}

static void edit_end(struct editor *ed, bool keep)
{
	if (!keep && ed->undo)
		set_field_buffer(ed->vf[ed->cur], 0, ed->undo);
	form_driver(ed->form, REQ_VALIDATION);
	ed->editing = false;
	curs_set(0);
	sync_values(ed);
	/* an error about the field just changed is out of date */
	if (ed->msg && ed->err_field == ed->cur && !str_eq(ed->undo, ed->val[ed->cur]))
		set_msg(ed, -1, NULL);
}

/* A typed byte: ASCII at once, UTF-8 sequences once complete. */
static void edit_char(struct editor *ed, int ch)
{
	mbstate_t ps;
	wchar_t wc;
	size_t r;

	if (ch < 0x80) {
		ed->mb_len = 0;
		form_driver(ed->form, ch);
		return;
	}
	if (ed->mb_len >= sizeof(ed->mb))
		ed->mb_len = 0;
	ed->mb[ed->mb_len++] = (char)ch;
	memset(&ps, 0, sizeof(ps));
	r = mbrtowc(&wc, ed->mb, ed->mb_len, &ps);
	if (r == (size_t)-2)
		return;
	ed->mb_len = 0;
	if (r != (size_t)-1)
		form_driver_w(ed->form, OK, wc);
}

static int key_editing(struct editor *ed, int ch)
{
	switch (ch) {
	case '\n':
	case '\r':
	case KEY_ENTER:
	case '\t':
	case KEY_DOWN:
		edit_end(ed, true);
		form_driver(ed->form, REQ_NEXT_FIELD);
		break;
	case KEY_UP:
	case KEY_BTAB:
		edit_end(ed, true);
		form_driver(ed->form, REQ_PREV_FIELD);
		break;
	case 27:
		edit_end(ed, false);
		break;
	case KEY_F(2):
		edit_end(ed, true);
		return editor_save(ed);
	case KEY_LEFT:
		form_driver(ed->form, REQ_PREV_CHAR);
		break;
	case KEY_RIGHT:
		form_driver(ed->form, REQ_NEXT_CHAR);
		break;
	case KEY_HOME:
	case 1:         /* ^A */
		form_driver(ed->form, REQ_BEG_FIELD);
		break;
	case KEY_END:
	case 5:         /* ^E */
		form_driver(ed->form, REQ_END_FIELD);
		break;
	case KEY_BACKSPACE:
	case 127:
	case 8:
		form_driver(ed->form, REQ_DEL_PREV);
		break;
	case KEY_DC:
	case 4:         /* ^D */
		form_driver(ed->form, REQ_DEL_CHAR);
		break;
	case 21:        /* ^U */
		form_driver(ed->form, REQ_CLR_FIELD);
		break;
	case 11:        /* ^K */
		form_driver(ed->form, REQ_CLR_EOF);
		break;
	default:
		if ((ch >= 32 && ch < 127) || (ch >= 0x80 && ch < 0x100))
			edit_char(ed, ch);
		break;
	}
	follow_form(ed);
	return TUI_HANDLED;
}

static int editor_key(struct tui *t, void *st, int ch)
{
	struct editor *ed = st;

	if (!ed->loaded)
		return ch == 27 || ch == 'q' ? TUI_HANDLED | TUI_BACK : TUI_HANDLED;
	if (ed->job) {
		if (ch == 27) {
			tui_job_abandon(ed->job);
			ed->job = NULL;
			tui_message(t, _("connection test abandoned"));
		}
		return TUI_HANDLED;
	}
	if (ed->result) {
		free(ed->result);
		ed->result = NULL;
		return TUI_HANDLED;
	}
	if (!ed->form)
		return ch == 27 ? TUI_UNHANDLED : TUI_HANDLED;
	if (ed->editing)
		return key_editing(ed, ch);

	switch (ch) {
	case KEY_DOWN:
	case '\t':
		form_driver(ed->form, REQ_NEXT_FIELD);
		break;
	case KEY_UP:
	case KEY_BTAB:
		form_driver(ed->form, REQ_PREV_FIELD);
		break;
	case KEY_NPAGE:
		form_driver(ed->form, REQ_NEXT_PAGE);
		break;
	case KEY_PPAGE:
		form_driver(ed->form, REQ_PREV_PAGE);
		break;
	case KEY_HOME:
		form_driver(ed->form, REQ_FIRST_FIELD);
		break;
	case KEY_END:
		form_driver(ed->form, REQ_LAST_FIELD);
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
		if (is_choice(ed->cur))
			cycle(ed, ed->cur, 1);
		else if (editable(ed, ed->cur))
			edit_start(ed);
		else if (ed->cur == FD_SLUG)
			tui_error(t, _("the slug names the file and the supplier's history; it cannot "
			               "be changed here"));
		else
			tui_error(t, _("this field is kept as it is in the file; edit the file to "
			               "change it"));
		break;
	case ' ':
	case KEY_RIGHT:
		cycle(ed, ed->cur, 1);
		break;
	case KEY_LEFT:
		cycle(ed, ed->cur, -1);
		break;
	case 's':
	case KEY_F(2):
		return editor_save(ed);
	case 't':
		editor_test(ed);
		break;
	case 27:
		if (modified(ed) && !tui_confirm(t, _("Leave the editor and lose the changes?")))
			break;
		return TUI_HANDLED | TUI_BACK;
	case '?':
	case 12:        /* ^L */
		return TUI_UNHANDLED;
	default:
		/* typing on a text field starts editing it: text typed without
		 * Enter goes into the field, not to the commands */
		if (((ch > 32 && ch < 127) || (ch >= 0x80 && ch < 0x100)) && editable(ed, ed->cur)) {
			edit_start(ed);
			return key_editing(ed, ch);
		}
		break;
	}
	follow_form(ed);
	return TUI_HANDLED;
}

static const struct tui_key editor_keys[] = {
	{ "Up/Down", N_("previous / next field (also Tab, S-Tab)"), false },
	{ "PgUp/PgDn", N_("previous / next page of fields"), false },
	{ "Enter", N_("edit a text field (Enter again: done) or change a choice"), false },
	{ "Space", N_("change a choice (Left/Right: back and forth)"), false },
	{ "Esc", N_("while editing: undo the field; else leave (asks when changed)"), false },
	{ "^U", N_("while editing: clear the field"), false },
	{ "a-z", N_("other letters, digits and signs start editing a text field"), false },
	{ "t", N_("test the connection with the unsaved values (writes nothing)"), false },
	{ "s", N_("check with the config loader, save atomically, reload the daemon"), true },
	{ "F2", N_("save, also while editing a field"), true },
	{ NULL, NULL, false },
};

const struct tui_screen_ops tui_screen_editor = {
	/* TRANSLATORS: a console screen's name (tab bar, titles, key help) */
	.name = N_("Editor"),
	.open = editor_open,
	.close = editor_close,
	.refresh = editor_refresh,
	.draw = editor_draw,
	.key = editor_key,
	.keys = editor_keys,
};

/* ---- the suppliers screen's Space ---- */

/* The text with its top-level `active = ...;` set to active, keeping
 * everything else (comments included); NULL when the file has no such
 * single line. */
static char *patch_active(const char *text, bool active)
{
	struct buf b = BUF_INIT;
	const char *p = text, *hit = NULL, *hit_end = NULL, *slug_end = NULL;
	int n = 0;

	while (*p) {
		const char *eol = strchr(p, '\n'), *q = p;

		eol = eol ? eol + 1 : p + strlen(p);
		while (*q == ' ' || *q == '\t')
			q++;
		if (str_startswith(q, "active")) {
			const char *r = q + 6;

			while (*r == ' ' || *r == '\t')
				r++;
			if (*r == '=' || *r == ':') {
				r++;
				while (*r == ' ' || *r == '\t')
					r++;
				if (strncasecmp(r, "true", 4) == 0 || strncasecmp(r, "false", 5) == 0) {
					const char *e = r + (tolower((unsigned char)*r) == 't' ? 4 : 5);

					while (*e == ' ' || *e == '\t')
						e++;
					if (*e == ';') {
						hit = r;
						hit_end = e;
						n++;
					}
				}
			}
		}
		if (!slug_end && str_startswith(q, "slug"))
			slug_end = eol;
		p = eol;
	}
	if (n == 1) {
		buf_append(&b, text, (size_t)(hit - text));
		buf_puts(&b, active ? "true" : "false");
		buf_puts(&b, hit_end);
		return buf_steal(&b);
	}
	if (n == 0 && slug_end) {
		buf_append(&b, text, (size_t)(slug_end - text));
		if (slug_end > text && slug_end[-1] != '\n')
			buf_putc(&b, '\n');
		buf_printf(&b, "active = %s;\n", active ? "true" : "false");
		buf_puts(&b, slug_end);
		return buf_steal(&b);
	}
	return NULL;
}

int tui_supplier_set_active(struct tui *t, const char *slug, bool active, struct error *err)
{
	const struct conf *c = tui_conf(t);
	struct supplier_conf s, check;
	char *path = NULL, *old = NULL, *text = NULL;
	int rc = -1;

	memset(&s, 0, sizeof(s));
	memset(&check, 0, sizeof(check));
	if (c->embedded || !c->suppliers_dir)
		return err_set(err, ERRK_CONFIG, _("%s: the console runs on the embedded demo "
		                                   "configuration, which cannot be changed; write a "
		                                   "dropstock.conf first"), slug);
	path = supplier_path(c, slug);
	if (conf_load_supplier(path, &s, err) < 0)
		goto out;
	old = file_read_all(path, NULL, err);
	if (!old)
		goto out;
	/* the file as the operator wrote it, with only the value changed;
	 * else the file written anew from its settings */
	text = patch_active(old, active);
	if (text && (conf_supplier_validate(text, slug, path, &check, NULL) < 0
	             || check.active != active)) {
		free(text);
		text = NULL;
	}
	conf_supplier_free(&check);
	if (!text) {
		s.active = active;
		text = conf_supplier_text(&s);
		if (conf_supplier_validate(text, slug, path, NULL, err) < 0)
			goto out;
	}
	if (conf_supplier_save(c->suppliers_dir, slug, text, err) < 0)
		goto out;
	if (tui_conf_reload(t, err) < 0) {
		err_prefix(err, _("%s saved, but the configuration did not reload"), path);
		goto out;
	}
	notify_daemon(tui_conf(t));
	rc = 0;
out:
	if (s.slug || s.file)
		conf_supplier_free(&s);
	free(old);
	free(text);
	free(path);
	return rc;
}
