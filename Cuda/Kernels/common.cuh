// Shared helpers for every JpegLm kernel. No CUDA headers are included anywhere, so the sources compile
// with any NVRTC (Debian's 11.8 included): bfloat16 is handled as its 16 raw bits.
#pragma once

typedef unsigned short bf16_t;   // bfloat16 bits: the upper half of a float32
typedef unsigned int u32;
typedef long long i64;

#define NEG_INF (__int_as_float(0xff800000))

// float32 -> bfloat16, round to nearest even; NaN stays a (quiet) NaN.
__device__ __forceinline__ bf16_t float_to_bf16(float f)
{
    u32 x = __float_as_uint(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) {
        return (bf16_t)((x >> 16) | 0x0040u);
    }
    u32 rounding = 0x7fffu + ((x >> 16) & 1u);
    return (bf16_t)((x + rounding) >> 16);
}

__device__ __forceinline__ float bf16_to_float(bf16_t h)
{
    return __uint_as_float(((u32)h) << 16);
}

// Two bfloat16 packed in one 32-bit register, low half first (the operand layout of mma.sync).
__device__ __forceinline__ u32 pack_bf16x2(float lo, float hi)
{
    return (u32)float_to_bf16(lo) | ((u32)float_to_bf16(hi) << 16);
}

// Butterfly reductions: the same lanes combine in the same order on every call (deterministic).
__device__ __forceinline__ float warp_sum(float v)
{
    for (int offset = 16; offset > 0; offset >>= 1) {
        v += __shfl_xor_sync(0xffffffffu, v, offset);
    }
    return v;
}

__device__ __forceinline__ float warp_max(float v)
{
    for (int offset = 16; offset > 0; offset >>= 1) {
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
    }
    return v;
}

// Block-wide sum for blockDim.x a multiple of 32 (at most 1024), in a fixed order; every thread gets the result.
// scratch must hold 32 floats. Safe to call repeatedly with the same scratch.
__device__ float block_sum(float v, float* scratch)
{
    int lane = threadIdx.x & 31;
    int warp = threadIdx.x >> 5;
    int warps = blockDim.x >> 5;
    v = warp_sum(v);
    __syncthreads();
    if (lane == 0) {
        scratch[warp] = v;
    }
    __syncthreads();
    if (warp == 0) {
        float w = lane < warps ? scratch[lane] : 0.0f;
        w = warp_sum(w);
        if (lane == 0) {
            scratch[0] = w;
        }
    }
    __syncthreads();
    return scratch[0];
}

__device__ float block_max(float v, float* scratch)
{
    int lane = threadIdx.x & 31;
    int warp = threadIdx.x >> 5;
    int warps = blockDim.x >> 5;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) {
        scratch[warp] = v;
    }
    __syncthreads();
    if (warp == 0) {
        float w = lane < warps ? scratch[lane] : NEG_INF;
        w = warp_max(w);
        if (lane == 0) {
            scratch[0] = w;
        }
    }
    __syncthreads();
    return scratch[0];
}

// A grid-stride loop over [0, n).
#define GRID_STRIDE(i, n) for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (i64)gridDim.x * blockDim.x)
