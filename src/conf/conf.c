/* conf.c - finds, reads and validates dropstock.conf and suppliers.d/SLUG.conf.
 *
 * Every setting is checked up front: unknown names, types, ranges, enum
 * values and the options one setting needs from another.  Errors read
 * "FILE:LINE: OPTION: cause".
 */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <iconv.h>
#include <libconfig.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf_int.h"
#include "util/schedule.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

/* What a validation step needs: the file (for messages) and the error. */
struct cctx {
	const char *file;
	struct error *err;
};

/* ------------------------------------------------------------------ */
/* names                                                              */

static const char *const format_names[] = { "json", "csv", "xml", NULL };
static const char *const paging_names[] = {
	"none", "page", "offset", "cursor", "next_url", "link", NULL
};
static const char *const end_names[] = { "short", "empty", "total", NULL };
static const char *const auth_names[] = {
	"none", "bearer", "header", "basic", "query", NULL
};
static const char *const aggregate_names[] = { "sum", "max", "first", NULL };
static const char *const since_names[] = { "iso", "unix", NULL };
static const char *const method_names[] = { "GET", "POST", NULL };
static const char *const failure_names[] = { "cache", "refuse", NULL };
static const char *const scheme_names[] = { "custom", "github", "standard", "base64", NULL };
static const char *const encoding_names[] = { "hex", "base64", NULL };

const char *conf_format_name(enum feed_format f)
{
	return (unsigned)f < ARRAY_SIZE(format_names) - 1 ? format_names[f] : "?";
}

const char *conf_paging_name(enum page_kind p)
{
	return (unsigned)p < ARRAY_SIZE(paging_names) - 1 ? paging_names[p] : "?";
}

const char *conf_end_name(enum page_end e)
{
	return (unsigned)e < ARRAY_SIZE(end_names) - 1 ? end_names[e] : "?";
}

const char *conf_auth_name(enum auth_kind a)
{
	return (unsigned)a < ARRAY_SIZE(auth_names) - 1 ? auth_names[a] : "?";
}

const char *conf_aggregate_name(enum aggregate_kind a)
{
	return (unsigned)a < ARRAY_SIZE(aggregate_names) - 1 ? aggregate_names[a] : "?";
}

/* ------------------------------------------------------------------ */
/* messages                                                           */

/* Dotted path of a setting below the root: "source.map.sku",
 * "source.map.text_values[2]". */
static void opt_path(const config_setting_t *s, struct buf *b)
{
	const config_setting_t *parent = config_setting_parent(s);

	if (!parent)
		return;
	opt_path(parent, b);
	if (config_setting_name(s)) {
		if (b->len > 0)
			buf_putc(b, '.');
		buf_puts(b, config_setting_name(s));
	} else {
		buf_printf(b, "[%d]", config_setting_index(s));
	}
}

/* The file a setting came from; caller frees.  libconfig records an
 * @include'd file by the name written, which is relative to the include
 * directory: the directory of the file being loaded (cx->file). */
static char *setting_file(const struct cctx *cx, const config_setting_t *s)
{
	const char *f = s ? config_setting_source_file(s) : NULL;
	char *dir, *res;

	if (!f || strcmp(f, cx->file) == 0 || f[0] == '/')
		return xstrdup(f ? f : cx->file);
	dir = path_dirname(cx->file);
	res = strcmp(dir, ".") == 0 ? xstrdup(f) : path_join(dir, f);
	free(dir);
	return res;
}

/* "FILE:LINE: OPTION" for a setting; parts left out when unknown.  When
 * member is not NULL it names a child of s ("source.map: missing 'sku'" is
 * written "source.map.sku"). Caller frees. */
static char *where_str(const struct cctx *cx, const config_setting_t *s, const char *member)
{
	struct buf b = BUF_INIT;
	struct buf path = BUF_INIT;
	unsigned line = s ? config_setting_source_line(s) : 0;
	char *file = setting_file(cx, s);

	buf_puts(&b, file);
	free(file);
	if (line > 0)
		buf_printf(&b, ":%u", line);
	if (s)
		opt_path(s, &path);
	if (member) {
		if (path.len > 0)
			buf_putc(&path, '.');
		buf_puts(&path, member);
	}
	if (path.len > 0)
		buf_printf(&b, ": %s", path.data);
	buf_free(&path);
	return buf_steal(&b);
}

/* Names in err->option the option the error is about: the dotted path of
 * s ("source.map"), followed by member when given ("source.map.sku"). */
static void err_option(struct error *err, const config_setting_t *s, const char *member)
{
	struct buf path = BUF_INIT;

	if (!err)
		return;
	if (s)
		opt_path(s, &path);
	if (member) {
		if (path.len > 0)
			buf_putc(&path, '.');
		buf_puts(&path, member);
	}
	snprintf(err->option, sizeof(err->option), "%s", buf_str(&path));
	buf_free(&path);
}

/* Sets cx->err to "FILE:LINE: OPTION: <message>" and returns -1. */
static int bad(const struct cctx *cx, const config_setting_t *s, const char *fmt, ...)
	PRINTF_LIKE(3, 4);
static int bad(const struct cctx *cx, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;
	char *msg, *where;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	where = where_str(cx, s, NULL);
	err_set(cx->err, ERRK_CONFIG, "%s: %s", where, msg);
	err_option(cx->err, s, NULL);
	free(where);
	free(msg);
	return -1;
}

static const char *type_name(int type)
{
	switch (type) {
	/* TRANSLATORS: the kinds of configuration value, used in "expected %s,
	   got %s" */
	case CONFIG_TYPE_GROUP: return _("a group { ... }");
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: return _("an integer");
	case CONFIG_TYPE_FLOAT: return _("a decimal number");
	case CONFIG_TYPE_STRING: return _("a string");
	case CONFIG_TYPE_BOOL: return _("a boolean (true or false)");
	case CONFIG_TYPE_ARRAY: return _("an array [ ... ]");
	case CONFIG_TYPE_LIST: return _("a list ( ... )");
	}
	/* TRANSLATORS: "expected a string, got nothing" */
	return _("nothing");
}

static int bad_type(const struct cctx *cx, const config_setting_t *s, const char *want)
{
	if (config_setting_type(s) == CONFIG_TYPE_STRING)
		return bad(cx, s, _("expected %s, got a string (\"%s\")"), want,
		           config_setting_get_string(s));
	return bad(cx, s, _("expected %s, got %s"), want, type_name(config_setting_type(s)));
}

/* ------------------------------------------------------------------ */
/* unknown names                                                      */

static size_t levenshtein(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t *row, prev, best;

	if (la > 64 || lb > 64)
		return (size_t)-1;
	row = xcalloc(lb + 1, sizeof(*row));
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t cur = row[j];

			best = prev + (a[i - 1] == b[j - 1] ? 0 : 1);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	best = row[lb];
	free(row);
	return best;
}

static const char *closest(const char *name, const char *const *known)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1, limit;
	int i;

	limit = strlen(name) / 3;
	if (limit < 1)
		limit = 1;
	if (limit > 3)
		limit = 3;
	for (i = 0; known[i]; i++) {
		size_t d = levenshtein(name, known[i]);

		if (d < best_d) {
			best_d = d;
			best = known[i];
		}
	}
	return best_d <= limit ? best : NULL;
}

static bool name_known(const char *name, const char *const *known)
{
	int i;

	for (i = 0; known[i]; i++)
		if (strcmp(name, known[i]) == 0)
			return true;
	return false;
}

/* Every member of group g must be one of known. */
static int check_names(const struct cctx *cx, const config_setting_t *g, const char *const *known)
{
	int i, n = config_setting_length(g);

	for (i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);
		const char *hint;

		if (!name || name_known(name, known))
			continue;
		hint = closest(name, known);
		if (hint)
			return bad(cx, m, _("unknown option '%s' (did you mean '%s'?)"), name, hint);
		return bad(cx, m, _("unknown option '%s'"), name);
	}
	return 0;
}

/* Every member of group g must be in known or in extra (may be NULL). */
static int check_names_extra(const struct cctx *cx, const config_setting_t *g,
                             const char *const *known, const char *const *extra)
{
	const char **all;
	size_t n = 0, i, j;
	int rc;

	if (!extra)
		return check_names(cx, g, known);
	while (known[n])
		n++;
	for (i = 0; extra[i]; i++)
		n++;
	all = xcalloc(n + 1, sizeof(*all));
	for (i = 0, j = 0; known[i]; i++)
		all[j++] = known[i];
	for (i = 0; extra[i]; i++)
		all[j++] = extra[i];
	rc = check_names(cx, g, all);
	free(all);
	return rc;
}

/* ------------------------------------------------------------------ */
/* typed getters: 0 = not given (out untouched), 1 = given, -1 = error */

static int missing(const struct cctx *cx, const config_setting_t *g, const char *name)
{
	char *where = where_str(cx, g, NULL);

	err_set(cx->err, ERRK_CONFIG, _("%s: missing required option '%s'"), where, name);
	err_option(cx->err, g, name);
	free(where);
	return -1;
}

static int get_group(const struct cctx *cx, const config_setting_t *g, const char *name,
                     config_setting_t **out)
{
	config_setting_t *s = config_setting_get_member(g, name);

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return bad_type(cx, s, _("a group { ... }"));
	*out = s;
	return 1;
}

/* An optional group: *out is the group, or NULL when it is absent.
 * Returns 0, or -1 when name is not a group. */
static int opt_group(const struct cctx *cx, const config_setting_t *g, const char *name,
                     config_setting_t **out)
{
	*out = NULL;
	return get_group(cx, g, name, out) < 0 ? -1 : 0;
}

static int get_str(const struct cctx *cx, const config_setting_t *g, const char *name,
                   const char **out)
{
	config_setting_t *s = config_setting_get_member(g, name);

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return bad_type(cx, s, _("a string"));
	*out = config_setting_get_string(s);
	return 1;
}

/* A string that must not be empty, copied into *out (replacing the default). */
static int get_text(const struct cctx *cx, const config_setting_t *g, const char *name,
                    char **out)
{
	const char *v;
	int rc = get_str(cx, g, name, &v);

	if (rc <= 0)
		return rc;
	if (!*v)
		return bad(cx, config_setting_get_member(g, name), _("must not be empty"));
	free(*out);
	*out = xstrdup(v);
	return 1;
}

static int get_i64(const struct cctx *cx, const config_setting_t *g, const char *name,
                   int64_t *out, int64_t min, int64_t max)
{
	config_setting_t *s = config_setting_get_member(g, name);
	long long v;

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64)
		return bad_type(cx, s, _("an integer"));
	v = config_setting_get_int64(s);
	if (v < min || v > max) {
		if (max == INT64_MAX)
			return bad(cx, s, _("must be %lld or more, got %lld"), (long long)min, v);
		return bad(cx, s, _("must be between %lld and %lld, got %lld"),
		           (long long)min, (long long)max, v);
	}
	*out = (int64_t)v;
	return 1;
}

static int get_int(const struct cctx *cx, const config_setting_t *g, const char *name,
                   int *out, int min, int max)
{
	int64_t v;
	int rc = get_i64(cx, g, name, &v, min, max);

	if (rc == 1)
		*out = (int)v;
	return rc;
}

/* The value of a number setting, integer or decimal; false for any other
 * type. */
static bool setting_number(const config_setting_t *s, double *v)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		*v = (double)config_setting_get_int64(s);
		return true;
	case CONFIG_TYPE_FLOAT:
		*v = config_setting_get_float(s);
		return true;
	default:
		return false;
	}
}

/* A number: integers are accepted where decimals are. */
static int get_num(const struct cctx *cx, const config_setting_t *g, const char *name,
                   double *out, double min, double max)
{
	config_setting_t *s = config_setting_get_member(g, name);
	double v;

	if (!s)
		return 0;
	if (!setting_number(s, &v))
		return bad_type(cx, s, _("a number"));
	if (!isfinite(v) || v < min || v > max) {
		if (isinf(max))
			return bad(cx, s, _("must be %g or more, got %g"), min, v);
		return bad(cx, s, _("must be between %g and %g, got %g"), min, max, v);
	}
	*out = v;
	return 1;
}

