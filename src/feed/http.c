/* http.c - every request dropstock makes: libcurl easy API, one handle per
 * client (so connections are kept alive between pages), auth, retries with
 * backoff and Retry-After, rate limits, size limits and transparent gzip.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <zlib.h>

#include "feed/http.h"

#define ERRBODY_MAX 512        /* bytes of a non-2xx body kept for the message */
#define INFLATE_CHUNK 65536
#define HOUR_MS 3600000LL
#define HOUR_RING_MAX 1000000  /* above this many per hour the limit is not tracked */
#define SLEEP_SLICE_MS 100     /* waits poll the cancel hook this often */

/* The protocols we ever speak, in the order curl names them. */
static const char *const allowed_protocols[] = { "http", "https", "ftp", "ftps", "sftp", "file" };

struct http_client {
	const struct supplier_conf *sup;
	CURL *curl;
	struct curl_slist *headers;
	char *ua;
	char *protocols;          /* allowed protocols this libcurl supports */
	bool auth_bad;            /* the token holds a line break: refuse to send it */
	char errbuf[CURL_ERROR_SIZE];
	/* rate limit */
	int64_t last_start;       /* monotonic ms of the last request start, 0 = none */
	int64_t *hour;            /* ring of request start times within the last hour */
	size_t hour_cap, hour_head, hour_n;
	/* backoff jitter */
	uint64_t rng;
	/* cancel hook */
	int (*cancelled)(void *ud);
	void *cancel_ud;
	/* SSH host key check of the current sftp request */
	int ssh_match;            /* enum curl_khmatch the key callback saw, -1 = not called */
	char *ssh_known_hosts;    /* the known_hosts file in use, or NULL */
	char *ssh_host_name;      /* the host as known_hosts names it: host or [host]:port */
};

enum gz_mode { GZ_UNDECIDED = 0, GZ_RAW, GZ_INFLATE, GZ_GAP, GZ_TRAIL };
enum abort_why { ABORT_NONE = 0, ABORT_SINK, ABORT_TOO_LARGE, ABORT_GZIP };

/* State of one attempt. */
struct attempt {
	struct http_client *c;
	const struct http_sink *sink;
	/* headers of the latest response */
	char reason[128];
	struct buf link;          /* every Link header value, joined with ", " */
	int64_t retry_after_ms;   /* -1 when absent */
	int64_t reset_ms;         /* X-Ratelimit-Reset as a wait, -1 when absent */
	/* body */
	bool to_sink;             /* decided at the first body byte */
	bool body_seen;
	bool began;
	struct buf errbody;
	enum gz_mode gz;
	unsigned char pending[2];
	size_t npending;
	z_stream zs;
	bool zinit;
	bool zended;              /* the current gzip member reached its end */
	unsigned char *zout;
	int64_t delivered;
	enum abort_why why;
	struct error sink_err;
};

/* ---- small helpers ---- */

static bool is_cancelled(struct http_client *c)
{
	return c->cancelled && c->cancelled(c->cancel_ud);
}

/* Sleeps ms milliseconds (monotonic), polling the cancel hook.  Returns -1
 * when cancelled. */
static int sleep_ms(struct http_client *c, int64_t ms)
{
	int64_t end = time_mono_ms() + ms;

	for (;;) {
		int64_t left = end - time_mono_ms();
		struct timespec ts;

		if (is_cancelled(c))
			return -1;
		if (left <= 0)
			return 0;
		if (c->cancelled && left > SLEEP_SLICE_MS)
			left = SLEEP_SLICE_MS;
		ts.tv_sec = (time_t)(left / 1000);
		ts.tv_nsec = (long)(left % 1000) * 1000000L;
		nanosleep(&ts, NULL);   /* EINTR: the loop recomputes what is left */
	}
}

static bool has_crlf(const char *s)
{
	return s && strpbrk(s, "\r\n") != NULL;
}

static const char *token_value(const struct secret *s)
{
	return s->value ? s->value : "";
}

static const char *mask_param(const struct supplier_conf *sup)
{
	return sup->auth.kind == AUTH_QUERY ? sup->auth.param : NULL;
}

/* ---- URL helpers ---- */

static bool unreserved(unsigned char ch)
{
	return isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~';
}

static void buf_put_encoded(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (unreserved(ch)) {
			buf_putc(b, (char)ch);
		} else {
			buf_putc(b, '%');
			buf_putc(b, hex[ch >> 4]);
			buf_putc(b, hex[ch & 15]);
		}
	}
}

char *http_url_add_param(const char *url, const char *param, const char *value)
{
	struct buf b = BUF_INIT;
	const char *frag, *q;
	size_t base_len;

	if (!url)
		return NULL;
	frag = strchr(url, '#');
	base_len = frag ? (size_t)(frag - url) : strlen(url);
	q = memchr(url, '?', base_len);
	buf_append(&b, url, base_len);
	if (!q)
		buf_putc(&b, '?');
	else if (base_len > 0 && url[base_len - 1] != '?' && url[base_len - 1] != '&')
		buf_putc(&b, '&');
	buf_put_encoded(&b, param ? param : "");
	buf_putc(&b, '=');
	buf_put_encoded(&b, value ? value : "");
	if (frag)
		buf_puts(&b, frag);
	return buf_steal(&b);
}

/* Does the query of url hold parameter `param` (compared as written)? */
static bool url_has_param(const char *url, const char *param)
{
	const char *q = strchr(url, '?'), *frag = strchr(url, '#');
	size_t plen = strlen(param);

	if (!q || (frag && frag < q) || plen == 0)
		return false;
	for (const char *p = q + 1; p && *p && (!frag || p < frag);) {
		if (strncmp(p, param, plen) == 0 && (p[plen] == '=' || p[plen] == '&' ||
		                                     p[plen] == '\0' || p[plen] == '#'))
			return true;
		p = strchr(p, '&');
		if (p)
			p++;
	}
	return false;
}

char *http_url_mask(const char *url, const char *param)
{
	struct buf b = BUF_INIT;
	const char *p = url, *scheme_end, *auth_start, *auth_end, *q, *frag;
	size_t plen = param ? strlen(param) : 0;

	if (!url)
		return NULL;
	/* userinfo password: scheme://user:secret@host -> scheme://user:***@host */
	scheme_end = strstr(url, "://");
	if (scheme_end) {
		auth_start = scheme_end + 3;
		auth_end = auth_start + strcspn(auth_start, "/?#");
		const char *at = NULL;
		for (const char *s = auth_start; s < auth_end; s++)
			if (*s == '@')
				at = s;
		if (at) {
			const char *colon = memchr(auth_start, ':', (size_t)(at - auth_start));
			if (colon) {
				buf_append(&b, url, (size_t)(colon + 1 - url));
				buf_puts(&b, "***");
				p = at;
			}
		}
	}
	q = strchr(p, '?');
	frag = strchr(p, '#');
	if (frag && q && frag < q)
		q = NULL;
	if (!q || plen == 0) {
		buf_puts(&b, p);
		return buf_steal(&b);
	}
	buf_append(&b, p, (size_t)(q + 1 - p));
	p = q + 1;
	while (*p && p != frag) {
		size_t len = strcspn(p, "&#");

		if (len > plen && strncmp(p, param, plen) == 0 && p[plen] == '=') {
			buf_append(&b, p, plen + 1);
			buf_puts(&b, "***");
		} else {
			buf_append(&b, p, len);
		}
		p += len;
		if (*p == '&') {
			buf_putc(&b, '&');
			p++;
		}
	}
	buf_puts(&b, p);
	return buf_steal(&b);
}

