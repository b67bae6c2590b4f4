/* secret.c - where credentials come from: inline, an environment variable,
 * or the output of a command; and the file-permission rule for inline
 * secrets.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "conf/conf_int.h"

/* A secret command may print at most this much. */
#define SECRET_CMD_MAX (64 * 1024)

static void secret_wipe(char *s)
{
	volatile char *p = s;

	if (!s)
		return;
	while (*p)
		*p++ = 0;
}

void conf_secret_clear(struct secret *s)
{
	if (!s)
		return;
	secret_wipe(s->spec);
	secret_wipe(s->value);
	free(s->spec);
	free(s->value);
	s->spec = NULL;
	s->value = NULL;
	s->origin = SECRET_NONE;
}

static bool secret_is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A secret ends up in an HTTP header or URL: control characters there would
 * let it inject headers, so none are allowed.  A list of secrets (blanks
 * separate them) may hold blanks and line breaks. */
static int secret_check_value(const char *v, const char *where, const char *from,
                              bool list, struct error *err)
{
	const unsigned char *p;

	for (p = (const unsigned char *)v; *p; p++) {
		if (list && secret_is_blank(*p))
			continue;
		if (*p < 0x20 || *p == 0x7f)
			return err_set(err, ERRK_CONFIG,
			               list ? _("%s: the secrets from %s contain a control character")
			                    : _("%s: the secret from %s contains a line break or "
			                        "another control character"), where, from);
	}
	return 0;
}

static int secret_from_env(struct secret *s, const char *where, bool list, struct error *err)
{
	const char *v;
	char *from;
	int rc;

	if (str_empty(s->spec))
		return err_set(err, ERRK_CONFIG, _("%s: expected the name of an environment "
		                                   "variable, got an empty string"), where);
	v = getenv(s->spec);
	if (!v)
		return err_set(err, ERRK_CONFIG,
		               _("%s: environment variable %s is not set"), where, s->spec);
	if (!*v)
		return err_set(err, ERRK_CONFIG,
		               _("%s: environment variable %s is empty"), where, s->spec);
	from = xasprintf(_("environment variable %s"), s->spec);
	rc = secret_check_value(v, where, from, list, err);
	free(from);
	if (rc < 0)
		return -1;
	s->value = xstrdup(v);
	return 0;
}

