"""A TCP proxy in front of a real redis-server that, once armed with a byte string, forwards the
next client data holding it to Redis and then cuts that connection before passing Redis' reply
back: Redis ran the command, the client never heard. Everything else passes through."""

from __future__ import annotations

import contextlib
import socket
import threading

from .helpers import free_port


class ReplyCutProxy:
    def __init__(self, upstream_port: int):
        self.port = free_port()
        self._upstream = upstream_port
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._lock = threading.Lock()
        self._trigger: bytes | None = None
        self.cuts = 0
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def cut_reply_to(self, trigger: bytes) -> None:
        """Cut the reply to the next request holding `trigger` (once)."""
        with self._lock:
            self._trigger = trigger

    def close(self) -> None:
        self._closed = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self._upstream))
            cut = threading.Event()
            threading.Thread(target=self._requests, args=(client, server, cut), daemon=True).start()
            threading.Thread(target=self._replies, args=(server, client, cut), daemon=True).start()

    def _requests(self, client: socket.socket, server: socket.socket, cut: threading.Event) -> None:
        try:
            while data := client.recv(65536):
                with self._lock:
                    if self._trigger is not None and self._trigger in data:
                        self._trigger = None
                        cut.set()
                server.sendall(data)
        except OSError:
            pass
        _close(client, server)

    def _replies(self, server: socket.socket, client: socket.socket, cut: threading.Event) -> None:
        try:
            while data := server.recv(65536):
                if cut.is_set():  # the reply to the armed request: dropped with the connection
                    with self._lock:
                        self.cuts += 1
                    break
                client.sendall(data)
        except OSError:
            pass
        _close(client, server)


def _close(*sockets: socket.socket) -> None:
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
