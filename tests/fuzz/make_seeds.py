#!/usr/bin/python3
"""Writes the seed corpora in tests/fuzz/corpus/ (small valid and near-valid files).

Run from anywhere: /usr/bin/python3 tests/fuzz/make_seeds.py. Reproducers of fixed crashes are
added by hand beside these seeds and are not touched here.
"""
import gzip
import json
import os
import struct

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(target, name, data):
    os.makedirs(os.path.join(here, target), exist_ok=True)
    with open(os.path.join(here, target, name), "wb") as f:
        f.write(data)


def idx(type_code, dims, payload):
    return bytes([0, 0, type_code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload


# One valid file per element type, a rank-0 and an empty one, and typical broken ones.
valid = {
    "u8_images": idx(0x08, [2, 3, 3], bytes(range(18))),
    "u8_labels": idx(0x08, [5], bytes([0, 9, 3, 1, 7])),
    "i8": idx(0x09, [4], struct.pack(">4b", -128, -1, 0, 127)),
    "i16": idx(0x0B, [2, 2], struct.pack(">4h", -32768, -1, 1, 32767)),
    "i32": idx(0x0C, [3], struct.pack(">3i", -(2**31), 0, 2**31 - 1)),
    "f32": idx(0x0D, [2, 2], struct.pack(">4f", 0.5, -1.25, float("inf"), float("nan"))),
    "f64": idx(0x0E, [2], struct.pack(">2d", 3.141592653589793, -0.0)),
    "rank0": idx(0x08, [], b"\x2a"),
    "empty_dim": idx(0x0D, [0, 28, 28], b""),
}
broken = {
    "truncated": idx(0x08, [2, 3, 3], bytes(range(10))),
    "too_long": idx(0x08, [2], b"\x01\x02\x03"),
    "bad_magic": b"\x01\x00\x08\x01\x00\x00\x00\x01\x05",
    "bad_type": idx(0x07, [1], b"\x00"),
    "huge_dims": idx(0x0E, [0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF], b""),
    "short_header": b"\x00\x00\x08\x03\x00\x00",
}
for name, data in {**valid, **broken}.items():
    put("idx_raw", name, data)
    put("idx_gzip", name, data)
# Gzip streams for the raw target: good ones, and a truncated and a corrupted one.
for name in ("u8_images", "f32", "empty_dim"):
    put("idx_raw", "gz_" + name, gzip.compress(valid[name], mtime=0))
z = gzip.compress(valid["i16"], mtime=0)
put("idx_raw", "gz_truncated", z[:-6])
put("idx_raw", "gz_bad_crc", z[:-8] + bytes([z[-8] ^ 0xFF]) + z[-7:])
put("idx_raw", "gz_extra_data", gzip.compress(valid["u8_labels"] + b"\x00", mtime=0))


def safetensors(tensors, metadata=None, pad=True):
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, (shape, values) in tensors.items():
        raw = struct.pack("<%df" % len(values), *values)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def arch(layers, input_shape):
    return json.dumps({"class_name": "Sequential",
                       "config": {"name": "sequential", "build_input_shape": input_shape, "layers": layers}},
                      separators=(",", ":"))


def dense(name, units, activation="linear", use_bias=True, input_shape=None):
    config = {"name": name, "units": units, "activation": activation, "use_bias": use_bias,
              "kernel_initializer": "glorot_uniform"}
    if input_shape is not None:
        config["input_shape"] = input_shape
    return {"class_name": "Dense", "config": config}


meta = {"format": "xgrad", "version": "1"}
mlp = arch([{"class_name": "Flatten", "config": {"name": "flatten", "input_shape": [2, 2]}},
            dense("dense", 3, "relu"),
            {"class_name": "Dropout", "config": {"name": "dropout", "rate": 0.5}},
            dense("dense_1", 2),
            {"class_name": "Activation", "config": {"name": "activation", "activation": "softmax"}}],
           [2, 2])
mlp_weights = {"dense/kernel": ([4, 3], [0.1 * i for i in range(12)]),
               "dense/bias": ([3], [0.0, 0.5, -0.5]),
               "dense_1/kernel": ([3, 2], [1, -1, 0.25, 2, -3, 0.5]),
               "dense_1/bias": ([2], [0.0, 1.0])}
put("model_file", "mlp", safetensors(mlp_weights, dict(meta, architecture=mlp)))
nested = arch([{"class_name": "Sequential", "config": {"name": "inner", "layers": [
                   dense("dense", 2, "tanh", False, [3])]}},
               dense("dense_1", 1, "sigmoid")], [3])
put("model_file", "nested", safetensors({"inner/dense/kernel": ([3, 2], [1, 2, 3, 4, 5, 6]),
                                         "dense_1/kernel": ([2, 1], [0.5, -0.5]),
                                         "dense_1/bias": ([1], [0.25])},
                                        dict(meta, architecture=nested)))
put("model_file", "weights_only", safetensors({"w": ([2], [1.0, 2.0]), "b": ([], [3.0])}, meta))
put("model_file", "plain", safetensors({"x": ([1, 2], [1.0, -1.0])}, pad=False))
put("model_file", "empty", safetensors({}))
put("model_file", "zero_size", safetensors({"z": ([0, 4], [])}))
# Broken: bad header length, offsets out of range, overlap, wrong dtype, non-JSON, no model.
good = safetensors({"x": ([2], [1.0, 2.0])})
put("model_file", "header_too_long", struct.pack("<Q", 1 << 40) + good[8:])
put("model_file", "truncated_data", good[:-3])
t = b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
put("model_file", "overlap", struct.pack("<Q", len(t)) + t + b"\x00" * 4)
t = b'{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}'
put("model_file", "bad_dtype", struct.pack("<Q", len(t)) + t + b"\x00" * 4)
t = b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}'
put("model_file", "duplicate", struct.pack("<Q", len(t)) + t + b"\x00" * 8)
put("model_file", "not_json", struct.pack("<Q", 4) + b"{\"a\"")
bad_arch = arch([dense("dense", 1000000, input_shape=[1000000])], [1000000])
put("model_file", "huge_model", safetensors({}, dict(meta, architecture=bad_arch)))
put("model_file", "wrong_version", safetensors(mlp_weights, dict(meta, version="2", architecture=mlp)))

# A small convolutional model: every layer type a model file can describe.
def layer(cls, name, **config):
    return {"class_name": cls, "config": dict(name=name, **config)}


cnn = arch([layer("Reshape", "reshape", target_shape=[4, 4, 1], input_shape=[16]),
            layer("Conv2D", "conv2d", filters=2, kernel_size=[3, 3], strides=[1, 1], padding="valid",
                  dilation_rate=[1, 1], activation="relu", use_bias=True, kernel_initializer="glorot_uniform"),
            layer("MaxPooling2D", "max_pooling2d", pool_size=[2, 2], strides=[2, 2], padding="valid"),
            layer("BatchNormalization", "batch_normalization", momentum=0.99, epsilon=0.001),
            layer("AveragePooling2D", "average_pooling2d", pool_size=[2, 2], strides=[1, 1], padding="same"),
            layer("GlobalAveragePooling2D", "global_average_pooling2d"),
            dense("dense", 2, "softmax")], [16])
put("model_file", "cnn", safetensors({
    "conv2d/kernel": ([3, 3, 1, 2], [0.1 * (i - 9) for i in range(18)]),
    "conv2d/bias": ([2], [0.0, 0.1]),
    "batch_normalization/gamma": ([2], [1.0, 0.5]),
    "batch_normalization/beta": ([2], [0.0, -0.5]),
    "batch_normalization/moving_mean": ([2], [0.1, 0.2]),
    "batch_normalization/moving_variance": ([2], [1.0, 2.0]),
    "dense/kernel": ([2, 2], [1, -1, 0.5, 0.25]),
    "dense/bias": ([2], [0.0, 0.0])}, dict(meta, architecture=cnn)))
