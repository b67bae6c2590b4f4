/* src/conf/demo.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_conf_demo_c;
