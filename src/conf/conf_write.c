/* conf_write.c - writes a supplier's settings back as a suppliers.d/SLUG.conf
 * text, checks such a text with the loader, and saves it atomically.
 *
 * The text holds the options that differ from their defaults, grouped and
 * commented, so that conf_load_supplier() reads back the same values.  A
 * secret is written the way it was given: inline, as an environment
 * variable's name (token_env) or as a command (token_cmd) - never its
 * resolved value.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf.h"

/* ---- mappings ---- */

bool conf_map_equal(const struct mapping *a, const struct mapping *b)
{
	int i;

	if (!str_eq(a->items, b->items) || !str_eq(a->sku, b->sku) || !str_eq(a->stock, b->stock)
	    || !str_eq(a->updated_at, b->updated_at) || !str_eq(a->available, b->available)
	    || !str_eq(a->success, b->success) || !str_eq(a->message, b->message)
	    || !str_eq(a->total, b->total) || !str_eq(a->next, b->next)
	    || a->delimiter != b->delimiter || a->quote != b->quote || a->header != b->header
	    || !str_eq(a->encoding, b->encoding) || a->n_text_values != b->n_text_values)
		return false;
	for (i = 0; i < a->n_text_values; i++)
		if (!str_eq(a->text_values[i].text, b->text_values[i].text)
		    || a->text_values[i].value != b->text_values[i].value)
			return false;
	return true;
}

/* ---- writing values ---- */

struct writer {
	struct buf b;
	int depth;
};

static void w_indent(struct writer *w)
{
	int i;

	for (i = 0; i < w->depth; i++)
		buf_putc(&w->b, '\t');
}

/* A libconfig string literal. */
static void w_quoted(struct buf *b, const char *s)
{
	const unsigned char *p;

	buf_putc(b, '"');
	for (p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': buf_puts(b, "\\\""); break;
		case '\\': buf_puts(b, "\\\\"); break;
		case '\n': buf_puts(b, "\\n"); break;
		case '\r': buf_puts(b, "\\r"); break;
		case '\t': buf_puts(b, "\\t"); break;
		case '\f': buf_puts(b, "\\f"); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				buf_printf(b, "\\x%02x", *p);
			else
				buf_putc(b, (char)*p);
		}
	}
	buf_putc(b, '"');
}

static void w_comment(struct writer *w, const char *text)
{
	buf_putc(&w->b, '\n');
	w_indent(w);
	buf_printf(&w->b, "# %s\n", text);
}

static void w_str(struct writer *w, const char *name, const char *v)
{
	if (!v)
		return;
	w_indent(w);
	buf_printf(&w->b, "%s = ", name);
	w_quoted(&w->b, v);
	buf_puts(&w->b, ";\n");
}

static void w_char(struct writer *w, const char *name, char c)
{
	char s[2] = { c, '\0' };

	w_str(w, name, s);
}

/* libconfig reads an integer literal beyond 32 bits only with an L. */
static void w_i64(struct writer *w, const char *name, int64_t v)
{
	w_indent(w);
	buf_printf(&w->b, "%s = %lld%s;\n", name, (long long)v,
	           v > INT32_MAX || v < INT32_MIN ? "L" : "");
}

static void w_bool(struct writer *w, const char *name, bool v)
{
	w_indent(w);
	buf_printf(&w->b, "%s = %s;\n", name, v ? "true" : "false");
}

/* The shortest decimal that reads back as v, always with a '.' or an
 * exponent so libconfig takes it as a decimal. */
