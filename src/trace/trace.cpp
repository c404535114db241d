#include "infermem/trace.h"

#include <unistd.h>
#include <cerrno>
#include <cmath>

namespace infermem::trace {

std::optional<double> Record::value(const std::string& key) const {
  auto it = values.find(key);
  if (it == values.end()) return std::nullopt;
  return it->second;
}

std::string to_line(const Record& r) {
  nlohmann::json j = nlohmann::json::object();
  j["v"] = kFormatVersion;
  j["type"] = r.type;
  j["t_ms"] = std::round(r.t_ms * 1000.0) / 1000.0;
  if (!r.arm.empty()) j["arm"] = r.arm;
  if (r.pid != 0) j["pid"] = r.pid;
  if (!r.phase.empty()) j["phase"] = r.phase;
  if (r.req >= 0) j["req"] = r.req;
  if (!r.src.empty()) j["src"] = r.src;
  for (const auto& [k, v] : r.values) {
    if (!std::isfinite(v)) continue;  // JSON has no NaN; an unreadable value is absent
    if (v == std::floor(v) && std::fabs(v) < 9.0e15)
      j[k] = static_cast<std::int64_t>(v);
    else
      j[k] = v;
  }
  if (r.extra.is_object())
    for (const auto& [k, v] : r.extra.items())
      if (!j.contains(k)) j[k] = v;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<Record> parse_line(std::string_view line, std::string* why) {
  auto fail = [&](const char* reason) -> std::optional<Record> {
    if (why) *why = reason;
    return std::nullopt;
  };
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.empty()) return fail("empty line");
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return fail("not a JSON object");
  auto v = j.find("v");
  if (v == j.end() || !v->is_number_integer()) return fail("no format version \"v\"");
  if (v->get<std::int64_t>() != kFormatVersion) return fail("unsupported format version");
  auto type = j.find("type");
  if (type == j.end() || !type->is_string()) return fail("no \"type\"");
  Record r;
  r.type = type->get<std::string>();
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const auto& val = it.value();
    if (k == "v" || k == "type") continue;
    if (k == "t_ms") {
      if (!val.is_number()) return fail("\"t_ms\" is not a number");
      r.t_ms = val.get<double>();
    } else if (k == "arm" && val.is_string()) {
      r.arm = val.get<std::string>();
    } else if (k == "pid" && val.is_number_integer()) {
      auto p = val.get<std::int64_t>();
      if (p < 0 || p > 0x7fffffff) return fail("\"pid\" out of range");
      r.pid = static_cast<int>(p);
    } else if (k == "phase" && val.is_string()) {
      r.phase = val.get<std::string>();
    } else if (k == "req" && val.is_number_integer()) {
      r.req = val.get<std::int64_t>();
    } else if (k == "src" && val.is_string()) {
      r.src = val.get<std::string>();
    } else if (val.is_number()) {
      double d = val.get<double>();
      if (std::isfinite(d)) r.values[k] = d;
    } else {
      r.extra[k] = val;
    }
  }
  return r;
}

bool Writer::write_raw_line(std::string_view line) {
  std::string buf(line);
  buf.push_back('\n');
  std::lock_guard<std::mutex> lock(mu_);
  const char* p = buf.data();
  std::size_t left = buf.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  return true;
}

bool Writer::write(const Record& record) {
  return write_raw_line(to_line(record));
}

std::optional<Record> Reader::next() {
  for (;;) {
    line_.clear();
    int c;
    bool any = false;
    while ((c = std::fgetc(in_)) != EOF) {
      any = true;
      if (c == '\n') break;
      line_.push_back(static_cast<char>(c));
    }
    if (!any) return std::nullopt;
    ++lines_;
    if (line_.empty()) continue;
    if (auto r = parse_line(line_)) return r;
    ++skipped_;
  }
}

}  // namespace infermem::trace
