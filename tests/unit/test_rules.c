/* test_rules.c - booleans, stock texts, feed items -> observations, and the
 * quantity rules. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "tap.h"

static struct rules_conf plain_rules(void)
{
	struct rules_conf r;

	memset(&r, 0, sizeof(r));
	r.cap = -1;
	r.multiplier = 1.0;
	r.pack_size = 1;
	r.zero_missing_max_pct = 20.0;
	return r;
}

static void test_bool(void)
{
	ok(rules_parse_bool("true") == 1, "true");
	ok(rules_parse_bool(" YES ") == 1, "YES with blanks");
	ok(rules_parse_bool("y") == 1, "y");
	ok(rules_parse_bool("1") == 1, "1");
	ok(rules_parse_bool("On") == 1, "On");
	ok(rules_parse_bool("false") == 0, "false");
	ok(rules_parse_bool("No") == 0, "No");
	ok(rules_parse_bool("n") == 0, "n");
	ok(rules_parse_bool("0") == 0, "0");
	ok(rules_parse_bool("OFF") == 0, "OFF");
	ok(rules_parse_bool("in stock") == -1, "in stock is not a boolean");
	ok(rules_parse_bool("out of stock") == -1, "out of stock is not a boolean");
	ok(rules_parse_bool("2") == -1, "2 is not a boolean");
	ok(rules_parse_bool("") == -1, "empty is not a boolean");
	ok(rules_parse_bool("truex") == -1, "truex is not a boolean");
	ok(rules_parse_bool(NULL) == -1, "NULL is not a boolean");
}

static void test_stock_text(void)
{
	struct text_value tv[] = {
		{ "in stock", 5 }, { "Out of Stock", 0 }, { " low ", 2 }, { "many", 100 },
	};
	struct mapping m;
	int64_t v = -99;

	memset(&m, 0, sizeof(m));
	m.text_values = tv;
	m.n_text_values = (int)ARRAY_SIZE(tv);

	ok(rules_parse_stock(&m, "in stock", &v) && v == 5, "text value in stock -> 5");
	ok(rules_parse_stock(&m, "  IN STOCK ", &v) && v == 5, "text value case/blank-insensitive");
	ok(rules_parse_stock(&m, "out of stock", &v) && v == 0, "out of stock -> 0");
	ok(rules_parse_stock(&m, "low", &v) && v == 2, "trimmed mapping text matches");
	ok(!rules_parse_stock(&m, "in stoc", &v), "prefix of a text value is not a match");
	ok(!rules_parse_stock(&m, "lots", &v), "unmapped text rejected");
	ok(!rules_parse_stock(NULL, "in stock", &v), "no mapping: text rejected");

	ok(rules_parse_stock(NULL, "12", &v) && v == 12, "12");
	ok(rules_parse_stock(NULL, " 12 ", &v) && v == 12, "12 with blanks");
	ok(rules_parse_stock(NULL, "12.0", &v) && v == 12, "12.0");
	ok(rules_parse_stock(NULL, "12.7", &v) && v == 12, "12.7 floors to 12");
	ok(rules_parse_stock(NULL, "+4", &v) && v == 4, "+4");
	ok(rules_parse_stock(NULL, "0", &v) && v == 0, "0");
	ok(rules_parse_stock(NULL, ".5", &v) && v == 0, ".5 floors to 0");
	ok(rules_parse_stock(NULL, ">10", &v) && v == 10, ">10 -> 10");
	ok(rules_parse_stock(NULL, "> 10", &v) && v == 10, "> 10 -> 10");
	ok(rules_parse_stock(NULL, ">=7", &v) && v == 7, ">=7 -> 7");
	ok(rules_parse_stock(NULL, "10+", &v) && v == 10, "10+ -> 10");
	ok(rules_parse_stock(NULL, "-3", &v) && v == -3, "-3 parses as -3 (rejected later)");
	ok(rules_parse_stock(NULL, "-0.5", &v) && v == -1, "-0.5 floors to -1");
	ok(!rules_parse_stock(NULL, ">-3", &v), ">-3 rejected");
	ok(!rules_parse_stock(NULL, "-3+", &v), "-3+ rejected");
	ok(!rules_parse_stock(NULL, "", &v), "empty rejected");
	ok(!rules_parse_stock(NULL, "   ", &v), "blanks rejected");
	ok(!rules_parse_stock(NULL, "12abc", &v), "12abc rejected");
	ok(!rules_parse_stock(NULL, "1e3", &v), "1e3 rejected");
	ok(!rules_parse_stock(NULL, "12,5", &v), "12,5 rejected");
	ok(!rules_parse_stock(NULL, "nan", &v), "nan rejected");
	ok(!rules_parse_stock(NULL, ">", &v), "> alone rejected");
	ok(!rules_parse_stock(NULL, "+", &v), "+ alone rejected");
	ok(!rules_parse_stock(NULL, "99999999999999999999", &v), "overflow rejected");
	ok(!rules_parse_stock(NULL, NULL, &v), "NULL rejected");
}

static struct supplier_conf make_supplier(enum feed_format f, struct text_value *tv, int ntv)
{
	struct supplier_conf s;

	memset(&s, 0, sizeof(s));
	s.slug = "acme";
	s.source.format = f;
	s.source.map.text_values = tv;
	s.source.map.n_text_values = ntv;
	s.rules = plain_rules();
	return s;
}

static void test_item_to_obs(void)
{
	struct text_value tv[] = { { "in stock", 5 } };
	struct supplier_conf s = make_supplier(FORMAT_JSON, tv, 1);
	struct supplier_conf csv = make_supplier(FORMAT_CSV, NULL, 0);
	struct feed_item it;
	struct error e;
	const char *one[] = { "7" };
	const char *three[] = { "3", "4.0", ">10" };
	const char *withnull[] = { "null", "6" };
	const char *text[] = { "in stock" };
	const char *lots[] = { "lots" };
	const char *neg[] = { "5", "-3" };
	const char *nulls[] = { "null" };
	int64_t raw = -1, t = -1;

	memset(&it, 0, sizeof(it));
	it.sku = "AB-1";
	it.position = 17;
	it.stock = one;
	it.n_stock = 1;
	ok(rules_item_to_obs(&s, &it, &raw, &t, &e) == 0 && raw == 7 && t == 0,
	   "one value, no updated_at");

	it.stock = three;
	it.n_stock = 3;
	ok(rules_item_to_obs(&s, &it, &raw, &t, &e) == 0, "warehouses parse");
	is_int(raw, 17, "warehouse values summed (3 + 4.0 + >10)");

	it.stock = withnull;
	it.n_stock = 2;
	ok(rules_item_to_obs(&s, &it, &raw, &t, &e) == 0 && raw == 6, "null warehouse skipped");

	it.stock = text;
	it.n_stock = 1;
	ok(rules_item_to_obs(&s, &it, &raw, &t, &e) == 0 && raw == 5, "text value mapped");

	it.stock = lots;
	ok(rules_item_to_obs(&s, &it, &raw, &t, &e) < 0, "unparsable stock rejected");
	is_str(e.msg, "item 17 (SKU AB-1): stock \"lots\" is not a number", "message names item, SKU, value");
	ok(e.kind == ERRK_PERMANENT, "kind permanent");

	it.stock = neg;
	it.n_stock = 2;
	ok(rules_item_to_obs(&s, &it, &raw, &t, &e) < 0, "negative warehouse rejected");
	is_str(e.msg, "item 17 (SKU AB-1): negative stock -3", "negative message");

	it.stock = nulls;
	it.n_stock = 1;
	ok(rules_item_to_obs(&s, &it, &raw, &t, &e) < 0, "only null stock rejected");
	like(e.msg, "no stock value", "no stock value message");
	it.n_stock = 0;
	ok(rules_item_to_obs(&s, &it, &raw, &t, &e) < 0, "missing stock rejected");

	/* availability */
	it.stock = lots;
	it.n_stock = 1;
	it.available = "false";
	raw = -1;
	ok(rules_item_to_obs(&s, &it, &raw, &t, &e) == 0 && raw == 0,
	   "available=false forces 0 whatever the stock says");
	it.stock = one;
	it.available = "no";
	ok(rules_item_to_obs(&s, &it, &raw, &t, &e) == 0 && raw == 0, "available=no forces 0");
	it.available = "yes";
	ok(rules_item_to_obs(&s, &it, &raw, &t, &e) == 0 && raw == 7, "available=yes keeps stock");
	it.available = "null";
	ok(rules_item_to_obs(&s, &it, &raw, &t, &e) == 0 && raw == 7, "available null ignored");
	it.available = "maybe";
	ok(rules_item_to_obs(&s, &it, &raw, &t, &e) < 0, "available=maybe rejected");
	like(e.msg, "availability \"maybe\"", "availability message");
	it.available = NULL;

	/* updated_at */
	it.updated_at = "2026-11-27T08:15:00Z";
	ok(rules_item_to_obs(&s, &it, &raw, &t, &e) == 0, "updated_at parses");
	is_int(t, INT64_C(1795767300000), "updated_at in ms");
	it.updated_at = "1795767300";
	ok(rules_item_to_obs(&s, &it, &raw, &t, &e) == 0 && t == INT64_C(1795767300000),
	   "updated_at as unix seconds");
	it.updated_at = "yesterday";
	ok(rules_item_to_obs(&s, &it, &raw, &t, &e) < 0, "bad updated_at rejected");
	like(e.msg, "updated_at \"yesterday\"", "updated_at message");
	it.updated_at = NULL;

	/* sku */
	it.sku = NULL;
	ok(rules_item_to_obs(&s, &it, &raw, &t, &e) < 0, "missing SKU rejected");
	is_str(e.msg, "item 17: missing SKU", "missing SKU message");
	it.sku = "  ";
	ok(rules_item_to_obs(&s, &it, &raw, &t, &e) < 0, "blank SKU rejected");
	it.sku = NULL;
	ok(rules_item_to_obs(&csv, &it, &raw, &t, &e) < 0, "CSV: missing SKU rejected");
	is_str(e.msg, "line 17: missing SKU", "CSV items are named by line");
}