/* Seconds (integer or decimal) into milliseconds. */
static int get_seconds(const struct cctx *cx, const config_setting_t *g, const char *name,
                       int64_t *out_ms, double min_s, double max_s)
{
	double v;
	int rc = get_num(cx, g, name, &v, min_s, max_s);

	if (rc == 1)
		*out_ms = (int64_t)llround(v * 1000.0);
	return rc;
}

static int get_bool(const struct cctx *cx, const config_setting_t *g, const char *name,
                    bool *out)
{
	config_setting_t *s = config_setting_get_member(g, name);

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return bad_type(cx, s, _("a boolean (true or false)"));
	*out = config_setting_get_bool(s) != 0;
	return 1;
}

static int get_enum(const struct cctx *cx, const config_setting_t *g, const char *name,
                    const char *const *names, int *out)
{
	config_setting_t *s = config_setting_get_member(g, name);
	struct buf list = BUF_INIT;
	const char *v;
	int i;

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return bad_type(cx, s, _("a string"));
	v = config_setting_get_string(s);
	for (i = 0; names[i]; i++) {
		if (strcmp(v, names[i]) == 0) {
			*out = i;
			return 1;
		}
	}
	for (i = 0; names[i]; i++)
		buf_printf(&list, "%s%s", i ? ", " : "", names[i]);
	bad(cx, s, _("expected one of %s, got \"%s\""), list.data, v);
	buf_free(&list);
	return -1;
}

/* ------------------------------------------------------------------ */
/* reading a file                                                     */

static bool is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '*' || c == '@';
}

static bool is_ident_char(char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static int scan_big_ints(const char *path, const char *dir, int depth, struct error *err);

/* libconfig 1.5 silently wraps an integer literal that does not fit in 32
 * bits unless it carries an L suffix: "4294967296" reads as 0.  So before
 * parsing, the text is scanned (strings and comments skipped, @include
 * followed) and such a literal is refused with the fix. */
static int scan_text_big_ints(const char *path, const char *text, const char *dir, int depth,
                              struct error *err)
{
	const char *p = text, *name = NULL;
	size_t name_len = 0;
	bool after_include = false;
	int line = 1;

	while (*p) {
		if (*p == '\n') {
			line++;
			p++;
		} else if (*p == '"') {
			const char *start = ++p;

			while (*p && *p != '"') {
				if (*p == '\\' && p[1])
					p++;
				if (*p == '\n')
					line++;
				p++;
			}
			if (after_include && *p == '"') {
				char *inc = xstrndup(start, (size_t)(p - start));
				char *inc_path = path_join(dir, inc);
				int rc = scan_big_ints(inc_path, dir, depth + 1, err);

				free(inc_path);
				free(inc);
				if (rc < 0)
					return -1;
			}
			after_include = false;
			if (*p)
				p++;
		} else if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
			while (*p && *p != '\n')
				p++;
		} else if (p[0] == '/' && p[1] == '*') {
			p += 2;
			while (*p && !(p[0] == '*' && p[1] == '/')) {
				if (*p == '\n')
					line++;
				p++;
			}
			if (*p)
				p += 2;
		} else if (is_ident_start(*p)) {
			const char *start = p;

			while (is_ident_char(*p))
				p++;
			after_include = (size_t)(p - start) == 8 && memcmp(start, "@include", 8) == 0;
			if (!after_include) {
				name = start;
				name_len = (size_t)(p - start);
			}
		} else if ((*p >= '0' && *p <= '9')
		           || ((*p == '-' || *p == '+') && p[1] >= '0' && p[1] <= '9')) {
			const char *start = p;
			bool is_float = false, hex = false;
			size_t len;
			long long v;
			char *tok;

			if (*p == '-' || *p == '+')
				p++;
			if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
				hex = true;
				p += 2;
			}
			while ((*p >= '0' && *p <= '9') || (hex && strchr("abcdefABCDEF", *p) && *p)
			       || (!hex && (*p == '.' || *p == 'e' || *p == 'E'
			                    || ((*p == '-' || *p == '+') && (p[-1] == 'e' || p[-1] == 'E'))))) {
				if (!hex && (*p == '.' || *p == 'e' || *p == 'E'))
					is_float = true;
				p++;
			}
			len = (size_t)(p - start);
			if (*p == 'L') {
				while (*p == 'L')
					p++;
				continue;
			}
			if (is_float)
				continue;
			tok = xstrndup(start, len);
			errno = 0;
			v = strtoll(tok, NULL, 0);
			if (errno == ERANGE || v < INT_MIN || v > INT_MAX) {
				if (name)
					err_set(err, ERRK_CONFIG, _("%s:%d: %.*s: the integer %s is too large "
					                            "for this syntax unless written %sL"),
					        path, line, (int)name_len, name, tok, tok);
				else
					err_set(err, ERRK_CONFIG, _("%s:%d: the integer %s is too large for "
					                            "this syntax unless written %sL"),
					        path, line, tok, tok);
				free(tok);
				return -1;
			}
			free(tok);
		} else {
			p++;
		}
	}
	return 0;
}

static int scan_big_ints(const char *path, const char *dir, int depth, struct error *err)
{
	char *text;
	int rc;

	if (depth > 10)
		return 0;     /* libconfig reports runaway includes itself */
	text = file_read_all(path, NULL, NULL);
	if (!text)
		return 0;     /* libconfig reports the missing include */
	rc = scan_text_big_ints(path, text, dir, depth, err);
	free(text);
	return rc;
}

/* Reads path into cfg.  Includes (@include) are relative to the file's
 * directory. */
static int read_cfg(config_t *cfg, const char *path, struct error *err)
{
	struct stat st;
	char *dir = NULL, *text = NULL;
	size_t len;
	int rc = -1;

	if (stat(path, &st) < 0) {
		err_set(err, ERRK_CONFIG, _("%s: cannot open: %s"), path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(err, ERRK_CONFIG, _("%s: not a regular file"), path);
		goto out;
	}
	text = file_read_all(path, &len, err);
	if (!text)
		goto out;
	if (strlen(text) != len) {
		err_set(err, ERRK_CONFIG, _("%s: contains a NUL byte: not a text file"), path);
		goto out;
	}
	dir = path_dirname(path);
	if (scan_text_big_ints(path, text, dir, 0, err) < 0)
		goto out;
	config_set_include_dir(cfg, dir);
	config_set_auto_convert(cfg, 0);
	if (config_read_string(cfg, text) != CONFIG_TRUE) {
		const char *f = config_error_file(cfg);
		char *shown;

		/* an included file is named as written, relative to dir */
		if (!f)
			shown = xstrdup(path);
		else if (f[0] == '/' || strcmp(dir, ".") == 0)
			shown = xstrdup(f);
		else
			shown = path_join(dir, f);
		if (config_error_line(cfg) > 0)
			err_set(err, ERRK_CONFIG, _("%s:%d: %s"), shown, config_error_line(cfg),
			        config_error_text(cfg));
		else
			err_set(err, ERRK_CONFIG, _("%s: %s"), shown, config_error_text(cfg));
		free(shown);
		goto out;
	}
	rc = 0;
out:
	free(text);
	free(dir);
	return rc;
}

/* Directory of path, made absolute against the working directory so that
 * the paths derived from it survive a later chdir. Caller frees. */
static char *abs_dirname(const char *path)
{
	char *d = path_dirname(path), *cwd, *res;
	const char *rel = d;

	if (d[0] == '/')
		return d;
	cwd = getcwd(NULL, 0);
	if (!cwd)
		return d;     /* keep it relative: better than nothing */
	while (rel[0] == '.' && rel[1] == '/')
		rel += 2;
	if (strcmp(rel, ".") == 0 || !*rel)
		res = xstrdup(cwd);
	else
		res = path_join(cwd, rel);
	free(cwd);
	free(d);
	return res;
}

/* "~/x" -> $HOME/x, relative -> below base_dir, absolute as is. */
static char *expand_path(const char *base_dir, const char *p)
{
	const char *home = getenv("HOME");

	if (p[0] == '~' && p[1] == '/' && !str_empty(home))
		return path_join(home, p + 2);
	return path_join(base_dir, p);
}

/* ------------------------------------------------------------------ */
/* suppliers                                                          */

static bool slug_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n < 1 || n > 64)
		return false;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (i = 1; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* basename without ".conf". Caller frees. */
static char *file_stem(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base ? base + 1 : path;
	n = strlen(base);
	if (n > 5 && strcmp(base + n - 5, ".conf") == 0)
		n -= 5;
	return xstrndup(base, n);
}

static bool url_scheme_ok(const char *url, char *scheme, size_t scheme_size)
{
	static const char *const schemes[] = { "http", "https", "ftp", "ftps", "sftp", "file", NULL };
	const char *sep = strstr(url, "://");
	size_t n, i;

	scheme[0] = '\0';
	if (!sep)
		return false;
	n = (size_t)(sep - url);
	if (n == 0 || n >= scheme_size)
		return false;
	for (i = 0; i < n; i++)
		scheme[i] = (char)((url[i] >= 'A' && url[i] <= 'Z') ? url[i] - 'A' + 'a' : url[i]);
	scheme[n] = '\0';
	return name_known(scheme, schemes);
}

static bool http_token(const char *s)
{
	const char *p;

	if (!*s)
		return false;
	for (p = s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))
			continue;
		if (!strchr("!#$%&'*+-.^_`|~", *p))
			return false;
	}
	return true;
}

static bool has_ctl(const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return true;
	return false;
}

/* A URL query parameter name: plain characters only. */
static int check_param(const struct cctx *cx, const config_setting_t *g, const char *name)
{
	config_setting_t *s = config_setting_get_member(g, name);
	const char *v;

	if (!s)
		return 0;
	v = config_setting_get_string(s);
	if (has_ctl(v) || strpbrk(v, "&=#? "))
		return bad(cx, s, _("\"%s\" is not a usable query parameter name"), v);
	return 0;
}

static int parse_text_values(const struct cctx *cx, config_setting_t *list, struct mapping *m)
{
	int i, j, n;

	if (config_setting_type(list) != CONFIG_TYPE_LIST)
		return bad(cx, list, _("expected a list of (\"text\", number) pairs, "
		                       "like ( (\"in stock\", 5), (\"out of stock\", 0) ), got %s"),
		           type_name(config_setting_type(list)));
	n = config_setting_length(list);
	m->text_values = xcalloc(n > 0 ? (size_t)n : 1, sizeof(*m->text_values));
	for (i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
		config_setting_t *t, *v;
		char *text;

		if ((config_setting_type(e) != CONFIG_TYPE_LIST && config_setting_type(e) != CONFIG_TYPE_ARRAY)
		    || config_setting_length(e) != 2)
			return bad(cx, e, _("expected a (\"text\", number) pair, got %s"),
			           type_name(config_setting_type(e)));
		t = config_setting_get_elem(e, 0);
		v = config_setting_get_elem(e, 1);
		if (config_setting_type(t) != CONFIG_TYPE_STRING)
			return bad_type(cx, t, _("a string (the stock text)"));
		if (config_setting_type(v) != CONFIG_TYPE_INT && config_setting_type(v) != CONFIG_TYPE_INT64)
			return bad_type(cx, v, _("an integer (the stock it stands for)"));
		{
			char *raw = xstrdup(config_setting_get_string(t));

			text = xstrdup(str_trim(raw));
			free(raw);
		}
		if (!*text) {
			free(text);
			return bad(cx, t, _("the stock text must not be empty"));
		}
		if (config_setting_get_int64(v) < 0) {
			free(text);
			return bad(cx, v, _("stock must not be negative, got %lld"),
			           config_setting_get_int64(v));
		}
		for (j = 0; j < m->n_text_values; j++) {
			if (str_caseeq(m->text_values[j].text, text)) {
				free(text);
				return bad(cx, e, _("\"%s\" is listed twice"), m->text_values[j].text);
			}
		}
		m->text_values[m->n_text_values].text = text;
		m->text_values[m->n_text_values].value = config_setting_get_int64(v);
		m->n_text_values++;
	}
	return 0;
}

static int one_char(const struct cctx *cx, const config_setting_t *g, const char *name, char *out)
{
	const char *v;
	int rc = get_str(cx, g, name, &v);

	if (rc <= 0)
		return rc;
	if (strlen(v) != 1)
		return bad(cx, config_setting_get_member(g, name),
		           _("expected exactly one character, got \"%s\""), v);
	if (v[0] == '\n' || v[0] == '\r')
		return bad(cx, config_setting_get_member(g, name), _("a line break cannot be used here"));
	*out = v[0];
	return 1;
}

