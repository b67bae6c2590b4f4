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

	is_str(conf_format_name(FORMAT_CSV), "csv", "format name");
	is_str(conf_paging_name(PAGE_NEXT_URL), "next_url", "paging name");
	is_str(conf_end_name(END_TOTAL), "total", "end name");
	is_str(conf_auth_name(AUTH_QUERY), "query", "auth name");
	is_str(conf_aggregate_name(AGG_MAX), "max", "aggregate name");
out:
	conf_free(c);
	free(main_path);
	free(dir);
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
	expect_err_sub("missing source.url", "  url = \"https://api.example.com/stock\";\n",
	               "  # no url\n",
	               "acme.conf:2", "source", "missing required option 'url'", NULL);
	expect_err_sub("missing source.format", "  format = \"json\";\n", "\n",
	               "acme.conf:2", "source", "missing required option 'format'", NULL);
	expect_err_sub("missing slug", "slug = \"acme\";\n", "name = \"ACME\";\n",
	               "acme.conf", "missing required option 'slug'", NULL);
	expect_err("missing source", "slug = \"acme\";\n", 0644,
	           "acme.conf", "missing required option 'source'", NULL);
	expect_err_sub("empty sku", "    sku = \"sku\";\n", "    sku = \"\";\n",
	               "acme.conf:6", "source.map.sku", "must not be empty", NULL);
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
	err_clear(&E);
	c = conf_load_file(main_path, &E);
	ok(c != NULL, "data/dropstock.conf.example + data/supplier.conf.example load");
	if (c) {
		struct supplier_conf *s = conf_find_supplier(c, "acme");

		ok(s != NULL, "example supplier acme present");
		ok(s && str_eq(s->auth.token.value, "example-token"), "example token from env");
		ok(s && s->source.paging == PAGE_NUMBER, "example paging");
	} else {
		printf("# %s\n", E.msg);
	}
	conf_free(c);
	unsetenv("ACME_API_TOKEN");
	free(main_path);
	free(sup);
	free(dir);
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
	test_lookup();
	test_embedded();
	test_substitute();
	test_examples();

	nftw(tmp_root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(srcdir);
	return tap_done();
}
