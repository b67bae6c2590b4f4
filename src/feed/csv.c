/* csv.c - streaming CSV feed parser on libcsv.
 *
 * libcsv splits and unquotes fields (not strict: a stray quote inside an
 * unquoted field, as in 24" screen, is taken as it is).  Alongside it a
 * small scanner follows the same quoting rules byte by byte to know line
 * numbers (an item's position is the line its row starts on, the header
 * being line 1), to bound a row's size, and to report what libcsv would
 * silently swallow: a character after a closing quote, or a quoted field
 * that never closes.  The scanner hands libcsv one row at a time, so the
 * row callback always knows its line.
 *
 * Columns are named by the header row (matched case-insensitively, after a
 * UTF-8 byte-order mark is dropped) or numbered from 1 when header = false.
 * Fields of other encodings are converted to UTF-8 with iconv.
 */
#include "config.h"

#include <csv.h>
#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>

#include "feed/feed.h"
#include "feed/feed_int.h"
#include "util/util.h"

/* scanner states, mirroring libcsv's */
enum cstate {
	C_ROW,      /* no row begun */
	C_FIELD,    /* row begun, field not begun */
	C_UNQ,      /* in an unquoted field */
	C_Q,        /* in a quoted field */
	C_QQ,       /* a quote seen in a quoted field: end, or the first of "" */
};

struct csvp {
	struct csv_parser csv;
	bool csv_ok;
	unsigned char delim, quote;

	/* scanner */
	enum cstate state;
	bool after_cr;
	bool qq_spaces;            /* blanks after a closing quote */
	int64_t line;              /* current line, 1-based */
	int64_t row_line;          /* line the current row started on */
	int64_t quote_line;        /* line the current quoted field started on */
	size_t row_bytes;

	/* row being parsed by libcsv */
	int col;                   /* index of the next field */
	bool header_done;
	int col_of[FF_N];          /* column of each field, -1 = not mapped */
	char **names;              /* header row */
	size_t n_names, cap_names;

	iconv_t cd;                /* (iconv_t)-1: UTF-8, no conversion */
	const char *encoding;
	char *conv;                /* converted field */
	size_t conv_cap;

	struct feed_parser *p;
	bool stop;                 /* a callback failed: err holds why */
	struct error err;
};

static const char *field_label(enum feed_field f)
{
	switch (f) {
	case FF_SKU: return "sku";
	case FF_STOCK: return "stock";
	case FF_UPDATED: return "updated_at";
	default: return "available";
	}
}

/* Converts a field to UTF-8 when the feed has another encoding.  Returns
 * NULL (and stops the parser) when the text is not valid in that encoding. */
static const char *convert(struct csvp *c, const char *s, size_t len, size_t *out_len)
{
	char *in = (char *)s, *out;
	size_t inleft = len, outleft, used = 0, rc;

	if (c->cd == (iconv_t)-1) {
		*out_len = len;
		return s;
	}
	iconv(c->cd, NULL, NULL, NULL, NULL);
	for (;;) {
		if (c->conv_cap < used + inleft * 4 + 16) {
			c->conv_cap = used + inleft * 4 + 16;
			c->conv = xrealloc(c->conv, c->conv_cap);
		}
		out = c->conv + used;
		outleft = c->conv_cap - used - 1;
		rc = iconv(c->cd, &in, &inleft, &out, &outleft);
		if (rc != (size_t)-1)
			rc = iconv(c->cd, NULL, NULL, &out, &outleft);   /* shift state */
		used = (size_t)(out - c->conv);
		if (rc != (size_t)-1)
			break;
		if (errno == E2BIG)
			continue;
		c->stop = true;
		err_set(&c->err, ERRK_PERMANENT,
		        _("CSV line %lld, column %d: byte 0x%02x at offset %zu of the field is not valid %s text"),
		        (long long)c->row_line, c->col, inleft ? (unsigned char)*in : 0,
		        (size_t)(in - s), c->encoding);
		return NULL;
	}
	c->conv[used] = '\0';
	*out_len = used;
	return c->conv;
}

static void header_field(struct csvp *c, const char *s, size_t len)
{
	char *name;

	if (c->n_names == c->cap_names) {
		c->cap_names = c->cap_names ? c->cap_names * 2 : 16;
		c->names = xrealloc(c->names, c->cap_names * sizeof(*c->names));
	}
	name = xstrndup(s, len);
	c->names[c->n_names++] = name;
}

