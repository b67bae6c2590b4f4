/* test_conf_write.c - writing supplier files: a full supplier (every group)
 * goes text -> load -> text -> load and comes back equal; secrets given as
 * environment variables or commands stay so; the atomic save keeps a .bak;
 * validation names the option and the file shown, not the temporary one.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf.h"
#include "tap.h"

static char tmp_root[PATH_MAX];
static struct error E;

static int rm_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;

	if (!d)
		return unlink(path);
	while ((de = readdir(d)) != NULL) {
		char *sub;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		sub = path_join(path, de->d_name);
		rm_tree(sub);
		free(sub);
	}
	closedir(d);
	return rmdir(path);
}

/* ---- deep comparison, reporting the first difference ---- */

static char diff[256];

#define SAME_STR(a, b, what) do { \
	if (!str_eq((a), (b))) { \
		snprintf(diff, sizeof(diff), "%s: \"%s\" vs \"%s\"", what, (a) ? (a) : "(null)", \
		         (b) ? (b) : "(null)"); \
		return false; \
	} \
} while (0)
#define SAME_NUM(a, b, what) do { \
	if ((a) != (b)) { \
		snprintf(diff, sizeof(diff), "%s: %g vs %g", what, (double)(a), (double)(b)); \
		return false; \
	} \
} while (0)

static bool map_same(const struct mapping *a, const struct mapping *b, const char *what)
{
	int i;

	SAME_STR(a->items, b->items, what);
	SAME_STR(a->sku, b->sku, what);
	SAME_STR(a->stock, b->stock, what);
	SAME_STR(a->updated_at, b->updated_at, what);
	SAME_STR(a->available, b->available, what);
	SAME_STR(a->success, b->success, what);
	SAME_STR(a->message, b->message, what);
	SAME_STR(a->total, b->total, what);
	SAME_STR(a->next, b->next, what);
	SAME_NUM(a->delimiter, b->delimiter, what);
	SAME_NUM(a->quote, b->quote, what);
	SAME_NUM(a->header, b->header, what);
	SAME_STR(a->encoding, b->encoding, what);
	SAME_NUM(a->n_text_values, b->n_text_values, what);
	for (i = 0; i < a->n_text_values; i++) {
		SAME_STR(a->text_values[i].text, b->text_values[i].text, what);
		SAME_NUM(a->text_values[i].value, b->text_values[i].value, what);
	}
	return true;
}

static bool source_same(const struct source_conf *a, const struct source_conf *b,
                        const char *what)
{
	SAME_STR(a->url, b->url, what);
	SAME_NUM(a->format, b->format, what);
	SAME_NUM(a->paging, b->paging, what);
	SAME_NUM(a->page_size, b->page_size, what);
	SAME_NUM(a->first_page, b->first_page, what);
	SAME_STR(a->page_param, b->page_param, what);
	SAME_STR(a->size_param, b->size_param, what);
	SAME_STR(a->offset_param, b->offset_param, what);
	SAME_STR(a->cursor_param, b->cursor_param, what);
	SAME_NUM(a->end, b->end, what);
	return map_same(&a->map, &b->map, what);
}

static bool secret_same(const struct secret *a, const struct secret *b, const char *what)
{
	SAME_NUM(a->origin, b->origin, what);
	SAME_STR(a->spec, b->spec, what);
	SAME_STR(a->value, b->value, what);
	return true;
}

