/* src/cli/cli.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_cli_cli_c;
