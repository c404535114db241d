#include "support/models.h"

#include <onnx/onnx_pb.h>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace infermem::test {
namespace {

onnx::ModelProto new_model(const std::string& graph_name) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("infermem-tests");
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(17);
  model.mutable_graph()->set_name(graph_name);
  return model;
}

// One Identity node from a new graph input to a new graph output of the same type and shape:
// a symbolic "batch" dimension, then the fixed ones.
void add_identity(onnx::GraphProto& graph, const std::string& name,
                  onnx::TensorProto::DataType type, const std::vector<int>& fixed_dims) {
  auto* node = graph.add_node();
  node->set_op_type("Identity");
  node->add_input(name);
  node->add_output(name + "_out");
  auto* in = graph.add_input();
  auto* out = graph.add_output();
  in->set_name(name);
  out->set_name(name + "_out");
  for (auto* vi : {in, out}) {
    auto* tensor = vi->mutable_type()->mutable_tensor_type();
    tensor->set_elem_type(type);
    tensor->mutable_shape()->add_dim()->set_dim_param("batch");
    for (int d : fixed_dims) tensor->mutable_shape()->add_dim()->set_dim_value(d);
  }
}

void save(const onnx::ModelProto& model, const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  if (!model.SerializeToOstream(&out)) throw std::runtime_error("cannot write " + path);
}

}  // namespace

void write_string_input_model(const std::string& path) {
  auto model = new_model("string_identity");
  add_identity(*model.mutable_graph(), "text", onnx::TensorProto::STRING, {});
  save(model, path);
}

void write_all_types_model(const std::string& path) {
  auto model = new_model("all_types_identity");
  const std::pair<const char*, onnx::TensorProto::DataType> types[] = {
      {"f32", onnx::TensorProto::FLOAT},  {"f16", onnx::TensorProto::FLOAT16},
      {"f64", onnx::TensorProto::DOUBLE}, {"i64", onnx::TensorProto::INT64},
      {"i32", onnx::TensorProto::INT32},  {"i8", onnx::TensorProto::INT8},
      {"u8", onnx::TensorProto::UINT8},   {"b", onnx::TensorProto::BOOL}};
  for (const auto& [name, type] : types) add_identity(*model.mutable_graph(), name, type, {4});
  save(model, path);
}

}  // namespace infermem::test

namespace infermem::test {

void write_tensor_pb(const std::string& path, const std::string& name, int elem_type,
                     const std::vector<long long>& shape, const std::string& bytes) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(elem_type);
  for (auto d : shape) t.add_dims(d);
  t.set_raw_data(bytes);
  std::ofstream out(path, std::ios::binary);
  if (!t.SerializeToOstream(&out)) throw std::runtime_error("cannot write " + path);
}

std::string npy_bytes(const std::string& descr, const std::vector<long long>& shape,
                      const std::string& data) {
  std::string dims;
  for (auto d : shape) dims += std::to_string(d) + ", ";
  if (shape.size() > 1) dims.resize(dims.size() - 1);  // "(2, 8)"; "(3,)" for one dimension
  std::string header =
      "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" +
      (shape.size() > 1 ? dims.substr(0, dims.size() - 1) : dims.substr(0, dims.size() - 1)) +
      "), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  return out + header + data;
}

std::string npz_bytes(const std::vector<std::pair<std::string, std::string>>& members) {
  auto le16 = [](std::string& s, unsigned v) {
    s += static_cast<char>(v & 0xff);
    s += static_cast<char>((v >> 8) & 0xff);
  };
  auto le32 = [&](std::string& s, unsigned v) {
    le16(s, v & 0xffff);
    le16(s, v >> 16);
  };
  std::string out;
  for (const auto& [name, data] : members) {
    const std::string file = name + ".npy";
    le32(out, 0x04034b50);
    le16(out, 20);  // version needed
    le16(out, 0);   // flags
    le16(out, 0);   // stored
    le16(out, 0);   // time
    le16(out, 0);   // date
    le32(out, 0);   // crc32 (not checked by soak)
    le32(out, static_cast<unsigned>(data.size()));
    le32(out, static_cast<unsigned>(data.size()));
    le16(out, static_cast<unsigned>(file.size()));
    le16(out, 0);
    out += file + data;
  }
  le32(out, 0x06054b50);  // end of central directory (empty)
  out += std::string(18, '\0');
  return out;
}

}  // namespace infermem::test
