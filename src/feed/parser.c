/* parser.c - the format-independent half of the feed parsers: dispatch on
 * the source format, item and envelope bookkeeping, the byte-order-mark
 * filter, and the checks every format shares at the end of a document
 * (success flag, item list present, total, next).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed/feed.h"
#include "feed/feed_int.h"
#include "util/util.h"

static const unsigned char utf8_bom[3] = { 0xef, 0xbb, 0xbf };

/* ---- paths ---- */

void feed_path_split(struct feed_path *path, const char *text, const char *seps)
{
	const char *s = text, *e;
	size_t cap = 0;

	path->steps = NULL;
	path->n = 0;
	path->text = text;
	if (!text)
		return;
	while (*s) {
		e = s + strcspn(s, seps);
		if (e > s) {
			if (path->n == cap) {
				cap = cap ? cap * 2 : 4;
				path->steps = xrealloc(path->steps, cap * sizeof(*path->steps));
			}
			path->steps[path->n++] = xstrndup(s, (size_t)(e - s));
		}
		s = *e ? e + 1 : e;
	}
}

void feed_path_free(struct feed_path *path)
{
	size_t i;

	for (i = 0; i < path->n; i++)
		free(path->steps[i]);
	free(path->steps);
	path->steps = NULL;
	path->n = 0;
}

/* ---- items ---- */

void feed_item_reset(struct feed_parser *p)
{
	int f;

	for (f = 0; f < FF_N; f++) {
		p->has[f] = false;
		buf_reset(&p->field[f]);
	}
	buf_reset(&p->stock_text);
	p->n_stock = 0;
}

void feed_item_set(struct feed_parser *p, enum feed_field f, const char *s, size_t len)
{
	if (f == FF_STOCK) {
		feed_item_add_stock(p, s, len);
		return;
	}
	buf_reset(&p->field[f]);
	buf_append(&p->field[f], s, len);
	p->has[f] = true;
}

void feed_item_add_stock(struct feed_parser *p, const char *s, size_t len)
{
	if (p->n_stock == p->cap_stock) {
		p->cap_stock = p->cap_stock ? p->cap_stock * 2 : 8;
		p->stock_off = xrealloc(p->stock_off, p->cap_stock * sizeof(*p->stock_off));
		p->stock_ptr = xrealloc(p->stock_ptr, p->cap_stock * sizeof(*p->stock_ptr));
	}
	p->stock_off[p->n_stock++] = p->stock_text.len;
	buf_append(&p->stock_text, s, len);
	buf_putc(&p->stock_text, '\0');
}

int feed_item_emit(struct feed_parser *p, int64_t position, struct error *err)
{
	struct feed_item item;
	struct error cb_err;
	size_t i;
	int rc;

	/* the stock buffer may have moved while values were added: point now */
	for (i = 0; i < p->n_stock; i++)
		p->stock_ptr[i] = p->stock_text.data + p->stock_off[i];
	item.sku = p->has[FF_SKU] ? buf_str(&p->field[FF_SKU]) : NULL;
	item.stock = p->n_stock ? p->stock_ptr : NULL;
	item.n_stock = p->n_stock;
	item.updated_at = p->has[FF_UPDATED] ? buf_str(&p->field[FF_UPDATED]) : NULL;
	item.available = p->has[FF_AVAILABLE] ? buf_str(&p->field[FF_AVAILABLE]) : NULL;
	item.position = position;

	err_clear(&cb_err);
	rc = p->cb ? p->cb(p->ud, &item, &cb_err) : 0;
	feed_item_reset(p);
	if (rc != 0) {
		if (cb_err.kind == ERRK_NONE || !cb_err.msg[0])
			return err_set(err, ERRK_INTERRUPTED, _("stopped by caller at item %lld"),
			               (long long)position);
		if (err)
			*err = cb_err;
		return -1;
	}
	p->n_items++;
	return 0;
}

/* ---- envelope ---- */

void feed_env_set(struct feed_parser *p, enum feed_env e, const char *s, size_t len)
{
	free(p->env[e]);
	p->env[e] = xstrndup(s, len);
}

const char *feed_env_path(const struct feed_parser *p, enum feed_env e)
{
	const char *s = NULL;

	switch (e) {
	case FE_SUCCESS: s = p->map->success; break;
	case FE_MESSAGE: s = p->map->message; break;
	case FE_TOTAL: s = p->map->total; break;
	case FE_NEXT: s = p->map->next; break;
	case FE_N: break;
	}
	return str_empty(s) ? NULL : s;
}

