/* output.c - helpers the subcommands share: opening the configuration and
 * the database, finishing stdout, and formatting times for people and for
 * JSON.
 */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

int cli_open_db(struct cli *cli, struct db **db)
{
	if (!cli_conf(cli))
		return EXIT_CONFIG;
	if (!(*db = cli_db(cli)))
		return EXIT_FAILURE_;
	return 0;
}

int cli_finish_output(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error(_("writing the output: %s"), strerror(errno));
		return EXIT_FAILURE_;
	}
	return EXIT_OK;
}

char *cli_fmt_when(int64_t ms, int64_t now, bool seconds, char out[96])
{
	char age[32], day[48];

	if (ms <= 0) {
		snprintf(out, 96, "-");
		return out;
	}
	time_format_local(ms, seconds ? TIME_SECONDS : TIME_MINUTES, day, sizeof(day));
	if (ms > now + 1000)
		/* TRANSLATORS: a local date and time followed by how far it is
		   from now, "2026-11-27 09:30 (in 5m)", "2026-11-27 09:30 (2h ago)" */
		snprintf(out, 96, _("%s (in %s)"), day, time_format_age(ms - now, age));
	else
		snprintf(out, 96, _("%s (%s ago)"), day, time_format_age(now - ms, age));
	return out;
}

json_t *cli_json_time(int64_t ms)
{
	char iso[32];

	if (ms <= 0)
		return json_null();
	return json_string(time_format_iso(ms, iso));
}

void cli_print_change(const char *product_sku, const char *supplier_sku, const char *prev,
                      int64_t stock, int64_t product_prev, int64_t product_stock)
{
	/* TRANSLATORS: in place of the previous stock of a SKU seen for the
	   first time: "new -> 11"; at most 6 columns */
	const char *first = _("new");

	/* TRANSLATORS: "(product 5 -> 11)" after a supplier's stock change: the
	   store product's stock before and after */
	printf("  %s %s %s -> %s  (%s %s -> %s)\n", fmt_col(product_sku ? product_sku : "", 20),
	       fmt_col(supplier_sku, 14), fmt_col(prev ? prev : first, -6),
	       fmt_col(fmt_int(stock), 6), _("product"), fmt_int(product_prev),
	       fmt_int(product_stock));
}

/* Length of the valid UTF-8 sequence at p (1..4), 0 when invalid. */
static size_t utf8_valid_len(const unsigned char *p)
{
	unsigned c = p[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && p[1] < 0xa0)
			return 0;     /* overlong */
		if (c == 0xed && p[1] >= 0xa0)
			return 0;     /* surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && p[1] < 0x90)
			return 0;
		if (c == 0xf4 && p[1] >= 0x90)
			return 0;
		return 4;
	}
	return 0;
}

json_t *cli_json_str(const char *s)
{
	struct buf b = BUF_INIT;
	json_t *v;
	const unsigned char *p;

	if (!s)
		return json_null();
	if ((v = json_string(s)))
		return v;
	for (p = (const unsigned char *)s; *p;) {
		size_t k = utf8_valid_len(p);

		if (k == 0) {
			buf_puts(&b, "\xef\xbf\xbd");
			p++;
		} else {
			buf_append(&b, p, k);
			p += k;
		}
	}
	v = json_string(buf_str(&b));
	buf_free(&b);
	return v ? v : json_null();
}
