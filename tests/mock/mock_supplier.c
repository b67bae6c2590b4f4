/* mock_supplier.c - a fake dropshipping supplier for the integration tests
 * and the benchmark (libmicrohttpd, one thread per connection).
 *
 *   mock_supplier --port-file F [--items FILE.json | --generate N] [options]
 *
 * Binds 127.0.0.1 on a free port, writes the port number to F (atomically:
 * F.tmp then rename) once listening, and serves until SIGTERM/SIGINT or
 * until --max-seconds (default 600) have passed; both exit 0.
 *
 * Routes (GET or HEAD, but POST /check and POST /store/events):
 *   /static/NAME   file --root DIR/NAME (".." refused); NAME.gz is sent raw
 *                  as application/gzip
 *   /items         JSON envelope over the item list, paged by page+limit
 *                  (page numbers from --first-page), offset+limit, or
 *                  cursor+limit ("size", "per_page", "page_size" are
 *                  accepted for limit; default 500); with no paging
 *                  parameter at all, the whole list.  A Link: <...>;
 *                  rel="next" header is sent when there is a next page.
 *                  Without page/offset, the next URL uses the cursor style.
 *   /items.csv     "sku,stock,updated_at" + rows; ?delimiter=; for semicolons
 *   /items.xml     <catalog total="N"><product sku=".."><stock>..</stock>
 *                  <updated>..</updated></product>...</catalog>
 *   /check/SKU     {"sku":..,"stock":..[,"updated_at":..]} or 404
 *   POST /check    body {"skus":["A","B",..]} or {"sku":"A"} with Content-Type
 *                  application/json (else 415; a body that is neither: 400;
 *                  over 1 MiB: 413); answers {"items":[{"sku":..,"stock":..
 *                  [,"updated_at":..]},..]} for the SKUs it knows, in the
 *                  order asked (unknown SKUs are left out)
 *   POST /store/events   a store receiving dropstock's outbox events: each
 *                  request is appended to --store-log FILE as one JSON line
 *                  {"n":N,"status":S,"webhook-id":..,"webhook-timestamp":..,
 *                  "webhook-signature":..,"content-type":..,"body":"..."}
 *                  (absent headers as null); the first --store-fail-count N
 *                  requests answer 503 (with Retry-After when --retry-after
 *                  is given), the others 200 {"received":true}; the --require-*
 *                  options do not apply here
 *   /redirect/PATH  (any method) 302 with Location: /PATH and no body
 *
 * Changing items at runtime: the --items file is re-read when its mtime or
 * size changes (checked on every request to /items*, /check); a test
 * rewrites it between syncs (write a temporary file and rename it over, so
 * no half-written file is read; a file that does not parse keeps the old
 * list).  --pages-prerender turns this off.  SIGHUP is not used.
 *
 * Faults (on /items, /items.csv, /items.xml; "page" is the page number, or
 * --first-page for unpaged requests):
 *   --fail-status CODE [--fail-count N]   the first N (default: every)
 *                  request answers CODE with a small JSON error body
 *   --retry-after SECS / --retry-after-date SECS   Retry-After (seconds, or
 *                  an HTTP date SECS from now) on 429/503 fault replies
 *   --ratelimit-reset SECS   X-Ratelimit-Reset on 429/503 fault replies
 *   --delay-ms MS [--delay-page P]   sleep before answering (only page P)
 *   --slow-after-items N     the delay applies only once N items were served
 *   --truncate-page P [--truncate-count N]   advertise the full length,
 *                  send half the body and close (the first N times)
 *   --malformed-page P      body with a syntax error
 *   --empty-body            200 with 0 bytes
 *   --error-envelope        200 with {"success":false,"message":"API key expired"}
 *   --check-delay-ms MS, --check-fail-status CODE   the same for /check
 *                  (GET /check/SKU and POST /check)
 * Auth (401 when not met, on every route): --require-bearer TOKEN,
 * --require-header NAME:VALUE, --require-basic USER:PASS,
 * --require-query NAME=VALUE.
 * Other: --gzip (Content-Encoding: gzip for clients that accept it),
 * --log FILE (one line per request: "METHOD URL auth=.. key=..
 * accept-encoding=.."; a POST adds " content-type=.. body=.." with the body
 * on one line, bytes outside printable ASCII as \xHH), --relative-links
 * (Link header with a relative URL),
 * --change-pct P --seed S (with --generate: change P% of the stocks,
 * deterministically), --page-size N (page size prerendered, default 500).
 *
 * This is a test tool: its messages are not translated.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <zlib.h>

#define NONE (-1L)

static struct {
	const char *port_file, *root, *items_file, *log_file;
	long generate, change_pct, seed, first_page, max_seconds, page_size;
	bool gzip, prerender, relative_links, empty_body, error_envelope;
	long fail_status, fail_count, retry_after, retry_after_date, ratelimit_reset;
	long delay_ms, delay_page, slow_after_items, truncate_page, truncate_count;
	long malformed_page, check_delay_ms, check_fail_status;
	const char *store_log;       /* POST /store/events */
	long store_fail_count;
	const char *require_bearer, *require_header, *require_basic, *require_query;
	/* derived */
	char *header_name, *header_value, *basic_expect, *query_name, *query_value;
} opt = {
	.first_page = 1, .max_seconds = 600, .page_size = 500, .generate = NONE,
	.fail_status = 0, .fail_count = NONE, .retry_after = NONE, .retry_after_date = NONE,
	.ratelimit_reset = NONE, .delay_ms = 0, .delay_page = NONE, .slow_after_items = NONE,
	.truncate_page = NONE, .truncate_count = NONE, .malformed_page = NONE,
};

static unsigned port;
static atomic_int stopping;
static atomic_long items_requests, items_served, truncations;
static FILE *log_fp;
static FILE *store_fp;                 /* --store-log */
static atomic_long store_requests;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- small helpers (this program links no dropstock code) ---- */

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mock_supplier: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		die("out of memory");
	return p;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die("out of memory");
	return p;
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xmalloc(n), s, n);
}

struct sbuf {
	char *d;
	size_t len, cap;
};

static void sb_add(struct sbuf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		b->d = xrealloc(b->d, cap);
		b->cap = cap;
	}
	memcpy(b->d + b->len, p, n);
	b->len += n;
	b->d[b->len] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(tmp)) {
		sb_add(b, tmp, (size_t)n);
		return;
	}
	char *big = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb_add(b, big, (size_t)n);
	free(big);
}

static void sb_json_str(struct sbuf *b, const char *s)
{
	sb_add(b, "\"", 1);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\') {
			sb_add(b, "\\", 1);
			sb_add(b, s, 1);
		} else if (ch < 0x20) {
			sb_printf(b, "\\u%04x", ch);
		} else {
			sb_add(b, s, 1);
		}
	}
	sb_add(b, "\"", 1);
}

static void sb_xml(struct sbuf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': sb_puts(b, "&amp;"); break;
		case '<': sb_puts(b, "&lt;"); break;
		case '>': sb_puts(b, "&gt;"); break;
		case '"': sb_puts(b, "&quot;"); break;
		case '\'': sb_puts(b, "&apos;"); break;
		default: sb_add(b, s, 1); break;
		}
	}
}

