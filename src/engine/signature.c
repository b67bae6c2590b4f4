/* signature.c - verifying signed webhook deliveries (HMAC-SHA256).
 *
 * The received signature is decoded first (hex or base64), its length
 * checked (32 bytes), and only then compared with CRYPTO_memcmp against the
 * HMAC computed with each configured secret.  Messages name the header and
 * the reason, never a secret, the received value or the expected digest.
 */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "engine/signature.h"

#define SIG_DIGEST_LEN 32

/* The effective settings of one webhook: the config's values with the
 * scheme's fixed parts and preset defaults (conf_webhook_preset) filled
 * in, so that verify and sign behave the same whether or not
 * conf_webhook_apply_preset ran. */
struct sig_params {
	const char *header;
	const char *prefix;
	enum sig_encoding encoding;
	bool key_base64;
	const char *timestamp_header;   /* NULL: no timestamp */
	const char *id_header;          /* NULL: not part of the signed text */
	bool multi;                     /* several space-separated entries */
	bool signed_id_ts;              /* signed text is ID.TIMESTAMP.BODY */
	int64_t tolerance_ms;
};

static const char *sig_nonempty(const char *s)
{
	return str_empty(s) ? NULL : s;
}

static void sig_params_get(const struct webhook_conf *wh, struct sig_params *p)
{
	const struct webhook_preset *ps = conf_webhook_preset(wh->scheme);

	memset(p, 0, sizeof(*p));
	p->header = sig_nonempty(wh->header);
	if (!p->header)
		p->header = ps->header;
	p->prefix = wh->prefix ? wh->prefix : ps->prefix;
	p->encoding = ps->fixed_encoding ? ps->encoding : wh->encoding;
	p->key_base64 = ps->fixed_key ? ps->key_base64 : wh->key_base64;
	p->timestamp_header = sig_nonempty(wh->timestamp_header);
	if (!p->timestamp_header)
		p->timestamp_header = ps->timestamp_header;
	p->multi = ps->multi;
	p->signed_id_ts = ps->signed_id_ts;
	if (p->signed_id_ts) {
		p->id_header = sig_nonempty(wh->id_header);
		if (!p->id_header)
			p->id_header = ps->id_header;
	}
	p->tolerance_ms = wh->tolerance_ms > 0 ? wh->tolerance_ms : CONF_WEBHOOK_TOLERANCE_MS;
}

void signature_apply_preset(struct webhook_conf *wh)
{
	conf_webhook_apply_preset(wh);
}

