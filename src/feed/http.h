/* http.h - every request dropstock makes goes through here (libcurl).
 *
 * One client per supplier and run: it keeps the connection alive between
 * pages, applies the supplier's auth, timeouts, allowed protocols (http,
 * https, ftp, ftps, sftp, file), maximum response size, TLS verification,
 * User-Agent "dropstock/VERSION", and its rate limit (requests per second
 * and per hour).  Gzip bodies (Content-Encoding, or gzip magic bytes such as
 * a .gz file) are decompressed transparently before the sink sees them.
 *
 * Retries: connect failures, timeouts, HTTP 5xx and 429 are retried up to
 * supplier->retries times with exponential backoff from retry_delay_ms,
 * honouring Retry-After (seconds or HTTP date) and X-Ratelimit-Reset
 * (seconds to wait, or an epoch time), each wait capped by max_retry_wait_ms.
 * 401/403/404 and other 4xx fail at once (ERRK_PERMANENT); exhausted
 * retries fail with ERRK_TRANSIENT.  Error texts name the URL (with any
 * secret query parameter masked as "***") and the cause, including the
 * start of an error body.
 *
 * Requests are GETs, except http_post() for APIs that take a body (and
 * http_post_ex() for extra request headers, e.g. signatures).
 *
 * SFTP: the server's host key is always checked: against the source's
 * ssh_host_key_sha256, else its ssh_known_hosts file, else
 * ~/.ssh/known_hosts; with none of them the request is refused
 * (ERRK_CONFIG) before any connection.
 */
#ifndef DROPSTOCK_HTTP_H
#define DROPSTOCK_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include "conf/conf.h"
#include "util/util.h"

/* The body of a successful (2xx, or any FTP/SFTP/file transfer) response is
 * streamed to the sink.  begin() is called before the first byte of every
 * attempt, so a consumer can drop what an earlier, failed attempt delivered;
 * it is also called once for a successful attempt with an empty body.
 * data() returns 0 to go on, -1 to abort the transfer (the request then
 * fails with the error data() set, not retried). */
struct http_sink {
	int (*begin)(void *ud);
	int (*data)(void *ud, const char *bytes, size_t len, struct error *err);
	void *ud;
};

struct http_result {
	long status;          /* HTTP status; 0 for non-HTTP protocols */
	int64_t bytes;        /* body bytes delivered to the sink (after decompression) */
	int attempts;         /* 1 + retries made */
	char *link_next;      /* URL from a Link: <...>; rel="next" header, or NULL; caller frees via http_result_clear */
	char *content_type;   /* Content-Type of the response, or NULL */
	int connects;         /* new connections opened (0: an open one was reused) */
	/* (Additions.) */
	int64_t retry_after_ms; /* Retry-After of the final response (seconds or an HTTP
	                         * date, as a wait from now), -1 when it had none or it
	                         * was unreadable; on success and on failure alike */
	char *error_body;     /* the request failed on an HTTP error status: the start of
	                       * that body as error texts show it (one line, at most 512
	                       * bytes, "..." when cut); NULL otherwise or when empty */
};
void http_result_clear(struct http_result *r);

struct http_client;

/* The supplier must outlive the client.  ua_extra may be NULL. */
struct http_client *http_client_new(const struct supplier_conf *sup, const char *ua_extra);
void http_client_free(struct http_client *c);

/* GET url (auth query parameter added here when auth.kind is AUTH_QUERY and
 * the URL does not carry that parameter already).  res is filled from
 * scratch (zeroed first): call http_result_clear() on it before reusing it.
 * On failure res->status/attempts tell what the last attempt saw. */
int http_get(struct http_client *c, const char *url, const struct http_sink *sink,
             struct http_result *res, struct error *err);

/* Convenience: GET into a buffer (bounded by max_bytes). */
int http_get_buf(struct http_client *c, const char *url, struct buf *out,
                 struct http_result *res, struct error *err);

