/* Engine-private: the per-architecture ISA probes behind ruv_cpu_isa
 * (cpu_x86.c, cpu_arm.c) and the list form of the one ISA name table
 * (cpu.c). */
#ifndef RUV_ENGINE_CPU_ISA_H
#define RUV_ENGINE_CPU_ISA_H

#include <stdint.h>

#include "base/util.h"

uint64_t ruv__probe_isa_x86(void);
uint64_t ruv__probe_isa_aarch64(void);
/* Appends the names of the set bits, separated by sep; "(none)" if none. */
void ruv__isa_list(struct ruv__buf *b, uint64_t bits, const char *sep);

#endif
