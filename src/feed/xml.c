/* xml.c - streaming XML feed parser on the libxml2 push parser (SAX2).
 *
 * No tree is built: the SAX handlers keep the stack of open element names
 * (pointers into the parser's name dictionary), recognise an item by the
 * end of that stack (mapping.items = "product" or "catalog/products/product"),
 * and inside an item follow the mapping's paths: child element names,
 * slash- or dot-separated, with an optional last step "@attr" for an
 * attribute ("@sku", "stock/@qty", "warehouses/warehouse/qty").  Repeated
 * elements give several values; stock keeps them all, the other fields the
 * first.  Envelope values are element (or @attr) paths from the root,
 * written with or without the root element's name.
 *
 * Safety: no network (XML_PARSE_NONET), no external DTD, and no entity
 * handlers at all, so entities other than the five predefined ones are
 * never expanded (no XXE, no entity bombs): a document that uses one fails
 * with libxml2's "Entity 'x' not defined".
 */
#include "config.h"

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "feed/feed.h"
#include "feed/feed_int.h"
#include "util/util.h"

struct xspec {
	struct feed_path el;       /* element steps */
	const char *attr;          /* last step without '@', or NULL (points into el's storage) */
	char *attr_store;
	bool on;
};

struct xname {
	const xmlChar *local, *prefix;   /* owned by the parser's dictionary */
};

struct xmlp {
	xmlParserCtxtPtr ctxt;
	struct feed_parser *p;

	struct xspec items;
	struct xspec env[FE_N];
	struct xspec field[FF_N];

	struct xname *stack;       /* open elements, root first */
	size_t depth, cap_stack;

	bool in_item;
	size_t item_depth;         /* depth of the item element (1 = root) */
	int64_t item_no;
	int item_line;
	unsigned char *mask;       /* per depth inside the item: fields still on their path */
	size_t cap_mask;
	size_t collect_depth[FF_N];/* depth of the element whose text is collected, 0 = none */
	struct buf text[FF_N];
	size_t env_depth[FE_N];
	struct buf env_text[FE_N];

	bool root_seen;
	bool stop;
	struct error err;
	bool xml_failed;           /* libxml2 reported an error: err holds it */
};

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_global_init(void)
{
	xmlInitParser();
}

/* ---- paths ---- */

static void spec_parse(struct xspec *s, const char *text)
{
	const char *seps = text && strchr(text, '/') ? "/" : ".";

	memset(s, 0, sizeof(*s));
	if (str_empty(text))
		return;
	s->on = true;
	feed_path_split(&s->el, text, seps);
	if (s->el.n && s->el.steps[s->el.n - 1][0] == '@') {
		s->attr_store = s->el.steps[--s->el.n];
		s->attr = s->attr_store + 1;
	}
}

static void spec_free(struct xspec *s)
{
	feed_path_free(&s->el);
	free(s->attr_store);
	s->attr_store = NULL;
}

/* step is "local" or "prefix:local" */
static bool name_match(const char *step, const struct xname *n)
{
	size_t pl;

	if (!strcmp(step, (const char *)n->local))
		return true;
	if (!n->prefix)
		return false;
	pl = strlen((const char *)n->prefix);
	return !strncmp(step, (const char *)n->prefix, pl) && step[pl] == ':' &&
	       !strcmp(step + pl + 1, (const char *)n->local);
}

/* Do the last n open elements end with steps[0..n)? */
static bool tail_match(const struct xmlp *x, char *const *steps, size_t n)
{
	size_t i;

	if (n > x->depth)
		return false;
	for (i = 0; i < n; i++)
		if (!name_match(steps[i], &x->stack[x->depth - n + i]))
			return false;
	return true;
}

/* Is the open element path the envelope path, with or without the root? */
static bool env_match(const struct xmlp *x, const struct xspec *s)
{
	size_t n = s->el.n, i, skip;

	if (x->depth == n)
		skip = 0;
	else if (x->depth == n + 1)
		skip = 1;
	else
		return false;
	for (i = 0; i < n; i++)
		if (!name_match(s->el.steps[i], &x->stack[skip + i]))
			return false;
	return true;
}

/* ---- errors ---- */

static void stop(struct xmlp *x)
{
	x->stop = true;
	xmlStopParser(x->ctxt);
}

