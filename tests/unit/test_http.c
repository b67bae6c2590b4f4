/* test_http.c - src/feed/http against the mock supplier (tests/mock). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <zlib.h>

#include "feed/http.h"
#include "tap.h"
#include "testlib.h"

static const char *tmpdir;

/* ---- helpers ---- */

static void write_gz(const char *name, const char *const *members, int n)
{
	char *p = tmp_path(name);
	FILE *f = fopen(p, "wb");

	if (!f)
		exit(99);
	/* each member is a complete gzip stream; concatenated ones are valid gzip */
	for (int i = 0; i < n; i++) {
		z_stream zs;
		unsigned char out[65536];

		memset(&zs, 0, sizeof(zs));
		if (deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			exit(99);
		zs.next_in = (Bytef *)members[i];
		zs.avail_in = (uInt)strlen(members[i]);
		zs.next_out = out;
		zs.avail_out = sizeof(out);
		if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
			exit(99);
		fwrite(out, 1, sizeof(out) - zs.avail_out, f);
		deflateEnd(&zs);
	}
	fclose(f);
	free(p);
}

struct collect {
	struct buf body;
	int begins;
	int fail_after;     /* data() fails once this many bytes were seen; 0 = never */
};

static int c_begin(void *ud)
{
	struct collect *c = ud;

	c->begins++;
	buf_reset(&c->body);
	return 0;
}

static int c_data(void *ud, const char *bytes, size_t len, struct error *err)
{
	struct collect *c = ud;

	buf_append(&c->body, bytes, len);
	if (c->fail_after > 0 && c->body.len >= (size_t)c->fail_after)
		return err_set(err, ERRK_PERMANENT, "consumer says no");
	return 0;
}

static void sup_init(struct supplier_conf *s)
{
	memset(s, 0, sizeof(*s));
	s->slug = (char *)"test";
	s->name = (char *)"Test";
	s->active = true;
	s->timeout_ms = 5000;
	s->connect_timeout_ms = 2000;
	s->max_bytes = 10 * 1024 * 1024;
	s->retries = 3;
	s->retry_delay_ms = 10;
	s->max_retry_wait_ms = 5000;
}

/* One GET through a fresh collector. */
static int get(struct http_client *hc, const char *url, struct collect *col,
               struct http_result *res, struct error *err)
{
	struct http_sink sink = { c_begin, c_data, col };

	buf_free(&col->body);
	col->begins = 0;
	http_result_clear(res);
	err_clear(err);
	return http_get(hc, url, &sink, res, err);
}

static const char sample_json[] =
	"[{\"sku\":\"A-1\",\"stock\":5},{\"sku\":\"A-2\",\"stock\":\"in stock\"},"
	"{\"sku\":\"A-3\",\"stock\":0}]\n";

/* ---- pure functions ---- */

static void test_url_helpers(void)
{
	char *s;

	s = http_url_add_param("http://h/x", "page", "2");
	is_str(s, "http://h/x?page=2", "add_param: first parameter gets ?");
	free(s);
	s = http_url_add_param("http://h/x?a=1", "b", "x y&z=/");
	is_str(s, "http://h/x?a=1&b=x%20y%26z%3D%2F", "add_param: & and value encoded");
	free(s);
	s = http_url_add_param("http://h/x?", "b", "1");
	is_str(s, "http://h/x?b=1", "add_param: after a bare ?");
	free(s);
	s = http_url_add_param("http://h/x?a=1&", "b", "1");
	is_str(s, "http://h/x?a=1&b=1", "add_param: after a trailing &");
	free(s);
	s = http_url_add_param("http://h/x#frag", "b", "1");
	is_str(s, "http://h/x?b=1#frag", "add_param: goes before the fragment");
	free(s);
	s = http_url_add_param("http://h/x", "b", "\xc3\xa9-_.~");
	is_str(s, "http://h/x?b=%C3%A9-_.~", "add_param: UTF-8 encoded, unreserved kept");
	free(s);

	s = http_url_mask("https://h/p?api_key=SECRET&page=2", "api_key");
	is_str(s, "https://h/p?api_key=***&page=2", "mask: first parameter");
	free(s);
	s = http_url_mask("https://h/p?page=2&api_key=SECRET", "api_key");
	is_str(s, "https://h/p?page=2&api_key=***", "mask: last parameter");
	free(s);
	s = http_url_mask("https://h/p?xapi_key=1&api_key=S#api_key=frag", "api_key");
	is_str(s, "https://h/p?xapi_key=1&api_key=***#api_key=frag",
	       "mask: only the exact name, not in the fragment");
	free(s);
	s = http_url_mask("https://h/p?api_key=S", NULL);
	is_str(s, "https://h/p?api_key=S", "mask: NULL param copies");
	free(s);
	s = http_url_mask("sftp://bob:pw@h:22/feed.csv", NULL);
	is_str(s, "sftp://bob:***@h:22/feed.csv", "mask: password in user info");
	free(s);
	s = http_url_mask("https://h/p", "api_key");
	is_str(s, "https://h/p", "mask: no query");
	free(s);

	s = http_link_next("<https://a/p2>; rel=\"next\", <https://a/p9>; rel=\"last\"", NULL);
	is_str(s, "https://a/p2", "link: next first");
	free(s);
	s = http_link_next("<https://a/p9>; rel=\"last\", <https://a/p2>; rel=next", NULL);
	is_str(s, "https://a/p2", "link: next second, unquoted rel");
	free(s);
	s = http_link_next("<https://a/p1>; rel=\"prev\"; title=\"a, b\", <https://a/p3>; rel=\"prev next\"",
	                   NULL);
	is_str(s, "https://a/p3", "link: quoted comma, rel list");
	free(s);
	s = http_link_next("</items?page=3&limit=5>; rel=\"next\"", "http://h:8/items?page=2&limit=5");
	is_str(s, "http://h:8/items?page=3&limit=5", "link: relative to the request URL");
	free(s);
	s = http_link_next("<p3>; REL=\"Next\"", "http://h/a/b");
	is_str(s, "http://h/a/p3", "link: relative path, case-insensitive");
	free(s);
	s = http_link_next("<https://a/p9>; rel=\"last\"", NULL);
	ok(s == NULL, "link: no next -> NULL");
	free(s);
	s = http_link_next("garbage, <https://a/x>; rel=\"nextpage\"", NULL);
	ok(s == NULL, "link: garbage and a near miss -> NULL");
	free(s);
}

/* ---- plain transfers, keep-alive, gzip, sizes ---- */

static void test_basic(void)
{
	struct mock m;
	struct supplier_conf sup;
	struct http_client *hc;
	struct collect col = { BUF_INIT, 0, 0 };
	struct http_result res = { 0 };
	struct error err = { 0 };
	char *url, *want, *log;
	char big[20000];
	const char *members[2] = { "hello ", "world\n" };

	tmp_write("sample.json", sample_json, strlen(sample_json));
	{
		const char *one[1] = { sample_json };
		write_gz("sample.json.gz", one, 1);
	}
	write_gz("multi.gz", members, 2);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	{
		const char *one[1] = { big };
		write_gz("big.txt.gz", one, 1);
	}
	tmp_write("bad.gz", "\x1f\x8b\x08\x00garbage-garbage-garbage", 27);

	if (mock_start(&m, "basic", "--generate", "25", "--root", tmpdir, "--gzip", "--log",
	               (url = tmp_path("basic.log")), NULL) != 0) {
		free(url);
		ok(0, "mock started");
		return;
	}
	free(url);
	sup_init(&sup);
	hc = http_client_new(&sup, "test-suite");

	url = mock_url(&m, "/items?page=1&limit=10");
	ok(get(hc, url, &col, &res, &err) == 0, "page 1: GET succeeds (%s)", err.msg);
	is_int(res.status, 200, "page 1: status 200");
	is_int(res.attempts, 1, "page 1: one attempt");
	is_int(col.begins, 1, "page 1: begin called once");
	is_int(res.bytes, (long long)col.body.len, "page 1: bytes counted");
	like(buf_str(&col.body), "{\"success\":true,\"total\":25", "page 1: envelope");
	like(buf_str(&col.body), "SKU-0000009", "page 1: last item of the page");
	ok(!strstr(buf_str(&col.body), "SKU-0000010"), "page 1: not the next page");
	like(res.content_type, "application/json", "page 1: content type");
	is_int(res.connects, 1, "page 1: one new connection");
	want = mock_url(&m, "/items?page=2&limit=10");
	is_str(res.link_next, want, "page 1: Link rel=next parsed");
	free(want);
	free(url);

	url = xstrdup(res.link_next ? res.link_next : "");
	ok(get(hc, url, &col, &res, &err) == 0, "page 2 via link: GET succeeds (%s)", err.msg);
	is_int(res.connects, 0, "page 2: connection reused (keep-alive)");
	like(buf_str(&col.body), "SKU-0000019", "page 2: items");
	free(url);
	url = mock_url(&m, "/items?page=3&limit=10");
	ok(get(hc, url, &col, &res, &err) == 0, "page 3: GET succeeds");
	ok(res.link_next == NULL, "page 3: last page has no Link next");
	free(url);

	/* the mock really sends gzip when asked: check with plain libcurl */
	url = mock_url(&m, "/static/sample.json");
	{
		CURL *h = curl_easy_init();
		struct curl_slist *hd = curl_slist_append(NULL, "Accept-Encoding: gzip");
		struct collect raw = { BUF_INIT, 0, 0 };
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
		curl_easy_setopt(h, CURLOPT_HTTP_CONTENT_DECODING, 0L);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fwrite);
		{
			char *rawp = tmp_path("raw.out");
			FILE *f = fopen(rawp, "wb");
			curl_easy_setopt(h, CURLOPT_WRITEDATA, f);
			ok(curl_easy_perform(h) == CURLE_OK, "raw libcurl GET of a static file");
			fclose(f);
			raw.body.data = file_read_all(rawp, &raw.body.len, NULL);
			free(rawp);
		}
		ok(raw.body.len > 2 && (unsigned char)raw.body.data[0] == 0x1f &&
		   (unsigned char)raw.body.data[1] == 0x8b,
		   "mock answers with Content-Encoding: gzip when asked");
		free(raw.body.data);
		curl_slist_free_all(hd);
		curl_easy_cleanup(h);
	}
	ok(get(hc, url, &col, &res, &err) == 0, "gzip content-encoding: GET succeeds");
	is_str(buf_str(&col.body), sample_json, "gzip content-encoding: decoded body");
	is_int(res.bytes, (long long)strlen(sample_json), "gzip content-encoding: bytes after decoding");
	free(url);

	url = mock_url(&m, "/static/sample.json.gz");
	ok(get(hc, url, &col, &res, &err) == 0, ".gz file: GET succeeds (%s)", err.msg);
	is_str(buf_str(&col.body), sample_json, ".gz file: inflated from the magic bytes");
	like(res.content_type, "application/gzip", ".gz file: served as application/gzip");
	free(url);

	url = mock_url(&m, "/static/multi.gz");
	ok(get(hc, url, &col, &res, &err) == 0, "multi-member .gz: GET succeeds (%s)", err.msg);
	is_str(buf_str(&col.body), "hello world\n", "multi-member .gz: all members inflated");
	free(url);

	url = mock_url(&m, "/static/bad.gz");
	ok(get(hc, url, &col, &res, &err) != 0, "corrupt .gz fails");
	is_int(err.kind, ERRK_PERMANENT, "corrupt .gz: permanent");
	like(err.msg, "gzip", "corrupt .gz: says gzip (%s)", err.msg);
	like(err.msg, "/static/bad.gz", "corrupt .gz: names the URL");
	free(url);

	url = mock_url(&m, "/static/missing.json");
	ok(get(hc, url, &col, &res, &err) != 0, "404 fails");
	is_int(err.kind, ERRK_PERMANENT, "404: permanent");
	is_int(res.attempts, 1, "404: not retried");
	is_int(res.status, 404, "404: status kept");
	like(err.msg, "HTTP 404 Not Found", "404: message (%s)", err.msg);
	like(err.msg, "no such file", "404: start of the error body");
	is_int(col.begins, 0, "404: error body not passed to the sink");
	free(url);

	/* the consumer stops the transfer */
	col.fail_after = 10;
	url = mock_url(&m, "/items?page=1&limit=10");
	ok(get(hc, url, &col, &res, &err) != 0, "sink error stops the transfer");
	is_str(err.msg, "consumer says no", "sink error: the sink's message");
	is_int(res.attempts, 1, "sink error: not retried");
	col.fail_after = 0;

	{
		struct buf b = BUF_INIT;
		http_result_clear(&res);
		ok(http_get_buf(hc, url, &b, &res, &err) == 0, "http_get_buf succeeds");
		like(buf_str(&b), "SKU-0000000", "http_get_buf: body");
		buf_free(&b);
	}
	free(url);
	http_client_free(hc);

	/* size limits: on the wire, and after decompression */
	sup.max_bytes = 100;
	hc = http_client_new(&sup, NULL);
	url = mock_url(&m, "/items?page=1&limit=10");
	ok(get(hc, url, &col, &res, &err) != 0, "max_bytes: large response refused");
	is_int(err.kind, ERRK_PERMANENT, "max_bytes: permanent");
	like(err.msg, "larger than 100 bytes", "max_bytes: message (%s)", err.msg);
	free(url);
	http_client_free(hc);
	sup.max_bytes = 1000;
	hc = http_client_new(&sup, NULL);
	url = mock_url(&m, "/static/big.txt.gz");
	ok(get(hc, url, &col, &res, &err) != 0, "max_bytes: small .gz inflating past the limit refused");
	like(err.msg, "larger than 1000 bytes", "max_bytes after inflate: message (%s)", err.msg);
	ok(col.body.len <= 1000, "max_bytes after inflate: no more than the limit delivered");
	free(url);
	http_client_free(hc);

	mock_stop(&m);
	log = tmp_read("basic.log");
	like(log, "GET /items?page=1&limit=10 auth=- key=- accept-encoding=", "mock log: request line");
	like(log, "gzip", "mock log: client offers gzip");
	free(log);
	buf_free(&col.body);
	http_result_clear(&res);
}

