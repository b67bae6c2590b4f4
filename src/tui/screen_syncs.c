/* src/tui/screen_syncs.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_tui_screen_syncs_c;
