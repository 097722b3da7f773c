#include "datasets/registry.h"

#include <map>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "framework/names.h"

namespace xgrad::data {

namespace {

struct Registry {
    std::mutex mutex;
    std::map<std::string, DatasetFactory> factories;

    Registry() {
        factories["fashion_mnist"] = [](const std::string& dir, Split split) {
            return std::make_shared<FashionMNIST>(dir, split);
        };
        factories["mnist"] = [](const std::string& dir, Split split) {
            return std::make_shared<MNIST>(dir, split);
        };
    }
};

// Built on first use, with the built-in datasets, so no static initialisation order matters.
Registry& registry() {
    static Registry r;
    return r;
}

std::string known_names(const std::map<std::string, DatasetFactory>& factories) {
    std::vector<std::string> names;
    for (const auto& entry : factories) names.push_back(entry.first);
    return join_names(names);
}

}  // namespace

void register_dataset(const std::string& name, DatasetFactory factory) {
    if (name.empty()) throw std::invalid_argument("register_dataset: the name is empty");
    if (!factory)
        throw std::invalid_argument("register_dataset: the factory for '" + name + "' is empty");
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    if (!r.factories.emplace(name, std::move(factory)).second)
        throw std::invalid_argument("register_dataset: a dataset named '" + name +
                                    "' is already registered");
}

std::shared_ptr<Dataset> make_dataset(const std::string& name, const std::string& dir,
                                      Split split) {
    DatasetFactory factory;
    {
        Registry& r = registry();
        std::lock_guard lock(r.mutex);
        const auto it = r.factories.find(name);
        if (it == r.factories.end())
            throw std::invalid_argument("unknown dataset '" + name +
                                        "' (known: " + known_names(r.factories) + ")");
        factory = it->second;
    }
    // Called outside the lock: loading takes a while and a factory may use the registry itself.
    auto dataset = factory(dir, split);
    if (!dataset)
        throw std::runtime_error("make_dataset: the factory for '" + name + "' returned null");
    return dataset;
}

std::vector<std::string> dataset_names() {
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    std::vector<std::string> names;
    for (const auto& [name, f] : r.factories) names.push_back(name);
    return names;
}

}  // namespace xgrad::data
