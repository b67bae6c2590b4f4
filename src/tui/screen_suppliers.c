/* src/tui/screen_suppliers.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_tui_screen_suppliers_c;
