#pragma once
#include <string>

namespace infermem {
// Hex SHA-256 of a file's contents (OpenSSL's libcrypto). InputError naming the file.
std::string sha256_file(const std::string& path);
}  // namespace infermem
