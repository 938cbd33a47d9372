/*
 * JpegLm's optional bfloat16 GEMM for the CPU (see Engine/Kernels/Cpu/Bf16Gemm.cs and docs/engine.md).
 *
 * Why native code: .NET 10 exposes AVX-512 F/BW/DQ/VBMI but not AVX512-BF16, so the managed
 * engine cannot issue vdpbf16ps, which does two multiply-adds per float lane (twice the FMA rate).
 * This file is the whole accelerated path: it is built when a C compiler is present (the Engine
 * project runs gcc if it finds one), loaded when present, and the managed float32 GEMM stays the
 * default and the only thing a user needs.
 *
 * One call computes one block of C on the calling thread; the managed side cuts C into blocks and
 * runs them in parallel, so every element of C is owned by one thread and summed in a fixed order
 * (deterministic). Inputs are rounded to bfloat16 (round to nearest even, denormals to zero, as the
 * hardware conversion does) while they are packed; products are summed in float32.
 *
 * Packing (Goto/BLIS scheme): K is walked in slabs of KC. A slab of op(B) is packed into strips of NR
 * columns, each holding, for every pair of rows (p, p+1), the NR columns as (B[p][j], B[p+1][j])
 * bfloat16 pairs, so one 32-bit lane holds what vdpbf16ps multiplies into column j. A block of op(A)
 * is packed into strips of MR rows holding, for every pair (p, p+1), each row's two values as one
 * 32-bit word, which the micro-kernel broadcasts. Odd K is padded with a zero.
 */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#define MR 12
#define NR 32
#define KC 384
#define MC 96
#define NC 256

static _Thread_local uint32_t block_a[MC * (KC / 2)] __attribute__((aligned(64)));
static _Thread_local uint32_t block_b[NC * (KC / 2)] __attribute__((aligned(64)));

/* float32 -> bfloat16 bits, as vcvtneps2bf16 does: nearest even, denormals to zero, NaN quieted. */
static inline uint32_t bf16_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7f800000u) == 0) {
        return (u >> 16) & 0x8000u;
    }
    if ((u & 0x7fffffffu) > 0x7f800000u) {
        return (u >> 16) | 0x40u;
    }
    u += 0x7fffu + ((u >> 16) & 1u);
    return u >> 16;
}

/*
 * Sixteen pair words from two rows of sixteen floats: word j = (lo[j], hi[j]). One vcvtne2ps2bf16 converts
 * both rows (its rounding is bf16_bits'), and a word permutation interleaves them.
 */
static inline __m512i pairs_across(const float *lo, const float *hi)
{
    const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                                23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    __m512i both = (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(hi), _mm512_loadu_ps(lo));
    return _mm512_permutexvar_epi16(interleave, both);
}

/* Sixteen pair words from thirty-two consecutive floats: word q = (x[2q], x[2q+1]). */
static inline __m512i pairs_along(const float *x)
{
    return (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + 16), _mm512_loadu_ps(x));
}

/* Sixteen words to dst[0], dst[stride], ..., dst[15 * stride]. */
static inline void store_strided(uint32_t *dst, long stride, __m512i words)
{
    uint32_t tmp[16] __attribute__((aligned(64)));
    _mm512_store_si512(tmp, words);
    for (int t = 0; t < 16; t++) {
        dst[t * stride] = tmp[t];
    }
}

/* Pair words q0.. of a run of kc floats (a row of A or a column of op(B)), word q at dst[q * stride]. */
static void pack_along(uint32_t *dst, long stride, const float *x, int kc, int pairs, int q0)
{
    int q = q0;
    for (; 2 * q + 32 <= kc; q += 16) {
        store_strided(dst + q * stride, stride, pairs_along(x + 2 * q));
    }
    for (; q < pairs; q++) {
        dst[q * stride] = bf16_bits(x[2 * q]) | (2 * q + 1 < kc ? bf16_bits(x[2 * q + 1]) << 16 : 0);
    }
}

/* op(A)[i0 .. i0+mc, p0 .. p0+kc] into MR-row strips of pair words (rows past mc and the odd tail zero). */
static void pack_a_block(uint32_t *pack_a, const float *a, int lda, int trans, int i0, int mc, int p0, int kc)
{
    int pairs = (kc + 1) / 2;
    int padded = (mc + MR - 1) / MR * MR;
    if (!trans) {
        for (int ii = 0; ii < padded; ii++) {
            uint32_t *dst = pack_a + (long)(ii / MR) * MR * pairs + ii % MR;
            if (ii < mc) {
                pack_along(dst, MR, a + (long)(i0 + ii) * lda + p0, kc, pairs, 0);
            } else {
                for (int q = 0; q < pairs; q++) {
                    dst[q * MR] = 0;
                }
            }
        }
    } else {
        /* op(A)[i][p] = A[p][i]: walk p outermost so each read runs along a row of A. */
        for (int q = 0; q < pairs; q++) {
            const float *r0 = a + (long)(p0 + 2 * q) * lda + i0;
            int odd = 2 * q + 1 < kc;
            int ii = 0;
            if (odd) {
                for (; ii + 16 <= mc; ii += 16) {
                    uint32_t tmp[16] __attribute__((aligned(64)));
                    _mm512_store_si512(tmp, pairs_across(r0 + ii, r0 + ii + lda));
                    for (int t = 0; t < 16; t++) {
                        int i = ii + t;
                        pack_a[(long)(i / MR) * MR * pairs + q * MR + i % MR] = tmp[t];
                    }
                }
            }
            for (; ii < padded; ii++) {
                uint32_t w = ii < mc ? bf16_bits(r0[ii]) | (odd ? bf16_bits(r0[ii + lda]) << 16 : 0) : 0;
                pack_a[(long)(ii / MR) * MR * pairs + q * MR + ii % MR] = w;
            }
        }
    }
}

