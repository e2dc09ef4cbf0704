/* The durable file container of the indexes (engine-private).
 *
 * A file is a 64-byte header, payload sections tagged with four characters,
 * and a section table; every byte is covered by a CRC-32C or must be zero
 * padding, payloads start on 64-byte boundaries, and the whole file is
 * validated before the reader hands out a single section. The index code
 * decides what goes into which section; this layer knows nothing about
 * vectors. Layout and guarantees: docs/file-format.md.
 *
 * Typical use:
 *
 *   struct ruv__writer w;
 *   int rc = ruv__writer_open(&w, path);
 *   if (rc) return rc;
 *   if ((rc = ruv__writer_section(&w, "META", meta, meta_len)) ||
 *       (rc = ruv__writer_section(&w, "CODE", codes, codes_len)))
 *       goto fail;
 *   return ruv__writer_commit(&w);   // cleans up itself on failure
 * fail:
 *   ruv__writer_abort(&w);
 *   return rc;
 *
 *   struct ruv__reader r;
 *   rc = ruv__reader_open(&r, path, use_mmap);   // everything checked here
 *   if (rc) return rc;
 *   rc = ruv__reader_section(&r, "CODE", &codes, &codes_len);
 *   ...
 *   ruv__reader_close(&r);
 */
#ifndef RUV_ENGINE_PERSIST_H
#define RUV_ENGINE_PERSIST_H

#include <stddef.h>
#include <stdint.h>

#include "store/durable.h"

#define RUV__FILE_MAGIC "RUVIDX\0\1" /* 8 bytes, no terminator counted */
#define RUV__FILE_MAGIC_LEN 8
#define RUV__FILE_VERSION 3u
#define RUV__FILE_HEADER_SIZE 64u
#define RUV__FILE_ENTRY_SIZE 32u  /* one section-table entry */
#define RUV__FILE_ALIGN 64u       /* payload alignment in the file (and in memory) */
#define RUV__FILE_MAX_SECTIONS 4096u

/* ---- CRC-32C (crc32c.c) ----
 * Standard CRC-32C: ruv__crc32c(0, "123456789", 9) == 0xE3069283. Chains:
 * ruv__crc32c(ruv__crc32c(0, a, na), b, nb) is the CRC of a||b. Uses the
 * CPU's CRC32C instructions when present (SSE4.2, ARMv8 CRC), else
 * slicing-by-8. Thread-safe. */
uint32_t ruv__crc32c(uint32_t crc, const void *data, size_t len);
/* The two paths separately, for tests and benchmarks. _hw falls back to the
 * table path when the CPU lacks the instructions. */
uint32_t ruv__crc32c_sw(uint32_t crc, const void *data, size_t len);
uint32_t ruv__crc32c_hw(uint32_t crc, const void *data, size_t len);
int ruv__crc32c_hw_available(void);

/* ---- writer ----
 * Writes through the durable replacement of store/durable.h (a locked
 * temporary ".<name>.tmp.<pid>.<tid>.<hex>" in the destination's
 * directory); commit makes it durable and renames it over the destination.
 * Any failing call (I/O error, bad tag, duplicate tag, wrong state) removes
 * the temporary file, leaves the destination untouched, sets the error
 * detail (naming the path and the failing system call with strerror) and
 * makes every later call return the same status; ruv__writer_abort is
 * always safe, any number of times, also after commit. */
struct ruv__wsection {
    char tag[4];
    uint32_t crc;
    uint64_t offset, length;
};

struct ruv__writer {
    struct ruv__durable file; /* the temporary and its replacement of path */
    int status;         /* RUV_OK, or the first failure (sticky) */
    int in_section;     /* between _section_begin and _section_end */
    char *path;         /* destination (own copy) */
    unsigned char *buf; /* write-behind buffer for small appends */
    size_t buflen;
    uint64_t pos;       /* bytes emitted so far (file offset of the next byte) */
    uint32_t crc;       /* running CRC of the open section */
    struct ruv__wsection *secs;
    size_t nsecs, capsecs;
};

/* RUV_E_INVAL for a NULL/empty path or one ending in '/', RUV_E_IO when the
 * temporary file cannot be created, RUV_E_NOMEM. On failure nothing is left
 * behind and abort is still safe. */
int ruv__writer_open(struct ruv__writer *w, const char *path);
/* One section from one buffer, streamed (no copy of large arrays). tag: four
 * printable ASCII characters, unique within the file. data may be NULL when
 * len is 0. */
int ruv__writer_section(struct ruv__writer *w, const char tag[4], const void *data, size_t len);
/* The same, assembled from pieces: begin, any number of appends, end. */
int ruv__writer_section_begin(struct ruv__writer *w, const char tag[4]);
int ruv__writer_section_append(struct ruv__writer *w, const void *data, size_t len);
int ruv__writer_section_end(struct ruv__writer *w);
/* Writes the table and the header, fsyncs and closes the file, renames it
 * over path and fsyncs the directory. Cleans up on failure. Only a failing
 * fsync of the directory comes after the rename: then the new file is in
 * place but its durability is not guaranteed, and RUV_E_IO says so. */
int ruv__writer_commit(struct ruv__writer *w);
/* Removes the temporary file and frees everything. Keeps the error detail. */
void ruv__writer_abort(struct ruv__writer *w);

