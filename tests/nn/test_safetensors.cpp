#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>

#include <nlohmann/json.hpp>
#include <xtensor/xbuilder.hpp>

#include "nn_test_util.h"
#include "xgrad.h"

using namespace xgrad;
using nn_test::read_bytes;
using nn_test::tmp_path;
using nn_test::write_bytes;

namespace {

std::string le64(std::uint64_t n) {
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((n >> (8 * i)) & 0xff);
    return s;
}

// A file with this header text and `data_bytes` zero bytes of data.
std::string raw_file(const std::string& header, std::size_t data_bytes) {
    return le64(header.size()) + header + std::string(data_bytes, '\0');
}

// The message read_safetensors gives for a file with these bytes.
std::string load_message(const std::string& name, const std::string& bytes) {
    const std::string path = tmp_path(name);
    write_bytes(path, bytes);
    try {
        nn::read_safetensors(path);
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "(no error)";
}

std::string prefix(const std::string& name) {
    return "cannot load '" + tmp_path(name) + "': ";
}

const char* const one_f32 = R"("w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";

}  // namespace

TEST_CASE("safetensors: write then read gives the same tensors bit for bit") {
    const std::string path = tmp_path("roundtrip.safetensors");
    nn::TensorMap tensors;
    tensors["a/kernel"] = Tensor{{1.5f, -2.25f, 3e-38f}, {1e30f, -0.f, 7.f}};
    tensors["b"] = Tensor(4.5f);                                // a scalar
    tensors["empty"] = Tensor::from_shape({0, 3});              // no elements
    tensors["c"] = xt::arange<float>(24.f).reshape({2, 3, 4});  // 3-D
    nn::write_safetensors(path, tensors, {{"format", "xgrad"}, {"note", "hi"}});
    auto [read, metadata] = nn::read_safetensors(path);
    REQUIRE(read.size() == 4);
    for (const auto& item : tensors) {
        const auto& name = item.first;
        const auto& t = item.second;
        CAPTURE(name);
        REQUIRE(read.count(name));
        CHECK(read.at(name).shape() == t.shape());
        if (t.size() > 0) CHECK(std::memcmp(read.at(name).data(), t.data(), t.size() * 4) == 0);
    }
    CHECK(metadata == nn::Metadata{{"format", "xgrad"}, {"note", "hi"}});
    // No temporary file is left beside it.
    for (const auto& entry : std::filesystem::directory_iterator(tmp_path(""))) {
        CHECK(entry.path().filename().string().find(".tmp-") == std::string::npos);
    }
}

TEST_CASE("safetensors: the layout is the documented one") {
    const std::string path = tmp_path("layout.safetensors");
    Tensor y{3.f};
    y.reshape({1, 1});
    nn::write_safetensors(path, {{"x", Tensor{1.f, 2.f}}, {"y", y}}, {{"k", "v"}});
    const std::string bytes = read_bytes(path);
    REQUIRE(bytes.size() >= 8);
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
    CHECK((8 + n) % 8 == 0);  // the data starts aligned
    REQUIRE(bytes.size() == 8 + n + 12);
    const auto header = nlohmann::json::parse(bytes.substr(8, n));
    CHECK(header["__metadata__"] == nlohmann::json{{"k", "v"}});
    CHECK(header["x"] ==
          nlohmann::json{{"dtype", "F32"}, {"shape", {2}}, {"data_offsets", {0, 8}}});
    CHECK(header["y"] ==
          nlohmann::json{{"dtype", "F32"}, {"shape", {1, 1}}, {"data_offsets", {8, 12}}});
    float data[3];
    std::memcpy(data, bytes.data() + 8 + n, 12);  // little-endian float32 (this host too)
    CHECK(data[0] == 1.f);
    CHECK(data[1] == 2.f);
    CHECK(data[2] == 3.f);
}

TEST_CASE("safetensors: a failed write leaves no temporary file and the old file intact") {
    // The target is a directory: the rename fails after the data was written.
    const std::string dir = tmp_path("is_a_directory.safetensors");
    std::filesystem::create_directories(dir);
    CHECK_THROWS_WITH_AS(
        nn::write_safetensors(dir, {{"w", Tensor{1.f}}}),
        ("cannot save '" + dir + "': renaming the temporary file failed (Is a directory)").c_str(),
        std::runtime_error);
    for (const auto& entry : std::filesystem::directory_iterator(tmp_path(""))) {
        CHECK(entry.path().filename().string().find(".tmp-") == std::string::npos);
    }
    // A directory that does not exist.
    const std::string missing = tmp_path("no/such/dir/m.safetensors");
    CHECK_THROWS_WITH_AS(nn::write_safetensors(missing, {{"w", Tensor{1.f}}}),
                         ("cannot save '" + missing +
                          "': cannot create a temporary file beside it (No such file or "
                          "directory)")
                             .c_str(),
                         std::runtime_error);
    // Metadata nlohmann cannot encode: the previous file stays as it was.
    const std::string path = tmp_path("keep.safetensors");
    nn::write_safetensors(path, {{"w", Tensor{1.f}}});
    const std::string before = read_bytes(path);
    CHECK_THROWS_AS(nn::write_safetensors(path, {{"w", Tensor{2.f}}}, {{"bad", "\xff\xfe"}}),
                    std::runtime_error);
    CHECK(read_bytes(path) == before);
    CHECK_THROWS_AS(nn::write_safetensors(path, {{"__metadata__", Tensor{2.f}}}),
                    std::invalid_argument);
    CHECK(read_bytes(path) == before);
}

TEST_CASE("safetensors: every kind of corrupted file is rejected with its message") {
    const std::string missing = tmp_path("does_not_exist.safetensors");
    std::filesystem::remove(missing);
    CHECK_THROWS_WITH_AS(
        nn::read_safetensors(missing),
        ("cannot load '" + missing + "': cannot open the file (No such file or directory)").c_str(),
        std::runtime_error);

    CHECK(load_message("short.st", "abcde") ==
          prefix("short.st") + "the file is 5 bytes long, too short for a safetensors header");
    CHECK(load_message("long_header.st", le64(1000) + "{}" + std::string(10, ' ')) ==
          prefix("long_header.st") + "the header length 1000 exceeds the file size of 20 bytes");
    CHECK(load_message("bad_json.st", raw_file("{\"w\": [1, 2", 0)) ==
          prefix("bad_json.st") + "the header is not valid JSON (error at byte 12 of the header)");
    CHECK(load_message("not_object.st", raw_file("[1, 2]", 0)) ==
          prefix("not_object.st") + "the header is not a JSON object");
    CHECK(load_message("dtype.st",
                       raw_file(R"({"w":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})", 8)) ==
          prefix("dtype.st") + "tensor 'w' has dtype 'F64'; only F32 is supported");
    CHECK(load_message("no_dtype.st", raw_file(R"({"w":{"shape":[1],"data_offsets":[0,4]}})", 4)) ==
          prefix("no_dtype.st") + "tensor 'w' has no 'dtype' entry");
    CHECK(load_message("entry.st", raw_file(R"({"w":5})", 0)) ==
          prefix("entry.st") + "tensor 'w' is not described by a JSON object");
    CHECK(load_message("shape.st",
                       raw_file(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4)) ==
          prefix("shape.st") +
              "tensor 'w' has a shape that is not a list of non-negative integers");
    CHECK(load_message("offsets.st",
                       raw_file(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", 4)) ==
          prefix("offsets.st") +
              "tensor 'w' has data_offsets that are not two non-negative integers");
    CHECK(load_message(
              "outside.st",
              raw_file(R"({"w":{"dtype":"F32","shape":[100],"data_offsets":[0,400]}})", 8)) ==
          prefix("outside.st") +
              "tensor 'w' has data offsets [0, 400] outside the data area of 8 bytes");
    CHECK(load_message("reversed.st",
                       raw_file(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", 8)) ==
          prefix("reversed.st") +
              "tensor 'w' has data offsets [8, 4] outside the data area of 8 bytes");
    CHECK(load_message("size.st",
                       raw_file(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8)) ==
          prefix("size.st") +
              "tensor 'w' of shape (3,) needs 3 * 4 bytes but its data offsets [0, 8] hold 8");
    CHECK(load_message(
              "huge.st",
              raw_file(
                  R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})",
                  8)) == prefix("huge.st") + "tensor 'w' has a shape too large to hold");
    CHECK(load_message("overlap.st",
                       raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                12)) ==
          prefix("overlap.st") + "tensors 'a' and 'b' overlap in the data area");
    CHECK(
        load_message("gap.st", raw_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                        R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                                        12)) ==
        prefix("gap.st") + "bytes 4 to 8 of the data area belong to no tensor");
    CHECK(load_message("trailing.st", raw_file(std::string("{") + one_f32 + "}", 12)) ==
          prefix("trailing.st") + "bytes 8 to 12 of the data area belong to no tensor");
    CHECK(load_message("duplicate.st",
                       raw_file(std::string("{") + one_f32 + "," + one_f32 + "}", 8)) ==
          prefix("duplicate.st") + "tensor 'w' appears twice in the header");
    CHECK(load_message("meta.st", raw_file(R"({"__metadata__":{"version":1}})", 0)) ==
          prefix("meta.st") + "__metadata__ entry 'version' is not a string");
    CHECK(load_message("meta_obj.st", raw_file(R"({"__metadata__":[]})", 0)) ==
          prefix("meta_obj.st") + "__metadata__ is not a JSON object");

    // A good file cut short in its data.
    const std::string good = tmp_path("good.st");
    nn::write_safetensors(good, {{"w", Tensor{1.f, 2.f, 3.f}}});
    std::string bytes = read_bytes(good);
    bytes.resize(bytes.size() - 4);
    CHECK(load_message("truncated.st", bytes) ==
          prefix("truncated.st") +
              "tensor 'w' has data offsets [0, 12] outside the data area of 8 bytes");
}

TEST_CASE("safetensors: an empty file of tensors is valid") {
    const std::string path = tmp_path("empty.safetensors");
    nn::write_safetensors(path, {});
    auto [tensors, metadata] = nn::read_safetensors(path);
    CHECK(tensors.empty());
    CHECK(metadata.empty());
}