static bool supplier_same(const struct supplier_conf *a, const struct supplier_conf *b)
{
	int i;

	SAME_STR(a->slug, b->slug, "slug");
	SAME_STR(a->name, b->name, "name");
	SAME_NUM(a->active, b->active, "active");
	SAME_NUM(a->priority, b->priority, "priority");
	if (!source_same(&a->source, &b->source, "source"))
		return false;
	SAME_NUM(a->auth.kind, b->auth.kind, "auth.type");
	SAME_STR(a->auth.header, b->auth.header, "auth.header");
	SAME_STR(a->auth.param, b->auth.param, "auth.param");
	SAME_STR(a->auth.username, b->auth.username, "auth.username");
	if (!secret_same(&a->auth.token, &b->auth.token, "auth.token")
	    || !secret_same(&a->auth.password, &b->auth.password, "auth.password"))
		return false;
	SAME_NUM(a->rules.safety_buffer, b->rules.safety_buffer, "rules.safety_buffer");
	SAME_NUM(a->rules.cap, b->rules.cap, "rules.cap");
	SAME_NUM(a->rules.multiplier, b->rules.multiplier, "rules.multiplier");
	SAME_NUM(a->rules.pack_size, b->rules.pack_size, "rules.pack_size");
	SAME_NUM(a->rules.zero_missing, b->rules.zero_missing, "rules.zero_missing");
	SAME_NUM(a->rules.zero_missing_max_pct, b->rules.zero_missing_max_pct, "rules.zmp");
	SAME_NUM(a->timeout_ms, b->timeout_ms, "timeout");
	SAME_NUM(a->connect_timeout_ms, b->connect_timeout_ms, "connect_timeout");
	SAME_NUM(a->rate_per_sec, b->rate_per_sec, "rate_per_sec");
	SAME_NUM(a->rate_per_hour, b->rate_per_hour, "rate_per_hour");
	SAME_NUM(a->max_bytes, b->max_bytes, "max_bytes");
	SAME_NUM(a->retries, b->retries, "retries");
	SAME_NUM(a->retry_delay_ms, b->retry_delay_ms, "retry_delay");
	SAME_NUM(a->max_retry_wait_ms, b->max_retry_wait_ms, "max_retry_wait");
	SAME_NUM(a->fresh_ms, b->fresh_ms, "cache_fresh");
	SAME_NUM(a->has_delta, b->has_delta, "has_delta");
	if (a->has_delta) {
		if (!source_same(&a->delta.source, &b->delta.source, "delta"))
			return false;
		SAME_STR(a->delta.since_param, b->delta.since_param, "delta.since_param");
		SAME_NUM(a->delta.since_format, b->delta.since_format, "delta.since_format");
		SAME_NUM(a->delta.overlap_ms, b->delta.overlap_ms, "delta.overlap");
	}
	SAME_NUM(a->has_check, b->has_check, "has_check");
	if (a->has_check) {
		SAME_STR(a->check.url, b->check.url, "check.url");
		SAME_STR(a->check.method, b->check.method, "check.method");
		SAME_STR(a->check.body, b->check.body, "check.body");
		SAME_STR(a->check.content_type, b->check.content_type, "check.content_type");
		SAME_NUM(a->check.format, b->check.format, "check.format");
		SAME_NUM(a->check.timeout_ms, b->check.timeout_ms, "check.timeout");
		SAME_NUM(a->check.on_failure, b->check.on_failure, "check.on_failure");
		if (!map_same(&a->check.map, &b->check.map, "check.map"))
			return false;
	}
	SAME_NUM(a->webhook.enabled, b->webhook.enabled, "webhook");
	if (a->webhook.enabled) {
		const struct webhook_conf *x = &a->webhook, *y = &b->webhook;

		SAME_NUM(x->scheme, y->scheme, "webhook.scheme");
		SAME_STR(x->header, y->header, "webhook.header");
		SAME_STR(x->prefix, y->prefix, "webhook.prefix");
		SAME_NUM(x->encoding, y->encoding, "webhook.encoding");
		SAME_NUM(x->key_base64, y->key_base64, "webhook.key_base64");
		SAME_NUM(x->n_secrets, y->n_secrets, "webhook.n_secrets");
		for (i = 0; i < x->n_secrets; i++)
			if (!secret_same(&x->secrets[i], &y->secrets[i], "webhook.secret"))
				return false;
		SAME_STR(x->timestamp_header, y->timestamp_header, "webhook.timestamp_header");
		SAME_NUM(x->tolerance_ms, y->tolerance_ms, "webhook.tolerance");
		SAME_STR(x->id_header, y->id_header, "webhook.id_header");
		SAME_STR(x->id_field, y->id_field, "webhook.id_field");
		SAME_NUM(x->max_body, y->max_body, "webhook.max_body");
		if (!map_same(&x->map, &y->map, "webhook.map"))
			return false;
	}
	SAME_STR(a->schedule.full, b->schedule.full, "schedule.full");
	SAME_STR(a->schedule.delta, b->schedule.delta, "schedule.delta");
	SAME_NUM(a->guard.enabled, b->guard.enabled, "guard.enabled");
	SAME_NUM(a->guard.max_changed_pct, b->guard.max_changed_pct, "guard.max_changed_pct");
	SAME_NUM(a->guard.max_zeroed_pct, b->guard.max_zeroed_pct, "guard.max_zeroed_pct");
	return true;
}

