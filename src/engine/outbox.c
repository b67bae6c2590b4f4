/* outbox.c - delivering the outbox's events to the store (see outbox.h).
 *
 * A pass walks the pending events in id order and takes the due ones whose
 * product has no earlier pending event that is not due (per-product order),
 * up to events.batch at a time.  Each batch goes to the command (one run
 * per event) and/or the HTTP endpoint (one signed POST), and its results are
 * written in one transaction.  Selection always uses the caller's `now`:
 * an event that failed is due again only after now, so a pass ends.
 *
 * The POST goes through feed/http.h (http_post_ex: the webhook-* headers,
 * no redirects) with a client of its own that makes no retries: the
 * outbox's backoff decides when to try again, from the status and
 * Retry-After the client reports.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/outbox.h"
#include "engine/signature.h"
#include "engine/sync.h"
#include "feed/http.h"

extern char **environ;

#define OUTBOX_LOCK ".outbox"            /* never a supplier slug: those start [a-z0-9] */
#define SNIPPET_MAX 200                  /* bytes of an answer or output kept in last_error */
#define KEEP_MAX (64 * 1024)             /* bytes of a command's output read into memory */
#define DEFAULT_BATCH 50
#define DEFAULT_TIMEOUT_MS 10000
#define DEFAULT_FIRST_BACKOFF_MS 10000
#define DEFAULT_MAX_BACKOFF_MS 3600000
#define DEFAULT_GIVE_UP_MS 86400000      /* when negative (never from the loader) */
#define POLL_SLICE_MS 50

enum ev_state {
	EV_NEW = 0,      /* not tried yet this pass */
	EV_CMD_OK,       /* the command succeeded; the POST is still to come */
	EV_OK,           /* delivered */
	EV_FAIL,         /* an attempt failed: rescheduled or dead */
	EV_SKIP,         /* an earlier event of its product failed in this batch */
	EV_STOPPED,      /* cut short by the stop flag: left as it was */
};

struct ev {
	int64_t id, product_id, created_at, attempts;
	char *kind;
	char *json;              /* the payload with the id spliced in */
	enum ev_state state;
	char *error;             /* EV_FAIL */
	int64_t next_at;         /* EV_FAIL */
	bool dead;               /* EV_FAIL */
};

/* A small set of product ids (open addressing). */
struct idset {
	int64_t *v;
	bool *used;
	size_t cap, n;
};

struct pass {
	struct db *db;
	const struct conf *c;
	const struct events_conf *ev;
	int64_t now;             /* the caller's now: selection time */
	int64_t mono0;
	volatile sig_atomic_t *stop;
	uint64_t rng;
	int64_t max_id;          /* events created after the pass started wait for the next */
	int batch;
	int64_t timeout_ms, first_backoff_ms, max_backoff_ms, give_up_ms;
	/* HTTP */
	struct supplier_conf http_conf;   /* the client's settings: must outlive it */
	struct http_client *http;
	struct webhook_conf wh;
	struct secret sec;
	char *sec_owned;         /* the text secret turned into whsec_BASE64, wiped on exit */
	struct outbox_pass *out;
};

/* ---- small helpers ---- */

static int64_t pass_time(const struct pass *ps)
{
	return ps->now + (time_mono_ms() - ps->mono0);
}

static bool stopped(const struct pass *ps)
{
	return ps->stop && *ps->stop;
}

static size_t idset_slot(const struct idset *s, int64_t id)
{
	uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15ULL;

	return (size_t)(h >> 17) & (s->cap - 1);
}

static bool idset_has(const struct idset *s, int64_t id)
{
	size_t i;

	if (s->cap == 0)
		return false;
	for (i = idset_slot(s, id); s->used[i]; i = (i + 1) & (s->cap - 1))
		if (s->v[i] == id)
			return true;
	return false;
}

static void idset_add(struct idset *s, int64_t id)
{
	size_t i;

	if (idset_has(s, id))
		return;
	if ((s->n + 1) * 2 > s->cap) {
		struct idset bigger = { NULL, NULL, s->cap ? s->cap * 2 : 64, 0 };

		bigger.v = xcalloc(bigger.cap, sizeof(*bigger.v));
		bigger.used = xcalloc(bigger.cap, sizeof(*bigger.used));
		for (i = 0; i < s->cap; i++)
			if (s->used[i])
				idset_add(&bigger, s->v[i]);
		free(s->v);
		free(s->used);
		*s = bigger;
	}
	for (i = idset_slot(s, id); s->used[i]; i = (i + 1) & (s->cap - 1))
		;
	s->used[i] = true;
	s->v[i] = id;
	s->n++;
}

