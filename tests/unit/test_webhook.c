/* test_webhook.c - a signed stock push from raw body to committed
 * transaction: size limit, signature before parsing, JSON errors, event ids
 * and duplicates, items rejected one by one, the body as one item or a
 * list, ordering against full syncs, and database errors. */
#include "config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/signature.h"
#include "engine/webhook.h"
#include "store/db.h"
#include "store/store.h"
#include "tap.h"
#include "testlib.h"

#define SECRET "It's a Secret to Everybody"
#define T2 1767225600000LL        /* 2026-01-01T00:00:00Z */
#define T2_ISO "2026-01-01T00:00:00Z"

static char *dbpath;

/* ---- request headers ---- */

struct headers {
	const char *name[4];
	char *value[4];
	int n;
};

static const char *hdr_get(void *ud, const char *name)
{
	struct headers *h = ud;
	int i;

	for (i = 0; i < h->n; i++)
		if (str_caseeq(h->name[i], name))
			return h->value[i];
	return NULL;
}

static void hdr_set(struct headers *h, const char *name, const char *value)
{
	int i;

	for (i = 0; i < h->n; i++) {
		if (str_caseeq(h->name[i], name)) {
			free(h->value[i]);
			h->value[i] = xstrdup(value);
			return;
		}
	}
	h->name[h->n] = name;
	h->value[h->n++] = xstrdup(value);
}

static void hdr_clear(struct headers *h)
{
	int i;

	for (i = 0; i < h->n; i++)
		free(h->value[i]);
	memset(h, 0, sizeof(*h));
}

/* ---- suppliers built in code ---- */

static struct secret the_secret = { SECRET_INLINE, (char *)SECRET, (char *)SECRET };
static struct text_value in_stock = { (char *)"in stock", 5 };

static struct supplier_conf make_supplier(const char *slug)
{
	struct supplier_conf s;

	memset(&s, 0, sizeof(s));
	s.slug = (char *)slug;
	s.name = (char *)slug;
	s.active = true;
	s.priority = 100;
	s.rules.cap = -1;
	s.rules.multiplier = 1.0;
	s.rules.pack_size = 1;
	s.rules.zero_missing_max_pct = 20.0;
	s.source.format = FORMAT_JSON;
	s.source.map.sku = (char *)"id";           /* the feed's map: not used by webhooks */
	s.source.map.stock = (char *)"quantity";
	s.webhook.enabled = true;
	s.webhook.scheme = WEBHOOK_GITHUB;
	s.webhook.secrets = &the_secret;
	s.webhook.n_secrets = 1;
	s.webhook.max_body = 4096;
	s.webhook.map.sku = (char *)"sku";
	s.webhook.map.stock = (char *)"qty";
	s.webhook.map.updated_at = (char *)"updated_at";
	s.webhook.map.text_values = &in_stock;
	s.webhook.map.n_text_values = 1;
	return s;
}

struct env {
	struct db *db;
	struct conf conf;
	struct supplier_conf acme;    /* items under "items", id in X-GitHub-Delivery */
	struct supplier_conf solo;    /* no items path, id at meta.event in the body */
	int64_t acme_id;
	struct headers h;
	struct webhook_outcome out;
	json_t *answer;               /* out.response parsed */
};

/* Delivers body signed (or with the given signature when sig is not NULL)
 * with event id id (NULL = none); returns the HTTP status. */
static int deliver(struct env *v, struct supplier_conf *s, const char *body, const char *id,
                   const char *sig, int64_t now)
{
	char *good = NULL;

	hdr_clear(&v->h);
	if (sig) {
		hdr_set(&v->h, "X-Hub-Signature-256", sig);
	} else {
		good = signature_sign(&s->webhook, NULL, 0, body, strlen(body));
		hdr_set(&v->h, "x-hub-signature-256", good);   /* any case */
		free(good);
	}
	if (id)
		hdr_set(&v->h, "X-GitHub-Delivery", id);
	webhook_outcome_clear(&v->out);
	json_decref(v->answer);
	v->answer = NULL;
	webhook_ingest(v->db, &v->conf, s, hdr_get, &v->h, body, strlen(body), now, &v->out);
	if (v->out.response)
		v->answer = json_loads(v->out.response, 0, NULL);
	return v->out.http_status;
}

static int64_t ans_int(struct env *v, const char *key)
{
	return json_integer_value(json_object_get(v->answer, key));
}

static const char *ans_str(struct env *v, const char *key)
{
	return json_string_value(json_object_get(v->answer, key));
}