/* ---- fixtures ---- */

static const char full_json[] =
	"slug = \"full\";\n"
	"name = \"Full \\\"Quoted\\\" \\\\ Supplier \\u00e9 \xc3\xa9\";\n"
	"active = false;\n"
	"priority = -5;\n"
	"source = {\n"
	"  url = \"https://api.example.com/v2/stock?x=1\";\n"
	"  format = \"json\"; paging = \"cursor\"; page_size = 250; first_page = 0;\n"
	"  page_param = \"p\"; size_param = \"n\"; offset_param = \"o\"; cursor_param = \"c\";\n"
	"  end = \"total\";\n"
	"  map = { items = \"data.items\"; sku = \"sku\"; stock = \"stock.warehouses.qty\";\n"
	"          updated_at = \"updated\"; available = \"avail\"; success = \"ok\";\n"
	"          message = \"msg\"; total = \"total\"; next = \"next_cursor\";\n"
	"          text_values = ( (\"in stock\", 5), (\">10\", 11), (\"out of stock\", 0) ); };\n"
	"};\n"
	"auth = { type = \"bearer\"; token_env = \"DS_CW_TOKEN\"; };\n"
	"rules = { safety_buffer = 2; cap = 100; multiplier = 0.1; pack_size = 6;\n"
	"          zero_missing = true; zero_missing_max_pct = 12.5; };\n"
	"timeout = 1.5; connect_timeout = 3; rate_per_sec = 2.5; rate_per_hour = 5000;\n"
	"max_bytes = 5000000000L; retries = 7; retry_delay = 0.25; max_retry_wait = 30;\n"
	"cache_fresh = 60;\n"
	"delta = { url = \"https://api.example.com/v2/changes\"; since_param = \"since\";\n"
	"          since_format = \"unix\"; overlap = 30.5; page_size = 50; };\n"
	"check = { url = \"https://api.example.com/v2/check\"; method = \"POST\";\n"
	"          body = \"{\\\"skus\\\": {skus}}\"; content_type = \"application/vnd.x+json\";\n"
	"          timeout = 4; on_failure = \"refuse\";\n"
	"          map = { items = \"\"; sku = \"id\"; stock = \"qty\"; }; };\n"
	"webhook = { scheme = \"standard\";\n"
	"            secrets_env = ( \"DS_CW_WH1\", \"DS_CW_WH2\" ); tolerance = 120;\n"
	"            id_field = \"event.id\"; max_body = 65536; };\n"
	"schedule = { full = \"daily 03:00\"; delta = \"every 15m\"; };\n"
	"guard = { enabled = false; max_changed_pct = 30; max_zeroed_pct = 12.5; };\n";

static const char full_csv[] =
	"slug = \"csvone\";\n"
	"source = {\n"
	"  url = \"file:///srv/feeds/stock.csv\"; format = \"csv\"; paging = \"page\";\n"
	"  end = \"empty\";\n"
	"  map = { sku = \"1\"; stock = \"3\"; updated_at = \"2\"; header = false;\n"
	"          delimiter = \";\"; quote = \"'\"; encoding = \"ISO-8859-1\"; };\n"
	"};\n"
	"auth = { type = \"basic\"; username = \"shop\"; password_cmd = \"printf 'pw from cmd'\"; };\n"
	"check = { url = \"https://api.example.com/check/{sku}\"; timeout = 0.5;\n"
	"          format = \"csv\"; };\n"
	"webhook = { scheme = \"custom\"; header = \"X-Sig\"; prefix = \"sha1=\";\n"
	"            encoding = \"base64\"; key_base64 = true; secret = \"c2VjcmV0\";\n"
	"            timestamp_header = \"X-Ts\"; tolerance = 60; id_header = \"X-Id\";\n"
	"            map = { items = \"items\"; sku = \"sku\"; stock = \"qty\"; }; };\n";

