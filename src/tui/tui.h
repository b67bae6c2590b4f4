/* tui.h - the operator console: an ncurses view over the database plus a
 * launcher.  It holds no engine logic (DESIGN.md section 4): it reads the
 * tables every few hundred milliseconds, starts syncs as detached processes,
 * and runs live checks and connection tests in a worker thread.
 *
 * Screens are a small vtable (like tig's view_ops); every key a screen
 * answers is listed in its key table, which also drives the `?` help and the
 * man page.  Handlers answer with flags and the loop decides (htop style).
 */
#ifndef DROPSTOCK_TUI_H
#define DROPSTOCK_TUI_H

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>

#include <curses.h>

#include "conf/conf.h"
#include "store/db.h"
#include "util/util.h"

struct tui;

/* What a key handler tells the loop. */
enum tui_flags {
	TUI_UNHANDLED = 0,
	TUI_HANDLED = 1 << 0,
	TUI_REDRAW = 1 << 1,         /* redraw the screen now */
	TUI_RELOAD = 1 << 2,         /* call refresh() now, then redraw */
	TUI_QUIT = 1 << 3,
	TUI_BACK = 1 << 4,           /* close a pushed screen (SKU view, editor) */
};

/* One entry of a screen's key table: shown by `?` and in dropstock(1). */
struct tui_key {
	const char *key;             /* as the user types it: "Enter", "f", "/", "[", "Space" */
	const char *help;            /* N_() text */
	bool writes;                 /* hidden and refused in --read-only */
};

struct tui_screen_ops {
	const char *name;            /* N_("Suppliers") */
	/* Creates the screen's state; arg is what tui_push passed (may be NULL). */
	void *(*open)(struct tui *t, void *arg);
	void (*close)(void *st);
	/* Reloads from the database; called by the loop about 4 times a second
	 * while the screen is shown, so it must be quick (bounded queries).
	 * Note: curses defines refresh() as a macro, so call it as
	 * (ops->refresh)(t, st). */
	void (*refresh)(struct tui *t, void *st);
	/* Draws into w (the area between the tab bar and the status line). */
	void (*draw)(struct tui *t, void *st, WINDOW *w, int rows, int cols);
	/* A key; returns tui_flags. */
	int (*key)(struct tui *t, void *st, int ch);
	const struct tui_key *keys;  /* terminated by { NULL, NULL, false } */
};

/* The five main screens (1-5 / Tab), and the pushed ones. */
extern const struct tui_screen_ops tui_screen_suppliers;   /* screen_suppliers.c */
extern const struct tui_screen_ops tui_screen_syncs;       /* screen_syncs.c */
extern const struct tui_screen_ops tui_screen_history;     /* screen_history.c */
extern const struct tui_screen_ops tui_screen_check;       /* screen_check.c */
extern const struct tui_screen_ops tui_screen_unknown;     /* screen_unknown.c */
extern const struct tui_screen_ops tui_screen_sku;         /* screen_sku.c: arg = product sku (char *) */
extern const struct tui_screen_ops tui_screen_editor;      /* screen_editor.c: arg = slug to edit, NULL = new */

/* The global keys (1-5, Tab, ?, q), for the help screen and the man page. */
extern const struct tui_key tui_global_keys[];

/* ---- entry point (tui.c) ---- */
struct tui_opts {
	const char *config_path;     /* as given to --config, passed on to spawned syncs */
	bool read_only;
};
/* Runs the console until the user quits; returns an exit code. */
int tui_run(struct conf *c, struct db *db, const struct tui_opts *o);

/* ---- services for screens (tui.c) ---- */
struct db *tui_db(struct tui *t);
const struct conf *tui_conf(struct tui *t);
bool tui_read_only(const struct tui *t);
bool tui_utf8(const struct tui *t);             /* Unicode box/block characters allowed */
bool tui_colour(const struct tui *t);           /* colours on (terminal has them, no NO_COLOR) */

enum tui_colour_pair {
	TUI_C_NORMAL = 0, TUI_C_TITLE, TUI_C_SELECTED, TUI_C_RISE, TUI_C_FALL,
	TUI_C_OK, TUI_C_ERROR, TUI_C_DIM, TUI_C_BAR,
};
/* Attribute for a pair (colour when available, else bold/reverse/dim). */
attr_t tui_attr(const struct tui *t, enum tui_colour_pair p);

