/* test_outbox.c - event delivery: per-product order, batching, signatures,
 * backoff, give-up, retry, the command target.  The store is a small
 * libmicrohttpd server inside the test. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "engine/outbox.h"
#include "engine/signature.h"
#include "engine/sync.h"
#include "feed/http.h"
#include "store/db.h"
#include "store/store.h"
#include "tap.h"
#include "testlib.h"

/* "whsec_" + base64 of 32 bytes 0x01..0x20 */
#define SECRET "whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="

/* ---- the store ---- */

#define MAX_REQ 64

struct request {
	char *id, *ts, *sig, *ctype;
	char *body;
	size_t len;
};

static struct {
	pthread_mutex_t lock;
	struct request req[MAX_REQ];
	int n;
	unsigned status;          /* answer */
	const char *answer;       /* answer body */
	const char *retry_after;  /* Retry-After header or NULL */
} store = { PTHREAD_MUTEX_INITIALIZER, { { 0 } }, 0, 200, "{}", NULL };

struct upload {
	struct buf body;
	bool seen;
};

static char *hdr(struct MHD_Connection *conn, const char *name)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);

	return v ? xstrdup(v) : NULL;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version,
                               const char *upload_data, size_t *upload_data_size,
                               void **req_cls)
{
	struct upload *u = *req_cls;
	struct MHD_Response *r;
	enum MHD_Result ret;

	(void)cls;
	(void)url;
	(void)method;
	(void)version;
	if (!u) {
		u = xcalloc(1, sizeof(*u));
		*req_cls = u;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		buf_append(&u->body, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&store.lock);
	if (store.n < MAX_REQ) {
		struct request *q = &store.req[store.n++];

		q->id = hdr(conn, "webhook-id");
		q->ts = hdr(conn, "webhook-timestamp");
		q->sig = hdr(conn, "webhook-signature");
		q->ctype = hdr(conn, "Content-Type");
		q->len = u->body.len;
		q->body = buf_steal(&u->body);
	}
	r = MHD_create_response_from_buffer(strlen(store.answer), (void *)store.answer,
	                                    MHD_RESPMEM_MUST_COPY);
	if (store.retry_after)
		MHD_add_response_header(r, "Retry-After", store.retry_after);
	ret = MHD_queue_response(conn, store.status, r);
	pthread_mutex_unlock(&store.lock);
	MHD_destroy_response(r);
	return ret;
}

static void completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                      enum MHD_RequestTerminationCode toe)
{
	struct upload *u = *req_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (u) {
		buf_free(&u->body);
		free(u);
		*req_cls = NULL;
	}
}

static void store_reset(unsigned status, const char *answer, const char *retry_after)
{
	pthread_mutex_lock(&store.lock);
	for (int i = 0; i < store.n; i++) {
		free(store.req[i].id);
		free(store.req[i].ts);
		free(store.req[i].sig);
		free(store.req[i].ctype);
		free(store.req[i].body);
	}
	memset(store.req, 0, sizeof(store.req));
	store.n = 0;
	store.status = status;
	store.answer = answer;
	store.retry_after = retry_after;
	pthread_mutex_unlock(&store.lock);
}

/* ---- fixtures ---- */

static const char *dir;
static struct db *db;
static struct conf conf;
static char url[128];            /* the test store */
static char ev_url[128], cmd[1024], secret_value[256];

static int64_t add_event(int64_t product, const char *kind, int64_t created)
{
	struct error e = { 0 };
	char *payload = xasprintf("{\"event\":\"%s\",\"product\":%" PRId64 "}", kind, product);

	if (outbox_add(db, kind, product, payload, created, &e) != 0)
		printf("# outbox_add: %s\n", e.msg);
	free(payload);
	return q_int(db, "SELECT MAX(id) FROM outbox");
}

static void events_conf(const char *u, const char *c, int batch)
{
	memset(&conf.events, 0, sizeof(conf.events));
	conf.events.url = u ? ev_url : NULL;
	if (u)
		snprintf(ev_url, sizeof(ev_url), "%s", u);
	conf.events.command = c ? cmd : NULL;
	if (c)
		snprintf(cmd, sizeof(cmd), "%s", c);
	conf.events.secret.origin = SECRET_INLINE;
	conf.events.secret.value = secret_value;
	conf.events.batch = batch;
	conf.events.timeout_ms = 3000;
	conf.events.first_backoff_ms = 1000;
	conf.events.max_backoff_ms = 8000;
	conf.events.give_up_ms = 86400000;
}

