/* Error detail inside the rulake plugin: the plugins' shared thread-local
 * detail (plugins/common/detail.h). Library code here never prints or
 * exits: a failing function returns a ruv_status and leaves a sentence
 * there. The plugin's init (plugin.c) points ruv__detail_forward at
 * host->set_error so the detail also reaches ruv_last_error(); in the unit
 * tests the local buffer is the only sink. */
#ifndef RULAKE_LAKE_ERROR_H
#define RULAKE_LAKE_ERROR_H

#include "../common/detail.h"

#endif
