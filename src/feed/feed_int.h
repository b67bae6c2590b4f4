/* src/feed/feed_int.h - placeholder */
