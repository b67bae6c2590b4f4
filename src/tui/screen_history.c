/* src/tui/screen_history.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_tui_screen_history_c;