static void clear_outbox(void)
{
	q_exec(db, "DELETE FROM outbox");
}

/* ids of the events in request i's body, as "1,2,3". */
static char *body_ids(int i)
{
	json_error_t je;
	json_t *doc = json_loadb(store.req[i].body, store.req[i].len, 0, &je), *arr, *v;
	struct buf b = BUF_INIT;
	size_t k;

	if (!doc)
		return xstrdup("(not JSON)");
	arr = json_object_get(doc, "events");
	json_array_foreach(arr, k, v) {
		if (k)
			buf_putc(&b, ',');
		buf_printf(&b, "%lld", (long long)json_integer_value(json_object_get(v, "id")));
	}
	json_decref(doc);
	return buf_steal(&b);
}

static const char *req_header(void *ud, const char *name)
{
	struct request *q = ud;

	if (strcasecmp(name, "webhook-id") == 0)
		return q->id;
	if (strcasecmp(name, "webhook-timestamp") == 0)
		return q->ts;
	if (strcasecmp(name, "webhook-signature") == 0)
		return q->sig;
	return NULL;
}

static enum sig_result verify(struct request *q, const char *secret)
{
	struct secret s = { SECRET_INLINE, NULL, (char *)secret };
	struct webhook_conf wh;
	struct error e = { 0 };
	int64_t ts = q->ts ? atoll(q->ts) : 0;

	memset(&wh, 0, sizeof(wh));
	wh.enabled = true;
	wh.scheme = WEBHOOK_STANDARD;
	wh.secrets = &s;
	wh.n_secrets = 1;
	return signature_verify(&wh, req_header, q, q->body, q->len, ts * 1000, &e);
}

/* ---- tests ---- */

static void test_batching_and_order(int64_t now)
{
	struct outbox_pass p;
	struct error e = { 0 };
	int64_t ids[6];
	char *s;

	clear_outbox();
	store_reset(200, "{\"ok\":true}", NULL);
	events_conf(url, NULL, 2);
	ids[0] = add_event(1, "stock_changed", now - 5000);
	ids[1] = add_event(2, "out_of_stock", now - 5000);
	ids[2] = add_event(1, "out_of_stock", now - 4000);
	ids[3] = add_event(3, "back_in_stock", now - 4000);
	ids[4] = add_event(1, "back_in_stock", now - 3000);
	ids[5] = add_event(2, "back_in_stock", now - 3000);

	/* the first event of product 1 is not due: the later ones of product 1 wait */
	{
		char *q = xasprintf("UPDATE outbox SET next_attempt_at = %" PRId64 " WHERE id = %" PRId64,
		                    now + 60000, ids[0]);
		q_exec(db, q);
		free(q);
	}
	is_int(outbox_deliver(db, &conf, now, &p, &e), 0, "pass with product 1 held back");
	is_int(p.delivered, 3, "three events delivered (products 2 and 3)");
	is_int(p.failed, 0, "no failure");
	is_int(store.n, 2, "two POSTs for three events with batch = 2");
	s = body_ids(0);
	is_str(s, "2,4", "first batch: ids 2 and 4, in id order");
	free(s);
	s = body_ids(1);
	is_str(s, "6", "second batch: id 6");
	free(s);
	is_str(store.req[0].id, "evt_2_4", "webhook-id names the first and last event");
	like(store.req[0].ctype, "application/json", "Content-Type is JSON");
	ok(store.req[0].ts && llabs(atoll(store.req[0].ts) - now / 1000) <= 2,
	   "webhook-timestamp is Unix seconds of the send");
	is_int(q_int(db, "SELECT COUNT(*) FROM outbox WHERE product_id = 1 AND delivered_at IS NULL"), 3,
	       "product 1's events all wait");
	is_int(p.next_due_at, now + 60000, "next due: the held-back first event of product 1");

	/* later: product 1's three events go together, in order */
	store_reset(200, "{}", NULL);
	is_int(outbox_deliver(db, &conf, now + 61000, &p, &e), 0, "later pass");
	is_int(p.delivered, 3, "product 1's events delivered");
	is_int(store.n, 2, "two POSTs");
	s = body_ids(0);
	is_str(s, "1,3", "in order: 1 and 3 first");
	free(s);
	s = body_ids(1);
	is_str(s, "5", "then 5");
	free(s);
	is_int(p.next_due_at, 0, "nothing pending");
	is_int(q_int(db, "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL"), 0, "all delivered");
	ok(q_int(db, "SELECT MIN(delivered_at) FROM outbox") >= now, "delivered_at recorded");

	/* the body holds the stored payloads with the id spliced in */
	like(store.req[1].body, "{\"events\":[{\"id\":5,\"event\":\"back_in_stock\",\"product\":1}]}",
	     "payload spliced as stored, id first");

	/* nothing due: no request */
	store_reset(200, "{}", NULL);
	is_int(outbox_deliver(db, &conf, now + 62000, &p, &e), 0, "empty pass");
	is_int(p.delivered + p.failed + store.n, 0, "an empty pass sends nothing");
}

