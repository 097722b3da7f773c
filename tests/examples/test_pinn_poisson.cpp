// examples/pinn_poisson's command line: a few steps train (the loss falls), a seed gives the
// same numbers twice, and bad flags are one "error: ..." line with exit status 2.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "cli_run.h"

namespace {

const char* kProgram = "PINN_POISSON";
const std::string kTiny =
    "--adam-steps 30 --lbfgs-steps 20 --interior 64 --boundary 8 --width 8 "
    "--depth 2 --quiet";

}  // namespace

TEST_CASE("pinn_poisson: a few Adam and L-BFGS steps lower the loss and print the error") {
    const cli_test::Result r = cli_test::run(kProgram, kTiny + " --seed 3");
    REQUIRE_MESSAGE(r.status == 0, r.output);
    CHECK(r.output.find("relative L2 error on the 101 x 101 grid: ") != std::string::npos);
    const double initial = cli_test::number_after(r.output, "initial_loss ");
    const double final_loss = cli_test::number_after(r.output, " loss ");
    const double error = cli_test::number_after(r.output, "rel_l2 ");
    CAPTURE(r.output);
    CHECK(initial > 0);
    CHECK(final_loss > 0);
    CHECK(final_loss < 0.5 * initial);
    CHECK(std::isfinite(error));
    CHECK(error > 0);
    CHECK(cli_test::number_after(r.output, "evaluations ") >= 2);  // L-BFGS ran
}

TEST_CASE("pinn_poisson: the seed fixes the weights, the points and so every number") {
    auto numbers = [](const std::string& output) {
        return std::to_string(cli_test::number_after(output, " loss ")) + " " +
               std::to_string(cli_test::number_after(output, "rel_l2 ")) + " " +
               std::to_string(cli_test::number_after(output, "initial_loss "));
    };
    const auto a = cli_test::run(kProgram, kTiny + " --seed 5");
    const auto b = cli_test::run(kProgram, kTiny + " --seed 5");
    const auto c = cli_test::run(kProgram, kTiny + " --seed 6");
    REQUIRE(a.status == 0);
    REQUIRE(c.status == 0);
    CHECK(numbers(a.output) == numbers(b.output));
    CHECK(cli_test::number_after(a.output, "initial_loss ") !=
          cli_test::number_after(c.output, "initial_loss "));
}

TEST_CASE("pinn_poisson: bad flags are one error line and exit status 2") {
    cli_test::check_usage_error(kProgram, "--adam-steps -1", "--adam-steps must be at least 0");
    cli_test::check_usage_error(kProgram, "--width 0", "--width must be at least 1, got 0");
    cli_test::check_usage_error(kProgram, "--interior 0", "--interior must be at least 1");
    cli_test::check_usage_error(kProgram, "--learning-rate -0.5",
                                "--learning-rate must be a positive number, got -0.5");
    cli_test::check_usage_error(kProgram, "--boundary-weight -1",
                                "--boundary-weight must be a number of at least 0, got -1");
    cli_test::check_usage_error(kProgram, "--boundary-weight nan",
                                "--boundary-weight must be a number of at least 0, got nan");
    cli_test::check_usage_error(kProgram, "--threads 0", "--threads must be at least 1");
    cli_test::check_usage_error(kProgram, "--no-such-flag", "--no-such-flag");
}
