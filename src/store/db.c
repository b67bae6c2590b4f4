/* src/store/db.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_store_db_c;
