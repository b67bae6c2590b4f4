/* testlib.h - what the unit tests share: a temporary directory and files in
 * it, the mock supplier (tests/mock), and one-value queries on a test
 * database.  Linked into every unit test (tests/unit/libtestlib.a).
 *
 * Failures to set a test up print "Bail out! ..." and exit 99 (a hard
 * error for the automake test driver); query helpers print a "# " line and
 * return a value no assertion expects. */
#ifndef DROPSTOCK_TESTLIB_H
#define DROPSTOCK_TESTLIB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "store/db.h"
#include "util/util.h"

/* ---- the temporary directory ---- */

/* Makes a fresh directory $TMPDIR/NAME.XXXXXX (/tmp when TMPDIR is unset or
 * empty) that tmp_path() names files in; returns its path (owned by
 * testlib).  One per test program. */
const char *tmp_make(const char *name);
/* Removes that directory and everything below it. */
void tmp_remove(void);
/* NAME inside the directory.  Caller frees. */
char *tmp_path(const char *name);
/* Writes len bytes to NAME in the directory (replacing it). */
void tmp_write(const char *name, const void *data, size_t len);
/* The same with a string. */
void tmp_write_text(const char *name, const char *text);
/* The text of NAME in the directory, "" when it cannot be read.  Caller
 * frees. */
char *tmp_read(const char *name);
/* How many times needle occurs in s (not overlapping). */
int count_substr(const char *s, const char *needle);

/* ---- the mock supplier ---- */

struct mock {
	pid_t pid;           /* -1 when not running */
	int port;
	char *name;
};

/* $MOCK_SUPPLIER when it names an executable, else NULL (the caller skips
 * what needs the mock). */
const char *mock_bin(void);
/* Starts the mock on 127.0.0.1 with the extra arguments that follow
 * (NULL-terminated), waiting until it listens; name tells its port file
 * (in the directory) and messages apart.  0, or -1 (a "# " line says so). */
int mock_start(struct mock *m, const char *name, ...);
/* Stops it (SIGTERM) and says so in a "# " line when it did not exit 0. */
void mock_stop(struct mock *m);
/* "http://127.0.0.1:PORT" + path.  Caller frees. */
char *mock_url(const struct mock *m, const char *path);

/* ---- the test database ---- */

/* The first column of the first row of the SQL that fmt makes: -1 when it
 * is NULL, -999 when there is no row or the SQL fails. */
int64_t q_int(struct db *db, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* The same as text (caller frees); NULL when NULL, no row or failed. */
char *q_str(struct db *db, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Runs sql (several statements allowed); a failure prints a "# " line. */
void q_exec(struct db *db, const char *sql);
/* supplier_links.supplier_stock of the link with that supplier SKU, and
 * products.stock of the product with that SKU, as q_int. */
int64_t q_link_stock(struct db *db, const char *supplier_sku);
int64_t q_product_stock(struct db *db, const char *sku);

#endif
