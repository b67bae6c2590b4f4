/* progress.c - sync progress on stderr: a redrawn bar on a terminal, a plain
 * line every few seconds otherwise (logs, cron mail). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

#define PLAIN_EVERY_MS 5000
#define BAR_WIDTH 24

struct progress {
	FILE *out;
	bool tty;
	bool drawn;              /* a bar is on the current line */
	int64_t last_plain;
};

struct progress *progress_new(FILE *out, bool force_plain)
{
	struct progress *p = xcalloc(1, sizeof(*p));

	p->out = out;
	p->tty = !force_plain && isatty(fileno(out)) && !str_eq(getenv("TERM"), "dumb");
	p->last_plain = time_mono_ms();
	return p;
}

static void fmt_eta(int64_t secs, char *out, size_t n)
{
	if (secs < 0)
		snprintf(out, n, "--:--");
	else if (secs >= 3600)
		snprintf(out, n, "%d:%02d:%02d", (int)(secs / 3600), (int)(secs / 60 % 60),
		         (int)(secs % 60));
	else
		snprintf(out, n, "%d:%02d", (int)(secs / 60), (int)(secs % 60));
}

void progress_update(struct progress *p, const char *slug, int64_t done, int64_t total,
                     int64_t changed, int64_t elapsed_ms)
{
	double rate = elapsed_ms > 0 ? (double)done * 1000.0 / (double)elapsed_ms : 0.0;
	char eta[32];
	int64_t now;

	if (!p)
		return;
	fmt_eta(total > done && rate > 0 ? (int64_t)((double)(total - done) / rate) : -1, eta,
	        sizeof(eta));
	if (p->tty) {
		char bar[BAR_WIDTH + 1];
		int fill = total > 0 ? (int)(done * BAR_WIDTH / (total > done ? total : done)) : 0;
		for (int i = 0; i < BAR_WIDTH; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[BAR_WIDTH] = '\0';
		fputc('\r', p->out);
		if (total > 0)
			/* TRANSLATORS: a progress bar: "acme [####....] 912/1830  49% 780/s
			   ETA 0:01, changed: 2"; ETA is the time left (minutes:seconds),
			   "/s" items per second */
			fprintf(p->out, _("%s [%s] %s/%s %3d%% %s/s ETA %s, changed: %s"),
			        slug, bar, fmt_int(done), fmt_int(total),
			        (int)(done * 100 / (total > done ? total : done)), fmt_dec(rate, 0), eta,
			        fmt_int(changed));
		else
			/* TRANSLATORS: "/s" is items per second */
			fprintf(p->out, P_("%s %s item %s/s, changed: %s",
			                   "%s %s items %s/s, changed: %s", done > 0 ? done : 0),
			        slug, fmt_int(done), fmt_dec(rate, 0), fmt_int(changed));
		fputs(" \033[K", p->out);
		fflush(p->out);
		p->drawn = true;
		return;
	}
	now = time_mono_ms();
	if (now - p->last_plain < PLAIN_EVERY_MS)
		return;
	p->last_plain = now;
	if (total > 0)
		/* TRANSLATORS: "acme: 912 of 1830 items, 780/s, ETA 0:01, changed: 2";
		   "/s" is items per second, ETA the time left (minutes:seconds) */
		fprintf(p->out, P_("%s: %s of %s item, %s/s, ETA %s, changed: %s\n",
		                   "%s: %s of %s items, %s/s, ETA %s, changed: %s\n", total),
		        slug, fmt_int(done), fmt_int(total), fmt_dec(rate, 0), eta, fmt_int(changed));
	else
		/* TRANSLATORS: "/s" is items per second */
		fprintf(p->out, P_("%s: %s item, %s/s, changed: %s\n",
		                   "%s: %s items, %s/s, changed: %s\n", done > 0 ? done : 0),
		        slug, fmt_int(done), fmt_dec(rate, 0), fmt_int(changed));
}

void progress_done(struct progress *p)
{
	if (p && p->tty && p->drawn) {
		fputs("\r\033[K", p->out);
		fflush(p->out);
		p->drawn = false;
	}
}

void progress_free(struct progress *p)
{
	progress_done(p);
	free(p);
}
