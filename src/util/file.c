/* file.c - whole-file reads, atomic writes, directories and XDG paths. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/util.h"

char *file_read_all(const char *path, size_t *len, struct error *err)
{
	struct buf b = BUF_INIT;
	char chunk[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		err_set(err, ERRK_CONFIG, _("%s: cannot open: %s"), path, strerror(errno));
		return NULL;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err_set(err, ERRK_CONFIG, _("%s: cannot read: %s"), path, strerror(errno));
			close(fd);
			buf_free(&b);
			return NULL;
		}
		buf_append(&b, chunk, (size_t)n);
	}
	close(fd);
	if (len)
		*len = b.len;
	return buf_steal(&b);
}

int file_write_atomic(const char *path, const void *data, size_t len, int mode, struct error *err)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	const char *p = data;
	int fd, rc = -1;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		err_set(err, ERRK_INTERNAL, _("%s: cannot create: %s"), tmp, strerror(errno));
		goto out;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err_set(err, ERRK_INTERNAL, _("%s: cannot write: %s"), tmp, strerror(errno));
			close(fd);
			unlink(tmp);
			goto out;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		err_set(err, ERRK_INTERNAL, _("%s: cannot write: %s"), tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path) != 0) {
		err_set(err, ERRK_INTERNAL, _("%s: cannot rename to %s: %s"), tmp, path,
		        strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	free(tmp);
	return rc;
}

int mkdir_p(const char *path, struct error *err)
{
	char *copy = xstrdup(path), *p;
	int rc = 0;

	for (p = copy + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(copy, 0700) != 0 && errno != EEXIST) {
				rc = err_set(err, ERRK_INTERNAL, _("%s: cannot create directory: %s"),
				             copy, strerror(errno));
				break;
			}
			*p = c;
			if (c == '\0')
				break;
		}
	}
	free(copy);
	return rc;
}

static char *xdg_dir(const char *var, const char *fallback)
{
	const char *v = getenv(var);
	const char *home;

	if (v && v[0] == '/')
		return xasprintf("%s/dropstock", v);
	home = getenv("HOME");
	if (!home || !*home)
		home = "/tmp";
	return xasprintf("%s/%s/dropstock", home, fallback);
}

char *path_state_dir(void)
{
	return xdg_dir("XDG_STATE_HOME", ".local/state");
}

char *path_config_dir(void)
{
	return xdg_dir("XDG_CONFIG_HOME", ".config");
}

char *path_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

char *path_join(const char *a, const char *b)
{
	size_t la;

	if (b[0] == '/')
		return xstrdup(b);
	la = strlen(a);
	if (la && a[la - 1] == '/')
		return xasprintf("%s%s", a, b);
	return xasprintf("%s/%s", a, b);
}
