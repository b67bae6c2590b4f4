/* json.c - streaming JSON feed parser.
 *
 * A byte-level scanner walks the document as chunks arrive (split at any
 * byte), with no allocation per byte: a stack of open containers, and for
 * each container how far along each configured path it is.  Paths are
 * dot-separated object keys ("data.items", "stock.warehouses.qty"); a step
 * that meets an array applies to each of its elements.
 *
 * Outside the item list the scanner follows mapping.items and the envelope
 * paths (success, message, total, next), wherever they come in the document.
 * Each element of the item list is an item, at most FEED_MAX_ITEM bytes
 * long; inside it the scanner follows the item paths (sku, stock,
 * updated_at, available) from the element, copies only the scalar values
 * found at their ends, and hands the item over when the element closes.
 *
 * Values as text: strings decoded (escapes, \uXXXX with surrogate pairs;
 * must be valid UTF-8), numbers as written (exponent forms as plain
 * decimals: 1e3 -> "1000"), true/false as words; null is
 * absent, and objects or arrays at a path's end are not values (an array's
 * elements are).  A repeated key counts each time it appears: stock keeps
 * every value, the other fields the first.
 *
 * (A first version gave each item's raw bytes to Jansson's json_loadb:
 * building the whole tree of every item took 80% of the time, about 560,000
 * items/s against 2.6 million with the values taken by the scanner.)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed/feed.h"
#include "feed/feed_int.h"
#include "util/util.h"

#define JSON_MAX_DEPTH 1024

/* Every path the scanner follows: the item list, the envelope values in
 * enum feed_env order, then the item fields in enum feed_field order. */
enum { JP_ITEMS = 0, JP_ENV0 = 1, JP_FIELD0 = JP_ENV0 + FE_N, JP_N = JP_FIELD0 + FF_N };

enum jstate {
	J_VALUE,          /* a value must come (after ':' or ',' in an array, or at the start) */
	J_VALUE_OR_END,   /* after '[' */
	J_KEY_OR_END,     /* after '{' */
	J_KEY,            /* after ',' in an object */
	J_COLON,          /* after a key */
	J_AFTER,          /* after a value inside a container */
	J_END,            /* after the top-level value */
	J_STRING,
	J_ESC,            /* after a backslash in a string */
	J_UHEX,           /* inside \uXXXX */
	J_NUM,
	J_LIT,            /* true, false, null */
};

/* number sub-states */
enum nstate { N_MINUS, N_ZERO, N_INT, N_DOT, N_FRAC, N_E, N_ESIGN, N_EXP };

enum role { R_PLAIN = 0, R_ITEMS, R_INITEM };

enum capture { C_NONE = 0, C_KEY, C_VAL };

struct jframe {
	unsigned char type;        /* '{' or '[' */
	unsigned char role;
	unsigned char want_keys;   /* some path goes on through this object's keys */
	int16_t idx[JP_N];         /* path steps matched by this container (-1: off the path) */
	int16_t child[JP_N];       /* objects: steps matched by the current key's value */
};

struct json {
	enum jstate state;
	enum nstate nstate;
	const char *lit;           /* the literal being matched */
	unsigned lit_pos;
	unsigned uhex;
	bool str_is_key;
	bool started;              /* a non-blank byte was seen */

	struct jframe *stack;
	size_t depth, cap_stack;

	struct feed_path path[JP_N];
	int16_t root_idx[JP_N];    /* where the paths stand at the document root */
	int16_t item_idx[JP_N];    /* ... and at an item */

	bool in_item;
	int64_t item_no;
	uint64_t item_off;         /* document offset of the item's first byte */

	enum capture cap_mode;
	unsigned cap_paths;        /* C_VAL: bit k set for each path whose value this is */
	size_t cap_start;          /* capture start in the current chunk */
	struct buf cap;            /* the captured token, raw */
	uint64_t cap_off;          /* document offset where the capture began */
	struct buf text;           /* a decoded string */

	uint64_t offset;           /* document offset of the current chunk's first byte */
	bool offset_set;           /* offset starts after a dropped byte-order mark */
	const unsigned char *chunk;
};

static const int16_t no_idx[JP_N] = { -1, -1, -1, -1, -1, -1, -1, -1, -1 };

/* ---- errors ---- */

static int syntax_error(struct json *j, size_t i, unsigned char c, const char *what,
                        struct error *err)
{
	char b[16];

