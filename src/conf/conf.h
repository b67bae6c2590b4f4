/* conf.h - configuration: dropstock.conf (global) and suppliers.d/SLUG.conf.
 *
 * Files are libconfig syntax.  Loading validates everything up front: a bad
 * value anywhere fails the whole load with an error naming file, line and
 * option ("suppliers.d/acme.conf:12: source.format: expected one of json,
 * csv, xml, got \"yaml\"").  Nothing runs on a bad config.
 *
 * All strings in these structs are owned by the struct and freed by
 * conf_free().  Optional strings are NULL when not given.
 */
#ifndef DROPSTOCK_CONF_H
#define DROPSTOCK_CONF_H

#include <stdbool.h>
#include <stdint.h>

#include "util/util.h"

enum feed_format { FORMAT_JSON = 0, FORMAT_CSV, FORMAT_XML };

enum auth_kind {
	AUTH_NONE = 0,
	AUTH_BEARER,     /* Authorization: Bearer TOKEN */
	AUTH_HEADER,     /* HEADER_NAME: TOKEN */
	AUTH_BASIC,      /* HTTP basic with username + password */
	AUTH_QUERY,      /* ?PARAM=TOKEN appended to every URL */
};

/* Where a secret came from: the editor must not write env/cmd secrets inline. */
enum secret_origin { SECRET_NONE = 0, SECRET_INLINE, SECRET_ENV, SECRET_CMD };
struct secret {
	enum secret_origin origin;
	char *spec;      /* inline value, env var name, or command line */
	char *value;     /* resolved value (inline copy, getenv, or cmd stdout without trailing newline) */
};

struct auth_conf {
	enum auth_kind kind;
	char *header;        /* AUTH_HEADER: header name, e.g. "X-Api-Key" */
	char *param;         /* AUTH_QUERY: query parameter name, e.g. "api_key" */
	char *username;      /* AUTH_BASIC */
	struct secret token; /* BEARER, HEADER, QUERY */
	struct secret password; /* BASIC */
};

enum page_kind {
	PAGE_NONE = 0,   /* one document (a file or a single response) */
	PAGE_NUMBER,     /* ?page=N&size=M, N from first_page */
	PAGE_OFFSET,     /* ?offset=N&limit=M */
	PAGE_CURSOR,     /* cursor value from the body (mapping.next), sent as ?cursor=C */
	PAGE_NEXT_URL,   /* next page URL from the body (mapping.next) */
	PAGE_LINK,       /* next page URL from the Link: <...>; rel="next" header */
};

enum page_end {
	END_SHORT = 0,   /* a page with fewer than page_size items is the last */
	END_EMPTY,       /* a page with no items is the last */
	END_TOTAL,       /* stop when items seen >= total (mapping.total) */
};

/* Text stock values: "in stock" -> 5.  Matched case-insensitively after
 * trimming blanks. */
struct text_value {
	char *text;
	int64_t value;
};

/* Where things are in a response.  Paths are dot-separated keys
 * ("data.items", "stock.warehouses.qty"); a step that meets an array applies
 * the rest of the path to every element.  For stock, all values found are
 * summed (per-warehouse quantities).  For XML, steps are element names and
 * a last step "@name" reads an attribute.  For CSV, sku/stock/updated_at/
 * available name header columns, or hold 1-based column numbers ("1", "3")
 * when header = false. */
struct mapping {
	char *items;         /* path to the item list; NULL/"" = the document root is the list.
	                      * XML: the element name (or slash path) of one item */
	char *sku;           /* required */
	char *stock;         /* required */
	char *updated_at;    /* optional: supplier's update time of the item */
	char *available;     /* optional: availability flag; false/no/0 forces stock 0 */
	char *success;       /* optional: envelope flag that must be true, else the page fails */
	char *message;       /* optional: envelope error message shown when success is false */
	char *total;         /* optional: envelope total item count (END_TOTAL, progress) */
	char *next;          /* optional: envelope cursor or next URL (PAGE_CURSOR / PAGE_NEXT_URL) */
	/* CSV only */
	char delimiter;      /* default ',' */
	char quote;          /* default '"' */
	bool header;         /* default true */
	char *encoding;      /* default "UTF-8"; others converted with iconv */
	/* text stock values */
	struct text_value *text_values;
	int n_text_values;
};

