// Every load and store a kernel makes is checked here before it happens. The kernel translation units are
// compiled with ASan's outline instrumentation (every access becomes a call to __asan_{load,store}N_noabort),
// and this library defines those entry points for itself (hidden, so only its own kernels call them):
//  - shared memory (the jpeglm_emu_shared section): the race detector below, and reads of bytes no thread
//    of the block has written yet;
//  - the running fiber's stack: the thread's own locals;
//  - anything else must lie inside the valid bytes of a live cuMemAlloc allocation, else the launch stops
//    with CUDA_ERROR_ILLEGAL_ADDRESS and a description (like compute-sanitizer's memcheck).
// In the AddressSanitizer build each call is then forwarded to ASan's own check (redzones, stack buffers).
#include "emu.h"

#include <cxxabi.h>
#include <dlfcn.h>
#include <elf.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

extern "C" {
// Linker-provided bounds of the section every __shared__ variable lives in (cuda_shim.h).
extern char __start_jpeglm_emu_shared[] __attribute__((weak, visibility("hidden")));
extern char __stop_jpeglm_emu_shared[] __attribute__((weak, visibility("hidden")));
}

namespace emu {
namespace {

struct Allocation {
    uintptr_t base;
    size_t bytes;   // as allocated
    size_t valid;   // bytes a kernel may touch (jpeglmEmuSetValidBytes narrows it to the tensor in use)
};

std::map<uintptr_t, Allocation> g_allocations;
std::deque<std::pair<uintptr_t, size_t>> g_freed;   // recent frees, to name a use after free
const Allocation* g_last;
size_t g_allocated;
uintptr_t g_stack_low, g_stack_high;

// Race detector state per byte of shared memory: the epoch (barrier interval) and thread of the last
// write and of the reads in the current interval.
constexpr uint16_t ManyReaders = 0xffff;
constexpr uint16_t AtomicWriter = 0xfffe;

struct ShadowByte {
    uint32_t write_epoch, read_epoch;
    uint16_t writer, reader;
};

std::vector<ShadowByte> g_shadow;
uint32_t g_epoch = 1;
uint32_t g_block_epoch = 1;

uintptr_t shared_low() { return reinterpret_cast<uintptr_t>(__start_jpeglm_emu_shared); }
uintptr_t shared_high() { return reinterpret_cast<uintptr_t>(__stop_jpeglm_emu_shared); }

const Allocation* find(uintptr_t address)
{
    if (g_last != nullptr && address >= g_last->base && address < g_last->base + g_last->bytes) {
        return g_last;
    }
    auto it = g_allocations.upper_bound(address);
    if (it == g_allocations.begin()) {
        return nullptr;
    }
    --it;
    if (address >= it->second.base + it->second.bytes) {
        return nullptr;
    }
    g_last = &it->second;
    return g_last;
}

std::string hex(uintptr_t v)
{
    char text[32];
    std::snprintf(text, sizeof text, "0x%lx", static_cast<unsigned long>(v));
    return text;
}

std::string describe(uintptr_t address, size_t bytes)
{
    if (const Allocation* a = find(address)) {
        const size_t offset = address - a->base;
        return "byte " + std::to_string(offset) + " (+" + std::to_string(bytes) + ") of the allocation at " + hex(a->base) + " whose valid part is " +
            std::to_string(a->valid) + " bytes (" + std::to_string(a->bytes) + " allocated): " + std::to_string(offset + bytes - a->valid) +
            " bytes past its end";
    }
    for (auto it = g_freed.rbegin(); it != g_freed.rend(); ++it) {
        if (address >= it->first && address < it->first + it->second) {
            return "byte " + std::to_string(address - it->first) + " of an allocation of " + std::to_string(it->second) + " bytes at " + hex(it->first) +
                " that cuMemFree released (use after free)";
        }
    }
    auto next = g_allocations.lower_bound(address);
    std::string near;
    if (next != g_allocations.end()) {
        near = "; the next allocation starts " + std::to_string(next->first - address) + " bytes higher";
    }
    if (next != g_allocations.begin()) {
        auto prev = std::prev(next);
        near += "; the previous one ends " + std::to_string(address - (prev->first + prev->second.bytes)) + " bytes lower";
    }
    return "an address that is not device memory" + near;
}

// The name of the __shared__ variable at an address, from this library's own symbol table.
std::string shared_symbol(uintptr_t address)
{
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(&shared_symbol), &info) == 0 || info.dli_fname == nullptr) {
        return "";
    }
    std::ifstream file(info.dli_fname, std::ios::binary);
    std::vector<char> image((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    if (image.size() < sizeof(Elf64_Ehdr)) {
        return "";
    }
    const auto* header = reinterpret_cast<const Elf64_Ehdr*>(image.data());
    const auto* sections = reinterpret_cast<const Elf64_Shdr*>(image.data() + header->e_shoff);
    const uintptr_t base = reinterpret_cast<uintptr_t>(info.dli_fbase);
    for (int s = 0; s < header->e_shnum; s++) {
        if (sections[s].sh_type != SHT_SYMTAB) {
            continue;
        }
        const auto* symbols = reinterpret_cast<const Elf64_Sym*>(image.data() + sections[s].sh_offset);
        const char* names = image.data() + sections[sections[s].sh_link].sh_offset;
        for (size_t i = 0; i < sections[s].sh_size / sizeof(Elf64_Sym); i++) {
            const Elf64_Sym& sym = symbols[i];
            const uintptr_t at = base + sym.st_value;
            if (ELF64_ST_TYPE(sym.st_info) == STT_OBJECT && address >= at && address < at + sym.st_size) {
                int status = 0;
                char* demangled = abi::__cxa_demangle(names + sym.st_name, nullptr, nullptr, &status);
                std::string name = status == 0 && demangled != nullptr ? demangled : names + sym.st_name;
                std::free(demangled);
                return name + " + " + std::to_string(address - at);
            }
        }
    }
    return "";
}

[[noreturn]] void race(uintptr_t address, const char* what, uint16_t other)
{
    std::string name = shared_symbol(address);
    std::string who = other == ManyReaders ? "several other threads" : other == AtomicWriter ? "an atomic of another thread" : "thread " + std::to_string(other);
    fault(LaunchFailed, std::string("shared-memory race on ") + (name.empty() ? hex(address) : name) + ": " + what + " " + who +
        " between the same two barriers (linear thread ids)");
}

void shared_access(uintptr_t address, size_t bytes, bool write)
{
    if (address + bytes > shared_high()) {
        fault(IllegalAddress, "access of " + std::to_string(bytes) + " bytes runs past the end of shared memory");
    }
    if (g_shadow.empty()) {
        g_shadow.assign(shared_high() - shared_low(), ShadowByte{});
    }
    const uint16_t self = static_cast<uint16_t>(current_linear_thread());
    for (size_t i = 0; i < bytes; i++) {
        ShadowByte& s = g_shadow[address - shared_low() + i];
        if (write) {
            if (s.write_epoch == g_epoch && s.writer != self) {
                race(address + i, "it writes a byte that was written by", s.writer);
            }
            if (s.read_epoch == g_epoch && s.reader != self) {
                race(address + i, "it writes a byte that was read by", s.reader);
            }
            s.write_epoch = g_epoch;
            s.writer = self;
        } else {
            if (s.write_epoch < g_block_epoch) {
                std::string name = shared_symbol(address + i);
                fault(LaunchFailed, "reads shared memory " + (name.empty() ? hex(address + i) : name) + " that no thread of this block has written");
            }
            if (s.write_epoch == g_epoch && s.writer != self) {
                race(address + i, "it reads a byte written by", s.writer);
            }
            if (s.read_epoch != g_epoch) {
                s.read_epoch = g_epoch;
                s.reader = self;
            } else if (s.reader != self) {
                s.reader = ManyReaders;
            }
        }
    }
}

// The code address of the access, relative to this library (for addr2line -e libjpeglm-cudaemu.so).
std::string code_offset(const void* pc)
{
    Dl_info info{};
    if (pc == nullptr || dladdr(pc, &info) == 0) {
        return "";
    }
    return " (code at +" + hex(reinterpret_cast<uintptr_t>(pc) - reinterpret_cast<uintptr_t>(info.dli_fbase)) + " in " +
        (info.dli_fname != nullptr ? info.dli_fname : "?") + ")";
}

void check(uintptr_t address, size_t bytes, bool write, const void* pc)
{
    if (!in_kernel()) {
        return;
    }
    if (address >= shared_low() && address < shared_high()) {
        shared_access(address, bytes, write);
        return;
    }
    if (address >= g_stack_low && address < g_stack_high) {
        return;
    }
    const Allocation* a = find(address);
    if (a == nullptr || address + bytes > a->base + a->valid) {
        fault(IllegalAddress, std::string("invalid ") + (write ? "write" : "read") + " of " + std::to_string(bytes) + " bytes at " + hex(address) +
            ": " + describe(address, bytes) + code_offset(pc));
    }
}

#if defined(__SANITIZE_ADDRESS__)
using AsanCheck = void (*)(uintptr_t);
using AsanCheckN = void (*)(uintptr_t, uintptr_t);

template <typename F>
F asan_entry(const char* name)
{
    // Our own definitions are hidden, so the global lookup finds the AddressSanitizer runtime's.
    void* p = dlsym(RTLD_DEFAULT, name);
    if (p == nullptr) {
        std::fprintf(stderr, "jpeglm-cudaemu: %s not found (is libasan preloaded?)\n", name);
        std::abort();
    }
    return reinterpret_cast<F>(p);
}
#endif

}  // namespace

void track_allocation(uintptr_t base, size_t bytes)
{
    g_allocations[base] = Allocation{base, bytes, bytes};
    g_last = nullptr;
    g_allocated += bytes;
}

void untrack_allocation(uintptr_t base)
{
    auto it = g_allocations.find(base);
    if (it == g_allocations.end()) {
        return;
    }
    g_allocated -= it->second.bytes;
    g_freed.emplace_back(base, it->second.bytes);
    if (g_freed.size() > 4096) {
        g_freed.pop_front();
    }
    g_allocations.erase(it);
    g_last = nullptr;
}

bool set_valid_bytes(uintptr_t base, size_t bytes)
{
    auto it = g_allocations.find(base);
    if (it == g_allocations.end() || bytes > it->second.bytes) {
        return false;
    }
    it->second.valid = bytes;
    return true;
}

bool check_device_range(uintptr_t address, size_t bytes, std::string* why)
{
    const Allocation* a = find(address);
    if (a != nullptr && address + bytes <= a->base + a->valid) {
        return true;
    }
    if (why != nullptr) {
        *why = describe(address, bytes);
    }
    return false;
}

bool check_allocation_range(uintptr_t address, size_t bytes, std::string* why)
{
    const Allocation* a = find(address);
    if (a != nullptr && address + bytes <= a->base + a->bytes) {
        return true;
    }
    if (why != nullptr) {
        *why = describe(address, bytes);
    }
    return false;
}

size_t allocated_bytes() { return g_allocated; }

void set_current_stack(uintptr_t low, uintptr_t high)
{
    g_stack_low = low;
    g_stack_high = high;
}

void shared_begin_block()
{
    shared_new_interval();
    g_block_epoch = g_epoch;
}

void shared_new_interval()
{
    if (++g_epoch == 0) {
        // After 2^32 intervals: forget everything (a block never spans the wrap, it starts afresh).
        std::fill(g_shadow.begin(), g_shadow.end(), ShadowByte{});
        g_epoch = 2;
        g_block_epoch = 2;
    }
}

}  // namespace emu

