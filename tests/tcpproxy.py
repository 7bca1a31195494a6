"""A TCP relay in front of a test cluster that a test can switch off, hang or restore."""

from __future__ import annotations

import socket
import threading
from contextlib import suppress

# How long a relay thread waits on a quiet socket before checking whether it should stop.
POLL_SECONDS = 0.2


class Relay:
    """Forward 127.0.0.1:<port> to a target port; ``mode`` is ``up``, ``refuse`` or ``hang``."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.mode = "up"
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(POLL_SECONDS)
        self.port = self._listener.getsockname()[1]
        self._open: list[socket.socket] = []
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """Return the relay's HTTP URL."""
        return f"http://127.0.0.1:{self.port}"

    def set(self, mode: str) -> None:
        """Switch to ``mode``; connections open at the time are cut."""
        self.mode = mode
        for sock in self._open:
            with suppress(OSError):
                sock.close()
        self._open.clear()

    def _accept(self) -> None:
        """Accept connections until stopped, relaying, refusing or holding each as the mode says."""
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self.mode == "refuse":
                client.close()
                continue
            self._open.append(client)
            if self.mode == "hang":
                continue  # never answered, closed by the next set() or stop()
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            self._open.append(upstream)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        """Copy bytes one way until either side closes."""
        with suppress(OSError):
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        for sock in (source, sink):
            with suppress(OSError):
                sock.close()

    def stop(self) -> None:
        """Stop relaying and close every socket."""
        self._stopped.set()
        self.set("refuse")
        self._listener.close()
        self._thread.join(timeout=5)
