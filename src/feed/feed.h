/* feed.h - streaming feed parsers (JSON, CSV, XML) behind one interface.
 *
 * A parser is made for one document (one response page, or one whole file),
 * fed bytes in chunks of any size as they arrive, and calls back once per
 * item with the raw values found at the mapping's paths.  It never holds the
 * whole document: memory stays bounded by the size of one item (JSON, XML)
 * or one row (CSV), so a 2 GB feed streams.
 *
 * The formats differ only in parsing: turning raw values into a stock figure
 * (text values, sums, availability) happens once, in engine/rules.
 */
#ifndef DROPSTOCK_FEED_H
#define DROPSTOCK_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "util/util.h"

/* One item as found in the feed.  All strings are owned by the parser and
 * valid only during the callback: copy what you keep. */
struct feed_item {
	const char *sku;          /* NULL when the item has no SKU */
	const char *const *stock; /* every raw value found at the stock path (strings:
	                           * JSON numbers as their text, true/false/null as words) */
	size_t n_stock;           /* 0 when the item has no stock value */
	const char *updated_at;   /* raw, NULL when absent or not mapped */
	const char *available;    /* raw, NULL when absent or not mapped */
	int64_t position;         /* 1-based item number in this document; for CSV the line number */
};

/* Return 0 to go on, -1 to stop parsing (the parser then fails with the
 * error the callback set, or "stopped by caller"). */
typedef int (*feed_item_cb)(void *ud, const struct feed_item *item, struct error *err);

/* What the document said besides its items, known after feed_parser_finish. */
struct feed_page_meta {
	bool items_found;     /* the item list (mapping.items) was present */
	int64_t n_items;      /* items delivered */
	bool has_total;
	int64_t total;        /* mapping.total */
	char *next;           /* mapping.next (cursor or URL), owned by meta: feed_page_meta_clear */
};
void feed_page_meta_clear(struct feed_page_meta *m);

struct feed_parser;

/* src->format picks JSON, CSV or XML; src->map tells where things are.
 * The source must outlive the parser. */
struct feed_parser *feed_parser_new(const struct source_conf *src, feed_item_cb cb, void *ud);

/* Feeds the next chunk.  Returns -1 with err on a syntax error ("JSON syntax
 * error at byte 5123: ...", "CSV line 17: ...", "XML line 8: ...") or when
 * the callback stopped. */
int feed_parser_write(struct feed_parser *p, const char *data, size_t len, struct error *err);

/* Ends the document.  Fails (ERRK_PERMANENT) on: truncated document, empty
 * document, item list not found where mapping.items says ("items path
 * 'data.items' not found: is this an error response?"), or envelope
 * success flag false ("supplier says: <message>").  Fills meta when not NULL. */
int feed_parser_finish(struct feed_parser *p, struct feed_page_meta *meta, struct error *err);

void feed_parser_free(struct feed_parser *p);

/* Convenience for tests and small documents: runs a whole buffer through. */
int feed_parse_buffer(const struct source_conf *src, const char *data, size_t len,
                      feed_item_cb cb, void *ud, struct feed_page_meta *meta, struct error *err);

#endif
