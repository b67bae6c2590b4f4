/* test_feed.c - the streaming feed parsers (JSON, CSV, XML).
 *
 * Every document is parsed whole, one byte at a time, and in random chunk
 * sizes; all three must give the same items, the same page meta and the
 * same error, byte for byte.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "feed/feed.h"
#include "tap.h"
#include "util/util.h"

static char *fixtures;

/* ---- running a parser ---- */

struct run {
	struct buf dump;          /* one line per item */
	int rc;
	struct error err;
	struct feed_page_meta meta;
	int stop_after;           /* callback returns -1 at this item (0 = never) */
	bool stop_sets_error;
	int seen;
};

static void dump_str(struct buf *b, const char *s)
{
	if (s)
		buf_printf(b, "\"%s\"", s);
	else
		buf_puts(b, "-");
}

static int cb_dump(void *ud, const struct feed_item *it, struct error *err)
{
	struct run *r = ud;
	size_t i;

	r->seen++;
	buf_printf(&r->dump, "%lld ", (long long)it->position);
	dump_str(&r->dump, it->sku);
	buf_puts(&r->dump, " [");
	for (i = 0; i < it->n_stock; i++) {
		if (i)
			buf_putc(&r->dump, ',');
		dump_str(&r->dump, it->stock[i]);
	}
	buf_puts(&r->dump, "] ");
	dump_str(&r->dump, it->updated_at);
	buf_putc(&r->dump, ' ');
	dump_str(&r->dump, it->available);
	buf_putc(&r->dump, '\n');
	if (r->stop_after && r->seen == r->stop_after) {
		if (r->stop_sets_error)
			err_set(err, ERRK_DB, "database is locked at item %lld", (long long)it->position);
		return -1;
	}
	return 0;
}

enum mode { WHOLE, BYTES, RANDOM };

static void run_free(struct run *r)
{
	buf_free(&r->dump);
	feed_page_meta_clear(&r->meta);
}

static void run_doc(const struct source_conf *src, const char *data, size_t len,
                    enum mode mode, unsigned seed, struct run *r, int stop_after, bool stop_err)
{
	struct feed_parser *p;
	size_t off = 0;

	memset(r, 0, sizeof(*r));
	r->stop_after = stop_after;
	r->stop_sets_error = stop_err;
	if (mode == WHOLE) {
		r->rc = feed_parse_buffer(src, data, len, cb_dump, r, &r->meta, &r->err);
		if (r->rc != 0)
			feed_page_meta_clear(&r->meta);
		return;
	}
	p = feed_parser_new(src, cb_dump, r);
	while (off < len) {
		size_t n = 1;

		if (mode == RANDOM) {
			seed = seed * 1103515245u + 12345u;
			n = (seed >> 16) % 97;          /* 0 included: empty writes are fine */
			if (n > len - off)
				n = len - off;
		}
		if (feed_parser_write(p, data + off, n, &r->err) != 0) {
			r->rc = -1;
			break;
		}
		off += n;
	}
	if (r->rc == 0) {
		r->rc = feed_parser_finish(p, &r->meta, &r->err);
		if (r->rc != 0)
			feed_page_meta_clear(&r->meta);
	}
	feed_parser_free(p);
}

static bool same_run(const struct run *a, const struct run *b)
{
	return a->rc == b->rc && !strcmp(buf_str(&a->dump), buf_str(&b->dump)) &&
	       (a->rc == 0 || (a->err.kind == b->err.kind && !strcmp(a->err.msg, b->err.msg))) &&
	       a->meta.items_found == b->meta.items_found && a->meta.n_items == b->meta.n_items &&
	       a->meta.has_total == b->meta.has_total && a->meta.total == b->meta.total &&
	       str_eq(a->meta.next, b->meta.next);
}

/* Parses whole, byte by byte and in random chunks; checks all agree and
 * leaves the whole-document result in out. */
static void parse3(const char *name, const struct source_conf *src, const char *data, size_t len,
                   struct run *out)
{
	struct run r;
	unsigned seed;
	bool same = true;

	run_doc(src, data, len, WHOLE, 0, out, 0, false);
	run_doc(src, data, len, BYTES, 0, &r, 0, false);
	if (!same_run(out, &r)) {
		printf("# whole: rc %d err \"%s\"\n%s", out->rc, out->err.msg, buf_str(&out->dump));
		printf("# bytes: rc %d err \"%s\"\n%s", r.rc, r.err.msg, buf_str(&r.dump));
	}
	ok(same_run(out, &r), "%s: one byte at a time gives the same result", name);
	run_free(&r);
	for (seed = 1; seed <= 12; seed++) {
		run_doc(src, data, len, RANDOM, seed, &r, 0, false);
		if (!same_run(out, &r)) {
			printf("# seed %u: rc %d err \"%s\"\n%s", seed, r.rc, r.err.msg, buf_str(&r.dump));
			same = false;
		}
		run_free(&r);
	}
	ok(same, "%s: random chunk sizes give the same result", name);
}

static void parse3_str(const char *name, const struct source_conf *src, const char *s,
                       struct run *out)
{
	parse3(name, src, s, strlen(s), out);
}

