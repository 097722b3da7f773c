#include "optim/lbfgs.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "framework/errors.h"
#include "framework/grad_mode.h"

namespace xgrad::optim {

namespace {

double dot(const std::vector<float>& a, const std::vector<float>& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
    return s;
}

double max_abs(const std::vector<float>& a) {
    double m = 0;
    for (float v : a) m = std::max(m, static_cast<double>(std::abs(v)));
    return m;
}

// a += alpha b
void axpy(std::vector<float>& a, double alpha, const std::vector<float>& b) {
    const auto al = static_cast<float>(alpha);
    for (std::size_t i = 0; i < a.size(); ++i) a[i] += al * b[i];
}

// The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2, clamped to
// the bounds (default: the interval between x1 and x2); their midpoint when the cubic has no
// minimum (torch's _cubic_interpolate, Nocedal & Wright eq. 3.59).
double cubic_interpolate(double x1, double f1, double g1, double x2, double f2, double g2,
                         std::optional<std::pair<double, double>> bounds = std::nullopt) {
    const auto [lo, hi] = bounds ? *bounds : std::pair{std::min(x1, x2), std::max(x1, x2)};
    const double d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
    const double d2_square = d1 * d1 - g1 * g2;
    if (d2_square >= 0) {
        const double d2 = std::sqrt(d2_square);
        const double min_pos = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
                                        : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
        return std::min(std::max(min_pos, lo), hi);
    }
    return (lo + hi) / 2;
}

void check_options(const LBFGSOptions& o) {
    auto fail = [](const std::string& what, double value) {
        throw std::invalid_argument("LBFGS: " + what + ", got " + std::to_string(value));
    };
    if (o.max_iter < 1) fail("max_iter must be >= 1", o.max_iter);
    if (o.max_eval && *o.max_eval < 1) fail("max_eval must be >= 1", *o.max_eval);
    if (o.history_size < 1) fail("history_size must be >= 1", o.history_size);
    if (!(std::isfinite(o.tolerance_grad) && o.tolerance_grad >= 0)) {
        fail("tolerance_grad must be finite and >= 0", o.tolerance_grad);
    }
    if (!(std::isfinite(o.tolerance_change) && o.tolerance_change >= 0)) {
        fail("tolerance_change must be finite and >= 0", o.tolerance_change);
    }
    if (!o.line_search_fn.empty() && o.line_search_fn != "strong_wolfe") {
        throw std::invalid_argument("LBFGS: unknown line_search_fn '" + o.line_search_fn +
                                    "'; valid are \"\" (none) and \"strong_wolfe\"");
    }
}

}  // namespace

LineSearchResult strong_wolfe(const LineFunction& phi, const std::vector<float>& d, double t,
                              double loss, const std::vector<float>& grad, double gtd, double c1,
                              double c2, double tolerance_change, int max_ls) {
    const double d_norm = max_abs(d);
    LineValue next = phi(t);
    int evaluations = 1;
    double gtd_new = dot(next.grad, d);

    // Bracketing: find an interval that contains a point satisfying the conditions.
    double t_prev = 0, f_prev = loss, gtd_prev = gtd;
    std::vector<float> g_prev = grad;
    bool done = false;
    int ls_iter = 0;
    std::array<double, 2> bracket{}, bracket_f{}, bracket_gtd{};
    std::array<std::vector<float>, 2> bracket_g;
    std::size_t n_bracket = 2;  // 1 when the conditions hold at bracket[0]
    auto set_pair = [&](double ta, double fa, std::vector<float> ga, double gtda, double tb,
                        double fb, std::vector<float> gb, double gtdb) {
        bracket = {ta, tb};
        bracket_f = {fa, fb};
        bracket_g = {std::move(ga), std::move(gb)};
        bracket_gtd = {gtda, gtdb};
    };
    while (ls_iter < max_ls) {
        if (next.loss > loss + c1 * t * gtd || (ls_iter > 1 && next.loss >= f_prev)) {
            set_pair(t_prev, f_prev, g_prev, gtd_prev, t, next.loss, next.grad, gtd_new);
            break;
        }
        if (std::abs(gtd_new) <= -c2 * gtd) {
            bracket[0] = t;
            bracket_f[0] = next.loss;
            bracket_g[0] = next.grad;
            n_bracket = 1;
            done = true;
            break;
        }
        if (gtd_new >= 0) {
            set_pair(t_prev, f_prev, g_prev, gtd_prev, t, next.loss, next.grad, gtd_new);
            break;
        }
        // Extrapolate: the cubic's minimum, at least a little beyond t and at most 10 t.
        const double min_step = t + 0.01 * (t - t_prev);
        const double max_step = t * 10;
        const double previous = t;
        t = cubic_interpolate(t_prev, f_prev, gtd_prev, t, next.loss, gtd_new,
                              std::pair{min_step, max_step});
        t_prev = previous;
        f_prev = next.loss;
        g_prev = next.grad;
        gtd_prev = gtd_new;
        next = phi(t);
        ++evaluations;
        gtd_new = dot(next.grad, d);
        ++ls_iter;
    }
    if (ls_iter == max_ls) {
        set_pair(0, loss, grad, gtd, t, next.loss, next.grad, gtd_new);
    }

    // Zoom: shrink the bracket until a point satisfies the conditions.
    bool insufficient_progress = false;
    std::size_t low = 0, high = 1;
    if (n_bracket == 2 && bracket_f[0] > bracket_f[1]) std::swap(low, high);
    while (!done && ls_iter < max_ls) {
        if (std::abs(bracket[1] - bracket[0]) * d_norm < tolerance_change) break;
        t = cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1],
                              bracket_gtd[1]);
        // A point too close to an end of the bracket makes little progress: after two such
        // points in a row (or one outside), move it to 0.1 of the bracket's length inside.
        const double top = std::max(bracket[0], bracket[1]);
        const double bottom = std::min(bracket[0], bracket[1]);
        const double eps = 0.1 * (top - bottom);
        if (std::min(top - t, t - bottom) < eps) {
            if (insufficient_progress || t >= top || t <= bottom) {
                t = std::abs(t - top) < std::abs(t - bottom) ? top - eps : bottom + eps;
                insufficient_progress = false;
            } else {
                insufficient_progress = true;
            }
        } else {
            insufficient_progress = false;
        }
        next = phi(t);
        ++evaluations;
        gtd_new = dot(next.grad, d);
        ++ls_iter;
        if (next.loss > loss + c1 * t * gtd || next.loss >= bracket_f[low]) {
            // Not enough decrease, or not below the lowest point: the new high end.
            bracket[high] = t;
            bracket_f[high] = next.loss;
            bracket_g[high] = std::move(next.grad);
            bracket_gtd[high] = gtd_new;
            if (bracket_f[0] <= bracket_f[1]) {
                low = 0, high = 1;
            } else {
                low = 1, high = 0;
            }
        } else {
            if (std::abs(gtd_new) <= -c2 * gtd) {
                done = true;
            } else if (gtd_new * (bracket[high] - bracket[low]) >= 0) {
                // The old low end becomes the high end.
                bracket[high] = bracket[low];
                bracket_f[high] = bracket_f[low];
                bracket_g[high] = bracket_g[low];
                bracket_gtd[high] = bracket_gtd[low];
            }
            bracket[low] = t;
            bracket_f[low] = next.loss;
            bracket_g[low] = std::move(next.grad);
            bracket_gtd[low] = gtd_new;
        }
    }
    return {bracket_f[low], std::move(bracket_g[low]), bracket[low], evaluations};
}

