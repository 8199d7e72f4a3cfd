"""``kg serve``: the built graph in a local Oxigraph server, with YASGUI in the browser.

Starts ``oxigraph serve --location DIR --bind 127.0.0.1:PORT`` (the binary installed
next to this Python, i.e. in the virtual environment, else the one on ``PATH``),
waits until it answers, loads the build with :func:`kg.store.load`, then restarts
it as ``oxigraph serve-read-only`` with the union of all graphs as default graph,
prints the page address and serves until Ctrl-C, then stops the server by its
process id: SIGTERM, a wait, SIGKILL if it does not exit in time.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import IO

import requests

from kg.errors import InputError, RemoteError, UsageError
from kg.store import DEFAULT_GRAPH_BASE, Part, StoreClient, connect, load, read_parts

DEFAULT_PORT = 7878
READY_TIMEOUT = 30.0  # a folder after heavy writes took 11 s to reopen
STOP_TIMEOUT = 10.0


def find_oxigraph() -> Path:
    """The ``oxigraph`` binary: next to ``sys.executable``, else on ``PATH``."""
    beside = Path(sys.executable).parent / "oxigraph"
    if beside.is_file():
        return beside
    found = shutil.which("oxigraph")
    if found:
        return Path(found)
    raise InputError("the oxigraph server binary was not found (looked in "
                     f"{beside.parent} and on PATH)",
                     hint="install it with `pip install 'dipkg[server]'` (the oxigraph "
                          "package) in this environment")


def check_port_free(port: int) -> None:
    """A usage error if something already listens on 127.0.0.1:``port``.

    Without this check, ``kg serve`` could find another server answering on the port
    and load the graph into it.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Like the server itself, ignore sockets of a closed server still in TIME_WAIT.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            raise UsageError(f"port {port} is already in use on 127.0.0.1",
                             hint="pass another --port, or stop what listens there") from None


class OxigraphProcess:
    """A running ``oxigraph serve``; stop it with :meth:`stop`."""

    def __init__(self, location: Path, port: int, binary: Path | None = None, *,
                 read_only: bool = False) -> None:
        self.location = location
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._log: IO[bytes] = tempfile.TemporaryFile()  # closed in stop()
        exe = binary or find_oxigraph()
        # The default graph is the union of all graphs, as in `kg query`, so a stored
        # query pasted into the YASGUI page gives the same answers.
        command = [str(exe), "serve-read-only" if read_only else "serve", "--location",
                   str(location), "--bind", f"127.0.0.1:{port}", "--union-default-graph"]
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=self._log,
                                        stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, limit: int = 500) -> str:
        """The server's output, without a Rust backtrace, on one line."""
        self._log.seek(0)
        text = self._log.read().decode("utf-8", "replace").split("Stack backtrace:")[0]
        return " ".join(text.split())[-limit:]

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> float:
        """Seconds until the server answers a query; raises if it exits or never answers."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                log = self.log_tail()
                if "in use" in log.lower():
                    raise UsageError(f"port {self.port} is already in use on 127.0.0.1",
                                     hint="pass another --port")
                raise RemoteError(f"oxigraph exited with status {self.process.returncode} "
                                  f"while starting on {self.url}: {log}",
                                  hint=f"check that {self.location} is a folder oxigraph "
                                       "can write and no other oxigraph uses it")
            try:
                response = requests.get(f"{self.url}/query", params={"query": "ASK {}"},
                                        timeout=(0.5, 2.0))
                if response.ok and self.process.poll() is None:
                    return time.monotonic() - started
            except requests.RequestException:
                pass
            time.sleep(0.05)
        self.stop()
        raise RemoteError(f"oxigraph did not answer on {self.url} within {timeout:g} s",
                          hint="a large --location folder can take long to open; check "
                               "the folder")

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """Terminate by PID, wait, kill after ``timeout`` seconds; the exit status."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        self._log.close()
        return self.process.returncode


class _Stop(Exception):
    """SIGTERM during ``kg serve``: stop as on Ctrl-C."""


@contextmanager
def _sigterm_stops() -> Iterator[None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        raise _Stop

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def serve(build_dir: Path, ontology_dir: Path, *, port: int = DEFAULT_PORT,
          location: Path | None = None, graph_base: str = DEFAULT_GRAPH_BASE,
          out: IO[str] | None = None, err: IO[str] | None = None) -> int:
    """Serve the build until interrupted; returns the exit code (0 after Ctrl-C)."""
    out = out or sys.stdout
    err = err or sys.stderr
    if not 0 < port < 65536:
        raise UsageError(f"--port {port} is not a TCP port", hint="choose 1024-65535")
    notes: list[str] = []
    parts: list[Part] = read_parts(build_dir, ontology_dir, notes)  # fail before starting
    temporary = None
    if location is None:
        temporary = tempfile.TemporaryDirectory(prefix="kg-serve-")
        location = Path(temporary.name)
    else:
        location.mkdir(parents=True, exist_ok=True)
    server: OxigraphProcess | None = None
    try:
        with _sigterm_stops():
            try:
                check_port_free(port)
                server = OxigraphProcess(location, port)
                server.wait_ready()
                client: StoreClient = connect(server.url, "oxigraph", auth="none")
                report = load(parts, client, graph_base)
                client.close()
                # Serve what was loaded read-only: the page is for exploring, and a
                # stray update from the browser must not change the graph.
                server.stop()
                server = None
                server = OxigraphProcess(location, port, read_only=True)
                server.wait_ready()
                for note in notes + report.notes:
                    err.write(f"note: {note}\n")
                out.write(f"Loaded {report.triples} triples in {len(report.graphs)} graphs "
                          f"(verified) in {report.seconds:.2f} s into {location}\n"
                          f"YASGUI: {server.url}/\n"
                          f"SPARQL endpoint: {server.url}/query (read-only; the default "
                          "graph is the union of all graphs)\n"
                          "Press Ctrl-C to stop.\n")
                out.flush()
                status = server.process.wait()
                if status in (-signal.SIGINT, 128 + signal.SIGINT):
                    raise KeyboardInterrupt  # Ctrl-C reached oxigraph first (same group)
                raise RemoteError(f"oxigraph on {server.url} exited by itself with status "
                                  f"{status}: {server.log_tail()}",
                                  hint="check the log above and the --location folder")
            except (KeyboardInterrupt, _Stop):
                err.write("Stopping oxigraph...\n")
                status = server.stop() if server else 0
                server = None
                err.write(f"Stopped (oxigraph exit status {status}).\n")
                return 0
    finally:
        if server is not None:
            server.stop()
        if temporary is not None:
            temporary.cleanup()
