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
 *
 * Details of the implementation (outbox.c):
 * - Each event is sent as its stored payload with its outbox id spliced in
 *   as the first member ({"id":12,"event":"out_of_stock",...}), so a
 *   receiver can drop a redelivered event by id.  webhook-id is
 *   "evt_FIRSTID_LASTID" of the batch; webhook-timestamp is Unix seconds.
 * - Several events of one product may travel in the same batch, in order.
 * - Both targets set: for each event the command runs first, then the
 *   events whose command succeeded are POSTed; an event is delivered when
 *   both succeeded.  When the POST fails, the command runs again at the
 *   next attempt (at least once, never "at most once").
 * - A failed POST ends the pass: the due events not tried yet are deferred
 *   to the failed batch's next attempt time (their attempts unchanged), so
 *   a store that is down is not hammered batch after batch.
 * - The command runs via /bin/sh -c with the event JSON on stdin and
 *   DROPSTOCK_EVENT_ID / DROPSTOCK_EVENT_KIND in its environment; it is
 *   killed (its whole process group) after events.timeout_ms.
 * - The secret: "whsec_BASE64" is a Standard Webhooks key (its decoded
 *   bytes); any other text is used as its own bytes, which a receiver's
 *   Standard Webhooks library takes as "whsec_" + base64(text).
 * - One delivery pass at a time per database: a pass finding another one
 *   running (another process) does nothing and sets busy.
 * - The backoff of attempt n (1-based) is first_backoff_ms * 2^(n-1), at
 *   most max_backoff_ms, +-20% jitter; a larger Retry-After wins.  An event
 *   that fails when give_up_ms or more have passed since it was created is
 *   parked as dead (so every event is tried at least once; give_up_ms 0
 *   parks it at its first failure).
 */
#ifndef DROPSTOCK_OUTBOX_H
#define DROPSTOCK_OUTBOX_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "conf/conf.h"
#include "store/db.h"

struct outbox_pass {
	int64_t delivered;
	int64_t failed;          /* attempts that failed this pass (rescheduled) */
	int64_t dead;            /* parked this pass */
	int64_t next_due_at;     /* earliest next_attempt_at still pending, 0 = none */
	/* additions */
	int64_t deferred;        /* due events put off untried after a failed POST */
	bool busy;               /* another process was delivering: nothing was done */
	bool no_target;          /* neither events.url nor events.command is set */
};

/* One delivery pass: delivers every due event (batched), returns 0 or -1 on a
 * database error.  Network failures are not errors here: they reschedule.
 * next_due_at is the earliest time an event becomes deliverable (the first
 * pending event of each product counts), 0 when nothing is pending or no
 * target is configured. */
int outbox_deliver(struct db *db, const struct conf *c, int64_t now, struct outbox_pass *p,
                   struct error *err);

/* (Addition.) outbox_deliver with a stop flag, as sync_opts.stop: polled
 * between events and during a POST or a command; once set, the pass ends
 * early, and what was cut short stays due with no attempt counted (a
 * command cut short is killed).  stop may be NULL. */
int outbox_deliver_stop(struct db *db, const struct conf *c, int64_t now,
                        volatile sig_atomic_t *stop, struct outbox_pass *p, struct error *err);

/* Makes dead events (one id, or all when id is 0) pending again now.
 * Returns how many, -1 on error. */
int outbox_retry(struct db *db, int64_t id, struct error *err);

/* ---- listing (addition, for `dropstock events`) ---- */

enum outbox_state {
	OUTBOX_ANY = 0,
	OUTBOX_PENDING,          /* not delivered, not dead */
	OUTBOX_DEAD,
	OUTBOX_DELIVERED,
};

/* One outbox row; the strings live until the callback returns. */
struct outbox_event {
	int64_t id;
	const char *kind;            /* back_in_stock, out_of_stock, stock_changed */
	int64_t product_id;
	const char *product_sku;     /* NULL when the product is gone */
	const char *payload;         /* JSON text as stored */
	int64_t created_at;
	int64_t attempts;
	int64_t next_attempt_at;
	int64_t delivered_at;        /* 0 = not delivered */
	const char *last_error;      /* NULL = none */
	bool dead;
};

struct outbox_query {
	enum outbox_state state;
	int64_t id;                  /* one event; 0 = any */
	int64_t since;               /* created at or after; 0 = any time */
	int64_t limit;               /* 0 = no limit */
};

/* Calls cb for each matching event, newest first; a non-zero return from cb
 * stops the listing and is returned.  Returns 0, or -1 on a database error. */
int outbox_list(struct db *db, const struct outbox_query *q,
                int (*cb)(void *ud, const struct outbox_event *e), void *ud, struct error *err);

/* The state of an event as a word: "pending", "dead" or "delivered". */
const char *outbox_state_name(const struct outbox_event *e);

#endif
