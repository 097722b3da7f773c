// IDX files (the format of MNIST and Fashion-MNIST), raw or gzip-compressed.
//
// Layout: two zero bytes, a type code, the rank, then one big-endian uint32 per dimension, then
// the elements in row-major order (big-endian for multi-byte types).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace xgrad::data {

// IDX element type codes.
namespace idx_type {
inline constexpr std::uint8_t u8 = 0x08;
inline constexpr std::uint8_t i8 = 0x09;
inline constexpr std::uint8_t i16 = 0x0B;
inline constexpr std::uint8_t i32 = 0x0C;
inline constexpr std::uint8_t f32 = 0x0D;
inline constexpr std::uint8_t f64 = 0x0E;
}  // namespace idx_type

// "unsigned byte (0x08)", for error messages; "unknown (0x07)" for other codes.
std::string idx_type_name(std::uint8_t type);

// Bytes per element of a known type code, 0 for an unknown one.
std::size_t idx_type_size(std::uint8_t type);

struct IdxArray {
    std::uint8_t type = idx_type::u8;
    std::vector<std::size_t> dims;
    // The elements, row-major. Multi-byte elements are in the host byte order (read_idx converts
    // them), so e.g. a float32 array can be memcpy'd into floats.
    std::vector<std::uint8_t> data;

    // Product of dims (1 for rank 0).
    std::size_t num_elements() const;
};

// Reads an IDX file, gzip-compressed (recognised by its 0x1f 0x8b magic) or raw. Throws
// std::runtime_error naming the file and the problem for a missing file, a bad magic number, an
// unknown type, a truncated file or one longer than its header declares, a corrupt gzip stream,
// or dimensions whose product overflows. Never reads past the data the file actually holds.
IdxArray read_idx(const std::string& path);

// Writes `array` (elements in host byte order) as an IDX file, gzip-compressed if `gzip`.
// Throws std::invalid_argument if data does not match type and dims.
void write_idx(const std::string& path, const IdxArray& array, bool gzip = false);

}  // namespace xgrad::data