/* POST body (len bytes, sent as they are; NULL = empty) to url with the
 * header "Content-Type: content_type" (NULL = application/octet-stream),
 * for supplier APIs that take the question in the body (live checks).
 * Everything else is as for http_get: auth (query parameter included),
 * rate limit, the same retries with the body sent again on each attempt,
 * size limit, gzip answers, cancellation, masked URLs in error texts, which
 * start "POST URL: ...".  Only http and https URLs are accepted (others
 * fail at once with ERRK_CONFIG, as does a content type holding a line
 * break); a redirect is followed as curl does (301/302/303 turn into a
 * GET).  body must stay valid until the call returns.  The client is a
 * plain GET client again afterwards. */
int http_post(struct http_client *c, const char *url, const char *body, size_t len,
              const char *content_type, const struct http_sink *sink, struct http_result *res,
              struct error *err);

/* Convenience: POST, the answer into a buffer (bounded by max_bytes). */
int http_post_buf(struct http_client *c, const char *url, const char *body, size_t len,
                  const char *content_type, struct buf *out, struct http_result *res,
                  struct error *err);

/* (Addition.) What one POST may carry beyond http_post's arguments. */
struct http_post_opts {
	/* Extra request header lines "Name: value", NULL-terminated (NULL =
	 * none), sent after the client's own (auth) headers and the
	 * Content-Type.  A line with no name before its colon, or holding a
	 * line break, fails the request at once with ERRK_CONFIG (the error
	 * text names its position, never its value). */
	const char *const *headers;
	/* A 3xx answer is final and fails the request ("HTTP 302 ...",
	 * ERRK_PERMANENT) instead of being followed, for endpoints where a
	 * redirect turned into a GET would drop the body unnoticed. */
	bool no_redirects;
};

/* http_post with opts (NULL = as http_post).  sink may be NULL: the body of
 * a successful answer is then read and dropped.  With supplier->retries 0
 * the caller keeps its own backoff, from res->status and
 * res->retry_after_ms. */
int http_post_ex(struct http_client *c, const char *url, const char *body, size_t len,
                 const char *content_type, const struct http_post_opts *opts,
                 const struct http_sink *sink, struct http_result *res, struct error *err);

/* Convenience: http_post_ex, the answer into a buffer (bounded by max_bytes). */
int http_post_buf_ex(struct http_client *c, const char *url, const char *body, size_t len,
                     const char *content_type, const struct http_post_opts *opts,
                     struct buf *out, struct http_result *res, struct error *err);

/* Returns url with param=value appended (? or &), value URL-encoded.  Caller frees. */
char *http_url_add_param(const char *url, const char *param, const char *value);

/* Copy of url with the value of query parameter `param` replaced by "***"
 * (for logs and errors).  A password in the URL's user info
 * (ftp://user:secret@host/) is masked too.  param NULL -> no query
 * parameter masked.  Caller frees. */
char *http_url_mask(const char *url, const char *param);

/* Parses Link header value(s) (several headers joined with ", ") and
 * returns the URL of the link with rel="next" (rel quoted or not, in any
 * order among the links), resolved against base_url when relative; NULL when
 * there is none.  http_get fills res->link_next with this.  Caller frees. */
char *http_link_next(const char *link_values, const char *base_url);

/* Optional: cancelled(ud) is polled during transfers and waits (at least
 * every 100 ms while waiting, about once a second during a stalled
 * transfer); when it returns non-zero the request stops at once and fails
 * with ERRK_INTERRUPTED.  Pass NULL to remove. */
void http_client_set_cancel(struct http_client *c, int (*cancelled)(void *ud), void *ud);

/* Global init/cleanup (curl_global_init); call once from main.  Init also
 * ignores SIGPIPE (curl runs with CURLOPT_NOSIGNAL, and a write to a closed
 * TLS connection would otherwise kill the process). */
void http_global_init(void);
void http_global_cleanup(void);

#endif
