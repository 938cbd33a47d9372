// Causal flash-style attention in float32 (the exact path): one thread per query row (forward, dQ) or per key
// row (dK/dV), key or query tiles staged in shared memory, online softmax, no T x T buffer. Grouped-query
// attention: query head h reads key/value head h / (heads / kvHeads). Layouts: q, out [B, Tq, H, D];
// k, v [B, Tcap, Hkv, D]; lse, delta [B, H, Tq]. Query i sits at absolute position Tk - Tq + i.
// dQ and dK/dV are separate kernels (each recomputes the probabilities) so that no gradient needs atomics.
#include "common.cuh"

#define ATT_ROWS 64      // threads (rows) per block
#define ATT_TILE 32      // staged rows per tile
#define ATT_MAX_D 128    // largest head dimension

__device__ __forceinline__ i64 q_index(int b, int i, int h, int Tq, int H, int D) { return (((i64)b * Tq + i) * H + h) * D; }
__device__ __forceinline__ i64 kv_index(int b, int j, int g, int Tcap, int Hkv, int D) { return (((i64)b * Tcap + j) * Hkv + g) * D; }

extern "C" __global__ void __launch_bounds__(ATT_ROWS) attention_forward_f32(float* out, float* lse, const float* q, const float* k, const float* v,
    int B, int Tq, int Tk, int Tcap, int H, int Hkv, int D, float scale)
{
    __shared__ float ks[ATT_TILE][ATT_MAX_D];
    __shared__ float vs[ATT_TILE][ATT_MAX_D];
    int b = blockIdx.z, h = blockIdx.y, g = h / (H / Hkv);
    int i = blockIdx.x * ATT_ROWS + threadIdx.x;
    bool active = i < Tq;
    int position = Tk - Tq + i;
    int lastPosition = Tk - Tq + min(Tq - 1, (int)(blockIdx.x * ATT_ROWS + ATT_ROWS - 1));
    float qr[ATT_MAX_D], acc[ATT_MAX_D];
    for (int d = 0; d < D; d++) {
        qr[d] = active ? q[q_index(b, i, h, Tq, H, D) + d] : 0.0f;
        acc[d] = 0.0f;
    }
    float m = NEG_INF, l = 0.0f;
    for (int k0 = 0; k0 <= lastPosition; k0 += ATT_TILE) {
        __syncthreads();
        for (int idx = threadIdx.x; idx < ATT_TILE * D; idx += blockDim.x) {
            int r = idx / D, d = idx - r * D, j = k0 + r;
            bool valid = j < Tk;
            ks[r][d] = valid ? k[kv_index(b, j, g, Tcap, Hkv, D) + d] : 0.0f;
            vs[r][d] = valid ? v[kv_index(b, j, g, Tcap, Hkv, D) + d] : 0.0f;
        }
        __syncthreads();
        if (!active || k0 > position) {
            continue;
        }
        float s[ATT_TILE];
        float tileMax = NEG_INF;
        for (int r = 0; r < ATT_TILE; r++) {
            if (k0 + r <= position) {
                float dot = 0.0f;
                for (int d = 0; d < D; d++) {
                    dot += qr[d] * ks[r][d];
                }
                s[r] = dot * scale;
                tileMax = fmaxf(tileMax, s[r]);
            } else {
                s[r] = NEG_INF;
            }
        }
        float mNew = fmaxf(m, tileMax);
        float correction = expf(m - mNew);
        l *= correction;
        for (int d = 0; d < D; d++) {
            acc[d] *= correction;
        }
        for (int r = 0; r < ATT_TILE; r++) {
            if (k0 + r <= position) {
                float p = expf(s[r] - mNew);
                l += p;
                for (int d = 0; d < D; d++) {
                    acc[d] += p * vs[r][d];
                }
            }
        }
        m = mNew;
    }
    if (active) {
        float inv = 1.0f / l;
        for (int d = 0; d < D; d++) {
            out[q_index(b, i, h, Tq, H, D) + d] = acc[d] * inv;
        }
        lse[((i64)b * H + h) * Tq + i] = m + logf(l);
    }
}

// delta[b, h, i] = sum_d dOut * out (the softmax backward's row term)
extern "C" __global__ void attention_backward_delta(float* delta, const float* outGrad, const float* out, int B, int Tq, int H, int D)
{
    i64 n = (i64)B * Tq * H;
    GRID_STRIDE(idx, n)
    {
        // idx enumerates (b, i, h) in memory order of out
        int h = (int)(idx % H);
        i64 bi = idx / H;
        int i = (int)(bi % Tq);
        int b = (int)(bi / Tq);
        const float* o = out + idx * D;
        const float* dO = outGrad + idx * D;
        float s = 0.0f;
        for (int d = 0; d < D; d++) {
            s += dO[d] * o[d];
        }
        delta[((i64)b * H + h) * Tq + i] = s;
    }
}

