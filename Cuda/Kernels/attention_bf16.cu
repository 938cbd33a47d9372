// Causal flash attention forward on tensor cores: bfloat16 Q, K, V (rounded copies), float32 accumulation,
// float32 output and log-sum-exp. mma.sync.aligned.m16n8k16 (sm_80+) through inline PTX. A block of 4 warps
// takes 64 query rows of one (batch, head); each warp owns 16 rows. Key/value tiles of 64 rows are staged in
// shared memory; scores stay in registers (S = Q·Kᵀ), the online softmax rescales the output fragments, and
// the probabilities are re-packed in registers as the A operand of O += P·V. No T×T buffer, no atomics.
// Layouts as attention.cu: q [B, Tq, H, D], k/v [B, Tcap, Hkv, D] (bf16 bits), out [B, Tq, H, D], lse [B, H, Tq].
#include "common.cuh"

#define FA_WARPS 4
#define FA_ROWS (16 * FA_WARPS)
#define FA_KEYS 64

// D = A(16x16, row-major) * B(16x8, column-major) + D; fragment layouts as in the PTX ISA for m16n8k16:
// a[r]: row g + 8*(r%2), columns 2t + 8*(r/2) (+1); b[r]: rows 2t + 8r (+1), column g; c[r]: row g + 8*(r/2), column 2t + r%2
// with g = lane / 4, t = lane % 4.
// On the emulated device (Cuda/Emulator) the same instruction is carried out by the shim, which places
// the fragments as the PTX ISA specifies (independently of the comment above).
__device__ __forceinline__ void mma_bf16(float* c, const u32* a, u32 b0, u32 b1)
{
#ifdef JPEGLM_CUDA_EMULATOR
    jpeglm_emu_mma_m16n8k16_bf16(c, a, b0, b1);
#else
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#endif
}

__device__ __forceinline__ u32 pack_bits(bf16_t lo, bf16_t hi) { return (u32)lo | ((u32)hi << 16); }

