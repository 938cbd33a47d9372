// Included by the generated registration unit of each kernel module (gen-module.sh): turns every
// extern "C" kernel into a jpeglm_emu_kernel entry whose parameter sizes come from its C++ signature and
// whose invoker unpacks a kernelParams-style array (one pointer per argument) into a call.
#pragma once

#include "kernel_abi.h"

#include <cstddef>
#include <utility>

namespace jpeglm_emu_registration {

template <typename F>
struct Signature;

template <typename... A>
struct Signature<void (*)(A...)> {
    static constexpr int count = sizeof...(A);
    static constexpr unsigned sizes[sizeof...(A) + 1] = {static_cast<unsigned>(sizeof(A))..., 0u};

    // The argument copies live in the runtime's launch record, not in device memory: reading them is not a
    // kernel access, so this function is left out of the access instrumentation.
    template <void (*Kernel)(A...), std::size_t... I>
    __attribute__((no_sanitize("address", "kernel-address"))) static void call(void* const* args, std::index_sequence<I...>)
    {
        Kernel(*static_cast<A*>(args[I])...);
    }

    template <void (*Kernel)(A...)>
    static void invoke(void* const* args)
    {
        call<Kernel>(args, std::index_sequence_for<A...>{});
    }
};

}  // namespace jpeglm_emu_registration

#define JPEGLM_EMU_KERNEL(name, bound)                                                          \
    {#name, static_cast<unsigned>(bound), jpeglm_emu_registration::Signature<decltype(&name)>::count, \
        jpeglm_emu_registration::Signature<decltype(&name)>::sizes,                             \
        &jpeglm_emu_registration::Signature<decltype(&name)>::template invoke<&name>},
