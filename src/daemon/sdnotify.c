/* src/daemon/sdnotify.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_daemon_sdnotify_c;
