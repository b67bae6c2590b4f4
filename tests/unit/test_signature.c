/* test_signature.c - webhook signatures: published test vectors, every
 * scheme, rotation, timestamps, malformed headers, base64 edge cases (now
 * in util/base64.c), and the scheme presets and keys (conf/webhook_preset.c). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "engine/signature.h"
#include "util/util.h"
#include "tap.h"

/* ---- a tiny header table for the lookup callback ---- */

struct hdrs {
	const char *name[8];
	const char *value[8];
	int n;
};

static const char *hdrs_get(void *ud, const char *name)
{
	struct hdrs *h = ud;
	int i;

	for (i = 0; i < h->n; i++)
		if (str_caseeq(h->name[i], name))
			return h->value[i];
	return NULL;
}

static void hdrs_set(struct hdrs *h, const char *name, const char *value)
{
	h->name[h->n] = name;
	h->value[h->n] = value;
	h->n++;
}

/* A webhook group as the config loader would leave it before presets:
 * only scheme and secrets set. */
static struct webhook_conf wh_make(enum webhook_scheme scheme, struct secret *secrets, int n)
{
	struct webhook_conf wh;

	memset(&wh, 0, sizeof(wh));
	wh.enabled = true;
	wh.scheme = scheme;
	wh.secrets = secrets;
	wh.n_secrets = n;
	wh.tolerance_ms = 300 * 1000;
	return wh;
}

static struct secret secret_inline(const char *v)
{
	struct secret s;

	s.origin = SECRET_INLINE;
	s.spec = (char *)v;
	s.value = (char *)v;
	return s;
}

static enum sig_result verify1(const struct webhook_conf *wh, const char *hname, const char *hvalue,
                               const char *body, struct error *err)
{
	struct hdrs h = { { 0 }, { 0 }, 0 };

	if (hname)
		hdrs_set(&h, hname, hvalue);
	return signature_verify(wh, hdrs_get, &h, body, strlen(body), time_now_ms(), err);
}

/* ---- base64 ---- */

static void test_base64(void)
{
	static const struct { const char *plain, *enc; } v[] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	static const char *bad[] = {
		"Z", "Zm9vY", "Zg=", "Zg===", "Zm9v=", "Zm9v==", "=", "==", "Zg==Zg==",
		"Zm 9v", " Zm9v", "Zm9v!", "Zm-_", "Zh==", "Zm9=", "Zh", "Zm9",
		"Zg=a",
	};
	unsigned char all[256], *d;
	size_t i, n, len;
	char *e;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		e = base64_encode((const unsigned char *)v[i].plain, strlen(v[i].plain));
		is_str(e, v[i].enc, "base64_encode(\"%s\")", v[i].plain);
		free(e);
		len = 99;
		d = base64_decode(v[i].enc, &len);
		ok(d != NULL, "base64_decode(\"%s\") succeeds", v[i].enc);
		is_int(len, strlen(v[i].plain), "base64_decode(\"%s\") length", v[i].enc);
		ok(d && memcmp(d, v[i].plain, len) == 0, "base64_decode(\"%s\") bytes", v[i].enc);
		free(d);
	}
	/* padding is optional */
	d = base64_decode("Zg", &len);
	ok(d && len == 1 && d[0] == 'f', "\"Zg\" without padding decodes to \"f\"");
	free(d);
	d = base64_decode("Zm8", &len);
	ok(d && len == 2 && memcmp(d, "fo", 2) == 0, "\"Zm8\" without padding decodes to \"fo\"");
	free(d);
	d = base64_decode("Zm9vYmE", &len);
	ok(d && len == 5 && memcmp(d, "fooba", 5) == 0, "\"Zm9vYmE\" decodes to \"fooba\"");
	free(d);
	/* garbage is refused */
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		len = 99;
		d = base64_decode(bad[i], &len);
		ok(d == NULL, "base64_decode refuses \"%s\"", bad[i]);
		is_int(len, 0, "refused \"%s\" leaves length 0", bad[i]);
		free(d);
	}
	ok(base64_decode("Zm9v\n", &len) == NULL, "base64_decode refuses a trailing newline");
	ok(base64_decode(NULL, &len) == NULL, "base64_decode(NULL) is NULL");
	/* every byte value, every length 0..40, round trips */
	for (i = 0; i < sizeof(all); i++)
		all[i] = (unsigned char)(255 - i);
	for (n = 0; n <= 40; n++) {
		size_t off = n * 5 % 200;
		int good;

		e = base64_encode(all + off, n);
		d = base64_decode(e, &len);
		good = d && len == n && memcmp(d, all + off, n) == 0 && strlen(e) == (n + 2) / 3 * 4;
		ok(good, "round trip of %zu bytes", n);
		free(d);
		free(e);
	}
	e = base64_encode(all, sizeof(all));
	d = base64_decode(e, &len);
	ok(d && len == sizeof(all) && memcmp(d, all, sizeof(all)) == 0, "round trip of all 256 byte values");
	free(d);
	free(e);
}

