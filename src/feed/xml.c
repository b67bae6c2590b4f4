/* src/feed/xml.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_feed_xml_c;
