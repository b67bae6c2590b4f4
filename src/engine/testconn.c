/* testconn.c - "test connection": the first page of a supplier's source,
 * fetched and parsed exactly as a sync would (src/feed/http, the feed
 * parser, rules_item_to_obs and rules_apply), stopping after the first
 * items.  Nothing is written anywhere. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/testconn.h"
#include "feed/feed.h"
#include "feed/http.h"

struct testconn_ctx {
	const struct supplier_conf *sup;
	struct testconn_result *r;
	struct feed_parser *parser;
	int max_items;
	int64_t items;             /* items delivered by the current attempt */
	bool stopped;              /* we stopped the parser ourselves: enough items */
};

/* The URL of the first page, as sync.c builds it.  Caller frees. */
static char *testconn_first_url(const struct source_conf *src)
{
	char num[32], *u, *v;

	switch (src->paging) {
	case PAGE_NUMBER:
		snprintf(num, sizeof(num), "%lld", (long long)src->first_page);
		u = http_url_add_param(src->url, src->page_param, num);
		break;
	case PAGE_OFFSET:
		u = http_url_add_param(src->url, src->offset_param, "0");
		break;
	case PAGE_CURSOR:
		u = xstrdup(src->url);
		break;
	default:
		return xstrdup(src->url);
	}
	snprintf(num, sizeof(num), "%lld", (long long)src->page_size);
	v = http_url_add_param(u, src->size_param, num);
	free(u);
	return v;
}

/* Copies s into out, cut to size (a cut text ends in "..."). */
static void testconn_copy(char *out, size_t size, const char *s)
{
	size_t n = strlen(s);

	if (n < size) {
		memcpy(out, s, n + 1);
		return;
	}
	memcpy(out, s, size - 4);
	memcpy(out + size - 4, "...", 4);
}

static int testconn_item(void *ud, const struct feed_item *it, struct error *err)
{
	struct testconn_ctx *c = ud;
	struct testconn_item *ti;
	struct error ierr = { 0 };
	int64_t raw = 0, source_time = 0;

	if (c->items >= c->max_items) {
		c->stopped = true;
		return err_set(err, ERRK_INTERRUPTED, _("enough items for a test"));
	}
	c->items++;
	if (c->r->n >= TESTCONN_MAX_ITEMS)
		return 0;
	ti = &c->r->items[c->r->n++];
	memset(ti, 0, sizeof(*ti));
	ti->position = it->position;
	if (it->sku)
		testconn_copy(ti->sku, sizeof(ti->sku), it->sku);
	if (rules_item_to_obs(c->sup, it, &raw, &source_time, &ierr) != 0) {
		ti->ok = false;
		testconn_copy(ti->error, sizeof(ti->error), ierr.msg);
		return 0;
	}
	ti->ok = true;
	ti->stock = raw;
	ti->store_stock = rules_apply(&c->sup->rules, raw);
	ti->updated_at = source_time;
	return 0;
}

static int testconn_begin(void *ud)
{
	struct testconn_ctx *c = ud;

	/* a retried attempt starts over */
	feed_parser_free(c->parser);
	c->parser = feed_parser_new(&c->sup->source, testconn_item, c);
	c->items = 0;
	c->r->n = 0;
	c->r->bytes = 0;
	return 0;
}

static int testconn_data(void *ud, const char *bytes, size_t len, struct error *err)
{
	struct testconn_ctx *c = ud;

	c->r->bytes += (int64_t)len;
	return feed_parser_write(c->parser, bytes, len, err);
}

int engine_test_connection(const struct conf *conf, const struct supplier_conf *s, int max_items,
                           struct testconn_result *r, struct error *err)
{
	struct testconn_ctx c;
	struct http_sink sink = { testconn_begin, testconn_data, &c };
	struct http_result res = { 0 };
	struct feed_page_meta meta = { 0 };
	struct http_client *http = NULL;
	struct error e = { 0 };
	char *url = NULL, *masked = NULL;
	int64_t t0 = time_mono_ms();
	int rc = -1;

	memset(r, 0, sizeof(*r));
	memset(&c, 0, sizeof(c));
	if (!s || str_empty(s->source.url))
		return err_set(err, ERRK_CONFIG, _("test connection: the supplier has no source URL"));
	c.sup = s;
	c.r = r;
	c.max_items = max_items > 0 ? max_items : TESTCONN_MAX_ITEMS;
	url = testconn_first_url(&s->source);
	masked = http_url_mask(url, s->auth.kind == AUTH_QUERY ? s->auth.param : NULL);
	http = http_client_new(s, conf ? conf->user_agent_extra : NULL);
	testconn_begin(&c);
	if (http_get(http, url, &sink, &res, &e) != 0) {
		if (!c.stopped) {
			/* http errors name the URL already; parse errors get it here */
			if (!str_startswith(e.msg, "GET "))
				err_prefix(&e, "%s", masked);
			err_prefix(&e, "%s", s->slug);
			if (err)
				*err = e;
			goto out;
		}
	} else if (feed_parser_finish(c.parser, &meta, &e) != 0) {
		err_prefix(&e, "%s: %s", s->slug, masked);
		if (err)
			*err = e;
		goto out;
	} else {
		r->has_total = meta.has_total;
		r->total = meta.total;
	}
	r->status = res.status;
	r->items_in_page = c.items;
	rc = 0;
out:
	if (rc != 0)
		r->status = res.status;
	r->elapsed_ms = time_mono_ms() - t0;
	feed_page_meta_clear(&meta);
	http_result_clear(&res);
	feed_parser_free(c.parser);
	http_client_free(http);
	free(url);
	free(masked);
	return rc;
}
