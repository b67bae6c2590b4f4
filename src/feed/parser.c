/* src/feed/parser.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_feed_parser_c;
