/* src/cli/cmd_approve.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_cli_cmd_approve_c;
