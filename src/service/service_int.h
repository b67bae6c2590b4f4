/* service_int.h - what service.c and metrics.c share: the routes and the
 * counters behind GET /metrics.
 *
 * Counters are C11 atomics, so request threads bump them without a lock;
 * a scrape reads each one on its own (a scrape is not a snapshot across
 * counters, which Prometheus does not need).
 */
#ifndef DROPSTOCK_SERVICE_INT_H
#define DROPSTOCK_SERVICE_INT_H

#include <stdatomic.h>
#include <stdint.h>

#include "store/db.h"
#include "util/util.h"

enum svc_route {
	ROUTE_STOCK_CHECK = 0,    /* GET /v1/stock/SKU */
	ROUTE_STOCK_CHANGES,      /* GET /v1/stock */
	ROUTE_WEBHOOK,            /* POST /webhooks/SLUG/stock */
	ROUTE_HEALTHZ,            /* GET /healthz */
	ROUTE_METRICS,            /* GET /metrics */
	ROUTE_OTHER,              /* anything else (404) */
	ROUTE_N
};
/* "stock_check", "stock_changes", "webhook", "healthz", "metrics", "other" */
const char *metrics_route_name(enum svc_route r);

/* Upper bounds (seconds) of the check latency histogram, +Inf implied. */
#define METRICS_N_BUCKETS 10

#define METRICS_STATUS_MIN 100
#define METRICS_STATUS_MAX 599

struct metrics {
	/* requests answered, by route and HTTP status (100..599) */
	atomic_uint_fast64_t requests[ROUTE_N][METRICS_STATUS_MAX - METRICS_STATUS_MIN + 1];
	/* GET /v1/stock/SKU latency: cumulative buckets are computed at scrape
	 * time from these per-bucket counts; index METRICS_N_BUCKETS is +Inf */
	atomic_uint_fast64_t check_bucket[METRICS_N_BUCKETS + 1];
	atomic_uint_fast64_t check_count;
	atomic_uint_fast64_t check_sum_us;
	/* stock checks */
	atomic_uint_fast64_t cache_hits;        /* answered from a fresh cache */
	atomic_uint_fast64_t live_asks;         /* supplier asks made (one per supplier link asked) */
	atomic_uint_fast64_t live_failures;     /* asks that failed or timed out */
	atomic_uint_fast64_t stale_answers;     /* answered from a cache older than fresh */
	atomic_uint_fast64_t refused;           /* 503 because of check.on_failure = "refuse" */
	atomic_uint_fast64_t coalesced_waits;   /* requests that waited for another's ask */
	/* webhooks */
	atomic_uint_fast64_t webhook_applied;
	atomic_uint_fast64_t webhook_changed;
	atomic_uint_fast64_t webhook_rejected;
	atomic_uint_fast64_t webhook_duplicates;
	/* connections cut off for not sending their request within the timeout */
	atomic_uint_fast64_t slow_clients_cut;
	int64_t started_at;                     /* ms, set once by metrics_init */
};

void metrics_init(struct metrics *m);
/* Counts one answered request (statuses outside 100..599 are not counted). */
void metrics_request(struct metrics *m, enum svc_route r, unsigned status);
/* Records how long one stock check took to answer. */
void metrics_check_latency(struct metrics *m, int64_t us);
static inline void metrics_add(atomic_uint_fast64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* Appends the Prometheus text format (version 0.0.4) to out.  Per-supplier
 * last sync times and results are read from the suppliers table through db;
 * db may be NULL (or failing), then dropstock_database_up is 0 and the
 * supplier series are left out.  Never fails. */
void metrics_render(struct metrics *m, struct db *db, struct buf *out);

#endif
