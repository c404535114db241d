#include "infermem/model_gen.h"

#include <onnx/onnx_pb.h>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "infermem/atomic_file.h"
#include "infermem/error.h"
#include "infermem/units.h"
#include "infermem/version.h"

namespace infermem {
namespace {

static_assert(std::endian::native == std::endian::little, "ONNX raw_data is little-endian");

constexpr std::int64_t kOpsetVersion = 17;  // first opset with LayerNormalization
constexpr std::int64_t kIrVersion = 8;
constexpr std::uint64_t kFloatBytes = sizeof(float);

// One dimension of a graph input or output: a fixed size, or a symbolic name (dim_param).
struct Dim {
  std::int64_t size = 0;
  std::string name;
};

// Largest integer x >= 0 with a*x^2 + b*x <= c (a > 0).
std::int64_t largest_fitting(double a, double b, double c) {
  if (c <= 0) return 0;
  auto x = static_cast<std::int64_t>((-b + std::sqrt(b * b + 4 * a * c)) / (2 * a));
  auto fits = [&](std::int64_t v) {
    double d = static_cast<double>(v);
    return a * d * d + b * d <= c;
  };
  while (x > 0 && !fits(x)) --x;
  while (fits(x + 1)) ++x;
  return x;
}

// Builds one graph: seeded initializers and nodes, in a fixed order so that a seed gives the same
// bytes every time.
class GraphBuilder {
 public:
  GraphBuilder(onnx::GraphProto& graph, std::uint64_t seed) : graph_(graph), rng_(seed) {}

  // A float initializer drawn uniformly from [center - spread, center + spread].
  std::string weight(const std::string& name, const std::vector<std::int64_t>& dims, double spread,
                     double center = 0) {
    auto& t = tensor(name, dims, onnx::TensorProto::FLOAT);
    std::size_t count = 1;
    for (auto d : dims) count *= static_cast<std::size_t>(d);
    std::string& raw = *t.mutable_raw_data();
    raw.resize(count * kFloatBytes);
    for (std::size_t i = 0; i < count; ++i) {
      // 24 random bits -> [0, 1): exact in a float, identical on every platform (unlike
      // std::uniform_real_distribution, whose algorithm the standard leaves open).
      double unit = static_cast<double>(rng_() >> 40) * 0x1p-24;
      auto value = static_cast<float>(center + (2 * unit - 1) * spread);
      std::memcpy(raw.data() + i * kFloatBytes, &value, kFloatBytes);
    }
    return name;
  }

  std::string float_scalar(const std::string& name, float value) {
    auto& t = tensor(name, {}, onnx::TensorProto::FLOAT);
    t.mutable_raw_data()->assign(reinterpret_cast<const char*>(&value), kFloatBytes);
    return name;
  }

  std::string int64_vector(const std::string& name, const std::vector<std::int64_t>& values) {
    auto& t = tensor(name, {static_cast<std::int64_t>(values.size())}, onnx::TensorProto::INT64);
    t.mutable_raw_data()->assign(reinterpret_cast<const char*>(values.data()),
                                 values.size() * sizeof(std::int64_t));
    return name;
  }

  // Adds a node whose only output is `output`; returns it for attributes.
  onnx::NodeProto& node(const std::string& op_type, const std::vector<std::string>& inputs,
                        const std::string& output) {
    auto& n = *graph_.add_node();
    n.set_op_type(op_type);
    n.set_name(output);
    for (const auto& in : inputs) n.add_input(in);
    n.add_output(output);
    return n;
  }
  std::string op(const std::string& op_type, const std::vector<std::string>& inputs,
                 const std::string& output) {
    node(op_type, inputs, output);
    return output;
  }

  void input(const std::string& name, int elem_type, const std::vector<Dim>& dims) {
    describe(*graph_.add_input(), name, elem_type, dims);
  }
  void output(const std::string& name, int elem_type, const std::vector<Dim>& dims) {
    describe(*graph_.add_output(), name, elem_type, dims);
  }

 private:
  onnx::TensorProto& tensor(const std::string& name, const std::vector<std::int64_t>& dims,
                            int data_type) {
    auto& t = *graph_.add_initializer();
    t.set_name(name);
    t.set_data_type(data_type);
    for (auto d : dims) t.add_dims(d);
    return t;
  }

