/* metrics.c - the service's counters and their Prometheus text rendering
 * (text format version 0.0.4).  Metric names and HELP texts are part of the
 * protocol and stay untranslated. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "service/service_int.h"
#include "store/report.h"

/* Bucket upper bounds in seconds, and the same in microseconds. */
static const char *const bucket_text[METRICS_N_BUCKETS] = {
	"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1",
};
static const int64_t bucket_us[METRICS_N_BUCKETS] = {
	1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000,
};

const char *metrics_route_name(enum svc_route r)
{
	switch (r) {
	case ROUTE_STOCK_CHECK:
		return "stock_check";
	case ROUTE_STOCK_CHANGES:
		return "stock_changes";
	case ROUTE_WEBHOOK:
		return "webhook";
	case ROUTE_HEALTHZ:
		return "healthz";
	case ROUTE_METRICS:
		return "metrics";
	case ROUTE_OTHER:
	case ROUTE_N:
	default:
		return "other";
	}
}

void metrics_init(struct metrics *m)
{
	memset(m, 0, sizeof(*m));
	for (int r = 0; r < ROUTE_N; r++)
		for (int i = 0; i <= METRICS_STATUS_MAX - METRICS_STATUS_MIN; i++)
			atomic_init(&m->requests[r][i], 0);
	for (int i = 0; i <= METRICS_N_BUCKETS; i++)
		atomic_init(&m->check_bucket[i], 0);
	atomic_init(&m->check_count, 0);
	atomic_init(&m->check_sum_us, 0);
	atomic_init(&m->cache_hits, 0);
	atomic_init(&m->live_asks, 0);
	atomic_init(&m->live_failures, 0);
	atomic_init(&m->stale_answers, 0);
	atomic_init(&m->refused, 0);
	atomic_init(&m->coalesced_waits, 0);
	atomic_init(&m->webhook_applied, 0);
	atomic_init(&m->webhook_changed, 0);
	atomic_init(&m->webhook_rejected, 0);
	atomic_init(&m->webhook_duplicates, 0);
	atomic_init(&m->slow_clients_cut, 0);
	m->started_at = time_now_ms();
}

void metrics_request(struct metrics *m, enum svc_route r, unsigned status)
{
	if ((int)r < 0 || r >= ROUTE_N || status < METRICS_STATUS_MIN || status > METRICS_STATUS_MAX)
		return;
	metrics_add(&m->requests[r][status - METRICS_STATUS_MIN], 1);
}

void metrics_check_latency(struct metrics *m, int64_t us)
{
	int i;

	if (us < 0)
		us = 0;
	for (i = 0; i < METRICS_N_BUCKETS; i++)
		if (us <= bucket_us[i])
			break;
	metrics_add(&m->check_bucket[i], 1);
	metrics_add(&m->check_count, 1);
	metrics_add(&m->check_sum_us, (uint64_t)us);
}

