#!/usr/bin/env python3
"""Interop with the real iqm-client 17.5, the last release with AuthRequest.

Runs the real IQMClient (iqm.iqm_client.iqm_client), installed from PyPI by
.ci/python-clients, against `iqmauth serve` as a process, and shares tokens files with
`iqmauth` both ways:

1. Its own token life cycle against serve: password login when built with credentials,
   token reuse, the refresh grant when 60 s or less remain, the password grant when both
   tokens have expired, logout (204), the old refresh token refused afterwards
   (invalid_grant, "Session not active"), a wrong password refused
   (ClientAuthenticationError "Failed to update tokens").
2. A tokens file that `iqmauth login` wrote: IQMClient(tokens_file=...) reads it, and
   reads it again once its token has 60 s or less left, finding the one that
   `iqmauth token --force-refresh` renewed.
3. The other way: the tokens 17.5 obtained, in the Cortex CLI's file format with a
   pid (17.5 has no writer of its own: the Cortex CLI wrote the file for it), are read
   by `iqmauth status` and refreshed by `iqmauth token --force-refresh` (pid kept), and
   17.5 refreshes tokens that `iqmauth` wrote.

17.5 reads the time with time.time() in its module; the script replaces that module's
`time` with a clock it can move forward, so that "near expiry" needs no waiting (the
server keeps real time). Requests are observed by wrapping requests.post, not replaced.

With --keycloak URL, the same against a running Keycloak (realm cortex with the user of
interop/python/keycloak/realm-cortex.json) instead of iqmauth serve.

Usage: python interop/python/iqm17.py PATH/TO/iqmauth [--keycloak URL]
Talks only to 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from importlib.metadata import version

import iqm.iqm_client.iqm_client as mod
from iqm.iqm_client.iqm_client import (
    AuthRequest,
    ClientAuthenticationError,
    GrantType,
    IQMClient,
)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import PASSWORD, USER, External, Serve, check, clean_env, iqmauth, jwt_exp, login, summary  # noqa: E402

API = "http://127.0.0.1:9/"  # the quantum computer's URL: never contacted by these calls


class MovableClock:
    """The `time` module as iqm-client 17.5 sees it, with time.time() moved by offset."""

    def __init__(self):
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def __getattr__(self, name):
        return getattr(time, name)


clock = MovableClock()
mod.time = clock

SENT: list[tuple[str, int]] = []  # (grant_type or "logout", status) of every auth request
_post = mod.requests.post


def _recording_post(url, data=None, **kw):
    r = _post(url, data=data, **kw)
    kind = (data or {}).get("grant_type") or ("logout" if url.endswith("/logout") else "?")
    SENT.append((str(getattr(kind, "value", kind)), r.status_code))
    return r


mod.requests.post = _recording_post


def spec_fields(binary: str) -> list[str]:
    """AuthRequest's properties in openapi.yaml (iqmauth spec), in order."""
    out = iqmauth(binary, "spec").stdout.splitlines()
    fields, state = [], 0
    for line in out:
        if state == 0 and line == "    AuthRequest:":
            state = 1
        elif state == 1 and line == "      properties:":
            state = 2
        elif state == 2 and line.startswith("        ") and not line.startswith("         ") and line.endswith(":"):
            fields.append(line.strip()[:-1])
        elif state == 2 and line.strip() and not line.startswith("        "):
            break
    return fields


def left(token: str, seconds: float) -> float:
    """The clock offset at which token has the given seconds left."""
    return jwt_exp(token) - time.time() - seconds


def life_cycle(binary: str, serve: "Serve | External") -> None:
    check("installed: iqm-client 17.5", version("iqm-client") == "17.5")
    want = spec_fields(binary)
    check("the real AuthRequest declares openapi.yaml's fields, in its order", list(AuthRequest.model_fields) == want,
          f"{list(AuthRequest.model_fields)} vs {want}")
    check("the real GrantType has openapi.yaml's values", [g.value for g in GrantType] == ["password", "refresh_token"])
    SENT.clear()
    c = IQMClient(API, auth_server_url=serve.url, username=USER, password=PASSWORD)
    check("17.5: password login when built", SENT == [("password", 200)], str(SENT))
    first = c._get_bearer_token()
    check("17.5: token reuse", first.startswith("Bearer ") and c._get_bearer_token() == first and len(SENT) == 1, str(SENT))
    clock.offset = left(c._credentials.access_token, 59)
    second = c._get_bearer_token()
    check("17.5: refresh grant with 60 s or less left", second != first and SENT[-1] == ("refresh_token", 200), str(SENT))
    clock.offset = left(c._credentials.refresh_token, -1)  # both tokens expired
    c._get_bearer_token()
    check("17.5: password grant when both have expired", SENT[-1] == ("password", 200), str(SENT))
    old_refresh = c._credentials.refresh_token
    check("17.5: logout answered 204", c.close_auth_session() is True and SENT[-1] == ("logout", 204), str(SENT))
    clock.offset = 0
    r = _post(f"{serve.url}/realms/cortex/protocol/openid-connect/token",
              data=AuthRequest(client_id="iqm_client", grant_type=GrantType.REFRESH,
                               refresh_token=old_refresh).model_dump(exclude_none=True), timeout=60)
    check("17.5's refresh body after logout: 400 invalid_grant",
          r.status_code == 400 and r.json().get("error") == "invalid_grant", r.text)
    try:
        IQMClient(API, auth_server_url=serve.url, username=USER, password="wrong")
        check("17.5: a wrong password is refused", False, "no error")
    except ClientAuthenticationError as e:
        check("17.5: a wrong password is refused", str(e).startswith("Failed to update tokens") and PASSWORD not in str(e), str(e))


