#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include <xtensor/xadapt.hpp>

#include "datasets/csv.h"
#include "framework/testing.h"
#include "helpers.h"

using namespace xgrad;
using test_data::tmp_path;

namespace {

// Writes `text` to a fresh file `name` and returns its path.
std::string write_text(const std::string& name, const std::string& text) {
    const std::string path = tmp_path(name);
    std::ofstream(path, std::ios::binary) << text;
    return path;
}

// A (n, 1) tensor.
Tensor column(std::vector<float> v) {
    Tensor t = xt::adapt(v, {v.size()});
    t.reshape({v.size(), 1});
    return t;
}

}  // namespace

TEST_CASE("read_csv reads every column, in the header's order") {
    const auto path = write_text("csv_all.csv", "a,b,c\n1,2,3\n4.5,-6,7e-1\n");
    const auto t = data::read_csv(path);
    CHECK(t.path == path);
    CHECK(t.header == std::vector<std::string>{"a", "b", "c"});
    CHECK(t.columns == t.header);
    CHECK(t.rows() == 2);
    XGRAD_CHECK_TENSOR_CLOSE(t.values, Tensor({{1.f, 2.f, 3.f}, {4.5f, -6.f, 0.7f}}), 0.0, 0.0);
}

TEST_CASE("read_csv reads the named columns in the order asked and skips the others' text") {
    const auto path =
        write_text("csv_some.csv", "id,x,label,y\nalice,1,yes,10\nbob,2,no,20\ncarol,3,yes,30\n");
    const auto t = data::read_csv(path, {"y", "x"});
    CHECK(t.header == std::vector<std::string>{"id", "x", "label", "y"});
    CHECK(t.columns == std::vector<std::string>{"y", "x"});
    XGRAD_CHECK_TENSOR_CLOSE(t.values, Tensor({{10.f, 1.f}, {20.f, 2.f}, {30.f, 3.f}}), 0.0, 0.0);
    XGRAD_CHECK_TENSOR_CLOSE(t.select({"x"}), column({1.f, 2.f, 3.f}), 0.0, 0.0);
    XGRAD_CHECK_TENSOR_CLOSE(t.select({"x", "y", "x"}),
                             Tensor({{1.f, 10.f, 1.f}, {2.f, 20.f, 2.f}, {3.f, 30.f, 3.f}}), 0.0,
                             0.0);
    CHECK_ERROR_CONTAINS(std::invalid_argument, t.select({"id"}), "has no column 'id'",
                         "its columns: 'y', 'x'");
}

TEST_CASE("read_csv: CRLF, a byte-order mark, blank lines, spaces, quotes and signs") {
    const auto path = write_text("csv_forms.csv",
                                 "\xEF\xBB\xBF \"first, col\" ;\"say \"\"hi\"\"\";c\r\n"
                                 "\r\n"
                                 " +1.5 ;\t\"-2\" ;.25\r\n"
                                 "   \n"
                                 "1E3;-0;3.\r\n");
    const auto t = data::read_csv(path, {}, {.delimiter = ';'});
    CHECK(t.header == std::vector<std::string>{"first, col", "say \"hi\"", "c"});
    XGRAD_CHECK_TENSOR_CLOSE(t.values, Tensor({{1.5f, -2.f, 0.25f}, {1000.f, 0.f, 3.f}}), 0.0, 0.0);
}

TEST_CASE("read_csv parses to the nearest float, like a correctly rounded strtof") {
    const auto path = write_text("csv_round.csv", "v\n0.1\n3.4028234e38\n1e-45\n0.07871\n");
    const auto t = data::read_csv(path);
    CHECK(t.values(0, 0) == 0.1f);
    CHECK(t.values(1, 0) == 3.4028234e38f);
    CHECK(t.values(2, 0) == 1e-45f);
    CHECK(t.values(3, 0) == 0.07871f);
}

TEST_CASE("read_csv: a file without a final newline keeps its last row") {
    const auto t = data::read_csv(write_text("csv_nonl.csv", "a\n1\n2"));
    CHECK(t.rows() == 2);
    CHECK(t.values(1, 0) == 2.f);
}

TEST_CASE("read_csv: a missing file, a directory, an empty file, a header without rows") {
    const auto missing = tmp_path("csv_missing.csv");
    CHECK_ERROR_CONTAINS(std::runtime_error, data::read_csv(missing),
                         "cannot open '" + missing + "'", "No such file");
    CHECK_ERROR_CONTAINS(std::runtime_error, data::read_csv(test_data::tmp_dir("csv_dir")),
                         "it is a directory");
    const auto empty = write_text("csv_empty.csv", "");
    CHECK_ERROR_CONTAINS(std::runtime_error, data::read_csv(empty),
                         "'" + empty + "' is empty; expected a header row of column names");
    CHECK_ERROR_CONTAINS(std::runtime_error, data::read_csv(write_text("csv_blank.csv", "\n \r\n")),
                         "is empty");
    CHECK_ERROR_CONTAINS(std::runtime_error, data::read_csv(write_text("csv_head.csv", "a,b\n")),
                         "has a header row but no data rows");
}

