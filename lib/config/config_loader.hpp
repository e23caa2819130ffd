// Loads and validates the YAML configuration against the schema
// (config_schema.cpp). Every error names the file, line, column and key path.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace pb::config {

class ConfigError : public std::runtime_error {
 public:
  // `what()` reads "FILE:LINE:COLUMN: KEY.PATH: MESSAGE" (line and column are
  // 1-based; omitted when unknown, e.g. the file cannot be read).
  ConfigError(std::string file, int line, int column, std::string key_path, std::string message);

  const std::string& file() const { return file_; }
  int line() const { return line_; }
  int column() const { return column_; }
  const std::string& key_path() const { return key_path_; }
  const std::string& message() const { return message_; }

 private:
  std::string file_;
  int line_;
  int column_;
  std::string key_path_;
  std::string message_;
};

// Reads and validates `path`. Relative paths inside the file (state_dir,
// socket, warehouse and store paths) are resolved against the file's directory.
Config load_config_file(const std::filesystem::path& path);

// Parses `yaml_text` as if read from `file_name`; relative paths are resolved
// against `base_dir`.
Config parse_config(std::string_view yaml_text, const std::string& file_name,
                    const std::filesystem::path& base_dir);

}  // namespace pb::config
