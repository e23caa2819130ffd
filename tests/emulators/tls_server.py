"""The HTTP(S) server the store emulators share: threads per connection, TLS optional.

The TLS handshake is deferred to the handler's thread (each emulator's Handler.setup calls
do_handshake), so a slow client, or one that rejects the certificate, cannot stall the accept
loop; handshake failures and dropped connections are expected in the TLS and fault tests and
are not printed.
"""
import ssl
import sys
from http.server import ThreadingHTTPServer


class TLSServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, handler, context):
        self.context = context  # None: plain HTTP
        super().__init__(addr, handler)

    def get_request(self):
        sock, addr = super().get_request()
        if self.context is None:
            return sock, addr
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (ssl.SSLError, ConnectionError, OSError)):
            return
        super().handle_error(request, client_address)
