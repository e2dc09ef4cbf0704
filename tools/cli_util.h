/* Small helpers of the index subcommands: clocks, file sizes, checked
 * allocation, and an early check that an output file can be written. */
#ifndef RUV_TOOLS_CLI_UTIL_H
#define RUV_TOOLS_CLI_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Monotonic wall-clock seconds (an arbitrary origin: use differences). */
double now_seconds(void);

/* CPU time of the whole process (every thread): next to the wall time it
 * shows how much of a build was waiting for a core on a shared machine. */
double cpu_seconds(void);

/* Size of the file at path into *out; returns 0, or -1 (errno set). */
int file_size(const char *path, uint64_t *out);

/* calloc of n * size (at least one element) with the overflow check spelled
 * out; NULL on overflow or exhaustion. The caller frees. */
void *alloc_array(size_t n, size_t size);

/* Fails early, before a long build, when the directory of path cannot take
 * the file: returns 0, or 1 after saying so for cmd (the save itself still
 * reports anything else). */
int check_output_dir(const char *cmd, const char *path);

#endif
