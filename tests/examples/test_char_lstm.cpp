// examples/char_lstm on a small text of its own (the fortunes corpus would take minutes):
// it trains a few steps and saves the model with its vocabulary; generating from the file
// alone gives the same text for the same seed. Bad input is one "error: ..." line and exit
// status 2.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "../datasets/helpers.h"
#include "char_corpus.h"
#include "cli_run.h"

using cli_test::check_usage_error;
using cli_test::number_after;
using cli_test::run;

namespace {

constexpr const char* char_lstm = "CHAR_LSTM";
const std::string tiny = " --units 16 --embedding 8 --block-size 16 --batch-size 4 ";

using char_corpus::corpus;
using char_corpus::write_text;

}  // namespace

TEST_CASE("char_lstm: trains, saves, and generates the same text from the file for one seed") {
    const std::string data = write_text("char_lstm_corpus.txt", corpus());
    const std::string model = test_data::tmp_path("char_lstm.safetensors");
    const auto trained =
        run(char_lstm, "--data " + data + tiny + "--steps 6 --eval-interval 3 --save " + model);
    REQUIRE_MESSAGE(trained.status == 0, trained.output);
    CAPTURE(trained.output);
    CHECK(trained.output.find("vocabulary 18") != std::string::npos);
    CHECK(trained.output.find("step     3  train loss") != std::string::npos);
    const double val = number_after(trained.output, "val_loss ");
    CHECK(val > 0.5);
    CHECK(val < 3.2);  // below log(18) = 2.89 plus a margin: it learnt something

    const std::string gen = "--model " + model + " --generate 200 --quiet ";
    const auto a = run(char_lstm, gen + "--seed 5");
    const auto b = run(char_lstm, gen + "--seed 5");
    const auto c = run(char_lstm, gen + "--seed 6 --temperature 1.5");
    REQUIRE_MESSAGE(a.status == 0, a.output);
    CHECK(a.output.size() == 200);
    CHECK(a.output == b.output);
    CHECK(a.output != c.output);
    const std::string alphabet = corpus();
    for (char ch : a.output) CHECK(alphabet.find(ch) != std::string::npos);
    // Greedy decoding from a prompt is deterministic whatever the seed.
    const auto g1 = run(char_lstm, gen + "--temperature 0 --prompt 'the c' --seed 1");
    const auto g2 = run(char_lstm, gen + "--temperature 0 --prompt 'the c' --seed 2");
    CHECK(g1.output == g2.output);
    // A character the model has never seen cannot start the text.
    check_usage_error(char_lstm, "--model " + model + " --generate 5 --prompt 'Q'",
                      "--prompt: the character 'Q' (byte 81) is not in the vocabulary of 18 "
                      "characters");
}

TEST_CASE("char_lstm: bad data and arguments are one error line and exit status 2") {
    check_usage_error(char_lstm, "--data /nonexistent/text.txt",
                      "cannot read text file '/nonexistent/text.txt': no such file");
    const std::string empty = write_text("char_lstm_empty.txt", "");
    check_usage_error(char_lstm, "--data " + empty, "text file '" + empty + "' is empty");
    const std::string short_text = write_text("char_lstm_short.txt", std::string(40, 'a') + "b");
    check_usage_error(char_lstm, "--data " + short_text + " --block-size 64",
                      "is longer than the text");
    check_usage_error(char_lstm, "--steps 0", "--steps must be at least 1, got 0");
    check_usage_error(char_lstm, "--generate 5", "--generate needs --model");
    check_usage_error(char_lstm, "--temperature -1", "--temperature must be finite and >= 0");
    check_usage_error(char_lstm, "--save /nonexistent/dir/m.safetensors",
                      "the directory /nonexistent/dir does not exist");
}
