/* check.c - asking suppliers about one SKU now (live single-SKU check).
 *
 * The product's links are read first, with the age of each cached figure.
 * Every supplier to ask is then asked at the same time, one thread each
 * (a request and the parse of a small answer, nothing else: the threads
 * never touch the database), and the answers are applied one after the
 * other through engine_apply with source "check", so the cache, the stock
 * log and the outbox stay in step exactly as for a sync.
 *
 * A check source asks with a GET of its URL ({sku} URL-encoded), or with a
 * POST (check.method = "POST") of its body template, in which {sku} becomes
 * the supplier SKU escaped for the inside of a JSON string and {skus} a
 * JSON array of the SKUs asked (one per ask: ["SKU"]).
 */
#include "config.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/check.h"
#include "feed/feed.h"
#include "feed/http.h"
#include "store/store.h"

#define CHECK_DEFAULT_TIMEOUT_MS 2000
#define CHECK_MAX_BYTES (8 * 1024 * 1024)   /* a check answer is one item, or a short list */
#define WRAP_KEY "__dropstock_check_item"   /* list holding a single-object JSON answer */

/* One supplier link of the product, and what asking about it gave. */
struct ask {
	struct check_link *out;
	int64_t link_id;
	int64_t supplier_id;
	const struct supplier_conf *sup;     /* NULL: not in the configuration */
	bool want;                           /* to be asked */
	int64_t timeout_ms;
	const char *ua_extra;                /* conf->user_agent_extra */
	/* results, filled by ask_run (possibly in its own thread) */
	bool found;
	int64_t raw;
	int64_t source_time;
	int64_t received_at;
	struct error err;
};

/* ---- the answer ---- */

struct pick {
	const struct supplier_conf *sup;     /* the check-shaped copy (rules_item_to_obs) */
	const char *want_sku;
	bool found;
	int64_t raw, source_time;
	int64_t items;
	struct error item_err;
	bool item_failed;
};

static int pick_item(void *ud, const struct feed_item *it, struct error *err)
{
	struct pick *p = ud;

	(void)err;
	p->items++;
	if (p->found || !it->sku || strcmp(it->sku, p->want_sku) != 0)
		return 0;
	if (rules_item_to_obs(p->sup, it, &p->raw, &p->source_time, &p->item_err) != 0) {
		p->item_failed = true;
		return 0;
	}
	p->found = true;
	return 0;
}

/* Follows a dot-separated object path from root.  Sets *parent and *key
 * (a pointer into the path copy) for the last step.  NULL when a step is
 * missing or meets something other than an object. */
static json_t *json_walk(json_t *root, char *path, json_t **parent, const char **key)
{
	json_t *node = root;
	char *step, *save = NULL;

	*parent = NULL;
	*key = NULL;
	for (step = strtok_r(path, ".", &save); step; step = strtok_r(NULL, ".", &save)) {
		if (!json_is_object(node))
			return NULL;
		*parent = node;
		*key = step;
		node = json_object_get(node, step);
		if (!node)
			return NULL;
	}
	return node;
}

/* A JSON check answer may be one object where the mapping expects a list of
 * items (the feed parser wants a list).  Returns a rewritten document in
 * which that object is a list of one, and sets *items to the items path to
 * parse it with; NULL when the document is to be parsed as it is (a list
 * already, or not JSON: the feed parser then says what is wrong). */
static char *json_single_wrap(const char *body, size_t len, const char *items_path,
                              const char **items)
{
	json_error_t je;
	json_t *root, *node, *parent, *arr, *doc;
	const char *key;
	char *path = NULL, *text = NULL;

	*items = items_path;
	root = json_loadb(body, len, 0, &je);
	if (!root)
		return NULL;
	if (str_empty(items_path)) {
		if (!json_is_object(root))
			goto out;
		/* the document is the item; its members stay in place for the
		 * envelope paths (success, message) */
		doc = json_copy(root);
		arr = json_array();
		json_array_append(arr, root);
		json_object_set_new(doc, WRAP_KEY, arr);
		text = json_dumps(doc, JSON_COMPACT);
		json_decref(doc);
		*items = WRAP_KEY;
		goto out;
	}
	path = xstrdup(items_path);
	node = json_walk(root, path, &parent, &key);
	if (!node || !parent || !json_is_object(node))
		goto out;
	arr = json_array();
	json_array_append(arr, node);
	json_object_set_new(parent, key, arr);
	text = json_dumps(root, JSON_COMPACT);
out:
	free(path);
	json_decref(root);
	return text;
}

