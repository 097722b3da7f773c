#include <doctest/doctest.h>

#include "xgrad.h"

using namespace xgrad;

TEST_CASE("broadcasts in a world of one change nothing and check the root") {
    nn::Sequential model;
    model.add(nn::Dense(3));
    model.build({2});
    auto opt = optim::make_optimizer("adam", model.trainable_parameters());
    const auto before = model.state_dict();
    dist::broadcast_parameters(model, 0);
    dist::broadcast_optimizer_state(*opt, 0);
    const auto after = model.state_dict();
    for (const auto& [name, t] : before) CHECK(after.at(name) == t);
    CHECK(opt->iterations() == 0);
    CHECK_THROWS_AS(dist::broadcast_parameters(model, 1), std::invalid_argument);
}