static void test_signature(int64_t now)
{
	struct outbox_pass p;
	struct error e = { 0 };

	clear_outbox();
	store_reset(204, "", NULL);
	events_conf(url, NULL, 50);
	add_event(7, "out_of_stock", now);
	add_event(8, "stock_changed", now);
	is_int(outbox_deliver(db, &conf, now, &p, &e), 0, "signed pass");
	is_int(p.delivered, 2, "204 counts as delivered");
	is_int(store.n, 1, "one POST");
	like(store.req[0].sig, "v1,", "signature header v1,BASE64");
	is_int(verify(&store.req[0], SECRET), SIG_OK, "signature verifies with signature_verify");
	is_int(verify(&store.req[0], "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="), SIG_MISMATCH,
	       "a wrong secret does not verify");
	if (store.n > 0 && store.req[0].len > 2) {
		store.req[0].body[store.req[0].len - 2] = ' ';
		is_int(verify(&store.req[0], SECRET), SIG_MISMATCH, "a changed body does not verify");
	}

	/* a text secret is used as its own bytes: whsec_ + base64(text) verifies */
	snprintf(secret_value, sizeof(secret_value), "plain text secret!");
	clear_outbox();
	store_reset(200, "{}", NULL);
	add_event(9, "out_of_stock", now);
	is_int(outbox_deliver(db, &conf, now, &p, &e), 0, "text-secret pass");
	{
		char *b64 = base64_encode((const unsigned char *)"plain text secret!", 18);
		char *key = xasprintf("whsec_%s", b64);

		ok(store.n == 1 && verify(&store.req[0], key) == SIG_OK,
		   "text secret: verifies as whsec_ + base64(text)");
		free(b64);
		free(key);
	}
	/* text that happens to be base64 is still text */
	snprintf(secret_value, sizeof(secret_value), "secret12");
	clear_outbox();
	store_reset(200, "{}", NULL);
	add_event(9, "out_of_stock", now);
	is_int(outbox_deliver(db, &conf, now, &p, &e), 0, "base64-looking text secret");
	{
		char *b64 = base64_encode((const unsigned char *)"secret12", 8);
		char *key = xasprintf("whsec_%s", b64);

		ok(store.n == 1 && verify(&store.req[0], key) == SIG_OK,
		   "a secret without whsec_ is text even when it looks like base64");
		free(b64);
		free(key);
	}
	/* a broken whsec_ secret is a configuration error, and nothing is sent */
	snprintf(secret_value, sizeof(secret_value), "whsec_!!!");
	store_reset(200, "{}", NULL);
	q_exec(db, "UPDATE outbox SET delivered_at = NULL");
	is_int(outbox_deliver(db, &conf, now, &p, &e), -1, "bad whsec_ secret fails the pass");
	is_int(e.kind, ERRK_CONFIG, "as a configuration error");
	like(e.msg, "events.secret", "naming the option");
	is_int(store.n, 0, "nothing sent");
	is_int(q_int(db, "SELECT attempts FROM outbox"), 0, "no attempt counted");
	snprintf(secret_value, sizeof(secret_value), "%s", SECRET);
}

