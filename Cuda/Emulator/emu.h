// Internal interfaces of the emulated CUDA device (libjpeglm-cudaemu.so): kernel registry, launches,
// the memory checker and the fault path. Not included by kernel sources (they see only cuda_shim.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "kernel_abi.h"

extern "C" {
// Same layout as the shim's uint3 (threadIdx, blockIdx, blockDim, gridDim).
struct uint3 {
    unsigned int x, y, z;
};

// Shuffle kinds, as cuda_shim.h passes them.
enum { JPEGLM_SHFL_XOR = 0, JPEGLM_SHFL_DOWN = 1, JPEGLM_SHFL_IDX = 2 };
}

namespace emu {

// CUresult values the emulator returns (cuda.h numbering).
enum Result : int {
    Success = 0,
    InvalidValue = 1,
    OutOfMemory = 2,
    NotInitialized = 3,
    NoDevice = 100,
    InvalidDevice = 101,
    InvalidImage = 200,
    InvalidContext = 201,
    NoBinaryForGpu = 209,
    InvalidHandle = 400,
    NotFound = 500,
    NotReady = 600,
    IllegalAddress = 700,
    LaunchOutOfResources = 701,
    LaunchFailed = 719,
    NotSupported = 801,
};

struct Dim3 {
    unsigned x, y, z;
    unsigned count() const { return x * y * z; }
};

// A kernel as loaded from a module: the compiled entry point plus what the CUBIN says about it.
struct Function {
    const jpeglm_emu_kernel* kernel;
    std::string module;
    int registers;            // from the CUBIN (EIATTR_REGCOUNT); 0 when absent
    unsigned static_shared;   // bytes of .nv.shared.<name>
    unsigned max_threads;     // EIATTR_MAX_THREADS (launch bounds) or 0
    int frame_bytes;          // local memory per thread (EIATTR_FRAME_SIZE): stack frame, local arrays, spills
    int max_dynamic_shared;   // cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)
};

// One queued launch: the argument values are copied at cuLaunchKernel, as the driver does.
struct Launch {
    const Function* function;
    Dim3 grid, block;
    unsigned dynamic_shared;
    std::vector<unsigned char> storage;
    std::vector<void*> args;
};

// Runs every block of a launch. Returns Success, or the fault's CUresult with its description in message.
Result execute(const Launch& launch, std::string& message);

// ─── the one in-order queue behind every stream (driver.cpp) ───
// Work is queued and runs when the host waits (a synchronize, a copy to pageable host memory, cuMemFree),
// so a host read that forgets to wait sees stale data here as it can on a GPU. A failing operation makes
// the context's error sticky, as a kernel fault does on a GPU.
using Operation = std::function<Result(std::string& message)>;
void enqueue(Operation operation);
// The status an API call returns before doing anything: not initialized, no current context, sticky error.
Result api_status(bool needs_context);
// Holds the emulator's lock for one API call (the .NET side may call from several threads).
struct ApiLock {
    ApiLock();
    ~ApiLock();
    ApiLock(const ApiLock&) = delete;
    ApiLock& operator=(const ApiLock&) = delete;
};

// ─── memory checker (memcheck.cpp) ───
void track_allocation(uintptr_t base, size_t bytes);
void untrack_allocation(uintptr_t base);
bool set_valid_bytes(uintptr_t base, size_t bytes);
// Whether [address, address + bytes) lies inside one live allocation's valid bytes; else a description.
bool check_device_range(uintptr_t address, size_t bytes, std::string* why);
// The same against the whole allocation: what the driver's own copies and fills may touch.
bool check_allocation_range(uintptr_t address, size_t bytes, std::string* why);
size_t allocated_bytes();

// Shared-memory race detector and per-access hooks: set up per launch / block / barrier by the scheduler.
void shared_begin_block();
void shared_new_interval();

// The running fiber's stack (accesses there are a thread's own locals).
void set_current_stack(uintptr_t low, uintptr_t high);

// Stops the current CUDA thread and its launch with an error (never returns to the kernel).
[[noreturn]] void fault(Result code, const std::string& message);
// The current thread as "thread (x,y,z) block (x,y,z) of kernel NAME".
std::string where();
int current_linear_thread();

// True while a kernel fiber runs (hooks ignore accesses made by the runtime itself).
bool in_kernel();

}  // namespace emu
