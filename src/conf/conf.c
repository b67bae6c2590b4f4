/* src/conf/conf.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_conf_conf_c;
