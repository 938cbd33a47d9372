// Softmax cross-entropy, one block per row. The fused variant (llm.c's classifier) overwrites the logits with
// the loss gradient, so probabilities are never stored.
#include "common.cuh"

// Launched with 1024 threads: the bound makes ptxas keep to 64 registers, or the launch would fail.
extern "C" __global__ void __launch_bounds__(1024) cross_entropy(float* losses, float* logits, const int* targets, float gradientScale, int rows, int vocab, int writeGradient)
{
    __shared__ float scratch[32];
    int row = blockIdx.x;
    float* x = logits + (i64)row * vocab;
    int target = targets[row];
    float m = NEG_INF;
    for (int v = threadIdx.x; v < vocab; v += blockDim.x) {
        m = fmaxf(m, x[v]);
    }
    m = block_max(m, scratch);
    float s = 0.0f;
    for (int v = threadIdx.x; v < vocab; v += blockDim.x) {
        s += expf(x[v] - m);
    }
    // target logit read before block_sum's barriers, i.e. before any thread overwrites the row
    float targetLogit = (target >= 0 && target < vocab) ? x[target] : 0.0f;
    s = block_sum(s, scratch);
    float lse = m + logf(s);
    if (threadIdx.x == 0) {
        losses[row] = target < 0 ? 0.0f : (target < vocab ? lse - targetLogit : __int_as_float(0x7fc00000));
    }
    if (writeGradient) {
        for (int v = threadIdx.x; v < vocab; v += blockDim.x) {
            float p = expf(x[v] - lse);
            x[v] = target < 0 ? 0.0f : gradientScale * (p - (v == target ? 1.0f : 0.0f));
        }
    }
}
