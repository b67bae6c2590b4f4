/* src/feed/http.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_feed_http_c;