static void sb_csv(struct sbuf *b, const char *s, char delim)
{
	if (!strchr(s, delim) && !strpbrk(s, "\"\r\n")) {
		sb_puts(b, s);
		return;
	}
	sb_add(b, "\"", 1);
	for (; *s; s++) {
		if (*s == '"')
			sb_add(b, "\"", 1);
		sb_add(b, s, 1);
	}
	sb_add(b, "\"", 1);
}

/* Sleeps ms, in slices, giving up when the server stops. */
static void nap(long ms)
{
	while (ms > 0 && !atomic_load(&stopping)) {
		long slice = ms > 20 ? 20 : ms;
		struct timespec ts = { 0, slice * 1000000L };
		nanosleep(&ts, NULL);
		ms -= slice;
	}
}

static bool parse_long(const char *s, long *out)
{
	char *end;
	long v;

	if (!s || !*s)
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

static char *base64(const char *s)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s), o = 0;
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)s[i] << 16;
		if (i + 1 < n)
			v |= (unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? tab[v & 63] : '=';
	}
	out[o] = '\0';
	return out;
}

/* ---- the catalog ---- */

/* Strings live in one arena; items hold offsets into it. */
struct item {
	size_t json, sku, sku_json, stock, stock_json, updated;   /* updated: 0 = none */
	size_t json_len;
};

struct catalog {
	char *arena;
	size_t arena_len, arena_cap;
	struct item *items;
	size_t n;
	size_t *hash;        /* open addressing: item index + 1, 0 = empty */
	size_t hcap;
	/* prerendered /items pages (page style, opt.page_size) */
	struct sbuf *pages, *gz_pages;
	size_t npages;
};

static struct catalog *cat;
static pthread_rwlock_t cat_lock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_mutex_t reload_lock = PTHREAD_MUTEX_INITIALIZER;
static struct stat items_stat;

static size_t arena_put(struct catalog *c, const char *s, size_t n)
{
	size_t off = c->arena_len;

	if (c->arena_len + n + 1 > c->arena_cap) {
		size_t cap = c->arena_cap ? c->arena_cap : 4096;
		while (cap < c->arena_len + n + 1)
			cap *= 2;
		c->arena = xrealloc(c->arena, cap);
		c->arena_cap = cap;
	}
	memcpy(c->arena + off, s, n);
	c->arena[off + n] = '\0';
	c->arena_len += n + 1;
	return off;
}

static const char *S(const struct catalog *c, size_t off)
{
	return c->arena + off;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void catalog_index(struct catalog *c)
{
	c->hcap = 16;
	while (c->hcap < c->n * 2)
		c->hcap *= 2;
	c->hash = calloc(c->hcap, sizeof(*c->hash));
	if (!c->hash)
		die("out of memory");
	for (size_t i = 0; i < c->n; i++) {
		const char *sku = S(c, c->items[i].sku);
		size_t h = hash_str(sku) & (c->hcap - 1);
		bool dup = false;

		while (c->hash[h]) {
			if (strcmp(S(c, c->items[c->hash[h] - 1].sku), sku) == 0) {
				dup = true;
				break;
			}
			h = (h + 1) & (c->hcap - 1);
		}
		if (!dup)
			c->hash[h] = i + 1;
	}
}

static const struct item *catalog_find(const struct catalog *c, const char *sku)
{
	size_t h = hash_str(sku) & (c->hcap - 1);

	while (c->hash[h]) {
		const struct item *it = &c->items[c->hash[h] - 1];
		if (strcmp(S(c, it->sku), sku) == 0)
			return it;
		h = (h + 1) & (c->hcap - 1);
	}
	return NULL;
}

static void catalog_free(struct catalog *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->npages; i++) {
		free(c->pages[i].d);
		if (c->gz_pages)
			free(c->gz_pages[i].d);
	}
	free(c->pages);
	free(c->gz_pages);
	free(c->arena);
	free(c->items);
	free(c->hash);
	free(c);
}

static struct catalog *catalog_new(size_t n)
{
	struct catalog *c = calloc(1, sizeof(*c));

	if (!c)
		die("out of memory");
	c->items = xmalloc((n ? n : 1) * sizeof(*c->items));
	arena_put(c, "", 0);   /* offset 0 is "" */
	return c;
}

