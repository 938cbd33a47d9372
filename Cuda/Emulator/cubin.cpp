// CUBIN reading, the registry of compiled kernel modules, and CUresult names.
//
// A CUBIN is an ELF64 image (e_machine EM_CUDA = 190; the low byte of e_flags is the sm number). What the
// loader needs sits in sections: the symbol table (entry points are global functions), ".nv.info" (per-
// function records keyed by symbol index: register count, frame size), ".nv.info.<kernel>" (parameter
// sizes, launch bounds) and ".nv.shared.<kernel>" (static shared memory). Records are {format, attribute,
// value}: format 0x04 carries a 16-bit length and that many bytes, 0x03 a 16-bit value, 0x02 one byte,
// 0x01 nothing.
#include "cubin.h"

#include <elf.h>

#include <algorithm>
#include <cstring>
#include <set>

namespace emu {
namespace {

constexpr int EmCuda = 190;
constexpr uint8_t AttrMaxThreads = 0x05;
constexpr uint8_t AttrFrameSize = 0x11;
constexpr uint8_t AttrParamInfo = 0x17;
constexpr uint8_t AttrRegisterCount = 0x2f;

struct Registered {
    std::vector<const jpeglm_emu_kernel*> kernels;
};

std::map<std::string, Registered>& registry()
{
    static std::map<std::string, Registered> modules;   // filled by static constructors of the kernel objects
    return modules;
}

struct Record {
    uint8_t attribute;
    const uint8_t* data;
    size_t size;
};

std::vector<Record> records(const uint8_t* p, size_t size)
{
    std::vector<Record> out;
    size_t i = 0;
    while (i + 2 <= size) {
        const uint8_t format = p[i], attribute = p[i + 1];
        if (format == 0x04 && i + 4 <= size) {
            uint16_t length;
            std::memcpy(&length, p + i + 2, 2);
            if (i + 4 + length > size) {
                break;
            }
            out.push_back(Record{attribute, p + i + 4, length});
            i += 4 + length;
        } else if (format == 0x03 || format == 0x02) {
            out.push_back(Record{attribute, p + i + 2, format == 0x03 ? 2u : 1u});
            i += 4;
        } else {
            out.push_back(Record{attribute, nullptr, 0});
            i += 2;
        }
    }
    return out;
}

uint32_t u32(const uint8_t* p)
{
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

}  // namespace

bool parse_cubin(const void* image, CubinImage& cubin, std::string& error)
{
    const auto* base = static_cast<const uint8_t*>(image);
    const auto* header = static_cast<const Elf64_Ehdr*>(image);
    if (image == nullptr || std::memcmp(header->e_ident, ELFMAG, SELFMAG) != 0 || header->e_ident[EI_CLASS] != ELFCLASS64) {
        error = "the image is not a 64-bit ELF file (a CUBIN)";
        return false;
    }
    if (header->e_machine != EmCuda) {
        error = "the ELF image is for machine " + std::to_string(header->e_machine) + ", not CUDA (190)";
        return false;
    }
    cubin.arch = static_cast<int>(header->e_flags & 0xff);
    const auto* sections = reinterpret_cast<const Elf64_Shdr*>(base + header->e_shoff);
    const char* section_names = reinterpret_cast<const char*>(base + sections[header->e_shstrndx].sh_offset);
    const Elf64_Sym* symbols = nullptr;
    size_t symbol_count = 0;
    const char* symbol_names = nullptr;
    for (int s = 0; s < header->e_shnum; s++) {
        if (sections[s].sh_type == SHT_SYMTAB) {
            symbols = reinterpret_cast<const Elf64_Sym*>(base + sections[s].sh_offset);
            symbol_count = sections[s].sh_size / sizeof(Elf64_Sym);
            symbol_names = reinterpret_cast<const char*>(base + sections[sections[s].sh_link].sh_offset);
        }
    }
    if (symbols == nullptr) {
        error = "the CUBIN has no symbol table";
        return false;
    }
    std::map<uint32_t, size_t> by_symbol;   // symbol index -> kernel
    for (size_t i = 0; i < symbol_count; i++) {
        if (ELF64_ST_TYPE(symbols[i].st_info) == STT_FUNC && ELF64_ST_BIND(symbols[i].st_info) == STB_GLOBAL) {
            by_symbol[static_cast<uint32_t>(i)] = cubin.kernels.size();
            cubin.kernels.push_back(CubinKernel{symbol_names + symbols[i].st_name, {}, 0, 0, 0, 0});
        }
    }
    for (int s = 0; s < header->e_shnum; s++) {
        const std::string name = section_names + sections[s].sh_name;
        const uint8_t* data = base + sections[s].sh_offset;
        const size_t size = sections[s].sh_size;
        if (name == ".nv.info") {
            for (const Record& r : records(data, size)) {
                if (r.size != 8 || (r.attribute != AttrRegisterCount && r.attribute != AttrFrameSize)) {
                    continue;
                }
                auto it = by_symbol.find(u32(r.data));
                if (it != by_symbol.end()) {
                    (r.attribute == AttrRegisterCount ? cubin.kernels[it->second].registers : cubin.kernels[it->second].frame_bytes) =
                        static_cast<int>(u32(r.data + 4));
                }
            }
            continue;
        }
        for (CubinKernel& k : cubin.kernels) {
            if (name == ".nv.shared." + k.name) {
                k.static_shared = static_cast<unsigned>(size);
            } else if (name == ".nv.info." + k.name) {
                for (const Record& r : records(data, size)) {
                    if (r.attribute == AttrParamInfo && r.size >= 12) {
                        // {index u32, ordinal u16, offset u16, flags u32 with the size in bits 18..31}
                        uint16_t ordinal;
                        std::memcpy(&ordinal, r.data + 4, 2);
                        if (k.param_sizes.size() <= ordinal) {
                            k.param_sizes.resize(ordinal + 1u);
                        }
                        k.param_sizes[ordinal] = (u32(r.data + 8) >> 18) & 0x3fff;
                    } else if (r.attribute == AttrMaxThreads && r.size >= 12) {
                        k.max_threads = u32(r.data) * u32(r.data + 4) * u32(r.data + 8);
                    }
                }
            }
        }
    }
    if (cubin.kernels.empty()) {
        error = "the CUBIN defines no kernel";
        return false;
    }
    return true;
}

bool bind_cubin(const CubinImage& cubin, std::string& module, std::map<std::string, Function>& functions, std::string& error)
{
    std::set<std::string> wanted;
    for (const CubinKernel& k : cubin.kernels) {
        wanted.insert(k.name);
    }
    for (const auto& [name, registered] : registry()) {
        std::set<std::string> have;
        for (const jpeglm_emu_kernel* k : registered.kernels) {
            have.insert(k->name);
        }
        if (have != wanted) {
            continue;
        }
        module = name;
        for (const CubinKernel& ck : cubin.kernels) {
            const jpeglm_emu_kernel* k = *std::find_if(registered.kernels.begin(), registered.kernels.end(),
                [&](const jpeglm_emu_kernel* x) { return ck.name == x->name; });
            std::vector<unsigned> compiled(k->param_sizes, k->param_sizes + k->param_count);
            if (compiled != ck.param_sizes) {
                auto list = [](const std::vector<unsigned>& v) {
                    std::string s;
                    for (unsigned x : v) {
                        s += (s.empty() ? "" : ",") + std::to_string(x);
                    }
                    return s;
                };
                error = "kernel " + ck.name + ": the CUBIN's parameter sizes (" + list(ck.param_sizes) + ") differ from the emulator's build (" +
                    list(compiled) + "); rebuild the emulator from the same sources";
                return false;
            }
            if (ck.max_threads != k->launch_bound) {
                error = "kernel " + ck.name + ": launch bounds " + std::to_string(ck.max_threads) + " in the CUBIN but " + std::to_string(k->launch_bound) +
                    " in the emulator's build";
                return false;
            }
            functions[ck.name] = Function{k, name, ck.registers, ck.static_shared, ck.max_threads, ck.frame_bytes, 0};
        }
        return true;
    }
    std::string names;
    for (const std::string& n : wanted) {
        names += (names.empty() ? "" : ", ") + n;
    }
    error = "no module compiled into the emulator has exactly the kernels {" + names + "} (rebuild it from the same sources)";
    return false;
}

int max_threads_for(const Function& f, int registers_per_block, int max_threads_per_block)
{
    int limit = max_threads_per_block;
    if (f.max_threads > 0) {
        limit = std::min(limit, static_cast<int>(f.max_threads));
    }
    if (f.registers > 0) {
        // Registers are allocated per warp in units of 256.
        const int per_warp = (f.registers * 32 + 255) / 256 * 256;
        limit = std::min(limit, registers_per_block / per_warp * 32);
    }
    return limit;
}

const char* error_name(int error)
{
    switch (error) {
    case Success: return "CUDA_SUCCESS";
    case InvalidValue: return "CUDA_ERROR_INVALID_VALUE";
    case OutOfMemory: return "CUDA_ERROR_OUT_OF_MEMORY";
    case NotInitialized: return "CUDA_ERROR_NOT_INITIALIZED";
    case NoDevice: return "CUDA_ERROR_NO_DEVICE";
    case InvalidDevice: return "CUDA_ERROR_INVALID_DEVICE";
    case InvalidImage: return "CUDA_ERROR_INVALID_IMAGE";
    case InvalidContext: return "CUDA_ERROR_INVALID_CONTEXT";
    case NoBinaryForGpu: return "CUDA_ERROR_NO_BINARY_FOR_GPU";
    case InvalidHandle: return "CUDA_ERROR_INVALID_HANDLE";
    case NotFound: return "CUDA_ERROR_NOT_FOUND";
    case NotReady: return "CUDA_ERROR_NOT_READY";
    case IllegalAddress: return "CUDA_ERROR_ILLEGAL_ADDRESS";
    case LaunchOutOfResources: return "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES";
    case LaunchFailed: return "CUDA_ERROR_LAUNCH_FAILED";
    case NotSupported: return "CUDA_ERROR_NOT_SUPPORTED";
    default: return nullptr;
    }
}

const char* error_description(int error)
{
    switch (error) {
    case Success: return "no error";
    case InvalidValue: return "invalid argument";
    case OutOfMemory: return "out of memory";
    case NotInitialized: return "initialization error";
    case InvalidImage: return "device kernel image is invalid";
    case InvalidContext: return "invalid device context";
    case NoBinaryForGpu: return "no kernel image is available for execution on the device";
    case IllegalAddress: return "an illegal memory access was encountered";
    case LaunchOutOfResources: return "too many resources requested for launch";
    case LaunchFailed: return "unspecified launch failure";
    default: return error_name(error);
    }
}

}  // namespace emu

extern "C" void jpeglm_emu_register_module(const char* module, const jpeglm_emu_kernel* kernels, int count)
{
    auto& entry = emu::registry()[module];
    for (int i = 0; i < count; i++) {
        entry.kernels.push_back(&kernels[i]);
    }
}