static const char minimal[] =
	"slug = \"mini\";\n"
	"source = { url = \"file:///srv/feed.json\"; format = \"json\";\n"
	"           map = { sku = \"sku\"; stock = \"stock\"; }; };\n";

/* Loads text as SLUG, writes it back, loads that: both must be equal. */
static void round_trip(const char *slug, const char *text, char **written)
{
	struct supplier_conf a, b;
	char *out;

	if (conf_supplier_validate(text, slug, NULL, &a, &E) < 0) {
		ok(0, "%s: fixture loads (%s)", slug, E.msg);
		*written = NULL;
		return;
	}
	out = conf_supplier_text(&a);
	if (conf_supplier_validate(out, slug, NULL, &b, &E) < 0) {
		ok(0, "%s: written text loads (%s)\n%s", slug, E.msg, out);
		conf_supplier_free(&a);
		*written = out;
		return;
	}
	ok(1, "%s: written text loads", slug);
	diff[0] = '\0';
	if (!ok(supplier_same(&a, &b), "%s: equal after text -> load -> text -> load", slug))
		printf("#   first difference: %s\n%s", diff, out);
	conf_supplier_free(&a);
	conf_supplier_free(&b);
	*written = out;
}

static void test_round_trips(void)
{
	char *text;

	setenv("DS_CW_TOKEN", "tok-value-from-env", 1);
	setenv("DS_CW_WH1", "whsec_c2VjcmV0MQ==", 1);
	setenv("DS_CW_WH2", "whsec_c2VjcmV0Mg==", 1);

	round_trip("full", full_json, &text);
	if (text) {
		like(text, "token_env = \"DS_CW_TOKEN\";", "env token written as token_env");
		ok(!strstr(text, "tok-value-from-env"), "env token value never written");
		like(text, "secrets_env = ( \"DS_CW_WH1\", \"DS_CW_WH2\" );",
		     "webhook env secrets stay a secrets_env list");
		ok(!strstr(text, "c2VjcmV0MQ"), "webhook secret value never written");
		like(text, "max_bytes = 5000000000L;", "a 64-bit integer carries its L");
		like(text, "timeout = 1.5;", "seconds keep their fraction");
		like(text, "retry_delay = 0.25;", "a quarter second");
		like(text, "multiplier = 0.1;", "shortest decimal");
		{
			const char *d = strstr(text, "delta = {"), *k = strstr(text, "check = {");
			const char *m = d ? strstr(d, "map = {") : NULL;

			ok(d && k && (!m || m > k), "delta map equal to the source's is left to the copy");
		}
		ok(!strstr(text, "header = \"webhook-signature\""),
		   "preset webhook header not written");
		ok(strstr(text, "# ") == text, "the file starts with a comment");
	}
	free(text);

	round_trip("csvone", full_csv, &text);
	if (text) {
		like(text, "password_cmd = \"printf 'pw from cmd'\";", "cmd password written as _cmd");
		ok(!strstr(text, "pw from cmd\";") || strstr(text, "printf"),
		   "cmd output never written");
		like(text, "secret = \"c2VjcmV0\";", "inline secret stays inline");
		like(text, "delimiter = \";\";", "csv delimiter");
		like(text, "header = false;", "csv header flag");
	}
	free(text);

	round_trip("mini", minimal, &text);
	if (text) {
		ok(!strstr(text, "page_size") && !strstr(text, "rules") && !strstr(text, "auth")
		   && !strstr(text, "timeout"), "defaults are left out");
		like(text, "active = true;", "active is always written");
	}
	free(text);
}