static void on_error(void *ud, xmlErrorPtr e)
{
	struct xmlp *x = ud;
	char *msg;

	if (!e || e->level < XML_ERR_ERROR || x->xml_failed || x->stop)
		return;
	msg = xstrdup(e->message ? e->message : _("unknown error"));
	str_trim(msg);
	msg[strcspn(msg, "\n")] = '\0';
	err_set(&x->err, ERRK_PERMANENT, _("XML line %d: %s"), e->line, msg);
	free(msg);
	/* stop at once, so that no item after the error is delivered however
	 * the document was cut into chunks */
	x->xml_failed = true;
	stop(x);
}

/* ---- values ---- */

static const char *find_attr(const xmlChar **attrs, int n, const char *name, size_t *len)
{
	int i;

	for (i = 0; i < n; i++) {
		const xmlChar **a = attrs + 5 * i;
		struct xname an = { a[0], a[1] };

		if (name_match(name, &an)) {
			*len = (size_t)(a[4] - a[3]);
			return (const char *)a[3];
		}
	}
	return NULL;
}

/* Trims blanks; libxml2 keeps '&' of attribute values as "&#38;" when it
 * does not replace entities: undo that.  Returns false for an empty value. */
static bool tidy(struct buf *b, const char *s, size_t len, bool attr)
{
	size_t i;

	while (len && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) {
		s++;
		len--;
	}
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' ||
	               s[len - 1] == '\r'))
		len--;
	buf_reset(b);
	if (!len)
		return false;
	if (!attr || !memchr(s, '&', len)) {
		buf_append(b, s, len);
		return true;
	}
	for (i = 0; i < len; i++) {
		buf_putc(b, s[i]);
		if (s[i] == '&' && len - i >= 5 && !memcmp(s + i, "&#38;", 5))
			i += 4;
	}
	return true;
}

static void add_field(struct xmlp *x, enum feed_field f, const char *s, size_t len, bool attr)
{
	struct feed_parser *p = x->p;
	struct buf t = BUF_INIT;

	if (f != FF_STOCK && p->has[f])
		return;
	if (tidy(&t, s, len, attr)) {
		/* many repeated elements must not grow one item without bound */
		if (p->stock_text.len + t.len > FEED_MAX_ITEM) {
			err_set(&x->err, ERRK_PERMANENT,
			        _("XML item %lld (line %d): its values are larger than %zu KiB"),
			        (long long)x->item_no, x->item_line, FEED_MAX_ITEM / 1024);
			stop(x);
		} else {
			feed_item_set(p, f, t.data, t.len);
		}
	}
	buf_free(&t);
}

static void add_env(struct xmlp *x, enum feed_env e, const char *s, size_t len, bool attr)
{
	struct buf t = BUF_INIT;

	if (tidy(&t, s, len, attr))
		feed_env_set(x->p, e, t.data, t.len);
	else
		feed_env_set(x->p, e, "", 0);
	buf_free(&t);
}

/* ---- SAX handlers ---- */

static void item_start(struct xmlp *x, int nb_attributes, const xmlChar **attributes)
{
	size_t r = x->depth - x->item_depth;      /* 0 = the item element */
	unsigned char m;
	int f;

	if (r + 1 > x->cap_mask) {
		x->cap_mask = (r + 1) * 2;
		x->mask = xrealloc(x->mask, x->cap_mask);
	}
	if (r == 0) {
		m = (1u << FF_N) - 1;
	} else {
		m = 0;
		for (f = 0; f < FF_N; f++)
			if ((x->mask[r - 1] & (1u << f)) && r - 1 < x->field[f].el.n &&
			    name_match(x->field[f].el.steps[r - 1], &x->stack[x->depth - 1]))
				m |= 1u << f;
	}
	x->mask[r] = m;
	for (f = 0; f < FF_N; f++) {
		const struct xspec *s = &x->field[f];

		if (!(m & (1u << f)) || !s->on || s->el.n != r)
			continue;
		if (s->attr) {
			size_t len;
			const char *v = find_attr(attributes, nb_attributes, s->attr, &len);

			if (v)
				add_field(x, f, v, len, true);
		} else if (!x->collect_depth[f]) {
			x->collect_depth[f] = x->depth;
			buf_reset(&x->text[f]);
		}
	}
}