/* ---- GitHub ---- */

#define GH_SECRET "It's a Secret to Everybody"
#define GH_BODY "Hello, World!"
#define GH_SIG "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"

static void test_github(void)
{
	struct secret s[1] = { secret_inline(GH_SECRET) };
	struct secret wrong[1] = { secret_inline("It's a Secret to Nobody") };
	struct webhook_conf wh = wh_make(WEBHOOK_GITHUB, s, 1);
	struct webhook_conf whw = wh_make(WEBHOOK_GITHUB, wrong, 1);
	struct error err;
	char *sig, *upper;
	size_t i;

	sig = signature_sign(&wh, NULL, 0, GH_BODY, strlen(GH_BODY));
	is_str(sig, GH_SIG, "github: documented test vector");
	free(sig);

	err_clear(&err);
	is_int(verify1(&wh, "X-Hub-Signature-256", GH_SIG, GH_BODY, &err), SIG_OK,
	       "github: documented vector verifies");
	is_int(verify1(&wh, "x-hub-signature-256", GH_SIG, GH_BODY, &err), SIG_OK,
	       "github: header name looked up case-insensitively");
	upper = xstrdup(GH_SIG);
	for (i = strlen("sha256="); upper[i]; i++)
		if (upper[i] >= 'a' && upper[i] <= 'f')
			upper[i] = (char)(upper[i] - 'a' + 'A');
	is_int(verify1(&wh, "X-Hub-Signature-256", upper, GH_BODY, &err), SIG_OK,
	       "github: upper-case hex verifies");
	free(upper);
	is_int(verify1(&wh, "X-Hub-Signature-256", GH_SIG "  ", GH_BODY, &err), SIG_OK,
	       "github: trailing blanks ignored");

	err_clear(&err);
	is_int(verify1(&wh, "X-Hub-Signature-256", GH_SIG, "Hello, World?", &err), SIG_MISMATCH,
	       "github: tampered body does not match");
	like(err.msg, "X-Hub-Signature-256", "mismatch message names the header");
	like(err.msg, "does not match", "mismatch message says why");
	ok(strstr(err.msg, "757107") == NULL && strstr(err.msg, "Secret") == NULL,
	   "mismatch message holds neither digest nor secret");

	is_int(verify1(&whw, "X-Hub-Signature-256", GH_SIG, GH_BODY, &err), SIG_MISMATCH,
	       "github: wrong secret does not match");

	err_clear(&err);
	is_int(verify1(&wh, NULL, NULL, GH_BODY, &err), SIG_MISSING, "github: missing header");
	like(err.msg, "X-Hub-Signature-256", "missing message names the header");
	like(err.msg, "missing", "missing message says why");

	err_clear(&err);
	is_int(verify1(&wh, "X-Hub-Signature-256",
	               "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
	               GH_BODY, &err), SIG_MALFORMED, "github: no sha256= prefix is malformed");
	like(err.msg, "X-Hub-Signature-256", "malformed message names the header");
	is_int(verify1(&wh, "X-Hub-Signature-256",
	               "SHA256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
	               GH_BODY, &err), SIG_MALFORMED, "github: prefix compared exactly");
	is_int(verify1(&wh, "X-Hub-Signature-256",
	               "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1g",
	               GH_BODY, &err), SIG_MALFORMED, "github: non-hex digit is malformed");
	is_int(verify1(&wh, "X-Hub-Signature-256",
	               "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e",
	               GH_BODY, &err), SIG_MALFORMED, "github: short digest is malformed");
	is_int(verify1(&wh, "X-Hub-Signature-256", GH_SIG "17", GH_BODY, &err), SIG_MALFORMED,
	       "github: long digest is malformed");
	is_int(verify1(&wh, "X-Hub-Signature-256", "sha256=", GH_BODY, &err), SIG_MALFORMED,
	       "github: empty digest is malformed");
	is_int(verify1(&wh, "X-Hub-Signature-256", "", GH_BODY, &err), SIG_MALFORMED,
	       "github: empty header is malformed");
	/* sha1 header style (X-Hub-Signature: sha1=...) is not accepted */
	is_int(verify1(&wh, "X-Hub-Signature-256",
	               "sha1=0123456789abcdef0123456789abcdef01234567", GH_BODY, &err), SIG_MALFORMED,
	       "github: sha1= value is malformed");
}

/* ---- Standard Webhooks ---- */

#define SW_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SW_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define SW_TS 1614265330
#define SW_TS_TEXT "1614265330"
#define SW_BODY "{\"test\": 2432232314}"
#define SW_SIG "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

static enum sig_result sw_verify(const struct webhook_conf *wh, const char *id, const char *ts,
                                 const char *sig, const char *body, int64_t now_ms,
                                 struct error *err)
{
	struct hdrs h = { { 0 }, { 0 }, 0 };

