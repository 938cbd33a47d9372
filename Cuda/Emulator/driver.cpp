// The subset of the CUDA driver API that JpegLm.Cuda binds (Cuda/Interop/DriverApi.cs), on host memory.
// One emulated device of compute capability 9.0. Modules are the CUBINs NVRTC produced for sm_90: the
// loader reads their entry points, parameter sizes, register counts and shared memory from the ELF image
// and maps them to the same kernels compiled as C++ into this library, so a launch is checked against
// what the GPU would check (threads, launch bounds, registers per block, shared memory).
#include "emu.h"
#include "cubin.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>

using namespace emu;

namespace {

constexpr int ComputeMajor = 9, ComputeMinor = 0;
constexpr int Multiprocessors = 4;
constexpr int MaxThreadsPerBlock = 1024;
constexpr int RegistersPerBlock = 65536;
constexpr int StaticSharedLimit = 48 * 1024;
constexpr int SharedOptin = 232448;   // 227 KiB, an H100's opt-in maximum

struct Module {
    std::string name;
    std::map<std::string, Function> functions;
};

struct Event {
    bool recorded = false, done = false;
    std::chrono::steady_clock::time_point time;
};

std::recursive_mutex g_lock;
bool g_initialized;
int g_context_references;
int g_context_token;                   // the CUcontext handle is this variable's address
thread_local void* t_current_context;
Result g_sticky = Success;
std::string g_last_error;
std::deque<Operation> g_queue;
std::set<Module*> g_modules;
std::set<int*> g_streams;
std::set<Event*> g_events;
std::set<uintptr_t> g_allocations;

size_t memory_limit()
{
    const char* mib = std::getenv("JPEGLM_CUDAEMU_MEMORY_MIB");
    return (mib != nullptr ? std::strtoull(mib, nullptr, 10) : 4096ull) << 20;
}

Result fail(Result code, const std::string& message)
{
    g_last_error = message;
    if (std::getenv("JPEGLM_CUDAEMU_QUIET") == nullptr) {
        std::fprintf(stderr, "jpeglm-cudaemu: %s\n", message.c_str());
    }
    return code;
}

// Runs everything queued; the first failure becomes the context's sticky error and drops the rest.
Result drain()
{
    while (!g_queue.empty() && g_sticky == Success) {
        Operation op = std::move(g_queue.front());
        g_queue.pop_front();
        std::string message;
        Result r = op(message);
        if (r != Success) {
            g_sticky = fail(r, message);
            g_queue.clear();
        }
    }
    return g_sticky;
}

void destroy_context_state()
{
    g_queue.clear();
    for (Module* m : g_modules) {
        delete m;
    }
    g_modules.clear();
    for (uintptr_t a : g_allocations) {
        untrack_allocation(a);
        std::free(reinterpret_cast<void*>(a));
    }
    g_allocations.clear();
    g_sticky = Success;
}

}  // namespace

namespace emu {

ApiLock::ApiLock() { g_lock.lock(); }
ApiLock::~ApiLock() { g_lock.unlock(); }

void enqueue(Operation operation) { g_queue.push_back(std::move(operation)); }

Result api_status(bool needs_context)
{
    if (!g_initialized) {
        return NotInitialized;
    }
    if (needs_context && (t_current_context == nullptr || g_context_references == 0)) {
        return InvalidContext;
    }
    return g_sticky;
}

}  // namespace emu

#define API_ENTER(needs_context)                  \
    ApiLock api_lock;                             \
    if (Result s = api_status(needs_context)) {   \
        return s;                                 \
    }

