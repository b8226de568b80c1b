// A temporary directory for configuration-source tests: kubeconfigs, service
// account files and the files they refer to are written at run time.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace certsync::test {

class ConfigTestDir {
 public:
  ConfigTestDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "certsync-config-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ConfigTestDir(const ConfigTestDir&) = delete;
  ConfigTestDir& operator=(const ConfigTestDir&) = delete;
  ~ConfigTestDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }

  const std::string& path() const { return path_; }
  std::string file(const std::string& relative) const { return path_ + "/" + relative; }

  // Writes `content` to `relative` (creating parent directories); returns the full path.
  std::string write(const std::string& relative, const std::string& content) const {
    const std::string full = file(relative);
    std::filesystem::create_directories(std::filesystem::path(full).parent_path());
    std::ofstream out(full, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out) throw std::runtime_error("cannot write " + full);
    return full;
  }

  std::string mkdir(const std::string& relative) const {
    const std::string full = file(relative);
    std::filesystem::create_directories(full);
    return full;
  }

 private:
  std::string path_;
};

}  // namespace certsync::test
