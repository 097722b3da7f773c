#include "dist/broadcast.h"

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "dist/world.h"

namespace xgrad::dist {

namespace {

// Root's bytes on every process.
std::vector<char> broadcast_bytes(std::vector<char> bytes, int root) {
    std::uint64_t n = bytes.size();
    broadcast(&n, sizeof n, root);
    bytes.resize(n);
    broadcast(bytes.data(), n, root);
    return bytes;
}

std::string broadcast_string(const std::string& s, int root) {
    const std::vector<char> bytes = broadcast_bytes(std::vector<char>(s.begin(), s.end()), root);
    return std::string(bytes.begin(), bytes.end());
}

// The lowest process for which `flag` holds, or -1 on none; the same on every process.
int first_process_with(bool flag) {
    std::vector<double> flags(std::size_t(size()), 0.0);
    flags[std::size_t(rank())] = flag ? 1.0 : 0.0;
    allreduce_sum(flags.data(), flags.size());
    for (std::size_t r = 0; r < flags.size(); ++r) {
        if (flags[r] != 0) return int(r);
    }
    return -1;
}

std::vector<std::string> parameter_lines(const nn::Module& model) {
    std::vector<std::string> lines;
    for (const auto& [name, v] : model.named_parameters()) {
        lines.push_back(name + " " + format_shape(v.shape()));
    }
    return lines;
}

std::string join(const std::vector<std::string>& lines) {
    std::string s;
    for (const auto& l : lines) s += l + "\n";
    return s;
}

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    for (std::size_t end; (end = s.find('\n', start)) != std::string::npos; start = end + 1) {
        lines.push_back(s.substr(start, end - start));
    }
    return lines;
}

// The first difference between root's parameter list and process r's.
std::string describe_difference(const std::vector<std::string>& root_lines, int root,
                                const std::vector<std::string>& lines, int r) {
    const std::string ours = "process " + std::to_string(r),
                      theirs = "process " + std::to_string(root);
    if (lines.size() != root_lines.size()) {
        return ours + " has " + std::to_string(lines.size()) + " parameters, " + theirs + " has " +
               std::to_string(root_lines.size());
    }
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (lines[i] != root_lines[i]) {
            return "parameter " + std::to_string(i) + " is " + lines[i] + " on " + ours + " but " +
                   root_lines[i] + " on " + theirs;
        }
    }
    return ours + " differs";
}

void put(std::vector<char>& out, const void* data, std::size_t bytes) {
    const char* p = static_cast<const char*>(data);
    out.insert(out.end(), p, p + bytes);
}

void get(const std::vector<char>& in, std::size_t& at, void* data, std::size_t bytes) {
    std::memcpy(data, in.data() + at, bytes);
    at += bytes;
}

// A state dict as bytes: per entry its name, rank, dimensions and float32 values.
std::vector<char> encode(const std::map<std::string, Tensor>& state) {
    std::vector<char> out;
    for (const auto& [name, t] : state) {
        const std::uint64_t name_size = name.size(), ndim = t.dimension();
        put(out, &name_size, sizeof name_size);
        put(out, name.data(), name.size());
        put(out, &ndim, sizeof ndim);
        for (std::size_t d : t.shape()) {
            const std::uint64_t dim = d;
            put(out, &dim, sizeof dim);
        }
        put(out, t.data(), t.size() * sizeof(float));
    }
    return out;
}

std::map<std::string, Tensor> decode(const std::vector<char>& in) {
    std::map<std::string, Tensor> state;
    std::size_t at = 0;
    while (at < in.size()) {
        std::uint64_t name_size = 0, ndim = 0;
        get(in, at, &name_size, sizeof name_size);
        std::string name(name_size, '\0');
        get(in, at, name.data(), name_size);
        get(in, at, &ndim, sizeof ndim);
        Shape shape(ndim);
        for (auto& d : shape) {
            std::uint64_t dim = 0;
            get(in, at, &dim, sizeof dim);
            d = dim;
        }
        Tensor t = Tensor::from_shape(shape);
        get(in, at, t.data(), t.size() * sizeof(float));
        state.emplace(std::move(name), std::move(t));
    }
    return state;
}

}  // namespace

void broadcast_parameters(const nn::Module& model, int root) {
    if (size() == 1) {
        broadcast(nullptr, 0, root);  // checks root
        return;
    }
    const std::vector<std::string> lines = parameter_lines(model);
    const std::vector<std::string> root_lines = split(broadcast_string(join(lines), root));
    const int differing = first_process_with(lines != root_lines);
    if (differing >= 0) {
        const std::vector<std::string> their_lines =
            split(broadcast_string(join(lines), differing));
        throw std::invalid_argument("broadcast_parameters: model '" + model.name() +
                                    "' differs between processes: " +
                                    describe_difference(root_lines, root, their_lines, differing));
    }
    for (const auto& v : model.parameters()) {
        broadcast(v.mutable_value().data(), v.size() * sizeof(float), root);
    }
}

void broadcast_optimizer_state(optim::Optimizer& optimizer, int root) {
    const std::string root_name = broadcast_string(optimizer.name(), root);
    if (const int r = first_process_with(optimizer.name() != root_name); r >= 0) {
        throw std::invalid_argument("broadcast_optimizer_state: process " + std::to_string(r) +
                                    " has another optimizer than " + root_name + " on process " +
                                    std::to_string(root));
    }
    if (size() == 1) return;
    const std::vector<char> bytes = broadcast_bytes(
        rank() == root ? encode(optimizer.state_dict()) : std::vector<char>{}, root);
    std::string error;
    if (rank() != root) {
        try {
            optimizer.load_state_dict(decode(bytes));
        } catch (const std::invalid_argument& e) {
            error = e.what();
        }
    }
    if (const int r = first_process_with(!error.empty()); r >= 0) {
        throw std::invalid_argument("broadcast_optimizer_state: process " + std::to_string(r) +
                                    " cannot take the state of process " + std::to_string(root) +
                                    ": " + broadcast_string(error, r));
    }
}

}  // namespace xgrad::dist