	if (id)
		hdrs_set(&h, "webhook-id", id);
	if (ts)
		hdrs_set(&h, "webhook-timestamp", ts);
	if (sig)
		hdrs_set(&h, "webhook-signature", sig);
	return signature_verify(wh, hdrs_get, &h, body, strlen(body), now_ms, err);
}

static void test_standard(void)
{
	struct secret s[1] = { secret_inline(SW_SECRET) };
	struct secret bare[1] = { secret_inline("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") };
	struct webhook_conf wh = wh_make(WEBHOOK_STANDARD, s, 1);
	struct webhook_conf whb = wh_make(WEBHOOK_STANDARD, bare, 1);
	const int64_t now = (int64_t)SW_TS * 1000;
	struct error err;
	char *sig;

	sig = signature_sign(&wh, SW_ID, SW_TS, SW_BODY, strlen(SW_BODY));
	is_str(sig, SW_SIG, "standard: published example vector");
	free(sig);

	err_clear(&err);
	is_int(sw_verify(&wh, SW_ID, SW_TS_TEXT, SW_SIG, SW_BODY, now, &err), SIG_OK,
	       "standard: example vector verifies");
	is_int(sw_verify(&whb, SW_ID, SW_TS_TEXT, SW_SIG, SW_BODY, now, &err), SIG_OK,
	       "standard: secret without whsec_ prefix works too");
	is_int(sw_verify(&wh, SW_ID, SW_TS_TEXT,
	                 "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE", SW_BODY, now, &err), SIG_OK,
	       "standard: signature without padding verifies");

	/* several entries */
	is_int(sw_verify(&wh, SW_ID, SW_TS_TEXT,
	                 "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= " SW_SIG, SW_BODY, now, &err),
	       SIG_OK, "standard: second of two v1 entries matches");
	is_int(sw_verify(&wh, SW_ID, SW_TS_TEXT,
	                 "v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1,%%%%  " SW_SIG,
	                 SW_BODY, now, &err),
	       SIG_OK, "standard: other versions and a garbage entry ignored, v1 matches");
	err_clear(&err);
	is_int(sw_verify(&wh, SW_ID, SW_TS_TEXT,
	                 "v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", SW_BODY, now, &err),
	       SIG_MALFORMED, "standard: only another version is malformed");
	like(err.msg, "webhook-signature", "message names the signature header");
	is_int(sw_verify(&wh, SW_ID, SW_TS_TEXT,
	                 "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= "
	                 "v1,BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA=", SW_BODY, now, &err),
	       SIG_MISMATCH, "standard: two wrong v1 entries do not match");
	is_int(sw_verify(&wh, SW_ID, SW_TS_TEXT, "v1,not base64!", SW_BODY, now, &err),
	       SIG_MALFORMED, "standard: garbage base64 is malformed");
	is_int(sw_verify(&wh, SW_ID, SW_TS_TEXT, "v1,Zm9vYmFy", SW_BODY, now, &err),
	       SIG_MALFORMED, "standard: a 6-byte digest is malformed");

	/* tampering with any signed part */
	is_int(sw_verify(&wh, SW_ID, SW_TS_TEXT, SW_SIG, "{\"test\": 2432232315}", now, &err),
	       SIG_MISMATCH, "standard: tampered body");
	is_int(sw_verify(&wh, "msg_p5jXN8AQM9LWM0D4loKWxJeK", SW_TS_TEXT, SW_SIG, SW_BODY, now, &err),
	       SIG_MISMATCH, "standard: tampered id");
	is_int(sw_verify(&wh, SW_ID, "1614265331", SW_SIG, SW_BODY, now, &err),
	       SIG_MISMATCH, "standard: tampered timestamp");

	/* missing parts */
	err_clear(&err);
	is_int(sw_verify(&wh, SW_ID, SW_TS_TEXT, NULL, SW_BODY, now, &err), SIG_MISSING,
	       "standard: missing signature header");
	like(err.msg, "webhook-signature", "names webhook-signature");
	err_clear(&err);
	is_int(sw_verify(&wh, SW_ID, NULL, SW_SIG, SW_BODY, now, &err), SIG_MISSING,
	       "standard: missing timestamp header");
	like(err.msg, "webhook-timestamp", "names webhook-timestamp");
	err_clear(&err);
	is_int(sw_verify(&wh, NULL, SW_TS_TEXT, SW_SIG, SW_BODY, now, &err), SIG_MISSING,
	       "standard: missing id header");
	like(err.msg, "webhook-id", "names webhook-id");
	err_clear(&err);
	is_int(sw_verify(&wh, SW_ID, "yesterday", SW_SIG, SW_BODY, now, &err), SIG_MALFORMED,
	       "standard: non-numeric timestamp is malformed");
	like(err.msg, "webhook-timestamp", "names webhook-timestamp");

	/* tolerance: 300 s either way */
	err_clear(&err);
	is_int(sw_verify(&wh, SW_ID, SW_TS_TEXT, SW_SIG, SW_BODY, now + 301 * 1000, &err),
	       SIG_EXPIRED, "standard: timestamp 301 s old is expired");
	like(err.msg, "webhook-timestamp", "expired message names the header");
	like(err.msg, "past", "expired message says past");
	err_clear(&err);
	is_int(sw_verify(&wh, SW_ID, SW_TS_TEXT, SW_SIG, SW_BODY, now - 301 * 1000, &err),
	       SIG_EXPIRED, "standard: timestamp 301 s ahead is expired");
	like(err.msg, "future", "expired message says future");
	is_int(sw_verify(&wh, SW_ID, SW_TS_TEXT, SW_SIG, SW_BODY, now + 299 * 1000, &err),
	       SIG_OK, "standard: timestamp 299 s old is fine");
	is_int(sw_verify(&wh, SW_ID, SW_TS_TEXT, SW_SIG, SW_BODY, now - 299 * 1000, &err),
	       SIG_OK, "standard: timestamp 299 s ahead is fine");
	is_int(sw_verify(&wh, SW_ID, SW_TS_TEXT, SW_SIG, SW_BODY, now + 300 * 1000, &err),
	       SIG_OK, "standard: exactly at the tolerance is fine");
	wh.tolerance_ms = 10 * 1000;
	is_int(sw_verify(&wh, SW_ID, SW_TS_TEXT, SW_SIG, SW_BODY, now + 11 * 1000, &err),
	       SIG_EXPIRED, "standard: configured tolerance 10 s applies");
	wh.tolerance_ms = 300 * 1000;
}