static char *fixture(const char *name, size_t *len)
{
	struct error err;
	char *path = xasprintf("%s/feeds/%s", fixtures, name);
	char *data = file_read_all(path, len, &err);

	if (!data) {
		printf("# cannot read fixture %s: %s\n", path, err.msg);
		data = xstrdup("");
		*len = 0;
	}
	free(path);
	return data;
}

static void parse3_file(const char *name, const struct source_conf *src, struct run *out)
{
	size_t len;
	char *data = fixture(name, &len);

	parse3(name, src, data, len, out);
	free(data);
}

/* ---- sources ---- */

static struct source_conf json_src(const char *items, const char *sku, const char *stock)
{
	struct source_conf s;

	memset(&s, 0, sizeof(s));
	s.format = FORMAT_JSON;
	s.map.items = (char *)items;
	s.map.sku = (char *)sku;
	s.map.stock = (char *)stock;
	s.map.delimiter = ',';
	s.map.quote = '"';
	s.map.header = true;
	return s;
}

static struct source_conf csv_src(const char *sku, const char *stock)
{
	struct source_conf s = json_src(NULL, sku, stock);

	s.format = FORMAT_CSV;
	s.map.encoding = (char *)"UTF-8";
	return s;
}

static struct source_conf xml_src(const char *items, const char *sku, const char *stock)
{
	struct source_conf s = json_src(items, sku, stock);

	s.format = FORMAT_XML;
	return s;
}

/* ---- JSON ---- */

static void test_json_root_array(void)
{
	struct source_conf s = json_src("", "sku", "stock");
	struct run r;

	s.map.updated_at = (char *)"updated_at";
	s.map.available = (char *)"available";
	parse3_file("root_array.json", &s, &r);
	is_int(r.rc, 0, "root array: parses (%s)", r.err.msg);
	is_str(buf_str(&r.dump),
	       "1 \"A1\" [\"5\"] \"2026-01-02T03:04:05Z\" \"true\"\n"
	       "2 \"B2\" [\"in stock\"] - \"no\"\n"
	       "3 \"C3\" [\"1.5\"] - -\n"
	       "4 \"D4\" [] - -\n"
	       "5 \"E5\" [] - -\n"
	       "6 \"12345\" [\"-3\"] - -\n"
	       "7 \"F6\" [\"false\"] - \"false\"\n"
	       "8 \"G7\" [\"1000\"] \"1764230100\" -\n"
	       "9 \"H8\" [\"9007199254740993\"] - -\n",
	       "root array: every item, numbers as text, null as absent");
	ok(r.meta.items_found, "root array: items_found");
	is_int(r.meta.n_items, 9, "root array: n_items");
	ok(!r.meta.has_total && !r.meta.next, "root array: no total, no next");
	run_free(&r);

	s.map.items = NULL;
	parse3_str("root array, items NULL", &s, "[{\"sku\":\"a\",\"stock\":1}]", &r);
	is_str(buf_str(&r.dump), "1 \"a\" [\"1\"] - -\n", "items NULL means the root is the list");
	run_free(&r);

	parse3_str("empty root array", &s, " [ ] ", &r);
	is_int(r.rc, 0, "empty root array is a valid empty page");
	ok(r.meta.items_found && r.meta.n_items == 0, "empty root array: found, 0 items");
	run_free(&r);

	parse3_str("number forms", &s, "[{\"sku\":\"n\",\"stock\":[0, -0, 12, 1.50, 2.5E-1, 1e3, -4e+2, 1.5e300]}]", &r);
	is_str(buf_str(&r.dump),
	       "1 \"n\" [\"0\",\"-0\",\"12\",\"1.50\",\"0.25\",\"1000\",\"-400\",\"1.5e+300\"] - -\n",
	       "numbers as written, exponent forms as plain decimals");
	run_free(&r);

	parse3_str("scalar items", &s, "[1, -0, 0.5e-3, 1E+2, \"x\", true, null, [], {}]", &r);
	is_int(r.rc, 0, "array of non-objects parses");
	is_int(r.meta.n_items, 9, "each element is an item");
	like(buf_str(&r.dump), "1 - [] - -\n", "a number element has no sku");
	run_free(&r);
}

