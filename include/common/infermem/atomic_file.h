#pragma once
// Writing output files so that a reader never sees half of one: a temp file beside the target,
// then rename(2). On failure nothing is left behind and an InputError names the path.
#include <string>
#include <string_view>

namespace infermem {

void write_file_atomic(const std::string& path, std::string_view content);

}  // namespace infermem
