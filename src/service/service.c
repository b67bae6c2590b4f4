/* service.c - the HTTP service on libmicrohttpd (MHD).
 *
 * Threads: MHD runs a pool of service.threads worker threads, each with its
 * own epoll (or poll) loop; every request is handled on one of them, with
 * that thread's own database connection (opened on first use, kept in a
 * pthread key, closed when the thread ends).  One more thread, the reaper,
 * cuts off connections that have not delivered their whole request within
 * service.connection_timeout: MHD's own timeout only notices idle
 * connections, and a client sending one byte a second is never idle.
 *
 * Stock checks never block a worker: the request is suspended
 * (MHD_suspend_connection) and put on its SKU's flight in the in-flight
 * table.  The first request for a SKU starts the flight and queues it for
 * the checker threads (as many as workers, a mutex + condition variable
 * queue); requests for the same SKU arriving meanwhile join the flight.  A
 * checker runs engine/check once for the flight, with its own database
 * connection, then hands the answer to every request of the flight and
 * resumes them; each answers with its own qty.  So concurrent checks of
 * one SKU cost one supplier request, and a supplier that takes its whole
 * check.timeout to fail slows down nobody else.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "engine/check.h"
#include "engine/sync.h"
#include "engine/webhook.h"
#include "service/service.h"
#include "service/service_int.h"
#include "store/db.h"
#include "store/report.h"

#define DEFAULT_LISTEN "127.0.0.1:8787"
#define DEFAULT_THREADS 4
#define DEFAULT_TIMEOUT_MS 10000
#define DEFAULT_MAX_CONN 1024
#define DEFAULT_MAX_PER_IP 128
#define DEFAULT_MEMORY_LIMIT (64 * 1024)
#define DEFAULT_FRESH_MS (15 * 60 * 1000)
#define DEFAULT_MAX_BODY (1024 * 1024)
#define CHANGES_LIMIT_DEFAULT 100
#define CHANGES_LIMIT_MAX 1000
#define DRAIN_MS 5000            /* how long a stop waits for requests in progress */
#define PREVIEW_LIMIT_DEFAULT 100
#define PREVIEW_LIMIT_MAX 1000
#define REAPER_TICK_MS 100

#ifndef MHD_HTTP_CONTENT_TOO_LARGE
#define MHD_HTTP_CONTENT_TOO_LARGE 413     /* libmicrohttpd before 0.9.74 */
#endif

#define JSON_TYPE "application/json"
#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* One TCP connection, known from MHD's connection notifications. */
struct tracked {
	int fd;
	int64_t deadline;          /* monotonic ms by which the request must be in; 0 = none */
	bool cut;
	struct tracked *prev, *next;
};

/* A thread's database connection. */
struct db_slot {
	struct service *svc;
	struct db *db;
	struct db_slot *prev, *next;
};

/* What a stock check found, handed to every request of the flight. */
struct answer {
	unsigned status;           /* 200, 404, 500, 503 */
	char error[512];           /* the JSON error text when status != 200 */
	int64_t available;
	bool live;                 /* some supplier answered live just now */
	bool stale;                /* some supplier's figure is older than fresh */
	int64_t checked_at;        /* ms; 0 = never confirmed */
};

struct req;

/* One SKU being checked: the requests waiting for it are suspended (their
 * worker threads go on serving other connections) and resumed together
 * when a checker thread has the answer. */
struct flight {
	char *sku;
	struct req *waiters;       /* the first is the leader */
	struct flight *next;       /* in the in-flight table */
	struct flight *qnext;      /* in the checkers' queue */
};

struct service {
	const struct conf *conf;
	struct MHD_Daemon *mhd;
	int listen_fd;
	int port;
	char *address;             /* "127.0.0.1:8787", "[::1]:8787" */
	int64_t timeout_ms;
	bool access_log;
	/* SHA-256 digests of the API keys, compared in constant time */
	unsigned char (*keys)[32];
	int n_keys;
	/* per-thread database connections */
	pthread_key_t db_key;
	bool key_made;
	pthread_mutex_t db_lock;
	struct db_slot *dbs;
	/* stock check coalescing: the in-flight table keyed by SKU and the
	 * queue of the checker threads, both under fl_lock */
	pthread_mutex_t fl_lock;
	pthread_cond_t fl_cond;
	struct flight *flights;
	struct flight *queue_head, *queue_tail;
	pthread_t *checkers;
	int n_checkers;
	bool checkers_stopping;
	/* connections and the reaper */
	pthread_mutex_t conn_lock;
	pthread_cond_t conn_cond;
	struct tracked *conns;
	pthread_t reaper;
	bool reaper_started;
	bool stopping;             /* under conn_lock */
	atomic_int active;         /* requests between their first call and completion */
	volatile sig_atomic_t previews_stop;   /* set by service_stop: previews end after
	                                        * their current page */
	struct metrics metrics;
};

/* One request. */
struct req {
	enum svc_route route;
	int64_t start_us;
	char *method;
	char *path;
	unsigned status;           /* 0 until a response is queued */
	size_t bytes;
	bool queued;
	/* stock check */
	struct MHD_Connection *conn;
	int64_t qty;
	bool answered;             /* ans is filled, the connection resumed */
	bool deferred;             /* a GET/HEAD: routed on the second call */
	struct answer ans;
	struct req *next_waiter;
	/* webhook */
	const struct supplier_conf *sup;
	int64_t max_body;
	bool too_large;            /* the body went past max_body: dropped */
	struct buf body;
};

/* ---- small helpers ---- */

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static const struct supplier_conf *find_supplier(const struct conf *c, const char *slug)
{
	for (int i = 0; i < c->n_suppliers; i++)
		if (str_eq(c->suppliers[i].slug, slug))
			return &c->suppliers[i];
	return NULL;
}

/* A JSON string for text that may not be valid UTF-8 (a SKU from a URL):
 * bytes that do not form UTF-8 become '?'. */
static json_t *jstr(const char *s)
{
	json_t *j;
	char *copy;

	if (!s)
		return json_null();
	if ((j = json_string(s)))
		return j;
	copy = xstrdup(s);
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j ? j : json_string("?");
}

static json_t *jtime(int64_t ms)
{
	char iso[32];

	if (ms <= 0)
		return json_null();
	return json_string(time_format_iso(ms, iso));
}

/* ---- responses ---- */

/* Queues body (taken) with the given status.  extra_name/extra_value add
 * one header when not NULL. */
static enum MHD_Result reply(struct service *s, struct MHD_Connection *conn, struct req *rq,
                             unsigned status, const char *type, char *body, size_t len,
                             const char *extra_name, const char *extra_value)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (extra_name && extra_value)
		MHD_add_response_header(resp, extra_name, extra_value);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	if (ret == MHD_YES) {
		rq->status = status;
		rq->bytes = len;
		rq->queued = true;
		metrics_request(&s->metrics, rq->route, status);
	}
	return ret;
}

