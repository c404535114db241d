#pragma once
// Writing output files so that a reader never sees half of one: a temp file beside the target,
// then rename(2). Only a new path or an existing regular file (or a symlink to one, which stays a
// symlink) is ever replaced: a device, FIFO, socket or directory at the target is an InputError
// naming it, and nothing is touched. A failed write (full disk, I/O error) throws an InputError
// naming the path and the OS's reason, and leaves no temp file behind.
#include <string>
#include <string_view>

namespace infermem {

void write_file_atomic(const std::string& path, std::string_view content);

// Throws the InputError write_file_atomic would for a target that is not a new path or a regular
// file (a device, a FIFO, a directory...), without writing anything; for checking every output
// before a long job starts.
void check_writable_target(const std::string& path);

}  // namespace infermem