struct source_conf {
	char *url;           /* http, https, ftp, sftp or file URL; may contain {since} etc. later */
	enum feed_format format;
	enum page_kind paging;
	int64_t page_size;        /* default 500 */
	int64_t first_page;       /* default 1 */
	char *page_param;         /* default "page" */
	char *size_param;         /* default "limit" (page size for PAGE_NUMBER and PAGE_OFFSET) */
	char *offset_param;       /* default "offset" */
	char *cursor_param;       /* default "cursor" */
	enum page_end end;        /* default END_SHORT */
	struct mapping map;
	/* libconfig line of the source group, for error messages */
	int line;
	/* (Additions.) How the host key of an sftp:// server is checked; NULL
	 * when not given.  http.c uses the fingerprint when set, else the
	 * known_hosts file, else ~/.ssh/known_hosts when it exists, and refuses
	 * to connect (ERRK_CONFIG) with none of them.  Only accepted in a group
	 * whose URL is sftp://; a delta group that gives neither takes both
	 * from the source group. */
	char *ssh_known_hosts;    /* an OpenSSH known_hosts file, as the loader resolved it:
	                           * "~/" expanded, a relative path made absolute against the
	                           * directory of the file that sets it; its existence is
	                           * checked when connecting, not by the loader */
	char *ssh_host_key_sha256; /* the server's SHA-256 host key fingerprint, validated:
	                            * exactly the 43 base64 characters libcurl compares
	                            * (no "SHA256:" prefix, no '=' padding) */
};

struct rules_conf {
	int64_t safety_buffer;    /* subtracted, floor 0; default 0 */
	int64_t cap;              /* maximum shown; -1 = none (default) */
	double multiplier;        /* default 1.0, applied first, result floored */
	int64_t pack_size;        /* default 1: units per store unit, floor(stock / pack_size) */
	bool zero_missing;        /* default false */
	double zero_missing_max_pct; /* guard, default 20.0: refuse when more than this % of links would be zeroed */
};


/* ---- realtime sources (delta, live check, webhooks) and the service ---- */

enum since_format { SINCE_ISO = 0, SINCE_UNIX };

/* `delta = { ... }` in a supplier file: a source of changed items only.
 * format, paging, page_size, first_page, *_param and end not given in the
 * group are those of the supplier's source; without a map group, map is a
 * (deep) copy of source.map (the loader then requires the same format). */
struct delta_conf {
	struct source_conf source;   /* url, format, paging, map: same options as `source` */
	char *since_param;           /* default "updated_since" */
	enum since_format since_format;  /* since_format = "iso" (default) | "unix" */
	int64_t overlap_ms;          /* overlap = seconds subtracted from the watermark; default 120 */
};

enum check_failure { CHECK_FALLBACK_CACHE = 0, CHECK_REFUSE };

/* `check = { ... }`: asking the supplier about one SKU now.  After loading,
 * method is "GET" or "POST" and content_type is never NULL; without a map
 * group, map is a copy of source.map (same format required). */
struct check_conf {
	char *url;                   /* template: {sku} is replaced by the URL-encoded supplier SKU */
	char *method;                /* "GET" (default) or "POST" */
	char *body;                  /* POST body template: {sku} (JSON-escaped) and {skus}
	                              * (a JSON array of SKUs) are replaced */
	char *content_type;          /* POST content type, default "application/json" */
	enum feed_format format;     /* default json */
	struct mapping map;          /* items path ("" = the document is one item or a list), sku, stock... */
	int64_t timeout_ms;          /* timeout = seconds, default 2 */
	enum check_failure on_failure;   /* on_failure = "cache" (default) | "refuse" */
	int line;
};

enum webhook_scheme {
	WEBHOOK_CUSTOM = 0,          /* everything from the options below */
	WEBHOOK_GITHUB,              /* X-Hub-Signature-256: sha256=HEX over the body */
	WEBHOOK_STANDARD,            /* Standard Webhooks: webhook-id, webhook-timestamp,
	                              * webhook-signature "v1,BASE64" over id.timestamp.body,
	                              * key "whsec_BASE64" */
	WEBHOOK_BASE64,              /* a plain header (default "sign") = base64 HMAC of the body */
};
enum sig_encoding { SIG_HEX = 0, SIG_BASE64 };

/* `webhook = { ... }`: signed stock pushes from the supplier.  When enabled,
 * the loader has applied conf_webhook_apply_preset(): header and prefix are
 * never NULL, n_secrets >= 1 and every secret's value is resolved (and is
 * valid base64 after an optional "whsec_" when key_base64).  encoding is
 * only configurable with WEBHOOK_CUSTOM; key_base64 not with GITHUB or
 * STANDARD.  Without a map group, map is a copy of source.map (which must
 * be JSON). */
