// One contender of bench/scaling: the seed MLP or the CNN trained data-parallel on the processes
// mpirun starts (or alone), 1 BLAS thread each, Adam, global batch --batch-size.
//
//   train_scaling --model mlp|cnn --batch-size N --steps N [--warmup N] [--seed N] [--data-dir D]
//       times --steps steps after --warmup ones and prints (process 0)
//       "images_per_s X exposed_ms A no_overlap_exposed_ms B hidden_share H"
//       A: per step, communication not hidden behind backward (GradientReducer stats: MPI
//       calls during backward, the wait after it, packing); B: the same with every allreduce
//       started after backward (--steps / 2 further steps); H = 1 - A / B, the share of the
//       communication that overlapping with backward hides.
//   train_scaling --model mlp|cnn --batch-size N --epochs N
//       trains whole epochs with nn::Trainer and prints "test_acc X".
#include <cblas.h>
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "bench/bench_models.h"
#include "xgrad.h"

using namespace xgrad;

namespace {

struct Flags {
    std::string model = "mlp", data_dir;
    std::size_t batch_size = 512, steps = 0, warmup = 3, epochs = 0;
    std::uint64_t seed = 0;
};

Flags parse(int argc, char** argv) {
    Flags f;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i], value = argv[i + 1];
        if (flag == "--model")
            f.model = value;
        else if (flag == "--data-dir")
            f.data_dir = value;
        else if (flag == "--batch-size")
            f.batch_size = std::stoul(value);
        else if (flag == "--steps")
            f.steps = std::stoul(value);
        else if (flag == "--warmup")
            f.warmup = std::stoul(value);
        else if (flag == "--epochs")
            f.epochs = std::stoul(value);
        else if (flag == "--seed")
            f.seed = std::stoull(value);
        else
            throw std::invalid_argument("train_scaling: unknown flag " + flag);
    }
    if (argc % 2 == 0) throw std::invalid_argument("train_scaling: a flag has no value");
    if (f.model != "mlp" && f.model != "cnn") {
        throw std::invalid_argument("train_scaling: --model must be mlp or cnn, got " + f.model);
    }
    if ((f.steps == 0) == (f.epochs == 0)) {
        throw std::invalid_argument("train_scaling: give either --steps or --epochs");
    }
    return f;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// `count` training steps; the reducer's exposed time of those steps.
double train_steps(nn::Sequential& model, optim::Optimizer& opt, data::DataLoader& loader,
                   dist::GradientReducer* reducer, std::size_t count, std::size_t& epoch) {
    const nn::Loss loss_fn("sparse_categorical_crossentropy");
    const double before = reducer ? reducer->stats().exposed_seconds : 0;
    data::Batch batch;
    for (std::size_t s = 0; s < count; ++s) {
        if (!loader.next(batch)) {
            loader.set_epoch(++epoch);
            loader.next(batch);
        }
        const Variable loss = loss_fn(model(Variable(batch.input())), Variable(batch.target()));
        opt.zero_grad();
        if (reducer) {
            const std::size_t global = batch.size() * std::size_t(dist::size());
            reducer->backward(loss, double(batch.size()) / double(global));
        } else {
            loss.backward();
        }
        opt.step();
    }
    return reducer ? reducer->stats().exposed_seconds - before : 0;
}

int run(const Flags& f) {
    openblas_set_num_threads(1);
    set_flush_denormal(true);
    auto train = std::make_shared<data::FashionMNIST>(f.data_dir, data::Split::train);
    manual_seed(f.seed);
    nn::Sequential model;
    (f.model == "mlp" ? bench::add_seed_mlp : bench::add_cnn)(model);
    model.build({28, 28});
    auto opt = optim::make_optimizer("adam", model.trainable_parameters());

    if (f.epochs > 0) {
        auto test = std::make_shared<data::FashionMNIST>(f.data_dir, data::Split::test);
        nn::Trainer trainer(model, std::move(opt), "sparse_categorical_crossentropy", {"accuracy"});
        nn::FitOptions fit;
        fit.epochs = f.epochs;
        fit.batch_size = f.batch_size;
        fit.seed = f.seed;
        fit.verbose = 0;
        trainer.fit(train, fit);
        const double accuracy = trainer.evaluate(*test).at("accuracy");
        if (dist::is_root()) std::printf("test_acc %.4f\n", accuracy);
        return 0;
    }

    dist::broadcast_parameters(model);
    dist::broadcast_optimizer_state(*opt);
    data::DataLoader loader(train, {.batch_size = f.batch_size,
                                    .seed = f.seed,
                                    .drop_last = true,
                                    .num_shards = std::size_t(dist::size()),
                                    .shard = std::size_t(dist::rank())});
    const bool several = dist::size() > 1;
    dist::GradientReducer overlapped(model.trainable_parameters());
    dist::GradientReducer after_backward(model.trainable_parameters(), {.overlap = false});
    std::size_t epoch = 0;
    loader.set_epoch(epoch);
    train_steps(model, *opt, loader, several ? &overlapped : nullptr, f.warmup, epoch);
    double ready = 0;
    dist::allreduce_sum(&ready, 1);  // start the clock together
    const auto start = std::chrono::steady_clock::now();
    const double exposed =
        train_steps(model, *opt, loader, several ? &overlapped : nullptr, f.steps, epoch);
    const double seconds = seconds_since(start);
    const std::size_t more = std::max<std::size_t>(f.steps / 2, 1);
    const double exposed_after =
        several ? train_steps(model, *opt, loader, &after_backward, more, epoch) : 0;
    if (dist::is_root()) {
        const double a = 1e3 * exposed / double(f.steps), b = 1e3 * exposed_after / double(more);
        std::printf(
            "images_per_s %.1f exposed_ms %.3f no_overlap_exposed_ms %.3f hidden_share "
            "%.3f\n",
            double(f.steps * f.batch_size) / seconds, a, b, several && b > 0 ? 1 - a / b : 0.0);
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    // As bench/train_cnn: keep freed memory in the heap (the same large buffers every batch).
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    try {
        dist::Session session;
        try {
            return run(parse(argc, argv));
        } catch (const std::exception& e) {
            std::fprintf(stderr, "error: %s\n", e.what());
            if (dist::size() > 1) dist::abort(1);
            return 1;
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
