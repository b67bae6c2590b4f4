/* src/store/report.h - placeholder */
