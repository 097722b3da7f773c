// Helpers shared by the nn tests: a scratch directory and raw file access.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <string>

#include "framework/tensor.h"

namespace nn_test {

// A path inside $XGRAD_TEST_TMP (created if missing; the system temp dir when unset).
inline std::string tmp_path(const std::string& name) {
    const char* env = std::getenv("XGRAD_TEST_TMP");
    std::filesystem::path dir =
        env && *env ? std::filesystem::path(env) : std::filesystem::temp_directory_path() / "xgrad";
    std::filesystem::create_directories(dir);
    return (dir / name).string();
}

// A (n, 1) column (Tensor{{1.f}, {2.f}} is ambiguous in xtensor).
inline xgrad::Tensor column(std::initializer_list<float> values) {
    xgrad::Tensor t(values);
    t.reshape({values.size(), 1});
    return t;
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace nn_test
