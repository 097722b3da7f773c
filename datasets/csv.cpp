#include "datasets/csv.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <unordered_map>

namespace xgrad::data {

namespace {

std::string join(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "'" : ", '") + n + "'";
    return out;
}

// The column `name` is not among `available`: the message lists them all.
std::invalid_argument no_column(const std::string& where, const std::string& name,
                                const std::vector<std::string>& available) {
    return std::invalid_argument(where + " has no column '" + name +
                                 "' (its columns: " + join(available) + ")");
}

std::ifstream open_file(const std::string& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        throw std::runtime_error("read_csv: cannot read '" + path + "': it is a directory");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error("read_csv: cannot open '" + path + "': " + std::strerror(errno));
    }
    return in;
}

std::string read_file(const std::string& path) {
    std::ifstream in = open_file(path);
    in.seekg(0, std::ios::end);
    const auto size = in.tellg();
    in.seekg(0, std::ios::beg);
    std::string bytes(size > 0 ? static_cast<std::size_t>(size) : 0, '\0');
    if (size < 0 || !in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()))) {
        throw std::runtime_error("read_csv: cannot read '" + path + "'");
    }
    return bytes;
}

bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
    return s;
}

// Splits one line into its cells (trimmed; quoted cells keep their quotes, see unquote()).
// Returns false for a malformed quote (a quote never closed, or text after a closing quote).
bool split_cells(std::string_view line, char delimiter, std::vector<std::string_view>& cells) {
    cells.clear();
    std::size_t pos = 0;
    while (true) {
        std::size_t start = pos;
        while (start < line.size() && is_blank(line[start])) ++start;
        std::size_t end = start;
        if (start < line.size() && line[start] == '"') {
            end = start + 1;
            while (true) {
                if (end >= line.size()) return false;
                if (line[end] == '"') {
                    if (end + 1 < line.size() && line[end + 1] == '"') {
                        end += 2;
                        continue;
                    }
                    break;
                }
                ++end;
            }
            ++end;  // past the closing quote
            std::size_t after = end;
            while (after < line.size() && is_blank(line[after])) ++after;
            if (after < line.size() && line[after] != delimiter) return false;
            cells.push_back(line.substr(start, end - start));
            pos = after;
        } else {
            while (end < line.size() && line[end] != delimiter) ++end;
            cells.push_back(trim(line.substr(pos, end - pos)));
            pos = end;
        }
        if (pos >= line.size()) return true;
        ++pos;  // past the delimiter
    }
}

// A quoted cell's text ("a ""b""" -> a "b"); other cells as they are.
std::string unquote(std::string_view cell) {
    if (cell.size() < 2 || cell.front() != '"') return std::string(cell);
    std::string out;
    for (std::size_t i = 1; i + 1 < cell.size(); ++i) {
        out += cell[i];
        if (cell[i] == '"') ++i;  // the second quote of ""
    }
    return out;
}

// The cell as a finite float, or false.
bool parse_number(std::string_view cell, float& out) {
    if (cell.size() >= 2 && cell.front() == '"' && cell.back() == '"') {
        cell = trim(cell.substr(1, cell.size() - 2));
    }
    // from_chars takes a minus sign but not a plus sign.
    if (!cell.empty() && cell.front() == '+' && (cell.size() < 2 || cell[1] != '-')) {
        cell.remove_prefix(1);
    }
    if (cell.empty()) return false;
    const auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), out);
    return ec == std::errc() && end == cell.data() + cell.size() && std::isfinite(out);
}

// The cell as the error message shows it, cut to 40 characters.
std::string show_cell(std::string_view cell) {
    if (cell.size() > 40) return std::string(cell.substr(0, 37)) + "...";
    return std::string(cell);
}

// The lines of a file's text, numbered from 1, without their line endings, blank ones skipped.
class Lines {
  public:
    explicit Lines(std::string_view text) : rest_(text) {
        if (rest_.substr(0, 3) == "\xEF\xBB\xBF") rest_.remove_prefix(3);  // UTF-8 byte-order mark
    }
    // The next non-blank line; false at the end of the text.
    bool next(std::string_view& line) {
        while (!rest_.empty()) {
            const std::size_t end = rest_.find('\n');
            line = rest_.substr(0, end);
            rest_.remove_prefix(end == std::string_view::npos ? rest_.size() : end + 1);
            ++number_;
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            if (!trim(line).empty()) return true;
        }
        return false;
    }
    std::size_t number() const { return number_; }

  private:
    std::string_view rest_;
    std::size_t number_ = 0;
};