/* op(B)[p0 .. p0+kc, j0 .. j0+nc] into NR-column strips of (row p, row p+1) pairs per column. */
static void pack_b_block(uint32_t *pack_b, const float *b, int ldb, int trans, int p0, int kc, int j0, int nc)
{
    int pairs = (kc + 1) / 2;
    for (int s = 0; s < nc; s += NR) {
        uint32_t *dst = pack_b + (long)s * pairs;
        int cols = nc - s < NR ? nc - s : NR;
        if (!trans) {
            for (int q = 0; q < pairs; q++) {
                const float *r0 = b + (long)(p0 + 2 * q) * ldb + j0 + s;
                int odd = 2 * q + 1 < kc;
                uint32_t *out = dst + (long)q * NR;
                int c = 0;
                if (odd) {
                    for (; c + 16 <= cols; c += 16) {
                        _mm512_store_si512(out + c, pairs_across(r0 + c, r0 + c + ldb));
                    }
                }
                for (; c < cols; c++) {
                    out[c] = bf16_bits(r0[c]) | (odd ? bf16_bits(r0[c + ldb]) << 16 : 0);
                }
                for (; c < NR; c++) {
                    out[c] = 0;
                }
            }
        } else {
            /* op(B)[p][j] = B[j][p]: one column of op(B) is a row of B, read along p. */
            for (int c = 0; c < NR; c++) {
                if (c < cols) {
                    pack_along(dst + c, NR, b + (long)(j0 + s + c) * ldb + p0, kc, pairs, 0);
                } else {
                    for (int q = 0; q < pairs; q++) {
                        dst[(long)q * NR + c] = 0;
                    }
                }
            }
        }
    }
}

/* C[0..rows, 0..cols] (ldc) = first ? alpha*acc + beta*C : C + alpha*acc, for one MR x NR strip pair. */
static void micro_kernel(int pairs, const uint32_t *pa, const uint32_t *pb, float *c, long ldc,
                         int rows, int cols, float alpha, float beta, int first)
{
    __m512 acc[MR][2];
    for (int i = 0; i < MR; i++) {
        acc[i][0] = _mm512_setzero_ps();
        acc[i][1] = _mm512_setzero_ps();
    }
    for (int q = 0; q < pairs; q++) {
        __m512bh b0 = (__m512bh)_mm512_load_si512(pb + (long)q * NR);
        __m512bh b1 = (__m512bh)_mm512_load_si512(pb + (long)q * NR + 16);
        const uint32_t *aq = pa + (long)q * MR;
#pragma GCC unroll 12
        for (int i = 0; i < MR; i++) {
            __m512bh ai = (__m512bh)_mm512_set1_epi32((int)aq[i]);
            acc[i][0] = _mm512_dpbf16_ps(acc[i][0], ai, b0);
            acc[i][1] = _mm512_dpbf16_ps(acc[i][1], ai, b1);
        }
    }
    __m512 va = _mm512_set1_ps(alpha);
    __m512 vb = _mm512_set1_ps(beta);
    __mmask16 m0 = cols >= 16 ? 0xffff : (__mmask16)((1u << cols) - 1);
    __mmask16 m1 = cols >= 32 ? 0xffff : cols <= 16 ? 0 : (__mmask16)((1u << (cols - 16)) - 1);
    for (int i = 0; i < rows; i++) {
        float *ci = c + i * ldc;
        __m512 r0 = _mm512_mul_ps(va, acc[i][0]);
        __m512 r1 = _mm512_mul_ps(va, acc[i][1]);
        if (!first) {
            r0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, ci), r0);
            r1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, ci + 16), r1);
        } else if (beta != 0.0f) {
            r0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, ci), r0);
            r1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, ci + 16), r1);
        }
        _mm512_mask_storeu_ps(ci, m0, r0);
        _mm512_mask_storeu_ps(ci + 16, m1, r1);
    }
}

