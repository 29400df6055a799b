#!/usr/bin/env python3
"""moto's AWS emulator on loopback, with the adapters fraudstress's tests need.

Usage: python server.py [--port PORT] [--verbose]

Prints "ready <port>" on stdout once it is listening on 127.0.0.1 (port 0 picks a free port).
See README.md for why the adapters exist:

1. CloudWatch: the Rust SDK speaks Smithy RPC v2 CBOR, moto does not. Requests to
   POST /service/GraniteServiceVersion20100801/operation/<Op> are decoded from CBOR, re-issued to
   moto as JSON 1.0, and moto's JSON answer is encoded back to CBOR using botocore's output shapes.
2. X-Ray: moto answers GetTraceSummaries with "Users": {} (a map) where the API has a list; the SDK's
   parser rejects it, so the backend is patched to return [].
3. CloudWatch percentiles: moto computes no percentile statistic (p99 and the like) and crashes
   serializing the missing value; the patch computes it (nearest rank) from the raw values it keeps.
"""

import argparse
import base64
import datetime
import gzip
import io
import json
import logging
import math
import re
import sys
import xml.etree.ElementTree as ET

import botocore.session
import cbor2
from botocore.utils import parse_timestamp
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.cloudwatch import models as cw_models
from moto.xray import models as xray_models
from werkzeug.serving import make_server

CBOR_PREFIX = "/service/GraniteServiceVersion20100801/operation/"
TARGET_PREFIX = "GraniteServiceVersion20100801"
UTC = datetime.timezone.utc


