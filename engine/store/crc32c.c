/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of
 * the index file container (store/writer.c, store/reader.c).
 *
 * Three implementations, one answer:
 *   - hardware: the SSE4.2 crc32 instruction (x86-64) or the ARMv8 CRC32C
 *     instructions (aarch64), chosen at run time. One crc32 chain is bound by
 *     the instruction's 3-cycle latency, so the bulk of the input is split
 *     into three adjacent blocks whose CRCs run as independent chains and are
 *     then merged with a precomputed "append n zero bytes" operator;
 *   - slicing-by-8 tables for CPUs without it;
 *   - a bitwise loop, used only by a thread that races another one building
 *     the tables (so nothing ever waits and no lock is needed).
 *
 * The register is kept non-inverted inside the helpers (*_raw); the public
 * functions do the pre/post inversion, so ruv__crc32c(0, buf, n) is the
 * standard CRC-32C and calls chain: crc(A||B) == crc32c(crc32c(0, A), B). */
#include "config.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <ruvector/cpu.h>

#include "store/persist.h"

/* Whether the CPU has the instructions is the engine's ISA probe's answer
 * (RUV_ISA_SSE42, RUV_ISA_CRC32), as for every other ISA decision. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define RUV_CRC_X86 1
#define RUV_CRC_ISA RUV_ISA_SSE42
#include <nmmintrin.h>
#elif defined(__aarch64__) && defined(__GNUC__) && defined(__ORDER_LITTLE_ENDIAN__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && defined(HAVE_GETAUXVAL)
#define RUV_CRC_ARM 1
#define RUV_CRC_ISA RUV_ISA_CRC32
#include <arm_acle.h>
#endif

#define POLY 0x82f63b78u

/* Lane sizes of the interleaved hardware loop: LONG lanes for big inputs
 * (3 x 8 KiB stays in L1), SHORT lanes for the tail, so a 1 KiB section
 * still gets the three-chain speed. */
#define LANE_LONG 8192
#define LANE_SHORT 256

static uint32_t slice[8][256];
static uint32_t zeros_long[4][256];  /* register after LANE_LONG zero bytes */
static uint32_t zeros_short[4][256]; /* register after LANE_SHORT zero bytes */
static atomic_int tables_state;      /* 0 unbuilt, 1 being built, 2 ready */

/* (a * b) mod P over GF(2), reflected: bit 31 is x^0. */
static uint32_t multmodp(uint32_t a, uint32_t b)
{
    uint32_t m = UINT32_C(1) << 31, p = 0;
    for (;;) {
        if (a & m) {
            p ^= b;
            if ((a & (m - 1)) == 0)
                break;
        }
        m >>= 1;
        b = (b & 1) ? (b >> 1) ^ POLY : b >> 1;
    }
    return p;
}

/* x^(8 n) mod P: the factor that appending n zero bytes multiplies the
 * register by. Square-and-multiply over the bits of 8n. */
static uint32_t x8nmodp(uint64_t n)
{
    uint32_t result = UINT32_C(1) << 31; /* x^0 */
    uint32_t sq = UINT32_C(1) << 30;     /* x^1 */
    uint64_t e = n * 8;
    while (e) {
        if (e & 1)
            result = multmodp(sq, result);
        sq = multmodp(sq, sq);
        e >>= 1;
    }
    return result;
}

static void build_zeros(uint32_t table[4][256], uint64_t nbytes)
{
    uint32_t op = x8nmodp(nbytes);
    for (int k = 0; k < 4; k++)
        for (uint32_t v = 0; v < 256; v++)
            table[k][v] = multmodp(op, v << (8 * k));
}

static void build_tables(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
        slice[0][n] = c;
    }
    for (uint32_t n = 0; n < 256; n++)
        for (int k = 1; k < 8; k++)
            slice[k][n] = (slice[k - 1][n] >> 8) ^ slice[0][slice[k - 1][n] & 0xff];
    build_zeros(zeros_long, LANE_LONG);
    build_zeros(zeros_short, LANE_SHORT);
}

/* 1 when the tables may be read. The first caller builds them; a caller that
 * races it gets 0 and uses the bitwise loop for this one call instead of
 * waiting. */
static int tables_ready(void)
{
    int s = atomic_load_explicit(&tables_state, memory_order_acquire);
    if (s == 2)
        return 1;
    int expected = 0;
    if (s == 0 && atomic_compare_exchange_strong_explicit(&tables_state, &expected, 1,
                                                          memory_order_acquire,
                                                          memory_order_relaxed)) {
        build_tables();
        atomic_store_explicit(&tables_state, 2, memory_order_release);
        return 1;
    }
    return 0;
}

static uint32_t crc_bitwise(uint32_t c, const unsigned char *p, size_t n)
{
    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
    }
    return c;
}

static inline uint32_t load32le(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Slicing-by-8 (tables must be ready). Byte loads keep it endian-neutral;
 * compilers turn load32le into one load on little-endian hosts. */
static uint32_t crc_slice8(uint32_t c, const unsigned char *p, size_t n)
{
    while (n && ((uintptr_t)p & 7)) {
        c = (c >> 8) ^ slice[0][(c ^ *p++) & 0xff];
        n--;
    }
    while (n >= 8) {
        uint32_t lo = c ^ load32le(p), hi = load32le(p + 4);
        c = slice[7][lo & 0xff] ^ slice[6][(lo >> 8) & 0xff] ^ slice[5][(lo >> 16) & 0xff] ^
            slice[4][lo >> 24] ^ slice[3][hi & 0xff] ^ slice[2][(hi >> 8) & 0xff] ^
            slice[1][(hi >> 16) & 0xff] ^ slice[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--)
        c = (c >> 8) ^ slice[0][(c ^ *p++) & 0xff];
    return c;
}

static uint32_t crc_sw_raw(uint32_t c, const unsigned char *p, size_t n)
{
    return tables_ready() ? crc_slice8(c, p, n) : crc_bitwise(c, p, n);
}

#if defined(RUV_CRC_X86) || defined(RUV_CRC_ARM)
/* Register after appending the lane's zero bytes (a linear map, one table
 * per register byte). */
static inline uint32_t shift_zeros(uint32_t t[4][256], uint32_t c)
{
    return t[0][c & 0xff] ^ t[1][(c >> 8) & 0xff] ^ t[2][(c >> 16) & 0xff] ^ t[3][c >> 24];
}

static inline uint64_t load64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8); /* little-endian host: the byte order crc32q expects */
    return v;
}