  static void describe(onnx::ValueInfoProto& info, const std::string& name, int elem_type,
                       const std::vector<Dim>& dims) {
    info.set_name(name);
    auto& tensor_type = *info.mutable_type()->mutable_tensor_type();
    tensor_type.set_elem_type(elem_type);
    auto& shape = *tensor_type.mutable_shape();
    for (const auto& d : dims) {
      auto& dim = *shape.add_dim();
      if (d.name.empty())
        dim.set_dim_value(d.size);
      else
        dim.set_dim_param(d.name);
    }
  }

  onnx::GraphProto& graph_;
  std::mt19937_64 rng_;
};

void set_attr(onnx::NodeProto& n, const std::string& name, std::int64_t value) {
  auto& a = *n.add_attribute();
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INT);
  a.set_i(value);
}
void set_attr(onnx::NodeProto& n, const std::string& name, float value) {
  auto& a = *n.add_attribute();
  a.set_name(name);
  a.set_type(onnx::AttributeProto::FLOAT);
  a.set_f(value);
}
void set_attr(onnx::NodeProto& n, const std::string& name, const std::string& value) {
  auto& a = *n.add_attribute();
  a.set_name(name);
  a.set_type(onnx::AttributeProto::STRING);
  a.set_s(value);
}
void set_attr(onnx::NodeProto& n, const std::string& name, const std::vector<std::int64_t>& v) {
  auto& a = *n.add_attribute();
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INTS);
  for (auto x : v) a.add_ints(x);
}

// Uniform bound that keeps activations of a ReLU stack at a steady scale (He/Kaiming uniform).
double he_bound(std::int64_t fan_in) {
  return std::sqrt(6.0 / static_cast<double>(fan_in));
}
double bias_bound(std::int64_t fan_in) {
  return 1.0 / std::sqrt(static_cast<double>(fan_in));
}

[[noreturn]] void too_small(const ModelSpec& spec, int layers, std::uint64_t min_floats) {
  throw InputError(fmt::format(
      "--weights {} is too small for a {} with {} layers: it needs at least {} ({} bytes); "
      "give more --weights or fewer --layers",
      format_bytes(static_cast<double>(spec.weight_bytes)), model_kind_name(spec.kind), layers,
      format_bytes(static_cast<double>(min_floats * kFloatBytes)), min_floats * kFloatBytes));
}

// --- mlp: F -> H -> ... -> H -> O, every layer MatMul+Add, ReLU between layers ----------------
// Weights: (N-1) layers of H*H+H, the last (H+1)*O, with O >= H chosen to fill the budget.
void build_mlp(GraphBuilder& g, const ModelSpec& spec, int layers, std::int64_t budget) {
  constexpr std::int64_t kMinWidth = 4;
  std::int64_t hidden = largest_fitting(layers, layers, static_cast<double>(budget));
  if (hidden < kMinWidth) too_small(spec, layers, layers * (kMinWidth * kMinWidth + kMinWidth));
  std::int64_t out = (budget - (layers - 1) * (hidden * hidden + hidden)) / (hidden + 1);

  g.input("input", onnx::TensorProto::FLOAT, {{0, "batch"}, {hidden, ""}});
  std::string x = "input";
  for (int i = 0; i < layers; ++i) {
    bool last = i == layers - 1;
    std::int64_t width = last ? out : hidden;
    std::string p = fmt::format("layer{}.", i);
    auto w = g.weight(p + "weight", {hidden, width}, he_bound(hidden));
    auto b = g.weight(p + "bias", {width}, bias_bound(hidden));
    auto mm = g.op("MatMul", {x, w}, p + "matmul");
    if (last) {
      g.op("Add", {mm, b}, "output");
    } else {
      x = g.op("Relu", {g.op("Add", {mm, b}, p + "add")}, p + "relu");
    }
  }
  g.output("output", onnx::TensorProto::FLOAT, {{0, "batch"}, {out, ""}});
}

// --- transformer: pre-LayerNorm encoder, multi-head attention, GELU feed-forward -------------
struct TransformerDims {
  std::int64_t model = 0;  // d
  std::int64_t heads = 1;
  std::int64_t ffn = 0;  // 4d
  std::int64_t vocab = 0;
};
// Per layer: Q,K,V,O (d*d+d each), two LayerNorms (2d each), FFN d*4d+4d and 4d*d+d.
std::int64_t transformer_layer_floats(std::int64_t d) {
  return 12 * d * d + 13 * d;
}

