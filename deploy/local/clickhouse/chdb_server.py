#!/usr/bin/env python3
"""ClickHouse HTTP interface on top of chDB, for development and CI only.

Serves the subset of https://clickhouse.com/docs/interfaces/http that
@clickhouse/client (1.x) uses, on one persistent chDB session:

  GET /ping, GET /            -> "Ok.\\n"
  GET /?query=..., POST /     -> SQL in the `query` URL parameter and/or the body
                                 (multipart/form-data with `query` + `param_*` parts too)
  INSERT ... FORMAT <fmt>     -> the query and its data (body) run as one chDB query,
                                 any input format chDB knows (binary formats such as
                                 RowBinary read the body from a temporary file: FROM INFILE)
  URL params                  -> database, default_format, query_id, session_id,
                                 param_<name> (query parameters), everything else
                                 is a ClickHouse setting applied to that query only
  errors                      -> non-2xx, X-ClickHouse-Exception-Code, body
                                 "Code: N. DB::Exception: ... (NAME) (version ...)"

This is plumbing: no product logic. Users are not enforced (any credentials
are accepted); session_id does not isolate state (there is one engine session).
"""
from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import re
import signal
import sys
import tempfile
import threading
import time
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import chdb
from chdb import session as chdb_session

ENGINE_VERSION = getattr(chdb, "engine_version", "unknown")
SLOW_SECS = float(os.environ.get("CHDB_ADAPTER_SLOW_SECS", "1.0"))

# URL parameters that are part of the HTTP protocol, not query settings.
HTTP_ONLY_PARAMS = {
    "query", "database", "default_format", "query_id", "session_id", "session_timeout",
    "session_check", "user", "password", "quota_key", "role", "buffer_size",
    "wait_end_of_query", "compress", "decompress", "enable_http_compression",
    "send_progress_in_http_headers", "http_headers_progress_interval_ms",
    "client_protocol_version", "query_kind", "stacktrace", "readonly",
    "cancel_http_readonly_queries_on_client_close", "add_http_cors_header",
}

# Exception code -> HTTP status, as clickhouse-server's HTTPHandler maps them.
BAD_REQUEST_CODES = {6, 25, 26, 27, 32, 38, 41, 48, 49, 53, 62, 72, 117, 167, 168, 223, 318, 319, 441, 457, 472}
NOT_FOUND_CODES = {46, 47, 50, 56, 60, 63, 73, 81, 115, 336}
AUTH_CODES = {192: 401, 193: 401, 194: 401, 516: 401, 497: 403}

CODE_RE = re.compile(r"Code: (\d+)\.")
FORMAT_TAIL_RE = re.compile(
    r"\bFORMAT\s+([A-Za-z][A-Za-z0-9_]*)\s*(?:SETTINGS\b[^;]*)?;?\s*$", re.I | re.S)
INSERT_FORMAT_RE = re.compile(
    r"^\s*(INSERT\s+INTO\s+.*?)\s+FORMAT\s+([A-Za-z][A-Za-z0-9_]*)[ \t]*(?:\r?\n)?", re.I | re.S)
USE_RE = re.compile(r"^\s*USE\s", re.I)
LINE_FORMATS_RE = re.compile(r"^(JSON\w*EachRow\w*|JSONLines|NDJSON|TabSeparated\w*|TSV\w*|CSV\w*)$", re.I)

log = logging.getLogger("chdb_server")


class QueryError(Exception):
    def __init__(self, code: int, text: str, status: int | None = None):
        super().__init__(text)
        self.code = code
        self.text = text
        self.status = status


def to_query_error(exc: BaseException) -> QueryError:
    """Turn a chDB exception into ClickHouse's `Code: N. DB::Exception: ...` text."""
    text = str(exc)
    i = text.find("Code: ")
    if i > 0:
        text = text[i:]  # strip wrappers like "Streaming insert finish failed: "
    m = CODE_RE.match(text)
    code = int(m.group(1)) if m else 1001  # STD_EXCEPTION
    if not m:
        text = f"Code: 1001. DB::Exception: {text}. (STD_EXCEPTION)"
    text = text.rstrip()
    if "(version " not in text:
        text += f" (version {ENGINE_VERSION})"
    return QueryError(code, text)