static void test_validate_errors(void)
{
	static const char bad_format[] =
		"slug = \"badf\";\n"
		"source = { url = \"file:///x.json\";\n"
		"  format = \"yaml\";\n"
		"  map = { sku = \"s\"; stock = \"q\"; }; };\n";
	struct supplier_conf s;

	err_clear(&E);
	ok(conf_supplier_validate(bad_format, "badf", "suppliers.d/badf.conf", &s, &E) < 0,
	   "a bad format is refused");
	like(E.msg, "suppliers.d/badf.conf:3: source.format: expected one of json, csv, xml",
	     "message names the shown file, line and option");
	ok(!strstr(E.msg, "dropstock-edit"), "no temporary path in the message");
	ok(s.slug == NULL, "out left zeroed on error");

	err_clear(&E);
	ok(conf_supplier_validate(minimal, "other", "suppliers.d/other.conf", NULL, &E) < 0,
	   "slug must match the file name");
	like(E.msg, "does not match the file name", "stem mismatch explained");

	err_clear(&E);
	ok(conf_supplier_validate("slug = \"a/b\";\n", "a/b", NULL, NULL, &E) < 0,
	   "a slug with a slash is refused");
	like(E.msg, "slug", "message names slug");
}

static void test_save(void)
{
	char *dir = path_join(tmp_root, "suppliers.d");
	char *path = path_join(dir, "mini.conf");
	char *bak = path_join(dir, "mini.conf.bak");
	char *text;
	struct stat st;
	DIR *d;
	struct dirent *de;
	int n = 0;

	err_clear(&E);
	ok(conf_supplier_save(dir, "mini", "slug = \"mini\"; # v1\n", &E) == 0,
	   "first save (creates the directory): %s", E.msg);
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "saved with mode 0600");
	ok(access(bak, F_OK) < 0, "no backup of a file that did not exist");
	ok(conf_supplier_save(dir, "mini", "slug = \"mini\"; # v2\n", &E) == 0, "second save");
	text = file_read_all(path, NULL, NULL);
	is_str(text, "slug = \"mini\"; # v2\n", "new content in place");
	free(text);
	text = file_read_all(bak, NULL, NULL);
	is_str(text, "slug = \"mini\"; # v1\n", "previous version kept as .bak");
	free(text);
	ok(conf_supplier_save(dir, "mini", "slug = \"mini\"; # v3\n", &E) == 0, "third save");
	text = file_read_all(bak, NULL, NULL);
	is_str(text, "slug = \"mini\"; # v2\n", ".bak holds the version just replaced");
	free(text);
	d = opendir(dir);
	while (d && (de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' || (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")))
			n++;
	if (d)
		closedir(d);
	is_int(n, 2, "only SLUG.conf and SLUG.conf.bak in the directory (no temporary left)");

	err_clear(&E);
	ok(conf_supplier_save(dir, "../evil", "x", &E) < 0, "a slug with a slash is refused");
	like(E.msg, "not a valid slug", "and explained");

	/* what the loader reads back */
	ok(conf_supplier_save(dir, "mini", minimal, &E) == 0, "save a real supplier");
	{
		struct supplier_conf s;

		err_clear(&E);
		ok(conf_load_supplier(path, &s, &E) == 0, "the saved file loads: %s", E.msg);
		is_str(s.source.url, "file:///srv/feed.json", "with its values");
		conf_supplier_free(&s);
	}
	free(dir);
	free(path);
	free(bak);
}

static void test_map_helpers(void)
{
	struct supplier_conf s;
	struct mapping m;

	if (conf_supplier_validate(full_json, "full", NULL, &s, &E) < 0) {
		ok(0, "fixture loads: %s", E.msg);
		return;
	}
	conf_map_copy(&m, &s.source.map);
	ok(conf_map_equal(&m, &s.source.map), "a copy is equal");
	free(m.text_values[1].text);
	m.text_values[1].text = xstrdup("lots");
	ok(!conf_map_equal(&m, &s.source.map), "a changed text value is not");
	conf_map_clear(&m);
	ok(m.sku == NULL && m.n_text_values == 0, "clear zeroes");
	conf_supplier_free(&s);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(tmp_root, sizeof(tmp_root), "%s/ds-conf-write.XXXXXX",
	         tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(tmp_root)) {
		perror("mkdtemp");
		return 99;
	}
	test_round_trips();
	test_validate_errors();
	test_save();
	test_map_helpers();
	rm_tree(tmp_root);
	return tap_done();
}
