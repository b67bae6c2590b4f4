/* webhook_preset.c - what each webhook signature scheme fixes and what it
 * defaults.  The loader fills a webhook group from here; the verifier
 * (engine/signature.c) reads the same table, so a webhook_conf built by
 * hand with only a scheme and secrets verifies the same way.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"

#define WHSEC_PREFIX "whsec_"

static const struct webhook_preset presets[] = {
	[WEBHOOK_CUSTOM] = {
		.header = NULL, .prefix = "",
	},
	[WEBHOOK_GITHUB] = {
		.header = "X-Hub-Signature-256", .prefix = "sha256=",
		.fixed_encoding = true, .encoding = SIG_HEX,
		.fixed_key = true, .key_base64 = false,
	},
	[WEBHOOK_STANDARD] = {
		.header = "webhook-signature", .prefix = "v1,",
		.timestamp_header = "webhook-timestamp", .id_header = "webhook-id",
		.fixed_encoding = true, .encoding = SIG_BASE64,
		.fixed_key = true, .key_base64 = true,
		.multi = true, .signed_id_ts = true,
	},
	[WEBHOOK_BASE64] = {
		.header = "sign", .prefix = "",
		.fixed_encoding = true, .encoding = SIG_BASE64,
	},
};

const struct webhook_preset *conf_webhook_preset(enum webhook_scheme scheme)
{
	if ((unsigned)scheme >= ARRAY_SIZE(presets))
		scheme = WEBHOOK_CUSTOM;
	return &presets[scheme];
}

void conf_webhook_apply_preset(struct webhook_conf *wh)
{
	const struct webhook_preset *p;

	if (!wh)
		return;
	p = conf_webhook_preset(wh->scheme);
	if (!wh->header && p->header)
		wh->header = xstrdup(p->header);
	if (!wh->prefix)
		wh->prefix = xstrdup(p->prefix);
	if (p->fixed_encoding)
		wh->encoding = p->encoding;
	if (p->fixed_key)
		wh->key_base64 = p->key_base64;
	if (!wh->timestamp_header && p->timestamp_header)
		wh->timestamp_header = xstrdup(p->timestamp_header);
	if (!wh->id_header && p->id_header)
		wh->id_header = xstrdup(p->id_header);
	if (wh->tolerance_ms <= 0)
		wh->tolerance_ms = CONF_WEBHOOK_TOLERANCE_MS;
}

/* Overwrites n bytes in a way the compiler does not drop. */
static void wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n > 0)
		v[--n] = 0;
}

unsigned char *conf_webhook_key(const char *value, bool key_base64, size_t *keylen)
{
	unsigned char *key;
	char *copy, *t;

	*keylen = 0;
	if (str_empty(value))
		return NULL;
	if (!key_base64) {
		*keylen = strlen(value);
		key = xmalloc(*keylen + 1);
		memcpy(key, value, *keylen + 1);
		return key;
	}
	copy = xstrdup(value);
	t = str_trim(copy);
	if (str_startswith(t, WHSEC_PREFIX))
		t += strlen(WHSEC_PREFIX);
	key = base64_decode(t, keylen);
	wipe(copy, strlen(copy));
	free(copy);
	if (key && *keylen == 0) {
		free(key);
		key = NULL;
	}
	return key;
}