	/* TRANSLATORS: "JSON syntax error at byte 17: unexpected 'x' in a
	   number": the second %s is the character ("'x'", "byte 0x07"), the
	   third a place such as " in a number" (with its leading blank) */
	return err_set(err, ERRK_PERMANENT, _("JSON syntax error at byte %llu: unexpected %s%s"),
	               (unsigned long long)(j->offset + i), feed_byte_desc(c, b), what);
}

static int item_too_large(struct json *j, struct error *err)
{
	return err_set(err, ERRK_PERMANENT,
	               _("JSON item %lld starting at byte %llu is larger than %zu KiB"),
	               (long long)j->item_no, (unsigned long long)j->item_off,
	               FEED_MAX_ITEM / 1024);
}

static const char *type_desc(unsigned char c)
{
	switch (c) {
	/* TRANSLATORS: what the response holds instead of a list of items, in
	   "item list '%s' in the response is %s, not a list" */
	case '{': return _("an object");
	case '"': return _("a string");
	case 't': case 'f': return _("a boolean");
	case 'n': return _("null");
	default: return _("a number");
	}
}

/* ---- capture of raw tokens (keys and scalar values) ---- */

static int cap_flush(struct json *j, size_t end, struct error *err)
{
	size_t n = end - j->cap_start;

	if (j->cap.len + n > FEED_MAX_ITEM) {
		if (j->in_item)
			return item_too_large(j, err);
		return err_set(err, ERRK_PERMANENT,
		               _("JSON value starting at byte %llu is larger than %zu KiB"),
		               (unsigned long long)j->cap_off, FEED_MAX_ITEM / 1024);
	}
	buf_append(&j->cap, j->chunk + j->cap_start, n);
	j->cap_start = end;
	return 0;
}

static void cap_begin(struct json *j, enum capture mode, size_t i)
{
	j->cap_mode = mode;
	j->cap_start = i;
	j->cap_off = j->offset + i;
	buf_reset(&j->cap);
}

/* ---- strings ---- */

static bool utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t k, m;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i <= k)
			return false;          /* cut short */
		for (m = 1; m <= k; m++) {
			if ((s[i + m] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + m] & 0x3f);
		}
		if ((k == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (k == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		i += k + 1;
	}
	return true;
}

static unsigned hex4(const char *s)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		char c = s[i];

		v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return v;
}

static void put_utf8(struct buf *b, uint32_t cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	buf_append(b, u, n);
}

/* Decodes a string token as the scanner checked it ("..." with valid
 * escapes).  Returns NULL with the reason in *why when it is not valid
 * UTF-8, has a lone surrogate or a \u0000. */
static const char *string_decode(struct json *j, const char *raw, size_t rawlen, size_t *len,
                                 const char **why)
{
	const char *s = raw + 1, *end = raw + rawlen - 1, *bs;

	if (!utf8_valid((const unsigned char *)s, (size_t)(end - s))) {
		/* TRANSLATORS: ends "JSON string at byte %llu %s" */
		*why = _("is not valid UTF-8");
		return NULL;
	}
	bs = memchr(s, '\\', (size_t)(end - s));
	if (!bs) {
		*len = (size_t)(end - s);
		return s;
	}
	buf_reset(&j->text);
	while (bs) {
		uint32_t cp;

		buf_append(&j->text, s, (size_t)(bs - s));
		s = bs + 2;
		switch (bs[1]) {
		case 'b': buf_putc(&j->text, '\b'); break;
		case 'f': buf_putc(&j->text, '\f'); break;
		case 'n': buf_putc(&j->text, '\n'); break;
		case 'r': buf_putc(&j->text, '\r'); break;
		case 't': buf_putc(&j->text, '\t'); break;
		case 'u':
			cp = hex4(bs + 2);
			s = bs + 6;
			if (cp >= 0xd800 && cp <= 0xdbff && end - s >= 6 && s[0] == '\\' && s[1] == 'u') {
				uint32_t lo = hex4(s + 2);

				if (lo >= 0xdc00 && lo <= 0xdfff) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					s += 6;
				}
			}
			if (cp >= 0xd800 && cp <= 0xdfff) {
				*why = _("has a lone UTF-16 surrogate escape");
				return NULL;
			}
			if (cp == 0) {
				*why = _("contains \\u0000");
				return NULL;
			}
			put_utf8(&j->text, cp);
			break;
		default:                   /* " \ / */
			buf_putc(&j->text, bs[1]);
			break;
		}
		bs = memchr(s, '\\', (size_t)(end - s));
	}
	buf_append(&j->text, s, (size_t)(end - s));
	*len = j->text.len;
	return buf_str(&j->text);
}