static void test_failure_backoff(int64_t now)
{
	struct outbox_pass p;
	struct error e = { 0 };
	int64_t id, next, t;
	char *s;

	clear_outbox();
	store_reset(503, "{\"error\":\"down for maintenance\"}", NULL);
	events_conf(url, NULL, 50);
	id = add_event(1, "out_of_stock", now);
	is_int(outbox_deliver(db, &conf, now, &p, &e), 0, "a failing store is not an error");
	is_int(p.delivered, 0, "nothing delivered");
	is_int(p.failed, 1, "one failed attempt");
	is_int(q_int(db, "SELECT attempts FROM outbox"), 1, "attempts 1");
	s = q_str(db, "SELECT last_error FROM outbox");
	like(s, "HTTP 503: {\"error\":\"down for maintenance\"}", "last_error: status and body start");
	free(s);
	next = q_int(db, "SELECT next_attempt_at FROM outbox");
	ok(next >= now + 800 && next <= now + 1200 + 3000,
	   "first backoff: 1 s +-20%% (got %+" PRId64 " ms)", next - now);
	is_int(p.next_due_at, next, "next_due_at is the rescheduled attempt");
	is_int(q_int(db, "SELECT delivered_at IS NULL AND dead = 0 FROM outbox"), 1, "still pending");

	/* not due yet: no request */
	store_reset(503, "busy", NULL);
	is_int(outbox_deliver(db, &conf, now + 500, &p, &e), 0, "pass before the backoff ends");
	is_int(store.n, 0, "no request before the backoff ends");

	/* second failure: twice the first backoff */
	t = next;
	is_int(outbox_deliver(db, &conf, t, &p, &e), 0, "second attempt");
	next = q_int(db, "SELECT next_attempt_at FROM outbox");
	is_int(q_int(db, "SELECT attempts FROM outbox"), 2, "attempts 2");
	ok(next - t >= 1600 && next - t <= 2400 + 3000, "second backoff: 2 s +-20%% (got %" PRId64 ")",
	   next - t);
	s = q_str(db, "SELECT last_error FROM outbox");
	is_str(s, "HTTP 503: busy", "last_error updated");
	free(s);

	/* backoff capped by max_backoff (8 s) */
	q_exec(db, "UPDATE outbox SET attempts = 30");
	t = next;
	outbox_deliver(db, &conf, t, &p, &e);
	next = q_int(db, "SELECT next_attempt_at FROM outbox");
	ok(next - t >= 6400 && next - t <= 9600 + 3000, "backoff capped at max_backoff (got %" PRId64 ")",
	   next - t);

	/* Retry-After larger than the backoff wins */
	q_exec(db, "UPDATE outbox SET attempts = 0");
	store_reset(429, "slow down", "120");
	t = next;
	outbox_deliver(db, &conf, t, &p, &e);
	next = q_int(db, "SELECT next_attempt_at FROM outbox");
	ok(next - t >= 120000 && next - t <= 125000, "Retry-After: 120 honoured (got %" PRId64 ")",
	   next - t);

	/* recovery */
	store_reset(200, "{}", NULL);
	outbox_deliver(db, &conf, next, &p, &e);
	is_int(p.delivered, 1, "delivered once the store is back");
	is_int(q_int(db, "SELECT attempts FROM outbox"), 1, "attempts kept");
	is_int(q_int(db, "SELECT id FROM outbox WHERE delivered_at IS NOT NULL"), id, "the same event");

	/* a failed POST ends the pass: the rest are put off, untried */
	clear_outbox();
	store_reset(500, "oops", NULL);
	events_conf(url, NULL, 1);
	add_event(1, "out_of_stock", now);
	add_event(2, "out_of_stock", now);
	add_event(3, "out_of_stock", now);
	is_int(outbox_deliver(db, &conf, now, &p, &e), 0, "pass against a broken store");
	is_int(store.n, 1, "one POST, then the pass stops");
	is_int(p.failed, 1, "one failed");
	is_int(p.deferred, 2, "two put off");
	is_int(q_int(db, "SELECT SUM(attempts) FROM outbox"), 1, "the put-off events have no attempt");
	is_int(q_int(db, "SELECT COUNT(DISTINCT next_attempt_at) FROM outbox"), 1,
	       "all wait for the same time");
	ok(q_int(db, "SELECT MIN(next_attempt_at) FROM outbox") > now, "and that time is later");

	/* connection refused: the curl error is recorded */
	clear_outbox();
	events_conf("http://127.0.0.1:9/store", NULL, 50);
	add_event(1, "out_of_stock", now);
	is_int(outbox_deliver(db, &conf, now, &p, &e), 0, "pass against a closed port");
	is_int(p.failed, 1, "connection failure counts as failed attempt");
	s = q_str(db, "SELECT last_error FROM outbox");
	ok(s && *s && !strstr(s, "HTTP"), "last_error holds the curl error: %s", s ? s : "(null)");
	free(s);
}