static uint64_t rng_state;
static uint64_t rng(void)
{
	uint64_t x = rng_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static struct catalog *catalog_generate(long n)
{
	struct catalog *c = catalog_new((size_t)n);
	char sku[32], skuj[40], stock[32], json[160];
	const char *updated;
	size_t upd0, upd1;

	rng_state = 0x9E3779B97F4A7C15ULL ^ (uint64_t)opt.seed;
	if (rng_state == 0)
		rng_state = 1;
	upd0 = arena_put(c, "2026-11-01T00:00:00Z", 20);
	upd1 = arena_put(c, "2026-11-02T00:00:00Z", 20);
	for (long i = 0; i < n; i++) {
		struct item *it = &c->items[c->n++];
		long st = (i * 7) % 50;
		size_t len;

		updated = "2026-11-01T00:00:00Z";
		it->updated = upd0;
		if (opt.change_pct > 0 && (long)(rng() % 10000) < opt.change_pct * 100) {
			st = (st + 1 + (long)(rng() % 48)) % 50;
			updated = "2026-11-02T00:00:00Z";
			it->updated = upd1;
		}
		snprintf(sku, sizeof(sku), "SKU-%07ld", i);
		snprintf(skuj, sizeof(skuj), "\"%s\"", sku);
		snprintf(stock, sizeof(stock), "%ld", st);
		len = (size_t)snprintf(json, sizeof(json),
		                       "{\"sku\":\"%s\",\"stock\":%ld,\"updated_at\":\"%s\"}",
		                       sku, st, updated);
		it->json = arena_put(c, json, len);
		it->json_len = len;
		it->sku = arena_put(c, sku, strlen(sku));
		it->sku_json = arena_put(c, skuj, strlen(skuj));
		it->stock = arena_put(c, stock, strlen(stock));
		it->stock_json = it->stock;
	}
	catalog_index(c);
	return c;
}

/* A JSON value as text: strings unquoted, everything else as JSON. */
static char *value_text(json_t *v)
{
	if (!v)
		return xstrdup("");
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	char *r = xstrdup(s ? s : "");
	free(s);
	return r;
}

static size_t put_dump(struct catalog *c, json_t *v, size_t *len)
{
	char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	size_t n = s ? strlen(s) : 4, off;

	off = arena_put(c, s ? s : "null", n);
	if (len)
		*len = n;
	free(s);
	return off;
}

static struct catalog *catalog_load(const char *path, char *why, size_t whylen)
{
	json_error_t e;
	json_t *root = json_load_file(path, 0, &e);
	struct catalog *c;
	size_t i;
	json_t *v;

	if (!root) {
		snprintf(why, whylen, "%s:%d: %s", path, e.line, e.text);
		return NULL;
	}
	if (!json_is_array(root)) {
		snprintf(why, whylen, "%s: expected a JSON array of items", path);
		json_decref(root);
		return NULL;
	}
	c = catalog_new(json_array_size(root));
	json_array_foreach(root, i, v) {
		struct item *it = &c->items[c->n++];
		json_t *sku = json_object_get(v, "sku"), *stock = json_object_get(v, "stock");
		json_t *upd = json_object_get(v, "updated_at");
		char *t;

		it->json = put_dump(c, v, &it->json_len);
		t = value_text(sku);
		it->sku = arena_put(c, t, strlen(t));
		free(t);
		if (json_is_string(sku)) {
			it->sku_json = put_dump(c, sku, NULL);
		} else {
			/* numbers etc.: /check answers with the text as a JSON string */
			json_t *s = json_string(S(c, it->sku));
			it->sku_json = put_dump(c, s, NULL);
			json_decref(s);
		}
		t = value_text(stock);
		it->stock = arena_put(c, t, strlen(t));
		free(t);
		it->stock_json = put_dump(c, stock, NULL);
		if (upd && !json_is_null(upd)) {
			t = value_text(upd);
			it->updated = arena_put(c, t, strlen(t));
			free(t);
		} else {
			it->updated = 0;
		}
	}
	json_decref(root);
	catalog_index(c);
	return c;
}

static bool stat_changed(const struct stat *a, const struct stat *b)
{
	return a->st_mtim.tv_sec != b->st_mtim.tv_sec || a->st_mtim.tv_nsec != b->st_mtim.tv_nsec ||
	       a->st_size != b->st_size || a->st_ino != b->st_ino;
}

/* Re-reads --items when the file changed. */
static void catalog_maybe_reload(void)
{
	struct stat st;
	struct catalog *c, *old;
	char why[512];

	if (!opt.items_file || opt.prerender)
		return;
	if (stat(opt.items_file, &st) != 0)
		return;
	pthread_mutex_lock(&reload_lock);
	if (stat_changed(&st, &items_stat)) {
		c = catalog_load(opt.items_file, why, sizeof(why));
		if (c) {
			items_stat = st;
			pthread_rwlock_wrlock(&cat_lock);
			old = cat;
			cat = c;
			pthread_rwlock_unlock(&cat_lock);
			catalog_free(old);
		} else {
			/* not again until the file changes once more */
			items_stat = st;
			fprintf(stderr, "mock_supplier: keeping the old items: %s\n", why);
		}
	}
	pthread_mutex_unlock(&reload_lock);
}

/* ---- rendering ---- */

enum page_style { STYLE_ALL, STYLE_PAGE, STYLE_OFFSET, STYLE_CURSOR };

struct page_req {
	enum page_style style;
	long page;            /* page number as the client sees it */
	long offset, limit;
	const char *limit_name;
};

static void next_query(struct sbuf *b, const struct page_req *pr, long next_off)
{
	switch (pr->style) {
	case STYLE_PAGE:
		sb_printf(b, "/items?page=%ld&%s=%ld", pr->page + 1, pr->limit_name, pr->limit);
		break;
	case STYLE_OFFSET:
		sb_printf(b, "/items?offset=%ld&%s=%ld", next_off, pr->limit_name, pr->limit);
		break;
	case STYLE_CURSOR:
	case STYLE_ALL:
	default:
		sb_printf(b, "/items?%s=%ld&cursor=c%lx", pr->limit_name, pr->limit, next_off);
		break;
	}
}

/* Renders one /items page.  *link gets the next URL for the Link header
 * (or NULL).  Caller holds the catalog read lock. */
static void render_page(const struct catalog *c, const struct page_req *pr, struct sbuf *out,
                        char **link, long *n_items)
{
	long total = (long)c->n, from, to;
	bool more;
	struct sbuf next = { 0 };

	if (pr->style == STYLE_ALL) {
		from = 0;
		to = total;
	} else {
		from = pr->offset < total ? pr->offset : total;
		to = pr->limit > total - from ? total : from + pr->limit;
	}
	more = pr->style != STYLE_ALL && to < total;
	sb_printf(out, "{\"success\":true,\"total\":%ld,\"page\":%ld,\"next_cursor\":", total,
	          pr->page);
	if (more)
		sb_printf(out, "\"c%lx\"", (unsigned long)to);
	else
		sb_puts(out, "null");
	sb_puts(out, ",\"next\":");
	if (more) {
		sb_printf(&next, "http://127.0.0.1:%u", port);
		next_query(&next, pr, to);
		sb_json_str(out, next.d);
	} else {
		sb_puts(out, "null");
	}
	sb_puts(out, ",\"data\":{\"items\":[");
	for (long i = from; i < to; i++) {
		if (i > from)
			sb_add(out, ",", 1);
		sb_add(out, S(c, c->items[i].json), c->items[i].json_len);
	}
	sb_puts(out, "]}}");
	if (link) {
		*link = NULL;
		if (more) {
			if (opt.relative_links) {
				struct sbuf rel = { 0 };
				next_query(&rel, pr, to);
				*link = rel.d;
				free(next.d);
				next.d = NULL;
			} else {
				*link = next.d;
				next.d = NULL;
			}
		}
	}
	free(next.d);
	if (n_items)
		*n_items = to - from;
}

static void render_csv(const struct catalog *c, char delim, struct sbuf *out)
{
	sb_printf(out, "sku%cstock%cupdated_at\n", delim, delim);
	for (size_t i = 0; i < c->n; i++) {
		const struct item *it = &c->items[i];
		sb_csv(out, S(c, it->sku), delim);
		sb_add(out, &delim, 1);
		sb_csv(out, S(c, it->stock), delim);
		sb_add(out, &delim, 1);
		sb_csv(out, S(c, it->updated), delim);
		sb_add(out, "\n", 1);
	}
}

static void render_xml(const struct catalog *c, struct sbuf *out)
{
	sb_printf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<catalog total=\"%zu\">\n", c->n);
	for (size_t i = 0; i < c->n; i++) {
		const struct item *it = &c->items[i];
		sb_puts(out, "<product sku=\"");
		sb_xml(out, S(c, it->sku));
		sb_puts(out, "\"><stock>");
		sb_xml(out, S(c, it->stock));
		sb_puts(out, "</stock>");
		if (it->updated) {
			sb_puts(out, "<updated>");
			sb_xml(out, S(c, it->updated));
			sb_puts(out, "</updated>");
		}
		sb_puts(out, "</product>\n");
	}
	sb_puts(out, "</catalog>\n");
}

static bool gzip_buf(const char *in, size_t len, struct sbuf *out)
{
	z_stream zs;
	uLong bound;

	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return false;
	bound = deflateBound(&zs, (uLong)len) + 32;
	out->d = xmalloc(bound);
	out->cap = bound;
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = (Bytef *)out->d;
	zs.avail_out = (uInt)bound;
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&zs);
		free(out->d);
		memset(out, 0, sizeof(*out));
		return false;
	}
	out->len = zs.total_out;
	deflateEnd(&zs);
	return true;
}

static void catalog_prerender(struct catalog *c)
{
	long limit = opt.page_size > 0 ? opt.page_size : 500;
	size_t np = c->n == 0 ? 1 : (c->n + (size_t)limit - 1) / (size_t)limit;

	c->pages = calloc(np, sizeof(*c->pages));
	c->gz_pages = opt.gzip ? calloc(np, sizeof(*c->gz_pages)) : NULL;
	if (!c->pages || (opt.gzip && !c->gz_pages))
		die("out of memory");
	for (size_t i = 0; i < np; i++) {
		struct page_req pr = { STYLE_PAGE, opt.first_page + (long)i, (long)i * limit, limit,
		                       "limit" };
		render_page(c, &pr, &c->pages[i], NULL, NULL);
		if (opt.gzip && !gzip_buf(c->pages[i].d, c->pages[i].len, &c->gz_pages[i]))
			die("gzip failed");
	}
	c->npages = np;
}

