#include <doctest/doctest.h>

#include <algorithm>

#include "tests/datasets/helpers.h"
#include "xgrad.h"

using namespace xgrad;
using namespace xgrad::data;

TEST_CASE("the built-in datasets are registered by name") {
    const auto names = dataset_names();
    CHECK(std::find(names.begin(), names.end(), "fashion_mnist") != names.end());
    CHECK(std::find(names.begin(), names.end(), "mnist") != names.end());
    CHECK(std::is_sorted(names.begin(), names.end()));

    const std::string dir = test_data::write_mnist_dir("registry_mnist", true);
    auto test = make_dataset("mnist", dir, Split::test);
    CHECK(test->size() == 10);
    CHECK(make_dataset("fashion_mnist", dir, Split::train)->class_names()[0] == "T-shirt/top");
    CHECK_THROWS_AS(make_dataset("mnist", dir + "/missing", Split::train), DataNotFoundError);
}

TEST_CASE("a user registers their own dataset") {
    register_dataset("registry_test_tiny", [](const std::string& dir, Split split) {
        const std::size_t n = split == Split::train ? 6 : 2;
        Tensor x = Tensor::from_shape({n, 3});
        x.fill(dir.empty() ? 0.f : 1.f);
        IndexTensor y = IndexTensor::from_shape({n});
        y.fill(1);
        return std::make_shared<TensorDataset>(x, y, 2);
    });
    const auto names = dataset_names();
    CHECK(std::find(names.begin(), names.end(), "registry_test_tiny") != names.end());
    auto train = make_dataset("registry_test_tiny", "", Split::train);
    CHECK(train->size() == 6);
    CHECK(train->num_classes() == 2);
    CHECK(make_dataset("registry_test_tiny", "x", Split::test)->input(1)(2) == 1.f);
    DataLoader loader(train, {.batch_size = 4});
    CHECK(loader.num_batches() == 2);

    CHECK_THROWS_WITH_AS(
        register_dataset("registry_test_tiny", [](const std::string&, Split) { return nullptr; }),
        "register_dataset: a dataset named 'registry_test_tiny' is already registered",
        std::invalid_argument);
    CHECK_THROWS_AS(register_dataset("", [](const std::string&, Split) { return nullptr; }),
                    std::invalid_argument);
    CHECK_THROWS_AS(register_dataset("registry_test_null", DatasetFactory()),
                    std::invalid_argument);
    register_dataset("registry_test_returns_null",
                     [](const std::string&, Split) -> std::shared_ptr<Dataset> { return nullptr; });
    CHECK_THROWS_AS(make_dataset("registry_test_returns_null", "", Split::train),
                    std::runtime_error);
}

TEST_CASE("an unknown name lists the known ones") {
    CHECK_ERROR_CONTAINS(std::invalid_argument, make_dataset("cifar10", "", Split::train),
                         "unknown dataset 'cifar10' (known: fashion_mnist, ", "mnist");
}
