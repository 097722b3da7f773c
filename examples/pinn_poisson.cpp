// A physics-informed network: a small tanh MLP u(x, y) learns the solution of the Poisson problem
//
//   -(u_xx + u_yy) = 2 pi^2 sin(pi x) sin(pi y) on the unit square, u = 0 on its boundary,
//
// whose exact solution is sin(pi x) sin(pi y). The loss is the mean squared PDE residual at
// random interior points plus 10 times the mean squared u at random boundary points
// (--boundary-weight: with weight 1, u = 0 held more loosely and the error was about twice as
// large). u_xx and u_yy are gradients of gradients of the network with respect to its input (grad
// with create_graph). Adam first, then L-BFGS with a strong-Wolfe line search; at the end the
// relative L2 error against the exact solution on a 101 x 101 grid.
//
// bench/torch_pinn_poisson.py is the same program in PyTorch: the initial weights and the
// points come from the same splitmix64 stream in both, so both start from the same loss.
#include <cblas.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <numbers>
#include <vector>

#include <fmt/core.h>

#include "example_cli.h"
#include "xgrad.h"

using namespace xgrad;

namespace {

struct Options {
    std::uint64_t seed = 0;
    int adam_steps = 1000;
    int lbfgs_steps = 4000;
    double learning_rate = 0.001;
    int width = 20;
    int depth = 3;
    int interior = 1000;
    int boundary = 50;  // per side
    double boundary_weight = 10;
    int threads = 1;
    bool quiet = false;
};

void validate(const Options& o) {
    auto at_least = [](const char* flag, long value, long min) {
        if (value < min) {
            throw examples::UsageError(
                fmt::format("{} must be at least {}, got {}", flag, min, value));
        }
    };
    at_least("--adam-steps", o.adam_steps, 0);
    at_least("--lbfgs-steps", o.lbfgs_steps, 0);
    at_least("--width", o.width, 1);
    at_least("--depth", o.depth, 1);
    at_least("--interior", o.interior, 1);
    at_least("--boundary", o.boundary, 1);
    at_least("--threads", o.threads, 1);
    if (!(std::isfinite(o.learning_rate) && o.learning_rate > 0)) {
        throw examples::UsageError(
            fmt::format("--learning-rate must be a positive number, got {}", o.learning_rate));
    }
    if (!(std::isfinite(o.boundary_weight) && o.boundary_weight >= 0)) {
        throw examples::UsageError(fmt::format(
            "--boundary-weight must be a number of at least 0, got {}", o.boundary_weight));
    }
}

// splitmix64 (Steele, Lea, Flood): uniform doubles in [0, 1) from the top 53 bits. The PyTorch
// twin has the same few lines, so both programs draw the same weights and points.
class SplitMix64 {
  public:
    explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
    double uniform() {
        state_ += 0x9E3779B97F4A7C15ULL;
        std::uint64_t z = state_;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        z ^= z >> 31;
        return static_cast<double>(z >> 11) * 0x1.0p-53;
    }

