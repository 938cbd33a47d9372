// Llama RMSNorm: one block per row for the forward and the input gradient; the weight gradient in two fixed
// passes (partial sums over fixed chunks of rows, then the chunks in order) so it is deterministic.
#include "common.cuh"

#define RMS_ROWS_PER_CHUNK 256

extern "C" __global__ void rmsnorm_forward(float* out, float* rstd, const float* in, const float* weight, int rows, int channels, float epsilon)
{
    __shared__ float scratch[32];
    int row = blockIdx.x;
    const float* x = in + (i64)row * channels;
    float ss = 0.0f;
    for (int c = threadIdx.x; c < channels; c += blockDim.x) {
        ss += x[c] * x[c];
    }
    ss = block_sum(ss, scratch);
    float r = 1.0f / sqrtf(ss / (float)channels + epsilon);
    float* y = out + (i64)row * channels;
    for (int c = threadIdx.x; c < channels; c += blockDim.x) {
        y[c] = x[c] * r * weight[c];
    }
    if (threadIdx.x == 0) {
        rstd[row] = r;
    }
}

// inputGrad += r * (dy*w) - r^3 * x * mean(dy*w*x)
extern "C" __global__ void rmsnorm_backward_input(float* inGrad, const float* outGrad, const float* in, const float* weight, const float* rstd, int rows, int channels)
{
    __shared__ float scratch[32];
    int row = blockIdx.x;
    const float* x = in + (i64)row * channels;
    const float* dy = outGrad + (i64)row * channels;
    float dot = 0.0f;
    for (int c = threadIdx.x; c < channels; c += blockDim.x) {
        dot += dy[c] * weight[c] * x[c];
    }
    dot = block_sum(dot, scratch);
    float r = rstd[row];
    float k = r * r * r * dot / (float)channels;
    float* dx = inGrad + (i64)row * channels;
    for (int c = threadIdx.x; c < channels; c += blockDim.x) {
        dx[c] += r * dy[c] * weight[c] - k * x[c];
    }
}

// partials[chunk, c] = sum over the chunk's rows (in order) of dy * x * r
extern "C" __global__ void rmsnorm_backward_weight_partial(float* partials, const float* outGrad, const float* in, const float* rstd, int rows, int channels)
{
    int chunk = blockIdx.y;
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= channels) {
        return;
    }
    int first = chunk * RMS_ROWS_PER_CHUNK;
    int last = min(rows, first + RMS_ROWS_PER_CHUNK);
    float sum = 0.0f;
    for (int r = first; r < last; r++) {
        sum += outGrad[(i64)r * channels + c] * in[(i64)r * channels + c] * rstd[r];
    }
    partials[(i64)chunk * channels + c] = sum;
}

extern "C" __global__ void rmsnorm_backward_weight_final(float* weightGrad, const float* partials, int chunks, int channels)
{
    GRID_STRIDE(c, channels)
    {
        float sum = 0.0f;
        for (int k = 0; k < chunks; k++) {
            sum += partials[(i64)k * channels + c];
        }
        weightGrad[c] += sum;
    }
}