static void test_give_up_and_retry(int64_t now)
{
	struct outbox_pass p;
	struct error e = { 0 };
	int64_t old, young;

	clear_outbox();
	store_reset(503, "down", NULL);
	events_conf(url, NULL, 50);
	conf.events.give_up_ms = 10000;
	old = add_event(1, "out_of_stock", now - 20000);
	young = add_event(2, "out_of_stock", now - 1000);
	is_int(outbox_deliver(db, &conf, now, &p, &e), 0, "pass");
	is_int(p.dead, 1, "the old event is parked as dead");
	is_int(p.failed, 1, "the young one is rescheduled");
	{
		char *q = xasprintf("SELECT dead FROM outbox WHERE id = %" PRId64, old);
		is_int(q_int(db, "%s", q), 1, "dead = 1");
		free(q);
	}
	/* a dead event does not hold back later events of its product */
	add_event(1, "back_in_stock", now);
	store_reset(200, "{}", NULL);
	is_int(outbox_deliver(db, &conf, now, &p, &e), 0, "pass after the dead one");
	is_int(p.delivered, 1, "the later event of the dead one's product is delivered");
	is_int(p.next_due_at, q_int(db, "SELECT next_attempt_at FROM outbox WHERE product_id = 2"),
	       "next due: the young event; dead ones do not count");

	/* retry revives: pending now, attempts kept */
	is_int(outbox_retry(db, young, &e), 0, "retrying a pending event changes nothing");
	is_int(outbox_retry(db, 0, &e), 1, "retry --all-dead: one event");
	{
		char *q = xasprintf("SELECT dead || ',' || attempts FROM outbox WHERE id = %" PRId64, old);
		char *s = q_str(db, "%s", q);
		is_str(s, "0,1", "revived with its attempts kept");
		free(s);
		free(q);
		q = xasprintf("SELECT next_attempt_at FROM outbox WHERE id = %" PRId64, old);
		ok(llabs(q_int(db, "%s", q) - time_now_ms()) < 5000, "due now");
		free(q);
	}
	store_reset(200, "{}", NULL);
	is_int(outbox_deliver(db, &conf, time_now_ms(), &p, &e), 0, "pass after retry");
	{
		char *q = xasprintf("SELECT delivered_at IS NOT NULL FROM outbox WHERE id = %" PRId64, old);
		is_int(q_int(db, "%s", q), 1, "the revived event is delivered");
		free(q);
	}
	is_int(outbox_retry(db, old, &e), 0, "retrying a delivered event changes nothing");

	/* give_up = 0: parked at the first failure */
	clear_outbox();
	store_reset(503, "down", NULL);
	conf.events.give_up_ms = 0;
	add_event(1, "out_of_stock", now);
	is_int(outbox_deliver(db, &conf, now, &p, &e), 0, "give_up 0 pass");
	is_int(p.dead, 1, "give_up 0: dead at the first failure");
	conf.events.give_up_ms = 86400000;
}

struct listed {
	int n;
	char states[256];
	char skus[256];
};

static int list_cb(void *ud, const struct outbox_event *ev)
{
	struct listed *l = ud;
	size_t k = strlen(l->states);

	snprintf(l->states + k, sizeof(l->states) - k, "%s%s", k ? "," : "", outbox_state_name(ev));
	k = strlen(l->skus);
	snprintf(l->skus + k, sizeof(l->skus) - k, "%s%s", k ? "," : "",
	         ev->product_sku ? ev->product_sku : "-");
	l->n++;
	return 0;
}

