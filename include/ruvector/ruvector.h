/* ruvector/ruvector.h — umbrella header for C hosts. */
#ifndef RUVECTOR_RUVECTOR_H
#define RUVECTOR_RUVECTOR_H

#include <ruvector/version.h>
#include <ruvector/error.h>
#include <ruvector/cpu.h>
#include <ruvector/kernel.h>
#include <ruvector/kernel_isa.h>
#include <ruvector/engine.h>
#include <ruvector/index.h>
#include <ruvector/cancel.h>

#endif