/* ---- the stale / future cases against the real clock ---- */

static void test_clock(void)
{
	struct secret s[1] = { secret_inline(SW_SECRET) };
	struct webhook_conf wh = wh_make(WEBHOOK_STANDARD, s, 1);
	struct hdrs h;
	struct error err;
	const char *body = "{\"sku\":\"A-1\",\"stock\":3}";
	int64_t now_s = time_now_ms() / 1000;
	static const int offsets[] = { -301, 301, -290, 290, 0 };
	static const enum sig_result want[] = { SIG_EXPIRED, SIG_EXPIRED, SIG_OK, SIG_OK, SIG_OK };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(offsets); i++) {
		int64_t ts = now_s + offsets[i];
		char *tstext = xasprintf("%lld", (long long)ts);
		char *sig = signature_sign(&wh, "evt_1", ts, body, strlen(body));

		memset(&h, 0, sizeof(h));
		hdrs_set(&h, "webhook-id", "evt_1");
		hdrs_set(&h, "webhook-timestamp", tstext);
		hdrs_set(&h, "webhook-signature", sig);
		is_int(signature_verify(&wh, hdrs_get, &h, body, strlen(body), time_now_ms(), &err),
		       want[i], "now %+d s", offsets[i]);
		free(sig);
		free(tstext);
	}
}

/* ---- base64 scheme, CJdropshipping style ---- */

#define CJ_SECRET "cj-0b1c2d3e4f"
#define CJ_BODY "{\"messageId\":\"7cceede817dc47ed9d80d2a8a3a2b9e4\",\"type\":\"STOCK\"," \
	"\"params\":{\"vid\":\"92511400-C758-4B8D-A2A6-24A4E1F0D1E3\"," \
	"\"sku\":\"CJNS1234567-BK-XL\",\"storageNum\":37}}"
#define CJ_SIG "TsCChsJiWYqAOzAH6j3DqWfNFDvGyacJnSz5gE1pgx4="

static void test_base64_scheme(void)
{
	struct secret s[1] = { secret_inline(CJ_SECRET) };
	struct webhook_conf wh = wh_make(WEBHOOK_BASE64, s, 1);
	struct error err;
	char *sig, *short_sig;
	unsigned char d31[31];

	sig = signature_sign(&wh, NULL, 0, CJ_BODY, strlen(CJ_BODY));
	is_str(sig, CJ_SIG, "base64: sign header value (openssl dgst -hmac | base64)");
	free(sig);
	is_int(verify1(&wh, "sign", CJ_SIG, CJ_BODY, &err), SIG_OK, "base64: verifies");
	is_int(verify1(&wh, "Sign", "TsCChsJiWYqAOzAH6j3DqWfNFDvGyacJnSz5gE1pgx4", CJ_BODY, &err),
	       SIG_OK, "base64: unpadded value verifies");
	is_int(verify1(&wh, "sign", " " CJ_SIG " ", CJ_BODY, &err), SIG_OK,
	       "base64: surrounding blanks ignored");
	is_int(verify1(&wh, "sign", CJ_SIG, "{\"messageId\":\"7cceede817dc47ed9d80d2a8a3a2b9e4\","
	               "\"type\":\"STOCK\",\"params\":{\"vid\":\"92511400-C758-4B8D-A2A6-"
	               "24A4E1F0D1E3\",\"sku\":\"CJNS1234567-BK-XL\",\"storageNum\":97}}", &err),
	       SIG_MISMATCH, "base64: tampered byte does not match");
	err_clear(&err);
	is_int(verify1(&wh, "sign", "TsCChsJiWYqAOzAH6j3DqWfNFDvGyacJnSz5gE1pgx4=!", CJ_BODY, &err),
	       SIG_MALFORMED, "base64: trailing garbage is malformed");
	like(err.msg, "sign", "names the header");
	like(err.msg, "base64", "says base64");
	is_int(verify1(&wh, "sign", "TsCChsJiWYqAOzAH6j3DqWfNFDvGyacJnSz5gE1pgx4==", CJ_BODY, &err),
	       SIG_MALFORMED, "base64: over-padded value is malformed");
	is_int(verify1(&wh, "sign", "TsCChsJiWYqAOzAH6j3DqWfNFDvGyacJnSz5gE1pgx5=", CJ_BODY, &err),
	       SIG_MALFORMED, "base64: non-canonical trailing bits are malformed");
	is_int(verify1(&wh, "sign", "7e0e7e8a5a5a4fbd2b1a8ef5f9b4c2a1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5",
	               CJ_BODY, &err), SIG_MALFORMED, "base64: a hex value is malformed");
	memset(d31, 7, sizeof(d31));
	short_sig = base64_encode(d31, sizeof(d31));
	is_int(verify1(&wh, "sign", short_sig, CJ_BODY, &err), SIG_MALFORMED,
	       "base64: a 31-byte digest is malformed");
	free(short_sig);
	is_int(verify1(&wh, "X-Other", CJ_SIG, CJ_BODY, &err), SIG_MISSING,
	       "base64: only the configured header counts");
}