struct webhook_conf {
	bool enabled;                /* true when the group is present */
	enum webhook_scheme scheme;  /* scheme = "custom" | "github" | "standard" | "base64" */
	char *header;                /* signature header (preset default per scheme) */
	char *prefix;                /* e.g. "sha256=" (github), "v1," (standard), "" */
	enum sig_encoding encoding;  /* encoding = "hex" | "base64" */
	bool key_base64;             /* the secret is base64 (standard: after "whsec_") */
	struct secret *secrets;      /* secret / secret_env / secret_cmd, or secrets = ( ... ):
	                              * several valid at once for rotation */
	int n_secrets;
	char *timestamp_header;      /* optional; standard: "webhook-timestamp" */
	int64_t tolerance_ms;        /* tolerance = seconds, default 300 (past and future) */
	char *id_header;             /* event id header; standard: "webhook-id" */
	char *id_field;              /* or event id path in the body */
	int64_t max_body;            /* max_body bytes, default 1 MiB */
	struct mapping map;          /* items, sku, stock, updated_at, available (JSON) */
	int line;
};

/* ---- webhook signature schemes (webhook_preset.c) ----
 * What each scheme fixes and what it defaults, in one table that the
 * loader (conf_webhook_apply_preset) and the verifier (engine/signature.c)
 * both read. */
#define CONF_WEBHOOK_TOLERANCE_MS 300000     /* default tolerance: 300 s */

struct webhook_preset {
	const char *header;          /* default signature header; NULL: none (custom) */
	const char *prefix;          /* default prefix; never NULL ("" when none) */
	const char *timestamp_header;    /* default timestamp header, or NULL */
	const char *id_header;       /* default id header, or NULL */
	bool fixed_encoding;         /* the scheme always uses `encoding` */
	enum sig_encoding encoding;
	bool fixed_key;              /* the scheme always uses `key_base64` */
	bool key_base64;
	bool multi;                  /* the header holds several space-separated entries */
	bool signed_id_ts;           /* the signed text is ID.TIMESTAMP.BODY, not the body */
};

/* The preset of a scheme (an unknown value gives the custom one).  Static
 * storage: never freed. */
const struct webhook_preset *conf_webhook_preset(enum webhook_scheme scheme);

/* Fills the preset defaults of wh->scheme into header, prefix,
 * timestamp_header and id_header where they are unset (NULL), sets the
 * fixed parts of the preset (github: hex and a text key; standard: base64
 * and a base64 key; base64: base64 encoding), gives a custom scheme an
 * empty prefix when none is set, and turns a tolerance_ms <= 0 into the
 * default 300 s.  Called by the loader for an enabled webhook group. */
void conf_webhook_apply_preset(struct webhook_conf *wh);

/* The HMAC key bytes of one webhook secret value: the text itself, or with
 * key_base64 the strict base64 decoding (see util.h) of the value with
 * blanks trimmed and an optional "whsec_" prefix removed.  NULL when value
 * is NULL or empty, or (key_base64) does not decode to at least one byte.
 * The caller wipes the *keylen bytes and frees them. */
unsigned char *conf_webhook_key(const char *value, bool key_base64, size_t *keylen);

/* `service = { ... }` in dropstock.conf; filled with the defaults when the
 * group is absent (line 0).  api_keys_env / api_keys_cmd give one struct
 * secret per key (blank- or line-separated), all with the same origin and
 * spec. */
struct service_conf {
	char *listen;                /* "127.0.0.1:8787" (default), "[::1]:8787", "0.0.0.0:80" */
	struct secret *api_keys;     /* api_keys = ( "k1", "k2" ) or api_keys_env / api_keys_cmd
	                              * (whitespace-separated) */
	int n_api_keys;
	int threads;                 /* thread pool size, default 4 */
	int64_t connection_timeout_ms; /* default 10 s */
	int max_connections;         /* default 1024 */
	int max_connections_per_ip;  /* default 128 */
	int64_t memory_limit;        /* per connection, default 64 KiB */
	bool access_log;             /* default true */
	int line;
};

/* ---- unattended operation: schedules, the daemon, events to the store ---- */

/* `schedule = { full = "daily 03:00"; delta = "every 30m"; }` in a supplier
 * file; NULL = the daemon's default, "off" = never.  Expressions:
 * "every 30m" (s, m, h), "daily HH:MM", "hourly :MM", or 5-field cron.
 * The loader has checked every expression here and in daemon_conf with
 * schedule_parse() (util/schedule.h) and keeps the text as written, so
 * "Off" or " off " may appear: parse again rather than compare strings.
 * delta is only accepted when the supplier has a delta group. */
struct schedule_conf {
	char *full;
	char *delta;                 /* only used when the supplier has a delta source */
	int line;
};

