// CSV files of numbers: a header row of column names, then one row of numbers per example.
//
//   radius,texture,malignant
//   17.99,10.38,1
//   13.54,14.36,0
//
// Cells are separated by a delimiter (',' by default); spaces and tabs around a cell are
// ignored; a cell may be double-quoted ("a,b"; "" stands for one quote) but may not span
// lines. Line endings are \n or \r\n, a UTF-8 byte-order mark is skipped, blank lines are
// skipped. A number is decimal or scientific with an optional sign (-1.5, +2, 3e-4); empty
// cells, nan and inf are errors, so a missing value is never read as a silent NaN.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "framework/tensor.h"

namespace xgrad::data {

struct CsvOptions {
    char delimiter = ',';
};

// The columns read from one CSV file.
struct CsvTable {
    std::string path;
    std::vector<std::string> header;   // every column of the file, in the file's order
    std::vector<std::string> columns;  // the columns read, in the order they were asked for
    Tensor values;                     // (rows, columns.size()) float32

    std::size_t rows() const { return values.shape()[0]; }
    // The named columns (each among `columns`) as a (rows, names.size()) tensor; an unknown
    // name is a std::invalid_argument that lists the columns read.
    Tensor select(const std::vector<std::string>& names) const;
};

// Reads the named columns of a CSV file (every column when `columns` is empty); the cells of
// the other columns are not parsed, so they may hold text. Errors are one sentence naming the
// file: std::invalid_argument for a column that is not in the header (listing the header's
// columns); std::runtime_error for a file that cannot be read, an empty file, a header without
// data rows, a duplicate column name, a row with more or fewer cells than the header, a
// malformed quote, or a cell that is not a number (with its line, column number and name).
CsvTable read_csv(const std::string& path, const std::vector<std::string>& columns = {},
                  const CsvOptions& options = {});

// The column names of a CSV file's header row (reading up to it only), with read_csv's errors
// for a file that cannot be read, an empty file, a malformed quote or a duplicate name.
std::vector<std::string> read_csv_header(const std::string& path, const CsvOptions& options = {});

}  // namespace xgrad::data