TEST_CASE("read_csv: a missing column is named with the columns the file has") {
    const auto path = write_text("csv_nocol.csv", "x,y,label\n1,2,0\n");
    CHECK_ERROR_CONTAINS(std::invalid_argument, data::read_csv(path, {"x", "lable"}),
                         "'" + path + "' has no column 'lable'",
                         "(its columns: 'x', 'y', 'label')");
}

TEST_CASE("read_csv: a cell that is not a number names the file, line, column and cell") {
    // Line 4 is the third data row: the blank line 3 still counts.
    const auto path = write_text("csv_nan.csv", "x,y\n1,2\n\n3,abc\n");
    CHECK_ERROR_CONTAINS(std::runtime_error, data::read_csv(path),
                         "'" + path + "' line 4, column 2 ('y'): 'abc' is not a finite number");
    for (const std::string cell : {"", "nan", "inf", "-inf", "1.5.2", "1,5", "0x10", "1e99", "+",
                                   "++1", "+-1", "1 2", "\"\""}) {
        CAPTURE(cell);
        const std::string text =
            "x,y\n1,2\n1," + (cell == "1,5" ? std::string("\"1,5\"") : cell) + "\n";
        CHECK_ERROR_CONTAINS(std::runtime_error,
                             data::read_csv(write_text("csv_bad_cell.csv", text)),
                             "line 3, column 2 ('y')", "is not a finite number");
    }
    // Only the columns read are parsed.
    CHECK(data::read_csv(path, {"x"}).rows() == 2);
}

TEST_CASE("read_csv: a long bad cell is cut short in the message") {
    const std::string cell(100, 'z');
    const auto path = write_text("csv_long.csv", "x\n" + cell + "\n");
    CHECK_ERROR_CONTAINS(std::runtime_error, data::read_csv(path),
                         "'" + std::string(37, 'z') + "...' is not a finite number");
}

TEST_CASE("read_csv: a ragged row, a bad quote and a duplicate column are errors") {
    CHECK_ERROR_CONTAINS(std::runtime_error,
                         data::read_csv(write_text("csv_short.csv", "a,b,c\n1,2,3\n4,5\n")),
                         "line 3 has 2 cells but the header has 3 columns");
    CHECK_ERROR_CONTAINS(std::runtime_error,
                         data::read_csv(write_text("csv_long_row.csv", "a,b\n1,2,3\n")),
                         "line 2 has 3 cells but the header has 2 columns");
    // A trailing delimiter is one more (empty) cell.
    CHECK_ERROR_CONTAINS(std::runtime_error,
                         data::read_csv(write_text("csv_trailing.csv", "a,b\n1,2,\n")),
                         "line 2 has 3 cells");
    CHECK_ERROR_CONTAINS(std::runtime_error,
                         data::read_csv(write_text("csv_quote.csv", "a,b\n1,\"2\n")),
                         "line 2 has a quote that is not closed");
    CHECK_ERROR_CONTAINS(std::runtime_error,
                         data::read_csv(write_text("csv_after.csv", "\"a\"x,b\n1,2\n")),
                         "line 1 has a quote that is not closed, or text after a closing quote");
    CHECK_ERROR_CONTAINS(std::runtime_error,
                         data::read_csv(write_text("csv_dup.csv", "a,b,a\n1,2,3\n")),
                         "has the column name 'a' twice in its header (columns 1 and 3)");
}

TEST_CASE("read_csv_header reads the column names alone, with the same errors") {
    const auto path = write_text("csv_header.csv",
                                 "\xEF\xBB\xBF\n  \r\n\"x, 1\",y,label\r\n1,2,0\nnot,even,numbers\n");
    CHECK(data::read_csv_header(path) == std::vector<std::string>{"x, 1", "y", "label"});
    CHECK(data::read_csv_header(write_text("csv_header_only.csv", "a;b")) ==
          std::vector<std::string>{"a;b"});
    CHECK(data::read_csv_header(write_text("csv_header_semi.csv", "a;b"), {.delimiter = ';'}) ==
          std::vector<std::string>{"a", "b"});
    CHECK_ERROR_CONTAINS(std::runtime_error, data::read_csv_header(tmp_path("csv_none.csv")),
                         "cannot open");
    CHECK_ERROR_CONTAINS(std::runtime_error,
                         data::read_csv_header(write_text("csv_header_empty.csv", "\n\n")),
                         "is empty; expected a header row");
    CHECK_ERROR_CONTAINS(std::runtime_error,
                         data::read_csv_header(write_text("csv_header_dup.csv", "a,a\n")),
                         "has the column name 'a' twice");
}