/* `guard = { ... }`: the mass-change guard of every run of the supplier. */
struct guard_conf {
	bool enabled;                /* default true */
	double max_changed_pct;      /* default 50: a run changing more than this % of the
	                              * supplier's links stops before applying (needs_approval) */
	double max_zeroed_pct;       /* default 50: ... or dropping more than this % of the
	                              * supplier's in-stock links to 0 */
	int line;
};

/* `daemon = { ... }` in dropstock.conf; filled with the defaults below when
 * the group is absent (line 0): full and delta are never NULL, n_backoff >= 1.
 * timezone is NULL (the system's zone) or "UTC" or a name whose file exists
 * below $TZDIR or /usr/share/zoneinfo. */
struct daemon_conf {
	char *timezone;              /* schedules' time zone, default: the system's */
	char *full;                  /* default schedule of full syncs, "daily 03:00" */
	char *delta;                 /* default schedule of deltas, "every 30m" */
	int workers;                 /* parallel syncs, default 4 */
	int max_attempts;            /* tries per run, default 3 */
	int64_t *backoff_ms;         /* backoff = ( 60, 300, 900 ) seconds before try 2, 3, ... */
	int n_backoff;
	double jitter;               /* +- fraction of each backoff, default 0.1 */
	int64_t run_timeout_ms;      /* run_timeout = seconds, default 1800 */
	int64_t heartbeat_stale_ms;  /* a running run without heartbeat for this long whose
	                              * lock is free is interrupted; default 60 s */
	bool serve;                  /* run the HTTP service inside the daemon, default true */
	int line;
};

/* `events = { ... }` in dropstock.conf: delivering outbox events to the store.
 * Filled with the defaults when the group is absent (url and command NULL:
 * nothing is delivered).  When the group is given, url or command (or both)
 * is set; with url, secret.value is resolved and not empty (a value starting
 * with "whsec_" is valid base64 after it: conf_webhook_key(value, true, ...)
 * gives the key bytes); without url, secret is SECRET_NONE. */
struct events_conf {
	char *url;                   /* POST target, or NULL */
	struct secret secret;        /* secret / secret_env / secret_cmd: Standard Webhooks
	                              * key ("whsec_BASE64" or text) used to sign deliveries */
	char *command;               /* run via /bin/sh -c with one event JSON on stdin, or NULL */
	int batch;                   /* events per POST, default 50 */
	int64_t timeout_ms;          /* per delivery, default 10 s */
	int64_t first_backoff_ms;    /* default 10 s, doubled per attempt, with jitter */
	int64_t max_backoff_ms;      /* default 1 h */
	int64_t give_up_ms;          /* default 24 h after the event was created: parked as dead */
	int line;
};

struct supplier_conf {
	char *slug;               /* [a-z0-9][a-z0-9_-]*, equals the file name stem */
	char *name;               /* defaults to the slug, never NULL */
	bool active;              /* default true */
	int priority;             /* lower first; default 100 (aggregate = "first") */
	struct source_conf source;          /* the full feed, required */
	struct auth_conf auth;
	struct rules_conf rules;
	int64_t timeout_ms;       /* total per request; default 60000 */
	int64_t connect_timeout_ms; /* default 10000 */
	double rate_per_sec;      /* 0 = unlimited */
	int64_t rate_per_hour;    /* 0 = unlimited */
	int64_t max_bytes;        /* maximum response size; default 256 MiB */
	int retries;              /* per request, for timeouts/5xx/429; default 3 */
	int64_t retry_delay_ms;   /* first backoff, doubled each retry; default 1000 */
	int64_t max_retry_wait_ms;/* cap on any single wait incl. Retry-After; default 120000 */
	int64_t fresh_ms;         /* cache_fresh = seconds: a cached value younger than this
	                           * answers stock checks without asking; default 900 */
	bool has_delta;
	struct delta_conf delta;
	bool has_check;
	struct check_conf check;
	struct webhook_conf webhook;
	struct schedule_conf schedule;
	struct guard_conf guard;
	char *file;               /* path of the file it came from */
	int line;                 /* line of the slug setting, for messages */
};

enum aggregate_kind { AGG_SUM = 0, AGG_MAX, AGG_FIRST };

