/* src/tui/screen_unknown.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_tui_screen_unknown_c;
