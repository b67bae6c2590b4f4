/* src/engine/rules.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_engine_rules_c;
