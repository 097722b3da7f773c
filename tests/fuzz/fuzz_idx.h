// The check both IDX targets run on a scratch file: data::read_idx accepts it or throws a
// std::runtime_error naming it; an accepted file holds exactly what its header declares and
// survives a write/read round trip in both forms.
#pragma once

#include <stdexcept>
#include <string>

#include "datasets/idx.h"
#include "tests/fuzz/fuzz_target.h"

namespace xgrad::fuzz {

inline bool read_idx_and_check(const std::string& path) {
    data::IdxArray a;
    try {
        a = data::read_idx(path);
    } catch (const std::runtime_error& e) {
        check_message(e.what(), path);
        return false;
    }
    if (a.data.size() != a.num_elements() * data::idx_type_size(a.type))
        violated("read_idx returned " + std::to_string(a.data.size()) + " bytes for its dims");
    // A gzip input may inflate to many megabytes; round-trip only the small ones (fast).
    if (a.data.size() > (1u << 20)) return true;
    for (bool gzip : {false, true}) {
        data::write_idx(path, a, gzip);
        const data::IdxArray b = data::read_idx(path);
        if (b.type != a.type || b.dims != a.dims || b.data != a.data)
            violated(gzip ? "gzip round trip differs" : "raw round trip differs");
    }
    return true;
}

}  // namespace xgrad::fuzz
