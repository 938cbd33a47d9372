// The execution model: a launch runs its blocks one after another; a block's threads are fibers scheduled
// cooperatively (a six-register stack switch on x86-64, ucontext elsewhere: swapcontext makes a signal-mask
// system call per switch, which dominated the run time). A fiber runs until it waits — at __syncthreads or at a warp collective (shuffle,
// mma.sync) — or finishes, so the memory effects between two synchronization points happen in one legal
// CUDA order, and anything that would depend on a different order is a race the detector reports.
#include "emu.h"

#include <sys/mman.h>
#include <ucontext.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define EMU_ASAN 1
#else
#define EMU_ASAN 0
#endif

#if defined(__x86_64__)
// jpeglm_emu_switch(&save, next): pushes the callee-saved registers, stores the stack pointer in *save,
// loads next and pops the registers saved there; "returns" into whatever that stack was switched away from.
extern "C" void jpeglm_emu_switch(void** save, void* next);
asm(R"(
    .text
    .p2align 4
    .type jpeglm_emu_switch, @function
jpeglm_emu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size jpeglm_emu_switch, .-jpeglm_emu_switch
)");
#define EMU_FAST_SWITCH 1
#else
#define EMU_FAST_SWITCH 0
#endif

namespace emu {
namespace {

constexpr size_t StackBytes = 256 * 1024;   // generous: ASan frames are several times larger
constexpr size_t GuardBytes = 4096;         // PROT_NONE below each stack: an overflow faults, not corrupts

enum class State { NotStarted, Running, WaitBarrier, WaitWarp, Done };
enum Collective { Shuffle = 1, Mma = 2 };

struct Thread {
#if EMU_FAST_SWITCH
    void* sp;
#else
    ucontext_t context;
#endif
    State state;
    unsigned wait_generation;
    char* stack;
    uint3 index;
    int linear;
};

struct Warp {
    int kind;
    unsigned mask;
    unsigned arrived;
    unsigned generation;
    int shuffle_kind;
    uint64_t in[32], out[32];
    int arg[32], width[32];
    uint32_t a[32][4], b[32][2];
    float c[32][4], d[32][4];
};

struct Block {
    uint3 index;
    unsigned alive;
    unsigned arrived;
    unsigned generation;
    void* site;
    int site_thread;
};

const Launch* g_launch;
Block g_block;
std::vector<Thread> g_threads;
std::vector<Warp> g_warps;
std::vector<char*> g_free_stacks;
Thread* g_current;
#if EMU_FAST_SWITCH
void* g_scheduler_sp;
#else
ucontext_t g_scheduler;
#endif
bool g_faulted;
Result g_fault_code;
std::string g_fault_message;
#if EMU_ASAN
const void* g_scheduler_stack_bottom;
size_t g_scheduler_stack_size;
#endif

char* new_stack()
{
    if (!g_free_stacks.empty()) {
        char* s = g_free_stacks.back();
        g_free_stacks.pop_back();
        return s;
    }
    void* p = mmap(nullptr, StackBytes + GuardBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (p == MAP_FAILED) {
        std::fprintf(stderr, "jpeglm-cudaemu: cannot map a fiber stack\n");
        std::abort();
    }
    mprotect(p, GuardBytes, PROT_NONE);
    return static_cast<char*>(p) + GuardBytes;
}

void release_stack(Thread& t, bool unpoison)
{
    if (t.stack == nullptr) {
        return;
    }
#if EMU_ASAN
    // A fiber abandoned mid-call leaves its frames' redzones poisoned; a normal return cleans up itself.
    if (unpoison) {
        ASAN_UNPOISON_MEMORY_REGION(t.stack, StackBytes);
    }
#else
    (void)unpoison;
#endif
    g_free_stacks.push_back(t.stack);
    t.stack = nullptr;
}

void switch_to_fiber(Thread* t)
{
    g_current = t;
    set_current_stack(reinterpret_cast<uintptr_t>(t->stack), reinterpret_cast<uintptr_t>(t->stack) + StackBytes);
#if EMU_ASAN
    void* fake = nullptr;
    __sanitizer_start_switch_fiber(&fake, t->stack, StackBytes);
#endif
#if EMU_FAST_SWITCH
    jpeglm_emu_switch(&g_scheduler_sp, t->sp);
#else
    swapcontext(&g_scheduler, &t->context);
#endif
#if EMU_ASAN
    __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#endif
    g_current = nullptr;
    set_current_stack(0, 0);
}

void switch_to_scheduler(bool dying)
{
#if EMU_ASAN
    void* fake = nullptr;
    __sanitizer_start_switch_fiber(dying ? nullptr : &fake, g_scheduler_stack_bottom, g_scheduler_stack_size);
#else
    (void)dying;
#endif
#if EMU_FAST_SWITCH
    jpeglm_emu_switch(&g_current->sp, g_scheduler_sp);
#else
    swapcontext(&g_current->context, &g_scheduler);
#endif
#if EMU_ASAN
    __sanitizer_finish_switch_fiber(fake, &g_scheduler_stack_bottom, &g_scheduler_stack_size);
#endif
}

std::string lane_list(unsigned mask)
{
    std::string s;
    for (int l = 0; l < 32; l++) {
        if (mask >> l & 1u) {
            s += (s.empty() ? "" : ",") + std::to_string(l);
        }
    }
    return s;
}

void complete_barrier()
{
    g_block.arrived = 0;
    g_block.generation++;
    g_block.site = nullptr;
    shared_new_interval();
}

[[noreturn]] void thread_exit(Thread* t)
{
    t->state = State::Done;
    g_block.alive--;
    Warp& w = g_warps[t->linear >> 5];
    if (w.arrived != 0 && (w.mask >> (t->linear & 31) & 1u)) {
        fault(LaunchFailed, "exits while lanes " + lane_list(w.arrived) + " of its warp wait for it in a warp collective (mask 0x" +
            [&] { char b[16]; std::snprintf(b, sizeof b, "%08x", w.mask); return std::string(b); }() + ")");
    }
    // Exited threads no longer hold a barrier back (as on sm_70 and later).
    if (g_block.arrived > 0 && g_block.arrived == g_block.alive) {
        complete_barrier();
    }
    switch_to_scheduler(true);
    std::abort();   // a finished fiber is never resumed
}

void fiber_entry()
{
#if EMU_ASAN
    __sanitizer_finish_switch_fiber(nullptr, &g_scheduler_stack_bottom, &g_scheduler_stack_size);
#endif
    g_launch->function->kernel->invoke(g_launch->args.data());
    thread_exit(g_current);
}

void start(Thread& t)
{
    t.stack = new_stack();
#if EMU_FAST_SWITCH
    // The first switch pops six zeroed registers and "returns" into fiber_entry with the stack aligned as
    // after a call (the slot above the entry address stands for fiber_entry's own return address).
    auto* top = reinterpret_cast<void**>(t.stack + StackBytes);
    top[-1] = nullptr;
    top[-2] = reinterpret_cast<void*>(&fiber_entry);
    for (int r = 3; r <= 8; r++) {
        top[-r] = nullptr;
    }
    t.sp = top - 8;
#else
    getcontext(&t.context);
    t.context.uc_stack.ss_sp = t.stack;
    t.context.uc_stack.ss_size = StackBytes;
    t.context.uc_link = nullptr;
    makecontext(&t.context, fiber_entry, 0);
#endif
    t.state = State::Running;
    switch_to_fiber(&t);
}

std::string describe_deadlock()
{
    unsigned barrier = 0, done = 0;
    std::string warps;
    for (const Thread& t : g_threads) {
        barrier += t.state == State::WaitBarrier;
        done += t.state == State::Done;
    }
    for (size_t w = 0; w < g_warps.size(); w++) {
        if (g_warps[w].arrived != 0) {
            warps += " warp " + std::to_string(w) + " lanes " + lane_list(g_warps[w].arrived) + " wait in a " +
                (g_warps[w].kind == Mma ? "mma.sync" : "shuffle") + ";";
        }
    }
    return "deadlock: " + std::to_string(barrier) + " threads wait at __syncthreads, " + std::to_string(done) + " have exited;" + warps;
}

// Runs one block to completion (or to a fault).
void run_block()
{
    const unsigned n = static_cast<unsigned>(g_threads.size());
    unsigned done = 0;
    for (;;) {
        bool progressed = false;
        for (unsigned i = 0; i < n; i++) {
            Thread& t = g_threads[i];
            if (t.state == State::NotStarted) {
                start(t);
                progressed = true;
            } else if ((t.state == State::WaitBarrier && t.wait_generation != g_block.generation) ||
                       (t.state == State::WaitWarp && t.wait_generation != g_warps[i >> 5].generation)) {
                t.state = State::Running;
                switch_to_fiber(&t);
                progressed = true;
            }
            if (g_faulted) {
                return;
            }
            if (t.state == State::Done && t.stack != nullptr) {
                release_stack(t, false);
                done++;
            }
        }
        if (done == n) {
            return;
        }
        if (!progressed) {
            g_faulted = true;
            g_fault_code = LaunchFailed;
            g_fault_message = describe_deadlock() + " in block (" + std::to_string(g_block.index.x) + "," + std::to_string(g_block.index.y) + "," +
                std::to_string(g_block.index.z) + ") of kernel " + g_launch->function->kernel->name;
            return;
        }
    }
}

// Joins the calling lane to its warp's collective; returns true for the lane that completes it.
bool arrive(int kind, unsigned mask)
{
    Thread* t = g_current;
    const int lane = t->linear & 31;
    Warp& w = g_warps[t->linear >> 5];
    char hex[16];
    std::snprintf(hex, sizeof hex, "%08x", mask);
    if (!(mask >> lane & 1u)) {
        fault(LaunchFailed, std::string("calls a warp collective with mask 0x") + hex + ", which excludes its own lane");
    }
    if (w.arrived == 0) {
        const unsigned lanes = std::min(32u, static_cast<unsigned>(g_threads.size()) - (static_cast<unsigned>(t->linear) & ~31u));
        for (unsigned l = 0; l < 32; l++) {
            if (!(mask >> l & 1u)) {
                continue;
            }
            if (l >= lanes) {
                fault(LaunchFailed, std::string("uses mask 0x") + hex + " but its warp has only " + std::to_string(lanes) + " lanes");
            }
            if (g_threads[(t->linear & ~31) + l].state == State::Done) {
                fault(LaunchFailed, std::string("uses mask 0x") + hex + " but lane " + std::to_string(l) + " has exited");
            }
        }
        w.kind = kind;
        w.mask = mask;
    } else if (w.kind != kind || w.mask != mask) {
        fault(LaunchFailed, std::string("joins a ") + (kind == Mma ? "mma.sync" : "shuffle") + " with mask 0x" + hex + " while lanes " +
            lane_list(w.arrived) + " of its warp wait in a different collective");
    }
    w.arrived |= 1u << lane;
    return w.arrived == w.mask;
}

void wait_for_warp()
{
    Thread* t = g_current;
    Warp& w = g_warps[t->linear >> 5];
    t->state = State::WaitWarp;
    t->wait_generation = w.generation;
    switch_to_scheduler(false);
}

void finish(Warp& w)
{
    w.arrived = 0;
    w.generation++;
}

void compute_shuffle(Warp& w)
{
    for (int lane = 0; lane < 32; lane++) {
        if (!(w.mask >> lane & 1u)) {
            continue;
        }
        const int width = w.width[lane], arg = w.arg[lane];
        if (width <= 0 || width > 32 || (width & (width - 1)) != 0) {
            fault(LaunchFailed, "shuffle width " + std::to_string(width) + " is not a power of two up to 32");
        }
        const int segment = lane & ~(width - 1);
        int source = lane;
        switch (w.shuffle_kind) {
        case JPEGLM_SHFL_XOR: source = (lane ^ arg) < segment + width && (lane ^ arg) >= segment ? lane ^ arg : lane; break;
        case JPEGLM_SHFL_DOWN: source = (lane - segment) + arg < width ? lane + arg : lane; break;
        default: source = segment + (arg & (width - 1)); break;
        }
        if (source < 0 || source > 31 || !(w.mask >> source & 1u)) {
            fault(LaunchFailed, "lane " + std::to_string(lane) + " shuffles from lane " + std::to_string(source) + ", which is not in the mask");
        }
        w.out[lane] = w.in[source];
    }
}

float bf16_bits_to_float(uint32_t bits)
{
    uint32_t x = (bits & 0xffffu) << 16;
    float f;
    std::memcpy(&f, &x, 4);
    return f;
}

// D = A·B + C for one warp, with the fragments placed as the PTX ISA specifies for
// mma.m16n8k16 with .bf16 multiplicands and .f32 accumulators (groupID = lane >> 2, threadID_in_group = lane % 4):
//   A element a_i (i = 0..7, two per .b32 register, low half first): row groupID for i in {0,1,4,5}, else groupID + 8;
//     column 2·threadID_in_group + (i & 1), plus 8 for i >= 4.
//   B element b_i (i = 0..3): row 2·threadID_in_group + (i & 1), plus 8 for i >= 2; column groupID.
//   C/D element c_i (i = 0..3): row groupID for i < 2, else groupID + 8; column 2·threadID_in_group + (i & 1).
void compute_mma(Warp& w)
{
    float a[16][16], b[16][8], c[16][8];
    for (int lane = 0; lane < 32; lane++) {
        const int group = lane >> 2, tig = lane & 3;
        for (int i = 0; i < 8; i++) {
            const uint32_t bits = w.a[lane][i / 2] >> (16 * (i & 1));
            const int row = (i < 2 || (i >= 4 && i < 6)) ? group : group + 8;
            const int col = tig * 2 + (i & 1) + (i >= 4 ? 8 : 0);
            a[row][col] = bf16_bits_to_float(bits);
        }
        for (int i = 0; i < 4; i++) {
            const uint32_t bits = w.b[lane][i / 2] >> (16 * (i & 1));
            b[tig * 2 + (i & 1) + (i >= 2 ? 8 : 0)][group] = bf16_bits_to_float(bits);
        }
        for (int i = 0; i < 4; i++) {
            c[i < 2 ? group : group + 8][tig * 2 + (i & 1)] = w.c[lane][i];
        }
    }
    for (int lane = 0; lane < 32; lane++) {
        const int group = lane >> 2, tig = lane & 3;
        for (int i = 0; i < 4; i++) {
            const int row = i < 2 ? group : group + 8, col = tig * 2 + (i & 1);
            // bf16 x bf16 products are exact in fp32; the sum is accumulated in fp32 in k order.
            float sum = c[row][col];
            for (int k = 0; k < 16; k++) {
                sum += a[row][k] * b[k][col];
            }
            w.d[lane][i] = sum;
        }
    }
}

}  // namespace

Result execute(const Launch& launch, std::string& message)
{
    g_launch = &launch;
    g_faulted = false;
    const unsigned n = launch.block.count();
    g_threads.assign(n, Thread{});
    for (unsigned i = 0; i < n; i++) {
        Thread& t = g_threads[i];
        t.linear = static_cast<int>(i);
        t.index = uint3{i % launch.block.x, i / launch.block.x % launch.block.y, i / (launch.block.x * launch.block.y)};
    }
    g_warps.assign((n + 31) / 32, Warp{});
    for (unsigned z = 0; z < launch.grid.z && !g_faulted; z++) {
        for (unsigned y = 0; y < launch.grid.y && !g_faulted; y++) {
            for (unsigned x = 0; x < launch.grid.x && !g_faulted; x++) {
                g_block = Block{uint3{x, y, z}, n, 0, 0, nullptr, 0};
                for (Thread& t : g_threads) {
                    t.state = State::NotStarted;
                }
                for (Warp& w : g_warps) {
                    w.arrived = 0;
                }
                shared_begin_block();
                run_block();
            }
        }
    }
    for (Thread& t : g_threads) {
        release_stack(t, true);
    }
    g_launch = nullptr;
    if (g_faulted) {
        message = g_fault_message;
        return g_fault_code;
    }
    return Success;
}

[[noreturn]] void fault(Result code, const std::string& message)
{
    if (g_current == nullptr) {
        std::fprintf(stderr, "jpeglm-cudaemu: fault outside a kernel: %s\n", message.c_str());
        std::abort();
    }
    g_faulted = true;
    g_fault_code = code;
    g_fault_message = where() + ": " + message;
    g_current->state = State::Done;   // abandoned: its stack is unpoisoned and reused after the launch
    switch_to_scheduler(true);
    std::abort();
}

std::string where()
{
    if (g_current == nullptr || g_launch == nullptr) {
        return "the runtime";
    }
    const Thread& t = *g_current;
    const Launch& l = *g_launch;
    char text[320];
    std::snprintf(text, sizeof text, "kernel %s, thread (%u,%u,%u) of block (%u,%u,%u) [grid %ux%ux%u, block %ux%ux%u]",
        l.function->kernel->name, t.index.x, t.index.y, t.index.z, g_block.index.x, g_block.index.y, g_block.index.z,
        l.grid.x, l.grid.y, l.grid.z, l.block.x, l.block.y, l.block.z);
    return text;
}

int current_linear_thread() { return g_current != nullptr ? g_current->linear : -1; }

bool in_kernel() { return g_current != nullptr; }

}  // namespace emu

using namespace emu;

extern "C" {

uint3 jpeglm_emu_thread_idx(void) { return g_current->index; }
uint3 jpeglm_emu_block_idx(void) { return g_block.index; }
uint3 jpeglm_emu_block_dim(void) { return uint3{g_launch->block.x, g_launch->block.y, g_launch->block.z}; }
uint3 jpeglm_emu_grid_dim(void) { return uint3{g_launch->grid.x, g_launch->grid.y, g_launch->grid.z}; }

void jpeglm_emu_syncthreads(void)
{
    void* site = __builtin_return_address(0);
    Thread* t = g_current;
    if (g_block.arrived == 0) {
        g_block.site = site;
        g_block.site_thread = t->linear;
    } else if (site != g_block.site) {
        char text[160];
        std::snprintf(text, sizeof text, "waits at a __syncthreads (code %p) other than the one thread %d waits at (code %p): divergent barrier",
            site, g_block.site_thread, g_block.site);
        fault(LaunchFailed, text);
    }
    if (++g_block.arrived == g_block.alive) {
        complete_barrier();
        return;
    }
    t->state = State::WaitBarrier;
    t->wait_generation = g_block.generation;
    switch_to_scheduler(false);
}

uint64_t jpeglm_emu_shfl(int kind, unsigned mask, uint64_t value, int lane_arg, int width)
{
    Thread* t = g_current;
    const int lane = t->linear & 31;
    Warp& w = g_warps[t->linear >> 5];
    if (w.arrived != 0 && w.kind == Shuffle && w.shuffle_kind != kind) {
        fault(LaunchFailed, "lanes of one warp are in different kinds of shuffle");
    }
    const bool last = arrive(Shuffle, mask);
    w.shuffle_kind = kind;
    w.in[lane] = value;
    w.arg[lane] = lane_arg;
    w.width[lane] = width;
    if (last) {
        compute_shuffle(w);
        finish(w);
    } else {
        wait_for_warp();
    }
    return w.out[lane];
}

void jpeglm_emu_mma_m16n8k16_bf16(float* c, const uint32_t* a, uint32_t b0, uint32_t b1)
{
    Thread* t = g_current;
    const int lane = t->linear & 31;
    Warp& w = g_warps[t->linear >> 5];
    const bool last = arrive(Mma, 0xffffffffu);   // .aligned: the whole warp executes the same mma
    for (int i = 0; i < 4; i++) {
        w.a[lane][i] = a[i];
        w.c[lane][i] = c[i];
    }
    w.b[lane][0] = b0;
    w.b[lane][1] = b1;
    if (last) {
        compute_mma(w);
        finish(w);
    } else {
        wait_for_warp();
    }
    for (int i = 0; i < 4; i++) {
        c[i] = w.d[lane][i];
    }
}

}  // extern "C"
