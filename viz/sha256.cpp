#include "viz/sha256.h"

#include <openssl/evp.h>

#include <cstdio>
#include <stdexcept>

namespace netsim {
namespace {

EVP_MD_CTX* as_ctx(void* p) { return static_cast<EVP_MD_CTX*>(p); }

std::string to_hex(const unsigned char* digest, unsigned len) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * len);
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

}  // namespace

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(as_ctx(ctx_), EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("sha256: EVP_DigestInit_ex failed");
}

Sha256::~Sha256() { EVP_MD_CTX_free(as_ctx(ctx_)); }

void Sha256::update(std::string_view bytes) {
  if (bytes.empty()) return;
  EVP_DigestUpdate(as_ctx(ctx_), bytes.data(), bytes.size());
}

std::string Sha256::hex_digest() const {
  EVP_MD_CTX* copy = EVP_MD_CTX_new();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  if (!copy || EVP_MD_CTX_copy_ex(copy, as_ctx(ctx_)) != 1 ||
      EVP_DigestFinal_ex(copy, digest, &len) != 1) {
    EVP_MD_CTX_free(copy);
    throw std::runtime_error("sha256: EVP digest failed");
  }
  EVP_MD_CTX_free(copy);
  return to_hex(digest, len);
}

std::string sha256_hex(std::string_view bytes) {
  Sha256 h;
  h.update(bytes);
  return h.hex_digest();
}

}  // namespace netsim