LBFGS::LBFGS(std::vector<Variable> params, Options options)
    : Optimizer(std::move(params), options.learning_rate), options_(std::move(options)) {
    check_options(options_);
    for (const auto& p : this->params()) size_ += p.size();
}

void LBFGS::step() {
    throw std::invalid_argument(
        "LBFGS: step() needs a closure that re-evaluates the loss; call step(closure)");
}

void LBFGS::update(std::size_t, Tensor&, const Tensor&) {
    // Never reached: step() is overridden.
    throw std::logic_error("LBFGS::update is not used");
}

std::vector<float> LBFGS::flat_grad() const {
    std::vector<float> out(size_, 0.0f);
    std::size_t offset = 0;
    for (std::size_t i = 0; i < params().size(); ++i) {
        const Variable& p = params()[i];
        if (p.has_grad()) {
            const Tensor& g = p.grad();
            if (g.shape() != p.value().shape()) {
                throw ShapeError(name(), "parameter " + std::to_string(i) + " has shape " +
                                             format_shape_of(p.value()) + " but its gradient has " +
                                             format_shape_of(g));
            }
            std::copy(g.begin(), g.end(), out.begin() + static_cast<std::ptrdiff_t>(offset));
        }
        offset += p.size();
    }
    return out;
}

std::vector<float> LBFGS::flat_values() const {
    std::vector<float> out;
    out.reserve(size_);
    for (const auto& p : params()) out.insert(out.end(), p.value().begin(), p.value().end());
    return out;
}

void LBFGS::set_flat(const std::vector<float>& x) {
    std::size_t offset = 0;
    for (const auto& p : params()) {
        std::copy_n(x.begin() + static_cast<std::ptrdiff_t>(offset), p.size(),
                    p.mutable_value().begin());
        offset += p.size();
    }
}

void LBFGS::add_step(double t, const std::vector<float>& d) {
    const auto tf = static_cast<float>(t);
    std::size_t offset = 0;
    for (const auto& p : params()) {
        float* v = p.mutable_value().data();
        for (std::size_t k = 0; k < p.size(); ++k) v[k] += tf * d[offset + k];
        offset += p.size();
    }
}