/* Status line messages (never printed over the screen). */
void tui_error(struct tui *t, const char *fmt, ...) PRINTF_LIKE(2, 3);
void tui_message(struct tui *t, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* Modal helpers: a one-line prompt at the bottom (false on Esc), a yes/no
 * question (default no). */
bool tui_prompt(struct tui *t, const char *label, char *buf, size_t size);
bool tui_confirm(struct tui *t, const char *question);

/* Opens a screen on top of the current one (Esc / TUI_BACK closes it). */
void tui_push(struct tui *t, const struct tui_screen_ops *ops, void *arg);

/* Starts `dropstock run-now SLUG [--delta]` as a detached process (its own
 * session, stdio on /dev/null), so closing the console or losing the SSH
 * session does not stop it; the run shows in sync_runs like any other. */
int tui_spawn_sync(struct tui *t, const char *slug, bool delta, struct error *err);

/* Background work (live checks, connection tests): fn runs in a worker
 * thread with its own database connection; the screen polls
 * tui_job_done() from refresh() and shows tui_spinner() meanwhile.  Esc
 * abandons (the result is then dropped when the thread ends).
 * fn gets db NULL when the database would not open (it reports that), and
 * the configuration current when the job started (it stays valid until the
 * console ends, reloads included).  The console waits a few seconds at the
 * end for jobs still running. */
struct tui_job;
struct tui_job *tui_job_start(struct tui *t, void (*fn)(struct db *db, const struct conf *c,
                                                        void *arg), void *arg,
                              void (*free_arg)(void *arg));
bool tui_job_done(struct tui_job *j);       /* finished: arg holds the result */
void *tui_job_arg(struct tui_job *j);
void tui_job_abandon(struct tui_job *j);    /* frees when the thread ends */
void tui_job_free(struct tui_job *j);       /* only once done */
const char *tui_spinner(const struct tui *t);   /* the current spinner frame */

/* Draws a progress bar of width cells (block characters in UTF-8, '#' else). */
void tui_draw_bar(const struct tui *t, WINDOW *w, int y, int x, int width, int64_t done,
                  int64_t total);
/* Clips/pads text to exactly width display cells (UTF-8 aware). */
void tui_put(WINDOW *w, int y, int x, int width, const char *text);

/* ---- additions (console core) ---- */

/* Re-reads the configuration the console was started with (after the
 * editor saved a supplier file, or a supplier was removed) and records its
 * suppliers in the database.  On error the old configuration stays and err
 * says why.  Pointers from an earlier tui_conf() stay valid until the
 * console ends (old configurations are kept, not freed), so a job started
 * before the reload can go on using its conf. */
int tui_conf_reload(struct tui *t, struct error *err);

/* A box / a horizontal line: Unicode line-drawing characters in UTF-8,
 * '+', '-' and '|' otherwise (TERM=vt100, C locale), so captures stay
 * ASCII.  Use these rather than box() or ACS_*: the alternate character
 * set shows as letters ("lqqk") in tmux captures and some terminals. */
void tui_box(const struct tui *t, WINDOW *w, int y, int x, int height, int width);
void tui_hline(const struct tui *t, WINDOW *w, int y, int x, int width);

/* Sets `active` in suppliers.d/SLUG.conf, keeping everything else, through
 * the editor's validated, atomic writer (previous file kept as .bak), then
 * reloads the configuration and tells a running daemon.  Implemented in
 * screen_editor.c; the suppliers screen's Space calls it. */
int tui_supplier_set_active(struct tui *t, const char *slug, bool active, struct error *err);

/* tui_spawn_sync, more precisely: with a daemon running on the database,
 * the run is queued for the daemon (jobs_enqueue, trigger "console")
 * instead of started here; it fails with ERRK_BUSY when the supplier is
 * being synced or a run of it is already queued.  Without a daemon, the
 * detached `dropstock run-now` records its run with trigger "manual". */

/* Starts `dropstock [--config PATH] -q ARGS...` (args: the command and its
 * arguments, NULL-terminated, e.g. { "revert", "42", NULL }) detached like
 * tui_spawn_sync: its own session, stdio on /dev/null, no zombie left.
 * 0 once it was executed, -1 with err when it could not be started. */
int tui_spawn(struct tui *t, const char *const *args, struct error *err);

/* The connection test view (screen_suppliers.c): fetches the first page of
 * a supplier's source in a job (spinner, Esc abandons) and shows the first
 * items as mapped - SKU, stock, store stock, updated - and mapping errors.
 * Writes nothing.  Push it with a struct tui_testconn_arg * (copied by
 * open): slug names a configured supplier, or sup (when not NULL) is
 * tested instead and taken over (conf_supplier_free() and free() once the
 * test is over) - the editor passes its unsaved values that way. */
struct tui_testconn_arg {
	const char *slug;
	struct supplier_conf *sup;
};
extern const struct tui_screen_ops tui_screen_testconn;

/* The other pushed views, and every screen in the order the help, the man
 * page and `dropstock console --keys` list them (NULL-terminated). */
extern const struct tui_screen_ops tui_screen_supplier_details;  /* screen_suppliers.c: arg = slug */
extern const struct tui_screen_ops tui_screen_run_details;       /* screen_syncs.c: arg = int64_t *run id */
extern const struct tui_screen_ops *const tui_all_screens[];

/* Prints every key of every screen (the global ones first): "SCREEN:"
 * lines, then "  KEY  HELP" lines in the user's language (keys that change
 * something are marked "(writes)").  With man, prints the same tables as
 * roff in English, one block per table after a marker line
 * ('.\" keys: NAME'), which doc/update-keys.sh splices into dropstock.1. */
void tui_print_keys(FILE *out, bool man);

/* Whether key table entry name ("Enter", "Space", "Esc", "Tab", "Up",
 * "PgDn", "^L", "x", "/", "j/k" = either) stands for the key ch. */
bool tui_key_matches(const char *name, int ch);

/* Time texts shared by the screens: tui_format_time() writes ms (epoch
 * milliseconds) in local time with the strftime format fmt, "-" for 0 or
 * less; tui_format_age() writes "5 min ago" for a moment at (epoch ms),
 * "never" for 0 or less. */
void tui_format_time(int64_t ms, const char *fmt, char *out, size_t size);
void tui_format_age(int64_t at, char *out, size_t size);

#endif
