"""Runs moto's server with DynamoDB requests made atomic.

moto serves requests on threads and its DynamoDB backend takes no lock, so two
concurrent conditional writes (or transactions) can both pass their condition
check: measured here, two TransactWriteItems guarded by the same version both
succeeded. Real DynamoDB serializes conflicting writes, and the product's
correctness tests (If-Match races, uniqueness claims) depend on that. This
wrapper runs moto's own WSGI application unchanged and holds one lock around
each DynamoDB request, so every request is atomic, as in the real service.
Other services (SQS long polls included) stay concurrent.

It also replaces moto's TransactWriteItems, which deep-copies every table a
transaction touches once per item (for rollback): each transaction cost
O(table size), and seeding 300 contacts slowed to 3 rows/s. The replacement
checks every condition against the state before the transaction (as DynamoDB
does), then applies the writes, keeping copies of only the items it touches to
undo a write that fails half-way. It runs under the DynamoDB lock above.

Usage: python local/emulator.py [-H 127.0.0.1] [-p 4566]
"""

import argparse
import json
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


def patch_transactions():
    """Make TransactWriteItems cost O(items in the transaction)."""
    import copy

    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )
    from moto.dynamodb.models import DynamoDBBackend

    def transact_write_items(self, transact_items):
        if len(transact_items) > 100:
            raise TooManyTransactionsException()
        ops, seen = [], set()
        for entry in transact_items:
            if len(entry) > 1:
                raise TransactWriteSingleOpException
            op_type, op = next(iter(entry.items()))
            table_name = op["TableName"]
            if op_type == "Put":
                table = self.get_table(table_name)
                key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = op["Item"][table.range_key_attr]
            else:
                key = op["Key"]
            ident = (table_name, str(sorted((k, str(v)) for k, v in key.items())))
            if ident in seen:
                raise MultipleTransactionsException()
            seen.add(ident)
            ops.append((op_type, op, table_name, key))

        # 1. Every condition against the state before the transaction.
        errors, failed = [], False
        for op_type, op, table_name, key in ops:
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            current = self.get_item(table_name, key)
            expr = op.get("ConditionExpression")
            if expr is not None and not get_filter_expression(
                expr, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            ).expr(current):
                item = None
                if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                    item = current.to_json()["Attributes"]
                errors.append(("ConditionalCheckFailed", "The conditional request failed", item))
                failed = True
            else:
                errors.append((None, None, None))
        if failed:
            raise TransactionCanceledException(errors)

        # 2. The writes, undone item by item if one fails.
        before = [(t, k, copy.deepcopy(self.get_item(t, k))) for o, _, t, k in ops if o != "ConditionCheck"]
        try:
            for op_type, op, table_name, key in ops:
                names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                if op_type == "Put":
                    self.put_item(table_name, op["Item"], expression_attribute_names=names, expression_attribute_values=values)
                elif op_type == "Delete":
                    self.delete_item(table_name, key, expression_attribute_names=names, expression_attribute_values=values)
                elif op_type == "Update":
                    self.update_item(table_name, key, update_expression=op["UpdateExpression"],
                                     expression_attribute_names=names, expression_attribute_values=values)
        except Exception:
            for table_name, key, item in before:
                if item is None:
                    self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, item.to_json()["Attributes"])
            raise

    DynamoDBBackend.transact_write_items = transact_write_items


def outbox():
    """Every email moto's SES accepted, oldest first: id, from, to, subject, text."""
    from moto.ses.models import ses_backends

    sent = []
    for _account, regions in ses_backends.items():
        for _region, backend in regions.items():
            for m in getattr(backend, "sent_messages", []):
                dest = getattr(m, "destinations", {}) or {}
                to = dest.get("ToAddresses", []) if isinstance(dest, dict) else list(dest)
                sent.append({
                    "id": m.id,
                    "from": getattr(m, "source", ""),
                    "to": to,
                    "subject": getattr(m, "subject", ""),
                    "text": getattr(m, "body", getattr(m, "raw_data", "")),
                })
    return sent


class SerializeDynamoDB:
    """WSGI middleware: one DynamoDB request at a time; /_local/outbox lists
    the emails SES accepted (the local runner serves it to developers)."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == "/_local/outbox":
            body = json.dumps(outbox()).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
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
    patch_transactions()
    app = DomainDispatcherApplication(create_backend_app)
    kwargs = {"threaded": True}
    if MotoRequestHandler is not None:
        kwargs["request_handler"] = MotoRequestHandler
    run_simple(args.host, args.port, SerializeDynamoDB(app), **kwargs)


if __name__ == "__main__":
    main()
