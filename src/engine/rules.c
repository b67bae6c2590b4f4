/* rules.c - what a supplier says -> a stock figure: booleans, text values,
 * numbers and bounds, warehouse sums, availability, and the quantity rules
 * (multiplier, pack size, safety buffer, cap). */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "util/util.h"

/* Compares s[0..len) with word, ASCII case-insensitively. */
static bool span_caseeq(const char *s, size_t len, const char *word)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (!word[i] || tolower((unsigned char)s[i]) != tolower((unsigned char)word[i]))
			return false;
	}
	return word[len] == '\0';
}

static bool spans_caseeq(const char *a, const char *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i]))
			return false;
	return true;
}

/* Trims ASCII blanks without copying: *len is the trimmed length. */
static const char *span_trim(const char *s, size_t *len)
{
	size_t n = strlen(s);

	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	*len = n;
	return s;
}

int rules_parse_bool(const char *s)
{
	static const char *const yes[] = { "true", "yes", "y", "1", "on" };
	static const char *const no[] = { "false", "no", "n", "0", "off" };
	size_t i, len;

	if (!s)
		return -1;
	s = span_trim(s, &len);
	for (i = 0; i < ARRAY_SIZE(yes); i++)
		if (span_caseeq(s, len, yes[i]))
			return 1;
	for (i = 0; i < ARRAY_SIZE(no); i++)
		if (span_caseeq(s, len, no[i]))
			return 0;
	return -1;
}

/* A plain decimal number s[0..len): [+-]digits[.digits] or [+-].digits.
 * Fractions floor ("12.7" -> 12, "-0.5" -> -1).  false on anything else or
 * on overflow. */