/* Queues a JSON document (taken, json_decref'd). */
static enum MHD_Result reply_json(struct service *s, struct MHD_Connection *conn, struct req *rq,
                                  unsigned status, json_t *doc, const char *extra_name,
                                  const char *extra_value)
{
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	size_t len;

	json_decref(doc);
	if (!text)
		text = xstrdup("{\"error\":\"internal error\"}");
	/* a final newline makes curl output readable */
	len = strlen(text);
	text = xrealloc(text, len + 2);
	text[len++] = '\n';
	text[len] = '\0';
	return reply(s, conn, rq, status, JSON_TYPE, text, len, extra_name, extra_value);
}

/* {"error": "..."}; the webhook route answers {"ok": false, "error": "..."}
 * like engine/webhook does. */
static enum MHD_Result reply_error_hdr(struct service *s, struct MHD_Connection *conn,
                                       struct req *rq, unsigned status, const char *extra_name,
                                       const char *extra_value, const char *fmt, ...)
	PRINTF_LIKE(7, 8);
static enum MHD_Result reply_error_hdr(struct service *s, struct MHD_Connection *conn,
                                       struct req *rq, unsigned status, const char *extra_name,
                                       const char *extra_value, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	json_t *doc;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	if (rq->route == ROUTE_WEBHOOK)
		doc = json_pack("{s:b, s:o}", "ok", 0, "error", jstr(msg));
	else
		doc = json_pack("{s:o}", "error", jstr(msg));
	free(msg);
	return reply_json(s, conn, rq, status, doc, extra_name, extra_value);
}

#define reply_error(s, conn, rq, status, ...) \
	reply_error_hdr(s, conn, rq, status, NULL, NULL, __VA_ARGS__)

/* ---- per-thread database ---- */

static void db_slot_unlink(struct service *s, struct db_slot *slot)
{
	if (slot->prev)
		slot->prev->next = slot->next;
	else
		s->dbs = slot->next;
	if (slot->next)
		slot->next->prev = slot->prev;
}

/* pthread key destructor: the thread is ending. */
static void db_slot_release(void *p)
{
	struct db_slot *slot = p;
	struct service *s = slot->svc;

	pthread_mutex_lock(&s->db_lock);
	db_slot_unlink(s, slot);
	pthread_mutex_unlock(&s->db_lock);
	db_close(slot->db);
	free(slot);
}

static struct db *thread_db(struct service *s, struct error *err)
{
	struct db_slot *slot = pthread_getspecific(s->db_key);
	struct db *db;

	if (slot)
		return slot->db;
	db = db_open(s->conf->db_path, err);
	if (!db)
		return NULL;
	slot = xcalloc(1, sizeof(*slot));
	slot->svc = s;
	slot->db = db;
	pthread_mutex_lock(&s->db_lock);
	slot->next = s->dbs;
	if (s->dbs)
		s->dbs->prev = slot;
	s->dbs = slot;
	pthread_mutex_unlock(&s->db_lock);
	if (pthread_setspecific(s->db_key, slot) != 0) {
		pthread_mutex_lock(&s->db_lock);
		db_slot_unlink(s, slot);
		pthread_mutex_unlock(&s->db_lock);
		db_close(db);
		free(slot);
		err_set(err, ERRK_INTERNAL, _("cannot keep a database connection for this thread"));
		return NULL;
	}
	return db;
}

/* ---- connection deadlines (slow clients) ---- */

static struct tracked *conn_tracked(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

/* deadline_ms: monotonic ms, 0 = none. */
static void conn_set_deadline(struct service *s, struct MHD_Connection *conn, int64_t deadline_ms)
{
	struct tracked *t = conn_tracked(conn);

	if (!t)
		return;
	pthread_mutex_lock(&s->conn_lock);
	t->deadline = deadline_ms;
	pthread_mutex_unlock(&s->conn_lock);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
	struct service *s = cls;
	struct tracked *t;
	const union MHD_ConnectionInfo *ci;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		t = xcalloc(1, sizeof(*t));
		t->fd = ci ? ci->connect_fd : -1;
		t->deadline = time_mono_ms() + s->timeout_ms;
		pthread_mutex_lock(&s->conn_lock);
		t->next = s->conns;
		if (s->conns)
			s->conns->prev = t;
		s->conns = t;
		pthread_mutex_unlock(&s->conn_lock);
		*socket_context = t;
		return;
	}
	/* MHD_CONNECTION_NOTIFY_CLOSED: called before MHD closes the socket,
	 * so the reaper (which shuts sockets down under conn_lock) never
	 * touches a descriptor that was closed and reused. */
	t = *socket_context;
	if (!t)
		return;
	pthread_mutex_lock(&s->conn_lock);
	if (t->prev)
		t->prev->next = t->next;
	else
		s->conns = t->next;
	if (t->next)
		t->next->prev = t->prev;
	pthread_mutex_unlock(&s->conn_lock);
	free(t);
	*socket_context = NULL;
}

static void *reaper_main(void *arg)
{
	struct service *s = arg;
	struct timespec ts;

	pthread_mutex_lock(&s->conn_lock);
	while (!s->stopping) {
		int64_t now = time_mono_ms();

		for (struct tracked *t = s->conns; t; t = t->next) {
			if (t->cut || t->deadline == 0 || now < t->deadline || t->fd < 0)
				continue;
			/* MHD sees the socket close and ends the connection itself */
			shutdown(t->fd, SHUT_RDWR);
			t->cut = true;
			metrics_add(&s->metrics.slow_clients_cut, 1);
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += REAPER_TICK_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->conn_cond, &s->conn_lock, &ts);
	}
	pthread_mutex_unlock(&s->conn_lock);
	return NULL;
}

/* ---- authentication ---- */

static void sha256(const void *data, size_t len, unsigned char out[32])
{
	unsigned int n = 32;

	if (!EVP_Digest(data, len, out, &n, EVP_sha256(), NULL))
		memset(out, 0, 32);
}

/* true when the request carries "Authorization: Bearer KEY" with one of the
 * configured keys.  Every key is compared (constant time over SHA-256
 * digests, so neither the length nor the content of a key leaks). */
