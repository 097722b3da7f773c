#include "datasets/csv_dataset.h"

#include <algorithm>
#include <stdexcept>

namespace xgrad::data {

namespace {

// The columns read for a dataset: features then targets, checked to be disjoint.
std::vector<std::string> dataset_columns(const std::string& path,
                                         const std::vector<std::string>& features,
                                         const std::vector<std::string>& targets) {
    if (features.empty()) {
        throw std::invalid_argument("CsvDataset '" + path + "': no feature column was given");
    }
    for (const auto& t : targets) {
        if (std::find(features.begin(), features.end(), t) != features.end()) {
            throw std::invalid_argument("CsvDataset '" + path + "': column '" + t +
                                        "' is both a feature and a target");
        }
    }
    std::vector<std::string> columns = features;
    columns.insert(columns.end(), targets.begin(), targets.end());
    return columns;
}

}  // namespace

CsvDataset::CsvDataset(const std::string& path, std::vector<std::string> features,
                       std::vector<std::string> targets, const CsvOptions& options)
    : CsvDataset(read_csv(path, dataset_columns(path, features, targets), options), features,
                 targets) {}

CsvDataset::CsvDataset(const CsvTable& table, const std::vector<std::string>& features,
                       const std::vector<std::string>& targets)
    : TensorDataset(
          std::vector<Tensor>{table.select(features)},
          targets.empty() ? std::vector<Tensor>{} : std::vector<Tensor>{table.select(targets)}),
      path_(table.path),
      features_(features),
      targets_(targets) {}

}  // namespace xgrad::data