static bool csv_column_number(const char *v)
{
	int64_t n;

	return str_to_i64(v, &n) && n >= 1 && n <= 100000;
}

/* ---- mappings and sources: defaults, copies, freeing ---- */

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void map_defaults(struct mapping *m)
{
	memset(m, 0, sizeof(*m));
	m->delimiter = ',';
	m->quote = '"';
	m->header = true;
	m->encoding = xstrdup("UTF-8");
}

/* to must own nothing yet (also used by the editor through conf.h). */
void conf_map_copy(struct mapping *to, const struct mapping *from)
{
	int i;

	*to = *from;
	to->items = xstrdup(from->items);
	to->sku = xstrdup(from->sku);
	to->stock = xstrdup(from->stock);
	to->updated_at = xstrdup(from->updated_at);
	to->available = xstrdup(from->available);
	to->success = xstrdup(from->success);
	to->message = xstrdup(from->message);
	to->total = xstrdup(from->total);
	to->next = xstrdup(from->next);
	to->encoding = xstrdup(from->encoding);
	to->text_values = xcalloc(from->n_text_values > 0 ? (size_t)from->n_text_values : 1,
	                          sizeof(*to->text_values));
	for (i = 0; i < from->n_text_values; i++) {
		to->text_values[i].text = xstrdup(from->text_values[i].text);
		to->text_values[i].value = from->text_values[i].value;
	}
}

void conf_map_clear(struct mapping *m)
{
	int i;

	free(m->items);
	free(m->sku);
	free(m->stock);
	free(m->updated_at);
	free(m->available);
	free(m->success);
	free(m->message);
	free(m->total);
	free(m->next);
	free(m->encoding);
	for (i = 0; i < m->n_text_values; i++)
		free(m->text_values[i].text);
	free(m->text_values);
	memset(m, 0, sizeof(*m));
}

static void source_free(struct source_conf *src)
{
	free(src->url);
	free(src->page_param);
	free(src->size_param);
	free(src->offset_param);
	free(src->cursor_param);
	free(src->ssh_known_hosts);
	free(src->ssh_host_key_sha256);
	conf_map_clear(&src->map);
	memset(src, 0, sizeof(*src));
}

/* A delta source starts from the full source's format and paging
 * settings and its SSH host key settings; url and map are its own (map
 * copied later if not given). */
static void source_inherit(struct source_conf *to, const struct source_conf *from)
{
	memset(to, 0, sizeof(*to));
	to->format = from->format;
	to->paging = from->paging;
	to->page_size = from->page_size;
	to->first_page = from->first_page;
	to->page_param = dup_or_null(from->page_param);
	to->size_param = dup_or_null(from->size_param);
	to->offset_param = dup_or_null(from->offset_param);
	to->cursor_param = dup_or_null(from->cursor_param);
	to->end = from->end;
	to->ssh_known_hosts = dup_or_null(from->ssh_known_hosts);
	to->ssh_host_key_sha256 = dup_or_null(from->ssh_host_key_sha256);
}

/* What a mapping is used for: which options make sense. */
enum map_use { MAP_SOURCE = 0, MAP_CHECK, MAP_WEBHOOK };

/* Fills m (which holds map_defaults()) from the group g. */
static int parse_map(const struct cctx *cx, config_setting_t *g, struct mapping *m,
                     enum feed_format format, enum map_use use)
{
	static const char *const known[] = {
		"items", "sku", "stock", "updated_at", "available", "success", "message",
		"total", "next", "delimiter", "quote", "header", "encoding", "text_values", NULL
	};
	static const char *const csv_only[] = { "delimiter", "quote", "header", "encoding", NULL };
	static const char *const paged_only[] = { "total", "next", NULL };
	config_setting_t *s;
	const char *v;
	int i;

	if (check_names(cx, g, known) < 0)
		return -1;
	if (use != MAP_SOURCE) {
		for (i = 0; paged_only[i]; i++) {
			s = config_setting_get_member(g, paged_only[i]);
			if (s)
				return bad(cx, s, use == MAP_CHECK
				                  ? _("not used here: a check answer has no further pages")
				                  : _("not used here: a webhook delivery has no further "
				                      "pages"));
		}
	}
	/* items may be "" (the document root is the list) */
	if (get_str(cx, g, "items", &v) < 0)
		return -1;
	if (config_setting_get_member(g, "items"))
		m->items = xstrdup(v);
	if (get_text(cx, g, "sku", &m->sku) < 0 || get_text(cx, g, "stock", &m->stock) < 0
	    || get_text(cx, g, "updated_at", &m->updated_at) < 0
	    || get_text(cx, g, "available", &m->available) < 0
	    || get_text(cx, g, "success", &m->success) < 0
	    || get_text(cx, g, "message", &m->message) < 0
	    || get_text(cx, g, "total", &m->total) < 0
	    || get_text(cx, g, "next", &m->next) < 0)
		return -1;
	if (!m->sku)
		return missing(cx, g, "sku");
	if (!m->stock)
		return missing(cx, g, "stock");
	if (one_char(cx, g, "delimiter", &m->delimiter) < 0
	    || one_char(cx, g, "quote", &m->quote) < 0
	    || get_bool(cx, g, "header", &m->header) < 0
	    || get_text(cx, g, "encoding", &m->encoding) < 0)
		return -1;
	if (m->delimiter == m->quote)
		return bad(cx, config_setting_get_member(g, "quote") ? config_setting_get_member(g, "quote")
		                                                      : config_setting_get_member(g, "delimiter"),
		           _("delimiter and quote must differ"));
	if (format != FORMAT_CSV) {
		for (i = 0; csv_only[i]; i++) {
			s = config_setting_get_member(g, csv_only[i]);
			if (!s)
				continue;
			if (use == MAP_WEBHOOK)
				return bad(cx, s, _("only used with CSV, and webhook deliveries are JSON"));
			return bad(cx, s, _("only used with format = \"csv\", this source is \"%s\""),
			           conf_format_name(format));
		}
	} else {
		iconv_t cd;

		s = config_setting_get_member(g, "encoding");
		cd = iconv_open("UTF-8", m->encoding);
		if (cd == (iconv_t)-1)
			return bad(cx, s ? s : g, _("unknown character encoding \"%s\""), m->encoding);
		iconv_close(cd);
		if (!m->header) {
			static const char *const cols[] = { "sku", "stock", "updated_at", "available", NULL };

			for (i = 0; cols[i]; i++) {
				s = config_setting_get_member(g, cols[i]);
				if (s && !csv_column_number(config_setting_get_string(s)))
					return bad(cx, s, _("with header = false this must be a column "
					                    "number (\"1\" is the first), got \"%s\""),
					           config_setting_get_string(s));
			}
		}
	}
	s = config_setting_get_member(g, "text_values");
	if (s && parse_text_values(cx, s, m) < 0)
		return -1;
	return 0;
}

/* The map group of a delta, check or webhook group, or a copy of the
 * source's map when the group has none.  what names the group's use for
 * the message when a copy cannot be right. */
static int parse_map_or_copy(const struct cctx *cx, config_setting_t *g, struct mapping *m,
                             enum feed_format format, enum map_use use,
                             const struct source_conf *src)
{
	config_setting_t *map = NULL;

	switch (get_group(cx, g, "map", &map)) {
	case -1:
		return -1;
	case 0:
		if (format != src->format) {
			if (use == MAP_WEBHOOK)
				return bad(cx, g, _("needs its own map: webhook deliveries are JSON, "
				                    "so the map of the %s source cannot be used"),
				           conf_format_name(src->format));
			return bad(cx, g, _("needs its own map: its format is %s, so the map of "
			                    "the %s source cannot be used"),
			           conf_format_name(format), conf_format_name(src->format));
		}
		conf_map_copy(m, &src->map);
		return 0;
	}
	map_defaults(m);
	return parse_map(cx, map, m, format, use);
}

/* A URL of a source, delta or check: no blanks, a supported scheme.  The
 * lower-cased scheme is left in scheme. */
static int check_url(const struct cctx *cx, const config_setting_t *s, const char *url,
                     char *scheme, size_t scheme_size)
{
	if (has_ctl(url) || strchr(url, ' '))
		return bad(cx, s, _("the URL contains a space or a control character; "
		                    "write spaces as %%20"));
	if (!url_scheme_ok(url, scheme, scheme_size)) {
		if (!scheme[0])
			return bad(cx, s, _("\"%s\" is not a URL: expected scheme://..., "
			                    "e.g. https://example.com/stock.json or file:///srv/feed.csv"),
			           url);
		return bad(cx, s, _("URL scheme \"%s\" is not supported; use http, https, ftp, "
		                    "ftps, sftp or file"), scheme);
	}
	return 0;
}

/* The server's SHA-256 host key fingerprint as `ssh-keygen -lf` prints it
 * ("SHA256:" and the base64 of 32 bytes, '=' padding optional), or without
 * the prefix: the 43 base64 characters libcurl compares, or NULL when v is
 * no such fingerprint.  Caller frees. */
static char *ssh_fingerprint(const char *v)
{
	unsigned char *bytes;
	size_t n, len = 0;
	char *fp;

	if (strncasecmp(v, "SHA256:", 7) == 0)
		v += 7;
	n = strlen(v);
	if (n == 44 && v[43] == '=')
		n = 43;
	if (n != 43)
		return NULL;
	fp = xstrndup(v, n);
	bytes = base64_decode(fp, &len);
	if (!bytes || len != 32) {
		free(bytes);
		free(fp);
		return NULL;
	}
	free(bytes);
	return fp;
}

/* ssh_known_hosts and ssh_host_key_sha256 of a source or delta group whose
 * URL has the (lower-case) scheme.  A delta group that gives either of them
 * takes neither from the source. */
static int parse_ssh(const struct cctx *cx, config_setting_t *g, struct source_conf *src,
                     const char *scheme)
{
	static const char *const names[] = { "ssh_known_hosts", "ssh_host_key_sha256" };
	config_setting_t *kh = config_setting_get_member(g, "ssh_known_hosts");
	config_setting_t *fp = config_setting_get_member(g, "ssh_host_key_sha256");
	char *path = NULL, *key = NULL;
	size_t i;

	if (!kh && !fp)
		return 0;
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		config_setting_t *s = config_setting_get_member(g, names[i]);

		if (s && strcmp(scheme, "sftp") != 0)
			return bad(cx, s, _("only used with sftp:// URLs (this URL is %s)"), scheme);
	}
	if (get_text(cx, g, "ssh_known_hosts", &path) < 0)
		return -1;
	if (path && has_ctl(path)) {
		free(path);
		return bad(cx, kh, _("contains a control character"));
	}
	if (path) {
		char *file = setting_file(cx, kh), *dir = abs_dirname(file);

		free(src->ssh_known_hosts);
		src->ssh_known_hosts = expand_path(dir, path);
		free(dir);
		free(file);
		free(path);
	} else {
		free(src->ssh_known_hosts);
		src->ssh_known_hosts = NULL;
	}
	if (get_text(cx, g, "ssh_host_key_sha256", &key) < 0)
		return -1;
	if (key) {
		char *norm = ssh_fingerprint(key);

		if (!norm) {
			if (strncasecmp(key, "MD5:", 4) == 0)
				bad(cx, fp, _("\"%s\" is an MD5 fingerprint; give the SHA-256 one, "
				              "which `ssh-keygen -lf` prints by default (\"SHA256:\" and 43 "
				              "base64 characters)"), key);
			else
				bad(cx, fp, _("expected the SHA-256 fingerprint of the server's host key "
				              "as `ssh-keygen -lf` prints it (\"SHA256:\" and 43 base64 "
				              "characters, the prefix optional), got \"%s\""), key);
			free(key);
			return -1;
		}
		free(key);
		key = norm;
	}
	free(src->ssh_host_key_sha256);
	src->ssh_host_key_sha256 = key;
	return 0;
}

/* The source group, or (base not NULL) a delta group: the same options,
 * with format, paging and the paging settings taken from base when not
 * given, and base's map copied when the group has none; extra names the
 * group's own further options (checked by the caller).  src holds the
 * defaults (or source_inherit()'s copy of base) on entry. */
