// Helpers for the datasets tests: a scratch directory and IDX files built byte by byte (not with
// the library's write_idx, so reader and writer cannot share a mistake).
#pragma once

#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <vector>

namespace test_data {

using Bytes = std::vector<std::uint8_t>;

// A fresh path `name` in the directory from $XGRAD_TEST_TMP (created if needed); any old file or
// directory of that name is removed. Every test uses its own names.
inline std::string tmp_path(const std::string& name) {
    namespace fs = std::filesystem;
    const char* env = std::getenv("XGRAD_TEST_TMP");
    const fs::path dir = (env != nullptr && *env != '\0')
                             ? fs::path(env) / "datasets"
                             : fs::temp_directory_path() / "xgrad-test" / "datasets";
    fs::create_directories(dir);
    const fs::path p = dir / name;
    fs::remove_all(p);
    return p.string();
}

// A fresh, empty directory for a test.
inline std::string tmp_dir(const std::string& name) {
    const std::string p = tmp_path(name);
    std::filesystem::create_directories(p);
    return p;
}

// An IDX header (magic, type, rank, big-endian dims) followed by `payload`.
inline Bytes idx_bytes(std::uint8_t type, const std::vector<std::uint32_t>& dims,
                       const Bytes& payload) {
    Bytes b = {0, 0, type, static_cast<std::uint8_t>(dims.size())};
    for (auto d : dims)
        for (int shift = 24; shift >= 0; shift -= 8)
            b.push_back(static_cast<std::uint8_t>(d >> shift));
    b.insert(b.end(), payload.begin(), payload.end());
    return b;
}

inline void write_raw(const std::string& path, const Bytes& bytes) {
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
    if (!f) throw std::runtime_error("test: cannot write " + path);
}

inline void write_gz(const std::string& path, const Bytes& bytes) {
    gzFile f = gzopen(path.c_str(), "wb");
    if (f == nullptr) throw std::runtime_error("test: cannot create " + path);
    const int n = bytes.empty() ? 0 : gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    if (gzclose(f) != Z_OK || n != static_cast<int>(bytes.size()))
        throw std::runtime_error("test: cannot write " + path);
}

inline Bytes read_all(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// The pixel (r, c) of tiny test image i; every value 0..255 occurs in the first images.
inline std::uint8_t pixel(std::size_t i, std::size_t r, std::size_t c) {
    return static_cast<std::uint8_t>((i * 7 + r * 28 + c) % 256);
}

inline Bytes image_payload(std::size_t n, std::size_t rows = 28, std::size_t cols = 28) {
    Bytes b;
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t c = 0; c < cols; ++c) b.push_back(pixel(i, r, c));
    return b;
}

// Labels i % 10.
inline Bytes label_payload(std::size_t n) {
    Bytes b;
    for (std::size_t i = 0; i < n; ++i) b.push_back(static_cast<std::uint8_t>(i % 10));
    return b;
}

// Writes `prefix`-images-idx3-ubyte and -labels-idx1-ubyte (with .gz when gzip) for n images.
inline void write_split(const std::string& dir, const std::string& prefix, std::size_t n,
                        bool gzip) {
    const auto write = gzip ? write_gz : write_raw;
    const std::string ext = gzip ? ".gz" : "";
    const auto count = static_cast<std::uint32_t>(n);
    write(dir + "/" + prefix + "-images-idx3-ubyte" + ext,
          idx_bytes(0x08, {count, 28, 28}, image_payload(n)));
    write(dir + "/" + prefix + "-labels-idx1-ubyte" + ext,
          idx_bytes(0x08, {count}, label_payload(n)));
}

// A complete MNIST-format directory: 20 training and 10 test examples.
inline std::string write_mnist_dir(const std::string& name, bool gzip) {
    const std::string dir = tmp_dir(name);
    write_split(dir, "train", 20, gzip);
    write_split(dir, "t10k", 10, gzip);
    return dir;
}

// The message of the E that `f` throws, or "<no exception>" (another exception propagates).
template <class E, class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const E& e) {
        return e.what();
    }
    return "<no exception>";
}

}  // namespace test_data

// Checks that `expr` throws E whose message contains every one of the strings given.
#define CHECK_ERROR_CONTAINS(E, expr, ...)                                               \
    do {                                                                                 \
        const std::string msg_ = test_data::error_of<E>([&] { (void)(expr); });          \
        for (const std::string& frag_ : std::initializer_list<std::string>{__VA_ARGS__}) \
            CHECK_MESSAGE(msg_.find(frag_) != std::string::npos,                         \
                          "\"" << frag_ << "\" is not in the message: " << msg_);        \
    } while (false)
