#include "nn/training/metrics.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "framework/errors.h"
#include "framework/names.h"

namespace xgrad::nn {

Metric::~Metric() = default;

namespace {

// Both tensors hold one value per element, in the same order: equal shapes, or shapes that
// differ by a trailing axis of 1 ((batch,) against (batch, 1)).
void check_elementwise(const std::string& metric, const Tensor& prediction, const Tensor& target) {
    const Shape p = to_shape(prediction.shape()), t = to_shape(target.shape());
    auto with_one = [](Shape s) {
        s.push_back(1);
        return s;
    };
    if (p == t || with_one(p) == t || with_one(t) == p) return;
    throw ShapeError(metric, "the target of shape " + format_shape(t) +
                                 " does not match the prediction of shape " + format_shape(p));
}

// Rows of (..., classes) scores.
struct Rows {
    std::size_t count, classes;
};

Rows class_rows(const std::string& metric, const Tensor& prediction) {
    if (prediction.dimension() < 1 || prediction.shape().back() == 0) {
        throw ShapeError(metric, "the prediction needs a classes axis, got shape " +
                                     format_shape_of(prediction));
    }
    const std::size_t classes = prediction.shape().back();
    return {prediction.size() / classes, classes};
}

std::size_t argmax_row(const float* row, std::size_t n) {
    return static_cast<std::size_t>(std::max_element(row, row + n) - row);
}

// The class index held by a float label, or an error.
std::size_t label_at(const std::string& metric, const Tensor& target, std::size_t i,
                     std::size_t classes) {
    const float v = target.data()[i];
    if (!(v >= 0 && v == std::floor(v) && v < static_cast<float>(classes))) {
        throw std::invalid_argument(metric + ": target " + std::to_string(v) + " at position " +
                                    std::to_string(i) + " is not a class label in 0.." +
                                    std::to_string(classes - 1));
    }
    return static_cast<std::size_t>(v);
}

void check_label_count(const std::string& metric, const Tensor& prediction, const Tensor& target,
                       std::size_t rows) {
    if (target.size() != rows) {
        throw ShapeError(metric, "the class labels of shape " + format_shape_of(target) +
                                     " do not match the prediction of shape " +
                                     format_shape_of(prediction) + " (one label per row)");
    }
}

}  // namespace

namespace metrics {

void SparseCategoricalAccuracy::update_state(const Tensor& prediction, const Tensor& target) {
    const Rows r = class_rows(name(), prediction);
    check_label_count(name(), prediction, target, r.count);
    std::size_t correct = 0;
    for (std::size_t i = 0; i < r.count; ++i) {
        correct += argmax_row(prediction.data() + i * r.classes, r.classes) ==
                   label_at(name(), target, i, r.classes);
    }
    add(double(correct), double(r.count));
}

void CategoricalAccuracy::update_state(const Tensor& prediction, const Tensor& target) {
    const Rows r = class_rows(name(), prediction);
    if (to_shape(target.shape()) != to_shape(prediction.shape())) {
        throw ShapeError(name(), "the one-hot target of shape " + format_shape_of(target) +
                                     " does not match the prediction of shape " +
                                     format_shape_of(prediction));
    }
    std::size_t correct = 0;
    for (std::size_t i = 0; i < r.count; ++i) {
        correct += argmax_row(prediction.data() + i * r.classes, r.classes) ==
                   argmax_row(target.data() + i * r.classes, r.classes);
    }
    add(double(correct), double(r.count));
}

void BinaryAccuracy::update_state(const Tensor& prediction, const Tensor& target) {
    check_elementwise(name(), prediction, target);
    std::size_t correct = 0;
    for (std::size_t i = 0; i < prediction.size(); ++i) {
        const float decided = double(prediction.data()[i]) > threshold_ ? 1.f : 0.f;
        correct += target.data()[i] == decided;
    }
    add(double(correct), double(prediction.size()));
}

void Accuracy::update_state(const Tensor& prediction, const Tensor& target) {
    if (!resolved_) {
        const std::size_t p_rank = prediction.dimension(), t_rank = target.dimension();
        const std::size_t p_last = p_rank ? prediction.shape().back() : 1;
        const std::size_t t_last = t_rank ? target.shape().back() : 1;
        if (p_rank <= 1 || p_last == 1 || binary_loss_) {
            resolved_ = std::make_unique<BinaryAccuracy>();
        } else if (t_rank < p_rank || (t_last == 1 && p_last > 1)) {
            resolved_ = std::make_unique<SparseCategoricalAccuracy>();
        } else {
            resolved_ = std::make_unique<CategoricalAccuracy>();
        }
    }
    resolved_->update_state(prediction, target);
}

double Accuracy::result() const {
    return resolved_ ? resolved_->result() : 0.0;
}

void Accuracy::reset_state() {
    if (resolved_) resolved_->reset_state();
}

TopKCategoricalAccuracy::TopKCategoricalAccuracy(std::size_t k) : k_(k) {
    if (k == 0) throw std::invalid_argument("top_k_categorical_accuracy: k must be at least 1");
}

void TopKCategoricalAccuracy::update_state(const Tensor& prediction, const Tensor& target) {
    const Rows r = class_rows(name(), prediction);
    const bool one_hot = to_shape(target.shape()) == to_shape(prediction.shape());
    if (!one_hot) check_label_count(name(), prediction, target, r.count);
    std::size_t correct = 0;
    for (std::size_t i = 0; i < r.count; ++i) {
        const float* row = prediction.data() + i * r.classes;
        const std::size_t c = one_hot ? argmax_row(target.data() + i * r.classes, r.classes)
                                      : label_at(name(), target, i, r.classes);
        // In the top k unless k scores are larger (ties count as in, as tf.math.in_top_k).
        const auto larger =
            std::count_if(row, row + r.classes, [&](float s) { return s > row[c]; });
        correct += static_cast<std::size_t>(larger) < k_;
    }
    add(double(correct), double(r.count));
}

void MeanAbsoluteError::update_state(const Tensor& prediction, const Tensor& target) {
    check_elementwise(name(), prediction, target);
    double total = 0;
    for (std::size_t i = 0; i < prediction.size(); ++i) {
        total += std::abs(double(prediction.data()[i]) - double(target.data()[i]));
    }
    add(total, double(prediction.size()));
}

void MeanSquaredError::update_state(const Tensor& prediction, const Tensor& target) {
    check_elementwise(name(), prediction, target);
    double total = 0;
    for (std::size_t i = 0; i < prediction.size(); ++i) {
        const double e = double(prediction.data()[i]) - double(target.data()[i]);
        total += e * e;
    }
    add(total, double(prediction.size()));
}

double RootMeanSquaredError::result() const {
    return std::sqrt(MeanSquaredError::result());
}

void ConfusionCounts::update_state(const Tensor& prediction, const Tensor& target) {
    check_elementwise(name(), prediction, target);
    for (std::size_t i = 0; i < prediction.size(); ++i) {
        const bool predicted = double(prediction.data()[i]) > threshold_;
        const bool actual = target.data()[i] != 0;  // Keras casts the target to bool
        (predicted ? (actual ? tp_ : fp_) : (actual ? fn_ : tn_)) += 1;
    }
}

double Precision::result() const {
    return tp_ + fp_ > 0 ? double(tp_) / double(tp_ + fp_) : 0.0;
}

double Recall::result() const {
    return tp_ + fn_ > 0 ? double(tp_) / double(tp_ + fn_) : 0.0;
}

AUC::AUC(std::size_t num_thresholds) {
    if (num_thresholds < 2) {
        throw std::invalid_argument("auc: num_thresholds must be at least 2, got " +
                                    std::to_string(num_thresholds));
    }
    // Keras: [0 - eps] + [(i + 1) / (n - 1) for i in range(n - 2)] + [1 + eps].
    constexpr double eps = 1e-7;
    thresholds_.push_back(-eps);
    for (std::size_t i = 0; i + 2 < num_thresholds; ++i) {
        thresholds_.push_back(double(i + 1) / double(num_thresholds - 1));
    }
    thresholds_.push_back(1.0 + eps);
    reset_state();
}

void AUC::reset_state() {
    tp_.assign(thresholds_.size(), 0);
    fp_.assign(thresholds_.size(), 0);
    positives_ = negatives_ = 0;
}

void AUC::update_state(const Tensor& prediction, const Tensor& target) {
    check_elementwise(name(), prediction, target);
    // A prediction is positive at every threshold below it: the sorted thresholds make that
    // the first `above` of them. Count it at index above - 1; result() sums the suffix.
    for (std::size_t i = 0; i < prediction.size(); ++i) {
        const double p = prediction.data()[i];
        const std::size_t above = static_cast<std::size_t>(
            std::lower_bound(thresholds_.begin(), thresholds_.end(), p) - thresholds_.begin());
        const bool actual = target.data()[i] != 0;
        (actual ? positives_ : negatives_) += 1;
        if (above > 0) (actual ? tp_ : fp_)[above - 1] += 1;
    }
}

double AUC::result() const {
    const std::size_t n = thresholds_.size();
    // tp[t] = positives predicted above threshold t = those counted at index >= t.
    std::vector<double> tpr(n), fpr(n);
    std::uint64_t tp = 0, fp = 0;
    for (std::size_t t = n; t-- > 0;) {
        tp += tp_[t];
        fp += fp_[t];
        tpr[t] = positives_ ? double(tp) / double(positives_) : 0.0;
        fpr[t] = negatives_ ? double(fp) / double(negatives_) : 0.0;
    }
    // Trapezoids between neighbouring thresholds (the rates fall as the threshold rises).
    double area = 0;
    for (std::size_t t = 0; t + 1 < n; ++t)
        area += (fpr[t] - fpr[t + 1]) * (tpr[t] + tpr[t + 1]) / 2;
    return area;
}

}  // namespace metrics

namespace {

struct NamedMetric {
    const char* name;
    std::unique_ptr<Metric> (*make)(bool binary_loss);
};

template <class M>
std::unique_ptr<Metric> make_plain(bool) {
    return std::make_unique<M>();
}

const std::vector<NamedMetric>& named_metrics() {
    static const std::vector<NamedMetric> table = {
        {"accuracy",
         [](bool b) -> std::unique_ptr<Metric> { return std::make_unique<metrics::Accuracy>(b); }},
        {"acc",
         [](bool b) -> std::unique_ptr<Metric> { return std::make_unique<metrics::Accuracy>(b); }},
        {"binary_accuracy", make_plain<metrics::BinaryAccuracy>},
        {"categorical_accuracy", make_plain<metrics::CategoricalAccuracy>},
        {"sparse_categorical_accuracy", make_plain<metrics::SparseCategoricalAccuracy>},
        {"top_k_categorical_accuracy", make_plain<metrics::TopKCategoricalAccuracy>},
        {"mae", make_plain<metrics::MeanAbsoluteError>},
        {"mean_absolute_error", make_plain<metrics::MeanAbsoluteError>},
        {"mse", make_plain<metrics::MeanSquaredError>},
        {"mean_squared_error", make_plain<metrics::MeanSquaredError>},
        {"rmse", make_plain<metrics::RootMeanSquaredError>},
        {"root_mean_squared_error", make_plain<metrics::RootMeanSquaredError>},
        {"precision", make_plain<metrics::Precision>},
        {"recall", make_plain<metrics::Recall>},
        {"auc", make_plain<metrics::AUC>},
    };
    return table;
}

// A metric made under an alias keeps the name it was asked by ("acc", "mean_absolute_error"),
// as Keras logs it.
class Renamed : public Metric {
  public:
    Renamed(std::string name, std::unique_ptr<Metric> inner)
        : name_(std::move(name)), inner_(std::move(inner)) {}
    std::string name() const override { return name_; }
    void update_state(const Tensor& p, const Tensor& t) override { inner_->update_state(p, t); }
    double result() const override { return inner_->result(); }
    void reset_state() override { inner_->reset_state(); }

  private:
    std::string name_;
    std::unique_ptr<Metric> inner_;
};

}  // namespace

const std::vector<std::string>& metric_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (const auto& m : named_metrics()) out.emplace_back(m.name);
        return out;
    }();
    return names;
}

std::unique_ptr<Metric> make_metric(const std::string& name, bool binary_loss) {
    for (const auto& m : named_metrics()) {
        if (name != m.name) continue;
        auto metric = m.make(binary_loss);
        if (metric->name() == name) return metric;
        return std::make_unique<Renamed>(name, std::move(metric));
    }
    throw std::invalid_argument("unknown metric '" + name +
                                "'; valid metrics: " + join_names(metric_names()));
}

MetricSpec::MetricSpec(std::shared_ptr<Metric> metric) : metric_(std::move(metric)) {
    if (!metric_) throw std::invalid_argument("MetricSpec: the metric object is null");
}

std::string MetricSpec::name() const {
    return metric_ ? metric_->name() : name_;
}

std::shared_ptr<Metric> MetricSpec::make(bool binary_loss) const {
    if (metric_) return metric_;
    return make_metric(name_, binary_loss);
}

}  // namespace xgrad::nn
