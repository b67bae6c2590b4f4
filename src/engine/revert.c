/* src/engine/revert.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_engine_revert_c;