/* Percent-encodes everything but RFC 3986 unreserved characters. */
static void url_encode(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			buf_putc(b, (char)*p);
		} else {
			buf_putc(b, '%');
			buf_putc(b, hex[*p >> 4]);
			buf_putc(b, hex[*p & 15]);
		}
	}
}

/* The URL template with every {sku} replaced.  Caller frees. */
static char *check_url(const char *tmpl, const char *sku)
{
	struct buf b = BUF_INIT;
	const char *p = tmpl, *q;

	while ((q = strstr(p, "{sku}")) != NULL) {
		buf_append(&b, p, (size_t)(q - p));
		url_encode(&b, sku);
		p = q + 5;
	}
	buf_puts(&b, p);
	return buf_steal(&b);
}

/* The POST body template with {sku} replaced by the JSON-escaped SKU
 * (without quotes: the template has them) and {skus} by ["SKU"], in one
 * pass (a SKU holding "{sku}" is not expanded again).  NULL template: an
 * empty body.  Returns NULL when the SKU is not valid UTF-8 (it cannot be
 * put in JSON).  Caller frees. */
static char *check_body(const char *tmpl, const char *sku)
{
	json_t *str = json_string(sku);
	char *quoted = str ? json_dumps(str, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
	struct buf b = BUF_INIT;
	size_t qlen;
	const char *p;

	json_decref(str);
	if (!quoted)
		return NULL;
	qlen = strlen(quoted);
	for (p = tmpl ? tmpl : ""; *p;) {
		if (strncmp(p, "{skus}", 6) == 0) {
			buf_putc(&b, '[');
			buf_append(&b, quoted, qlen);
			buf_putc(&b, ']');
			p += 6;
		} else if (strncmp(p, "{sku}", 5) == 0) {
			buf_append(&b, quoted + 1, qlen - 2);
			p += 5;
		} else {
			const char *q = strchr(p + 1, '{');
			size_t n = q ? (size_t)(q - p) : strlen(p);

			buf_append(&b, p, n);
			p += n;
		}
	}
	free(quoted);
	return buf_steal(&b);
}

/* Asks one supplier: request, parse, pick the item.  Touches only a. */
static void ask_run(struct ask *a)
{
	const struct supplier_conf *s = a->sup;
	const struct check_conf *ck = &s->check;
	const char *sku = a->out->supplier_sku;
	struct supplier_conf sc;
	struct http_client *http = NULL;
	struct http_result res = { 0 };
	struct feed_page_meta meta = { 0 };
	struct buf body = BUF_INIT;
	struct pick pick = { 0 };
	struct error e = { 0 };
	char *url = NULL, *masked = NULL, *wrapped = NULL, *post = NULL;
	const char *items = NULL;
	int rc;

	if (str_empty(ck->url)) {
		err_set(&a->err, ERRK_CONFIG, _("%s: SKU %s: the check source has no url"), s->slug,
		        sku);
		goto out;
	}
	/* the supplier as the check sees it: one short attempt, check format
	 * and mapping (rules_item_to_obs reads text values from source.map) */
	sc = *s;
	sc.timeout_ms = a->timeout_ms;
	if (sc.connect_timeout_ms <= 0 || sc.connect_timeout_ms > a->timeout_ms)
		sc.connect_timeout_ms = a->timeout_ms;
	sc.retries = 0;
	if (sc.max_bytes <= 0 || sc.max_bytes > CHECK_MAX_BYTES)
		sc.max_bytes = CHECK_MAX_BYTES;
	url = check_url(ck->url, sku);
	memset(&sc.source, 0, sizeof(sc.source));
	/* an sftp check URL checks the host key as the source does */
	sc.source.ssh_known_hosts = s->source.ssh_known_hosts;
	sc.source.ssh_host_key_sha256 = s->source.ssh_host_key_sha256;
	sc.source.url = url;
	sc.source.format = ck->format;
	sc.source.paging = PAGE_NONE;
	sc.source.map = ck->map;
	sc.source.line = ck->line;
	masked = http_url_mask(url, s->auth.kind == AUTH_QUERY ? s->auth.param : NULL);

	if (str_caseeq(ck->method, "POST")) {
		post = check_body(ck->body, sku);
		if (!post) {
			err_set(&a->err, ERRK_PERMANENT,
			        _("%s: SKU %s: the SKU is not valid UTF-8, so it cannot be put in "
			          "the JSON body of the check request"),
			        s->slug, sku);
			goto out;
		}
	}

	http = http_client_new(&sc, a->ua_extra);
	if (post)
		rc = http_post_buf(http, url, post, strlen(post),
		                   str_empty(ck->content_type) ? "application/json" : ck->content_type,
		                   &body, &res, &e);
	else
		rc = http_get_buf(http, url, &body, &res, &e);
	if (rc != 0) {
		if (res.status == 404)
			err_set(&a->err, ERRK_PERMANENT,
			        _("supplier %s does not know SKU %s (HTTP 404)"), s->slug, sku);
		else
			err_set(&a->err, e.kind, _("%s: SKU %s: %s"), s->slug, sku, e.msg);
		goto out;
	}
	a->received_at = time_now_ms();
	if (ck->format == FORMAT_JSON)
		wrapped = json_single_wrap(buf_str(&body), body.len, ck->map.items, &items);
	if (wrapped)
		sc.source.map.items = (char *)items;
	pick.sup = &sc;
	pick.want_sku = sku;
	if (feed_parse_buffer(&sc.source, wrapped ? wrapped : buf_str(&body),
	                      wrapped ? strlen(wrapped) : body.len, pick_item, &pick, &meta,
	                      &e) != 0) {
		err_set(&a->err, e.kind, _("%s: SKU %s: check answer from %s: %s"), s->slug, sku,
		        masked, e.msg);
		goto out;
	}
	if (pick.item_failed) {
		err_set(&a->err, ERRK_PERMANENT, _("%s: SKU %s: check answer from %s: %s"), s->slug,
		        sku, masked, pick.item_err.msg);
		goto out;
	}
	if (!pick.found) {
		err_set(&a->err, ERRK_PERMANENT,
		        P_("%s: SKU %s: the check answer from %s holds no item with that SKU "
		           "(%lld item)",
		           "%s: SKU %s: the check answer from %s holds no item with that SKU "
		           "(%lld items)",
		           (unsigned long)pick.items),
		        s->slug, sku, masked, (long long)pick.items);
		goto out;
	}
	a->found = true;
	a->raw = pick.raw;
	a->source_time = pick.source_time;
out:
	free(post);
	free(wrapped);
	feed_page_meta_clear(&meta);
	buf_free(&body);
	http_result_clear(&res);
	http_client_free(http);
	free(masked);
	free(url);
}

static void *ask_thread(void *ud)
{
	ask_run(ud);
	return NULL;
}

/* Asks every wanted supplier, all at once. */
static void ask_all(struct ask *asks, int n)
{
	pthread_t *tid;
	bool *started;
	int n_want = 0, i;

	if (n <= 0)
		return;
	tid = xcalloc((size_t)n, sizeof(*tid));
	started = xcalloc((size_t)n, sizeof(*started));
	for (i = 0; i < n; i++)
		n_want += asks[i].want;
	for (i = 0; i < n; i++) {
		if (!asks[i].want)
			continue;
		if (n_want > 1 && pthread_create(&tid[i], NULL, ask_thread, &asks[i]) == 0)
			started[i] = true;
		else
			ask_run(&asks[i]);     /* one ask, or no thread to be had: ask here */
	}
	for (i = 0; i < n; i++)
		if (started[i])
			pthread_join(tid[i], NULL);
	free(started);
	free(tid);
}

/* ---- the database side ---- */

static const struct supplier_conf *conf_supplier(const struct conf *c, const char *slug)
{
	for (int i = 0; c && i < c->n_suppliers; i++)
		if (str_eq(c->suppliers[i].slug, slug))
			return &c->suppliers[i];
	return NULL;
}

/* Product id, sku and stock by product SKU, or by supplier SKU of one
 * supplier.  1 found, 0 not found, -1 error. */
static int find_product(struct db *db, const char *sku, int64_t supplier_id, int64_t *product_id,
                        struct check_result *r, struct error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (supplier_id)
		st = db_stmt(db,
		             "SELECT p.id, p.sku, p.stock FROM supplier_links l"
		             " JOIN products p ON p.id = l.product_id"
		             " WHERE l.supplier_id = ? AND l.supplier_sku = ?",
		             err);
	else
		st = db_stmt(db, "SELECT id, sku, stock FROM products WHERE sku = ?", err);
	if (!st)
		return -1;
	if (supplier_id) {
		sqlite3_bind_int64(st, 1, supplier_id);
		sqlite3_bind_text(st, 2, sku, -1, SQLITE_STATIC);
	} else {
		sqlite3_bind_text(st, 1, sku, -1, SQLITE_STATIC);
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*product_id = sqlite3_column_int64(st, 0);
		snprintf(r->product_sku, sizeof(r->product_sku), "%s",
		         (const char *)sqlite3_column_text(st, 1));
		r->cached_stock = sqlite3_column_int64(st, 2);
		sqlite3_reset(st);
		return 1;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 0;
	return db_error(db, err, _("looking up the product"));
}

static int product_stock(struct db *db, int64_t product_id, int64_t *stock, struct error *err)
{
	sqlite3_stmt *st = db_stmt(db, "SELECT stock FROM products WHERE id = ?", err);
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, product_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*stock = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return err_set(err, ERRK_DB, _("product %lld vanished during the check"),
		               (long long)product_id);
	return db_error(db, err, _("reading the product's stock"));
}

/* The product's links (or the one link of only_link), with each
 * supplier's last succeeded full or delta run. */
static int list_links(struct db *db, const struct conf *c, int64_t product_id,
                      int64_t supplier_id, const char *supplier_sku, struct check_result *r,
                      struct ask **asks_out, struct error *err)
{
	static const char *const sql =
		"SELECT l.id, s.id, s.slug, l.supplier_sku, l.supplier_stock, l.synced_at,"
		" (SELECT r.started_at FROM sync_runs r WHERE r.supplier_id = s.id"
		"   AND r.status = 'succeeded' AND r.kind IN ('full', 'delta') AND r.dry_run = 0"
		"   ORDER BY r.id DESC LIMIT 1)"
		" FROM supplier_links l JOIN suppliers s ON s.id = l.supplier_id"
		" WHERE l.product_id = ?1 AND (?2 = 0 OR (l.supplier_id = ?2 AND l.supplier_sku = ?3))"
		" ORDER BY s.priority, s.slug, l.supplier_sku";
	sqlite3_stmt *st = db_stmt(db, sql, err);
	struct ask *asks = NULL;
	int n = 0, cap = 0, rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, product_id);
	sqlite3_bind_int64(st, 2, supplier_id);
	sqlite3_bind_text(st, 3, supplier_sku ? supplier_sku : "", -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct check_link *l;
		int64_t run_at;

		if (n == cap) {
			cap = cap ? cap * 2 : 4;
			r->links = xrealloc(r->links, (size_t)cap * sizeof(*r->links));
			asks = xrealloc(asks, (size_t)cap * sizeof(*asks));
		}
		l = &r->links[n];
		memset(l, 0, sizeof(*l));
		memset(&asks[n], 0, sizeof(asks[n]));
		asks[n].link_id = sqlite3_column_int64(st, 0);
		asks[n].supplier_id = sqlite3_column_int64(st, 1);
		snprintf(l->slug, sizeof(l->slug), "%s", (const char *)sqlite3_column_text(st, 2));
		snprintf(l->supplier_sku, sizeof(l->supplier_sku), "%s",
		         (const char *)sqlite3_column_text(st, 3));
		l->has_cached = sqlite3_column_type(st, 4) != SQLITE_NULL;
		l->cached = sqlite3_column_int64(st, 4);
		run_at = sqlite3_column_int64(st, 6);
		if (l->has_cached) {
			l->cached_at = sqlite3_column_int64(st, 5);
			if (run_at > l->cached_at)
				l->cached_at = run_at;
		}
		asks[n].sup = conf_supplier(c, (const char *)sqlite3_column_text(st, 2));
		n++;
	}
	sqlite3_reset(st);
	for (int i = 0; i < n; i++)
		asks[i].out = &r->links[i];   /* the array has stopped moving */
	r->n_links = n;
	*asks_out = asks;
	if (rc != SQLITE_DONE)
		return db_error(db, err, _("listing the product's supplier links"));
	return 0;
}

/* ---- applying ---- */

struct watch {
	bool changed;
	int64_t product_new;
};

static void on_change(void *ud, const struct stock_change *ch)
{
	struct watch *w = ud;

	w->changed = true;
	w->product_new = ch->product_new;
}

static int apply_answer(struct db *db, const struct conf *c, const struct check_opts *o,
                        struct ask *a, struct watch *w, struct error *err)
{
	struct check_link *l = a->out;
	struct apply_ctx ctx;
	struct apply_counts counts = { 0 };
	struct observation obs = {
		.supplier_sku = l->supplier_sku,
		.raw_stock = a->raw,
		.observed_at = a->received_at ? a->received_at : time_now_ms(),
		.source_time = a->source_time,
		.position = 0,
	};

	memset(&ctx, 0, sizeof(ctx));
	ctx.db = db;
	ctx.sup = a->sup;
	ctx.supplier_id = a->supplier_id;
	ctx.agg = c->aggregate;
	ctx.source = SRC_CHECK;
	ctx.dry_run = o->dry_run;
	ctx.on_change = on_change;
	ctx.ud = w;
	if (engine_apply(&ctx, &obs, 1, &counts, err) != 0) {
		err_prefix(err, _("%s: applying the live answer"), l->slug);
		return -1;
	}
	l->live_stale = counts.stale > 0;
	return 0;
}

/* ---- the check ---- */

/* Copies an error text, cut short at a UTF-8 character boundary. */
static void copy_msg(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

void check_result_free(struct check_result *r)
{
	if (!r)
		return;
	free(r->links);
	memset(r, 0, sizeof(*r));
}

int check_sku(struct db *db, const struct conf *c, const char *sku, const struct check_opts *o,
              struct check_result *r, struct error *err)
{
	static const struct check_opts defaults = { 0 };
	struct ask *asks = NULL;
	struct watch w = { 0 };
	int64_t product_id = 0, supplier_id = 0, now;
	int rc = -1, i, found;

	memset(r, 0, sizeof(*r));
	if (!o)
		o = &defaults;
	now = time_now_ms();
	r->checked_at = now;
	if (str_empty(sku)) {
		err_set(err, ERRK_USAGE, _("no SKU given"));
		goto out;
	}
	if (o->supplier_slug) {
		found = suppliers_find(db, o->supplier_slug, &supplier_id, err);
		if (found < 0)
			goto out;
		if (found == 0) {
			err_set(err, ERRK_USAGE, _("no supplier '%s' in the database"), o->supplier_slug);
			goto out;
		}
	}
	found = find_product(db, sku, supplier_id, &product_id, r, err);
	if (found < 0)
		goto out;
	if (found == 0) {
		if (o->supplier_slug)
			err_set(err, ERRK_USAGE, _("supplier %s has no link for SKU %s"),
			        o->supplier_slug, sku);
		else
			err_set(err, ERRK_USAGE, _("no product with SKU %s"), sku);
		goto out;
	}
	r->product_found = true;
	r->stock = r->cached_stock;
	if (list_links(db, c, product_id, supplier_id, o->supplier_slug ? sku : NULL, r, &asks,
	               err) != 0)
		goto out;

	for (i = 0; i < r->n_links; i++) {
		struct ask *a = &asks[i];
		struct check_link *l = a->out;

		if (!a->sup) {
			snprintf(l->error, sizeof(l->error),
			         _("supplier %s is not in the configuration; live checks are not "
			           "possible"),
			         l->slug);
			continue;
		}
		if (!a->sup->has_check) {
			snprintf(l->error, sizeof(l->error),
			         _("live checks are not available for supplier %s (no check source "
			           "configured)"),
			         l->slug);
			continue;
		}
		l->available = true;
		if (o->only_stale && l->has_cached && l->cached_at > 0 &&
		    now - l->cached_at < a->sup->fresh_ms) {
			l->fresh = true;
			continue;
		}
		a->want = true;
		a->ua_extra = c->user_agent_extra;
		a->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : a->sup->check.timeout_ms;
		if (a->timeout_ms <= 0)
			a->timeout_ms = CHECK_DEFAULT_TIMEOUT_MS;
	}
	ask_all(asks, r->n_links);

	for (i = 0; i < r->n_links; i++) {
		struct ask *a = &asks[i];
		struct check_link *l = a->out;

		if (!a->want)
			continue;
		l->asked = true;
		if (!a->found) {
			copy_msg(l->error, sizeof(l->error), a->err.msg);
			r->any_failed = true;
			continue;
		}
		l->live_ok = true;
		l->live_raw = a->raw;
		l->live = rules_apply(&a->sup->rules, a->raw);
		l->source_time = a->source_time;
		if (apply_answer(db, c, o, a, &w, err) != 0)
			goto out;
	}
	if (o->dry_run)
		r->stock = w.changed ? w.product_new : r->cached_stock;
	else if (product_stock(db, product_id, &r->stock, err) != 0)
		goto out;
	rc = 0;
out:
	free(asks);
	return rc;
}
