/* webhook.h - ingesting a signed stock push from a supplier.
 *
 * The caller (the HTTP service) hands over the raw body and a header
 * lookup; this module verifies the signature BEFORE parsing anything, parses
 * the items with the supplier's webhook mapping, rejects bad items one by
 * one, and applies the rest through engine_apply with source "webhook" in
 * ONE transaction that also records the event id in webhook_receipts, so a
 * repeated delivery changes nothing.  It returns only after that
 * transaction has committed.
 */
#ifndef DROPSTOCK_WEBHOOK_H
#define DROPSTOCK_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "engine/signature.h"
#include "store/db.h"

struct webhook_outcome {
	int http_status;        /* 200 applied or duplicate, 400 bad JSON, 401 bad signature,
	                         * 413 too large, 500 database error */
	char *response;         /* JSON body for the supplier, caller frees:
	                         * {"ok":true,"event_id":..,"duplicate":false,"applied":N,
	                         *  "changed":N,"stale":N,"unknown":N,
	                         *  "rejected":[{"position":3,"sku":"X","error":"..."}]}
	                         * or {"ok":false,"error":"..."} */
	int64_t applied, changed, stale, unknown, rejected;
	bool duplicate;
};

/* s->webhook.enabled must be true (the service answers 404 otherwise). */
int webhook_ingest(struct db *db, const struct conf *c, const struct supplier_conf *s,
                   sig_header_fn header, void *ud, const char *body, size_t len,
                   int64_t now_ms, struct webhook_outcome *out);

void webhook_outcome_clear(struct webhook_outcome *o);

#endif
