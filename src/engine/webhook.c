/* webhook.c - one signed stock push from a supplier, from raw body to
 * committed transaction.
 *
 * In this order, so an unsigned or oversized body costs nothing:
 *   1. size: a body over webhook.max_body (default 1 MiB) -> 413;
 *   2. signature (engine/signature), before any parsing -> 401 with the
 *      reason; nothing is stored;
 *   3. JSON syntax (Jansson) -> 400 with its line, column and reason;
 *   4. the event id: the id_header's value, else the value at id_field (a
 *      key or dot path of objects in the body; a string or an integer);
 *   5. the items, through the same streaming parser and the same
 *      rules_item_to_obs as a feed page, with the webhook's map: map.items
 *      is the path to the list; with no items path the body is the list,
 *      or, when it is an object, the one item.  An item with a bad field is
 *      rejected on its own (position, sku, reason); the others go on;
 *   6. one engine_apply (source "webhook", observed_at = now, source_time
 *      from updated_at) that records the event id first in the same
 *      transaction: a repeated delivery answers 200 "duplicate" and changes
 *      nothing.  The answer is given after the commit.
 *
 * Event ids are optional.  Without an id_header / id_field configured, or
 * when the delivery carries no id there, a delivery has no idempotency:
 * the same body delivered twice is applied twice (harmless for absolute
 * stock figures; the second one is normally unchanged or stale).
 *
 * Database and configuration errors answer 500 with a generic message; the
 * details go to log_error, the only message this module writes.  The db
 * handle is the calling thread's own.
 */
#include "config.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/webhook.h"
#include "feed/feed.h"
#include "util/util.h"

#define WEBHOOK_DEFAULT_MAX_BODY ((int64_t)1 << 20)
#define WEBHOOK_MAX_ID 255

/* What the item callback gathers. */
struct wh_items {
	const struct supplier_conf *view;   /* the supplier, its source map = the webhook map */
	int64_t now;
	struct observation *obs;
	size_t n, cap;
	json_t *rejected;                   /* array */
};

/* A JSON string even from bytes that are not UTF-8 (an error message cut
 * inside a character, a raw header value): other bytes become '?'. */
static json_t *wh_jstr(const char *s)
{
	json_t *j;
	char *copy, *p;

	if (!s)
		return json_null();
	if ((j = json_string(s)))
		return j;
	copy = xstrdup(s);
	for (p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80 || (unsigned char)*p < 0x20)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j ? j : json_null();
}

/* Fills out with an error answer; returns -1. */
static int wh_fail(struct webhook_outcome *out, int status, const char *msg)
{
	json_t *o = json_object();

	out->http_status = status;
	json_object_set_new(o, "ok", json_false());
	json_object_set_new(o, "error", wh_jstr(msg));
	free(out->response);
	out->response = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return -1;
}

/* 500: what went wrong is logged, not told to the supplier. */
static int wh_internal(struct webhook_outcome *out, const struct supplier_conf *s,
                       const char *event_id, const struct error *err)
{
	if (event_id)
		log_error(_("%s: webhook event %s: %s"), s ? s->slug : "?", event_id, err->msg);
	else
		log_error(_("%s: webhook: %s"), s ? s->slug : "?", err->msg);
	return wh_fail(out, 500, _("internal error: the delivery was not applied; try again later"));
}

/* The value at a dot path of object keys, or NULL. */
static json_t *wh_path(json_t *root, const char *path)
{
	const char *p = path, *dot;
	json_t *cur = root;

	while (cur && *p) {
		char key[256];
		size_t n;

		dot = strchr(p, '.');
		n = dot ? (size_t)(dot - p) : strlen(p);
		if (!json_is_object(cur) || n >= sizeof(key))
			return NULL;
		memcpy(key, p, n);
		key[n] = '\0';
		cur = json_object_get(cur, key);
		p = dot ? dot + 1 : p + n;
	}
	return cur;
}

/* The delivery's event id (caller frees), NULL when it has none; -1 with
 * err (400) when the id is unusable. */
