#include "nn/io/safetensors.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "nn/io/atomic_file.h"

namespace xgrad::nn {

namespace {

using json = nlohmann::json;

// Integers and floats are stored little-endian; on a big-endian host the bytes are swapped.
void to_little_endian(char* bytes, std::size_t size, std::size_t width) {
    if constexpr (std::endian::native == std::endian::big) {
        for (std::size_t i = 0; i + width <= size; i += width)
            std::reverse(bytes + i, bytes + i + width);
    } else {
        (void)bytes, (void)size, (void)width;
    }
}

std::runtime_error load_error(const std::string& path, const std::string& problem) {
    return std::runtime_error("cannot load '" + path + "': " + problem);
}

std::runtime_error save_error(const std::string& path, const std::string& problem) {
    return std::runtime_error("cannot save '" + path + "': " + problem);
}

std::string header_json(const TensorMap& tensors, const Metadata& metadata) {
    json header = json::object();
    if (!metadata.empty()) header["__metadata__"] = metadata;
    std::size_t offset = 0;
    for (const auto& [name, t] : tensors) {
        const std::size_t bytes = t.size() * sizeof(float);
        header[name] = {{"dtype", "F32"},
                        {"shape", to_shape(t.shape())},
                        {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
    }
    std::string text = header.dump();
    // Pad with spaces so the data starts 8-byte aligned, as the safetensors library does.
    text.resize((text.size() + 7) / 8 * 8, ' ');
    return text;
}

// The file's bytes; the caller knows which path it came from.
std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw load_error(path, std::string("cannot open the file (") + std::strerror(errno) + ")");
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw load_error(path, "reading the file failed");
    return bytes;
}

bool is_count(const json& j) {
    return j.is_number_unsigned();
}

struct Entry {
    std::string name;
    Shape shape;
    std::uint64_t begin, end;
};

// One tensor's header entry, checked against the data area of `data_size` bytes.
Entry parse_entry(const std::string& path, const std::string& name, const json& j,
                  std::uint64_t data_size) {
    const std::string what = "tensor '" + name + "'";
    if (!j.is_object()) throw load_error(path, what + " is not described by a JSON object");
    for (const char* key : {"dtype", "shape", "data_offsets"}) {
        if (!j.contains(key)) throw load_error(path, what + " has no '" + key + "' entry");
    }
    const json& dtype = j["dtype"];
    if (!dtype.is_string()) throw load_error(path, what + " has a dtype that is not a string");
    if (dtype.get<std::string>() != "F32") {
        throw load_error(
            path, what + " has dtype '" + dtype.get<std::string>() + "'; only F32 is supported");
    }
    Entry e{name, {}, 0, 0};
    const json& shape = j["shape"];
    if (!shape.is_array() || !std::all_of(shape.begin(), shape.end(), is_count)) {
        throw load_error(path, what + " has a shape that is not a list of non-negative integers");
    }
    std::uint64_t count = 1;
    for (const auto& d : shape) {
        const auto dim = d.get<std::uint64_t>();
        if (__builtin_mul_overflow(count, dim, &count)) {
            throw load_error(path, what + " has a shape too large to hold");
        }
        e.shape.push_back(static_cast<std::size_t>(dim));
    }
    const json& offsets = j["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !is_count(offsets[0]) ||
        !is_count(offsets[1])) {
        throw load_error(path, what + " has data_offsets that are not two non-negative integers");
    }
    e.begin = offsets[0].get<std::uint64_t>();
    e.end = offsets[1].get<std::uint64_t>();
    // fmt, not operator+: GCC 12 sees a false -Wrestrict in "[" + std::to_string(...).
    const std::string range = fmt::format("[{}, {}]", e.begin, e.end);
    if (e.begin > e.end || e.end > data_size) {
        throw load_error(path, what + " has data offsets " + range + " outside the data area of " +
                                   std::to_string(data_size) + " bytes");
    }
    std::uint64_t bytes = 0;
    if (__builtin_mul_overflow(count, std::uint64_t{sizeof(float)}, &bytes) ||
        bytes != e.end - e.begin) {
        throw load_error(path, what + " of shape " + format_shape(e.shape) + " needs " +
                                   std::to_string(count) + " * 4 bytes but its data offsets " +
                                   range + " hold " + std::to_string(e.end - e.begin));
    }
    return e;
}

}  // namespace

void write_safetensors(const std::string& path, const TensorMap& tensors,
                       const Metadata& metadata) {
    for (const auto& [name, t] : tensors) {
        if (name.empty() || name == "__metadata__") {
            throw std::invalid_argument("write_safetensors: invalid tensor name '" + name + "'");
        }
    }
    std::string header;
    try {
        header = header_json(tensors, metadata);
    } catch (const json::exception&) {
        // nlohmann rejects strings that are not valid UTF-8.
        throw save_error(path, "tensor names and metadata must be valid UTF-8");
    }
    char length[8];
    const std::uint64_t n = header.size();
    std::memcpy(length, &n, sizeof n);
    to_little_endian(length, 8, 8);

    write_file_atomically(path, [&](const AppendBytes& append) {
        append(length, 8);
        append(header.data(), header.size());
        for (const auto& [name, t] : tensors) {
            const char* data = reinterpret_cast<const char*>(t.data());
            const std::size_t bytes = t.size() * sizeof(float);
            if constexpr (std::endian::native == std::endian::big) {
                std::vector<char> swapped(data, data + bytes);
                to_little_endian(swapped.data(), bytes, sizeof(float));
                append(swapped.data(), bytes);
            } else {
                append(data, bytes);
            }
        }
    });
}

std::pair<TensorMap, Metadata> read_safetensors(const std::string& path) {
    const std::string bytes = read_file(path);
    const std::uint64_t size = bytes.size();
    if (size < 8) {
        throw load_error(path, "the file is " + std::to_string(size) +
                                   " bytes long, too short for a safetensors header");
    }
    char length[8];
    std::memcpy(length, bytes.data(), 8);
    to_little_endian(length, 8, 8);
    std::uint64_t n = 0;
    std::memcpy(&n, length, 8);
    if (n > size - 8) {
        throw load_error(path, "the header length " + std::to_string(n) +
                                   " exceeds the file size of " + std::to_string(size) + " bytes");
    }
    json header;
    // nlohmann keeps the last of two equal keys; a tensor listed twice is corrupt, so the
    // top-level keys are collected while parsing.
    std::set<std::string> keys;
    std::string duplicate;
    const json::parser_callback_t note_keys = [&](int depth, json::parse_event_t event,
                                                  json& parsed) {
        if (event == json::parse_event_t::key && depth == 1 && !keys.insert(parsed).second &&
            duplicate.empty()) {
            duplicate = parsed.get<std::string>();
        }
        return true;
    };
    try {
        header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(n),
                             note_keys);
    } catch (const json::parse_error& e) {
        throw load_error(path, "the header is not valid JSON (error at byte " +
                                   std::to_string(e.byte) + " of the header)");
    } catch (const json::out_of_range&) {
        // A number too large for a double, e.g. 1e400 (found by fuzzing).
        throw load_error(path, "the header is not valid JSON (a number is out of range)");
    }
    if (!header.is_object()) throw load_error(path, "the header is not a JSON object");
    if (!duplicate.empty()) {
        throw load_error(path, "tensor '" + duplicate + "' appears twice in the header");
    }