static void test_json_envelope(void)
{
	struct source_conf s = json_src("data.items", "id", "qty");
	struct run r;

	s.map.success = (char *)"success";
	s.map.message = (char *)"message";
	s.map.total = (char *)"meta.total";
	s.map.next = (char *)"meta.next";
	parse3_file("envelope_after.json", &s, &r);
	is_int(r.rc, 0, "envelope after items: parses (%s)", r.err.msg);
	is_str(buf_str(&r.dump),
	       "1 \"X-1\" [\"10\"] - -\n2 \"X-2\" [\"0\"] - -\n3 \"X-3\" [\"7\"] - -\n",
	       "envelope after items: only the items at data.items");
	ok(r.meta.has_total && r.meta.total == 42, "envelope after items: total 42");
	is_str(r.meta.next, "cursor-abc", "envelope after items: next cursor");
	run_free(&r);

	s.map.success = (char *)"status";
	parse3_file("envelope_before.json", &s, &r);
	is_int(r.rc, 0, "envelope before items: parses (%s)", r.err.msg);
	is_str(buf_str(&r.dump),
	       "1 \"Y-1\" [\"3\"] - -\n2 \"Y-2\" [\"5\"] - -\n3 \"Y-3\" [\"1\",\"2\"] - -\n",
	       "envelope before items: items, a stock array gives every value");
	ok(r.meta.has_total && r.meta.total == 3, "envelope before items: total given as a string");
	is_str(r.meta.next, "https://supplier.example/api/stock?page=2",
	       "envelope before items: next URL");
	run_free(&r);

	/* the item list reached through an array of pages */
	s = json_src("pages.items", "sku", "stock");
	parse3_str("items through an array", &s,
	           "{\"pages\":[{\"items\":[{\"sku\":\"a\",\"stock\":1}]},{\"n\":0},"
	           "{\"items\":[{\"sku\":\"b\",\"stock\":2}]}]}", &r);
	is_str(buf_str(&r.dump), "1 \"a\" [\"1\"] - -\n2 \"b\" [\"2\"] - -\n",
	       "a step meeting an array applies to every element");
	run_free(&r);

	/* next = null or "" means no next page; total must be a number */
	s = json_src("items", "sku", "stock");
	s.map.next = (char *)"next";
	s.map.total = (char *)"total";
	parse3_str("null next", &s, "{\"next\":\"c1\",\"items\":[],\"next\":null,\"total\":0}", &r);
	ok(r.rc == 0 && !r.meta.next, "next: null (seen last) means no next page");
	ok(r.meta.has_total && r.meta.total == 0, "total 0");
	run_free(&r);
	parse3_str("bad total", &s, "{\"items\":[],\"total\":\"many\"}", &r);
	is_int(r.rc, -1, "a total that is not a number fails");
	like(r.err.msg, "total 'total' in the response is not a whole number: \"many\"",
	     "bad total: message");
	run_free(&r);
}

static void test_json_warehouses(void)
{
	struct source_conf s = json_src("products", "sku", "stock.warehouses.qty");
	struct run r;

	parse3_file("warehouses.json", &s, &r);
	is_int(r.rc, 0, "warehouses: parses (%s)", r.err.msg);
	is_str(buf_str(&r.dump),
	       "1 \"W1\" [\"3\",\"4\"] - -\n"
	       "2 \"W2\" [] - -\n"
	       "3 \"W3\" [\"12\",\"2.25\"] - -\n"
	       "4 \"W4\" [\"1\",\"2\",\"3\"] - -\n",
	       "warehouses: every value along the path, through arrays");
	run_free(&r);
}

static void test_json_escapes(void)
{
	struct source_conf s = json_src("data.items", "sku", "stock");
	struct run r;

	s.map.success = (char *)"ok";
	s.map.message = (char *)"msg";
	parse3_file("escapes.json", &s, &r);
	is_int(r.rc, 0, "escapes: parses (%s)", r.err.msg);
	is_str(buf_str(&r.dump),
	       "1 \"quote\"back\\slash\" [\"tab\there\"] - -\n"
	       "2 \"caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80\" [\"1\"] - -\n"
	       "3 \"escaped-key\" [\"/slash\n\"] - -\n"
	       "4 \"raw utf-8: \xc3\x84\xc3\x96\xc3\x9c \xc3\x9f \xe2\x82\xac\" [\"2\"] - -\n",
	       "escapes: decoded strings, escaped keys match, unicode");
	run_free(&r);

	/* a BOM is skipped, and still counted in byte offsets */
	s = json_src("", "sku", "stock");
	parse3_str("bom", &s, "\xef\xbb\xbf[{\"sku\":\"b\",\"stock\":2}]", &r);
	is_str(buf_str(&r.dump), "1 \"b\" [\"2\"] - -\n", "a UTF-8 BOM before JSON is skipped");
	run_free(&r);
	parse3_str("bom + error", &s, "\xef\xbb\xbf[}", &r);
	like(r.err.msg, "JSON syntax error at byte 4: unexpected '}'", "offsets count the BOM");
	run_free(&r);
	parse3_str("not a bom", &s, "\xef\xbb[]", &r);
	like(r.err.msg, "JSON syntax error at byte 0: unexpected byte 0xef",
	     "a broken BOM is a syntax error at byte 0");
	run_free(&r);

	parse3_str("bad utf-8 in an item", &s, "[{\"sku\":\"a\",\"stock\":1},{\"sku\":\"\xff\",\"stock\":1}]", &r);
	is_int(r.rc, -1, "invalid UTF-8 inside an item fails");
	is_str(r.err.msg, "JSON item 2: the string at byte 30 is not valid UTF-8",
	       "invalid UTF-8: names the item and the place");
	is_str(buf_str(&r.dump), "1 \"a\" [\"1\"] - -\n", "invalid UTF-8: earlier items were delivered");
	run_free(&r);

	parse3_str("lone surrogate", &s, "[{\"sku\":\"\\ud83d!\",\"stock\":1}]", &r);
	is_str(r.err.msg, "JSON item 1: the string at byte 8 has a lone UTF-16 surrogate escape",
	       "a lone surrogate in a value fails");
	run_free(&r);
	parse3_str("nul escape", &s, "[{\"sku\":\"a\\u0000b\",\"stock\":1}]", &r);
	like(r.err.msg, "contains \\u0000", "\\u0000 in a value fails (it would cut the text)");
	run_free(&r);
	parse3_str("bad utf-8 elsewhere", &s, "[{\"sku\":\"a\",\"name\":\"\xc3\",\"stock\":1}]", &r);
	is_int(r.rc, 0, "invalid UTF-8 in a value nobody reads is ignored");
	run_free(&r);
	parse3_str("utf-8 forms", &s, "[{\"sku\":\"\xed\xa0\x80\",\"stock\":1},{\"sku\":\"\xf4\x90\x80\x80\"}]", &r);
	like(r.err.msg, "JSON item 1: the string at byte 8 is not valid UTF-8", "encoded surrogates are not UTF-8");
	run_free(&r);
	parse3_str("overlong", &s, "[{\"sku\":\"\xc0\xaf\"}]", &r);
	like(r.err.msg, "is not valid UTF-8", "overlong forms are not UTF-8");
	run_free(&r);
	parse3_str("duplicate keys", &s, "[{\"sku\":\"first\",\"stock\":1,\"sku\":\"second\",\"stock\":2}]", &r);
	is_str(buf_str(&r.dump), "1 \"first\" [\"1\",\"2\"] - -\n",
	       "a repeated key: sku keeps the first, stock every value");
	run_free(&r);

	parse3_str("control character", &s, "[{\"sku\":\"a\nb\"}]", &r);
	like(r.err.msg, "JSON syntax error at byte 10: unexpected byte 0x0a inside a string",
	     "raw newline inside a string");
	run_free(&r);
}

