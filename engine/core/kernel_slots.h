/* Engine-private: putting the engine's kernel table together slot by slot
 * at open (kernel_slots.c), and describing it for reports. */
#ifndef RUV_ENGINE_CORE_KERNEL_SLOTS_H
#define RUV_ENGINE_CORE_KERNEL_SLOTS_H

#include "base/util.h"
#include "core/engine.h"

/* After kernel selection: every slot from the selected kernel, unless
 * measuring is on and another kernel plugin supplies the slot, in which
 * case cached or freshly measured speeds decide (plugin/plugins.h). Never
 * fails the open: a cache that cannot be read or written is reported in
 * the table's note. RUV_E_NOMEM only. */
int ruv__kernel_slots_resolve(struct ruv_engine *eng);

/* Appends "slots":[...] (no trailing comma) for the report's kernel. */
void ruv__kernel_slots_report(struct ruv__buf *b, const struct ruv_engine *eng);

#endif