def patch_xray_users():
    """GetTraceSummaries: moto returns "Users": {}; the API (and the SDK) want a list."""
    original = xray_models.XRayBackend.get_trace_summary

    def get_trace_summary(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        for summary in result.get("TraceSummaries", []):
            if not isinstance(summary.get("Users"), list):
                summary["Users"] = []
        return result

    xray_models.XRayBackend.get_trace_summary = get_trace_summary


def patch_cloudwatch_percentiles():
    """GetMetricData with a percentile statistic (`p99`, `p99.9`): moto returns None and then fails to
    serialize it; compute the nearest-rank percentile of the single values moto stores."""
    original = cw_models.Statistics.get_statistics_for_type

    def get_statistics_for_type(self, stat):
        value = original(self, stat)
        match = re.fullmatch(r"p(\d+(?:\.\d+)?)", stat or "")
        if value is None and match:
            values = sorted(self.metric_single_values_list)
            if values:
                rank = math.ceil(float(match.group(1)) / 100.0 * len(values))
                value = values[min(max(rank, 1), len(values)) - 1]
        return value

    cw_models.Statistics.get_statistics_for_type = get_statistics_for_type


def cbor_to_json_value(value):
    """CBOR request values to what moto's JSON 1.0 parser reads."""
    if isinstance(value, dict):
        return {k: cbor_to_json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [cbor_to_json_value(v) for v in value]
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.timestamp()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    return value


def to_datetime(value):
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, (int, float)):
        return datetime.datetime.fromtimestamp(value, tz=UTC)
    parsed = parse_timestamp(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def coerce(value, shape):
    """Gives moto's JSON answer the CBOR types the SDK expects for each member of the output shape:
    timestamps as datetimes (encoded as tag 1), doubles as floats, integers as ints, blobs as bytes."""
    if value is None or shape is None:
        return value
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        out = {}
        for key, item in value.items():
            member = shape.members.get(key)
            if member is not None:
                out[key] = coerce(item, member)
        return out
    if kind == "list" and isinstance(value, list):
        return [coerce(item, shape.member) for item in value]
    if kind == "map" and isinstance(value, dict):
        return {k: coerce(v, shape.value) for k, v in value.items()}
    if kind == "timestamp":
        return to_datetime(value)
    if kind in ("double", "float"):
        return float(value)
    if kind in ("integer", "long"):
        return int(value)
    if kind == "boolean" and isinstance(value, str):
        return value.lower() == "true"
    if kind == "blob" and isinstance(value, str):
        return base64.b64decode(value)
    return value


def error_fields(body):
    """Error code and message from moto's answer, JSON or XML."""
    text = body.decode("utf-8", "replace").strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
            code = str(data.get("__type") or data.get("code") or "InternalFailure")
            message = data.get("message") or data.get("Message") or ""
            return code, message
        except ValueError:
            pass
    if text.startswith("<"):
        try:
            root = ET.fromstring(text)
            code = next((e.text for e in root.iter() if e.tag.endswith("Code")), None)
            message = next((e.text for e in root.iter() if e.tag.endswith("Message")), None)
            return code or "InternalFailure", message or ""
        except ET.ParseError:
            pass
    return "InternalFailure", text


class CloudWatchCborAdapter:
    """WSGI middleware: Smithy RPC v2 CBOR in front of moto's JSON 1.0 CloudWatch."""

    def __init__(self, app):
        self.app = app
        self.model = botocore.session.get_session().get_service_model("cloudwatch")

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") == "POST" and path.startswith(CBOR_PREFIX):
            return self.adapt(environ, start_response, path[len(CBOR_PREFIX):])
        return self.app(environ, start_response)

    def adapt(self, environ, start_response, operation):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        if environ.get("HTTP_CONTENT_ENCODING", "").lower() == "gzip":
            body = gzip.decompress(body)
        params = cbor2.loads(body) if body else {}
        json_body = json.dumps(cbor_to_json_value(params)).encode()

        inner = dict(environ)
        inner.pop("HTTP_CONTENT_ENCODING", None)
        inner.update(
            {
                "PATH_INFO": "/",
                "RAW_URI": "/",
                "REQUEST_URI": "/",
                "QUERY_STRING": "",
                "CONTENT_TYPE": "application/x-amz-json-1.0",
                "CONTENT_LENGTH": str(len(json_body)),
                "HTTP_X_AMZ_TARGET": f"{TARGET_PREFIX}.{operation}",
                "HTTP_ACCEPT": "application/json",
                "wsgi.input": io.BytesIO(json_body),
            }
        )
        captured = {}

        def inner_start(status, headers, exc_info=None):
            captured["status"] = status
            captured["headers"] = headers
            return lambda _data: None

        chunks = self.app(inner, inner_start)
        try:
            answer = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()

        status = captured.get("status", "500 Internal Server Error")
        code = int(status.split(" ", 1)[0])
        if 200 <= code < 300:
            data = json.loads(answer) if answer.strip() else {}
            try:
                shape = self.model.operation_model(operation).output_shape
            except Exception:  # unknown operation: pass the answer through uncoerced
                shape = None
            out = cbor2.dumps(coerce(data, shape), datetime_as_timestamp=True)
        else:
            error_code, message = error_fields(answer)
            out = cbor2.dumps({"__type": error_code, "message": message})

        headers = [
            ("Content-Type", "application/cbor"),
            ("smithy-protocol", "rpc-v2-cbor"),
            ("Content-Length", str(len(out))),
        ]
        for name, value in captured.get("headers", []):
            if name.lower() in ("x-amzn-requestid", "x-amzn-query-error"):
                headers.append((name, value))
        start_response(status, headers)
        return [out]


def moto_speaks_cbor():
    """moto 5.2.6 and later parse and answer Smithy RPC v2 CBOR themselves (`moto.core.cbor`); the
    adapter then stands aside, since re-issuing as JSON 1.0 is what those releases no longer route."""
    try:
        import moto.core.cbor  # noqa: F401
    except ImportError:
        return False
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args()

    if not args.verbose:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    patch_xray_users()
    patch_cloudwatch_percentiles()
    app = DomainDispatcherApplication(create_backend_app)
    if not moto_speaks_cbor():
        app = CloudWatchCborAdapter(app)
    server = make_server("127.0.0.1", args.port, app, threaded=True, request_handler=MotoRequestHandler)
    print(f"ready {server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