/* ---- rotation and secrets ---- */

static void test_rotation(void)
{
	struct secret two[2] = { secret_inline("old-secret"), secret_inline(GH_SECRET) };
	struct secret other[2] = { secret_inline("old-secret"), secret_inline("newer-secret") };
	struct secret none[1] = { secret_inline("") };
	struct secret sw_two[2] = { secret_inline("whsec_AAAAAAAAAAAAAAAAAAAAAAAA"),
	                            secret_inline(SW_SECRET) };
	struct secret sw_bad[1] = { secret_inline("whsec_***not-base64***") };
	struct webhook_conf wh = wh_make(WEBHOOK_GITHUB, two, 2);
	struct webhook_conf who = wh_make(WEBHOOK_GITHUB, other, 2);
	struct webhook_conf whn = wh_make(WEBHOOK_GITHUB, NULL, 0);
	struct webhook_conf whe = wh_make(WEBHOOK_GITHUB, none, 1);
	struct webhook_conf sw = wh_make(WEBHOOK_STANDARD, sw_two, 2);
	struct webhook_conf swb = wh_make(WEBHOOK_STANDARD, sw_bad, 1);
	struct error err;

	is_int(verify1(&wh, "X-Hub-Signature-256", GH_SIG, GH_BODY, &err), SIG_OK,
	       "rotation: second of two secrets valid");
	is_int(verify1(&who, "X-Hub-Signature-256", GH_SIG, GH_BODY, &err), SIG_MISMATCH,
	       "rotation: neither secret valid");
	is_int(sw_verify(&sw, SW_ID, SW_TS_TEXT, SW_SIG, SW_BODY, (int64_t)SW_TS * 1000, &err),
	       SIG_OK, "rotation: standard, second secret valid");

	err_clear(&err);
	is_int(verify1(&whn, "X-Hub-Signature-256", GH_SIG, GH_BODY, &err), SIG_MISMATCH,
	       "no secrets: nothing matches");
	is_int(err.kind, ERRK_CONFIG, "no secrets: a config error");
	err_clear(&err);
	is_int(verify1(&whe, "X-Hub-Signature-256",
	               "sha256=b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad",
	               "", &err), SIG_MISMATCH, "empty secret never matches (not even HMAC(\"\", \"\"))");
	err_clear(&err);
	is_int(sw_verify(&swb, SW_ID, SW_TS_TEXT, SW_SIG, SW_BODY, (int64_t)SW_TS * 1000, &err),
	       SIG_MISMATCH, "undecodable base64 secret never matches");
	like(err.msg, "base64", "says the secret is not base64");
	ok(strstr(err.msg, "not-base64") == NULL, "without showing the secret");
	ok(signature_sign(&whn, NULL, 0, "x", 1) == NULL, "sign without a secret is NULL");
	ok(signature_sign(&swb, "i", 1, "x", 1) == NULL, "sign with a bad base64 secret is NULL");
}

/* ---- custom scheme ---- */

