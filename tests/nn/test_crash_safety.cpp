// Crash safety of model files: a writer killed mid-write, a full disk and an unwritable
// directory all leave the previous file loadable. The dangerous steps run in forked children,
// so a kill, a file-size limit or a private mount never touches the test process itself.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <thread>

#include "nn/io/model_file.h"
#include "nn/io/safetensors.h"
#include "nn_test_util.h"
#include "xgrad.h"

using namespace xgrad;
namespace fs = std::filesystem;

namespace {

// A fresh, empty directory under the test scratch area.
fs::path fresh_dir(const std::string& name) {
    const fs::path dir = nn_test::tmp_path(name);
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

// Files in `dir` other than `keep`: what a killed or failed writer left behind.
std::vector<std::string> strays(const fs::path& dir, const fs::path& keep) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path() != keep) out.push_back(e.path().filename().string());
    return out;
}

// A checkpoint-like file of `floats` values, all equal to `generation`, which its metadata
// also records, so a reader can tell a whole file from a torn one.
void write_generation(const std::string& path, std::size_t floats, int generation) {
    Tensor t = Tensor::from_shape({floats});
    t.fill(static_cast<float>(generation));
    nn::write_safetensors(path, {{"weights", t}}, {{"generation", std::to_string(generation)}});
}

// The generation a whole file holds; fails the test if the file is torn.
int read_generation(const std::string& path) {
    const auto [tensors, metadata] = nn::read_safetensors(path);
    REQUIRE(metadata.count("generation") == 1);
    const int generation = std::stoi(metadata.at("generation"));
    const Tensor& t = tensors.at("weights");
    CHECK(std::all_of(t.begin(), t.end(),
                      [&](float v) { return v == static_cast<float>(generation); }));
    return generation;
}

// Runs `body` in a forked child and returns the text it produced ("exception: ..." if it
// threw, "child died ..." if it never answered). The child leaves with _exit, so no test
// framework state or atexit handler runs twice.
std::string in_child(const std::function<std::string()>& body) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(fds[0]);
        std::string out;
        try {
            out = body();
        } catch (const std::exception& e) {
            out = std::string("exception: ") + e.what();
        }
        const ssize_t n = ::write(fds[1], out.data(), out.size());
        ::_exit(n == static_cast<ssize_t>(out.size()) ? 0 : 1);
    }
    ::close(fds[1]);
    std::string text;
    char buf[512];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return "child died (status " + std::to_string(status) + "): " + text;
    return text;
}

// The error message save_model gives in `body`'s situation, or "no error".
std::string save_error(const std::function<void()>& body) {
    try {
        body();
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "no error";
}

// A small built model whose weights depend on `seed`.
nn::Sequential small_model(std::uint64_t seed) {
    manual_seed(seed);
    nn::Sequential model;
    model.add(nn::Flatten({8, 8}));
    model.add(nn::Dense(32, "relu"));
    model.add(nn::Dense(10, "softmax"));
    return model;
}

// A model about 4 MB on disk: larger than the limits the tests set.
nn::Sequential big_model(std::uint64_t seed) {
    manual_seed(seed);
    nn::Sequential model;
    model.add(nn::Flatten({32, 32}));
    model.add(nn::Dense(1000));
    return model;
}

bool same_weights(const nn::Sequential& a, const nn::Sequential& b) {
    const auto sa = a.state_dict(), sb = b.state_dict();
    if (sa.size() != sb.size()) return false;
    for (const auto& [name, t] : sa)
        if (sb.count(name) == 0 || t != sb.at(name)) return false;
    return true;
}

// Mounts a private namespace for the calling (child) process, so its mounts vanish with it.
bool private_mounts() {
    return ::unshare(CLONE_NEWNS) == 0 &&
           ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0;
}

}  // namespace

TEST_CASE("a writer killed with SIGKILL mid-write leaves the previous file loadable") {
    const fs::path dir = fresh_dir("crash_kill");
    const std::string path = (dir / "checkpoint.safetensors").string();
    constexpr std::size_t floats = std::size_t{4} << 20;  // 16 MB: each write takes a moment
    write_generation(path, floats, 0);

    int last = 0;
    std::size_t killed_mid_write = 0;
    // Kill at different moments: as soon as a temporary file appears, once it is half written,
    // and after a plain delay.
    for (int round = 0; round < 3; ++round) {
        CAPTURE(round);
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            try {
                for (int g = last + 1;; ++g) write_generation(path, floats, g);
            } catch (...) {
            }
            ::_exit(1);
        }
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        bool mid_write = false;
        while (round < 2 && std::chrono::steady_clock::now() < deadline) {
            std::error_code ec;
            for (const auto& name : strays(dir, path)) {
                const auto size = fs::file_size(dir / name, ec);
                if (!ec && size > (round == 0 ? 0 : floats * 2)) mid_write = true;
            }
            if (mid_write) break;
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        if (round == 2) std::this_thread::sleep_for(std::chrono::milliseconds(150));
        REQUIRE(::kill(pid, SIGKILL) == 0);
        int status = 0;
        REQUIRE(::waitpid(pid, &status, 0) == pid);
        // The child was killed, not stopped by an error of its own.
        REQUIRE(WIFSIGNALED(status));
        CHECK(WTERMSIG(status) == SIGKILL);
        killed_mid_write += mid_write;

        // The file at `path` is whole: the previous generation or a newer complete one.
        const int g = read_generation(path);
        CHECK(g >= last);
        last = g;
        // Whatever was left behind is a temporary named after the file, which no reader
        // looks at; it does not stop the next save.
        for (const auto& name : strays(dir, path)) {
            CAPTURE(name);
            CHECK(name.rfind("checkpoint.safetensors.tmp-", 0) == 0);
        }
    }
    CHECK(killed_mid_write >= 1);
    const auto left = strays(dir, path);
    MESSAGE("after 3 kills: ", left.size(), " temporary file(s) left beside the checkpoint, ",
            "killed mid-write ", killed_mid_write, " time(s), last whole generation ", last);
    write_generation(path, 16, last + 1);
    CHECK(read_generation(path) == last + 1);
    fs::remove_all(dir);
}