/* ---- auth ---- */

static void auth_case(const char *label, const char *mock_flag, const char *mock_value,
                      struct supplier_conf *good, struct supplier_conf *bad, const char *path)
{
	struct mock m;
	struct http_client *hc;
	struct collect col = { BUF_INIT, 0, 0 };
	struct http_result res = { 0 };
	struct error err = { 0 };
	char *url;

	if (mock_start(&m, label, mock_flag, mock_value, "--generate", "3", NULL) != 0) {
		ok(0, "%s: mock started", label);
		return;
	}
	url = mock_url(&m, path);
	hc = http_client_new(good, NULL);
	ok(get(hc, url, &col, &res, &err) == 0, "%s: right credentials accepted (%s)", label, err.msg);
	like(buf_str(&col.body), "SKU-0000002", "%s: body", label);
	http_client_free(hc);

	hc = http_client_new(bad, NULL);
	ok(get(hc, url, &col, &res, &err) != 0, "%s: wrong credentials refused", label);
	is_int(err.kind, ERRK_PERMANENT, "%s: 401 is permanent", label);
	is_int(res.attempts, 1, "%s: 401 not retried", label);
	like(err.msg, "HTTP 401", "%s: message names the status (%s)", label, err.msg);
	if (bad->auth.kind == AUTH_QUERY) {
		like(err.msg, "api_key=***", "%s: key masked in the message", label);
		ok(!strstr(err.msg, "wrong-secret"), "%s: secret not in the message", label);
	}
	http_client_free(hc);
	free(url);
	mock_stop(&m);
	buf_free(&col.body);
	http_result_clear(&res);
}

