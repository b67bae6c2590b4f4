/* src/engine/lock.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_engine_lock_c;