/* ---- responses ---- */

#define POST_MAX (1024 * 1024)   /* largest request body read */

struct req_ctx {
	char *uri;
	bool seen;           /* the handler was called once (headers complete) */
	struct sbuf body;    /* the request body (POST) */
	bool too_big;        /* the body was longer than POST_MAX */
};

static bool client_gzip(struct MHD_Connection *conn)
{
	const char *ae = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept-Encoding");

	return opt.gzip && ae && strstr(ae, "gzip");
}

/* Queues body (taking ownership of body->d) with status and type. */
static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
                             struct sbuf *body, const char *link, bool may_gzip)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	bool gz = false;

	if (may_gzip && body->len > 0 && client_gzip(conn)) {
		struct sbuf z = { 0 };
		if (gzip_buf(body->d ? body->d : "", body->len, &z)) {
			free(body->d);
			*body = z;
			gz = true;
		}
	}
	r = MHD_create_response_from_buffer(body->len, body->d ? body->d : (void *)"",
	                                    body->d ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	body->d = NULL;
	if (!r)
		return MHD_NO;
	if (type)
		MHD_add_response_header(r, "Content-Type", type);
	if (gz)
		MHD_add_response_header(r, "Content-Encoding", "gzip");
	if (opt.gzip)
		MHD_add_response_header(r, "Vary", "Accept-Encoding");
	if (link) {
		char *h = xmalloc(strlen(link) + 16);
		sprintf(h, "<%s>; rel=\"next\"", link);
		MHD_add_response_header(r, "Link", h);
		free(h);
	}
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_json_msg(struct MHD_Connection *conn, unsigned status,
                                      const char *msg)
{
	struct sbuf b = { 0 };

	sb_puts(&b, "{\"success\":false,\"message\":");
	sb_json_str(&b, msg);
	sb_puts(&b, "}");
	return reply(conn, status, "application/json", &b, NULL, false);
}

static enum MHD_Result reply_fault(struct MHD_Connection *conn, unsigned status)
{
	struct sbuf b = { 0 };
	struct MHD_Response *r;
	enum MHD_Result ret;
	char tmp[64];

	sb_printf(&b, "{\"success\":false,\"message\":\"simulated failure: HTTP %u\"}", status);
	r = MHD_create_response_from_buffer(b.len, b.d, MHD_RESPMEM_MUST_FREE);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "application/json");
	if (status == 429 || status == 503) {
		if (opt.retry_after >= 0) {
			snprintf(tmp, sizeof(tmp), "%ld", opt.retry_after);
			MHD_add_response_header(r, "Retry-After", tmp);
		} else if (opt.retry_after_date >= 0) {
			time_t t = time(NULL) + opt.retry_after_date;
			struct tm tm;
			gmtime_r(&t, &tm);
			strftime(tmp, sizeof(tmp), "%a, %d %b %Y %H:%M:%S GMT", &tm);
			MHD_add_response_header(r, "Retry-After", tmp);
		}
		if (opt.ratelimit_reset >= 0) {
			snprintf(tmp, sizeof(tmp), "%ld", opt.ratelimit_reset);
			MHD_add_response_header(r, "X-Ratelimit-Reset", tmp);
		}
	}
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

struct trunc {
	char *body;
	size_t len, cut;
};

static ssize_t trunc_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct trunc *t = cls;
	size_t n;

	if (pos >= t->cut)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	n = t->cut - (size_t)pos;
	if (n > max)
		n = max;
	memcpy(buf, t->body + pos, n);
	return (ssize_t)n;
}

static void trunc_free(void *cls)
{
	struct trunc *t = cls;

	free(t->body);
	free(t);
}

/* Sends half of body after advertising all of it, then breaks off. */
static enum MHD_Result reply_truncated(struct MHD_Connection *conn, const char *type,
                                       struct sbuf *body)
{
	struct trunc *t = xmalloc(sizeof(*t));
	struct MHD_Response *r;
	enum MHD_Result ret;

	t->body = body->d ? body->d : xstrdup("");
	t->len = body->len;
	t->cut = body->len / 2;
	body->d = NULL;
	r = MHD_create_response_from_callback(t->len, 4096, trunc_read, t, trunc_free);
	if (!r) {
		trunc_free(t);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* ---- auth ---- */

static bool auth_ok(struct MHD_Connection *conn)
{
	const char *v;

	if (opt.require_bearer) {
		v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
		if (!v || strncasecmp(v, "Bearer ", 7) != 0 || strcmp(v + 7, opt.require_bearer) != 0)
			return false;
	}
	if (opt.header_name) {
		v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, opt.header_name);
		if (!v || strcmp(v, opt.header_value) != 0)
			return false;
	}
	if (opt.basic_expect) {
		v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
		if (!v || strncasecmp(v, "Basic ", 6) != 0 || strcmp(v + 6, opt.basic_expect) != 0)
			return false;
	}
	if (opt.query_name) {
		v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, opt.query_name);
		if (!v || strcmp(v, opt.query_value) != 0)
			return false;
	}
	return true;
}

static enum MHD_Result reply_unauthorized(struct MHD_Connection *conn)
{
	struct sbuf b = { 0 };
	struct MHD_Response *r;
	enum MHD_Result ret;

	sb_puts(&b, "{\"success\":false,\"message\":\"invalid or missing credentials\"}");
	r = MHD_create_response_from_buffer(b.len, b.d, MHD_RESPMEM_MUST_FREE);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "application/json");
	if (opt.basic_expect)
		MHD_add_response_header(r, "WWW-Authenticate", "Basic realm=\"mock\"");
	ret = MHD_queue_response(conn, MHD_HTTP_UNAUTHORIZED, r);
	MHD_destroy_response(r);
	return ret;
}

/* ---- routes ---- */

static const char *content_type_for(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (!dot)
		return "application/octet-stream";
	if (strcmp(dot, ".json") == 0)
		return "application/json";
	if (strcmp(dot, ".csv") == 0)
		return "text/csv; charset=utf-8";
	if (strcmp(dot, ".xml") == 0)
		return "application/xml";
	if (strcmp(dot, ".gz") == 0)
		return "application/gzip";
	if (strcmp(dot, ".txt") == 0)
		return "text/plain; charset=utf-8";
	if (strcmp(dot, ".html") == 0)
		return "text/html; charset=utf-8";
	return "application/octet-stream";
}

static enum MHD_Result route_static(struct MHD_Connection *conn, const char *name)
{
	struct sbuf body = { 0 };
	char *path;
	FILE *f;
	char chunk[65536];
	size_t n;
	bool gz = strlen(name) > 3 && strcmp(name + strlen(name) - 3, ".gz") == 0;

	if (!opt.root || !*name || name[0] == '/' || strstr(name, "..") || strchr(name, '\\'))
		return reply_json_msg(conn, MHD_HTTP_NOT_FOUND, "no such file");
	path = xmalloc(strlen(opt.root) + strlen(name) + 2);
	sprintf(path, "%s/%s", opt.root, name);
	f = fopen(path, "rb");
	free(path);
	if (!f)
		return reply_json_msg(conn, MHD_HTTP_NOT_FOUND, "no such file");
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		sb_add(&body, chunk, n);
	fclose(f);
	return reply(conn, MHD_HTTP_OK, content_type_for(name), &body, NULL, !gz);
}