extern "C" {

typedef unsigned long long CUdeviceptr;

int cuGetErrorName(int error, const char** name);
int cuGetErrorString(int error, const char** text);

int cuInit(unsigned flags)
{
    ApiLock lock;
    if (flags != 0) {
        return InvalidValue;
    }
    g_initialized = true;
    return Success;
}

int cuDriverGetVersion(int* version)
{
    if (version == nullptr) {
        return InvalidValue;
    }
    *version = 13000;
    return Success;
}

int cuDeviceGetCount(int* count)
{
    API_ENTER(false);
    *count = 1;
    return Success;
}

int cuDeviceGet(int* device, int ordinal)
{
    API_ENTER(false);
    if (ordinal != 0) {
        return InvalidDevice;
    }
    *device = 0;
    return Success;
}

int cuDeviceGetName(char* name, int length, int device)
{
    API_ENTER(false);
    if (device != 0) {
        return InvalidDevice;
    }
    std::snprintf(name, static_cast<size_t>(length), "JpegLm emulated device (CPU, sm_%d%d)", ComputeMajor, ComputeMinor);
    return Success;
}

int cuDeviceGetAttribute(int* value, int attribute, int device)
{
    API_ENTER(false);
    if (device != 0) {
        return InvalidDevice;
    }
    switch (attribute) {
    case 1: *value = MaxThreadsPerBlock; return Success;             // MAX_THREADS_PER_BLOCK
    case 2: case 3: *value = 1024; return Success;                   // MAX_BLOCK_DIM_X/Y
    case 4: *value = 64; return Success;                             // MAX_BLOCK_DIM_Z
    case 5: *value = 0x7fffffff; return Success;                     // MAX_GRID_DIM_X
    case 6: case 7: *value = 65535; return Success;                  // MAX_GRID_DIM_Y/Z
    case 8: *value = StaticSharedLimit; return Success;              // MAX_SHARED_MEMORY_PER_BLOCK
    case 10: *value = 32; return Success;                            // WARP_SIZE
    case 12: *value = RegistersPerBlock; return Success;             // MAX_REGISTERS_PER_BLOCK
    case 16: *value = Multiprocessors; return Success;               // MULTIPROCESSOR_COUNT
    case 39: *value = 2048; return Success;                          // MAX_THREADS_PER_MULTIPROCESSOR
    case 75: *value = ComputeMajor; return Success;
    case 76: *value = ComputeMinor; return Success;
    case 81: *value = SharedOptin + 1024; return Success;            // MAX_SHARED_MEMORY_PER_MULTIPROCESSOR
    case 82: *value = RegistersPerBlock; return Success;             // MAX_REGISTERS_PER_MULTIPROCESSOR
    case 97: *value = SharedOptin; return Success;                   // MAX_SHARED_MEMORY_PER_BLOCK_OPTIN
    default: return InvalidValue;
    }
}

int cuDeviceTotalMem_v2(size_t* bytes, int device)
{
    API_ENTER(false);
    if (device != 0) {
        return InvalidDevice;
    }
    *bytes = memory_limit();
    return Success;
}

int cuDevicePrimaryCtxRetain(void** context, int device)
{
    API_ENTER(false);
    if (device != 0) {
        return InvalidDevice;
    }
    g_context_references++;
    *context = &g_context_token;
    return Success;
}

int cuDevicePrimaryCtxRelease_v2(int device)
{
    ApiLock lock;
    if (!g_initialized) {
        return NotInitialized;
    }
    if (device != 0 || g_context_references == 0) {
        return device != 0 ? InvalidDevice : InvalidContext;
    }
    if (--g_context_references == 0) {
        destroy_context_state();   // the last release destroys the context: a later retain starts clean
    }
    return Success;
}

int cuDevicePrimaryCtxReset_v2(int device)
{
    ApiLock lock;
    if (!g_initialized) {
        return NotInitialized;
    }
    if (device != 0) {
        return InvalidDevice;
    }
    destroy_context_state();
    return Success;
}

int cuCtxSetCurrent(void* context)
{
    ApiLock lock;
    if (!g_initialized) {
        return NotInitialized;
    }
    if (context != nullptr && context != &g_context_token) {
        return InvalidContext;
    }
    t_current_context = context;
    return Success;
}

int cuCtxSynchronize(void)
{
    API_ENTER(true);
    return drain();
}

int cuMemGetInfo_v2(size_t* free_bytes, size_t* total_bytes)
{
    API_ENTER(true);
    *total_bytes = memory_limit();
    *free_bytes = *total_bytes - std::min(*total_bytes, allocated_bytes());
    return Success;
}

int cuMemAlloc_v2(CUdeviceptr* pointer, size_t bytes)
{
    API_ENTER(true);
    if (pointer == nullptr || bytes == 0) {
        return InvalidValue;
    }
    if (allocated_bytes() + bytes > memory_limit()) {
        return OutOfMemory;
    }
    // 256-byte aligned like cudaMalloc; filled with 0xff bytes (a NaN in every float) since device memory
    // starts uninitialized and a kernel that reads before writing should not see zeros by luck.
    size_t rounded = (bytes + 255) & ~size_t{255};
    void* p = std::aligned_alloc(256, rounded);
    if (p == nullptr) {
        return OutOfMemory;
    }
    std::memset(p, 0xff, rounded);
    track_allocation(reinterpret_cast<uintptr_t>(p), bytes);
    g_allocations.insert(reinterpret_cast<uintptr_t>(p));
    *pointer = reinterpret_cast<CUdeviceptr>(p);
    return Success;
}

int cuMemFree_v2(CUdeviceptr pointer)
{
    API_ENTER(true);
    if (Result r = drain()) {   // freeing waits for the work that may still use the memory
        return r;
    }
    if (g_allocations.erase(pointer) == 0) {
        return fail(InvalidValue, "cuMemFree of " + std::to_string(pointer) + ", which cuMemAlloc did not return");
    }
    untrack_allocation(pointer);
    std::free(reinterpret_cast<void*>(pointer));
    return Success;
}

int cuMemcpyHtoDAsync_v2(CUdeviceptr destination, const void* source, size_t bytes, void* stream)
{
    API_ENTER(true);
    (void)stream;
    std::string why;
    if (bytes > 0 && !check_allocation_range(destination, bytes, &why)) {
        return fail(InvalidValue, "cuMemcpyHtoDAsync of " + std::to_string(bytes) + " bytes to " + why);
    }
    // From pageable memory the source is staged at the call, so the caller may reuse it at once.
    auto staged = std::make_shared<std::vector<unsigned char>>(static_cast<const unsigned char*>(source), static_cast<const unsigned char*>(source) + bytes);
    enqueue([=](std::string& message) {
        std::string late;
        if (!check_allocation_range(destination, bytes, &late)) {
            message = "queued copy to the device: " + late;
            return IllegalAddress;
        }
        std::memcpy(reinterpret_cast<void*>(destination), staged->data(), bytes);
        return Success;
    });
    return Success;
}

int cuMemcpyDtoHAsync_v2(void* destination, CUdeviceptr source, size_t bytes, void* stream)
{
    API_ENTER(true);
    (void)stream;
    // To pageable memory the copy completes before the call returns, after the work queued before it.
    if (Result r = drain()) {
        return r;
    }
    std::string why;
    if (bytes > 0 && !check_allocation_range(source, bytes, &why)) {
        return fail(InvalidValue, "cuMemcpyDtoHAsync of " + std::to_string(bytes) + " bytes from " + why);
    }
    std::memcpy(destination, reinterpret_cast<const void*>(source), bytes);
    return Success;
}

int cuMemcpyDtoDAsync_v2(CUdeviceptr destination, CUdeviceptr source, size_t bytes, void* stream)
{
    API_ENTER(true);
    (void)stream;
    enqueue([=](std::string& message) {
        std::string why;
        if (!check_allocation_range(source, bytes, &why) || !check_allocation_range(destination, bytes, &why)) {
            message = "cuMemcpyDtoDAsync of " + std::to_string(bytes) + " bytes: " + why;
            return IllegalAddress;
        }
        std::memmove(reinterpret_cast<void*>(destination), reinterpret_cast<const void*>(source), bytes);
        return Success;
    });
    return Success;
}

int cuMemsetD32Async(CUdeviceptr destination, unsigned value, size_t count, void* stream)
{
    API_ENTER(true);
    (void)stream;
    if (destination % 4 != 0) {
        return InvalidValue;
    }
    enqueue([=](std::string& message) {
        std::string why;
        if (count > 0 && !check_allocation_range(destination, count * 4, &why)) {
            message = "cuMemsetD32Async of " + std::to_string(count) + " words: " + why;
            return IllegalAddress;
        }
        auto* p = reinterpret_cast<unsigned*>(destination);
        for (size_t i = 0; i < count; i++) {
            p[i] = value;
        }
        return Success;
    });
    return Success;
}

// The pool tells the emulator which part of a pooled block the tensor in it uses, in stream order (a
// kernel still queued may use the block's previous tenant). An extension: absent from a real driver.
int jpeglmEmuSetValidBytesAsync(CUdeviceptr base, size_t bytes, void* stream)
{
    API_ENTER(true);
    (void)stream;
    enqueue([=](std::string& message) {
        if (!set_valid_bytes(base, bytes)) {
            message = "jpeglmEmuSetValidBytesAsync: " + std::to_string(bytes) + " bytes at a pointer that is not a large enough allocation";
            return InvalidValue;
        }
        return Success;
    });
    return Success;
}

// The description of the last failure (kernel, thread, address), for exception messages.
int jpeglmEmuLastError(char* text, size_t length)
{
    ApiLock lock;
    std::snprintf(text, length, "%s", g_last_error.c_str());
    return Success;
}

int cuStreamCreate(void** stream, unsigned flags)
{
    API_ENTER(true);
    (void)flags;
    int* s = new int(0);
    g_streams.insert(s);
    *stream = s;
    return Success;
}

int cuStreamSynchronize(void* stream)
{
    API_ENTER(true);
    if (stream != nullptr && g_streams.count(static_cast<int*>(stream)) == 0) {
        return InvalidHandle;
    }
    return drain();
}

int cuStreamDestroy_v2(void* stream)
{
    API_ENTER(true);
    if (g_streams.erase(static_cast<int*>(stream)) == 0) {
        return InvalidHandle;
    }
    delete static_cast<int*>(stream);
    return Success;
}

int cuEventCreate(void** event, unsigned flags)
{
    API_ENTER(true);
    (void)flags;
    Event* e = new Event();
    g_events.insert(e);
    *event = e;
    return Success;
}

int cuEventRecord(void* event, void* stream)
{
    API_ENTER(true);
    (void)stream;
    Event* e = static_cast<Event*>(event);
    if (g_events.count(e) == 0) {
        return InvalidHandle;
    }
    e->recorded = true;
    e->done = false;
    enqueue([e](std::string&) {
        e->time = std::chrono::steady_clock::now();
        e->done = true;
        return Success;
    });
    return Success;
}

int cuEventSynchronize(void* event)
{
    API_ENTER(true);
    if (g_events.count(static_cast<Event*>(event)) == 0) {
        return InvalidHandle;
    }
    return drain();
}

int cuEventElapsedTime(float* milliseconds, void* start, void* end)
{
    API_ENTER(true);
    Event* a = static_cast<Event*>(start);
    Event* b = static_cast<Event*>(end);
    if (g_events.count(a) == 0 || g_events.count(b) == 0) {
        return InvalidHandle;
    }
    if (!a->done || !b->done) {
        return NotReady;
    }
    *milliseconds = std::chrono::duration<float, std::milli>(b->time - a->time).count();
    return Success;
}

int cuEventDestroy_v2(void* event)
{
    API_ENTER(true);
    Event* e = static_cast<Event*>(event);
    if (g_events.erase(e) == 0) {
        return InvalidHandle;
    }
    delete e;
    return Success;
}

int cuModuleLoadData(void** module, const void* image)
{
    API_ENTER(true);
    CubinImage cubin;
    std::string error;
    if (!parse_cubin(image, cubin, error)) {
        return fail(InvalidImage, "cuModuleLoadData: " + error);
    }
    if (cubin.arch / 10 != ComputeMajor || cubin.arch % 10 > ComputeMinor) {
        return fail(NoBinaryForGpu, "cuModuleLoadData: a CUBIN for sm_" + std::to_string(cubin.arch) + " does not run on this sm_" +
            std::to_string(ComputeMajor * 10 + ComputeMinor) + " device");
    }
    auto* m = new Module();
    if (!bind_cubin(cubin, m->name, m->functions, error)) {
        delete m;
        return fail(InvalidImage, "cuModuleLoadData: " + error);
    }
    g_modules.insert(m);
    *module = m;
    return Success;
}

int cuModuleGetFunction(void** function, void* module, const char* name)
{
    API_ENTER(true);
    Module* m = static_cast<Module*>(module);
    if (g_modules.count(m) == 0) {
        return InvalidHandle;
    }
    auto it = m->functions.find(name);
    if (it == m->functions.end()) {
        return NotFound;
    }
    *function = &it->second;
    return Success;
}

int cuModuleUnload(void* module)
{
    API_ENTER(true);
    Module* m = static_cast<Module*>(module);
    if (g_modules.count(m) == 0) {
        return InvalidHandle;
    }
    if (Result r = drain()) {
        return r;
    }
    g_modules.erase(m);
    delete m;
    return Success;
}

int cuFuncSetAttribute(void* function, int attribute, int value)
{
    API_ENTER(true);
    auto* f = static_cast<Function*>(function);
    if (attribute == 8) {   // MAX_DYNAMIC_SHARED_SIZE_BYTES
        if (value < 0 || static_cast<unsigned>(value) + f->static_shared > static_cast<unsigned>(SharedOptin)) {
            return InvalidValue;
        }
        f->max_dynamic_shared = value;
        return Success;
    }
    return attribute == 9 ? Success : InvalidValue;   // PREFERRED_SHARED_MEMORY_CARVEOUT is a hint
}

int cuFuncGetAttribute(int* value, int attribute, void* function)
{
    API_ENTER(true);
    auto* f = static_cast<Function*>(function);
    switch (attribute) {
    case 0: *value = max_threads_for(*f, RegistersPerBlock, MaxThreadsPerBlock); return Success;
    case 1: *value = static_cast<int>(f->static_shared); return Success;
    case 3: *value = f->frame_bytes; return Success;
    case 4: *value = f->registers; return Success;
    case 8: *value = f->max_dynamic_shared; return Success;
    default: return InvalidValue;
    }
}

int cuLaunchKernel(void* function, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz, unsigned shared,
    void* stream, void** params, void** extra)
{
    API_ENTER(true);
    (void)stream;
    auto* f = static_cast<Function*>(function);
    const jpeglm_emu_kernel* k = f->kernel;
    const unsigned threads = bx * by * bz;
    if (gx == 0 || gy == 0 || gz == 0 || gy > 65535 || gz > 65535 || bx == 0 || by == 0 || bz == 0 || bx > 1024 || by > 1024 || bz > 64 ||
        threads > static_cast<unsigned>(MaxThreadsPerBlock)) {
        return fail(InvalidValue, std::string("cuLaunchKernel(") + k->name + "): invalid grid or block dimensions");
    }
    if (extra != nullptr || (k->param_count > 0 && params == nullptr)) {
        return fail(InvalidValue, std::string("cuLaunchKernel(") + k->name + "): kernelParams missing or extra used");
    }
    const unsigned limit = static_cast<unsigned>(max_threads_for(*f, RegistersPerBlock, MaxThreadsPerBlock));
    if (threads > limit) {
        return fail(LaunchOutOfResources, std::string("cuLaunchKernel(") + k->name + "): " + std::to_string(threads) + " threads per block, but " +
            std::to_string(f->registers) + " registers per thread and launch bounds " + std::to_string(f->max_threads) + " allow " + std::to_string(limit));
    }
    if (shared > static_cast<unsigned>(f->max_dynamic_shared) && f->static_shared + shared > static_cast<unsigned>(StaticSharedLimit)) {
        return fail(LaunchOutOfResources, std::string("cuLaunchKernel(") + k->name + "): too much shared memory");
    }
    auto launch = std::make_shared<Launch>();
    launch->function = f;
    launch->grid = Dim3{gx, gy, gz};
    launch->block = Dim3{bx, by, bz};
    launch->dynamic_shared = shared;
    // The argument values are copied now (the caller's kernelParams may go out of scope at once).
    std::vector<size_t> offsets;
    size_t total = 0;
    for (int i = 0; i < k->param_count; i++) {
        total = (total + 7) & ~size_t{7};
        offsets.push_back(total);
        total += k->param_sizes[i];
    }
    launch->storage.resize(total + 8);
    for (int i = 0; i < k->param_count; i++) {
        std::memcpy(launch->storage.data() + offsets[i], params[i], k->param_sizes[i]);
    }
    for (int i = 0; i < k->param_count; i++) {
        launch->args.push_back(launch->storage.data() + offsets[i]);
    }
    const char* injected = std::getenv("JPEGLM_CUDAEMU_FAULT");
    const bool inject = injected != nullptr && std::strcmp(injected, k->name) == 0;
    enqueue([launch, inject](std::string& message) {
        if (inject) {
            message = std::string("kernel ") + launch->function->kernel->name + ": fault injected by JPEGLM_CUDAEMU_FAULT";
            return IllegalAddress;
        }
        return execute(*launch, message);
    });
    return Success;
}

int cuGetErrorName(int error, const char** name)
{
    *name = error_name(error);
    return *name != nullptr ? Success : InvalidValue;
}

int cuGetErrorString(int error, const char** text)
{
    *text = error_description(error);
    return *text != nullptr ? Success : InvalidValue;
}

}  // extern "C"
