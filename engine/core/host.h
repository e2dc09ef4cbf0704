/* Engine-private: the version-2 host services handed to plugins (host.c). */
#ifndef RUV_ENGINE_CORE_HOST_H
#define RUV_ENGINE_CORE_HOST_H

#include <stdint.h>

#include <ruvector/plugin.h>

extern const struct ruv_host ruv__host_services;

#endif
