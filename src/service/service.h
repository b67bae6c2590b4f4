/* service.h - the HTTP service (libmicrohttpd): the store's stock checks,
 * the changed-stock feed, supplier webhooks, health and metrics.
 *
 *   GET  /v1/stock/SKU?qty=N                 add-to-cart check (Bearer API key)
 *   GET  /v1/stock?changed_since=T&limit=N&after=CURSOR   changed stock (Bearer API key)
 *   POST /webhooks/SLUG/stock                supplier push (signed)
 *   GET  /healthz                            database reachable, listening
 *   GET  /metrics                            Prometheus text format
 *
 * It is a thin front end: checks go through engine/check, pushes through
 * engine/webhook.  Every worker thread has its own database connection.
 * Request handling, the JSON answers and the hardening (timeouts, limits)
 * are described in dropstock(1), section HTTP SERVICE.
 *
 * The service prints nothing itself except, when service.access_log is on,
 * one access line per request on stderr, and warnings through log_warn()
 * (no api_keys configured, a supplier that could not be asked).
 */
#ifndef DROPSTOCK_SERVICE_H
#define DROPSTOCK_SERVICE_H

#include "conf/conf.h"
#include "util/util.h"

struct service;

/* Starts listening (listen overrides conf->service.listen when not NULL).
 * The configuration must outlive the service. */
struct service *service_start(const struct conf *c, const char *listen, struct error *err);
/* The port actually bound (useful with port 0). */
int service_port(const struct service *s);
/* The address actually bound, as "127.0.0.1:8787" or "[::1]:8787" (with the
 * real port); owned by the service. */
const char *service_address(const struct service *s);
/* Stops accepting, finishes in-flight requests, frees. */
void service_stop(struct service *s);

#endif