static int header_done(struct csvp *c)
{
	struct feed_parser *p = c->p;
	struct buf cols = BUF_INIT;
	size_t i;
	int f, rc = -1;

	for (f = 0; f < FF_N; f++) {
		const char *want = feed_field_path(p, f);
		char *w;

		if (!want)
			continue;
		w = xstrdup(want);
		for (i = 0; i < c->n_names; i++) {
			char *n = xstrdup(c->names[i]);
			bool eq = str_caseeq(str_trim(n), str_trim(w));

			free(n);
			if (eq)
				break;
		}
		free(w);
		if (i < c->n_names) {
			c->col_of[f] = (int)i;
			continue;
		}
		for (i = 0; i < c->n_names && cols.len < 600; i++)
			buf_printf(&cols, "%s%s", i ? ", " : "", c->names[i]);
		if (i < c->n_names)
			buf_puts(&cols, ", ...");
		err_set(&c->err, ERRK_PERMANENT,
		        _("CSV line %lld: the header has no column '%s' (mapping.%s); its columns are: %s"),
		        (long long)c->row_line, want, field_label(f), buf_str(&cols));
		goto out;
	}
	c->header_done = true;
	p->items_found = true;
	rc = 0;
out:
	for (i = 0; i < c->n_names; i++)
		free(c->names[i]);
	c->n_names = 0;
	buf_free(&cols);
	if (rc != 0)
		c->stop = true;
	return rc;
}

static void csv_cb_field(void *field, size_t len, void *ud)
{
	struct csvp *c = ud;
	const char *s = field ? field : "";
	int col = c->col++;
	size_t n;
	int f;

	if (c->stop)
		return;
	if (!c->header_done && c->p->map->header) {
		if ((s = convert(c, s, len, &n)) != NULL)
			header_field(c, s, n);
		return;
	}
	for (f = 0; f < FF_N; f++) {
		if (c->col_of[f] != col || len == 0)
			continue;
		if ((s = convert(c, field, len, &n)) == NULL)
			return;
		feed_item_set(c->p, f, s, n);
	}
}

static void csv_cb_row(int term, void *ud)
{
	struct csvp *c = ud;

	(void)term;
	c->col = 0;
	if (c->stop)
		return;
	if (!c->header_done) {
		if (c->p->map->header) {
			header_done(c);
			return;
		}
		c->header_done = true;
		c->p->items_found = true;
	}
	if (feed_item_emit(c->p, c->row_line, &c->err) != 0)
		c->stop = true;
}

static int run_csv(struct csvp *c, const char *data, size_t len, struct error *err)
{
	if (len && csv_parse(&c->csv, data, len, csv_cb_field, csv_cb_row, c) != len)
		return err_set(err, ERRK_PERMANENT, _("CSV line %lld: %s"),
		               (long long)c->row_line, csv_strerror(csv_error(&c->csv)));
	if (c->stop) {
		if (err)
			*err = c->err;
		return -1;
	}
	return 0;
}

static bool is_blank(const struct csvp *c, unsigned char ch)
{
	return (ch == ' ' || ch == '\t') && ch != c->delim;
}

static int feedcsv_write(struct feed_parser *p, const char *data, size_t len, struct error *err)
{
	struct csvp *c = p->impl;
	const unsigned char *s = (const unsigned char *)data;
	size_t i, seg = 0;
	unsigned char ch;
	char b[16];

	for (i = 0; i < len; i++) {
		ch = s[i];
		if (ch == '\n' || ch == '\r') {
			if (!(ch == '\n' && c->after_cr))
				c->line++;
			c->after_cr = ch == '\r';
			if (c->state == C_Q)
				goto count;
			c->row_bytes = 0;
			if (c->state != C_ROW) {
				/* the row ends here: libcsv gets it up to this byte */
				c->state = C_ROW;
				if (run_csv(c, data + seg, i + 1 - seg, err) != 0)
					return -1;
				seg = i + 1;
			}
			continue;
		}
		c->after_cr = false;
		switch (c->state) {
		case C_ROW:
			if (is_blank(c, ch))
				break;
			c->row_line = c->line;
			/* fall through */
		case C_FIELD:
			if (is_blank(c, ch))
				break;
			if (ch == c->delim) {
				c->state = C_FIELD;
			} else if (ch == c->quote) {
				c->state = C_Q;
				c->quote_line = c->line;
			} else {
				c->state = C_UNQ;
			}
			break;
		case C_UNQ:
			if (ch == c->delim)
				c->state = C_FIELD;
			break;
		case C_Q:
			if (ch == c->quote) {
				c->state = C_QQ;
				c->qq_spaces = false;
			}
			break;
		case C_QQ:
			if (ch == c->delim) {
				c->state = C_FIELD;
			} else if (is_blank(c, ch)) {
				c->qq_spaces = true;
			} else if (ch == c->quote && !c->qq_spaces) {
				c->state = C_Q;        /* "" inside a quoted field */
			} else {
				return err_set(err, ERRK_PERMANENT,
				               _("CSV line %lld: unexpected %s after the closing quote of a field "
				                 "(a quote inside a quoted field must be doubled)"),
				               (long long)c->line, feed_byte_desc(ch, b));
			}
			break;
		}
count:
		if (++c->row_bytes > FEED_MAX_ITEM) {
			if (c->state == C_Q)
				return err_set(err, ERRK_PERMANENT,
				               _("CSV line %lld: the quoted field starting here runs on for more than %zu KiB "
				                 "(missing closing quote?)"),
				               (long long)c->quote_line, FEED_MAX_ITEM / 1024);
			return err_set(err, ERRK_PERMANENT,
			               _("CSV line %lld: the row is longer than %zu KiB"),
			               (long long)c->row_line, FEED_MAX_ITEM / 1024);
		}
	}
	return run_csv(c, data + seg, len - seg, err);
}

