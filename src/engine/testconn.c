/* src/engine/testconn.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_engine_testconn_c;
