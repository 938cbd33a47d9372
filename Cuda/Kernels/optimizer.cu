// Global-norm clipping support (sum of squares in two fixed passes) and the AdamW update.
#include "common.cuh"

// One partial sum per block; the grid size is chosen from n alone (never from the device), so the order is fixed.
extern "C" __global__ void sum_squares_partial(float* partials, const float* x, i64 n)
{
    __shared__ float scratch[32];
    float s = 0.0f;
    GRID_STRIDE(i, n) { s += x[i] * x[i]; }
    s = block_sum(s, scratch);
    if (threadIdx.x == 0) {
        partials[blockIdx.x] = s;
    }
}

// Launched with 1024 threads (one block): the bound keeps ptxas to 64 registers per thread.
extern "C" __global__ void __launch_bounds__(1024) sum_squares_final(float* result, const float* partials, int count)
{
    __shared__ float scratch[32];
    float s = 0.0f;
    for (int i = threadIdx.x; i < count; i += blockDim.x) {
        s += partials[i];
    }
    s = block_sum(s, scratch);
    if (threadIdx.x == 0) {
        result[0] = s;
    }
}

// Bias corrections (1 - beta^t) are computed once on the host.
extern "C" __global__ void adamw(float* parameters, const float* gradients, float* firstMoment, float* secondMoment, i64 n,
    float learningRate, float beta1, float beta2, float epsilon, float weightDecay, float correction1, float correction2, float gradientScale)
{
    GRID_STRIDE(i, n)
    {
        float g = gradients[i] * gradientScale;
        float m = beta1 * firstMoment[i] + (1.0f - beta1) * g;
        float v = beta2 * secondMoment[i] + (1.0f - beta2) * g * g;
        firstMoment[i] = m;
        secondMoment[i] = v;
        float mHat = m / correction1;
        float vHat = v / correction2;
        float p = parameters[i];
        parameters[i] = p - learningRate * (mHat / (sqrtf(vHat) + epsilon) + weightDecay * p);
    }
}