static bool auth_ok(struct service *s, struct MHD_Connection *conn, bool *presented)
{
	const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	                                            MHD_HTTP_HEADER_AUTHORIZATION);
	unsigned char d[32];
	size_t len;
	int match = 0;

	*presented = false;
	if (!h)
		return false;
	while (*h == ' ' || *h == '\t')
		h++;
	if (strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\t'))
		return false;
	h += 6;
	while (*h == ' ' || *h == '\t')
		h++;
	len = strlen(h);
	while (len > 0 && (h[len - 1] == ' ' || h[len - 1] == '\t'))
		len--;
	if (len == 0)
		return false;
	*presented = true;
	sha256(h, len, d);
	for (int i = 0; i < s->n_keys; i++)
		match |= CRYPTO_memcmp(d, s->keys[i], 32) == 0;
	OPENSSL_cleanse(d, sizeof(d));
	return match != 0;
}

static enum MHD_Result reply_unauthorized(struct service *s, struct MHD_Connection *conn,
                                          struct req *rq, bool presented)
{
	if (s->n_keys == 0)
		return reply_error_hdr(s, conn, rq, MHD_HTTP_UNAUTHORIZED, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		                       "Bearer realm=\"dropstock\"",
		                       _("no API keys are configured (service.api_keys): "
		                         "every /v1 request is refused"));
	if (presented)
		return reply_error_hdr(s, conn, rq, MHD_HTTP_UNAUTHORIZED, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		                       "Bearer realm=\"dropstock\", error=\"invalid_token\"",
		                       _("the API key is not valid"));
	return reply_error_hdr(s, conn, rq, MHD_HTTP_UNAUTHORIZED, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
	                       "Bearer realm=\"dropstock\"",
	                       _("an API key is required (Authorization: Bearer KEY)"));
}

/* ---- GET /v1/stock/SKU ---- */

/* Asks check_sku (only suppliers whose cache is older than their
 * cache_fresh are asked live) and decides what to answer. */
static void stock_compute(struct service *s, struct db *db, const char *sku, struct answer *a)
{
	struct check_opts o = { .supplier_slug = NULL, .only_stale = true, .timeout_ms = 0,
	                        .dry_run = false };
	struct check_result r;
	struct error err = { 0 };
	int64_t now = time_now_ms(), oldest = 0;
	bool refuse = false;
	const char *refuser = NULL;

	memset(a, 0, sizeof(*a));
	memset(&r, 0, sizeof(r));
	if (check_sku(db, s->conf, sku, &o, &r, &err) != 0 || !r.product_found) {
		if (err.kind == ERRK_USAGE || err.kind == ERRK_NONE) {
			a->status = MHD_HTTP_NOT_FOUND;
			snprintf(a->error, sizeof(a->error), _("no product with SKU \"%s\""), sku);
		} else {
			log_error(_("stock check of %s: %s"), sku, err.msg);
			a->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
			snprintf(a->error, sizeof(a->error),
			         _("the stock of \"%s\" could not be read (database error)"), sku);
		}
		goto out;
	}
	for (int i = 0; i < r.n_links; i++) {
		const struct check_link *l = &r.links[i];
		const struct supplier_conf *sc = find_supplier(s->conf, l->slug);
		int64_t fresh = sc ? sc->fresh_ms : DEFAULT_FRESH_MS;

		if (l->asked)
			metrics_add(&s->metrics.live_asks, 1);
		if (l->asked && l->live_ok) {
			a->live = true;
			continue;
		}
		if (l->asked)
			metrics_add(&s->metrics.live_failures, 1);
		if (l->has_cached && l->cached_at > 0 && (oldest == 0 || l->cached_at < oldest))
			oldest = l->cached_at;
		/* not asked because check found the cache fresh */
		if (!l->asked && (l->fresh || !l->error[0]))
			continue;
		/* not asked because it cannot be (no check source): fine while fresh */
		if (!l->asked && l->has_cached && l->cached_at > 0 && now - l->cached_at < fresh)
			continue;
		/* the supplier could not confirm its figure and the cache is old */
		a->stale = true;
		if (l->asked)
			log_warn(_("stock check of %s: supplier %s: %s"), sku, l->slug,
			         l->error[0] ? l->error : _("no answer"));
		else
			log_debug(_("stock check of %s: supplier %s: %s"), sku, l->slug, l->error);
		if (sc && sc->has_check && sc->check.on_failure == CHECK_REFUSE && !refuse) {
			refuse = true;
			refuser = l->slug;
		}
	}
	a->available = r.stock;
	if (refuse) {
		a->status = MHD_HTTP_SERVICE_UNAVAILABLE;
		snprintf(a->error, sizeof(a->error),
		         _("supplier %s could not be asked about \"%s\" and its cached stock is not "
		           "fresh; refusing as configured (check.on_failure = \"refuse\")"),
		         refuser, sku);
		goto out;
	}
	a->status = MHD_HTTP_OK;
	if (a->live && !a->stale)
		a->checked_at = r.checked_at > 0 ? r.checked_at : now;
	else
		a->checked_at = oldest;
out:
	check_result_free(&r);
}

/* A checker thread: takes the next SKU from the queue, asks, and resumes
 * every request waiting for that SKU with the answer. */
static void *checker_main(void *arg)
{
	struct service *s = arg;
	struct error err = { 0 };
	struct flight *f, **pp;
	struct req *w, *waiters;
	struct answer a;
	struct db *db;

	pthread_mutex_lock(&s->fl_lock);
	for (;;) {
		while (!s->queue_head && !s->checkers_stopping)
			pthread_cond_wait(&s->fl_cond, &s->fl_lock);
		if (!s->queue_head)
			break;
		f = s->queue_head;
		s->queue_head = f->qnext;
		if (!s->queue_head)
			s->queue_tail = NULL;
		pthread_mutex_unlock(&s->fl_lock);

		/* requests arriving meanwhile join f: it stays in the table */
		db = thread_db(s, &err);
		if (db) {
			stock_compute(s, db, f->sku, &a);
		} else {
			log_error("%s", err.msg);
			memset(&a, 0, sizeof(a));
			a.status = MHD_HTTP_SERVICE_UNAVAILABLE;
			snprintf(a.error, sizeof(a.error), "%s", _("the database cannot be opened"));
		}

		pthread_mutex_lock(&s->fl_lock);
		for (pp = &s->flights; *pp; pp = &(*pp)->next)
			if (*pp == f) {
				*pp = f->next;
				break;
			}
		waiters = f->waiters;
		for (w = waiters; w; w = w->next_waiter) {
			w->ans = a;
			w->answered = true;
		}
		pthread_mutex_unlock(&s->fl_lock);
		/* a suspended connection cannot end, so the requests stay valid;
		 * once resumed, a request may be finished and freed at once */
		while ((w = waiters)) {
			waiters = w->next_waiter;
			MHD_resume_connection(w->conn);
		}
		free(f->sku);
		free(f);
		pthread_mutex_lock(&s->fl_lock);
	}
	pthread_mutex_unlock(&s->fl_lock);
	return NULL;
}