static uint64_t get(atomic_uint_fast64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* A label value: backslash, double quote and newline escaped. */
static void put_label(struct buf *out, const char *v)
{
	for (; v && *v; v++) {
		if (*v == '\\')
			buf_puts(out, "\\\\");
		else if (*v == '"')
			buf_puts(out, "\\\"");
		else if (*v == '\n')
			buf_puts(out, "\\n");
		else
			buf_putc(out, *v);
	}
}

static void header(struct buf *out, const char *name, const char *type, const char *help)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void counter(struct buf *out, const char *name, const char *help, atomic_uint_fast64_t *c)
{
	header(out, name, "counter", help);
	buf_printf(out, "%s %" PRIu64 "\n", name, get(c));
}

struct sup_render {
	struct buf *times;
	struct buf *results;
};

static void sup_kind(struct sup_render *sr, const char *slug, const char *kind, int64_t at,
                     const char *status)
{
	if (at <= 0)
		return;
	buf_puts(sr->times, "dropstock_supplier_last_sync_timestamp_seconds{supplier=\"");
	put_label(sr->times, slug);
	buf_printf(sr->times, "\",kind=\"%s\"} %" PRId64 ".%03d\n", kind, at / 1000,
	           (int)(at % 1000));
	buf_puts(sr->results, "dropstock_supplier_last_sync_success{supplier=\"");
	put_label(sr->results, slug);
	buf_printf(sr->results, "\",kind=\"%s\",status=\"", kind);
	put_label(sr->results, status ? status : "unknown");
	buf_printf(sr->results, "\"} %d\n", str_eq(status, "succeeded") ? 1 : 0);
}

static int sup_row(void *ud, const struct report_supplier *s)
{
	struct sup_render *sr = ud;

	sup_kind(sr, s->slug, "full", s->last_full_at, s->last_full_status);
	sup_kind(sr, s->slug, "delta", s->last_delta_at, s->last_delta_status);
	return 0;
}

static bool db_up(struct db *db)
{
	struct error err = { 0 };
	sqlite3_stmt *st;
	bool ok;

	if (!db)
		return false;
	st = db_stmt(db, "SELECT 1", &err);
	if (!st)
		return false;
	ok = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return ok;
}

void metrics_render(struct metrics *m, struct db *db, struct buf *out)
{
	struct buf times = BUF_INIT, results = BUF_INIT;
	struct sup_render sr = { &times, &results };
	struct error err = { 0 };
	uint64_t cum = 0, sum_us;
	bool up = db_up(db);

	header(out, "dropstock_http_requests_total", "counter",
	       "HTTP requests answered, by route and status.");
	for (int r = 0; r < ROUTE_N; r++)
		for (int i = 0; i <= METRICS_STATUS_MAX - METRICS_STATUS_MIN; i++) {
			uint64_t n = get(&m->requests[r][i]);

			if (n)
				buf_printf(out, "dropstock_http_requests_total{route=\"%s\",status=\"%d\"} %"
				           PRIu64 "\n", metrics_route_name((enum svc_route)r),
				           i + METRICS_STATUS_MIN, n);
		}

	header(out, "dropstock_check_duration_seconds", "histogram",
	       "Time to answer a stock check (GET /v1/stock/SKU).");
	for (int i = 0; i < METRICS_N_BUCKETS; i++) {
		cum += get(&m->check_bucket[i]);
		buf_printf(out, "dropstock_check_duration_seconds_bucket{le=\"%s\"} %" PRIu64 "\n",
		           bucket_text[i], cum);
	}
	cum += get(&m->check_bucket[METRICS_N_BUCKETS]);
	buf_printf(out, "dropstock_check_duration_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n", cum);
	sum_us = get(&m->check_sum_us);
	buf_printf(out, "dropstock_check_duration_seconds_sum %" PRIu64 ".%06" PRIu64 "\n",
	           sum_us / 1000000, sum_us % 1000000);
	buf_printf(out, "dropstock_check_duration_seconds_count %" PRIu64 "\n",
	           get(&m->check_count));

	counter(out, "dropstock_check_cache_hits_total",
	        "Stock checks answered from a fresh cache without asking a supplier.",
	        &m->cache_hits);
	counter(out, "dropstock_check_live_asks_total",
	        "Live asks made to suppliers (one per supplier asked).", &m->live_asks);
	counter(out, "dropstock_check_live_failures_total",
	        "Live asks that failed or timed out.", &m->live_failures);
	counter(out, "dropstock_check_stale_answers_total",
	        "Stock checks answered from a stale cache because a supplier could not be asked.",
	        &m->stale_answers);
	counter(out, "dropstock_check_refused_total",
	        "Stock checks refused (503) because a supplier could not be asked and its policy "
	        "is refuse.", &m->refused);
	counter(out, "dropstock_check_coalesced_waits_total",
	        "Stock checks that waited for a concurrent ask of the same SKU instead of asking.",
	        &m->coalesced_waits);
	counter(out, "dropstock_webhook_items_applied_total",
	        "Webhook items applied (changed or not).", &m->webhook_applied);
	counter(out, "dropstock_webhook_items_changed_total",
	        "Webhook items that changed a stock figure.", &m->webhook_changed);
	counter(out, "dropstock_webhook_items_rejected_total",
	        "Webhook items rejected as invalid.", &m->webhook_rejected);
	counter(out, "dropstock_webhook_duplicates_total",
	        "Webhook deliveries ignored as repeats of an event already received.",
	        &m->webhook_duplicates);
	counter(out, "dropstock_slow_clients_cut_total",
	        "Connections cut off for not sending their request within the connection timeout.",
	        &m->slow_clients_cut);

	header(out, "dropstock_start_time_seconds", "gauge", "When the service started (Unix time).");
	buf_printf(out, "dropstock_start_time_seconds %" PRId64 "\n", m->started_at / 1000);
	header(out, "dropstock_database_up", "gauge", "Whether the database answered SELECT 1.");
	buf_printf(out, "dropstock_database_up %d\n", up ? 1 : 0);

	if (up && report_suppliers(db, sup_row, &sr, &err) == 0) {
		header(out, "dropstock_supplier_last_sync_timestamp_seconds", "gauge",
		       "When the supplier's last sync of this kind ended (Unix time).");
		buf_puts(out, buf_str(&times));
		header(out, "dropstock_supplier_last_sync_success", "gauge",
		       "Whether the supplier's last sync of this kind succeeded (1) or not (0).");
		buf_puts(out, buf_str(&results));
	}
	buf_free(&times);
	buf_free(&results);
}
