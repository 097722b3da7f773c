// Data-parallel training across real processes: tests/dist/mpi_worker under mpirun.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

struct Result {
    int status;
    std::string output;
    double seconds;
};

std::string env(const char* name) {
    const char* v = std::getenv(name);
    REQUIRE_MESSAGE(v != nullptr, name << " is not set (meson sets it)");
    return v;
}

fs::path scratch() {
    const fs::path dir = fs::path(env("XGRAD_TEST_TMP")) / "dist";
    fs::create_directories(dir);
    return dir;
}

// Runs `command` (stdout and stderr together) under a 60 s timeout.
Result run(const std::string& command) {
    const auto start = std::chrono::steady_clock::now();
    FILE* pipe = popen(("timeout -s KILL 60 " + command + " 2>&1").c_str(), "r");
    REQUIRE(pipe != nullptr);
    std::string output;
    std::array<char, 4096> buffer;
    while (std::fgets(buffer.data(), buffer.size(), pipe)) output += buffer.data();
    const int raw = pclose(pipe);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, output, seconds};
}

// The worker on `processes` processes under mpirun (as root too, as CI runs), or alone.
Result worker(int processes, const std::string& args, const std::string& mpi_args = "") {
    std::string command = env("XGRAD_MPI_WORKER") + " " + args;
    if (processes > 0) {
        command = env("XGRAD_MPIRUN") + " --allow-run-as-root --oversubscribe " + mpi_args +
                  " -np " + std::to_string(processes) + " " + command;
    }
    return run(command);
}

std::vector<float> read_floats(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE_MESSAGE(in, "cannot read " << path);
    std::vector<float> v;
    float x;
    while (in.read(reinterpret_cast<char*>(&x), sizeof x)) v.push_back(x);
    REQUIRE(!v.empty());
    return v;
}

double max_relative_difference(const std::vector<float>& a, const std::vector<float>& b) {
    REQUIRE(a.size() == b.size());
    double worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const double scale = std::max({std::abs(double(a[i])), std::abs(double(b[i])), 1e-3});
        worst = std::max(worst, std::abs(double(a[i]) - double(b[i])) / scale);
    }
    return worst;
}

// 20 steps of global batch 32 on two processes (several buckets) against one process.
void check_two_equal_one(const std::string& optimizer, const std::string& mpi_args) {
    const fs::path dir = scratch();
    const std::string two = (dir / ("two_" + optimizer)).string();
    const std::string one = (dir / ("one_" + optimizer)).string();
    const std::string common = " --optimizer " + optimizer + " --epochs 1 --batch-size 32 ";
    const Result r2 = worker(2, "--out " + two + common + "--bucket-bytes 256", mpi_args);
    REQUIRE_MESSAGE(r2.status == 0, r2.output);
    const Result r1 = worker(0, "--out " + one + common);
    REQUIRE_MESSAGE(r1.status == 0, r1.output);
    const auto p0 = read_floats(two + ".0"), p1 = read_floats(two + ".1");
    CHECK_MESSAGE(p0 == p1, "the two processes' parameters differ after 20 steps");
    const auto alone = read_floats(one + ".0");
    // The processes start from different random weights: only the broadcast makes them agree.
    CHECK(max_relative_difference(p0, alone) < 1e-5);
    CHECK(max_relative_difference(p0, alone) > 0);  // the sums' order differs: not a copy
    // Only process 0 prints.
    CHECK(r2.output.find("Epoch 1/1") != std::string::npos);
    CHECK(r2.output.find("Epoch 1/1") == r2.output.rfind("Epoch 1/1"));
}

}  // namespace

TEST_CASE("two processes train as one: Adam, bit-identical processes") {
    check_two_equal_one("adam", "");
}

TEST_CASE("two processes train as one: SGD with momentum") {
    check_two_equal_one("sgd", "");
}

TEST_CASE("two processes train as one over TCP, the transport between machines") {
    check_two_equal_one("adam", "--mca btl tcp,self");
}

TEST_CASE("a global batch not divisible by the processes is a clear error") {
    const Result r = worker(2, "--out " + (scratch() / "odd").string() + " --batch-size 33");
    CHECK(r.status != 0);
    CHECK_MESSAGE(r.output.find("global batch size 33 is not divisible by the 2 processes") !=
                      std::string::npos,
                  r.output);
}

TEST_CASE("a model that differs between processes is a clear error at the broadcast") {
    const Result r = worker(2, "--out " + (scratch() / "differ").string() + " --other-model");
    CHECK(r.status != 0);
    CHECK(r.seconds < 30);
    CHECK_MESSAGE(r.output.find("differs between processes: parameter 0 is ") != std::string::npos,
                  r.output);
    CHECK(r.output.find("(6, 24) on process 1 but ") != std::string::npos);
}

TEST_CASE("a process that dies ends the whole run with an error, no hang") {
    for (const char* how : {"kill", "throw"}) {
        CAPTURE(how);
        const Result r = worker(
            2, "--out " + (scratch() / "die").string() + " --epochs 50 --fail " + std::string(how));
        CHECK(r.status != 0);
        CHECK(r.status != -1);  // ended by mpirun, not by the 60 s timeout
        CHECK(r.seconds < 30);
        if (std::string(how) == "throw") {
            CHECK_MESSAGE(
                r.output.find("error: process 1: mpi_worker: process 1 fails on purpose") !=
                    std::string::npos,
                r.output);
        } else {
            CHECK_MESSAGE(r.output.find("signal 9") != std::string::npos, r.output);
        }
    }
}

TEST_CASE("checkpoint and resume on two processes: 2 + 2 epochs equal 4") {
    const fs::path dir = scratch();
    const std::string checkpoint = (dir / "resume.ckpt").string();
    fs::remove(checkpoint);
    const Result whole = worker(2, "--out " + (dir / "four").string() + " --epochs 4");
    REQUIRE_MESSAGE(whole.status == 0, whole.output);
    const Result first =
        worker(2, "--out " + (dir / "first").string() + " --epochs 2 --checkpoint " + checkpoint);
    REQUIRE_MESSAGE(first.status == 0, first.output);
    const Result second =
        worker(2, "--out " + (dir / "resumed").string() + " --epochs 4 --resume " + checkpoint);
    REQUIRE_MESSAGE(second.status == 0, second.output);
    CHECK(read_floats(dir / "resumed.0") == read_floats(dir / "four.0"));
    CHECK(read_floats(dir / "resumed.1") == read_floats(dir / "four.1"));
}
