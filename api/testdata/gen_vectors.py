#!/usr/bin/env python3
"""Generate the auth-request test vectors in ``vectors.json`` (next to this script).

IQM's Python iqm-client (release 17.5) sends its auth requests to the Keycloak
auth server as ``requests.post(url, data=req.model_dump(exclude_none=True), ...)``,
that is as an ``application/x-www-form-urlencoded`` body built by ``requests``
from a pydantic 2 model ``AuthRequest``. This script re-declares that model,
builds about 300 valid requests (password, refresh and logout, a third each),
and records for every request the exact bytes the Python client would put on
the wire (``form``) and what ``model_dump_json(exclude_none=True)`` gives
(``json``). The Go side of this module tests itself against these vectors.

Run from the repository root (any working directory works, paths are relative
to this file)::

    python3 api/testdata/gen_vectors.py            # (re)write vectors.json
    python3 api/testdata/gen_vectors.py --check    # CI: exit 1 if vectors.json is stale

Needs only python3 with pydantic 2 and requests (no network). The output is
deterministic: a fixed seed, no clock, no environment, no set/dict-hash order,
so it is byte-identical across runs and PYTHONHASHSEED values. The file is
written with ``json.dumps(..., ensure_ascii=True, indent=1)`` plus a newline,
so it is pure ASCII.

Each vector is an object::

    {"name": "...", "kind": "password" | "refresh" | "logout",
     "fields": {only the set fields, wire names, in model order},
     "form": "<form body exactly as requests sends it>",
     "json": "<model_dump_json(exclude_none=True)>"}

Besides checking the three golden bodies, the script cross-checks every vector
against two small reference encoders (``reference_form`` and
``reference_json`` below) that spell out the byte-level rules a Go
implementation must follow, and runs those rules over every Unicode scalar
value once.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import pydantic
import requests
from pydantic import BaseModel

HERE = Path(__file__).resolve().parent
OUT_PATH = HERE / "vectors.json"
SEED = 20261127
PER_KIND = 100  # vectors per kind; total = 3 * PER_KIND

if not pydantic.VERSION.startswith("2."):
    sys.exit(f"gen_vectors.py: needs pydantic 2, found {pydantic.VERSION}")


# --------------------------------------------------------------------------
# The model, as described for iqm-client 17.5.
# --------------------------------------------------------------------------


class GrantType(str, Enum):
    """Type of token request."""

    PASSWORD = "password"
    REFRESH = "refresh_token"


class AuthRequest(BaseModel):
    """Request sent to the auth server for access token and refresh token, or for
    terminating the session.

    * Token request with grant type ``'password'`` uses ``username`` and ``password``.
    * Token request with grant type ``'refresh_token'`` uses ``refresh_token``.
    * Logout request uses only ``refresh_token``.
    """

    # Name of the client for all request types.
    client_id: str
    # Type of token request, in {'password', 'refresh_token'}.
    grant_type: Optional[GrantType] = None
    # Username for grant type 'password'.
    username: Optional[str] = None
    # Password for grant type 'password'.
    password: Optional[str] = None
    # Refresh token for grant type 'refresh_token' and for the logout request.
    refresh_token: Optional[str] = None


FIELD_ORDER = list(AuthRequest.model_fields)  # model order == wire order
KIND_FIELDS = {
    "password": ["client_id", "grant_type", "username", "password"],
    "refresh": ["client_id", "grant_type", "refresh_token"],
    "logout": ["client_id", "refresh_token"],
}
KIND_GRANT = {"password": GrantType.PASSWORD, "refresh": GrantType.REFRESH, "logout": None}
KINDS = ["password", "refresh", "logout"]

GOLDEN_FORMS = {
    "password": "client_id=iqm_client&grant_type=password&username=some_username&password=some_password",
    "refresh": "client_id=iqm_client&grant_type=refresh_token&refresh_token=abc.def%3D",
    "logout": "client_id=iqm_client&refresh_token=abc.def%3D",
}


# --------------------------------------------------------------------------
# What the Python client puts on the wire.
# --------------------------------------------------------------------------


def form_body(req: AuthRequest) -> str:
    """The body requests sends for ``data=req.model_dump(exclude_none=True)``.

    model_dump() (python mode) yields the GrantType member itself, not its value.
    requests encodes every str value with ``v.encode('utf-8')``, and since
    GrantType subclasses str this gives the member's value (b'password'), never
    'GrantType.PASSWORD'. So the plain python-mode dump is used, exactly as the
    client does; the json-mode dump is checked to give the same bytes.
    """
    body = requests.Request("POST", "http://127.0.0.1/x", data=req.model_dump(exclude_none=True)).prepare().body
    assert isinstance(body, str), type(body)
    assert body.isascii(), body
    body_json_mode = (
        requests.Request("POST", "http://127.0.0.1/x", data=req.model_dump(mode="json", exclude_none=True))
        .prepare()
        .body
    )
    assert body == body_json_mode, (body, body_json_mode)
    return body


def json_body(req: AuthRequest) -> str:
    out = req.model_dump_json(exclude_none=True)
    assert isinstance(out, str)
    return out


# --------------------------------------------------------------------------
# Independent reference encoders: the rules, spelled out for the Go port.
# --------------------------------------------------------------------------

_FORM_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")


def _form_escape(s: str) -> str:
    """urllib.parse.quote_plus(s, safe=''): UTF-8, keep A-Za-z0-9_.-~, space -> '+',
    every other byte -> %XX with upper-case hex."""
    out = []
    for b in s.encode("utf-8"):
        if b in _FORM_SAFE:
            out.append(chr(b))
        elif b == 0x20:
            out.append("+")
        else:
            out.append("%%%02X" % b)
    return "".join(out)


def reference_form(fields: dict) -> str:
    """key=value pairs in model order, joined by '&'."""
    return "&".join(_form_escape(k) + "=" + _form_escape(v) for k, v in fields.items())


_JSON_SHORT = {0x22: '\\"', 0x5C: "\\\\", 0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r"}


def _json_string(s: str) -> str:
    """pydantic-core (serde_json) string escaping: '"' and '\\' backslash-escaped;
    \\b \\t \\n \\f \\r short forms; the other U+0000..U+001F as \\u00xx with
    lower-case hex; everything else (including '/', U+007F, U+0080..U+009F,
    U+2028, U+2029, '<', '>', '&', all non-ASCII) written raw as UTF-8."""
    out = ['"']
    for ch in s:
        c = ord(ch)
        if c in _JSON_SHORT:
            out.append(_JSON_SHORT[c])
        elif c < 0x20:
            out.append("\\u%04x" % c)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def reference_json(fields: dict) -> str:
    """Compact object in model order: no whitespace anywhere between tokens."""
    return "{" + ",".join(_json_string(k) + ":" + _json_string(v) for k, v in fields.items()) + "}"


def self_test_rules() -> None:
    """Check the reference rules against pydantic/requests over every Unicode
    scalar value (U+0000..U+10FFFF without surrogates), in chunks."""
    scalars = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    step = 4096
    for i in range(0, len(scalars), step):
        s = "".join(map(chr, scalars[i : i + step]))
        req = AuthRequest(client_id=s)
        assert json_body(req) == reference_json({"client_id": s}), f"json rule mismatch in chunk {i}"
        assert form_body(req) == reference_form({"client_id": s}), f"form rule mismatch in chunk {i}"


# --------------------------------------------------------------------------
# Values.
# --------------------------------------------------------------------------

C0 = "".join(chr(c) for c in range(0x00, 0x20))
C1 = "".join(chr(c) for c in range(0x80, 0xA0))
PRINTABLE_ASCII = "".join(chr(c) for c in range(0x20, 0x7F))
FLAG_FI = "\U0001F1EB\U0001F1EE"  # regional indicators F, I
ZWJ_FAMILY = "\U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466"
THUMB_SKIN = "\U0001F44D\U0001F3FD"
KEYCAP_ONE = "1\uFE0F\u20E3"
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
B64STD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def rand_uuid(rng: random.Random) -> str:
    h = "%032x" % rng.getrandbits(128)
    h = h[:12] + "4" + h[13:16] + "89ab"[rng.randrange(4)] + h[17:]
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def jwt_like(rng: random.Random, alg: str = "HS512", realm: str = "cortex", client_id: str = "iqm_client") -> str:
    """A realistic Keycloak-style refresh token: base64url(header).base64url(payload).base64url(sig)."""
    header = {"alg": alg, "typ": "JWT", "kid": rand_uuid(rng)}
    iat = 1_700_000_000 + rng.randrange(100_000_000)
    payload = {
        "exp": iat + 1800,
        "iat": iat,
        "jti": rand_uuid(rng),
        "iss": f"https://auth.example.iqm.fi/realms/{realm}",
        "aud": f"https://auth.example.iqm.fi/realms/{realm}",
        "sub": rand_uuid(rng),
        "typ": rng.choice(["Refresh", "Offline"]),
        "azp": client_id,
        "session_state": rand_uuid(rng),
        "scope": "openid profile email",
        "sid": rand_uuid(rng),
    }
    sig_len = {"HS256": 32, "HS512": 64, "RS256": 256}[alg]
    sig = bytes(rng.getrandbits(8) for _ in range(sig_len))
    enc = lambda o: b64url(json.dumps(o, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))  # noqa: E731
    return f"{enc(header)}.{enc(payload)}.{b64url(sig)}"


def long_token(rng: random.Random, length: int, padding: str = "", alphabet: str = B64URL) -> str:
    """JWT-ish xxx.yyy.zzz of exactly ``length`` characters (padding included)."""
    body = length - 2 - len(padding)
    a = body // 8
    b = body - a - 86
    parts = [a, b, 86]
    return ".".join("".join(rng.choice(alphabet) for _ in range(n)) for n in parts) + padding


# Atoms for random strings: each is a valid str (never a lone surrogate); the
# multi-codepoint ones are kept whole so graphemes stay intact.
ATOMS_SPECIAL = list(" +&=%/*~_.-\"'\\<>;#?!$(),:@[]^`{|}")
ATOMS_UNICODE = [
    "\u00e9", "\u00df", "\u00fc", "\u00e5", "\u00f6", "\u00e4", "\u00f1", "\u00a0", "\u20ac",
    "\u0436", "\u041f", "\u044f", "\u0451", "\u0414",  # Cyrillic
    "\u5bc6", "\u7801", "\u7528", "\u6237", "\u91cf", "\u5b50",  # CJK
    "\u30d1", "\u30b9", "\ud55c", "\u05d0", "\u0627", "\u03a9", "e\u0301",
    "\U0001F600", "\U0001F680", "\U0001F9EA", "\u2764\uFE0F", FLAG_FI, ZWJ_FAMILY, THUMB_SKIN, KEYCAP_ONE,
    "\U00010348", "\U0010FFFF", "\uFFFD", "\uFEFF", "\u200B",
]
ATOMS_CONTROL = [chr(c) for c in range(0x00, 0x20)] + ["\x7f"] + [chr(c) for c in range(0x80, 0xA0)] + [
    "\r\n", "\u2028", "\u2029"
]


def rand_string(rng: random.Random, lo: int, hi: int) -> str:
    """A random non-empty string of lo..hi atoms, of a randomly chosen flavour."""
    n = rng.randint(lo, hi)
    flavour = rng.choice(["alnum", "printable", "special", "unicode", "mixed", "hostile"])
    if flavour == "alnum":
        pools = [(list(ALNUM), 1)]
    elif flavour == "printable":
        pools = [(list(PRINTABLE_ASCII), 1)]
    elif flavour == "special":
        pools = [(list(ALNUM), 3), (ATOMS_SPECIAL, 2)]
    elif flavour == "unicode":
        pools = [(list(ALNUM), 2), (ATOMS_UNICODE, 2), ([" "], 1)]
    elif flavour == "mixed":
        pools = [(list(ALNUM), 4), (ATOMS_SPECIAL, 2), (ATOMS_UNICODE, 2), (ATOMS_CONTROL, 1)]
    else:  # hostile
        pools = [(list(ALNUM), 1), (ATOMS_SPECIAL, 1), (ATOMS_UNICODE, 1), (ATOMS_CONTROL, 2)]
    weighted = [p for p, w in pools for _ in range(w)]
    return "".join(rng.choice(rng.choice(weighted)) for _ in range(n))


# --------------------------------------------------------------------------
# Requests.
# --------------------------------------------------------------------------


def edge_values(rng: random.Random) -> list[tuple[str, str]]:
    """Hand-picked (name, value) pairs; every one is used as password, as refresh
    token and as logout token; those in USERNAME_EDGES also as username."""
    return [
        ("space", "some password"),
        ("spaces_around", "  padded  "),
        ("only_space", " "),
        ("plus", "a+b"),
        ("amp", "a&b"),
        ("eq", "a=b"),
        ("percent", "100%"),
        ("percent_hex", "%41%2B%zz"),
        ("slash", "a/b"),
        ("star", "a*b"),
        ("tilde", "~user~"),
        ("unreserved", "a_b.c-d"),
        ("dquote", 'say "hi"'),
        ("squote", "it's"),
        ("backslash", "C:\\dir\\file"),
        ("backslash_u", "\\u0000\\n"),
        ("lt_gt", "<b>x</b>"),
        ("semicolon", "a;b"),
        ("hash", "#frag"),
        ("question", "why?"),
        ("injection", "x&grant_type=password&client_id=evil"),
        ("all_printable_ascii", PRINTABLE_ASCII),
        ("e_acute", "caf\u00e9"),
        ("e_decomposed", "cafe\u0301"),
        ("eszett", "Stra\u00dfe"),
        ("cyrillic", "\u043f\u0430\u0440\u043e\u043b\u044c"),
        ("cjk", "\u5bc6\u7801\u91cf\u5b50"),
        ("emoji", "\U0001F600\U0001F680"),
        ("flag", FLAG_FI),
        ("zwj_family", ZWJ_FAMILY),
        ("skin_tone_keycap", THUMB_SKIN + KEYCAP_ONE),
        ("newline", "line1\nline2"),
        ("crlf", "line1\r\nline2"),
        ("cr", "line1\rline2"),
        ("tab", "a\tb"),
        ("nul", "a\x00b"),
        ("c0_all", C0),
        ("del", "a\x7fb"),
        ("c1_all", C1),
        ("line_para_sep", "a\u2028b\u2029c"),
        ("bom_nbsp_zwsp", "\ufeffa\u00a0b\u200bc"),
        ("nonchars_max", "\ufffd\ufffe\uffff\U0010FFFF"),
        ("single_char", "x"),
        ("literal_none", "None"),
        ("literal_enum", "GrantType.PASSWORD"),
        ("b64std_padded", "".join(rng.choice(B64STD) for _ in range(42)) + "=="),
        ("jwt_hs256", jwt_like(rng, "HS256")),
        ("jwt_rs256", jwt_like(rng, "RS256")),
    ]


def long_values(rng: random.Random) -> list[tuple[str, str, str]]:
    """(kind, name, value): a few very long tokens, each used once."""
    return [
        ("refresh", "long_5000", long_token(rng, 5000)),
        ("logout", "long_8192_pad1", long_token(rng, 8192, "=")),
        ("refresh", "long_12000_pad2", long_token(rng, 12000, "==")),
        ("logout", "long_20000", long_token(rng, 20000)),
        ("password", "long_6000_b64std", long_token(rng, 6000, "==", B64STD)),
    ]


# Edge values also tried as the username.
USERNAME_EDGES = [
    "space", "plus", "amp", "eq", "percent", "tilde", "dquote", "backslash", "lt_gt", "hash",
    "injection", "e_acute", "eszett", "cyrillic", "cjk", "zwj_family", "newline", "tab",
    "c0_all", "c1_all", "line_para_sep",
]

CLIENT_IDS = [
    ("client_space", "iqm client"),
    ("client_unicode", "iqm_cli\u00ebnt"),
    ("client_cyrillic", "\u043a\u043b\u0438\u0435\u043d\u0442"),
    ("client_cjk", "\u5ba2\u6237\u7aef"),
    ("client_plus_amp", "iqm+client&x=y"),
    ("client_emoji", "\U0001F916"),
    ("client_other", "cortex-cli"),
]


def make_fields(kind: str, client_id: str, username=None, password=None, refresh_token=None) -> dict:
    vals = {
        "client_id": client_id,
        "grant_type": KIND_GRANT[kind],
        "username": username,
        "password": password,
        "refresh_token": refresh_token,
    }
    return {k: vals[k] for k in KIND_FIELDS[kind]}


def build_requests() -> list[tuple[str, str, dict]]:
    rng = random.Random(SEED)
    out: list[tuple[str, str, dict]] = []

    # 1. golden
    out.append(("golden_password", "password", make_fields("password", "iqm_client", "some_username", "some_password")))
    out.append(("golden_refresh", "refresh", make_fields("refresh", "iqm_client", refresh_token="abc.def=")))
    out.append(("golden_logout", "logout", make_fields("logout", "iqm_client", refresh_token="abc.def=")))

    # 2. hand-picked edge cases
    for name, v in edge_values(rng):
        out.append((f"password_{name}", "password", make_fields("password", "iqm_client", "some_username", v)))
        if name in USERNAME_EDGES:
            out.append((f"username_{name}", "password", make_fields("password", "iqm_client", v, "some_password")))
        out.append((f"refresh_{name}", "refresh", make_fields("refresh", "iqm_client", refresh_token=v)))
        out.append((f"logout_{name}", "logout", make_fields("logout", "iqm_client", refresh_token=v)))
    for kind, name, v in long_values(rng):
        if kind == "password":
            out.append((f"password_{name}", kind, make_fields(kind, "iqm_client", "some_username", v)))
        else:
            out.append((f"{kind}_{name}", kind, make_fields(kind, "iqm_client", refresh_token=v)))
    for name, cid in CLIENT_IDS:
        tok = jwt_like(rng, client_id=cid)
        out.append((f"password_{name}", "password", make_fields("password", cid, "some_username", "some_password")))
        out.append((f"refresh_{name}", "refresh", make_fields("refresh", cid, refresh_token=tok)))
        out.append((f"logout_{name}", "logout", make_fields("logout", cid, refresh_token=tok)))

    # 3. random fill, round-robin over kinds that still need vectors
    counts = {k: sum(1 for _, kk, _ in out if kk == k) for k in KINDS}
    for k in KINDS:
        assert counts[k] <= PER_KIND, (k, counts[k])
    i = 0
    while any(counts[k] < PER_KIND for k in KINDS):
        for kind in KINDS:
            if counts[kind] >= PER_KIND:
                continue
            cid = "iqm_client" if rng.random() < 0.85 else rand_string(rng, 1, 24)
            if kind == "password":
                f = make_fields(kind, cid, rand_string(rng, 1, 40), rand_string(rng, 1, 64))
            else:
                r = rng.random()
                if r < 0.6:
                    tok = jwt_like(rng, rng.choice(["HS256", "HS512", "RS256"]), client_id=cid)
                elif r < 0.75:
                    tok = rand_uuid(rng) if rng.random() < 0.5 else "%064x" % rng.getrandbits(256)
                else:
                    tok = rand_string(rng, 1, 200)
                f = make_fields(kind, cid, refresh_token=tok)
            out.append((f"random_{kind}_{i:03d}", kind, f))
            counts[kind] += 1
        i += 1
    return out


# --------------------------------------------------------------------------
# Vectors.
# --------------------------------------------------------------------------


def wire_fields(fields: dict) -> dict:
    """Fields as strings (GrantType -> its value), in model order."""
    return {k: (v.value if isinstance(v, GrantType) else v) for k, v in fields.items()}


def build_vectors() -> list[dict]:
    vectors = []
    names = set()
    for name, kind, fields in build_requests():
        assert name not in names, name
        names.add(name)
        wf = wire_fields(fields)
        assert list(wf) == KIND_FIELDS[kind]
        assert list(wf) == [k for k in FIELD_ORDER if k in wf]
        for k, v in wf.items():
            assert isinstance(v, str) and v, (name, k)
            assert not any(0xD800 <= ord(c) <= 0xDFFF for c in v), (name, k)
        req = AuthRequest(**fields)
        assert req.model_dump(mode="json", exclude_none=True) == wf, name
        form = form_body(req)
        js = json_body(req)
        assert form == reference_form(wf), name
        assert js == reference_json(wf), name
        assert json.loads(js) == wf, name
        if name.startswith("golden_"):
            assert form == GOLDEN_FORMS[kind], (name, form)
        vectors.append({"name": name, "kind": kind, "fields": wf, "form": form, "json": js})
    for k in KINDS:
        assert any(v["name"] == f"golden_{k}" for v in vectors)
    return vectors


def render(vectors: list[dict]) -> bytes:
    return (json.dumps(vectors, ensure_ascii=True, indent=1) + "\n").encode("ascii")


def main() -> int:
    ap = argparse.ArgumentParser(description="Generate (or --check) api/testdata/vectors.json.")
    ap.add_argument("--check", action="store_true", help="exit 1 if vectors.json differs from a fresh generation")
    args = ap.parse_args()

    self_test_rules()
    vectors = build_vectors()
    data = render(vectors)
    counts = {k: sum(1 for v in vectors if v["kind"] == k) for k in KINDS}
    summary = f"{len(vectors)} vectors: " + ", ".join(f"{k}={n}" for k, n in counts.items())
    rel = OUT_PATH.name

    if args.check:
        try:
            on_disk = OUT_PATH.read_bytes()
        except FileNotFoundError:
            print(f"{rel}: missing; run python3 api/testdata/gen_vectors.py", file=sys.stderr)
            return 1
        if on_disk != data:
            print(f"{rel}: out of date; run python3 api/testdata/gen_vectors.py", file=sys.stderr)
            return 1
        print(f"{rel} up to date ({summary})")
        return 0

    OUT_PATH.write_bytes(data)
    print(f"wrote {rel} ({summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
