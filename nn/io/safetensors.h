// Named float32 tensors in the safetensors format (readable by Python's safetensors and
// PyTorch): an 8-byte little-endian header length N, N bytes of JSON header
//   {"__metadata__": {"key": "value", ...},
//    "dense/kernel": {"dtype": "F32", "shape": [784, 100], "data_offsets": [0, 313600]}, ...}
// then the raw little-endian data; offsets count from the end of the header.
#pragma once

#include <map>
#include <string>
#include <utility>

#include "framework/tensor.h"

namespace xgrad::nn {

using TensorMap = std::map<std::string, Tensor>;
using Metadata = std::map<std::string, std::string>;

// Writes atomically: a temporary file in the same directory, flushed to disk (fsync), then
// renamed over `path`. On any error the temporary file is removed, `path` keeps its old
// contents and a std::runtime_error names the file and the reason.
void write_safetensors(const std::string& path, const TensorMap& tensors,
                       const Metadata& metadata = {});

// Reads and checks everything: header length against the file size, the JSON, dtypes
// (only F32), shapes against the offsets, offsets inside the data area, neither
// overlapping nor leaving gaps, and the metadata (strings only). Any problem is a
// std::runtime_error "cannot load '<path>': <the problem>".
std::pair<TensorMap, Metadata> read_safetensors(const std::string& path);

}  // namespace xgrad::nn
