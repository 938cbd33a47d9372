// CUDA's execution model on the CPU, for the emulated device (see docs/cuda.md, "Emulated device").
//
// The kernel sources in Cuda/Kernels/*.cu are compiled unchanged as C++ by g++ with this header forced in
// front (-include cuda_shim.h). Each CUDA thread runs the kernel function on its own fiber; the runtime
// (scheduler.cpp) switches fibers only where CUDA threads synchronize (__syncthreads, warp shuffles, mma),
// so a barrier is a real barrier and a shuffle sees the values the other lanes hold at that point.
//
// Only what the kernels use is here. Anything else fails to compile rather than silently meaning
// something different on the CPU.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#define JPEGLM_CUDA_EMULATOR 1

struct uint3 {
    unsigned int x, y, z;
};

extern "C" {
// Per-invocation constants. A fiber runs the kernel function once for one thread of one block, so these
// never change during a call: declaring them const lets the compiler hoist them out of loops.
__attribute__((const)) uint3 jpeglm_emu_thread_idx(void);
__attribute__((const)) uint3 jpeglm_emu_block_idx(void);
__attribute__((const)) uint3 jpeglm_emu_block_dim(void);
__attribute__((const)) uint3 jpeglm_emu_grid_dim(void);

// noinline so that the caller's return address identifies the barrier (divergent barriers are reported).
__attribute__((noinline)) void jpeglm_emu_syncthreads(void);

// Warp collectives: every lane named in mask must arrive; values travel as 64-bit payloads.
enum { JPEGLM_SHFL_XOR = 0, JPEGLM_SHFL_DOWN = 1, JPEGLM_SHFL_IDX = 2 };
uint64_t jpeglm_emu_shfl(int kind, unsigned mask, uint64_t value, int lane_arg, int width);

// mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 for one lane: a[4] and b0/b1 are this lane's
// fragments of A and B (two bf16 per register), c[4] its fragment of C, overwritten with D.
void jpeglm_emu_mma_m16n8k16_bf16(float* c, const uint32_t* a, uint32_t b0, uint32_t b1);

// Atomics (blocks and fibers never run concurrently, so a read-modify-write is atomic). The address is
// checked like any access; shared-memory atomics do not count as races with each other.
float jpeglm_emu_atomic_add_f32(float* address, float value);
int jpeglm_emu_atomic_add_i32(int* address, int value);
unsigned jpeglm_emu_atomic_add_u32(unsigned* address, unsigned value);
int jpeglm_emu_atomic_max_i32(int* address, int value);
int jpeglm_emu_atomic_cas_i32(int* address, int compare, int value);
int jpeglm_emu_atomic_exch_i32(int* address, int value);
}

#define threadIdx (jpeglm_emu_thread_idx())
#define blockIdx (jpeglm_emu_block_idx())
#define blockDim (jpeglm_emu_block_dim())
#define gridDim (jpeglm_emu_grid_dim())

#define __global__
// Device functions get internal linkage: each module is its own translation unit, as with NVRTC.
#define __device__ static
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __restrict__ __restrict
#define __align__(n) __attribute__((aligned(n)))
// The bound is taken by the module's generated registration (gen-module.sh) and enforced at launch.
#define __launch_bounds__(...)
// Static shared memory: a function-local static. A kernel module's only writable static data is its
// __shared__ variables, so the build renames the module's .bss to the section jpeglm_emu_shared and the
// runtime knows the bounds of shared memory (race detection, reads of unwritten bytes). (A section
// attribute here would be ignored for statics of function templates.) Blocks run one at a time, so one
// copy serves every block.
#define __shared__ static

static inline void __syncthreads() { jpeglm_emu_syncthreads(); }

template <typename T>
static inline T jpeglm_emu_shfl_t(int kind, unsigned mask, T value, int lane_arg, int width)
{
    static_assert(sizeof(T) == 4 || sizeof(T) == 8, "shuffles move 32- or 64-bit values");
    uint64_t bits = 0;
    std::memcpy(&bits, &value, sizeof(T));
    bits = jpeglm_emu_shfl(kind, mask, bits, lane_arg, width);
    std::memcpy(&value, &bits, sizeof(T));
    return value;
}

template <typename T>
static inline T __shfl_xor_sync(unsigned mask, T value, int lane_mask, int width = 32)
{
    return jpeglm_emu_shfl_t(JPEGLM_SHFL_XOR, mask, value, lane_mask, width);
}

template <typename T>
static inline T __shfl_down_sync(unsigned mask, T value, unsigned delta, int width = 32)
{
    return jpeglm_emu_shfl_t(JPEGLM_SHFL_DOWN, mask, value, (int)delta, width);
}

template <typename T>
static inline T __shfl_sync(unsigned mask, T value, int source_lane, int width = 32)
{
    return jpeglm_emu_shfl_t(JPEGLM_SHFL_IDX, mask, value, source_lane, width);
}

static inline float atomicAdd(float* address, float value) { return jpeglm_emu_atomic_add_f32(address, value); }
static inline int atomicAdd(int* address, int value) { return jpeglm_emu_atomic_add_i32(address, value); }
static inline unsigned atomicAdd(unsigned* address, unsigned value) { return jpeglm_emu_atomic_add_u32(address, value); }
static inline int atomicMax(int* address, int value) { return jpeglm_emu_atomic_max_i32(address, value); }
static inline int atomicCAS(int* address, int compare, int value) { return jpeglm_emu_atomic_cas_i32(address, compare, value); }
static inline int atomicExch(int* address, int value) { return jpeglm_emu_atomic_exch_i32(address, value); }

// Bit casts and the integer min/max CUDA provides as device functions.
static inline float __int_as_float(int x) { float f; std::memcpy(&f, &x, 4); return f; }
static inline float __uint_as_float(unsigned x) { float f; std::memcpy(&f, &x, 4); return f; }
static inline int __float_as_int(float f) { int x; std::memcpy(&x, &f, 4); return x; }
static inline unsigned __float_as_uint(float f) { unsigned x; std::memcpy(&x, &f, 4); return x; }
static inline int min(int a, int b) { return a < b ? a : b; }
static inline int max(int a, int b) { return a > b ? a : b; }
static inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
static inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
static inline long long min(long long a, long long b) { return a < b ? a : b; }
static inline long long max(long long a, long long b) { return a > b ? a : b; }

// CUDA's bfloat16 type for sources that want it (ours treat bf16 as raw bits, see common.cuh): stored as
// the upper 16 bits of a float32, converted with round-to-nearest-even.
struct __nv_bfloat16 {
    unsigned short bits;
};

static inline __nv_bfloat16 __float2bfloat16(float f)
{
    unsigned x = __float_as_uint(f);
    __nv_bfloat16 h;
    h.bits = (x & 0x7fffffffu) > 0x7f800000u ? (unsigned short)((x >> 16) | 0x40u)
                                             : (unsigned short)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
    return h;
}

static inline float __bfloat162float(__nv_bfloat16 h) { return __uint_as_float((unsigned)h.bits << 16); }
