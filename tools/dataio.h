/* tools/dataio.h — vector and id files for the ruvector CLI.
 *
 * Formats, chosen by the file name's extension (case-insensitive):
 *   .fvecs  per row: int32 dim, then dim float32          (vectors)
 *   .bvecs  per row: int32 dim, then dim uint8             (vectors, converted to float)
 *   .ivecs  per row: int32 dim, then dim int32             (ids / ground truth)
 *   .npy    NumPy format 1.0/2.0/3.0, C order, 2-D (or 1-D: one row);
 *           vectors: '<f4', '<f8' (converted) or '|u1'; ids: '<i4' or '<i8'.
 * Everything is little-endian on disk, whatever the host.
 *
 * Every function returns a ruv_status (RUV_OK, RUV_E_IO for operating-system
 * failures, RUV_E_CORRUPT for malformed content, RUV_E_INVAL for valid files
 * we refuse — unknown extension, NaN/Inf, unsupported dtype — RUV_E_NOMEM)
 * and on failure writes one line to err (if errlen > 0) that starts with the
 * path: "base.fvecs: row 17 has dimension 100, expected 128 (as row 0)".
 * Rows and columns in messages are 0-based, like the ids an index assigns.
 *
 * Readers make one allocation for the result (n x dim elements); the file
 * itself is mapped, not copied. On failure *out is left empty.
 */
#ifndef RUV_TOOLS_DATAIO_H
#define RUV_TOOLS_DATAIO_H

#include <stddef.h>
#include <stdint.h>

/* Largest dimension (columns) a file may declare. */
#define DATA_MAX_DIM 1000000

/* Row-major n x dim float32 vectors; data from malloc. */
struct data_matrix {
    float *data;
    size_t n, dim;
};

/* Row-major n x dim integers (ids, ground-truth row numbers); data from malloc. */
struct data_ids {
    int64_t *data;
    size_t n, dim;
};

enum data_format {
    DATA_FORMAT_UNKNOWN = 0,
    DATA_FORMAT_FVECS,
    DATA_FORMAT_BVECS,
    DATA_FORMAT_IVECS,
    DATA_FORMAT_NPY
};

/* Format from the extension of path; DATA_FORMAT_UNKNOWN if none matches. */
enum data_format data_format_from_path(const char *path);

/* Reads a .fvecs, .bvecs or .npy file of vectors. Rejects NaN and Inf
 * (naming row and column), dimensions of 0 or above DATA_MAX_DIM, rows of
 * different dimensions, partial rows and empty files. */
int data_read_vectors(const char *path, struct data_matrix *out, char *err, size_t errlen);

/* Reads an .ivecs file or an integer .npy file ('<i4', '<i8'). */
int data_read_ids(const char *path, struct data_ids *out, char *err, size_t errlen);

/* The same parsers over a buffer already in memory (tests, fuzzing). name
 * stands in for the path in messages. */
int data_parse_vectors(const void *buf, size_t len, enum data_format fmt, const char *name,
                       struct data_matrix *out, char *err, size_t errlen);
int data_parse_ids(const void *buf, size_t len, enum data_format fmt, const char *name,
                   struct data_ids *out, char *err, size_t errlen);

/* Writes n x dim floats as .fvecs or .npy ('<f4'), by path's extension. */
int data_write_vectors(const char *path, const float *data, size_t n, size_t dim, char *err,
                       size_t errlen);

/* Writes n x dim ids as .ivecs (int32: every value must fit) or .npy
 * ('<i8'), by path's extension. -1 marks "no result". */
int data_write_ids(const char *path, const int64_t *ids, size_t n, size_t dim, char *err,
                   size_t errlen);

/* Frees the data and empties the struct; NULL and empty structs are fine. */
void data_matrix_free(struct data_matrix *m);
void data_ids_free(struct data_ids *m);

#endif
