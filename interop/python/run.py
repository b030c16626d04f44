#!/usr/bin/env python3
"""Interop: IQM's Python client's way of talking, against `iqmauth serve`, and back.

This script re-creates what iqm-client 17.5 does with AuthRequest (its own pydantic
model written from the description in shared/iqm-client-auth.md; the body is
``requests.post(url, data=req.model_dump(exclude_none=True))``; expiry is read from the
JWT ``exp`` claim, decoded as base64url; a 60 s margin), and runs it against the Go test
server started as a real process (``iqmauth serve`` on a free loopback port):

  password login, token reuse, refresh when the access token is near expiry, password
  login when both tokens are expired, logout (204), refresh after logout rejected.

Then the reverse direction: the Go client (``iqmauth login``, ``token``, ``status``,
``logout``, which run api.Session) against the same server, and the Python client
refreshing the tokens the Go side wrote.

The client's clock is its own (real time plus an offset the script moves), so that
"near expiry" needs no waiting; the server keeps real time.

Usage: python3 interop/python/run.py PATH/TO/iqmauth
Needs python3 with pydantic 2 and requests. Talks only to 127.0.0.1.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import tempfile
import time
from enum import Enum
from typing import Optional

import requests
from pydantic import BaseModel

REALM = "cortex"
CLIENT_ID = "iqm_client"
REFRESH_MARGIN = 60
TIMEOUT = 60
USER, PASSWORD = "interop_user", "CANARY-PY-pw +&=%/~é"


class GrantType(str, Enum):
    """Type of token request."""

    PASSWORD = "password"
    REFRESH = "refresh_token"


class AuthRequest(BaseModel):
    """Request sent to the auth server for access token and refresh token, or for
    terminating the session.

    * Token request with grant type 'password' uses client_id, grant_type, username, password.
    * Token request with grant type 'refresh_token' uses client_id, grant_type, refresh_token.
    * Logout request uses only client_id and refresh_token.
    """

    client_id: str
    grant_type: Optional[GrantType] = None
    username: Optional[str] = None
    password: Optional[str] = None
    refresh_token: Optional[str] = None


class ClientError(Exception):
    pass


def token_exp(token: str) -> float:
    """The JWT exp claim, decoded as base64url (not iqm-client 17.5's standard base64)."""
    payload = token.split(".")[1]
    payload += "=" * (-len(payload) % 4)
    return float(json.loads(base64.urlsafe_b64decode(payload))["exp"])


class PyClient:
    """The token life cycle of iqm-client 17.5, with a clock the test can move."""

    def __init__(self, server: str, username: str | None, password: str | None):
        self.server = server
        self.username, self.password = username, password
        self.access_token: str | None = None
        self.refresh_token: str | None = None
        self.offset = 0.0
        self.sent: list[tuple[str, int]] = []  # (kind, status)

    def now(self) -> float:
        return time.time() + self.offset

    def _time_left(self, token: str | None) -> float:
        return token_exp(token) - self.now() if token else 0

    def _post(self, path: str, req: AuthRequest) -> requests.Response:
        url = f"{self.server}/realms/{REALM}/protocol/openid-connect/{path}"
        return requests.post(url, data=req.model_dump(exclude_none=True), timeout=TIMEOUT)

    def _update_tokens(self) -> None:
        if self._time_left(self.access_token) > REFRESH_MARGIN:
            return
        if self.refresh_token and self._time_left(self.refresh_token) > REFRESH_MARGIN:
            req = AuthRequest(client_id=CLIENT_ID, grant_type=GrantType.REFRESH, refresh_token=self.refresh_token)
            kind = "refresh"
        else:
            if not (self.username and self.password):
                raise ClientError("no credentials")
            req = AuthRequest(client_id=CLIENT_ID, grant_type=GrantType.PASSWORD,
                              username=self.username, password=self.password)
            kind = "password"
        r = self._post("token", req)
        self.sent.append((kind, r.status_code))
        if r.status_code != 200:
            raise ClientError(f"Failed to update tokens, {r.text}")
        body = r.json()
        self.access_token = body["access_token"]
        self.refresh_token = body.get("refresh_token")

    def get_bearer_token(self) -> str:
        self._update_tokens()
        return f"Bearer {self.access_token}"

    def close_auth_session(self) -> bool:
        if self.refresh_token is None:
            return False
        req = AuthRequest(client_id=CLIENT_ID, refresh_token=self.refresh_token)
        r = self._post("logout", req)
        self.sent.append(("logout", r.status_code))
        if r.status_code not in (200, 204):
            raise ClientError(f"Logout failed, {r.text}")
        self.access_token = self.refresh_token = None
        return True


PASSED: list[str] = []
FAILED: list[str] = []


def check(name: str, ok: bool, detail: str = "") -> None:
    (PASSED if ok else FAILED).append(name)
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + (f": {detail}" if detail and not ok else ""))


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    binary = sys.argv[1]
    env = dict(os.environ, IQMAUTH_SERVE_USERS=f"{USER}:{PASSWORD}")
    # The password contains a comma-free mix of form-special characters.
    server = subprocess.Popen([binary, "serve", "--addr", "127.0.0.1:0", "--access-ttl", "300s", "--refresh-ttl", "1800s"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        base = server.stdout.readline().strip()
        check("serve prints the base URL first", base.startswith("http://127.0.0.1:"), base)
        run_python_client(base)
        run_go_client(binary, base)
    finally:
        server.terminate()
        try:
            _, logs = server.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            _, logs = server.communicate()
    check("serve stops on SIGTERM", server.returncode == 0, str(server.returncode))
    check("serve logs each request, redacted",
          logs.count("auth request") >= 10 and "password=[REDACTED]" in logs and PASSWORD not in logs
          and "CANARY" not in logs, logs[-500:])
    print(f"interop: {len(PASSED)} passed, {len(FAILED)} failed")
    return 1 if FAILED else 0


def run_python_client(base: str) -> None:
    c = PyClient(base, USER, PASSWORD)
    first = c.get_bearer_token()
    check("python: password login", c.sent == [("password", 200)], str(c.sent))
    check("python: token reuse", c.get_bearer_token() == first and len(c.sent) == 1, str(c.sent))
    c.offset = 241  # 59 s left on the access token
    second = c.get_bearer_token()
    check("python: refresh near expiry", second != first and c.sent[-1] == ("refresh", 200), str(c.sent))
    c.offset = 241 + 1800  # both expired
    c.get_bearer_token()
    check("python: password login when both expired", c.sent[-1] == ("password", 200), str(c.sent))
    old_refresh = c.refresh_token
    check("python: logout 204", c.close_auth_session() and c.sent[-1] == ("logout", 204), str(c.sent))
    r = requests.post(f"{base}/realms/{REALM}/protocol/openid-connect/token",
                      data=AuthRequest(client_id=CLIENT_ID, grant_type=GrantType.REFRESH,
                                       refresh_token=old_refresh).model_dump(exclude_none=True), timeout=TIMEOUT)
    body = r.json()
    check("python: refresh after logout rejected",
          r.status_code == 400 and body.get("error") == "invalid_grant" and body.get("error_description") == "Session not active",
          f"{r.status_code} {body}")
    r = requests.post(f"{base}/realms/{REALM}/protocol/openid-connect/token",
                      data=AuthRequest(client_id=CLIENT_ID, grant_type=GrantType.PASSWORD, username=USER,
                                       password="wrong").model_dump(exclude_none=True), timeout=TIMEOUT)
    # Keycloak 26.6 and later (and serve, by default) answer bad credentials with 400; up to 26.5, 401.
    check("python: wrong password is 400 invalid_grant", r.status_code == 400 and r.json().get("error") == "invalid_grant",
          r.text)


def run_go_client(binary: str, base: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        tokens = os.path.join(d, "tokens.json")
        env = dict(os.environ, IQM_AUTH_SERVER=base, IQM_AUTH_USERNAME=USER, IQM_AUTH_PASSWORD=PASSWORD,
                   IQM_TOKENS_FILE=tokens)

        def go(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run([binary, *args], capture_output=True, text=True, env=env, timeout=60)

        r = go("login")
        check("go: login", r.returncode == 0 and "logged in as" in r.stdout and PASSWORD not in r.stdout + r.stderr,
              r.stdout + r.stderr)
        with open(tokens) as f:
            saved = json.load(f)
        # Cortex CLI kills the process a tokens file names in pid: a writer other than
        # its token manager leaves pid out.
        check("go: tokens file in the Cortex format, without a pid",
              {"access_token", "refresh_token", "auth_server_url", "timestamp", "refresh_status"} <= saved.keys()
              and "pid" not in saved and saved["realm"] == REALM and saved["client_id"] == CLIENT_ID,
              str(sorted(saved)))
        r = go("token")
        check("go: token reuse prints the file's token", r.stdout.strip() == saved["access_token"], r.stderr)
        # As if Cortex's token manager had written the file: its pid must survive.
        saved["pid"] = 4242
        with open(tokens, "w") as f:
            json.dump(saved, f)
        r = go("token", "--force-refresh")
        with open(tokens) as f:
            check("go: a refresh keeps the pid Cortex wrote", json.load(f).get("pid") == 4242, r.stderr)
        refreshed = r.stdout.strip()
        check("go: forced refresh", r.returncode == 0 and refreshed not in ("", saved["access_token"]), r.stderr)
        # The Python client takes over the tokens the Go side wrote, and refreshes them.
        with open(tokens) as f:
            saved = json.load(f)
        py = PyClient(base, None, None)
        py.access_token, py.refresh_token = saved["access_token"], saved["refresh_token"]
        py.offset = 300
        try:
            py.get_bearer_token()
            check("python refreshes tokens from the Go side", py.sent == [("refresh", 200)], str(py.sent))
        except ClientError as e:
            check("python refreshes tokens from the Go side", False, str(e))
        r = go("status")
        check("go: status shows no token", r.returncode == 0 and f"user:                  {USER}" in r.stdout
              and saved["access_token"] not in r.stdout, r.stdout + r.stderr)
        r = go("logout")
        check("go: logout", r.returncode == 0 and not os.path.exists(tokens), r.stdout + r.stderr)
        r = go("token")
        check("go: token after logout fails with exit 1", r.returncode == 1 and "file not found" in r.stderr, r.stderr)


if __name__ == "__main__":
    sys.exit(main())
