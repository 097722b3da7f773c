#include "nn/training/losses.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <xtensor/xmath.hpp>

#include "framework/errors.h"
#include "framework/names.h"
#include "ops/activation.h"
#include "ops/elementwise.h"
#include "ops/loss.h"
#include "ops/reduce.h"
#include "ops/shape.h"

namespace xgrad::nn {

namespace {

constexpr float kEps = 1e-7f;  // Keras' epsilon

bool made_by(const Variable& v, const char* op) {
    return !v.is_leaf() && std::string(v.op()) == op && v.node()->inputs.size() == 1;
}

// The input of the softmax / sigmoid that produced `v`: its logits.
Variable input_of(const Variable& v) {
    return Variable(v.node()->inputs[0]);
}

// The target in the prediction's shape: equal shapes, or the same values with a trailing axis
// of 1 added or removed (Keras squeezes or expands the target the same way).
Variable match_target(const char* loss, const Variable& prediction, const Variable& target) {
    const Shape p = prediction.shape(), t = target.shape();
    if (p == t) return target;
    auto with_one = [](Shape s) {
        s.push_back(1);
        return s;
    };
    if (with_one(t) == p || with_one(p) == t) {
        Tensor value = target.value();
        value.reshape(p);
        return Variable(std::move(value));
    }
    throw ShapeError(loss, "the target of shape " + format_shape(t) +
                               " does not match the prediction of shape " + format_shape(p));
}

// Class labels held as floats, for a prediction (..., classes): the prediction's shape without
// the last axis, or that with a trailing 1. Flattened to one label per row.
IndexTensor class_labels(const char* loss, const Shape& prediction, const Tensor& target) {
    if (prediction.empty()) {
        throw ShapeError(loss, "the prediction needs a classes axis, got a scalar");
    }
    const Shape rows(prediction.begin(), prediction.end() - 1);
    Shape with_one = rows;
    with_one.push_back(1);
    const Shape t = to_shape(target.shape());
    if (t != rows && t != with_one) {
        std::string hint;
        if (t == prediction) hint = "; for one-hot targets use categorical_crossentropy";
        throw ShapeError(loss, "the class labels of shape " + format_shape(t) +
                                   " do not match the prediction of shape " +
                                   format_shape(prediction) + " (expected " + format_shape(rows) +
                                   ")" + hint);
    }
    IndexTensor labels = IndexTensor::from_shape({target.size()});
    for (std::size_t i = 0; i < target.size(); ++i) {
        const float v = target.data()[i];
        if (!(std::isfinite(v) && v == std::floor(v))) {
            throw std::invalid_argument(std::string(loss) + ": target " + std::to_string(v) +
                                        " at position " + std::to_string(i) +
                                        " is not a whole number (a class label)");
        }
        labels(i) = static_cast<std::int64_t>(v);
    }
    return labels;
}

// (..., classes) as (rows, classes), for the class losses of ops/loss.h.
Variable as_rows(const Variable& x) {
    if (x.ndim() == 2) return x;
    return reshape(x, {-1, static_cast<long>(x.shape().back())});
}

}  // namespace

namespace losses {

Variable mean_squared_error(const Variable& prediction, const Variable& target) {
    return mse_loss(prediction, match_target("mean_squared_error", prediction, target));
}

Variable mean_absolute_error(const Variable& prediction, const Variable& target) {
    return mae_loss(prediction, match_target("mean_absolute_error", prediction, target));
}

Variable huber(const Variable& prediction, const Variable& target, double delta) {
    return huber_loss(prediction, match_target("huber", prediction, target), delta);
}

Variable binary_crossentropy(const Variable& prediction, const Variable& target, bool from_logits) {
    const Variable t = match_target("binary_crossentropy", prediction, target);
    if (from_logits) return binary_cross_entropy_with_logits(prediction, t);
    // A sigmoid output: start from its logits, stable where the sigmoid saturates.
    if (made_by(prediction, "sigmoid"))
        return binary_cross_entropy_with_logits(input_of(prediction), t);
    return binary_cross_entropy(prediction, t);
}

Variable categorical_crossentropy(const Variable& prediction, const Variable& target,
                                  bool from_logits) {
    const Shape p = prediction.shape(), t = target.shape();
    if (p != t) {
        Shape rows = p;
        if (!rows.empty()) rows.pop_back();
        Shape rows_one = rows;
        rows_one.push_back(1);
        const bool labels = !p.empty() && p.back() > 1 && (t == rows || t == rows_one);
        throw ShapeError("categorical_crossentropy",
                         "the target of shape " + format_shape(t) +
                             " does not match the prediction of shape " + format_shape(p) +
                             (labels ? "; these look like class labels: use "
                                       "sparse_categorical_crossentropy (or one-hot targets)"
                                     : ""));
    }
    if (p.empty()) throw ShapeError("categorical_crossentropy", "the prediction is a scalar");
    const bool fused = !from_logits && made_by(prediction, "softmax");
    if (from_logits || fused) {
        const Variable logits = fused ? input_of(prediction) : prediction;
        // -sum t log_softmax(z) per row, averaged over the rows.
        return mean(sum(neg(target * log_softmax(logits)), {-1}));
    }
    return xgrad::categorical_crossentropy(as_rows(prediction), as_rows(target));
}

Variable sparse_categorical_crossentropy(const Variable& prediction, const Variable& target,
                                         bool from_logits) {
    const char* name = from_logits ? "cross_entropy" : "sparse_categorical_crossentropy";
    const IndexTensor labels = class_labels(name, prediction.shape(), target.value());
    const bool fused = !from_logits && made_by(prediction, "softmax");
    if (from_logits || fused) {
        return xgrad::cross_entropy(as_rows(fused ? input_of(prediction) : prediction), labels);
    }
    return xgrad::sparse_categorical_crossentropy(as_rows(prediction), labels);
}

Variable cross_entropy(const Variable& logits, const Variable& target) {
    return sparse_categorical_crossentropy(logits, target, true);
}

Variable kl_divergence(const Variable& prediction, const Variable& target) {
    const Variable t = match_target("kl_divergence", prediction, target);
    if (t.ndim() == 0) throw ShapeError("kl_divergence", "the prediction is a scalar");
    const Variable tc(Tensor(xt::clip(t.value(), kEps, 1.f)));
    return mean(sum(tc * (log(tc) - log(clamp(prediction, kEps, 1.0))), {-1}));
}

}  // namespace losses

namespace {

struct NamedLoss {
    const char* name;
    LossFunction (*make)(const LossOptions&);
};

const std::vector<NamedLoss>& named_losses() {
    static const std::vector<NamedLoss> table = {
        {"mse", [](const LossOptions&) -> LossFunction { return losses::mean_squared_error; }},
        {"mean_squared_error",
         [](const LossOptions&) -> LossFunction { return losses::mean_squared_error; }},
        {"mae", [](const LossOptions&) -> LossFunction { return losses::mean_absolute_error; }},
        {"mean_absolute_error",
         [](const LossOptions&) -> LossFunction { return losses::mean_absolute_error; }},
        {"huber",
         [](const LossOptions& o) -> LossFunction {
             return [d = o.delta](const Variable& p, const Variable& t) {
                 return losses::huber(p, t, d);
             };
         }},
        {"binary_crossentropy",
         [](const LossOptions& o) -> LossFunction {
             return [l = o.from_logits](const Variable& p, const Variable& t) {
                 return losses::binary_crossentropy(p, t, l);
             };
         }},
        {"categorical_crossentropy",
         [](const LossOptions& o) -> LossFunction {
             return [l = o.from_logits](const Variable& p, const Variable& t) {
                 return losses::categorical_crossentropy(p, t, l);
             };
         }},
        {"sparse_categorical_crossentropy",
         [](const LossOptions& o) -> LossFunction {
             return [l = o.from_logits](const Variable& p, const Variable& t) {
                 return losses::sparse_categorical_crossentropy(p, t, l);
             };
         }},
        {"cross_entropy", [](const LossOptions&) -> LossFunction { return losses::cross_entropy; }},
        {"kl_divergence", [](const LossOptions&) -> LossFunction { return losses::kl_divergence; }},
    };
    return table;
}

}  // namespace

const std::vector<std::string>& Loss::names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (const auto& l : named_losses()) out.emplace_back(l.name);
        return out;
    }();
    return names;
}

Loss::Loss(const char* name, LossOptions options) : name_(name) {
    for (const auto& l : named_losses()) {
        if (name_ == l.name) {
            function_ = l.make(options);
            return;
        }
    }
    throw std::invalid_argument("unknown loss '" + name_ +
                                "'; valid losses: " + join_names(names()));
}

Loss::Loss(std::string name, LossFunction function)
    : name_(std::move(name)), function_(std::move(function)) {
    if (!function_) throw std::invalid_argument("Loss '" + name_ + "': the function is empty");
}

Variable Loss::operator()(const Variable& prediction, const Variable& target) const {
    return function_(prediction, target);
}

}  // namespace xgrad::nn