static void test_apply(void)
{
	struct rules_conf r = plain_rules();

	is_int(rules_apply(&r, 10), 10, "plain rules: unchanged");
	is_int(rules_apply(&r, 0), 0, "plain rules: 0");
	is_int(rules_apply(NULL, 4), 4, "no rules: unchanged");

	r.multiplier = 0.5;
	is_int(rules_apply(&r, 7), 3, "multiplier 0.5 floors 3.5 to 3");
	r.multiplier = 0.29;
	is_int(rules_apply(&r, 100), 29, "100 * 0.29 is 29 despite binary fractions");
	r.multiplier = 2.0;
	is_int(rules_apply(&r, 7), 14, "multiplier 2");
	r.multiplier = 1.0;

	r.pack_size = 6;
	is_int(rules_apply(&r, 13), 2, "pack_size 6: 13 units are 2 packs");
	is_int(rules_apply(&r, 5), 0, "pack_size 6: 5 units are 0 packs");
	r.pack_size = 1;

	r.safety_buffer = 3;
	is_int(rules_apply(&r, 10), 7, "safety buffer 3");
	is_int(rules_apply(&r, 2), 0, "buffer floors at 0");
	is_int(rules_apply(&r, 3), 0, "buffer equal to stock gives 0");
	r.safety_buffer = 0;

	r.cap = 50;
	is_int(rules_apply(&r, 80), 50, "cap 50");
	is_int(rules_apply(&r, 20), 20, "below cap unchanged");
	r.cap = 0;
	is_int(rules_apply(&r, 20), 0, "cap 0 hides stock");

	/* all together, in order: multiplier, pack, buffer, cap */
	r.multiplier = 1.5;
	r.pack_size = 2;
	r.safety_buffer = 1;
	r.cap = 10;
	is_int(rules_apply(&r, 9), 5, "9 * 1.5 = 13.5 -> 13, /2 -> 6, -1 -> 5");
	is_int(rules_apply(&r, 100), 10, "150 / 2 - 1 = 74 capped at 10");
	is_int(rules_apply(&r, 1), 0, "1 * 1.5 -> 1, /2 -> 0, -1 floors at 0");
	is_int(rules_apply(&r, -5), 0, "negative raw never goes below 0");
}

int main(void)
{
	test_bool();
	test_stock_text();
	test_item_to_obs();
	test_apply();
	return tap_done();
}
