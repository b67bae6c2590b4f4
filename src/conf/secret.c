/* src/conf/secret.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_conf_secret_c;