/* Suspends the request until its SKU has been checked: joins the flight
 * for that SKU, or starts one. */
static void stock_wait(struct service *s, struct MHD_Connection *conn, struct req *rq,
                       const char *sku)
{
	struct flight *f;

	rq->conn = conn;
	/* suspend first: the answer may come before this handler returns */
	MHD_suspend_connection(conn);
	pthread_mutex_lock(&s->fl_lock);
	for (f = s->flights; f; f = f->next)
		if (strcmp(f->sku, sku) == 0)
			break;
	if (f) {
		metrics_add(&s->metrics.coalesced_waits, 1);
	} else {
		f = xcalloc(1, sizeof(*f));
		f->sku = xstrdup(sku);
		f->next = s->flights;
		s->flights = f;
		if (s->queue_tail)
			s->queue_tail->qnext = f;
		else
			s->queue_head = f;
		s->queue_tail = f;
		pthread_cond_signal(&s->fl_cond);
	}
	rq->next_waiter = f->waiters;
	f->waiters = rq;
	pthread_mutex_unlock(&s->fl_lock);
}

static bool flights_pending(struct service *s)
{
	bool any;

	pthread_mutex_lock(&s->fl_lock);
	any = s->flights != NULL;
	pthread_mutex_unlock(&s->fl_lock);
	return any;
}

/* First call: checks the request and waits for the answer. */
static enum MHD_Result stock_check_begin(struct service *s, struct MHD_Connection *conn,
                                         struct req *rq, const char *sku)
{
	const char *qty_text = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "qty");
	json_t *probe;

	if (!*sku)
		return reply_error(s, conn, rq, MHD_HTTP_NOT_FOUND,
		                   _("no SKU given: ask GET /v1/stock/SKU?qty=N"));
	if (!(probe = json_string(sku)))
		return reply_error(s, conn, rq, MHD_HTTP_BAD_REQUEST, _("the SKU is not valid UTF-8"));
	json_decref(probe);
	rq->qty = 1;
	if (qty_text && (!str_to_i64(qty_text, &rq->qty) || rq->qty < 1))
		return reply_error(s, conn, rq, MHD_HTTP_BAD_REQUEST,
		                   _("qty \"%s\" is not a whole number of at least 1"), qty_text);
	stock_wait(s, conn, rq, sku);
	return MHD_YES;
}

/* Called again once resumed: answers. */
static enum MHD_Result stock_check_finish(struct service *s, struct MHD_Connection *conn,
                                          struct req *rq)
{
	const struct answer *a = &rq->ans;
	const char *sku = rq->path + strlen("/v1/stock/");
	enum MHD_Result ret;
	json_t *doc;

	if (a->status != MHD_HTTP_OK) {
		if (a->status == MHD_HTTP_SERVICE_UNAVAILABLE)
			metrics_add(&s->metrics.refused, 1);
		ret = reply_error_hdr(s, conn, rq, a->status,
		                      a->status == MHD_HTTP_SERVICE_UNAVAILABLE
		                              ? MHD_HTTP_HEADER_RETRY_AFTER : NULL,
		                      "5", "%s", a->error);
		goto out;
	}
	if (a->stale)
		metrics_add(&s->metrics.stale_answers, 1);
	else if (!a->live)
		metrics_add(&s->metrics.cache_hits, 1);
	doc = json_pack("{s:o, s:I, s:I, s:b, s:s, s:o, s:b}",
	                "sku", jstr(sku),
	                "requested", (json_int_t)rq->qty,
	                "available", (json_int_t)a->available,
	                "ok", a->available >= rq->qty,
	                "source", a->live && !a->stale ? "live" : "cache",
	                "checked_at", jtime(a->checked_at),
	                "stale", a->stale);
	ret = reply_json(s, conn, rq, MHD_HTTP_OK, doc, NULL, NULL);
out:
	metrics_check_latency(&s->metrics, mono_us() - rq->start_us);
	return ret;
}

/* ---- GET /v1/stock?changed_since=T&limit=N&after=CURSOR ---- */

static int changes_row(void *ud, const struct report_product *p)
{
	json_t *items = ud;

	json_array_append_new(items, json_pack("{s:o, s:I, s:b, s:o}",
	                                       "sku", jstr(p->sku),
	                                       "stock", (json_int_t)p->stock,
	                                       "available", p->available,
	                                       "updated_at", jtime(p->updated_at)));
	return 0;
}

static enum MHD_Result route_stock_changes(struct service *s, struct MHD_Connection *conn,
                                           struct req *rq)
{
	const char *since_text = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
	                                                     "changed_since");
	const char *limit_text = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "limit");
	const char *after_text = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "after");
	struct report_cursor after, next = { 0, 0 };
	struct error err = { 0 };
	int64_t since = 0, limit = CHANGES_LIMIT_DEFAULT;
	bool has_more = false;
	struct db *db;
	json_t *items;
	char cursor[48];

	if (since_text && !time_parse(since_text, &since))
		return reply_error(s, conn, rq, MHD_HTTP_BAD_REQUEST,
		                   _("changed_since \"%s\" is neither an ISO-8601 time nor Unix seconds"),
		                   since_text);
	if (limit_text && (!str_to_i64(limit_text, &limit) || limit < 1))
		return reply_error(s, conn, rq, MHD_HTTP_BAD_REQUEST,
		                   _("limit \"%s\" is not a whole number of at least 1"), limit_text);
	if (limit > CHANGES_LIMIT_MAX)
		limit = CHANGES_LIMIT_MAX;
	if (after_text && !report_cursor_parse(after_text, &after))
		return reply_error(s, conn, rq, MHD_HTTP_BAD_REQUEST,
		                   _("after \"%s\" is not a cursor from next_cursor"), after_text);
	db = thread_db(s, &err);
	if (!db) {
		log_error("%s", err.msg);
		return reply_error(s, conn, rq, MHD_HTTP_SERVICE_UNAVAILABLE,
		                   _("the database cannot be opened"));
	}
	items = json_array();
	if (report_products_changed(db, since, limit, after_text ? &after : NULL, changes_row, items,
	                            &has_more, &next, &err) != 0) {
		json_decref(items);
		log_error("%s", err.msg);
		return reply_error(s, conn, rq, MHD_HTTP_INTERNAL_SERVER_ERROR,
		                   _("the changed stock could not be read (database error)"));
	}
	return reply_json(s, conn, rq, MHD_HTTP_OK,
	                  json_pack("{s:o, s:o}", "items", items, "next_cursor",
	                            has_more ? json_string(report_cursor_format(&next, cursor))
	                                     : json_null()),
	                  NULL, NULL);
}

/* ---- GET /healthz, GET /metrics ---- */