static bool ans_true(struct env *v, const char *key)
{
	return json_is_true(json_object_get(v->answer, key));
}

/* ---- tests ---- */

static void test_sign_sanity(struct env *v)
{
	char *sig = signature_sign(&v->acme.webhook, NULL, 0, "Hello, World!", 13);

	/* GitHub's documented example for this secret and body */
	is_str(sig, "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
	       "signature_sign gives GitHub's example value");
	free(sig);
}

static void test_signed(struct env *v)
{
	static const char body[] =
		"{\"items\":[{\"sku\":\"A1\",\"qty\":5,\"updated_at\":\"" T2_ISO "\"},"
		"{\"sku\":\"A2\",\"qty\":\"In Stock\"}]}";
	char *p;

	is_int(deliver(v, &v->acme, body, "evt-1", NULL, T2 + 1000), 200, "signed delivery: 200");
	ok(v->answer != NULL, "the answer is JSON");
	ok(ans_true(v, "ok"), "ok true");
	is_str(ans_str(v, "event_id"), "evt-1", "answer names the event");
	ok(json_is_false(json_object_get(v->answer, "duplicate")), "not a duplicate");
	is_int(ans_int(v, "applied"), 2, "2 applied");
	is_int(ans_int(v, "changed"), 2, "2 changed");
	is_int(ans_int(v, "stale"), 0, "0 stale");
	is_int(ans_int(v, "unknown"), 0, "0 unknown");
	is_int(json_array_size(json_object_get(v->answer, "rejected")), 0, "none rejected");
	ok(v->out.applied == 2 && v->out.changed == 2 && v->out.rejected == 0 && !v->out.duplicate,
	   "outcome counts");
	is_int(q_link_stock(v->db, "A1"), 5, "A1 = 5");
	is_int(q_link_stock(v->db, "A2"), 5, "A2 \"In Stock\" = 5 by the webhook map's text values");
	is_int(q_int(v->db, "SELECT count(*) FROM stock_log WHERE source = 'webhook'"), 2,
	       "stock_log rows with source webhook");
	is_int(q_int(v->db, "SELECT source_time FROM supplier_links WHERE supplier_sku = 'A1'"), T2,
	       "source_time from updated_at");
	is_int(q_int(v->db, "SELECT synced_at FROM supplier_links WHERE supplier_sku = 'A1'"),
	       T2 + 1000, "observed_at is now");
	is_int(q_int(v->db, "SELECT count(*) FROM webhook_receipts WHERE event_id = 'evt-1'"), 1,
	       "receipt stored");
	p = q_str(v->db, "SELECT payload FROM outbox ORDER BY id DESC LIMIT 1");
	like(p, "\"source\":\"webhook\"", "the event says webhook");
	free(p);
	ok(sqlite3_get_autocommit(db_handle(v->db)), "committed before the answer");
}

static void test_refused(struct env *v)
{
	static const char body[] = "{\"items\":[{\"sku\":\"A1\",\"qty\":99}]}";
	char *sig = signature_sign(&v->acme.webhook, NULL, 0, body, strlen(body));
	int64_t logs = q_int(v->db, "SELECT count(*) FROM stock_log");
	int64_t receipts = q_int(v->db, "SELECT count(*) FROM webhook_receipts");
	char big[5000];

	/* the signature of another body */
	is_int(deliver(v, &v->acme, "{\"items\":[{\"sku\":\"A1\",\"qty\":98}]}", "evt-t", sig,
	               T2 + 2000), 401, "tampered body: 401");
	ok(!ans_true(v, "ok"), "ok false");
	like(ans_str(v, "error"), "does not match the body", "reason given");
	is_int(q_link_stock(v->db, "A1"), 5, "tampered: nothing applied");
	free(sig);
	is_int(deliver(v, &v->acme, "{\"items\":[", "evt-t", "sha256=00", T2 + 2000), 401,
	       "a bad signature is refused before the (broken) body is parsed");
	hdr_clear(&v->h);
	webhook_outcome_clear(&v->out);
	webhook_ingest(v->db, &v->conf, &v->acme, hdr_get, &v->h, body, strlen(body), T2, &v->out);
	is_int(v->out.http_status, 401, "no signature header: 401");
	like(v->out.response, "X-Hub-Signature-256 is missing", "names the missing header");

	memset(big, ' ', sizeof(big) - 1);
	big[0] = '{';
	big[sizeof(big) - 2] = '}';
	big[sizeof(big) - 1] = '\0';
	is_int(deliver(v, &v->acme, big, "evt-big", NULL, T2 + 2000), 413, "oversized: 413");
	like(ans_str(v, "error"), "4999 bytes", "names the size");
	like(ans_str(v, "error"), "4096", "names the limit");

	is_int(deliver(v, &v->acme, "{\"items\": [ {\"sku\": \"A1\",, } ]}", "evt-bad", NULL,
	               T2 + 2000), 400, "malformed JSON: 400");
	like(ans_str(v, "error"), "JSON syntax error at line 1, column", "with line and column");
	is_int(deliver(v, &v->acme, "{\"items\": {\"sku\": \"A1\"}}", "evt-bad2", NULL, T2 + 2000), 400,
	       "items not a list: 400");
	like(ans_str(v, "error"), "items", "names the item path");
	is_int(deliver(v, &v->acme, "{\"things\": []}", "evt-bad3", NULL, T2 + 2000), 400,
	       "no item list: 400");
	like(ans_str(v, "error"), "item list 'items' not found", "says the list is missing");

	is_int(q_int(v->db, "SELECT count(*) FROM stock_log"), logs, "refused: no log rows");
	is_int(q_int(v->db, "SELECT count(*) FROM webhook_receipts"), receipts,
	       "refused: no receipts");
	is_int(q_int(v->db, "SELECT count(*) FROM unknown_skus"), 0, "refused: no unknown SKUs");
}