static int parse_source(const struct cctx *cx, config_setting_t *g, struct source_conf *src,
                        const struct source_conf *base, const char *const *extra)
{
	static const char *const known[] = {
		"url", "format", "paging", "page_size", "first_page", "page_param", "size_param",
		"offset_param", "cursor_param", "end", "map", "ssh_known_hosts",
		"ssh_host_key_sha256", NULL
	};
	config_setting_t *map = NULL, *s;
	const char *from_source;
	char scheme[16];
	int v;

	src->line = (int)config_setting_source_line(g);
	if (check_names_extra(cx, g, known, extra) < 0)
		return -1;
	if (get_text(cx, g, "url", &src->url) < 0)
		return -1;
	if (!src->url)
		return missing(cx, g, "url");
	if (check_url(cx, config_setting_get_member(g, "url"), src->url, scheme, sizeof(scheme)) < 0)
		return -1;
	switch (get_enum(cx, g, "format", format_names, &v)) {
	case -1: return -1;
	case 0:
		if (!base)
			return missing(cx, g, "format");
		break;
	default: src->format = (enum feed_format)v;
	}
	if (get_enum(cx, g, "paging", paging_names, &v) < 0)
		return -1;
	if (config_setting_get_member(g, "paging"))
		src->paging = (enum page_kind)v;
	if (get_enum(cx, g, "end", end_names, &v) < 0)
		return -1;
	if (config_setting_get_member(g, "end"))
		src->end = (enum page_end)v;
	if (get_i64(cx, g, "page_size", &src->page_size, 1, 100000) < 0
	    || get_i64(cx, g, "first_page", &src->first_page, 0, INT32_MAX) < 0
	    || get_text(cx, g, "page_param", &src->page_param) < 0
	    || get_text(cx, g, "size_param", &src->size_param) < 0
	    || get_text(cx, g, "offset_param", &src->offset_param) < 0
	    || get_text(cx, g, "cursor_param", &src->cursor_param) < 0
	    || check_param(cx, g, "page_param") < 0 || check_param(cx, g, "size_param") < 0
	    || check_param(cx, g, "offset_param") < 0 || check_param(cx, g, "cursor_param") < 0)
		return -1;
	if (parse_ssh(cx, g, src, scheme) < 0)
		return -1;

	if (base) {
		if (parse_map_or_copy(cx, g, &src->map, src->format, MAP_SOURCE, base) < 0)
			return -1;
		map = config_setting_get_member(g, "map");
	} else {
		switch (get_group(cx, g, "map", &map)) {
		case -1: return -1;
		case 0: return missing(cx, g, "map");
		}
		map_defaults(&src->map);
		if (parse_map(cx, map, &src->map, src->format, MAP_SOURCE) < 0)
			return -1;
	}

	/* what one setting needs from another; a setting taken over from the
	 * source is named as such, and the message placed at the map */
	s = config_setting_get_member(g, "paging");
	/* TRANSLATORS: glued after 'paging = "cursor"' or 'end = "total"' in the
	   next messages: the delta group took the setting from the source group */
	from_source = !s && base ? _(" (taken from source)") : "";
	if (!s)
		s = map ? map : g;
	if ((src->paging == PAGE_CURSOR || src->paging == PAGE_NEXT_URL) && !src->map.next)
		/* TRANSLATORS: the second %s is " (taken from source)" or nothing,
		   the third "next cursor" or "next page URL" */
		return bad(cx, s, _("paging = \"%s\"%s needs map.next (where the %s is in the response)"),
		           conf_paging_name(src->paging), from_source,
		           src->paging == PAGE_CURSOR ? _("next cursor") : _("next page URL"));
	if ((src->paging == PAGE_CURSOR || src->paging == PAGE_NEXT_URL) && src->format == FORMAT_CSV)
		return bad(cx, s, _("paging = \"%s\"%s reads the response body, which a CSV "
		                    "feed cannot carry; use \"page\", \"offset\" or \"link\""),
		           conf_paging_name(src->paging), from_source);
	s = config_setting_get_member(g, "end");
	from_source = !s && base ? _(" (taken from source)") : "";
	if (!s)
		s = map ? map : g;
	if (src->end == END_TOTAL && !src->map.total)
		return bad(cx, s, _("end = \"total\"%s needs map.total (where the item count is "
		                    "in the response)"), from_source);
	if (src->end == END_TOTAL && src->format == FORMAT_CSV)
		return bad(cx, s, _("end = \"total\"%s reads the response body, which a CSV feed "
		                    "cannot carry; use \"short\" or \"empty\""), from_source);
	return 0;
}

static int parse_secret(const struct cctx *cx, config_setting_t *g, const char *base,
                        struct secret *sec)
{
	static const char *const suffix[] = { "", "_env", "_cmd" };
	static const enum secret_origin origin[] = { SECRET_INLINE, SECRET_ENV, SECRET_CMD };
	config_setting_t *given = NULL;
	char name[32];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(suffix); i++) {
		config_setting_t *s;
		const char *v;

		snprintf(name, sizeof(name), "%s%s", base, suffix[i]);
		s = config_setting_get_member(g, name);
		if (!s)
			continue;
		if (given)
			return bad(cx, s, _("give only one of %s, %s_env and %s_cmd (%s is set too)"),
			           base, base, base, config_setting_name(given));
		if (get_str(cx, g, name, &v) < 0)
			return -1;
		if (!*v)
			return bad(cx, s, _("must not be empty"));
		given = s;
		sec->origin = origin[i];
		sec->spec = xstrdup(v);
	}
	return given ? 1 : 0;
}

/* Resolves one secret given by the setting s; an inline one first passes
 * the file-permission rule (alt names the safer options). */
static int resolve_one(const struct cctx *cx, const config_setting_t *s, struct secret *sec,
                       const char *alt)
{
	char *where;
	int rc;

	if (sec->origin == SECRET_NONE)
		return 0;
	where = where_str(cx, s, NULL);
	if (sec->origin == SECRET_INLINE) {
		char *file = setting_file(cx, s);

		rc = conf_secret_check_file(file, where, alt, cx->err);
		free(file);
		if (rc < 0) {
			err_option(cx->err, s, NULL);
			free(where);
			return -1;
		}
	}
	rc = conf_secret_resolve(sec, where, cx->err);
	if (rc < 0)
		err_option(cx->err, s, NULL);
	free(where);
	return rc;
}

static int resolve_secret(const struct cctx *cx, config_setting_t *g, const char *base,
                          struct secret *sec)
{
	static const char *const suffix[] = { "", "_env", "_cmd" };
	char name[32], alt[64];

	if (sec->origin == SECRET_NONE)
		return 0;
	snprintf(name, sizeof(name), "%s%s", base, suffix[sec->origin - SECRET_INLINE]);
	snprintf(alt, sizeof(alt), "%s_env / %s_cmd", base, base);
	return resolve_one(cx, config_setting_get_member(g, name), sec, alt);
}

static int parse_auth(const struct cctx *cx, config_setting_t *g, struct auth_conf *a)
{
	static const char *const known[] = {
		"type", "header", "param", "username", "token", "token_env", "token_cmd",
		"password", "password_env", "password_cmd", NULL
	};
	config_setting_t *s;
	int v, has_token, has_password;

	if (check_names(cx, g, known) < 0)
		return -1;
	switch (get_enum(cx, g, "type", auth_names, &v)) {
	case -1: return -1;
	case 0: return missing(cx, g, "type");
	default: a->kind = (enum auth_kind)v;
	}
	if (get_text(cx, g, "header", &a->header) < 0 || get_text(cx, g, "param", &a->param) < 0
	    || get_text(cx, g, "username", &a->username) < 0)
		return -1;
	if ((has_token = parse_secret(cx, g, "token", &a->token)) < 0)
		return -1;
	if ((has_password = parse_secret(cx, g, "password", &a->password)) < 0)
		return -1;

	s = config_setting_get_member(g, "type");
	switch (a->kind) {
	case AUTH_NONE:
		break;
	case AUTH_BEARER:
		if (!has_token)
			return bad(cx, s, _("type = \"bearer\" needs token, token_env or token_cmd"));
		break;
	case AUTH_HEADER:
		if (!a->header)
			return bad(cx, s, _("type = \"header\" needs header (the header name, "
			                    "e.g. \"X-Api-Key\")"));
		if (!has_token)
			return bad(cx, s, _("type = \"header\" needs token, token_env or token_cmd"));
		if (!http_token(a->header))
			return bad(cx, config_setting_get_member(g, "header"),
			           _("\"%s\" is not a valid HTTP header name"), a->header);
		break;
	case AUTH_QUERY:
		if (!a->param)
			return bad(cx, s, _("type = \"query\" needs param (the query parameter "
			                    "name, e.g. \"api_key\")"));
		if (!has_token)
			return bad(cx, s, _("type = \"query\" needs token, token_env or token_cmd"));
		if (check_param(cx, g, "param") < 0)
			return -1;
		break;
	case AUTH_BASIC:
		if (!a->username)
			return bad(cx, s, _("type = \"basic\" needs username"));
		if (!has_password)
			return bad(cx, s, _("type = \"basic\" needs password, password_env or "
			                    "password_cmd"));
		if (strchr(a->username, ':') || has_ctl(a->username))
			return bad(cx, config_setting_get_member(g, "username"),
			           _("a basic-auth user name cannot contain ':' or control characters"));
		break;
	}
	/* settings the chosen type does not use are mistakes, not leftovers */
	{
		static const struct { const char *name; unsigned kinds; } use[] = {
			{ "header", 1u << AUTH_HEADER },
			{ "param", 1u << AUTH_QUERY },
			{ "username", 1u << AUTH_BASIC },
			{ "token", (1u << AUTH_BEARER) | (1u << AUTH_HEADER) | (1u << AUTH_QUERY) },
			{ "token_env", (1u << AUTH_BEARER) | (1u << AUTH_HEADER) | (1u << AUTH_QUERY) },
			{ "token_cmd", (1u << AUTH_BEARER) | (1u << AUTH_HEADER) | (1u << AUTH_QUERY) },
			{ "password", 1u << AUTH_BASIC },
			{ "password_env", 1u << AUTH_BASIC },
			{ "password_cmd", 1u << AUTH_BASIC },
		};
		size_t i;

		for (i = 0; i < ARRAY_SIZE(use); i++) {
			s = config_setting_get_member(g, use[i].name);
			if (s && !(use[i].kinds & (1u << a->kind)))
				return bad(cx, s, _("not used with type = \"%s\""), conf_auth_name(a->kind));
		}
	}
	if (a->kind != AUTH_NONE
	    && (resolve_secret(cx, g, "token", &a->token) < 0
	        || resolve_secret(cx, g, "password", &a->password) < 0))
		return -1;
	return 0;
}

static int parse_rules(const struct cctx *cx, config_setting_t *g, struct rules_conf *r)
{
	static const char *const known[] = {
		"safety_buffer", "cap", "multiplier", "pack_size", "zero_missing",
		"zero_missing_max_pct", NULL
	};

	if (check_names(cx, g, known) < 0)
		return -1;
	if (get_i64(cx, g, "safety_buffer", &r->safety_buffer, 0, INT64_MAX) < 0
	    || get_i64(cx, g, "cap", &r->cap, 0, INT64_MAX) < 0
	    || get_num(cx, g, "multiplier", &r->multiplier, 0.0, INFINITY) < 0
	    || get_i64(cx, g, "pack_size", &r->pack_size, 1, INT64_MAX) < 0
	    || get_bool(cx, g, "zero_missing", &r->zero_missing) < 0
	    || get_num(cx, g, "zero_missing_max_pct", &r->zero_missing_max_pct, 0.0, 100.0) < 0)
		return -1;
	if (r->multiplier <= 0.0)
		return bad(cx, config_setting_get_member(g, "multiplier"),
		           _("must be more than 0, got %g"), r->multiplier);
	return 0;
}

/* ---- delta, check and webhook groups ---- */

static int parse_delta(const struct cctx *cx, config_setting_t *g, const struct source_conf *base,
                       struct delta_conf *d)
{
	static const char *const extra[] = { "since_param", "since_format", "overlap", NULL };
	int v;

