// Runs an example program (its path in an environment variable that meson sets) and captures
// what it prints and its exit status.
#pragma once

#include <doctest/doctest.h>

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace cli_test {

struct Result {
    int status;
    std::string output;  // stdout and stderr together
};

inline Result run(const char* program, const std::string& args) {
    const char* exe = std::getenv(program);
    REQUIRE_MESSAGE(exe != nullptr, program << " is not set (meson sets it)");
    const std::string command = std::string(exe) + " " + args + " 2>&1";
    FILE* pipe = popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    std::string output;
    std::array<char, 4096> buffer;
    while (std::fgets(buffer.data(), buffer.size(), pipe)) output += buffer.data();
    const int raw = pclose(pipe);
    return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, output};
}

// Bad input: exit status 2 and one line "error: ..." that contains `message`.
inline void check_usage_error(const char* program, const std::string& args,
                              const std::string& message) {
    CAPTURE(args);
    const Result r = run(program, args);
    CHECK(r.status == 2);
    CHECK(r.output.rfind("error: ", 0) == 0);
    CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
    CHECK_MESSAGE(r.output.find(message) != std::string::npos, r.output);
}

// The number printed after `label` in `output`, or -1 when the label is missing.
inline double number_after(const std::string& output, const std::string& label) {
    const auto at = output.find(label);
    return at == std::string::npos ? -1.0 : std::atof(output.c_str() + at + label.size());
}

}  // namespace cli_test