using namespace emu;

// The instrumentation entry points the kernel translation units call (see the top of this file).
#if defined(__SANITIZE_ADDRESS__)
#define EMU_FORWARD(name, ...)                                            \
    static const auto forward = asan_entry<decltype(&name)>(#name);    \
    forward(__VA_ARGS__)
#else
#define EMU_FORWARD(name, ...) (void)0
#endif

#define EMU_HOOK(kind, size, write)                                                                         \
    extern "C" __attribute__((visibility("hidden"))) void __asan_##kind##size##_noabort(uintptr_t address) \
    {                                                                                                      \
        check(address, size, write, __builtin_return_address(0));                                          \
        EMU_FORWARD(__asan_##kind##size##_noabort, address);                                               \
    }

EMU_HOOK(load, 1, false)
EMU_HOOK(load, 2, false)
EMU_HOOK(load, 4, false)
EMU_HOOK(load, 8, false)
EMU_HOOK(load, 16, false)
EMU_HOOK(store, 1, true)
EMU_HOOK(store, 2, true)
EMU_HOOK(store, 4, true)
EMU_HOOK(store, 8, true)
EMU_HOOK(store, 16, true)

extern "C" __attribute__((visibility("hidden"))) void __asan_loadN_noabort(uintptr_t address, uintptr_t size)
{
    check(address, size, false, __builtin_return_address(0));
    EMU_FORWARD(__asan_loadN_noabort, address, size);
}

extern "C" __attribute__((visibility("hidden"))) void __asan_storeN_noabort(uintptr_t address, uintptr_t size)
{
    check(address, size, true, __builtin_return_address(0));
    EMU_FORWARD(__asan_storeN_noabort, address, size);
}

#if !defined(__SANITIZE_ADDRESS__)
// Without the ASan runtime the kernels are built with -fsanitize=kernel-address (same outline calls, no
// runtime library); these are the few other entry points that instrumentation may reference.
extern "C" __attribute__((visibility("hidden"))) void __asan_handle_no_return(void) {}
#endif

namespace {

// Atomics check their address like any access; on shared memory they neither race with each other nor
// need an earlier write (a plain access by another thread between the same barriers still races).
template <typename T>
T* atomic_target(T* address)
{
    const auto a = reinterpret_cast<uintptr_t>(address);
    if (a >= shared_low() && a < shared_high()) {
        if (g_shadow.empty()) {
            g_shadow.assign(shared_high() - shared_low(), ShadowByte{});
        }
        for (size_t i = 0; i < sizeof(T); i++) {
            ShadowByte& s = g_shadow[a - shared_low() + i];
            if ((s.write_epoch == g_epoch && s.writer != AtomicWriter && s.writer != current_linear_thread()) ||
                (s.read_epoch == g_epoch && s.reader != current_linear_thread())) {
                race(a + i, "an atomic touches a byte accessed by", s.write_epoch == g_epoch ? s.writer : s.reader);
            }
            s.write_epoch = g_epoch;
            s.writer = AtomicWriter;
        }
        return address;
    }
    std::string why;
    if (!check_device_range(a, sizeof(T), &why)) {
        fault(IllegalAddress, "invalid atomic on " + std::to_string(sizeof(T)) + " bytes at " + hex(a) + ": " + why);
    }
    return address;
}

}  // namespace

extern "C" {

float jpeglm_emu_atomic_add_f32(float* address, float value)
{
    float* p = atomic_target(address);
    float old = *p;
    *p = old + value;
    return old;
}

int jpeglm_emu_atomic_add_i32(int* address, int value)
{
    int* p = atomic_target(address);
    int old = *p;
    *p = static_cast<int>(static_cast<unsigned>(old) + static_cast<unsigned>(value));
    return old;
}

unsigned jpeglm_emu_atomic_add_u32(unsigned* address, unsigned value)
{
    unsigned* p = atomic_target(address);
    unsigned old = *p;
    *p = old + value;
    return old;
}

int jpeglm_emu_atomic_max_i32(int* address, int value)
{
    int* p = atomic_target(address);
    int old = *p;
    *p = old > value ? old : value;
    return old;
}

int jpeglm_emu_atomic_cas_i32(int* address, int compare, int value)
{
    int* p = atomic_target(address);
    int old = *p;
    if (old == compare) {
        *p = value;
    }
    return old;
}

int jpeglm_emu_atomic_exch_i32(int* address, int value)
{
    int* p = atomic_target(address);
    int old = *p;
    *p = value;
    return old;
}

}  // extern "C"