struct conf {
	char *file;               /* the dropstock.conf loaded, or NULL for the embedded default */
	bool embedded;            /* true when running on the embedded demo default */
	char *db_path;            /* default $XDG_STATE_HOME/dropstock/dropstock.db */
	char *suppliers_dir;      /* default "suppliers.d" next to the main file */
	enum aggregate_kind aggregate;   /* default AGG_SUM */
	char *user_agent_extra;   /* optional text appended to the User-Agent */
	struct supplier_conf *suppliers;
	int n_suppliers;
	struct service_conf service;   /* `service = { ... }` in dropstock.conf */
	struct daemon_conf daemon;     /* `daemon = { ... }` in dropstock.conf */
	struct events_conf events;     /* `events = { ... }` in dropstock.conf */
	char *demo_catalogue;     /* embedded default only: absolute path of the materialised
	                           * demo catalogue.csv (the CLI imports it into an empty
	                           * database); NULL otherwise */
};

/* Finds and loads the configuration: explicit path (--config) if given, else
 * $DROPSTOCK_CONFIG, $XDG_CONFIG_HOME/dropstock/dropstock.conf,
 * /etc/dropstock/dropstock.conf, else the embedded demo default (which
 * materialises the demo feed under the state directory).  Returns NULL on
 * error with err->kind = ERRK_CONFIG. */
struct conf *conf_load(const char *explicit_path, struct error *err);

/* Loads one given main file (no lookup). */
struct conf *conf_load_file(const char *path, struct error *err);

/* Loads a single supplier file; used by conf_load and by the editor later.
 * Fills *out (secrets resolved); on error *out is left zeroed.  Release
 * with conf_supplier_free(). */
int conf_load_supplier(const char *path, struct supplier_conf *out, struct error *err);

struct supplier_conf *conf_find_supplier(struct conf *c, const char *slug);
/* Frees what s owns (secret values wiped first) and zeroes *s; s itself is
 * not freed. */
void conf_supplier_free(struct supplier_conf *s);
void conf_free(struct conf *c);

const char *conf_format_name(enum feed_format f);   /* "json", "csv", "xml" */
const char *conf_paging_name(enum page_kind p);     /* "none", "page", "offset", "cursor", "next_url", "link" */
const char *conf_end_name(enum page_end e);         /* "short", "empty", "total" */
const char *conf_auth_name(enum auth_kind a);       /* "none", "bearer", "header", "basic", "query" */
const char *conf_aggregate_name(enum aggregate_kind a); /* "sum", "max", "first" */

/* Splits a listen address as service.listen takes it: "ADDR:PORT" with a
 * numeric IPv4 address, or "[ADDR]:PORT" with an IPv6 one; PORT 0..65535
 * (0 = any free port).  Copies the address without brackets into addr
 * (when not NULL; addr_size 64 is always enough) and the port into *port
 * (when not NULL).  Returns 0, or -1 when listen is not such an address.
 * The loader validates service.listen with it; `serve --listen` can too. */
int conf_listen_split(const char *listen, char *addr, size_t addr_size, int *port);

/* ---- writing supplier files (conf_write.c): the console's editor ---- */

/* The text of a suppliers.d/SLUG.conf holding s's settings: the options
 * that differ from their defaults, grouped and commented, which
 * conf_load_supplier() reads back to the same values.  A secret is written
 * as it was given (origin and spec: token, token_env or token_cmd), never
 * its resolved value.  A delta, check or webhook map equal to source.map
 * (and of the same format) is left out, so it stays a copy of it.
 * Caller frees. */
char *conf_supplier_text(const struct supplier_conf *s);

/* Checks a supplier file text with the loader itself: writes it to a
 * private temporary SLUG.conf (mode 0600) and runs conf_load_supplier()
 * on it.  Messages name `shown` (e.g. "suppliers.d/acme.conf") instead of
 * the temporary file when shown is not NULL.  On success fills *out (when
 * not NULL; out->file = shown; release with conf_supplier_free()).
 * Returns 0, or -1 with err ("suppliers.d/acme.conf:7: source.format:
 * expected one of json, csv, xml, got \"yaml\""). */
int conf_supplier_validate(const char *text, const char *slug, const char *shown,
                           struct supplier_conf *out, struct error *err);

/* Writes text to DIR/SLUG.conf atomically: a temporary file in DIR (mode
 * 0600), fsync, the current DIR/SLUG.conf kept as DIR/SLUG.conf.bak, then
 * rename and a sync of DIR.  dir is the suppliers directory
 * (conf->suppliers_dir), created when missing.  Returns 0, or -1 with err
 * (the file is then unchanged). */
int conf_supplier_save(const char *dir, const char *slug, const char *text, struct error *err);

/* Mappings: equal in every option; a deep copy (to must own nothing yet);
 * freeing what m owns (m zeroed). */
bool conf_map_equal(const struct mapping *a, const struct mapping *b);
void conf_map_copy(struct mapping *to, const struct mapping *from);
void conf_map_clear(struct mapping *m);

#endif
