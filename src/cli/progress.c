/* src/cli/progress.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_cli_progress_c;
