/* src/tui/tui.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_tui_tui_c;
