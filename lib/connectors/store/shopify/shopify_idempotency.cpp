#include "connectors/store/shopify/shopify_idempotency.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <memory>
#include <stdexcept>

namespace pb::connectors::shopify {
namespace {

struct DigestDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1)
      throw std::runtime_error("SHA-256 unavailable (OpenSSL)");
  }
  // Each field ends with a NUL: no id or URI contains one, so the byte stream
  // determines the fields unambiguously.
  void field(std::string_view bytes) {
    update(bytes);
    update(std::string_view("\0", 1));
  }
  std::array<unsigned char, 32> finish() {
    std::array<unsigned char, 32> out{};
    unsigned size = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), out.data(), &size) != 1 || size != out.size())
      throw std::runtime_error("SHA-256 failed (OpenSSL)");
    return out;
  }

 private:
  void update(std::string_view bytes) {
    if (EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size()) != 1)
      throw std::runtime_error("SHA-256 failed (OpenSSL)");
  }
  std::unique_ptr<EVP_MD_CTX, DigestDeleter> ctx_;
};

}  // namespace

std::string idempotency_key(std::string_view reference_uri, std::string_view location_id,
                            const std::vector<QuantityInput>& quantities, unsigned generation) {
  Sha256 sha;
  sha.field("packagebee shopify inventorySetQuantities v1");
  sha.field(reference_uri);
  sha.field(location_id);
  for (const auto& q : quantities) {
    sha.field(q.inventory_item_id);
    sha.field(std::to_string(q.quantity));
  }
  if (generation > 0) sha.field("generation " + std::to_string(generation));
  auto digest = sha.finish();
  digest[6] = static_cast<unsigned char>((digest[6] & 0x0f) | 0x80);  // version 8
  digest[8] = static_cast<unsigned char>((digest[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string key;
  key.reserve(36);
  for (std::size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) key += '-';
    key += kHex[digest[i] >> 4];
    key += kHex[digest[i] & 15];
  }
  return key;
}

}  // namespace pb::connectors::shopify
