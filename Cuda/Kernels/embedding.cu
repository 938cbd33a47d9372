// Token embedding lookup and its backward. The backward sums every vocabulary row's gradient in increasing
// token-row order without atomics: the host groups rows by token id (a bucket list), one thread per
// (bucket, channel) walks its rows in order. A serial per-channel kernel covers token tensors the host never saw.
#include "common.cuh"

extern "C" __global__ void embedding_forward(float* out, const int* tokens, const float* table, int rows, int channels, int vocab)
{
    i64 n = (i64)rows * channels;
    GRID_STRIDE(i, n)
    {
        i64 r = i / channels;
        int c = (int)(i - r * channels);
        int t = tokens[r];
        out[i] = (t >= 0 && t < vocab) ? table[(i64)t * channels + c] : __int_as_float(0x7fc00000);
    }
}

// bucketStart[b]..bucketStart[b+1] index rowsByToken (row numbers, increasing within a bucket); bucketToken[b] the id.
extern "C" __global__ void embedding_backward_buckets(float* tableGrad, const float* outGrad, const int* rowsByToken,
    const int* bucketStart, const int* bucketToken, int buckets, int channels)
{
    i64 n = (i64)buckets * channels;
    GRID_STRIDE(i, n)
    {
        int b = (int)(i / channels);
        int c = (int)(i - (i64)b * channels);
        float* target = tableGrad + (i64)bucketToken[b] * channels + c;
        float sum = *target;
        for (int k = bucketStart[b]; k < bucketStart[b + 1]; k++) {
            sum += outGrad[(i64)rowsByToken[k] * channels + c];
        }
        *target = sum;
    }
}

extern "C" __global__ void embedding_backward_serial(float* tableGrad, const float* outGrad, const int* tokens, int rows, int channels, int vocab)
{
    GRID_STRIDE(c, channels)
    {
        for (int r = 0; r < rows; r++) {
            int t = tokens[r];
            if (t >= 0 && t < vocab) {
                tableGrad[(i64)t * channels + c] += outGrad[(i64)r * channels + c];
            }
        }
    }
}
