// The program tests/dist/test_mpi.cpp starts under mpirun: trains a small classifier on
// synthetic data with nn::Trainer (data-parallel under mpirun, alone without it) and writes each
// process's parameters to <out>.<rank> as raw float32, one parameter after the other.
//
//   mpi_worker --out PATH [--optimizer adam|sgd] [--epochs N] [--batch-size N]
//              [--bucket-bytes N] [--checkpoint PATH] [--resume PATH]
//              [--fail kill|throw] [--other-model]
//
// --fail: process 1 dies at its 5th step (SIGKILL, or an exception). --other-model: process 1
// builds a model with a wider hidden layer. Each process starts from its own random weights
// (seeded by its rank), so the processes agree only if the broadcast works.
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <stdexcept>
#include <string>

#include "xgrad.h"

using namespace xgrad;

namespace {

struct Flags {
    std::string out, optimizer = "adam", checkpoint, resume, fail;
    std::size_t epochs = 1, batch_size = 32, bucket_bytes = std::size_t(25) << 20;
    bool other_model = false;
};

Flags parse(int argc, char** argv) {
    Flags f;
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (flag == "--other-model") {
            f.other_model = true;
            continue;
        }
        if (i + 1 >= argc) throw std::invalid_argument("mpi_worker: " + flag + " needs a value");
        const std::string value = argv[++i];
        if (flag == "--out")
            f.out = value;
        else if (flag == "--optimizer")
            f.optimizer = value;
        else if (flag == "--epochs")
            f.epochs = std::stoul(value);
        else if (flag == "--batch-size")
            f.batch_size = std::stoul(value);
        else if (flag == "--bucket-bytes")
            f.bucket_bytes = std::stoul(value);
        else if (flag == "--checkpoint")
            f.checkpoint = value;
        else if (flag == "--resume")
            f.resume = value;
        else if (flag == "--fail")
            f.fail = value;
        else
            throw std::invalid_argument("mpi_worker: unknown flag " + flag);
    }
    if (f.out.empty()) throw std::invalid_argument("mpi_worker: --out is required");
    return f;
}

// 640 examples of 6 features in 3 classes: 20 steps of 32 per epoch. Fixed, not random.
std::shared_ptr<data::TensorDataset> synthetic() {
    const std::size_t n = 640;
    Tensor x = Tensor::from_shape({n, 6});
    IndexTensor y = IndexTensor::from_shape({n});
    for (std::size_t i = 0; i < n; ++i) {
        y(i) = std::int64_t(i % 3);
        for (std::size_t j = 0; j < 6; ++j) {
            x(i, j) = std::sin(float(i * 7 + j * 13)) + (j % 3 == i % 3 ? 1.0f : 0.0f);
        }
    }
    return std::make_shared<data::TensorDataset>(x, y, 3);
}

// Process 1 fails on purpose at its 5th step.
class FailOnPurpose : public nn::Callback {
  public:
    explicit FailOnPurpose(std::string how) : how_(std::move(how)) {}
    void on_batch_end(nn::Trainer&, std::size_t, std::size_t batch, const nn::Logs&) override {
        if (dist::rank() != 1 || batch != 4) return;
        if (how_ == "kill") std::raise(SIGKILL);
        throw std::runtime_error("mpi_worker: process 1 fails on purpose");
    }

  private:
    std::string how_;
};

int run(const Flags& f) {
    manual_seed(100 + std::uint64_t(dist::rank()));
    nn::Sequential model;
    model.add(nn::Dense(f.other_model && dist::rank() == 1 ? 24 : 16, "relu"));
    model.add(nn::Dense(8, "tanh"));
    model.add(nn::Dense(3, "softmax"));
    model.build({6});
    nn::Trainer trainer(model, optim::make_optimizer(f.optimizer, model.trainable_parameters()),
                        "sparse_categorical_crossentropy", {"accuracy"});
    nn::History previous;
    if (!f.resume.empty()) previous = nn::load_training_checkpoint(f.resume, trainer);
    nn::FitOptions fit;
    fit.epochs = f.epochs;
    fit.initial_epoch = previous.size();
    fit.batch_size = f.batch_size;
    fit.seed = 7;
    fit.verbose = 2;
    fit.allreduce_bucket_bytes = f.bucket_bytes;
    if (!f.fail.empty()) fit.callbacks.push_back(std::make_shared<FailOnPurpose>(f.fail));
    if (!f.checkpoint.empty()) {
        fit.callbacks.push_back(std::make_shared<nn::TrainingCheckpoint>(f.checkpoint, previous));
    }
    trainer.fit(synthetic(), fit);

    std::ofstream out(f.out + "." + std::to_string(dist::rank()), std::ios::binary);
    for (const auto& p : model.parameters()) {
        out.write(reinterpret_cast<const char*>(p.value().data()),
                  std::streamsize(p.size() * sizeof(float)));
    }
    if (!out.flush()) throw std::runtime_error("mpi_worker: cannot write " + f.out);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        dist::Session session;
        const Flags flags = parse(argc, argv);
        try {
            return run(flags);
        } catch (const std::exception& e) {
            // One write, so that mpirun does not interleave another process's output into it.
            const std::string line =
                "error: process " + std::to_string(dist::rank()) + ": " + e.what() + "\n";
            std::cerr << line << std::flush;
            dist::abort(1);  // the others may wait for this process: end them too
        }
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << std::endl;
        return 1;
    }
}
