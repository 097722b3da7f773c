// The list of valid names that an "unknown name" error message ends with.
#pragma once

#include <string>
#include <vector>

namespace xgrad {

// "a, b, c": the names in their order, joined for an error message.
std::string join_names(const std::vector<std::string>& names);

}  // namespace xgrad