static enum MHD_Result route_healthz(struct service *s, struct MHD_Connection *conn,
                                     struct req *rq)
{
	struct error err = { 0 };
	struct db *db = thread_db(s, &err);
	sqlite3_stmt *st = NULL;
	bool ok = false;

	if (db && (st = db_stmt(db, "SELECT 1", &err))) {
		ok = sqlite3_step(st) == SQLITE_ROW;
		if (!ok)
			db_error(db, &err, "SELECT 1");
		sqlite3_reset(st);
	}
	if (!ok) {
		log_error(_("health check: %s"), err.msg);
		return reply_json(s, conn, rq, MHD_HTTP_SERVICE_UNAVAILABLE,
		                  json_pack("{s:s, s:s}", "status", "error", "database", "error"), NULL,
		                  NULL);
	}
	return reply_json(s, conn, rq, MHD_HTTP_OK,
	                  json_pack("{s:s, s:s}", "status", "ok", "database", "ok"), NULL, NULL);
}

static enum MHD_Result route_metrics(struct service *s, struct MHD_Connection *conn,
                                     struct req *rq)
{
	struct error err = { 0 };
	struct db *db = thread_db(s, &err);
	struct buf out = BUF_INIT;
	size_t len;
	char *text;

	if (!db)
		log_error("%s", err.msg);
	/* this request is counted too, before the figures are read */
	metrics_render(&s->metrics, db, &out);
	len = out.len;
	text = buf_steal(&out);
	return reply(s, conn, rq, MHD_HTTP_OK, METRICS_TYPE, text, len, NULL, NULL);
}

/* ---- POST /webhooks/SLUG/stock ---- */

static const char *header_lookup(void *ud, const char *name)
{
	return MHD_lookup_connection_value(ud, MHD_HEADER_KIND, name);
}

/* First call: the headers are in.  Refuses what it can before any body is
 * read; otherwise prepares to collect the body. */
static enum MHD_Result webhook_begin(struct service *s, struct MHD_Connection *conn,
                                     struct req *rq, const char *url, const char *method)
{
	const char *p = url + strlen("/webhooks/");
	const char *slash = strchr(p, '/');
	const char *cl;
	char *slug;
	int64_t length;
	const struct supplier_conf *sup;

	if (!slash || slash == p || strcmp(slash, "/stock") != 0)
		return reply_error(s, conn, rq, MHD_HTTP_NOT_FOUND,
		                   _("no such webhook: the address is /webhooks/SUPPLIER/stock"));
	slug = xstrndup(p, (size_t)(slash - p));
	sup = find_supplier(s->conf, slug);
	if (!sup || !sup->webhook.enabled) {
		enum MHD_Result ret = reply_error(s, conn, rq, MHD_HTTP_NOT_FOUND,
		                                  sup ? _("supplier %s takes no webhooks")
		                                      : _("no supplier %s"), slug);
		free(slug);
		return ret;
	}
	free(slug);
	if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
		return reply_error_hdr(s, conn, rq, MHD_HTTP_METHOD_NOT_ALLOWED, MHD_HTTP_HEADER_ALLOW,
		                       "POST", _("only POST is allowed here"));
	rq->sup = sup;
	rq->max_body = sup->webhook.max_body > 0 ? sup->webhook.max_body : DEFAULT_MAX_BODY;
	cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl && str_to_i64(cl, &length) && length > rq->max_body)
		return reply_error(s, conn, rq, MHD_HTTP_CONTENT_TOO_LARGE,
		                   /* TRANSLATORS: the last %lld is the limit in bytes */
		                   P_("body too large: %lld byte, over the limit of %lld",
		                      "body too large: %lld bytes, over the limit of %lld", length),
		                   (long long)length, (long long)rq->max_body);
	return MHD_YES;
}

static enum MHD_Result webhook_finish(struct service *s, struct MHD_Connection *conn,
                                      struct req *rq)
{
	struct webhook_outcome out;
	struct error err = { 0 };
	struct db *db;
	unsigned status;
	char *body;
	enum MHD_Result ret;

	db = thread_db(s, &err);
	if (!db) {
		log_error("%s", err.msg);
		return reply_error(s, conn, rq, MHD_HTTP_SERVICE_UNAVAILABLE,
		                   _("the database cannot be opened"));
	}
	memset(&out, 0, sizeof(out));
	webhook_ingest(db, s->conf, rq->sup, header_lookup, conn, buf_str(&rq->body), rq->body.len,
	               time_now_ms(), &out);
	status = out.http_status >= 100 && out.http_status <= 599 ? (unsigned)out.http_status
	                                                         : MHD_HTTP_INTERNAL_SERVER_ERROR;
	metrics_add(&s->metrics.webhook_applied, (uint64_t)(out.applied > 0 ? out.applied : 0));
	metrics_add(&s->metrics.webhook_changed, (uint64_t)(out.changed > 0 ? out.changed : 0));
	metrics_add(&s->metrics.webhook_rejected, (uint64_t)(out.rejected > 0 ? out.rejected : 0));
	if (out.duplicate)
		metrics_add(&s->metrics.webhook_duplicates, 1);
	if (out.response) {
		size_t len = strlen(out.response);

		body = xmalloc(len + 2);
		memcpy(body, out.response, len);
		body[len++] = '\n';
		body[len] = '\0';
		ret = reply(s, conn, rq, status, JSON_TYPE, body, len, NULL, NULL);
	} else {
		ret = reply_error(s, conn, rq, status, _("the delivery could not be processed"));
	}
	if (status >= 500)
		log_error(_("webhook from %s: HTTP %u: %s"), rq->sup->slug, status,
		          out.response ? out.response : "");
	webhook_outcome_clear(&out);
	return ret;
}

/* ---- POST /v1/suppliers/SLUG/preview?limit=N ----
 * A dry-run full sync on this worker thread: it blocks the thread for as
 * long as the supplier's feed takes, which is fine for an operator's
 * preview (dropstock(1) says previews are not for hot paths). */

struct preview {
	json_t *changes;
	int64_t limit;
	int64_t found;
};

static void preview_change(void *ud, const struct stock_change *ch)
{
	struct preview *pv = ud;

	pv->found++;
	if ((int64_t)json_array_size(pv->changes) >= pv->limit)
		return;
	json_array_append_new(pv->changes, json_pack(
		"{s:o, s:o, s:o, s:I}", "supplier_sku", jstr(ch->supplier_sku), "product_sku",
		jstr(ch->product_sku), "previous", ch->has_prev ? json_integer(ch->prev) : json_null(),
		"stock", (json_int_t)ch->new_stock));
}

