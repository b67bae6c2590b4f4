/* src/cli/cmd_console.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_cli_cmd_console_c;