static int wh_event_id(const struct webhook_conf *wh, sig_header_fn header, void *ud,
                       json_t *root, char **id, struct error *err)
{
	json_t *v;

	*id = NULL;
	if (!str_empty(wh->id_header)) {
		const char *h = header(ud, wh->id_header);

		if (!str_empty(h))
			*id = xstrdup(h);
	}
	if (!*id && !str_empty(wh->id_field) && (v = wh_path(root, wh->id_field))) {
		if (json_is_string(v) && json_string_length(v) > 0)
			*id = xstrdup(json_string_value(v));
		else if (json_is_integer(v))
			*id = xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
		else if (!json_is_null(v) && !json_is_string(v))
			return err_set(err, ERRK_PERMANENT,
			               _("event id field '%s' is not a string or a whole number"),
			               wh->id_field);
	}
	if (*id && strlen(*id) > WEBHOOK_MAX_ID) {
		free(*id);
		*id = NULL;
		return err_set(err, ERRK_PERMANENT,
		               P_("event id is longer than %d byte", "event id is longer than %d bytes",
		                  WEBHOOK_MAX_ID),
		               WEBHOOK_MAX_ID);
	}
	return 0;
}

static int wh_item(void *p, const struct feed_item *it, struct error *err)
{
	struct wh_items *st = p;
	struct observation *o;
	struct error ierr;
	int64_t raw = 0, source_time = 0;

	(void)err;
	if (rules_item_to_obs(st->view, it, &raw, &source_time, &ierr) < 0) {
		json_t *r = json_object();

		json_object_set_new(r, "position", json_integer(it->position));
		json_object_set_new(r, "sku", wh_jstr(it->sku));
		json_object_set_new(r, "error", wh_jstr(ierr.msg));
		json_array_append_new(st->rejected, r);
		return 0;
	}
	if (st->n == st->cap) {
		st->cap = st->cap ? st->cap * 2 : 16;
		st->obs = xrealloc(st->obs, st->cap * sizeof(*st->obs));
	}
	o = &st->obs[st->n++];
	o->supplier_sku = xstrdup(it->sku);
	o->raw_stock = raw;
	o->observed_at = st->now;
	o->source_time = source_time;
	o->position = it->position;
	return 0;
}

/* Runs the items through the feed parser.  0, or -1 with err: ERRK_CONFIG
 * for a map the parser cannot use, else the body's fault. */
static int wh_parse_items(const struct source_conf *src, json_t *root, const char *body,
                          size_t len, struct wh_items *st, struct error *err)
{
	struct feed_parser *p;
	struct feed_page_meta meta;
	/* no items path and an object: the body is the one item */
	bool wrap = str_empty(src->map.items) && json_is_object(root);
	int rc = -1;

	memset(&meta, 0, sizeof(meta));
	p = feed_parser_new(src, wh_item, st);
	if (!p)
		return err_set(err, ERRK_INTERNAL, _("cannot set up the JSON parser"));
	if ((wrap && feed_parser_write(p, "[", 1, err) < 0) ||
	    feed_parser_write(p, body, len, err) < 0 ||
	    (wrap && feed_parser_write(p, "]", 1, err) < 0) ||
	    feed_parser_finish(p, &meta, err) < 0)
		goto out;
	rc = 0;
out:
	feed_page_meta_clear(&meta);
	feed_parser_free(p);
	return rc;
}

static char *wh_answer(const char *event_id, const struct webhook_outcome *out, json_t *rejected)
{
	json_t *o = json_object();
	char *text;

	json_object_set_new(o, "ok", json_true());
	json_object_set_new(o, "event_id", wh_jstr(event_id));
	json_object_set_new(o, "duplicate", json_boolean(out->duplicate));
	json_object_set_new(o, "applied", json_integer(out->applied));
	json_object_set_new(o, "changed", json_integer(out->changed));
	json_object_set_new(o, "stale", json_integer(out->stale));
	json_object_set_new(o, "unknown", json_integer(out->unknown));
	json_object_set(o, "rejected", rejected);
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return text;
}