/* ---- Link header ---- */

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Does the space-separated relation list hold "next"? */
static bool rel_has_next(const char *v, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t start;

		while (i < len && isspace((unsigned char)v[i]))
			i++;
		start = i;
		while (i < len && !isspace((unsigned char)v[i]))
			i++;
		if (i - start == 4 && strncasecmp(v + start, "next", 4) == 0)
			return true;
	}
	return false;
}

static char *link_resolve(const char *ref, const char *base)
{
	CURLU *h = curl_url();
	char *out = NULL, *res = NULL;

	if (!h)
		return xstrdup(ref);
	if (base && curl_url_set(h, CURLUPART_URL, base, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
		curl_url_cleanup(h);
		h = curl_url();
		if (!h)
			return xstrdup(ref);
	}
	if (curl_url_set(h, CURLUPART_URL, ref, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
	    curl_url_get(h, CURLUPART_URL, &out, 0) == CURLUE_OK)
		res = xstrdup(out);
	else
		res = xstrdup(ref);   /* let the next request report what is wrong with it */
	curl_free(out);
	curl_url_cleanup(h);
	return res;
}

char *http_link_next(const char *value, const char *base_url)
{
	const char *p = value;

	if (!value)
		return NULL;
	while (*p) {
		const char *u0, *u1;
		bool next = false;

		p = skip_ws(p);
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p != '<') {
			/* not a link-value: skip to the next top-level comma */
			bool quoted = false;
			for (; *p && (quoted || *p != ','); p++) {
				if (*p == '"')
					quoted = !quoted;
				else if (quoted && *p == '\\' && p[1])
					p++;
			}
			continue;
		}
		u0 = p + 1;
		u1 = strchr(u0, '>');
		if (!u1)
			break;
		p = u1 + 1;
		/* parameters */
		for (;;) {
			const char *n0, *n1, *v0, *v1;

			p = skip_ws(p);
			if (*p != ';')
				break;
			p = skip_ws(p + 1);
			n0 = p;
			while (*p && *p != '=' && *p != ';' && *p != ',' && *p != ' ' && *p != '\t')
				p++;
			n1 = p;
			p = skip_ws(p);
			v0 = v1 = p;
			if (*p == '=') {
				p = skip_ws(p + 1);
				if (*p == '"') {
					v0 = ++p;
					while (*p && *p != '"') {
						if (*p == '\\' && p[1])
							p++;
						p++;
					}
					v1 = p;
					if (*p == '"')
						p++;
				} else {
					v0 = p;
					while (*p && *p != ';' && *p != ',')
						p++;
					v1 = p;
					while (v1 > v0 && (v1[-1] == ' ' || v1[-1] == '\t'))
						v1--;
				}
			}
			if (n1 - n0 == 3 && strncasecmp(n0, "rel", 3) == 0 &&
			    rel_has_next(v0, (size_t)(v1 - v0)))
				next = true;
		}
		if (next && u1 > u0) {
			char *ref = xstrndup(u0, (size_t)(u1 - u0));
			char *res = link_resolve(ref, base_url);
			free(ref);
			return res;
		}
		/* skip anything up to the next link-value */
		while (*p && *p != ',')
			p++;
	}
	return NULL;
}

/* ---- result ---- */

void http_result_clear(struct http_result *r)
{
	if (!r)
		return;
	free(r->link_next);
	free(r->content_type);
	free(r->error_body);
	memset(r, 0, sizeof(*r));
}

/* ---- client ---- */

static char *protocols_supported(void)
{
	const curl_version_info_data *vi = curl_version_info(CURLVERSION_NOW);
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < ARRAY_SIZE(allowed_protocols); i++) {
		bool have = false;

		for (const char *const *p = vi->protocols; p && *p; p++)
			if (strcasecmp(*p, allowed_protocols[i]) == 0)
				have = true;
		if (!have)
			continue;
		if (b.len)
			buf_putc(&b, ',');
		buf_puts(&b, allowed_protocols[i]);
	}
	return buf_steal(&b);
}

/* ---- SSH host keys ---- */

#define SSH_PORT "22"

/* Is url an sftp:// URL? */
static bool url_is_sftp(const char *url)
{
	return strncasecmp(url, "sftp://", 7) == 0;
}

/* Host and port of an sftp:// URL: the host lower-cased (an IPv6 address
 * without its brackets), the port as written or "22".  Returns false when
 * url is no sftp:// URL with a host. */
static bool sftp_host_port(const char *url, struct buf *host, struct buf *port)
{
	const char *a, *end, *at, *h, *hend, *colon = NULL;

	if (!url || !url_is_sftp(url))
		return false;
	a = url + 7;
	end = a + strcspn(a, "/?#");
	at = NULL;
	for (const char *p = a; p < end; p++)
		if (*p == '@')
			at = p;
	h = at ? at + 1 : a;
	if (*h == '[') {
		hend = memchr(h, ']', (size_t)(end - h));
		if (!hend)
			return false;
		if (hend + 1 < end && hend[1] == ':')
			colon = hend + 1;
		h++;
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		hend = colon ? colon : end;
	}
	if (hend == h)
		return false;
	for (const char *p = h; p < hend; p++)
		buf_putc(host, (char)tolower((unsigned char)*p));
	if (colon && colon + 1 < end)
		buf_append(port, colon + 1, (size_t)(end - colon - 1));
	else
		buf_puts(port, SSH_PORT);
	return true;
}

/* Do two sftp:// URLs name the same server (host and port)? */
static bool sftp_same_server(const char *a, const char *b)
{
	struct buf ha = BUF_INIT, pa = BUF_INIT, hb = BUF_INIT, pb = BUF_INIT;
	bool same = sftp_host_port(a, &ha, &pa) && sftp_host_port(b, &hb, &pb) &&
	            str_eq(buf_str(&ha), buf_str(&hb)) && str_eq(buf_str(&pa), buf_str(&pb));

	buf_free(&ha);
	buf_free(&pa);
	buf_free(&hb);
	buf_free(&pb);
	return same;
}

static bool has_ssh_settings(const struct source_conf *src)
{
	return src->ssh_host_key_sha256 || src->ssh_known_hosts;
}

/* The source whose host key settings apply to url: the source or delta
 * source on the same server that has some, else the first that has any
 * (a known_hosts file may hold several servers; a fingerprint of another
 * server fails the check, which is safe), else NULL. */
