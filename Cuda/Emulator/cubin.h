// Reading NVRTC's CUBINs (ELF images for the CUDA machine) and binding them to the compiled kernels.
#pragma once

#include "emu.h"

#include <map>
#include <string>
#include <vector>

namespace emu {

struct CubinKernel {
    std::string name;
    std::vector<unsigned> param_sizes;   // EIATTR_KPARAM_INFO, by ordinal
    int registers = 0;                   // EIATTR_REGCOUNT
    int frame_bytes = 0;                 // EIATTR_FRAME_SIZE
    unsigned static_shared = 0;          // size of .nv.shared.<name>
    unsigned max_threads = 0;            // EIATTR_MAX_THREADS (x·y·z of __launch_bounds__)
};

struct CubinImage {
    int arch = 0;                        // sm_XY as XY
    std::vector<CubinKernel> kernels;
};

bool parse_cubin(const void* image, CubinImage& cubin, std::string& error);

// Finds the compiled module whose kernels are exactly the CUBIN's entry points and checks that every
// parameter list and launch bound agrees; fills one Function per kernel.
bool bind_cubin(const CubinImage& cubin, std::string& module, std::map<std::string, Function>& functions, std::string& error);

// The most threads per block a launch may use: launch bounds, and the registers a block needs.
int max_threads_for(const Function& f, int registers_per_block, int max_threads_per_block);

const char* error_name(int error);
const char* error_description(int error);

}  // namespace emu
