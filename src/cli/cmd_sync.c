/* src/cli/cmd_sync.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_cli_cmd_sync_c;
