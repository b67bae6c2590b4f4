/* src/cli/cmd_daemon.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_cli_cmd_daemon_c;
