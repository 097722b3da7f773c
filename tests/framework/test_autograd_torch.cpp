// Gradients of gradients against PyTorch: composed float64 expressions whose first and
// second (and third) derivatives torch computed once, with the inputs, into
// reference/double_backward_reference.txt (written by the .py beside it). Agreement to 1e-8.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>

#include "framework/testing.h"
#include "xgrad.h"

using namespace xgrad;

namespace {

using Reference = std::map<std::string, Tensor64>;

const Reference& reference() {
    static const Reference data = [] {
        const char* path = std::getenv("XGRAD_DOUBLE_BACKWARD_REFERENCE");
        REQUIRE_MESSAGE(path != nullptr,
                        "XGRAD_DOUBLE_BACKWARD_REFERENCE is not set (meson sets it)");
        std::ifstream in(path);
        REQUIRE_MESSAGE(in.good(), "cannot read " << path);
        Reference out;
        std::string header, values;
        while (std::getline(in, header)) {
            if (header.empty() || header[0] == '#') continue;
            REQUIRE(std::getline(in, values));
            std::istringstream h(header), v(values);
            std::string name;
            std::size_t rank = 0;
            h >> name >> rank;
            Shape shape(rank);
            for (auto& d : shape) h >> d;
            Tensor64 t = Tensor64::from_shape(shape);
            for (double& x : t) REQUIRE(static_cast<bool>(v >> x));
            out[name] = std::move(t);
        }
        return out;
    }();
    return data;
}

Tensor64 ref(const std::string& name) {
    const auto it = reference().find(name);
    REQUIRE_MESSAGE(it != reference().end(), "no '" << name << "' in the reference file");
    return it->second;
}

Variable64 leaf(const std::string& name) {
    return Variable64(ref(name), true);
}
Variable64 constant(const std::string& name) {
    return Variable64(ref(name));
}

void check(const std::string& name, const Variable64& actual) {
    CAPTURE(name);
    XGRAD_CHECK_TENSOR_CLOSE(actual.value(), ref(name), 1e-8, 1e-8);
}

GradOptions<double> keep() {
    return {.create_graph = true};
}

}  // namespace

TEST_CASE("double backward matches PyTorch: tanh MLP derivatives wrt its input") {
    const Variable64 x = leaf("tanh_mlp/x"), w1 = leaf("tanh_mlp/w1"), b1 = leaf("tanh_mlp/b1"),
                     w2 = leaf("tanh_mlp/w2"), b2 = leaf("tanh_mlp/b2"), w3 = leaf("tanh_mlp/w3");
    const Variable64 u = matmul(tanh(matmul(tanh(matmul(x, w1) + b1), w2) + b2), w3);
    const Variable64 du = grad<double>({sum(u)}, {x}, keep())[0];
    const Variable64 d2x = grad<double>({sum(slice(du, 1, 0, 1))}, {x}, keep())[0];
    const Variable64 d2y = grad<double>({sum(slice(du, 1, 1, 2))}, {x}, keep())[0];
    const Variable64 lap = reshape(slice(d2x, 1, 0, 1) + slice(d2y, 1, 1, 2), {-1});
    const Variable64 penalty = mean(lap * lap) + sum(du * du);
    const auto d = grad<double>({penalty}, {w1, b1, w2, b2, w3});
    check("tanh_mlp/du", du);
    check("tanh_mlp/laplacian", lap);
    check("tanh_mlp/d_w1", d[0]);
    check("tanh_mlp/d_b1", d[1]);
    check("tanh_mlp/d_w2", d[2]);
    check("tanh_mlp/d_b2", d[3]);
    check("tanh_mlp/d_w3", d[4]);
}

