/* src/engine/jobs.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_engine_jobs_c;