static void test_custom(void)
{
	struct secret s[1] = { secret_inline("custom-secret") };
	struct secret b64[1] = { secret_inline("c2VjcmV0LWJ5dGVz") }; /* "secret-bytes" */
	struct secret txt[1] = { secret_inline("secret-bytes") };
	struct webhook_conf wh = wh_make(WEBHOOK_CUSTOM, s, 1);
	struct webhook_conf whb = wh_make(WEBHOOK_CUSTOM, b64, 1);
	struct webhook_conf wht = wh_make(WEBHOOK_CUSTOM, txt, 1);
	struct hdrs h;
	struct error err;
	const char *body = "[{\"sku\":\"X\",\"qty\":1}]";
	char *sig, *sig2, *ts;
	int64_t now_s = time_now_ms() / 1000;

	wh.header = "X-Signature";
	wh.prefix = "hmac-sha256=";
	wh.encoding = SIG_HEX;
	sig = signature_sign(&wh, NULL, 0, body, strlen(body));
	ok(sig && str_startswith(sig, "hmac-sha256=") && strlen(sig) == 12 + 64,
	   "custom hex: prefix + 64 hex digits");
	is_int(verify1(&wh, "X-Signature", sig, body, &err), SIG_OK, "custom hex: verifies");
	is_int(verify1(&wh, "X-Signature", sig + 12, body, &err), SIG_MALFORMED,
	       "custom hex: missing prefix is malformed");
	free(sig);

	/* timestamp header: checked for freshness, signed text stays the body */
	wh.timestamp_header = "X-Timestamp";
	ts = xasprintf("%lld", (long long)(now_s - 400));
	sig = signature_sign(&wh, NULL, now_s - 400, body, strlen(body));
	memset(&h, 0, sizeof(h));
	hdrs_set(&h, "X-Signature", sig);
	hdrs_set(&h, "X-Timestamp", ts);
	is_int(signature_verify(&wh, hdrs_get, &h, body, strlen(body), time_now_ms(), &err),
	       SIG_EXPIRED, "custom: stale timestamp is expired");
	like(err.msg, "X-Timestamp", "names X-Timestamp");
	is_int(signature_verify(&wh, hdrs_get, &h, body, strlen(body), (now_s - 400) * 1000, &err),
	       SIG_OK, "custom: fresh timestamp verifies, body-only signed text");
	memset(&h, 0, sizeof(h));
	hdrs_set(&h, "X-Signature", sig);
	is_int(signature_verify(&wh, hdrs_get, &h, body, strlen(body), time_now_ms(), &err),
	       SIG_MISSING, "custom: configured timestamp header missing");
	free(sig);
	free(ts);

	/* base64 key equals the same key as text */
	whb.header = "X-Sig";
	whb.encoding = SIG_BASE64;
	whb.key_base64 = true;
	wht.header = "X-Sig";
	wht.encoding = SIG_BASE64;
	sig = signature_sign(&whb, NULL, 0, body, strlen(body));
	sig2 = signature_sign(&wht, NULL, 0, body, strlen(body));
	is_str(sig, sig2, "custom: base64 key decodes to the text key");
	is_int(verify1(&whb, "X-Sig", sig2, body, &err), SIG_OK, "custom base64 key: verifies");
	free(sig);
	free(sig2);

	/* binary body with NUL bytes */
	{
		static const char bin[] = { 'a', '\0', 'b', '\0', 'c' };
		struct hdrs hb;

		sig = signature_sign(&wh, NULL, now_s, bin, sizeof(bin));
		ts = xasprintf("%lld", (long long)now_s);
		memset(&hb, 0, sizeof(hb));
		hdrs_set(&hb, "X-Signature", sig);
		hdrs_set(&hb, "X-Timestamp", ts);
		is_int(signature_verify(&wh, hdrs_get, &hb, bin, sizeof(bin), now_s * 1000, &err),
		       SIG_OK, "custom: body with NUL bytes verifies over its full length");
		is_int(signature_verify(&wh, hdrs_get, &hb, bin, 1, now_s * 1000, &err),
		       SIG_MISMATCH, "custom: a truncated body does not");
		free(sig);
		free(ts);
	}

	/* no header configured */
	{
		struct webhook_conf none = wh_make(WEBHOOK_CUSTOM, s, 1);

		is_int(verify1(&none, "X-Signature", "abc", body, &err), SIG_MISSING,
		       "custom without header: nothing to verify against");
		ok(signature_check_conf(&none, &err) == -1, "check_conf refuses custom without header");
		like(err.msg, "header", "and says header");
	}
}

/* ---- sign -> verify for every scheme ---- */