double LBFGS::evaluate(const LossClosure& closure) {
    EnableGradGuard enabled;  // the closure runs backward whatever the caller's mode
    const Variable loss = closure();
    ++func_evals_;
    if (!loss.defined() || loss.size() != 1) {
        throw std::invalid_argument(
            "LBFGS: the closure must return the loss as one element, got " +
            (loss.defined() ? format_shape(loss.shape()) : std::string("an empty Variable")));
    }
    return static_cast<double>(loss.item());
}

void LBFGS::remember(std::vector<float> y, std::vector<float> s) {
    const double ys = dot(y, s);
    if (ys <= 1e-10) return;  // not a positive curvature pair: skip it, as torch does
    if (old_dirs_.size() == static_cast<std::size_t>(options_.history_size)) {
        old_dirs_.pop_front();
        old_stps_.pop_front();
        ro_.pop_front();
    }
    h_diag_ = ys / dot(y, y);
    old_dirs_.push_back(std::move(y));
    old_stps_.push_back(std::move(s));
    ro_.push_back(1 / ys);
}

// The two-loop recursion: -H g for the L-BFGS inverse Hessian H.
std::vector<float> LBFGS::direction(const std::vector<float>& g) const {
    const std::size_t k = old_dirs_.size();
    std::vector<double> al(k);
    std::vector<float> q(g.size());
    for (std::size_t i = 0; i < g.size(); ++i) q[i] = -g[i];
    for (std::size_t i = k; i-- > 0;) {
        al[i] = dot(old_stps_[i], q) * ro_[i];
        axpy(q, -al[i], old_dirs_[i]);
    }
    const auto h = static_cast<float>(h_diag_);
    for (float& v : q) v *= h;
    for (std::size_t i = 0; i < k; ++i) {
        const double be = dot(old_dirs_[i], q) * ro_[i];
        axpy(q, al[i] - be, old_stps_[i]);
    }
    return q;
}

double LBFGS::step(const LossClosure& closure) {
    if (!closure) throw std::invalid_argument("LBFGS: step(closure) got an empty closure");
    const int max_eval = options_.max_eval.value_or(options_.max_iter * 5 / 4);
    const double lr = learning_rate();

    const double orig_loss = evaluate(closure);
    double loss = orig_loss;
    int current_evals = 1;
    std::vector<float> g = flat_grad();
    if (max_abs(g) <= options_.tolerance_grad) return orig_loss;

    for (int n_iter = 1; n_iter <= options_.max_iter; ++n_iter) {
        set_iterations(iterations() + 1);
        if (iterations() == 1) {
            d_.resize(size_);
            for (std::size_t i = 0; i < size_; ++i) d_[i] = -g[i];
            old_dirs_.clear();
            old_stps_.clear();
            ro_.clear();
            h_diag_ = 1;
        } else {
            std::vector<float> y(size_), s(size_);
            const auto tf = static_cast<float>(t_);
            for (std::size_t i = 0; i < size_; ++i) {
                y[i] = g[i] - prev_flat_grad_[i];
                s[i] = d_[i] * tf;
            }
            remember(std::move(y), std::move(s));
            d_ = direction(g);
        }
        prev_flat_grad_ = g;
        prev_loss_ = loss;
        started_ = true;

        // The first step of all is scaled down by the gradient's 1-norm.
        if (iterations() == 1) {
            double l1 = 0;
            for (float v : g) l1 += std::abs(v);
            t_ = std::min(1.0, 1.0 / l1) * lr;
        } else {
            t_ = lr;
        }
        const double gtd = dot(g, d_);
        if (gtd > -options_.tolerance_change) break;  // not a descent direction (any more)

        int ls_evals = 0;
        bool optimal = false;
        if (options_.line_search_fn == "strong_wolfe") {
            const std::vector<float> x0 = flat_values();
            const LineFunction phi = [&](double t) {
                add_step(t, d_);
                LineValue v{evaluate(closure), flat_grad()};
                set_flat(x0);
                return v;
            };
            LineSearchResult r =
                strong_wolfe(phi, d_, t_, loss, g, gtd, 1e-4, 0.9, options_.tolerance_change);
            loss = r.loss;
            g = std::move(r.grad);
            t_ = r.step;
            ls_evals = r.evaluations;
            add_step(t_, d_);
            optimal = max_abs(g) <= options_.tolerance_grad;
        } else {
            add_step(t_, d_);
            if (n_iter != options_.max_iter) {
                // Re-evaluated only when another iteration follows (as torch does).
                loss = evaluate(closure);
                g = flat_grad();
                optimal = max_abs(g) <= options_.tolerance_grad;
                ls_evals = 1;
            }
        }
        current_evals += ls_evals;

        if (n_iter == options_.max_iter || current_evals >= max_eval || optimal) break;
        if (max_abs(d_) * std::abs(t_) <= options_.tolerance_change) break;  // no progress
        if (std::abs(loss - prev_loss_) < options_.tolerance_change) break;
    }
    return orig_loss;
}

