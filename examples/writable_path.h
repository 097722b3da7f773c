// Checking an output path given on the command line before any long work starts.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

namespace xgrad::examples {

// Why a file cannot be written at `path` (given with `flag`), as a sentence naming both; ""
// when its directory exists and is writable and it is no directory itself.
inline std::string unwritable_reason(const std::string& flag, const std::string& path) {
    namespace fs = std::filesystem;
    const fs::path p(path);
    if (fs::is_directory(p)) return flag + " " + path + " is a directory, not a file";
    const fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
    if (!fs::is_directory(dir)) {
        return flag + " " + path + ": the directory " + dir.string() + " does not exist";
    }
    if (access(dir.c_str(), W_OK) != 0) {
        return flag + " " + path + ": the directory " + dir.string() + " is not writable";
    }
    return "";
}

}  // namespace xgrad::examples
