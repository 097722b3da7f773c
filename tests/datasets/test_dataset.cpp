#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include <xtensor/xbuilder.hpp>
#include <xtensor/xview.hpp>

#include "framework/errors.h"
#include "framework/testing.h"
#include "tests/datasets/helpers.h"
#include "xgrad.h"

using namespace xgrad;
using namespace xgrad::data;

namespace {
// Four examples of shape (2, 3) holding 0..23, labels 0, 2, 1, 2.
std::shared_ptr<TensorDataset> four() {
    Tensor x = xt::arange<float>(24.f);
    x.reshape({4, 2, 3});
    return std::make_shared<TensorDataset>(x, IndexTensor{0, 2, 1, 2});
}

std::vector<std::size_t> all_indices(const Dataset& d) {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < d.size(); ++i) out.push_back(i);
    return out;
}
}  // namespace

TEST_CASE("TensorDataset: size, shape, classes and gathered batches") {
    auto d = four();
    CHECK(d->size() == 4);
    CHECK(d->example_shape() == Shape{2, 3});
    CHECK(d->num_classes() == 3);  // inferred as max + 1
    CHECK(d->class_names() == std::vector<std::string>{"0", "1", "2"});
    CHECK(d->label(1) == 2);
    CHECK(d->class_name_of(2) == "1");

    Batch b;
    d->get_batch({3, 0, 3}, b);
    CHECK(to_shape(b.input().shape()) == Shape{3, 2, 3});
    Tensor expected = {18.f, 19.f, 20.f, 21.f, 22.f, 23.f, 0.f,  1.f,  2.f,
                       3.f,  4.f,  5.f,  18.f, 19.f, 20.f, 21.f, 22.f, 23.f};
    expected.reshape({3, 2, 3});
    XGRAD_CHECK_TENSOR_CLOSE(b.input(), expected);
    CHECK(b.target() == Tensor{2.f, 0.f, 2.f});

    Tensor one = d->input(1);
    CHECK(to_shape(one.shape()) == Shape{2, 3});
    CHECK(one(1, 2) == 11.f);
    CHECK(TensorDataset(Tensor::from_shape({2, 5}), IndexTensor{0, 1}, 7).num_classes() == 7);
}

TEST_CASE("get_batch reuses the batch's buffers while the shapes match") {
    auto d = four();
    Batch b;
    d->get_batch({0, 1}, b);
    const float* inputs = b.input().data();
    const float* labels = b.target().data();
    d->get_batch({2, 3}, b);
    CHECK(b.input().data() == inputs);
    CHECK(b.target().data() == labels);
    CHECK(b.input()(1, 0, 0) == 18.f);
    d->get_batch({1}, b);  // a different size resizes
    CHECK(to_shape(b.input().shape()) == Shape{1, 2, 3});
    CHECK(b.target().size() == 1);
    CHECK(b.input()(0, 0, 0) == 6.f);
}

TEST_CASE("TensorDataset: bad inputs and indices are clear errors") {
    CHECK_THROWS_WITH_AS(TensorDataset(Tensor::from_shape({3, 2}), IndexTensor{0, 1}),
                         "TensorDataset: inputs (3, 2) and labels (2,) hold different numbers "
                         "of examples",
                         ShapeError);
    CHECK_THROWS_AS(TensorDataset(Tensor::from_shape({2, 2}), IndexTensor::from_shape({2, 1})),
                    ShapeError);
    CHECK_THROWS_AS(TensorDataset(Tensor(1.f), IndexTensor{0}), ShapeError);
    CHECK_THROWS_WITH_AS(TensorDataset(Tensor::from_shape({2, 2}), IndexTensor{0, -1}),
                         "TensorDataset: label -1 of example 1 is negative", std::invalid_argument);
    CHECK_THROWS_WITH_AS(TensorDataset(Tensor::from_shape({2, 2}), IndexTensor{0, 3}, 3),
                         "TensorDataset: label 3 of example 1 is outside 0..2",
                         std::invalid_argument);
    auto d = four();
    Batch b;
    CHECK_THROWS_WITH_AS(d->get_batch({0, 4}, b),
                         "TensorDataset: index 4 (position 1 of the batch) is out of range for 4 "
                         "examples",
                         std::out_of_range);
    CHECK_THROWS_AS(d->label(4), std::out_of_range);
}

TEST_CASE("Subset: maps indices to its parent, nested subsets too") {
    auto d = four();
    auto s = std::make_shared<Subset>(d, std::vector<std::size_t>{3, 1, 1});
    CHECK(s->size() == 3);
    CHECK(s->example_shape() == Shape{2, 3});
    CHECK(s->num_classes() == 3);
    CHECK(s->label(0) == 2);
    CHECK(s->label(2) == 2);
    Batch b;
    s->get_batch({2, 0}, b);
    CHECK(b.target() == Tensor{2.f, 2.f});
    CHECK(b.input()(0, 0, 0) == 6.f);
    CHECK(b.input()(1, 0, 0) == 18.f);
    Subset nested(s, {0});
    nested.get_batch({0}, b);
    CHECK(b.input()(0, 1, 2) == 23.f);

    CHECK_THROWS_WITH_AS(Subset(d, {0, 9}),
                         "Subset: index 9 (position 1 of the batch) is out of range for 4 "
                         "examples",
                         std::out_of_range);
    CHECK_THROWS_AS(Subset(nullptr, {}), std::invalid_argument);
    CHECK_THROWS_AS(s->get_batch({3}, b), std::out_of_range);
}