static int secret_from_cmd(struct secret *s, const char *where, bool list, struct error *err)
{
	struct buf out = BUF_INIT;
	char chunk[4096];
	FILE *fp;
	size_t n;
	int status, rc = -1;
	bool too_long = false;

	if (str_empty(s->spec))
		return err_set(err, ERRK_CONFIG, _("%s: expected a command, got an empty "
		                                   "string"), where);
	/* Anything buffered for stdout would be written twice by the child. */
	fflush(NULL);
	fp = popen(s->spec, "r");
	if (!fp)
		return err_set(err, ERRK_CONFIG, _("%s: cannot run command '%s': %s"),
		               where, s->spec, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (out.len + n > SECRET_CMD_MAX) {
			too_long = true;
			continue;   /* keep reading so the command is not killed by SIGPIPE */
		}
		buf_append(&out, chunk, n);
	}
	status = pclose(fp);
	if (status == -1) {
		err_set(err, ERRK_CONFIG, _("%s: cannot run command '%s': %s"),
		        where, s->spec, strerror(errno));
		goto out;
	}
	if (WIFSIGNALED(status)) {
		err_set(err, ERRK_CONFIG, _("%s: command '%s' was killed by signal %d"),
		        where, s->spec, WTERMSIG(status));
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		err_set(err, ERRK_CONFIG, _("%s: command '%s' failed with exit status %d"),
		        where, s->spec, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		goto out;
	}
	if (too_long) {
		err_set(err, ERRK_CONFIG, P_("%s: command '%s' printed more than %d byte",
		                             "%s: command '%s' printed more than %d bytes",
		                             SECRET_CMD_MAX),
		        where, s->spec, SECRET_CMD_MAX);
		goto out;
	}
	if (out.len > 0 && memchr(out.data, '\0', out.len)) {
		err_set(err, ERRK_CONFIG, _("%s: command '%s' printed a NUL byte"),
		        where, s->spec);
		goto out;
	}
	while (out.len > 0 && (out.data[out.len - 1] == '\n' || out.data[out.len - 1] == '\r'))
		out.data[--out.len] = '\0';
	if (out.len == 0) {
		err_set(err, ERRK_CONFIG, _("%s: command '%s' printed nothing"), where, s->spec);
		goto out;
	}
	{
		char *from = xasprintf(_("command '%s'"), s->spec);
		int bad = secret_check_value(out.data, where, from, list, err);

		free(from);
		if (bad < 0)
			goto out;
	}
	s->value = buf_steal(&out);
	rc = 0;
out:
	if (out.data)
		secret_wipe(out.data);
	buf_free(&out);
	return rc;
}

int conf_secret_resolve(struct secret *s, const char *where, struct error *err)
{
	if (s->value) {
		secret_wipe(s->value);
		free(s->value);
		s->value = NULL;
	}
	switch (s->origin) {
	case SECRET_NONE:
		return 0;
	case SECRET_INLINE:
		if (str_empty(s->spec))
			return err_set(err, ERRK_CONFIG, _("%s: the secret is empty"), where);
		if (secret_check_value(s->spec, where, _("the configuration file"), false, err) < 0)
			return -1;
		s->value = xstrdup(s->spec);
		return 0;
	case SECRET_ENV:
		return secret_from_env(s, where, false, err);
	case SECRET_CMD:
		return secret_from_cmd(s, where, false, err);
	}
	return err_set(err, ERRK_INTERNAL, _("%s: unknown secret origin %d"), where,
	               (int)s->origin);
}

int conf_secret_resolve_list(const struct secret *s, const char *where, struct secret **list,
                             int *n, struct error *err)
{
	struct secret raw = { s->origin, s->spec, NULL };
	char *p, *tok, *save = NULL;
	size_t len;
	int found = 0, rc = -1;

	switch (s->origin) {
	case SECRET_NONE:
		return 0;
	case SECRET_INLINE:
		if (str_empty(s->spec))
			return err_set(err, ERRK_CONFIG, _("%s: the secret is empty"), where);
		if (secret_check_value(s->spec, where, _("the configuration file"), true, err) < 0)
			return -1;
		raw.value = xstrdup(s->spec);
		break;
	case SECRET_ENV:
		if (secret_from_env(&raw, where, true, err) < 0)
			return -1;
		break;
	case SECRET_CMD:
		if (secret_from_cmd(&raw, where, true, err) < 0)
			return -1;
		break;
	default:
		return err_set(err, ERRK_INTERNAL, _("%s: unknown secret origin %d"), where,
		               (int)s->origin);
	}
	len = strlen(raw.value);
	for (p = raw.value; (tok = strtok_r(p, " \t\r\n", &save)) != NULL; p = NULL) {
		struct secret *e;

		*list = xrealloc(*list, ((size_t)*n + 1) * sizeof(**list));
		e = &(*list)[*n];
		e->origin = s->origin;
		e->spec = xstrdup(s->spec);
		e->value = xstrdup(tok);
		(*n)++;
		found++;
	}
	if (found == 0) {
		if (s->origin == SECRET_ENV)
			err_set(err, ERRK_CONFIG, _("%s: environment variable %s holds only blanks"),
			        where, s->spec);
		else if (s->origin == SECRET_CMD)
			err_set(err, ERRK_CONFIG, _("%s: command '%s' printed only blanks"),
			        where, s->spec);
		else
			err_set(err, ERRK_CONFIG, _("%s: the secret holds only blanks"), where);
		goto out;
	}
	rc = 0;
out:
	/* strtok_r cut the value with NULs: wipe all of it */
	{
		volatile char *v = raw.value;

		while (len > 0)
			v[--len] = 0;
	}
	free(raw.value);
	return rc;
}

int conf_secret_check_file(const char *file, const char *where, const char *alt,
                           struct error *err)
{
	struct stat st;

	if (stat(file, &st) < 0)
		return err_set(err, ERRK_CONFIG, _("%s: cannot check permissions of %s: %s"),
		               where, file, strerror(errno));
	if ((st.st_mode & 077) == 0)
		return 0;
	if (st.st_mode & 044)
		return err_set(err, ERRK_CONFIG,
		               _("%s: the file holds an inline secret but is readable by "
		                 "others; run: chmod 600 %s (or use %s)"), where, file, alt);
	return err_set(err, ERRK_CONFIG,
	               _("%s: the file holds an inline secret but is writable by others; "
	                 "run: chmod 600 %s (or use %s)"), where, file, alt);
}