TEST_CASE("a full disk is a clear error and the previous model file stays") {
    SUBCASE("file size limit (RLIMIT_FSIZE): writing fails with 'File too large'") {
        const fs::path dir = fresh_dir("crash_fsize");
        const std::string path = (dir / "model.safetensors").string();
        const nn::Sequential previous = small_model(1);
        nn::save_model(previous, path);
        const std::string message = in_child([&] {
            ::signal(SIGXFSZ, SIG_IGN);  // get EFBIG from write() instead of a signal
            const rlimit limit{64 * 1024, 64 * 1024};
            if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) return std::string("setrlimit failed");
            return save_error([&] { nn::save_model(big_model(2), path); });
        });
        CHECK(message == "cannot save '" + path + "': writing failed (File too large)");
        CHECK(same_weights(nn::load_model(path), previous));
        CHECK(strays(dir, path).empty());  // the temporary file was removed
        fs::remove_all(dir);
    }
    SUBCASE("a really full file system (a 256 KB tmpfs): 'No space left on device'") {
        const fs::path dir = fresh_dir("crash_full");
        const std::string path = (dir / "model.safetensors").string();
        const std::string report = in_child([&] {
            if (!private_mounts() || ::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=256k") != 0)
                return std::string("skip: cannot mount a tmpfs here (needs root)");
            const nn::Sequential previous = small_model(1);
            nn::save_model(previous, path);
            const std::string message = save_error([&] { nn::save_model(big_model(2), path); });
            const bool intact = same_weights(nn::load_model(path), previous);
            return message + (intact ? " | previous intact" : " | previous CHANGED") +
                   (strays(dir, path).empty() ? " | no temporary left" : " | temporary left");
        });
        if (report.rfind("skip:", 0) == 0) {
            MESSAGE(report);
        } else {
            CHECK(report == "cannot save '" + path +
                                "': writing failed (No space left on device) | previous intact"
                                " | no temporary left");
        }
        fs::remove_all(dir);
    }
}

TEST_CASE("an unwritable directory is a clear error and the previous model file stays") {
    SUBCASE("the parent is a regular file") {
        const fs::path dir = fresh_dir("crash_notdir");
        nn_test::write_bytes((dir / "plain").string(), "not a directory");
        const std::string path = (dir / "plain" / "model.safetensors").string();
        CHECK(save_error([&] { nn::save_model(small_model(1), path); }) ==
              "cannot save '" + path +
                  "': cannot create a temporary file beside it (Not a "
                  "directory)");
        CHECK(nn_test::read_bytes((dir / "plain").string()) == "not a directory");
        fs::remove_all(dir);
    }
    SUBCASE("the directory does not exist") {
        const fs::path dir = fresh_dir("crash_nodir");
        const std::string path = (dir / "missing" / "model.safetensors").string();
        CHECK(save_error([&] { nn::save_model(small_model(1), path); }) ==
              "cannot save '" + path +
                  "': cannot create a temporary file beside it (No such "
                  "file or directory)");
        CHECK(strays(dir, "").empty());
        fs::remove_all(dir);
    }
    SUBCASE("a read-only bind mount over the directory (root ignores file permissions)") {
        const fs::path dir = fresh_dir("crash_readonly");
        const std::string path = (dir / "model.safetensors").string();
        const nn::Sequential previous = small_model(1);
        nn::save_model(previous, path);
        const std::string message = in_child([&] {
            if (!private_mounts() || ::mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND, nullptr) ||
                ::mount(nullptr, dir.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr))
                return std::string("skip: cannot make a read-only bind mount here (needs root)");
            return save_error([&] { nn::save_model(small_model(2), path); });
        });
        if (message.rfind("skip:", 0) == 0) {
            MESSAGE(message);
        } else {
            CHECK(message == "cannot save '" + path +
                                 "': cannot create a temporary file beside it (Read-only file "
                                 "system)");
        }
        CHECK(same_weights(nn::load_model(path), previous));
        CHECK(strays(dir, path).empty());
        fs::remove_all(dir);
    }
}
