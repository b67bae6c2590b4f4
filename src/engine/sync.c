/* src/engine/sync.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_engine_sync_c;
