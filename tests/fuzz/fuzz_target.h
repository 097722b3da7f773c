// Shared by the libFuzzer targets (tests/fuzz/fuzz_*.cpp) and their replay tests.
//
// Each target defines xgrad_fuzz_one(): it feeds one input to a file reader and returns true if
// the reader accepted it, false if it rejected it with the documented exception. Anything else
// (a crash, a sanitizer report, another exception type, a broken invariant) is a finding:
// invariant checks call std::abort(), which libFuzzer reports with the input.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

bool xgrad_fuzz_one(const std::uint8_t* data, std::size_t size);

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    xgrad_fuzz_one(data, size);
    return 0;
}

namespace xgrad::fuzz {

// The readers take a path, so each input goes through a scratch file, one per process (in
// /dev/shm when there is one: no disk traffic at thousands of executions a second).
inline const std::string& scratch_path(const char* tag) {
    static const std::string path = [tag] {
        const char* dir = std::getenv("XGRAD_FUZZ_TMP");
        std::string d = dir ? dir : (::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
        return d + "/xgrad-fuzz-" + tag + "-" + std::to_string(::getpid());
    }();
    return path;
}

inline void write_scratch(const std::string& path, const void* data, std::size_t size) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f || (size && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
        std::perror(("fuzz: cannot write the scratch file " + path).c_str());
        std::abort();
    }
}

// A broken invariant: say which, then abort so the fuzzer keeps the input.
[[noreturn]] inline void violated(const std::string& what) {
    std::fprintf(stderr, "fuzz: invariant violated: %s\n", what.c_str());
    std::abort();
}

// Errors must name the file they are about ("... '<path>': ...").
inline void check_message(const std::string& message, const std::string& path) {
    if (message.find("'" + path + "'") == std::string::npos)
        violated("error message does not name the file: " + message);
}

}  // namespace xgrad::fuzz
