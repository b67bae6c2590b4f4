/* fuzz_webhook_body.c - a webhook delivery's body, from the raw bytes to the
 * committed transaction, against an in-memory database.
 *
 * Input: one line of '|'-separated webhook mapping fields, then the body:
 *   items|sku|stock|updated_at|available|id_field\nBODY
 * (an empty field is unset; without a newline the whole input is the body
 * and the mapping is items|sku|qty|updated_at).  The body is signed
 * correctly (GitHub scheme) so that it gets past the signature check; the
 * event id comes from the id field or the X-Delivery header.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#ifndef FUZZ_NAME
#define FUZZ_NAME fuzz_webhook_body
#endif
#include "fuzz.h"
#include "engine/signature.h"
#include "engine/webhook.h"
#include "store/db.h"
#include "store/store.h"

#define WH_FIELDS 6

static struct db *wh_db;
static struct conf wh_conf;

static void wh_close(void)
{
	db_close(wh_db);
	wh_db = NULL;
}

struct wh_headers {
	const char *sig, *id;
};

static const char *wh_lookup(void *ud, const char *name)
{
	struct wh_headers *h = ud;

	if (str_caseeq(name, "X-Hub-Signature-256"))
		return h->sig;
	if (str_caseeq(name, "X-Delivery"))
		return h->id;
	return NULL;
}

static int wh_open(void)
{
	static struct supplier_conf s0;
	static const char *const links[][2] = { { "P1", "A1" }, { "P2", "A2" }, { "P3", "1" } };
	struct error err;
	size_t i;

	wh_conf.aggregate = AGG_SUM;
	s0.slug = s0.name = (char *)"acme";
	s0.active = true;
	s0.priority = 100;
	s0.rules.cap = -1;
	s0.rules.multiplier = 1.0;
	s0.rules.pack_size = 1;
	s0.source.map.sku = (char *)"id";
	s0.source.map.stock = (char *)"qty";
	wh_db = db_open(":memory:", &err);
	if (!wh_db || suppliers_upsert(wh_db, &s0, NULL, &err) < 0)
		return -1;
	for (i = 0; i < ARRAY_SIZE(links); i++)
		if (links_add(wh_db, links[i][0], NULL, "acme", links[i][1], &err) < 0)
			return -1;
	atexit(wh_close);
	return 0;
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
	static struct secret sec = { SECRET_INLINE, (char *)"It's a Secret", (char *)"It's a Secret" };
	static struct text_value tv = { (char *)"in stock", 5 };
	static unsigned long serial;
	struct supplier_conf s;
	struct webhook_outcome out;
	struct wh_headers h;
	char *field[WH_FIELDS] = { NULL }, *head = NULL, *p, *id;
	const char *body = (const char *)data;
	const uint8_t *nl = memchr(data, '\n', size);
	size_t len = size;
	int i;

	if (!wh_db && wh_open() < 0)
		abort();
	memset(&s, 0, sizeof(s));
	s.slug = s.name = (char *)"acme";
	s.active = true;
	s.priority = 100;
	s.rules.cap = -1;
	s.rules.multiplier = 1.0;
	s.rules.pack_size = 1;
	s.webhook.enabled = true;
	s.webhook.scheme = WEBHOOK_GITHUB;
	s.webhook.header = (char *)"X-Hub-Signature-256";
	s.webhook.prefix = (char *)"sha256=";
	s.webhook.secrets = &sec;
	s.webhook.n_secrets = 1;
	s.webhook.tolerance_ms = CONF_WEBHOOK_TOLERANCE_MS;
	s.webhook.max_body = 1 << 20;
	s.webhook.id_header = (char *)"X-Delivery";
	s.webhook.map.text_values = &tv;
	s.webhook.map.n_text_values = 1;
	if (nl && nl - data < 4096) {
		head = xstrndup((const char *)data, (size_t)(nl - data));
		p = head;
		for (i = 0; i < WH_FIELDS && p; i++) {
			char *bar = strchr(p, '|');

			if (bar)
				*bar = '\0';
			field[i] = *p ? p : NULL;
			p = bar ? bar + 1 : NULL;
		}
		body = (const char *)nl + 1;
		len = size - (size_t)(nl - data) - 1;
		s.webhook.map.items = field[0];
		s.webhook.map.sku = field[1];
		s.webhook.map.stock = field[2];
		s.webhook.map.updated_at = field[3];
		s.webhook.map.available = field[4];
		s.webhook.id_field = field[5];
	} else {
		s.webhook.map.items = (char *)"items";
		s.webhook.map.sku = (char *)"sku";
		s.webhook.map.stock = (char *)"qty";
		s.webhook.map.updated_at = (char *)"updated_at";
	}
	s.source.map.sku = (char *)"id";
	s.source.map.stock = (char *)"qty";

	/* a fresh event id most of the time, a repeated one now and then */
	id = xasprintf("ev-%lu", (serial++ % 64) == 0 ? 0UL : serial);
	h.id = id;
	h.sig = NULL;
	{
		char *sig = signature_sign(&s.webhook, id, 0, body, len);

		h.sig = sig;
		memset(&out, 0, sizeof(out));
		webhook_ingest(wh_db, &wh_conf, &s, wh_lookup, &h, body, len,
		               1767225600000LL, &out);
		if (out.http_status == 401 || (out.http_status == 200 && !out.response))
			abort();
		webhook_outcome_clear(&out);
		free(sig);
	}
	free(id);
	free(head);
	return 0;
}