static void test_roundtrip(void)
{
	static const enum webhook_scheme schemes[] = {
		WEBHOOK_GITHUB, WEBHOOK_STANDARD, WEBHOOK_BASE64, WEBHOOK_CUSTOM,
	};
	static const char *names[] = { "github", "standard", "base64", "custom" };
	struct secret s_text[1] = { secret_inline("round-trip-secret") };
	struct secret s_b64[1] = { secret_inline("whsec_cm91bmQtdHJpcC1zZWNyZXQ=") };
	const char *body = "{\"items\":[{\"sku\":\"RT-1\",\"stock\":12}]}";
	int64_t now_s = time_now_ms() / 1000;
	size_t i;
	int e;

	for (i = 0; i < ARRAY_SIZE(schemes); i++) {
		for (e = 0; e < 2; e++) {
			struct webhook_conf wh = wh_make(schemes[i],
			                                 schemes[i] == WEBHOOK_STANDARD ? s_b64 : s_text, 1);
			struct hdrs h;
			struct error err;
			char *sig, *ts;

			if (schemes[i] == WEBHOOK_CUSTOM) {
				wh.header = "X-Custom-Sig";
				wh.encoding = e ? SIG_BASE64 : SIG_HEX;
				wh.timestamp_header = e ? "X-Custom-Time" : NULL;
			} else if (e) {
				/* the second pass applies the presets first, as the loader does */
				conf_webhook_apply_preset(&wh);
			}
			sig = signature_sign(&wh, "evt-42", now_s, body, strlen(body));
			ts = xasprintf("%lld", (long long)now_s);
			memset(&h, 0, sizeof(h));
			hdrs_set(&h, wh.header ? wh.header :
			         schemes[i] == WEBHOOK_GITHUB ? "X-Hub-Signature-256" :
			         schemes[i] == WEBHOOK_STANDARD ? "webhook-signature" : "sign", sig);
			hdrs_set(&h, "webhook-id", "evt-42");
			hdrs_set(&h, wh.timestamp_header ? wh.timestamp_header : "webhook-timestamp", ts);
			err_clear(&err);
			is_int(signature_verify(&wh, hdrs_get, &h, body, strlen(body), time_now_ms(), &err),
			       SIG_OK, "round trip: %s (%s)", names[i], e ? "second variant" : "first variant");
			if (schemes[i] != WEBHOOK_CUSTOM && e) {
				free(wh.header);
				free(wh.prefix);
				free(wh.timestamp_header);
				free(wh.id_header);
			}
			free(sig);
			free(ts);
		}
	}
}

/* ---- presets ---- */

static void free_strings(struct webhook_conf *wh)
{
	free(wh->header);
	free(wh->prefix);
	free(wh->timestamp_header);
	free(wh->id_header);
}

static void test_presets(void)
{
	struct webhook_conf wh;

	wh = wh_make(WEBHOOK_GITHUB, NULL, 0);
	wh.tolerance_ms = 0;
	conf_webhook_apply_preset(&wh);
	is_str(wh.header, "X-Hub-Signature-256", "github preset: header");
	is_str(wh.prefix, "sha256=", "github preset: prefix");
	is_int(wh.encoding, SIG_HEX, "github preset: hex");
	ok(!wh.key_base64, "github preset: text key");
	ok(wh.timestamp_header == NULL && wh.id_header == NULL, "github preset: no timestamp, no id");
	is_int(wh.tolerance_ms, 300000, "preset: default tolerance 300 s");
	free_strings(&wh);

	wh = wh_make(WEBHOOK_STANDARD, NULL, 0);
	conf_webhook_apply_preset(&wh);
	is_str(wh.header, "webhook-signature", "standard preset: header");
	is_str(wh.prefix, "v1,", "standard preset: prefix");
	is_int(wh.encoding, SIG_BASE64, "standard preset: base64");
	ok(wh.key_base64, "standard preset: base64 key");
	is_str(wh.timestamp_header, "webhook-timestamp", "standard preset: timestamp header");
	is_str(wh.id_header, "webhook-id", "standard preset: id header");
	free_strings(&wh);

	wh = wh_make(WEBHOOK_BASE64, NULL, 0);
	conf_webhook_apply_preset(&wh);
	is_str(wh.header, "sign", "base64 preset: header");
	is_str(wh.prefix, "", "base64 preset: no prefix");
	is_int(wh.encoding, SIG_BASE64, "base64 preset: base64");
	ok(!wh.key_base64, "base64 preset: text key");
	ok(wh.timestamp_header == NULL, "base64 preset: no timestamp");
	free_strings(&wh);

	wh = wh_make(WEBHOOK_CUSTOM, NULL, 0);
	conf_webhook_apply_preset(&wh);
	ok(wh.header == NULL, "custom preset: no header");
	is_str(wh.prefix, "", "custom preset: empty prefix");
	is_int(wh.encoding, SIG_HEX, "custom preset: hex");
	ok(wh.timestamp_header == NULL && wh.id_header == NULL, "custom preset: nothing else");
	free_strings(&wh);

	/* configured values are kept */
	wh = wh_make(WEBHOOK_STANDARD, NULL, 0);
	wh.header = xstrdup("X-My-Signature");
	wh.id_header = xstrdup("X-Event");
	wh.tolerance_ms = 60000;
	conf_webhook_apply_preset(&wh);
	is_str(wh.header, "X-My-Signature", "preset keeps a configured header");
	is_str(wh.id_header, "X-Event", "preset keeps a configured id header");
	is_str(wh.timestamp_header, "webhook-timestamp", "and fills the rest");
	is_int(wh.tolerance_ms, 60000, "preset keeps a configured tolerance");
	free_strings(&wh);

	wh = wh_make(WEBHOOK_CUSTOM, NULL, 0);
	wh.header = xstrdup("X-Sig");
	wh.prefix = xstrdup("sha256=");
	wh.encoding = SIG_BASE64;
	wh.key_base64 = true;
	conf_webhook_apply_preset(&wh);
	is_str(wh.prefix, "sha256=", "custom preset keeps the prefix");
	is_int(wh.encoding, SIG_BASE64, "custom preset keeps base64");
	ok(wh.key_base64, "custom preset keeps key_base64");
	free_strings(&wh);

	/* fixed parts win over configured values */
	wh = wh_make(WEBHOOK_GITHUB, NULL, 0);
	wh.encoding = SIG_BASE64;
	wh.key_base64 = true;
	conf_webhook_apply_preset(&wh);
	is_int(wh.encoding, SIG_HEX, "github preset: hex even when base64 was set");
	ok(!wh.key_base64, "github preset: text key even when key_base64 was set");
	free_strings(&wh);

	/* the old name still works */
	wh = wh_make(WEBHOOK_BASE64, NULL, 0);
	signature_apply_preset(&wh);
	is_str(wh.header, "sign", "signature_apply_preset still applies the preset");
	free_strings(&wh);

	/* the table itself */
	ok(conf_webhook_preset(WEBHOOK_STANDARD)->signed_id_ts &&
	   conf_webhook_preset(WEBHOOK_STANDARD)->multi, "standard: ID.TIMESTAMP.BODY, several entries");
	ok(!conf_webhook_preset(WEBHOOK_GITHUB)->signed_id_ts &&
	   !conf_webhook_preset(WEBHOOK_GITHUB)->multi, "github: the body, one entry");
	ok(conf_webhook_preset((enum webhook_scheme)99) == conf_webhook_preset(WEBHOOK_CUSTOM),
	   "an unknown scheme reads as custom");
	is_str(conf_webhook_preset(WEBHOOK_CUSTOM)->prefix, "", "custom: empty prefix");
}

