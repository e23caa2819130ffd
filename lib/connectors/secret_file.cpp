#include "connectors/secret_file.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "config/config.hpp"

namespace pb::connectors {
namespace {

constexpr std::size_t kMaxSecret = 64 * 1024;

std::filesystem::path resolve(const std::filesystem::path& path, std::string_view what) {
  const std::string text = path.string();
  if (!text.starts_with(config::kCredentialsPrefix)) return path;
  const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
  if (dir == nullptr || *dir == '\0')
    throw std::runtime_error(std::string(what) + ": " + text +
                             ": $CREDENTIALS_DIRECTORY is not set (is LoadCredential= in the "
                             "unit?)");
  return std::filesystem::path(dir) / text.substr(config::kCredentialsPrefix.size());
}

}  // namespace

std::string read_secret_file(const std::filesystem::path& path, std::string_view what) {
  const auto file = resolve(path, what);
  const auto where = std::string(what) + " " + file.string();
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + where + ": " + std::strerror(errno));
  std::string value;
  char buffer[4096];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    value.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (value.size() > kMaxSecret) throw std::runtime_error(where + " is larger than 64 KiB");
  }
  if (in.bad()) throw std::runtime_error("cannot read " + where);
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r' || value.back() == ' ' ||
                            value.back() == '\t'))
    value.pop_back();
  if (value.empty()) throw std::runtime_error(where + " is empty");
  if (value.find_first_of("\r\n") != std::string::npos)
    throw std::runtime_error(where + " holds more than one line");
  return value;
}

}  // namespace pb::connectors