TEST_CASE("double backward matches PyTorch: softmax cross-entropy Hessian-vector product") {
    const Variable64 x = constant("softmax_xent_hvp/x"), w = leaf("softmax_xent_hvp/w"),
                     b = leaf("softmax_xent_hvp/b");
    const Tensor64 label_values = ref("softmax_xent_hvp/labels");
    IndexTensor labels = IndexTensor::from_shape({label_values.size()});
    for (std::size_t i = 0; i < labels.size(); ++i) labels(i) = std::int64_t(label_values(i));
    const Variable64 loss = cross_entropy(linear(x, w, b), labels);
    const auto g = grad<double>({loss}, {w, b}, keep());
    const Variable64 gv =
        sum(g[0] * constant("softmax_xent_hvp/vw")) + sum(g[1] * constant("softmax_xent_hvp/vb"));
    const auto h = grad<double>({gv}, {w, b});
    check("softmax_xent_hvp/loss", loss);
    check("softmax_xent_hvp/gw", g[0]);
    check("softmax_xent_hvp/gb", g[1]);
    check("softmax_xent_hvp/hw", h[0]);
    check("softmax_xent_hvp/hb", h[1]);
}

TEST_CASE("double backward matches PyTorch: conv2d and pooling under a gradient penalty") {
    const Variable64 x = leaf("conv_pool_penalty/x"), k = leaf("conv_pool_penalty/kernel"),
                     b = leaf("conv_pool_penalty/bias");
    const Variable64 h = tanh(conv2d(x, k, b));
    const Variable64 f = sum(max_pool2d(h, {2, 2}, {1, 1}) * constant("conv_pool_penalty/wmax")) +
                         sum(avg_pool2d(h, {2, 2}, {1, 1}) * constant("conv_pool_penalty/wavg"));
    const Variable64 gx = grad<double>({f}, {x}, keep())[0];
    const auto d = grad<double>({sum(gx * gx)}, {k, b, x});
    check("conv_pool_penalty/gx", gx);
    check("conv_pool_penalty/d_kernel", d[0]);
    check("conv_pool_penalty/d_bias", d[1]);
    check("conv_pool_penalty/d_x", d[2]);
}

namespace {

using Norm = std::function<Variable64(const Variable64&, const Variable64&, const Variable64&)>;

// gx = d/dx sum(tanh(norm(x, gamma, beta)) * w), then the gradient of sum(gx^2) wrt x, gamma
// and beta, against the reference case `c`.
void check_norm_penalty(const std::string& c, const Norm& norm) {
    const Variable64 x = leaf(c + "/x"), gamma = leaf(c + "/gamma"), beta = leaf(c + "/beta");
    const Variable64 gx =
        grad<double>({sum(tanh(norm(x, gamma, beta)) * constant(c + "/w"))}, {x}, keep())[0];
    const auto d = grad<double>({sum(gx * gx)}, {x, gamma, beta});
    check(c + "/gx", gx);
    check(c + "/d_x", d[0]);
    check(c + "/d_gamma", d[1]);
    check(c + "/d_beta", d[2]);
}

}  // namespace

TEST_CASE("double backward matches PyTorch: batch norm in training mode") {
    check_norm_penalty("batch_norm", [](const Variable64& x, const Variable64& g,
                                        const Variable64& b) { return batch_norm(x, g, b, 1e-3); });
}

TEST_CASE("double backward matches PyTorch: layer norm composed of mean, var and sqrt") {
    const Norm layer_norm = [](const Variable64& x, const Variable64& g, const Variable64& b) {
        return (x - mean(x, {-1}, true)) / sqrt(var(x, {-1}, true) + 1e-5) * g + b;
    };
    check_norm_penalty("layer_norm", layer_norm);
    const Variable64 x(ref("layer_norm/x"));
    check("layer_norm/y", layer_norm(x, constant("layer_norm/gamma"), constant("layer_norm/beta")));
}

TEST_CASE("double backward matches PyTorch: log_softmax Hessian-vector product") {
    const Variable64 x = leaf("log_softmax_hvp/x");
    const Variable64 f = sum(log_softmax(x, -1) * constant("log_softmax_hvp/w"));
    const Variable64 gx = grad<double>({f}, {x}, keep())[0];
    const Variable64 hv = grad<double>({sum(gx * constant("log_softmax_hvp/v"))}, {x})[0];
    check("log_softmax_hvp/gx", gx);
    check("log_softmax_hvp/hv", hv);
}

TEST_CASE("the PyTorch reference holds every tensor the comparisons read") {
    // A truncated or stale file fails here by name rather than deep inside a comparison.
    CHECK(reference().size() == 55);
}
