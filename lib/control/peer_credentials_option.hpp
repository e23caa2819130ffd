// SO_PEERCRED as a typed Asio socket option (Asio's GettableSocketOption), so
// the server learns who is on the other end of a Unix socket without raw
// getsockopt calls.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <stdexcept>

#include "control/server.hpp"

namespace pb::control {

class PeerCredentialsOption {
 public:
  template <class Protocol>
  int level(const Protocol&) const {
    return SOL_SOCKET;
  }
  template <class Protocol>
  int name(const Protocol&) const {
    return SO_PEERCRED;
  }
  template <class Protocol>
  ucred* data(const Protocol&) {
    return &cred_;
  }
  template <class Protocol>
  const ucred* data(const Protocol&) const {
    return &cred_;
  }
  template <class Protocol>
  std::size_t size(const Protocol&) const {
    return sizeof(cred_);
  }
  template <class Protocol>
  void resize(const Protocol&, std::size_t s) {
    // The kernel always fills the whole struct; anything else means we would
    // read garbage as a uid.
    if (s != sizeof(cred_)) throw std::length_error("SO_PEERCRED returned a short ucred");
  }

  PeerCredentials credentials() const { return {cred_.pid, cred_.uid, cred_.gid}; }

 private:
  ucred cred_{};
};

}  // namespace pb::control