def http_status_for(code: int) -> int:
    if code in BAD_REQUEST_CODES:
        return 400
    if code in NOT_FOUND_CODES:
        return 404
    return AUTH_CODES.get(code, 500)


def content_type_for(fmt: str) -> str:
    f = fmt.lower()
    if f in ("jsoneachrow", "jsonlines", "ndjson", "jsonstringseachrow", "jsoncompacteachrow",
             "jsoncompactstringseachrow", "jsoneachrowwithprogress") or (f.startswith("jsoncompact") and "eachrow" in f):
        return "application/x-ndjson; charset=UTF-8"
    if f.startswith("json"):
        return "application/json; charset=UTF-8"
    if f.startswith("tabseparated") or f.startswith("tsv"):
        return "text/tab-separated-values; charset=UTF-8"
    if f.startswith("csv"):
        header = "present" if "withnames" in f else "absent"
        return f"text/csv; charset=UTF-8; header={header}"
    if f == "xml":
        return "application/xml; charset=UTF-8"
    if f in ("rowbinary", "rowbinarywithnames", "rowbinarywithnamesandtypes", "native", "parquet",
             "arrow", "arrowstream", "orc", "avro", "msgpack", "protobuf", "capnproto") or f.startswith("rowbinary"):
        return "application/octet-stream"
    return "text/plain; charset=UTF-8"


def is_binary_format(fmt: str) -> bool:
    return content_type_for(fmt) == "application/octet-stream"


def sql_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class Engine:
    """One chDB session; every call is serialized by a lock (chDB is not thread-safe per session)."""

    def __init__(self, path: str):
        os.makedirs(path, exist_ok=True)
        self.lock = threading.Lock()
        self.tmp_dir = os.path.normpath(path) + "-inserts"  # binary insert bodies, for their INSERT only
        os.makedirs(self.tmp_dir, exist_ok=True)
        self.sess = chdb_session.Session(path)
        self.current_db: str | None = None
        self.setting_defaults: dict[str, str] = {}
        self.timezone = self.sess.query("SELECT timezone()", "TSV").bytes().decode().strip() or "UTC"

    def close(self) -> None:
        with self.lock:
            try:
                self.sess.close()
            except Exception:  # noqa: BLE001
                log.exception("closing chDB session")

    # --- helpers, called with the lock held ---
    def _use(self, database: str) -> None:
        if self.current_db != database:
            self.sess.query(f"USE `{database.replace('`', '``')}`", "TSV")
            self.current_db = database

    def _apply_settings(self, settings: dict[str, str]) -> list[str]:
        """SET the request's settings; returns names to restore afterwards."""
        if not settings:
            return []
        unknown = [n for n in settings if n not in self.setting_defaults]
        if unknown:
            names = ",".join(sql_quote(n) for n in unknown)
            res = self.sess.query(f"SELECT name, value FROM system.settings WHERE name IN ({names})", "JSONCompactEachRow")
            for line in res.bytes().splitlines():
                name, value = json.loads(line)
                self.setting_defaults[name] = value
        stmt = ", ".join(f"`{n}` = {sql_quote(v)}" for n, v in settings.items())
        self.sess.query(f"SET {stmt}", "TSV")  # unknown setting -> Code 115 like the server
        return list(settings)

    def _restore_settings(self, names: list[str]) -> None:
        if not names:
            return
        parts = []
        for n in names:
            d = self.setting_defaults.get(n)
            parts.append(f"`{n}` = {sql_quote(d)}" if d is not None else f"`{n}` = DEFAULT")
        try:
            self.sess.query("SET " + ", ".join(parts), "TSV")
        except Exception:  # noqa: BLE001 - fall back to engine defaults one by one
            for n in names:
                try:
                    self.sess.query(f"SET `{n}` = DEFAULT", "TSV")
                except Exception:  # noqa: BLE001
                    log.warning("could not restore setting %s", n)

    # --- public ---
    def run(self, database: str, settings: dict[str, str], fn):
        with self.lock:
            try:
                self._use(database)
                applied = self._apply_settings(settings)
            except Exception as exc:  # noqa: BLE001
                self.current_db = None
                raise to_query_error(exc) from None
            try:
                return fn(self.sess)
            except QueryError:
                raise
            except Exception as exc:  # noqa: BLE001
                raise to_query_error(exc) from None
            finally:
                self._restore_settings(applied)

    def query(self, database, settings, sql, fmt, params):
        def fn(sess):
            if USE_RE.match(sql):
                self.current_db = None
            res = sess.query(sql, fmt, params=params or None)
            # copy the result and its counters while the session is still ours
            return (res.bytes() or b"", res.rows_read(), res.bytes_read(),
                    res.rows_written(), res.bytes_written())
        return self.run(database, settings, fn)

    def insert(self, database, settings, prefix, fmt, data: bytes):
        # Not chDB's streaming insert (send_insert/finish): in chdb-core 26.9 it reports
        # success when the engine fails at the sink (a violated CONSTRAINT writes nothing; a
        # failing materialized view keeps the base rows and loses the view's) — silent data
        # loss where clickhouse-server answers an error. One query with the data inline
        # raises like the server does, at ~2-3x the adapter's parse cost.
        if is_binary_format(fmt):
            return self._insert_from_file(database, settings, prefix, fmt, data)

        def fn(sess):
            res = sess.query(prefix.encode("utf-8") + b" FORMAT " + fmt.encode("ascii") + b"\n" + data, "TSV")
            return InsertResult(res.rows_written(), res.bytes_written())
        return self.run(database, settings, fn)

    def _insert_from_file(self, database, settings, prefix, fmt, data: bytes):
        # Binary data inline in the query text is misread by chdb-core 26.9 (a 16 MB RowBinary
        # body fails with CANNOT_READ_ALL_DATA rows before its end, while every byte is there).
        # The same INSERT reading the body from a file gets every byte, and fails (constraint,
        # materialized view, bad data) exactly as the inline query does.
        fd, path = tempfile.mkstemp(prefix="insert-", suffix=".bin", dir=self.tmp_dir)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)

            def fn(sess):
                res = sess.query(f"{prefix} FROM INFILE {sql_quote(path)} FORMAT {fmt}", "TSV")
                return InsertResult(res.rows_written(), res.bytes_written())
            return self.run(database, settings, fn)
        finally:
            os.unlink(path)


