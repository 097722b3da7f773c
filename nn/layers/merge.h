// Merge layers: Keras' Add, Subtract, Multiply, Average, Maximum and Concatenate, which take a
// list of inputs (the functional API: nn::Add()({a, b})) and return one output. No weights.
//
//   auto sum = nn::Add()({branch_a, branch_b});          // same shapes, elementwise
//   auto both = nn::Concatenate(-1)({features, extra});  // joined along the last axis
#pragma once

#include <string>
#include <vector>

#include "nn/module.h"

namespace xgrad::nn {

// The shared part of the elementwise merges: two or more inputs of one shape (Subtract: two).
class Merge : public Module {
  public:
    std::vector<Variable> forward(const std::vector<Variable>& inputs) override;
    using Module::forward;
    void build(const std::vector<Shape>& input_shapes) override;
    using Module::build;
    std::vector<Shape> output_shapes(const std::vector<Shape>& input_shapes) const override;
    std::optional<std::uint64_t> weight_count(const Shape&) const override { return 0; }

  protected:
    // The merge of the checked inputs.
    virtual Variable merge(const std::vector<Variable>& inputs) const = 0;
    // The one output shape, or a ShapeError naming this layer and the shapes.
    virtual Shape merged_shape(const std::vector<Shape>& input_shapes) const;
    void check_count(std::size_t n) const;
};

class Add : public Merge {
  public:
    std::string type_name() const override { return "Add"; }

  protected:
    Variable merge(const std::vector<Variable>& inputs) const override;
};

// The first input minus the second.
class Subtract : public Merge {
  public:
    std::string type_name() const override { return "Subtract"; }

  protected:
    Variable merge(const std::vector<Variable>& inputs) const override;
};

class Multiply : public Merge {
  public:
    std::string type_name() const override { return "Multiply"; }

  protected:
    Variable merge(const std::vector<Variable>& inputs) const override;
};

class Average : public Merge {
  public:
    std::string type_name() const override { return "Average"; }

  protected:
    Variable merge(const std::vector<Variable>& inputs) const override;
};

class Maximum : public Merge {
  public:
    std::string type_name() const override { return "Maximum"; }

  protected:
    Variable merge(const std::vector<Variable>& inputs) const override;
};

// Joins the inputs along `axis` of the per-example shape (-1, the default: the last axis);
// the other axes must agree.
class Concatenate : public Merge {
  public:
    explicit Concatenate(int axis = -1) : axis_(axis) {}
    int axis() const { return axis_; }
    std::string type_name() const override { return "Concatenate"; }
    nlohmann::json config() const override;
    static Concatenate from_config(const LayerConfig& config);

  protected:
    Variable merge(const std::vector<Variable>& inputs) const override;
    Shape merged_shape(const std::vector<Shape>& input_shapes) const override;

  private:
    // The axis within the per-example shape of rank `rank`, or a ShapeError.
    std::size_t example_axis(std::size_t rank) const;
    int axis_;
};

}  // namespace xgrad::nn
