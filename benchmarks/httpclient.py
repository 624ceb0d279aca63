"""A small asyncio HTTP/1.1 client for the benchmarks (no third-party client).

One `Session` is one browser tab: one connection (kept alive when the server allows it;
gunicorn's sync workers do not) and a cookie jar. `fork()` gives a second connection
with a copy of the jar, for requests a browser would have in flight at the same time
(a double click).
"""
from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import time
import zlib
from dataclasses import dataclass, field
from html import unescape
from urllib.parse import urlencode, urlsplit

DEFAULT_TIMEOUT = 15.0
# BENCH_REQUEST_START=1: every request carries `X-Request-Start: t=<send time>`, as nginx
# stamps what it receives (docs/deploy.md); the server is started with
# REQUEST_START_HEADER=1 then (harness.server_env), so a submit sent in time is judged
# by its send time however long the workers' queue.
STAMP_REQUESTS = os.environ.get("BENCH_REQUEST_START", "") not in ("", "0")


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k == name), None)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def location_path(self) -> str:
        """The path of the Location header ('' when there is none)."""
        return urlsplit(self.header("location") or "").path


class HTTPError(Exception):
    pass


# What a request can raise besides a response: count it as an error and go on.
REQUEST_ERRORS = (OSError, HTTPError, asyncio.TimeoutError, asyncio.IncompleteReadError,
                  ValueError)


@dataclass
class Session:
    """One virtual user: one connection (kept alive when the server allows it) and a
    cookie jar."""
    host: str
    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    connects: int = 0

    def fork(self) -> "Session":
        """Another connection with a copy of this jar (the server keeps no session state:
        the session is the signed cookie)."""
        return Session(self.host, self.port, dict(self.cookies), self.timeout)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass
        self.reader = self.writer = None

    async def _connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.connects += 1

    async def request(self, method: str, path: str, body: bytes = b"",
                      headers: dict[str, str] | None = None) -> Response:
        return await asyncio.wait_for(self._request(method, path, body, headers or {}),
                                      self.timeout)

    async def _request(self, method, path, body, headers) -> Response:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                 "Connection: keep-alive", "User-Agent: quizapp-bench"]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if STAMP_REQUESTS:
            lines.append(f"X-Request-Start: t={time.time():.3f}")
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        reused = self.writer is not None
        if not reused:
            await self._connect()
        try:
            self.writer.write(raw)
            await self.writer.drain()
            response = await self._read_response(method)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            await self.close()
            if not reused:
                raise HTTPError(f"{method} {path}: {exc!r}") from exc
            # The server closed a kept-alive connection between requests: once more.
            await self._connect()
            self.writer.write(raw)
            await self.writer.drain()
            response = await self._read_response(method)
        except BaseException:
            await self.close()  # a timeout or cancel leaves the connection mid-response
            raise
        self._store_cookies(response)
        if (response.header("connection") or "").lower() == "close":
            await self.close()
        return response

    async def _read_response(self, method: str) -> Response:
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers = []
        for line in header_lines:
            if ":" in line:
                key, value = line.split(":", 1)
                headers.append((key.strip().lower(), value.strip()))
        found = dict(headers)
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            body = b""
        elif "chunked" in found.get("transfer-encoding", "").lower():
            chunks = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                chunks.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            body = b"".join(chunks)
        elif "content-length" in found:
            body = await self.reader.readexactly(int(found["content-length"]))
        else:
            body = await self.reader.read()
            await self.close()
        return Response(status, headers, body)

    def _store_cookies(self, response: Response) -> None:
        for key, value in response.headers:
            if key != "set-cookie":
                continue
            pair, _, attributes = value.partition(";")
            name, _, cookie_value = pair.strip().partition("=")
            attrs = attributes.lower()
            if "max-age=0" in attrs or "expires=thu, 01 jan 1970" in attrs:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = cookie_value

    async def get(self, path: str) -> Response:
        return await self.request("GET", path)

    async def post_form(self, path: str, data, referer: str | None = None,
                        accept: str | None = None) -> Response:
        """`data`: a dict or a list of (name, value) pairs (a name may repeat);
        `referer`: the path of the page the form is on, sent as a browser does;
        `accept`: the Accept header a page's script sends (e.g. application/json)."""
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if accept:
            headers["Accept"] = accept
        if referer:
            headers["Referer"] = f"http://{self.host}:{self.port}{referer}"
        return await self.request("POST", path, urlencode(data).encode(), headers)

    async def post_json(self, path: str, payload, csrf: str) -> Response:
        return await self.request("POST", path, json.dumps(payload).encode(), {
            "Content-Type": "application/json", "Accept": "application/json",
            "X-CSRFToken": csrf})

    def flashes(self) -> list[tuple[str, str]]:
        """The flashed messages waiting in Flask's session cookie, read without checking
        the signature (the cookie is signed, not encrypted)."""
        return session_flashes(self.cookies.get("session", ""))


def session_flashes(cookie: str) -> list[tuple[str, str]]:
    if not cookie:
        return []
    compressed = cookie.startswith(".")
    payload = cookie.lstrip(".").split(".")[0]
    try:
        data = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        if compressed:
            data = zlib.decompress(data)
        content = json.loads(data)
    except (ValueError, zlib.error):
        return []
    out = []
    for item in content.get("_flashes", []):
        if isinstance(item, dict):  # Flask's tagged JSON: a tuple is {" t": [...]}
            item = item.get(" t", [])
        if len(item) == 2:
            out.append((str(item[0]), str(item[1])))
    return out


def hidden_value(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html) or \
        re.search(rf'<input[^>]*value="([^"]*)"[^>]*name="{name}"', html)
    if not match:
        raise HTTPError(f"no {name} field on the page")
    return unescape(match.group(1))


def meta_csrf(html: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    if not match:
        raise HTTPError("no csrf-token meta tag on the page")
    return unescape(match.group(1))


def expect(response: Response, status: int, what: str) -> Response:
    if response.status != status:
        raise HTTPError(f"{what}: HTTP {response.status}: {response.text[:300]}")
    return response