template <int DH>
__device__ void flash_forward_bf16(float* out, float* lse, const bf16_t* q, const bf16_t* k, const bf16_t* v,
    int B, int Tq, int Tk, int Tcap, int H, int Hkv, float scale)
{
    __shared__ __align__(16) bf16_t ks[FA_KEYS * DH];
    __shared__ __align__(16) bf16_t vs[FA_KEYS * DH];
    const int b = blockIdx.z, h = blockIdx.y, kvh = h / (H / Hkv);
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    const int offset = Tk - Tq;
    const int rowBase = blockIdx.x * FA_ROWS + warp * 16;
    const int rowA = rowBase + g, rowB = rowBase + g + 8;          // the two query rows this thread holds
    const int positionA = offset + rowA, positionB = offset + rowB;
    const int lastPosition = offset + min(Tq - 1, (int)(blockIdx.x * FA_ROWS + FA_ROWS - 1));

    // Q fragments for all of D, loaded once (two bf16 per 32-bit word).
    u32 qa[DH / 16][4];
    for (int kd = 0; kd < DH / 16; kd++) {
        for (int r = 0; r < 4; r++) {
            int row = (r & 1) ? rowB : rowA;
            int col = kd * 16 + 2 * t + 8 * (r >> 1);
            qa[kd][r] = row < Tq ? *(const u32*)(q + (((i64)b * Tq + row) * H + h) * DH + col) : 0u;
        }
    }

    float o[DH / 8][4];
    for (int nd = 0; nd < DH / 8; nd++) {
        o[nd][0] = o[nd][1] = o[nd][2] = o[nd][3] = 0.0f;
    }
    float mA = NEG_INF, mB = NEG_INF, lA = 0.0f, lB = 0.0f;   // running max and (per-thread partial) sum

    for (int k0 = 0; k0 <= lastPosition; k0 += FA_KEYS) {
        __syncthreads();
        for (int idx = threadIdx.x; idx < FA_KEYS * DH / 2; idx += blockDim.x) {
            int j = (2 * idx) / DH, d = (2 * idx) % DH, key = k0 + j;
            u32 kw = 0u, vw = 0u;
            if (key < Tk) {
                i64 at = (((i64)b * Tcap + key) * Hkv + kvh) * DH + d;
                kw = *(const u32*)(k + at);
                vw = *(const u32*)(v + at);
            }
            *(u32*)(ks + j * DH + d) = kw;
            *(u32*)(vs + j * DH + d) = vw;
        }
        __syncthreads();

        // S = Q Kᵀ for 64 keys: 8 blocks of 8 columns.
        float s[FA_KEYS / 8][4];
        for (int nb = 0; nb < FA_KEYS / 8; nb++) {
            s[nb][0] = s[nb][1] = s[nb][2] = s[nb][3] = 0.0f;
            const bf16_t* kr = ks + (nb * 8 + g) * DH + 2 * t;
            for (int kd = 0; kd < DH / 16; kd++) {
                u32 b0 = *(const u32*)(kr + kd * 16);
                u32 b1 = *(const u32*)(kr + kd * 16 + 8);
                mma_bf16(s[nb], qa[kd], b0, b1);
            }
        }

        // Scale, causal mask, tile row maxima (each row is spread over the 4 threads of a group).
        float maxA = NEG_INF, maxB = NEG_INF;
        for (int nb = 0; nb < FA_KEYS / 8; nb++) {
            for (int r = 0; r < 4; r++) {
                int key = k0 + nb * 8 + 2 * t + (r & 1);
                bool upper = r >= 2;
                bool visible = key <= (upper ? positionB : positionA);
                float x = visible ? s[nb][r] * scale : NEG_INF;
                s[nb][r] = x;
                if (upper) {
                    maxB = fmaxf(maxB, x);
                } else {
                    maxA = fmaxf(maxA, x);
                }
            }
        }
        maxA = fmaxf(maxA, __shfl_xor_sync(0xffffffffu, maxA, 1));
        maxA = fmaxf(maxA, __shfl_xor_sync(0xffffffffu, maxA, 2));
        maxB = fmaxf(maxB, __shfl_xor_sync(0xffffffffu, maxB, 1));
        maxB = fmaxf(maxB, __shfl_xor_sync(0xffffffffu, maxB, 2));
        float newA = fmaxf(mA, maxA), newB = fmaxf(mB, maxB);
        // A row with nothing visible yet keeps a finite base so that exp never sees (-inf) - (-inf).
        float baseA = newA == NEG_INF ? 0.0f : newA, baseB = newB == NEG_INF ? 0.0f : newB;
        float corrA = expf(mA - baseA), corrB = expf(mB - baseB);
        mA = newA;
        mB = newB;
        lA *= corrA;
        lB *= corrB;
        for (int nd = 0; nd < DH / 8; nd++) {
            o[nd][0] *= corrA;
            o[nd][1] *= corrA;
            o[nd][2] *= corrB;
            o[nd][3] *= corrB;
        }

        // P = exp(S - m), packed straight into A fragments (the C layout of two S blocks is one A fragment).
        u32 pa[FA_KEYS / 16][4];
        for (int kk = 0; kk < FA_KEYS / 16; kk++) {
            float p[2][4];
            for (int half = 0; half < 2; half++) {
                for (int r = 0; r < 4; r++) {
                    float x = expf(s[2 * kk + half][r] - (r >= 2 ? baseB : baseA));
                    p[half][r] = x;
                    if (r >= 2) {
                        lB += x;
                    } else {
                        lA += x;
                    }
                }
            }
            pa[kk][0] = pack_bf16x2(p[0][0], p[0][1]);
            pa[kk][1] = pack_bf16x2(p[0][2], p[0][3]);
            pa[kk][2] = pack_bf16x2(p[1][0], p[1][1]);
            pa[kk][3] = pack_bf16x2(p[1][2], p[1][3]);
        }

        // O += P V: B operand rows are keys, columns head channels.
        for (int kk = 0; kk < FA_KEYS / 16; kk++) {
            const bf16_t* v0 = vs + (kk * 16 + 2 * t) * DH + g;
            for (int nd = 0; nd < DH / 8; nd++) {
                const bf16_t* vp = v0 + nd * 8;
                u32 b0 = pack_bits(vp[0], vp[DH]);
                u32 b1 = pack_bits(vp[8 * DH], vp[9 * DH]);
                mma_bf16(o[nd], pa[kk], b0, b1);
            }
        }
    }

    lA += __shfl_xor_sync(0xffffffffu, lA, 1);
    lA += __shfl_xor_sync(0xffffffffu, lA, 2);
    lB += __shfl_xor_sync(0xffffffffu, lB, 1);
    lB += __shfl_xor_sync(0xffffffffu, lB, 2);
    float invA = 1.0f / lA, invB = 1.0f / lB;
    for (int nd = 0; nd < DH / 8; nd++) {
        int col = nd * 8 + 2 * t;
        if (rowA < Tq) {
            float* dst = out + (((i64)b * Tq + rowA) * H + h) * DH + col;
            dst[0] = o[nd][0] * invA;
            dst[1] = o[nd][1] * invA;
        }
        if (rowB < Tq) {
            float* dst = out + (((i64)b * Tq + rowB) * H + h) * DH + col;
            dst[0] = o[nd][2] * invB;
            dst[1] = o[nd][3] * invB;
        }
    }
    if (t == 0) {
        if (rowA < Tq) {
            lse[((i64)b * H + h) * Tq + rowA] = mA + logf(lA);
        }
        if (rowB < Tq) {
            lse[((i64)b * H + h) * Tq + rowB] = mB + logf(lB);
        }
    }
}

extern "C" __global__ void __launch_bounds__(FA_WARPS * 32) attention_forward_bf16_d64(float* out, float* lse, const bf16_t* q, const bf16_t* k,
    const bf16_t* v, int B, int Tq, int Tk, int Tcap, int H, int Hkv, float scale)
{
    flash_forward_bf16<64>(out, lse, q, k, v, B, Tq, Tk, Tcap, H, Hkv, scale);
}

extern "C" __global__ void __launch_bounds__(FA_WARPS * 32) attention_forward_bf16_d128(float* out, float* lse, const bf16_t* q, const bf16_t* k,
    const bf16_t* v, int B, int Tq, int Tk, int Tcap, int H, int Hkv, float scale)
{
    flash_forward_bf16<128>(out, lse, q, k, v, B, Tq, Tk, Tcap, H, Hkv, scale);
}