/* {"sku":..,"stock":..[,"updated_at":..]} of one item; cat_lock held. */
static void put_check_item(struct sbuf *b, const struct item *it)
{
	sb_printf(b, "{\"sku\":%s,\"stock\":%s", S(cat, it->sku_json), S(cat, it->stock_json));
	if (it->updated) {
		sb_puts(b, ",\"updated_at\":");
		sb_json_str(b, S(cat, it->updated));
	}
	sb_puts(b, "}");
}

static enum MHD_Result route_check(struct MHD_Connection *conn, const char *sku)
{
	struct sbuf b = { 0 };
	const struct item *it;

	catalog_maybe_reload();
	if (opt.check_delay_ms > 0)
		nap(opt.check_delay_ms);
	if (opt.check_fail_status > 0)
		return reply_fault(conn, (unsigned)opt.check_fail_status);
	pthread_rwlock_rdlock(&cat_lock);
	it = catalog_find(cat, sku);
	if (it)
		put_check_item(&b, it);
	pthread_rwlock_unlock(&cat_lock);
	if (!it)
		return reply_json_msg(conn, MHD_HTTP_NOT_FOUND, "unknown SKU");
	return reply(conn, MHD_HTTP_OK, "application/json", &b, NULL, true);
}

/* Is the request's Content-Type application/json (parameters allowed)? */
static bool content_is_json(struct MHD_Connection *conn)
{
	const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
	size_t n = strlen("application/json");

	return ct && strncasecmp(ct, "application/json", n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* POST /check: {"skus":[..]} or {"sku":".."} -> {"items":[..]}. */
static enum MHD_Result route_check_post(struct MHD_Connection *conn, const struct req_ctx *ctx)
{
	struct sbuf b = { 0 };
	json_error_t je;
	json_t *doc, *skus, *one, *v;
	size_t i, n = 0;
	bool first = true;

	catalog_maybe_reload();
	if (opt.check_delay_ms > 0)
		nap(opt.check_delay_ms);
	if (opt.check_fail_status > 0)
		return reply_fault(conn, (unsigned)opt.check_fail_status);
	if (ctx->too_big)
		return reply_json_msg(conn, 413, "request body too large");
	if (!content_is_json(conn))
		return reply_json_msg(conn, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
		                      "expected Content-Type: application/json");
	doc = json_loadb(ctx->body.d ? ctx->body.d : "", ctx->body.len, 0, &je);
	if (!doc || !json_is_object(doc)) {
		json_decref(doc);
		return reply_json_msg(conn, MHD_HTTP_BAD_REQUEST, "the body is not a JSON object");
	}
	skus = json_object_get(doc, "skus");
	one = json_object_get(doc, "sku");
	if (json_is_array(skus)) {
		n = json_array_size(skus);
		json_array_foreach(skus, i, v) {
			if (!json_is_string(v))
				skus = NULL;
		}
	} else if (json_is_string(one)) {
		n = 1;
		skus = NULL;
	}
	if (!skus && !json_is_string(one)) {
		json_decref(doc);
		return reply_json_msg(conn, MHD_HTTP_BAD_REQUEST,
		                      "expected {\"skus\":[\"SKU\",...]} or {\"sku\":\"SKU\"}");
	}
	sb_puts(&b, "{\"items\":[");
	pthread_rwlock_rdlock(&cat_lock);
	for (i = 0; i < n; i++) {
		const char *sku = json_string_value(skus ? json_array_get(skus, i) : one);
		const struct item *it = catalog_find(cat, sku);

		if (!it)
			continue;
		if (!first)
			sb_puts(&b, ",");
		first = false;
		put_check_item(&b, it);
	}
	pthread_rwlock_unlock(&cat_lock);
	sb_puts(&b, "]}");
	json_decref(doc);
	return reply(conn, MHD_HTTP_OK, "application/json", &b, NULL, true);
}

/* Reads the paging parameters.  Returns false with *why on bad values. */
static bool page_args(struct MHD_Connection *conn, struct page_req *pr, const char **why)
{
	static const char *const limit_names[] = { "limit", "size", "per_page", "page_size" };
	const char *page = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "page");
	const char *offset = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "offset");
	const char *cursor = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "cursor");
	const char *limit = NULL;

	pr->limit_name = "limit";
	for (size_t i = 0; i < sizeof(limit_names) / sizeof(limit_names[0]) && !limit; i++) {
		limit = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, limit_names[i]);
		if (limit)
			pr->limit_name = limit_names[i];
	}
	pr->limit = 500;
	pr->offset = 0;
	pr->page = opt.first_page;
	if (!page && !offset && !cursor && !limit) {
		pr->style = STYLE_ALL;
		return true;
	}
	if (limit && (!parse_long(limit, &pr->limit) || pr->limit <= 0)) {
		*why = "bad limit";
		return false;
	}
	if (page) {
		pr->style = STYLE_PAGE;
		if (!parse_long(page, &pr->page) || pr->page < opt.first_page) {
			*why = "bad page number";
			return false;
		}
		pr->offset = (pr->page - opt.first_page) * pr->limit;
	} else if (offset) {
		pr->style = STYLE_OFFSET;
		if (!parse_long(offset, &pr->offset) || pr->offset < 0) {
			*why = "bad offset";
			return false;
		}
	} else {
		pr->style = STYLE_CURSOR;
		if (cursor) {
			char *end;
			if (cursor[0] != 'c' || !cursor[1]) {
				*why = "bad cursor";
				return false;
			}
			errno = 0;
			pr->offset = (long)strtoul(cursor + 1, &end, 16);
			if (errno || *end || pr->offset < 0) {
				*why = "bad cursor";
				return false;
			}
		}
	}
	if (pr->style != STYLE_PAGE)
		pr->page = pr->offset / pr->limit + opt.first_page;
	return true;
}

enum items_kind { ITEMS_JSON, ITEMS_CSV, ITEMS_XML };

static enum MHD_Result route_items(struct MHD_Connection *conn, enum items_kind kind)
{
	struct page_req pr = { STYLE_ALL, opt.first_page, 0, 500, "limit" };
	struct sbuf body = { 0 };
	const char *why = NULL, *type;
	char *link = NULL;
	long count, n_items = 0;
	bool use_cache = false, cached_gz = false;
	const struct sbuf *cached = NULL;
	enum MHD_Result ret;

	catalog_maybe_reload();
	count = atomic_fetch_add(&items_requests, 1) + 1;
	if (opt.fail_status > 0 && (opt.fail_count < 0 || count <= opt.fail_count))
		return reply_fault(conn, (unsigned)opt.fail_status);
	if (kind == ITEMS_JSON && !page_args(conn, &pr, &why))
		return reply_json_msg(conn, MHD_HTTP_BAD_REQUEST, why);

	if (opt.delay_ms > 0 && (opt.delay_page < 0 || pr.page == opt.delay_page) &&
	    (opt.slow_after_items < 0 || atomic_load(&items_served) >= opt.slow_after_items))
		nap(opt.delay_ms);

