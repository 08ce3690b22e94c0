#!/usr/bin/env python3
"""tests/e2e/regproxy.py: a small HTTP proxy in front of the test registry that misbehaves on
purpose (stdlib only). Prints its port on stdout, then serves until killed.

  regproxy.py UPSTREAM_HOST:PORT LOG [options]
    --kill-on-blob-put PID   at the first blob upload PUT, SIGKILL the registry (PID) and drop
                             the connection: the registry dies mid-upload
    --drop-blob-get          the first blob GET of more than 64 KiB sends half its body and
                             drops the connection (the client must resume with a Range request)
    --fail N                 answer the first N requests (not GET /v2/) with 503, then one 429
                             with Retry-After: 1 (the client must retry with backoff)
    --bearer USER:PASS       token auth in front of an open registry: requests need a Bearer
                             token from /token (Basic USER:PASS, a repository scope), else 401
                             with a Bearer challenge
    --token-uses N           a token expires after N requests (default 20)
    --redirect-blobs         answer blob GETs with 307 to the registry itself (another
                             host:port, as blob storage would be)
Every request is logged to LOG as "METHOD PATH STATUS BYTES_IN BYTES_OUT".
"""
import base64
import http.client
import http.server
import os
import secrets
import signal
import sys
import threading
import urllib.parse

UP = sys.argv[1]
LOG = sys.argv[2]
opts = sys.argv[3:]
KILL_PID = int(opts[opts.index("--kill-on-blob-put") + 1]) if "--kill-on-blob-put" in opts else None
DROP_GET = "--drop-blob-get" in opts
FAIL = int(opts[opts.index("--fail") + 1]) if "--fail" in opts else 0
BEARER = opts[opts.index("--bearer") + 1] if "--bearer" in opts else None
REDIRECT = "--redirect-blobs" in opts
USES = int(opts[opts.index("--token-uses") + 1]) if "--token-uses" in opts else 20
state = {"killed": False, "dropped": False, "failed": 0, "tokens": {}, "lock": threading.Lock()}


def log(line):
    with state["lock"], open(LOG, "a") as f:
        f.write(line + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        log("%s %s %d 0 %d" % (self.command, self.path, status, len(body)))

    def drop(self, why):
        log("%s %s DROP %s" % (self.command, self.path, why))
        self.close_connection = True
        try:
            self.connection.shutdown(2)
        except OSError:
            pass

    def token(self):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        auth = self.headers.get("Authorization", "")
        want = "Basic " + base64.b64encode(BEARER.encode()).decode()
        if auth != want or not any(s.startswith("repository:") for s in q.get("scope", [])):
            return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}')
        tok = secrets.token_hex(16)
        state["tokens"][tok] = USES
        self.reply(200, ('{"token":"%s","expires_in":60}' % tok).encode(),
                   [("Content-Type", "application/json")])

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        if BEARER and self.path.startswith("/token"):
            return self.token()
        if BEARER:
            tok = self.headers.get("Authorization", "")[7:]
            with state["lock"]:
                left = state["tokens"].get(tok, 0)
                if left > 0:
                    state["tokens"][tok] = left - 1
            if left <= 0:
                host = self.headers.get("Host")
                ch = 'Bearer realm="http://%s/token",service="regproxy"' % host
                return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}',
                                  [("WWW-Authenticate", ch)])
        if FAIL and self.path != "/v2/" and state["failed"] <= FAIL:
            state["failed"] += 1
            if state["failed"] <= FAIL:
                return self.reply(503, b'{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}')
            return self.reply(429, b'{"errors":[{"code":"TOOMANYREQUESTS"}]}', [("Retry-After", "1")])
        if REDIRECT and self.command == "GET" and "/blobs/sha256:" in self.path:
            return self.reply(307, b"", [("Location", "http://%s%s" % (UP, self.path))])
        if KILL_PID and not state["killed"] and self.command == "PUT" and "/blobs/uploads/" in self.path:
            state["killed"] = True
            os.kill(KILL_PID, signal.SIGKILL)
            return self.drop("registry killed")
        conn = http.client.HTTPConnection(UP, timeout=60)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("connection", "authorization", "keep-alive")}
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            if (DROP_GET and not state["dropped"] and self.command == "GET" and
                    "/blobs/" in self.path and resp.status == 200 and len(data) > 65536):
                state["dropped"] = True
                self.wfile.write(data[:len(data) // 2])
                self.wfile.flush()
                conn.close()
                return self.drop("after %d of %d bytes" % (len(data) // 2, len(data)))
            self.wfile.write(data)
        log("%s %s %d %d %d%s" % (self.command, self.path, resp.status, len(body), len(data),
                                  " range=" + self.headers["Range"] if self.headers.get("Range") else ""))
        conn.close()

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = handle_any


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(srv.server_address[1], flush=True)
srv.serve_forever()
