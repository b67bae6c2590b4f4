/* testlib.c - shared unit-test helpers (see testlib.h). */
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"

#define MOCK_ARGS_MAX 64
#define MOCK_WAIT_TRIES 500      /* times 10 ms */

static char tmpdir[512];

/* ---- the temporary directory ---- */

const char *tmp_make(const char *name)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/%s.XXXXXX", str_empty(base) ? "/tmp" : base, name);
	if (!mkdtemp(tmpdir)) {
		printf("Bail out! mkdtemp %s: %s\n", tmpdir, strerror(errno));
		exit(99);
	}
	return tmpdir;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	if (remove(path) != 0)
		printf("# cannot remove %s: %s\n", path, strerror(errno));
	return 0;
}

void tmp_remove(void)
{
	if (tmpdir[0])
		nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	tmpdir[0] = '\0';
}

char *tmp_path(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

void tmp_write(const char *name, const void *data, size_t len)
{
	char *p = tmp_path(name);
	FILE *f = fopen(p, "wb");

	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		printf("Bail out! cannot write %s\n", p);
		exit(99);
	}
	free(p);
}

void tmp_write_text(const char *name, const char *text)
{
	tmp_write(name, text, strlen(text));
}

char *tmp_read(const char *name)
{
	char *p = tmp_path(name);
	char *s = file_read_all(p, NULL, NULL);

	free(p);
	return s ? s : xstrdup("");
}

int count_substr(const char *s, const char *needle)
{
	int n = 0;

	for (const char *p = s; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* ---- the mock supplier ---- */

const char *mock_bin(void)
{
	const char *bin = getenv("MOCK_SUPPLIER");

	return bin && access(bin, X_OK) == 0 ? bin : NULL;
}

int mock_start(struct mock *m, const char *name, ...)
{
	const char *argv[MOCK_ARGS_MAX], *bin = mock_bin(), *a;
	char *pf = xasprintf("%s/%s.port", tmpdir, name);
	int argc = 0, rc = -1;
	va_list ap;

	m->pid = -1;
	m->port = 0;
	m->name = xstrdup(name);
	argv[argc++] = bin;
	argv[argc++] = "--port-file";
	argv[argc++] = pf;
	argv[argc++] = "--max-seconds";
	argv[argc++] = "120";
	va_start(ap, name);
	while ((a = va_arg(ap, const char *)) != NULL && argc < MOCK_ARGS_MAX - 2)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;

	if (!bin)
		goto out;
	m->pid = fork();
	if (m->pid < 0)
		goto out;
	if (m->pid == 0) {
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < MOCK_WAIT_TRIES; i++) {
		struct timespec ts = { 0, 10 * 1000000L };
		FILE *f = fopen(pf, "r");
		int status;

		if (f) {
			if (fscanf(f, "%d", &m->port) == 1 && m->port > 0)
				rc = 0;
			fclose(f);
			if (rc == 0)
				break;
		}
		if (waitpid(m->pid, &status, WNOHANG) == m->pid) {
			m->pid = -1;
			break;
		}
		nanosleep(&ts, NULL);
	}
out:
	if (rc != 0) {
		printf("# mock %s did not start\n", name);
		if (m->pid > 0) {
			kill(m->pid, SIGTERM);
			waitpid(m->pid, NULL, 0);
		}
		m->pid = -1;
		free(m->name);
		m->name = NULL;
	}
	unlink(pf);
	free(pf);
	return rc;
}

void mock_stop(struct mock *m)
{
	int status = 0;

	if (m->pid > 0) {
		kill(m->pid, SIGTERM);
		waitpid(m->pid, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			printf("# mock %s ended with status %d\n", m->name, status);
	}
	m->pid = -1;
	free(m->name);
	m->name = NULL;
}

char *mock_url(const struct mock *m, const char *path)
{
	return xasprintf("http://127.0.0.1:%d%s", m->port, path);
}

/* ---- the test database ---- */

/* Prepares the SQL fmt and ap make; NULL (and a "# " line) on failure. */
static sqlite3_stmt *prepare(struct db *db, const char *fmt, va_list ap)
{
	char *sql = xvasprintf(fmt, ap);
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db_handle(db), sql, -1, &st, NULL) != SQLITE_OK) {
		printf("# prepare failed: %s: %s\n", sql, sqlite3_errmsg(db_handle(db)));
		st = NULL;
	}
	free(sql);
	return st;
}

int64_t q_int(struct db *db, const char *fmt, ...)
{
	sqlite3_stmt *st;
	int64_t v = -999;
	va_list ap;

	va_start(ap, fmt);
	st = prepare(db, fmt, ap);
	va_end(ap);
	if (!st)
		return v;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

char *q_str(struct db *db, const char *fmt, ...)
{
	sqlite3_stmt *st;
	char *v = NULL;
	va_list ap;

	va_start(ap, fmt);
	st = prepare(db, fmt, ap);
	va_end(ap);
	if (!st)
		return NULL;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		v = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

void q_exec(struct db *db, const char *sql)
{
	struct error e = { 0 };

	if (db_exec(db, sql, &e) < 0)
		printf("# exec failed: %s\n", e.msg);
}

int64_t q_link_stock(struct db *db, const char *supplier_sku)
{
	return q_int(db, "SELECT supplier_stock FROM supplier_links WHERE supplier_sku = '%s'",
	                     supplier_sku);
}

int64_t q_product_stock(struct db *db, const char *sku)
{
	return q_int(db, "SELECT stock FROM products WHERE sku = '%s'", sku);
}