static void test_duplicate(struct env *v)
{
	static const char body[] = "{\"items\":[{\"sku\":\"A1\",\"qty\":40},{\"sku\":\"A3\",\"qty\":1}]}";
	int64_t logs = q_int(v->db, "SELECT count(*) FROM stock_log");
	int64_t events = q_int(v->db, "SELECT count(*) FROM outbox");

	/* evt-1 again, with other figures: nothing changes */
	is_int(deliver(v, &v->acme, body, "evt-1", NULL, T2 + 3000), 200, "repeated event id: 200");
	ok(ans_true(v, "ok"), "ok true");
	ok(ans_true(v, "duplicate"), "duplicate true");
	ok(v->out.duplicate, "outcome duplicate");
	is_int(ans_int(v, "applied"), 0, "nothing applied");
	is_int(q_link_stock(v->db, "A1"), 5, "A1 still 5");
	is_int(q_link_stock(v->db, "A3"), -1, "A3 still without stock");
	is_int(q_int(v->db, "SELECT count(*) FROM stock_log"), logs, "no log rows");
	is_int(q_int(v->db, "SELECT count(*) FROM outbox"), events, "no events");

	/* without an id there is no idempotency: both apply */
	is_int(deliver(v, &v->acme, body, NULL, NULL, T2 + 4000), 200, "no event id: 200");
	ok(json_is_null(json_object_get(v->answer, "event_id")), "event_id null");
	is_int(ans_int(v, "changed"), 2, "applied");
	is_int(q_link_stock(v->db, "A1"), 40, "A1 = 40");
	is_int(deliver(v, &v->acme, body, NULL, NULL, T2 + 5000), 200, "the same again");
	ok(!ans_true(v, "duplicate"), "not detected as a duplicate");
	is_int(ans_int(v, "applied"), 2, "applied again");
	is_int(ans_int(v, "changed"), 0, "unchanged");
}

static void test_rejected(struct env *v)
{
	static const char body[] =
		"{\"items\":["
		"{\"sku\":\"A1\",\"qty\":7},"
		"{\"sku\":\"A2\",\"qty\":\"lots\"},"
		"{\"qty\":3},"
		"{\"sku\":\"A3\",\"qty\":-2},"
		"{\"sku\":\"ZZ-9\",\"qty\":1},"
		"{\"sku\":\"A3\",\"qty\":2,\"updated_at\":\"yesterday-ish\"}]}";
	json_t *rej, *r;

	is_int(deliver(v, &v->acme, body, "evt-rej", NULL, T2 + 6000), 200,
	       "a delivery with bad items: 200");
	is_int(ans_int(v, "applied"), 2, "the good items applied");
	is_int(ans_int(v, "changed"), 1, "A1 changed");
	is_int(ans_int(v, "unknown"), 1, "ZZ-9 unknown");
	is_int(v->out.rejected, 4, "4 rejected");
	rej = json_object_get(v->answer, "rejected");
	is_int(json_array_size(rej), 4, "4 listed");
	r = json_array_get(rej, 0);
	is_int(json_integer_value(json_object_get(r, "position")), 2, "first rejected at position 2");
	is_str(json_string_value(json_object_get(r, "sku")), "A2", "with its sku");
	like(json_string_value(json_object_get(r, "error")), "stock \"lots\" is not a number",
	     "and the reason");
	r = json_array_get(rej, 1);
	is_int(json_integer_value(json_object_get(r, "position")), 3, "position 3");
	ok(json_is_null(json_object_get(r, "sku")), "no sku: null");
	like(json_string_value(json_object_get(r, "error")), "missing SKU", "missing SKU");
	r = json_array_get(rej, 2);
	like(json_string_value(json_object_get(r, "error")), "negative stock -2", "negative stock");
	r = json_array_get(rej, 3);
	is_int(json_integer_value(json_object_get(r, "position")), 6, "position 6");
	like(json_string_value(json_object_get(r, "error")), "is not a time", "bad updated_at");
	is_int(q_link_stock(v->db, "A1"), 7, "A1 = 7");
	is_int(q_link_stock(v->db, "A2"), 5, "A2 untouched");
	is_int(q_link_stock(v->db, "A3"), 1, "A3 untouched (bad figures are never 0)");
	is_int(q_int(v->db, "SELECT last_stock FROM unknown_skus WHERE supplier_sku = 'ZZ-9'"), 1,
	       "unknown SKU recorded");
}