static const struct source_conf *ssh_source(const struct supplier_conf *sup, const char *url)
{
	const struct source_conf *cand[2];
	size_t n = 0;

	cand[n++] = &sup->source;
	if (sup->has_delta)
		cand[n++] = &sup->delta.source;
	for (size_t i = 0; i < n; i++)
		if (has_ssh_settings(cand[i]) && sftp_same_server(cand[i]->url, url))
			return cand[i];
	for (size_t i = 0; i < n; i++)
		if (has_ssh_settings(cand[i]))
			return cand[i];
	return NULL;
}

/* The name of libcurl's SSH library ("libssh2/1.10.0"), or NULL. */
static const char *ssh_library(void)
{
	const curl_version_info_data *vi = curl_version_info(CURLVERSION_NOW);

	return vi ? vi->libssh_version : NULL;
}

/* Called by libcurl once it has compared the server's key with the
 * known_hosts file: only a key found there for this host passes. */
static int on_ssh_key(CURL *easy, const struct curl_khkey *knownkey,
                      const struct curl_khkey *foundkey, enum curl_khmatch match, void *ud)
{
	struct http_client *c = ud;

	(void)easy;
	(void)knownkey;
	(void)foundkey;
	c->ssh_match = (int)match;
	return match == CURLKHMATCH_OK ? CURLKHSTAT_FINE : CURLKHSTAT_REJECT;
}

static void err_option_set(struct error *err, const char *option)
{
	if (err)
		snprintf(err->option, sizeof(err->option), "%s", option);
}

/* Can path be read as a known_hosts file?  Sets err (ERRK_CONFIG) naming it,
 * and option ("source.ssh_known_hosts") in file (the supplier file) when
 * option is not NULL, when not. */
static int known_hosts_usable(const char *path, const char *where, const char *option,
                              const char *file, struct error *err)
{
	struct stat st;
	int e = 0;

	if (stat(path, &st) != 0)
		e = errno;
	else if (S_ISDIR(st.st_mode))
		e = EISDIR;
	else if (access(path, R_OK) != 0)
		e = errno;
	if (e == 0)
		return 0;
	if (option && file)
		err_set(err, ERRK_CONFIG,
		        _("%s: the known_hosts file %s (%s in %s) cannot be read: %s"), where, path,
		        option, file, strerror(e));
	else if (option)
		err_set(err, ERRK_CONFIG, _("%s: the known_hosts file %s (%s) cannot be read: %s"),
		        where, path, option, strerror(e));
	else
		err_set(err, ERRK_CONFIG, _("%s: the known_hosts file %s cannot be read: %s"),
		        where, path, strerror(e));
	if (option)
		err_option_set(err, option);
	return -1;
}

/* Before an sftp:// request: sets the handle up so that the server's host
 * key is checked, from source.ssh_host_key_sha256, else
 * source.ssh_known_hosts, else ~/.ssh/known_hosts when it exists, and
 * refuses the request (ERRK_CONFIG) when there is none of them.  Any other
 * URL clears the settings. */
static int ssh_setup(struct http_client *c, const char *url, const char *where,
                     struct error *err)
{
	const struct source_conf *src;
	const char *lib = ssh_library(), *file = c->sup->file;
	char *home_file = NULL;
	struct buf host = BUF_INIT, port = BUF_INIT;
	int rc = -1;

	c->ssh_match = -1;
	free(c->ssh_known_hosts);
	c->ssh_known_hosts = NULL;
	free(c->ssh_host_name);
	c->ssh_host_name = NULL;
	curl_easy_setopt(c->curl, CURLOPT_SSH_KNOWNHOSTS, NULL);
	curl_easy_setopt(c->curl, CURLOPT_SSH_KEYFUNCTION, NULL);
	curl_easy_setopt(c->curl, CURLOPT_SSH_KEYDATA, NULL);
	if (str_startswith(lib, "libssh2/"))
		curl_easy_setopt(c->curl, CURLOPT_SSH_HOST_PUBLIC_KEY_SHA256, NULL);
	if (!url_is_sftp(url))
		return 0;

	/* without an SSH library libcurl refuses the protocol itself */
	if (!lib) {
		rc = 0;
		goto out;
	}
	/* libssh2 and libssh check host keys; another SSH library of libcurl
	 * (wolfSSH) ignores known_hosts */
	if (!str_startswith(lib, "libssh2/") && !str_startswith(lib, "libssh/")) {
		err_set(err, ERRK_CONFIG,
		        _("%s: this libcurl's SSH library (%s) cannot check the server's host key; "
		          "refusing to connect"), where, lib);
		goto out;
	}
	src = ssh_source(c->sup, url);
	if (src && src->ssh_host_key_sha256) {
		/* the loader leaves no "SHA256:" prefix, but a struct filled
		 * elsewhere might; libcurl compares the base64 alone */
		const char *fp = src->ssh_host_key_sha256;

		if (strncasecmp(fp, "SHA256:", 7) == 0)
			fp += 7;
		if (!str_startswith(lib, "libssh2/") ||
		    curl_easy_setopt(c->curl, CURLOPT_SSH_HOST_PUBLIC_KEY_SHA256, fp) != CURLE_OK) {
			err_set(err, ERRK_CONFIG,
			        _("%s: this libcurl (SSH library %s) cannot check a SHA-256 host key "
			          "fingerprint; use source.ssh_known_hosts instead of "
			          "source.ssh_host_key_sha256"), where, lib);
			err_option_set(err, "source.ssh_host_key_sha256");
			goto out;
		}
		rc = 0;
		goto out;
	}
	if (src && src->ssh_known_hosts) {
		if (known_hosts_usable(src->ssh_known_hosts, where,
		                       src == &c->sup->source ||
		                       str_eq(src->ssh_known_hosts, c->sup->source.ssh_known_hosts)
		                       ? "source.ssh_known_hosts" : "delta.ssh_known_hosts",
		                       file, err) != 0)
			goto out;
		c->ssh_known_hosts = xstrdup(src->ssh_known_hosts);
	} else {
		/* interactive use: the user's own file, when there is one */
		const char *home = getenv("HOME");
		struct stat st;

		if (!str_empty(home)) {
			home_file = xasprintf("%s/.ssh/known_hosts", home);
			if (stat(home_file, &st) == 0) {
				if (known_hosts_usable(home_file, where, NULL, NULL, err) != 0)
					goto out;
				c->ssh_known_hosts = home_file;
				home_file = NULL;
			}
		}
	}
	if (!c->ssh_known_hosts) {
		if (file)
			err_set(err, ERRK_CONFIG,
			        _("%s: the server's host key cannot be checked: set "
			          "source.ssh_host_key_sha256 (ssh-keygen -lf) or source.ssh_known_hosts "
			          "in %s"), where, file);
		else
			err_set(err, ERRK_CONFIG,
			        _("%s: the server's host key cannot be checked: set "
			          "source.ssh_host_key_sha256 (ssh-keygen -lf) or "
			          "source.ssh_known_hosts"), where);
		err_option_set(err, "source.ssh_host_key_sha256");
		goto out;
	}
	if (sftp_host_port(url, &host, &port))
		c->ssh_host_name = strcmp(buf_str(&port), SSH_PORT) == 0
		                   ? xstrdup(buf_str(&host))
		                   : xasprintf("[%s]:%s", buf_str(&host), buf_str(&port));
	curl_easy_setopt(c->curl, CURLOPT_SSH_KNOWNHOSTS, c->ssh_known_hosts);
	curl_easy_setopt(c->curl, CURLOPT_SSH_KEYFUNCTION, on_ssh_key);
	curl_easy_setopt(c->curl, CURLOPT_SSH_KEYDATA, c);
	rc = 0;
out:
	buf_free(&host);
	buf_free(&port);
	free(home_file);
	return rc;
}