static void test_auth(void)
{
	struct supplier_conf good, bad;
	struct mock m;
	struct http_client *hc;
	struct collect col = { BUF_INIT, 0, 0 };
	struct http_result res = { 0 };
	struct error err = { 0 };
	char *url, *logp, *log;

	sup_init(&good);
	sup_init(&bad);
	good.auth.kind = bad.auth.kind = AUTH_BEARER;
	good.auth.token.value = (char *)"tok-123";
	bad.auth.token.value = (char *)"tok-999";
	auth_case("bearer", "--require-bearer", "tok-123", &good, &bad, "/items");

	good.auth.kind = bad.auth.kind = AUTH_HEADER;
	good.auth.header = bad.auth.header = (char *)"X-Api-Key";
	auth_case("header", "--require-header", "X-Api-Key:tok-123", &good, &bad, "/items.csv");

	good.auth.kind = bad.auth.kind = AUTH_BASIC;
	good.auth.username = bad.auth.username = (char *)"bob";
	good.auth.password.value = (char *)"s3cret";
	bad.auth.password.value = (char *)"nope";
	auth_case("basic", "--require-basic", "bob:s3cret", &good, &bad, "/items.xml");

	sup_init(&good);
	sup_init(&bad);
	good.auth.kind = bad.auth.kind = AUTH_QUERY;
	good.auth.param = bad.auth.param = (char *)"api_key";
	good.auth.token.value = (char *)"k&1";
	bad.auth.token.value = (char *)"wrong-secret";
	auth_case("query", "--require-query", "api_key=k&1", &good, &bad, "/items?page=1&limit=5");

	/* the query key is not added twice when a next URL already carries it */
	logp = tmp_path("query2.log");
	if (mock_start(&m, "query2", "--require-query", "api_key=k&1", "--generate", "3", "--log",
	               logp, NULL) == 0) {
		hc = http_client_new(&good, NULL);
		url = mock_url(&m, "/items?limit=2&api_key=k%261");
		ok(get(hc, url, &col, &res, &err) == 0, "query: URL already holding the key works (%s)",
		   err.msg);
		free(url);
		http_client_free(hc);
		mock_stop(&m);
		log = tmp_read("query2.log");
		is_int(count_substr(log, "api_key="), 1, "query: key sent once");
		free(log);
	}
	free(logp);

	/* the bearer token travels in the header */
	logp = tmp_path("bearer2.log");
	if (mock_start(&m, "bearer2", "--generate", "1", "--log", logp, NULL) == 0) {
		sup_init(&good);
		good.auth.kind = AUTH_BEARER;
		good.auth.token.value = (char *)"tok-123";
		hc = http_client_new(&good, NULL);
		url = mock_url(&m, "/items");
		get(hc, url, &col, &res, &err);
		free(url);
		http_client_free(hc);
		mock_stop(&m);
		log = tmp_read("bearer2.log");
		like(log, "auth=Bearer tok-123 key=-", "bearer: Authorization header sent");
		free(log);
	}
	free(logp);

	/* a token with a line break is never sent */
	sup_init(&bad);
	bad.auth.kind = AUTH_HEADER;
	bad.auth.header = (char *)"X-Api-Key";
	bad.auth.token.value = (char *)"a\r\nX-Evil: 1";
	hc = http_client_new(&bad, NULL);
	ok(get(hc, "http://127.0.0.1:1/", &col, &res, &err) != 0 && err.kind == ERRK_CONFIG,
	   "header auth: token with a line break refused");
	http_client_free(hc);
	buf_free(&col.body);
	http_result_clear(&res);
}

/* ---- retries ---- */

