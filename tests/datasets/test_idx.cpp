#include <doctest/doctest.h>

#include <cstring>

#include "tests/datasets/helpers.h"
#include "xgrad.h"

using namespace xgrad::data;
using namespace test_data;

namespace {
const Bytes kSix = {0, 1, 2, 253, 254, 255};
}  // namespace

TEST_CASE("read_idx: a good raw file and the same gzip-compressed") {
    const std::string raw = tmp_path("good.idx"), gz = tmp_path("good.idx.gz");
    write_raw(raw, idx_bytes(0x08, {2, 3}, kSix));
    write_gz(gz, idx_bytes(0x08, {2, 3}, kSix));
    CHECK(read_all(gz).size() > 2);
    CHECK(read_all(gz)[0] == 0x1f);  // really compressed
    for (const auto& path : {raw, gz}) {
        CAPTURE(path);
        const IdxArray a = read_idx(path);
        CHECK(a.type == idx_type::u8);
        CHECK(a.dims == std::vector<std::size_t>{2, 3});
        CHECK(a.num_elements() == 6);
        CHECK(a.data == kSix);
    }
}

TEST_CASE("read_idx: multi-byte elements arrive in host byte order") {
    const std::string p32 = tmp_path("int32.idx"), pf = tmp_path("float32.idx.gz");
    write_raw(p32, idx_bytes(0x0C, {2}, {0x01, 0x02, 0x03, 0x04, 0xFF, 0xFF, 0xFF, 0xFE}));
    const IdxArray a = read_idx(p32);
    REQUIRE(a.data.size() == 8);
    std::int32_t v[2];
    std::memcpy(v, a.data.data(), 8);
    CHECK(v[0] == 0x01020304);
    CHECK(v[1] == -2);

    write_gz(pf, idx_bytes(0x0D, {1}, {0x3F, 0xC0, 0x00, 0x00}));  // 1.5f big-endian
    const IdxArray f = read_idx(pf);
    float x = 0;
    REQUIRE(f.data.size() == 4);
    std::memcpy(&x, f.data.data(), 4);
    CHECK(x == 1.5f);
    CHECK(idx_type_name(0x0D) == "float32 (0x0D)");
    CHECK(idx_type_size(0x0E) == 8);
    CHECK(idx_type_size(0x07) == 0);
}

TEST_CASE("write_idx and read_idx round-trip raw and gzip, rank 0 to 3") {
    IdxArray a;
    a.type = idx_type::f64;
    a.dims = {2, 1, 2};
    const double values[4] = {1.25, -3.5, 1e300, 0.0};
    a.data.resize(sizeof values);
    std::memcpy(a.data.data(), values, sizeof values);
    IdxArray scalar;
    scalar.type = idx_type::i16;
    scalar.data = {0x34, 0x12};  // host order on little-endian machines: 0x1234
    for (bool gzip : {false, true}) {
        CAPTURE(gzip);
        const std::string p = tmp_path(gzip ? "roundtrip.idx.gz" : "roundtrip.idx");
        write_idx(p, a, gzip);
        CHECK((read_all(p)[0] == 0x1f) == gzip);
        const IdxArray b = read_idx(p);
        CHECK(b.type == a.type);
        CHECK(b.dims == a.dims);
        CHECK(b.data == a.data);
        const std::string ps = tmp_path(gzip ? "scalar.idx.gz" : "scalar.idx");
        write_idx(ps, scalar, gzip);
        const IdxArray s = read_idx(ps);
        CHECK(s.dims.empty());
        CHECK(s.data == scalar.data);
    }
    IdxArray bad = a;
    bad.data.pop_back();
    CHECK_ERROR_CONTAINS(std::invalid_argument, write_idx(tmp_path("bad_write.idx"), bad),
                         "31 data bytes for dims 2 x 1 x 2 of float64 (0x0E)");
}

TEST_CASE("read_idx: missing file, directory, empty file") {
    const std::string missing = tmp_path("does-not-exist.idx");
    CHECK_THROWS_WITH_AS(read_idx(missing), ("IDX file '" + missing + "': no such file").c_str(),
                         std::runtime_error);
    const std::string dir = tmp_dir("a-directory.idx");
    CHECK_ERROR_CONTAINS(std::runtime_error, read_idx(dir), dir, "is a directory");
    const std::string empty = tmp_path("empty.idx");
    write_raw(empty, {});
    CHECK_ERROR_CONTAINS(std::runtime_error, read_idx(empty), empty, "is empty");
}

TEST_CASE("read_idx: wrong magic, unknown type, truncated header") {
    const std::string magic = tmp_path("magic.idx");
    write_raw(magic, {0x12, 0x34, 0x08, 0x01, 0, 0, 0, 1, 7});
    CHECK_ERROR_CONTAINS(std::runtime_error, read_idx(magic), magic,
                         "wrong magic number 0x12 0x34 0x08 0x01");
    const std::string text = tmp_path("text.idx.gz");  // a gzip file that holds no IDX
    write_gz(text, {'h', 'e', 'l', 'l', 'o', '\n'});
    CHECK_ERROR_CONTAINS(std::runtime_error, read_idx(text), text, "wrong magic number 0x68");
    const std::string type = tmp_path("type.idx");
    write_raw(type, idx_bytes(0x07, {1}, {1}));
    CHECK_ERROR_CONTAINS(std::runtime_error, read_idx(type), type, "unknown IDX data type 0x07");
    const std::string header = tmp_path("header.idx");
    write_raw(header, {0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0});
    CHECK_ERROR_CONTAINS(std::runtime_error, read_idx(header), header,
                         "truncated IDX header (6 of 12 bytes of dimension sizes for rank 3)");
    const std::string short_magic = tmp_path("short_magic.idx");
    write_raw(short_magic, {0, 0});
    CHECK_ERROR_CONTAINS(std::runtime_error, read_idx(short_magic), short_magic,
                         "truncated IDX header (2 of 4 magic bytes)");
}

