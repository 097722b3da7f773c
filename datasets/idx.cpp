#include "datasets/idx.h"

#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <stdexcept>

namespace xgrad::data {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
    throw std::runtime_error("IDX file '" + path + "': " + what);
}

std::string hex_byte(std::uint8_t b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02X", static_cast<unsigned>(b));
    return buf;
}

std::string join_dims(const std::vector<std::size_t>& dims) {
    std::string out;
    for (std::size_t i = 0; i < dims.size(); ++i) out += (i ? " x " : "") + std::to_string(dims[i]);
    return dims.empty() ? "1 (rank 0)" : out;
}

struct GzCloser {
    void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzHandle = std::unique_ptr<gzFile_s, GzCloser>;

// Turns the stream's error state after a short or failed read into an exception; returns if the
// stream simply ended cleanly.
// `context` says where the stream ended ("in the IDX header", ...).
void check_stream(gzFile f, const std::string& path, const std::string& context) {
    int err = Z_OK;
    const char* msg = gzerror(f, &err);
    if (err == Z_OK || err == Z_STREAM_END) return;
    if (err == Z_BUF_ERROR) fail(path, "truncated gzip stream: it ends " + context);
    if (err == Z_ERRNO) fail(path, std::string("read error: ") + std::strerror(errno));
    // zlib prefixes its message with the path, which ours already names.
    std::string detail = msg ? msg : "zlib error";
    if (detail.rfind(path + ": ", 0) == 0) detail.erase(0, path.size() + 2);
    fail(path, "corrupt gzip stream (" + detail + ")");
}

// Reads up to n bytes into dst (in chunks gzread's int result can report) and returns how many
// arrived; fewer than n means the stream ended. zlib errors become exceptions.
std::size_t read_up_to(gzFile f, std::uint8_t* dst, std::size_t n, const std::string& path,
                       const std::string& context) {
    std::size_t done = 0;
    while (done < n) {
        const auto chunk = static_cast<unsigned>(std::min<std::size_t>(n - done, 1u << 30));
        const int got = gzread(f, dst + done, chunk);
        if (got < 0) check_stream(f, path, context);
        if (got <= 0) break;
        done += static_cast<std::size_t>(got);
    }
    if (done < n) check_stream(f, path, context);
    return done;
}

void swap_to_host(IdxArray& a) {
    const std::size_t size = idx_type_size(a.type);
    if constexpr (std::endian::native == std::endian::little) {
        if (size <= 1) return;
        for (std::size_t i = 0; i + size <= a.data.size(); i += size)
            std::reverse(a.data.begin() + static_cast<std::ptrdiff_t>(i),
                         a.data.begin() + static_cast<std::ptrdiff_t>(i + size));
    }
}

}  // namespace

std::string idx_type_name(std::uint8_t type) {
    const char* name = "unknown";
    switch (type) {
        case idx_type::u8:
            name = "unsigned byte";
            break;
        case idx_type::i8:
            name = "signed byte";
            break;
        case idx_type::i16:
            name = "int16";
            break;
        case idx_type::i32:
            name = "int32";
            break;
        case idx_type::f32:
            name = "float32";
            break;
        case idx_type::f64:
            name = "float64";
            break;
        default:
            break;
    }
    return std::string(name) + " (" + hex_byte(type) + ")";
}

std::size_t idx_type_size(std::uint8_t type) {
    switch (type) {
        case idx_type::u8:
        case idx_type::i8:
            return 1;
        case idx_type::i16:
            return 2;
        case idx_type::i32:
        case idx_type::f32:
            return 4;
        case idx_type::f64:
            return 8;
        default:
            return 0;
    }
}

std::size_t IdxArray::num_elements() const {
    std::size_t n = 1;
    for (auto d : dims) n *= d;
    return n;
}

