/* Engine-private: where a resolved setting came from. The engine resolves
 * settings (core/); the loader words its messages by the source (plugin/). */
#ifndef RUV_ENGINE_BASE_SOURCE_H
#define RUV_ENGINE_BASE_SOURCE_H

enum ruv__source { RUV_SRC_DEFAULT = 0, RUV_SRC_ENV = 1, RUV_SRC_API = 2 };

#endif