static void idset_free(struct idset *s)
{
	free(s->v);
	free(s->used);
	memset(s, 0, sizeof(*s));
}

/* The first bytes of text on one line, control characters as blanks,
 * "..." when cut. */
static char *snippet(const char *text, size_t len)
{
	size_t n = len < SNIPPET_MAX ? len : SNIPPET_MAX;
	char *s, *t;

	/* do not cut a UTF-8 sequence in half */
	while (n > 0 && n < len && ((unsigned char)text[n] & 0xC0) == 0x80)
		n--;
	s = xstrndup(text, n);
	for (char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	t = str_trim(s);
	t = n < len && *t ? xasprintf("%s...", t) : xstrdup(t);
	free(s);
	return t;
}

/* The event as sent: the stored payload with "id" spliced in first. */
static char *event_json(int64_t id, const char *payload)
{
	struct buf b = BUF_INIT;
	const char *p = payload ? payload : "";
	size_t ws = strspn(p, " \t\r\n");

	if (p[ws] == '{') {
		const char *rest = p + ws + 1;

		buf_printf(&b, "{\"id\":%" PRId64, id);
		if (rest[strspn(rest, " \t\r\n")] != '}')
			buf_putc(&b, ',');
		buf_puts(&b, rest);
	} else {
		/* not an object (never written so by dropstock): as stored */
		buf_puts(&b, p);
	}
	return buf_steal(&b);
}

static void ev_free(struct ev *e)
{
	free(e->kind);
	free(e->json);
	free(e->error);
}

static void batch_free(struct ev *evs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ev_free(&evs[i]);
	free(evs);
}

/* ---- backoff ---- */

/* A jitter factor in [0.8, 1.2). */
static double jitter(struct pass *ps)
{
	return 0.8 + 0.4 * rng_unit(&ps->rng);
}

/* The wait after the attempts-th failed attempt (1-based), times the
 * jitter factor j. */
static int64_t backoff_ms(const struct pass *ps, int64_t attempts, double j)
{
	int64_t d = ps->first_backoff_ms, max = ps->max_backoff_ms;

	for (int64_t i = 1; i < attempts && d < max; i++)
		d = d > max / 2 ? max : d * 2;
	if (d > max)
		d = max;
	d = (int64_t)((double)d * j);
	return d < 1 ? 1 : d;
}

/* Records a failed attempt of e at time t.  Events that fail together (one
 * POST) share the jitter factor j, so they stay together when retried. */
static void ev_fail(struct pass *ps, struct ev *e, const char *why, int64_t retry_after, int64_t t,
                    double j)
{
	int64_t d = backoff_ms(ps, e->attempts + 1, j);

	if (retry_after > d)
		d = retry_after;
	e->state = EV_FAIL;
	free(e->error);
	e->error = xstrdup(why);
	e->next_at = t + d;
	e->dead = t - e->created_at >= ps->give_up_ms;
}

/* ---- choosing a batch ---- */

/* Fills *evs with up to ps->batch deliverable events, in id order. */
static int select_batch(struct pass *ps, struct ev **evs, size_t *n, struct error *err)
{
	sqlite3_stmt *st;
	struct idset blocked = { 0 };
	int64_t min_id = 0;
	size_t cap = 0;
	int rc, ret = -1;

	*evs = NULL;
	*n = 0;
	st = db_stmt(ps->db, "SELECT MIN(id) FROM outbox WHERE delivered_at IS NULL AND dead = 0",
	             err);
	if (!st)
		return -1;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		db_error(ps->db, err, _("finding the oldest pending event"));
		sqlite3_reset(st);
		return -1;
	}
	if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
		sqlite3_reset(st);
		return 0;
	}
	min_id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);

	/* the unary + keeps the planner on the rowid range, in id order */
	st = db_stmt(ps->db,
	             "SELECT id, product_id, next_attempt_at, created_at, attempts, kind, payload"
	             " FROM outbox WHERE id >= ?1 AND id <= ?2"
	             " AND +delivered_at IS NULL AND +dead = 0 ORDER BY id",
	             err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, min_id);
	sqlite3_bind_int64(st, 2, ps->max_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t product = sqlite3_column_int64(st, 1);
		struct ev *e;

		if (idset_has(&blocked, product))
			continue;
		if (sqlite3_column_int64(st, 2) > ps->now) {
			/* not due: it holds back the later events of its product */
			idset_add(&blocked, product);
			continue;
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*evs = xrealloc(*evs, cap * sizeof(**evs));
		}
		e = &(*evs)[(*n)++];
		memset(e, 0, sizeof(*e));
		e->id = sqlite3_column_int64(st, 0);
		e->product_id = product;
		e->created_at = sqlite3_column_int64(st, 3);
		e->attempts = sqlite3_column_int64(st, 4);
		e->kind = xstrdup((const char *)sqlite3_column_text(st, 5));
		e->json = event_json(e->id, (const char *)sqlite3_column_text(st, 6));
		if ((int64_t)*n >= ps->batch)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		db_error(ps->db, err, _("reading pending events"));
		goto out;
	}
	ret = 0;