	source_inherit(&d->source, base);
	d->since_param = xstrdup("updated_since");
	d->since_format = SINCE_ISO;
	d->overlap_ms = 120000;
	if (parse_source(cx, g, &d->source, base, extra) < 0)
		return -1;
	if (get_text(cx, g, "since_param", &d->since_param) < 0
	    || check_param(cx, g, "since_param") < 0
	    || get_enum(cx, g, "since_format", since_names, &v) < 0)
		return -1;
	if (config_setting_get_member(g, "since_format"))
		d->since_format = (enum since_format)v;
	if (get_seconds(cx, g, "overlap", &d->overlap_ms, 0, 604800) < 0)
		return -1;
	return 0;
}

static int parse_check(const struct cctx *cx, config_setting_t *g, const struct source_conf *src,
                       struct check_conf *k)
{
	static const char *const known[] = {
		"url", "method", "body", "content_type", "format", "map", "timeout", "on_failure", NULL
	};
	config_setting_t *s;
	char scheme[16];
	bool post;
	int v;

	k->line = (int)config_setting_source_line(g);
	k->method = xstrdup("GET");
	k->content_type = xstrdup("application/json");
	k->format = FORMAT_JSON;
	k->timeout_ms = 2000;
	k->on_failure = CHECK_FALLBACK_CACHE;
	if (check_names(cx, g, known) < 0)
		return -1;
	if (get_text(cx, g, "url", &k->url) < 0)
		return -1;
	if (!k->url)
		return missing(cx, g, "url");
	s = config_setting_get_member(g, "url");
	if (check_url(cx, s, k->url, scheme, sizeof(scheme)) < 0)
		return -1;
	if (get_enum(cx, g, "method", method_names, &v) < 0)
		return -1;
	if (config_setting_get_member(g, "method")) {
		free(k->method);
		k->method = xstrdup(method_names[v]);
	}
	post = strcmp(k->method, "POST") == 0;
	if (get_text(cx, g, "body", &k->body) < 0 || get_text(cx, g, "content_type", &k->content_type) < 0)
		return -1;
	if (!post) {
		static const char *const post_only[] = { "body", "content_type", NULL };
		int i;

		for (i = 0; post_only[i]; i++) {
			config_setting_t *p = config_setting_get_member(g, post_only[i]);

			if (p)
				return bad(cx, p, _("only used with method = \"POST\""));
		}
	}
	if (has_ctl(k->content_type))
		return bad(cx, config_setting_get_member(g, "content_type"),
		           _("contains a control character"));
	if (post && strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
		return bad(cx, s, _("method = \"POST\" needs an http or https URL, got \"%s\""), scheme);
	if (!strstr(k->url, "{sku}")
	    && !(post && k->body && (strstr(k->body, "{sku}") || strstr(k->body, "{skus}"))))
		return bad(cx, s, post ? _("the SKU asked about goes nowhere: put {sku} in the URL, "
		                           "or {sku} or {skus} in body")
		                       : _("the URL has no {sku} placeholder for the SKU asked about, "
		                           "e.g. \"https://api.example.com/stock/{sku}\" (or use "
		                           "method = \"POST\" with {sku} or {skus} in body)"));
	if (get_enum(cx, g, "format", format_names, &v) < 0)
		return -1;
	if (config_setting_get_member(g, "format"))
		k->format = (enum feed_format)v;
	if (get_seconds(cx, g, "timeout", &k->timeout_ms, 0.001, 300) < 0
	    || get_enum(cx, g, "on_failure", failure_names, &v) < 0)
		return -1;
	if (config_setting_get_member(g, "on_failure"))
		k->on_failure = (enum check_failure)v;
	return parse_map_or_copy(cx, g, &k->map, k->format, MAP_CHECK, src);
}

static void check_free(struct check_conf *k)
{
	free(k->url);
	free(k->method);
	free(k->body);
	free(k->content_type);
	conf_map_clear(&k->map);
	memset(k, 0, sizeof(*k));
}

/* The HMAC key of a secret with key_base64: base64 after an optional
 * "whsec_", not empty (as the verifier reads it). */
static bool webhook_key_ok(const char *value)
{
	size_t len = 0;
	unsigned char *key = conf_webhook_key(value, true, &len);
	bool good = key != NULL;

	if (key) {
		volatile unsigned char *p = key;

		while (len > 0)
			p[--len] = 0;
	}
	free(key);
	return good;
}

/* Exactly one of secret, secret_env, secret_cmd (one secret) or secrets,
 * secrets_env, secrets_cmd (a list, for rotation).  *given is set to the
 * setting used. */
static int parse_webhook_secrets(const struct cctx *cx, config_setting_t *g,
                                 struct webhook_conf *w, config_setting_t **given)
{
	static const struct {
		const char *name;
		enum secret_origin origin;
		bool list;
	} forms[] = {
		{ "secret", SECRET_INLINE, false },
		{ "secret_env", SECRET_ENV, false },
		{ "secret_cmd", SECRET_CMD, false },
		{ "secrets", SECRET_INLINE, true },
		{ "secrets_env", SECRET_ENV, true },
		{ "secrets_cmd", SECRET_CMD, true },
	};
	config_setting_t *s = NULL;
	size_t i, f = 0;
	int k, n;

	*given = NULL;
	for (i = 0; i < ARRAY_SIZE(forms); i++) {
		s = config_setting_get_member(g, forms[i].name);
		if (!s)
			continue;
		if (*given) {
			config_setting_t *first = *given;

			if (config_setting_source_line(s) < config_setting_source_line(first)) {
				first = s;
				s = *given;
			}
			return bad(cx, s, _("give only one of secret, secret_env, secret_cmd, secrets, "
			                    "secrets_env and secrets_cmd (%s is set too)"),
			           config_setting_name(first));
		}
		*given = s;
		f = i;
	}
	if (!*given)
		return bad(cx, g, _("needs the secret that signs the deliveries: secret_env, "
		                    "secret_cmd or secret (or secrets_env, secrets_cmd or secrets "
		                    "to accept several at once)"));
	s = *given;
	if (!forms[f].list) {
		if (config_setting_type(s) != CONFIG_TYPE_STRING)
			return bad_type(cx, s, _("a string"));
		if (!*config_setting_get_string(s))
			return bad(cx, s, _("must not be empty"));
		w->secrets = xcalloc(1, sizeof(*w->secrets));
		w->secrets[0].origin = forms[f].origin;
		w->secrets[0].spec = xstrdup(config_setting_get_string(s));
		w->n_secrets = 1;
		return resolve_one(cx, s, &w->secrets[0], _("secret_env / secret_cmd"));
	}
	if (config_setting_type(s) != CONFIG_TYPE_LIST && config_setting_type(s) != CONFIG_TYPE_ARRAY)
		return bad(cx, s, _("expected a list of strings, like ( \"%s\", \"%s\" ), got %s"),
		           forms[f].origin == SECRET_ENV ? "NEW_VAR" : forms[f].origin == SECRET_CMD
		                                                       ? "cmd new" : "new",
		           forms[f].origin == SECRET_ENV ? "OLD_VAR" : forms[f].origin == SECRET_CMD
		                                                       ? "cmd old" : "old",
		           type_name(config_setting_type(s)));
	n = config_setting_length(s);
	if (n == 0)
		return bad(cx, s, _("the list is empty: give at least one secret"));
	w->secrets = xcalloc((size_t)n, sizeof(*w->secrets));
	for (k = 0; k < n; k++) {
		config_setting_t *e = config_setting_get_elem(s, (unsigned)k);

		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return bad_type(cx, e, _("a string"));
		if (!*config_setting_get_string(e))
			return bad(cx, e, _("must not be empty"));
		w->secrets[k].origin = forms[f].origin;
		w->secrets[k].spec = xstrdup(config_setting_get_string(e));
		w->n_secrets++;
		if (resolve_one(cx, e, &w->secrets[k], _("secrets_env / secrets_cmd")) < 0)
			return -1;
	}
	return 0;
}

/* A header name option, when given. */
static int get_header_name(const struct cctx *cx, const config_setting_t *g, const char *name,
                           char **out)
{
	int rc = get_text(cx, g, name, out);

	if (rc == 1 && !http_token(*out))
		return bad(cx, config_setting_get_member(g, name),
		           _("\"%s\" is not a valid HTTP header name"), *out);
	return rc;
}

static int parse_webhook(const struct cctx *cx, config_setting_t *g, const struct source_conf *src,
                         struct webhook_conf *w)
{
	static const char *const known[] = {
		"scheme", "header", "prefix", "encoding", "key_base64", "secret", "secret_env",
		"secret_cmd", "secrets", "secrets_env", "secrets_cmd", "timestamp_header",
		"tolerance", "id_header", "id_field", "max_body", "map", NULL
	};
	config_setting_t *s, *secrets = NULL;
	const char *v;
	int e, i;

	w->enabled = true;
	w->line = (int)config_setting_source_line(g);
	w->scheme = WEBHOOK_CUSTOM;
	w->encoding = SIG_HEX;
	w->key_base64 = false;
	w->tolerance_ms = CONF_WEBHOOK_TOLERANCE_MS;
	w->max_body = 1048576;
	if (check_names(cx, g, known) < 0)
		return -1;
	if (get_enum(cx, g, "scheme", scheme_names, &e) < 0)
		return -1;
	if (config_setting_get_member(g, "scheme"))
		w->scheme = (enum webhook_scheme)e;
	if (get_header_name(cx, g, "header", &w->header) < 0
	    || get_header_name(cx, g, "timestamp_header", &w->timestamp_header) < 0
	    || get_header_name(cx, g, "id_header", &w->id_header) < 0
	    || get_text(cx, g, "id_field", &w->id_field) < 0)
		return -1;
	/* the prefix may be "" */
	if (get_str(cx, g, "prefix", &v) < 0)
		return -1;
	if ((s = config_setting_get_member(g, "prefix")) != NULL) {
		if (has_ctl(v))
			return bad(cx, s, _("contains a control character"));
		w->prefix = xstrdup(v);
	}
	if (get_enum(cx, g, "encoding", encoding_names, &e) < 0)
		return -1;
	if ((s = config_setting_get_member(g, "encoding")) != NULL) {
		if (w->scheme != WEBHOOK_CUSTOM)
			return bad(cx, s, _("only used with scheme = \"custom\": scheme \"%s\" always "
			                    "uses %s"), scheme_names[w->scheme],
			           w->scheme == WEBHOOK_GITHUB ? "hex" : "base64");
		w->encoding = (enum sig_encoding)e;
	}
	if (get_bool(cx, g, "key_base64", &w->key_base64) < 0)
		return -1;
	if ((s = config_setting_get_member(g, "key_base64")) != NULL) {
		if (w->scheme == WEBHOOK_GITHUB)
			return bad(cx, s, _("not used with scheme = \"github\", whose secret is always "
			                    "plain text"));
		if (w->scheme == WEBHOOK_STANDARD)
			return bad(cx, s, _("not used with scheme = \"standard\", whose secret is always "
			                    "base64 (\"whsec_...\")"));
	}
	if (get_seconds(cx, g, "tolerance", &w->tolerance_ms, 1, 604800) < 0
	    || get_i64(cx, g, "max_body", &w->max_body, 1, 1073741824) < 0)
		return -1;
	if (w->scheme == WEBHOOK_CUSTOM && !w->header)
		return bad(cx, g, _("scheme = \"custom\" needs header (the name of the header "
		                    "carrying the signature, e.g. \"X-Signature\")"));
	if (parse_webhook_secrets(cx, g, w, &secrets) < 0)
		return -1;
	if (parse_map_or_copy(cx, g, &w->map, FORMAT_JSON, MAP_WEBHOOK, src) < 0)
		return -1;