    const std::uint64_t data_size = size - 8 - n;
    Metadata metadata;
    std::vector<Entry> entries;
    for (const auto& [key, value] : header.items()) {
        if (key == "__metadata__") {
            if (!value.is_object()) throw load_error(path, "__metadata__ is not a JSON object");
            for (const auto& [k, v] : value.items()) {
                if (!v.is_string()) {
                    throw load_error(path, "__metadata__ entry '" + k + "' is not a string");
                }
                metadata[k] = v.get<std::string>();
            }
        } else {
            entries.push_back(parse_entry(path, key, value, data_size));
        }
    }

    // The tensors must tile the data area exactly: sorted by offset, each starts where the
    // previous one ends.
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
        return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    std::uint64_t covered = 0;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const Entry& e = entries[i];
        if (e.begin < covered) {
            throw load_error(path, "tensors '" + entries[i - 1].name + "' and '" + e.name +
                                       "' overlap in the data area");
        }
        if (e.begin > covered) {
            throw load_error(path, "bytes " + std::to_string(covered) + " to " +
                                       std::to_string(e.begin) +
                                       " of the data area belong to no tensor");
        }
        covered = e.end;
    }
    if (covered != data_size) {
        throw load_error(path, "bytes " + std::to_string(covered) + " to " +
                                   std::to_string(data_size) +
                                   " of the data area belong to no tensor");
    }

    TensorMap tensors;
    const char* data = bytes.data() + 8 + n;
    for (const Entry& e : entries) {
        Tensor t = Tensor::from_shape(e.shape);
        char* dst = reinterpret_cast<char*>(t.data());
        // An empty tensor has no buffer (data() may be null, which memcpy must not get).
        if (e.end > e.begin) std::memcpy(dst, data + e.begin, e.end - e.begin);
        to_little_endian(dst, e.end - e.begin, sizeof(float));
        tensors.emplace(e.name, std::move(t));
    }
    return {std::move(tensors), std::move(metadata)};
}

}  // namespace xgrad::nn
