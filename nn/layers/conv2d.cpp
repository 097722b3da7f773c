#include "nn/layers/conv2d.h"

#include <limits>
#include <stdexcept>

#include <nlohmann/json.hpp>
#include <xtensor/xbuilder.hpp>

#include "framework/errors.h"
#include "nn/io/layer_registry.h"
#include "nn/layers/initializers.h"
#include "ops/activation.h"

namespace xgrad::nn {

nlohmann::json Conv2D::config() const {
    return {{"filters", filters_},        {"kernel_size", kernel_size_},
            {"strides", strides_},        {"padding", padding_},
            {"dilation_rate", dilation_}, {"activation", activation_},
            {"use_bias", use_bias_},      {"kernel_initializer", kernel_initializer_}};
}

Conv2D Conv2D::from_config(const LayerConfig& c) {
    return Conv2D(c.count("filters"), c.pair("kernel_size"), c.pair("strides"), c.string("padding"),
                  c.string("activation"), c.boolean("use_bias"), c.string("kernel_initializer"),
                  c.pair("dilation_rate"));
}

std::optional<std::uint64_t> Conv2D::weight_count(const Shape& input_shape) const {
    if (input_shape.size() != 3) return std::nullopt;
    const std::uint64_t taps =
        saturating_product({kernel_size_[0], kernel_size_[1], input_shape[2]});
    if (taps == std::numeric_limits<std::uint64_t>::max()) return taps;
    return saturating_product({taps + (use_bias_ ? 1 : 0), filters_});
}

Conv2D::Conv2D(std::size_t filters, Size2 kernel_size, Size2 strides, std::string padding,
               std::string activation, bool use_bias, std::string kernel_initializer,
               Size2 dilation_rate)
    : filters_(filters),
      kernel_size_(kernel_size),
      strides_(strides),
      padding_(std::move(padding)),
      activation_(activation.empty() || activation == "none" ? "linear" : std::move(activation)),
      use_bias_(use_bias),
      kernel_initializer_(std::move(kernel_initializer)),
      dilation_(dilation_rate) {
    if (filters_ == 0) throw std::invalid_argument("Conv2D: filters must be positive, got 0");
    for (const auto& [what, v] :
         {std::pair{"kernel_size", kernel_size_}, std::pair{"strides", strides_},
          std::pair{"dilation_rate", dilation_}}) {
        if (v[0] == 0 || v[1] == 0) {
            throw std::invalid_argument(std::string("Conv2D: ") + what +
                                        " must be positive, got (" + std::to_string(v[0]) + ", " +
                                        std::to_string(v[1]) + ")");
        }
    }
    check_padding_name("Conv2D", padding_);
    check_activation_name(activation_);
    check_initializer_name(kernel_initializer_);
}

void Conv2D::check_rank(const Shape& input_shape) const {
    if (input_shape.size() != 3) {
        throw ShapeError(name(), "expected input of shape (None, height, width, channels), got " +
                                     format_batch_shape(input_shape) +
                                     "; a (None, 28, 28) batch needs Reshape({28, 28, 1}) first");
    }
}

Shape Conv2D::output_shape(const Shape& input_shape) const {
    check_rank(input_shape);
    const WindowAxis h =
        window_axis(input_shape[0], kernel_size_[0], strides_[0], dilation_[0], padding_);
    const WindowAxis w =
        window_axis(input_shape[1], kernel_size_[1], strides_[1], dilation_[1], padding_);
    if (h.out == 0 || w.out == 0) {
        throw ShapeError(
            name(), "input " + format_batch_shape(input_shape) + " is smaller than the kernel (" +
                        std::to_string(kernel_size_[0]) + ", " + std::to_string(kernel_size_[1]) +
                        ") with '" + padding_ + "' padding");
    }
    return {h.out, w.out, filters_};
}

void Conv2D::build(const Shape& input_shape) {
    if (!needs_build(input_shape)) return;
    output_shape(input_shape);  // checks rank and size
    const std::size_t in = input_shape[2];
    if (in == 0) throw ShapeError(name(), "expected at least one input channel, got 0");
    const std::size_t taps = kernel_size_[0] * kernel_size_[1];
    kernel_ = register_parameter(
        "kernel", initialize(kernel_initializer_, {kernel_size_[0], kernel_size_[1], in, filters_},
                             taps * in, taps * filters_));
    if (use_bias_) bias_ = register_parameter("bias", xt::zeros<float>({filters_}));
    Module::build(input_shape);
}

Variable Conv2D::forward(const Variable& x) {
    const Shape shape = x.shape();
    if (!built()) build(Shape(shape.begin() + (shape.empty() ? 0 : 1), shape.end()));
    check_input_shape(shape);
    if (activation_ == "relu") {  // fused: no pre-activation tensor, relu applied in cache
        return conv2d(x, kernel_, bias_, {strides_, padding_, dilation_, /*relu=*/true});
    }
    const Variable y = conv2d(x, kernel_, bias_, {strides_, padding_, dilation_});
    return activation_ == "linear" ? y : activate(activation_, y);
}

std::optional<Variable> Conv2D::forward_max_pooled(const Variable& x, const MaxPooling2D& pool) {
    const Size2 size = pool.pool_size(), strides = pool.strides();
    if (!built() || !pool.built() || (activation_ != "relu" && activation_ != "linear") ||
        strides[0] < size[0] || strides[1] < size[1]) {
        return std::nullopt;
    }
    check_input_shape(x.shape());
    return conv2d_max_pool(x, kernel_, bias_,
                           {strides_, padding_, dilation_, /*relu=*/activation_ == "relu"}, size,
                           strides, pool.padding());
}

}  // namespace xgrad::nn