// queryGrad[i] += scale * sum_j p_ij (dp_ij - delta_i) k_j
extern "C" __global__ void __launch_bounds__(ATT_ROWS) attention_backward_query_f32(float* queryGrad, const float* outGrad, const float* lse, const float* delta,
    const float* q, const float* k, const float* v, int B, int Tq, int Tk, int Tcap, int H, int Hkv, int D, float scale)
{
    __shared__ float ks[ATT_TILE][ATT_MAX_D];
    __shared__ float vs[ATT_TILE][ATT_MAX_D];
    int b = blockIdx.z, h = blockIdx.y, g = h / (H / Hkv);
    int i = blockIdx.x * ATT_ROWS + threadIdx.x;
    bool active = i < Tq;
    int position = Tk - Tq + i;
    int lastPosition = Tk - Tq + min(Tq - 1, (int)(blockIdx.x * ATT_ROWS + ATT_ROWS - 1));
    float qr[ATT_MAX_D], dor[ATT_MAX_D], dq[ATT_MAX_D];
    for (int d = 0; d < D; d++) {
        qr[d] = active ? q[q_index(b, i, h, Tq, H, D) + d] : 0.0f;
        dor[d] = active ? outGrad[q_index(b, i, h, Tq, H, D) + d] : 0.0f;
        dq[d] = 0.0f;
    }
    float rowLse = active ? lse[((i64)b * H + h) * Tq + i] : 0.0f;
    float rowDelta = active ? delta[((i64)b * H + h) * Tq + i] : 0.0f;
    for (int k0 = 0; k0 <= lastPosition; k0 += ATT_TILE) {
        __syncthreads();
        for (int idx = threadIdx.x; idx < ATT_TILE * D; idx += blockDim.x) {
            int r = idx / D, d = idx - r * D, j = k0 + r;
            bool valid = j < Tk;
            ks[r][d] = valid ? k[kv_index(b, j, g, Tcap, Hkv, D) + d] : 0.0f;
            vs[r][d] = valid ? v[kv_index(b, j, g, Tcap, Hkv, D) + d] : 0.0f;
        }
        __syncthreads();
        if (!active) {
            continue;
        }
        for (int r = 0; r < ATT_TILE && k0 + r <= position; r++) {
            float dot = 0.0f, dp = 0.0f;
            for (int d = 0; d < D; d++) {
                dot += qr[d] * ks[r][d];
                dp += dor[d] * vs[r][d];
            }
            float p = expf(dot * scale - rowLse);
            float ds = p * (dp - rowDelta);
            for (int d = 0; d < D; d++) {
                dq[d] += ds * ks[r][d];
            }
        }
    }
    if (active) {
        float* target = queryGrad + q_index(b, i, h, Tq, H, D);
        for (int d = 0; d < D; d++) {
            target[d] += dq[d] * scale;
        }
    }
}

// keyGrad[j] += scale * sum_{h in group, i} ds_ij q_i ; valueGrad[j] += sum p_ij dOut_i  (heads in increasing order)
extern "C" __global__ void __launch_bounds__(ATT_ROWS) attention_backward_key_value_f32(float* keyGrad, float* valueGrad, const float* outGrad,
    const float* lse, const float* delta, const float* q, const float* k, const float* v,
    int B, int Tq, int Tk, int Tcap, int H, int Hkv, int D, float scale)
{
    __shared__ float qs[ATT_TILE][ATT_MAX_D];
    __shared__ float dos[ATT_TILE][ATT_MAX_D];
    __shared__ float lses[ATT_TILE];
    __shared__ float deltas[ATT_TILE];
    int b = blockIdx.z, g = blockIdx.y, group = H / Hkv;
    int j = blockIdx.x * ATT_ROWS + threadIdx.x;
    bool active = j < Tk;
    int offset = Tk - Tq;                              // query i is at position offset + i
    int firstKey = blockIdx.x * ATT_ROWS;
    int firstQuery = max(0, firstKey - offset);        // earlier queries see none of this block's keys
    firstQuery -= firstQuery % ATT_TILE;
    float kr[ATT_MAX_D], vr[ATT_MAX_D], dk[ATT_MAX_D], dv[ATT_MAX_D];
    for (int d = 0; d < D; d++) {
        kr[d] = active ? k[kv_index(b, j, g, Tcap, Hkv, D) + d] : 0.0f;
        vr[d] = active ? v[kv_index(b, j, g, Tcap, Hkv, D) + d] : 0.0f;
        dk[d] = 0.0f;
        dv[d] = 0.0f;
    }
    for (int h = g * group; h < (g + 1) * group; h++) {
        for (int i0 = firstQuery; i0 < Tq; i0 += ATT_TILE) {
            __syncthreads();
            for (int idx = threadIdx.x; idx < ATT_TILE * D; idx += blockDim.x) {
                int r = idx / D, d = idx - r * D, i = i0 + r;
                bool valid = i < Tq;
                qs[r][d] = valid ? q[q_index(b, i, h, Tq, H, D) + d] : 0.0f;
                dos[r][d] = valid ? outGrad[q_index(b, i, h, Tq, H, D) + d] : 0.0f;
            }
            for (int r = threadIdx.x; r < ATT_TILE; r += blockDim.x) {
                int i = i0 + r;
                lses[r] = i < Tq ? lse[((i64)b * H + h) * Tq + i] : 0.0f;
                deltas[r] = i < Tq ? delta[((i64)b * H + h) * Tq + i] : 0.0f;
            }
            __syncthreads();
            if (!active) {
                continue;
            }
            for (int r = 0; r < ATT_TILE; r++) {
                int i = i0 + r;
                if (i >= Tq || offset + i < j) {
                    continue;
                }
                float dot = 0.0f, dp = 0.0f;
                for (int d = 0; d < D; d++) {
                    dot += qs[r][d] * kr[d];
                    dp += dos[r][d] * vr[d];
                }
                float p = expf(dot * scale - lses[r]);
                float ds = p * (dp - deltas[r]);
                for (int d = 0; d < D; d++) {
                    dv[d] += p * dos[r][d];
                    dk[d] += ds * qs[r][d];
                }
            }
        }
    }
    if (active) {
        float* kt = keyGrad + kv_index(b, j, g, Tcap, Hkv, D);
        float* vt = valueGrad + kv_index(b, j, g, Tcap, Hkv, D);
        for (int d = 0; d < D; d++) {
            kt[d] += dk[d] * scale;
            vt[d] += dv[d];
        }
    }
}
