/* src/daemon/daemon.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_daemon_daemon_c;
