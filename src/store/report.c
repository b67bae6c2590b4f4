/* src/store/report.c - placeholder, being written */
#include "config.h"
typedef int placeholder_src_store_report_c;
