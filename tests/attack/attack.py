#!/usr/bin/env python3
"""A reproducible attack on a real aggregator, through a hostile proxy in front of a real node.

    python3 tests/attack/attack.py [--bin target/debug/signpost] [--reps 10]

Starts `signpost node` and, in front of it, a proxy written here that can tamper with what the
node serves, swap payload types, replay an old snapshot, freeze it with 304s, send huge,
endless, slow, garbage or deeply nested bodies, redirect to another host, answer 500, or reset
the connection. A real `signpost aggregator` crawls the node through the proxy. For each mode
the node publishes something new; the aggregator must refuse it with the expected code, keep
serving the last verified data, and say why in /v1/nodes; then the proxy passes traffic again
and the new data must be served. The SIGKILL step kills the aggregator the moment it serves
new data and restarts it with the node unreachable: it must serve that data at once.

Standard library only. Exits non-zero on the first failure, saying which step failed.
"""

import argparse
import asyncio
import base64
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

MODES = {
    # mode: refusal codes that are correct for it
    "tamper": {"bad_signature", "manifest_mismatch"},
    "typeswap": {"payload_type_mismatch"},
    "rollback": {"rollback"},
    "freeze": {"frozen"},
    "huge": {"body_too_large"},
    "endless": {"body_too_large", "timeout"},
    "slow": {"timeout"},
    "garbage": {"malformed_json"},
    "nested": {"malformed_json"},
    "redirect": {"redirect_refused"},
    "status500": {"http_status"},
    "reset": {"connection_reset"},
}
CAP = 1024 * 1024  # the aggregator's body cap in this run
TIMEOUT = 2  # the aggregator's per-request timeout in this run


def fail(message):
    print(f"attack: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def get_json(url, headers=None, timeout=5):
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read())


def wait(what, predicate, seconds=30):
    deadline = time.time() + seconds
    last = None
    while time.time() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except (OSError, ValueError, KeyError, IndexError) as e:
            last = e
        time.sleep(0.05)
    fail(f"timed out waiting for {what} (last: {last!r})")