static void must(CURLcode rc, const char *what)
{
	if (rc != CURLE_OK) {
		fprintf(stderr, _("libcurl refused option %s: %s\n"), what, curl_easy_strerror(rc));
		abort();
	}
}

struct http_client *http_client_new(const struct supplier_conf *sup, const char *ua_extra)
{
	struct http_client *c = xcalloc(1, sizeof(*c));
	const struct auth_conf *a = &sup->auth;
	CURL *h;

	c->sup = sup;
	c->curl = h = curl_easy_init();
	if (!h) {
		fprintf(stderr, _("libcurl could not create a handle (out of memory?)\n"));
		abort();
	}
	c->rng = rng_seed(c);
	c->ua = str_empty(ua_extra) ? xstrdup("dropstock/" PACKAGE_VERSION)
	                            : xasprintf("dropstock/%s %s", PACKAGE_VERSION, ua_extra);
	c->protocols = protocols_supported();

	must(curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, c->protocols), "PROTOCOLS_STR");
	must(curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https"), "REDIR_PROTOCOLS_STR");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, c->ua);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(h, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
	if (sup->timeout_ms > 0)
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)sup->timeout_ms);
	if (sup->connect_timeout_ms > 0)
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)sup->connect_timeout_ms);
	if (sup->max_bytes > 0)
		curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)sup->max_bytes);
	c->ssh_match = -1;

	switch (a->kind) {
	case AUTH_BEARER:
		c->auth_bad = has_crlf(a->token.value);
		if (!c->auth_bad) {
			char *line = xasprintf("Authorization: Bearer %s", token_value(&a->token));
			c->headers = curl_slist_append(c->headers, line);
			free(line);
		}
		break;
	case AUTH_HEADER:
		c->auth_bad = has_crlf(a->token.value) || has_crlf(a->header) ||
		              str_empty(a->header) || strchr(a->header, ':');
		if (!c->auth_bad) {
			char *line = xasprintf("%s: %s", a->header, token_value(&a->token));
			c->headers = curl_slist_append(c->headers, line);
			free(line);
		}
		break;
	case AUTH_BASIC:
		curl_easy_setopt(h, CURLOPT_USERNAME, a->username ? a->username : "");
		curl_easy_setopt(h, CURLOPT_PASSWORD, token_value(&a->password));
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		break;
	case AUTH_QUERY:
	case AUTH_NONE:
	default:
		break;
	}
	if (c->headers)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);

	if (sup->rate_per_hour > 0 && sup->rate_per_hour <= HOUR_RING_MAX) {
		c->hour_cap = (size_t)sup->rate_per_hour;
		c->hour = xcalloc(c->hour_cap, sizeof(*c->hour));
	}
	return c;
}

void http_client_free(struct http_client *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->curl);
	curl_slist_free_all(c->headers);
	free(c->ua);
	free(c->protocols);
	free(c->hour);
	free(c->ssh_known_hosts);
	free(c->ssh_host_name);
	free(c);
}

void http_client_set_cancel(struct http_client *c, int (*cancelled)(void *ud), void *ud)
{
	c->cancelled = cancelled;
	c->cancel_ud = ud;
}

/* ---- rate limit ---- */

static int rate_wait(struct http_client *c, const char *where, struct error *err)
{
	const struct supplier_conf *sup = c->sup;
	int64_t now = time_mono_ms();

	if (sup->rate_per_sec > 0 && c->last_start) {
		int64_t spacing = (int64_t)(1000.0 / sup->rate_per_sec + 0.5);
		if (now < c->last_start + spacing) {
			if (sleep_ms(c, c->last_start + spacing - now) != 0)
				goto cancelled;
			now = time_mono_ms();
		}
	}
	if (c->hour) {
		while (c->hour_n > 0 && c->hour[c->hour_head] <= now - HOUR_MS) {
			c->hour_head = (c->hour_head + 1) % c->hour_cap;
			c->hour_n--;
		}
		if (c->hour_n >= c->hour_cap) {
			int64_t wait = c->hour[c->hour_head] + HOUR_MS - now;
			if (wait > sup->max_retry_wait_ms)
				return err_set(err, ERRK_TRANSIENT,
				               P_("%s: hourly rate limit of %lld request reached "
				                  "(next request allowed in %lld s)",
				                  "%s: hourly rate limit of %lld requests reached "
				                  "(next request allowed in %lld s)", sup->rate_per_hour),
				               where, (long long)sup->rate_per_hour,
				               (long long)((wait + 999) / 1000));
			if (sleep_ms(c, wait) != 0)
				goto cancelled;
			now = time_mono_ms();
			c->hour_head = (c->hour_head + 1) % c->hour_cap;
			c->hour_n--;
		}
		c->hour[(c->hour_head + c->hour_n) % c->hour_cap] = now;
		c->hour_n++;
	}
	c->last_start = now;
	return 0;
cancelled:
	return err_set(err, ERRK_INTERRUPTED, _("%s: stopped while waiting for the rate limit"),
	               where);
}

/* ---- body handling ---- */

static int sink_out(struct attempt *a, const char *p, size_t n)
{
	int64_t max = a->c->sup->max_bytes;

	if (n == 0)
		return 0;
	if (max > 0 && a->delivered + (int64_t)n > max) {
		a->why = ABORT_TOO_LARGE;
		return -1;
	}
	a->delivered += (int64_t)n;
	if (a->sink && a->sink->data && a->sink->data(a->sink->ud, p, n, &a->sink_err) != 0) {
		a->why = ABORT_SINK;
		return -1;
	}
	return 0;
}

static int gz_fail(struct attempt *a, const char *why)
{
	err_set(&a->sink_err, ERRK_PERMANENT, _("invalid gzip data: %s"), why ? why : "?");
	a->why = ABORT_GZIP;
	return -1;
}

/* Runs n bytes through inflate and on to the sink; *used gets what was
 * consumed (less than n when a gzip member ended inside this chunk). */