static void test_list(int64_t now)
{
	struct outbox_query q = { OUTBOX_ANY, 0, 0, 0 };
	struct listed l;
	struct error e = { 0 };

	clear_outbox();
	add_event(1, "out_of_stock", now - 3000);
	add_event(2, "back_in_stock", now - 2000);
	add_event(99, "stock_changed", now - 1000);
	q_exec(db, "UPDATE outbox SET dead = 1 WHERE product_id = 2");
	q_exec(db, "UPDATE outbox SET delivered_at = 1 WHERE product_id = 1");
	memset(&l, 0, sizeof(l));
	is_int(outbox_list(db, &q, list_cb, &l, &e), 0, "list all");
	is_str(l.states, "pending,dead,delivered", "newest first, with states");
	is_str(l.skus, "-,P-2,P-1", "product skus (none for a missing product)");
	memset(&l, 0, sizeof(l));
	q.state = OUTBOX_DEAD;
	outbox_list(db, &q, list_cb, &l, &e);
	is_str(l.states, "dead", "--dead");
	memset(&l, 0, sizeof(l));
	q.state = OUTBOX_PENDING;
	outbox_list(db, &q, list_cb, &l, &e);
	is_str(l.states, "pending", "--pending");
	memset(&l, 0, sizeof(l));
	q.state = OUTBOX_ANY;
	q.since = now - 2500;
	outbox_list(db, &q, list_cb, &l, &e);
	is_int(l.n, 2, "--since");
	memset(&l, 0, sizeof(l));
	q.since = 0;
	q.limit = 1;
	outbox_list(db, &q, list_cb, &l, &e);
	is_int(l.n, 1, "--limit");
}

static void test_command(int64_t now)
{
	struct outbox_pass p;
	struct error e = { 0 };
	char *s, *c;
	int64_t t0;

	/* delivered: each event's JSON on stdin, in order */
	clear_outbox();
	c = xasprintf("cat >> '%s/out'; echo \"$DROPSTOCK_EVENT_ID $DROPSTOCK_EVENT_KIND\" >> '%s/env'",
	              dir, dir);
	events_conf(NULL, c, 50);
	free(c);
	add_event(1, "out_of_stock", now);
	add_event(2, "back_in_stock", now);
	add_event(1, "back_in_stock", now);
	is_int(outbox_deliver(db, &conf, now, &p, &e), 0, "command pass");
	is_int(p.delivered, 3, "three delivered by the command");
	s = tmp_read("out");
	is_str(s,
	       "{\"id\":1,\"event\":\"out_of_stock\",\"product\":1}\n"
	       "{\"id\":2,\"event\":\"back_in_stock\",\"product\":2}\n"
	       "{\"id\":3,\"event\":\"back_in_stock\",\"product\":1}\n",
	       "the command got each event's JSON on stdin, in order");
	free(s);
	s = tmp_read("env");
	is_str(s, "1 out_of_stock\n2 back_in_stock\n3 back_in_stock\n",
	       "DROPSTOCK_EVENT_ID and _KIND in the environment");
	free(s);

	/* a failing command: exit 3 */
	clear_outbox();
	events_conf(NULL, "echo 'store said no' >&2; exit 3", 50);
	add_event(1, "out_of_stock", now);
	is_int(outbox_deliver(db, &conf, now, &p, &e), 0, "failing command pass");
	is_int(p.failed, 1, "failed");
	s = q_str(db, "SELECT last_error FROM outbox");
	like(s, "status 3: store said no", "last_error: exit status and output");
	free(s);
	ok(q_int(db, "SELECT next_attempt_at FROM outbox") > now, "rescheduled");

	/* a failure holds back the product's later events in the same batch */
	clear_outbox();
	c = xasprintf("[ \"$DROPSTOCK_EVENT_ID\" = 1 ] && exit 3; cat >> '%s/out2'", dir);
	events_conf(NULL, c, 50);
	free(c);
	add_event(1, "out_of_stock", now);   /* id 1: fails */
	add_event(1, "back_in_stock", now);  /* id 2: same product, must not run */
	add_event(2, "out_of_stock", now);   /* id 3: other product, runs */
	is_int(outbox_deliver(db, &conf, now, &p, &e), 0, "mixed pass");
	is_int(p.delivered, 1, "one delivered");
	is_int(p.failed, 1, "one failed");
	s = tmp_read("out2");
	is_str(s, "{\"id\":3,\"event\":\"out_of_stock\",\"product\":2}\n",
	       "only the other product's event ran");
	free(s);
	is_int(q_int(db, "SELECT attempts FROM outbox WHERE id = 2"), 0,
	       "the held-back event has no attempt");

	/* timeout: killed */
	clear_outbox();
	events_conf(NULL, "sleep 30", 50);
	conf.events.timeout_ms = 300;
	add_event(1, "out_of_stock", now);
	t0 = time_mono_ms();
	is_int(outbox_deliver(db, &conf, now, &p, &e), 0, "slow command pass");
	ok(time_mono_ms() - t0 < 5000, "the slow command was killed at the timeout");
	s = q_str(db, "SELECT last_error FROM outbox");
	like(s, "did not finish", "last_error says it timed out");
	free(s);

	/* both targets: the command first, then the POST of the events it took */
	clear_outbox();
	store_reset(200, "{}", NULL);
	c = xasprintf("[ \"$DROPSTOCK_EVENT_ID\" = 2 ] && exit 1; cat >/dev/null");
	events_conf(url, c, 50);
	free(c);
	add_event(1, "out_of_stock", now);
	add_event(2, "out_of_stock", now);
	is_int(outbox_deliver(db, &conf, now, &p, &e), 0, "both targets");
	is_int(p.delivered, 1, "event 1 delivered to both");
	is_int(p.failed, 1, "event 2 failed at the command");
	s = store.n == 1 ? body_ids(0) : xstrdup("?");
	is_str(s, "1", "only the command's successes are POSTed");
	free(s);
}