static int feedcsv_finish(struct feed_parser *p, struct error *err)
{
	struct csvp *c = p->impl;

	if (p->n_bytes == 0)
		return err_set(err, ERRK_PERMANENT, _("empty response where a CSV feed was expected"));
	if (c->state == C_Q)
		return err_set(err, ERRK_PERMANENT,
		               _("CSV line %lld: the quoted field starting here is never closed (the feed ends inside it)"),
		               (long long)c->quote_line);
	csv_fini(&c->csv, csv_cb_field, csv_cb_row, c);
	if (c->stop) {
		if (err)
			*err = c->err;
		return -1;
	}
	return 0;
}

static void feedcsv_free(struct feed_parser *p)
{
	struct csvp *c = p->impl;
	size_t i;

	if (!c)
		return;
	if (c->csv_ok)
		csv_free(&c->csv);
	if (c->cd != (iconv_t)-1)
		iconv_close(c->cd);
	for (i = 0; i < c->n_names; i++)
		free(c->names[i]);
	free(c->names);
	free(c->conv);
	free(c);
	p->impl = NULL;
}

static const struct feed_ops csv_ops = { feedcsv_write, feedcsv_finish, feedcsv_free };

static bool is_utf8(const char *enc)
{
	return str_empty(enc) || str_caseeq(enc, "UTF-8") || str_caseeq(enc, "UTF8");
}

int feed_csv_init(struct feed_parser *p, struct error *err)
{
	struct csvp *c = xcalloc(1, sizeof(*c));
	const struct mapping *m = p->map;
	int f;

	p->ops = &csv_ops;
	p->impl = c;
	c->p = p;
	c->cd = (iconv_t)-1;
	c->line = 1;
	c->row_line = 1;
	c->delim = m->delimiter ? (unsigned char)m->delimiter : ',';
	c->quote = m->quote ? (unsigned char)m->quote : '"';
	for (f = 0; f < FF_N; f++)
		c->col_of[f] = -1;
	err_clear(&c->err);

	if (csv_init(&c->csv, CSV_APPEND_NULL) != 0)
		return err_set(err, ERRK_INTERNAL, _("cannot set up the CSV parser"));
	c->csv_ok = true;
	csv_set_delim(&c->csv, c->delim);
	csv_set_quote(&c->csv, c->quote);

	if (c->delim == '\n' || c->delim == '\r' || c->delim == c->quote)
		return err_set(err, ERRK_CONFIG, _("CSV delimiter and quote must differ and not be a line break"));
	if (is_utf8(m->encoding)) {
		p->strip_bom = true;
	} else {
		c->encoding = m->encoding;
		c->cd = iconv_open("UTF-8", m->encoding);
		if (c->cd == (iconv_t)-1)
			return err_set(err, ERRK_CONFIG, _("unknown CSV encoding '%s' (mapping.encoding)"),
			               m->encoding);
	}
	if (!feed_field_path(p, FF_SKU))
		return err_set(err, ERRK_CONFIG, _("mapping.sku is not set"));
	if (!feed_field_path(p, FF_STOCK))
		return err_set(err, ERRK_CONFIG, _("mapping.stock is not set"));
	if (!m->header) {
		for (f = 0; f < FF_N; f++) {
			const char *t = feed_field_path(p, f);
			int64_t n;

			if (!t)
				continue;
			if (!str_to_i64(t, &n) || n < 1 || n > 100000)
				return err_set(err, ERRK_CONFIG,
				               _("mapping.%s: expected a column number (1, 2, ...) since the CSV feed has no header, got '%s'"),
				               field_label(f), t);
			c->col_of[f] = (int)(n - 1);
		}
	}
	return 0;
}