static void test_json_errors(void)
{
	struct source_conf s = json_src("data.items", "sku", "stock");
	struct run r;
	const char *doc;
	char want[128];
	struct buf big = BUF_INIT;
	size_t i;

	/* syntax error offset */
	doc = "{\"data\": {\"items\": [{\"sku\": \"a\", \"stock\": 1}}]}";
	parse3_str("syntax error", &s, doc, &r);
	snprintf(want, sizeof(want), "JSON syntax error at byte %d: unexpected '}'",
	         (int)(strstr(doc, "}}") - doc + 1));
	is_int(r.rc, -1, "syntax error fails");
	like(r.err.msg, want, "syntax error names the byte offset and the character");
	is_int(r.err.kind, ERRK_PERMANENT, "syntax error is permanent");
	run_free(&r);

	parse3_str("bad literal", &s, "{\"data\": tru}", &r);
	like(r.err.msg, "JSON syntax error at byte 12: unexpected '}' in a literal", "bad literal");
	run_free(&r);
	parse3_str("bad number", &s, "{\"data\": [01]}", &r);
	like(r.err.msg, "JSON syntax error at byte 11: unexpected '1'", "leading zero");
	run_free(&r);
	parse3_str("bad number 2", &s, "{\"data\": [1.]}", &r);
	like(r.err.msg, "JSON syntax error at byte 12: unexpected ']' in a number", "1.");
	run_free(&r);
	parse3_str("trailing comma", &s, "{\"data\": [1,]}", &r);
	like(r.err.msg, "at byte 12: unexpected ']' where a value was expected", "trailing comma");
	run_free(&r);
	parse3_str("garbage after", &s, "{\"data\":{\"items\":[]}} x", &r);
	like(r.err.msg, "at byte 22: unexpected 'x' after the end of the document", "garbage after");
	run_free(&r);
	parse3_str("bad escape", &s, "{\"a\\q\": 1}", &r);
	like(r.err.msg, "at byte 4: unexpected 'q' after a backslash", "bad escape");
	run_free(&r);

	/* truncated */
	s = json_src("", "sku", "stock");
	doc = "[{\"sku\":\"a\",\"stock\":1},{\"sku\":\"b\"";
	parse3_str("truncated", &s, doc, &r);
	is_int(r.rc, -1, "truncated fails");
	snprintf(want, sizeof(want), "JSON document ends early at byte %zu (truncated?)", strlen(doc));
	is_str(r.err.msg, want, "truncated: message with the length");
	is_str(buf_str(&r.dump), "1 \"a\" [\"1\"] - -\n", "truncated: complete items were delivered");
	run_free(&r);
	parse3_str("truncated number", &s, "[{\"sku\":\"a\",\"stock\":12", &r);
	like(r.err.msg, "ends early at byte 22", "truncated inside a number");
	run_free(&r);

	/* empty */
	parse3_str("empty", &s, "", &r);
	is_str(r.err.msg, "empty response where a JSON document was expected", "empty body");
	is_int(r.err.kind, ERRK_PERMANENT, "empty body is permanent");
	run_free(&r);
	parse3_str("blank", &s, " \r\n\t ", &r);
	is_str(r.err.msg, "empty response where a JSON document was expected", "blank body");
	run_free(&r);

	/* item list missing, or not a list */
	s = json_src("data.items", "sku", "stock");
	parse3_str("items missing", &s, "{\"error\": \"nope\", \"data\": {\"other\": []}}", &r);
	is_str(r.err.msg, "item list 'data.items' not found in the response", "items path absent");
	run_free(&r);
	parse3_str("items not array", &s, "{\"data\": {\"items\": {\"a\": 1}}}", &r);
	is_str(r.err.msg, "item list 'data.items' in the response is an object, not a list",
	       "items path not an array");
	run_free(&r);
	parse3_str("items null", &s, "{\"data\": {\"items\": null}}", &r);
	like(r.err.msg, "is null, not a list", "items null");
	run_free(&r);
	s = json_src("", "sku", "stock");
	parse3_str("root not array", &s, "{\"sku\": \"a\"}", &r);
	is_str(r.err.msg, "the response is not a list of items: its top level is an object",
	       "root not an array");
	run_free(&r);
	parse3_str("root scalar", &s, "42", &r);
	like(r.err.msg, "its top level is a number", "root is a number");
	run_free(&r);

	/* nesting limit */
	for (i = 0; i < 2000; i++)
		buf_putc(&big, '[');
	parse3("deep nesting", &s, big.data, big.len, &r);
	like(r.err.msg, "at byte 1024: nesting deeper than 1024 levels", "nesting is bounded");
	run_free(&r);
	buf_free(&big);

	/* an item larger than 1 MiB */
	buf_puts(&big, "[{\"sku\":\"small\",\"stock\":1},{\"sku\":\"big\",\"stock\":1,\"pad\":\"");
	for (i = 0; i < (1u << 20); i++)
		buf_putc(&big, 'x');
	buf_puts(&big, "\"},{\"sku\":\"after\",\"stock\":2}]");
	parse3("item too large", &s, big.data, big.len, &r);
	is_int(r.rc, -1, "an item over 1 MiB fails");
	is_str(r.err.msg, "JSON item 2 starting at byte 27 is larger than 1024 KiB",
	       "item too large: message");
	is_str(buf_str(&r.dump), "1 \"small\" [\"1\"] - -\n", "item too large: earlier item delivered");
	run_free(&r);
	buf_free(&big);

	/* just under the limit is fine, and outside items size does not matter */
	buf_puts(&big, "{\"blob\":\"");
	for (i = 0; i < (3u << 20); i++)
		buf_putc(&big, 'y');
	buf_puts(&big, "\",\"items\":[{\"sku\":\"z\",\"stock\":1,\"pad\":\"");
	for (i = 0; i < (1u << 20) - 64; i++)
		buf_putc(&big, 'x');
	buf_puts(&big, "\"}]}");
	s = json_src("items", "sku", "stock");
	run_doc(&s, big.data, big.len, WHOLE, 0, &r, 0, false);
	is_int(r.rc, 0, "a large value outside items and an item just under 1 MiB are fine (%s)",
	       r.err.msg);
	is_str(buf_str(&r.dump), "1 \"z\" [\"1\"] - -\n", "large document: the item");
	run_free(&r);
	buf_free(&big);
}

