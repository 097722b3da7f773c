// A dataset over the columns of a CSV file (see datasets/csv.h): the feature columns are the one
// input, (features,) per example, and the target columns the one target, (targets,) per example.
//
//   auto data = std::make_shared<data::CsvDataset>("cancer.csv", all_but_target, {"target"});
//   auto [train, test] = data::train_validation_split(data, 0.2, /*seed=*/42);
#pragma once

#include <string>
#include <vector>

#include "datasets/csv.h"
#include "datasets/dataset.h"

namespace xgrad::data {

class CsvDataset : public TensorDataset {
  public:
    // Reads only the named columns. `targets` may be empty (a dataset to predict on). Besides
    // read_csv's errors (a missing column, a cell that is not a number, ...), no feature
    // column, or a column that is both a feature and a target, is a std::invalid_argument.
    CsvDataset(const std::string& path, std::vector<std::string> features,
               std::vector<std::string> targets, const CsvOptions& options = {});

    const std::string& path() const { return path_; }
    const std::vector<std::string>& feature_columns() const { return features_; }
    const std::vector<std::string>& target_columns() const { return targets_; }

  private:
    // (References, not values: the public constructor's arguments are still read while this
    // one's parameters are initialised.)
    CsvDataset(const CsvTable& table, const std::vector<std::string>& features,
               const std::vector<std::string>& targets);

    std::string path_;
    std::vector<std::string> features_, targets_;
};

}  // namespace xgrad::data
