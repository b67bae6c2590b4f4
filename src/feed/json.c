/* src/feed/json.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_feed_json_c;