TransformerDims size_transformer(const ModelSpec& spec, int layers, std::int64_t budget) {
  constexpr std::int64_t kMinModel = 8, kMinVocab = 16, kHeadDim = 64;
  // About three quarters of the weights in the layers, the rest in the embedding (BERT-like).
  std::int64_t raw = largest_fitting(12.0 * layers, 13.0 * layers, 0.75 * budget);
  TransformerDims dims;
  if (raw >= 2 * kHeadDim) {
    dims.model = raw / kHeadDim * kHeadDim;
    dims.heads = dims.model / kHeadDim;
  } else {
    dims.model = std::max(kMinModel, raw / 8 * 8);
  }
  dims.ffn = 4 * dims.model;
  std::int64_t rest = budget - layers * transformer_layer_floats(dims.model) - 2 * dims.model;
  dims.vocab = rest / dims.model;
  if (dims.vocab < kMinVocab) {
    too_small(spec, layers,
              layers * transformer_layer_floats(kMinModel) + 2 * kMinModel + kMinVocab * kMinModel);
  }
  return dims;
}

void build_transformer(GraphBuilder& g, const ModelSpec& spec, int layers, std::int64_t budget) {
  const TransformerDims dims = size_transformer(spec, layers, budget);
  const std::int64_t d = dims.model, head_dim = d / dims.heads;

  g.input("input_ids", onnx::TensorProto::INT64, {{0, "batch"}, {0, "sequence"}});
  auto embedding = g.weight("embedding.weight", {dims.vocab, d}, 1.0);
  const auto split_heads = g.int64_vector("shape.split_heads", {0, 0, dims.heads, head_dim});
  const auto merge_heads = g.int64_vector("shape.merge_heads", {0, 0, d});
  const auto attn_scale =
      g.float_scalar("const.attention_scale", static_cast<float>(1.0 / std::sqrt(head_dim)));
  const auto half = g.float_scalar("const.half", 0.5f);
  const auto one = g.float_scalar("const.one", 1.0f);
  const auto sqrt2 = g.float_scalar("const.sqrt2", static_cast<float>(std::sqrt(2.0)));

  auto layer_norm = [&](const std::string& x, const std::string& name) {
    auto scale = g.weight(name + ".scale", {d}, 0.1, 1.0);
    auto bias = g.weight(name + ".bias", {d}, 0.1);
    auto& n = g.node("LayerNormalization", {x, scale, bias}, name);
    set_attr(n, "axis", std::int64_t{-1});
    set_attr(n, "epsilon", 1e-5f);
    return name;
  };
  auto linear = [&](const std::string& x, const std::string& name, std::int64_t in,
                    std::int64_t out) {
    auto w = g.weight(name + ".weight", {in, out}, he_bound(in));
    auto b = g.weight(name + ".bias", {out}, bias_bound(in));
    return g.op("Add", {g.op("MatMul", {x, w}, name + ".matmul"), b}, name);
  };
  auto transpose = [&](const std::string& x, const std::string& name,
                       const std::vector<std::int64_t>& perm) {
    auto& n = g.node("Transpose", {x}, name);
    set_attr(n, "perm", perm);
    return name;
  };

  std::string x = g.op("Gather", {embedding, "input_ids"}, "embedding");
  for (int i = 0; i < layers; ++i) {
    std::string p = fmt::format("layer{}.", i);
    auto normed = layer_norm(x, p + "ln1");
    auto heads = [&](const std::string& which, const std::vector<std::int64_t>& perm) {
      auto projected = linear(normed, p + which, d, d);
      auto split = g.op("Reshape", {projected, split_heads}, p + which + ".split");
      return transpose(split, p + which + ".heads", perm);
    };
    auto q = heads("q", {0, 2, 1, 3});  // [b, h, s, dh]
    auto k = heads("k", {0, 2, 3, 1});  // [b, h, dh, s]
    auto v = heads("v", {0, 2, 1, 3});  // [b, h, s, dh]
    auto scores =
        g.op("Mul", {g.op("MatMul", {q, k}, p + "scores"), attn_scale}, p + "scores.scaled");
    auto& softmax = g.node("Softmax", {scores}, p + "probs");
    set_attr(softmax, "axis", std::int64_t{-1});
    auto context = g.op("MatMul", {p + "probs", v}, p + "context");
    auto merged = g.op("Reshape", {transpose(context, p + "context.t", {0, 2, 1, 3}), merge_heads},
                       p + "context.merged");
    x = g.op("Add", {x, linear(merged, p + "o", d, d)}, p + "residual1");

    auto hidden = linear(layer_norm(x, p + "ln2"), p + "ffn1", d, dims.ffn);
    // GELU, exact form (opset 17 has no Gelu op): x * 0.5 * (1 + erf(x / sqrt 2)).
    auto erf = g.op("Erf", {g.op("Div", {hidden, sqrt2}, p + "gelu.div")}, p + "gelu.erf");
    auto gelu = g.op(
        "Mul",
        {g.op("Mul", {hidden, half}, p + "gelu.half"), g.op("Add", {erf, one}, p + "gelu.add")},
        p + "gelu");
    x = g.op("Add", {x, linear(gelu, p + "ffn2", dims.ffn, d)}, p + "residual2");
  }
  auto& final_norm =
      g.node("LayerNormalization",
             {x, g.weight("final_ln.scale", {d}, 0.1, 1.0), g.weight("final_ln.bias", {d}, 0.1)},
             "hidden");
  set_attr(final_norm, "axis", std::int64_t{-1});
  set_attr(final_norm, "epsilon", 1e-5f);
  g.output("hidden", onnx::TensorProto::FLOAT, {{0, "batch"}, {0, "sequence"}, {d, ""}});
}

