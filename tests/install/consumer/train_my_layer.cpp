// A user's program, built out of tree against an installed xgrad: it defines its own layer,
// fits it to y = 2x - 1 for a few steps on in-memory data and prints the loss of each step.
// The install test builds it with pkg-config and with CMake and checks that the loss falls.
#include <xgrad.h>

#include <iostream>

using namespace xgrad;

// y = x * w + b with one weight and one bias per feature.
class Affine : public nn::Module {
  public:
    std::string type_name() const override { return "Affine"; }
    void build(const Shape& in) override {
        if (!needs_build(in)) return;
        w_ = register_parameter("w", xt::zeros<float>(in));
        b_ = register_parameter("b", xt::zeros<float>(in));
        Module::build(in);
    }
    Variable forward(const Variable& x) override { return x * w_ + b_; }

  private:
    Variable w_, b_;
};

int main() {
    Tensor x = xt::linspace<float>(-1.f, 1.f, 5);
    x.reshape({5, 1});
    const Variable inputs(x), targets(Tensor(2.f * x - 1.f));
    Affine layer;
    layer.build({1});
    optim::SGD optimizer(layer.trainable_parameters(), {.learning_rate = 0.1});
    for (int step = 0; step < 20; ++step) {
        Variable loss = mse_loss(layer(inputs), targets);
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
        std::cout << "step " << step << " loss " << loss.item() << "\n";
    }
}
