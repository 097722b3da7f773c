// Without mpirun every program is a world of one process and the collectives return their input.
#include <doctest/doctest.h>

#include "xgrad.h"

using namespace xgrad;

TEST_CASE("without mpirun: a world of one, collectives give back their input") {
    dist::Session session;
    CHECK(dist::rank() == 0);
    CHECK(dist::size() == 1);
    CHECK(dist::is_root());
    double values[2] = {1.5, -2};
    dist::allreduce_sum(values, 2);
    CHECK(values[0] == 1.5);
    CHECK(values[1] == -2);
    CHECK(dist::any(true));
    CHECK_FALSE(dist::any(false));
    int x = 7;
    dist::broadcast(&x, sizeof x, 0);
    CHECK(x == 7);
    CHECK_THROWS_WITH_AS(dist::broadcast(&x, sizeof x, 1),
                         "dist::broadcast: root 1 is not a process of this run of 1",
                         std::invalid_argument);
    float f[3] = {1, 2, 3};
    dist::AsyncAllreduce sum;
    sum.start(f, 3);
    CHECK(sum.done());
    sum.wait();
    CHECK(f[2] == 3);
}
