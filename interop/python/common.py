"""Helpers of the interop scripts: checks, iqmauth serve as a process, JWT exp.

Standard library only: each script runs in the virtual environment of the real
iqm-client it tests (see .ci/python-clients).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import threading

USER, PASSWORD = "interop_user", "CANARY-PY-pw +&=%/~é"

PASSED: list[str] = []
FAILED: list[str] = []
_lock = threading.Lock()


def check(name: str, ok: bool, detail: str = "") -> bool:
    with _lock:
        (PASSED if ok else FAILED).append(name)
        print(f"{'ok  ' if ok else 'FAIL'} {name}" + (f": {detail}" if detail and not ok else ""), flush=True)
    return ok


def summary(script: str) -> int:
    print(f"{script}: {len(PASSED)} passed, {len(FAILED)} failed", flush=True)
    return 1 if FAILED else 0


def jwt_exp(token: str) -> float:
    """The exp claim of a JWT, its payload decoded as base64url."""
    payload = token.split(".")[1]
    payload += "=" * (-len(payload) % 4)
    return float(json.loads(base64.urlsafe_b64decode(payload))["exp"])


def unsigned_jwt(claims: dict) -> str:
    """A JWT with the given claims and no valid signature (clients read exp unverified)."""
    enc = lambda b: base64.urlsafe_b64encode(b).decode().rstrip("=")
    return enc(b'{"alg":"none"}') + "." + enc(json.dumps(claims).encode()) + ".c2ln"


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without IQM_ or proxy variables, plus extra."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("IQM") and k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
           and k != "INSECURE_ALLOW_NON_HTTPS_AUTH"}
    env.update(extra)
    return env


class Proc:
    """A child process whose stderr is collected by a thread."""

    def __init__(self, args: list[str], env: dict[str, str], stdout: bool = False):
        self.p = subprocess.Popen(args, stdout=subprocess.PIPE if stdout else subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True, env=env)
        self._err: list[str] = []
        self._t = threading.Thread(target=self._read, daemon=True)
        self._t.start()

    def _read(self) -> None:
        for line in self.p.stderr:
            with _lock:
                self._err.append(line)

    def stderr(self) -> str:
        with _lock:
            return "".join(self._err)

    def stop(self, timeout: float = 10) -> int | None:
        """SIGTERM, then the exit code if it ended within timeout (else None, and kill)."""
        if self.p.poll() is None:
            self.p.terminate()
        try:
            rc = self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            rc = None
        self._t.join(timeout=5)
        return rc


class Serve(Proc):
    """iqmauth serve on a free loopback port, with USER:PASSWORD."""

    def __init__(self, binary: str, *args: str):
        super().__init__([binary, "serve", "--addr", "127.0.0.1:0", *args],
                         clean_env(IQMAUTH_SERVE_USERS=f"{USER}:{PASSWORD}"), stdout=True)
        self.url = self.p.stdout.readline().strip()
        if not self.url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"serve did not start: {self.url!r} {self.stderr()}")

    def count(self, text: str) -> int:
        return self.stderr().count(text)


class External:
    """An auth server this script did not start (Keycloak): no log to read."""

    def __init__(self, url: str):
        self.url = url.rstrip("/")

    def stderr(self) -> str:
        return ""

    def count(self, text: str) -> int:
        return 0

    def stop(self, timeout: float = 10) -> int | None:
        return 0


def iqmauth(binary: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([binary, *args], capture_output=True, text=True, env=env if env is not None else clean_env(),
                          timeout=60)


def login(binary: str, serve: "Serve | External", path: str, realm: str = "cortex") -> subprocess.CompletedProcess:
    return iqmauth(binary, "login", "--tokens-file", path, "--realm", realm, env=clean_env(
        IQM_AUTH_SERVER=serve.url, IQM_AUTH_USERNAME=USER, IQM_AUTH_PASSWORD=PASSWORD))