IdxArray read_idx(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (status.type() == fs::file_type::not_found) fail(path, "no such file");
    if (fs::is_directory(status)) fail(path, "is a directory, not a file");
    const std::uintmax_t file_size = fs::file_size(path, ec);
    if (ec) fail(path, "cannot determine its size: " + ec.message());

    errno = 0;
    GzHandle file(gzopen(path.c_str(), "rb"));
    if (!file) fail(path, std::string("cannot open: ") + std::strerror(errno ? errno : EIO));
    gzFile f = file.get();
    gzbuffer(f, 1u << 17);  // fewer, bigger reads of the compressed input than the 8 KB default

    std::uint8_t magic[4] = {};
    const std::size_t got_magic = read_up_to(f, magic, 4, path, "in the IDX header");
    if (got_magic == 0) fail(path, "is empty (no IDX header)");
    if (got_magic < 4)
        fail(path, "truncated IDX header (" + std::to_string(got_magic) + " of 4 magic bytes)");
    if (magic[0] != 0 || magic[1] != 0)
        fail(path, "wrong magic number " + hex_byte(magic[0]) + " " + hex_byte(magic[1]) + " " +
                       hex_byte(magic[2]) + " " + hex_byte(magic[3]) +
                       " (an IDX file starts with 0x00 0x00, the type code and the rank)");
    IdxArray out;
    out.type = magic[2];
    const std::size_t elem_size = idx_type_size(out.type);
    if (elem_size == 0) fail(path, "unknown IDX data type " + hex_byte(out.type));
    const std::size_t rank = magic[3];

    std::vector<std::uint8_t> dim_bytes(4 * rank);
    const std::size_t got_dims =
        read_up_to(f, dim_bytes.data(), dim_bytes.size(), path, "in the IDX header");
    if (got_dims < dim_bytes.size())
        fail(path, "truncated IDX header (" + std::to_string(got_dims) + " of " +
                       std::to_string(dim_bytes.size()) + " bytes of dimension sizes for rank " +
                       std::to_string(rank) + ")");
    constexpr auto max_size = std::numeric_limits<std::size_t>::max();
    std::size_t bytes = elem_size;
    bool overflow = false;
    for (std::size_t d = 0; d < rank; ++d) {
        const std::uint8_t* p = &dim_bytes[4 * d];
        const std::size_t dim = (std::size_t{p[0]} << 24) | (std::size_t{p[1]} << 16) |
                                (std::size_t{p[2]} << 8) | std::size_t{p[3]};
        out.dims.push_back(dim);
        if (dim != 0 && bytes > max_size / dim) overflow = true;
        if (!overflow) bytes *= dim;
    }
    if (overflow)
        fail(path, "header dimensions " + join_dims(out.dims) + " of " + idx_type_name(out.type) +
                       " overflow the addressable size");
    const std::string declared = join_dims(out.dims) + " " + idx_type_name(out.type) + " = " +
                                 std::to_string(bytes) + " bytes of data";
    const std::size_t header_size = 4 + 4 * rank;

    if (gzdirect(f)) {
        // A raw file: its length must match the header exactly, checked before allocating.
        const std::uintmax_t have = file_size - header_size;
        if (have < bytes)
            fail(path, "truncated file: its header declares " + declared + " but it holds only " +
                           std::to_string(have));
        if (have > bytes)
            fail(path, "file longer than its header declares (" + declared +
                           "): " + std::to_string(have - bytes) + " extra bytes");
        out.data.resize(bytes);
        if (read_up_to(f, out.data.data(), bytes, path, "in the data") < bytes)
            fail(path, "file shrank while being read");
    } else {
        // Compressed: the header cannot be trusted to size the buffer (a corrupt one may claim
        // gigabytes), so grow it with the data that actually arrives. A good guess for the first
        // allocation makes the real files a single read.
        const std::uintmax_t guess = std::max<std::uintmax_t>(1u << 20, 4 * file_size);
        out.data.resize(static_cast<std::size_t>(std::min<std::uintmax_t>(guess, bytes)));
        std::size_t filled = 0;
        for (;;) {
            const std::string context = "in the data (its header declares " + declared + ")";
            const std::size_t want = out.data.size() - filled;
            const std::size_t got = read_up_to(f, out.data.data() + filled, want, path, context);
            filled += got;
            if (got < want)
                fail(path, "truncated data: its header declares " + declared +
                               " but the gzip stream holds only " + std::to_string(filled));
            if (filled == bytes) break;
            out.data.resize(std::min(bytes, 2 * out.data.size()));
        }
        // Reading on checks the trailer's CRC and catches data beyond what the header declares.
        std::uint8_t extra[1];
        if (read_up_to(f, extra, 1, path, "before its trailer (checksum and size)") != 0)
            fail(path, "more data than its header declares (" + declared +
                           "): the header and the data disagree");
    }
    swap_to_host(out);
    return out;
}

void write_idx(const std::string& path, const IdxArray& array, bool gzip) {
    const std::size_t elem_size = idx_type_size(array.type);
    if (elem_size == 0)
        throw std::invalid_argument("write_idx: unknown IDX data type " + hex_byte(array.type));
    if (array.dims.size() > 255)
        throw std::invalid_argument("write_idx: rank " + std::to_string(array.dims.size()) +
                                    " exceeds 255");
    std::vector<std::uint8_t> bytes = {0, 0, array.type,
                                       static_cast<std::uint8_t>(array.dims.size())};
    for (auto d : array.dims) {
        if (d > 0xFFFFFFFFu)
            throw std::invalid_argument("write_idx: dimension " + std::to_string(d) +
                                        " does not fit IDX's 32 bits");
        for (int shift = 24; shift >= 0; shift -= 8)
            bytes.push_back(static_cast<std::uint8_t>(d >> shift));
    }
    if (array.data.size() != array.num_elements() * elem_size)
        throw std::invalid_argument("write_idx: " + std::to_string(array.data.size()) +
                                    " data bytes for dims " + join_dims(array.dims) + " of " +
                                    idx_type_name(array.type));
    const std::size_t header = bytes.size();
    bytes.insert(bytes.end(), array.data.begin(), array.data.end());
    if constexpr (std::endian::native == std::endian::little) {
        for (std::size_t i = header; elem_size > 1 && i < bytes.size(); i += elem_size)
            std::reverse(bytes.begin() + static_cast<std::ptrdiff_t>(i),
                         bytes.begin() + static_cast<std::ptrdiff_t>(i + elem_size));
    }

    if (gzip) {
        GzHandle file(gzopen(path.c_str(), "wb"));
        if (!file) throw std::runtime_error("write_idx: cannot create '" + path + "'");
        std::size_t done = 0;
        while (done < bytes.size()) {
            const auto chunk =
                static_cast<unsigned>(std::min<std::size_t>(bytes.size() - done, 1u << 30));
            if (gzwrite(file.get(), bytes.data() + done, chunk) != static_cast<int>(chunk))
                throw std::runtime_error("write_idx: cannot write '" + path + "'");
            done += chunk;
        }
        if (gzclose(file.release()) != Z_OK)
            throw std::runtime_error("write_idx: cannot write '" + path + "'");
    } else {
        std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "wb"),
                                                             &std::fclose);
        if (!file) throw std::runtime_error("write_idx: cannot create '" + path + "'");
        if (std::fwrite(bytes.data(), 1, bytes.size(), file.get()) != bytes.size() ||
            std::fclose(file.release()) != 0)
            throw std::runtime_error("write_idx: cannot write '" + path + "'");
    }
}

}  // namespace xgrad::data