static void test_json_success(void)
{
	struct source_conf s = json_src("data.items", "sku", "stock");
	struct run r;

	s.map.success = (char *)"success";
	s.map.message = (char *)"message";
	parse3_file("success_false.json", &s, &r);
	is_int(r.rc, -1, "success false fails");
	is_int(r.err.kind, ERRK_PERMANENT, "success false is permanent");
	is_str(r.err.msg, "supplier reported failure: Invalid API key",
	       "success false: the supplier's message, before 'items not found'");
	run_free(&r);

	s.map.message = (char *)"error.text";
	parse3_file("success_false_items.json", &s, &r);
	is_str(r.err.msg, "supplier reported failure: maintenance, partial data",
	       "success 0 after the items fails at the end");
	is_str(buf_str(&r.dump), "1 \"S1\" [\"1\"] - -\n", "items before the flag were delivered");
	run_free(&r);

	parse3_str("success missing", &s, "{\"data\":{\"items\":[]}}", &r);
	is_str(r.err.msg, "supplier reported failure: no 'success' flag in the response",
	       "success configured but missing fails");
	run_free(&r);

	parse3_str("success false no message", &s, "{\"success\":\"error\",\"data\":{\"items\":[]}}", &r);
	like(r.err.msg, "'success' is \"error\"", "success flag value shown when there is no message");
	run_free(&r);

	{
		static const char *const good[] = { "true", "1", "\"true\"", "\"OK\"", "\"yes\"", "\" Yes \"" };
		size_t i;

		for (i = 0; i < ARRAY_SIZE(good); i++) {
			char *doc = xasprintf("{\"data\":{\"items\":[]},\"success\":%s}", good[i]);

			run_doc(&s, doc, strlen(doc), WHOLE, 0, &r, 0, false);
			ok(r.rc == 0, "success %s counts as success (%s)", good[i], r.err.msg);
			run_free(&r);
			free(doc);
		}
	}
}

