/* fuzz_signature.c - webhook signature headers and their verification,
 * across the four schemes.
 *
 * Input: one flags byte, then four lines and the body:
 *   FLAGS SIGNATURE\nID\nTIMESTAMP\nSECRET\nBODY
 * FLAGS: bits 0-1 scheme, bit 2 base64 encoding (custom), bit 3 key in
 * base64 (custom, base64), bit 4 a timestamp header (custom), bit 5 the
 * "sha256=" prefix (custom), bit 6 a second, empty secret first (rotation).
 * A missing line is an absent header.  Besides verifying the given
 * header, the target signs the body itself and checks that this signature
 * verifies (an authentic delivery must always pass).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef FUZZ_NAME
#define FUZZ_NAME fuzz_signature
#endif
#include "fuzz.h"
#include "engine/signature.h"

struct sig_headers {
	const struct webhook_conf *wh;
	const char *sig, *id, *ts;
};

static const char *sig_lookup(void *ud, const char *name)
{
	struct sig_headers *h = ud;

	if (!name)
		return NULL;
	if (h->wh->header && str_caseeq(name, h->wh->header))
		return h->sig;
	if (h->wh->id_header && str_caseeq(name, h->wh->id_header))
		return h->id;
	if (h->wh->timestamp_header && str_caseeq(name, h->wh->timestamp_header))
		return h->ts;
	return NULL;
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
	const struct webhook_preset *pre;
	struct webhook_conf wh;
	struct secret sec[2];
	struct sig_headers h;
	struct error err;
	char *text, *line[4] = { NULL }, *s, *signed_hdr = NULL;
	const char *body = "";
	size_t body_len = 0;
	unsigned flags;
	int64_t ts = 0, now;
	int i;

	if (size < 1)
		return 0;
	flags = data[0];
	text = xmalloc(size);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	s = text;
	for (i = 0; i < 4 && s; i++) {
		char *nl = memchr(s, '\n', (size_t)(text + size - 1 - s));

		line[i] = s;
		if (nl) {
			*nl = '\0';
			s = nl + 1;
		} else {
			s = NULL;
		}
	}
	if (s) {
		body = s;
		body_len = (size_t)(text + size - 1 - s);
	}

	memset(&wh, 0, sizeof(wh));
	memset(sec, 0, sizeof(sec));
	wh.enabled = true;
	wh.scheme = (enum webhook_scheme)(flags & 3);
	pre = conf_webhook_preset(wh.scheme);
	wh.header = (char *)(pre->header ? pre->header : "X-Signature");
	wh.prefix = (char *)((wh.scheme == WEBHOOK_CUSTOM && (flags & 32)) ? "sha256=" : pre->prefix);
	wh.timestamp_header = (char *)pre->timestamp_header;
	wh.id_header = (char *)pre->id_header;
	wh.encoding = pre->fixed_encoding ? pre->encoding : ((flags & 4) ? SIG_BASE64 : SIG_HEX);
	wh.key_base64 = pre->fixed_key ? pre->key_base64 : (flags & 8) != 0;
	if (wh.scheme == WEBHOOK_CUSTOM && (flags & 16))
		wh.timestamp_header = (char *)"X-Timestamp";
	wh.tolerance_ms = CONF_WEBHOOK_TOLERANCE_MS;
	wh.max_body = 1 << 20;
	sec[0].origin = sec[1].origin = SECRET_INLINE;
	sec[0].value = sec[0].spec = (char *)"";
	sec[1].value = sec[1].spec = line[3] ? line[3] : (char *)"";
	wh.secrets = (flags & 64) ? sec : sec + 1;
	wh.n_secrets = (flags & 64) ? 2 : 1;
	if (line[2])
		ts = strtoll(line[2], NULL, 10);
	/* the clock: the delivery's own time when it is a plausible one */
	now = ts > 0 && ts < 4000000000LL ? ts * 1000 : 1767225600000LL;

	h.wh = &wh;
	h.sig = line[0];
	h.id = line[1];
	h.ts = line[2];
	(void)signature_verify(&wh, sig_lookup, &h, body, body_len, now, &err);
	(void)signature_check_conf(&wh, &err);

	/* what the supplier would send must verify, whatever the secret */
	if (!(flags & 64) && signature_check_conf(&wh, &err) == 0 && line[1] && line[2] &&
	    ts > 0 && ts < 4000000000LL && strchr(line[1], '\r') == NULL) {
		char tsbuf[32];

		signed_hdr = signature_sign(&wh, line[1], ts, body, body_len);
		if (signed_hdr) {
			snprintf(tsbuf, sizeof(tsbuf), "%lld", (long long)ts);
			h.sig = signed_hdr;
			h.ts = tsbuf;
			if (signature_verify(&wh, sig_lookup, &h, body, body_len, now, &err) != SIG_OK)
				abort();
		}
	}
	free(signed_hdr);
	free(text);
	return 0;
}
