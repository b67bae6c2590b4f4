/* src/cli/cmd_link.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_cli_cmd_link_c;