TEST_CASE("read_idx: a raw file shorter or longer than its header declares") {
    const std::string shorter = tmp_path("short.idx");
    write_raw(shorter, idx_bytes(0x08, {2, 3}, {1, 2, 3, 4}));
    CHECK_THROWS_WITH_AS(read_idx(shorter),
                         ("IDX file '" + shorter +
                          "': truncated file: its header declares 2 x 3 unsigned byte (0x08) = 6 "
                          "bytes of data but it holds only 4")
                             .c_str(),
                         std::runtime_error);
    const std::string longer = tmp_path("long.idx");
    write_raw(longer, idx_bytes(0x08, {2, 3}, {1, 2, 3, 4, 5, 6, 7}));
    CHECK_ERROR_CONTAINS(std::runtime_error, read_idx(longer), longer,
                         "file longer than its header declares", ": 1 extra bytes");
    // A huge claimed size is rejected from the file length, before any allocation.
    const std::string huge = tmp_path("huge.idx");
    write_raw(huge, idx_bytes(0x08, {0xFFFFFFFF, 0xFFFFFFFF}, {1, 2}));
    CHECK_ERROR_CONTAINS(std::runtime_error, read_idx(huge), huge, "truncated file",
                         "holds only 2");
}

TEST_CASE("read_idx: dimensions whose product overflows") {
    const std::string p = tmp_path("overflow.idx.gz");
    write_gz(p, idx_bytes(0x0E, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, {1, 2, 3}));
    CHECK_ERROR_CONTAINS(std::runtime_error, read_idx(p), p,
                         "header dimensions 4294967295 x 4294967295 x 4294967295 of float64 "
                         "(0x0E) overflow");
}

TEST_CASE("read_idx: truncated and corrupt gzip streams") {
    const Bytes payload = image_payload(3);
    const std::string good = tmp_path("gz_good.idx.gz");
    write_gz(good, idx_bytes(0x08, {3, 28, 28}, payload));
    const Bytes gz = read_all(good);
    REQUIRE(gz.size() > 40);

    SUBCASE("the compressed file cut in half") {
        const std::string p = tmp_path("gz_cut.idx.gz");
        write_raw(p, Bytes(gz.begin(), gz.begin() + static_cast<std::ptrdiff_t>(gz.size() / 2)));
        CHECK_ERROR_CONTAINS(std::runtime_error, read_idx(p), p,
                             "truncated gzip stream: it ends in the data");
    }
    SUBCASE("the compressed file without its 8-byte trailer") {
        const std::string p = tmp_path("gz_notrailer.idx.gz");
        write_raw(p, Bytes(gz.begin(), gz.end() - 8));
        CHECK_ERROR_CONTAINS(std::runtime_error, read_idx(p), p,
                             "truncated gzip stream: it ends before its trailer");
    }
    SUBCASE("only the gzip magic") {
        const std::string p = tmp_path("gz_magic_only.idx.gz");
        write_raw(p, {0x1f, 0x8b});
        CHECK_ERROR_CONTAINS(std::runtime_error, read_idx(p), p,
                             "truncated gzip stream: it ends in the IDX header");
    }
    SUBCASE("an invalid deflate block type") {
        const std::string p = tmp_path("gz_blocktype.idx.gz");
        Bytes bad = gz;
        bad[10] = 0xFF;  // the first deflate byte: final block, type 3 (reserved)
        write_raw(p, bad);
        CHECK_ERROR_CONTAINS(std::runtime_error, read_idx(p), p, "corrupt gzip stream",
                             "invalid block type");
    }
    SUBCASE("a wrong CRC in the trailer") {
        const std::string p = tmp_path("gz_crc.idx.gz");
        Bytes bad = gz;
        bad[bad.size() - 8] ^= 0xFF;
        write_raw(p, bad);
        CHECK_ERROR_CONTAINS(std::runtime_error, read_idx(p), p, "corrupt gzip stream",
                             "incorrect data check");
    }
    SUBCASE("a valid gzip stream of an IDX file shorter than its header declares") {
        const std::string p = tmp_path("gz_short.idx.gz");
        write_gz(p, idx_bytes(0x08, {3, 28, 28}, Bytes(payload.begin(), payload.begin() + 100)));
        CHECK_ERROR_CONTAINS(std::runtime_error, read_idx(p), p, "truncated data",
                             "= 2352 bytes of data but the gzip stream holds only 100");
    }
    SUBCASE("a header claiming 2 GB in a tiny gzip file fails without allocating it") {
        const std::string p = tmp_path("gz_huge.idx.gz");
        write_gz(p, idx_bytes(0x08, {0x7FFFFFFF, 1}, {1, 2, 3}));
        CHECK_ERROR_CONTAINS(std::runtime_error, read_idx(p), p, "truncated data", "holds only 3");
    }
    SUBCASE("a gzip stream with more data than the header declares") {
        const std::string p = tmp_path("gz_long.idx.gz");
        write_gz(p, idx_bytes(0x08, {2}, {1, 2, 3}));
        CHECK_ERROR_CONTAINS(std::runtime_error, read_idx(p), p, "more data than its header");
    }
}
