// libFuzzer target: data::read_idx on the input bytes as they are, so a raw IDX file, or a gzip
// stream (possibly corrupt) when the input starts with gzip's magic 0x1f 0x8b.
#include <cstdio>

#include "tests/fuzz/fuzz_idx.h"

bool xgrad_fuzz_one(const std::uint8_t* data, std::size_t size) {
    const std::string& path = xgrad::fuzz::scratch_path("idx-raw");
    xgrad::fuzz::write_scratch(path, data, size);
    const bool ok = xgrad::fuzz::read_idx_and_check(path);
    std::remove(path.c_str());
    return ok;
}
