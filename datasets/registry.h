// Datasets by name, so programs can take `--dataset NAME`. Built in: "fashion_mnist", "mnist".
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "datasets/mnist.h"

namespace xgrad::data {

// Builds a dataset from a data directory ("" = the dataset's default lookup) and a split.
using DatasetFactory = std::function<std::shared_ptr<Dataset>(const std::string& dir, Split)>;

// Adds a dataset under `name`. Throws std::invalid_argument for an empty name, a null factory or
// a name already registered. Thread-safe.
void register_dataset(const std::string& name, DatasetFactory factory);

// Builds the dataset registered as `name`; an unknown name throws std::invalid_argument listing
// the known ones.
std::shared_ptr<Dataset> make_dataset(const std::string& name, const std::string& dir, Split split);

// The registered names, sorted.
std::vector<std::string> dataset_names();

}  // namespace xgrad::data
