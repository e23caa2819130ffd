"""A TCP proxy on loopback that can hold what the client sends for a while before passing it on.

For tests that must kill beed while a request is at the store: a real platform on an idle
machine may answer a whole push in a quarter of a second, too fast to be interrupted on cue.
With `delay` set, each chunk beed sends waits that long at the proxy, so the push is in flight
for at least `delay` seconds; the answer comes back unheld.

`sent` keeps what the client sent, one bytearray per connection (recorded as it arrives, before
the delay: a request beed was killed in the middle of is in it), so that a test can tell which
requests were made, e.g. which pages of a catalogue walk.
"""
import re
import socket
import threading
import time


class SlowProxy:
    def __init__(self, upstream_host, upstream_port):
        self.upstream = (upstream_host, upstream_port)
        self.delay = 0.0
        self.sent = []
        self._lock = threading.Lock()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.port = self._listener.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._closed:
                client.close()
                return
            try:
                server = socket.create_connection(self.upstream, timeout=10)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            sent = bytearray()
            with self._lock:
                self.sent.append(sent)
            threading.Thread(target=self._pipe, args=(client, server, sent), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, None), daemon=True).start()

    def matches(self, pattern):
        """The first group of every match of `pattern` in what the client sent, connection by
        connection."""
        with self._lock:
            texts = [bytes(s).decode(errors="replace") for s in self.sent]
        return [m.group(1) for text in texts for m in re.finditer(pattern, text)]

    def _pipe(self, src, dst, sent):
        held = sent is not None
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if held:
                    with self._lock:
                        sent.extend(data)
                if held and self.delay > 0:
                    time.sleep(self.delay)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def close(self):
        self._closed = True
        # Wakes the accept() under way first: a thread left blocked in it could, once the fd's
        # number is reused by the next proxy's listener, take (and not log) that proxy's
        # connections.
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