	if (opt.empty_body) {
		struct sbuf empty = { 0 };
		return reply(conn, MHD_HTTP_OK, "application/json", &empty, NULL, false);
	}
	if (opt.error_envelope)
		return reply_json_msg(conn, MHD_HTTP_OK, "API key expired");

	pthread_rwlock_rdlock(&cat_lock);
	switch (kind) {
	case ITEMS_CSV: {
		const char *d = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "delimiter");
		char delim = ',';
		if (d && (strcmp(d, ";") == 0 || strcasecmp(d, "semicolon") == 0))
			delim = ';';
		else if (d && (strcmp(d, "\t") == 0 || strcasecmp(d, "tab") == 0))
			delim = '\t';
		render_csv(cat, delim, &body);
		n_items = (long)cat->n;
		type = "text/csv; charset=utf-8";
		break;
	}
	case ITEMS_XML:
		render_xml(cat, &body);
		n_items = (long)cat->n;
		type = "application/xml";
		break;
	case ITEMS_JSON:
	default:
		type = "application/json";
		use_cache = cat->npages > 0 && pr.style == STYLE_PAGE && pr.limit == opt.page_size &&
		            strcmp(pr.limit_name, "limit") == 0 && !opt.relative_links &&
		            pr.page != opt.malformed_page && pr.page != opt.truncate_page;
		if (use_cache) {
			size_t idx = (size_t)(pr.page - opt.first_page);
			long total = (long)cat->n;
			long from = pr.offset < total ? pr.offset : total;
			n_items = pr.limit > total - from ? total - from : pr.limit;
			if (idx < cat->npages) {
				cached_gz = cat->gz_pages && client_gzip(conn);
				cached = cached_gz ? &cat->gz_pages[idx] : &cat->pages[idx];
				if (from + n_items < total) {
					struct sbuf l = { 0 };
					sb_printf(&l, "http://127.0.0.1:%u", port);
					next_query(&l, &pr, from + n_items);
					link = l.d;
				}
			} else {
				use_cache = false;
			}
		}
		if (!use_cache)
			render_page(cat, &pr, &body, &link, &n_items);
		break;
	}
	pthread_rwlock_unlock(&cat_lock);

	if (cached) {
		/* prerendered pages are never freed while the server runs */
		struct MHD_Response *r = MHD_create_response_from_buffer(cached->len, cached->d,
		                                                         MHD_RESPMEM_PERSISTENT);
		if (!r) {
			free(link);
			return MHD_NO;
		}
		MHD_add_response_header(r, "Content-Type", type);
		if (opt.gzip) {
			MHD_add_response_header(r, "Vary", "Accept-Encoding");
			if (cached_gz)
				MHD_add_response_header(r, "Content-Encoding", "gzip");
		}
		if (link) {
			char *h = xmalloc(strlen(link) + 16);
			sprintf(h, "<%s>; rel=\"next\"", link);
			MHD_add_response_header(r, "Link", h);
			free(h);
		}
		atomic_fetch_add(&items_served, n_items);
		ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
		MHD_destroy_response(r);
		free(link);
		return ret;
	}

	if (opt.malformed_page >= 0 && pr.page == opt.malformed_page) {
		switch (kind) {
		case ITEMS_CSV:
			sb_puts(&body, "\"SKU-BROKEN,1,2026-11-01T00:00:00Z\n");
			break;
		case ITEMS_XML:
			/* drop "</catalog>\n" and leave an element open */
			if (body.len >= 11)
				body.len -= 11;
			sb_puts(&body, "<product sku=\"SKU-BROKEN\"><stock>1</stock></catalog>\n");
			break;
		case ITEMS_JSON:
		default:
			/* replace the closing "]}}" with a bad item */
			if (body.len >= 3)
				body.len -= 3;
			sb_puts(&body, ",{\"sku\":oops}]}}");
			break;
		}
	}
	atomic_fetch_add(&items_served, n_items);
	if (opt.truncate_page >= 0 && pr.page == opt.truncate_page &&
	    (opt.truncate_count < 0 || atomic_fetch_add(&truncations, 1) < opt.truncate_count)) {
		free(link);
		return reply_truncated(conn, type, &body);
	}
	ret = reply(conn, MHD_HTTP_OK, type, &body, link, true);
	free(link);
	return ret;
}

/* Any method on /redirect/PATH: 302 to /PATH. */
static enum MHD_Result route_redirect(struct MHD_Connection *conn, const char *path)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Location", path);
	ret = MHD_queue_response(conn, MHD_HTTP_FOUND, r);
	MHD_destroy_response(r);
	return ret;
}

/* POST /store/events: logs the request, fails the first --store-fail-count. */
static enum MHD_Result route_store_events(struct MHD_Connection *conn, const struct req_ctx *ctx)
{
	static const char *const hdrs[] = { "webhook-id", "webhook-timestamp", "webhook-signature",
	                                    "content-type" };
	long n = atomic_fetch_add(&store_requests, 1) + 1;
	unsigned status = n <= opt.store_fail_count ? 503 : ctx->too_big ? 413 : 200;
	json_t *rec = json_object();
	char *line;

	json_object_set_new(rec, "n", json_integer(n));
	json_object_set_new(rec, "status", json_integer(status));
	for (size_t i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
		const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, hdrs[i]);
		json_object_set_new(rec, hdrs[i], v ? json_string(v) : json_null());
	}
	json_object_set_new(rec, "body", json_stringn_nocheck(ctx->body.d ? ctx->body.d : "",
	                                                      ctx->body.len));
	line = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(rec);
	if (store_fp && line) {
		pthread_mutex_lock(&log_lock);
		fprintf(store_fp, "%s\n", line);
		fflush(store_fp);
		pthread_mutex_unlock(&log_lock);
	}
	free(line);
	if (status == 503)
		return reply_fault(conn, 503);
	if (status == 413)
		return reply_json_msg(conn, 413, "request body too large");
	{
		struct sbuf b = { 0 };
		sb_puts(&b, "{\"received\":true}");
		return reply(conn, MHD_HTTP_OK, "application/json", &b, NULL, false);
	}
}

