/* src/feed/csv.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_feed_csv_c;