/* "1e3" -> "1000", "2.5E-1" -> "0.25": the rest of dropstock reads plain
 * decimals.  Whole values print as integers; others as the shortest text
 * that reads back the same. */
static const char *number_plain(const char *s, char out[40], size_t *len)
{
	double d = strtod(s, NULL);

	if (d == d && d > -9.2e18 && d < 9.2e18 && d == (double)(long long)d)
		snprintf(out, 40, "%lld", (long long)d);
	else if (snprintf(out, 40, "%.15g", d), strtod(out, NULL) != d)
		snprintf(out, 40, "%.17g", d);
	*len = strlen(out);
	return out;
}

/* A captured scalar reached the end of some paths: record it. */
static int value_done(struct feed_parser *p, struct json *j, struct error *err)
{
	const char *s = j->cap.data, *why = NULL;
	size_t len = j->cap.len;
	char num[40];
	int k;

	if (s[0] == '"') {
		s = string_decode(j, j->cap.data, j->cap.len, &len, &why);
		if (!s) {
			if (j->in_item)
				return err_set(err, ERRK_PERMANENT,
				               /* TRANSLATORS: the last %s is what is wrong with
				                  the string: "is not valid UTF-8", "contains \u0000" */
				               _("JSON item %lld: the string at byte %llu %s"),
				               (long long)j->item_no, (unsigned long long)j->cap_off, why);
			return err_set(err, ERRK_PERMANENT, _("JSON string at byte %llu %s"),
			               (unsigned long long)j->cap_off, why);
		}
	} else if (s[0] == 'n') {
		s = NULL;                  /* null: absent */
	} else if (s[0] != 't' && s[0] != 'f' && (memchr(s, 'e', len) || memchr(s, 'E', len))) {
		s = number_plain(s, num, &len);
	}
	for (k = JP_ENV0; k < JP_N; k++) {
		if (!(j->cap_paths & (1u << k)))
			continue;
		if (k < JP_FIELD0) {
			enum feed_env e = (enum feed_env)(k - JP_ENV0);

			if (s) {
				feed_env_set(p, e, s, len);
			} else {
				free(p->env[e]);
				p->env[e] = NULL;
			}
		} else if (s) {
			enum feed_field f = (enum feed_field)(k - JP_FIELD0);

			if (f == FF_STOCK)
				feed_item_add_stock(p, s, len);
			else if (!p->has[f])
				feed_item_set(p, f, s, len);
		}
	}
	return 0;
}

/* A key ended: which paths go on into its value. */
static void key_done(struct json *j)
{
	struct jframe *f = &j->stack[j->depth - 1];
	const char *k, *why;
	size_t klen, n;
	int i;

	k = string_decode(j, j->cap.data, j->cap.len, &klen, &why);
	for (i = 0; i < JP_N; i++) {
		int16_t x = f->idx[i];

		f->child[i] = -1;
		if (!k || x < 0 || (size_t)x >= j->path[i].n)
			continue;
		n = strlen(j->path[i].steps[x]);
		if (n == klen && !memcmp(j->path[i].steps[x], k, n))
			f->child[i] = (int16_t)(x + 1);
	}
}

/* ---- scanner ---- */

static int push(struct json *j, unsigned char type, enum role role, const int16_t *idx,
                size_t i, struct error *err)
{
	struct jframe *f;
	int16_t moved[JP_N];
	int k;

	if (j->depth >= JSON_MAX_DEPTH)
		return err_set(err, ERRK_PERMANENT,
		               P_("JSON syntax error at byte %llu: nesting deeper than %d level",
		                  "JSON syntax error at byte %llu: nesting deeper than %d levels",
		                  JSON_MAX_DEPTH),
		               (unsigned long long)(j->offset + i), JSON_MAX_DEPTH);
	if (j->depth == j->cap_stack) {
		/* idx may point into the stack that is about to move */
		memcpy(moved, idx, sizeof(moved));
		idx = moved;
		j->cap_stack = j->cap_stack ? j->cap_stack * 2 : 32;
		j->stack = xrealloc(j->stack, j->cap_stack * sizeof(*j->stack));
	}
	f = &j->stack[j->depth++];
	f->type = type;
	f->role = (unsigned char)role;
	f->want_keys = 0;
	for (k = 0; k < JP_N; k++) {
		f->idx[k] = idx[k];
		f->child[k] = -1;
		if (idx[k] >= 0 && (size_t)idx[k] < j->path[k].n)
			f->want_keys = 1;
	}
	return 0;
}