static void test_retries(void)
{
	struct mock m;
	struct supplier_conf sup;
	struct http_client *hc;
	struct collect col = { BUF_INIT, 0, 0 };
	struct http_result res = { 0 };
	struct error err = { 0 };
	char *url;
	int64_t t0, el;

	sup_init(&sup);

	/* 500 once, then fine */
	if (mock_start(&m, "f500once", "--generate", "5", "--fail-status", "500", "--fail-count",
	               "1", NULL) == 0) {
		hc = http_client_new(&sup, NULL);
		url = mock_url(&m, "/items?page=1&limit=5");
		ok(get(hc, url, &col, &res, &err) == 0, "500 then 200: succeeds (%s)", err.msg);
		is_int(res.attempts, 2, "500 then 200: two attempts");
		is_int(col.begins, 1, "500 then 200: error body not given to the sink");
		like(buf_str(&col.body), "SKU-0000004", "500 then 200: body");
		free(url);
		http_client_free(hc);
		mock_stop(&m);
	}

	/* 500 for ever */
	if (mock_start(&m, "f500", "--generate", "5", "--fail-status", "500", NULL) == 0) {
		sup.retries = 2;
		sup.auth.kind = AUTH_QUERY;
		sup.auth.param = (char *)"api_key";
		sup.auth.token.value = (char *)"TOPSECRET";
		hc = http_client_new(&sup, NULL);
		url = mock_url(&m, "/items?page=1&limit=5");
		ok(get(hc, url, &col, &res, &err) != 0, "500 always: fails");
		is_int(err.kind, ERRK_TRANSIENT, "500 always: transient");
		is_int(res.attempts, 3, "500 always: 1 + retries attempts");
		like(err.msg, "HTTP 500 Internal Server Error after 3 attempts", "500 always: message (%s)",
		     err.msg);
		like(err.msg, "simulated failure", "500 always: start of the body");
		like(err.msg, "api_key=***", "500 always: URL masked");
		ok(!strstr(err.msg, "TOPSECRET"), "500 always: secret absent");
		free(url);
		http_client_free(hc);
		mock_stop(&m);
		sup_init(&sup);
	}

	/* 429 with Retry-After: 1 */
	if (mock_start(&m, "f429", "--generate", "5", "--fail-status", "429", "--fail-count", "1",
	               "--retry-after", "1", NULL) == 0) {
		hc = http_client_new(&sup, NULL);
		url = mock_url(&m, "/items");
		t0 = time_mono_ms();
		ok(get(hc, url, &col, &res, &err) == 0, "429 + Retry-After: succeeds (%s)", err.msg);
		el = time_mono_ms() - t0;
		ok(el >= 900, "429 + Retry-After: waited about 1 s (%lld ms)", (long long)el);
		ok(el < 4000, "429 + Retry-After: not much longer (%lld ms)", (long long)el);
		is_int(res.attempts, 2, "429 + Retry-After: two attempts");
		free(url);
		http_client_free(hc);
		mock_stop(&m);
	}

	/* Retry-After far in the future is capped by max_retry_wait_ms */
	if (mock_start(&m, "f429cap", "--generate", "5", "--fail-status", "429", "--fail-count",
	               "1", "--retry-after", "30", NULL) == 0) {
		sup.max_retry_wait_ms = 200;
		hc = http_client_new(&sup, NULL);
		url = mock_url(&m, "/items");
		t0 = time_mono_ms();
		ok(get(hc, url, &col, &res, &err) == 0, "Retry-After 30 capped: succeeds");
		el = time_mono_ms() - t0;
		ok(el >= 150 && el < 5000, "Retry-After 30 capped at 200 ms (%lld ms)", (long long)el);
		free(url);
		http_client_free(hc);
		mock_stop(&m);
		sup_init(&sup);
	}

	/* 503 with X-Ratelimit-Reset: 1 */
	if (mock_start(&m, "f503", "--generate", "5", "--fail-status", "503", "--fail-count", "1",
	               "--ratelimit-reset", "1", NULL) == 0) {
		hc = http_client_new(&sup, NULL);
		url = mock_url(&m, "/items");
		t0 = time_mono_ms();
		ok(get(hc, url, &col, &res, &err) == 0, "503 + X-Ratelimit-Reset: succeeds");
		el = time_mono_ms() - t0;
		ok(el >= 900, "503 + X-Ratelimit-Reset: waited about 1 s (%lld ms)", (long long)el);
		free(url);
		http_client_free(hc);
		mock_stop(&m);
	}

	/* Retry-After as an HTTP date (1 s resolution: now + 2 s waits 1..2 s) */
	if (mock_start(&m, "f429date", "--generate", "5", "--fail-status", "429", "--fail-count",
	               "1", "--retry-after-date", "2", NULL) == 0) {
		hc = http_client_new(&sup, NULL);
		url = mock_url(&m, "/items");
		t0 = time_mono_ms();
		ok(get(hc, url, &col, &res, &err) == 0, "Retry-After date: succeeds");
		el = time_mono_ms() - t0;
		ok(el >= 500, "Retry-After date: waited (%lld ms)", (long long)el);
		free(url);
		http_client_free(hc);
		mock_stop(&m);
	}

	/* timeouts, and a delay on one page only */
	if (mock_start(&m, "slow", "--generate", "20", "--delay-ms", "3000", "--delay-page", "2",
	               NULL) == 0) {
		sup.timeout_ms = 300;
		sup.retries = 1;
		hc = http_client_new(&sup, NULL);
		url = mock_url(&m, "/items?page=1&limit=10");
		ok(get(hc, url, &col, &res, &err) == 0, "delay on page 2 only: page 1 fine");
		free(url);
		url = mock_url(&m, "/items?page=2&limit=10");
		t0 = time_mono_ms();
		ok(get(hc, url, &col, &res, &err) != 0, "timeout: fails");
		el = time_mono_ms() - t0;
		is_int(err.kind, ERRK_TRANSIENT, "timeout: transient");
		is_int(res.attempts, 2, "timeout: retried");
		like(err.msg, "timed out after 300 ms", "timeout: message (%s)", err.msg);
		like(err.msg, "2 attempts", "timeout: names the attempts");
		ok(el < 2500, "timeout: did not wait for the server (%lld ms)", (long long)el);
		free(url);
		http_client_free(hc);
		mock_stop(&m);
		sup_init(&sup);
	}

	/* truncated bodies */
	if (mock_start(&m, "trunc", "--generate", "50", "--truncate-page", "1", NULL) == 0) {
		sup.retries = 2;
		hc = http_client_new(&sup, NULL);
		url = mock_url(&m, "/items?page=1&limit=50");
		ok(get(hc, url, &col, &res, &err) != 0, "truncated always: fails");
		is_int(err.kind, ERRK_TRANSIENT, "truncated always: transient");
		is_int(res.attempts, 3, "truncated always: retried");
		is_int(col.begins, 3, "truncated always: begin() once per attempt");
		like(err.msg, "3 attempts", "truncated always: message (%s)", err.msg);
		free(url);
		http_client_free(hc);
		mock_stop(&m);
		sup_init(&sup);
	}
	if (mock_start(&m, "trunc1", "--generate", "50", "--truncate-page", "1", "--truncate-count",
	               "1", NULL) == 0) {
		hc = http_client_new(&sup, NULL);
		url = mock_url(&m, "/items?page=1&limit=50");
		ok(get(hc, url, &col, &res, &err) == 0, "truncated once: succeeds (%s)", err.msg);
		is_int(res.attempts, 2, "truncated once: two attempts");
		is_int(col.begins, 2, "truncated once: begin() called again");
		ok(col.body.len > 3 && strcmp(col.body.data + col.body.len - 3, "]}}") == 0 &&
		   strncmp(col.body.data, "{\"success\"", 10) == 0,
		   "truncated once: the sink holds exactly one whole body");
		is_int(res.bytes, (long long)col.body.len, "truncated once: bytes of the good attempt");
		free(url);
		http_client_free(hc);
		mock_stop(&m);
	}

	/* empty 200 body */
	if (mock_start(&m, "empty", "--generate", "5", "--empty-body", NULL) == 0) {
		hc = http_client_new(&sup, NULL);
		url = mock_url(&m, "/items");
		ok(get(hc, url, &col, &res, &err) == 0, "empty body: succeeds");
		is_int(col.begins, 1, "empty body: begin() still called once");
		is_int(res.bytes, 0, "empty body: 0 bytes");
		free(url);
		http_client_free(hc);
		mock_stop(&m);
	}

	/* nothing listening */
	sup.retries = 1;
	hc = http_client_new(&sup, NULL);
	ok(get(hc, "http://127.0.0.1:1/items", &col, &res, &err) != 0, "connection refused: fails");
	is_int(err.kind, ERRK_TRANSIENT, "connection refused: transient");
	is_int(res.attempts, 2, "connection refused: retried");
	like(err.msg, "could not connect", "connection refused: message (%s)", err.msg);
	http_client_free(hc);

	buf_free(&col.body);
	http_result_clear(&res);
}