TEST_CASE("random_permutation: a reproducible permutation per (seed, stream)") {
    const auto p = random_permutation(100, 42, 3);
    auto sorted = p;
    std::sort(sorted.begin(), sorted.end());
    for (std::size_t i = 0; i < 100; ++i) CHECK(sorted[i] == i);
    CHECK(random_permutation(100, 42, 3) == p);
    CHECK(random_permutation(100, 42, 4) != p);
    CHECK(random_permutation(100, 43, 3) != p);
    CHECK(random_permutation(0, 1).empty());
    CHECK(random_permutation(1, 1) == std::vector<std::size_t>{0});
}

TEST_CASE("train_validation_split: Keras' last fraction with seed 0, a random one otherwise") {
    Tensor x = xt::arange<float>(10.f);
    x.reshape({10, 1});
    auto d = std::make_shared<TensorDataset>(x, IndexTensor{0, 1, 0, 1, 0, 1, 0, 1, 0, 1});

    auto [train, val] = train_validation_split(d, 0.2, 0);
    CHECK(train->size() == 8);
    CHECK(val->size() == 2);
    Batch b;
    val->get_batch(all_indices(*val), b);
    CHECK(b.input()(0, 0) == 8.f);
    CHECK(b.input()(1, 0) == 9.f);
    // Keras: split_at = int(n * (1 - fraction)) = int(7.5) = 7.
    auto [t25, v25] = train_validation_split(d, 0.25);
    CHECK(t25->size() == 7);
    CHECK(v25->size() == 3);

    auto [rt, rv] = train_validation_split(d, 0.3, 7);
    CHECK(rt->size() == 7);
    CHECK(rv->size() == 3);
    const auto& ti = std::static_pointer_cast<Subset>(rt)->indices();
    const auto& vi = std::static_pointer_cast<Subset>(rv)->indices();
    std::set<std::size_t> all(ti.begin(), ti.end());
    all.insert(vi.begin(), vi.end());
    CHECK(all.size() == 10);  // disjoint and complete
    CHECK(std::is_sorted(vi.begin(), vi.end()));
    CHECK(vi != std::vector<std::size_t>{7, 8, 9});
    auto again = train_validation_split(d, 0.3, 7);
    CHECK(std::static_pointer_cast<Subset>(again.second)->indices() == vi);

    CHECK_THROWS_AS(train_validation_split(d, 0.0, 0), std::invalid_argument);
    CHECK_THROWS_AS(train_validation_split(d, 1.0, 0), std::invalid_argument);
    CHECK_THROWS_AS(train_validation_split(nullptr, 0.5, 0), std::invalid_argument);
    CHECK_ERROR_CONTAINS(std::invalid_argument, train_validation_split(d, 0.95, 0),
                         "leaves an empty training set");
    CHECK_ERROR_CONTAINS(std::invalid_argument, train_validation_split(d, 1e-17, 0),
                         "leaves an empty validation set");
}

TEST_CASE("TensorDataset: float targets of any shape, several inputs, no targets") {
    Tensor x = xt::arange<float>(6.f);
    x.reshape({3, 2});
    Tensor y = {{0.5f, 1.f, 0.f}, {1.f, 0.f, 1.f}, {0.f, 0.f, 0.25f}};  // multi-label
    TensorDataset d(x, y);
    CHECK(d.size() == 3);
    CHECK(d.input_shapes() == std::vector<Shape>{{2}});
    CHECK(d.target_shapes() == std::vector<Shape>{{3}});
    CHECK(d.num_classes() == 0);
    CHECK_THROWS_WITH_AS(d.label(0),
                         "label(0): this dataset has no class labels (num_classes() is 0)",
                         std::logic_error);
    Batch b;
    d.get_batch({2, 0}, b);
    CHECK(b.size() == 2);
    CHECK(b.target() == Tensor{{0.f, 0.f, 0.25f}, {0.5f, 1.f, 0.f}});
    CHECK(b.input() == Tensor{{4.f, 5.f}, {0.f, 1.f}});

    Tensor z = xt::arange<float>(3.f);
    TensorDataset two({x, z}, {y});
    CHECK(two.input_shapes() == std::vector<Shape>{{2}, {}});
    two.get_batch({1}, b);
    CHECK(b.inputs.size() == 2);
    CHECK(b.inputs[1] == Tensor{1.f});
    CHECK_THROWS_WITH_AS(b.input(), "Batch: input() needs exactly one input, the batch has 2",
                         std::logic_error);
    CHECK_THROWS_WITH_AS(two.example_shape(),
                         "example_shape: the dataset has 2 inputs, not one; use input_shapes()",
                         std::logic_error);

    TensorDataset inputs_only(std::vector<Tensor>{x}, std::vector<Tensor>{});
    CHECK(inputs_only.target_shapes().empty());
    inputs_only.get_batch({0}, b);
    CHECK(b.targets.empty());

    CHECK_THROWS_WITH_AS(TensorDataset(x, Tensor::from_shape({2, 1})),
                         "TensorDataset: target 0 (2, 1) and input 0 (3, 2) hold different "
                         "numbers of examples",
                         ShapeError);
    CHECK_THROWS_AS(TensorDataset(std::vector<Tensor>{}, std::vector<Tensor>{}),
                    std::invalid_argument);
    CHECK_THROWS_AS(TensorDataset(x, Tensor(1.f)), ShapeError);
}

TEST_CASE("the labels of a classification TensorDataset are whole float targets") {
    auto d = four();
    CHECK(d->target_shapes() == std::vector<Shape>{{}});
    CHECK(d->targets()[0] == Tensor{0.f, 2.f, 1.f, 2.f});
}