/* ---- reader ----
 * Open validates everything (header, sizes, table bounds, alignment, zero
 * padding, every section's CRC) before returning RUV_OK, so a successful
 * open never yields half-checked data. RUV_E_CORRUPT names the path and what
 * failed; RUV_E_IO covers open/fstat/read/mmap failures (with strerror).
 * On failure the reader is closed (ruv__reader_close stays safe).
 *
 * Section pointers are 64-byte aligned (mmap pages, or a 64-byte aligned
 * buffer) and read-only: with mmap they point into a PROT_READ private
 * mapping. The mapping must not be modified by others while in use (the
 * writer never does: it replaces files by rename); a mapped reader keeps the
 * file open (fd, with its size and mtime at open) so that its user can check
 * with ruv__mapping_check that the file was not truncated or rewritten. */
/* The file behind a mapping: kept open so that a change to it (truncation,
 * an in-place rewrite) is seen before the mapping is read again. */
struct ruv__mapped_file {
    int fd; /* -1 when nothing is kept */
    uint64_t size;
    int64_t mtime_sec, mtime_nsec;
};

/* RUV_OK while the file behind a mapping still has the size and mtime it had
 * when it was opened (and always when fd is -1); otherwise RUV_E_IO naming
 * path and what changed. Replacing a file by rename does not count: the
 * mapping keeps the old file. */
int ruv__mapping_check(const struct ruv__mapped_file *f, const char *path);
/* Closes the kept file (fd -1 afterwards); safe to repeat. */
void ruv__mapped_file_close(struct ruv__mapped_file *f);

struct ruv__reader {
    const unsigned char *base; /* the whole file image */
    size_t len;
    const unsigned char *table; /* section table inside base */
    uint32_t nsections;
    int is_mmap; /* base is a mapping (else heap or caller memory) */
    int owned;   /* close releases base */
    uint32_t version; /* the file's format version (1 .. RUV__FILE_VERSION) */
    char *path;  /* own copy, for messages */
    struct ruv__mapped_file file; /* mmap only: the open file, else fd -1 */
};

int ruv__reader_open(struct ruv__reader *r, const char *path, int use_mmap);
/* Validates an image already in memory (used by the file path and the
 * fuzzer). The reader borrows buf, which must outlive it; name (may be NULL)
 * is used in messages. Pointers are 64-byte aligned when buf is. */
int ruv__reader_open_mem(struct ruv__reader *r, const void *buf, size_t len, const char *name);
/* RUV_E_CORRUPT "missing section 'CODE'" when absent. Empty sections give a
 * valid non-NULL pointer and *len 0. */
int ruv__reader_section(const struct ruv__reader *r, const char tag[4], const void **data,
                        size_t *len);
/* 1 if the section exists, else 0. */
int ruv__reader_has(const struct ruv__reader *r, const char tag[4]);
/* Entry i (0 <= i < nsections) in file order; tag gets a NUL-terminated copy. */
int ruv__reader_entry(const struct ruv__reader *r, uint32_t i, char tag[5], const void **data,
                      size_t *len);
/* Hands the image to the caller, who releases it later with
 * ruv__mapping_release(*base, *len, returned is_mmap). Afterwards the reader
 * still answers section queries (the caller must not release before
 * ruv__reader_close), and close no longer frees the image. For a borrowed
 * image (open_mem) *base is NULL and *len 0. Returns 1 for a mapping, 0 for
 * heap memory. */
int ruv__reader_detach(struct ruv__reader *r, void **base, size_t *len);
/* Hands the kept file (mapped readers only) to the caller, who closes it
 * with ruv__mapped_file_close; the reader then holds fd -1. */
void ruv__reader_detach_file(struct ruv__reader *r, struct ruv__mapped_file *f);
void ruv__reader_close(struct ruv__reader *r);
/* munmap or free; NULL is a no-op. */
void ruv__mapping_release(void *base, size_t len, int is_mmap);

/* ---- little-endian scalars for META-style payloads ----
 * Putters store at p and return p advanced (the caller sizes the buffer).
 * Getters read through a bounds-checked cursor and return RUV_E_CORRUPT
 * ("'<path>' section 'META' is truncated: ...") on short input, leaving the
 * cursor unchanged. */
unsigned char *ruv__put_u32(unsigned char *p, uint32_t v);
unsigned char *ruv__put_u64(unsigned char *p, uint64_t v);
unsigned char *ruv__put_f32(unsigned char *p, float v);
/* Unchecked loads, for a payload whose length the caller has verified. */
uint32_t ruv__load_u32(const unsigned char *p);
uint64_t ruv__load_u64(const unsigned char *p);
float ruv__load_f32(const unsigned char *p);

struct ruv__cursor {
    const unsigned char *p;
    size_t len, pos;
    const char *path; /* borrowed, for messages; may be NULL */
    char tag[5];
};

void ruv__cursor_init(struct ruv__cursor *c, const void *data, size_t len, const char *path,
                      const char tag[4]);
/* ruv__reader_section + ruv__cursor_init. */
int ruv__reader_cursor(const struct ruv__reader *r, const char tag[4], struct ruv__cursor *c);
int ruv__get_u32(struct ruv__cursor *c, uint32_t *v);
int ruv__get_u64(struct ruv__cursor *c, uint64_t *v);
int ruv__get_f32(struct ruv__cursor *c, float *v);
int ruv__get_bytes(struct ruv__cursor *c, void *out, size_t n);
/* RUV_E_CORRUPT when bytes remain unread (a stricter reader's end check). */
int ruv__cursor_end(const struct ruv__cursor *c);

#endif
