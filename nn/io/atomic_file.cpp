#include "nn/io/atomic_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

namespace xgrad::nn {

namespace {

std::runtime_error save_error(const std::string& path, const std::string& problem) {
    return std::runtime_error(fmt::format("cannot save '{}': {}", path, problem));
}

// Writes all of `data`, retrying after short writes and signals.
bool write_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

}  // namespace

void write_file_atomically(const std::string& path,
                           const std::function<void(const AppendBytes&)>& fill) {
    // The temporary file lives beside the target so that rename() is atomic.
    std::string tmp = fmt::format("{}.tmp-XXXXXX", path);
    const int fd = ::mkstemp(tmp.data());
    if (fd < 0) {
        throw save_error(path, fmt::format("cannot create a temporary file beside it ({})",
                                           std::strerror(errno)));
    }
    bool fd_open = true;
    auto discard = [&] {
        if (fd_open) ::close(fd);
        fd_open = false;
        ::unlink(tmp.c_str());
    };
    auto fail = [&](const std::string& step) {
        const std::string reason = std::strerror(errno);
        discard();
        return save_error(path, fmt::format("{} failed ({})", step, reason));
    };
    ::fchmod(fd, 0644);  // mkstemp creates 0600; the result is an ordinary file
    try {
        fill([&](const char* data, std::size_t size) {
            if (!write_all(fd, data, size)) throw fail("writing");
        });
    } catch (...) {
        discard();
        throw;
    }
    if (::fsync(fd) != 0) throw fail("flushing to disk");
    fd_open = false;
    if (::close(fd) != 0) throw fail("closing");
    if (::rename(tmp.c_str(), path.c_str()) != 0) throw fail("renaming the temporary file");
    // Make the rename itself durable; a failure here leaves a complete file, so ignore it.
    const std::filesystem::path parent = std::filesystem::path(path).parent_path();
    const std::filesystem::path dir = parent.empty() ? std::filesystem::path(".") : parent;
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

void write_file_atomically(const std::string& path, std::string_view contents) {
    write_file_atomically(
        path, [&](const AppendBytes& append) { append(contents.data(), contents.size()); });
}

}  // namespace xgrad::nn