out:
	sqlite3_reset(st);
	idset_free(&blocked);
	if (ret != 0) {
		batch_free(*evs, *n);
		*evs = NULL;
		*n = 0;
	}
	return ret;
}

/* ---- the command target ---- */

enum outcome { OUT_OK = 0, OUT_FAIL, OUT_STOPPED, OUT_ERROR /* err set: nothing sent */ };

/* "NAME=value" for the child's environment. */
static char **child_env(const struct ev *e)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ && environ[n])
		n++;
	env = xcalloc(n + 3, sizeof(*env));
	for (size_t i = 0; i < n; i++) {
		if (str_startswith(environ[i], "DROPSTOCK_EVENT_ID=") ||
		    str_startswith(environ[i], "DROPSTOCK_EVENT_KIND="))
			continue;
		env[k++] = xstrdup(environ[i]);
	}
	env[k++] = xasprintf("DROPSTOCK_EVENT_ID=%" PRId64, e->id);
	env[k++] = xasprintf("DROPSTOCK_EVENT_KIND=%s", e->kind ? e->kind : "");
	env[k] = NULL;
	return env;
}

static void env_free(char **env)
{
	for (size_t i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}

/* In the child, between fork and exec: async-signal-safe calls only. */
static void child_exec(int in_fd, int out_fd, long maxfd, char *const argv[], char *const envp[])
{
	static const int sigs[] = { SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGALRM,
	                            SIGUSR1, SIGUSR2 };
	struct sigaction sa;
	sigset_t none;

	setpgid(0, 0);
	if (in_fd == 0)
		fcntl(0, F_SETFD, 0);
	else
		dup2(in_fd, 0);
	if (out_fd == 1)
		fcntl(1, F_SETFD, 0);
	else
		dup2(out_fd, 1);
	dup2(out_fd == 2 ? 1 : out_fd, 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	if (close_range(3, ~0U, 0) != 0)
#endif
		for (long fd = 3; fd < maxfd; fd++)
			close((int)fd);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve("/bin/sh", argv, envp);
	_exit(127);
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void kill_group(pid_t pid)
{
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
}

/* Runs events.command with e's JSON (and a newline) on stdin. */
static enum outcome run_command(struct pass *ps, const struct ev *e, char **why)
{
	char *argv[] = { (char *)"sh", (char *)"-c", (char *)ps->ev->command, NULL };
	char **envp = NULL;
	int in[2] = { -1, -1 }, out[2] = { -1, -1 };
	struct buf input = BUF_INIT, output = BUF_INIT;
	size_t written = 0;
	long maxfd;
	pid_t pid;
	int status = 0;
	bool exited = false, timed_out = false;
	enum outcome oc = OUT_FAIL;
	int64_t deadline;

	*why = NULL;
	buf_puts(&input, e->json);
	buf_putc(&input, '\n');
	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
		*why = xasprintf(_("cannot run the events command: pipe: %s"), strerror(errno));
		goto out;
	}
	maxfd = sysconf(_SC_OPEN_MAX);
	if (maxfd < 0 || maxfd > 65536)
		maxfd = 65536;
	envp = child_env(e);
	pid = fork();
	if (pid < 0) {
		*why = xasprintf(_("cannot run the events command: fork: %s"), strerror(errno));
		goto out;
	}
	if (pid == 0)
		child_exec(in[0], out[1], maxfd, argv, envp);
	close(in[0]);
	close(out[1]);
	in[0] = out[1] = -1;
	set_nonblock(in[1]);
	set_nonblock(out[0]);

	deadline = time_mono_ms() + ps->timeout_ms;
	for (;;) {
		struct pollfd fds[2];
		nfds_t nf = 0;
		int64_t left = deadline - time_mono_ms();
		pid_t w;

		if (stopped(ps)) {
			kill_group(pid);
			oc = OUT_STOPPED;
			break;
		}
		if (left <= 0) {
			kill_group(pid);
			timed_out = true;
			break;
		}
		if (in[1] >= 0) {
			fds[nf].fd = in[1];
			fds[nf].events = POLLOUT;
			fds[nf++].revents = 0;
		}
		if (out[0] >= 0) {
			fds[nf].fd = out[0];
			fds[nf].events = POLLIN;
			fds[nf++].revents = 0;
		}
		if (poll(nf ? fds : NULL, nf, (int)(left < POLL_SLICE_MS ? left : POLL_SLICE_MS)) < 0 &&
		    errno != EINTR) {
			kill_group(pid);
			*why = xasprintf(_("events command: poll: %s"), strerror(errno));
			break;
		}
		if (in[1] >= 0) {
			ssize_t k = write(in[1], input.data + written, input.len - written);

			if (k > 0)
				written += (size_t)k;
			if ((k < 0 && errno != EAGAIN && errno != EINTR) || written == input.len) {
				/* done, or the command closed its stdin (EPIPE): its exit status decides */
				close(in[1]);
				in[1] = -1;
			}
		}
		while (out[0] >= 0) {
			char tmp[4096];
			ssize_t k = read(out[0], tmp, sizeof(tmp));

			if (k > 0) {
				if (output.len < KEEP_MAX)
					buf_append(&output, tmp, (size_t)k);
				continue;
			}
			if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
				close(out[0]);
				out[0] = -1;
			}
			break;
		}
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid) {
			exited = true;
			break;
		}
		if (w < 0 && errno != EINTR) {
			*why = xasprintf(_("events command: waitpid: %s"), strerror(errno));
			kill_group(pid);
			break;
		}
	}
	if (!exited) {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	if (oc == OUT_STOPPED || *why)
		goto out;
	{
		char *snip = snippet(buf_str(&output), output.len);

		if (timed_out)
			*why = xasprintf(_("the events command did not finish within %.1f s and was killed"),
			                 (double)ps->timeout_ms / 1000.0);
		else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			oc = OUT_OK;
		else if (WIFEXITED(status) && *snip)
			*why = xasprintf(_("the events command exited with status %d: %s"),
			                 WEXITSTATUS(status), snip);
		else if (WIFEXITED(status))
			*why = xasprintf(_("the events command exited with status %d"),
			                 WEXITSTATUS(status));
		else if (WIFSIGNALED(status))
			*why = xasprintf(_("the events command was killed by signal %d"), WTERMSIG(status));
		else
			*why = xasprintf(_("the events command ended abnormally"));
		free(snip);
	}
out:
	if (oc == OUT_FAIL && !*why)
		*why = xstrdup(_("the events command failed"));
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	env_free(envp);
	buf_free(&input);
	buf_free(&output);
	return oc;
}

/* ---- the HTTP target ---- */

static int http_stopped(void *ud)
{
	return stopped(ud);
}

/* The client for events.url: the pass's timeout (connecting within at most
 * 10 s of it), no retries, no size limit (the answer is dropped). */
static void http_setup(struct pass *ps)
{
	struct supplier_conf *hc = &ps->http_conf;

	memset(hc, 0, sizeof(*hc));
	hc->timeout_ms = ps->timeout_ms;
	hc->connect_timeout_ms = ps->timeout_ms < 10000 ? ps->timeout_ms : 10000;
	hc->retries = 0;
	ps->http = http_client_new(hc, ps->c->user_agent_extra);
	http_client_set_cancel(ps->http, http_stopped, ps);
}

/* The signing key: a "whsec_BASE64" secret is used as Standard Webhooks
 * defines it (the decoded bytes); any other text is used as its own bytes
 * (given to the signer as whsec_ + its base64). */
static int sign_setup(struct pass *ps, struct error *err)
{
	const char *value = ps->ev->secret.value;
	unsigned char *key;
	size_t keylen = 0;

	if (str_empty(value))
		return err_set(err, ERRK_CONFIG,
		               _("events.url is set but events.secret is empty; refusing to send "
		                 "unsigned events"));
	ps->sec = ps->ev->secret;
	if (str_startswith(value, "whsec_")) {
		key = conf_webhook_key(value, true, &keylen);
		if (!key)
			return err_set(err, ERRK_CONFIG,
			               _("events.secret starts with \"whsec_\" but what follows is not "
			                 "valid base64"));
		memset(key, 0, keylen);
		free(key);
	} else {
		char *b64 = base64_encode((const unsigned char *)value, strlen(value));

		ps->sec_owned = xasprintf("whsec_%s", b64);
		memset(b64, 0, strlen(b64));
		free(b64);
		ps->sec.value = ps->sec_owned;
	}
	memset(&ps->wh, 0, sizeof(ps->wh));
	ps->wh.enabled = true;
	ps->wh.scheme = WEBHOOK_STANDARD;
	ps->wh.secrets = &ps->sec;
	ps->wh.n_secrets = 1;
	return 0;
}

/* POSTs the events of evs in state `which`.  Fills *why on failure. */
static enum outcome post_batch(struct pass *ps, struct ev *evs, size_t n, enum ev_state which,
                               char **why, int64_t *retry_after, struct error *err)
{
	static const char json[] = "application/json";
	struct buf body = BUF_INIT;
	struct http_result res;
	struct error herr = { 0 };
	const char *headers[4];
	struct http_post_opts opts = { headers, true };
	char *id = NULL, *sig = NULL, *hid = NULL, *hts = NULL, *hsig = NULL;
	int64_t first = 0, last = 0, ts;
	bool any = false;
	enum outcome oc = OUT_FAIL;

	memset(&res, 0, sizeof(res));
	*why = NULL;
	*retry_after = -1;
	buf_puts(&body, "{\"events\":[");
	for (size_t i = 0; i < n; i++) {
		if (evs[i].state != which)
			continue;
		if (any)
			buf_putc(&body, ',');
		buf_puts(&body, evs[i].json);
		if (!any)
			first = evs[i].id;
		last = evs[i].id;
		any = true;
	}
	buf_puts(&body, "]}");
	id = xasprintf("evt_%" PRId64 "_%" PRId64, first, last);
	ts = pass_time(ps) / 1000;
	sig = signature_sign(&ps->wh, id, ts, body.data, body.len);
	if (!sig) {
		err_set(err, ERRK_CONFIG, _("events.secret: cannot sign with this secret"));
		oc = OUT_ERROR;     /* nothing was sent: the events stay as they are */
		goto out;
	}
	headers[0] = hid = xasprintf("webhook-id: %s", id);
	headers[1] = hts = xasprintf("webhook-timestamp: %" PRId64, ts);
	headers[2] = hsig = xasprintf("webhook-signature: %s", sig);
	headers[3] = NULL;
	if (http_post_ex(ps->http, ps->ev->url, body.data, body.len, json, &opts, NULL, &res,
	                 &herr) == 0) {
		oc = OUT_OK;
	} else if (herr.kind == ERRK_INTERRUPTED) {
		oc = OUT_STOPPED;
	} else if (res.status >= 300) {
		char *snip = res.error_body ? snippet(res.error_body, strlen(res.error_body))
		                            : xstrdup("");

		*why = *snip ? xasprintf(_("HTTP %ld: %s"), res.status, snip)
		             : xasprintf(_("HTTP %ld"), res.status);
		free(snip);
		*retry_after = res.retry_after_ms;
	} else {
		*why = xstrdup(herr.msg);
	}
out:
	http_result_clear(&res);
	buf_free(&body);
	free(id);
	free(sig);
	free(hid);
	free(hts);
	free(hsig);
	return oc;
}

/* ---- recording results ---- */

/* Writes the batch's results, and with defer_until > 0 puts off every
 * other due event to then.  One transaction. */
static int record(struct pass *ps, struct ev *evs, size_t n, int64_t t, int64_t defer_until,
                  struct error *err)
{
	sqlite3_stmt *st;

	if (db_begin(ps->db, err) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct ev *e = &evs[i];

		if (e->state == EV_OK) {
			st = db_stmt(ps->db, "UPDATE outbox SET delivered_at = ?2 WHERE id = ?1", err);
			if (!st)
				goto fail;
			sqlite3_bind_int64(st, 1, e->id);
			sqlite3_bind_int64(st, 2, t);
		} else if (e->state == EV_FAIL) {
			st = db_stmt(ps->db,
			             "UPDATE outbox SET attempts = attempts + 1, last_error = ?2,"
			             " next_attempt_at = ?3, dead = ?4 WHERE id = ?1",
			             err);
			if (!st)
				goto fail;
			sqlite3_bind_int64(st, 1, e->id);
			sqlite3_bind_text(st, 2, e->error, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 3, e->next_at);
			sqlite3_bind_int(st, 4, e->dead ? 1 : 0);
		} else {
			continue;
		}
		if (sqlite3_step(st) != SQLITE_DONE) {
			db_error(ps->db, err, _("recording a delivery"));
			err_prefix(err, _("event %lld"), (long long)e->id);
			sqlite3_reset(st);
			goto fail;
		}
		sqlite3_reset(st);
	}
	if (defer_until > 0) {
		st = db_stmt(ps->db,
		             "UPDATE outbox SET next_attempt_at = ?1 WHERE delivered_at IS NULL"
		             " AND dead = 0 AND next_attempt_at <= ?2 AND id <= ?3",
		             err);
		if (!st)
			goto fail;
		sqlite3_bind_int64(st, 1, defer_until);
		sqlite3_bind_int64(st, 2, ps->now);
		sqlite3_bind_int64(st, 3, ps->max_id);
		if (sqlite3_step(st) != SQLITE_DONE) {
			db_error(ps->db, err, _("putting off the pending events"));
			sqlite3_reset(st);
			goto fail;
		}
		sqlite3_reset(st);
		ps->out->deferred += sqlite3_changes(db_handle(ps->db));
	}
	return db_commit(ps->db, err);
fail:
	db_rollback(ps->db);
	return -1;
}

/* ---- one pass ---- */

/* One batch.  *more = false ends the pass. */
static int deliver_batch(struct pass *ps, bool *more, struct error *err)
{
	struct ev *evs = NULL;
	size_t n = 0;
	struct idset failed = { 0 };
	bool has_cmd = !str_empty(ps->ev->command), has_url = !str_empty(ps->ev->url);
	bool post_failed = false, stop = false;
	int64_t defer_until = 0, t;
	int ret = -1;

	*more = false;
	if (select_batch(ps, &evs, &n, err) != 0)
		return -1;
	if (n == 0)
		return 0;

	if (has_cmd) {
		for (size_t i = 0; i < n; i++) {
			struct ev *e = &evs[i];
			char *why = NULL;
			enum outcome oc;

			if (stop || stopped(ps)) {
				stop = true;
				e->state = EV_STOPPED;
				continue;
			}
			if (idset_has(&failed, e->product_id)) {
				e->state = EV_SKIP;
				continue;
			}
			oc = run_command(ps, e, &why);
			if (oc == OUT_OK) {
				e->state = has_url ? EV_CMD_OK : EV_OK;
			} else if (oc == OUT_STOPPED) {
				e->state = EV_STOPPED;
				stop = true;
			} else {
				ev_fail(ps, e, why, -1, pass_time(ps), jitter(ps));
				idset_add(&failed, e->product_id);
			}
			free(why);
		}
	}
	if (has_url && !stop) {
		enum ev_state which = has_cmd ? EV_CMD_OK : EV_NEW;
		bool any = false;

		for (size_t i = 0; i < n && !any; i++)
			any = evs[i].state == which;
		if (any) {
			char *why = NULL;
			int64_t retry_after = -1;
			enum outcome oc = post_batch(ps, evs, n, which, &why, &retry_after, err);
			double j = jitter(ps);

			t = pass_time(ps);
			if (oc == OUT_ERROR) {
				free(why);
				goto out;     /* cannot sign: a configuration error */
			}
			for (size_t i = 0; i < n; i++) {
				struct ev *e = &evs[i];

				if (e->state != which)
					continue;
				if (oc == OUT_OK)
					e->state = EV_OK;
				else if (oc == OUT_STOPPED)
					e->state = EV_STOPPED;
				else
					ev_fail(ps, e, why, retry_after, t, j);
			}
			if (oc == OUT_STOPPED)
				stop = true;
			if (oc == OUT_FAIL) {
				post_failed = true;
				for (size_t i = 0; i < n; i++)
					if (evs[i].state == EV_FAIL && !evs[i].dead &&
					    (defer_until == 0 || evs[i].next_at < defer_until))
						defer_until = evs[i].next_at;
				if (defer_until == 0) {
					/* every event of the batch gave up: the next ones wait a first backoff */
					defer_until = t + backoff_ms(ps, 1, j);
					if (retry_after > 0 && t + retry_after > defer_until)
						defer_until = t + retry_after;
				}
			}
			free(why);
		}
	}
	/* a command success without a URL target was set to EV_OK above */

	t = pass_time(ps);
	if (record(ps, evs, n, t, post_failed ? defer_until : 0, err) != 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (evs[i].state == EV_OK)
			ps->out->delivered++;
		else if (evs[i].state == EV_FAIL && evs[i].dead)
			ps->out->dead++;
		else if (evs[i].state == EV_FAIL)
			ps->out->failed++;
	}
	*more = !post_failed && !stop;
	ret = 0;
out:
	idset_free(&failed);
	batch_free(evs, n);
	return ret;
}

/* The earliest time a pending event becomes deliverable: the first pending
 * event of each product counts. */
static int next_due(struct db *db, int64_t *at, struct error *err)
{
	sqlite3_stmt *st = db_stmt(db,
	                           "SELECT MIN(next_attempt_at) FROM outbox WHERE id IN"
	                           " (SELECT MIN(id) FROM outbox WHERE delivered_at IS NULL"
	                           " AND dead = 0 GROUP BY product_id)",
	                           err);

	*at = 0;
	if (!st)
		return -1;
	if (sqlite3_step(st) != SQLITE_ROW) {
		db_error(db, err, _("finding the next event due"));
		sqlite3_reset(st);
		return -1;
	}
	if (sqlite3_column_type(st, 0) != SQLITE_NULL)
		*at = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

static int max_event_id(struct db *db, int64_t *id, struct error *err)
{
	sqlite3_stmt *st = db_stmt(db, "SELECT COALESCE(MAX(id), 0) FROM outbox", err);

	if (!st)
		return -1;
	if (sqlite3_step(st) != SQLITE_ROW) {
		db_error(db, err, _("reading the outbox"));
		sqlite3_reset(st);
		return -1;
	}
	*id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

int outbox_deliver_stop(struct db *db, const struct conf *c, int64_t now,
                        volatile sig_atomic_t *stop, struct outbox_pass *p, struct error *err)
{
	struct pass ps;
	struct error lerr = { 0 };
	int lock = -1, ret = -1;
	bool more = true;

	memset(p, 0, sizeof(*p));
	memset(&ps, 0, sizeof(ps));
	if (str_empty(c->events.url) && str_empty(c->events.command)) {
		p->no_target = true;
		return 0;
	}
	ps.db = db;
	ps.c = c;
	ps.ev = &c->events;
	ps.now = now;
	ps.mono0 = time_mono_ms();
	ps.stop = stop;
	ps.out = p;
	ps.rng = rng_seed(&ps);
	ps.batch = ps.ev->batch > 0 ? ps.ev->batch : DEFAULT_BATCH;
	ps.timeout_ms = ps.ev->timeout_ms > 0 ? ps.ev->timeout_ms : DEFAULT_TIMEOUT_MS;
	ps.first_backoff_ms =
		ps.ev->first_backoff_ms > 0 ? ps.ev->first_backoff_ms : DEFAULT_FIRST_BACKOFF_MS;
	ps.max_backoff_ms = ps.ev->max_backoff_ms > 0 ? ps.ev->max_backoff_ms : DEFAULT_MAX_BACKOFF_MS;
	/* 0 is allowed: park an event at its first failure */
	ps.give_up_ms = ps.ev->give_up_ms >= 0 ? ps.ev->give_up_ms : DEFAULT_GIVE_UP_MS;

	lock = sync_lock(db_path(db), OUTBOX_LOCK, false, &lerr);
	if (lock < 0) {
		if (lerr.kind != ERRK_BUSY) {
			err_set(err, lerr.kind, _("event delivery: %s"), lerr.msg);
			goto out;
		}
		p->busy = true;
		more = false;
	}
	if (more && !str_empty(ps.ev->url)) {
		if (sign_setup(&ps, err) != 0)
			goto out;
		http_setup(&ps);
	}
	if (more && max_event_id(db, &ps.max_id, err) != 0)
		goto out;
	while (more && !stopped(&ps)) {
		if (deliver_batch(&ps, &more, err) != 0)
			goto out;
	}
	if (next_due(db, &p->next_due_at, err) != 0)
		goto out;
	ret = 0;
out:
	http_client_free(ps.http);
	if (ps.sec_owned) {
		memset(ps.sec_owned, 0, strlen(ps.sec_owned));
		free(ps.sec_owned);
	}
	if (lock >= 0)
		sync_unlock(lock);
	return ret;
}

int outbox_deliver(struct db *db, const struct conf *c, int64_t now, struct outbox_pass *p,
                   struct error *err)
{
	return outbox_deliver_stop(db, c, now, NULL, p, err);
}

/* ---- retry and listing ---- */

int outbox_retry(struct db *db, int64_t id, struct error *err)
{
	sqlite3_stmt *st = db_stmt(db,
	                           "UPDATE outbox SET dead = 0, next_attempt_at = ?2"
	                           " WHERE dead = 1 AND delivered_at IS NULL AND (?1 = 0 OR id = ?1)",
	                           err);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, time_now_ms());
	if (sqlite3_step(st) != SQLITE_DONE) {
		db_error(db, err, _("retrying dead events"));
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return sqlite3_changes(db_handle(db));
}

const char *outbox_state_name(const struct outbox_event *e)
{
	/* untranslated words (JSON); N_ marks them for the table's _() */
	if (e->delivered_at > 0)
		/* TRANSLATORS: the STATE of an event for the store: delivered */
		return N_("delivered");
	/* TRANSLATORS: the STATE of an event for the store: "dead" (given up
	   after its attempts) or "pending" (will be delivered) */
	return e->dead ? N_("dead") : N_("pending");
}

int outbox_list(struct db *db, const struct outbox_query *q,
                int (*cb)(void *ud, const struct outbox_event *e), void *ud, struct error *err)
{
	sqlite3_stmt *st = db_stmt(
		db,
		"SELECT o.id, o.kind, o.product_id, p.sku, o.payload, o.created_at, o.attempts,"
		" o.next_attempt_at, o.delivered_at, o.last_error, o.dead"
		" FROM outbox o LEFT JOIN products p ON p.id = o.product_id"
		" WHERE (?1 = 0 OR o.id = ?1) AND o.created_at >= ?2"
		" AND (?3 = 0"
		"  OR (?3 = 1 AND o.delivered_at IS NULL AND o.dead = 0)"
		"  OR (?3 = 2 AND o.delivered_at IS NULL AND o.dead = 1)"
		"  OR (?3 = 3 AND o.delivered_at IS NOT NULL))"
		" ORDER BY o.id DESC LIMIT ?4",
		err);
	int rc, ret = 0;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, q->id);
	sqlite3_bind_int64(st, 2, q->since);
	sqlite3_bind_int(st, 3, (int)q->state);
	sqlite3_bind_int64(st, 4, q->limit > 0 ? q->limit : -1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct outbox_event e;

		e.id = sqlite3_column_int64(st, 0);
		e.kind = (const char *)sqlite3_column_text(st, 1);
		e.product_id = sqlite3_column_int64(st, 2);
		e.product_sku = (const char *)sqlite3_column_text(st, 3);
		e.payload = (const char *)sqlite3_column_text(st, 4);
		e.created_at = sqlite3_column_int64(st, 5);
		e.attempts = sqlite3_column_int64(st, 6);
		e.next_attempt_at = sqlite3_column_int64(st, 7);
		e.delivered_at = sqlite3_column_int64(st, 8);
		e.last_error = (const char *)sqlite3_column_text(st, 9);
		e.dead = sqlite3_column_int(st, 10) != 0;
		if ((ret = cb(ud, &e)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		db_error(db, err, _("listing events"));
		ret = -1;
	}
	sqlite3_reset(st);
	return ret;
}
