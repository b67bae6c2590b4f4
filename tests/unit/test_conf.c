/* test_conf.c - configuration loading: values, defaults, every kind of
 * error (each naming file, line and option), secrets, lookup order, the
 * embedded demo default and the shipped examples.
 */
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf.h"
#include "conf/conf_int.h"
#include "util/schedule.h"
#include "tap.h"

static char tmp_root[PATH_MAX];
static char *srcdir;
static int case_no;
static struct error E;

/* ---- helpers ---- */

static void write_file(const char *path, const char *text, int mode)
{
	char *dir = path_dirname(path);
	FILE *fp;

	if (mkdir_p(dir, NULL) < 0) {
		fprintf(stderr, "cannot create %s\n", dir);
		exit(99);
	}
	free(dir);
	fp = fopen(path, "w");
	if (!fp || fputs(text, fp) < 0 || fclose(fp) != 0) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		exit(99);
	}
	chmod(path, (mode_t)mode);
}

static void copy_file(const char *from, const char *to, int mode)
{
	char *text = file_read_all(from, NULL, NULL);

	if (!text) {
		fprintf(stderr, "cannot read %s\n", from);
		exit(99);
	}
	write_file(to, text, mode);
	free(text);
}

static char *src_path(const char *rel)
{
	return path_join(srcdir, rel);
}