/* The exported entry: C[m,n] = alpha * op(A)[m,k] op(B)[k,n] + beta * C, row-major, BLAS argument order. */
__attribute__((visibility("default")))
void jpeglm_bf16_gemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
                      const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
    if (m <= 0 || n <= 0) {
        return;
    }
    if (k <= 0) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                c[(long)i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[(long)i * ldc + j];
            }
        }
        return;
    }
    for (int j0 = 0; j0 < n; j0 += NC) {
        int nc = n - j0 < NC ? n - j0 : NC;
        for (int p0 = 0; p0 < k; p0 += KC) {
            int kc = k - p0 < KC ? k - p0 : KC;
            int pairs = (kc + 1) / 2;
            pack_b_block(block_b, b, ldb, trans_b, p0, kc, j0, nc);
            for (int i0 = 0; i0 < m; i0 += MC) {
                int mc = m - i0 < MC ? m - i0 : MC;
                pack_a_block(block_a, a, lda, trans_a, i0, mc, p0, kc);
                for (int s = 0; s < nc; s += NR) {
                    for (int r = 0; r < mc; r += MR) {
                        micro_kernel(pairs, block_a + (long)r * pairs, block_b + (long)s * pairs,
                                     c + (long)(i0 + r) * ldc + j0 + s, ldc,
                                     mc - r < MR ? mc - r : MR, nc - s < NR ? nc - s : NR,
                                     alpha, beta, p0 == 0);
                    }
                }
            }
        }
    }
}

/*
 * The pre-packed path, for products big enough to be cut into parallel tiles: op(A) and op(B) are each
 * converted and packed once per call (the managed side splits the packing across threads by row or
 * column ranges, multiples of MR and NR), then every tile multiplies from the shared packed copies. Per
 * tile packing would convert A once per column tile and B once per row tile, a quarter of the time at
 * the model's shapes. Layout: K slab by K slab (slab s starts at padded_rows * s * KC / 2 words), within
 * a slab the strips as block_a / block_b hold them.
 */
__attribute__((visibility("default")))
int jpeglm_bf16_strip_rows(void)
{
    return MR;
}

__attribute__((visibility("default")))
int jpeglm_bf16_strip_columns(void)
{
    return NR;
}

/* Packs rows [row0, row0 + rows) of op(A) (row0 a multiple of MR; rows past m are zero) for every slab. */
__attribute__((visibility("default")))
void jpeglm_bf16_pack_a(int trans_a, int m, int k, const float *a, int lda, int row0, int rows, uint32_t *packed)
{
    long padded = (m + MR - 1) / MR * (long)MR;
    for (int p0 = 0; p0 < k; p0 += KC) {
        int kc = k - p0 < KC ? k - p0 : KC;
        int pairs = (kc + 1) / 2;
        int valid = m - row0 < rows ? m - row0 : rows;
        pack_a_block(packed + padded * (p0 / 2) + (long)row0 * pairs, a, lda, trans_a, row0, valid, p0, kc);
    }
}

/* Packs columns [col0, col0 + cols) of op(B) (col0 a multiple of NR; columns past n are zero) for every slab. */
__attribute__((visibility("default")))
void jpeglm_bf16_pack_b(int trans_b, int n, int k, const float *b, int ldb, int col0, int cols, uint32_t *packed)
{
    long padded = (n + NR - 1) / NR * (long)NR;
    for (int p0 = 0; p0 < k; p0 += KC) {
        int kc = k - p0 < KC ? k - p0 : KC;
        int pairs = (kc + 1) / 2;
        int valid = n - col0 < cols ? n - col0 : cols;
        pack_b_block(packed + padded * (p0 / 2) + (long)col0 * pairs, b, ldb, trans_b, p0, kc, col0, valid);
    }
}

/* C[i0 .. i0+rows, j0 .. j0+cols] from the packed operands (i0, j0 multiples of MR and NR). */
__attribute__((visibility("default")))
void jpeglm_bf16_gemm_packed(int m, int n, int k, const uint32_t *packed_a, const uint32_t *packed_b,
                             int i0, int rows, int j0, int cols, float alpha, float beta, float *c, int ldc)
{
    long padded_m = (m + MR - 1) / MR * (long)MR, padded_n = (n + NR - 1) / NR * (long)NR;
    int i_end = i0 + rows < m ? i0 + rows : m, j_end = j0 + cols < n ? j0 + cols : n;
    for (int p0 = 0; p0 < k; p0 += KC) {
        int kc = k - p0 < KC ? k - p0 : KC;
        int pairs = (kc + 1) / 2;
        const uint32_t *slab_a = packed_a + padded_m * (p0 / 2), *slab_b = packed_b + padded_n * (p0 / 2);
        for (int j = j0; j < j_end; j += NR) {
            for (int i = i0; i < i_end; i += MR) {
                micro_kernel(pairs, slab_a + (long)i * pairs, slab_b + (long)j * pairs, c + (long)i * ldc + j, ldc,
                             i_end - i < MR ? i_end - i : MR, j_end - j < NR ? j_end - j : NR, alpha, beta, p0 == 0);
            }
        }
    }
}

/* 1 when this CPU can run the kernel (AVX512-F and AVX512-BF16), else 0: the managed side asks first. */
__attribute__((visibility("default")))
int jpeglm_bf16_supported(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bf16");
}
