// libFuzzer target: data::read_idx on the input gzip-compressed, so the fuzzer mutates the IDX
// content seen through zlib (the raw target covers corrupt gzip streams themselves).
#include <zlib.h>

#include <cstdio>

#include "tests/fuzz/fuzz_idx.h"

bool xgrad_fuzz_one(const std::uint8_t* data, std::size_t size) {
    const std::string& path = xgrad::fuzz::scratch_path("idx-gzip");
    gzFile f = gzopen(path.c_str(), "wb1");
    if (!f || (size && gzwrite(f, data, static_cast<unsigned>(size)) != static_cast<int>(size)) ||
        gzclose(f) != Z_OK)
        xgrad::fuzz::violated("cannot write the scratch file " + path);
    const bool ok = xgrad::fuzz::read_idx_and_check(path);
    std::remove(path.c_str());
    return ok;
}
