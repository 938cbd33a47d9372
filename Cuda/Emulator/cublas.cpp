// The subset of cuBLAS (and cuBLASLt's version query) that JpegLm.Cuda binds (Cuda/Interop/Cublas.cs):
// column-major GEMMs with float32 or bfloat16 operands, float32 output and float32 accumulation, queued
// in order with the kernels. Arguments are validated as cuBLAS documents them, so a wrong leading
// dimension or operand mapping fails here as it would on the GPU, and every matrix a GEMM reads or
// writes must lie inside a live allocation.
#include "emu.h"

#include <cstring>
#include <memory>
#include <set>
#include <vector>

using namespace emu;

namespace {

enum Status { Ok = 0, NotInitializedStatus = 1, InvalidValueStatus = 7, ExecutionFailed = 13, NotSupportedStatus = 15 };
constexpr int OpN = 0, OpT = 1;
constexpr int R32F = 0, R16BF = 14;
constexpr int Compute32F = 68;

struct Handle {
    void* stream = nullptr;
    int math_mode = 0;
};

std::set<Handle*> g_handles;

float element(const void* base, int type, size_t index)
{
    if (type == R32F) {
        return static_cast<const float*>(base)[index];
    }
    const uint32_t bits = static_cast<uint32_t>(static_cast<const uint16_t*>(base)[index]) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

struct Gemm {
    int transa, transb, m, n, k;
    float alpha, beta;
    uintptr_t a, b, c;
    int type, lda, ldb, ldc;
    long long stride_a, stride_b, stride_c;
    int batch;
};

size_t extent(bool transposed, int rows, int cols, int ld)
{
    // Elements spanned by an op(X) of rows x cols stored column-major with leading dimension ld.
    const int stored_rows = transposed ? cols : rows, stored_cols = transposed ? rows : cols;
    return stored_cols == 0 || stored_rows == 0 ? 0 : static_cast<size_t>(stored_cols - 1) * ld + stored_rows;
}

Result run(const Gemm& g, std::string& message)
{
    const size_t es = g.type == R32F ? 4 : 2;
    std::vector<float> a(static_cast<size_t>(g.m) * g.k), bt(static_cast<size_t>(g.n) * g.k);
    for (int batch = 0; batch < g.batch; batch++) {
        const uintptr_t pa = g.a + batch * g.stride_a * es, pb = g.b + batch * g.stride_b * es, pc = g.c + batch * g.stride_c * 4;
        const size_t ea = extent(g.transa == OpT, g.m, g.k, g.lda), eb = extent(g.transb == OpT, g.k, g.n, g.ldb);
        const size_t ec = extent(false, g.m, g.n, g.ldc);
        std::string why;
        if ((ea > 0 && !check_device_range(pa, ea * es, &why)) || (eb > 0 && !check_device_range(pb, eb * es, &why)) ||
            (ec > 0 && !check_device_range(pc, ec * 4, &why))) {
            message = "cublasGemmEx (m " + std::to_string(g.m) + ", n " + std::to_string(g.n) + ", k " + std::to_string(g.k) + ") touches " + why;
            return IllegalAddress;
        }
        // op(A) packed row-major [m][k] and op(B) transposed [n][k], so each output is a contiguous dot product.
        for (int i = 0; i < g.m; i++) {
            for (int l = 0; l < g.k; l++) {
                a[static_cast<size_t>(i) * g.k + l] = element(reinterpret_cast<const void*>(pa), g.type,
                    g.transa == OpN ? i + static_cast<size_t>(l) * g.lda : l + static_cast<size_t>(i) * g.lda);
            }
        }
        for (int j = 0; j < g.n; j++) {
            for (int l = 0; l < g.k; l++) {
                bt[static_cast<size_t>(j) * g.k + l] = element(reinterpret_cast<const void*>(pb), g.type,
                    g.transb == OpN ? l + static_cast<size_t>(j) * g.ldb : j + static_cast<size_t>(l) * g.ldb);
            }
        }
        auto* c = reinterpret_cast<float*>(pc);
        for (int j = 0; j < g.n; j++) {
            const float* bj = bt.data() + static_cast<size_t>(j) * g.k;
            for (int i = 0; i < g.m; i++) {
                const float* ai = a.data() + static_cast<size_t>(i) * g.k;
                // float32 accumulation in eight interleaved partial sums, as a GPU splits K among lanes.
                float partial[8] = {};
                int l = 0;
                for (; l + 8 <= g.k; l += 8) {
                    for (int u = 0; u < 8; u++) {
                        partial[u] += ai[l + u] * bj[l + u];
                    }
                }
                for (; l < g.k; l++) {
                    partial[0] += ai[l] * bj[l];
                }
                const float dot = ((partial[0] + partial[1]) + (partial[2] + partial[3])) + ((partial[4] + partial[5]) + (partial[6] + partial[7]));
                float& out = c[i + static_cast<size_t>(j) * g.ldc];
                // beta == 0 means C is not read (it may hold NaN), as cuBLAS specifies.
                out = g.beta == 0.0f ? g.alpha * dot : g.alpha * dot + g.beta * out;
            }
        }
    }
    return Success;
}

int submit(void* handle, const Gemm& g, int a_type, int b_type, int c_type, int compute)
{
    ApiLock lock;
    auto* h = static_cast<Handle*>(handle);
    if (g_handles.count(h) == 0) {
        return NotInitializedStatus;
    }
    if (api_status(true) != Success) {
        return ExecutionFailed;
    }
    if ((g.transa != OpN && g.transa != OpT) || (g.transb != OpN && g.transb != OpT) || g.m < 0 || g.n < 0 || g.k < 0 || g.batch < 0) {
        return InvalidValueStatus;
    }
    // Leading dimensions as cuBLAS requires them for column-major storage.
    if (g.lda < std::max(1, g.transa == OpN ? g.m : g.k) || g.ldb < std::max(1, g.transb == OpN ? g.k : g.n) || g.ldc < std::max(1, g.m)) {
        return InvalidValueStatus;
    }
    if (a_type != b_type || (a_type != R32F && a_type != R16BF) || c_type != R32F) {
        return NotSupportedStatus;
    }
    if (compute != Compute32F) {
        return NotSupportedStatus;
    }
    if (g.m == 0 || g.n == 0 || g.batch == 0) {
        return Ok;
    }
    auto queued = std::make_shared<Gemm>(g);
    enqueue([queued](std::string& message) { return run(*queued, message); });
    return Ok;
}

}  // namespace

extern "C" {

int cublasCreate_v2(void** handle)
{
    ApiLock lock;
    if (api_status(true) != Success) {
        return NotInitializedStatus;
    }
    auto* h = new Handle();
    g_handles.insert(h);
    *handle = h;
    return Ok;
}

int cublasDestroy_v2(void* handle)
{
    ApiLock lock;
    auto* h = static_cast<Handle*>(handle);
    if (g_handles.erase(h) == 0) {
        return NotInitializedStatus;
    }
    delete h;
    return Ok;
}

int cublasSetStream_v2(void* handle, void* stream)
{
    ApiLock lock;
    auto* h = static_cast<Handle*>(handle);
    if (g_handles.count(h) == 0) {
        return NotInitializedStatus;
    }
    h->stream = stream;
    return Ok;
}

int cublasSetMathMode(void* handle, int mode)
{
    ApiLock lock;
    auto* h = static_cast<Handle*>(handle);
    if (g_handles.count(h) == 0) {
        return NotInitializedStatus;
    }
    h->math_mode = mode;
    return Ok;
}

int cublasGetVersion_v2(void* handle, int* version)
{
    (void)handle;
    *version = 130000;   // reports itself as cuBLAS 13.0 (the emulator's own numbers are in the device name)
    return Ok;
}

size_t cublasLtGetVersion(void) { return 130000; }

int cublasGemmEx(void* handle, int transa, int transb, int m, int n, int k, const void* alpha, const void* a, int a_type, int lda,
    const void* b, int b_type, int ldb, const void* beta, void* c, int c_type, int ldc, int compute, int algorithm)
{
    (void)algorithm;
    // Host pointer mode: alpha and beta are read now.
    Gemm g{transa, transb, m, n, k, *static_cast<const float*>(alpha), *static_cast<const float*>(beta), reinterpret_cast<uintptr_t>(a),
        reinterpret_cast<uintptr_t>(b), reinterpret_cast<uintptr_t>(c), a_type, lda, ldb, ldc, 0, 0, 0, 1};
    return submit(handle, g, a_type, b_type, c_type, compute);
}

int cublasGemmStridedBatchedEx(void* handle, int transa, int transb, int m, int n, int k, const void* alpha, const void* a, int a_type, int lda,
    long long stride_a, const void* b, int b_type, int ldb, long long stride_b, const void* beta, void* c, int c_type, int ldc, long long stride_c,
    int batch, int compute, int algorithm)
{
    (void)algorithm;
    Gemm g{transa, transb, m, n, k, *static_cast<const float*>(alpha), *static_cast<const float*>(beta), reinterpret_cast<uintptr_t>(a),
        reinterpret_cast<uintptr_t>(b), reinterpret_cast<uintptr_t>(c), a_type, lda, ldb, ldc, stride_a, stride_b, stride_c, batch};
    return submit(handle, g, a_type, b_type, c_type, compute);
}

}  // extern "C"