static enum MHD_Result route_preview(struct service *s, struct MHD_Connection *conn,
                                     struct req *rq, const char *url, const char *method)
{
	const char *p = url + strlen("/v1/suppliers/");
	const char *slash = strchr(p, '/');
	const char *limit_text = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "limit");
	const struct supplier_conf *sup;
	struct preview pv = { 0 };
	struct sync_opts o;
	struct sync_report rep;
	struct error err = { 0 };
	const struct run_stats *st = &rep.stats;
	unsigned status;
	struct db *db;
	json_t *doc;
	char *slug;

	if (!slash || slash == p || strcmp(slash, "/preview") != 0)
		return reply_error(s, conn, rq, MHD_HTTP_NOT_FOUND,
		                   _("no such resource: a preview is POST /v1/suppliers/SUPPLIER/preview"));
	slug = xstrndup(p, (size_t)(slash - p));
	sup = find_supplier(s->conf, slug);
	if (!sup) {
		enum MHD_Result ret = reply_error(s, conn, rq, MHD_HTTP_NOT_FOUND,
		                                  _("no supplier %s"), slug);
		free(slug);
		return ret;
	}
	free(slug);
	if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
		return reply_error_hdr(s, conn, rq, MHD_HTTP_METHOD_NOT_ALLOWED, MHD_HTTP_HEADER_ALLOW,
		                       "POST", _("only POST is allowed here"));
	pv.limit = PREVIEW_LIMIT_DEFAULT;
	if (limit_text && (!str_to_i64(limit_text, &pv.limit) || pv.limit < 0))
		return reply_error(s, conn, rq, MHD_HTTP_BAD_REQUEST,
		                   _("limit \"%s\" is not a whole number of at least 0"), limit_text);
	if (pv.limit > PREVIEW_LIMIT_MAX)
		pv.limit = PREVIEW_LIMIT_MAX;
	db = thread_db(s, &err);
	if (!db) {
		log_error("%s", err.msg);
		return reply_error(s, conn, rq, MHD_HTTP_SERVICE_UNAVAILABLE,
		                   _("the database cannot be opened"));
	}
	memset(&o, 0, sizeof(o));
	o.kind = SYNC_FULL;
	o.dry_run = true;
	o.trigger = "service";
	o.wait_lock = false;
	o.stop = &s->previews_stop;
	o.on_change = preview_change;
	o.ud = &pv;
	pv.changes = json_array();
	sync_supplier(db, s->conf, sup, &o, &rep);
	if (str_eq(rep.status, "succeeded"))
		status = MHD_HTTP_OK;
	else if (str_eq(rep.status, "busy"))
		status = MHD_HTTP_CONFLICT;
	else if (str_eq(rep.status, "interrupted"))
		status = MHD_HTTP_SERVICE_UNAVAILABLE;
	else if (rep.err.kind == ERRK_DB || rep.err.kind == ERRK_INTERNAL)
		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	else
		status = MHD_HTTP_BAD_GATEWAY;
	doc = json_pack("{s:o, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:b}",
	                "supplier", jstr(sup->slug), "status", rep.status,
	                "seen", (json_int_t)st->seen, "changed", (json_int_t)st->changed,
	                "unknown", (json_int_t)st->unknown, "invalid", (json_int_t)st->invalid,
	                "stale", (json_int_t)st->stale, "zeroed", (json_int_t)st->zeroed,
	                "changes", pv.changes,
	                "changes_truncated", pv.found > (int64_t)json_array_size(pv.changes));
	if (doc && status != MHD_HTTP_OK)
		json_object_set_new(doc, "error", jstr(rep.err.msg));
	if (status >= 500 && status != MHD_HTTP_SERVICE_UNAVAILABLE)
		log_warn(_("preview: %s"), rep.err.msg);   /* the message names the supplier */
	return reply_json(s, conn, rq, status, doc, NULL, NULL);
}

/* ---- dispatch ---- */

static bool is_get(const char *method)
{
	return strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
}

static enum MHD_Result reply_get_only(struct service *s, struct MHD_Connection *conn,
                                      struct req *rq)
{
	return reply_error_hdr(s, conn, rq, MHD_HTTP_METHOD_NOT_ALLOWED, MHD_HTTP_HEADER_ALLOW,
	                       "GET, HEAD", _("only GET is allowed here"));
}

/* The first call of a request: its headers are in.  Everything but a
 * webhook is answered now. */
static enum MHD_Result route_first(struct service *s, struct MHD_Connection *conn,
                                   struct req *rq, const char *url, const char *method)
{
	bool presented;

	if (str_startswith(url, "/webhooks/")) {
		rq->route = ROUTE_WEBHOOK;
		return webhook_begin(s, conn, rq, url, method);
	}
	/* the whole request is in: no deadline while it is worked on */
	conn_set_deadline(s, conn, 0);
	if (strcmp(url, "/healthz") == 0) {
		rq->route = ROUTE_HEALTHZ;
		return is_get(method) ? route_healthz(s, conn, rq) : reply_get_only(s, conn, rq);
	}
	if (strcmp(url, "/metrics") == 0) {
		rq->route = ROUTE_METRICS;
		return is_get(method) ? route_metrics(s, conn, rq) : reply_get_only(s, conn, rq);
	}
	if (strcmp(url, "/v1/stock") == 0 || str_startswith(url, "/v1/stock/")) {
		rq->route = url[strlen("/v1/stock")] ? ROUTE_STOCK_CHECK : ROUTE_STOCK_CHANGES;
		if (!auth_ok(s, conn, &presented))
			return reply_unauthorized(s, conn, rq, presented);
		if (!is_get(method))
			return reply_get_only(s, conn, rq);
		if (rq->route == ROUTE_STOCK_CHANGES)
			return route_stock_changes(s, conn, rq);
		return stock_check_begin(s, conn, rq, url + strlen("/v1/stock/"));
	}
	rq->route = ROUTE_OTHER;
	if (str_startswith(url, "/v1/") && !auth_ok(s, conn, &presented))
		return reply_unauthorized(s, conn, rq, presented);
	if (str_startswith(url, "/v1/suppliers/"))
		return route_preview(s, conn, rq, url, method);
	return reply_error(s, conn, rq, MHD_HTTP_NOT_FOUND, _("no such resource"));
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
	struct service *s = cls;
	struct req *rq = *con_cls;

