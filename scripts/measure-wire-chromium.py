#!/usr/bin/env python3
"""Bytes a real browser transfers for the console's login page (and, signed in, a page after it).

    scripts/measure-wire-chromium.py [BASE_URL] [USER PASSWORD PATH ...]

Starts Debian's chromedriver with headless Chromium (apt-get install chromium chromium-driver), opens
BASE_URL/login with an empty cache, waits for the network to go quiet, and sums what Chromium's
DevTools report as transferred (`Network.loadingFinished.encodedDataLength`: headers plus the body as
sent, compressed when it was). With USER PASSWORD it signs in through the form and then reports each
PATH (e.g. /cases/stats) as what it adds. Python's standard library only; a cross-check of
scripts/measure-wire.sh, which needs curl alone.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Driver:
    def __init__(self):
        self.port = free_port()
        self.proc = subprocess.Popen(
            ["chromedriver", f"--port={self.port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.profile = tempfile.TemporaryDirectory()
        for _ in range(100):
            try:
                self.call("GET", "/status")
                break
            except OSError:
                time.sleep(0.1)
        caps = {
            "browserName": "chrome",
            "goog:loggingPrefs": {"performance": "ALL"},
            "goog:chromeOptions": {
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1366,768",
                         f"--user-data-dir={self.profile.name}", "--disk-cache-size=1"],
            },
        }
        r = self.call("POST", "/session", {"capabilities": {"alwaysMatch": caps}})
        self.session = r["value"]["sessionId"]

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.load(r)

    def s(self, method, path, body=None):
        return self.call(method, f"/session/{self.session}{path}", body)["value"]

    def go(self, url):
        self.s("POST", "/url", {"url": url})

    def find(self, css):
        el = self.s("POST", "/element", {"using": "css selector", "value": css})
        return next(iter(el.values()))

    def type(self, css, text):
        self.s("POST", f"/element/{self.find(css)}/value", {"text": text})

    def transferred(self, base):
        """(bytes, responses, {encoding: count}) from `base` reported since the last call (the
        browser's own pages, e.g. the new tab page, are left out)."""
        total, n, encodings, seen = 0, 0, {}, {}
        for entry in self.s("POST", "/se/log", {"type": "performance"}):
            m = json.loads(entry["message"])["message"]
            p = m.get("params", {})
            if m["method"] == "Network.responseReceived":
                if not p["response"]["url"].startswith(base):
                    continue
                h = {k.lower(): v for k, v in p["response"].get("headers", {}).items()}
                seen[p["requestId"]] = h.get("content-encoding", "none")
            elif m["method"] == "Network.loadingFinished" and p["requestId"] in seen:
                total += int(p.get("encodedDataLength", 0))
                n += 1
                enc = seen.get(p["requestId"], "none")
                encodings[enc] = encodings.get(enc, 0) + 1
        return total, n, encodings

    def quiet(self, seconds=2.0):
        time.sleep(seconds)

    def close(self):
        try:
            self.s("DELETE", "")
        finally:
            self.proc.kill()
            self.proc.wait()


def main():
    base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080"
    rest = sys.argv[2:]
    d = Driver()
    try:
        d.go(base + "/login")
        d.quiet()
        total, n, enc = d.transferred(base)
        print(f"login (/login): {total / 1024:.1f} KiB in {n} responses, content-encoding {enc}")
        if len(rest) >= 2:
            user, password, paths = rest[0], rest[1], rest[2:]
            d.type("input[autocomplete=username], input[type=text]", user)
            d.type("input[type=password]", password + "\n")
            d.quiet(3)
            total, n, enc = d.transferred(base)
            print(f"+ sign-in and home: {total / 1024:.1f} KiB in {n} responses, {enc}")
            for p in paths:
                d.go(base + p)
                d.quiet(3)
                total, n, enc = d.transferred(base)
                print(f"+ {p}: {total / 1024:.1f} KiB in {n} responses, {enc}")
    finally:
        d.close()


if __name__ == "__main__":
    main()
