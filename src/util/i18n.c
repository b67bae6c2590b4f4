/* i18n.c - locale and message catalogue set-up. */
#include "config.h"

#include <locale.h>

#include "util/i18n.h"

void i18n_init(void)
{
	setlocale(LC_ALL, "");
#ifdef ENABLE_NLS
	bindtextdomain(PACKAGE, LOCALEDIR);
	textdomain(PACKAGE);
#endif
}