	(void)version;
	if (!rq) {
		rq = xcalloc(1, sizeof(*rq));
		rq->start_us = mono_us();
		rq->method = xstrdup(method);
		rq->path = xstrdup(url);
		rq->route = ROUTE_OTHER;
		*con_cls = rq;
		atomic_fetch_add(&s->active, 1);
		if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
			/* a response queued on the first call makes libmicrohttpd
			 * close the connection after it: answer on the next call,
			 * so keep-alive connections stay open */
			rq->deferred = true;
			return MHD_YES;
		}
		return route_first(s, conn, rq, url, method);
	}
	if (rq->deferred) {
		if (*upload_data_size > 0) {
			*upload_data_size = 0;      /* a GET has no use for a body */
			return MHD_YES;
		}
		rq->deferred = false;
		return route_first(s, conn, rq, url, method);
	}
	if (rq->route == ROUTE_STOCK_CHECK && rq->answered && !rq->queued)
		return stock_check_finish(s, conn, rq);
	if (rq->queued || rq->route != ROUTE_WEBHOOK) {
		/* answered already: whatever else arrives is dropped */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		/* A body without Content-Length (chunked) that grows past the
		 * limit: what came is dropped and nothing more is kept.
		 * libmicrohttpd cannot answer in the middle of a body, so the
		 * 413 goes out when the body ends (the connection deadline
		 * still bounds how long that may take). */
		if (!rq->too_large && (int64_t)(rq->body.len + *upload_data_size) > rq->max_body) {
			rq->too_large = true;
			buf_free(&rq->body);
		}
		if (!rq->too_large)
			buf_append(&rq->body, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	/* the whole body is in */
	conn_set_deadline(s, conn, 0);
	if (rq->too_large)
		return reply_error(s, conn, rq, MHD_HTTP_CONTENT_TOO_LARGE,
		                   P_("the body is larger than the %lld byte allowed",
		                      "the body is larger than the %lld bytes allowed", rq->max_body),
		                   (long long)rq->max_body);
	return webhook_finish(s, conn, rq);
}

static const char *termination_name(enum MHD_RequestTerminationCode toe)
{
	switch (toe) {
	case MHD_REQUEST_TERMINATED_COMPLETED_OK:
		return "ok";
	case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
		return "timeout";
	case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
		return "shutdown";
	case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
		return "client-abort";
	case MHD_REQUEST_TERMINATED_READ_ERROR:
		return "read-error";
	case MHD_REQUEST_TERMINATED_WITH_ERROR:
	default:
		return "error";
	}
}

/* One line per request on stderr: client, method, path (never the query,
 * which may hold secrets, nor any header), status, bytes, duration. */
static void access_log(struct MHD_Connection *conn, struct req *rq,
                       enum MHD_RequestTerminationCode toe)
{
	const union MHD_ConnectionInfo *ci;
	char addr[INET6_ADDRSTRLEN] = "-";
	char path[256];
	char status[16];
	size_t i;
	int64_t us = mono_us() - rq->start_us;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;

		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, addr,
			          sizeof(addr));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			          addr, sizeof(addr));
	}
	/* no control characters or quotes from the client in the log */
	for (i = 0; rq->path[i] && i < sizeof(path) - 1; i++) {
		unsigned char ch = (unsigned char)rq->path[i];

		path[i] = ch < 0x20 || ch == 0x7f || ch == '"' || ch == '\\' ? '?' : (char)ch;
	}
	path[i] = '\0';
	if (rq->status)
		snprintf(status, sizeof(status), "%u", rq->status);
	else
		snprintf(status, sizeof(status), "-");
	fprintf(stderr, "dropstock: access %s \"%s %s\" %s %zu %.1fms%s%s\n", addr, rq->method, path,
	        status, rq->bytes, (double)us / 1000.0,
	        toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " ",
	        toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : termination_name(toe));
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct service *s = cls;
	struct req *rq = *con_cls;

	if (!rq)
		return;
	if (s->access_log)
		access_log(conn, rq, toe);
	/* the next request on this connection gets its own time to arrive */
	conn_set_deadline(s, conn, time_mono_ms() + s->timeout_ms);
	buf_free(&rq->body);
	free(rq->method);
	free(rq->path);
	free(rq);
	*con_cls = NULL;
	atomic_fetch_sub(&s->active, 1);
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
	char *msg;
	size_t n;

	(void)cls;
	if (log_threshold < LOG_DEBUG)
		return;
	msg = xvasprintf(fmt, ap);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	log_debug("microhttpd: %s", msg);
	free(msg);
}

/* ---- start and stop ---- */

/* "ADDR:PORT" or "[ADDR6]:PORT" (numeric, as the configuration loader
 * checks it) -> host and port (caller frees both). */
static int split_listen(const char *text, char **host, char **port, struct error *err,
                        enum err_kind kind, const char *what)
{
	char addr[64];
	int n;

	*host = *port = NULL;
	if (conf_listen_split(text, addr, sizeof(addr), &n) != 0)
		return err_set(err, kind, _("%s \"%s\" is not a listen address: expected ADDRESS:PORT "
		                            "with a numeric IPv4 address, or an IPv6 address in "
		                            "brackets, e.g. 127.0.0.1:8787 or [::1]:8787"),
		               what, text);
	*host = xstrdup(addr);
	*port = xasprintf("%d", n);
	return 0;
}

/* Creates the listening socket; fills s->port and s->address. */
static int open_listener(struct service *s, const char *text, enum err_kind kind,
                         const char *what, bool *v6, struct error *err)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char *host = NULL, *port = NULL, ip[INET6_ADDRSTRLEN];
	int fd = -1, rc, saved = 0, one = 1, ret = -1;

	if (split_listen(text, &host, &port, err, kind, what) != 0)
		return -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		err_set(err, kind, _("%s \"%s\": cannot resolve %s: %s"), what, text, host,
		        gai_strerror(rc));
		goto out;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		err_set(err, ERRK_INTERNAL, _("cannot listen on %s: %s"), text, strerror(saved));
		goto out;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
		err_set(err, ERRK_INTERNAL, _("cannot listen on %s: %s"), text, strerror(errno));
		close(fd);
		goto out;
	}
	if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		s->port = ntohs(sin6->sin6_port);
		s->address = xasprintf("[%s]:%d", ip, s->port);
		*v6 = true;
	} else {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		s->port = ntohs(sin->sin_port);
		s->address = xasprintf("%s:%d", ip, s->port);
		*v6 = false;
	}
	s->listen_fd = fd;
	ret = 0;
out:
	if (res)
		freeaddrinfo(res);
	free(host);
	free(port);
	return ret;
}

static struct MHD_Daemon *start_mhd(struct service *s, unsigned flags)
{
	const struct service_conf *sc = &s->conf->service;
	unsigned threads = sc->threads > 0 ? (unsigned)sc->threads : DEFAULT_THREADS;
	unsigned max_conn = sc->max_connections > 0 ? (unsigned)sc->max_connections
	                                            : DEFAULT_MAX_CONN;
	unsigned per_ip = sc->max_connections_per_ip > 0 ? (unsigned)sc->max_connections_per_ip
	                                                 : DEFAULT_MAX_PER_IP;
	size_t memory = sc->memory_limit > 0 ? (size_t)sc->memory_limit : DEFAULT_MEMORY_LIMIT;
	unsigned timeout_s = (unsigned)((s->timeout_ms + 999) / 1000);