static int gz_inflate(struct attempt *a, const unsigned char *p, size_t n, size_t *used)
{
	a->zs.next_in = (Bytef *)p;
	a->zs.avail_in = (uInt)n;
	while (a->zs.avail_in > 0) {
		int zr;

		a->zs.next_out = a->zout;
		a->zs.avail_out = INFLATE_CHUNK;
		zr = inflate(&a->zs, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
			return gz_fail(a, a->zs.msg);
		if (sink_out(a, (const char *)a->zout, INFLATE_CHUNK - a->zs.avail_out) != 0)
			return -1;
		if (zr == Z_STREAM_END) {
			a->zended = true;
			break;
		}
		if (zr == Z_BUF_ERROR && a->zs.avail_out == INFLATE_CHUNK)
			return gz_fail(a, a->zs.msg);   /* no progress possible */
	}
	/* drain output still held after the input was consumed */
	while (!a->zended) {
		int zr;

		a->zs.next_out = a->zout;
		a->zs.avail_out = INFLATE_CHUNK;
		zr = inflate(&a->zs, Z_NO_FLUSH);
		if (zr == Z_BUF_ERROR)
			break;
		if (zr != Z_OK && zr != Z_STREAM_END)
			return gz_fail(a, a->zs.msg);
		if (sink_out(a, (const char *)a->zout, INFLATE_CHUNK - a->zs.avail_out) != 0)
			return -1;
		if (zr == Z_STREAM_END)
			a->zended = true;
		else if (a->zs.avail_out != 0)
			break;
	}
	*used = n - a->zs.avail_in;
	return 0;
}

/* Feeds body bytes: decides raw or gzip from the first two bytes (and again
 * after each gzip member, for concatenated members). */
static int body_feed(struct attempt *a, const unsigned char *p, size_t n)
{
	while (n > 0) {
		size_t used;

		switch (a->gz) {
		case GZ_RAW:
			return sink_out(a, (const char *)p, n);
		case GZ_TRAIL:
			return 0;
		case GZ_UNDECIDED:
		case GZ_GAP:
			while (a->npending < 2 && n > 0) {
				a->pending[a->npending++] = *p++;
				n--;
			}
			if (a->npending < 2)
				return 0;
			if (a->pending[0] == 0x1f && a->pending[1] == 0x8b) {
				if (!a->zinit) {
					memset(&a->zs, 0, sizeof(a->zs));
					if (inflateInit2(&a->zs, 16 + MAX_WBITS) != Z_OK)
						return gz_fail(a, a->zs.msg);
					a->zinit = true;
					a->zout = xmalloc(INFLATE_CHUNK);
				} else {
					inflateReset(&a->zs);
				}
				a->zended = false;
				a->gz = GZ_INFLATE;
				a->npending = 0;
				if (gz_inflate(a, a->pending, 2, &used) != 0)
					return -1;
			} else if (a->gz == GZ_GAP) {
				/* bytes after the last member (padding): ignored, as gzip does */
				a->gz = GZ_TRAIL;
				a->npending = 0;
				return 0;
			} else {
				a->gz = GZ_RAW;
				a->npending = 0;
				if (sink_out(a, (const char *)a->pending, 2) != 0)
					return -1;
			}
			break;
		case GZ_INFLATE:
			if (gz_inflate(a, p, n, &used) != 0)
				return -1;
			p += used;
			n -= used;
			if (a->zended)
				a->gz = GZ_GAP;
			break;
		}
		if (a->gz == GZ_INFLATE && a->zended)
			a->gz = GZ_GAP;
	}
	return 0;
}

/* At the end of a good transfer: flush what is held back. */
static int body_finish(struct attempt *a)
{
	switch (a->gz) {
	case GZ_UNDECIDED:
		if (a->npending > 0) {
			a->gz = GZ_RAW;
			return sink_out(a, (const char *)a->pending, a->npending);
		}
		return 0;
	case GZ_INFLATE:
		if (!a->zended)
			return gz_fail(a, _("compressed data ends early (truncated file?)"));
		return 0;
	case GZ_RAW:
	case GZ_GAP:
	case GZ_TRAIL:
	default:
		return 0;
	}
}

static void begin_once(struct attempt *a)
{
	if (!a->began) {
		a->began = true;
		if (a->sink && a->sink->begin)
			a->sink->begin(a->sink->ud);
	}
}

/* Is the transfer in progress (or just done) HTTP(S)? */
static bool scheme_is_http(struct http_client *c)
{
	char *scheme = NULL;

	if (curl_easy_getinfo(c->curl, CURLINFO_SCHEME, &scheme) != CURLE_OK || !scheme)
		return false;
	return strncasecmp(scheme, "http", 4) == 0;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct attempt *a = ud;
	size_t n = size * nmemb;

	if (!a->body_seen) {
		long code = 0;

		a->body_seen = true;
		if (scheme_is_http(a->c)) {
			curl_easy_getinfo(a->c->curl, CURLINFO_RESPONSE_CODE, &code);
			a->to_sink = code >= 200 && code < 300;
		} else {
			a->to_sink = true;
		}
	}
	if (!a->to_sink) {
		if (a->errbody.len < ERRBODY_MAX)
			buf_append(&a->errbody, ptr,
			           n < ERRBODY_MAX - a->errbody.len ? n : ERRBODY_MAX - a->errbody.len);
		return n;
	}
	begin_once(a);
	if (body_feed(a, (const unsigned char *)ptr, n) != 0)
		return 0;   /* aborts the transfer with CURLE_WRITE_ERROR */
	return n;
}

/* Seconds or an HTTP date -> milliseconds to wait; -1 when unreadable. */
static int64_t parse_retry_after(const char *v)
{
	int64_t secs;
	double d;

	if (str_to_i64(v, &secs))
		return secs < 0 ? 0 : secs * 1000;
	if (str_to_double(v, &d))
		return d < 0 ? 0 : (int64_t)(d * 1000.0);
	{
		time_t t = curl_getdate(v, NULL);
		if (t == (time_t)-1)
			return -1;
		int64_t ms = (int64_t)t * 1000 - time_now_ms();
		return ms < 0 ? 0 : ms;
	}
}

/* X-Ratelimit-Reset: seconds to wait, or an epoch time when > 10^9. */
static int64_t parse_reset(const char *v)
{
	double d;

	if (!str_to_double(v, &d) || d < 0)
		return -1;
	if (d > 1e9) {
		int64_t ms = (int64_t)(d * 1000.0) - time_now_ms();
		return ms < 0 ? 0 : ms;
	}
	return (int64_t)(d * 1000.0);
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct attempt *a = ud;
	size_t n = size * nmemb, nlen;
	char *line, *colon, *val;

	if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
		/* a new response (after a redirect or 1xx): forget the earlier one */
		const char *sp = memchr(ptr, ' ', n), *end = ptr + n;

		buf_reset(&a->link);
		buf_reset(&a->errbody);
		a->retry_after_ms = -1;
		a->reset_ms = -1;
		a->reason[0] = '\0';
		a->body_seen = false;
		if (sp) {
			const char *r;
			sp++;
			while (sp < end && isdigit((unsigned char)*sp))
				sp++;
			r = sp;
			while (r < end && *r == ' ')
				r++;
			size_t rl = (size_t)(end - r);
			while (rl > 0 && (r[rl - 1] == '\r' || r[rl - 1] == '\n' || r[rl - 1] == ' '))
				rl--;
			if (rl >= sizeof(a->reason))
				rl = sizeof(a->reason) - 1;
			memcpy(a->reason, r, rl);
			a->reason[rl] = '\0';
		}
		return n;
	}
	colon = memchr(ptr, ':', n);
	if (!colon)
		return n;
	nlen = (size_t)(colon - ptr);
	line = xstrndup(ptr, n);
	line[nlen] = '\0';
	val = str_trim(line + nlen + 1);
	if (strcasecmp(line, "Link") == 0) {
		if (a->link.len)
			buf_puts(&a->link, ", ");
		buf_puts(&a->link, val);
	} else if (strcasecmp(line, "Retry-After") == 0) {
		a->retry_after_ms = parse_retry_after(val);
	} else if (strcasecmp(line, "X-Ratelimit-Reset") == 0 ||
	           strcasecmp(line, "RateLimit-Reset") == 0) {
		a->reset_ms = parse_reset(val);
	}
	free(line);
	return n;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
	struct http_client *c = ud;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return is_cancelled(c) ? 1 : 0;
}