class Proxy:
    """A hostile HTTP/1.1 proxy: one request per connection, the mode chosen by the test."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.mode = "pass"
        self.first_snapshot = None
        self.port = None
        self.loop = None

    def fetch(self, path, headers):
        req = urllib.request.Request(self.upstream + path, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                return resp.status, resp.headers.get("content-type", ""), resp.read(), resp.headers
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("content-type", ""), e.read(), e.headers

    @staticmethod
    def swap_type(envelope):
        envelope["payloadType"] = "application/vnd.signpost.listing.v1+json"
        return envelope

    @staticmethod
    def tamper_envelope(envelope):
        payload = bytearray(base64.b64decode(envelope["payload"]))
        i = payload.find(b'"name":"') + 8
        payload[i] = ord("X") if payload[i] != ord("X") else ord("Y")
        envelope["payload"] = base64.b64encode(bytes(payload)).decode()
        return envelope

    def transform(self, path, status, ctype, body):
        """The hostile answer, as (status, content type, body, extra headers), or a callable
        that writes it itself."""
        mode = self.mode
        crawled = path.startswith("/v1/snapshot") or path.startswith("/v1/bundle") or path.startswith("/v1/listings/")
        if path.startswith("/v1/snapshot") and status == 200 and self.first_snapshot is None:
            self.first_snapshot = body
        if mode == "pass" or not crawled:
            return status, ctype, body, {}
        if mode == "tamper" and status == 200:
            doc = json.loads(body)
            if path.startswith("/v1/bundle"):
                doc["listings"] = [self.tamper_envelope(e) for e in doc["listings"]]
            elif path.startswith("/v1/listings/"):
                doc = self.tamper_envelope(doc)
            return status, ctype, json.dumps(doc).encode(), {}
        if mode == "typeswap" and status == 200 and not path.startswith("/v1/listings/"):
            doc = json.loads(body)
            if path.startswith("/v1/bundle"):
                doc["snapshot"] = self.swap_type(doc["snapshot"])
            else:
                doc = self.swap_type(doc)
            return status, ctype, json.dumps(doc).encode(), {}
        if mode == "rollback" and status in (200, 304) and self.first_snapshot:
            if path.startswith("/v1/snapshot"):
                return 200, "application/json", self.first_snapshot, {}
            if path.startswith("/v1/bundle"):
                doc = json.loads(body) if status == 200 else None
                if doc:
                    doc["snapshot"] = json.loads(self.first_snapshot)
                    return 200, ctype, json.dumps(doc).encode(), {}
            return status, ctype, body, {}
        if mode == "freeze":
            if path.startswith("/v1/snapshot"):
                return 304, "", b"", {}
            return status, ctype, body, {}
        if mode == "huge":
            return 200, "application/json", b'{"payload":"' + b"A" * (20 * 1024 * 1024) + b'"}', {}
        if mode == "garbage":
            return 200, "application/json", bytes(random.getrandbits(8) for _ in range(4096)), {}
        if mode == "nested":
            return 200, "application/json", b"[" * 100_000 + b"]" * 100_000, {}
        if mode == "redirect":
            return 302, "text/plain", b"", {"Location": f"http://127.0.0.2:{self.port}{path}"}
        if mode == "status500":
            return 500, "text/plain", b"internal error", {}
        return mode  # endless, slow, reset: written by the connection handler

    async def handle(self, reader, writer):
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        length = int(headers.get("content-length", "0") or 0)
        if length:
            await reader.readexactly(length)
        forward = {k: v for k, v in headers.items() if k in ("if-none-match", "authorization", "accept")}
        status, ctype, body, upstream_headers = await asyncio.to_thread(self.fetch, path, forward)
        result = self.transform(path, status, ctype, body)
        try:
            if result == "endless":
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n")
                chunk = b"[" + b"0," * 32767
                for _ in range(100_000):
                    writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    await writer.drain()
                return
            if result == "slow":
                await asyncio.sleep(TIMEOUT + 2)
                result = (status, ctype, body, {})
            if result == "reset":
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{\"payload\":\"AAAA")
                await writer.drain()
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()  # with linger 0: a TCP reset
                return
            status, ctype, body, extra = result
            reason = {200: "OK", 304: "Not Modified", 302: "Found", 404: "Not Found", 500: "Internal Server Error"}.get(status, "X")
            out = [f"HTTP/1.1 {status} {reason}"]
            if ctype:
                out.append(f"content-type: {ctype}")
            if status != 304:
                out.append(f"content-length: {len(body)}")
            etag = upstream_headers.get("etag") if upstream_headers else None
            if etag and status in (200, 304) and self.mode in ("pass", "freeze"):
                out.append(f"etag: {etag}")
            for k, v in extra.items():
                out.append(f"{k}: {v}")
            out.append("connection: close")
            writer.write(("\r\n".join(out) + "\r\n\r\n").encode() + (body if status != 304 else b""))
            await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            try:
                writer.close()
            except OSError:
                pass

    def start(self):
        ready = threading.Event()

        def run():
            self.loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self.loop)
            server = self.loop.run_until_complete(asyncio.start_server(self.handle, "127.0.0.1", 0, limit=1 << 20))
            self.port = server.sockets[0].getsockname()[1]
            ready.set()
            self.loop.run_forever()

        threading.Thread(target=run, daemon=True).start()
        ready.wait(10)
        return f"http://127.0.0.1:{self.port}"


def spawn(bin_path, args, env_extra=None):
    env = dict(os.environ, SIGNPOST_LOG="warn", **(env_extra or {}))
    child = subprocess.Popen([bin_path, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    line = child.stdout.readline()
    url = next((w for w in line.split() if w.startswith("http://")), None)
    if not url:
        child.kill()
        fail(f"{args[0]} did not start: {line!r}")
    return child, url.rstrip(",")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/debug/signpost")
    ap.add_argument("--reps", type=int, default=10)
    opts = ap.parse_args()
    work = tempfile.mkdtemp(prefix="signpost-attack-")
    children = []
    try:
        node_dir = os.path.join(work, "node")
        out = subprocess.run([opts.bin, "node", "init", "--dir", node_dir, "--name", "Attacked Org",
                              "--base-url", "http://127.0.0.1"], capture_output=True, text=True, check=True).stdout
        node_id = next(l.split(":", 1)[1].strip() for l in out.splitlines() if l.startswith("id:"))
        token = open(os.path.join(node_dir, "admin-token")).read().strip()
        with open(os.path.join(node_dir, "node.toml"), "a") as f:
            f.write("\n")
        # Short lifetimes so a freeze is detectable within the run (half-life 6 s).
        env = {"SIGNPOST_NODE_PUBLISHING__LIFETIME_SECS": "12", "SIGNPOST_NODE_LIMITS__RATE_LIMIT_PER_SEC": "0"}
        node, node_url = spawn(opts.bin, ["node", "serve", "--dir", node_dir, "--listen", "127.0.0.1:0"], env)
        children.append(node)
        proxy = Proxy(node_url)
        proxy_url = proxy.start()
        config = os.path.join(work, "aggregator.toml")
        with open(config, "w") as f:
            f.write(f'store_dir = "store"\n[crawl]\ninterval_secs = 1\ntimeout_secs = {TIMEOUT}\n'
                    f'max_body_bytes = {CAP}\nmax_backoff_secs = 1\n[freshness]\nmax_clock_skew_secs = 5\n'
                    f'[[nodes]]\nurl = "{proxy_url}"\nid = "{node_id}"\n')
        agg_args = ["aggregator", "serve", "--config", config, "--listen", "127.0.0.1:0"]
        agg, agg_url = spawn(opts.bin, agg_args)
        children.append(agg)

        published = 0

        def publish():
            nonlocal published
            group = json.loads(subprocess.run([opts.bin, "example-group", "--seed", str(published)],
                                              capture_output=True, text=True, check=True).stdout)
            req = urllib.request.Request(f"{node_url}/admin/listings", data=json.dumps(group).encode(), method="POST",
                                         headers={"authorization": f"Bearer {token}", "content-type": "application/json"})
            with urllib.request.urlopen(req, timeout=5) as resp:
                assert resp.status == 201
            published += 1

        def health():
            return get_json(f"{agg_url}/v1/nodes")[0]

        def total():
            return get_json(f"{agg_url}/v1/groups")["total_items"]

        publish()
        wait("first crawl", lambda: total() == published)
        steps = 0
        for rep in range(opts.reps):
            for mode, codes in MODES.items():
                before = published
                started = time.time()
                proxy.mode = mode
                if mode != "freeze":
                    publish()

                def refused():
                    h = health()
                    r = h.get("last_refusal") or {}
                    at = h.get("last_refusal_at")
                    fresh = at and time.mktime(time.strptime(at[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone >= started - 1
                    return r.get("code") in codes and fresh and h

                h = wait(f"rep {rep} {mode}: refusal {sorted(codes)}", refused, seconds=40)
                served = total()
                # Frozen data is served until it expires (then hidden: fail closed).
                if served != before and not (mode == "freeze" and served < before):
                    fail(f"rep {rep} {mode}: served {served} listings, expected the last verified {before}")
                if not h["last_refusal"]["detail"]:
                    fail(f"rep {rep} {mode}: a refusal without a reason")
                proxy.mode = "pass"
                wait(f"rep {rep} {mode}: recovery", lambda: total() == published and health()["status"] == "healthy")
                steps += 1

            # SIGKILL the moment new data is served; restart with the node unreachable.
            publish()
            seen = wait(f"rep {rep}: new data served", lambda: total() == published and health()["seq"])
            agg.send_signal(signal.SIGKILL)
            agg.wait()
            proxy.mode = "status500"
            agg, agg_url = spawn(opts.bin, agg_args)
            children.append(agg)
            h = health()
            if (h["seq"] or 0) < seen or total() != published:
                fail(f"rep {rep}: after SIGKILL the aggregator serves seq {h['seq']} / {total()} listings; "
                     f"it had served seq {seen} / {published}")
            proxy.mode = "pass"
            wait(f"rep {rep}: crawling again after restart", lambda: health()["status"] == "healthy")
            steps += 1
            print(f"attack: repetition {rep + 1}/{opts.reps}: {len(MODES)} modes refused, SIGKILL survived", flush=True)
        print(f"attack: {steps} passed, 0 failed")
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