/* ---- cancel ---- */

static int64_t cancel_deadline;

static int cancel_after(void *ud)
{
	(void)ud;
	return time_mono_ms() >= cancel_deadline;
}

static void test_cancel(void)
{
	struct mock m;
	struct supplier_conf sup;
	struct http_client *hc;
	struct collect col = { BUF_INIT, 0, 0 };
	struct http_result res = { 0 };
	struct error err = { 0 };
	char *url;
	int64_t t0, el;

	if (mock_start(&m, "hang", "--generate", "5", "--delay-ms", "5000", NULL) != 0)
		return;
	sup_init(&sup);
	sup.timeout_ms = 20000;
	hc = http_client_new(&sup, NULL);
	http_client_set_cancel(hc, cancel_after, NULL);
	url = mock_url(&m, "/items");
	t0 = time_mono_ms();
	cancel_deadline = t0 + 200;
	ok(get(hc, url, &col, &res, &err) != 0, "cancel: hanging transfer stopped");
	el = time_mono_ms() - t0;
	is_int(err.kind, ERRK_INTERRUPTED, "cancel: ERRK_INTERRUPTED (%s)", err.msg);
	ok(el < 2500, "cancel: promptly (%lld ms)", (long long)el);
	free(url);
	http_client_free(hc);
	mock_stop(&m);
	buf_free(&col.body);
	http_result_clear(&res);
}

/* ---- other protocols, rate limits ---- */

static void test_protocols(void)
{
	struct supplier_conf sup;
	struct http_client *hc;
	struct collect col = { BUF_INIT, 0, 0 };
	struct http_result res = { 0 };
	struct error err = { 0 };
	char *url;

	sup_init(&sup);
	hc = http_client_new(&sup, NULL);
	url = xasprintf("file://%s/sample.json", tmpdir);
	ok(get(hc, url, &col, &res, &err) == 0, "file:// URL read (%s)", err.msg);
	is_str(buf_str(&col.body), sample_json, "file://: body");
	is_int(res.status, 0, "file://: no HTTP status");
	is_int(col.begins, 1, "file://: begin called");
	free(url);
	url = xasprintf("file://%s/sample.json.gz", tmpdir);
	ok(get(hc, url, &col, &res, &err) == 0, "file:// .gz read");
	is_str(buf_str(&col.body), sample_json, "file:// .gz: inflated");
	free(url);
	url = xasprintf("file://%s/nothing-here.json", tmpdir);
	ok(get(hc, url, &col, &res, &err) != 0, "file:// missing file fails");
	is_int(err.kind, ERRK_PERMANENT, "file:// missing: permanent");
	is_int(res.attempts, 1, "file:// missing: not retried");
	free(url);

	ok(get(hc, "gopher://127.0.0.1:1/x", &col, &res, &err) != 0, "gopher:// refused");
	is_int(err.kind, ERRK_PERMANENT, "gopher://: permanent");
	like(err.msg, "not allowed", "gopher://: message (%s)", err.msg);
	is_int(res.attempts, 1, "gopher://: not retried");
	ok(get(hc, "dict://127.0.0.1:1/x", &col, &res, &err) != 0, "dict:// refused");
	like(err.msg, "protocol dict is not allowed", "dict://: message (%s)", err.msg);
	http_client_free(hc);

	/* rate limit per second: 4 requests at 10/s take >= 300 ms */
	sup.rate_per_sec = 10;
	hc = http_client_new(&sup, NULL);
	url = xasprintf("file://%s/sample.json", tmpdir);
	{
		int64_t t0 = time_mono_ms(), el;
		int good = 0;
		for (int i = 0; i < 4; i++)
			good += get(hc, url, &col, &res, &err) == 0;
		el = time_mono_ms() - t0;
		is_int(good, 4, "rate/s: all requests made");
		ok(el >= 280, "rate/s: spaced (%lld ms for 4 at 10/s)", (long long)el);
	}
	http_client_free(hc);

	/* hourly limit: the third request would have to wait an hour */
	sup.rate_per_sec = 0;
	sup.rate_per_hour = 2;
	sup.max_retry_wait_ms = 100;
	hc = http_client_new(&sup, NULL);
	ok(get(hc, url, &col, &res, &err) == 0 && get(hc, url, &col, &res, &err) == 0,
	   "rate/h: two requests allowed");
	ok(get(hc, url, &col, &res, &err) != 0, "rate/h: third refused");
	is_int(err.kind, ERRK_TRANSIENT, "rate/h: transient");
	like(err.msg, "hourly rate limit of 2 requests reached", "rate/h: message (%s)", err.msg);
	http_client_free(hc);
	free(url);
	buf_free(&col.body);
	http_result_clear(&res);
}

static void test_relative_link(void)
{
	struct mock m;
	struct supplier_conf sup;
	struct http_client *hc;
	struct collect col = { BUF_INIT, 0, 0 };
	struct http_result res = { 0 };
	struct error err = { 0 };
	char *url, *want;

	if (mock_start(&m, "rel", "--generate", "5", "--relative-links", NULL) != 0)
		return;
	sup_init(&sup);
	hc = http_client_new(&sup, NULL);
	url = mock_url(&m, "/items?offset=0&limit=2");
	ok(get(hc, url, &col, &res, &err) == 0, "relative Link: GET succeeds");
	want = mock_url(&m, "/items?offset=2&limit=2");
	is_str(res.link_next, want, "relative Link: resolved against the request URL");
	free(want);
	free(url);
	http_client_free(hc);
	mock_stop(&m);
	buf_free(&col.body);
	http_result_clear(&res);
}

/* ---- POST ---- */