class InsertResult:
    __slots__ = ("rows_written", "bytes_written")

    def __init__(self, rows_written: int, bytes_written: int):
        self.rows_written = rows_written
        self.bytes_written = bytes_written


def parse_multipart(body: bytes, content_type: str) -> dict[str, str]:
    m = re.search(r'boundary="?([^";]+)"?', content_type)
    if not m:
        raise QueryError(1001, "Code: 1001. DB::Exception: multipart/form-data without boundary. (STD_EXCEPTION)", 400)
    delim = b"--" + m.group(1).encode()
    out: dict[str, str] = {}
    for part in body.split(delim)[1:]:
        if part.startswith(b"--"):
            break
        head, _, value = part.partition(b"\r\n\r\n")
        nm = re.search(rb'name="([^"]*)"', head)
        if not nm:
            continue
        if value.endswith(b"\r\n"):
            value = value[:-2]
        out[nm.group(1).decode()] = value.decode("utf-8")
    return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "chdb-clickhouse-adapter"
    timeout = 120
    # as clickhouse-server: TCP_NODELAY. Headers and body go out in two writes; with Nagle on, the body
    # waited for the client's delayed ACK of the headers on a kept-alive connection: every answer
    # took 40 ms more (SELECT 1 through @clickhouse/client: 48 ms instead of a few).
    disable_nagle_algorithm = True
    engine: Engine  # set on the class before serving
    read_secs = 0.0

    def log_message(self, format, *args):  # noqa: A002 - quiet access log
        pass

    # ---- responses ----
    def _send(self, status: int, body: bytes, headers: dict[str, str], compress: bool = False) -> None:
        if compress and body:
            body = gzip.compress(body, compresslevel=3)
            headers["Content-Encoding"] = "gzip"
        self.send_response(status)
        headers.setdefault("Content-Type", "text/plain; charset=UTF-8")
        headers["Content-Length"] = str(len(body))
        headers["Keep-Alive"] = "timeout=30"
        headers["X-ClickHouse-Server-Display-Name"] = "chdb-adapter"
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_error(self, err: QueryError, query_id: str) -> None:
        status = err.status or http_status_for(err.code)
        self._send(status, (err.text + "\n").encode("utf-8"), {
            "X-ClickHouse-Exception-Code": str(err.code),
            "X-ClickHouse-Query-Id": query_id,
            "X-ClickHouse-Timezone": self.engine.timezone,
        })

    def _read_body(self) -> bytes:
        te = self.headers.get("Transfer-Encoding", "").lower()
        if "chunked" in te:
            body = self._read_chunked()
        else:
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n > 0 else b""
        enc = (self.headers.get("Content-Encoding") or "").strip().lower()
        if enc in ("", "identity"):
            return body
        try:
            if enc in ("gzip", "x-gzip"):
                return gzip.decompress(body)
            if enc == "deflate":
                return zlib.decompress(body)
        except Exception as exc:  # noqa: BLE001
            raise QueryError(354, f"Code: 354. DB::Exception: inflate failed: {exc}. (ZLIB_INFLATE_FAILED) (version {ENGINE_VERSION})", 400) from None
        raise QueryError(1001, f"Code: 1001. DB::Exception: Unknown Content-Encoding: {enc}. (STD_EXCEPTION) (version {ENGINE_VERSION})", 400)

    def _read_chunked(self) -> bytes:
        """Transfer-Encoding: chunked, parsed from large reads (the client may send one chunk per row)."""
        buf = bytearray()
        pos = 0
        out: list[bytes] = []

        def more() -> None:
            data = self.rfile.read1(1 << 20)
            if not data:
                raise ConnectionResetError("client closed the connection mid-body")
            buf.extend(data)

        while True:
            if pos > (1 << 20):  # drop consumed bytes; only here, where no offsets are held
                del buf[:pos]
                pos = 0
            idx = buf.find(b"\r\n", pos)
            while idx < 0:
                more()
                idx = buf.find(b"\r\n", pos)
            size = int(bytes(buf[pos:idx]).split(b";")[0].strip() or b"0", 16)
            start = idx + 2
            if size == 0:
                # trailers (usually none) end with an empty line
                while True:
                    end = buf.find(b"\r\n", start)
                    while end < 0:
                        more()
                        end = buf.find(b"\r\n", start)
                    if end == start:
                        return b"".join(out)
                    start = end + 2
            while len(buf) < start + size + 2:
                more()
            out.append(bytes(buf[start:start + size]))
            pos = start + size + 2

    # ---- verbs ----
    def do_GET(self):
        self._handle(read_body=False)

    def do_POST(self):
        self._handle(read_body=True)

    def do_HEAD(self):
        self._handle(read_body=False)

    def _handle(self, read_body: bool) -> None:
        url = urlsplit(self.path)
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        query_id = params.get("query_id") or str(uuid.uuid4())
        try:
            t0 = time.perf_counter()
            body = self._read_body() if read_body else b""
            self.read_secs = time.perf_counter() - t0
            path = url.path.rstrip("/") or "/"
            if path in ("/ping", "/replicas_status") or (path == "/" and "query" not in params and not body):
                self._send(200, b"Ok.\n", {})
                return
            if path != "/":
                self._send(404, f"There is no handle {url.path}\n\nUse / or /ping for health checks.\n".encode(), {})
                return
            ctype = self.headers.get("Content-Type") or ""
            if ctype.startswith("multipart/form-data"):
                parts = parse_multipart(body, ctype)
                body = b""
                for k, v in parts.items():
                    if k == "query" or k.startswith("param_"):
                        params[k] = v
            self._execute(params, body, query_id)
        except QueryError as err:
            self._send_error(err, query_id)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as exc:  # noqa: BLE001
            log.exception("request failed")
            self._send_error(to_query_error(exc), query_id)

    def _execute(self, params: dict[str, str], body: bytes, query_id: str) -> None:
        database = params.get("database") or self.headers.get("X-ClickHouse-Database") or "default"
        qparams = {k[6:]: v for k, v in params.items() if k.startswith("param_")}
        settings = {k: v for k, v in params.items()
                    if k not in HTTP_ONLY_PARAMS and not k.startswith("param_") and not k.startswith("http_")}
        compress = params.get("enable_http_compression") in ("1", "true") and \
            "gzip" in (self.headers.get("Accept-Encoding") or "").lower()
        url_query = params.get("query", "")
        started = time.perf_counter_ns()

        # INSERT ... FORMAT fmt: the data follows the query (URL param + body, or body alone).
        head = url_query if url_query else body[:65536].decode("utf-8", "replace")
        m = INSERT_FORMAT_RE.match(head)
        if m:
            prefix, fmt = m.group(1), m.group(2)
            if url_query:
                tail = url_query[m.end():].encode("utf-8")
                data = tail + b"\n" + body if tail.strip() else body
            else:
                data = body[len(head[:m.end()].encode("utf-8")):]
            t0 = time.perf_counter()
            res = self.engine.insert(database, settings, prefix, fmt, data)
            written_rows = res.rows_written
            engine_secs = time.perf_counter() - t0
            if engine_secs + self.read_secs > SLOW_SECS:
                log.info("slow insert %s: %d rows, %d bytes, body read %.3fs, engine %.3fs",
                         prefix[:80], written_rows, len(data), self.read_secs, engine_secs)
            summary = {
                "read_rows": "0", "read_bytes": "0",
                "written_rows": str(written_rows), "written_bytes": str(res.bytes_written),
                "total_rows_to_read": "0", "result_rows": str(written_rows),
                "result_bytes": str(res.bytes_written),
                "elapsed_ns": str(time.perf_counter_ns() - started),
            }
            self._send(200, b"", {
                "X-ClickHouse-Summary": json.dumps(summary, separators=(",", ":")),
                "X-ClickHouse-Query-Id": query_id,
                "X-ClickHouse-Format": fmt,
                "X-ClickHouse-Timezone": self.engine.timezone,
                "Content-Type": "text/plain; charset=UTF-8",
            })
            return

        sql = (url_query + "\n" + body.decode("utf-8")) if (url_query and body) else (url_query or body.decode("utf-8"))
        if not sql.strip():
            raise QueryError(62, f"Code: 62. DB::Exception: Empty query. (SYNTAX_ERROR) (version {ENGINE_VERSION})", 400)
        fm = FORMAT_TAIL_RE.search(sql)
        fmt = fm.group(1) if fm else (params.get("default_format") or self.headers.get("X-ClickHouse-Format")
                                       or "TabSeparated")
        out, read_rows, read_bytes, written_rows, written_bytes = self.engine.query(
            database, settings, sql, fmt, qparams)
        result_rows = out.count(b"\n") if LINE_FORMATS_RE.match(fmt) else 0
        summary = {
            "read_rows": str(read_rows), "read_bytes": str(read_bytes),
            "written_rows": str(written_rows), "written_bytes": str(written_bytes),
            "total_rows_to_read": str(read_rows), "result_rows": str(result_rows),
            "result_bytes": str(len(out)), "elapsed_ns": str(time.perf_counter_ns() - started),
        }
        self._send(200, out, {
            "X-ClickHouse-Summary": json.dumps(summary, separators=(",", ":")),
            "X-ClickHouse-Query-Id": query_id,
            "X-ClickHouse-Format": fmt,
            "X-ClickHouse-Timezone": self.engine.timezone,
            "Content-Type": content_type_for(fmt),
        }, compress)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default=os.environ.get("CLICKHOUSE_HOST", "127.0.0.1"))
    ap.add_argument("--port", type=int, default=int(os.environ.get("CLICKHOUSE_PORT", "8123")))
    ap.add_argument("--data", required=True, help="chDB data folder (persists across restarts)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    server = Server((args.host, args.port), Handler)  # bind first: a busy port fails fast
    engine = Engine(args.data)
    Handler.engine = engine

    def stop(signum, _frame):
        log.info("signal %s: shutting down", signum)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("chDB %s (engine %s) serving ClickHouse HTTP on http://%s:%d, data %s",
             chdb.__version__, ENGINE_VERSION, args.host, args.port, args.data)
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        server.server_close()
        engine.close()
        log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