static void test_busy_stop_notarget(int64_t now)
{
	struct outbox_pass p;
	struct error e = { 0 };
	volatile sig_atomic_t stop = 1;
	int fd;

	clear_outbox();
	store_reset(200, "{}", NULL);
	events_conf(url, NULL, 50);
	add_event(1, "out_of_stock", now);

	fd = sync_lock(db_path(db), ".outbox", false, &e);
	ok(fd >= 0, "took the delivery lock");
	is_int(outbox_deliver(db, &conf, now, &p, &e), 0, "pass while another delivers");
	ok(p.busy, "busy");
	is_int(store.n, 0, "nothing sent");
	is_int(p.next_due_at, now, "next_due_at still reported");
	sync_unlock(fd);

	is_int(outbox_deliver_stop(db, &conf, now, &stop, &p, &e), 0, "stopped pass");
	is_int(p.delivered + store.n, 0, "a set stop flag sends nothing");

	events_conf(NULL, NULL, 50);
	is_int(outbox_deliver(db, &conf, now, &p, &e), 0, "no target");
	ok(p.no_target, "no_target reported");
	is_int(q_int(db, "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL"), 1,
	       "events stay pending");
}

int main(void)
{
	struct sockaddr_in sa;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;
	struct error e = { 0 };
	char *path;
	int64_t now = time_now_ms();

	http_global_init();
	dir = tmp_make("test_outbox");
	path = tmp_path("db.sqlite");
	db = db_open(path, &e);
	free(path);
	if (!db) {
		printf("Bail out! %s\n", e.msg);
		return 1;
	}
	q_exec(db, "INSERT INTO products (id, sku, name) VALUES (1, 'P-1', 'one'),"
	           " (2, 'P-2', 'two'), (3, 'P-3', 'three'), (7, 'P-7', 'seven'),"
	           " (8, 'P-8', 'eight'), (9, 'P-9', 'nine')");

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL,
	                     NULL, handler, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	                     MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
	if (!d) {
		printf("Bail out! cannot start the test store\n");
		return 1;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/store/events", info ? info->port : 0);
	snprintf(secret_value, sizeof(secret_value), "%s", SECRET);
	memset(&conf, 0, sizeof(conf));
	test_batching_and_order(now);
	test_signature(now);
	test_failure_backoff(now);
	test_give_up_and_retry(now);
	test_list(now);
	test_command(now);
	test_busy_stop_notarget(now);

	MHD_stop_daemon(d);
	store_reset(200, "", NULL);
	db_close(db);
	tmp_remove();
	http_global_cleanup();
	return tap_done();
}