static void attempt_reset(struct attempt *a)
{
	buf_reset(&a->link);
	buf_reset(&a->errbody);
	a->reason[0] = '\0';
	a->retry_after_ms = -1;
	a->reset_ms = -1;
	a->to_sink = false;
	a->body_seen = false;
	a->began = false;
	a->gz = GZ_UNDECIDED;
	a->npending = 0;
	a->zended = false;
	a->delivered = 0;
	a->why = ABORT_NONE;
	err_clear(&a->sink_err);
}

static void attempt_free(struct attempt *a)
{
	buf_free(&a->link);
	buf_free(&a->errbody);
	if (a->zinit)
		inflateEnd(&a->zs);
	free(a->zout);
}

/* The start of an error body, made printable on one line. */
static char *body_snippet(const struct buf *b)
{
	struct buf o = BUF_INIT;
	bool space = false;
	size_t n = b->len;

	/* do not end inside a UTF-8 sequence */
	if (n == ERRBODY_MAX) {
		size_t k = n;
		while (k > 0 && ((unsigned char)b->data[k - 1] & 0xC0) == 0x80)
			k--;
		if (k > 0 && ((unsigned char)b->data[k - 1] & 0x80))
			n = k - 1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)b->data[i];

		if (ch < 0x20 || ch == 0x7f || ch == ' ') {
			space = true;
			continue;
		}
		if (space && o.len)
			buf_putc(&o, ' ');
		space = false;
		buf_putc(&o, (char)ch);
	}
	if (b->len == ERRBODY_MAX)
		buf_puts(&o, "...");
	return buf_steal(&o);
}

static const char *status_reason(long code)
{
	switch (code) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 410: return "Gone";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "";
	}
}

static bool curl_retryable(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_FTP_ACCEPT_TIMEOUT:
	case CURLE_FTP_ACCEPT_FAILED:
	case CURLE_FTP_CANT_GET_HOST:
	case CURLE_FTP_WEIRD_PASV_REPLY:
	case CURLE_FTP_WEIRD_227_FORMAT:
	case CURLE_AGAIN:
		return true;
	default:
		return false;
	}
}

/* Why an sftp server's host key was refused.  Caller frees. */
static char *ssh_cause(struct http_client *c, const char *detail)
{
	const char *host = c->ssh_host_name ? c->ssh_host_name : "?";

	if (c->ssh_known_hosts && c->ssh_match == CURLKHMATCH_MISMATCH)
		return xasprintf(_("SSH host key verification failed: the server's host key is not "
		                   "the one %s gives for %s (the key was changed, or someone is "
		                   "in between)"), c->ssh_known_hosts, host);
	if (c->ssh_known_hosts && c->ssh_match == CURLKHMATCH_MISSING)
		return xasprintf(_("SSH host key verification failed: %s has no key for %s"),
		                 c->ssh_known_hosts, host);
	if (c->ssh_known_hosts && c->ssh_match < 0)
		return xasprintf(_("SSH host key verification failed: %s (known_hosts file %s)"),
		                 detail, c->ssh_known_hosts);
	return xasprintf(_("SSH host key verification failed: %s"), detail);
}

/* The cause of a failed curl transfer, without the URL.  Caller frees. */
static char *curl_cause(struct http_client *c, CURLcode rc, const char *url)
{
	const char *detail = c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc);
	curl_off_t connect_us = 0, pretransfer_us = 0;

	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		curl_easy_getinfo(c->curl, CURLINFO_CONNECT_TIME_T, &connect_us);
		curl_easy_getinfo(c->curl, CURLINFO_PRETRANSFER_TIME_T, &pretransfer_us);
		if (connect_us == 0 && pretransfer_us == 0 && c->sup->connect_timeout_ms > 0 &&
		    (c->sup->timeout_ms <= 0 || c->sup->connect_timeout_ms < c->sup->timeout_ms))
			return xasprintf(_("could not connect: timed out after %lld ms"),
			                 (long long)c->sup->connect_timeout_ms);
		return xasprintf(_("timed out after %lld ms"), (long long)c->sup->timeout_ms);
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		return xasprintf(_("could not connect: %s"), detail);
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
		return xasprintf(_("transfer broken off: %s"), detail);
	case CURLE_UNSUPPORTED_PROTOCOL: {
		const char *se = strstr(url, "://");
		struct buf list = BUF_INIT;
		char *msg;
		for (const char *p = c->protocols; *p; p++) {
			if (*p == ',')
				buf_puts(&list, ", ");
			else
				buf_putc(&list, *p);
		}
		msg = xasprintf(_("protocol %.*s is not allowed (allowed: %s)"),
		                se ? (int)(se - url) : 0, url, buf_str(&list));
		buf_free(&list);
		return msg;
	}
	case CURLE_PEER_FAILED_VERIFICATION:
		if (url_is_sftp(url))
			return ssh_cause(c, detail);
		return xasprintf(_("TLS certificate verification failed: %s"), detail);
	case CURLE_SSL_CACERT_BADFILE:
		return xasprintf(_("TLS certificate verification failed: %s"), detail);
	case CURLE_SSL_CONNECT_ERROR:
		return xasprintf(_("TLS handshake failed: %s"), detail);
	case CURLE_TOO_MANY_REDIRECTS:
		return xasprintf(_("too many redirects (more than 5)"));
	case CURLE_LOGIN_DENIED:
		return xasprintf(_("login denied: %s"), detail);
	case CURLE_REMOTE_FILE_NOT_FOUND:
	case CURLE_FILE_COULDNT_READ_FILE:
		return xasprintf(_("file not found or unreadable: %s"), detail);
	case CURLE_URL_MALFORMAT:
		return xasprintf(_("malformed URL: %s"), detail);
	case CURLE_FILESIZE_EXCEEDED:
		return xasprintf(P_("response larger than %lld byte", "response larger than %lld bytes",
		                    c->sup->max_bytes),
		                 (long long)c->sup->max_bytes);
	default:
		return xstrdup(detail);
	}
}

