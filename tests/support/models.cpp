#include "support/models.h"

#include <onnx/onnx_pb.h>
#include <fstream>
#include <stdexcept>

namespace infermem::test {

void write_string_input_model(const std::string& path) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("infermem-tests");
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(17);
  auto* graph = model.mutable_graph();
  graph->set_name("string_identity");
  auto* node = graph->add_node();
  node->set_op_type("Identity");
  node->add_input("text");
  node->add_output("out");
  for (auto* vi : {graph->add_input(), graph->add_output()}) {
    auto* tensor = vi->mutable_type()->mutable_tensor_type();
    tensor->set_elem_type(onnx::TensorProto::STRING);
    tensor->mutable_shape()->add_dim()->set_dim_param("batch");
  }
  graph->mutable_input(0)->set_name("text");
  graph->mutable_output(0)->set_name("out");
  std::ofstream out(path, std::ios::binary);
  if (!model.SerializeToOstream(&out)) throw std::runtime_error("cannot write " + path);
}

void write_all_types_model(const std::string& path) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("infermem-tests");
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(17);
  auto* graph = model.mutable_graph();
  graph->set_name("all_types_identity");
  const std::pair<const char*, onnx::TensorProto::DataType> types[] = {
      {"f32", onnx::TensorProto::FLOAT},  {"f16", onnx::TensorProto::FLOAT16},
      {"f64", onnx::TensorProto::DOUBLE}, {"i64", onnx::TensorProto::INT64},
      {"i32", onnx::TensorProto::INT32},  {"i8", onnx::TensorProto::INT8},
      {"u8", onnx::TensorProto::UINT8},   {"b", onnx::TensorProto::BOOL}};
  for (const auto& [name, type] : types) {
    auto* node = graph->add_node();
    node->set_op_type("Identity");
    node->add_input(name);
    node->add_output(std::string(name) + "_out");
    auto* in = graph->add_input();
    auto* out = graph->add_output();
    in->set_name(name);
    out->set_name(std::string(name) + "_out");
    for (auto* vi : {in, out}) {
      auto* tensor = vi->mutable_type()->mutable_tensor_type();
      tensor->set_elem_type(type);
      tensor->mutable_shape()->add_dim()->set_dim_param("batch");
      tensor->mutable_shape()->add_dim()->set_dim_value(4);
    }
  }
  std::ofstream out(path, std::ios::binary);
  if (!model.SerializeToOstream(&out)) throw std::runtime_error("cannot write " + path);
}

}  // namespace infermem::test