static void test_callback_stop(void)
{
	struct source_conf s = json_src("", "sku", "stock");
	const char *doc = "[{\"sku\":\"a\"},{\"sku\":\"b\"},{\"sku\":\"c\"}]";
	struct feed_parser *p;
	struct error err;
	struct run r;

	run_doc(&s, doc, strlen(doc), BYTES, 0, &r, 2, false);
	is_int(r.rc, -1, "callback stop fails the parse");
	is_str(r.err.msg, "stopped by caller at item 2", "callback stop without an error");
	is_int(r.seen, 2, "no item after the stop");
	run_free(&r);
	run_doc(&s, doc, strlen(doc), WHOLE, 0, &r, 1, true);
	is_str(r.err.msg, "database is locked at item 1", "callback stop with its own error");
	is_int(r.err.kind, ERRK_DB, "callback's error kind is kept");
	run_free(&r);

	/* errors are sticky; finishing twice is refused */
	memset(&r, 0, sizeof(r));
	p = feed_parser_new(&s, cb_dump, &r);
	ok(feed_parser_write(p, "[}", 2, &err) == -1, "write fails on a syntax error");
	ok(feed_parser_write(p, "]", 1, &err) == -1, "later writes fail too");
	like(err.msg, "unexpected '}'", "with the first error");
	ok(feed_parser_finish(p, NULL, &err) == -1, "finish fails too");
	feed_parser_free(p);
	p = feed_parser_new(&s, cb_dump, &r);
	ok(feed_parser_write(p, "[]", 2, NULL) == 0 && feed_parser_finish(p, NULL, NULL) == 0,
	   "errors may be NULL");
	ok(feed_parser_finish(p, NULL, &err) == -1, "finishing twice fails");
	feed_parser_free(p);
	run_free(&r);

	s = csv_src("sku", "stock");
	run_doc(&s, "sku,stock\na,1\nb,2\nc,3\n", 22, BYTES, 0, &r, 2, false);
	is_str(r.err.msg, "stopped by caller at item 3", "CSV: callback stop (position = line)");
	is_int(r.seen, 2, "CSV: no item after the stop");
	run_free(&r);

	s = xml_src("p", "@sku", "@q");
	run_doc(&s, "<r><p sku='a' q='1'/><p sku='b' q='2'/><p sku='c' q='3'/></r>", 60, WHOLE, 0, &r, 1, false);
	is_str(r.err.msg, "stopped by caller at item 1", "XML: callback stop");
	is_int(r.seen, 1, "XML: no item after the stop");
	run_free(&r);

	/* a mapping the parser cannot use fails at the first write */
	s = json_src("", NULL, "stock");
	p = feed_parser_new(&s, cb_dump, &r);
	ok(feed_parser_write(p, "[]", 2, &err) == -1 && err.kind == ERRK_CONFIG,
	   "missing sku path is a config error");
	feed_parser_free(p);
}

/* ---- CSV ---- */

