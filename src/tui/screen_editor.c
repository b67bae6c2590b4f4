/* src/tui/screen_editor.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_tui_screen_editor_c;