/* ---- hex ---- */

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (unsigned char)tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decodes exactly 2 * outlen hex digits (any case) from text[0..n). */
static bool hex_decode(const char *text, size_t n, unsigned char *out, size_t outlen)
{
	size_t i;

	if (n != 2 * outlen)
		return false;
	for (i = 0; i < outlen; i++) {
		int hi = hex_value((unsigned char)text[2 * i]);
		int lo = hex_value((unsigned char)text[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return true;
}

static char *hex_encode(const unsigned char *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char *out = xmalloc(2 * len + 1);
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[data[i] >> 4];
		out[2 * i + 1] = digits[data[i] & 15];
	}
	out[2 * len] = '\0';
	return out;
}

/* ---- keys and digests ---- */

/* The HMAC key bytes of one secret.  Returns NULL when the secret is empty
 * or (key_base64) not valid base64.  Free with sig_key_free(). */
static unsigned char *sig_key(const struct secret *s, bool key_base64, size_t *keylen)
{
	return conf_webhook_key(s ? s->value : NULL, key_base64, keylen);
}

static void sig_key_free(unsigned char *key, size_t keylen)
{
	if (!key)
		return;
	OPENSSL_cleanse(key, keylen);
	free(key);
}

static bool sig_hmac(const unsigned char *key, size_t keylen, const char *data, size_t len,
                     unsigned char out[SIG_DIGEST_LEN])
{
	static const unsigned char empty[1];
	unsigned int outlen = 0;

	if (keylen > INT_MAX)
		return false;
	if (!HMAC(EVP_sha256(), key, (int)keylen,
	          data ? (const unsigned char *)data : empty, len, out, &outlen))
		return false;
	return outlen == SIG_DIGEST_LEN;
}

/* The signed text: the body, or ID.TIMESTAMP.BODY.  *owned is set when a
 * buffer was built and must be freed. */
static const char *sig_content(const struct sig_params *p, const char *id, const char *ts,
                               const char *body, size_t len, size_t *outlen, char **owned)
{
	struct buf b = BUF_INIT;

	*owned = NULL;
	if (!p->signed_id_ts) {
		*outlen = len;
		return body;
	}
	buf_puts(&b, id ? id : "");
	buf_putc(&b, '.');
	buf_puts(&b, ts ? ts : "");
	buf_putc(&b, '.');
	if (len)
		buf_append(&b, body, len);
	*outlen = b.len;
	*owned = buf_steal(&b);
	return *owned;
}

/* ---- verification ---- */

/* Decodes one received signature (without its prefix) into 32 bytes. */
static bool sig_decode(const struct sig_params *p, const char *s, size_t n,
                       unsigned char out[SIG_DIGEST_LEN])
{
	unsigned char *raw;
	size_t rawlen = 0;
	char *tmp;
	bool ok;

	if (p->encoding == SIG_HEX)
		return hex_decode(s, n, out, SIG_DIGEST_LEN);
	/* base64 of 32 bytes is 43 characters, 44 with padding */
	if (n < 43 || n > 44)
		return false;
	tmp = xstrndup(s, n);
	raw = base64_decode(tmp, &rawlen);
	free(tmp);
	ok = raw && rawlen == SIG_DIGEST_LEN;
	if (ok)
		memcpy(out, raw, SIG_DIGEST_LEN);
	free(raw);
	return ok;
}

static bool sig_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Splits the header value into candidate digests.  Returns how many were
 * decoded (at most max); *seen counts the entries that carried the prefix. */
static int sig_candidates(const struct sig_params *p, const char *value,
                          unsigned char (*cand)[SIG_DIGEST_LEN], int max, int *seen)
{
	const char *s = value, *e;
	size_t plen = strlen(p->prefix);
	int n = 0;

	*seen = 0;
	while (*s) {
		while (sig_blank(*s))
			s++;
		if (!*s)
			break;
		if (p->multi) {
			for (e = s; *e && !sig_blank(*e); e++)
				;
		} else {
			/* one value: the rest of the header, trailing blanks cut */
			e = s + strlen(s);
			while (e > s && sig_blank(e[-1]))
				e--;
		}
		if ((size_t)(e - s) >= plen && memcmp(s, p->prefix, plen) == 0) {
			(*seen)++;
			if (n < max && sig_decode(p, s + plen, (size_t)(e - s) - plen, cand[n]))
				n++;
		}
		s = e;
	}
	return n;
}

#define SIG_MAX_CANDIDATES 16

enum sig_result signature_verify(const struct webhook_conf *wh, sig_header_fn header, void *ud,
                                 const char *body, size_t len, int64_t now_ms,
                                 struct error *err)
{
	unsigned char cand[SIG_MAX_CANDIDATES][SIG_DIGEST_LEN];
	unsigned char digest[SIG_DIGEST_LEN];
	struct sig_params p;
	const char *value, *id = NULL, *ts = NULL, *content;
	char *owned = NULL;
	size_t clen = 0;
	int64_t ts_s = 0;
	int ncand, seen, i, j, usable = 0;
	enum sig_result rc = SIG_MISMATCH;
	bool matched = false;

	if (!wh || !header) {
		err_set(err, ERRK_INTERNAL, _("webhook signature: no configuration to verify against"));
		return SIG_MISMATCH;
	}
	sig_params_get(wh, &p);
	if (!p.header) {
		err_set(err, ERRK_CONFIG, _("webhook signature: no signature header is configured"));
		return SIG_MISSING;
	}

	value = header(ud, p.header);
	if (!value) {
		err_set(err, ERRK_PERMANENT, _("signature header %s is missing"), p.header);
		return SIG_MISSING;
	}
	if (p.id_header && p.signed_id_ts) {
		id = header(ud, p.id_header);
		if (!id) {
			err_set(err, ERRK_PERMANENT, _("id header %s is missing"), p.id_header);
			return SIG_MISSING;
		}
	}
	if (p.timestamp_header) {
		ts = header(ud, p.timestamp_header);
		if (!ts) {
			err_set(err, ERRK_PERMANENT, _("timestamp header %s is missing"),
			        p.timestamp_header);
			return SIG_MISSING;
		}
		if (!str_to_i64(ts, &ts_s)) {
			err_set(err, ERRK_PERMANENT,
			        _("timestamp header %s is not a Unix time in seconds"),
			        p.timestamp_header);
			return SIG_MALFORMED;
		}
	}

	ncand = sig_candidates(&p, value, cand, SIG_MAX_CANDIDATES, &seen);
	if (ncand == 0) {
		if (seen == 0 && p.prefix[0])
			err_set(err, ERRK_PERMANENT,
			        _("signature header %s holds no signature starting with \"%s\""),
			        p.header, p.prefix);
		else if (seen == 0)
			err_set(err, ERRK_PERMANENT, _("signature header %s is empty"), p.header);
		else
			err_set(err, ERRK_PERMANENT,
			        _("signature header %s is not a valid %s-encoded SHA-256 digest"),
			        p.header, p.encoding == SIG_HEX ? "hex" : "base64");
		return SIG_MALFORMED;
	}

	content = sig_content(&p, id, ts, body, len, &clen, &owned);
	for (i = 0; i < wh->n_secrets && !matched; i++) {
		size_t keylen = 0;
		unsigned char *key = sig_key(&wh->secrets[i], p.key_base64, &keylen);

		if (!key)
			continue;
		if (sig_hmac(key, keylen, content, clen, digest)) {
			usable++;
			/* compare against every candidate, no early exit per entry */
			for (j = 0; j < ncand; j++)
				if (CRYPTO_memcmp(digest, cand[j], SIG_DIGEST_LEN) == 0)
					matched = true;
		}
		sig_key_free(key, keylen);
	}
	OPENSSL_cleanse(digest, sizeof(digest));

	if (!matched) {
		if (usable == 0 && p.key_base64)
			err_set(err, ERRK_CONFIG,
			        _("signature header %s cannot be checked: no configured secret "
			          "is valid base64"), p.header);
		else if (usable == 0)
			err_set(err, ERRK_CONFIG,
			        _("signature header %s cannot be checked: no secret is configured"),
			        p.header);
		else
			err_set(err, ERRK_PERMANENT, _("signature header %s does not match the body"),
			        p.header);
		rc = SIG_MISMATCH;
		goto out;
	}

	if (p.timestamp_header) {
		/* Timestamps outside [0, INT64_MAX / 2000] s are out of any
		 * tolerance; inside, the millisecond arithmetic cannot overflow. */
		int64_t tol_s = p.tolerance_ms / 1000;
		int64_t diff = 0;
		bool bad = ts_s < 0 || ts_s > INT64_MAX / 2000 || now_ms < 0 ||
		           now_ms > INT64_MAX / 2;

		if (!bad) {
			diff = ts_s * 1000 - now_ms;
			bad = diff > p.tolerance_ms || diff < -p.tolerance_ms;
		}
		if (bad) {
			if (ts_s < 0 || (diff < 0 && ts_s <= INT64_MAX / 2000))
				err_set(err, ERRK_PERMANENT,
				        _("timestamp header %s is more than %" PRId64
				          " s in the past"), p.timestamp_header, tol_s);
			else
				err_set(err, ERRK_PERMANENT,
				        _("timestamp header %s is more than %" PRId64
				          " s in the future"), p.timestamp_header, tol_s);
			rc = SIG_EXPIRED;
			goto out;
		}
	}
	rc = SIG_OK;
out:
	free(owned);
	return rc;
}

/* ---- configuration check ---- */

int signature_check_conf(const struct webhook_conf *wh, struct error *err)
{
	struct sig_params p;
	int i;

	if (!wh)
		return err_set(err, ERRK_INTERNAL, _("webhook: no configuration"));
	sig_params_get(wh, &p);
	if (!p.header)
		return err_set(err, ERRK_CONFIG,
		               _("webhook: scheme custom needs a signature header (header = \"...\")"));
	if (wh->tolerance_ms < 0)
		return err_set(err, ERRK_CONFIG, _("webhook: tolerance must not be negative"));
	if (wh->n_secrets < 1)
		return err_set(err, ERRK_CONFIG,
		               _("webhook: no secret given (secret, secret_env, secret_cmd or secrets)"));
	for (i = 0; i < wh->n_secrets; i++) {
		size_t keylen = 0;
		unsigned char *key;

		if (str_empty(wh->secrets[i].value))
			return err_set(err, ERRK_CONFIG, _("webhook: secret %d of %d is empty"),
			               i + 1, wh->n_secrets);
		key = sig_key(&wh->secrets[i], p.key_base64, &keylen);
		if (!key)
			return err_set(err, ERRK_CONFIG,
			               _("webhook: secret %d of %d is not valid base64 "
			                 "(after an optional \"whsec_\" prefix)"),
			               i + 1, wh->n_secrets);
		sig_key_free(key, keylen);
	}
	return 0;
}

/* ---- signing ---- */

char *signature_sign(const struct webhook_conf *wh, const char *id, int64_t timestamp_s,
                     const char *body, size_t len)
{
	unsigned char digest[SIG_DIGEST_LEN];
	struct sig_params p;
	unsigned char *key = NULL;
	size_t keylen = 0, clen = 0;
	char *owned = NULL, *enc = NULL, *ret = NULL, *ts;
	const char *content;

	if (!wh || wh->n_secrets < 1)
		return NULL;
	sig_params_get(wh, &p);
	key = sig_key(&wh->secrets[0], p.key_base64, &keylen);
	if (!key)
		return NULL;
	ts = xasprintf("%" PRId64, timestamp_s);
	content = sig_content(&p, id, ts, body, len, &clen, &owned);
	if (!sig_hmac(key, keylen, content, clen, digest))
		goto out;
	enc = p.encoding == SIG_HEX ? hex_encode(digest, sizeof(digest))
	                            : base64_encode(digest, sizeof(digest));
	ret = xasprintf("%s%s", p.prefix, enc);
out:
	OPENSSL_cleanse(digest, sizeof(digest));
	sig_key_free(key, keylen);
	free(owned);
	free(enc);
	free(ts);
	return ret;
}
