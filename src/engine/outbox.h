/* outbox.h - delivering store events at least once, in order per product.
 *
 * Targets (events = { ... } in dropstock.conf): an HTTP endpoint, POSTed
 * {"events":[PAYLOAD, ...]} batches signed with Standard Webhooks
 * (webhook-id, webhook-timestamp, webhook-signature "v1,BASE64" over
 * "ID.TIMESTAMP.BODY" with the store secret), and/or a command run with one
 * event's JSON on stdin (exit 0 = delivered).  A failed delivery is retried
 * with exponential backoff and jitter (honouring Retry-After) until
 * give_up_ms after the event was created; then it is parked as dead, shown
 * by `dropstock events --dead`, and can be retried by hand.  An event waits
 * while an earlier undelivered, not dead event of the same product exists.
 */
#ifndef DROPSTOCK_OUTBOX_H
#define DROPSTOCK_OUTBOX_H

#include <stdint.h>

#include "conf/conf.h"
#include "store/db.h"

struct outbox_pass {
	int64_t delivered;
	int64_t failed;          /* attempts that failed this pass (rescheduled) */
	int64_t dead;            /* parked this pass */
	int64_t next_due_at;     /* earliest next_attempt_at still pending, 0 = none */
};

/* One delivery pass: delivers every due event (batched), returns 0 or -1 on a
 * database error.  Network failures are not errors here: they reschedule. */
int outbox_deliver(struct db *db, const struct conf *c, int64_t now, struct outbox_pass *p,
                   struct error *err);

/* Makes dead events (one id, or all when id is 0) pending again now.
 * Returns how many, -1 on error. */
int outbox_retry(struct db *db, int64_t id, struct error *err);

#endif