/* The hardware loop, written once for both ISAs: CRC8 folds one byte, CRC64
 * eight little-endian bytes. Three chains run over three adjacent lanes; the
 * CRC of lane0||lane1||lane2 is shift(shift(c0) ^ c1) ^ c2 because the CRC
 * register is linear in its input. */
#define RUV_CRC_HW_BODY(CRC8, CRC64)                                                   \
    do {                                                                              \
        if (!tables_ready())                                                          \
            return crc_bitwise(crc, p, n);                                            \
        while (n && ((uintptr_t)p & 7)) {                                             \
            crc = CRC8(crc, *p++);                                                    \
            n--;                                                                      \
        }                                                                             \
        while (n >= 3 * (size_t)LANE_LONG) {                                          \
            uint64_t c0 = crc, c1 = 0, c2 = 0;                                        \
            const unsigned char *end = p + LANE_LONG;                                 \
            do {                                                                      \
                c0 = CRC64(c0, load64(p));                                            \
                c1 = CRC64(c1, load64(p + LANE_LONG));                                \
                c2 = CRC64(c2, load64(p + 2 * LANE_LONG));                            \
                p += 8;                                                               \
            } while (p < end);                                                        \
            crc = shift_zeros(zeros_long, (uint32_t)c0) ^ (uint32_t)c1;               \
            crc = shift_zeros(zeros_long, crc) ^ (uint32_t)c2;                        \
            p += 2 * LANE_LONG;                                                       \
            n -= 3 * (size_t)LANE_LONG;                                               \
        }                                                                             \
        while (n >= 3 * (size_t)LANE_SHORT) {                                         \
            uint64_t c0 = crc, c1 = 0, c2 = 0;                                        \
            const unsigned char *end = p + LANE_SHORT;                                \
            do {                                                                      \
                c0 = CRC64(c0, load64(p));                                            \
                c1 = CRC64(c1, load64(p + LANE_SHORT));                               \
                c2 = CRC64(c2, load64(p + 2 * LANE_SHORT));                           \
                p += 8;                                                               \
            } while (p < end);                                                        \
            crc = shift_zeros(zeros_short, (uint32_t)c0) ^ (uint32_t)c1;              \
            crc = shift_zeros(zeros_short, crc) ^ (uint32_t)c2;                       \
            p += 2 * LANE_SHORT;                                                      \
            n -= 3 * (size_t)LANE_SHORT;                                              \
        }                                                                             \
        while (n >= 8) {                                                              \
            crc = (uint32_t)CRC64(crc, load64(p));                                    \
            p += 8;                                                                   \
            n -= 8;                                                                   \
        }                                                                             \
        while (n--)                                                                   \
            crc = CRC8(crc, *p++);                                                    \
        return crc;                                                                   \
    } while (0)
#endif

#if defined(RUV_CRC_X86)
__attribute__((target("sse4.2"))) static uint32_t crc_hw_raw(uint32_t crc,
                                                             const unsigned char *p, size_t n)
{
#define X86_CRC8(c, b) _mm_crc32_u8((c), (b))
#define X86_CRC64(c, v) _mm_crc32_u64((c), (v))
    RUV_CRC_HW_BODY(X86_CRC8, X86_CRC64);
#undef X86_CRC8
#undef X86_CRC64
}
#elif defined(RUV_CRC_ARM)
__attribute__((target("+crc"))) static uint32_t crc_hw_raw(uint32_t crc,
                                                           const unsigned char *p, size_t n)
{
#define ARM_CRC8(c, b) __crc32cb((uint32_t)(c), (b))
#define ARM_CRC64(c, v) __crc32cd((uint32_t)(c), (v))
    RUV_CRC_HW_BODY(ARM_CRC8, ARM_CRC64);
#undef ARM_CRC8
#undef ARM_CRC64
}
#endif

int ruv__crc32c_hw_available(void)
{
#if defined(RUV_CRC_X86) || defined(RUV_CRC_ARM)
    return (ruv_cpu_isa() & RUV_CRC_ISA) != 0; /* probed once, cached */
#else
    return 0;
#endif
}

uint32_t ruv__crc32c_sw(uint32_t crc, const void *data, size_t len)
{
    if (len == 0)
        return crc;
    return ~crc_sw_raw(~crc, data, len);
}

uint32_t ruv__crc32c_hw(uint32_t crc, const void *data, size_t len)
{
    if (len == 0)
        return crc;
#if defined(RUV_CRC_X86) || defined(RUV_CRC_ARM)
    if (ruv__crc32c_hw_available())
        return ~crc_hw_raw(~crc, data, len);
#endif
    return ~crc_sw_raw(~crc, data, len);
}

uint32_t ruv__crc32c(uint32_t crc, const void *data, size_t len)
{
    return ruv__crc32c_hw(crc, data, len);
}