const char *feed_field_path(const struct feed_parser *p, enum feed_field f)
{
	const char *s = NULL;

	switch (f) {
	case FF_SKU: s = p->map->sku; break;
	case FF_STOCK: s = p->map->stock; break;
	case FF_UPDATED: s = p->map->updated_at; break;
	case FF_AVAILABLE: s = p->map->available; break;
	case FF_N: break;
	}
	return str_empty(s) ? NULL : s;
}

const char *feed_byte_desc(unsigned char c, char out[16])
{
	if (c >= 0x20 && c < 0x7f)
		snprintf(out, 16, "'%c'", c);
	else
		snprintf(out, 16, "byte 0x%02x", c);
	return out;
}

/* ---- the parser ---- */

struct feed_parser *feed_parser_new(const struct source_conf *src, feed_item_cb cb, void *ud)
{
	struct feed_parser *p = xcalloc(1, sizeof(*p));
	int rc = -1;

	p->src = src;
	p->map = &src->map;
	p->cb = cb;
	p->ud = ud;
	err_clear(&p->error);
	switch (src->format) {
	case FORMAT_JSON:
		p->strip_bom = true;
		rc = feed_json_init(p, &p->error);
		break;
	case FORMAT_CSV:
		rc = feed_csv_init(p, &p->error);
		break;
	case FORMAT_XML:
		rc = feed_xml_init(p, &p->error);
		break;
	default:
		err_set(&p->error, ERRK_CONFIG, _("unknown feed format %d"), (int)src->format);
		break;
	}
	if (rc != 0)
		p->failed = true;
	return p;
}

static int fail_with(struct feed_parser *p, struct error *err)
{
	p->failed = true;
	if (p->error.kind == ERRK_NONE)
		err_set(&p->error, ERRK_INTERNAL, _("feed parser failed"));
	if (err)
		*err = p->error;
	return -1;
}

static int pass(struct feed_parser *p, const char *data, size_t len)
{
	if (!len)
		return 0;
	if (p->ops->write(p, data, len, &p->error) != 0)
		return -1;
	return 0;
}

int feed_parser_write(struct feed_parser *p, const char *data, size_t len, struct error *err)
{
	size_t i = 0;

	if (p->failed)
		return fail_with(p, err);
	if (p->finished) {
		err_set(&p->error, ERRK_INTERNAL, _("feed parser used after the end of the document"));
		return fail_with(p, err);
	}
	p->n_bytes += len;
	if (p->strip_bom && !p->bom_done) {
		/* hold back a possible BOM until it is complete or broken */
		while (i < len && p->bom_state < 3 &&
		       (unsigned char)data[i] == utf8_bom[p->bom_state]) {
			p->bom_state++;
			i++;
		}
		if (p->bom_state == 3) {
			p->bom_done = true;
			p->bom_len = 3;
		} else if (i < len) {
			/* not a BOM: give back what was held */
			p->bom_done = true;
			if (pass(p, (const char *)utf8_bom, p->bom_state) != 0)
				return fail_with(p, err);
			p->bom_state = 0;
		} else {
			return 0;        /* chunk ended inside what may be a BOM */
		}
	}
	if (pass(p, data + i, len - i) != 0)
		return fail_with(p, err);
	return 0;
}

static bool success_value(const char *v)
{
	static const char *const yes[] = { "true", "1", "ok", "yes" };
	char *t = xstrdup(v), *s = str_trim(t);
	bool r = false;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(yes); i++)
		if (str_caseeq(s, yes[i]))
			r = true;
	free(t);
	return r;
}

/* "1234", " 1234 " or "1234.0" */
static bool total_value(const char *s, int64_t *out)
{
	double d;

	if (str_to_i64(s, out))
		return true;
	if (!str_to_double(s, &d) || d != d || d < -9e18 || d > 9e18 || d != (double)(int64_t)d)
		return false;
	*out = (int64_t)d;
	return true;
}

/* The checks common to every format, in order: success flag, item list,
 * total. */