static void test_csv(void)
{
	struct source_conf s = csv_src("sku", "qty");
	struct run r;

	s.map.updated_at = (char *)"updated";
	s.map.available = (char *)"INSTOCK";
	parse3_file("header.csv", &s, &r);
	is_int(r.rc, 0, "csv header: parses (%s)", r.err.msg);
	is_str(buf_str(&r.dump),
	       "2 \"A-1\" [\"5\"] \"2026-01-02\" \"yes\"\n"
	       "4 \"B-2\" [\"0\"] - \"no\"\n"
	       "5 \"C-3\" [\"12\"] \"2026-01-03T10:00:00Z\" -\n"
	       "6 \"D-4\" [] - -\n"
	       "7 \"E-5\" [\"7\"] - \"yes\"\n"
	       "10 \"F-6\" [\"3\"] - -\n",
	       "csv header: rows by line number, short row delivered empty, quoted newlines counted");
	ok(r.meta.items_found && r.meta.n_items == 6, "csv header: found, 6 items");
	run_free(&r);

	s = csv_src("1", "3");
	s.map.header = false;
	s.map.delimiter = '|';
	parse3_file("numbered.csv", &s, &r);
	is_int(r.rc, 0, "csv numbered: parses (%s)", r.err.msg);
	is_str(buf_str(&r.dump),
	       "1 \"1001\" [\"4\"] - -\n2 \"1002\" [] - -\n4 \"1003\" [\"9\"] - -\n",
	       "csv numbered columns, '|' delimiter, empty field absent");
	run_free(&r);

	s = csv_src("Artikel", "bestand");
	s.map.delimiter = ';';
	parse3_file("semicolon.csv", &s, &r);
	is_str(buf_str(&r.dump),
	       "2 \"X1\" [\"250\"] - -\n3 \"X2\" [\"3\"] - -\n5 \"X3\" [\"17\"] - -\n",
	       "csv semicolon: quoted delimiters and newlines");
	run_free(&r);

	s = csv_src("sku", "stock");
	parse3_file("bom.csv", &s, &r);
	is_str(buf_str(&r.dump), "2 \"BOM-1\" [\"8\"] - -\n3 \"BOM-2\" [\"9\"] - -\n",
	       "csv: BOM before the header is dropped");
	run_free(&r);

	s = csv_src("Артикул", "Остаток");
	s.map.delimiter = ';';
	s.map.encoding = (char *)"CP1251";
	parse3_file("cp1251.csv", &s, &r);
	is_int(r.rc, 0, "csv cp1251: parses (%s)", r.err.msg);
	is_str(buf_str(&r.dump), "2 \"А-100\" [\"5\"] - -\n3 \"Б-200\" [\"в наличии\"] - -\n",
	       "csv cp1251: header and values converted to UTF-8");
	run_free(&r);

	s = csv_src("REF", "quantité");
	s.map.encoding = (char *)"ISO-8859-1";
	parse3_file("latin1.csv", &s, &r);
	is_str(buf_str(&r.dump), "2 \"CAFÉ-1\" [\"3\"] - -\n3 \"CRÈME-2\" [\"0\"] - -\n",
	       "csv iso-8859-1: converted");
	run_free(&r);

	s = csv_src("sku", "qty");
	parse3_file("missing_column.csv", &s, &r);
	is_int(r.rc, -1, "csv missing column fails");
	is_str(r.err.msg,
	       "CSV line 1: the header has no column 'qty' (mapping.stock); its columns are: sku, name, quantity, price",
	       "csv missing column: names it and lists the header");
	run_free(&r);

	s = csv_src("sku", "stock");
	parse3_str("csv empty", &s, "", &r);
	is_str(r.err.msg, "empty response where a CSV feed was expected", "csv: empty body");
	run_free(&r);
	parse3_str("csv blank", &s, "\n\r\n", &r);
	is_str(r.err.msg, "the CSV feed has no header line", "csv: only blank lines");
	run_free(&r);
	parse3_str("csv header only", &s, "sku,stock\n", &r);
	ok(r.rc == 0 && r.meta.items_found && r.meta.n_items == 0, "csv: header only is an empty feed");
	run_free(&r);
	parse3_str("csv cr only, no final newline", &s, "sku,stock\rA,1\r\rB,2", &r);
	is_str(buf_str(&r.dump), "2 \"A\" [\"1\"] - -\n4 \"B\" [\"2\"] - -\n",
	       "csv: CR line ends, last row without newline");
	run_free(&r);
	parse3_str("csv malformed quote", &s, "sku,stock\nA,1\n\"B\"x,2\nC,3\n", &r);
	is_int(r.rc, -1, "csv: character after a closing quote fails");
	like(r.err.msg, "CSV line 3: unexpected 'x' after the closing quote", "csv: malformed quote message");
	is_str(buf_str(&r.dump), "2 \"A\" [\"1\"] - -\n", "csv: rows before it delivered");
	run_free(&r);
	parse3_str("csv unclosed quote", &s, "sku,stock\nA,1\nB,\"2\nC,3\n", &r);
	is_str(r.err.msg, "CSV line 3: the quoted field starting here is never closed (the feed ends inside it)",
	       "csv: unclosed quote");
	run_free(&r);
	parse3_str("csv spaces", &s, "sku , stock\n  A  ,  \"1\"  \n", &r);
	is_str(buf_str(&r.dump), "2 \"A\" [\"1\"] - -\n", "csv: blanks around fields and quotes");
	run_free(&r);

	s = csv_src("sku", "stock");
	s.map.encoding = (char *)"NO-SUCH-ENCODING";
	parse3_str("csv bad encoding", &s, "sku,stock\n", &r);
	is_int(r.err.kind, ERRK_CONFIG, "csv: unknown encoding is a config error");
	like(r.err.msg, "unknown CSV encoding 'NO-SUCH-ENCODING'", "csv: unknown encoding message");
	run_free(&r);

	s = csv_src("sku", "stock");
	s.map.encoding = (char *)"CP1251";
	parse3_str("csv bad bytes", &s, "sku,stock\nA,1\nB\x98,2\n", &r);
	is_str(r.err.msg, "CSV line 3, column 1: byte 0x98 at offset 1 of the field is not valid CP1251 text",
	       "csv: a byte the encoding does not have fails, naming line and column");
	is_str(buf_str(&r.dump), "2 \"A\" [\"1\"] - -\n", "csv: rows before it delivered");
	run_free(&r);

	s = csv_src("first", "x");
	s.map.header = false;
	parse3_str("csv bad column number", &s, "1,2\n", &r);
	like(r.err.msg, "mapping.sku: expected a column number", "csv: header=false needs numbers");
	run_free(&r);
}

/* ---- XML ---- */

