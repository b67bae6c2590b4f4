/* i18n.h - gettext wiring, defined once for the whole tree. */
#ifndef DROPSTOCK_I18N_H
#define DROPSTOCK_I18N_H

#include "config.h"

#ifdef ENABLE_NLS
#include <libintl.h>
#define _(s) gettext(s)
#define P_(s, p, n) ngettext((s), (p), (n))
#else
#define _(s) (s)
#define P_(s, p, n) ((n) == 1 ? (s) : (p))
#endif
#define N_(s) (s)

/* Sets the locale and binds the text domain; call first in main(). */
void i18n_init(void);

#endif
