#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include "datasets/csv_dataset.h"
#include "framework/testing.h"
#include "helpers.h"

using namespace xgrad;

namespace {

std::string write_table(const std::string& name) {
    const std::string path = test_data::tmp_path(name);
    std::ofstream(path, std::ios::binary) << "id,x1,label,x2,y\n"
                                             "a,1,0,10,0.5\n"
                                             "b,2,1,20,1.5\n"
                                             "c,3,0,30,2.5\n";
    return path;
}

}  // namespace

TEST_CASE("CsvDataset: the feature columns are the input, the target columns the target") {
    const auto path = write_table("csv_dataset.csv");
    data::CsvDataset ds(path, {"x2", "x1"}, {"label", "y"});
    CHECK(ds.size() == 3);
    CHECK(ds.path() == path);
    CHECK(ds.feature_columns() == std::vector<std::string>{"x2", "x1"});
    CHECK(ds.target_columns() == std::vector<std::string>{"label", "y"});
    CHECK(ds.input_shapes() == std::vector<Shape>{{2}});
    CHECK(ds.target_shapes() == std::vector<Shape>{{2}});
    data::Batch b;
    ds.get_batch({2, 0}, b);
    XGRAD_CHECK_TENSOR_CLOSE(b.input(), Tensor({{30.f, 3.f}, {10.f, 1.f}}), 0.0, 0.0);
    XGRAD_CHECK_TENSOR_CLOSE(b.target(), Tensor({{0.f, 2.5f}, {0.f, 0.5f}}), 0.0, 0.0);
    // No target: a dataset to predict on.
    data::CsvDataset features_only(path, {"x1"}, {});
    CHECK(features_only.target_shapes().empty());
}

TEST_CASE("CsvDataset: no feature, a column both feature and target, a missing column") {
    const auto path = write_table("csv_dataset_bad.csv");
    CHECK_ERROR_CONTAINS(std::invalid_argument, data::CsvDataset(path, {}, {"y"}),
                         "no feature column was given");
    CHECK_ERROR_CONTAINS(std::invalid_argument, data::CsvDataset(path, {"x1", "y"}, {"y"}),
                         "column 'y' is both a feature and a target");
    CHECK_ERROR_CONTAINS(std::invalid_argument, data::CsvDataset(path, {"x1"}, {"z"}),
                         "has no column 'z' (its columns: 'id', 'x1', 'label', 'x2', 'y')");
    // The text column is an error only when it is read.
    CHECK_ERROR_CONTAINS(std::runtime_error, data::CsvDataset(path, {"id"}, {"y"}),
                         "line 2, column 1 ('id'): 'a' is not a finite number");
}
