/* src/tui/screen_check.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_tui_screen_check_c;