static int check_envelope(struct feed_parser *p, struct error *err)
{
	const char *path;
	const char *msg = p->env[FE_MESSAGE];

	path = feed_env_path(p, FE_SUCCESS);
	if (path && (!p->env[FE_SUCCESS] || !success_value(p->env[FE_SUCCESS]))) {
		if (!p->env[FE_SUCCESS] && !str_empty(msg))
			return err_set(err, ERRK_PERMANENT,
			               _("supplier reported failure: %s (no '%s' flag in the response)"),
			               msg, path);
		if (!p->env[FE_SUCCESS])
			return err_set(err, ERRK_PERMANENT,
			               _("supplier reported failure: no '%s' flag in the response"),
			               path);
		if (!str_empty(msg))
			return err_set(err, ERRK_PERMANENT, _("supplier reported failure: %s"), msg);
		return err_set(err, ERRK_PERMANENT,
		               _("supplier reported failure: '%s' is \"%s\" and the response gives no message"),
		               path, p->env[FE_SUCCESS]);
	}

	if (p->items_bad) {
		if (str_empty(p->map->items))
			return err_set(err, ERRK_PERMANENT,
			               _("the response is not a list of items: its top level is %s"),
			               p->items_bad);
		return err_set(err, ERRK_PERMANENT,
		               _("item list '%s' in the response is %s, not a list"),
		               p->map->items, p->items_bad);
	}
	if (!p->items_found) {
		switch (p->src->format) {
		case FORMAT_CSV:
			return err_set(err, ERRK_PERMANENT,
			               p->map->header ? _("the CSV feed has no header line")
			                              : _("the CSV feed has no rows"));
		case FORMAT_JSON:
			if (str_empty(p->map->items))
				return err_set(err, ERRK_PERMANENT,
				               _("the response is not a list of items"));
			break;
		default:
			break;
		}
		return err_set(err, ERRK_PERMANENT, _("item list '%s' not found in the response"),
		               str_empty(p->map->items) ? "" : p->map->items);
	}

	path = feed_env_path(p, FE_TOTAL);
	if (path && p->env[FE_TOTAL]) {
		int64_t t;

		if (!total_value(p->env[FE_TOTAL], &t))
			return err_set(err, ERRK_PERMANENT,
			               _("total '%s' in the response is not a whole number: \"%s\""),
			               path, p->env[FE_TOTAL]);
		if (t < 0)
			return err_set(err, ERRK_PERMANENT,
			               _("total '%s' in the response is negative: %s"),
			               path, p->env[FE_TOTAL]);
	}
	return 0;
}

int feed_parser_finish(struct feed_parser *p, struct feed_page_meta *meta, struct error *err)
{
	int rc = -1;

	if (meta)
		memset(meta, 0, sizeof(*meta));
	if (p->failed)
		goto out;
	if (p->finished) {
		err_set(&p->error, ERRK_INTERNAL, _("feed parser finished twice"));
		goto out;
	}
	p->finished = true;
	/* a document that is only the start of a BOM: give those bytes back */
	if (p->strip_bom && !p->bom_done && p->bom_state) {
		p->bom_done = true;
		if (pass(p, (const char *)utf8_bom, p->bom_state) != 0)
			goto out;
	}
	if (p->ops->finish(p, &p->error) != 0)
		goto out;
	if (check_envelope(p, &p->error) != 0)
		goto out;
	rc = 0;
out:
	if (meta) {
		meta->items_found = p->items_found && !p->items_bad;
		meta->n_items = p->n_items;
		if (rc == 0 && p->env[FE_TOTAL] && feed_env_path(p, FE_TOTAL))
			meta->has_total = total_value(p->env[FE_TOTAL], &meta->total);
		if (rc == 0 && !str_empty(p->env[FE_NEXT]) && feed_env_path(p, FE_NEXT))
			meta->next = xstrdup(p->env[FE_NEXT]);
	}
	if (rc != 0)
		return fail_with(p, err);
	return 0;
}

void feed_parser_free(struct feed_parser *p)
{
	int i;

	if (!p)
		return;
	if (p->ops && p->ops->free)
		p->ops->free(p);
	for (i = 0; i < FF_N; i++)
		buf_free(&p->field[i]);
	buf_free(&p->stock_text);
	free(p->stock_off);
	free(p->stock_ptr);
	for (i = 0; i < FE_N; i++)
		free(p->env[i]);
	free(p);
}

void feed_page_meta_clear(struct feed_page_meta *m)
{
	if (!m)
		return;
	free(m->next);
	memset(m, 0, sizeof(*m));
}

int feed_parse_buffer(const struct source_conf *src, const char *data, size_t len,
                      feed_item_cb cb, void *ud, struct feed_page_meta *meta, struct error *err)
{
	struct feed_parser *p = feed_parser_new(src, cb, ud);
	int rc = -1;

	if (feed_parser_write(p, data, len, err) != 0) {
		if (meta) {
			memset(meta, 0, sizeof(*meta));
			meta->n_items = p->n_items;
		}
		goto out;
	}
	if (feed_parser_finish(p, meta, err) != 0)
		goto out;
	rc = 0;
out:
	feed_parser_free(p);
	return rc;
}
