#!/usr/bin/env python3
"""Interop with the real iqm-client 36.0.0 (iqm-station-control-client 14.0.0).

Runs the real TokenManager (iqm.station_control.client.authentication), installed from
PyPI by .ci/python-clients, against iqmauth as processes:

1. Credentials from the environment: TokenManager and `iqmauth token` agree on IQM_TOKEN
   (used as it is), IQM_TOKENS_FILE with only access_token, an expired token, and both
   variables set (iqmauth exits 2 with TokenManager's own message).
2. A tokens file kept by `iqmauth keep` against `iqmauth serve --access-ttl L`: a
   TokenManager asks for a bearer every second for LIFETIMES token lifetimes; every
   answer must be valid at that moment, no ClientAuthenticationError, and the keeper
   must make no more refreshes than the lifetimes need (one every L/2).
3. The same with three `iqmauth keep` processes on one file against `serve --rotation`
   and three readers: all readers served, no invalid_grant.
Scenarios 2 and 3 run at the same time, so the run takes about LIFETIMES * L.

L defaults to 66 s: iqm-client 36 keeps a token in memory while more than 60 s
(REFRESH_MARGIN_SECONDS) remain, so a lifetime above 60 s exercises both its paths
(held in memory, then read again from the file every second), and 66 s keeps the run
short (3 lifetimes: about 3.5 minutes).

With --keycloak URL, scenarios 2 and 3 run against a running Keycloak instead (the
realms of interop/python/keycloak: 66 s tokens; cortex-rotating rotates refresh tokens);
the refreshes are then counted from the keepers' logs.

Usage: python interop/python/iqm36.py PATH/TO/iqmauth [--lifetime 66] [--lifetimes 3] [--keycloak URL]
Talks only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from importlib.metadata import version

from iqm.station_control.client.authentication import (
    REFRESH_MARGIN_SECONDS,
    ClientAuthenticationError,
    ClientConfigurationError,
    TokenManager,
)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (  # noqa: E402
    External,
    Proc,
    Serve,
    check,
    clean_env,
    iqmauth,
    jwt_exp,
    login,
    summary,
    unsigned_jwt,
)


class environ:
    """Sets os.environ to exactly env (IQM_ variables) for a with block."""

    def __init__(self, **env: str):
        self.env = env

    def __enter__(self):
        self.saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(clean_env(**self.env))

    def __exit__(self, *exc):
        os.environ.clear()
        os.environ.update(self.saved)


def env_rules(binary: str) -> None:
    check("installed: iqm-client 36.0.0, iqm-station-control-client 14.0.0",
          version("iqm-client") == "36.0.0" and version("iqm-station-control-client") == "14.0.0")
    check("iqm-client 36's margin is 60 s", REFRESH_MARGIN_SECONDS == 60)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "tokens.json")
        access = unsigned_jwt({"exp": int(time.time()) + 600, "sub": "u"})
        with open(path, "w") as f:
            f.write('{"access_token": "%s"}' % access)
        opaque = "CANARY-opaque/token+not.a.jwt=="

        # Both variables: TokenManager's error, and iqmauth's exit 2 with the same text.
        with environ(IQM_TOKEN=opaque, IQM_TOKENS_FILE=path):
            try:
                TokenManager()
                msg = None
            except ClientConfigurationError as e:
                msg = str(e)
        r = iqmauth(binary, "token", env=clean_env(IQM_TOKEN=opaque, IQM_TOKENS_FILE=path))
        check("both set: TokenManager refuses", msg is not None, str(msg))
        check("both set: iqmauth token exits 2 naming both, with TokenManager's message",
              msg is not None and r.returncode == 2 and msg in r.stderr and "IQM_TOKEN and IQM_TOKENS_FILE" in r.stderr
              and "CANARY" not in r.stderr, f"{r.returncode} {r.stderr!r} vs {msg!r}")

        # IQM_TOKEN alone: used as it is by both.
        with environ(IQM_TOKEN=opaque):
            bearer = TokenManager().get_auth_header_callback()()
        r = iqmauth(binary, "token", env=clean_env(IQM_TOKEN=opaque))
        check("IQM_TOKEN: both use it as it is",
              bearer == f"Bearer {opaque}" and r.returncode == 0 and r.stdout == opaque + "\n", f"{bearer!r} {r.stdout!r}")

        # IQM_TOKENS_FILE with only access_token.
        with environ(IQM_TOKENS_FILE=path):
            bearer = TokenManager().get_auth_header_callback()()
        r = iqmauth(binary, "token", env=clean_env(IQM_TOKENS_FILE=path))
        check("a file with only access_token: both read it",
              bearer == f"Bearer {access}" and r.returncode == 0 and r.stdout.strip() == access, r.stderr)

        # An expired token in the file: both refuse.
        with open(path, "w") as f:
            f.write('{"access_token": "%s"}' % unsigned_jwt({"exp": int(time.time()) - 5}))
        with environ(IQM_TOKENS_FILE=path):
            try:
                TokenManager().get_auth_header_callback()()
                err = ""
            except ClientAuthenticationError as e:
                err = str(e)
        r = iqmauth(binary, "token", env=clean_env(IQM_TOKENS_FILE=path))
        check("an expired token in the file: both refuse",
              "expired or is not valid" in err and r.returncode != 0 and r.stdout == "", f"{err!r} {r.returncode} {r.stderr!r}")


def keep_scenario(binary: str, name: str, lifetime: int, lifetimes: int, keepers: int, readers: int,
                  rotation: bool, keycloak: str | None = None) -> None:
    if keycloak:
        # Keycloak's realms (interop/python/keycloak): 66 s tokens, cortex-rotating
        # rotates refresh tokens (revokeRefreshToken).
        serve: Serve | External = External(keycloak)
        realm = "cortex-rotating" if rotation else "cortex"
    else:
        serve = Serve(binary, "--access-ttl", f"{lifetime}s", "--refresh-ttl", "1800s", *(["--rotation"] if rotation else []))
        realm = "cortex"
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "tokens.json")
        r = login(binary, serve, path, realm)
        if not check(f"{name}: iqmauth login", r.returncode == 0, r.stderr):
            serve.stop()
            return
        procs = [Proc([binary, "keep", "--tokens-file", path], clean_env()) for _ in range(keepers)]
        duration = lifetimes * lifetime + 2
        answers = [0] * readers
        failures: list[str] = []

        def read(i: int) -> None:
            tm = TokenManager(tokens_file=path, use_env_vars=False)
            get = tm.get_auth_header_callback()
            start = time.monotonic()
            n = 0
            while time.monotonic() - start < duration:
                try:
                    bearer = get()
                    now = time.time()
                    if not bearer.startswith("Bearer ") or jwt_exp(bearer[7:]) <= now:
                        failures.append(f"reader {i} at +{now - start:.0f}s: a token that is not valid")
                    answers[i] += 1
                except ClientAuthenticationError as e:
                    failures.append(f"reader {i}: ClientAuthenticationError: {e}")
                n += 1
                time.sleep(max(0.0, start + n - time.monotonic()))  # one request a second

        threads = [threading.Thread(target=read, args=(i,)) for i in range(readers)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - t0
        stop_times = []
        codes = []
        for p in procs:
            s = time.monotonic()
            codes.append(p.stop(timeout=5))
            stop_times.append(time.monotonic() - s)
        serve.stop()
        logs = [p.stderr() for p in procs]
        renewed = sum(l.count("iqmauth keep: renewed") for l in logs)
        # serve's log counts the refreshes it answered; Keycloak's is not read: the
        # keepers' log lines count them (a failed refresh shows as retrying, or ends one).
        refreshes = renewed if keycloak else serve.count("kind=refresh")
        most = int(elapsed // (lifetime / 2)) + 1
        least = int(elapsed // lifetime)
        check(f"{name}: every answer valid, no ClientAuthenticationError", not failures, "; ".join(failures[:5]))
        check(f"{name}: every reader asked every second", all(a >= duration - 2 for a in answers), str(answers))
        check(f"{name}: no more refreshes than the lifetimes need ({least}..{most})",
              least <= refreshes <= most and refreshes == renewed,
              f"{refreshes} refreshes, {renewed} renewals logged in {elapsed:.0f}s")
        check(f"{name}: no invalid_grant, no failed renewal",
              "invalid_grant" not in serve.stderr() and not any("invalid_grant" in l or "retrying" in l for l in logs),
              serve.stderr()[-2000:])
        check(f"{name}: SIGTERM ends each keeper within a second with exit 0",
              all(c == 0 for c in codes) and all(s < 1.0 for s in stop_times), f"{codes} {stop_times}")
        check(f"{name}: no token or password in the keepers' logs",
              not any("CANARY" in l or "eyJ" in l for l in logs), "".join(logs)[-2000:])
        print(f"measured {name}: lifetime {lifetime}s, {elapsed:.0f}s ({elapsed / lifetime:.1f} lifetimes), "
              f"{keepers} keeper(s), {refreshes} refreshes ({refreshes / (elapsed / lifetime):.2f} per lifetime), "
              f"{readers} reader(s) served {sum(answers)} bearers, {len(failures)} failures", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary")
    ap.add_argument("--lifetime", type=int, default=66, help="access token lifetime in seconds (above 60)")
    ap.add_argument("--lifetimes", type=int, default=3)
    ap.add_argument("--keycloak", help="run the keeper scenarios against this Keycloak (realms of interop/python/keycloak, "
                                       "whose tokens live 66 s) instead of iqmauth serve")
    a = ap.parse_args()
    if a.keycloak:
        a.lifetime = 66
    else:
        env_rules(a.binary)
    where = " (Keycloak)" if a.keycloak else ""
    scenarios = [
        threading.Thread(target=keep_scenario, args=(a.binary, "one keeper" + where, a.lifetime, a.lifetimes, 1, 1, False, a.keycloak)),
        threading.Thread(target=keep_scenario, args=(a.binary, "three keepers, rotation" + where, a.lifetime, a.lifetimes, 3, 3, True,
                                                     a.keycloak)),
    ]
    for s in scenarios:
        s.start()
    for s in scenarios:
        s.join()
    return summary("iqm-client 36" + where)


if __name__ == "__main__":
    sys.exit(main())