	conf_webhook_apply_preset(w);
	if (!w->header)
		return bad(cx, g, _("needs header (the name of the header carrying the signature)"));
	if (!w->prefix)
		w->prefix = xstrdup("");
	s = config_setting_get_member(g, "tolerance");
	if (s && !w->timestamp_header)
		return bad(cx, s, _("only used with a timestamp: set timestamp_header (scheme "
		                    "\"standard\" has one)"));
	if (w->key_base64) {
		for (i = 0; i < w->n_secrets; i++) {
			if (webhook_key_ok(w->secrets[i].value))
				continue;
			s = config_setting_is_list(secrets) || config_setting_is_array(secrets)
			    ? config_setting_get_elem(secrets, (unsigned)i) : secrets;
			return bad(cx, s, w->scheme == WEBHOOK_STANDARD
			                  ? _("the secret is not valid base64: scheme \"standard\" "
			                      "takes the supplier's \"whsec_...\" key as given")
			                  : _("the secret is not valid base64, as key_base64 = true "
			                      "says it is"));
		}
	}
	return 0;
}

static void webhook_free(struct webhook_conf *w)
{
	int i;

	free(w->header);
	free(w->prefix);
	for (i = 0; i < w->n_secrets; i++)
		conf_secret_clear(&w->secrets[i]);
	free(w->secrets);
	free(w->timestamp_header);
	free(w->id_header);
	free(w->id_field);
	conf_map_clear(&w->map);
	memset(w, 0, sizeof(*w));
}

/* ---- schedules and the mass-change guard ---- */

/* A schedule expression option, when given: checked with schedule_parse(),
 * whose reason is passed on; copied into *out (replacing the default). */
static int get_schedule(const struct cctx *cx, const config_setting_t *g, const char *name,
                        char **out)
{
	struct schedule sch;
	struct error perr;
	const char *v, *reason;
	char *quoted;
	int rc = get_str(cx, g, name, &v);

	if (rc <= 0)
		return rc;
	err_clear(&perr);
	if (schedule_parse(v, &sch, &perr) < 0) {
		/* the parser may start its reason with the expression: not twice */
		quoted = xasprintf("\"%s\": ", v);
		reason = perr.msg;
		if (str_startswith(reason, quoted))
			reason += strlen(quoted);
		if (!*reason)
			reason = _("expected \"every 30m\", \"daily 03:00\", \"hourly :15\", a 5-field "
			           "cron expression or \"off\"");
		bad(cx, config_setting_get_member(g, name), _("\"%s\" is not a schedule: %s"), v,
		    reason);
		free(quoted);
		return -1;
	}
	free(*out);
	*out = xstrdup(v);
	return 1;
}

/* `schedule = { full; delta; }` of a supplier; parsed after the delta
 * group, as a delta schedule needs one. */
static int parse_schedule(const struct cctx *cx, config_setting_t *g, bool has_delta,
                          struct schedule_conf *sc)
{
	static const char *const known[] = { "full", "delta", NULL };
	config_setting_t *s;

	sc->line = (int)config_setting_source_line(g);
	if (check_names(cx, g, known) < 0)
		return -1;
	if (get_schedule(cx, g, "full", &sc->full) < 0 || get_schedule(cx, g, "delta", &sc->delta) < 0)
		return -1;
	s = config_setting_get_member(g, "delta");
	if (s && !has_delta)
		return bad(cx, s, _("only used when the supplier has a delta group (a source of "
		                    "changed items)"));
	return 0;
}

static void schedule_free(struct schedule_conf *sc)
{
	free(sc->full);
	free(sc->delta);
	memset(sc, 0, sizeof(*sc));
}

static int parse_guard(const struct cctx *cx, config_setting_t *g, struct guard_conf *gd)
{
	static const char *const known[] = { "enabled", "max_changed_pct", "max_zeroed_pct", NULL };

	gd->line = (int)config_setting_source_line(g);
	if (check_names(cx, g, known) < 0)
		return -1;
	if (get_bool(cx, g, "enabled", &gd->enabled) < 0
	    || get_num(cx, g, "max_changed_pct", &gd->max_changed_pct, 0.0, 100.0) < 0
	    || get_num(cx, g, "max_zeroed_pct", &gd->max_zeroed_pct, 0.0, 100.0) < 0)
		return -1;
	return 0;
}

/* ---- a supplier file ---- */

static void supplier_defaults(struct supplier_conf *s)
{
	memset(s, 0, sizeof(*s));
	s->active = true;
	s->priority = 100;
	s->source.format = FORMAT_JSON;
	s->source.paging = PAGE_NONE;
	s->source.page_size = 500;
	s->source.first_page = 1;
	s->source.page_param = xstrdup("page");
	s->source.size_param = xstrdup("limit");
	s->source.offset_param = xstrdup("offset");
	s->source.cursor_param = xstrdup("cursor");
	s->source.end = END_SHORT;
	s->rules.safety_buffer = 0;
	s->rules.cap = -1;
	s->rules.multiplier = 1.0;
	s->rules.pack_size = 1;
	s->rules.zero_missing = false;
	s->rules.zero_missing_max_pct = 20.0;
	s->timeout_ms = 60000;
	s->connect_timeout_ms = 10000;
	s->rate_per_sec = 0;
	s->rate_per_hour = 0;
	s->max_bytes = 268435456;
	s->retries = 3;
	s->retry_delay_ms = 1000;
	s->max_retry_wait_ms = 120000;
	s->fresh_ms = 900000;
	s->guard.enabled = true;
	s->guard.max_changed_pct = 50.0;
	s->guard.max_zeroed_pct = 50.0;
}

void conf_supplier_free(struct supplier_conf *s)
{
	if (!s)
		return;
	free(s->slug);
	free(s->name);
	source_free(&s->source);
	free(s->auth.header);
	free(s->auth.param);
	free(s->auth.username);
	conf_secret_clear(&s->auth.token);
	conf_secret_clear(&s->auth.password);
	source_free(&s->delta.source);
	free(s->delta.since_param);
	check_free(&s->check);
	webhook_free(&s->webhook);
	schedule_free(&s->schedule);
	free(s->file);
	memset(s, 0, sizeof(*s));
}

/* Loads one supplier file.  The slug = file name check is left to the
 * caller when check_stem is false (conf_load_file reports duplicate slugs
 * first, naming both files). */
static int supplier_load(const char *path, struct supplier_conf *out, bool check_stem,
                         struct error *err)
{
	static const char *const known[] = {
		"slug", "name", "active", "priority", "source", "auth", "rules", "timeout",
		"connect_timeout", "rate_per_sec", "rate_per_hour", "max_bytes", "retries",
		"retry_delay", "max_retry_wait", "cache_fresh", "delta", "check", "webhook",
		"schedule", "guard", NULL
	};
	struct cctx cx = { path, err };
	config_t cfg;
	config_setting_t *root, *g = NULL, *s;
	char *stem = NULL;
	int rc = -1;

	supplier_defaults(out);
	out->file = xstrdup(path);
	config_init(&cfg);
	if (read_cfg(&cfg, path, err) < 0)
		goto out;
	root = config_root_setting(&cfg);
	if (check_names(&cx, root, known) < 0)
		goto out;

	switch (get_text(&cx, root, "slug", &out->slug)) {
	case -1: goto out;
	case 0: missing(&cx, root, "slug"); goto out;
	}
	s = config_setting_get_member(root, "slug");
	out->line = (int)config_setting_source_line(s);
	if (!slug_valid(out->slug)) {
		bad(&cx, s, _("\"%s\" is not a valid slug: use 1 to 64 lower-case letters, digits, "
		              "'-' and '_', starting with a letter or digit"), out->slug);
		goto out;
	}
	stem = file_stem(path);
	if (check_stem && strcmp(stem, out->slug) != 0) {
		bad(&cx, s, _("slug \"%s\" does not match the file name: rename the file to "
		              "%s.conf or set slug = \"%s\""), out->slug, out->slug, stem);
		goto out;
	}
	if (get_text(&cx, root, "name", &out->name) < 0 || get_bool(&cx, root, "active", &out->active) < 0
	    || get_int(&cx, root, "priority", &out->priority, -1000000, 1000000) < 0)
		goto out;
	if (!out->name)
		out->name = xstrdup(out->slug);
	if (has_ctl(out->name)) {
		bad(&cx, config_setting_get_member(root, "name"), _("contains a control character"));
		goto out;
	}

	switch (get_group(&cx, root, "source", &g)) {
	case -1: goto out;
	case 0: missing(&cx, root, "source"); goto out;
	}
	if (parse_source(&cx, g, &out->source, NULL, NULL) < 0)
		goto out;

	if (opt_group(&cx, root, "auth", &g) < 0 || (g && parse_auth(&cx, g, &out->auth) < 0) ||
	    opt_group(&cx, root, "rules", &g) < 0 || (g && parse_rules(&cx, g, &out->rules) < 0))
		goto out;
	if (get_seconds(&cx, root, "timeout", &out->timeout_ms, 0.001, 86400) < 0
	    || get_seconds(&cx, root, "connect_timeout", &out->connect_timeout_ms, 0.001, 3600) < 0
	    || get_num(&cx, root, "rate_per_sec", &out->rate_per_sec, 0, 1e6) < 0
	    || get_i64(&cx, root, "rate_per_hour", &out->rate_per_hour, 0, 1000000000) < 0
	    || get_i64(&cx, root, "max_bytes", &out->max_bytes, 1, INT64_MAX) < 0
	    || get_int(&cx, root, "retries", &out->retries, 0, 10) < 0
	    || get_seconds(&cx, root, "retry_delay", &out->retry_delay_ms, 0, 3600) < 0
	    || get_seconds(&cx, root, "max_retry_wait", &out->max_retry_wait_ms, 0, 86400) < 0
	    || get_seconds(&cx, root, "cache_fresh", &out->fresh_ms, 0, 2592000) < 0)
		goto out;