	if (max_conn < threads)
		max_conn = threads;   /* MHD shares the limit out among the threads */
	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
	                        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)s->listen_fd,
	                        MHD_OPTION_THREAD_POOL_SIZE, threads,
	                        MHD_OPTION_CONNECTION_TIMEOUT, timeout_s,
	                        MHD_OPTION_CONNECTION_LIMIT, max_conn,
	                        MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip,
	                        MHD_OPTION_CONNECTION_MEMORY_LIMIT, memory,
	                        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
	                        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
	                        MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, s,
	                        MHD_OPTION_END);
}

static void service_free(struct service *s)
{
	struct db_slot *slot;

	if (s->n_checkers > 0) {
		pthread_mutex_lock(&s->fl_lock);
		s->checkers_stopping = true;
		pthread_cond_broadcast(&s->fl_cond);
		pthread_mutex_unlock(&s->fl_lock);
		for (int i = 0; i < s->n_checkers; i++)
			pthread_join(s->checkers[i], NULL);
	}
	free(s->checkers);
	if (s->reaper_started) {
		pthread_mutex_lock(&s->conn_lock);
		s->stopping = true;
		pthread_cond_signal(&s->conn_cond);
		pthread_mutex_unlock(&s->conn_lock);
		pthread_join(s->reaper, NULL);
	}
	if (s->key_made)
		pthread_key_delete(s->db_key);
	/* the worker threads have ended (their key destructors closed their
	 * connections); anything left is closed here */
	while ((slot = s->dbs)) {
		s->dbs = slot->next;
		db_close(slot->db);
		free(slot);
	}
	while (s->conns) {
		struct tracked *t = s->conns;

		s->conns = t->next;
		free(t);
	}
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	pthread_mutex_destroy(&s->db_lock);
	pthread_mutex_destroy(&s->fl_lock);
	pthread_cond_destroy(&s->fl_cond);
	pthread_mutex_destroy(&s->conn_lock);
	pthread_cond_destroy(&s->conn_cond);
	if (s->keys)
		OPENSSL_cleanse(s->keys, (size_t)s->n_keys * 32);
	free(s->keys);
	free(s->address);
	free(s);
}

struct service *service_start(const struct conf *c, const char *listen, struct error *err)
{
	const struct service_conf *sc = &c->service;
	struct service *s = xcalloc(1, sizeof(*s));
	const char *text = listen ? listen : (sc->listen ? sc->listen : DEFAULT_LISTEN);
	unsigned flags;
	int want;
	bool v6 = false;

	s->conf = c;
	s->listen_fd = -1;
	s->timeout_ms = sc->connection_timeout_ms > 0 ? sc->connection_timeout_ms : DEFAULT_TIMEOUT_MS;
	s->access_log = sc->access_log;
	atomic_init(&s->active, 0);
	pthread_mutex_init(&s->db_lock, NULL);
	pthread_mutex_init(&s->fl_lock, NULL);
	pthread_cond_init(&s->fl_cond, NULL);
	pthread_mutex_init(&s->conn_lock, NULL);
	pthread_cond_init(&s->conn_cond, NULL);
	metrics_init(&s->metrics);

	s->keys = xcalloc((size_t)(sc->n_api_keys > 0 ? sc->n_api_keys : 1), 32);
	for (int i = 0; i < sc->n_api_keys; i++) {
		const char *k = sc->api_keys[i].value;

		if (!str_empty(k))
			sha256(k, strlen(k), s->keys[s->n_keys++]);
	}
	if (pthread_key_create(&s->db_key, db_slot_release) != 0) {
		err_set(err, ERRK_INTERNAL, _("cannot create the per-thread database key"));
		goto fail;
	}
	s->key_made = true;
	if (open_listener(s, text, listen ? ERRK_USAGE : ERRK_CONFIG,
	                  listen ? "--listen" : "service.listen", &v6, err) != 0)
		goto fail;
	if (pthread_create(&s->reaper, NULL, reaper_main, s) != 0) {
		err_set(err, ERRK_INTERNAL, _("cannot start the connection timeout thread"));
		goto fail;
	}
	s->reaper_started = true;
	/* as many checker threads as workers: a check waits on suppliers (up
	 * to check.timeout) while the workers go on serving */
	want = sc->threads > 0 ? sc->threads : DEFAULT_THREADS;
	s->checkers = xcalloc((size_t)want, sizeof(*s->checkers));
	for (int i = 0; i < want; i++) {
		if (pthread_create(&s->checkers[i], NULL, checker_main, s) != 0) {
			err_set(err, ERRK_INTERNAL, _("cannot start the stock check threads"));
			goto fail;
		}
		s->n_checkers++;
	}

	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	if (v6)
		flags |= MHD_USE_IPv6;
	/* epoll where the system has it, else poll: both scale past select's
	 * descriptor limit */
	if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES)
		flags |= MHD_USE_EPOLL;
	else
		flags |= MHD_USE_POLL;
	s->mhd = start_mhd(s, flags);
	if (!s->mhd) {
		err_set(err, ERRK_INTERNAL,
		        _("cannot start the HTTP server on %s (libmicrohttpd refused the settings "
		          "in the service group)"), s->address);
		goto fail;
	}
	if (s->n_keys == 0)
		log_warn(_("no API keys configured (service.api_keys): every /v1 request will be "
		           "refused with 401"));
	return s;
fail:
	service_free(s);
	return NULL;
}

int service_port(const struct service *s)
{
	return s->port;
}

const char *service_address(const struct service *s)
{
	return s->address;
}

void service_stop(struct service *s)
{
	MHD_socket lfd;
	int64_t until;

	if (!s)
		return;
	s->previews_stop = 1;
	/* stop accepting; requests being worked on may finish */
	lfd = MHD_quiesce_daemon(s->mhd);
	if (lfd != MHD_INVALID_SOCKET) {
		close(lfd);
		s->listen_fd = -1;
	}
	/* MHD must not be stopped with a suspended connection: stock checks
	 * always end (each ask has its timeout), so they are waited for */
	until = time_mono_ms() + DRAIN_MS;
	while (atomic_load(&s->active) > 0 && (time_mono_ms() < until || flights_pending(s))) {
		struct timespec ts = { 0, 10 * 1000000L };

		nanosleep(&ts, NULL);
	}
	MHD_stop_daemon(s->mhd);
	if (lfd == MHD_INVALID_SOCKET)
		s->listen_fd = -1;   /* MHD closed it */
	service_free(s);
}
