/* src/engine/outbox.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_engine_outbox_c;