	if (opt_group(&cx, root, "delta", &g) < 0)
		goto out;
	out->has_delta = g != NULL;
	if (g && parse_delta(&cx, g, &out->source, &out->delta) < 0)
		goto out;
	if (opt_group(&cx, root, "check", &g) < 0)
		goto out;
	out->has_check = g != NULL;
	if (g && parse_check(&cx, g, &out->source, &out->check) < 0)
		goto out;
	if (opt_group(&cx, root, "webhook", &g) < 0 ||
	    (g && parse_webhook(&cx, g, &out->source, &out->webhook) < 0) ||
	    opt_group(&cx, root, "schedule", &g) < 0 ||
	    (g && parse_schedule(&cx, g, out->has_delta, &out->schedule) < 0) ||
	    opt_group(&cx, root, "guard", &g) < 0 || (g && parse_guard(&cx, g, &out->guard) < 0))
		goto out;
	rc = 0;
out:
	free(stem);
	config_destroy(&cfg);
	if (rc < 0) {
		if (err && err->kind == ERRK_NONE)
			err->kind = ERRK_CONFIG;
		conf_supplier_free(out);
	}
	return rc;
}

int conf_load_supplier(const char *path, struct supplier_conf *out, struct error *err)
{
	return supplier_load(path, out, true, err);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the *.conf files in dir (not hidden ones).  Returns the
 * count, -1 on error. */
static int list_conf_files(const char *dir, char ***out, struct error *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;

	*out = NULL;
	if (!d)
		return err_set(err, ERRK_CONFIG, _("%s: cannot read the suppliers directory: %s"),
		               dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.' || len <= 5 || strcmp(de->d_name + len - 5, ".conf") != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			names = xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(*names), name_cmp);
	*out = names;
	return (int)n;
}

/* dir_line: line of the suppliers_dir setting, 0 when it was not given. */
static int load_suppliers(struct conf *c, int dir_line, struct error *err)
{
	struct stat st;
	char **names = NULL;
	int n, i, j, rc = -1;

	if (stat(c->suppliers_dir, &st) < 0) {
		if (errno == ENOENT && dir_line == 0)
			return 0;     /* the default directory is optional */
		if (dir_line > 0)
			return err_set(err, ERRK_CONFIG, _("%s:%d: suppliers_dir: %s: %s"), c->file,
			               dir_line, c->suppliers_dir, strerror(errno));
		return err_set(err, ERRK_CONFIG, _("%s: suppliers directory %s: %s"), c->file,
		               c->suppliers_dir, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode)) {
		if (dir_line > 0)
			return err_set(err, ERRK_CONFIG, _("%s:%d: suppliers_dir: %s is not a "
			                                   "directory"), c->file, dir_line, c->suppliers_dir);
		return err_set(err, ERRK_CONFIG, _("%s: suppliers directory %s is not a directory"),
		               c->file, c->suppliers_dir);
	}
	n = list_conf_files(c->suppliers_dir, &names, err);
	if (n < 0)
		return -1;
	c->suppliers = xcalloc(n > 0 ? (size_t)n : 1, sizeof(*c->suppliers));
	for (i = 0; i < n; i++) {
		char *path = path_join(c->suppliers_dir, names[i]);
		int r = supplier_load(path, &c->suppliers[c->n_suppliers], false, err);

		free(path);
		if (r < 0)
			goto out;
		c->n_suppliers++;
	}
	for (i = 0; i < c->n_suppliers; i++) {
		for (j = 0; j < i; j++) {
			struct supplier_conf *a = &c->suppliers[j], *b = &c->suppliers[i];

			if (strcmp(a->slug, b->slug) == 0) {
				err_set(err, ERRK_CONFIG, _("%s:%d: slug: duplicate slug \"%s\", already "
				                            "used by %s:%d"), b->file, b->line, b->slug,
				        a->file, a->line);
				err_option(err, NULL, "slug");
				goto out;
			}
		}
	}
	for (i = 0; i < c->n_suppliers; i++) {
		struct supplier_conf *s = &c->suppliers[i];
		char *stem = file_stem(s->file);
		bool same = strcmp(stem, s->slug) == 0;

		if (!same)
			err_set(err, ERRK_CONFIG, _("%s:%d: slug: slug \"%s\" does not match the file "
			                            "name: rename the file to %s.conf or set slug = \"%s\""),
			        s->file, s->line, s->slug, s->slug, stem);
		if (!same)
			err_option(err, NULL, "slug");
		free(stem);
		if (!same)
			goto out;
	}
	rc = 0;
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

/* ------------------------------------------------------------------ */
/* the main file                                                      */

int conf_listen_split(const char *listen, char *addr, size_t addr_size, int *port)
{
	const char *host, *colon, *p;
	char buf[64];
	unsigned char bin[16];
	size_t len;
	long v = 0;
	bool v6 = false;

	if (!listen)
		return -1;
	if (listen[0] == '[') {
		const char *close = strchr(listen, ']');

		if (!close || close[1] != ':')
			return -1;
		host = listen + 1;
		len = (size_t)(close - host);
		colon = close + 1;
		v6 = true;
	} else {
		colon = strrchr(listen, ':');
		if (!colon)
			return -1;
		host = listen;
		len = (size_t)(colon - listen);
		if (memchr(host, ':', len))
			return -1;     /* an IPv6 address needs its brackets */
	}
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, host, len);
	buf[len] = '\0';
	if (inet_pton(v6 ? AF_INET6 : AF_INET, buf, bin) != 1)
		return -1;
	p = colon + 1;
	if (!*p || strlen(p) > 5)
		return -1;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	if (v > 65535)
		return -1;
	if (addr) {
		if (len + 1 > addr_size)
			return -1;
		memcpy(addr, buf, len + 1);
	}
	if (port)
		*port = (int)v;
	return 0;
}

static void service_defaults(struct service_conf *v)
{
	memset(v, 0, sizeof(*v));
	v->listen = xstrdup("127.0.0.1:8787");
	v->threads = 4;
	v->connection_timeout_ms = 10000;
	v->max_connections = 1024;
	v->max_connections_per_ip = 128;
	v->memory_limit = 65536;
	v->access_log = true;
}

static void service_free(struct service_conf *v)
{
	int i;

	free(v->listen);
	for (i = 0; i < v->n_api_keys; i++)
		conf_secret_clear(&v->api_keys[i]);
	free(v->api_keys);
	memset(v, 0, sizeof(*v));
}

static bool has_blank(const char *s)
{
	return strpbrk(s, " \t") != NULL;
}

/* api_keys = ( ... ), api_keys_env = "VAR" or api_keys_cmd = "COMMAND";
 * the last two may hold several keys separated by blanks or lines. */
static int parse_api_keys(const struct cctx *cx, config_setting_t *g, struct service_conf *v)
{
	static const char *const names[] = { "api_keys", "api_keys_env", "api_keys_cmd", NULL };
	config_setting_t *given = NULL, *s;
	struct secret one = { SECRET_NONE, NULL, NULL };
	char *where;
	int i, n, rc;

	for (i = 0; names[i]; i++) {
		s = config_setting_get_member(g, names[i]);
		if (!s)
			continue;
		if (given) {
			config_setting_t *first = given;

			if (config_setting_source_line(s) < config_setting_source_line(first)) {
				first = s;
				s = given;
			}
			return bad(cx, s, _("give only one of api_keys, api_keys_env and api_keys_cmd "
			                    "(%s is set too)"), config_setting_name(first));
		}
		given = s;
	}
	if (!given)
		return 0;
	if (strcmp(config_setting_name(given), "api_keys") == 0) {
		char *file;

		if (config_setting_type(given) != CONFIG_TYPE_LIST
		    && config_setting_type(given) != CONFIG_TYPE_ARRAY)
			return bad(cx, given, _("expected a list of keys, like ( \"KEY1\", \"KEY2\" ), "
			                        "got %s"), type_name(config_setting_type(given)));
		n = config_setting_length(given);
		if (n == 0)
			return bad(cx, given, _("the list is empty: give at least one key, or leave "
			                        "api_keys out"));
		v->api_keys = xcalloc((size_t)n, sizeof(*v->api_keys));
		for (i = 0; i < n; i++) {
			config_setting_t *e = config_setting_get_elem(given, (unsigned)i);
			const char *key;

			if (config_setting_type(e) != CONFIG_TYPE_STRING)
				return bad_type(cx, e, _("a string"));
			key = config_setting_get_string(e);
			if (!*key)
				return bad(cx, e, _("must not be empty"));
			if (has_blank(key) || has_ctl(key))
				return bad(cx, e, _("an API key cannot contain blanks or control "
				                    "characters"));
			v->api_keys[i].origin = SECRET_INLINE;
			v->api_keys[i].spec = xstrdup(key);
			v->api_keys[i].value = xstrdup(key);
			v->n_api_keys++;
		}
		where = where_str(cx, given, NULL);
		file = setting_file(cx, given);
		rc = conf_secret_check_file(file, where, _("api_keys_env / api_keys_cmd"), cx->err);
		if (rc < 0)
			err_option(cx->err, given, NULL);
		free(file);
		free(where);
		return rc;
	}
	if (config_setting_type(given) != CONFIG_TYPE_STRING)
		return bad_type(cx, given, _("a string"));
	if (!*config_setting_get_string(given))
		return bad(cx, given, _("must not be empty"));
	one.origin = strcmp(config_setting_name(given), "api_keys_env") == 0 ? SECRET_ENV : SECRET_CMD;
	one.spec = xstrdup(config_setting_get_string(given));
	where = where_str(cx, given, NULL);
	rc = conf_secret_resolve_list(&one, where, &v->api_keys, &v->n_api_keys, cx->err);
	if (rc < 0)
		err_option(cx->err, given, NULL);
	free(where);
	conf_secret_clear(&one);
	return rc;
}

static int parse_service(const struct cctx *cx, config_setting_t *g, struct service_conf *v)
{
	static const char *const known[] = {
		"listen", "api_keys", "api_keys_env", "api_keys_cmd", "threads", "connection_timeout",
		"max_connections", "max_connections_per_ip", "memory_limit", "access_log", NULL
	};
	config_setting_t *s;
	int64_t mem = v->memory_limit;

	v->line = (int)config_setting_source_line(g);
	if (check_names(cx, g, known) < 0)
		return -1;
	if (get_text(cx, g, "listen", &v->listen) < 0)
		return -1;
	s = config_setting_get_member(g, "listen");
	if (s && conf_listen_split(v->listen, NULL, 0, NULL) < 0)
		return bad(cx, s, _("\"%s\" is not a listen address: expected ADDRESS:PORT with a "
		                    "numeric IPv4 address, or an IPv6 address in brackets, and a "
		                    "port from 1 to 65535 (0: any free port), e.g. \"127.0.0.1:8787\" "
		                    "or \"[::1]:8787\""), v->listen);
	if (get_int(cx, g, "threads", &v->threads, 1, 64) < 0
	    || get_seconds(cx, g, "connection_timeout", &v->connection_timeout_ms, 1, 3600) < 0
	    || get_int(cx, g, "max_connections", &v->max_connections, 1, 1000000) < 0
	    || get_int(cx, g, "max_connections_per_ip", &v->max_connections_per_ip, 1, 1000000) < 0
	    || get_i64(cx, g, "memory_limit", &mem, 4096, 1073741824) < 0
	    || get_bool(cx, g, "access_log", &v->access_log) < 0)
		return -1;
	v->memory_limit = mem;
	if (v->max_connections_per_ip > v->max_connections)
		return bad(cx, config_setting_get_member(g, "max_connections_per_ip")
		               ? config_setting_get_member(g, "max_connections_per_ip")
		               : config_setting_get_member(g, "max_connections"),
		           _("max_connections_per_ip (%d) cannot be more than max_connections (%d)"),
		           v->max_connections_per_ip, v->max_connections);
	return parse_api_keys(cx, g, v);
}

/* ---- the daemon and event delivery ---- */

#define CONF_TZDIR "/usr/share/zoneinfo"

static const int64_t daemon_backoff_default_ms[] = { 60000, 300000, 900000 };

static void daemon_defaults(struct daemon_conf *d)
{
	memset(d, 0, sizeof(*d));
	d->timezone = NULL;          /* the system's */
	d->full = xstrdup("daily 03:00");
	d->delta = xstrdup("every 30m");
	d->workers = 4;
	d->max_attempts = 3;
	d->n_backoff = (int)ARRAY_SIZE(daemon_backoff_default_ms);
	d->backoff_ms = xcalloc(ARRAY_SIZE(daemon_backoff_default_ms), sizeof(*d->backoff_ms));
	memcpy(d->backoff_ms, daemon_backoff_default_ms, sizeof(daemon_backoff_default_ms));
	d->jitter = 0.1;
	d->run_timeout_ms = 1800000;
	d->heartbeat_stale_ms = 60000;
	d->serve = true;
}

static void daemon_free(struct daemon_conf *d)
{
	free(d->timezone);
	free(d->full);
	free(d->delta);
	free(d->backoff_ms);
	memset(d, 0, sizeof(*d));
}

static bool tz_name_chars(const char *tz)
{
	const char *p;

	for (p = tz; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))
			continue;
		if (!strchr("/_+-.", *p))
			return false;
	}
	return true;
}

/* A time zone: "UTC", or the name of a tz database file below $TZDIR
 * (default /usr/share/zoneinfo) that starts with the "TZif" magic, so that
 * zone.tab and the like are not taken for zones. */
static int check_timezone(const struct cctx *cx, const config_setting_t *s, const char *tz)
{
	const char *dir = getenv("TZDIR");
	char magic[4], *path = NULL;
	struct stat st;
	FILE *fp = NULL;
	int rc = -1;

	if (strcmp(tz, "UTC") == 0)
		return 0;
	if (tz[0] == '/' || tz[0] == '.' || strstr(tz, "..") || strstr(tz, "//")
	    || !tz_name_chars(tz)) {
		bad(cx, s, _("\"%s\" is not a time zone name: expected a name of the tz database "
		             "such as \"Europe/Berlin\", or \"UTC\""), tz);
		goto out;
	}
	if (str_empty(dir))
		dir = CONF_TZDIR;
	path = path_join(dir, tz);
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
		bad(cx, s, _("unknown time zone \"%s\": there is no file %s (expected a name of "
		             "the tz database such as \"Europe/Berlin\", or \"UTC\")"), tz, path);
		goto out;
	}
	fp = fopen(path, "rb");
	if (!fp) {
		bad(cx, s, _("time zone \"%s\": cannot read %s: %s"), tz, path, strerror(errno));
		goto out;
	}
	if (fread(magic, 1, sizeof(magic), fp) != sizeof(magic)
	    || memcmp(magic, "TZif", sizeof(magic)) != 0) {
		bad(cx, s, _("unknown time zone \"%s\": %s is not a time zone file"), tz, path);
		goto out;
	}
	rc = 0;
out:
	if (fp)
		fclose(fp);
	free(path);
	return rc;
}

/* backoff = ( 60, 300, 900 ): seconds before try 2, 3, ...; integers or
 * decimals, at least one. */