/* ---- keys ---- */

static void test_keys(void)
{
	unsigned char *k;
	size_t len = 99;

	k = conf_webhook_key("hunter2", false, &len);
	ok(k && len == 7 && memcmp(k, "hunter2", 7) == 0, "text key: the bytes as written");
	free(k);
	k = conf_webhook_key(" whsec_aGVsbG8= ", true, &len);
	ok(k && len == 5 && memcmp(k, "hello", 5) == 0,
	   "base64 key: blanks trimmed, whsec_ dropped, decoded");
	free(k);
	k = conf_webhook_key("aGVsbG8", true, &len);
	ok(k && len == 5, "base64 key: without whsec_ and padding");
	free(k);
	len = 99;
	ok(conf_webhook_key("whsec_aGVsbG8=!", true, &len) == NULL && len == 0,
	   "base64 key: bad base64 refused");
	ok(conf_webhook_key("whsec_", true, &len) == NULL, "base64 key: empty after whsec_ refused");
	ok(conf_webhook_key("", false, &len) == NULL, "empty text key refused");
	ok(conf_webhook_key(NULL, true, &len) == NULL, "NULL key refused");
}

/* ---- configuration check ---- */

static void test_check_conf(void)
{
	struct secret good[2] = { secret_inline(SW_SECRET), secret_inline("whsec_c2Vjb25k") };
	struct secret bad[2] = { secret_inline(SW_SECRET), secret_inline("whsec_hunter2!") };
	struct secret empty[1] = { secret_inline("") };
	struct secret text[1] = { secret_inline("hunter2!") };
	struct webhook_conf wh;
	struct error err;

	wh = wh_make(WEBHOOK_STANDARD, good, 2);
	is_int(signature_check_conf(&wh, &err), 0, "check: two base64 secrets are fine");
	wh = wh_make(WEBHOOK_STANDARD, bad, 2);
	err_clear(&err);
	is_int(signature_check_conf(&wh, &err), -1, "check: a bad base64 secret is refused");
	is_int(err.kind, ERRK_CONFIG, "check: config error");
	like(err.msg, "secret 2 of 2", "check: names the secret's position");
	ok(strstr(err.msg, "hunter2") == NULL, "check: never shows the secret");
	wh = wh_make(WEBHOOK_GITHUB, text, 1);
	is_int(signature_check_conf(&wh, &err), 0, "check: text secret for github is fine");
	wh = wh_make(WEBHOOK_GITHUB, empty, 1);
	is_int(signature_check_conf(&wh, &err), -1, "check: empty secret refused");
	wh = wh_make(WEBHOOK_GITHUB, NULL, 0);
	is_int(signature_check_conf(&wh, &err), -1, "check: no secret refused");
	like(err.msg, "secret", "check: says secret");
}

int main(void)
{
	test_base64();
	test_github();
	test_standard();
	test_clock();
	test_base64_scheme();
	test_rotation();
	test_custom();
	test_roundtrip();
	test_presets();
	test_keys();
	test_check_conf();
	return tap_done();
}