/* A webhook with supplier time T2 against a full page observed at T1 < T2,
 * in both orders: the T2 value wins. */
static void test_ordering(struct env *v)
{
	static const char body[] =
		"{\"items\":[{\"sku\":\"%s\",\"qty\":8,\"updated_at\":\"" T2_ISO "\"}]}";
	struct apply_ctx c;
	struct apply_counts n;
	struct error e;
	int64_t t1 = T2 - 60000;
	char text[256];
	struct observation full = { NULL, 2, 0, 0, 1 };

	memset(&c, 0, sizeof(c));
	c.db = v->db;
	c.sup = &v->acme;
	c.supplier_id = v->acme_id;
	c.agg = AGG_SUM;
	c.source = SRC_FULL;
	full.observed_at = t1;

	/* webhook first, then the older full page */
	snprintf(text, sizeof(text), body, "O1");
	is_int(deliver(v, &v->acme, text, "evt-o1", NULL, T2 + 500), 200, "webhook at T2");
	is_int(q_link_stock(v->db, "O1"), 8, "O1 = 8");
	memset(&n, 0, sizeof(n));
	full.supplier_sku = "O1";
	ok(engine_apply(&c, &full, 1, &n, &e) == 0, "then a full page observed at T1");
	is_int(n.stale, 1, "the full page is stale");
	is_int(q_link_stock(v->db, "O1"), 8, "webhook then full: ends at the T2 value");

	/* the full page first, then the webhook */
	memset(&n, 0, sizeof(n));
	full.supplier_sku = "O2";
	ok(engine_apply(&c, &full, 1, &n, &e) == 0, "a full page observed at T1");
	is_int(q_link_stock(v->db, "O2"), 2, "O2 = 2");
	snprintf(text, sizeof(text), body, "O2");
	is_int(deliver(v, &v->acme, text, "evt-o2", NULL, T2 + 500), 200, "then the webhook at T2");
	is_int(ans_int(v, "changed"), 1, "applied");
	is_int(q_link_stock(v->db, "O2"), 8, "full then webhook: ends at the T2 value");

	/* a late webhook with an older supplier time is stale */
	snprintf(text, sizeof(text),
	         "{\"items\":[{\"sku\":\"O2\",\"qty\":3,\"updated_at\":\"2025-12-31T23:00:00Z\"}]}");
	is_int(deliver(v, &v->acme, text, "evt-o3", NULL, T2 + 9000), 200, "an older push");
	is_int(ans_int(v, "stale"), 1, "counted stale");
	is_int(q_link_stock(v->db, "O2"), 8, "value kept");
}