static bool parse_number(const char *s, size_t len, int64_t *out)
{
	size_t i = 0;
	bool neg = false, any = false, frac = false;
	int64_t v = 0;

	if (i < len && (s[i] == '+' || s[i] == '-')) {
		neg = s[i] == '-';
		i++;
	}
	for (; i < len && isdigit((unsigned char)s[i]); i++) {
		int d = s[i] - '0';

		if (v > (INT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
		any = true;
	}
	if (i < len && s[i] == '.') {
		i++;
		for (; i < len && isdigit((unsigned char)s[i]); i++) {
			if (s[i] != '0')
				frac = true;
			any = true;
		}
	}
	if (!any || i != len)
		return false;
	if (neg) {
		v = -v;
		if (frac)
			v--;
	}
	*out = v;
	return true;
}

bool rules_parse_stock(const struct mapping *m, const char *text, int64_t *out)
{
	const char *s;
	size_t len;
	int i;

	if (!text)
		return false;
	s = span_trim(text, &len);
	if (len == 0)
		return false;
	if (m) {
		for (i = 0; i < m->n_text_values; i++) {
			const char *t;
			size_t tlen;

			if (!m->text_values[i].text)
				continue;
			t = span_trim(m->text_values[i].text, &tlen);
			if (tlen == len && spans_caseeq(s, t, len)) {
				*out = m->text_values[i].value;
				return true;
			}
		}
	}
	if (parse_number(s, len, out))
		return true;
	/* bounds: ">10", ">= 10", "10+" are taken as their number */
	if (s[0] == '>') {
		size_t k = 1;

		if (k < len && s[k] == '=')
			k++;
		while (k < len && isspace((unsigned char)s[k]))
			k++;
		if (k < len && (s[k] == '+' || s[k] == '-'))
			return false;
		return parse_number(s + k, len - k, out);
	}
	if (len > 1 && s[len - 1] == '+') {
		size_t n = len - 1;

		while (n && isspace((unsigned char)s[n - 1]))
			n--;
		if (n && (s[0] == '+' || s[0] == '-'))
			return false;
		return parse_number(s, n, out);
	}
	return false;
}

/* JSON null arrives as the word "null": treated as "no value". */
static bool absent(const char *s)
{
	size_t len;

	if (!s)
		return true;
	s = span_trim(s, &len);
	return len == 0 || span_caseeq(s, len, "null");
}

/* Where a bad item is, for its error message: "line 17" or "item 17".
 * Built only when an item fails: this path runs for every item. */
static const char *item_place(const struct supplier_conf *s, const struct feed_item *it,
                              char *out, size_t size)
{
	if (s && s->source.format == FORMAT_CSV)
		/* TRANSLATORS: where a bad item is in a CSV feed; it starts the
		   messages "%s: missing SKU", "%s (SKU %s): ..." */
		snprintf(out, size, _("line %lld"), (long long)it->position);
	else
		/* TRANSLATORS: where a bad item is in a JSON or XML feed (its
		   number); it starts the messages "%s: missing SKU", "%s (SKU %s): ..." */
		snprintf(out, size, _("item %lld"), (long long)it->position);
	return out;
}

int rules_item_to_obs(const struct supplier_conf *s, const struct feed_item *it,
                      int64_t *raw_stock, int64_t *source_time, struct error *err)
{
	const struct mapping *m = s ? &s->source.map : NULL;
	int64_t sum = 0, v, t = 0;
	size_t i, n = 0;
	char what[64];

	if (!it->sku || absent(it->sku))
		return err_set(err, ERRK_PERMANENT, _("%s: missing SKU"),
		               item_place(s, it, what, sizeof(what)));
	if (it->updated_at && !absent(it->updated_at)) {
		if (!time_parse(it->updated_at, &t))
			return err_set(err, ERRK_PERMANENT,
			               _("%s (SKU %s): updated_at \"%s\" is not a time"),
			               item_place(s, it, what, sizeof(what)), it->sku, it->updated_at);
	}
	if (it->available && !absent(it->available)) {
		int b = rules_parse_bool(it->available);

		if (b < 0)
			return err_set(err, ERRK_PERMANENT,
			               _("%s (SKU %s): availability \"%s\" is not a yes/no value"),
			               item_place(s, it, what, sizeof(what)), it->sku, it->available);
		if (b == 0) {
			/* unavailable: 0 whatever the stock says */
			*raw_stock = 0;
			*source_time = t;
			return 0;
		}
	}
	for (i = 0; i < it->n_stock; i++) {
		const char *txt = it->stock[i];

		if (absent(txt))
			continue;
		if (!rules_parse_stock(m, txt, &v))
			return err_set(err, ERRK_PERMANENT,
			               _("%s (SKU %s): stock \"%s\" is not a number"),
			               item_place(s, it, what, sizeof(what)), it->sku, txt);
		if (v < 0)
			return err_set(err, ERRK_PERMANENT, _("%s (SKU %s): negative stock %lld"),
			               item_place(s, it, what, sizeof(what)), it->sku, (long long)v);
		if (sum > INT64_MAX - v)
			return err_set(err, ERRK_PERMANENT, _("%s (SKU %s): stock is too large"),
			               item_place(s, it, what, sizeof(what)), it->sku);
		sum += v;
		n++;
	}
	if (n == 0)
		return err_set(err, ERRK_PERMANENT, _("%s (SKU %s): no stock value"),
		               item_place(s, it, what, sizeof(what)), it->sku);
	*raw_stock = sum;
	*source_time = t;
	return 0;
}

int64_t rules_apply(const struct rules_conf *r, int64_t raw)
{
	int64_t v = raw < 0 ? 0 : raw;

	if (!r)
		return v;
	if (r->multiplier != 1.0) {
		double d = (double)v * r->multiplier;

		/* a hair of slack so 100 * 0.29 gives 29, not 28 */
		d = floor(d + 1e-9 * (d > 1.0 ? d : 1.0));
		if (!(d > 0.0))
			v = 0;
		else if (d >= 9.2e18)
			v = INT64_MAX;
		else
			v = (int64_t)d;
	}
	if (r->pack_size > 1)
		v /= r->pack_size;
	if (r->safety_buffer > 0)
		v = v > r->safety_buffer ? v - r->safety_buffer : 0;
	if (r->cap >= 0 && v > r->cap)
		v = r->cap;
	return v;
}
