"""Runs moto's server with DynamoDB requests made atomic.

moto serves requests on threads and its DynamoDB backend takes no lock, so two
concurrent conditional writes (or transactions) can both pass their condition
check: measured here, two TransactWriteItems guarded by the same version both
succeeded. Real DynamoDB serializes conflicting writes, and the product's
correctness tests (If-Match races, uniqueness claims) depend on that. This
wrapper runs moto's own WSGI application unchanged and holds one lock around
each DynamoDB request, so every request is atomic, as in the real service.
Other services (SQS long polls included) stay concurrent.

Usage: python local/emulator.py [-H 127.0.0.1] [-p 4566]
"""

import argparse
import os
import signal
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

try:  # moto's own handler keeps its request logging quiet and consistent
    from moto.server import MotoRequestHandler
except ImportError:  # pragma: no cover
    MotoRequestHandler = None


class SerializeDynamoDB:
    """WSGI middleware: one DynamoDB request at a time."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith("DynamoDB_"):
            return self.app(environ, start_response)
        with self.lock:
            # Materialize the body inside the lock: the write happens here.
            return list(self.app(environ, start_response))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=4566)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))

    def stop(signum, frame):
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    app = DomainDispatcherApplication(create_backend_app)
    kwargs = {"threaded": True}
    if MotoRequestHandler is not None:
        kwargs["request_handler"] = MotoRequestHandler
    run_simple(args.host, args.port, SerializeDynamoDB(app), **kwargs)


if __name__ == "__main__":
    main()
