/* feed_int.h - what the three parsers (json.c, csv.c, xml.c) share with
 * parser.c.  Not for use outside src/feed/.
 *
 * parser.c owns struct feed_parser: the caller's callback, the item being
 * built (values copied into parser-owned buffers), the envelope values, the
 * sticky error and the byte-order-mark filter.  A format fills in ops and
 * impl from its init function and only ever:
 *   - records values of the current item with feed_item_set / feed_item_add_stock,
 *   - hands the item over with feed_item_emit,
 *   - records envelope values with feed_env_set,
 *   - sets p->items_found / p->items_bad before finish returns.
 * Success flag, missing item list, total and next are checked once, in
 * parser.c, after the format's finish succeeded.
 */
#ifndef DROPSTOCK_FEED_INT_H
#define DROPSTOCK_FEED_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "feed/feed.h"

/* Largest single item (JSON, XML) or CSV row, and largest envelope value. */
#define FEED_MAX_ITEM ((size_t)1 << 20)

/* A path split into steps once, at parser creation. */
struct feed_path {
	char **steps;
	size_t n;
	const char *text;    /* the configured text, for messages (not owned) */
};

/* Splits text at any of the characters in seps; empty steps are dropped.
 * NULL or "" gives zero steps. */
void feed_path_split(struct feed_path *path, const char *text, const char *seps);
void feed_path_free(struct feed_path *path);

/* Item fields, in struct feed_item order. */
enum feed_field { FF_SKU = 0, FF_STOCK, FF_UPDATED, FF_AVAILABLE, FF_N };

/* Envelope values. */
enum feed_env { FE_SUCCESS = 0, FE_MESSAGE, FE_TOTAL, FE_NEXT, FE_N };

struct feed_parser;

struct feed_ops {
	/* Parses the next chunk; -1 with err on a syntax error or callback stop. */
	int (*write)(struct feed_parser *p, const char *data, size_t len, struct error *err);
	/* Ends the document: -1 with err when it is truncated or malformed.
	 * Sets p->items_found (and p->items_bad when the list has the wrong type). */
	int (*finish)(struct feed_parser *p, struct error *err);
	void (*free)(struct feed_parser *p);
};

struct feed_parser {
	const struct feed_ops *ops;
	void *impl;                    /* the format's own state */
	const struct source_conf *src;
	const struct mapping *map;
	feed_item_cb cb;
	void *ud;

	/* the item being built */
	struct buf field[FF_N];        /* FF_STOCK unused: see stock_* */
	bool has[FF_N];
	struct buf stock_text;         /* every stock value, each NUL-terminated */
	size_t *stock_off;
	const char **stock_ptr;
	size_t n_stock, cap_stock;

	/* envelope */
	char *env[FE_N];               /* NULL when not seen */

	int64_t n_items;               /* items delivered */
	uint64_t n_bytes;              /* bytes given to feed_parser_write, BOM included */
	bool items_found;
	const char *items_bad;         /* "an object", "a string"...: list present but wrong type */

	/* leading UTF-8 byte-order mark filter (JSON, CSV in UTF-8) */
	bool strip_bom;
	unsigned bom_state;            /* bytes of the BOM matched and held so far */
	bool bom_done;
	size_t bom_len;                /* 3 when a BOM was dropped, else 0 */

	bool failed, finished;
	struct error error;            /* sticky: every later call fails with it */
};

/* Format constructors: set p->ops and p->impl; -1 with err on a mapping the
 * format cannot use (the error is then reported by the first write/finish). */
int feed_json_init(struct feed_parser *p, struct error *err);
int feed_csv_init(struct feed_parser *p, struct error *err);
int feed_xml_init(struct feed_parser *p, struct error *err);

/* Item building (values are copied). */
void feed_item_set(struct feed_parser *p, enum feed_field f, const char *s, size_t len);
void feed_item_add_stock(struct feed_parser *p, const char *s, size_t len);
/* Hands the current item to the callback and resets it.  Returns -1 with err
 * when the callback stopped. */
int feed_item_emit(struct feed_parser *p, int64_t position, struct error *err);
/* Forgets the current item's values. */
void feed_item_reset(struct feed_parser *p);

/* Records an envelope value (the last one seen wins). */
void feed_env_set(struct feed_parser *p, enum feed_env e, const char *s, size_t len);
/* The configured path of an envelope value, NULL when not mapped. */
const char *feed_env_path(const struct feed_parser *p, enum feed_env e);
/* The configured path of an item field, NULL when not mapped. */
const char *feed_field_path(const struct feed_parser *p, enum feed_field f);

/* Shows one byte for a message: "'x'" or "byte 0x07". */
const char *feed_byte_desc(unsigned char c, char out[16]);

#endif
