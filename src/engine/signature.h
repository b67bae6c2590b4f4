/* signature.h - verifying signed webhook deliveries (HMAC-SHA256).
 *
 * Verification happens before the body is parsed at all.  Schemes:
 *   github    header X-Hub-Signature-256 = "sha256=" + hex HMAC(secret, body)
 *   standard  Standard Webhooks: webhook-id, webhook-timestamp (Unix seconds)
 *             and webhook-signature = space-separated "v1,BASE64" entries,
 *             HMAC(base64-decoded secret after "whsec_", "ID.TIMESTAMP.BODY")
 *   base64    one header (default "sign") = base64 HMAC(secret, body)
 *   custom    header, prefix, hex/base64, key as text or base64, optional
 *             timestamp header (then the signed text is still the body)
 * Several secrets may be valid at once (rotation): any match passes.
 * Comparison is constant-time (CRYPTO_memcmp) over decoded digests.
 */
#ifndef DROPSTOCK_SIGNATURE_H
#define DROPSTOCK_SIGNATURE_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "util/util.h"

/* Looks up a request header by name (case-insensitive); NULL when absent. */
typedef const char *(*sig_header_fn)(void *ud, const char *name);

enum sig_result {
	SIG_OK = 0,
	SIG_MISSING,      /* signature (or required id/timestamp) header absent */
	SIG_MALFORMED,    /* header present but not decodable */
	SIG_MISMATCH,     /* no secret matches */
	SIG_EXPIRED,      /* timestamp outside the tolerance (past or future) */
};

/* Verifies one delivery.  now_ms is the current time.  On failure err says
 * why in one sentence that never contains a secret or the expected digest
 * ("signature header X-Hub-Signature-256 does not match the body").
 * Order: signature, id (standard) and timestamp headers present (else
 * SIG_MISSING); timestamp an integer and the signature header holding a
 * decodable 32-byte digest after the exact prefix (else SIG_MALFORMED); a
 * secret matches (else SIG_MISMATCH); then the timestamp within
 * tolerance_ms (else SIG_EXPIRED), so EXPIRED means an authentic but stale
 * or early delivery.  The standard scheme reads up to 16 space-separated
 * entries, skipping ones with another prefix.  Empty secrets and, with
 * key_base64, undecodable ones never match (err->kind = ERRK_CONFIG when no
 * secret was usable; ERRK_PERMANENT otherwise). */
enum sig_result signature_verify(const struct webhook_conf *wh, sig_header_fn header, void *ud,
                                 const char *body, size_t len, int64_t now_ms,
                                 struct error *err);

/* Computes the signature header value the supplier would send (for tests,
 * the benchmark and `dropstock` docs examples): uses the first secret.
 * id and timestamp are used by the standard scheme (and a custom scheme
 * with a timestamp header).  Caller frees. */
char *signature_sign(const struct webhook_conf *wh, const char *id, int64_t timestamp_s,
                     const char *body, size_t len);

/* The same as conf_webhook_apply_preset() (conf/conf.h), where the
 * scheme presets now live; kept for existing callers.  signature_verify
 * and signature_sign read the same presets themselves, so a zeroed struct
 * with only scheme and secrets set works too. */
void signature_apply_preset(struct webhook_conf *wh);

/* Checks a webhook group after conf_webhook_apply_preset: a signature header
 * is known, at least one secret is given, none is empty, and with
 * key_base64 every secret decodes (after an optional "whsec_").  Returns 0,
 * or -1 with err (ERRK_CONFIG) naming the option and the secret's position,
 * never its value; the caller adds the place (file and line).
 * (Addition to the original contract.) */
int signature_check_conf(const struct webhook_conf *wh, struct error *err);

/* base64_encode() and base64_decode() (strict decoding) are declared in
 * util/util.h, included above. */

#endif