static void test_xml(void)
{
	struct source_conf s = xml_src("product", "@sku", "stock/@qty");
	static const char *const item_paths[] = { "product", "products/product", "catalog/products/product",
	                                          "response/catalog/products/product" };
	struct run r;
	size_t i;

	s.map.updated_at = (char *)"@updated";
	s.map.available = (char *)"available";
	s.map.success = (char *)"@status";
	s.map.total = (char *)"meta/total";
	s.map.next = (char *)"response/meta/next";
	for (i = 0; i < ARRAY_SIZE(item_paths); i++) {
		s.map.items = (char *)item_paths[i];
		parse3_file("items.xml", &s, &r);
		is_int(r.rc, 0, "xml items '%s': parses (%s)", item_paths[i], r.err.msg);
		is_str(buf_str(&r.dump),
		       "1 \"P-1\" [\"4\"] \"2026-01-02T03:04:05Z\" \"true\"\n"
		       "2 \"P&2\" [\"0\"] - \"false\"\n"
		       "3 - [\"9\"] - -\n",
		       "xml items '%s': attributes, child elements, entities", item_paths[i]);
		ok(r.meta.has_total && r.meta.total == 3, "xml: total from an element");
		is_str(r.meta.next, "https://supplier.example/feed.xml?page=2&size=3",
		       "xml: next from CDATA, path with the root's name");
		run_free(&r);
	}
	s.map.items = (char *)"other/product";
	parse3_file("items.xml", &s, &r);
	is_str(r.err.msg, "item list 'other/product' not found in the response", "xml: items path not found");
	run_free(&r);

	s = xml_src("item", "code", "warehouses/warehouse/qty");
	parse3_file("warehouses.xml", &s, &r);
	is_int(r.rc, 0, "xml warehouses: parses (%s)", r.err.msg);
	is_str(buf_str(&r.dump),
	       "1 \"WH-1\" [\"3\",\"4\"] - -\n2 \"WH-2\" [] - -\n3 \"WH-3\" [\"1\",\"2\"] - -\n",
	       "xml warehouses: repeated elements give every value, nested item ignored");
	run_free(&r);
	s.map.stock = (char *)"warehouses.warehouse.qty";
	parse3_file("warehouses.xml", &s, &r);
	like(buf_str(&r.dump), "1 \"WH-1\" [\"3\",\"4\"]", "xml: dot-separated paths too");
	run_free(&r);

	s = xml_src("product", "@sku", "stock");
	s.map.success = (char *)"success";
	s.map.message = (char *)"error/message";
	parse3_file("envelope_fail.xml", &s, &r);
	is_str(r.err.msg, "supplier reported failure: Account suspended", "xml: success false with message");
	run_free(&r);

	s = xml_src("product", "@sku", "stock");
	parse3_file("malformed.xml", &s, &r);
	is_int(r.rc, -1, "xml malformed fails");
	like(r.err.msg, "XML line 7: ", "xml malformed: libxml2's line number");
	like(r.err.msg, "mismatch", "xml malformed: libxml2's reason");
	is_str(buf_str(&r.dump), "1 \"A\" [\"1\"] - -\n", "xml malformed: items before delivered");
	run_free(&r);

	parse3_file("xxe.xml", &s, &r);
	ok(!strstr(buf_str(&r.dump), "root:"), "xxe: /etc/passwd is not read");
	is_int(r.rc, -1, "xxe: an external entity fails the document");
	like(r.err.msg, "XML line 6: Entity 'xxe' not defined", "xxe: the entity is not declared for us");
	run_free(&r);

	parse3_file("xxe_dtd.xml", &s, &r);
	is_str(r.err.msg, "XML line 4: Entity 'ext' not defined",
	       "external DTD: not loaded, so its entity is unknown");
	is_str(buf_str(&r.dump), "", "external DTD: nothing delivered from the failing item on");
	run_free(&r);

	parse3_file("latin1.xml", &s, &r);
	is_str(buf_str(&r.dump), "1 \"CAF\xc3\x89\" [\"2\"] - -\n", "xml: declared ISO-8859-1 converted");
	run_free(&r);

	parse3_str("xml truncated", &s, "<products>\n<product sku=\"A\"><stock>1</stock></product>\n<product", &r);
	is_int(r.rc, -1, "xml truncated fails");
	like(r.err.msg, "XML line 3: ", "xml truncated: line");
	run_free(&r);
	parse3_str("xml empty", &s, "", &r);
	is_str(r.err.msg, "empty response where an XML document was expected", "xml: empty body");
	run_free(&r);
	parse3_str("xml not xml", &s, "{\"json\": true}", &r);
	like(r.err.msg, "XML line 1: ", "xml: not XML at all");
	run_free(&r);
	parse3_str("xml empty catalog", &s, "<products/>", &r);
	ok(r.rc == 0 && r.meta.items_found && r.meta.n_items == 0, "xml: empty catalog is an empty page");
	run_free(&r);

	{
		struct buf big = BUF_INIT;

		buf_puts(&big, "<r><p sku='a'><q>1</q></p><p sku='b'>");
		for (i = 0; i < 300000; i++)
			buf_puts(&big, "<q>1234</q>");
		buf_puts(&big, "</p></r>");
		s = xml_src("p", "@sku", "q");
		run_doc(&s, big.data, big.len, WHOLE, 0, &r, 0, false);
		is_str(r.err.msg, "XML item 2 (line 1): its values are larger than 1024 KiB",
		       "xml: one item's values are bounded");
		is_str(buf_str(&r.dump), "1 \"a\" [\"1\"] - -\n", "xml: items before it delivered");
		run_free(&r);
		buf_free(&big);
	}

	s = xml_src("catalog/product", "@sku", "stock");
	parse3_str("xml parent missing", &s, "<error>bad key</error>", &r);
	is_str(r.err.msg, "item list 'catalog/product' not found in the response",
	       "xml: multi-step items path needs its parent");
	run_free(&r);
	parse3_str("xml namespaces", &s,
	           "<x:catalog xmlns:x='urn:x'><x:product sku='N1'><x:stock>4</x:stock></x:product></x:catalog>", &r);
	is_str(buf_str(&r.dump), "1 \"N1\" [\"4\"] - -\n", "xml: prefixed elements match by local name");
	run_free(&r);
}

int main(void)
{
	const char *env = getenv("FIXTURES");

	if (env && *env) {
		fixtures = xstrdup(env);
	} else {
		/* __FILE__ is SRCDIR/tests/unit/test_feed.c */
		const char *f = __FILE__;
		const char *at = strstr(f, "unit/test_feed.c");

		fixtures = at && at > f ? xasprintf("%.*sfixtures", (int)(at - f), f) : xstrdup("tests/fixtures");
	}

	test_json_root_array();
	test_json_envelope();
	test_json_warehouses();
	test_json_escapes();
	test_json_errors();
	test_json_success();
	test_callback_stop();
	test_csv();
	test_xml();
	free(fixtures);
	return tap_done();
}