def files_both_ways(binary: str, serve: "Serve | External") -> None:
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "tokens.json")
        r = login(binary, serve, path)
        check("iqmauth login", r.returncode == 0, r.stderr)
        with open(path) as f:
            saved = json.load(f)
        check("iqmauth writes the Cortex format without a pid",
              {"access_token", "refresh_token", "auth_server_url", "timestamp", "refresh_status"} <= saved.keys()
              and "pid" not in saved, str(sorted(saved)))
        env = clean_env(IQM_TOKENS_FILE=path)

        # 17.5 reads the file iqmauth wrote, and reads it again near expiry.
        SENT.clear()
        c = IQMClient(API, tokens_file=path)
        check("17.5 reads iqmauth's tokens file", c._get_bearer_token() == f"Bearer {saved['access_token']}" and not SENT,
              str(SENT))
        r = iqmauth(binary, "token", "--force-refresh", env=env)
        check("iqmauth token --force-refresh renews the file", r.returncode == 0 and r.stdout.strip() != saved["access_token"],
              r.stderr)
        renewed = r.stdout.strip()
        check("17.5 keeps its token while more than 60 s remain", c._get_bearer_token() == f"Bearer {saved['access_token']}")
        clock.offset = left(saved["access_token"], 59)
        check("17.5 reads the file again with 60 s or less left, finding the renewed token",
              c._get_bearer_token() == f"Bearer {renewed}" and not SENT, str(SENT))
        clock.offset = 0
        try:
            c.close_auth_session()
            check("17.5 refuses to log out a tokens-file session", False)
        except ClientAuthenticationError as e:
            check("17.5 refuses to log out a tokens-file session", "externally managed" in str(e), str(e))

        # The other way: 17.5's own tokens in the Cortex CLI's format, with its pid.
        SENT.clear()
        own = IQMClient(API, auth_server_url=serve.url, username=USER, password=PASSWORD)
        cortex = {"pid": os.getpid(), "timestamp": "2024-01-01T00:00:00.000000", "refresh_status": "SUCCESS",
                  "access_token": own._credentials.access_token, "refresh_token": own._credentials.refresh_token,
                  "auth_server_url": serve.url}
        with open(path, "w") as f:
            json.dump(cortex, f)
        os.chmod(path, 0o600)
        r = iqmauth(binary, "status", env=env)
        check("iqmauth status reads 17.5's tokens in the Cortex format",
              r.returncode == 0 and f"user:                  {USER}" in r.stdout and own._credentials.access_token not in r.stdout,
              r.stdout + r.stderr)
        r = iqmauth(binary, "token", "--force-refresh", env=env)
        with open(path) as f:
            after = json.load(f)
        check("iqmauth refreshes 17.5's tokens and keeps the pid",
              r.returncode == 0 and after.get("pid") == os.getpid() and after["access_token"] == r.stdout.strip()
              and after["refresh_token"] != own._credentials.refresh_token, r.stderr)
        # 17.5 refreshes the tokens iqmauth wrote.
        own._credentials.access_token, own._credentials.refresh_token = after["access_token"], after["refresh_token"]
        clock.offset = left(after["access_token"], 30)
        SENT.clear()
        own._get_bearer_token()
        clock.offset = 0
        check("17.5 refreshes the tokens iqmauth wrote", SENT == [("refresh_token", 200)], str(SENT))
        r = iqmauth(binary, "logout", env=env)
        check("iqmauth logout removes the file", r.returncode == 0 and not os.path.exists(path), r.stdout + r.stderr)


def main() -> int:
    args = sys.argv[1:]
    if len(args) not in (1, 3) or (len(args) == 3 and args[1] != "--keycloak"):
        print(__doc__)
        return 2
    binary = args[0]
    if len(args) == 3:
        server: Serve | External = External(args[2])
        name = "iqm-client 17.5 against Keycloak"
    else:
        server = Serve(binary, "--access-ttl", "300s", "--refresh-ttl", "1800s")
        name = "iqm-client 17.5"
    try:
        life_cycle(binary, server)
        files_both_ways(binary, server)
    finally:
        rc = server.stop()
    if isinstance(server, Serve):
        logs = server.stderr()
        check("serve stops on SIGTERM", rc == 0, str(rc))
        check("serve logged each request, redacted", logs.count("auth request") >= 10 and "CANARY" not in logs, logs[-500:])
    return summary(name)


if __name__ == "__main__":
    sys.exit(main())
