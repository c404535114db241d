#include "workload/tensor_files.h"

#include <onnx/onnx_pb.h>

#include <fmt/format.h>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <regex>

#include "infermem/error.h"
#include "infermem/input_file.h"

namespace infermem {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kMaxTensorFileBytes = 4ull << 30;

std::size_t type_size(int t) {
  switch (t) {
    case onnx::TensorProto::FLOAT:
    case onnx::TensorProto::INT32:
    case onnx::TensorProto::UINT32:
      return 4;
    case onnx::TensorProto::DOUBLE:
    case onnx::TensorProto::INT64:
    case onnx::TensorProto::UINT64:
      return 8;
    case onnx::TensorProto::FLOAT16:
    case onnx::TensorProto::BFLOAT16:
    case onnx::TensorProto::INT16:
    case onnx::TensorProto::UINT16:
      return 2;
    case onnx::TensorProto::INT8:
    case onnx::TensorProto::UINT8:
    case onnx::TensorProto::BOOL:
      return 1;
    default:
      return 0;
  }
}

std::uint64_t element_count(const std::vector<std::int64_t>& shape, const std::string& source) {
  std::uint64_t n = 1;
  for (auto d : shape) {
    if (d < 0) throw InputError(fmt::format("{}: a dimension is negative ({})", source, d));
    if (__builtin_mul_overflow(n, static_cast<std::uint64_t>(d), &n))
      throw InputError(fmt::format("{}: its shape holds more elements than fit in memory", source));
  }
  return n;
}

template <typename Field, typename Out>
void pack(const Field& field, std::string& bytes) {
  bytes.resize(static_cast<std::size_t>(field.size()) * sizeof(Out));
  for (int i = 0; i < field.size(); ++i) {
    Out v = static_cast<Out>(field.Get(i));
    std::memcpy(bytes.data() + static_cast<std::size_t>(i) * sizeof(Out), &v, sizeof(Out));
  }
}

bool ends_with(const std::string& s, const char* suffix) {
  const std::size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

std::uint16_t le16(const char* p) {
  return static_cast<std::uint16_t>(static_cast<unsigned char>(p[0]) |
                                    static_cast<unsigned char>(p[1]) << 8);
}
std::uint32_t le32(const char* p) {
  return static_cast<std::uint32_t>(le16(p)) | static_cast<std::uint32_t>(le16(p + 2)) << 16;
}

std::vector<TensorData> read_tensor_file(const std::string& path) {
  std::string bytes = read_regular_file(path, "--inputs", kMaxTensorFileBytes);
  const std::string stem = fs::path(path).stem().string();
  if (ends_with(path, ".npz")) return parse_npz(bytes, path);
  TensorData t = ends_with(path, ".npy") ? parse_npy(bytes, path) : parse_tensor_proto(bytes, path);
  if (t.name.empty() && ends_with(path, ".npy")) {
    t.name = stem;
    t.name_from_file = true;
  }
  static const std::regex input_k("input_([0-9]{1,6})");
  std::smatch m;
  if (std::regex_match(stem, m, input_k)) t.position = std::stoi(m[1].str());
  return {t};
}

}  // namespace

TensorData parse_tensor_proto(std::string_view bytes, const std::string& source) {
  onnx::TensorProto p;
  if (bytes.size() > static_cast<std::size_t>(INT32_MAX) ||
      !p.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    throw InputError(fmt::format("{}: not an ONNX TensorProto (.pb)", source));
  TensorData t;
  t.source = source;
  t.name = p.name();
  t.element_type = p.data_type();
  t.shape.assign(p.dims().begin(), p.dims().end());
  const std::size_t esize = type_size(t.element_type);
  if (esize == 0)
    throw InputError(fmt::format("{}: tensor '{}' has data type {}, which soak cannot feed", source,
                                 t.name, t.element_type));
  if (p.has_data_location() && p.data_location() == onnx::TensorProto::EXTERNAL)
    throw InputError(
        fmt::format("{}: tensor '{}' keeps its data in an external file, which "
                    "soak --inputs does not read",
                    source, t.name));
  if (!p.raw_data().empty()) {
    t.bytes = p.raw_data();
  } else {
    switch (t.element_type) {
      case onnx::TensorProto::FLOAT:
        pack<decltype(p.float_data()), float>(p.float_data(), t.bytes);
        break;
      case onnx::TensorProto::DOUBLE:
        pack<decltype(p.double_data()), double>(p.double_data(), t.bytes);
        break;
      case onnx::TensorProto::INT64:
        pack<decltype(p.int64_data()), std::int64_t>(p.int64_data(), t.bytes);
        break;
      case onnx::TensorProto::UINT64:
      case onnx::TensorProto::UINT32:
        if (t.element_type == onnx::TensorProto::UINT64)
          pack<decltype(p.uint64_data()), std::uint64_t>(p.uint64_data(), t.bytes);
        else
          pack<decltype(p.uint64_data()), std::uint32_t>(p.uint64_data(), t.bytes);
        break;
      case onnx::TensorProto::INT32:
        pack<decltype(p.int32_data()), std::int32_t>(p.int32_data(), t.bytes);
        break;
      case onnx::TensorProto::INT16:
      case onnx::TensorProto::UINT16:
      case onnx::TensorProto::FLOAT16:
      case onnx::TensorProto::BFLOAT16:
        pack<decltype(p.int32_data()), std::uint16_t>(p.int32_data(), t.bytes);
        break;
      default:  // int8, uint8, bool: int32_data holds one element each
        pack<decltype(p.int32_data()), std::uint8_t>(p.int32_data(), t.bytes);
    }
  }
  const std::uint64_t want = element_count(t.shape, source) * esize;
  if (t.bytes.size() != want)
    throw InputError(fmt::format("{}: tensor '{}' holds {} bytes of data, its shape needs {}",
                                 source, t.name, t.bytes.size(), want));
  return t;
}

TensorData parse_npy(std::string_view bytes, const std::string& source) {
  auto bad = [&](const std::string& why) {
    return InputError(
        fmt::format("{}: not a NumPy .npy array this soak can feed: {}", source, why));
  };
  if (bytes.size() < 10 || bytes.substr(0, 6) != std::string_view("\x93NUMPY", 6))
    throw bad("no \\x93NUMPY magic");
  const int major = static_cast<unsigned char>(bytes[6]);
  std::size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = le16(bytes.data() + 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw bad("truncated header");
    header_len = le32(bytes.data() + 8);
    offset = 12;
  } else {
    throw bad(fmt::format("format version {}", major));
  }
  if (offset + header_len > bytes.size()) throw bad("truncated header");
  // NumPy itself refuses headers over 10000 bytes (np.load's max_header_size).
  if (header_len > 10000) throw bad(fmt::format("a header of {} bytes", header_len));
  const std::string header(bytes.substr(offset, header_len));
  std::smatch m;
  static const std::regex descr_re("'descr'\\s*:\\s*'([<>|=])([a-zA-Z])([0-9]{1,2})'");
  static const std::regex fortran_re("'fortran_order'\\s*:\\s*(True|False)");
  static const std::regex shape_re("'shape'\\s*:\\s*\\(([^)]*)\\)");
  if (!std::regex_search(header, m, descr_re)) throw bad("no plain 'descr' (structured dtype?)");
  const char order = m[1].str()[0];
  const char kind = m[2].str()[0];
  const int size = std::stoi(m[3].str());
  if (order == '>') throw bad("big-endian data");
  TensorData t;
  t.source = source;
  switch (kind) {
    case 'f':
      t.element_type = size == 4   ? onnx::TensorProto::FLOAT
                       : size == 8 ? onnx::TensorProto::DOUBLE
                       : size == 2 ? onnx::TensorProto::FLOAT16
                                   : 0;
      break;
    case 'i':
      t.element_type = size == 8   ? onnx::TensorProto::INT64
                       : size == 4 ? onnx::TensorProto::INT32
                       : size == 2 ? onnx::TensorProto::INT16
                       : size == 1 ? onnx::TensorProto::INT8
                                   : 0;
      break;
    case 'u':
      t.element_type = size == 8   ? onnx::TensorProto::UINT64
                       : size == 4 ? onnx::TensorProto::UINT32
                       : size == 2 ? onnx::TensorProto::UINT16
                       : size == 1 ? onnx::TensorProto::UINT8
                                   : 0;
      break;
    case 'b':
      t.element_type = size == 1 ? onnx::TensorProto::BOOL : 0;
      break;
    default:
      break;
  }
  if (t.element_type == 0)
    throw bad(fmt::format("dtype '{}{}' has no ONNX tensor type", kind, size));
  if (!std::regex_search(header, m, fortran_re)) throw bad("no 'fortran_order'");
  if (m[1].str() == "True") throw bad("Fortran order (save it with np.ascontiguousarray)");
  if (!std::regex_search(header, m, shape_re)) throw bad("no 'shape'");
  const std::string dims = m[1].str();
  static const std::regex num_re("[0-9]+");
  for (auto it = std::sregex_iterator(dims.begin(), dims.end(), num_re);
       it != std::sregex_iterator(); ++it) {
    if (it->str().size() > 15) throw bad(fmt::format("a dimension of {} digits", it->str().size()));
    t.shape.push_back(std::stoll(it->str()));
  }
  const std::uint64_t want = element_count(t.shape, source) * static_cast<std::uint64_t>(size);
  const std::size_t data_at = offset + header_len;
  if (bytes.size() - data_at != want)
    throw bad(fmt::format("{} bytes of data, its shape needs {}", bytes.size() - data_at, want));
  t.bytes.assign(bytes.substr(data_at));
  return t;
}

std::vector<TensorData> parse_npz(std::string_view bytes, const std::string& source) {
  // A zip archive read by its local file headers: np.savez stores members uncompressed.
  std::vector<TensorData> out;
  std::size_t at = 0;
  while (at + 4 <= bytes.size() && le32(bytes.data() + at) == 0x04034b50) {
    if (at + 30 > bytes.size()) throw InputError(fmt::format("{}: truncated .npz", source));
    const char* h = bytes.data() + at;
    const std::uint16_t flags = le16(h + 6), method = le16(h + 8);
    std::uint64_t size = le32(h + 18);
    const std::uint16_t name_len = le16(h + 26), extra_len = le16(h + 28);
    if (at + 30 + name_len + extra_len > bytes.size())
      throw InputError(fmt::format("{}: truncated .npz", source));
    std::string name(bytes.substr(at + 30, name_len));
    // Zip64 (members of 4 GiB and more, or written by a streaming zip): the sizes are in the
    // extra field (id 1: uncompressed, then compressed size).
    std::string_view extra = bytes.substr(at + 30 + name_len, extra_len);
    for (std::size_t e = 0; e + 4 <= extra.size();) {
      std::uint16_t id = le16(extra.data() + e), len = le16(extra.data() + e + 2);
      if (id == 1 && len >= 16 && e + 4 + 16 <= extra.size())
        size = le32(extra.data() + e + 4) | static_cast<std::uint64_t>(le32(extra.data() + e + 8))
                                                << 32;
      e += 4u + len;
    }
    if (method != 0)
      throw InputError(fmt::format(
          "{}: member {} is compressed (np.savez_compressed); soak reads archives written by "
          "np.savez, whose members are stored",
          source, name));
    if (flags & 0x08)
      throw InputError(
          fmt::format("{}: member {} has no size in its header (a streamed zip); "
                      "write it with np.savez",
                      source, name));
    const std::size_t data_at = at + 30 + name_len + extra_len;
    if (size > bytes.size() - data_at) throw InputError(fmt::format("{}: truncated .npz", source));
    const std::string member = fmt::format("{}:{}", source, name);
    TensorData t = parse_npy(bytes.substr(data_at, size), member);
    t.name = ends_with(name, ".npy") ? name.substr(0, name.size() - 4) : name;
    out.push_back(std::move(t));
    at = data_at + size;
  }
  if (out.empty())
    throw InputError(fmt::format("{}: not a .npz archive (no member found)", source));
  return out;
}

std::vector<TensorRequest> load_tensor_requests(const std::string& path) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) throw InputError(fmt::format("--inputs {}: does not exist", path));
  std::vector<TensorRequest> requests;
  if (!fs::is_directory(st)) {
    requests.push_back(read_tensor_file(path));
    return requests;
  }
  std::vector<fs::path> sets, files;
  for (const auto& e : fs::directory_iterator(path, ec)) {
    const std::string name = e.path().filename().string();
    if (e.is_directory() && name.rfind("test_data_set_", 0) == 0)
      sets.push_back(e.path());
    else if (e.is_regular_file() &&
             (ends_with(name, ".pb") || ends_with(name, ".npy") || ends_with(name, ".npz")))
      files.push_back(e.path());
  }
  if (ec) throw InputError(fmt::format("--inputs {}: cannot read it: {}", path, ec.message()));
  auto by_number = [](const fs::path& a, const fs::path& b) {
    auto n = [](const fs::path& p) {
      const std::string s = p.filename().string();
      const auto us = s.find_last_of('_');
      return std::atoll(s.c_str() + (us == std::string::npos ? 0 : us + 1));
    };
    return n(a) != n(b) ? n(a) < n(b) : a < b;
  };
  if (!sets.empty()) {
    std::sort(sets.begin(), sets.end(), by_number);
    for (const auto& set : sets) {
      std::vector<fs::path> pbs;
      for (const auto& e : fs::directory_iterator(set, ec))
        if (e.is_regular_file() && e.path().filename().string().rfind("input_", 0) == 0 &&
            ends_with(e.path().filename().string(), ".pb"))
          pbs.push_back(e.path());
      if (pbs.empty())
        throw InputError(fmt::format("--inputs {}: {} holds no input_K.pb", path, set.string()));
      std::sort(pbs.begin(), pbs.end(), by_number);
      TensorRequest req;
      for (const auto& pb : pbs)
        for (auto& t : read_tensor_file(pb.string())) req.push_back(std::move(t));
      requests.push_back(std::move(req));
    }
    return requests;
  }
  if (files.empty())
    throw InputError(fmt::format(
        "--inputs {}: holds no test_data_set_N folder and no .pb, .npy or .npz file", path));
  std::sort(files.begin(), files.end());
  for (const auto& f : files) requests.push_back(read_tensor_file(f.string()));
  return requests;
}

std::string fnv1a_hex(const void* data, std::size_t size) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < size; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return fmt::format("{:016x}", h);
}

}  // namespace infermem