std::map<std::string, Tensor> LBFGS::state_dict() const {
    std::map<std::string, Tensor> out = Optimizer::state_dict();
    out["evaluations"] = encode_count(func_evals_);
    if (!started_) return out;
    auto as_tensor = [](const std::vector<float>& v) {
        Tensor t = Tensor::from_shape({v.size()});
        std::copy(v.begin(), v.end(), t.begin());
        return t;
    };
    out["d"] = as_tensor(d_);
    out["prev_flat_grad"] = as_tensor(prev_flat_grad_);
    out["t"] = encode_double(t_);
    out["prev_loss"] = encode_double(prev_loss_);
    for (std::size_t i = 0; i < old_dirs_.size(); ++i) {
        out["old_dirs." + std::to_string(i)] = as_tensor(old_dirs_[i]);
        out["old_stps." + std::to_string(i)] = as_tensor(old_stps_[i]);
    }
    return out;
}

void LBFGS::load_state_dict(const std::map<std::string, Tensor>& state) {
    const std::string where = "load_state_dict (lbfgs): ";
    auto find = [&](const std::string& key, std::size_t size) -> const Tensor& {
        auto it = state.find(key);
        if (it == state.end()) throw std::invalid_argument(where + "missing entry '" + key + "'");
        if (it->second.shape() != std::vector<std::size_t>{size}) {
            throw std::invalid_argument(where + "entry '" + key + "' has shape " +
                                        format_shape_of(it->second) + ", expected (" +
                                        std::to_string(size) + ",)");
        }
        return it->second;
    };
    auto as_vector = [](const Tensor& t) { return std::vector<float>(t.begin(), t.end()); };

    // The base entries go through the base's checks; the rest are read here.
    std::map<std::string, Tensor> base;
    for (const char* key : {"iterations", "learning_rate"}) base[key] = find(key, 3);
    const std::int64_t evals = decode_count(find("evaluations", 3), "evaluations");
    const bool started = state.count("d") > 0;
    std::size_t known = 3;
    std::vector<float> d, prev_grad;
    double t = 0, prev_loss = 0;
    std::deque<std::vector<float>> dirs, stps;
    if (started) {
        d = as_vector(find("d", size_));
        prev_grad = as_vector(find("prev_flat_grad", size_));
        t = decode_double(find("t", 3));
        prev_loss = decode_double(find("prev_loss", 3));
        known += 4;
        for (std::size_t i = 0; state.count("old_dirs." + std::to_string(i)); ++i) {
            if (i == static_cast<std::size_t>(options_.history_size)) {
                throw std::invalid_argument(where + "more history pairs than history_size " +
                                            std::to_string(options_.history_size));
            }
            dirs.push_back(as_vector(find("old_dirs." + std::to_string(i), size_)));
            stps.push_back(as_vector(find("old_stps." + std::to_string(i), size_)));
            known += 2;
        }
    }
    if (state.size() != known) {
        for (const auto& entry : state) {
            const std::string& k = entry.first;
            const bool pair = k.rfind("old_dirs.", 0) == 0 || k.rfind("old_stps.", 0) == 0;
            if (!pair && !base.count(k) && k != "evaluations" && k != "d" &&
                k != "prev_flat_grad" && k != "t" && k != "prev_loss") {
                throw std::invalid_argument(where + "unexpected entry '" + k +
                                            "' (from a different optimizer?)");
            }
        }
        throw std::invalid_argument(where +
                                    "the history pairs old_dirs.<i> / old_stps.<i> are "
                                    "not numbered 0, 1, ... without gaps");
    }
    Optimizer::load_state_dict(base);  // checks and sets the step count and the rate

    func_evals_ = evals;
    started_ = started;
    d_ = std::move(d);
    prev_flat_grad_ = std::move(prev_grad);
    t_ = t;
    prev_loss_ = prev_loss;
    old_dirs_.clear();
    old_stps_.clear();
    ro_.clear();
    h_diag_ = 1;
    for (std::size_t i = 0; i < dirs.size(); ++i) {
        // Recomputes ro and h_diag exactly as remember() did when the pair was stored.
        const double ys = dot(dirs[i], stps[i]);
        h_diag_ = ys / dot(dirs[i], dirs[i]);
        ro_.push_back(1 / ys);
        old_dirs_.push_back(std::move(dirs[i]));
        old_stps_.push_back(std::move(stps[i]));
    }
}

}  // namespace xgrad::optim
