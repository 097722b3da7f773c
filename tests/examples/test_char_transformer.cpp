// examples/char_transformer on a small text of its own (the fortunes corpus would take
// minutes): it trains a few steps and saves the model, whose config holds the vocabulary;
// generating from the file alone gives the same text for the same seed. Bad input is one
// "error: ..." line and exit status 2.
#include <doctest/doctest.h>

#include <string>

#include "../datasets/helpers.h"
#include "char_corpus.h"
#include "cli_run.h"

using cli_test::check_usage_error;
using cli_test::number_after;
using cli_test::run;

namespace {

constexpr const char* program = "CHAR_TRANSFORMER";
const std::string tiny = " --layers 2 --heads 2 --embedding 16 --block-size 16 --batch-size 4 ";

using char_corpus::corpus;
using char_corpus::write_text;

}  // namespace

TEST_CASE("char_transformer: trains, saves, and generates the same text from the file") {
    const std::string data = write_text("char_transformer_corpus.txt", corpus());
    const std::string model = test_data::tmp_path("char_transformer.safetensors");
    const auto trained = run(program, "--data " + data + tiny +
                                          "--steps 30 --eval-interval 15 --learning-rate 3e-3 "
                                          "--eval-windows 16 --save " +
                                          model);
    REQUIRE_MESSAGE(trained.status == 0, trained.output);
    CAPTURE(trained.output);
    CHECK(trained.output.find("vocabulary 18") != std::string::npos);
    CHECK(trained.output.find("step    15  train loss") != std::string::npos);
    const double val = number_after(trained.output, "val_loss ");
    CHECK(val > 0.1);
    CHECK(val < 2.8);  // below log(18) = 2.89: it learnt something

    const std::string gen = "--model " + model + " --generate 100 --quiet ";
    const auto a = run(program, gen + "--seed 5");
    const auto b = run(program, gen + "--seed 5");
    const auto c = run(program, gen + "--seed 6 --temperature 1.5");
    REQUIRE_MESSAGE(a.status == 0, a.output);
    CHECK(a.output.size() == 100);
    CHECK(a.output == b.output);
    CHECK(a.output != c.output);
    const std::string alphabet = corpus();
    for (char ch : a.output) CHECK(alphabet.find(ch) != std::string::npos);
    // A prompt longer than the block: the model sees its last 16 characters.
    const auto g1 =
        run(program, gen + "--temperature 0 --prompt 'the cat sat on the mat' --seed 1");
    const auto g2 =
        run(program, gen + "--temperature 0 --prompt 'the cat sat on the mat' --seed 2");
    REQUIRE_MESSAGE(g1.status == 0, g1.output);
    CHECK(g1.output == g2.output);
    check_usage_error(program, "--model " + model + " --generate 5 --prompt 'Q'",
                      "--prompt: the character 'Q'");
}

TEST_CASE("char_transformer: bad data and arguments are one error line and exit status 2") {
    check_usage_error(program, "--data /nonexistent/text.txt", "/nonexistent/text.txt");
    const std::string short_text = write_text("char_transformer_short.txt", std::string(40, 'a'));
    check_usage_error(program, "--data " + short_text + " --block-size 64",
                      "is longer than the text");
    check_usage_error(program, "--embedding 10 --heads 4",
                      "--embedding 10 must be a multiple of --heads 4");
    check_usage_error(program, "--generate 5", "--generate needs --model");
    check_usage_error(program, "--model /nonexistent/model.safetensors --generate 5",
                      "/nonexistent/model.safetensors");
}