/* A value ended just before chunk index end. */
static int value_end(struct feed_parser *p, struct json *j, size_t end, struct error *err)
{
	if (j->cap_mode == C_VAL) {
		if (cap_flush(j, end, err) != 0)
			return -1;
		j->cap_mode = C_NONE;
		if (value_done(p, j, err) != 0)
			return -1;
	}
	if (j->in_item && j->stack[j->depth - 1].role == R_ITEMS) {
		/* the item itself ended */
		j->in_item = false;
		if (j->offset + end - j->item_off > FEED_MAX_ITEM)
			return item_too_large(j, err);
		if (feed_item_emit(p, j->item_no, err) != 0)
			return -1;
	}
	j->state = j->depth ? J_AFTER : J_END;
	return 0;
}

/* The first byte c of a value at chunk index i. */
static int value_begin(struct feed_parser *p, struct json *j, unsigned char c, size_t i,
                       struct error *err)
{
	const int16_t *vi;
	enum role role = R_PLAIN;
	struct jframe *top = j->depth ? &j->stack[j->depth - 1] : NULL;
	unsigned paths = 0;
	int k;

	if (!top) {
		vi = j->root_idx;
	} else if (top->role == R_ITEMS) {
		j->in_item = true;
		j->item_no++;
		j->item_off = j->offset + i;
		vi = j->item_idx;
	} else {
		vi = top->type == '{' ? top->child : top->idx;
	}
	if (j->in_item) {
		role = R_INITEM;
	} else if (vi[JP_ITEMS] >= 0 && (size_t)vi[JP_ITEMS] == j->path[JP_ITEMS].n) {
		if (c == '[') {
			role = R_ITEMS;
			p->items_found = true;
			p->items_bad = NULL;
		} else if (!p->items_found) {
			p->items_bad = type_desc(c);
		}
	}

	switch (c) {
	case '{':
		if (push(j, '{', role, vi, i, err) != 0)
			return -1;
		j->state = J_KEY_OR_END;
		return 0;
	case '[':
		if (push(j, '[', role, vi, i, err) != 0)
			return -1;
		j->state = J_VALUE_OR_END;
		return 0;
	case '"':
		j->state = J_STRING;
		j->str_is_key = false;
		break;
	case '-':
		j->state = J_NUM;
		j->nstate = N_MINUS;
		break;
	case '0':
		j->state = J_NUM;
		j->nstate = N_ZERO;
		break;
	case 't':
		j->state = J_LIT;
		j->lit = "true";
		j->lit_pos = 1;
		break;
	case 'f':
		j->state = J_LIT;
		j->lit = "false";
		j->lit_pos = 1;
		break;
	case 'n':
		j->state = J_LIT;
		j->lit = "null";
		j->lit_pos = 1;
		break;
	default:
		if (c >= '1' && c <= '9') {
			j->state = J_NUM;
			j->nstate = N_INT;
			break;
		}
		/* TRANSLATORS: ends "JSON syntax error at byte %llu: unexpected %s%s",
		   with its leading blank; so do the similar ones below */
		return syntax_error(j, i, c, _(" where a value was expected"), err);
	}
	/* a scalar: is it the end of some path? */
	for (k = JP_ENV0; k < JP_N; k++)
		if (vi[k] >= 0 && (size_t)vi[k] == j->path[k].n)
			paths |= 1u << k;
	if (paths) {
		cap_begin(j, C_VAL, i);
		j->cap_paths = paths;
	}
	return 0;
}

static int close_container(struct feed_parser *p, struct json *j, unsigned char c, size_t i,
                           struct error *err)
{
	unsigned char open = c == '}' ? '{' : '[';

	if (j->stack[j->depth - 1].type != open)
		return syntax_error(j, i, c, j->stack[j->depth - 1].type == '{'
		                    ? _(" inside an object") : _(" inside an array"), err);
	j->depth--;
	if (!j->depth) {
		j->state = J_END;
		return 0;
	}
	return value_end(p, j, i + 1, err);
}