static void test_post(void)
{
	static const char items[] =
		"[{\"sku\":\"A-1\",\"stock\":7},{\"sku\":\"B 2\",\"stock\":\"3\"},"
		"{\"sku\":\"C-3\",\"stock\":0}]\n";
	static const char body[] = "{\"skus\":[\"B 2\",\"A-1\",\"nope\"]}";
	struct mock m;
	struct supplier_conf sup;
	struct http_client *hc;
	struct buf out = BUF_INIT;
	struct http_result res = { 0 };
	struct error err = { 0 };
	char *url, *logp, *log, *itemsp;

	tmp_write("post-items.json", items, strlen(items));
	itemsp = tmp_path("post-items.json");
	logp = tmp_path("post.log");
	if (mock_start(&m, "post", "--items", itemsp, "--log", logp, "--require-bearer", "tok",
	               NULL) != 0) {
		ok(0, "post: mock started");
		free(itemsp);
		free(logp);
		return;
	}
	sup_init(&sup);
	sup.auth.kind = AUTH_BEARER;
	sup.auth.token.value = (char *)"tok";
	hc = http_client_new(&sup, NULL);
	url = mock_url(&m, "/check");

	ok(http_post_buf(hc, url, body, strlen(body), "application/json", &out, &res, &err) == 0,
	   "post: succeeds (%s)", err.msg);
	is_int(res.status, 200, "post: status 200");
	is_int(res.attempts, 1, "post: one attempt");
	is_str(res.content_type, "application/json", "post: answer's content type");
	is_str(buf_str(&out),
	       "{\"items\":[{\"sku\":\"B 2\",\"stock\":\"3\"},{\"sku\":\"A-1\",\"stock\":7}]}",
	       "post: the mock answered about the SKUs in the body, in that order");
	is_int(res.bytes, (long long)out.len, "post: bytes counted");
	http_result_clear(&res);

	/* {"sku": ...} and a content type with parameters */
	ok(http_post_buf(hc, url, "{\"sku\":\"C-3\"}", 13, "application/json; charset=utf-8", &out,
	                 &res, &err) == 0, "post: single sku (%s)", err.msg);
	is_str(buf_str(&out), "{\"items\":[{\"sku\":\"C-3\",\"stock\":0}]}", "post: single answer");
	http_result_clear(&res);

	/* the same client does a GET afterwards: no body, no POST content type */
	free(url);
	url = mock_url(&m, "/check/A-1");
	ok(http_get_buf(hc, url, &out, &res, &err) == 0, "post then get: GET works (%s)", err.msg);
	like(buf_str(&out), "\"stock\":7", "post then get: answer");
	http_result_clear(&res);

	/* the server refuses another content type: 415, not retried */
	free(url);
	url = mock_url(&m, "/check");
	ok(http_post_buf(hc, url, body, strlen(body), "text/plain", &out, &res, &err) != 0,
	   "post: wrong content type refused");
	is_int(res.status, 415, "post: 415");
	is_int(err.kind, ERRK_PERMANENT, "post: 415 is permanent");
	is_int(res.attempts, 1, "post: 415 not retried");
	like(err.msg, "POST http://127.0.0.1:", "post: message says POST and the URL (%s)", err.msg);
	like(err.msg, "HTTP 415", "post: message names the status");
	like(err.msg, "expected Content-Type", "post: message has the start of the error body");
	http_result_clear(&res);

	/* a body that is not JSON: 400 from the mock */
	ok(http_post_buf(hc, url, "sku=A-1", 7, "application/json", &out, &res, &err) != 0 &&
	   res.status == 400, "post: malformed body gets 400");
	http_result_clear(&res);

	/* only len bytes of the body are sent */
	err_clear(&err);
	ok(http_post_buf(hc, url, "{\"sku\":\"A-1\"}garbage", 13, "application/json", &out, &res,
	                 &err) == 0, "post: len bounds the body (%s)", err.msg);
	http_result_clear(&res);
	http_client_free(hc);

	/* refused before sending: a file URL, a content type with a line break */
	hc = http_client_new(&sup, NULL);
	ok(http_post_buf(hc, "file:///etc/hostname", "{}", 2, "application/json", &out, &res,
	                 &err) != 0, "post: file URL refused");
	is_int(err.kind, ERRK_CONFIG, "post: file URL is a configuration error");
	like(err.msg, "only http and https", "post: says why (%s)", err.msg);
	ok(http_post_buf(hc, url, "{}", 2, "application/json\r\nX-Evil: 1", &out, &res, &err) != 0 &&
	   err.kind == ERRK_CONFIG, "post: content type with a line break refused");
	http_result_clear(&res);
	http_client_free(hc);
	mock_stop(&m);

	log = tmp_read("post.log");
	like(log, "POST /check auth=Bearer tok key=- accept-encoding=", "post log: auth sent with POST");
	like(log, "content-type=application/json body={\"skus\":[\"B 2\",\"A-1\",\"nope\"]}\n",
	     "post log: content type and body received");
	like(log, "content-type=application/json; charset=utf-8 body={\"sku\":\"C-3\"}\n",
	     "post log: content type as given");
	{
		const char *g = strstr(log, "GET /check/A-1 auth=Bearer tok key=- accept-encoding=");
		char *line = g ? xstrndup(g, strcspn(g, "\n")) : NULL;

		ok(g != NULL, "post log: the GET after the POST");
		ok(line && !strstr(line, "content-type="),
		   "post log: the GET after the POST is a plain GET");
		free(line);
	}
	like(log, "content-type=text/plain body=", "post log: the refused content type was sent");
	like(log, "body={\"sku\":\"A-1\"}\n", "post log: exactly len bytes sent");
	ok(!strstr(log, "garbage"), "post log: nothing past len");
	ok(!strstr(log, "/etc/hostname") && !strstr(log, "X-Evil"), "post log: refused requests never sent");
	is_int(count_substr(log, "POST /check"), 5, "post log: five POSTs reached the server");
	free(log);
	free(url);
	free(itemsp);
	free(logp);

	/* retries: the body is sent again on each attempt */
	itemsp = tmp_path("post-items.json");
	logp = tmp_path("post503.log");
	if (mock_start(&m, "post503", "--items", itemsp, "--log", logp, "--check-fail-status",
	               "503", NULL) == 0) {
		sup_init(&sup);
		sup.retries = 2;
		hc = http_client_new(&sup, NULL);
		url = mock_url(&m, "/check");
		ok(http_post_buf(hc, url, body, strlen(body), "application/json", &out, &res, &err) != 0,
		   "post 503: fails");
		is_int(err.kind, ERRK_TRANSIENT, "post 503: transient");
		is_int(res.attempts, 3, "post 503: retried twice");
		like(err.msg, "after 3 attempts", "post 503: message (%s)", err.msg);
		http_client_free(hc);
		mock_stop(&m);
		free(url);
		log = tmp_read("post503.log");
		is_int(count_substr(log, "body={\"skus\":[\"B 2\",\"A-1\",\"nope\"]}"), 3,
		       "post 503: the body went with every attempt");
		free(log);
		http_result_clear(&res);
	} else {
		ok(0, "post 503: mock started");
	}
	free(itemsp);
	free(logp);
	buf_free(&out);
}

/* http_post_ex: extra request headers go out with the POST, the final
 * answer's Retry-After and error body come back, malformed header lines are
 * refused before sending, and no_redirects makes a 3xx final. */
