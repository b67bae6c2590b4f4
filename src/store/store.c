/* src/store/store.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_store_store_c;
