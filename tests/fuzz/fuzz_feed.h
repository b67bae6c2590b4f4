/* fuzz_feed.h - the body shared by fuzz_json.c, fuzz_csv.c and fuzz_xml.c:
 * a feed parser with a mapping taken from the input itself.
 *
 * Input: one line of '|'-separated fields, then the document:
 *   chunk|items|sku|stock|updated_at|available|success|message|total|next|delim|quote|header|encoding
 * chunk is the write size (0 or absent: the whole document at once); an
 * empty field leaves the option unset (NULL); delim and quote take the first
 * character, header "0" turns the CSV header off.  Without a newline the
 * whole input is the document and a fixed mapping is used.  An item whose
 * SKU is "!stop" makes the callback stop the parser.
 */
#ifndef DROPSTOCK_FUZZ_FEED_H
#define DROPSTOCK_FUZZ_FEED_H

#include <stdlib.h>
#include <string.h>

#include "feed/feed.h"

#define FUZZ_FEED_FIELDS 14

static int fuzz_feed_item(void *ud, const struct feed_item *item, struct error *err)
{
	size_t *sum = ud;
	size_t i;

	/* touch every value, so a bad pointer shows under the sanitizers */
	if (item->sku) {
		*sum += strlen(item->sku);
		if (strcmp(item->sku, "!stop") == 0)
			return err_set(err, ERRK_PERMANENT, "stopped at item %lld",
			               (long long)item->position);
	}
	for (i = 0; i < item->n_stock; i++)
		*sum += strlen(item->stock[i]);
	if (item->updated_at)
		*sum += strlen(item->updated_at);
	if (item->available)
		*sum += strlen(item->available);
	if (item->position <= 0)
		abort();
	return 0;
}

static int fuzz_feed_run(enum feed_format format, const uint8_t *data, size_t size)
{
	static struct text_value tv[2] = { { (char *)"in stock", 5 }, { (char *)">10", 10 } };
	struct source_conf src;
	struct feed_page_meta meta;
	struct feed_parser *p;
	struct error err;
	char *field[FUZZ_FEED_FIELDS] = { NULL };
	char *head = NULL, *s;
	const char *doc = (const char *)data;
	const uint8_t *nl = memchr(data, '\n', size);
	size_t len = size, chunk = 0, off, sum = 0;
	int i;

	memset(&src, 0, sizeof(src));
	memset(&meta, 0, sizeof(meta));
	src.format = format;
	src.map.delimiter = ',';
	src.map.quote = '"';
	src.map.header = true;
	src.map.text_values = tv;
	src.map.n_text_values = 2;
	if (nl && nl - data < 4096) {
		head = xstrndup((const char *)data, (size_t)(nl - data));
		s = head;
		for (i = 0; i < FUZZ_FEED_FIELDS && s; i++) {
			char *bar = strchr(s, '|');

			if (bar)
				*bar = '\0';
			field[i] = *s ? s : NULL;
			s = bar ? bar + 1 : NULL;
		}
		doc = (const char *)nl + 1;
		len = size - (size_t)(nl - data) - 1;
		if (field[0])
			chunk = (size_t)strtoul(field[0], NULL, 10) % 4096;
		src.map.items = field[1];
		src.map.sku = field[2];
		src.map.stock = field[3];
		src.map.updated_at = field[4];
		src.map.available = field[5];
		src.map.success = field[6];
		src.map.message = field[7];
		src.map.total = field[8];
		src.map.next = field[9];
		if (field[10])
			src.map.delimiter = field[10][0];
		if (field[11])
			src.map.quote = field[11][0];
		if (field[12] && field[12][0] == '0')
			src.map.header = false;
		src.map.encoding = field[13];
	} else {
		src.map.items = format == FORMAT_XML ? (char *)"item" : NULL;
		src.map.sku = (char *)"sku";
		src.map.stock = (char *)"stock";
	}

	p = feed_parser_new(&src, fuzz_feed_item, &sum);
	if (!p)
		goto out;
	if (chunk == 0)
		chunk = len ? len : 1;
	for (off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;

		if (feed_parser_write(p, doc + off, n, &err) < 0)
			break;
	}
	if (feed_parser_finish(p, &meta, &err) == 0 && meta.n_items < 0)
		abort();
	feed_page_meta_clear(&meta);
	feed_parser_free(p);
out:
	free(head);
	return 0;
}

#endif