static void on_start(void *ud, const xmlChar *localname, const xmlChar *prefix,
                     const xmlChar *URI, int nb_namespaces, const xmlChar **namespaces,
                     int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
	struct xmlp *x = ud;
	int e;

	(void)URI;
	(void)nb_namespaces;
	(void)namespaces;
	(void)nb_defaulted;
	if (x->stop)
		return;
	if (x->depth == x->cap_stack) {
		x->cap_stack = x->cap_stack ? x->cap_stack * 2 : 32;
		x->stack = xrealloc(x->stack, x->cap_stack * sizeof(*x->stack));
	}
	x->stack[x->depth].local = localname;
	x->stack[x->depth].prefix = prefix;
	x->depth++;
	if (!x->root_seen) {
		x->root_seen = true;
		if (x->items.el.n <= 1)
			x->p->items_found = true;
	}

	if (!x->in_item) {
		if (x->items.el.n >= 2 && tail_match(x, x->items.el.steps, x->items.el.n - 1))
			x->p->items_found = true;
		if (tail_match(x, x->items.el.steps, x->items.el.n)) {
			x->in_item = true;
			x->item_depth = x->depth;
			x->item_no++;
			x->item_line = xmlSAX2GetLineNumber(x->ctxt);
			x->p->items_found = true;
			feed_item_reset(x->p);
			item_start(x, nb_attributes, attributes);
			return;
		}
		for (e = 0; e < FE_N; e++) {
			const struct xspec *s = &x->env[e];

			if (!s->on || !env_match(x, s))
				continue;
			if (s->attr) {
				size_t len;
				const char *v = find_attr(attributes, nb_attributes, s->attr, &len);

				if (v)
					add_env(x, e, v, len, true);
			} else if (!x->env_depth[e]) {
				x->env_depth[e] = x->depth;
				buf_reset(&x->env_text[e]);
			}
		}
		return;
	}
	item_start(x, nb_attributes, attributes);
}

static void on_end(void *ud, const xmlChar *localname, const xmlChar *prefix, const xmlChar *URI)
{
	struct xmlp *x = ud;
	int f;

	(void)localname;
	(void)prefix;
	(void)URI;
	if (x->stop || !x->depth)
		return;
	if (x->in_item) {
		for (f = 0; f < FF_N; f++) {
			if (x->collect_depth[f] != x->depth)
				continue;
			x->collect_depth[f] = 0;
			add_field(x, f, x->text[f].data ? x->text[f].data : "", x->text[f].len, false);
		}
		if (x->stop)
			return;
		if (x->depth == x->item_depth) {
			x->in_item = false;
			if (feed_item_emit(x->p, x->item_no, &x->err) != 0) {
				stop(x);
				return;
			}
		}
	} else {
		for (f = 0; f < FE_N; f++) {
			if (x->env_depth[f] != x->depth)
				continue;
			x->env_depth[f] = 0;
			add_env(x, f, x->env_text[f].data ? x->env_text[f].data : "", x->env_text[f].len, false);
		}
	}
	x->depth--;
}

static void on_text(void *ud, const xmlChar *ch, int len)
{
	struct xmlp *x = ud;
	int f;

	if (x->stop)
		return;
	if (x->in_item) {
		for (f = 0; f < FF_N; f++) {
			if (!x->collect_depth[f])
				continue;
			if (x->text[f].len + (size_t)len > FEED_MAX_ITEM) {
				err_set(&x->err, ERRK_PERMANENT,
				        _("XML item %lld (line %d): the value at '%s' is larger than %zu KiB"),
				        (long long)x->item_no, x->item_line, x->field[f].el.text,
				        FEED_MAX_ITEM / 1024);
				stop(x);
				return;
			}
			buf_append(&x->text[f], ch, (size_t)len);
		}
	} else {
		for (f = 0; f < FE_N; f++) {
			if (!x->env_depth[f])
				continue;
			if (x->env_text[f].len + (size_t)len > FEED_MAX_ITEM) {
				err_set(&x->err, ERRK_PERMANENT,
				        _("XML line %d: the value at '%s' is larger than %zu KiB"),
				        xmlSAX2GetLineNumber(x->ctxt), x->env[f].el.text, FEED_MAX_ITEM / 1024);
				stop(x);
				return;
			}
			buf_append(&x->env_text[f], ch, (size_t)len);
		}
	}
}