static void test_post_ex(void)
{
	static const char body[] = "{\"events\":[]}";
	static const char *const headers[] = { "webhook-id: evt_1_2",
	                                        "webhook-timestamp: 1700000000",
	                                        "webhook-signature: v1,abc=", NULL };
	static const char *const bad[][2] = {
		{ "webhook-id evt_1_2", NULL },       /* no colon */
		{ ": evt_1_2", NULL },                /* no name */
		{ "X-A: 1\r\nX-Evil: 2", NULL },      /* a line break */
		{ "X A: 1", NULL },                   /* a blank in the name */
	};
	struct http_post_opts opts = { headers, false };
	struct mock m;
	struct supplier_conf sup;
	struct http_client *hc;
	struct buf out = BUF_INIT;
	struct http_result res = { 0 };
	struct error err = { 0 };
	char *url, *redir, *logp, *storep, *log;

	storep = tmp_path("postex-store.log");
	logp = tmp_path("postex.log");
	if (mock_start(&m, "postex", "--generate", "3", "--store-log", storep, "--store-fail-count",
	               "1", "--retry-after", "7", "--log", logp, NULL) != 0) {
		ok(0, "post_ex: mock started");
		free(storep);
		free(logp);
		return;
	}
	sup_init(&sup);
	sup.retries = 0;
	hc = http_client_new(&sup, NULL);
	url = mock_url(&m, "/store/events");
	redir = mock_url(&m, "/redirect/store/events");

	/* the store answers 503 with Retry-After: 7 first; no retries here */
	ok(http_post_buf_ex(hc, url, body, strlen(body), "application/json", &opts, &out, &res,
	                    &err) != 0, "post_ex: the first POST fails");
	is_int(res.status, 503, "post_ex: 503");
	is_int(res.attempts, 1, "post_ex: not retried with retries = 0");
	is_int(res.retry_after_ms, 7000, "post_ex: Retry-After reported in ms");
	is_str(res.error_body, "{\"success\":false,\"message\":\"simulated failure: HTTP 503\"}",
	       "post_ex: the error body reported");
	like(err.msg, "POST http://127.0.0.1:", "post_ex: the message names the request (%s)",
	     err.msg);
	http_result_clear(&res);

	err_clear(&err);
	ok(http_post_buf_ex(hc, url, body, strlen(body), "application/json", &opts, &out, &res,
	                    &err) == 0, "post_ex: the second POST succeeds (%s)", err.msg);
	is_int(res.status, 200, "post_ex: 200");
	is_int(res.retry_after_ms, -1, "post_ex: no Retry-After is -1");
	ok(res.error_body == NULL, "post_ex: no error body on success");
	is_str(buf_str(&out), "{\"received\":true}", "post_ex: the answer in the buffer");
	http_result_clear(&res);

	ok(http_post_ex(hc, url, body, strlen(body), "application/json", &opts, NULL, &res,
	                &err) == 0, "post_ex: no sink: the answer is dropped (%s)", err.msg);
	is_int(res.bytes, 17, "post_ex: no sink: the answer was still read");
	http_result_clear(&res);

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct http_post_opts b = { bad[i], false };

		err_clear(&err);
		ok(http_post_buf_ex(hc, url, body, strlen(body), "application/json", &b, &out, &res,
		                    &err) != 0 && err.kind == ERRK_CONFIG,
		   "post_ex: malformed header %zu refused", i + 1);
		like(err.msg, "extra request header 1 ", "post_ex: says which (%s)", err.msg);
		ok(!strstr(err.msg, "evt_1_2") && !strstr(err.msg, "X-Evil"),
		   "post_ex: the header's text is not in the message");
		is_int(res.attempts, 0, "post_ex: nothing sent");
		http_result_clear(&res);
	}

	/* a redirect: final with no_redirects, followed (as a GET) without */
	opts.no_redirects = true;
	ok(http_post_buf_ex(hc, redir, body, strlen(body), "application/json", &opts, &out, &res,
	                    &err) != 0, "post_ex: no_redirects: a 302 fails");
	is_int(res.status, 302, "post_ex: no_redirects: status 302");
	is_int(err.kind, ERRK_PERMANENT, "post_ex: no_redirects: permanent");
	like(err.msg, "HTTP 302", "post_ex: no_redirects: message (%s)", err.msg);
	http_result_clear(&res);
	opts.no_redirects = false;
	ok(http_post_buf_ex(hc, redir, body, strlen(body), "application/json", &opts, &out, &res,
	                    &err) != 0 && res.status == 404,
	   "post_ex: without no_redirects the 302 is followed (a GET: 404 here)");
	http_result_clear(&res);
	free(redir);
	redir = mock_url(&m, "/redirect/items");
	ok(http_get_buf(hc, redir, &out, &res, &err) == 0 && res.status == 200,
	   "post_ex: GETs follow redirects afterwards (%s)", err.msg);
	http_result_clear(&res);
	http_client_free(hc);
	mock_stop(&m);

	log = tmp_read("postex-store.log");
	is_int(count_substr(log, "\"webhook-id\":\"evt_1_2\""), 3,
	       "post_ex store: webhook-id on each of the three POSTs");
	like(log, "\"webhook-timestamp\":\"1700000000\"", "post_ex store: webhook-timestamp");
	like(log, "\"webhook-signature\":\"v1,abc=\"", "post_ex store: webhook-signature");
	like(log, "\"content-type\":\"application/json\"", "post_ex store: the content type too");
	free(log);
	log = tmp_read("postex.log");
	is_int(count_substr(log, "POST /store/events "), 3,
	       "post_ex log: refused requests never reached the server");
	is_int(count_substr(log, "POST /redirect/store/events "), 2,
	       "post_ex log: two redirected POSTs");
	is_int(count_substr(log, "GET /store/events "), 1,
	       "post_ex log: only the one without no_redirects was followed");
	free(log);
	free(url);
	free(redir);
	free(storep);
	free(logp);
	buf_free(&out);
}

/* ---- sftp: the server's host key is always checked ---- */

/* One GET that must fail with a configuration error before any connection. */
static void sftp_refused(struct http_client *hc, const char *url, const char *what,
                         const char *needle1, const char *needle2)
{
	struct collect col = { BUF_INIT, 0, 0 };
	struct http_result res = { 0 };
	struct error err = { 0 };
	int64_t t0 = time_mono_ms();

	ok(get(hc, url, &col, &res, &err) != 0, "%s: refused", what);
	is_int(err.kind, ERRK_CONFIG, "%s: a configuration error (exit status 3)", what);
	is_int(res.attempts, 0, "%s: no attempt made", what);
	is_int(res.connects, 0, "%s: no connection opened", what);
	is_int(col.begins, 0, "%s: nothing delivered", what);
	ok(time_mono_ms() - t0 < 1000, "%s: at once, no retries", what);
	if (needle1)
		like(err.msg, needle1, "%s: message names %s (%s)", what, needle1, err.msg);
	if (needle2)
		like(err.msg, needle2, "%s: message names %s", what, needle2);
	buf_free(&col.body);
	http_result_clear(&res);
}

/* One GET that passes the host key set-up and fails to connect (nothing
 * listens on port 1): the check did not stand in the way. */
static void sftp_tries(struct http_client *hc, const char *url, const char *what)
{
	struct collect col = { BUF_INIT, 0, 0 };
	struct http_result res = { 0 };
	struct error err = { 0 };

	ok(get(hc, url, &col, &res, &err) != 0, "%s: fails (nothing listens)", what);
	is_int(err.kind, ERRK_TRANSIENT, "%s: as a connection failure, not a configuration "
	       "error (%s)", what, err.msg);
	ok(res.attempts >= 1, "%s: an attempt was made", what);
	buf_free(&col.body);
	http_result_clear(&res);
}