// --- conv: 3x3 Conv+ReLU stack, "same" padding, stride 2 after the first layer -------------
// Weights: 3->C (28C), (N-2) layers C->C (9C^2+C), last C->Cl ((9C+1)*Cl) with Cl >= C.
void build_conv(GraphBuilder& g, const ModelSpec& spec, int layers, std::int64_t budget) {
  constexpr std::int64_t kMinChannels = 4, kImageChannels = 3, kKernel = 3;
  constexpr std::int64_t kFirstLayer = kImageChannels * kKernel * kKernel + 1;  // per channel
  std::int64_t channels = 0, last_channels = 0;
  if (layers == 1) {
    last_channels = budget / kFirstLayer;
    if (last_channels < kMinChannels) too_small(spec, layers, kMinChannels * kFirstLayer);
  } else {
    channels = largest_fitting(9.0 * (layers - 1), kFirstLayer + (layers - 1.0),
                               static_cast<double>(budget));
    if (channels < kMinChannels) {
      const std::int64_t c = kMinChannels;
      too_small(spec, layers, kFirstLayer * c + (layers - 1) * (9 * c * c + c));
    }
    last_channels =
        (budget - kFirstLayer * channels - (layers - 2) * (9 * channels * channels + channels)) /
        (9 * channels + 1);
  }

  g.input("image", onnx::TensorProto::FLOAT,
          {{0, "batch"}, {kImageChannels, ""}, {0, "height"}, {0, "width"}});
  std::string x = "image";
  std::int64_t in = kImageChannels;
  for (int i = 0; i < layers; ++i) {
    std::int64_t out = i == layers - 1 ? last_channels : channels;
    std::string p = fmt::format("conv{}.", i);
    std::int64_t fan_in = in * kKernel * kKernel;
    auto w = g.weight(p + "weight", {out, in, kKernel, kKernel}, he_bound(fan_in));
    auto b = g.weight(p + "bias", {out}, bias_bound(fan_in));
    auto& conv = g.node("Conv", {x, w, b}, p + "conv");
    set_attr(conv, "kernel_shape", std::vector<std::int64_t>{kKernel, kKernel});
    set_attr(conv, "auto_pad", std::string("SAME_UPPER"));
    std::int64_t stride = i == 0 ? 1 : 2;
    set_attr(conv, "strides", std::vector<std::int64_t>{stride, stride});
    x = g.op("Relu", {p + "conv"}, p + "relu");
    in = out;
  }
  auto pooled = g.op("GlobalAveragePool", {x}, "pooled");
  auto& flatten = g.node("Flatten", {pooled}, "output");
  set_attr(flatten, "axis", std::int64_t{1});
  g.output("output", onnx::TensorProto::FLOAT, {{0, "batch"}, {last_channels, ""}});
}

// --- identity: "x" float [batch, 8] and "ids" int64 [batch, sequence] returned unchanged as
// "x_out" and "ids_out": what soak --inputs feeds must come back byte for byte. No weights.
void build_identity(GraphBuilder& g) {
  g.input("x", onnx::TensorProto::FLOAT, {{0, "batch"}, {8, ""}});
  g.input("ids", onnx::TensorProto::INT64, {{0, "batch"}, {0, "sequence"}});
  g.op("Identity", {"x"}, "x_out");
  g.op("Identity", {"ids"}, "ids_out");
  g.output("x_out", onnx::TensorProto::FLOAT, {{0, "batch"}, {8, ""}});
  g.output("ids_out", onnx::TensorProto::INT64, {{0, "batch"}, {0, "sequence"}});
}

