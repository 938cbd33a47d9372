// Elementwise kernels: residual add, SwiGLU, casts, poison fill, strided copy, rotary embeddings.
#include "common.cuh"

extern "C" __global__ void add_f32(float* out, const float* a, const float* b, i64 n)
{
    GRID_STRIDE(i, n) { out[i] = a[i] + b[i]; }
}

// silu(g) * u with silu(x) = x / (1 + e^-x)
extern "C" __global__ void swiglu_forward(float* out, const float* gate, const float* up, i64 n)
{
    GRID_STRIDE(i, n)
    {
        float g = gate[i];
        float silu = g / (1.0f + expf(-g));
        out[i] = silu * up[i];
    }
}

// gateGrad += dOut * up * silu'(g), upGrad += dOut * silu(g); silu'(g) = s (1 + g (1 - s)), s = sigmoid(g)
extern "C" __global__ void swiglu_backward(float* gateGrad, float* upGrad, const float* outGrad, const float* gate, const float* up, i64 n)
{
    GRID_STRIDE(i, n)
    {
        float g = gate[i];
        float s = 1.0f / (1.0f + expf(-g));
        float silu = g * s;
        float dsilu = s * (1.0f + g * (1.0f - s));
        float d = outGrad[i];
        gateGrad[i] += d * up[i] * dsilu;
        upGrad[i] += d * silu;
    }
}

extern "C" __global__ void cast_f32_bf16(bf16_t* out, const float* in, i64 n)
{
    GRID_STRIDE(i, n) { out[i] = float_to_bf16(in[i]); }
}

// float32 values rounded to the nearest bfloat16 and kept as float32: the inputs exactly as the tensor-core
// attention forward saw them, for a backward that must recompute the same probabilities.
extern "C" __global__ void round_bf16_f32(float* out, const float* in, i64 n)
{
    GRID_STRIDE(i, n) { out[i] = bf16_to_float(float_to_bf16(in[i])); }
}

// rows x rowLength elements; row r of the source starts at r*sourceStride, of the destination at r*destinationStride.
extern "C" __global__ void copy_2d(float* destination, i64 destinationStride, const float* source, i64 sourceStride, int rows, int rowLength)
{
    i64 n = (i64)rows * rowLength;
    GRID_STRIDE(i, n)
    {
        i64 r = i / rowLength;
        i64 c = i - r * rowLength;
        destination[r * destinationStride + c] = source[r * sourceStride + c];
    }
}

// Rotary embedding in the "rotate half" convention on x[batch, length, heads, headDim], in place.
// table holds (cos, sin) of every position and frequency, [position][headDim / 2][2], computed once on the
// host exactly as the CPU engine computes them: a device powf/cosf differs by ulps, and at position ~4000
// an ulp of the frequency moves the angle far more than the 1e-5 the float32 path is held to.
// direction = +1 rotates by the angle (forward), -1 by its negative (the backward of an orthogonal map).
extern "C" __global__ void rotary(float* x, const float* table, int batch, int length, int heads, int headDim, int positionOffset, float direction)
{
    int half = headDim / 2;
    i64 n = (i64)batch * length * heads * half;
    GRID_STRIDE(idx, n)
    {
        int i = (int)(idx % half);
        i64 row = idx / half;                // (b, t, h) flattened
        int t = (int)((row / heads) % length);
        const float* cs = table + 2 * ((i64)(positionOffset + t) * half + i);
        float c = cs[0];
        float s = direction * cs[1];
        float* v = x + row * headDim;
        float x0 = v[i];
        float x1 = v[i + half];
        v[i] = x0 * c - x1 * s;
        v[i + half] = x1 * c + x0 * s;
    }
}