static void w_num(struct writer *w, const char *name, double v)
{
	char tmp[64];
	int prec;

	for (prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	if (!strpbrk(tmp, ".eEn"))
		strcat(tmp, ".0");
	w_indent(w);
	buf_printf(&w->b, "%s = %s;\n", name, tmp);
}

/* Milliseconds as the seconds the file takes ("30", "1.5", "0.25"). */
static void w_seconds(struct writer *w, const char *name, int64_t ms)
{
	w_indent(w);
	if (ms % 1000 == 0) {
		buf_printf(&w->b, "%s = %lld;\n", name, (long long)(ms / 1000));
	} else {
		char frac[8];
		size_t n;

		snprintf(frac, sizeof(frac), "%03lld", (long long)(ms % 1000));
		n = strlen(frac);
		while (n > 1 && frac[n - 1] == '0')
			frac[--n] = '\0';
		buf_printf(&w->b, "%s = %lld.%s;\n", name, (long long)(ms / 1000), frac);
	}
}

static void w_open(struct writer *w, const char *name)
{
	w_indent(w);
	buf_printf(&w->b, "%s = {\n", name);
	w->depth++;
}

static void w_close(struct writer *w)
{
	w->depth--;
	w_indent(w);
	buf_puts(&w->b, "};\n");
}

/* A secret as given: NAME, NAME_env or NAME_cmd. */
static void w_secret(struct writer *w, const char *base, const struct secret *s)
{
	char name[48];

	switch (s->origin) {
	case SECRET_NONE:
		return;
	case SECRET_INLINE:
		snprintf(name, sizeof(name), "%s", base);
		break;
	case SECRET_ENV:
		snprintf(name, sizeof(name), "%s_env", base);
		break;
	case SECRET_CMD:
		snprintf(name, sizeof(name), "%s_cmd", base);
		break;
	}
	w_str(w, name, s->spec ? s->spec : "");
}

/* What a mapping is written for: which options it may hold. */
enum map_use { USE_SOURCE = 0, USE_CHECK, USE_WEBHOOK };

static void w_map(struct writer *w, const struct mapping *m, enum feed_format format,
                  enum map_use use)
{
	int i;

	w_open(w, "map");
	w_str(w, "items", m->items);
	w_str(w, "sku", m->sku);
	w_str(w, "stock", m->stock);
	w_str(w, "updated_at", m->updated_at);
	w_str(w, "available", m->available);
	w_str(w, "success", m->success);
	w_str(w, "message", m->message);
	if (use == USE_SOURCE) {
		w_str(w, "total", m->total);
		w_str(w, "next", m->next);
	}
	if (format == FORMAT_CSV && use != USE_WEBHOOK) {
		if (m->delimiter && m->delimiter != ',')
			w_char(w, "delimiter", m->delimiter);
		if (m->quote && m->quote != '"')
			w_char(w, "quote", m->quote);
		if (!m->header)
			w_bool(w, "header", false);
		if (m->encoding && strcmp(m->encoding, "UTF-8") != 0)
			w_str(w, "encoding", m->encoding);
	}
	if (m->n_text_values > 0) {
		w_indent(w);
		buf_puts(&w->b, "text_values = (");
		for (i = 0; i < m->n_text_values; i++) {
			buf_puts(&w->b, i ? ", (" : " (");
			w_quoted(&w->b, m->text_values[i].text ? m->text_values[i].text : "");
			buf_printf(&w->b, ", %lld%s)", (long long)m->text_values[i].value,
			           m->text_values[i].value > INT32_MAX ? "L" : "");
		}
		buf_puts(&w->b, " );\n");
	}
	w_close(w);
}

/* The options of a source group; with base (a delta), only those that
 * differ from base, which the loader takes over otherwise. */
static void w_source_opts(struct writer *w, const struct source_conf *src,
                          const struct source_conf *base)
{
	w_str(w, "url", src->url);
	if (!base || src->format != base->format)
		w_str(w, "format", conf_format_name(src->format));
	if (base ? src->paging != base->paging : src->paging != PAGE_NONE)
		w_str(w, "paging", conf_paging_name(src->paging));
	if (base ? src->page_size != base->page_size : src->page_size != 500)
		w_i64(w, "page_size", src->page_size);
	if (base ? src->first_page != base->first_page : src->first_page != 1)
		w_i64(w, "first_page", src->first_page);
	if (!str_eq(src->page_param, base ? base->page_param : "page"))
		w_str(w, "page_param", src->page_param);
	if (!str_eq(src->size_param, base ? base->size_param : "limit"))
		w_str(w, "size_param", src->size_param);
	if (!str_eq(src->ssh_known_hosts, base ? base->ssh_known_hosts : NULL))
		w_str(w, "ssh_known_hosts", src->ssh_known_hosts);
	if (!str_eq(src->ssh_host_key_sha256, base ? base->ssh_host_key_sha256 : NULL))
		w_str(w, "ssh_host_key_sha256", src->ssh_host_key_sha256);
	if (!str_eq(src->offset_param, base ? base->offset_param : "offset"))
		w_str(w, "offset_param", src->offset_param);
	if (!str_eq(src->cursor_param, base ? base->cursor_param : "cursor"))
		w_str(w, "cursor_param", src->cursor_param);
	if (base ? src->end != base->end : src->end != END_SHORT)
		w_str(w, "end", conf_end_name(src->end));
}

static void w_auth(struct writer *w, const struct auth_conf *a)
{
	if (a->kind == AUTH_NONE)
		return;
	w_comment(w, _("How dropstock signs in at the supplier."));
	w_open(w, "auth");
	w_str(w, "type", conf_auth_name(a->kind));
	switch (a->kind) {
	case AUTH_HEADER:
		w_str(w, "header", a->header);
		w_secret(w, "token", &a->token);
		break;
	case AUTH_QUERY:
		w_str(w, "param", a->param);
		w_secret(w, "token", &a->token);
		break;
	case AUTH_BEARER:
		w_secret(w, "token", &a->token);
		break;
	case AUTH_BASIC:
		w_str(w, "username", a->username);
		w_secret(w, "password", &a->password);
		break;
	case AUTH_NONE:
		break;
	}
	w_close(w);
}

static void w_rules(struct writer *w, const struct rules_conf *r)
{
	if (r->safety_buffer == 0 && r->cap < 0 && r->multiplier == 1.0 && r->pack_size == 1
	    && !r->zero_missing && r->zero_missing_max_pct == 20.0)
		return;
	w_comment(w, _("What the supplier's figure becomes in the store."));
	w_open(w, "rules");
	if (r->safety_buffer != 0)
		w_i64(w, "safety_buffer", r->safety_buffer);
	if (r->cap >= 0)
		w_i64(w, "cap", r->cap);
	if (r->multiplier != 1.0)
		w_num(w, "multiplier", r->multiplier);
	if (r->pack_size != 1)
		w_i64(w, "pack_size", r->pack_size);
	if (r->zero_missing)
		w_bool(w, "zero_missing", true);
	if (r->zero_missing_max_pct != 20.0)
		w_num(w, "zero_missing_max_pct", r->zero_missing_max_pct);
	w_close(w);
}

static void w_limits(struct writer *w, const struct supplier_conf *s)
{
	if (s->timeout_ms == 60000 && s->connect_timeout_ms == 10000 && s->rate_per_sec == 0
	    && s->rate_per_hour == 0 && s->max_bytes == 268435456 && s->retries == 3
	    && s->retry_delay_ms == 1000 && s->max_retry_wait_ms == 120000 && s->fresh_ms == 900000)
		return;
	w_comment(w, _("Requests: time limits, rate limits, retries (seconds)."));
	if (s->timeout_ms != 60000)
		w_seconds(w, "timeout", s->timeout_ms);
	if (s->connect_timeout_ms != 10000)
		w_seconds(w, "connect_timeout", s->connect_timeout_ms);
	if (s->rate_per_sec != 0)
		w_num(w, "rate_per_sec", s->rate_per_sec);
	if (s->rate_per_hour != 0)
		w_i64(w, "rate_per_hour", s->rate_per_hour);
	if (s->max_bytes != 268435456)
		w_i64(w, "max_bytes", s->max_bytes);
	if (s->retries != 3)
		w_i64(w, "retries", s->retries);
	if (s->retry_delay_ms != 1000)
		w_seconds(w, "retry_delay", s->retry_delay_ms);
	if (s->max_retry_wait_ms != 120000)
		w_seconds(w, "max_retry_wait", s->max_retry_wait_ms);
	if (s->fresh_ms != 900000)
		w_seconds(w, "cache_fresh", s->fresh_ms);
}

static void w_delta(struct writer *w, const struct supplier_conf *s)
{
	const struct delta_conf *d = &s->delta;

	if (!s->has_delta)
		return;
	w_comment(w, _("Delta: a source of the items changed since the last run."));
	w_open(w, "delta");
	w_source_opts(w, &d->source, &s->source);
	if (!str_eq(d->since_param, "updated_since"))
		w_str(w, "since_param", d->since_param);
	if (d->since_format == SINCE_UNIX)
		w_str(w, "since_format", "unix");
	if (d->overlap_ms != 120000)
		w_seconds(w, "overlap", d->overlap_ms);
	if (d->source.format != s->source.format || !conf_map_equal(&d->source.map, &s->source.map))
		w_map(w, &d->source.map, d->source.format, USE_SOURCE);
	w_close(w);
}

static void w_check(struct writer *w, const struct supplier_conf *s)
{
	const struct check_conf *k = &s->check;
	bool post = str_eq(k->method, "POST");

	if (!s->has_check)
		return;
	w_comment(w, _("Live check: asking the supplier about one SKU now."));
	w_open(w, "check");
	w_str(w, "url", k->url);
	if (post) {
		w_str(w, "method", "POST");
		w_str(w, "body", k->body);
		if (k->content_type && strcmp(k->content_type, "application/json") != 0)
			w_str(w, "content_type", k->content_type);
	}
	if (k->format != FORMAT_JSON)
		w_str(w, "format", conf_format_name(k->format));
	if (k->timeout_ms != 2000)
		w_seconds(w, "timeout", k->timeout_ms);
	if (k->on_failure == CHECK_REFUSE)
		w_str(w, "on_failure", "refuse");
	if (k->format != s->source.format || !conf_map_equal(&k->map, &s->source.map))
		w_map(w, &k->map, k->format, USE_CHECK);
	w_close(w);
}

static void w_webhook(struct writer *w, const struct supplier_conf *s)
{
	static const char *const scheme_names[] = { "custom", "github", "standard", "base64" };
	const struct webhook_conf *h = &s->webhook;
	const struct webhook_preset *p;
	int i;

	if (!h->enabled)
		return;
	p = conf_webhook_preset(h->scheme);
	w_comment(w, _("Webhook: signed stock pushes from the supplier."));
	w_open(w, "webhook");
	w_str(w, "scheme", (unsigned)h->scheme < ARRAY_SIZE(scheme_names)
	                   ? scheme_names[h->scheme] : "custom");
	if (h->header && !str_eq(h->header, p->header))
		w_str(w, "header", h->header);
	if (h->prefix && !str_eq(h->prefix, p->prefix))
		w_str(w, "prefix", h->prefix);
	if (h->scheme == WEBHOOK_CUSTOM && h->encoding == SIG_BASE64)
		w_str(w, "encoding", "base64");
	if (!p->fixed_key && h->key_base64)
		w_bool(w, "key_base64", true);
	if (h->n_secrets == 1) {
		w_secret(w, "secret", &h->secrets[0]);
	} else if (h->n_secrets > 1) {
		enum secret_origin o = h->secrets[0].origin;

		w_indent(w);
		buf_printf(&w->b, "%s = (", o == SECRET_ENV ? "secrets_env"
		                            : o == SECRET_CMD ? "secrets_cmd" : "secrets");
		for (i = 0; i < h->n_secrets; i++) {
			buf_puts(&w->b, i ? ", " : " ");
			w_quoted(&w->b, h->secrets[i].spec ? h->secrets[i].spec : "");
		}
		buf_puts(&w->b, " );\n");
	}
	if (h->timestamp_header && !str_eq(h->timestamp_header, p->timestamp_header))
		w_str(w, "timestamp_header", h->timestamp_header);
	if ((h->timestamp_header || p->timestamp_header)
	    && h->tolerance_ms != CONF_WEBHOOK_TOLERANCE_MS)
		w_seconds(w, "tolerance", h->tolerance_ms);
	if (h->id_header && !str_eq(h->id_header, p->id_header))
		w_str(w, "id_header", h->id_header);
	w_str(w, "id_field", h->id_field);
	if (h->max_body != 1048576)
		w_i64(w, "max_body", h->max_body);
	if (s->source.format != FORMAT_JSON || !conf_map_equal(&h->map, &s->source.map))
		w_map(w, &h->map, FORMAT_JSON, USE_WEBHOOK);
	w_close(w);
}

static void w_schedule_guard(struct writer *w, const struct supplier_conf *s)
{
	const struct guard_conf *g = &s->guard;

	if (s->schedule.full || (s->has_delta && s->schedule.delta)) {
		w_comment(w, _("When the daemon runs syncs (default: the daemon's own schedule)."));
		w_open(w, "schedule");
		w_str(w, "full", s->schedule.full);
		if (s->has_delta)
			w_str(w, "delta", s->schedule.delta);
		w_close(w);
	}
	if (!g->enabled || g->max_changed_pct != 50.0 || g->max_zeroed_pct != 50.0) {
		w_comment(w, _("The mass-change guard: runs changing too much wait for approval."));
		w_open(w, "guard");
		if (!g->enabled)
			w_bool(w, "enabled", false);
		if (g->max_changed_pct != 50.0)
			w_num(w, "max_changed_pct", g->max_changed_pct);
		if (g->max_zeroed_pct != 50.0)
			w_num(w, "max_zeroed_pct", g->max_zeroed_pct);
		w_close(w);
	}
}

char *conf_supplier_text(const struct supplier_conf *s)
{
	struct writer w = { BUF_INIT, 0 };

	buf_printf(&w.b, _("# suppliers.d/%s.conf - one supplier of dropstock; see dropstock.conf(5).\n"
	                   "# Written by the console's editor: options left out have their "
	                   "defaults.\n"), s->slug ? s->slug : "");
	w_comment(&w, _("The supplier."));
	w_str(&w, "slug", s->slug);
	if (s->name && !str_eq(s->name, s->slug))
		w_str(&w, "name", s->name);
	w_bool(&w, "active", s->active);
	if (s->priority != 100)
		w_i64(&w, "priority", s->priority);

	w_comment(&w, _("The full feed: where it is, its format and paging, and where the SKU "
	                "and stock are."));
	w_open(&w, "source");
	w_source_opts(&w, &s->source, NULL);
	w_map(&w, &s->source.map, s->source.format, USE_SOURCE);
	w_close(&w);

	w_auth(&w, &s->auth);
	w_rules(&w, &s->rules);
	w_limits(&w, s);
	w_delta(&w, s);
	w_check(&w, s);
	w_webhook(&w, s);
	w_schedule_guard(&w, s);
	return buf_steal(&w.b);
}

/* ---- checking and saving ---- */

/* A slug usable as a file name; the loader judges it fully. */
static bool slug_file_ok(const char *slug)
{
	return !str_empty(slug) && slug[0] != '.' && !strchr(slug, '/') && strlen(slug) <= 200;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Replaces every occurrence of from in err->msg by to. */
static void err_rename(struct error *err, const char *from, const char *to)
{
	struct buf b = BUF_INIT;
	const char *p, *hit;
	size_t n = strlen(from);

	if (!err || !n || !strstr(err->msg, from))
		return;
	for (p = err->msg; (hit = strstr(p, from)) != NULL; p = hit + n) {
		buf_append(&b, p, (size_t)(hit - p));
		buf_puts(&b, to);
	}
	buf_puts(&b, p);
	snprintf(err->msg, sizeof(err->msg), "%s", buf_str(&b));
	buf_free(&b);
}

int conf_supplier_validate(const char *text, const char *slug, const char *shown,
                           struct supplier_conf *out, struct error *err)
{
	const char *tmp = getenv("TMPDIR");
	struct supplier_conf local;
	char *dir, *path = NULL;
	int fd, rc = -1;

	if (out)
		memset(out, 0, sizeof(*out));
	dir = xasprintf("%s/dropstock-edit.XXXXXX", str_empty(tmp) ? "/tmp" : tmp);
	if (!mkdtemp(dir)) {
		err_set(err, ERRK_INTERNAL, _("%s: cannot create a temporary directory to check "
		                              "the supplier file: %s"), dir, strerror(errno));
		free(dir);
		return -1;
	}
	/* the loader wants the file named after the slug */
	path = xasprintf("%s/%s.conf", dir, slug_file_ok(slug) ? slug : "supplier");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write_all(fd, text, strlen(text)) < 0) {
		err_set(err, ERRK_INTERNAL, _("%s: cannot write the supplier file to check it: %s"),
		        path, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	close(fd);
	rc = conf_load_supplier(path, out ? out : &local, err);
	if (rc < 0 && shown)
		err_rename(err, path, shown);
	if (rc == 0) {
		if (out) {
			free(out->file);
			out->file = shown ? xstrdup(shown) : NULL;
		} else {
			conf_supplier_free(&local);
		}
	}
out:
	unlink(path);
	rmdir(dir);
	free(path);
	free(dir);
	return rc;
}

/* Keeps the current file as FILE.bak: a hard link, or a copy where the
 * file system has none. */
static int keep_backup(const char *path, struct error *err)
{
	char *bak = xasprintf("%s.bak", path);
	char *old = NULL;
	size_t len;
	int fd = -1, rc = -1;

	if (unlink(bak) < 0 && errno != ENOENT) {
		err_set(err, ERRK_CONFIG, _("%s: cannot replace the backup: %s"), bak, strerror(errno));
		goto out;
	}
	if (link(path, bak) == 0) {
		rc = 0;
		goto out;
	}
	old = file_read_all(path, &len, err);
	if (!old)
		goto out;
	fd = open(bak, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write_all(fd, old, len) < 0 || fsync(fd) < 0) {
		err_set(err, ERRK_CONFIG, _("%s: cannot write the backup: %s"), bak, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(old);
	free(bak);
	return rc;
}

int conf_supplier_save(const char *dir, const char *slug, const char *text, struct error *err)
{
	char *path = NULL, *tmp = NULL;
	struct stat st;
	int fd = -1, dfd, rc = -1;

	if (!slug_file_ok(slug))
		return err_set(err, ERRK_CONFIG, _("\"%s\" is not a valid slug: use 1 to 64 lower-case "
		                                   "letters, digits, '-' and '_'"), slug ? slug : "");
	if (mkdir_p(dir, err) < 0)
		return -1;
	path = xasprintf("%s/%s.conf", dir, slug);
	tmp = xasprintf("%s/.%s.conf.XXXXXX", dir, slug);
	fd = mkstemp(tmp);
	if (fd < 0) {
		err_set(err, ERRK_CONFIG, _("%s: cannot create a temporary file: %s"), dir,
		        strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	if (fchmod(fd, 0600) < 0 || write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0) {
		err_set(err, ERRK_CONFIG, _("%s: cannot write: %s"), tmp, strerror(errno));
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		err_set(err, ERRK_CONFIG, _("%s: cannot write: %s"), tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (stat(path, &st) == 0 && keep_backup(path, err) < 0)
		goto out;
	if (rename(tmp, path) < 0) {
		err_set(err, ERRK_CONFIG, _("%s: cannot replace with the new version: %s"), path,
		        strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	/* the rename itself survives a crash once the directory is synced */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	free(path);
	return rc;
}
