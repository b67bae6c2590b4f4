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
 * valid only during the callback: copy what you keep.  Values are raw text,
 * UTF-8: JSON strings decoded, JSON numbers as written ("12", "1.5", "1e3"),
 * true/false as words; JSON null, empty CSV fields and empty XML elements
 * are absent (NULL / not in stock[]).  A field the item lacks is absent too:
 * such an item is still delivered, and the engine counts it invalid. */
struct feed_item {
	const char *sku;          /* NULL when the item has no SKU */
	const char *const *stock; /* every raw value found at the stock path, in document
	                           * order (several for per-warehouse quantities) */
	size_t n_stock;           /* 0 when the item has no stock value */
	const char *updated_at;   /* raw, NULL when absent or not mapped */
	const char *available;    /* raw, NULL when absent or not mapped */
	int64_t position;         /* 1-based item number in this document; for CSV the line
	                           * the row starts on (the header is line 1) */
};

/* Return 0 to go on, -1 to stop parsing (the parser then fails with the
 * error the callback set, or "stopped by caller"). */
typedef int (*feed_item_cb)(void *ud, const struct feed_item *item, struct error *err);

/* What the document said besides its items, known after feed_parser_finish.
 * finish overwrites the whole struct: clear a reused one first. */
struct feed_page_meta {
	bool items_found;     /* the item list (mapping.items) was present: JSON the
	                       * array, CSV the header (any row when header = false),
	                       * XML the parent of the item path's last step (for a
	                       * one-step path such as "product", any root element) */
	int64_t n_items;      /* items delivered */
	bool has_total;
	int64_t total;        /* mapping.total */
	char *next;           /* mapping.next (cursor or URL), NULL when absent, null or "";
	                       * owned by meta: feed_page_meta_clear */
};
void feed_page_meta_clear(struct feed_page_meta *m);

struct feed_parser;

/* src->format picks JSON, CSV or XML; src->map tells where things are.
 * The source must outlive the parser. */
struct feed_parser *feed_parser_new(const struct source_conf *src, feed_item_cb cb, void *ud);

/* Feeds the next chunk (any size, split anywhere, 0 allowed).  Returns -1
 * with err on a syntax error ("JSON syntax error at byte 5123: unexpected
 * '}'", "CSV line 17: ...", "XML line 8: ..."), an item over 1 MiB, a mapping
 * the format cannot use (ERRK_CONFIG), or when the callback stopped (its
 * error, else "stopped by caller at item N").  Errors are sticky: every
 * later call fails with the same one. */
int feed_parser_write(struct feed_parser *p, const char *data, size_t len, struct error *err);

/* Ends the document.  Fails (ERRK_PERMANENT) on, in this order: truncated
 * document ("JSON document ends early at byte N (truncated?)"), empty
 * document ("empty response where a JSON document was expected"), envelope
 * success flag false or missing when mapped ("supplier reported failure:
 * <message>"; true/1/"true"/"ok"/"yes" count as success), item list not
 * found ("item list 'data.items' not found in the response") or not a list,
 * total not a whole number.  The success flag may come after the items: the
 * items were delivered already, so a caller commits only after finish
 * succeeded.  Fills meta when not NULL (n_items and items_found even on
 * failure). */
int feed_parser_finish(struct feed_parser *p, struct feed_page_meta *meta, struct error *err);

void feed_parser_free(struct feed_parser *p);

/* Convenience for tests and small documents: runs a whole buffer through. */
int feed_parse_buffer(const struct source_conf *src, const char *data, size_t len,
                      feed_item_cb cb, void *ud, struct feed_page_meta *meta, struct error *err);

#endif