int webhook_ingest(struct db *db, const struct conf *c, const struct supplier_conf *s,
                   sig_header_fn header, void *ud, const char *body, size_t len,
                   int64_t now_ms, struct webhook_outcome *out)
{
	struct supplier_conf view;
	struct source_conf src;
	struct wh_items items;
	struct apply_ctx ctx;
	struct apply_counts counts;
	struct error err = { 0 };
	json_error_t jerr;
	json_t *root = NULL;
	char *event_id = NULL;
	int64_t max_body, sid = 0;
	size_t i;
	int r, rc = -1;

	memset(out, 0, sizeof(*out));
	memset(&items, 0, sizeof(items));
	if (!body)
		body = "";
	if (!db || !s || !header) {
		err_set(&err, ERRK_INTERNAL, _("webhook_ingest called without a database, "
		                               "supplier or header lookup"));
		return wh_internal(out, s, NULL, &err);
	}
	if (!s->webhook.enabled) {
		err_set(&err, ERRK_USAGE, _("supplier %s takes no webhooks"), s->slug);
		return wh_fail(out, 404, err.msg);
	}

	/* 1. size */
	max_body = s->webhook.max_body > 0 ? s->webhook.max_body : WEBHOOK_DEFAULT_MAX_BODY;
	if ((uint64_t)len > (uint64_t)max_body) {
		/* TRANSLATORS: the last %lld is the limit in bytes */
		err_set(&err, ERRK_PERMANENT, P_("body too large: %zu byte, over the limit of %lld",
		                                 "body too large: %zu bytes, over the limit of %lld",
		                                 len),
		        len, (long long)max_body);
		return wh_fail(out, 413, err.msg);
	}

	/* 2. signature, before anything reads the body */
	if (signature_verify(&s->webhook, header, ud, body, len, now_ms, &err) != SIG_OK) {
		if (err.kind == ERRK_CONFIG || err.kind == ERRK_INTERNAL)
			return wh_internal(out, s, NULL, &err);
		return wh_fail(out, 401, err.msg);
	}

	/* a supplier turned off applies nothing; 503 asks it to send again
	 * later, when it may be on again */
	if (!s->active) {
		err_set(&err, ERRK_TRANSIENT,
		        _("supplier %s is turned off (active = false in its file); nothing applied"),
		        s->slug);
		return wh_fail(out, 503, err.msg);
	}

	/* 3. JSON syntax */
	root = json_loadb(body, len, 0, &jerr);
	if (!root) {
		err_set(&err, ERRK_PERMANENT, _("JSON syntax error at line %d, column %d: %s"),
		        jerr.line, jerr.column, jerr.text);
		wh_fail(out, 400, err.msg);
		goto out;
	}

	/* 4. event id */
	if (wh_event_id(&s->webhook, header, ud, root, &event_id, &err) < 0) {
		wh_fail(out, 400, err.msg);
		goto out;
	}

	/* 5. items, mapped exactly as a feed's: the supplier seen through
	 * its webhook map (text values included) */
	view = *s;
	view.source.format = FORMAT_JSON;
	view.source.map = s->webhook.map;
	memset(&src, 0, sizeof(src));
	src.format = FORMAT_JSON;
	src.map = s->webhook.map;
	items.view = &view;
	items.now = now_ms;
	items.rejected = json_array();
	if (wh_parse_items(&src, root, body, len, &items, &err) < 0) {
		if (err.kind == ERRK_CONFIG || err.kind == ERRK_INTERNAL)
			wh_internal(out, s, event_id, &err);
		else
			wh_fail(out, 400, err.msg);
		goto out;
	}
	json_decref(root);    /* the tree is no longer needed; free it before writing */
	root = NULL;

	/* 6. apply with the receipt, one transaction */
	r = suppliers_find(db, s->slug, &sid, &err);
	if (r == 0)
		r = suppliers_upsert(db, s, &sid, &err) < 0 ? -1 : 1;
	if (r < 0) {
		wh_internal(out, s, event_id, &err);
		goto out;
	}
	memset(&ctx, 0, sizeof(ctx));
	memset(&counts, 0, sizeof(counts));
	ctx.db = db;
	ctx.sup = s;
	ctx.supplier_id = sid;
	ctx.agg = c ? c->aggregate : AGG_SUM;
	ctx.source = SRC_WEBHOOK;
	ctx.receipt_event_id = event_id;
	r = engine_apply(&ctx, items.obs, items.n, &counts, &err);
	if (r < 0) {
		wh_internal(out, s, event_id, &err);
		goto out;
	}
	out->http_status = 200;
	if (r == 1) {
		out->duplicate = true;
		json_array_clear(items.rejected);
	} else {
		out->applied = (int64_t)items.n;
		out->changed = counts.changed;
		out->stale = counts.stale;
		out->unknown = counts.unknown;
		out->rejected = (int64_t)json_array_size(items.rejected);
	}
	out->response = wh_answer(event_id, out, items.rejected);
	rc = 0;
out:
	json_decref(root);
	json_decref(items.rejected);
	for (i = 0; i < items.n; i++)
		free((char *)items.obs[i].supplier_sku);
	free(items.obs);
	free(event_id);
	return rc;
}

void webhook_outcome_clear(struct webhook_outcome *o)
{
	if (!o)
		return;
	free(o->response);
	memset(o, 0, sizeof(*o));
}
