#!/usr/bin/env python3
"""A stand-in admission webhook over HTTPS on 127.0.0.1, to check admission-load on its own.

POST /admission/validate answers the AdmissionReview it is sent with the request's uid: allowed,
with a warning when the object holds the word "warn-me", denied (with a message) when it holds
"unscanned"; a review of an object named "wrong-uid" is answered for another uid. GET / answers
200. With --stall-every N --stall-ms MS, every Nth request is held MS milliseconds first.
    mock-webhook.py PORT CERT KEY [--stall-every N --stall-ms MS]
"""
import argparse
import itertools
import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    counter = itertools.count(1)
    lock = threading.Lock()
    stall_every = 0
    stall_seconds = 0.0

    def log_message(self, *args):
        pass

    def stall(self):
        with self.lock:
            number = next(self.counter)
        if self.stall_every and number % self.stall_every == 0:
            time.sleep(self.stall_seconds)

    def answer(self, status, body, content_type="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.stall()
        self.answer(200, b"ok\n", "text/plain")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.stall()
        if self.path != "/admission/validate":
            self.answer(404, b'{"error":"not found"}')
            return
        request = json.loads(body)["request"]
        text = json.dumps(request["object"])
        response = {"uid": request["uid"], "allowed": "unscanned" not in text}
        if not response["allowed"]:
            response["status"] = {"code": 403, "message": "an image has no verdict"}
        if "warn-me" in text:
            response["warnings"] = ["asked for a warning"]
        if request.get("name") == "wrong-uid":
            response["uid"] = "not-" + request["uid"]
        review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response}
        self.answer(200, json.dumps(review).encode())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("cert")
    parser.add_argument("key")
    parser.add_argument("--stall-every", type=int, default=0)
    parser.add_argument("--stall-ms", type=float, default=0.0)
    args = parser.parse_args()
    Handler.stall_every = args.stall_every
    Handler.stall_seconds = args.stall_ms / 1000
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