/* A fresh directory for one case; caller frees. */
static char *new_case(void)
{
	char *dir = xasprintf("%s/case-%d", tmp_root, ++case_no);

	mkdir_p(dir, NULL);
	return dir;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Replaces the first `from` in text; caller frees. */
static char *subst(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);

	if (!at) {
		fprintf(stderr, "test bug: '%s' not in text\n", from);
		exit(99);
	}
	return xasprintf("%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
}

/* The base supplier; the line numbers matter to the error tests. */
static const char BASE[] =
	"slug = \"acme\";\n"                               /* 1 */
	"source = {\n"                                      /* 2 */
	"  url = \"https://api.example.com/stock\";\n"      /* 3 */
	"  format = \"json\";\n"                            /* 4 */
	"  map = {\n"                                       /* 5 */
	"    sku = \"sku\";\n"                              /* 6 */
	"    stock = \"qty\";\n"                            /* 7 */
	"  };\n"                                            /* 8 */
	"};\n";                                             /* 9 */

/* Writes an empty dropstock.conf and suppliers.d/STEM.conf holding text
 * (mode), then loads it.  NULL with E on error. */
static struct conf *load_sup(const char *stem, const char *text, int mode)
{
	char *dir = new_case(), *main_path, *sup;
	struct conf *c;

	main_path = path_join(dir, "dropstock.conf");
	sup = xasprintf("%s/suppliers.d/%s.conf", dir, stem);
	write_file(main_path, "# nothing global\n", 0644);
	write_file(sup, text, mode);
	err_clear(&E);
	c = conf_load_file(main_path, &E);
	free(main_path);
	free(sup);
	free(dir);
	return c;
}

/* Loads text as acme.conf, expecting an error whose message holds every
 * one of the NULL-terminated needles. */
static void expect_err(const char *what, const char *text, int mode, ...)
{
	struct conf *c = load_sup("acme", text, mode);
	va_list ap;
	const char *needle;

	ok(c == NULL, "%s: refused", what);
	conf_free(c);
	is_int(E.kind, ERRK_CONFIG, "%s: config error kind", what);
	va_start(ap, mode);
	while ((needle = va_arg(ap, const char *)) != NULL)
		like(E.msg, needle, "%s: message names %s", what, needle);
	va_end(ap);
}

/* Same, with one substitution in BASE. */
static void expect_err_sub(const char *what, const char *from, const char *to, ...)
{
	char *text = subst(BASE, from, to);
	struct conf *c = load_sup("acme", text, 0644);
	va_list ap;
	const char *needle;

	ok(c == NULL, "%s: refused", what);
	conf_free(c);
	is_int(E.kind, ERRK_CONFIG, "%s: config error kind", what);
	va_start(ap, to);
	while ((needle = va_arg(ap, const char *)) != NULL)
		like(E.msg, needle, "%s: message names %s", what, needle);
	va_end(ap);
	free(text);
}

/* ---- good configuration ---- */

static void test_good(void)
{
	static const char *const files[] = {
		"dropstock.conf", "suppliers.d/acme.conf", "suppliers.d/beta.conf",
		"suppliers.d/zeta-2.conf", "suppliers.d/README", "suppliers.d/.hidden.conf", NULL
	};
	char *dir = xasprintf("%s/good", tmp_root), *main_path, *want;
	struct supplier_conf *a, *b, *z;
	struct conf *c;
	int i;

	for (i = 0; files[i]; i++) {
		char *rel = xasprintf("tests/fixtures/conf/good/%s", files[i]);
		char *from = src_path(rel), *to = path_join(dir, files[i]);

		copy_file(from, to, 0644);
		free(rel);
		free(from);
		free(to);
	}
	main_path = path_join(dir, "dropstock.conf");
	setenv("DS_TEST_ACME_TOKEN", "acme-token-1", 1);
	setenv("DS_TEST_WH_NEW", "bmV3LXNlY3JldA==", 1);         /* "new-secret" */
	setenv("DS_TEST_WH_OLD", "whsec_b2xkLXNlY3JldA==", 1);   /* "old-secret" */
	setenv("DS_TEST_EVENTS_KEY", "whsec_c3RvcmUta2V5", 1);    /* "store-key" */
	err_clear(&E);
	c = conf_load_file(main_path, &E);
	ok(c != NULL, "good config loads");
	if (!c) {
		printf("# %s\n", E.msg);
		goto out;
	}
	is_str(c->file, main_path, "file is the path loaded");
	ok(!c->embedded, "not embedded");
	ok(c->demo_catalogue == NULL, "no demo catalogue");
	want = path_join(dir, "data/stock.db");
	is_str(c->db_path, want, "relative database is below the config directory");
	free(want);
	want = path_join(dir, "suppliers.d");
	is_str(c->suppliers_dir, want, "suppliers_dir below the config directory");
	free(want);
	is_int(c->aggregate, AGG_FIRST, "aggregate first");
	is_str(c->user_agent_extra, "shop.example; ops@shop.example", "user_agent_extra");
	is_str(c->service.listen, "[::1]:9090", "service.listen");
	is_int(c->service.line, 6, "service line");
	is_int(c->service.n_api_keys, 3, "api_keys_cmd: three keys over two lines");
	if (c->service.n_api_keys == 3) {
		is_str(c->service.api_keys[0].value, "key-one", "  key 1");
		is_str(c->service.api_keys[1].value, "key-two", "  key 2");
		is_str(c->service.api_keys[2].value, "key-three", "  key 3");
		is_int(c->service.api_keys[2].origin, SECRET_CMD, "  origin cmd");
		is_str(c->service.api_keys[2].spec, "printf 'key-one key-two\\nkey-three\\n'",
		       "  spec is the command");
	}
	is_int(c->service.threads, 8, "service.threads");
	is_int(c->service.connection_timeout_ms, 2500, "service.connection_timeout 2.5 s");
	is_int(c->service.max_connections, 200, "service.max_connections");
	is_int(c->service.max_connections_per_ip, 20, "service.max_connections_per_ip");
	is_int(c->service.memory_limit, 131072, "service.memory_limit");
	ok(!c->service.access_log, "service.access_log false");
	is_int(c->daemon.line, 16, "daemon line");
	is_str(c->daemon.timezone, "UTC", "daemon.timezone UTC");
	is_str(c->daemon.full, "0 2 * * 1-5", "daemon.full cron");
	is_str(c->daemon.delta, "every 90s", "daemon.delta");
	is_int(c->daemon.workers, 2, "daemon.workers");
	is_int(c->daemon.max_attempts, 5, "daemon.max_attempts");
	is_int(c->daemon.n_backoff, 3, "daemon.backoff: three waits");
	if (c->daemon.n_backoff == 3) {
		is_int(c->daemon.backoff_ms[0], 1000, "  1 s");
		is_int(c->daemon.backoff_ms[1], 2500, "  2.5 s (a decimal in the list)");
		is_int(c->daemon.backoff_ms[2], 30000, "  30 s");
	}
	ok(c->daemon.jitter == 0.25, "daemon.jitter");
	is_int(c->daemon.run_timeout_ms, 600000, "daemon.run_timeout 600 s");
	is_int(c->daemon.heartbeat_stale_ms, 7500, "daemon.heartbeat_stale 7.5 s");
	ok(!c->daemon.serve, "daemon.serve false");
	is_int(c->events.line, 28, "events line");
	is_str(c->events.url, "https://shop.example/hooks/dropstock", "events.url");
	is_int(c->events.secret.origin, SECRET_ENV, "events secret from the environment");
	is_str(c->events.secret.spec, "DS_TEST_EVENTS_KEY", "  spec is the variable");
	is_str(c->events.secret.value, "whsec_c3RvcmUta2V5", "  value resolved");
	is_str(c->events.command, "cat >> /dev/null", "events.command");
	is_int(c->events.batch, 20, "events.batch");
	is_int(c->events.timeout_ms, 2500, "events.timeout 2.5 s");
	is_int(c->events.first_backoff_ms, 500, "events.first_backoff 0.5 s");
	is_int(c->events.max_backoff_ms, 60000, "events.max_backoff 60 s");
	is_int(c->events.give_up_ms, 3600000, "events.give_up 3600 s");
	is_int(c->n_suppliers, 3, "three suppliers (README and hidden file skipped)");
	if (c->n_suppliers != 3)
		goto out;
	is_str(c->suppliers[0].slug, "acme", "sorted: acme first");
	is_str(c->suppliers[1].slug, "beta", "sorted: beta second");
	is_str(c->suppliers[2].slug, "zeta-2", "sorted: zeta-2 third");

	a = conf_find_supplier(c, "acme");
	ok(a == &c->suppliers[0], "conf_find_supplier finds acme");
	ok(conf_find_supplier(c, "nope") == NULL, "conf_find_supplier: unknown slug -> NULL");
	is_str(a->name, "ACME Distribution", "acme name");
	ok(a->active, "acme active");
	is_int(a->priority, 5, "acme priority");
	is_int(a->line, 2, "acme line of slug");
	like(a->file, "suppliers.d/acme.conf", "acme file");
	is_str(a->source.url, "https://api.acme.example/v2/stock", "acme url");
	is_int(a->source.format, FORMAT_JSON, "acme format");
	is_int(a->source.paging, PAGE_CURSOR, "acme paging");
	is_int(a->source.page_size, 250, "acme page_size");
	is_int(a->source.first_page, 0, "acme first_page");
	is_str(a->source.page_param, "p", "acme page_param");
	is_str(a->source.size_param, "per_page", "acme size_param");
	is_str(a->source.offset_param, "skip", "acme offset_param");
	is_str(a->source.cursor_param, "after", "acme cursor_param");
	is_int(a->source.end, END_TOTAL, "acme end");
	is_int(a->source.line, 6, "acme source line");
	is_str(a->source.map.items, "data.items", "map items");
	is_str(a->source.map.sku, "sku", "map sku");
	is_str(a->source.map.stock, "warehouses.qty", "map stock");
	is_str(a->source.map.updated_at, "updated_at", "map updated_at");
	is_str(a->source.map.available, "active", "map available");
	is_str(a->source.map.success, "success", "map success");
	is_str(a->source.map.message, "message", "map message");
	is_str(a->source.map.total, "meta.total", "map total");
	is_str(a->source.map.next, "meta.next", "map next");
	is_int(a->source.map.n_text_values, 3, "three text values");
	if (a->source.map.n_text_values == 3) {
		is_str(a->source.map.text_values[0].text, "In Stock", "text value trimmed");
		is_int(a->source.map.text_values[0].value, 5, "text value 0");
		is_str(a->source.map.text_values[2].text, ">10", "text value 2");
		is_int(a->source.map.text_values[2].value, 10, "text value 2 number");
	}
	is_int(a->auth.kind, AUTH_BEARER, "acme bearer");
	is_int(a->auth.token.origin, SECRET_ENV, "token from env");
	is_str(a->auth.token.spec, "DS_TEST_ACME_TOKEN", "token spec is the variable");
	is_str(a->auth.token.value, "acme-token-1", "token value resolved");
	is_int(a->rules.safety_buffer, 2, "safety_buffer");
	is_int(a->rules.cap, 50, "cap");
	ok(a->rules.multiplier == 2.0, "integer multiplier accepted as 2.0");
	is_int(a->rules.pack_size, 6, "pack_size");
	ok(a->rules.zero_missing, "zero_missing");
	ok(a->rules.zero_missing_max_pct == 12.5, "zero_missing_max_pct");
	is_int(a->timeout_ms, 30000, "timeout 30 s");
	is_int(a->connect_timeout_ms, 2500, "connect_timeout 2.5 s");
	ok(a->rate_per_sec == 4.0, "rate_per_sec from an integer");
	is_int(a->rate_per_hour, 1000, "rate_per_hour");
	is_int(a->max_bytes, 1048576, "max_bytes");
	is_int(a->retries, 0, "retries 0");
	is_int(a->retry_delay_ms, 250, "retry_delay 0.25 s");
	is_int(a->max_retry_wait_ms, 30000, "max_retry_wait");
	is_int(a->fresh_ms, 60000, "cache_fresh 60 s");

	ok(a->has_delta, "acme has a delta source");
	is_str(a->delta.source.url, "https://api.acme.example/v2/stock/changes", "delta url");
	is_int(a->delta.source.format, FORMAT_JSON, "delta format");
	is_int(a->delta.source.paging, PAGE_OFFSET, "delta paging (its own)");
	is_int(a->delta.source.page_size, 100, "delta page_size");
	is_int(a->delta.source.first_page, 2, "delta first_page");
	is_str(a->delta.source.page_param, "pg", "delta page_param");
	is_str(a->delta.source.size_param, "n", "delta size_param");
	is_str(a->delta.source.offset_param, "from", "delta offset_param");
	is_str(a->delta.source.cursor_param, "c", "delta cursor_param");
	is_int(a->delta.source.end, END_EMPTY, "delta end");
	is_int(a->delta.source.line, 55, "delta line");
	is_str(a->delta.source.map.items, "changes", "delta map items (its own)");
	is_str(a->delta.source.map.sku, "id", "delta map sku");
	is_str(a->delta.source.map.updated_at, "ts", "delta map updated_at");
	ok(a->delta.source.map.next == NULL, "delta map: nothing of the source's map");
	is_int(a->delta.source.map.n_text_values, 0, "delta map: no text values of the source's");
	is_str(a->delta.since_param, "since", "since_param");
	is_int(a->delta.since_format, SINCE_UNIX, "since_format unix");
	is_int(a->delta.overlap_ms, 30500, "overlap 30.5 s");

	ok(a->has_check, "acme has a check source");
	is_str(a->check.url, "https://api.acme.example/v2/stock/lookup", "check url");
	is_str(a->check.method, "POST", "check method");
	is_str(a->check.body, "{\"skus\": {skus}}", "check body");
	is_str(a->check.content_type, "application/vnd.acme+json", "check content_type");
	is_int(a->check.format, FORMAT_JSON, "check format");
	is_str(a->check.map.items, "results", "check map items");
	is_str(a->check.map.success, "ok", "check map success");
	is_int(a->check.timeout_ms, 1500, "check timeout 1.5 s");
	is_int(a->check.on_failure, CHECK_REFUSE, "check on_failure refuse");
	is_int(a->check.line, 76, "check line");

	ok(a->webhook.enabled, "acme webhook enabled");
	is_int(a->webhook.scheme, WEBHOOK_CUSTOM, "webhook scheme custom");
	is_str(a->webhook.header, "X-Acme-Signature", "webhook header");
	is_str(a->webhook.prefix, "hmac=", "webhook prefix");
	is_int(a->webhook.encoding, SIG_BASE64, "webhook encoding base64");
	ok(a->webhook.key_base64, "webhook key_base64");
	is_int(a->webhook.n_secrets, 2, "two webhook secrets");
	if (a->webhook.n_secrets == 2) {
		is_int(a->webhook.secrets[0].origin, SECRET_ENV, "  from the environment");
		is_str(a->webhook.secrets[0].spec, "DS_TEST_WH_NEW", "  first variable");
		is_str(a->webhook.secrets[0].value, "bmV3LXNlY3JldA==", "  first value");
		is_str(a->webhook.secrets[1].value, "whsec_b2xkLXNlY3JldA==", "  second value");
	}
	is_str(a->webhook.timestamp_header, "X-Acme-Timestamp", "webhook timestamp_header");
	is_int(a->webhook.tolerance_ms, 60000, "webhook tolerance");
	is_str(a->webhook.id_header, "X-Acme-Delivery", "webhook id_header");
	is_str(a->webhook.id_field, "event.id", "webhook id_field");
	is_int(a->webhook.max_body, 65536, "webhook max_body");
	is_str(a->webhook.map.items, "items", "webhook map items");
	is_str(a->webhook.map.available, "on_sale", "webhook map available");
	is_int(a->webhook.line, 93, "webhook line");
	is_str(a->schedule.full, "daily 04:30", "acme schedule.full");
	is_str(a->schedule.delta, "every 5m", "acme schedule.delta");
	is_int(a->schedule.line, 113, "acme schedule line");
	ok(!a->guard.enabled, "acme guard off");
	ok(a->guard.max_changed_pct == 25.0, "acme guard.max_changed_pct from an integer");
	ok(a->guard.max_zeroed_pct == 12.5, "acme guard.max_zeroed_pct");
	is_int(a->guard.line, 117, "acme guard line");

	b = conf_find_supplier(c, "beta");
	is_str(b->name, "beta", "name defaults to the slug");
	ok(b->active, "active by default");
	is_int(b->priority, 100, "priority default");
	is_int(b->source.format, FORMAT_CSV, "beta csv");
	is_int(b->source.paging, PAGE_NONE, "paging default none");
	is_int(b->source.page_size, 500, "page_size default");
	is_int(b->source.first_page, 1, "first_page default");
	is_str(b->source.page_param, "page", "page_param default");
	is_str(b->source.size_param, "limit", "size_param default");
	is_str(b->source.offset_param, "offset", "offset_param default");
	is_str(b->source.cursor_param, "cursor", "cursor_param default");
	is_int(b->source.end, END_SHORT, "end default");
	ok(b->source.map.items == NULL, "items not given -> NULL");
	ok(b->source.map.updated_at == NULL, "updated_at not given -> NULL");
	is_int(b->source.map.delimiter, ',', "delimiter default");
	is_int(b->source.map.quote, '"', "quote default");
	ok(b->source.map.header, "header default true");
	is_str(b->source.map.encoding, "UTF-8", "encoding default");
	is_int(b->source.map.n_text_values, 0, "no text values");
	is_int(b->auth.kind, AUTH_NONE, "auth default none");
	is_int(b->auth.token.origin, SECRET_NONE, "no token");
	is_int(b->rules.safety_buffer, 0, "safety_buffer default");
	is_int(b->rules.cap, -1, "cap default none");
	ok(b->rules.multiplier == 1.0, "multiplier default");
	is_int(b->rules.pack_size, 1, "pack_size default");
	ok(!b->rules.zero_missing, "zero_missing default");
	ok(b->rules.zero_missing_max_pct == 20.0, "zero_missing_max_pct default");
	is_int(b->timeout_ms, 60000, "timeout default");
	is_int(b->connect_timeout_ms, 10000, "connect_timeout default");
	ok(b->rate_per_sec == 0.0, "rate_per_sec default");
	is_int(b->rate_per_hour, 0, "rate_per_hour default");
	is_int(b->max_bytes, 268435456, "max_bytes default");
	is_int(b->retries, 3, "retries default");
	is_int(b->retry_delay_ms, 1000, "retry_delay default");
	is_int(b->max_retry_wait_ms, 120000, "max_retry_wait default");
	is_int(b->fresh_ms, 900000, "cache_fresh default 900 s");
	ok(!b->has_delta, "no delta source by default");
	ok(b->delta.source.url == NULL, "  delta zeroed");
	ok(!b->has_check, "no check source by default");
	ok(b->check.url == NULL, "  check zeroed");
	ok(!b->webhook.enabled, "webhook disabled by default");
	is_int(b->webhook.n_secrets, 0, "  no webhook secrets");
	ok(b->schedule.full == NULL, "schedule.full default NULL (the daemon's)");
	ok(b->schedule.delta == NULL, "schedule.delta default NULL (the daemon's)");
	is_int(b->schedule.line, 0, "  schedule line 0 when not given");
	ok(b->guard.enabled, "guard on by default");
	ok(b->guard.max_changed_pct == 50.0, "guard.max_changed_pct default 50");
	ok(b->guard.max_zeroed_pct == 50.0, "guard.max_zeroed_pct default 50");
	is_int(b->guard.line, 0, "  guard line 0 when not given");

	z = conf_find_supplier(c, "zeta-2");
	ok(!z->active, "zeta inactive");
	is_int(z->source.format, FORMAT_XML, "zeta xml");
	is_int(z->source.paging, PAGE_LINK, "zeta link paging");
	is_int(z->source.end, END_EMPTY, "zeta end empty");
	is_str(z->source.url, "SFTP://files.zeta.example/out/stock.xml", "upper-case scheme accepted");
	is_int(z->auth.kind, AUTH_BASIC, "zeta basic");
	is_str(z->auth.username, "shop", "zeta username");
	is_int(z->auth.password.origin, SECRET_CMD, "password from command");
	is_str(z->auth.password.value, "pa ss", "command output without newline");
	ok(z->has_delta, "zeta delta");
	is_str(z->delta.source.url, "sftp://files.zeta.example/out/changes.xml", "zeta delta url");
	is_int(z->delta.source.format, FORMAT_XML, "delta format from the source");
	is_int(z->delta.source.paging, PAGE_LINK, "delta paging from the source");
	is_int(z->delta.source.end, END_EMPTY, "delta end from the source");
	is_str(z->delta.source.map.items, "products/product", "delta map copied from the source");
	is_str(z->delta.source.map.sku, "@code", "  sku");
	ok(z->delta.source.map.sku != z->source.map.sku, "  a copy, not shared");
	is_str(z->delta.since_param, "updated_since", "since_param default");
	is_int(z->delta.since_format, SINCE_ISO, "since_format default iso");
	is_int(z->delta.overlap_ms, 120000, "overlap default 120 s");
	ok(z->has_check, "zeta check");
	is_str(z->check.method, "GET", "check method default GET");
	ok(z->check.body == NULL, "check body default none");
	is_str(z->check.content_type, "application/json", "check content_type default");
	is_int(z->check.format, FORMAT_XML, "check format xml");
	is_str(z->check.map.stock, "qty", "check map copied from the source");
	is_int(z->check.timeout_ms, 2000, "check timeout default 2 s");
	is_int(z->check.on_failure, CHECK_FALLBACK_CACHE, "check on_failure default cache");
	ok(z->webhook.enabled, "zeta webhook");
	is_int(z->webhook.scheme, WEBHOOK_GITHUB, "github scheme");
	is_str(z->webhook.header, "X-Hub-Signature-256", "github preset header");
	is_str(z->webhook.prefix, "sha256=", "github preset prefix");
	is_int(z->webhook.encoding, SIG_HEX, "github hex");
	ok(!z->webhook.key_base64, "github key is text");
	ok(z->webhook.timestamp_header == NULL, "github: no timestamp header");
	is_int(z->webhook.n_secrets, 1, "one secret");
	is_int(z->webhook.secrets[0].origin, SECRET_CMD, "  from a command");
	is_str(z->webhook.secrets[0].value, "zeta-hook", "  value");
	is_int(z->webhook.tolerance_ms, 300000, "tolerance default 300 s");
	is_int(z->webhook.max_body, 1048576, "max_body default 1 MiB");
	is_str(z->webhook.map.sku, "code", "webhook map its own");
	ok(z->webhook.map.items == NULL, "  items not given");
	ok(z->schedule.full == NULL, "zeta: schedule.full not given");
	is_str(z->schedule.delta, "off", "zeta: deltas off");

	is_str(conf_format_name(FORMAT_CSV), "csv", "format name");
	is_str(conf_paging_name(PAGE_NEXT_URL), "next_url", "paging name");
	is_str(conf_end_name(END_TOTAL), "total", "end name");
	is_str(conf_auth_name(AUTH_QUERY), "query", "auth name");
	is_str(conf_aggregate_name(AGG_MAX), "max", "aggregate name");
out:
	unsetenv("DS_TEST_EVENTS_KEY");
	conf_free(c);
	free(main_path);
	free(dir);
}

/* The defaults of the daemon and events groups. */
static void check_daemon_defaults(const struct conf *c, const char *what)
{
	ok(c->daemon.timezone == NULL, "%s: daemon.timezone default NULL (the system's)", what);
	is_str(c->daemon.full, "daily 03:00", "%s: daemon.full default", what);
	is_str(c->daemon.delta, "every 30m", "%s: daemon.delta default", what);
	is_int(c->daemon.workers, 4, "%s: daemon.workers default", what);
	is_int(c->daemon.max_attempts, 3, "%s: daemon.max_attempts default", what);
	is_int(c->daemon.n_backoff, 3, "%s: daemon.backoff: three waits", what);
	if (c->daemon.n_backoff == 3) {
		is_int(c->daemon.backoff_ms[0], 60000, "%s:   60 s", what);
		is_int(c->daemon.backoff_ms[1], 300000, "%s:   300 s", what);
		is_int(c->daemon.backoff_ms[2], 900000, "%s:   900 s", what);
	}
	ok(c->daemon.jitter == 0.1, "%s: daemon.jitter default 0.1", what);
	is_int(c->daemon.run_timeout_ms, 1800000, "%s: daemon.run_timeout default 1800 s", what);
	is_int(c->daemon.heartbeat_stale_ms, 60000, "%s: daemon.heartbeat_stale default 60 s",
	       what);
	ok(c->daemon.serve, "%s: daemon.serve default true", what);
}

static void check_events_defaults(const struct conf *c, const char *what)
{
	ok(c->events.url == NULL, "%s: events.url default NULL", what);
	ok(c->events.command == NULL, "%s: events.command default NULL", what);
	is_int(c->events.secret.origin, SECRET_NONE, "%s: no events secret", what);
	ok(c->events.secret.value == NULL, "%s:   value NULL", what);
	is_int(c->events.batch, 50, "%s: events.batch default", what);
	is_int(c->events.timeout_ms, 10000, "%s: events.timeout default 10 s", what);
	is_int(c->events.first_backoff_ms, 10000, "%s: events.first_backoff default 10 s", what);
	is_int(c->events.max_backoff_ms, 3600000, "%s: events.max_backoff default 1 h", what);
	is_int(c->events.give_up_ms, 86400000, "%s: events.give_up default 24 h", what);
	is_int(c->events.line, 0, "%s: events line 0 when not given", what);
}

/* Defaults of the main file: database in the state dir, suppliers.d optional. */
static void test_main_defaults(void)
{
	char *dir = new_case(), *main_path = path_join(dir, "dropstock.conf"), *want;
	struct conf *c;

	write_file(main_path, "", 0644);
	setenv("XDG_STATE_HOME", tmp_root, 1);
	err_clear(&E);
	c = conf_load_file(main_path, &E);
	ok(c != NULL, "empty dropstock.conf loads (no suppliers.d)");
	if (c) {
		want = xasprintf("%s/dropstock/dropstock.db", tmp_root);
		is_str(c->db_path, want, "database defaults to $XDG_STATE_HOME/dropstock/dropstock.db");
		free(want);
		is_int(c->aggregate, AGG_SUM, "aggregate default sum");
		ok(c->user_agent_extra == NULL, "user_agent_extra default NULL");
		is_int(c->n_suppliers, 0, "no suppliers");
		is_str(c->service.listen, "127.0.0.1:8787", "service.listen default");
		is_int(c->service.n_api_keys, 0, "no api keys by default");
		ok(c->service.api_keys == NULL, "  api_keys NULL");
		is_int(c->service.threads, 4, "service.threads default");
		is_int(c->service.connection_timeout_ms, 10000, "connection_timeout default 10 s");
		is_int(c->service.max_connections, 1024, "max_connections default");
		is_int(c->service.max_connections_per_ip, 128, "max_connections_per_ip default");
		is_int(c->service.memory_limit, 65536, "memory_limit default");
		ok(c->service.access_log, "access_log default true");
		is_int(c->service.line, 0, "service line 0 when not given");
		check_daemon_defaults(c, "no daemon group");
		check_events_defaults(c, "no events group");
	}
	conf_free(c);

	write_file(main_path, "# empty groups\ndaemon = {\n};\n", 0644);
	err_clear(&E);
	c = conf_load_file(main_path, &E);
	ok(c != NULL, "an empty daemon group loads");
	if (c) {
		check_daemon_defaults(c, "empty daemon group");
		is_int(c->daemon.line, 2, "empty daemon group: line");
	} else {
		printf("# %s\n", E.msg);
	}
	conf_free(c);

	write_file(main_path, "database = \"~/shop/stock.db\";\n", 0644);
	setenv("HOME", "/home/someone", 1);
	c = conf_load_file(main_path, &E);
	ok(c && str_eq(c->db_path, "/home/someone/shop/stock.db"), "~/ expands to $HOME");
	conf_free(c);

	write_file(main_path, "# the directory below does not exist\nsuppliers_dir = \"nowhere\";\n", 0644);
	err_clear(&E);
	c = conf_load_file(main_path, &E);
	ok(c == NULL, "a suppliers_dir that is named but missing is an error");
	like(E.msg, "dropstock.conf:2: suppliers_dir", "  names file, line and option");
	like(E.msg, "nowhere", "  names the directory");
	conf_free(c);

	/* a relative path to the main file still gives absolute derived paths */
	{
		char cwd[PATH_MAX];

		if (getcwd(cwd, sizeof(cwd)) && chdir(dir) == 0) {
			write_file("dropstock.conf", "database = \"db/x.db\";\n", 0644);
			c = conf_load_file("dropstock.conf", &E);
			want = path_join(dir, "db/x.db");
			ok(c && str_eq(c->db_path, want), "relative config path: database made absolute");
			free(want);
			conf_free(c);
			if (chdir(cwd) != 0)
				ok(0, "chdir back");
		}
	}
	free(main_path);
	free(dir);
}

/* ---- errors ---- */

static void test_syntax(void)
{
	char *dir, *main_path;
	struct conf *c;

	expect_err_sub("syntax error", "  format = \"json\";\n", "  format = = \"json\";\n",
	               "acme.conf:4", "syntax error", NULL);

	dir = new_case();
	main_path = path_join(dir, "dropstock.conf");
	write_file(main_path, "# one\naggregate = \"sum\"\ndatabase = ;\n", 0644);
	err_clear(&E);
	c = conf_load_file(main_path, &E);
	ok(c == NULL, "syntax error in dropstock.conf refused");
	like(E.msg, "dropstock.conf:3", "  names dropstock.conf:3");
	like(E.msg, "syntax error", "  says syntax error");
	conf_free(c);
	free(main_path);
	free(dir);
}

static void test_unknown(void)
{
	char *dir = new_case(), *main_path = path_join(dir, "dropstock.conf");
	struct conf *c;

	write_file(main_path, "# global\n\n\n\n\n\ndatabse = \"x.db\";\n", 0644);
	err_clear(&E);
	c = conf_load_file(main_path, &E);
	ok(c == NULL, "unknown top-level option refused");
	like(E.msg, "dropstock.conf:7: databse: unknown option 'databse'", "  file:line: option");
	like(E.msg, "did you mean 'database'", "  suggests the close name");
	conf_free(c);
	free(main_path);
	free(dir);

	expect_err_sub("unknown map option", "    stock = \"qty\";\n",
	               "    stock = \"qty\";\n    skuu = \"id\";\n",
	               "acme.conf:8", "source.map.skuu", "unknown option 'skuu'", NULL);
	expect_err_sub("unknown source option", "  format = \"json\";\n",
	               "  format = \"json\";\n  pagign = \"page\";\n",
	               "acme.conf:5", "source.pagign", "did you mean 'paging'", NULL);
	{
		char *text = xasprintf("%scolour = \"blue\";\n", BASE);

		expect_err("unknown root option", text, 0644,
		           "acme.conf:10", "colour", "unknown option 'colour'", NULL);
		ok(strstr(E.msg, "did you mean") == NULL, "  no far-fetched suggestion");
		free(text);
	}
}

static void test_types(void)
{
	char *text;

	expect_err_sub("string for an integer", "  format = \"json\";\n",
	               "  format = \"json\";\n  page_size = \"500\";\n",
	               "acme.conf:5", "source.page_size", "expected an integer",
	               "got a string (\"500\")", NULL);
	text = xasprintf("%sretries = 2.5;\n", BASE);
	expect_err("float for an integer", text, 0644, "acme.conf:10", "retries",
	           "expected an integer", "decimal", NULL);
	free(text);
	text = xasprintf("%sactive = \"yes\";\n", BASE);
	expect_err("string for a boolean", text, 0644, "acme.conf:10", "active",
	           "expected a boolean", NULL);
	free(text);
	text = xasprintf("%stimeout = \"30s\";\n", BASE);
	expect_err("string for seconds", text, 0644, "acme.conf:10", "timeout",
	           "expected a number", NULL);
	free(text);
	expect_err_sub("integer for a string", "    sku = \"sku\";\n", "    sku = 3;\n",
	               "acme.conf:6", "source.map.sku", "expected a string", NULL);
	text = xasprintf("%srules = 5;\n", BASE);
	expect_err("integer for a group", text, 0644, "acme.conf:10", "rules",
	           "expected a group", NULL);
	free(text);
	text = xasprintf("%sretries = 11;\n", BASE);
	expect_err("out of range", text, 0644, "acme.conf:10", "retries",
	           "between 0 and 10", "11", NULL);
	free(text);
	/* libconfig would silently wrap these to 0 and to a negative number */
	text = xasprintf("%smax_bytes = 4294967296;\n", BASE);
	expect_err("32-bit overflow", text, 0644, "acme.conf:10", "max_bytes",
	           "4294967296L", NULL);
	free(text);
	text = xasprintf("%srules = { cap = 2147483648; };\n", BASE);
	expect_err("32-bit overflow in a group", text, 0644, "acme.conf:10", "cap",
	           "2147483648L", NULL);
	free(text);
	{
		struct conf *c;

		text = xasprintf("# 99999999999 in a comment is fine\n%s"
		                 "name = \"Supplier 99999999999\";\nmax_bytes = 4294967296L;\n"
		                 "rate_per_sec = 0.5e1;\nrules = { safety_buffer = 1L; };\n", BASE);
		c = load_sup("acme", text, 0644);
		ok(c != NULL, "64-bit integer with L, big numbers in comments and strings");
		if (c) {
			is_int(c->suppliers[0].max_bytes, 4294967296LL, "  max_bytes 4294967296");
			ok(c->suppliers[0].rate_per_sec == 5.0, "  decimal with exponent");
			is_int(c->suppliers[0].rules.safety_buffer, 1, "  1L is an integer");
		} else {
			printf("# %s\n", E.msg);
		}
		conf_free(c);
		free(text);
	}
	text = xasprintf("%srules = {\n  zero_missing_max_pct = 150;\n};\n", BASE);
	expect_err("percent out of range", text, 0644, "acme.conf:11",
	           "rules.zero_missing_max_pct", "between 0 and 100", NULL);
	free(text);
	text = xasprintf("%srules = {\n  multiplier = 0;\n};\n", BASE);
	expect_err("multiplier 0", text, 0644, "acme.conf:11", "rules.multiplier",
	           "more than 0", NULL);
	free(text);
	expect_err_sub("page_size 0", "  format = \"json\";\n",
	               "  format = \"json\";\n  page_size = 0;\n",
	               "acme.conf:5", "source.page_size", "between 1 and 100000", NULL);
	expect_err_sub("bad text_values pair", "    stock = \"qty\";\n",
	               "    stock = \"qty\";\n    text_values = ( (\"many\", \"lots\") );\n",
	               "acme.conf:8", "source.map.text_values[0]", "expected an integer", NULL);
	expect_err_sub("text_values not a list", "    stock = \"qty\";\n",
	               "    stock = \"qty\";\n    text_values = \"in stock\";\n",
	               "acme.conf:8", "source.map.text_values", "list", NULL);
	expect_err_sub("negative text value", "    stock = \"qty\";\n",
	               "    stock = \"qty\";\n    text_values = ( (\"none\", -1) );\n",
	               "acme.conf:8", "source.map.text_values[0]", "negative", NULL);
	expect_err_sub("duplicate text value", "    stock = \"qty\";\n",
	               "    stock = \"qty\";\n    text_values = ( (\"few\", 2),\n"
	               "      (\"FEW\", 3) );\n",
	               "acme.conf:9", "source.map.text_values[1]", "listed twice", NULL);
}

static void test_enums(void)
{
	char *dir, *main_path;
	struct conf *c;

	expect_err_sub("bad format", "\"json\"", "\"yaml\"",
	               "acme.conf:4", "source.format", "expected one of json, csv, xml",
	               "\"yaml\"", NULL);
	expect_err_sub("bad paging", "  format = \"json\";\n",
	               "  format = \"json\";\n  paging = \"pages\";\n",
	               "acme.conf:5", "source.paging", "none, page, offset, cursor, next_url, link",
	               "\"pages\"", NULL);
	expect_err_sub("bad end", "  format = \"json\";\n",
	               "  format = \"json\";\n  end = \"never\";\n",
	               "acme.conf:5", "source.end", "short, empty, total", NULL);

	dir = new_case();
	main_path = path_join(dir, "dropstock.conf");
	write_file(main_path, "aggregate = \"average\";\n", 0644);
	err_clear(&E);
	c = conf_load_file(main_path, &E);
	ok(c == NULL, "bad aggregate refused");
	like(E.msg, "dropstock.conf:1: aggregate: expected one of sum, max, first", "  message");
	conf_free(c);
	free(main_path);
	free(dir);
}

static void test_required(void)
{
	expect_err_sub("missing map.stock", "    stock = \"qty\";\n", "    # no stock\n",
	               "acme.conf:5", "source.map", "missing required option 'stock'", NULL);
	is_str(E.option, "source.map.stock", "missing map.stock: the error names the option");
	expect_err_sub("missing source.url", "  url = \"https://api.example.com/stock\";\n",
	               "  # no url\n",
	               "acme.conf:2", "source", "missing required option 'url'", NULL);
	is_str(E.option, "source.url", "missing source.url: the error names the option");
	expect_err_sub("missing source.format", "  format = \"json\";\n", "\n",
	               "acme.conf:2", "source", "missing required option 'format'", NULL);
	is_str(E.option, "source.format", "missing source.format: the error names the option");
	expect_err_sub("missing slug", "slug = \"acme\";\n", "name = \"ACME\";\n",
	               "acme.conf", "missing required option 'slug'", NULL);
	is_str(E.option, "slug", "missing slug: the error names the option");
	expect_err("missing source", "slug = \"acme\";\n", 0644,
	           "acme.conf", "missing required option 'source'", NULL);
	is_str(E.option, "source", "missing source: the error names the option");
	expect_err_sub("empty sku", "    sku = \"sku\";\n", "    sku = \"\";\n",
	               "acme.conf:6", "source.map.sku", "must not be empty", NULL);
	is_str(E.option, "source.map.sku", "empty sku: the error names the option");

	/* the editor's check names the option the same way, whatever the
	 * language of the message */
	{
		char *text = subst(BASE, "  url = \"https://api.example.com/stock\";\n", "");
		struct error e;

		err_clear(&e);
		snprintf(e.option, sizeof(e.option), "stale");
		ok(conf_supplier_validate(text, "acme", "suppliers.d/acme.conf", NULL, &e) < 0,
		   "validate: missing url refused");
		like(e.msg, "suppliers.d/acme.conf:2: source: ", "validate: the location is shown");
		is_str(e.option, "source.url", "validate: the error names the missing option");
		free(text);
		text = subst(BASE, "    sku = \"sku\";\n", "");
		err_clear(&e);
		ok(conf_supplier_validate(text, "acme", "suppliers.d/acme.conf", NULL, &e) < 0,
		   "validate: missing map.sku refused");
		is_str(e.option, "source.map.sku", "validate: map.sku named");
		free(text);
		/* a syntax error is about no option */
		err_clear(&e);
		ok(conf_supplier_validate("slug = ;\n", "acme", "suppliers.d/acme.conf", NULL, &e) < 0,
		   "validate: syntax error refused");
		is_str(e.option, "", "validate: a syntax error names no option");
	}
}

static void test_slugs(void)
{
	char *dir, *a, *b, *main_path;
	struct conf *c;

	expect_err_sub("bad slug", "slug = \"acme\";", "slug = \"Acme!\";",
	               "acme.conf:1", "slug", "not a valid slug", NULL);
	expect_err_sub("slug starting with '-'", "slug = \"acme\";", "slug = \"-acme\";",
	               "acme.conf:1", "slug", "not a valid slug", NULL);
	{
		char stem[66], *line, *text;

		memset(stem, 'a', 65);
		stem[65] = '\0';
		line = xasprintf("slug = \"%s\";", stem);
		text = subst(BASE, "slug = \"acme\";", line);
		c = load_sup(stem, text, 0644);
		ok(c == NULL, "65-character slug refused");
		like(E.msg, "not a valid slug", "  says so");
		conf_free(c);
		free(text);
		stem[64] = '\0';
		free(line);
		line = xasprintf("slug = \"%s\";", stem);
		text = subst(BASE, "slug = \"acme\";", line);
		c = load_sup(stem, text, 0644);
		ok(c != NULL, "64-character slug accepted");
		conf_free(c);
		free(text);
		free(line);
	}
	expect_err_sub("slug differs from file name", "slug = \"acme\";", "slug = \"other\";",
	               "acme.conf:1", "slug", "does not match the file name",
	               "other.conf", NULL);

	/* duplicate slug: a.conf and acme.conf both say "acme" */
	dir = new_case();
	main_path = path_join(dir, "dropstock.conf");
	a = path_join(dir, "suppliers.d/a.conf");
	b = path_join(dir, "suppliers.d/acme.conf");
	write_file(main_path, "", 0644);
	write_file(a, BASE, 0644);
	write_file(b, BASE, 0644);
	err_clear(&E);
	c = conf_load_file(main_path, &E);
	ok(c == NULL, "duplicate slug refused");
	like(E.msg, "duplicate slug \"acme\"", "  says duplicate slug");
	like(E.msg, "suppliers.d/acme.conf:1", "  names the second file and line");
	like(E.msg, "suppliers.d/a.conf:1", "  names the first file and line");
	conf_free(c);
	free(a);
	free(b);
	free(main_path);
	free(dir);

	/* conf_load_supplier on its own checks the stem too */
	{
		struct supplier_conf s;
		char *p;

		dir = new_case();
		p = path_join(dir, "wrong.conf");
		write_file(p, BASE, 0644);
		err_clear(&E);
		ok(conf_load_supplier(p, &s, &E) < 0, "conf_load_supplier: slug vs file name");
		like(E.msg, "wrong.conf:1", "  names file and line");
		ok(s.slug == NULL, "  leaves *out zeroed");
		free(p);
		p = path_join(dir, "acme.conf");
		write_file(p, BASE, 0644);
		ok(conf_load_supplier(p, &s, &E) == 0, "conf_load_supplier loads one file");
		is_str(s.slug, "acme", "  slug");
		is_str(s.file, p, "  file");
		conf_supplier_free(&s);
		ok(s.slug == NULL && s.file == NULL, "conf_supplier_free zeroes");
		free(p);
		free(dir);
	}
}

static void test_urls(void)
{
	expect_err_sub("gopher URL", "https://api.example.com/stock", "gopher://example.com/stock",
	               "acme.conf:3", "source.url", "\"gopher\" is not supported", NULL);
	expect_err_sub("URL without scheme", "https://api.example.com/stock",
	               "api.example.com/stock",
	               "acme.conf:3", "source.url", "is not a URL", NULL);
	expect_err_sub("URL with a space", "https://api.example.com/stock",
	               "https://api.example.com/my stock",
	               "acme.conf:3", "source.url", "%20", NULL);
}

static void test_dependencies(void)
{
	char *text;

	expect_err_sub("cursor paging without map.next", "  format = \"json\";\n",
	               "  format = \"json\";\n  paging = \"cursor\";\n",
	               "acme.conf:5", "source.paging", "needs map.next", NULL);
	expect_err_sub("next_url paging without map.next", "  format = \"json\";\n",
	               "  format = \"json\";\n  paging = \"next_url\";\n",
	               "acme.conf:5", "source.paging", "needs map.next", NULL);
	expect_err_sub("end total without map.total", "  format = \"json\";\n",
	               "  format = \"json\";\n  end = \"total\";\n",
	               "acme.conf:5", "source.end", "needs map.total", NULL);
	text = subst(BASE, "  format = \"json\";\n",
	             "  format = \"csv\";\n  paging = \"cursor\";\n");
	{
		char *t2 = subst(text, "    stock = \"qty\";\n", "    stock = \"qty\";\n    next = \"n\";\n");

		expect_err("cursor paging with CSV", t2, 0644, "acme.conf:5", "source.paging",
		           "CSV", NULL);
		free(t2);
	}
	free(text);
	expect_err_sub("CSV option with JSON", "    stock = \"qty\";\n",
	               "    stock = \"qty\";\n    delimiter = \";\";\n",
	               "acme.conf:8", "source.map.delimiter", "only used with format = \"csv\"", NULL);

	/* CSV specifics */
	text = subst(BASE, "\"json\"", "\"csv\"");
	{
		char *t2 = subst(text, "    sku = \"sku\";\n    stock = \"qty\";\n",
		                 "    sku = \"1\";\n    stock = \"3\";\n    header = false;\n"
		                 "    delimiter = \"\\t\";\n    encoding = \"ISO-8859-1\";\n");
		char *t3;
		struct conf *c;

		c = load_sup("acme", t2, 0644);
		ok(c != NULL, "headerless CSV with column numbers and a tab delimiter loads");
		if (c) {
			is_int(c->suppliers[0].source.map.delimiter, '\t', "  delimiter is a tab");
			ok(!c->suppliers[0].source.map.header, "  header false");
			is_str(c->suppliers[0].source.map.encoding, "ISO-8859-1", "  encoding");
		} else {
			printf("# %s\n", E.msg);
		}
		conf_free(c);
		free(t2);
		t3 = subst(text, "    stock = \"qty\";\n", "    stock = \"qty\";\n    header = false;\n");
		expect_err("headerless CSV with column names", t3, 0644, "acme.conf:6",
		           "source.map.sku", "column number", NULL);
		free(t3);
		t3 = subst(text, "    stock = \"qty\";\n", "    stock = \"qty\";\n    delimiter = \";;\";\n");
		expect_err("two-character delimiter", t3, 0644, "acme.conf:8",
		           "source.map.delimiter", "exactly one character", NULL);
		free(t3);
		t3 = subst(text, "    stock = \"qty\";\n", "    stock = \"qty\";\n    encoding = \"KLINGON-9\";\n");
		expect_err("unknown encoding", t3, 0644, "acme.conf:8",
		           "source.map.encoding", "KLINGON-9", NULL);
		free(t3);
	}
	free(text);
}

/* auth group appended to BASE: lines 10.. */
static char *with_auth(const char *lines)
{
	return xasprintf("%sauth = {\n%s};\n", BASE, lines);
}

static void test_secrets(void)
{
	struct conf *c;
	char *text;

	unsetenv("DS_TEST_UNSET_VAR");
	text = with_auth("  type = \"bearer\";\n  token_env = \"DS_TEST_UNSET_VAR\";\n");
	expect_err("env secret unset", text, 0644, "acme.conf:12", "auth.token_env",
	           "DS_TEST_UNSET_VAR", "not set", NULL);
	is_str(E.option, "auth.token_env", "env secret unset: the error names the option");
	setenv("DS_TEST_UNSET_VAR", "", 1);
	expect_err("env secret empty", text, 0644, "acme.conf:12", "auth.token_env",
	           "DS_TEST_UNSET_VAR", "empty", NULL);
	setenv("DS_TEST_UNSET_VAR", "line1\nline2", 1);
	expect_err("env secret with a line break", text, 0644, "acme.conf:12",
	           "auth.token_env", "line break", NULL);
	setenv("DS_TEST_UNSET_VAR", "s3cr3t", 1);
	c = load_sup("acme", text, 0644);
	ok(c && str_eq(c->suppliers[0].auth.token.value, "s3cr3t"),
	   "env secret in a 0644 file is fine");
	conf_free(c);
	unsetenv("DS_TEST_UNSET_VAR");
	free(text);

	text = with_auth("  type = \"header\";\n  header = \"X-Api-Key\";\n"
	                 "  token_cmd = \"printf 'tok-123\\\\n'\";\n");
	c = load_sup("acme", text, 0644);
	ok(c != NULL, "token_cmd loads");
	if (c) {
		is_int(c->suppliers[0].auth.kind, AUTH_HEADER, "  header auth");
		is_str(c->suppliers[0].auth.header, "X-Api-Key", "  header name");
		is_int(c->suppliers[0].auth.token.origin, SECRET_CMD, "  origin cmd");
		is_str(c->suppliers[0].auth.token.spec, "printf 'tok-123\\n'", "  spec is the command");
		is_str(c->suppliers[0].auth.token.value, "tok-123", "  value without newline");
	} else {
		printf("# %s\n", E.msg);
	}
	conf_free(c);
	free(text);

	text = with_auth("  type = \"bearer\";\n  token_cmd = \"echo oops; exit 3\";\n");
	expect_err("failing token_cmd", text, 0644, "acme.conf:12", "auth.token_cmd",
	           "exit status 3", NULL);
	free(text);
	text = with_auth("  type = \"bearer\";\n  token_cmd = \"true\";\n");
	expect_err("silent token_cmd", text, 0644, "acme.conf:12", "auth.token_cmd",
	           "printed nothing", NULL);
	free(text);
	text = with_auth("  type = \"bearer\";\n  token_cmd = \"printf 'a\\\\nb\\\\n'\";\n");
	expect_err("token_cmd printing two lines", text, 0644, "acme.conf:12",
	           "auth.token_cmd", "line break", NULL);
	free(text);

	/* inline secrets and file modes */
	text = with_auth("  type = \"bearer\";\n  token = \"inline-tok\";\n");
	expect_err("inline secret in a 0644 file", text, 0644, "acme.conf:12", "auth.token",
	           "holds an inline secret but is readable by others",
	           "chmod 600", "token_env / token_cmd", NULL);
	expect_err("inline secret in a 0620 file", text, 0620, "acme.conf:12", "auth.token",
	           "writable", "chmod 600", NULL);
	c = load_sup("acme", text, 0600);
	ok(c != NULL, "inline secret in a 0600 file accepted");
	if (c) {
		is_int(c->suppliers[0].auth.token.origin, SECRET_INLINE, "  origin inline");
		is_str(c->suppliers[0].auth.token.value, "inline-tok", "  value");
	}
	conf_free(c);
	free(text);
	text = with_auth("  type = \"basic\";\n  username = \"u\";\n  password = \"pw\";\n");
	expect_err("inline password in a 0640 file", text, 0640, "acme.conf:13", "auth.password",
	           "readable by others", "password_env / password_cmd", NULL);
	free(text);

	/* shape of the auth group */
	text = with_auth("  type = \"bearer\";\n  token_env = \"X\";\n  token_cmd = \"echo x\";\n");
	expect_err("two token sources", text, 0644, "acme.conf:13", "auth.token_cmd",
	           "only one of token, token_env and token_cmd", NULL);
	free(text);
	text = with_auth("  type = \"bearer\";\n");
	expect_err("bearer without a token", text, 0644, "acme.conf:11", "auth.type",
	           "needs token", NULL);
	free(text);
	text = with_auth("  type = \"header\";\n  token_cmd = \"echo x\";\n");
	expect_err("header without a name", text, 0644, "acme.conf:11", "auth.type",
	           "needs header", NULL);
	free(text);
	text = with_auth("  type = \"header\";\n  header = \"X Key:\";\n  token_cmd = \"echo x\";\n");
	expect_err("bad header name", text, 0644, "acme.conf:12", "auth.header",
	           "not a valid HTTP header name", NULL);
	free(text);
	text = with_auth("  type = \"query\";\n  token_cmd = \"echo x\";\n");
	expect_err("query without param", text, 0644, "acme.conf:11", "auth.type",
	           "needs param", NULL);
	free(text);
	text = with_auth("  type = \"basic\";\n  password_cmd = \"echo x\";\n");
	expect_err("basic without username", text, 0644, "acme.conf:11", "auth.type",
	           "needs username", NULL);
	free(text);
	text = with_auth("  type = \"bearer\";\n  token_cmd = \"echo x\";\n  username = \"u\";\n");
	expect_err("option the type does not use", text, 0644, "acme.conf:13", "auth.username",
	           "not used with type = \"bearer\"", NULL);
	free(text);
	text = with_auth("  token_cmd = \"echo x\";\n");
	expect_err("auth without type", text, 0644, "acme.conf:10", "auth",
	           "missing required option 'type'", NULL);
	free(text);
	text = with_auth("  type = \"query\";\n  param = \"api_key\";\n  token_cmd = \"echo q\";\n");
	c = load_sup("acme", text, 0644);
	ok(c && str_eq(c->suppliers[0].auth.param, "api_key")
	   && str_eq(c->suppliers[0].auth.token.value, "q"), "query auth loads");
	conf_free(c);
	free(text);
}

/* @include: messages and the permission rule follow the included file */
static void test_include(void)
{
	char *dir = new_case(), *main_path, *sup, *inc;
	struct conf *c;

	main_path = path_join(dir, "dropstock.conf");
	sup = path_join(dir, "suppliers.d/acme.conf");
	inc = path_join(dir, "suppliers.d/acme-source.inc");
	write_file(main_path, "", 0644);
	write_file(sup, "slug = \"acme\";\n@include \"acme-source.inc\"\n", 0600);
	write_file(inc, "# shared source\n"
	           "source = {\n  url = \"https://x.example/s\";\n  format = \"jsn\";\n"
	           "  map = { sku = \"a\"; stock = \"b\"; };\n};\n", 0644);
	err_clear(&E);
	c = conf_load_file(main_path, &E);
	ok(c == NULL, "error in an included file refused");
	like(E.msg, inc, "  names the included file by its full path");
	like(E.msg, "acme-source.inc:4: source.format", "  with its line and option");
	conf_free(c);

	write_file(inc, "auth = {\n  type = \"bearer\";\n  token = \"x\";\n};\n"
	           "source = {\n  url = \"https://x.example/s\";\n  format = \"json\";\n"
	           "  map = { sku = \"a\"; stock = \"b\"; };\n};\n", 0644);
	c = conf_load_file(main_path, &E);
	ok(c == NULL, "inline secret in a 0644 included file refused, though acme.conf is 0600");
	like(E.msg, "acme-source.inc:3: auth.token", "  names the included file and line");
	like(E.msg, "readable by others", "  for its mode");
	conf_free(c);
	chmod(inc, 0600);
	c = conf_load_file(main_path, &E);
	ok(c && str_eq(c->suppliers[0].auth.token.value, "x"), "accepted once the include is 0600");
	conf_free(c);
	free(main_path);
	free(sup);
	free(inc);
	free(dir);
}

/* ---- realtime sources: delta, check, webhook ---- */

/* A paged JSON source with text values (lines 1-17), for groups appended
 * after it: the first appended line is 18. */
static const char PAGED[] =
	"slug = \"acme\";\n"                               /* 1 */
	"source = {\n"                                      /* 2 */
	"  url = \"https://api.example.com/stock\";\n"      /* 3 */
	"  format = \"json\";\n"                            /* 4 */
	"  paging = \"cursor\";\n"                          /* 5 */
	"  page_size = 200;\n"                              /* 6 */
	"  cursor_param = \"after\";\n"                     /* 7 */
	"  end = \"total\";\n"                              /* 8 */
	"  map = {\n"                                       /* 9 */
	"    items = \"data\";\n"                           /* 10 */
	"    sku = \"sku\";\n"                              /* 11 */
	"    stock = \"qty\";\n"                            /* 12 */
	"    next = \"meta.next\";\n"                       /* 13 */
	"    total = \"meta.total\";\n"                     /* 14 */
	"    text_values = ( (\"in stock\", 5) );\n"        /* 15 */
	"  };\n"                                            /* 16 */
	"};\n";                                             /* 17 */

/* PAGED followed by lines; caller frees. */
static char *paged_with(const char *lines)
{
	return xasprintf("%s%s", PAGED, lines);
}

static void test_delta(void)
{
	struct supplier_conf *s;
	struct conf *c;
	char *text;

	/* only a URL: everything else from the source */
	text = paged_with("delta = {\n  url = \"https://api.example.com/changes\";\n};\n");
	c = load_sup("acme", text, 0644);
	ok(c != NULL, "delta with only a url loads");
	if (c) {
		s = &c->suppliers[0];
		ok(s->has_delta, "  has_delta");
		is_int(s->delta.source.format, FORMAT_JSON, "  format from the source");
		is_int(s->delta.source.paging, PAGE_CURSOR, "  paging from the source");
		is_int(s->delta.source.page_size, 200, "  page_size from the source");
		is_str(s->delta.source.cursor_param, "after", "  cursor_param from the source");
		is_int(s->delta.source.end, END_TOTAL, "  end from the source");
		is_str(s->delta.source.map.items, "data", "  map copied: items");
		is_str(s->delta.source.map.next, "meta.next", "  map copied: next");
		is_int(s->delta.source.map.n_text_values, 1, "  map copied: text values");
		if (s->delta.source.map.n_text_values == 1) {
			is_str(s->delta.source.map.text_values[0].text, "in stock", "  text value");
			ok(s->delta.source.map.text_values != s->source.map.text_values,
			   "  text values copied, not shared");
		}
		is_str(s->delta.since_param, "updated_since", "  since_param default");
		is_int(s->delta.overlap_ms, 120000, "  overlap default");
		is_int(s->delta.source.line, 18, "  line of the delta group");
	} else {
		printf("# %s\n", E.msg);
	}
	conf_free(c);
	free(text);

	/* its own paging and map */
	text = paged_with("delta = {\n  url = \"https://api.example.com/changes\";\n"
	                  "  paging = \"page\";\n  end = \"short\";\n"
	                  "  map = { sku = \"id\"; stock = \"n\"; };\n"
	                  "  since_format = \"unix\";\n  overlap = 0;\n};\n");
	c = load_sup("acme", text, 0644);
	ok(c != NULL, "delta with its own paging and map loads");
	if (c) {
		s = &c->suppliers[0];
		is_int(s->delta.source.paging, PAGE_NUMBER, "  own paging");
		is_str(s->delta.source.map.sku, "id", "  own map");
		ok(s->delta.source.map.next == NULL, "  nothing taken from the source's map");
		is_int(s->delta.source.map.n_text_values, 0, "  no text values of the source's");
		is_int(s->delta.since_format, SINCE_UNIX, "  since_format");
		is_int(s->delta.overlap_ms, 0, "  overlap 0");
	} else {
		printf("# %s\n", E.msg);
	}
	conf_free(c);
	free(text);

	/* errors */
	text = paged_with("delta = {\n  format = \"json\";\n};\n");
	expect_err("delta without url", text, 0644, "acme.conf:18", "delta",
	           "missing required option 'url'", NULL);
	free(text);
	text = paged_with("delta = {\n  url = \"https://x.example/c\";\n  format = \"csv\";\n};\n");
	expect_err("delta of another format without a map", text, 0644, "acme.conf:18", "delta",
	           "needs its own map", "csv", NULL);
	free(text);
	text = paged_with("delta = {\n  url = \"https://x.example/c\";\n"
	                  "  map = { sku = \"a\"; stock = \"b\"; total = \"t\"; };\n};\n");
	expect_err("inherited cursor paging, own map without next", text, 0644,
	           "acme.conf:20", "delta.map", "paging = \"cursor\" (taken from source) needs map.next",
	           NULL);
	free(text);
	text = paged_with("delta = {\n  url = \"https://x.example/c\";\n  paging = \"none\";\n"
	                  "  map = { sku = \"a\"; stock = \"b\"; };\n};\n");
	expect_err("inherited end total, own map without total", text, 0644,
	           "acme.conf:21", "delta.map", "end = \"total\" (taken from source) needs map.total",
	           NULL);
	free(text);
	text = paged_with("delta = {\n  url = \"https://x.example/c\";\n  since_format = \"rfc822\";\n};\n");
	expect_err("bad since_format", text, 0644, "acme.conf:20", "delta.since_format",
	           "expected one of iso, unix", NULL);
	free(text);
	text = paged_with("delta = {\n  url = \"https://x.example/c\";\n  since_param = \"a&b\";\n};\n");
	expect_err("bad since_param", text, 0644, "acme.conf:20", "delta.since_param",
	           "not a usable query parameter name", NULL);
	free(text);
	text = paged_with("delta = {\n  url = \"https://x.example/c\";\n  overlapp = 5;\n};\n");
	expect_err("unknown delta option", text, 0644, "acme.conf:20", "delta.overlapp",
	           "did you mean 'overlap'", NULL);
	free(text);
	text = paged_with("delta = {\n  url = \"https://x.example/c\";\n  overlap = -1;\n};\n");
	expect_err("negative overlap", text, 0644, "acme.conf:20", "delta.overlap",
	           "between 0 and 604800", NULL);
	free(text);
	text = paged_with("delta = {\n  url = \"gopher://x.example/c\";\n};\n");
	expect_err("delta url scheme", text, 0644, "acme.conf:19", "delta.url",
	           "\"gopher\" is not supported", NULL);
	free(text);
	text = paged_with("delta = \"https://x.example/c\";\n");
	expect_err("delta not a group", text, 0644, "acme.conf:18", "delta", "expected a group", NULL);
	free(text);
	text = paged_with("cache_fresh = -5;\n");
	expect_err("negative cache_fresh", text, 0644, "acme.conf:18", "cache_fresh", "between 0",
	           NULL);
	free(text);
}

/* ---- sftp host key settings ---- */

#define FP "c02WdZyO+2A6aedk9YWJZDTiLsPJw+jEWoWcqs9QApM"   /* base64 of 32 bytes */

/* An sftp supplier (lines 1-9) with extra source lines from line 4 on;
 * caller frees. */
static char *sftp_with(const char *source_lines, const char *after)
{
	return xasprintf("slug = \"acme\";\n"                              /* 1 */
	                 "source = {\n"                                     /* 2 */
	                 "  url = \"sftp://sftp.example.com/~/stock.csv\";\n" /* 3 */
	                 "%s"                                               /* 4... */
	                 "  format = \"csv\";\n"
	                 "  map = { sku = \"sku\"; stock = \"qty\"; };\n"
	                 "};\n%s", source_lines, after ? after : "");
}

static void test_ssh(void)
{
	struct supplier_conf *s;
	struct conf *c;
	char *text, *want, *old_home = xstrdup(getenv("HOME")), *home = new_case();

	/* not given: both NULL */
	text = sftp_with("", NULL);
	c = load_sup("acme", text, 0644);
	ok(c && !c->suppliers[0].source.ssh_known_hosts &&
	   !c->suppliers[0].source.ssh_host_key_sha256, "sftp source without host key settings loads");
	conf_free(c);
	free(text);

	/* the fingerprint, as ssh-keygen -lf prints it, or without the prefix,
	 * with or without padding: kept as the 43 characters libcurl compares */
	{
		static const char *const forms[] = {
			"SHA256:" FP, FP, FP "=", "SHA256:" FP "=", "sha256:" FP
		};
		for (size_t i = 0; i < ARRAY_SIZE(forms); i++) {
			char *line = xasprintf("  ssh_host_key_sha256 = \"%s\";\n", forms[i]);

			text = sftp_with(line, NULL);
			c = load_sup("acme", text, 0644);
			ok(c != NULL, "fingerprint \"%s\" accepted", forms[i]);
			if (c)
				is_str(c->suppliers[0].source.ssh_host_key_sha256, FP,
				       "  kept without prefix and padding");
			else
				printf("# %s\n", E.msg);
			conf_free(c);
			free(text);
			free(line);
		}
	}

	/* known_hosts paths: relative to the supplier file, ~/ the home, absolute */
	setenv("HOME", home, 1);
	text = sftp_with("  ssh_known_hosts = \"keys/known_hosts\";\n", NULL);
	c = load_sup("acme", text, 0644);
	ok(c != NULL, "relative ssh_known_hosts loads (the file need not exist yet)");
	if (c) {
		s = &c->suppliers[0];
		want = xasprintf("%s/case-%d/suppliers.d/keys/known_hosts", tmp_root, case_no);
		is_str(s->source.ssh_known_hosts, want, "  relative to the supplier file's directory");
		free(want);
		ok(!s->source.ssh_host_key_sha256, "  no fingerprint");
	} else {
		printf("# %s\n", E.msg);
	}
	conf_free(c);
	free(text);
	text = sftp_with("  ssh_known_hosts = \"~/.ssh/known_hosts_supplier\";\n", NULL);
	c = load_sup("acme", text, 0644);
	want = xasprintf("%s/.ssh/known_hosts_supplier", home);
	ok(c && str_eq(c->suppliers[0].source.ssh_known_hosts, want), "~/ is the home directory");
	free(want);
	conf_free(c);
	free(text);
	text = sftp_with("  ssh_known_hosts = \"/etc/dropstock/known_hosts\";\n"
	                 "  ssh_host_key_sha256 = \"SHA256:" FP "\";\n", NULL);
	c = load_sup("acme", text, 0644);
	ok(c && str_eq(c->suppliers[0].source.ssh_known_hosts, "/etc/dropstock/known_hosts") &&
	   str_eq(c->suppliers[0].source.ssh_host_key_sha256, FP),
	   "absolute path kept; both options together load");
	conf_free(c);
	free(text);
	if (old_home)
		setenv("HOME", old_home, 1);
	else
		unsetenv("HOME");

	/* a delta group takes both from the source, or gives its own */
	text = sftp_with("  ssh_known_hosts = \"/k/hosts\";\n  ssh_host_key_sha256 = \"" FP "\";\n",
	                 "delta = {\n  url = \"sftp://sftp.example.com/~/changes.csv\";\n};\n");
	c = load_sup("acme", text, 0644);
	ok(c && str_eq(c->suppliers[0].delta.source.ssh_known_hosts, "/k/hosts") &&
	   str_eq(c->suppliers[0].delta.source.ssh_host_key_sha256, FP),
	   "delta takes both from the source");
	if (c)
		ok(c->suppliers[0].delta.source.ssh_known_hosts !=
		   c->suppliers[0].source.ssh_known_hosts, "  copied, not shared");
	conf_free(c);
	free(text);
	text = sftp_with("  ssh_host_key_sha256 = \"" FP "\";\n",
	                 "delta = {\n  url = \"sftp://other.example.com:2222/changes.csv\";\n"
	                 "  ssh_known_hosts = \"/k/other\";\n};\n");
	c = load_sup("acme", text, 0644);
	ok(c && str_eq(c->suppliers[0].delta.source.ssh_known_hosts, "/k/other") &&
	   !c->suppliers[0].delta.source.ssh_host_key_sha256 &&
	   str_eq(c->suppliers[0].source.ssh_host_key_sha256, FP),
	   "a delta giving one of them takes neither from the source");
	conf_free(c);
	free(text);
	text = sftp_with("  ssh_host_key_sha256 = \"" FP "\";\n",
	                 "delta = {\n  url = \"https://api.example.com/changes\";\n"
	                 "  format = \"json\";\n  map = { sku = \"a\"; stock = \"b\"; };\n};\n");
	c = load_sup("acme", text, 0644);
	ok(c != NULL, "an https delta may inherit the sftp source's settings");
	conf_free(c);
	free(text);

	/* errors, each naming file, line and option */
	text = sftp_with("  ssh_host_key_sha256 = \"SHA256:" FP "x\";\n", NULL);
	expect_err("fingerprint too long", text, 0644, "acme.conf:4: source.ssh_host_key_sha256",
	           "ssh-keygen -lf", "43 base64", FP "x", NULL);
	free(text);
	text = sftp_with("  ssh_host_key_sha256 = \"SHA256:abc\";\n", NULL);
	expect_err("fingerprint too short", text, 0644, "acme.conf:4: source.ssh_host_key_sha256",
	           "got \"SHA256:abc\"", NULL);
	free(text);
	text = sftp_with("  ssh_host_key_sha256 = \"SHA256:c02WdZyO+2A6aedk9YWJZDTiLsPJw+jEWoWcqs9QApN\";\n",
	                 NULL);
	expect_err("fingerprint with stray trailing bits (not 32 bytes)", text, 0644,
	           "acme.conf:4: source.ssh_host_key_sha256", "43 base64", NULL);
	free(text);
	text = sftp_with("  ssh_host_key_sha256 = \"SHA256:c02WdZyO-2A6aedk9YWJZDTiLsPJw_jEWoWcqs9QApM\";\n",
	                 NULL);
	expect_err("fingerprint in another alphabet", text, 0644,
	           "acme.conf:4: source.ssh_host_key_sha256", NULL);
	free(text);
	text = sftp_with("  ssh_host_key_sha256 = \"" FP "==\";\n", NULL);
	expect_err("fingerprint with too much padding", text, 0644,
	           "acme.conf:4: source.ssh_host_key_sha256", NULL);
	free(text);
	text = sftp_with("  ssh_host_key_sha256 = \" SHA256:" FP "\";\n", NULL);
	expect_err("fingerprint with a blank", text, 0644, "acme.conf:4: source.ssh_host_key_sha256",
	           NULL);
	free(text);
	text = sftp_with("  ssh_host_key_sha256 = \"256 SHA256:" FP " root@host (ED25519)\";\n", NULL);
	expect_err("a whole ssh-keygen line", text, 0644, "acme.conf:4: source.ssh_host_key_sha256",
	           NULL);
	free(text);
	text = sftp_with("  ssh_host_key_sha256 = \"MD5:90:0e:67:c2:98:93:1a:8a:84:89:0d:21:4c:74:dc:d8\";\n",
	                 NULL);
	expect_err("an MD5 fingerprint", text, 0644, "acme.conf:4: source.ssh_host_key_sha256",
	           "is an MD5 fingerprint", "SHA-256", NULL);
	is_str(E.option, "source.ssh_host_key_sha256", "  the error names the option for a form");
	free(text);
	text = sftp_with("  ssh_host_key_sha256 = \"\";\n", NULL);
	expect_err("empty fingerprint", text, 0644, "acme.conf:4: source.ssh_host_key_sha256",
	           "must not be empty", NULL);
	free(text);
	text = sftp_with("  ssh_host_key_sha256 = 42;\n", NULL);
	expect_err("fingerprint not a string", text, 0644, "acme.conf:4: source.ssh_host_key_sha256",
	           "a string", NULL);
	free(text);
	text = sftp_with("  ssh_known_hosts = \"\";\n", NULL);
	expect_err("empty known_hosts path", text, 0644, "acme.conf:4: source.ssh_known_hosts",
	           "must not be empty", NULL);
	free(text);
	text = sftp_with("  ssh_known_hosts = \"a\\tb\";\n", NULL);
	expect_err("known_hosts path with a tab", text, 0644, "acme.conf:4: source.ssh_known_hosts",
	           "control character", NULL);
	free(text);
	text = sftp_with("  ssh_known_hosts = true;\n", NULL);
	expect_err("known_hosts not a string", text, 0644, "acme.conf:4: source.ssh_known_hosts",
	           "a string", NULL);
	free(text);
	expect_err_sub("fingerprint on an https source", "  format = \"json\";\n",
	               "  format = \"json\";\n  ssh_host_key_sha256 = \"" FP "\";\n",
	               "acme.conf:5: source.ssh_host_key_sha256", "only used with sftp://",
	               "https", NULL);
	expect_err_sub("known_hosts on an https source", "  format = \"json\";\n",
	               "  format = \"json\";\n  ssh_known_hosts = \"/k\";\n",
	               "acme.conf:5: source.ssh_known_hosts", "only used with sftp://", NULL);
	text = sftp_with("", "delta = {\n  url = \"sftp://sftp.example.com/~/changes.csv\";\n"
	                 "  ssh_host_key_sha256 = \"SHA256:nope\";\n};\n");
	expect_err("bad fingerprint in a delta", text, 0644, "acme.conf:9: delta.ssh_host_key_sha256",
	           NULL);
	free(text);
	text = sftp_with("  ssh_host_key_sah256 = \"" FP "\";\n", NULL);
	expect_err("misspelt option", text, 0644, "acme.conf:4: source.ssh_host_key_sah256",
	           "did you mean 'ssh_host_key_sha256'", NULL);
	free(text);

	free(home);
	free(old_home);
}

static void test_check(void)
{
	struct supplier_conf *s;
	struct conf *c;
	char *text;

	text = xasprintf("%scheck = {\n  url = \"https://api.example.com/stock/{sku}\";\n};\n", BASE);
	c = load_sup("acme", text, 0644);
	ok(c != NULL, "check with only a url loads");
	if (c) {
		s = &c->suppliers[0];
		ok(s->has_check, "  has_check");
		is_str(s->check.method, "GET", "  method GET");
		is_int(s->check.format, FORMAT_JSON, "  format json");
		is_str(s->check.map.sku, "sku", "  map copied from the source");
		is_str(s->check.map.stock, "qty", "  map copied: stock");
		ok(s->check.map.sku != s->source.map.sku, "  a copy");
		is_int(s->check.timeout_ms, 2000, "  timeout 2 s");
		is_int(s->check.on_failure, CHECK_FALLBACK_CACHE, "  on_failure cache");
		is_int(s->check.line, 10, "  line");
		is_int(s->fresh_ms, 900000, "  cache_fresh default");
	} else {
		printf("# %s\n", E.msg);
	}
	conf_free(c);
	free(text);

	text = xasprintf("%scheck = {\n  url = \"https://api.example.com/stock\";\n};\n", BASE);
	expect_err("check url without {sku}", text, 0644, "acme.conf:11", "check.url",
	           "no {sku} placeholder", NULL);
	free(text);
	text = xasprintf("%scheck = {\n  url = \"https://api.example.com/stock\";\n"
	                 "  method = \"POST\";\n  body = \"{\\\"all\\\": true}\";\n};\n", BASE);
	expect_err("POST check with no placeholder anywhere", text, 0644, "acme.conf:11",
	           "check.url", "{sku} or {skus} in body", NULL);
	free(text);
	text = xasprintf("%scheck = {\n  url = \"https://api.example.com/stock\";\n"
	                 "  method = \"POST\";\n  body = \"{\\\"skus\\\": {skus}}\";\n"
	                 "  timeout = 0.25;\n  on_failure = \"refuse\";\n};\ncache_fresh = 0;\n", BASE);
	c = load_sup("acme", text, 0644);
	ok(c != NULL, "POST check with {skus} in the body loads");
	if (c) {
		s = &c->suppliers[0];
		is_str(s->check.method, "POST", "  method POST");
		is_str(s->check.body, "{\"skus\": {skus}}", "  body");
		is_str(s->check.content_type, "application/json", "  content_type default");
		is_int(s->check.timeout_ms, 250, "  timeout 0.25 s");
		is_int(s->check.on_failure, CHECK_REFUSE, "  on_failure refuse");
		is_int(s->fresh_ms, 0, "  cache_fresh 0");
	} else {
		printf("# %s\n", E.msg);
	}
	conf_free(c);
	free(text);
	text = xasprintf("%scheck = {\n  url = \"https://api.example.com/s/{sku}\";\n"
	                 "  body = \"{sku}\";\n};\n", BASE);
	expect_err("body with GET", text, 0644, "acme.conf:12", "check.body",
	           "only used with method = \"POST\"", NULL);
	free(text);
	text = xasprintf("%scheck = {\n  url = \"https://api.example.com/s/{sku}\";\n"
	                 "  method = \"get\";\n};\n", BASE);
	expect_err("lower-case method", text, 0644, "acme.conf:12", "check.method",
	           "expected one of GET, POST", NULL);
	free(text);
	text = xasprintf("%scheck = {\n  url = \"https://api.example.com/s/{sku}\";\n"
	                 "  on_failure = \"zero\";\n};\n", BASE);
	expect_err("bad on_failure", text, 0644, "acme.conf:12", "check.on_failure",
	           "expected one of cache, refuse", NULL);
	free(text);
	text = xasprintf("%scheck = {\n  url = \"https://api.example.com/s/{sku}\";\n"
	                 "  timeout = 0;\n};\n", BASE);
	expect_err("check timeout 0", text, 0644, "acme.conf:12", "check.timeout", "between", NULL);
	free(text);
	text = xasprintf("%scheck = {\n  url = \"file:///srv/{sku}.json\";\n  method = \"POST\";\n"
	                 "  body = \"{sku}\";\n};\n", BASE);
	expect_err("POST to a file URL", text, 0644, "acme.conf:11", "check.url",
	           "needs an http or https URL", NULL);
	free(text);
	text = xasprintf("%scheck = {\n  url = \"https://api.example.com/s/{sku}\";\n"
	                 "  format = \"xml\";\n};\n", BASE);
	expect_err("check of another format without a map", text, 0644, "acme.conf:10", "check",
	           "needs its own map", "xml", NULL);
	free(text);
	text = xasprintf("%scheck = {\n  url = \"https://api.example.com/s/{sku}\";\n"
	                 "  map = { sku = \"s\"; stock = \"q\"; next = \"n\"; };\n};\n", BASE);
	expect_err("check map with next", text, 0644, "acme.conf:12", "check.map.next",
	           "no further pages", NULL);
	free(text);
	text = xasprintf("%scheck = {\n  url = \"https://api.example.com/s/{sku}\";\n"
	                 "  map = { stock = \"q\"; };\n};\n", BASE);
	expect_err("check map without sku", text, 0644, "acme.conf:12", "check.map",
	           "missing required option 'sku'", NULL);
	free(text);
}

/* BASE plus a webhook group holding lines: the group opens on line 10. */
static char *with_webhook(const char *lines)
{
	return xasprintf("%swebhook = {\n%s};\n", BASE, lines);
}

static void test_webhook(void)
{
	struct webhook_conf *w;
	struct conf *c;
	char *text;

	text = with_webhook("  scheme = \"github\";\n");
	expect_err("webhook without a secret", text, 0644, "acme.conf:10", "webhook",
	           "needs the secret", "secret_env", NULL);
	free(text);

	text = with_webhook("  scheme = \"github\";\n  secrets = ( \"new-one\", \"old-one\" );\n");
	expect_err("inline webhook secrets in a 0644 file", text, 0644, "acme.conf:12",
	           "webhook.secrets[0]", "readable by others", "secrets_env / secrets_cmd", NULL);
	c = load_sup("acme", text, 0600);
	ok(c != NULL, "secrets list in a 0600 file loads");
	if (c) {
		w = &c->suppliers[0].webhook;
		ok(w->enabled, "  enabled");
		is_int(w->n_secrets, 2, "  two secrets");
		is_int(w->secrets[0].origin, SECRET_INLINE, "  inline");
		is_str(w->secrets[0].value, "new-one", "  first");
		is_str(w->secrets[1].value, "old-one", "  second");
		is_str(w->map.sku, "sku", "  map copied from the JSON source");
		is_int(w->line, 10, "  line");
	} else {
		printf("# %s\n", E.msg);
	}
	conf_free(c);
	free(text);

	text = with_webhook("  secret = \"s\";\n  header = \"X-Sig\";\n");
	expect_err("inline webhook secret in a 0644 file", text, 0644, "acme.conf:11",
	           "webhook.secret", "readable by others", "secret_env / secret_cmd", NULL);
	free(text);

	setenv("DS_TEST_WH_A", "alpha", 1);
	unsetenv("DS_TEST_WH_UNSET");
	text = with_webhook("  header = \"X-Sig\";\n  secrets_env = ( \"DS_TEST_WH_A\", "
	                    "\"DS_TEST_WH_UNSET\" );\n");
	expect_err("secrets_env with an unset variable", text, 0644, "acme.conf:12",
	           "webhook.secrets_env[1]", "DS_TEST_WH_UNSET", "not set", NULL);
	free(text);
	text = with_webhook("  header = \"X-Sig\";\n  secrets_env = ( );\n");
	expect_err("empty secrets list", text, 0644, "acme.conf:12", "webhook.secrets_env",
	           "at least one secret", NULL);
	free(text);
	text = with_webhook("  header = \"X-Sig\";\n  secrets_env = \"DS_TEST_WH_A\";\n");
	expect_err("secrets_env not a list", text, 0644, "acme.conf:12", "webhook.secrets_env",
	           "expected a list", NULL);
	free(text);
	text = with_webhook("  header = \"X-Sig\";\n  secret_env = \"DS_TEST_WH_A\";\n"
	                    "  secrets_cmd = ( \"echo b\" );\n");
	expect_err("two secret forms", text, 0644, "acme.conf:13", "webhook.secrets_cmd",
	           "give only one of", "secret_env is set too", NULL);
	free(text);

	text = with_webhook("  scheme = \"sha1\";\n  secret_env = \"DS_TEST_WH_A\";\n");
	expect_err("bad scheme", text, 0644, "acme.conf:11", "webhook.scheme",
	           "expected one of custom, github, standard, base64", "\"sha1\"", NULL);
	free(text);
	text = with_webhook("  secret_env = \"DS_TEST_WH_A\";\n");
	expect_err("custom scheme without header", text, 0644, "acme.conf:10", "webhook",
	           "scheme = \"custom\" needs header", NULL);
	free(text);
	text = with_webhook("  header = \"X Sig\";\n  secret_env = \"DS_TEST_WH_A\";\n");
	expect_err("bad header name", text, 0644, "acme.conf:11", "webhook.header",
	           "not a valid HTTP header name", NULL);
	free(text);
	text = with_webhook("  scheme = \"github\";\n  encoding = \"base64\";\n"
	                    "  secret_env = \"DS_TEST_WH_A\";\n");
	expect_err("encoding with a preset scheme", text, 0644, "acme.conf:12", "webhook.encoding",
	           "only used with scheme = \"custom\"", NULL);
	free(text);
	text = with_webhook("  scheme = \"standard\";\n  key_base64 = false;\n"
	                    "  secret_env = \"DS_TEST_WH_A\";\n");
	expect_err("key_base64 with the standard scheme", text, 0644, "acme.conf:12",
	           "webhook.key_base64", "always base64", NULL);
	free(text);
	text = with_webhook("  scheme = \"standard\";\n  secret_env = \"DS_TEST_WH_A\";\n");
	setenv("DS_TEST_WH_A", "whsec_not*base64", 1);
	expect_err("standard scheme with a key that is not base64", text, 0644, "acme.conf:12",
	           "webhook.secret_env", "not valid base64", NULL);
	ok(strstr(E.msg, "not*base64") == NULL, "  the message does not show the secret");
	setenv("DS_TEST_WH_A", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 1);
	c = load_sup("acme", text, 0644);
	ok(c != NULL, "standard scheme with a whsec_ key loads");
	if (c) {
		w = &c->suppliers[0].webhook;
		is_int(w->scheme, WEBHOOK_STANDARD, "  standard");
		is_str(w->header, "webhook-signature", "  preset header");
		is_str(w->prefix, "v1,", "  preset prefix");
		is_int(w->encoding, SIG_BASE64, "  base64");
		ok(w->key_base64, "  key is base64");
		is_str(w->timestamp_header, "webhook-timestamp", "  preset timestamp header");
		is_str(w->id_header, "webhook-id", "  preset id header");
		is_int(w->tolerance_ms, 300000, "  tolerance default");
	} else {
		printf("# %s\n", E.msg);
	}
	conf_free(c);
	free(text);

	text = with_webhook("  scheme = \"base64\";\n  key_base64 = true;\n  secrets_cmd = ( "
	                    "\"echo a2V5LTE=\", \"echo key-2\" );\n");
	expect_err("key_base64 with a second secret that is not base64", text, 0644,
	           "acme.conf:13", "webhook.secrets_cmd[1]", "not valid base64", NULL);
	free(text);
	text = with_webhook("  scheme = \"base64\";\n  header = \"X-Sign\";\n"
	                    "  secret_cmd = \"echo cj-secret\";\n  id_field = \"data.id\";\n"
	                    "  max_body = 4096;\n");
	c = load_sup("acme", text, 0644);
	ok(c != NULL, "base64 scheme with its header replaced loads");
	if (c) {
		w = &c->suppliers[0].webhook;
		is_str(w->header, "X-Sign", "  header given wins over the preset");
		is_str(w->prefix, "", "  prefix empty");
		is_int(w->encoding, SIG_BASE64, "  base64 digest");
		ok(!w->key_base64, "  key is text");
		is_str(w->secrets[0].value, "cj-secret", "  secret from the command");
		is_str(w->id_field, "data.id", "  id_field");
		is_int(w->max_body, 4096, "  max_body");
	} else {
		printf("# %s\n", E.msg);
	}
	conf_free(c);
	free(text);

	text = with_webhook("  header = \"X-Sig\";\n  secret_env = \"DS_TEST_WH_A\";\n"
	                    "  tolerance = 30;\n");
	expect_err("tolerance without a timestamp header", text, 0644, "acme.conf:13",
	           "webhook.tolerance", "only used with a timestamp", NULL);
	free(text);
	text = with_webhook("  header = \"X-Sig\";\n  secret_env = \"DS_TEST_WH_A\";\n"
	                    "  max_body = 0;\n");
	expect_err("max_body 0", text, 0644, "acme.conf:13", "webhook.max_body", "between 1", NULL);
	free(text);
	text = with_webhook("  header = \"X-Sig\";\n  secret_env = \"DS_TEST_WH_A\";\n"
	                    "  map = { sku = \"s\"; stock = \"q\"; delimiter = \";\"; };\n");
	expect_err("CSV option in a webhook map", text, 0644, "acme.conf:13",
	           "webhook.map.delimiter", "webhook deliveries are JSON", NULL);
	free(text);
	text = with_webhook("  header = \"X-Sig\";\n  secret_env = \"DS_TEST_WH_A\";\n"
	                    "  signature = \"x\";\n");
	expect_err("unknown webhook option", text, 0644, "acme.conf:13", "webhook.signature",
	           "unknown option 'signature'", NULL);
	free(text);
	{
		char *csv = subst(BASE, "\"json\"", "\"csv\"");

		text = xasprintf("%swebhook = {\n  scheme = \"github\";\n"
		                 "  secret_env = \"DS_TEST_WH_A\";\n};\n", csv);
		expect_err("webhook for a CSV supplier without a map", text, 0644, "acme.conf:10",
		           "webhook", "needs its own map", "JSON", NULL);
		free(text);
		free(csv);
	}
	unsetenv("DS_TEST_WH_A");
}

/* Writes text as dropstock.conf (mode) in a fresh directory and loads it. */
static struct conf *load_main(const char *text, int mode)
{
	char *dir = new_case(), *main_path = path_join(dir, "dropstock.conf");
	struct conf *c;

	write_file(main_path, text, mode);
	err_clear(&E);
	c = conf_load_file(main_path, &E);
	free(main_path);
	free(dir);
	return c;
}

static void expect_main_err(const char *what, const char *text, int mode, ...)
{
	struct conf *c = load_main(text, mode);
	va_list ap;
	const char *needle;

	ok(c == NULL, "%s: refused", what);
	conf_free(c);
	is_int(E.kind, ERRK_CONFIG, "%s: config error kind", what);
	va_start(ap, mode);
	while ((needle = va_arg(ap, const char *)) != NULL)
		like(E.msg, needle, "%s: message names %s", what, needle);
	va_end(ap);
}

static void test_service(void)
{
	static const char *const bad_listen[] = {
		"localhost:8787", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:80x",
		"::1:8787", "[::1]8787", "[::1", "[127.0.0.1]:80", "256.0.0.1:80", ":8787",
		"127.0.0.1:-1", NULL
	};
	struct conf *c;
	char *text;
	int i;

	for (i = 0; bad_listen[i]; i++) {
		text = xasprintf("# service\nservice = {\n  listen = \"%s\";\n};\n", bad_listen[i]);
		expect_main_err(bad_listen[i], text, 0644, "dropstock.conf:3: service.listen",
		                "not a listen address", bad_listen[i], NULL);
		free(text);
	}
	c = load_main("service = { listen = \"0.0.0.0:0\"; };\n", 0644);
	ok(c && str_eq(c->service.listen, "0.0.0.0:0"), "listen 0.0.0.0:0 (any free port) loads");
	conf_free(c);

	/* api_keys_env: split on blanks and line breaks */
	setenv("DS_TEST_API_KEYS", "  k-one k-two\n\tk-three\n", 1);
	c = load_main("service = {\n  api_keys_env = \"DS_TEST_API_KEYS\";\n};\n", 0644);
	ok(c != NULL, "api_keys_env loads");
	if (c) {
		is_int(c->service.n_api_keys, 3, "  three keys");
		if (c->service.n_api_keys == 3) {
			is_str(c->service.api_keys[0].value, "k-one", "  first");
			is_str(c->service.api_keys[1].value, "k-two", "  second");
			is_str(c->service.api_keys[2].value, "k-three", "  third after a tab");
			is_int(c->service.api_keys[1].origin, SECRET_ENV, "  origin env");
			is_str(c->service.api_keys[1].spec, "DS_TEST_API_KEYS", "  spec is the variable");
		}
		is_int(c->service.line, 1, "  service line");
	} else {
		printf("# %s\n", E.msg);
	}
	conf_free(c);
	setenv("DS_TEST_API_KEYS", "only-one", 1);
	c = load_main("service = {\n  api_keys_env = \"DS_TEST_API_KEYS\";\n};\n", 0644);
	ok(c && c->service.n_api_keys == 1 && str_eq(c->service.api_keys[0].value, "only-one"),
	   "api_keys_env with one key");
	conf_free(c);
	setenv("DS_TEST_API_KEYS", " \n\t ", 1);
	expect_main_err("api_keys_env with only blanks", "service = {\n  api_keys_env = "
	                "\"DS_TEST_API_KEYS\";\n};\n", 0644, "dropstock.conf:2: service.api_keys_env",
	                "only blanks", NULL);
	setenv("DS_TEST_API_KEYS", "k1\001k2", 1);
	expect_main_err("api_keys_env with a control character", "service = {\n  api_keys_env = "
	                "\"DS_TEST_API_KEYS\";\n};\n", 0644, "dropstock.conf:2: service.api_keys_env",
	                "control character", NULL);
	unsetenv("DS_TEST_API_KEYS");
	expect_main_err("api_keys_env unset", "service = {\n  api_keys_env = "
	                "\"DS_TEST_API_KEYS\";\n};\n", 0644, "dropstock.conf:2: service.api_keys_env",
	                "DS_TEST_API_KEYS is not set", NULL);
	expect_main_err("api_keys_cmd failing", "service = {\n  api_keys_cmd = \"exit 4\";\n};\n",
	                0644, "dropstock.conf:2: service.api_keys_cmd", "exit status 4", NULL);

	/* inline keys and the file's mode */
	text = xstrdup("# keys\nservice = {\n  api_keys = ( \"key-a\", \"key-b\" );\n};\n");
	expect_main_err("inline api key in a world-readable dropstock.conf", text, 0644,
	                "dropstock.conf:3: service.api_keys", "holds an inline secret but is "
	                "readable by others", "chmod 600", "api_keys_env / api_keys_cmd", NULL);
	expect_main_err("inline api key in a group-writable dropstock.conf", text, 0620,
	                "dropstock.conf:3: service.api_keys", "writable by others", NULL);
	c = load_main(text, 0600);
	ok(c != NULL, "inline api keys in a 0600 dropstock.conf load");
	if (c) {
		is_int(c->service.n_api_keys, 2, "  two keys");
		is_int(c->service.api_keys[0].origin, SECRET_INLINE, "  inline");
		is_str(c->service.api_keys[1].value, "key-b", "  second key");
	}
	conf_free(c);
	free(text);
	expect_main_err("api key with a blank", "service = {\n  api_keys = ( \"a b\" );\n};\n", 0600,
	                "dropstock.conf:2: service.api_keys[0]", "cannot contain blanks", NULL);
	expect_main_err("empty api_keys list", "service = {\n  api_keys = ( );\n};\n", 0600,
	                "dropstock.conf:2: service.api_keys", "the list is empty", NULL);
	expect_main_err("api_keys as a string", "service = {\n  api_keys = \"k\";\n};\n", 0600,
	                "dropstock.conf:2: service.api_keys", "expected a list", NULL);
	expect_main_err("two api key forms", "service = {\n  api_keys_cmd = \"echo k\";\n"
	                "  api_keys_env = \"X\";\n};\n", 0600, "dropstock.conf:3: service.api_keys_env",
	                "give only one of", NULL);

	/* numbers */
	expect_main_err("threads 65", "service = {\n  threads = 65;\n};\n", 0644,
	                "dropstock.conf:2: service.threads", "between 1 and 64", NULL);
	expect_main_err("threads 0", "service = {\n  threads = 0;\n};\n", 0644,
	                "dropstock.conf:2: service.threads", "between 1 and 64", NULL);
	expect_main_err("per-ip limit above the total", "service = {\n  max_connections = 10;\n"
	                "  max_connections_per_ip = 20;\n};\n", 0644,
	                "dropstock.conf:3: service.max_connections_per_ip",
	                "cannot be more than max_connections", NULL);
	expect_main_err("memory_limit too small", "service = {\n  memory_limit = 100;\n};\n", 0644,
	                "dropstock.conf:2: service.memory_limit", "between 4096", NULL);
	expect_main_err("access_log not a boolean", "service = {\n  access_log = \"yes\";\n};\n",
	                0644, "dropstock.conf:2: service.access_log", "expected a boolean", NULL);
	expect_main_err("unknown service option", "service = {\n  threds = 2;\n};\n", 0644,
	                "dropstock.conf:2: service.threds", "did you mean 'threads'", NULL);
	expect_main_err("service not a group", "service = true;\n", 0644,
	                "dropstock.conf:1: service", "expected a group", NULL);
}

/* ---- schedules, the guard, the daemon and event delivery ---- */

/* What schedule_parse says about a bad expression (caller frees), so the
 * tests check that the loader passes the parser's reason on. */
static char *parser_reason(const char *expr)
{
	struct schedule sch;
	struct error perr;
	char *quoted, *res;

	err_clear(&perr);
	if (schedule_parse(expr, &sch, &perr) == 0)
		return xasprintf("(test bug: \"%s\" parses)", expr);
	/* the loader does not repeat a leading "EXPR": of the reason */
	quoted = xasprintf("\"%s\": ", expr);
	res = xstrdup(str_startswith(perr.msg, quoted) ? perr.msg + strlen(quoted) : perr.msg);
	free(quoted);
	return res;
}

static void test_schedule_guard(void)
{
	static const char *const bad_expr[] = {
		"every 5x", "0 25 * * *", "daily 3pm", "sometimes", "", NULL
	};
	static const char *const good_expr[] = {
		"every 30m", "every 90s", "every 2h", "daily 03:00", "hourly :15", "*/5 * * * *",
		"0 3 * * 1-5", "off", NULL
	};
	struct conf *c;
	char *text, *reason, *delta;
	int i;

	for (i = 0; bad_expr[i]; i++) {
		reason = parser_reason(bad_expr[i]);
		text = xasprintf("%sschedule = {\n  full = \"%s\";\n};\n", BASE, bad_expr[i]);
		expect_err(bad_expr[i], text, 0644, "acme.conf:11: schedule.full", "is not a schedule",
		           reason, NULL);
		free(text);
		free(reason);
	}
	for (i = 0; good_expr[i]; i++) {
		text = xasprintf("%sschedule = {\n  full = \"%s\";\n};\n", BASE, good_expr[i]);
		c = load_sup("acme", text, 0644);
		ok(c && str_eq(c->suppliers[0].schedule.full, good_expr[i]), "schedule \"%s\" loads",
		   good_expr[i]);
		if (!c)
			printf("# %s\n", E.msg);
		conf_free(c);
		free(text);
	}

	/* a delta schedule needs a delta source */
	text = xasprintf("%sschedule = {\n  delta = \"every 5m\";\n};\n", BASE);
	expect_err("delta schedule without a delta group", text, 0644,
	           "acme.conf:11: schedule.delta", "only used when the supplier has a delta", NULL);
	free(text);
	delta = xasprintf("%sdelta = {\n  url = \"https://api.example.com/changes\";\n};\n", BASE);
	reason = parser_reason("every 0m");
	text = xasprintf("%sschedule = {\n  full = \"off\";\n  delta = \"every 0m\";\n};\n", delta);
	expect_err("bad delta schedule", text, 0644, "acme.conf:15: schedule.delta",
	           "\"every 0m\" is not a schedule", reason, NULL);
	free(text);
	free(reason);
	text = xasprintf("%sschedule = {\n  delta = \"hourly :15\";\n};\n", delta);
	c = load_sup("acme", text, 0644);
	ok(c && str_eq(c->suppliers[0].schedule.delta, "hourly :15")
	   && c->suppliers[0].schedule.full == NULL, "delta schedule with a delta group loads");
	conf_free(c);
	free(text);
	free(delta);

	text = xasprintf("%sschedule = {\n  ful = \"daily 03:00\";\n};\n", BASE);
	expect_err("unknown schedule option", text, 0644, "acme.conf:11: schedule.ful",
	           "did you mean 'full'", NULL);
	free(text);
	text = xasprintf("%sschedule = {\n  full = 30;\n};\n", BASE);
	expect_err("schedule as a number", text, 0644, "acme.conf:11: schedule.full",
	           "expected a string", NULL);
	free(text);
	text = xasprintf("%sschedule = \"daily 03:00\";\n", BASE);
	expect_err("schedule not a group", text, 0644, "acme.conf:10: schedule",
	           "expected a group", NULL);
	free(text);

	/* the guard */
	text = xasprintf("%sguard = {\n  max_changed_pct = 101;\n};\n", BASE);
	expect_err("guard.max_changed_pct above 100", text, 0644,
	           "acme.conf:11: guard.max_changed_pct", "between 0 and 100", NULL);
	free(text);
	text = xasprintf("%sguard = {\n  max_zeroed_pct = -0.5;\n};\n", BASE);
	expect_err("guard.max_zeroed_pct below 0", text, 0644, "acme.conf:11: guard.max_zeroed_pct",
	           "between 0 and 100", NULL);
	free(text);
	text = xasprintf("%sguard = {\n  enabled = \"no\";\n};\n", BASE);
	expect_err("guard.enabled not a boolean", text, 0644, "acme.conf:11: guard.enabled",
	           "expected a boolean", NULL);
	free(text);
	text = xasprintf("%sguard = {\n  max_change_pct = 10;\n};\n", BASE);
	expect_err("unknown guard option", text, 0644, "acme.conf:11: guard.max_change_pct",
	           "did you mean 'max_changed_pct'", NULL);
	free(text);
	text = xasprintf("%sguard = {\n  max_zeroed_pct = 0;\n};\n", BASE);
	c = load_sup("acme", text, 0644);
	ok(c && c->suppliers[0].guard.enabled && c->suppliers[0].guard.max_zeroed_pct == 0.0
	   && c->suppliers[0].guard.max_changed_pct == 50.0,
	   "guard with one option: the others keep their defaults");
	conf_free(c);
	free(text);
}

/* Writes a file of a time zone (or not) below dir. */
static void write_zone(const char *dir, const char *name, const char *content)
{
	char *p = path_join(dir, name);

	write_file(p, content, 0644);
	free(p);
}

static void test_daemon(void)
{
	char *dir = new_case(), *zones = path_join(dir, "zoneinfo"), *reason;
	const char *old_tzdir = getenv("TZDIR");
	char *saved_tzdir = old_tzdir ? xstrdup(old_tzdir) : NULL;
	struct conf *c;

	/* time zones, against a zoneinfo directory of our own */
	write_zone(zones, "Europe/Testville", "TZif2 and the rest of a zone file\n");
	write_zone(zones, "zone.tab", "# not a zone\n");
	setenv("TZDIR", zones, 1);
	c = load_main("daemon = {\n  timezone = \"Europe/Testville\";\n};\n", 0644);
	ok(c && str_eq(c->daemon.timezone, "Europe/Testville"), "a zone found below $TZDIR loads");
	if (!c)
		printf("# %s\n", E.msg);
	conf_free(c);
	c = load_main("daemon = {\n  timezone = \"UTC\";\n};\n", 0644);
	ok(c && str_eq(c->daemon.timezone, "UTC"), "\"UTC\" loads without a zone file");
	conf_free(c);
	expect_main_err("unknown zone", "# zones\ndaemon = {\n  timezone = \"Mars/Olympus\";\n};\n",
	                0644, "dropstock.conf:3: daemon.timezone", "unknown time zone \"Mars/Olympus\"",
	                "Mars/Olympus", "Europe/Berlin", NULL);
	expect_main_err("not a zone file", "daemon = {\n  timezone = \"zone.tab\";\n};\n", 0644,
	                "dropstock.conf:2: daemon.timezone", "is not a time zone file", NULL);
	expect_main_err("a directory", "daemon = {\n  timezone = \"Europe\";\n};\n", 0644,
	                "dropstock.conf:2: daemon.timezone", "unknown time zone", NULL);
	expect_main_err("a path outside the zones", "daemon = {\n  timezone = \"../../etc/passwd\";\n"
	                "};\n", 0644, "dropstock.conf:2: daemon.timezone", "not a time zone name",
	                NULL);
	expect_main_err("an absolute path", "daemon = {\n  timezone = \"/etc/localtime\";\n};\n",
	                0644, "dropstock.conf:2: daemon.timezone", "not a time zone name", NULL);
	expect_main_err("an empty zone", "daemon = {\n  timezone = \"\";\n};\n", 0644,
	                "dropstock.conf:2: daemon.timezone", "must not be empty", NULL);
	if (saved_tzdir)
		setenv("TZDIR", saved_tzdir, 1);
	else
		unsetenv("TZDIR");
	free(saved_tzdir);
	/* the system's zones, where this machine has them */
	if (access("/usr/share/zoneinfo/Europe/Berlin", R_OK) == 0 && !getenv("TZDIR")) {
		c = load_main("daemon = {\n  timezone = \"Europe/Berlin\";\n};\n", 0644);
		ok(c != NULL, "Europe/Berlin from /usr/share/zoneinfo loads");
		conf_free(c);
	} else {
		ok(1, "# SKIP no /usr/share/zoneinfo/Europe/Berlin here");
	}

	/* schedules: file, line, option and the parser's reason */
	reason = parser_reason("daily 25:00");
	expect_main_err("bad daemon.full", "# schedules\ndaemon = {\n  full = \"daily 25:00\";\n};\n",
	                0644, "dropstock.conf:3: daemon.full", "\"daily 25:00\" is not a schedule",
	                reason, NULL);
	free(reason);
	reason = parser_reason("* * * *");
	expect_main_err("bad daemon.delta", "daemon = {\n  full = \"off\";\n  delta = \"* * * *\";\n"
	                "};\n", 0644, "dropstock.conf:3: daemon.delta", reason, NULL);
	free(reason);
	c = load_main("daemon = {\n  full = \"off\";\n  delta = \"*/10 * * * *\";\n};\n", 0644);
	ok(c && str_eq(c->daemon.full, "off") && str_eq(c->daemon.delta, "*/10 * * * *"),
	   "daemon.full off and a cron delta load");
	conf_free(c);

	/* numbers */
	expect_main_err("workers 0", "daemon = {\n  workers = 0;\n};\n", 0644,
	                "dropstock.conf:2: daemon.workers", "between 1 and 64", NULL);
	expect_main_err("workers 65", "daemon = {\n  workers = 65;\n};\n", 0644,
	                "dropstock.conf:2: daemon.workers", "between 1 and 64", NULL);
	expect_main_err("max_attempts 0", "daemon = {\n  max_attempts = 0;\n};\n", 0644,
	                "dropstock.conf:2: daemon.max_attempts", "between 1 and 20", NULL);
	expect_main_err("max_attempts 21", "daemon = {\n  max_attempts = 21;\n};\n", 0644,
	                "dropstock.conf:2: daemon.max_attempts", "between 1 and 20", NULL);
	expect_main_err("jitter 1.5", "daemon = {\n  jitter = 1.5;\n};\n", 0644,
	                "dropstock.conf:2: daemon.jitter", "between 0 and 1", NULL);
	expect_main_err("run_timeout 0", "daemon = {\n  run_timeout = 0;\n};\n", 0644,
	                "dropstock.conf:2: daemon.run_timeout", "between 1 and", NULL);
	expect_main_err("heartbeat_stale a string", "daemon = {\n  heartbeat_stale = \"60\";\n};\n",
	                0644, "dropstock.conf:2: daemon.heartbeat_stale", "expected a number", NULL);
	expect_main_err("serve a string", "daemon = {\n  serve = \"yes\";\n};\n", 0644,
	                "dropstock.conf:2: daemon.serve", "expected a boolean", NULL);
	expect_main_err("unknown daemon option", "daemon = {\n  worker = 2;\n};\n", 0644,
	                "dropstock.conf:2: daemon.worker", "did you mean 'workers'", NULL);
	expect_main_err("daemon not a group", "daemon = true;\n", 0644, "dropstock.conf:1: daemon",
	                "expected a group", NULL);

	/* backoff */
	expect_main_err("empty backoff", "daemon = {\n  backoff = ( );\n};\n", 0644,
	                "dropstock.conf:2: daemon.backoff", "the list is empty", NULL);
	expect_main_err("backoff a number", "daemon = {\n  backoff = 60;\n};\n", 0644,
	                "dropstock.conf:2: daemon.backoff", "expected a list of seconds", NULL);
	expect_main_err("backoff with a string", "daemon = {\n  backoff = ( 60, \"5m\" );\n};\n",
	                0644, "dropstock.conf:2: daemon.backoff[1]", "expected a number of seconds",
	                NULL);
	expect_main_err("negative backoff", "daemon = {\n  backoff = ( 1, -2 );\n};\n", 0644,
	                "dropstock.conf:2: daemon.backoff[1]", "between 0 and 604800", NULL);
	c = load_main("daemon = {\n  backoff = [ 0.2, 0.5 ];\n  max_attempts = 4;\n};\n", 0644);
	ok(c != NULL, "backoff as an array of decimals loads");
	if (c) {
		is_int(c->daemon.n_backoff, 2, "  two waits");
		is_int(c->daemon.backoff_ms[0], 200, "  0.2 s");
		is_int(c->daemon.backoff_ms[1], 500, "  0.5 s");
		is_int(c->daemon.max_attempts, 4, "  max_attempts");
		is_str(c->daemon.full, "daily 03:00", "  full keeps its default");
	} else {
		printf("# %s\n", E.msg);
	}
	conf_free(c);
	free(zones);
	free(dir);
}

static void test_events(void)
{
	static const char URL[] = "  url = \"https://shop.example/hooks\";\n";
	struct conf *c;
	char *text;

	setenv("DS_TEST_EVENTS_KEY", "store-key", 1);
	expect_main_err("events url without a secret", "# events\nevents = {\n"
	                "  url = \"https://shop.example/hooks\";\n};\n", 0644,
	                "dropstock.conf:3: events.url", "needs the secret", "secret_env", NULL);

	/* inline secrets follow the file-permission rule */
	text = xasprintf("events = {\n%s  secret = \"whsec_c3RvcmUta2V5\";\n};\n", URL);
	expect_main_err("inline events secret in a world-readable dropstock.conf", text, 0644,
	                "dropstock.conf:3: events.secret", "holds an inline secret but is "
	                "readable by others", "chmod 600", "secret_env / secret_cmd", NULL);
	expect_main_err("inline events secret in a group-writable dropstock.conf", text, 0620,
	                "dropstock.conf:3: events.secret", "writable by others", NULL);
	c = load_main(text, 0600);
	ok(c != NULL, "inline events secret in a 0600 dropstock.conf loads");
	if (c) {
		is_int(c->events.secret.origin, SECRET_INLINE, "  inline");
		is_str(c->events.secret.value, "whsec_c3RvcmUta2V5", "  value");
		is_str(c->events.url, "https://shop.example/hooks", "  url");
		ok(c->events.command == NULL, "  no command");
		is_int(c->events.line, 1, "  events line");
		is_int(c->events.batch, 50, "  batch keeps its default");
	} else {
		printf("# %s\n", E.msg);
	}
	conf_free(c);
	free(text);

	text = xasprintf("events = {\n%s  secret = \"whsec_not base64!\";\n};\n", URL);
	expect_main_err("whsec_ secret that is not base64", text, 0600,
	                "dropstock.conf:3: events.secret", "not valid base64", NULL);
	free(text);
	text = xasprintf("events = {\n%s  secret_cmd = \"printf 'text-key\\\\n'\";\n};\n", URL);
	c = load_main(text, 0644);
	ok(c && c->events.secret.origin == SECRET_CMD && str_eq(c->events.secret.value, "text-key"),
	   "events secret from a command (a plain text key)");
	conf_free(c);
	free(text);
	unsetenv("DS_TEST_EVENTS_KEY");
	text = xasprintf("events = {\n%s  secret_env = \"DS_TEST_EVENTS_KEY\";\n};\n", URL);
	expect_main_err("events secret_env unset", text, 0644, "dropstock.conf:3: events.secret_env",
	                "DS_TEST_EVENTS_KEY is not set", NULL);
	free(text);
	setenv("DS_TEST_EVENTS_KEY", "store-key", 1);
	text = xasprintf("events = {\n%s  secret_env = \"DS_TEST_EVENTS_KEY\";\n"
	                 "  secret_cmd = \"echo k\";\n};\n", URL);
	expect_main_err("two events secret forms", text, 0644, "dropstock.conf:4: events.secret_cmd",
	                "give only one of", NULL);
	free(text);

	/* targets */
	expect_main_err("events without a target", "events = {\n  batch = 10;\n};\n", 0644,
	                "dropstock.conf:1: events", "needs url", "command", NULL);
	expect_main_err("events secret without url", "events = {\n  command = \"cat\";\n"
	                "  secret_env = \"DS_TEST_EVENTS_KEY\";\n};\n", 0644,
	                "dropstock.conf:3: events.secret_env", "only used with url", NULL);
	c = load_main("events = {\n  command = \"/usr/local/bin/push-stock\";\n};\n", 0644);
	ok(c && c->events.url == NULL && str_eq(c->events.command, "/usr/local/bin/push-stock")
	   && c->events.secret.origin == SECRET_NONE, "events to a command only load");
	conf_free(c);
	expect_main_err("events url ftp", "events = {\n  url = \"ftp://shop.example/x\";\n"
	                "  secret_env = \"DS_TEST_EVENTS_KEY\";\n};\n", 0644,
	                "dropstock.conf:2: events.url", "must be http or https", "ftp", NULL);
	expect_main_err("events url not a URL", "events = {\n  url = \"shop.example/x\";\n"
	                "  secret_env = \"DS_TEST_EVENTS_KEY\";\n};\n", 0644,
	                "dropstock.conf:2: events.url", "is not a URL", NULL);
	expect_main_err("events empty command", "events = {\n  command = \"\";\n};\n", 0644,
	                "dropstock.conf:2: events.command", "must not be empty", NULL);

	/* numbers */
	expect_main_err("events batch 0", "events = {\n  command = \"cat\";\n  batch = 0;\n};\n", 0644,
	                "dropstock.conf:3: events.batch", "between 1 and 1000", NULL);
	expect_main_err("events batch 1001", "events = {\n  command = \"cat\";\n  batch = 1001;\n};\n",
	                0644, "dropstock.conf:3: events.batch", "between 1 and 1000", NULL);
	expect_main_err("events timeout 0", "events = {\n  command = \"cat\";\n  timeout = 0;\n};\n",
	                0644, "dropstock.conf:3: events.timeout", "between", NULL);
	expect_main_err("events give_up negative", "events = {\n  command = \"cat\";\n"
	                "  give_up = -1;\n};\n", 0644, "dropstock.conf:3: events.give_up",
	                "between 0 and", NULL);
	expect_main_err("max_backoff below first_backoff", "events = {\n  command = \"cat\";\n"
	                "  first_backoff = 60;\n  max_backoff = 30;\n};\n", 0644,
	                "dropstock.conf:4: events.max_backoff", "cannot be less than first_backoff",
	                NULL);
	expect_main_err("first_backoff above the default max_backoff", "events = {\n"
	                "  command = \"cat\";\n  first_backoff = 7200;\n};\n", 0644,
	                "dropstock.conf:3: events.first_backoff", "cannot be less than", NULL);
	expect_main_err("unknown events option", "events = {\n  command = \"cat\";\n"
	                "  retries = 3;\n};\n", 0644, "dropstock.conf:3: events.retries",
	                "unknown option", NULL);
	c = load_main("events = {\n  command = \"cat\";\n  first_backoff = 0.1;\n  max_backoff = 0.4;\n"
	              "  give_up = 0;\n};\n", 0644);
	ok(c && c->events.first_backoff_ms == 100 && c->events.max_backoff_ms == 400
	   && c->events.give_up_ms == 0, "short backoffs (as tests use) load");
	conf_free(c);
	unsetenv("DS_TEST_EVENTS_KEY");
}

static void test_listen_split(void)
{
	char addr[64];
	int port = -1;

	ok(conf_listen_split("127.0.0.1:8787", addr, sizeof(addr), &port) == 0, "split IPv4");
	is_str(addr, "127.0.0.1", "  address");
	is_int(port, 8787, "  port");
	ok(conf_listen_split("[::1]:0", addr, sizeof(addr), &port) == 0, "split IPv6");
	is_str(addr, "::1", "  address without brackets");
	is_int(port, 0, "  port 0");
	ok(conf_listen_split("[2001:db8::7]:65535", NULL, 0, NULL) == 0, "no outputs wanted");
	ok(conf_listen_split("127.0.0.1:8787", addr, 4, &port) < 0, "address buffer too small");
	ok(conf_listen_split(NULL, addr, sizeof(addr), &port) < 0, "NULL");
	ok(conf_listen_split("1.2.3.4:123456", addr, sizeof(addr), &port) < 0, "port too long");
}

/* ---- lookup order ---- */

static void test_lookup(void)
{
	char *dir = new_case(), *env_conf, *xdg, *xdg_conf, *missing_path;
	struct conf *c;

	env_conf = path_join(dir, "env/dropstock.conf");
	write_file(env_conf, "aggregate = \"max\";\n", 0644);
	xdg = path_join(dir, "xdg");
	xdg_conf = path_join(xdg, "dropstock/dropstock.conf");
	write_file(xdg_conf, "aggregate = \"first\";\n", 0644);
	missing_path = path_join(dir, "nope/dropstock.conf");

	err_clear(&E);
	c = conf_load(missing_path, &E);
	ok(c == NULL, "explicit missing file is an error, not a fallback");
	like(E.msg, missing_path, "  names the file");
	like(E.msg, "cannot open", "  says it cannot open it");
	is_int(E.kind, ERRK_CONFIG, "  config error");
	conf_free(c);

	setenv("DROPSTOCK_CONFIG", env_conf, 1);
	setenv("XDG_CONFIG_HOME", xdg, 1);
	c = conf_load(NULL, &E);
	ok(c && str_eq(c->file, env_conf) && c->aggregate == AGG_MAX,
	   "$DROPSTOCK_CONFIG comes before $XDG_CONFIG_HOME");
	conf_free(c);
	c = conf_load(xdg_conf, &E);
	ok(c && str_eq(c->file, xdg_conf), "explicit path comes before $DROPSTOCK_CONFIG");
	conf_free(c);

	setenv("DROPSTOCK_CONFIG", missing_path, 1);
	err_clear(&E);
	c = conf_load(NULL, &E);
	ok(c == NULL, "$DROPSTOCK_CONFIG naming a missing file is an error");
	like(E.msg, missing_path, "  names the file");
	like(E.msg, "DROPSTOCK_CONFIG", "  names the variable");
	conf_free(c);

	unsetenv("DROPSTOCK_CONFIG");
	c = conf_load(NULL, &E);
	ok(c && str_eq(c->file, xdg_conf) && c->aggregate == AGG_FIRST,
	   "$XDG_CONFIG_HOME/dropstock/dropstock.conf found");
	conf_free(c);

	free(env_conf);
	free(xdg);
	free(xdg_conf);
	free(missing_path);
	free(dir);
}

/* ---- the embedded demo ---- */

/* supplier_sku column (last) of each catalogue line after the header */
static int catalogue_skus(const char *path, char skus[][32], int max)
{
	FILE *fp = fopen(path, "r");
	char line[512];
	int n = 0;

	if (!fp)
		return -1;
	if (!fgets(line, sizeof(line), fp)) {
		fclose(fp);
		return -1;
	}
	while (n < max && fgets(line, sizeof(line), fp)) {
		char *comma = strrchr(line, ',');

		if (!comma)
			continue;
		line[strcspn(line, "\r\n")] = '\0';
		snprintf(skus[n++], 32, "%s", comma + 1);
	}
	fclose(fp);
	return n;
}

static void test_embedded(void)
{
	char *dir = new_case(), *state, *cfg, *want, *feed = NULL;
	char *sysconf = SYSCONFDIR "/dropstock/dropstock.conf";
	struct supplier_conf *d;
	struct conf *c;
	struct stat st;

	if (access(sysconf, F_OK) == 0) {
		ok(1, "# SKIP embedded default: %s exists on this machine", sysconf);
		free(dir);
		return;
	}
	state = path_join(dir, "state");
	cfg = path_join(dir, "config");
	unsetenv("DROPSTOCK_CONFIG");
	setenv("XDG_CONFIG_HOME", cfg, 1);
	setenv("XDG_STATE_HOME", state, 1);
	err_clear(&E);
	c = conf_load(NULL, &E);
	ok(c != NULL, "embedded default loads with no configuration anywhere");
	if (!c) {
		printf("# %s\n", E.msg);
		goto out;
	}
	ok(c->embedded, "embedded is true");
	ok(c->file == NULL, "file is NULL for the embedded default");
	want = xasprintf("%s/dropstock/dropstock.db", state);
	is_str(c->db_path, want, "demo database in the state directory");
	free(want);
	want = xasprintf("%s/dropstock/demo/catalogue.csv", state);
	is_str(c->demo_catalogue, want, "demo_catalogue points at the materialised catalogue");
	ok(c->demo_catalogue && stat(c->demo_catalogue, &st) == 0 && S_ISREG(st.st_mode),
	   "catalogue exists");
	free(want);
	want = xasprintf("%s/dropstock/demo", state);
	ok(stat(want, &st) == 0 && (st.st_mode & 0777) == 0700, "demo directory is 0700");
	free(want);
	is_int(c->n_suppliers, 1, "one demo supplier");
	d = conf_find_supplier(c, "demo");
	ok(d != NULL, "supplier 'demo' present");
	if (!d)
		goto out;
	is_str(d->name, "Demo Supplier (local file)", "demo name");
	ok(str_startswith(d->source.url, "file:///"), "demo url is an absolute file:// URL");
	feed = xstrdup(d->source.url + strlen("file://"));
	ok(stat(feed, &st) == 0 && S_ISREG(st.st_mode), "demo url points at an existing feed.json");
	ok(strstr(feed, "/demo/feed.json") != NULL, "  named feed.json");
	is_int(d->source.format, FORMAT_JSON, "demo json");
	is_int(d->source.paging, PAGE_NONE, "demo no paging");
	is_str(d->source.map.items, "data.items", "demo items");
	is_str(d->source.map.stock, "warehouses.qty", "demo stock path");
	is_str(d->source.map.available, "active", "demo available");
	is_str(d->source.map.success, "success", "demo success");
	is_str(d->source.map.total, "total", "demo total");
	is_int(d->rules.safety_buffer, 1, "demo safety buffer 1");
	ok(!d->rules.zero_missing, "demo zero_missing off");
	ok(d->source.map.n_text_values >= 3, "demo has text values");

	/* the demo data hangs together: unknown SKUs, unlinked products, zeros, text */
	{
		char skus[64][32];
		int n_cat = catalogue_skus(c->demo_catalogue, skus, 64), i, j;
		json_error_t jerr;
		json_t *doc = json_load_file(feed, 0, &jerr), *items;
		int unknown = 0, unlisted = 0, zero = 0, text = 0;
		size_t k;

		ok(n_cat >= 20 && n_cat <= 30, "catalogue has ~25 products (%d)", n_cat);
		ok(doc != NULL, "feed.json is valid JSON");
		items = doc ? json_object_get(json_object_get(doc, "data"), "items") : NULL;
		ok(json_is_array(items), "feed has data.items");
		ok(json_is_true(json_object_get(doc, "success")), "feed success true");
		is_int(json_integer_value(json_object_get(doc, "total")), json_array_size(items),
		       "feed total matches its items");
		for (k = 0; k < json_array_size(items); k++) {
			json_t *it = json_array_get(items, k), *wh = json_object_get(it, "warehouses");
			const char *sku = json_string_value(json_object_get(it, "sku"));
			long long sum = 0;
			size_t w;
			bool found = false, has_text = false;

			for (i = 0; i < n_cat; i++)
				found |= str_eq(skus[i], sku);
			unknown += !found;
			for (w = 0; w < json_array_size(wh); w++) {
				json_t *q = json_object_get(json_array_get(wh, w), "qty");

				if (json_is_string(q)) {
					has_text = true;
					if (str_caseeq(json_string_value(q), "out of stock"))
						sum += 0;
					else
						sum += 1;
				} else {
					sum += json_integer_value(q);
				}
			}
			text += has_text;
			zero += sum == 0;
		}
		for (i = 0; i < n_cat; i++) {
			bool found = false;

			for (j = 0; j < (int)json_array_size(items); j++)
				found |= str_eq(skus[i], json_string_value(json_object_get(
				                            json_array_get(items, (size_t)j), "sku")));
			unlisted += !found;
		}
		ok(unknown >= 2 && unknown <= 3, "2-3 feed SKUs are not in the catalogue (%d)", unknown);
		ok(unlisted >= 2, "some catalogue products are missing from the feed (%d)", unlisted);
		ok(zero >= 2, "a few items have stock 0 (%d)", zero);
		ok(text >= 3, "text stock values are used (%d)", text);
		json_decref(doc);
	}
	conf_free(c);
	c = NULL;

	/* a second start rewrites the files (an upgrade updates the demo) */
	{
		char *p = xasprintf("%s/dropstock/demo/suppliers.d/demo.conf", state);

		write_file(p, "slug = \"broken\";\n", 0600);
		c = conf_load(NULL, &E);
		ok(c && c->embedded && conf_find_supplier(c, "demo"), "demo files rewritten on load");
		ok(stat(p, &st) == 0 && (st.st_mode & 077) == 0, "demo files not readable by others");
		free(p);
	}
out:
	conf_free(c);
	free(feed);
	free(state);
	free(cfg);
	free(dir);
}

static void test_substitute(void)
{
	static const char in[] =
		"url = \"file://@DEMO_DIR@/feed.json\";\ndb = \"@STATE_DIR@/x.db\";\n@DEMO";
	char *out = conf_demo_substitute(in, strlen(in), "/tmp/my \"demo\"/d%", "/s\\t");

	is_str(out, "url = \"file:///tmp/my%20%22demo%22/d%25/feed.json\";\n"
	            "db = \"/s\\\\t/x.db\";\n@DEMO",
	       "tokens replaced: percent-encoded in file:// URLs, escaped in strings");
	free(out);
}

/* ---- the shipped examples stay valid ---- */

static void test_examples(void)
{
	char *dir = new_case(), *from, *main_path, *sup;
	struct conf *c;

	main_path = path_join(dir, "dropstock.conf");
	sup = path_join(dir, "suppliers.d/acme.conf");
	from = src_path("data/dropstock.conf.example");
	copy_file(from, main_path, 0644);
	free(from);
	from = src_path("data/supplier.conf.example");
	copy_file(from, sup, 0644);
	free(from);
	setenv("ACME_API_TOKEN", "example-token", 1);
	setenv("ACME_WEBHOOK_SECRET", "example-hook-secret", 1);
	setenv("DROPSTOCK_API_KEYS", "example-key-1 example-key-2", 1);
	setenv("DROPSTOCK_EVENTS_SECRET", "whsec_ZXhhbXBsZS1rZXk=", 1);
	err_clear(&E);
	c = conf_load_file(main_path, &E);
	ok(c != NULL, "data/dropstock.conf.example + data/supplier.conf.example load");
	if (c) {
		struct supplier_conf *s = conf_find_supplier(c, "acme");

		ok(s != NULL, "example supplier acme present");
		ok(s && str_eq(s->auth.token.value, "example-token"), "example token from env");
		ok(s && s->source.paging == PAGE_NUMBER, "example paging");
		ok(s && s->has_delta && s->delta.source.paging == PAGE_NUMBER,
		   "example delta, paging from the source");
		ok(s && s->has_check && strstr(s->check.url, "{sku}"), "example check");
		ok(s && s->webhook.enabled && s->webhook.scheme == WEBHOOK_GITHUB
		   && str_eq(s->webhook.secrets[0].value, "example-hook-secret"), "example webhook");
		is_int(c->service.n_api_keys, 2, "example service: two keys from the environment");
		is_str(c->service.listen, "127.0.0.1:8787", "example service listen");
		is_str(c->daemon.full, "daily 03:00", "example daemon.full");
		is_int(c->daemon.n_backoff, 3, "example daemon.backoff");
		ok(c->daemon.serve, "example daemon.serve");
		is_str(c->events.url, "https://shop.example.com/hooks/dropstock", "example events.url");
		is_str(c->events.secret.value, "whsec_ZXhhbXBsZS1rZXk=", "example events secret from env");
		ok(s && str_eq(s->schedule.full, "daily 04:30") && str_eq(s->schedule.delta, "every 15m"),
		   "example supplier schedule");
		ok(s && s->guard.enabled && s->guard.max_changed_pct == 50.0, "example supplier guard");
	} else {
		printf("# %s\n", E.msg);
	}
	conf_free(c);
	unsetenv("ACME_API_TOKEN");
	unsetenv("ACME_WEBHOOK_SECRET");
	unsetenv("DROPSTOCK_API_KEYS");
	unsetenv("DROPSTOCK_EVENTS_SECRET");
	free(main_path);
	free(sup);
	free(dir);
}

/* Every option of the daemon, events, schedule and guard groups is in the
 * manual page (as ".BR NAME " or '" NAME "') and in an example file (as "NAME =", maybe
 * commented out). */
static void test_documented(void)
{
	static const char *const main_opts[] = {
		"timezone", "full", "delta", "workers", "max_attempts", "backoff", "jitter",
		"run_timeout", "heartbeat_stale", "serve", "url", "secret", "secret_env",
		"secret_cmd", "command", "batch", "timeout", "first_backoff", "max_backoff",
		"give_up", NULL
	};
	static const char *const sup_opts[] = {
		"schedule", "guard", "full", "delta", "enabled", "max_changed_pct", "max_zeroed_pct",
		NULL
	};
	char *p, *man, *ex_main, *ex_sup;
	int i;

	p = src_path("doc/dropstock.conf.5");
	man = file_read_all(p, NULL, NULL);
	free(p);
	p = src_path("data/dropstock.conf.example");
	ex_main = file_read_all(p, NULL, NULL);
	free(p);
	p = src_path("data/supplier.conf.example");
	ex_sup = file_read_all(p, NULL, NULL);
	free(p);
	ok(man && ex_main && ex_sup, "manual page and examples readable");
	if (!man || !ex_main || !ex_sup)
		goto out;
	ok(strstr(man, ".SS \"The daemon group\"") && strstr(man, ".SS \"The events group\"")
	   && strstr(man, ".SS \"The schedule group\"") && strstr(man, ".SS \"The guard group\"")
	   && strstr(man, ".SH \"SCHEDULE EXPRESSIONS\""), "manual page has the new sections");
	for (i = 0; main_opts[i]; i++) {
		char *m = xasprintf(".BR %s ", main_opts[i]), *e = xasprintf("\t%s = ", main_opts[i]);
		char *ec = xasprintf("#%s = ", main_opts[i]);
		char *m2 = xasprintf("\" %s \"", main_opts[i]);   /* .BR a ", " b " (type)" */

		ok(strstr(man, m) || strstr(man, m2), "dropstock.conf.5 documents %s", main_opts[i]);
		free(m2);
		ok(strstr(ex_main, e) || strstr(ex_main, ec), "dropstock.conf.example shows %s",
		   main_opts[i]);
		free(m);
		free(e);
		free(ec);
	}
	for (i = 0; sup_opts[i]; i++) {
		char *m = xasprintf(".BR %s ", sup_opts[i]), *e = xasprintf("%s = ", sup_opts[i]);

		ok(strstr(man, m) != NULL, "dropstock.conf.5 documents %s", sup_opts[i]);
		ok(strstr(ex_sup, e) != NULL, "supplier.conf.example shows %s", sup_opts[i]);
		free(m);
		free(e);
	}
out:
	free(man);
	free(ex_main);
	free(ex_sup);
}

int main(void)
{
	const char *tmpdir = getenv("TMPDIR");
	const char *top = getenv("top_srcdir");

	if (top && *top) {
		srcdir = xstrdup(top);
	} else {
		/* __FILE__ is SRCDIR/tests/unit/test_conf.c */
		const char *f = __FILE__;
		const char *at = strstr(f, "tests/unit/test_conf.c");

		srcdir = at && at > f ? xstrndup(f, (size_t)(at - f)) : xstrdup(".");
	}
	snprintf(tmp_root, sizeof(tmp_root), "%s/test_conf-XXXXXX",
	         tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (!mkdtemp(tmp_root)) {
		perror("mkdtemp");
		return 99;
	}
	umask(022);
	unsetenv("DROPSTOCK_CONFIG");
	setenv("XDG_STATE_HOME", tmp_root, 1);
	setenv("XDG_CONFIG_HOME", tmp_root, 1);

	test_good();
	test_main_defaults();
	test_syntax();
	test_unknown();
	test_types();
	test_enums();
	test_required();
	test_slugs();
	test_urls();
	test_dependencies();
	test_secrets();
	test_include();
	test_delta();
	test_ssh();
	test_check();
	test_webhook();
	test_service();
	test_schedule_guard();
	test_daemon();
	test_events();
	test_listen_split();
	test_lookup();
	test_embedded();
	test_substitute();
	test_examples();
	test_documented();

	nftw(tmp_root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(srcdir);
	return tap_done();
}