static int parse_backoff(const struct cctx *cx, config_setting_t *g, struct daemon_conf *d)
{
	config_setting_t *s = config_setting_get_member(g, "backoff");
	int64_t *list;
	int i, n;

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_LIST && config_setting_type(s) != CONFIG_TYPE_ARRAY)
		return bad(cx, s, _("expected a list of seconds, like ( 60, 300, 900 ), got %s"),
		           type_name(config_setting_type(s)));
	n = config_setting_length(s);
	if (n == 0)
		return bad(cx, s, _("the list is empty: give at least one wait, like ( 60 )"));
	if (n > 100)
		return bad(cx, s, _("at most 100 waits, got %d"), n);
	list = xcalloc((size_t)n, sizeof(*list));
	for (i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		double v;

		if (!setting_number(e, &v)) {
			free(list);
			return bad_type(cx, e, _("a number of seconds"));
		}
		if (!isfinite(v) || v < 0 || v > 604800) {
			free(list);
			return bad(cx, e, _("must be between 0 and 604800 seconds, got %g"), v);
		}
		list[i] = (int64_t)llround(v * 1000.0);
	}
	free(d->backoff_ms);
	d->backoff_ms = list;
	d->n_backoff = n;
	return 1;
}

static int parse_daemon(const struct cctx *cx, config_setting_t *g, struct daemon_conf *d)
{
	static const char *const known[] = {
		"timezone", "full", "delta", "workers", "max_attempts", "backoff", "jitter",
		"run_timeout", "heartbeat_stale", "serve", NULL
	};

	d->line = (int)config_setting_source_line(g);
	if (check_names(cx, g, known) < 0)
		return -1;
	switch (get_text(cx, g, "timezone", &d->timezone)) {
	case -1: return -1;
	case 1:
		if (check_timezone(cx, config_setting_get_member(g, "timezone"), d->timezone) < 0)
			return -1;
	}
	if (get_schedule(cx, g, "full", &d->full) < 0 || get_schedule(cx, g, "delta", &d->delta) < 0
	    || get_int(cx, g, "workers", &d->workers, 1, 64) < 0
	    || get_int(cx, g, "max_attempts", &d->max_attempts, 1, 20) < 0
	    || parse_backoff(cx, g, d) < 0
	    || get_num(cx, g, "jitter", &d->jitter, 0.0, 1.0) < 0
	    || get_seconds(cx, g, "run_timeout", &d->run_timeout_ms, 1, 604800) < 0
	    || get_seconds(cx, g, "heartbeat_stale", &d->heartbeat_stale_ms, 1, 86400) < 0
	    || get_bool(cx, g, "serve", &d->serve) < 0)
		return -1;
	return 0;
}

static void events_defaults(struct events_conf *e)
{
	memset(e, 0, sizeof(*e));
	e->batch = 50;
	e->timeout_ms = 10000;
	e->first_backoff_ms = 10000;
	e->max_backoff_ms = 3600000;
	e->give_up_ms = 86400000;
}

static void events_free(struct events_conf *e)
{
	free(e->url);
	conf_secret_clear(&e->secret);
	free(e->command);
	memset(e, 0, sizeof(*e));
}

static int parse_events(const struct cctx *cx, config_setting_t *g, struct events_conf *e)
{
	static const char *const known[] = {
		"url", "secret", "secret_env", "secret_cmd", "command", "batch", "timeout",
		"first_backoff", "max_backoff", "give_up", NULL
	};
	static const char *const secret_names[] = { "secret", "secret_env", "secret_cmd", NULL };
	config_setting_t *url_s, *s;
	char scheme[16];
	int has_secret, i;

	e->line = (int)config_setting_source_line(g);
	if (check_names(cx, g, known) < 0)
		return -1;
	if (get_text(cx, g, "url", &e->url) < 0)
		return -1;
	url_s = config_setting_get_member(g, "url");
	if (e->url) {
		if (check_url(cx, url_s, e->url, scheme, sizeof(scheme)) < 0)
			return -1;
		if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
			return bad(cx, url_s, _("events are POSTed to the store: the URL must be "
			                        "http or https, got \"%s\""), scheme);
	}
	if ((has_secret = parse_secret(cx, g, "secret", &e->secret)) < 0)
		return -1;
	if (get_text(cx, g, "command", &e->command) < 0)
		return -1;
	if (get_int(cx, g, "batch", &e->batch, 1, 1000) < 0
	    || get_seconds(cx, g, "timeout", &e->timeout_ms, 0.001, 3600) < 0
	    || get_seconds(cx, g, "first_backoff", &e->first_backoff_ms, 0.001, 86400) < 0
	    || get_seconds(cx, g, "max_backoff", &e->max_backoff_ms, 0.001, 604800) < 0
	    || get_seconds(cx, g, "give_up", &e->give_up_ms, 0, 31536000) < 0)
		return -1;
	if (e->max_backoff_ms < e->first_backoff_ms) {
		s = config_setting_get_member(g, "max_backoff");
		return bad(cx, s ? s : config_setting_get_member(g, "first_backoff"),
		           _("max_backoff (%g s) cannot be less than first_backoff (%g s)"),
		           (double)e->max_backoff_ms / 1000.0, (double)e->first_backoff_ms / 1000.0);
	}
	if (!e->url && !e->command)
		return bad(cx, g, _("needs url (an HTTP endpoint of the store) or command (run with "
		                    "each event on its standard input), or both"));
	if (!e->url && has_secret) {
		for (i = 0; secret_names[i]; i++) {
			s = config_setting_get_member(g, secret_names[i]);
			if (s)
				return bad(cx, s, _("only used with url: deliveries to a command are not "
				                    "signed"));
		}
	}
	if (e->url && !has_secret)
		return bad(cx, url_s, _("needs the secret that signs the deliveries (Standard "
		                        "Webhooks): secret_env, secret_cmd or secret"));
	if (resolve_secret(cx, g, "secret", &e->secret) < 0)
		return -1;
	if (e->secret.value && str_startswith(e->secret.value, "whsec_")
	    && !webhook_key_ok(e->secret.value)) {
		for (i = 0; secret_names[i]; i++) {
			s = config_setting_get_member(g, secret_names[i]);
			if (s)
				return bad(cx, s, _("the secret starts with \"whsec_\" but what follows is "
				                    "not valid base64"));
		}
	}
	return 0;
}

void conf_free(struct conf *c)
{
	int i;

	if (!c)
		return;
	for (i = 0; i < c->n_suppliers; i++)
		conf_supplier_free(&c->suppliers[i]);
	free(c->suppliers);
	free(c->file);
	free(c->db_path);
	free(c->suppliers_dir);
	free(c->user_agent_extra);
	free(c->demo_catalogue);
	service_free(&c->service);
	daemon_free(&c->daemon);
	events_free(&c->events);
	free(c);
}

struct conf *conf_load_file(const char *path, struct error *err)
{
	static const char *const known[] = {
		"database", "suppliers_dir", "aggregate", "user_agent_extra", "service", "daemon",
		"events", NULL
	};
	struct cctx cx = { path, err };
	struct conf *c = xcalloc(1, sizeof(*c));
	config_t cfg;
	config_setting_t *root, *g = NULL;
	const char *v;
	char *dir = NULL;
	int agg, dir_line = 0, rc = -1;

	c->file = xstrdup(path);
	c->aggregate = AGG_SUM;
	service_defaults(&c->service);
	daemon_defaults(&c->daemon);
	events_defaults(&c->events);
	config_init(&cfg);
	if (read_cfg(&cfg, path, err) < 0)
		goto out;
	root = config_root_setting(&cfg);
	if (check_names(&cx, root, known) < 0)
		goto out;
	dir = abs_dirname(path);

	switch (get_str(&cx, root, "database", &v)) {
	case -1: goto out;
	case 1:
		if (!*v) {
			bad(&cx, config_setting_get_member(root, "database"), _("must not be empty"));
			goto out;
		}
		c->db_path = expand_path(dir, v);
		break;
	default: {
		char *state = path_state_dir();

		c->db_path = path_join(state, "dropstock.db");
		free(state);
	}
	}
	switch (get_str(&cx, root, "suppliers_dir", &v)) {
	case -1: goto out;
	case 1:
		if (!*v) {
			bad(&cx, config_setting_get_member(root, "suppliers_dir"), _("must not be empty"));
			goto out;
		}
		c->suppliers_dir = expand_path(dir, v);
		dir_line = (int)config_setting_source_line(config_setting_get_member(root, "suppliers_dir"));
		break;
	default:
		c->suppliers_dir = path_join(dir, "suppliers.d");
	}
	if (get_enum(&cx, root, "aggregate", aggregate_names, &agg) < 0)
		goto out;
	if (config_setting_get_member(root, "aggregate"))
		c->aggregate = (enum aggregate_kind)agg;
	if (get_str(&cx, root, "user_agent_extra", &v) < 0)
		goto out;
	if (config_setting_get_member(root, "user_agent_extra")) {
		if (has_ctl(v)) {
			bad(&cx, config_setting_get_member(root, "user_agent_extra"),
			    _("contains a control character"));
			goto out;
		}
		c->user_agent_extra = xstrdup(v);
	}
	if (opt_group(&cx, root, "service", &g) < 0 ||
	    (g && parse_service(&cx, g, &c->service) < 0) ||
	    opt_group(&cx, root, "daemon", &g) < 0 || (g && parse_daemon(&cx, g, &c->daemon) < 0) ||
	    opt_group(&cx, root, "events", &g) < 0 || (g && parse_events(&cx, g, &c->events) < 0))
		goto out;
	config_destroy(&cfg);
	config_init(&cfg);
	if (load_suppliers(c, dir_line, err) < 0)
		goto out;
	rc = 0;
out:
	config_destroy(&cfg);
	free(dir);
	if (rc < 0) {
		if (err && err->kind == ERRK_NONE)
			err->kind = ERRK_CONFIG;
		conf_free(c);
		return NULL;
	}
	return c;
}

/* ------------------------------------------------------------------ */
/* lookup                                                             */

/* 1 exists, 0 does not, -1 error (other than "not there"). */
static int file_exists(const char *path, struct error *err)
{
	struct stat st;

	if (stat(path, &st) == 0)
		return 1;
	if (errno == ENOENT || errno == ENOTDIR)
		return 0;
	return err_set(err, ERRK_CONFIG, _("%s: %s"), path, strerror(errno));
}

static struct conf *conf_load_embedded(struct error *err)
{
	struct conf *c;
	char *main_path = NULL, *catalogue = NULL;

	if (conf_demo_materialise(&main_path, &catalogue, err) < 0)
		return NULL;
	c = conf_load_file(main_path, err);
	if (c) {
		free(c->file);
		c->file = NULL;
		c->embedded = true;
		c->demo_catalogue = catalogue;
		catalogue = NULL;
	} else {
		err_prefix(err, _("the embedded demo configuration"));
	}
	free(main_path);
	free(catalogue);
	return c;
}

struct conf *conf_load(const char *explicit_path, struct error *err)
{
	const char *env;
	char *dir, *path;
	struct conf *c;
	int r;

	if (explicit_path)
		return conf_load_file(explicit_path, err);

	env = getenv("DROPSTOCK_CONFIG");
	if (!str_empty(env)) {
		r = file_exists(env, err);
		if (r < 0)
			return NULL;
		if (r == 0) {
			err_set(err, ERRK_CONFIG, _("%s (named by $DROPSTOCK_CONFIG): no such file"), env);
			return NULL;
		}
		return conf_load_file(env, err);
	}

	dir = path_config_dir();
	path = path_join(dir, "dropstock.conf");
	free(dir);
	r = file_exists(path, err);
	if (r != 0) {
		c = r > 0 ? conf_load_file(path, err) : NULL;
		free(path);
		return c;
	}
	free(path);

	/* the build's sysconfdir, then /etc when that differs (a source build
	 * installs under /usr/local/etc, operators look in /etc) */
	for (int k = 0; k < 2; k++) {
		if (k == 1 && strcmp(SYSCONFDIR, "/etc") == 0)
			break;
		path = xstrdup(k == 0 ? SYSCONFDIR "/dropstock/dropstock.conf"
		                      : "/etc/dropstock/dropstock.conf");
		r = file_exists(path, err);
		if (r != 0) {
			c = r > 0 ? conf_load_file(path, err) : NULL;
			free(path);
			return c;
		}
		free(path);
	}

	return conf_load_embedded(err);
}

struct supplier_conf *conf_find_supplier(struct conf *c, const char *slug)
{
	int i;

	if (!c || !slug)
		return NULL;
	for (i = 0; i < c->n_suppliers; i++)
		if (strcmp(c->suppliers[i].slug, slug) == 0)
			return &c->suppliers[i];
	return NULL;
}
