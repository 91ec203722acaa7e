// SHA-256 over OpenSSL's EVP interface: a one-shot helper and an incremental
// hasher whose digest can be read at any point without ending the stream.
// Used for the trace fingerprint and scenario file hashes; hex is lowercase.
#pragma once

#include <string>
#include <string_view>

namespace netsim {

std::string sha256_hex(std::string_view bytes);

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::string_view bytes);
  // Digest of everything updated so far; the hasher stays usable.
  std::string hex_digest() const;

 private:
  void* ctx_;  // EVP_MD_CTX*, kept out of the header
};

}  // namespace netsim
