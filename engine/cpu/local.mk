# ISA probe (x86, AArch64) and topology (hwloc at run time, or /sys).
engine_libruvector_core_la_SOURCES += engine/cpu/cpu.c engine/cpu/isa.h engine/cpu/cpu_x86.c \
	engine/cpu/cpu_arm.c engine/cpu/topo.c engine/cpu/topo.h engine/cpu/topo_hwloc.c \
	engine/cpu/topo_sys.c engine/cpu/hwloc_abi.h