  private:
    std::uint64_t state_;
};

struct Problem {
    double boundary_weight = 1;
    std::vector<Variable> params;  // kernel (in, out), bias (out,), layer by layer
    Tensor inside;                 // (interior, 2)
    Tensor source;                 // (interior, 1): 2 pi^2 sin(pi x) sin(pi y)
    Tensor edge;                   // (4 boundary, 2)
};

// Glorot-uniform kernels and zero biases, then the interior points, then the boundary
// points side by side (y = 0, y = 1, x = 0, x = 1 for each draw).
Problem make_problem(const Options& o) {
    SplitMix64 rng(o.seed);
    Problem p;
    p.boundary_weight = o.boundary_weight;
    std::vector<std::size_t> sizes = {2};
    for (int i = 0; i < o.depth; ++i) sizes.push_back(static_cast<std::size_t>(o.width));
    sizes.push_back(1);
    for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
        const double limit = std::sqrt(6.0 / static_cast<double>(sizes[l] + sizes[l + 1]));
        Tensor w = Tensor::from_shape({sizes[l], sizes[l + 1]});
        for (float& v : w) v = static_cast<float>((2 * rng.uniform() - 1) * limit);
        p.params.push_back(parameter(std::move(w)));
        p.params.push_back(parameter(Tensor(xt::zeros<float>({sizes[l + 1]}))));
    }
    const auto n = static_cast<std::size_t>(o.interior);
    p.inside = Tensor::from_shape({n, 2});
    p.source = Tensor::from_shape({n, 1});
    constexpr double pi = std::numbers::pi;
    for (std::size_t i = 0; i < n; ++i) {
        const double x = rng.uniform(), y = rng.uniform();
        p.inside(i, 0) = static_cast<float>(x);
        p.inside(i, 1) = static_cast<float>(y);
    }
    for (std::size_t i = 0; i < n; ++i) {
        // From the float32 points, as the twin computes it.
        const double x = p.inside(i, 0), y = p.inside(i, 1);
        p.source(i, 0) = static_cast<float>(2 * pi * pi * std::sin(pi * x) * std::sin(pi * y));
    }
    const auto m = static_cast<std::size_t>(o.boundary);
    p.edge = Tensor::from_shape({4 * m, 2});
    for (std::size_t i = 0; i < m; ++i) {
        const auto t = static_cast<float>(rng.uniform());
        const float rows[4][2] = {{t, 0.0f}, {t, 1.0f}, {0.0f, t}, {1.0f, t}};
        for (std::size_t k = 0; k < 4; ++k) {
            p.edge(4 * i + k, 0) = rows[k][0];
            p.edge(4 * i + k, 1) = rows[k][1];
        }
    }
    return p;
}

Variable mlp(const std::vector<Variable>& params, Variable h) {
    for (std::size_t i = 0; i + 2 < params.size(); i += 2)
        h = tanh(linear(h, params[i], params[i + 1]));
    return linear(h, params[params.size() - 2], params.back());
}

// mean((u_xx + u_yy + f)^2) over the interior points + w mean(u^2) over the boundary points.
Variable pde_loss(const Problem& p) {
    const Variable x(p.inside, /*requires_grad=*/true);
    const Variable u = mlp(p.params, x);
    const GradOptions<float> keep{.create_graph = true};
    const Variable du = grad<float>({sum(u)}, {x}, keep)[0];                    // (n, 2)
    const Variable d2x = grad<float>({sum(slice(du, 1, 0, 1))}, {x}, keep)[0];  // u_xx, u_xy
    const Variable d2y = grad<float>({sum(slice(du, 1, 1, 2))}, {x}, keep)[0];  // u_yx, u_yy
    const Variable residual = slice(d2x, 1, 0, 1) + slice(d2y, 1, 1, 2) + Variable(p.source);
    const Variable u_edge = mlp(p.params, Variable(p.edge));
    return mean(residual * residual) +
           static_cast<float>(p.boundary_weight) * mean(u_edge * u_edge);
}

