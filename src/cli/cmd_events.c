/* src/cli/cmd_events.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_cli_cmd_events_c;