// Splits line `line_no` of file `file` into `cells`, or throws for a malformed quote.
void split_or_throw(std::string_view line, char delimiter, const std::string& file,
                    std::size_t line_no, std::vector<std::string_view>& cells) {
    if (!split_cells(line, delimiter, cells)) {
        throw std::runtime_error("read_csv: " + file + " line " + std::to_string(line_no) +
                                 " has a quote that is not closed, or text after a closing quote");
    }
}

// The column names of the first non-blank line, or throws (empty file, duplicate name).
std::vector<std::string> parse_header(Lines& lines, const std::string& file,
                                      const CsvOptions& options) {
    std::string_view line;
    if (!lines.next(line)) {
        throw std::runtime_error("read_csv: " + file +
                                 " is empty; expected a header row of column names");
    }
    std::vector<std::string_view> cells;
    split_or_throw(line, options.delimiter, file, lines.number(), cells);
    std::vector<std::string> header;
    std::unordered_map<std::string, std::size_t> position;
    for (const auto& cell : cells) {
        header.push_back(unquote(cell));
        const auto [it, fresh] = position.emplace(header.back(), header.size() - 1);
        if (!fresh) {
            throw std::runtime_error("read_csv: " + file + " has the column name '" + it->first +
                                     "' twice in its header (columns " +
                                     std::to_string(it->second + 1) + " and " +
                                     std::to_string(header.size()) + ")");
        }
    }
    return header;
}

}  // namespace

Tensor CsvTable::select(const std::vector<std::string>& names) const {
    std::vector<std::size_t> index;
    for (const auto& name : names) {
        std::size_t k = 0;
        while (k < columns.size() && columns[k] != name) ++k;
        if (k == columns.size())
            throw no_column("the table read from '" + path + "'", name, columns);
        index.push_back(k);
    }
    const std::size_t n = rows(), width = columns.size();
    Tensor out = Tensor::from_shape({n, names.size()});
    for (std::size_t r = 0; r < n; ++r)
        for (std::size_t k = 0; k < index.size(); ++k)
            out.data()[r * index.size() + k] = values.data()[r * width + index[k]];
    return out;
}

CsvTable read_csv(const std::string& path, const std::vector<std::string>& columns,
                  const CsvOptions& options) {
    const std::string text = read_file(path);
    const std::string file = "'" + path + "'";
    Lines lines(text);
    CsvTable table;
    table.path = path;
    table.header = parse_header(lines, file, options);
    table.columns = columns.empty() ? table.header : columns;
    std::vector<std::size_t> wanted;  // header position of each column read
    for (const auto& name : table.columns) {
        const auto it = std::find(table.header.begin(), table.header.end(), name);
        if (it == table.header.end()) throw no_column("read_csv: " + file, name, table.header);
        wanted.push_back(static_cast<std::size_t>(it - table.header.begin()));
    }

    std::vector<float> values;
    std::vector<std::string_view> cells;
    std::size_t rows = 0;
    std::string_view line;
    while (lines.next(line)) {
        split_or_throw(line, options.delimiter, file, lines.number(), cells);
        if (cells.size() != table.header.size()) {
            throw std::runtime_error("read_csv: " + file + " line " +
                                     std::to_string(lines.number()) + " has " +
                                     std::to_string(cells.size()) + " cells but the header has " +
                                     std::to_string(table.header.size()) + " columns");
        }
        for (const std::size_t k : wanted) {
            float v = 0;
            if (!parse_number(cells[k], v)) {
                throw std::runtime_error("read_csv: " + file + " line " +
                                         std::to_string(lines.number()) + ", column " +
                                         std::to_string(k + 1) + " ('" + table.header[k] + "'): '" +
                                         show_cell(cells[k]) + "' is not a finite number");
            }
            values.push_back(v);
        }
        ++rows;
    }
    if (rows == 0) {
        throw std::runtime_error("read_csv: " + file + " has a header row but no data rows");
    }
    table.values = Tensor::from_shape({rows, wanted.size()});
    std::copy(values.begin(), values.end(), table.values.data());
    return table;
}

std::vector<std::string> read_csv_header(const std::string& path, const CsvOptions& options) {
    std::ifstream in = open_file(path);
    // Up to the first non-blank line only: a header needs no pass over a large file.
    std::string text, line;
    std::string_view first;
    while (std::getline(in, line)) {
        text += line + "\n";
        if (Lines(text).next(first)) break;
    }
    Lines lines(text);
    return parse_header(lines, "'" + path + "'", options);
}

}  // namespace xgrad::data
