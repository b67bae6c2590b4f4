/* demo.c - the embedded demo default: with no configuration anywhere,
 * dropstock writes a small demo shop (one local-file supplier, a catalogue
 * and its feed) under the state directory and runs on that.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conf/conf_int.h"

/* Appends path escaped for the inside of a libconfig "string". */
static void put_cfg_string(struct buf *b, const char *path)
{
	const unsigned char *p;

	for (p = (const unsigned char *)path; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_printf(b, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			buf_printf(b, "\\x%02x", *p);
		else
			buf_putc(b, (char)*p);
	}
}

/* Appends path percent-encoded for the path part of a file:// URL. */
static void put_url_path(struct buf *b, const char *path)
{
	const unsigned char *p;

	for (p = (const unsigned char *)path; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
		    || strchr("/-._~", *p))
			buf_putc(b, (char)*p);
		else
			buf_printf(b, "%%%02X", *p);
	}
}

char *conf_demo_substitute(const char *text, size_t len, const char *demo_dir,
                           const char *state_dir)
{
	static const char url_prefix[] = "file://";
	struct buf b = BUF_INIT;
	size_t i = 0;

	while (i < len) {
		const char *value = NULL;
		size_t tok = 0;

		if (len - i >= 10 && memcmp(text + i, "@DEMO_DIR@", 10) == 0) {
			value = demo_dir;
			tok = 10;
		} else if (len - i >= 11 && memcmp(text + i, "@STATE_DIR@", 11) == 0) {
			value = state_dir;
			tok = 11;
		}
		if (!value) {
			buf_putc(&b, text[i++]);
			continue;
		}
		if (b.len >= sizeof(url_prefix) - 1
		    && memcmp(b.data + b.len - (sizeof(url_prefix) - 1), url_prefix,
		              sizeof(url_prefix) - 1) == 0)
			put_url_path(&b, value);
		else
			put_cfg_string(&b, value);
		i += tok;
	}
	return buf_steal(&b);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

int conf_demo_materialise(char **main_path, char **catalogue, struct error *err)
{
	char *state = path_state_dir(), *demo = NULL;
	size_t i;
	int rc = -1;

	*main_path = NULL;
	*catalogue = NULL;
	if (!state || state[0] != '/') {
		err_set(err, ERRK_CONFIG, _("cannot find the state directory for the demo "
		                            "configuration: set HOME or XDG_STATE_HOME"));
		goto out;
	}
	demo = path_join(state, "demo");
	if (mkdir_p(demo, err) < 0)
		goto out;
	for (i = 0; i < embedded_files_count; i++) {
		const struct embedded_file *f = &embedded_files[i];
		char *path = path_join(demo, f->name);
		char *dir = path_dirname(path);
		int r = mkdir_p(dir, err);

		if (r == 0) {
			if (ends_with(f->name, ".conf")) {
				char *text = conf_demo_substitute((const char *)f->data, f->len, demo, state);

				r = file_write_atomic(path, text, strlen(text), 0600, err);
				free(text);
			} else {
				r = file_write_atomic(path, f->data, f->len, 0600, err);
			}
		}
		free(dir);
		free(path);
		if (r < 0) {
			err_prefix(err, _("writing the demo configuration"));
			goto out;
		}
	}
	*main_path = path_join(demo, "dropstock.conf");
	*catalogue = path_join(demo, "catalogue.csv");
	rc = 0;
out:
	free(demo);
	free(state);
	return rc;
}
