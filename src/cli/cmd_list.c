/* src/cli/cmd_list.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_cli_cmd_list_c;
