/* src/conf/conf_int.h - placeholder */