/* Wait before retry number `retry` (0-based). */
static int64_t backoff_ms(struct http_client *c, int retry, const struct attempt *a)
{
	const struct supplier_conf *sup = c->sup;
	int64_t wait;

	if (a && a->retry_after_ms >= 0) {
		wait = a->retry_after_ms;
	} else if (a && a->reset_ms >= 0) {
		wait = a->reset_ms;
	} else {
		double base = (double)(sup->retry_delay_ms > 0 ? sup->retry_delay_ms : 0);
		double f = 0.8 + 0.4 * rng_unit(&c->rng);
		for (int i = 0; i < retry && base < 1e12; i++)
			base *= 2;
		wait = (int64_t)(base * f);
	}
	if (sup->max_retry_wait_ms >= 0 && wait > sup->max_retry_wait_ms)
		wait = sup->max_retry_wait_ms;
	return wait < 0 ? 0 : wait;
}

enum outcome { OUT_OK, OUT_RETRY, OUT_FAIL };

/* Is url an http:// or https:// URL? */
static bool url_is_http(const char *url)
{
	return strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0;
}

/* Is every extra header line "Name: value" on one line?  Sets *bad to the
 * 1-based position of the first that is not. */
static bool headers_ok(const char *const *headers, size_t *bad)
{
	for (size_t i = 0; headers && headers[i]; i++) {
		const char *colon = strchr(headers[i], ':');

		if (!colon || colon == headers[i] || has_crlf(headers[i]) ||
		    strcspn(headers[i], " \t") < (size_t)(colon - headers[i])) {
			*bad = i + 1;
			return false;
		}
	}
	return true;
}

/* Sets the handle up for a POST of body (not copied: it must outlive the
 * request) with its Content-Type, on top of the client's own headers, and
 * the options (may be NULL).  *list receives the request's header list;
 * the caller frees it after post_reset(). */
static void post_setup(struct http_client *c, const char *body, size_t len,
                       const char *content_type, const struct http_post_opts *opts,
                       struct curl_slist **list)
{
	char *line;

	for (struct curl_slist *h = c->headers; h; h = h->next)
		*list = curl_slist_append(*list, h->data);
	line = xasprintf("Content-Type: %s", content_type);
	*list = curl_slist_append(*list, line);
	free(line);
	/* no "Expect: 100-continue" round trip before a large body */
	*list = curl_slist_append(*list, "Expect:");
	for (size_t i = 0; opts && opts->headers && opts->headers[i]; i++)
		*list = curl_slist_append(*list, opts->headers[i]);
	if (opts && opts->no_redirects)
		curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, *list);
}

/* Puts the reused handle back to a plain GET with the client's headers. */
static void post_reset(struct http_client *c)
{
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, NULL);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)-1);
	curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 1L);
}

/* One request: GET (body NULL) or POST (body, len, content_type, opts), with
 * the retries, auth, limits and masking described in http.h. */