static void key_begin(struct json *j, size_t i)
{
	j->state = J_STRING;
	j->str_is_key = true;
	if (j->stack[j->depth - 1].want_keys)
		cap_begin(j, C_KEY, i);
}

/* A string ended just before chunk index end. */
static int string_end(struct feed_parser *p, struct json *j, size_t end, struct error *err)
{
	if (!j->str_is_key)
		return value_end(p, j, end, err);
	j->state = J_COLON;
	if (j->cap_mode == C_KEY) {
		if (cap_flush(j, end, err) != 0)
			return -1;
		j->cap_mode = C_NONE;
		key_done(j);
	} else {
		memcpy(j->stack[j->depth - 1].child, no_idx, sizeof(no_idx));
	}
	return 0;
}

static bool is_blank(unsigned char c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static int json_write(struct feed_parser *p, const char *data, size_t len, struct error *err)
{
	struct json *j = p->impl;
	const unsigned char *s = (const unsigned char *)data;
	size_t i = 0;
	unsigned char c;

	if (!j->offset_set) {
		j->offset = p->bom_len;
		j->offset_set = true;
	}
	j->chunk = s;
	j->cap_start = 0;
	while (i < len) {
		c = s[i];
		switch (j->state) {
		case J_STRING:
			while (c != '"' && c != '\\' && c >= 0x20) {
				if (++i == len)
					goto chunk_end;
				c = s[i];
			}
			if (c == '"') {
				if (string_end(p, j, ++i, err) != 0)
					return -1;
			} else if (c == '\\') {
				j->state = J_ESC;
				i++;
			} else {
				return syntax_error(j, i, c, _(" inside a string (control characters must be escaped)"), err);
			}
			continue;
		case J_ESC:
			if (c == 'u') {
				j->state = J_UHEX;
				j->uhex = 0;
			} else if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' ||
			           c == 'n' || c == 'r' || c == 't') {
				j->state = J_STRING;
			} else {
				return syntax_error(j, i, c, _(" after a backslash in a string"), err);
			}
			i++;
			continue;
		case J_UHEX:
			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
				return syntax_error(j, i, c, _(" in a \\u escape"), err);
			if (++j->uhex == 4)
				j->state = J_STRING;
			i++;
			continue;
		case J_NUM:
			switch (j->nstate) {
			case N_MINUS:
				if (c == '0')
					j->nstate = N_ZERO;
				else if (c >= '1' && c <= '9')
					j->nstate = N_INT;
				else
					return syntax_error(j, i, c, _(" in a number"), err);
				i++;
				continue;
			case N_INT:
				while (c >= '0' && c <= '9') {
					if (++i == len)
						goto chunk_end;
					c = s[i];
				}
				/* fall through */
			case N_ZERO:
				if (c == '.') {
					j->nstate = N_DOT;
					i++;
					continue;
				}
				if (c == 'e' || c == 'E') {
					j->nstate = N_E;
					i++;
					continue;
				}
				break;
			case N_DOT:
				if (c < '0' || c > '9')
					return syntax_error(j, i, c, _(" in a number"), err);
				j->nstate = N_FRAC;
				i++;
				continue;
			case N_FRAC:
				while (c >= '0' && c <= '9') {
					if (++i == len)
						goto chunk_end;
					c = s[i];
				}
				if (c == 'e' || c == 'E') {
					j->nstate = N_E;
					i++;
					continue;
				}
				break;
			case N_E:
				if (c == '+' || c == '-') {
					j->nstate = N_ESIGN;
					i++;
					continue;
				}
				/* fall through */
			case N_ESIGN:
				if (c < '0' || c > '9')
					return syntax_error(j, i, c, _(" in a number"), err);
				j->nstate = N_EXP;
				i++;
				continue;
			case N_EXP:
				while (c >= '0' && c <= '9') {
					if (++i == len)
						goto chunk_end;
					c = s[i];
				}
				break;
			}
			/* the number ended before c: c is looked at again */
			if (value_end(p, j, i, err) != 0)
				return -1;
			continue;
		case J_LIT:
			if (c != (unsigned char)j->lit[j->lit_pos])
				return syntax_error(j, i, c, _(" in a literal (true, false or null)"), err);
			i++;
			if (!j->lit[++j->lit_pos] && value_end(p, j, i, err) != 0)
				return -1;
			continue;
		default:
			break;
		}

		/* structural states */
		if (is_blank(c)) {
			i++;
			continue;
		}
		j->started = true;
		switch (j->state) {
		case J_VALUE:
			if (value_begin(p, j, c, i, err) != 0)
				return -1;
			break;
		case J_VALUE_OR_END:
			if (c == ']') {
				if (close_container(p, j, c, i, err) != 0)
					return -1;
			} else if (value_begin(p, j, c, i, err) != 0) {
				return -1;
			}
			break;
		case J_KEY_OR_END:
			if (c == '}') {
				if (close_container(p, j, c, i, err) != 0)
					return -1;
				break;
			}
			/* fall through */
		case J_KEY:
			if (c != '"')
				return syntax_error(j, i, c, _(" where a key (a string) was expected"), err);
			key_begin(j, i);
			break;
		case J_COLON:
			if (c != ':')
				return syntax_error(j, i, c, _(" where ':' was expected after a key"), err);
			j->state = J_VALUE;
			break;
		case J_AFTER:
			if (c == ',') {
				j->state = j->stack[j->depth - 1].type == '{' ? J_KEY : J_VALUE;
			} else if (c == '}' || c == ']') {
				if (close_container(p, j, c, i, err) != 0)
					return -1;
			} else {
				return syntax_error(j, i, c, j->stack[j->depth - 1].type == '{'
				                    ? _(" where ',' or '}' was expected")
				                    : _(" where ',' or ']' was expected"), err);
			}
			break;
		case J_END:
			return syntax_error(j, i, c, _(" after the end of the document"), err);
		default:
			return err_set(err, ERRK_INTERNAL, _("JSON scanner in an unknown state"));
		}
		i++;
	}
chunk_end:
	if (j->in_item && j->offset + len - j->item_off > FEED_MAX_ITEM)
		return item_too_large(j, err);
	if (j->cap_mode != C_NONE && cap_flush(j, len, err) != 0)
		return -1;
	j->offset += len;
	return 0;
}

