// The low-level API, for users who write their own models without Sequential: Variables,
// ops, backward, and a hand-written training loop with an optimizer.
#include <cstdio>

#include "xgrad.h"

using namespace xgrad;

int main() {
    // 1. Variables and gradients. Plain numbers mix with Variables on either side.
    Variable x(Tensor{1.f, 2.f, 3.f}, /*requires_grad=*/true);
    Variable y = sum(x * x + 1.0f - x / 2);
    y.backward();
    std::printf("y = %.2f, dy/dx = [%.2f, %.2f, %.2f]\n", y.item(), x.grad()(0), x.grad()(1),
                x.grad()(2));

    // 2. A model written by hand: logistic regression on two Gaussian blobs.
    Rng rng(0);
    std::normal_distribution<float> noise(0.f, 1.f);
    const std::size_t n = 200;
    Tensor inputs = Tensor::from_shape({n, 2});
    IndexTensor labels = IndexTensor::from_shape({n});
    for (std::size_t i = 0; i < n; ++i) {
        labels(i) = std::int64_t(i % 2);
        const float centre = labels(i) ? 1.f : -1.f;
        inputs(i, 0) = centre + noise(rng);
        inputs(i, 1) = centre + noise(rng);
    }
    Variable w = parameter(Tensor::from_shape({2, 2}));
    Variable b = parameter(Tensor::from_shape({2}));
    w.mutable_value().fill(0.f);
    b.mutable_value().fill(0.f);
    optim::Adam opt({w, b}, {.learning_rate = 0.1});

    const Variable data(inputs);
    for (int step = 0; step <= 100; ++step) {
        Variable logits = linear(data, w, b);
        Variable loss = cross_entropy(logits, labels);
        opt.zero_grad();
        loss.backward();
        opt.step();
        if (step % 25 == 0) std::printf("step %3d  loss %.4f\n", step, loss.item());
    }

    // 3. Inference without a graph.
    IndexTensor predicted;
    {
        NoGradGuard no_grad;
        predicted = argmax(linear(data, w, b), 1);
    }
    std::size_t correct = 0;
    for (std::size_t i = 0; i < n; ++i) correct += predicted(i) == labels(i);
    std::printf("training accuracy %.3f\n", double(correct) / double(n));

    // 4. Checking a gradient by finite differences (float64).
    const GradcheckResult check =
        gradcheck([](const std::vector<Variable64>& in) { return sum(tanh(in[0]) * in[1]); },
                  {Tensor64{0.5, -1.0}, Tensor64{2.0, 3.0}});
    std::printf("gradcheck: %s\n", check.ok ? "ok" : check.message.c_str());
    return check.ok ? 0 : 1;
}
