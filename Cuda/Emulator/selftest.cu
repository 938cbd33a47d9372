// Deliberately wrong kernels that the emulated device must catch (tests/Cuda.Tests/Emulator): each one
// exercises one check of the shim and the runtime. Compiled into the emulator like the real modules and
// by NVRTC in the test, never used by the backend. All take (float* data, int n); launched as 2 blocks of
// 128 threads over a buffer of 1024 floats.
#include "common.cuh"

// Correct: a block sum through shared memory and shuffles (the checks must not fire on it).
extern "C" __global__ void selftest_ok(float* data, int n)
{
    __shared__ float scratch[32];
    float v = block_sum((float)threadIdx.x, scratch);
    if (threadIdx.x == 0) {
        data[blockIdx.x] = v;
    }
    int lane = threadIdx.x & 31;
    float down = __shfl_down_sync(0xffffffffu, (float)lane, 1);
    if (blockIdx.x == 0 && threadIdx.x < 2) {
        data[2 + threadIdx.x] = down;
    }
}

// A read of a neighbour's shared slot that the neighbour overwrites between the same two barriers.
extern "C" __global__ void selftest_race(float* data, int n)
{
    __shared__ float cells[128];
    cells[threadIdx.x] = (float)threadIdx.x;
    __syncthreads();
    data[blockIdx.x * 128 + threadIdx.x] = cells[(threadIdx.x + 1) % 128];
    cells[threadIdx.x] = 2.0f * threadIdx.x;
}

// A shared value read before any thread wrote it.
extern "C" __global__ void selftest_uninitialized(float* data, int n)
{
    __shared__ float cells[128];
    if (threadIdx.x < 64) {
        cells[threadIdx.x] = 1.0f;
    }
    __syncthreads();
    data[threadIdx.x] = cells[threadIdx.x];
}

// Off by one past the end of the n floats the kernel was given (n = 256 of 1024 allocated here, but the
// valid part of a pooled tensor is what counts for the backend's buffers; here the read runs past 1024).
extern "C" __global__ void selftest_out_of_bounds(float* data, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    data[i] = data[i + 4 * n + 1];
}

// Half of each block waits at a different barrier.
extern "C" __global__ void selftest_divergent_barrier(float* data, int n)
{
    if (threadIdx.x < 64) {
        __syncthreads();
        data[threadIdx.x] = 1.0f;
    } else {
        data[threadIdx.x] = 2.0f;
        __syncthreads();
    }
}

// A shuffle whose mask names lanes that have already exited.
extern "C" __global__ void selftest_exited_lane(float* data, int n)
{
    if ((threadIdx.x & 31) >= 16) {
        return;
    }
    data[threadIdx.x] = __shfl_xor_sync(0xffffffffu, 1.0f, 1);
}
