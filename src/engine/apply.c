/* src/engine/apply.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_engine_apply_c;
