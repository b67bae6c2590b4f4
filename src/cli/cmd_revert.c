/* src/cli/cmd_revert.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_cli_cmd_revert_c;