static void test_sftp_host_keys(void)
{
	const curl_version_info_data *vi = curl_version_info(CURLVERSION_NOW);
	const char *lib = vi->libssh_version;
	char *old_home = xstrdup(getenv("HOME")), *home = tmp_path("home");
	char *missing = tmp_path("no-such-known_hosts"), *kh = tmp_path("known_hosts");
	char *home_ssh, *home_kh, *msg;
	bool have_sftp = false;
	struct supplier_conf sup;
	struct http_client *hc;

	for (const char *const *p = vi->protocols; p && *p; p++)
		have_sftp = have_sftp || strcmp(*p, "sftp") == 0;
	if (!have_sftp || !lib) {
		printf("# this libcurl has no sftp: skipping the host key tests\n");
		goto out;
	}
	mkdir(home, 0700);
	setenv("HOME", home, 1);      /* empty: no ~/.ssh/known_hosts */
	tmp_write_text("known_hosts", "");

	/* no way to check the host key: refused before connecting */
	sup_init(&sup);
	sup.source.url = (char *)"sftp://127.0.0.1:1/outgoing/stock.csv";
	hc = http_client_new(&sup, NULL);
	sftp_refused(hc, "sftp://127.0.0.1:1/outgoing/stock.csv", "no host key settings",
	             "the server's host key cannot be checked", "source.ssh_host_key_sha256");
	sftp_refused(hc, "sftp://127.0.0.1:1/outgoing/stock.csv", "no host key settings again",
	             "GET sftp://127.0.0.1:1/outgoing/stock.csv: ", "source.ssh_known_hosts");
	sftp_refused(hc, "SFTP://127.0.0.1:1/x.csv", "upper-case scheme", "cannot be checked",
	             NULL);
	sftp_refused(hc, "sftp://shop:s3cret@127.0.0.1:1/x.csv", "password in the URL",
	             "sftp://shop:***@127.0.0.1:1/x.csv", NULL);
	{
		struct collect col = { BUF_INIT, 0, 0 };
		struct http_result res = { 0 };
		struct error err = { 0 };

		get(hc, "sftp://shop:s3cret@127.0.0.1:1/x.csv", &col, &res, &err);
		ok(strstr(err.msg, "s3cret") == NULL, "  the password is not in the message");
		is_str(err.option, "source.ssh_host_key_sha256", "  the error names the option");
		buf_free(&col.body);
		http_result_clear(&res);
	}
	http_client_free(hc);
	sup.file = (char *)"suppliers.d/test.conf";
	hc = http_client_new(&sup, NULL);
	sftp_refused(hc, "sftp://127.0.0.1:1/outgoing/stock.csv", "with the supplier file known",
	             "or source.ssh_known_hosts in suppliers.d/test.conf", NULL);
	http_client_free(hc);

	/* ssh_known_hosts names a file that is not there, or a directory */
	sup.source.ssh_known_hosts = missing;
	hc = http_client_new(&sup, NULL);
	msg = xasprintf("known_hosts file %s (source.ssh_known_hosts in suppliers.d/test.conf) "
	                "cannot be read", missing);
	sftp_refused(hc, "sftp://127.0.0.1:1/outgoing/stock.csv", "missing known_hosts file", msg,
	             strerror(ENOENT));
	free(msg);
	http_client_free(hc);
	sup.source.ssh_known_hosts = home;
	hc = http_client_new(&sup, NULL);
	sftp_refused(hc, "sftp://127.0.0.1:1/outgoing/stock.csv", "known_hosts is a directory",
	             home, strerror(EISDIR));
	http_client_free(hc);

	/* with a usable setting the request goes ahead (and meets a closed port) */
	sup.retries = 0;
	sup.source.ssh_known_hosts = kh;
	hc = http_client_new(&sup, NULL);
	sftp_tries(hc, "sftp://127.0.0.1:1/outgoing/stock.csv", "ssh_known_hosts given");
	/* other protocols do not care */
	{
		struct collect col = { BUF_INIT, 0, 0 };
		struct http_result res = { 0 };
		struct error err = { 0 };
		char *url = xasprintf("file://%s/known_hosts", tmpdir);

		ok(get(hc, url, &col, &res, &err) == 0, "a file:// URL on the same client reads (%s)",
		   err.msg);
		free(url);
		buf_free(&col.body);
		http_result_clear(&res);
	}
	http_client_free(hc);
	sup.source.ssh_known_hosts = NULL;
	sup.source.ssh_host_key_sha256 = (char *)"c02WdZyO+2A6aedk9YWJZDTiLsPJw+jEWoWcqs9QApM";
	hc = http_client_new(&sup, NULL);
	if (strncmp(lib, "libssh2/", 8) == 0)
		sftp_tries(hc, "sftp://127.0.0.1:1/outgoing/stock.csv", "ssh_host_key_sha256 given");
	else
		sftp_refused(hc, "sftp://127.0.0.1:1/outgoing/stock.csv",
		             "ssh_host_key_sha256 with an SSH library other than libssh2",
		             "cannot check a SHA-256 host key fingerprint", NULL);
	http_client_free(hc);

	/* ~/.ssh/known_hosts, when it exists, for interactive use */
	sup.source.ssh_host_key_sha256 = NULL;
	home_ssh = tmp_path("home/.ssh");
	home_kh = tmp_path("home/.ssh/known_hosts");
	mkdir(home_ssh, 0700);
	tmp_write_text("home/.ssh/known_hosts", "");
	hc = http_client_new(&sup, NULL);
	sftp_tries(hc, "sftp://127.0.0.1:1/outgoing/stock.csv", "~/.ssh/known_hosts exists");
	http_client_free(hc);
	unlink(home_kh);
	rmdir(home_ssh);
	free(home_ssh);
	free(home_kh);

	/* a delta source on another server uses its own settings */
	sup.source.ssh_known_hosts = kh;
	sup.has_delta = true;
	sup.delta.source.url = (char *)"sftp://127.0.0.1:2/changes.csv";
	sup.delta.source.ssh_known_hosts = missing;
	hc = http_client_new(&sup, NULL);
	sftp_tries(hc, "sftp://127.0.0.1:1/outgoing/stock.csv", "source server: source settings");
	sftp_refused(hc, "sftp://127.0.0.1:2/changes.csv?updated_since=x",
	             "delta server: delta settings", missing, "(delta.ssh_known_hosts in");
	http_client_free(hc);
	sup.has_delta = false;
	memset(&sup.delta, 0, sizeof(sup.delta));

out:
	if (old_home)
		setenv("HOME", old_home, 1);
	else
		unsetenv("HOME");
	free(old_home);
	rmdir(home);
	free(home);
	free(missing);
	free(kh);
}

int main(void)
{
	setenv("NO_PROXY", "127.0.0.1,localhost", 1);
	setenv("no_proxy", "127.0.0.1,localhost", 1);
	http_global_init();
	test_url_helpers();
	tmpdir = tmp_make("test_http");
	test_sftp_host_keys();

	if (!mock_bin()) {
		printf("# MOCK_SUPPLIER not set or not executable: skipping the server tests\n");
		tmp_remove();
		http_global_cleanup();
		return tap_done();
	}

	test_basic();
	test_auth();
	test_retries();
	test_cancel();
	test_protocols();
	test_relative_link();
	test_post();
	test_post_ex();

	tmp_remove();
	http_global_cleanup();
	return tap_done();
}