/* ---- parser ---- */

static int result(struct xmlp *x, int rc, struct error *err)
{
	if (x->stop || x->xml_failed) {
		if (err)
			*err = x->err;
		return -1;
	}
	if (rc != 0) {
		const xmlError *e = xmlCtxtGetLastError(x->ctxt);

		return err_set(err, ERRK_PERMANENT, _("XML line %d: %s"),
		               e ? e->line : xmlSAX2GetLineNumber(x->ctxt),
		               e && e->message ? e->message : _("malformed document"));
	}
	return 0;
}

static int xml_write(struct feed_parser *p, const char *data, size_t len, struct error *err)
{
	struct xmlp *x = p->impl;
	int rc = 0;

	/* libxml2 takes an int length */
	while (len && !x->stop && !x->xml_failed) {
		int n = len > (1u << 30) ? 1 << 30 : (int)len;

		rc = xmlParseChunk(x->ctxt, data, n, 0);
		if (rc != 0)
			break;
		data += n;
		len -= (size_t)n;
	}
	return result(x, rc, err);
}

static int xml_finish(struct feed_parser *p, struct error *err)
{
	struct xmlp *x = p->impl;

	if (p->n_bytes == 0)
		return err_set(err, ERRK_PERMANENT, _("empty response where an XML document was expected"));
	return result(x, xmlParseChunk(x->ctxt, NULL, 0, 1), err);
}

static void xml_free(struct feed_parser *p)
{
	struct xmlp *x = p->impl;
	int i;

	if (!x)
		return;
	if (x->ctxt) {
		if (x->ctxt->myDoc)
			xmlFreeDoc(x->ctxt->myDoc);
		xmlFreeParserCtxt(x->ctxt);
	}
	spec_free(&x->items);
	for (i = 0; i < FE_N; i++) {
		spec_free(&x->env[i]);
		buf_free(&x->env_text[i]);
	}
	for (i = 0; i < FF_N; i++) {
		spec_free(&x->field[i]);
		buf_free(&x->text[i]);
	}
	free(x->stack);
	free(x->mask);
	free(x);
	p->impl = NULL;
}

static const struct feed_ops xml_ops = { xml_write, xml_finish, xml_free };

int feed_xml_init(struct feed_parser *p, struct error *err)
{
	struct xmlp *x = xcalloc(1, sizeof(*x));
	xmlSAXHandler sax;
	int i;

	p->ops = &xml_ops;
	p->impl = x;
	x->p = p;
	err_clear(&x->err);
	pthread_once(&xml_once, xml_global_init);

	spec_parse(&x->items, p->map->items);
	for (i = 0; i < FE_N; i++)
		spec_parse(&x->env[i], feed_env_path(p, i));
	for (i = 0; i < FF_N; i++)
		spec_parse(&x->field[i], feed_field_path(p, i));
	if (!x->items.el.n || x->items.attr)
		return err_set(err, ERRK_CONFIG,
		               _("mapping.items must name the XML element of one item (e.g. \"product\")"));
	if (!x->field[FF_SKU].on)
		return err_set(err, ERRK_CONFIG, _("mapping.sku is not set"));
	if (!x->field[FF_STOCK].on)
		return err_set(err, ERRK_CONFIG, _("mapping.stock is not set"));
	for (i = 0; i < FF_N; i++)
		if (x->field[i].on && !x->field[i].el.n && !x->field[i].attr)
			return err_set(err, ERRK_CONFIG, _("XML path '%s' names no element or attribute"),
			               x->field[i].el.text);

	/* only what we need: no entity, DTD or external-subset handlers */
	memset(&sax, 0, sizeof(sax));
	sax.initialized = XML_SAX2_MAGIC;
	sax.startElementNs = on_start;
	sax.endElementNs = on_end;
	sax.characters = on_text;
	sax.cdataBlock = on_text;
	sax.serror = on_error;
	x->ctxt = xmlCreatePushParserCtxt(&sax, x, NULL, 0, NULL);
	if (!x->ctxt)
		return err_set(err, ERRK_INTERNAL, _("cannot set up the XML parser"));
	xmlCtxtUseOptions(x->ctxt, XML_PARSE_NONET | XML_PARSE_NOCDATA);
	return 0;
}
