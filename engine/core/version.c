#include "config.h"

#include <ruvector/version.h>

uint32_t ruv_version(void) { return (uint32_t)RUV_VERSION_HEX; }

const char *ruv_version_string(void) { return RUV_VERSION_STRING; }
