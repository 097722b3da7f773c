#include "dist/world.h"

#include <climits>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>

#ifdef XGRAD_HAVE_MPI
#include <mpi.h>
#endif

namespace xgrad::dist {

namespace {

// The number of processes an MPI launcher says it started, 0 without one.
int launched_processes() {
    for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"}) {
        if (const char* v = std::getenv(name)) return std::atoi(v);
    }
    if (std::getenv("PMIX_RANK") || std::getenv("PMI_RANK")) return 1;
    return 0;
}

struct World {
    bool started = false;  // init() called MPI_Init
    int rank = 0;
    int size = 1;
};

World& world() {
    static World w;
    return w;
}

#ifdef XGRAD_HAVE_MPI
int mpi_count(std::size_t count, const char* who) {
    if (count > std::size_t(INT_MAX)) {
        throw std::invalid_argument(std::string(who) + ": " + std::to_string(count) +
                                    " elements exceed MPI's limit of " + std::to_string(INT_MAX));
    }
    return int(count);
}
#endif

}  // namespace

void init() {
    World& w = world();
    if (w.started || launched_processes() == 0) return;
#ifdef XGRAD_HAVE_MPI
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
        int provided = 0;
        // Only the thread that calls init() talks to MPI (the data loader's thread does not).
        MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    }
    w.started = true;
    MPI_Comm_rank(MPI_COMM_WORLD, &w.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &w.size);
#else
    if (launched_processes() > 1) {
        throw std::runtime_error("dist::init: started by an MPI launcher with " +
                                 std::to_string(launched_processes()) +
                                 " processes, but xgrad was built without MPI (install "
                                 "libopenmpi-dev and rebuild), so each would train alone");
    }
#endif
}

void finalize() {
    World& w = world();
    if (!w.started) return;
#ifdef XGRAD_HAVE_MPI
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
#endif
    w = World{};
}

Session::~Session() {
    if (std::uncaught_exceptions() > 0 && size() > 1) abort(1);
    finalize();
}

int rank() {
    return world().rank;
}

int size() {
    return world().size;
}

void abort(int code) {
#ifdef XGRAD_HAVE_MPI
    if (world().started) MPI_Abort(MPI_COMM_WORLD, code);
#endif
    std::exit(code);
}

void allreduce_sum(double* values, std::size_t count) {
    if (size() == 1) return;
#ifdef XGRAD_HAVE_MPI
    MPI_Allreduce(MPI_IN_PLACE, values, mpi_count(count, "dist::allreduce_sum"), MPI_DOUBLE,
                  MPI_SUM, MPI_COMM_WORLD);
#endif
}

bool any(bool flag) {
    if (size() == 1) return flag;
    int value = flag ? 1 : 0;
#ifdef XGRAD_HAVE_MPI
    MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
#endif
    return value != 0;
}

void broadcast(void* data, std::size_t bytes, int root) {
    if (root < 0 || root >= size()) {
        throw std::invalid_argument("dist::broadcast: root " + std::to_string(root) +
                                    " is not a process of this run of " + std::to_string(size()));
    }
    if (size() == 1) return;
#ifdef XGRAD_HAVE_MPI
    MPI_Bcast(data, mpi_count(bytes, "dist::broadcast"), MPI_BYTE, root, MPI_COMM_WORLD);
#else
    (void)data;
    (void)bytes;
#endif
}

struct AsyncAllreduce::Impl {
#ifdef XGRAD_HAVE_MPI
    MPI_Request request = MPI_REQUEST_NULL;
#endif
};

AsyncAllreduce::AsyncAllreduce() : impl_(std::make_unique<Impl>()) {}
AsyncAllreduce::~AsyncAllreduce() {
    if (impl_) wait();
}
AsyncAllreduce::AsyncAllreduce(AsyncAllreduce&&) noexcept = default;
AsyncAllreduce& AsyncAllreduce::operator=(AsyncAllreduce&&) noexcept = default;

void AsyncAllreduce::start(float* data, std::size_t count) {
    wait();
    if (size() == 1) return;
#ifdef XGRAD_HAVE_MPI
    MPI_Iallreduce(MPI_IN_PLACE, data, mpi_count(count, "dist::AsyncAllreduce"), MPI_FLOAT, MPI_SUM,
                   MPI_COMM_WORLD, &impl_->request);
#else
    (void)data;
    (void)count;
#endif
}

bool AsyncAllreduce::done() {
#ifdef XGRAD_HAVE_MPI
    if (impl_->request == MPI_REQUEST_NULL) return true;
    int flag = 0;
    MPI_Test(&impl_->request, &flag, MPI_STATUS_IGNORE);
    return flag != 0;
#else
    return true;
#endif
}

void AsyncAllreduce::wait() {
#ifdef XGRAD_HAVE_MPI
    if (impl_->request != MPI_REQUEST_NULL) MPI_Wait(&impl_->request, MPI_STATUS_IGNORE);
#endif
}

}  // namespace xgrad::dist