static int json_finish(struct feed_parser *p, struct error *err)
{
	struct json *j = p->impl;

	j->chunk = NULL;
	j->cap_start = 0;
	/* a top-level number ends with the document */
	if (j->state == J_NUM && !j->depth &&
	    (j->nstate == N_ZERO || j->nstate == N_INT || j->nstate == N_FRAC || j->nstate == N_EXP))
		j->state = J_END;          /* a top-level scalar: never an item or envelope */
	if (j->state == J_END)
		return 0;
	if (!j->started)
		return err_set(err, ERRK_PERMANENT,
		               _("empty response where a JSON document was expected"));
	return err_set(err, ERRK_PERMANENT,
	               _("JSON document ends early at byte %llu (truncated?)"),
	               (unsigned long long)j->offset);
}

static void json_free(struct feed_parser *p)
{
	struct json *j = p->impl;
	int k;

	if (!j)
		return;
	for (k = 0; k < JP_N; k++)
		feed_path_free(&j->path[k]);
	buf_free(&j->cap);
	buf_free(&j->text);
	free(j->stack);
	free(j);
	p->impl = NULL;
}

static const struct feed_ops json_ops = { json_write, json_finish, json_free };

int feed_json_init(struct feed_parser *p, struct error *err)
{
	struct json *j = xcalloc(1, sizeof(*j));
	int k;

	p->ops = &json_ops;
	p->impl = j;
	j->state = J_VALUE;
	for (k = 0; k < JP_N; k++) {
		const char *t;

		if (k == JP_ITEMS)
			t = p->map->items;
		else if (k < JP_FIELD0)
			t = feed_env_path(p, (enum feed_env)(k - JP_ENV0));
		else
			t = feed_field_path(p, (enum feed_field)(k - JP_FIELD0));
		feed_path_split(&j->path[k], t, ".");
		/* the item list and the envelope start at the root, fields at an item */
		j->root_idx[k] = k == JP_ITEMS || (k < JP_FIELD0 && t) ? 0 : -1;
		j->item_idx[k] = k >= JP_FIELD0 && j->path[k].n ? 0 : -1;
		if (j->path[k].n > 1000)
			return err_set(err, ERRK_CONFIG, _("JSON path '%s' has too many steps"), t);
	}
	if (!j->path[JP_FIELD0 + FF_SKU].n)
		return err_set(err, ERRK_CONFIG, _("mapping.sku is not set"));
	if (!j->path[JP_FIELD0 + FF_STOCK].n)
		return err_set(err, ERRK_CONFIG, _("mapping.stock is not set"));
	return 0;
}