static void log_request(struct MHD_Connection *conn, const char *method, const char *uri,
                        const struct req_ctx *ctx)
{
	const char *auth, *key, *ae, *ct;
	struct sbuf extra = { 0 };

	if (!log_fp)
		return;
	auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
	key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Api-Key");
	ae = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept-Encoding");
	if (strcmp(method, "POST") == 0) {
		ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
		sb_printf(&extra, " content-type=%s body=", ct ? ct : "-");
		for (size_t i = 0; ctx && i < ctx->body.len; i++) {
			unsigned char ch = (unsigned char)ctx->body.d[i];

			if (ch >= 0x20 && ch < 0x7f)
				sb_add(&extra, &ctx->body.d[i], 1);
			else
				sb_printf(&extra, "\\x%02X", ch);
		}
	}
	pthread_mutex_lock(&log_lock);
	fprintf(log_fp, "%s %s auth=%s key=%s accept-encoding=%s%s\n", method, uri,
	        auth ? auth : "-", key ? key : "-", ae ? ae : "-", extra.d ? extra.d : "");
	fflush(log_fp);
	pthread_mutex_unlock(&log_lock);
	free(extra.d);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version,
                               const char *upload_data, size_t *upload_data_size,
                               void **req_cls)
{
	struct req_ctx *ctx = *req_cls;

	(void)cls;
	(void)version;
	if (ctx && !ctx->seen) {
		/* answering in the first call would make MHD close the connection */
		ctx->seen = true;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		/* kept for POST /check (up to POST_MAX), ignored elsewhere */
		if (ctx && !ctx->too_big) {
			if (ctx->body.len + *upload_data_size > POST_MAX)
				ctx->too_big = true;
			else
				sb_add(&ctx->body, upload_data, *upload_data_size);
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	log_request(conn, method, ctx && ctx->uri ? ctx->uri : url, ctx);
	if (strncmp(url, "/redirect/", 10) == 0)
		return route_redirect(conn, url + 9);
	if (strcmp(method, "POST") == 0 && strcmp(url, "/store/events") == 0) {
		if (!ctx)
			return MHD_NO;
		return route_store_events(conn, ctx);
	}
	if (strcmp(method, "POST") == 0) {
		if (strcmp(url, "/check") != 0)
			return reply_json_msg(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
			                      "only GET is served here (POST: /check)");
		if (!ctx)
			return MHD_NO;
		if (!auth_ok(conn))
			return reply_unauthorized(conn);
		return route_check_post(conn, ctx);
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply_json_msg(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		                      "only GET is served (POST: /check)");
	if (!auth_ok(conn))
		return reply_unauthorized(conn);
	if (strncmp(url, "/static/", 8) == 0)
		return route_static(conn, url + 8);
	if (strcmp(url, "/items") == 0)
		return route_items(conn, ITEMS_JSON);
	if (strcmp(url, "/items.csv") == 0)
		return route_items(conn, ITEMS_CSV);
	if (strcmp(url, "/items.xml") == 0)
		return route_items(conn, ITEMS_XML);
	if (strncmp(url, "/check/", 7) == 0 && url[7])
		return route_check(conn, url + 7);
	return reply_json_msg(conn, MHD_HTTP_NOT_FOUND, "no such route");
}

static void *uri_logger(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct req_ctx *ctx = xmalloc(sizeof(*ctx));

	(void)cls;
	(void)conn;
	ctx->uri = xstrdup(uri ? uri : "");
	ctx->seen = false;
	memset(&ctx->body, 0, sizeof(ctx->body));
	ctx->too_big = false;
	return ctx;
}

static void completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                      enum MHD_RequestTerminationCode toe)
{
	struct req_ctx *ctx = *req_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (ctx) {
		free(ctx->uri);
		free(ctx->body.d);
		free(ctx);
		*req_cls = NULL;
	}
}

/* ---- main ---- */

static void usage(void)
{
	fprintf(stderr,
	        "usage: mock_supplier --port-file FILE [--items FILE.json | --generate N]\n"
	        "  [--root DIR] [--log FILE] [--gzip] [--first-page N] [--page-size N]\n"
	        "  [--pages-prerender] [--change-pct P --seed S] [--relative-links]\n"
	        "  [--require-bearer T] [--require-header NAME:VALUE] [--require-basic U:P]\n"
	        "  [--require-query NAME=VALUE] [--fail-status CODE [--fail-count N]]\n"
	        "  [--retry-after S | --retry-after-date S] [--ratelimit-reset S]\n"
	        "  [--delay-ms MS [--delay-page P] [--slow-after-items N]]\n"
	        "  [--truncate-page P [--truncate-count N]] [--malformed-page P]\n"
	        "  [--empty-body] [--error-envelope] [--check-delay-ms MS]\n"
	        "  [--check-fail-status CODE] [--max-seconds N]\n"
	        "  [--store-log FILE] [--store-fail-count N]\n");
	exit(2);
}

static long num_arg(const char *name, const char *v)
{
	long n;

	if (!parse_long(v, &n))
		die("--%s: expected a number, got \"%s\"", name, v);
	return n;
}

static void write_port_file(void)
{
	char *tmp = xmalloc(strlen(opt.port_file) + 8);
	FILE *f;

	sprintf(tmp, "%s.tmp", opt.port_file);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%u\n", port) < 0 || fclose(f) != 0)
		die("cannot write %s: %s", tmp, strerror(errno));
	if (rename(tmp, opt.port_file) != 0)
		die("cannot rename %s: %s", tmp, strerror(errno));
	free(tmp);
}

int main(int argc, char **argv)
{
	enum {
		O_PORT_FILE = 256, O_ROOT, O_ITEMS, O_GENERATE, O_CHANGE_PCT, O_SEED, O_LOG,
		O_PRERENDER, O_GZIP, O_FIRST_PAGE, O_PAGE_SIZE, O_MAX_SECONDS, O_REQ_BEARER,
		O_REQ_HEADER, O_REQ_BASIC, O_REQ_QUERY, O_FAIL_STATUS, O_FAIL_COUNT,
		O_RETRY_AFTER, O_RETRY_AFTER_DATE, O_RL_RESET, O_DELAY_MS, O_DELAY_PAGE,
		O_TRUNCATE_PAGE, O_TRUNCATE_COUNT, O_MALFORMED_PAGE, O_EMPTY_BODY,
		O_ERROR_ENVELOPE, O_SLOW_AFTER, O_RELATIVE_LINKS, O_CHECK_DELAY, O_CHECK_FAIL,
		O_STORE_LOG, O_STORE_FAIL_COUNT,
	};
	static const struct option longopts[] = {
		{ "port-file", required_argument, NULL, O_PORT_FILE },
		{ "root", required_argument, NULL, O_ROOT },
		{ "items", required_argument, NULL, O_ITEMS },
		{ "generate", required_argument, NULL, O_GENERATE },
		{ "change-pct", required_argument, NULL, O_CHANGE_PCT },
		{ "seed", required_argument, NULL, O_SEED },
		{ "log", required_argument, NULL, O_LOG },
		{ "pages-prerender", no_argument, NULL, O_PRERENDER },
		{ "gzip", no_argument, NULL, O_GZIP },
		{ "first-page", required_argument, NULL, O_FIRST_PAGE },
		{ "page-size", required_argument, NULL, O_PAGE_SIZE },
		{ "max-seconds", required_argument, NULL, O_MAX_SECONDS },
		{ "require-bearer", required_argument, NULL, O_REQ_BEARER },
		{ "require-header", required_argument, NULL, O_REQ_HEADER },
		{ "require-basic", required_argument, NULL, O_REQ_BASIC },
		{ "require-query", required_argument, NULL, O_REQ_QUERY },
		{ "fail-status", required_argument, NULL, O_FAIL_STATUS },
		{ "fail-count", required_argument, NULL, O_FAIL_COUNT },
		{ "retry-after", required_argument, NULL, O_RETRY_AFTER },
		{ "retry-after-date", required_argument, NULL, O_RETRY_AFTER_DATE },
		{ "ratelimit-reset", required_argument, NULL, O_RL_RESET },
		{ "delay-ms", required_argument, NULL, O_DELAY_MS },
		{ "delay-page", required_argument, NULL, O_DELAY_PAGE },
		{ "slow-after-items", required_argument, NULL, O_SLOW_AFTER },
		{ "truncate-page", required_argument, NULL, O_TRUNCATE_PAGE },
		{ "truncate-count", required_argument, NULL, O_TRUNCATE_COUNT },
		{ "malformed-page", required_argument, NULL, O_MALFORMED_PAGE },
		{ "empty-body", no_argument, NULL, O_EMPTY_BODY },
		{ "error-envelope", no_argument, NULL, O_ERROR_ENVELOPE },
		{ "relative-links", no_argument, NULL, O_RELATIVE_LINKS },
		{ "check-delay-ms", required_argument, NULL, O_CHECK_DELAY },
		{ "check-fail-status", required_argument, NULL, O_CHECK_FAIL },
		{ "store-log", required_argument, NULL, O_STORE_LOG },
		{ "store-fail-count", required_argument, NULL, O_STORE_FAIL_COUNT },
		{ NULL, 0, NULL, 0 },
	};
	struct sockaddr_in sa;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;
	sigset_t sigs;
	time_t deadline;
	int o;
	char why[512];

	while ((o = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		const char *name = NULL;
		for (const struct option *lo = longopts; lo->name; lo++)
			if (lo->val == o)
				name = lo->name;
		switch (o) {
		case O_PORT_FILE: opt.port_file = optarg; break;
		case O_ROOT: opt.root = optarg; break;
		case O_ITEMS: opt.items_file = optarg; break;
		case O_GENERATE: opt.generate = num_arg(name, optarg); break;
		case O_CHANGE_PCT: opt.change_pct = num_arg(name, optarg); break;
		case O_SEED: opt.seed = num_arg(name, optarg); break;
		case O_LOG: opt.log_file = optarg; break;
		case O_PRERENDER: opt.prerender = true; break;
		case O_GZIP: opt.gzip = true; break;
		case O_FIRST_PAGE: opt.first_page = num_arg(name, optarg); break;
		case O_PAGE_SIZE: opt.page_size = num_arg(name, optarg); break;
		case O_MAX_SECONDS: opt.max_seconds = num_arg(name, optarg); break;
		case O_REQ_BEARER: opt.require_bearer = optarg; break;
		case O_REQ_HEADER: opt.require_header = optarg; break;
		case O_REQ_BASIC: opt.require_basic = optarg; break;
		case O_REQ_QUERY: opt.require_query = optarg; break;
		case O_FAIL_STATUS: opt.fail_status = num_arg(name, optarg); break;
		case O_FAIL_COUNT: opt.fail_count = num_arg(name, optarg); break;
		case O_RETRY_AFTER: opt.retry_after = num_arg(name, optarg); break;
		case O_RETRY_AFTER_DATE: opt.retry_after_date = num_arg(name, optarg); break;
		case O_RL_RESET: opt.ratelimit_reset = num_arg(name, optarg); break;
		case O_DELAY_MS: opt.delay_ms = num_arg(name, optarg); break;
		case O_DELAY_PAGE: opt.delay_page = num_arg(name, optarg); break;
		case O_SLOW_AFTER: opt.slow_after_items = num_arg(name, optarg); break;
		case O_TRUNCATE_PAGE: opt.truncate_page = num_arg(name, optarg); break;
		case O_TRUNCATE_COUNT: opt.truncate_count = num_arg(name, optarg); break;
		case O_MALFORMED_PAGE: opt.malformed_page = num_arg(name, optarg); break;
		case O_EMPTY_BODY: opt.empty_body = true; break;
		case O_ERROR_ENVELOPE: opt.error_envelope = true; break;
		case O_RELATIVE_LINKS: opt.relative_links = true; break;
		case O_CHECK_DELAY: opt.check_delay_ms = num_arg(name, optarg); break;
		case O_CHECK_FAIL: opt.check_fail_status = num_arg(name, optarg); break;
		case O_STORE_LOG: opt.store_log = optarg; break;
		case O_STORE_FAIL_COUNT: opt.store_fail_count = num_arg(name, optarg); break;
		default: usage();
		}
	}
	if (optind != argc || !opt.port_file)
		usage();
	if (opt.items_file && opt.generate >= 0)
		die("--items and --generate exclude each other");
	if (opt.fail_status && (opt.fail_status < 100 || opt.fail_status > 599))
		die("--fail-status: %ld is not an HTTP status", opt.fail_status);
	if (opt.check_fail_status && (opt.check_fail_status < 100 || opt.check_fail_status > 599))
		die("--check-fail-status: %ld is not an HTTP status", opt.check_fail_status);
	if (opt.page_size <= 0)
		die("--page-size must be positive");
	if (opt.require_header) {
		const char *colon = strchr(opt.require_header, ':');
		if (!colon || colon == opt.require_header)
			die("--require-header expects NAME:VALUE");
		opt.header_name = strndup(opt.require_header, (size_t)(colon - opt.require_header));
		opt.header_value = xstrdup(colon + 1 + strspn(colon + 1, " "));
	}
	if (opt.require_basic) {
		if (!strchr(opt.require_basic, ':'))
			die("--require-basic expects USER:PASS");
		opt.basic_expect = base64(opt.require_basic);
	}
	if (opt.require_query) {
		const char *eq = strchr(opt.require_query, '=');
		if (!eq || eq == opt.require_query)
			die("--require-query expects NAME=VALUE");
		opt.query_name = strndup(opt.require_query, (size_t)(eq - opt.require_query));
		opt.query_value = xstrdup(eq + 1);
	}
	if (opt.log_file) {
		log_fp = fopen(opt.log_file, "a");
		if (!log_fp)
			die("cannot open %s: %s", opt.log_file, strerror(errno));
	}
	if (opt.store_log) {
		store_fp = fopen(opt.store_log, "a");
		if (!store_fp)
			die("cannot open %s: %s", opt.store_log, strerror(errno));
	}

	if (opt.items_file) {
		if (stat(opt.items_file, &items_stat) != 0)
			die("%s: %s", opt.items_file, strerror(errno));
		cat = catalog_load(opt.items_file, why, sizeof(why));
		if (!cat)
			die("%s", why);
	} else {
		cat = catalog_generate(opt.generate > 0 ? opt.generate : 0);
	}

	/* the signals we wait for are blocked in every thread */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = 0;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
	                     0, NULL, NULL, handler, NULL,
	                     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	                     MHD_OPTION_URI_LOG_CALLBACK, uri_logger, NULL,
	                     MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
	                     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60,
	                     MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)256,
	                     MHD_OPTION_END);
	if (!d)
		die("cannot start the HTTP server on 127.0.0.1");
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	if (!info || info->port == 0)
		die("cannot learn the port the server listens on");
	port = info->port;
	if (opt.prerender)
		catalog_prerender(cat);
	write_port_file();

	deadline = time(NULL) + (opt.max_seconds > 0 ? opt.max_seconds : 600);
	for (;;) {
		struct timespec ts;
		time_t left = deadline - time(NULL);
		int sig;

		if (left <= 0) {
			fprintf(stderr, "mock_supplier: --max-seconds reached, stopping\n");
			break;
		}
		ts.tv_sec = left;
		ts.tv_nsec = 0;
		sig = sigtimedwait(&sigs, NULL, &ts);
		if (sig == SIGTERM || sig == SIGINT)
			break;
	}
	atomic_store(&stopping, 1);
	MHD_stop_daemon(d);
	catalog_free(cat);
	if (log_fp)
		fclose(log_fp);
	if (store_fp)
		fclose(store_fp);
	free(opt.header_name);
	free(opt.header_value);
	free(opt.basic_expect);
	free(opt.query_name);
	free(opt.query_value);
	return 0;
}
