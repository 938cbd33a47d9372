// What a compiled kernel module hands to the emulator runtime (shared by emu.h and registration.h).
#pragma once

extern "C" {
// One kernel of a module, as the generated registration (gen-module.sh) describes it.
struct jpeglm_emu_kernel {
    const char* name;
    unsigned launch_bound;         // __launch_bounds__ maximum threads, 0 when none
    int param_count;
    const unsigned* param_sizes;   // from the C++ signature
    void (*invoke)(void* const* args);
};

void jpeglm_emu_register_module(const char* module, const jpeglm_emu_kernel* kernels, int count);
}
