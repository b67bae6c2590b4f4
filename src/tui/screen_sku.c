/* src/tui/screen_sku.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_tui_screen_sku_c;
