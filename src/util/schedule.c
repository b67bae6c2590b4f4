/* src/util/schedule.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_engine_schedule_c;