// --- stateful: a recurrent cell, "state" float [1, 16] carried request to request with soak
// --feed state_out=state: state_out = tanh(state + x), "y" = the same. No weights.
void build_stateful(GraphBuilder& g) {
  g.input("x", onnx::TensorProto::FLOAT, {{1, ""}, {16, ""}});
  g.input("state", onnx::TensorProto::FLOAT, {{1, ""}, {16, ""}});
  auto sum = g.op("Add", {"state", "x"}, "sum");
  g.op("Tanh", {sum}, "state_out");
  g.op("Identity", {"state_out"}, "y");
  g.output("state_out", onnx::TensorProto::FLOAT, {{1, ""}, {16, ""}});
  g.output("y", onnx::TensorProto::FLOAT, {{1, ""}, {16, ""}});
}

int default_layers(ModelKind kind) {
  return kind == ModelKind::mlp ? 3 : 4;
}

void validate(const ModelSpec& spec) {
  if (spec.layers < 0 || spec.layers > kMaxModelLayers)
    throw InputError(fmt::format("--layers {} is out of range: valid values are 1 to {}",
                                 spec.layers, kMaxModelLayers));
  if (spec.weight_bytes < kFloatBytes || spec.weight_bytes > kMaxModelWeightBytes)
    throw InputError(fmt::format(
        "--weights {} is out of range: valid sizes are 4 bytes to {} (protobuf cannot hold a "
        "model of 2 GiB)",
        format_bytes(static_cast<double>(spec.weight_bytes)),
        format_bytes(static_cast<double>(kMaxModelWeightBytes))));
}

onnx::ModelProto build_model(const ModelSpec& spec) {
  validate(spec);
  const int layers = spec.layers == 0 ? default_layers(spec.kind) : spec.layers;
  const auto budget = static_cast<std::int64_t>(spec.weight_bytes / kFloatBytes);

  onnx::ModelProto model;
  model.set_ir_version(kIrVersion);
  model.set_producer_name("infermem");
  model.set_producer_version(INFERMEM_VERSION);
  model.set_doc_string(
      fmt::format("infermem gen-model --kind {} --weights {} --layers {} --seed {}",
                  model_kind_name(spec.kind), spec.weight_bytes, layers, spec.seed));
  auto& opset = *model.add_opset_import();
  opset.set_domain("");
  opset.set_version(kOpsetVersion);
  auto& graph = *model.mutable_graph();
  graph.set_name(fmt::format("infermem_{}", model_kind_name(spec.kind)));

  GraphBuilder builder(graph, spec.seed);
  switch (spec.kind) {
    case ModelKind::mlp:
      build_mlp(builder, spec, layers, budget);
      break;
    case ModelKind::transformer:
      build_transformer(builder, spec, layers, budget);
      break;
    case ModelKind::conv:
      build_conv(builder, spec, layers, budget);
      break;
    case ModelKind::identity:
      build_identity(builder);
      break;
    case ModelKind::stateful:
      build_stateful(builder);
      break;
  }
  return model;
}

}  // namespace

ModelKind parse_model_kind(std::string_view text) {
  for (auto kind : {ModelKind::mlp, ModelKind::transformer, ModelKind::conv, ModelKind::identity,
                    ModelKind::stateful})
    if (text == model_kind_name(kind)) return kind;
  throw InputError(fmt::format(
      "--kind '{}' is not a model kind: valid kinds are mlp, transformer, conv, identity, stateful",
      text));
}

std::string_view model_kind_name(ModelKind kind) {
  switch (kind) {
    case ModelKind::mlp:
      return "mlp";
    case ModelKind::transformer:
      return "transformer";
    case ModelKind::conv:
      return "conv";
    case ModelKind::identity:
      return "identity";
    case ModelKind::stateful:
      return "stateful";
  }
  return "unknown";
}

std::string generate_model_bytes(const ModelSpec& spec) {
  std::string bytes;
  if (!build_model(spec).SerializeToString(&bytes))
    throw WorkloadError("protobuf could not serialize the generated model");
  return bytes;
}

void generate_model(const ModelSpec& spec, const std::string& out_path) {
  try {
    // A device, FIFO or directory at -o is refused before a gigabyte of weights is made.
    validate(spec);
    check_writable_target(out_path);
    // Build first: a bad spec must not leave even a temporary file behind.
    const std::string bytes = generate_model_bytes(spec);
    write_file_atomic(out_path, bytes);
  } catch (const InputError& e) {
    std::string what = e.what();
    if (what.rfind("--", 0) == 0) throw;  // a bad --weights or --layers names its flag
    throw InputError(fmt::format("-o: {}", what));
  }
}

}  // namespace infermem
