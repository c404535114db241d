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

}  // namespace infermem::test
