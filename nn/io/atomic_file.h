// Writing a file atomically: readers see either the old contents or the complete new ones,
// and a crash in the middle leaves the old file intact. Model files, checkpoints and the
// training pictures are all written this way.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace xgrad::nn {

// Appends bytes to the file being written.
using AppendBytes = std::function<void(const char* data, std::size_t size)>;

// Writes `path` through a temporary file in the same directory: `fill` appends the contents,
// then the file is flushed to disk (fsync) and renamed over `path`. On any error the
// temporary file is removed and `path` keeps its old contents; a failed system call is a
// std::runtime_error "cannot save '<path>': <step> failed (<reason>)", and an exception
// thrown by `fill` passes through.
void write_file_atomically(const std::string& path,
                           const std::function<void(const AppendBytes&)>& fill);
void write_file_atomically(const std::string& path, std::string_view contents);

}  // namespace xgrad::nn
