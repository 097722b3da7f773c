// The command-line conventions of the example programs, for the ones that do not use
// classifier_cli: bad input is one "error: ..." line on stderr and exit status 2, found before
// any training starts; a failure during the run is "error: ..." and exit status 1.
//
//   CLI::App app{"What the program does."};
//   app.add_option("--epochs", epochs, "Training epochs");
//   return examples::run_cli(app, argc, argv, [&] { return run(options); });
#pragma once

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <iostream>
#include <stdexcept>
#include <string>

#include <CLI/CLI.hpp>

#include "examples/distributed_run.h"

namespace xgrad::examples {

// Bad command-line input: reported as "error: ..." with exit status 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A file can be written at `path` (given with `flag`): its directory exists and is writable,
// and it is no directory itself. Else a UsageError.
inline void check_writable(const std::string& flag, const std::string& path) {
    namespace fs = std::filesystem;
    const fs::path p(path);
    if (fs::is_directory(p)) throw UsageError(flag + " " + path + " is a directory, not a file");
    const fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
    if (!fs::is_directory(dir)) {
        throw UsageError(flag + " " + path + ": the directory " + dir.string() + " does not exist");
    }
    if (access(dir.c_str(), W_OK) != 0) {
        throw UsageError(flag + " " + path + ": the directory " + dir.string() +
                         " is not writable");
    }
}

// Parses the flags, then runs `body`; returns the exit status (0, 1 or 2, see above).
// Under mpirun, data-parallel (examples/distributed_run.h).
inline int run_cli(CLI::App& app, int argc, char** argv, const std::function<int()>& body) {
    dist::Session session;
    OnlyRootPrints quiet_others;
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 2;
    }
    try {
        return body();
    } catch (const UsageError& e) {
        std::cerr << "error: " << e.what() << "\n";
        return failed(2);
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return failed(1);
    }
}

}  // namespace xgrad::examples
