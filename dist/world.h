// The processes of a distributed run and the few collectives xgrad needs, over MPI. A program
// started without mpirun (or built without MPI) is a world of one: rank 0 of size 1, and every
// collective returns its input.
//
//   int main(int argc, char** argv) {
//       xgrad::dist::Session session;   // MPI_Init under mpirun; MPI_Finalize at the end
//       if (xgrad::dist::is_root()) std::cout << "training on " << xgrad::dist::size() << "\n";
//   }
#pragma once

#include <cstddef>
#include <memory>

namespace xgrad::dist {

// Starts MPI when an MPI launcher started this process (mpirun sets OMPI_COMM_WORLD_SIZE or
// PMI_RANK); otherwise nothing happens. Calling it again does nothing. Under mpirun with a
// library built without MPI it throws std::runtime_error (every process would train alone).
void init();
// Ends MPI if init() started it. Every process must call it (it waits for the others).
void finalize();

// init() for its lifetime. Left by an exception in flight, it ends the whole run (abort)
// instead of waiting in finalize() for processes that wait for this one.
class Session {
  public:
    Session() { init(); }
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
};

// This process's number, 0 .. size() - 1.
int rank();
// The number of processes.
int size();
inline bool is_root() {
    return rank() == 0;
}

// Ends every process of the run with `code` (MPI_Abort), so that none waits forever for
// this one; in a world of one, std::exit(code).
[[noreturn]] void abort(int code);

// Sums `count` values in place over all processes; every process gets the same sums.
void allreduce_sum(double* values, std::size_t count);
// True on every process when `flag` is true on at least one.
bool any(bool flag);
// Copies `bytes` bytes at `data` from process `root` to every other one.
void broadcast(void* data, std::size_t bytes, int root);

// A non-blocking in-place sum of floats over all processes (MPI_Iallreduce). Every process
// must start the same reductions in the same order.
class AsyncAllreduce {
  public:
    AsyncAllreduce();
    ~AsyncAllreduce();  // waits for a reduction in flight
    AsyncAllreduce(AsyncAllreduce&&) noexcept;
    AsyncAllreduce& operator=(AsyncAllreduce&&) noexcept;

    // Starts summing data[0 .. count); the memory must stay until done() or wait().
    void start(float* data, std::size_t count);
    // Lets MPI move the reduction on; true once it has finished (or none is in flight).
    bool done();
    void wait();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace xgrad::dist
