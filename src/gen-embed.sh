#!/bin/sh
# placeholder
echo '#include "config.h"'
echo 'typedef int demo_blob_placeholder;'
