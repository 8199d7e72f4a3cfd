"""Real servers on 127.0.0.1 for tests: Oxigraph, Virtuoso and a scripted HTTP stub.

Every server is started as a child process (or thread) and stopped by its process
id; nothing binds anything but the loopback interface.
"""

from __future__ import annotations

import http.server
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from rdflib import Dataset
from rdflib.compare import to_canonical_graph
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID

import kg.cli

ROOT = Path(__file__).resolve().parents[1]
OXIGRAPH = Path(sys.executable).parent / "oxigraph"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the time of asking)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_http(url: str, process: subprocess.Popen[bytes], timeout: float,
               params: dict[str, str] | None = None) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering {url}")
        try:
            if requests.get(url, params=params, timeout=(0.5, 5)).ok:
                return time.monotonic() - started
        except requests.RequestException:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} not ready within {timeout} s")


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10.0) -> int:
    """SIGTERM by PID, wait, SIGKILL if needed; the exit status."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
    return process.returncode


class Oxigraph:
    """``oxigraph serve`` on a folder and a free port."""

    def __init__(self, location: Path, port: int | None = None) -> None:
        self.location = location
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Oxigraph:
        self.process = subprocess.Popen(
            [str(OXIGRAPH), "serve", "--location", str(self.location),
             "--bind", f"127.0.0.1:{self.port}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_http(f"{self.url}/query", self.process, 30, {"query": "ASK {}"})
        return self

    def stop(self) -> int:
        assert self.process is not None
        return stop_process(self.process)

    def kill(self) -> None:
        """SIGKILL: the server dies as in a crash."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    # -- reading the store behind kg's back, to check what it did --

    def select(self, query: str) -> list[dict[str, str]]:
        response = requests.post(f"{self.url}/query", data={"query": query},
                                 headers={"Accept": "application/sparql-results+json"},
                                 timeout=30)
        response.raise_for_status()
        return [{k: v["value"] for k, v in b.items()}
                for b in response.json()["results"]["bindings"]]

    def graph_counts(self) -> dict[str, int]:
        rows = self.select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } "
                           "GROUP BY ?g")
        return {r["g"]: int(r["n"]) for r in rows}

    def dump(self) -> list[str]:
        """Every quad on the server as sorted N-Quads lines."""
        response = requests.get(f"{self.url}/store", headers={"Accept": "application/n-quads"},
                                timeout=30)
        response.raise_for_status()
        return sorted(line for line in response.text.splitlines() if line.strip())

    def snapshot(self) -> dict[str, set[str]]:
        """Each named graph's triples, blank nodes relabelled canonically (comparable)."""
        dataset = Dataset()
        dataset.parse(data="\n".join(self.dump()), format="nquads")
        out: dict[str, set[str]] = {}
        for graph in dataset.graphs():
            if graph.identifier == DATASET_DEFAULT_GRAPH_ID or not len(graph):
                continue
            canonical = to_canonical_graph(graph)
            out[str(graph.identifier)] = {" ".join(t.n3() for t in triple)
                                          for triple in canonical}
        return out

    def update(self, text: str) -> requests.Response:
        return requests.post(f"{self.url}/update", data={"update": text}, timeout=30)


VIRTUOSO_INI = """\
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
DisableTcpSocket = 0
MaxClientConnections = 10
CheckpointInterval = 60
CaseMode = 2
DirsAllowed = ., {dir}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {dir}
MaxClientConnections = 10
ServerThreads = 10
Charset = UTF-8
EnabledGzipContent = 0

[SPARQL]
ResultSetMaxRows = 100000
MaxQueryExecutionTime = 120
"""


class Virtuoso:
    """``virtuoso-t +foreground`` with its own ini and database in a folder.

    User and password of a fresh database: dba/dba.
    """

    USER = "dba"
    PASSWORD = "dba"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.sql_port = free_port()
        self.http_port = free_port()
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.ready_seconds = 0.0

    @staticmethod
    def installed() -> bool:
        return shutil.which("virtuoso-t") is not None

    def start(self) -> Virtuoso:
        self.folder.mkdir(parents=True, exist_ok=True)
        ini = self.folder / "virtuoso.ini"
        ini.write_text(VIRTUOSO_INI.format(dir=self.folder, sql_port=self.sql_port,
                                           http_port=self.http_port), encoding="utf-8")
        binary = shutil.which("virtuoso-t")
        assert binary is not None, "virtuoso-t is not installed"
        self.process = subprocess.Popen(
            [binary, "+foreground", "+configfile", str(ini)], cwd=self.folder,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.ready_seconds = _wait_http(f"{self.url}/sparql", self.process, 120,
                                        {"query": "ASK {}"})
        return self

    def stop(self) -> int:
        """``isql-vt ... shutdown``, then by PID if it is still running."""
        assert self.process is not None
        if self.process.poll() is None:
            isql = shutil.which("isql-vt") or shutil.which("isql")
            if isql:
                subprocess.run([isql, f"127.0.0.1:{self.sql_port}", self.USER, self.PASSWORD,
                                "exec=shutdown;"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=60, check=False)
                try:
                    self.process.wait(30)
                except subprocess.TimeoutExpired:
                    pass
        return stop_process(self.process)


# --- a scripted HTTP server -------------------------------------------------------------

@dataclass
class Answer:
    """One scripted HTTP answer."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Seen:
    """One request the stub received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Stub:
    """An HTTP server on 127.0.0.1 answering from a script (the last answer repeats)."""

    def __init__(self, answers: Sequence[Answer] | Callable[[Seen], Answer]) -> None:
        self.answers = answers
        self.seen: list[Seen] = []
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                seen = Seen(self.command, self.path, dict(self.headers.items()), body)
                stub.seen.append(seen)
                if callable(stub.answers):
                    answer = stub.answers(seen)
                else:
                    answer = stub.answers[min(len(stub.seen), len(stub.answers)) - 1]
                if answer.delay:
                    time.sleep(answer.delay)
                self.send_response(answer.status)
                for key, value in answer.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Stub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


# --- the kg command ----------------------------------------------------------------------

def kg_main(argv: Sequence[str]) -> int:
    """``kg ARGV`` in-process (``kg.cli`` registers ``load`` and ``serve``)."""
    return kg.cli.main(list(argv))


if __name__ == "__main__":  # used by the `kg serve` test to run the command in a child
    # The test plays a terminal's Ctrl-C. A suite started in the background by a
    # non-interactive shell (`make test &`) inherits SIGINT ignored, and so would this
    # child: give it the handler a terminal's process has.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(kg_main(sys.argv[1:]))