static int request(struct http_client *c, const char *url, const char *body, size_t len,
                   const char *content_type, const struct http_post_opts *opts,
                   const struct http_sink *sink, struct http_result *res, struct error *err)
{
	const struct supplier_conf *sup = c->sup;
	const char *method = body ? "POST" : "GET";
	struct attempt a;
	struct curl_slist *post_headers = NULL;
	size_t bad_header = 0;
	bool posting = false;
	char *full = NULL, *masked = NULL, *where = NULL;
	int rc = -1, max_attempts = 1 + (sup->retries > 0 ? sup->retries : 0);
	char *last_cause = NULL;     /* for the final message */
	enum err_kind last_kind = ERRK_TRANSIENT;

	memset(res, 0, sizeof(*res));
	memset(&a, 0, sizeof(a));
	a.c = c;
	a.sink = sink;
	a.retry_after_ms = -1;
	a.reset_ms = -1;

	if (!url || !*url) {
		err_set(err, ERRK_PERMANENT, _("%s: no URL given"), method);
		goto out;
	}
	if (sup->auth.kind == AUTH_QUERY && !str_empty(sup->auth.param) &&
	    !url_has_param(url, sup->auth.param))
		full = http_url_add_param(url, sup->auth.param, token_value(&sup->auth.token));
	else
		full = xstrdup(url);
	masked = http_url_mask(full, mask_param(sup));
	where = xasprintf("%s %s", method, masked);
	if (c->auth_bad) {
		err_set(err, ERRK_CONFIG,
		        _("%s: the auth header name or token holds a line break or colon; refusing to send it"),
		        where);
		goto out;
	}
	if (body) {
		if (!url_is_http(full)) {
			err_set(err, ERRK_CONFIG,
			        _("%s: only http and https URLs can take a POST request"), where);
			goto out;
		}
		if (str_empty(content_type) || has_crlf(content_type)) {
			err_set(err, ERRK_CONFIG,
			        _("%s: the Content-Type is empty or holds a line break; "
			          "refusing to send it"), where);
			goto out;
		}
		if (opts && !headers_ok(opts->headers, &bad_header)) {
			err_set(err, ERRK_CONFIG,
			        _("%s: extra request header %zu is not \"Name: value\" on one line; "
			          "refusing to send it"), where, bad_header);
			goto out;
		}
		post_setup(c, body, len, content_type, opts, &post_headers);
		posting = true;
	}
	/* sftp: no connection without a way to check the server's host key */
	if (ssh_setup(c, full, where, err) != 0)
		goto out;
	curl_easy_setopt(c->curl, CURLOPT_URL, full);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &a);
	curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, &a);
	if (c->cancelled) {
		curl_easy_setopt(c->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, c);
		curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 0L);
	} else {
		curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 1L);
	}

	for (int attempt = 0; attempt < max_attempts; attempt++) {
		enum outcome oc = OUT_FAIL;
		CURLcode cr;
		long code = 0, nconn = 0;

		if (attempt > 0) {
			int64_t wait = backoff_ms(c, attempt - 1, &a);
			if (sleep_ms(c, wait) != 0) {
				err_set(err, ERRK_INTERRUPTED, _("%s: stopped while waiting to retry"),
				        where);
				goto out;
			}
		}
		if (rate_wait(c, where, err) != 0)
			goto out;
		attempt_reset(&a);
		c->errbuf[0] = '\0';
		c->ssh_match = -1;
		res->attempts = attempt + 1;
		cr = curl_easy_perform(c->curl);
		curl_easy_getinfo(c->curl, CURLINFO_NUM_CONNECTS, &nconn);
		res->connects += (int)nconn;
		if (scheme_is_http(c))
			curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &code);
		res->status = code;
		free(last_cause);
		last_cause = NULL;

		if (cr == CURLE_OK && (!scheme_is_http(c) || (code >= 200 && code < 300))) {
			if (body_finish(&a) != 0) {
				cr = CURLE_WRITE_ERROR;
			} else {
				begin_once(&a);   /* an empty body still starts a fresh attempt */
				oc = OUT_OK;
			}
		}
		if (oc == OUT_OK)
			break;

		if (cr == CURLE_WRITE_ERROR && a.why != ABORT_NONE) {
			if (a.why == ABORT_TOO_LARGE)
				err_set(err, ERRK_PERMANENT, P_("%s: response larger than %lld byte",
				                                "%s: response larger than %lld bytes",
				                                sup->max_bytes),
				        where, (long long)sup->max_bytes);
			else
				err_set(err, a.sink_err.kind != ERRK_NONE ? a.sink_err.kind : ERRK_PERMANENT,
				        "%s", a.sink_err.msg[0] ? a.sink_err.msg : _("stopped by the consumer"));
			if (a.why == ABORT_GZIP)
				err_prefix(err, "%s", where);
			goto out;
		}
		if (cr == CURLE_ABORTED_BY_CALLBACK && is_cancelled(c)) {
			err_set(err, ERRK_INTERRUPTED, _("%s: stopped during the transfer"), where);
			goto out;
		}
		if (cr != CURLE_OK) {
			last_cause = curl_cause(c, cr, full);
			last_kind = curl_retryable(cr) ? ERRK_TRANSIENT : ERRK_PERMANENT;
			if (last_kind == ERRK_PERMANENT) {
				err_set(err, ERRK_PERMANENT, "%s: %s", where, last_cause);
				goto out;
			}
			continue;
		}
		/* an HTTP error status */
		{
			const char *reason = a.reason[0] ? a.reason : status_reason(code);
			char *snip = body_snippet(&a.errbody);
			enum err_kind kind = ERRK_PERMANENT;

			last_cause = xasprintf("HTTP %ld%s%s", code, *reason ? " " : "", reason);
			if (code == 429 || code >= 500) {
				kind = last_kind = ERRK_TRANSIENT;
				if (attempt + 1 < max_attempts) {
					free(snip);
					continue;
				}
			}
			/* "after N attempts" only when there were retries */
			if (kind == ERRK_TRANSIENT && attempt > 0) {
				if (*snip)
					/* TRANSLATORS: "GET URL: HTTP 503 Service Unavailable after
					   3 attempts: <the start of the response body>" */
					err_set(err, ERRK_TRANSIENT, P_("%s: %s after %d attempt: %s",
					                                "%s: %s after %d attempts: %s",
					                                attempt + 1),
					        where, last_cause, attempt + 1, snip);
				else
					err_set(err, ERRK_TRANSIENT, P_("%s: %s after %d attempt",
					                                "%s: %s after %d attempts",
					                                attempt + 1),
					        where, last_cause, attempt + 1);
			} else if (*snip) {
				err_set(err, kind, "%s: %s: %s", where, last_cause, snip);
			} else {
				err_set(err, kind, "%s: %s", where, last_cause);
			}
			if (*snip)
				res->error_body = snip;
			else
				free(snip);
			goto out;
		}
	}
	if (last_cause) {
		/* retryable transport failure on the last attempt */
		if (res->attempts > 1)
			err_set(err, last_kind, P_("%s: %s (%d attempt)", "%s: %s (%d attempts)",
			                           res->attempts),
			        where, last_cause, res->attempts);
		else
			err_set(err, last_kind, "%s: %s", where, last_cause);
		goto out;
	}

	/* success */
	{
		char *ct = NULL, *eff = NULL;

		res->bytes = a.delivered;
		if (curl_easy_getinfo(c->curl, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
			res->content_type = xstrdup(ct);
		if (a.link.len) {
			curl_easy_getinfo(c->curl, CURLINFO_EFFECTIVE_URL, &eff);
			res->link_next = http_link_next(buf_str(&a.link), eff ? eff : full);
		}
	}
	rc = 0;
out:
	if (rc != 0)
		res->bytes = a.delivered;
	res->retry_after_ms = a.retry_after_ms;
	/* no dangling pointers to this call's state in the reused handle */
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, NULL);
	curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, NULL);
	if (posting)
		post_reset(c);
	curl_slist_free_all(post_headers);
	attempt_free(&a);
	free(last_cause);
	free(full);
	free(masked);
	free(where);
	return rc;
}

int http_get(struct http_client *c, const char *url, const struct http_sink *sink,
             struct http_result *res, struct error *err)
{
	return request(c, url, NULL, 0, NULL, NULL, sink, res, err);
}

int http_post_ex(struct http_client *c, const char *url, const char *body, size_t len,
                 const char *content_type, const struct http_post_opts *opts,
                 const struct http_sink *sink, struct http_result *res, struct error *err)
{
	return request(c, url, body ? body : "", body ? len : 0,
	               content_type ? content_type : "application/octet-stream", opts, sink, res,
	               err);
}

int http_post(struct http_client *c, const char *url, const char *body, size_t len,
              const char *content_type, const struct http_sink *sink, struct http_result *res,
              struct error *err)
{
	return http_post_ex(c, url, body, len, content_type, NULL, sink, res, err);
}

/* ---- buffer convenience ---- */

static int buf_begin(void *ud)
{
	buf_reset(ud);
	return 0;
}

static int buf_data(void *ud, const char *bytes, size_t len, struct error *err)
{
	(void)err;
	buf_append(ud, bytes, len);
	return 0;
}

int http_get_buf(struct http_client *c, const char *url, struct buf *out,
                 struct http_result *res, struct error *err)
{
	struct http_sink sink = { buf_begin, buf_data, out };

	buf_reset(out);
	return http_get(c, url, &sink, res, err);
}

int http_post_buf_ex(struct http_client *c, const char *url, const char *body, size_t len,
                     const char *content_type, const struct http_post_opts *opts,
                     struct buf *out, struct http_result *res, struct error *err)
{
	struct http_sink sink = { buf_begin, buf_data, out };

	buf_reset(out);
	return http_post_ex(c, url, body, len, content_type, opts, &sink, res, err);
}

int http_post_buf(struct http_client *c, const char *url, const char *body, size_t len,
                  const char *content_type, struct buf *out, struct http_result *res,
                  struct error *err)
{
	return http_post_buf_ex(c, url, body, len, content_type, NULL, out, res, err);
}

/* ---- global ---- */

void http_global_init(void)
{
	/* OpenSSL may write to a socket the peer closed; with CURLOPT_NOSIGNAL
	 * that would raise SIGPIPE and kill the process. */
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void http_global_cleanup(void)
{
	curl_global_cleanup();
}