static void test_one_item_body(struct env *v)
{
	is_int(deliver(v, &v->solo, "{\"meta\":{\"event\":\"e-9\"},\"sku\":\"B1\",\"qty\":4}", NULL,
	               NULL, T2 + 10000), 200, "an object body is one item");
	is_str(ans_str(v, "event_id"), "e-9", "event id from the body's id_field path");
	is_int(ans_int(v, "applied"), 1, "one applied");
	is_int(q_link_stock(v->db, "B1"), 4, "B1 = 4");
	is_int(deliver(v, &v->solo, "{\"meta\":{\"event\":\"e-9\"},\"sku\":\"B1\",\"qty\":9}", NULL,
	               NULL, T2 + 11000), 200, "the same id again");
	ok(ans_true(v, "duplicate"), "duplicate by the body's id");
	is_int(q_link_stock(v->db, "B1"), 4, "B1 still 4");
	is_int(deliver(v, &v->solo, "{\"meta\":{\"event\":12345},\"sku\":\"B1\",\"qty\":9}", NULL,
	               NULL, T2 + 12000), 200, "a numeric id");
	is_str(ans_str(v, "event_id"), "12345", "as text");
	is_int(deliver(v, &v->solo, "{\"meta\":{\"event\":[1]},\"sku\":\"B1\",\"qty\":9}", NULL,
	               NULL, T2 + 12000), 400, "an id that is a list: 400");
	like(ans_str(v, "error"), "meta.event", "names the id field");
	is_int(deliver(v, &v->solo, "[{\"sku\":\"B1\",\"qty\":1},{\"sku\":\"B2\",\"qty\":2}]", NULL,
	               NULL, T2 + 13000), 200, "an array body is the list");
	ok(json_is_null(json_object_get(v->answer, "event_id")), "no id in a list body");
	is_int(ans_int(v, "applied"), 2, "two applied");
	is_int(q_link_stock(v->db, "B2"), 2, "B2 = 2");
}

static void test_errors(struct env *v)
{
	static const char body[] = "{\"items\":[{\"sku\":\"A1\",\"qty\":666}]}";
	struct supplier_conf off = v->acme;

	off.webhook.enabled = false;
	is_int(deliver(v, &off, body, "x", NULL, T2), 404, "webhooks off: 404");

	q_exec(v->db, "CREATE TRIGGER boom BEFORE INSERT ON stock_log WHEN NEW.new_stock = 666 "
	              "BEGIN SELECT RAISE(ABORT, 'boom'); END");
	fprintf(stderr, "# the next error line is expected\n");
	is_int(deliver(v, &v->acme, body, "evt-500", NULL, T2 + 20000), 500, "database error: 500");
	like(ans_str(v, "error"), "internal error", "a generic message");
	ok(!strstr(v->out.response, "boom"), "no database details to the supplier");
	is_int(q_int(v->db, "SELECT count(*) FROM webhook_receipts WHERE event_id = 'evt-500'"), 0,
	       "the receipt is rolled back with the rest");
	ok(sqlite3_get_autocommit(db_handle(v->db)), "no transaction left open");
	q_exec(v->db, "DROP TRIGGER boom");
	is_int(deliver(v, &v->acme, body, "evt-500", NULL, T2 + 21000), 200,
	       "the supplier's retry applies");
	is_int(q_link_stock(v->db, "A1"), 666, "A1 = 666");
}

int main(void)
{
	struct env v;
	struct error e;
	static const char *const links[][3] = {
		{ "P1", "acme", "A1" }, { "P2", "acme", "A2" }, { "P3", "acme", "A3" },
		{ "PO1", "acme", "O1" }, { "PO2", "acme", "O2" },
		{ "PB1", "solo", "B1" }, { "PB2", "solo", "B2" },
	};
	size_t i;

	tmp_make("test_webhook");
	dbpath = tmp_path("dropstock.db");
	memset(&v, 0, sizeof(v));
	v.conf.aggregate = AGG_SUM;
	v.acme = make_supplier("acme");
	v.acme.webhook.map.items = (char *)"items";
	v.acme.webhook.id_header = (char *)"X-GitHub-Delivery";
	v.solo = make_supplier("solo");
	v.solo.webhook.id_field = (char *)"meta.event";
	v.db = db_open(dbpath, &e);
	if (!v.db || suppliers_upsert(v.db, &v.acme, &v.acme_id, &e) < 0 ||
	    suppliers_upsert(v.db, &v.solo, NULL, &e) < 0) {
		printf("# %s\n", e.msg);
		ok(0, "database opens");
		tmp_remove();
		return tap_done();
	}
	for (i = 0; i < ARRAY_SIZE(links); i++)
		if (links_add(v.db, links[i][0], NULL, links[i][1], links[i][2], &e) < 0)
			printf("# %s\n", e.msg);

	test_sign_sanity(&v);
	test_signed(&v);
	test_refused(&v);
	test_duplicate(&v);
	test_rejected(&v);
	test_ordering(&v);
	test_one_item_body(&v);
	test_errors(&v);

	hdr_clear(&v.h);
	webhook_outcome_clear(&v.out);
	json_decref(v.answer);
	db_close(v.db);
	tmp_remove();
	free(dbpath);
	return tap_done();
}