// ||u - exact|| / ||exact|| on the n x n grid over [0, 1]^2.
double relative_l2(const std::vector<Variable>& params, std::size_t n = 101) {
    Tensor grid = Tensor::from_shape({n * n, 2});
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = 0; j < n; ++j) {
            grid(i * n + j, 0) = static_cast<float>(static_cast<double>(i) / (n - 1));
            grid(i * n + j, 1) = static_cast<float>(static_cast<double>(j) / (n - 1));
        }
    }
    NoGradGuard no_grad;
    const Tensor u = mlp(params, Variable(grid)).value();
    double diff = 0, norm = 0;
    constexpr double pi = std::numbers::pi;
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = 0; j < n; ++j) {
            const double x = static_cast<double>(i) / (n - 1), y = static_cast<double>(j) / (n - 1);
            const double exact = std::sin(pi * x) * std::sin(pi * y);
            const double e = u(i * n + j, 0) - exact;
            diff += e * e;
            norm += exact * exact;
        }
    }
    return std::sqrt(diff / norm);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int run(const Options& o) {
    validate(o);
    openblas_set_num_threads(o.threads);
    Problem p = make_problem(o);
    const double initial_loss = pde_loss(p).item();
    if (!o.quiet) {
        std::size_t count = 0;
        for (const auto& v : p.params) count += v.size();
        std::cout << fmt::format(
            "tanh MLP 2-{}x{}-1 ({} parameters), {} interior and {} boundary points, seed {}\n"
            "initial loss {:.6e}\n",
            o.width, o.depth, count, o.interior, 4 * o.boundary, o.seed, initial_loss);
    }

    const auto start = std::chrono::steady_clock::now();
    optim::Adam adam(p.params, {.learning_rate = o.learning_rate});
    for (int step = 1; step <= o.adam_steps; ++step) {
        adam.zero_grad();
        const Variable loss = pde_loss(p);
        loss.backward();
        adam.step();
        if (!o.quiet && (step % 200 == 0 || step == o.adam_steps)) {
            std::cout << fmt::format("adam  {:5d}  loss {:.6e}\n", step, loss.item());
        }
    }
    const double adam_time = seconds_since(start);

    optim::LBFGS lbfgs(p.params, {.learning_rate = 1,
                                  .max_iter = std::max(o.lbfgs_steps, 1),
                                  .max_eval = std::max(o.lbfgs_steps, 1) * 5 / 4,
                                  .tolerance_grad = 1e-9,
                                  .tolerance_change = 1e-12,
                                  .history_size = 50,
                                  .line_search_fn = "strong_wolfe"});
    if (o.lbfgs_steps > 0) {
        lbfgs.step([&] {
            lbfgs.zero_grad();
            Variable loss = pde_loss(p);
            loss.backward();
            return loss;
        });
    }
    const double train_time = seconds_since(start);
    const double loss = pde_loss(p).item();
    if (!o.quiet) {
        std::cout << fmt::format("lbfgs {:5d}  loss {:.6e}  ({} loss evaluations)\n",
                                 lbfgs.iterations(), loss, lbfgs.evaluations());
    }
    const double error = relative_l2(p.params);
    std::cout << fmt::format("relative L2 error on the 101 x 101 grid: {:.3e}\n", error);
    std::cout << fmt::format(
        "train_time {:.3f}s adam_time {:.3f}s lbfgs_time {:.3f}s evaluations {} loss {:.3e} "
        "rel_l2 {:.3e} initial_loss {:.6e}\n",
        train_time, adam_time, train_time - adam_time, lbfgs.evaluations(), loss, error,
        initial_loss);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "Solve -(u_xx + u_yy) = 2 pi^2 sin(pi x) sin(pi y) on the unit square (u = 0 on the "
        "boundary) with a physics-informed tanh MLP: Adam, then L-BFGS."};
    Options o;
    app.add_option("--seed", o.seed, "Initial weights and collocation points")
        ->capture_default_str();
    app.add_option("--adam-steps", o.adam_steps, "Adam steps")->capture_default_str();
    app.add_option("--lbfgs-steps", o.lbfgs_steps, "L-BFGS iterations after Adam")
        ->capture_default_str();
    app.add_option("--learning-rate", o.learning_rate, "Adam's learning rate")
        ->capture_default_str();
    app.add_option("--width", o.width, "Units per hidden layer")->capture_default_str();
    app.add_option("--depth", o.depth, "Hidden layers")->capture_default_str();
    app.add_option("--interior", o.interior, "Interior collocation points")->capture_default_str();
    app.add_option("--boundary", o.boundary, "Boundary points per side")->capture_default_str();
    app.add_option("--boundary-weight", o.boundary_weight, "Weight of the boundary term")
        ->capture_default_str();
    app.add_option("--threads", o.threads, "BLAS threads")->capture_default_str();
    app.add_flag("--quiet", o.quiet, "Only the final lines");
    return examples::run_cli(app, argc, argv, [&] { return run(o); });
}
