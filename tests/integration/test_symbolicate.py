#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
"""POST /symbolicate/v5 and /v4 against a real `sigil serve`: every Eliot case of the corpus
(request -> exact response), the historical v4 requests, symbols from local storage, from S3,
from an upstream symbol server (a scripted one, and a second sigil serve), sources that fail or
hang, single-flight under concurrent requests, the cache across a restart, negative caching,
every validation message and this server's limits."""
import glob
import gzip
import http.server
import json
import os
import re
import shutil
import socketserver
import tempfile
import threading
import time
import unittest

import sigiltest
from sigiltest import Sigil, corpus_path, write_sym

CASES_DIR = corpus_path("eliot", "cases")
ELIOT = corpus_path("eliot")

# Our own fixtures.
APP_ID = "0123456789ABCDEF0123456789ABCDEF0"
APP_SYM = (
    "MODULE Linux x86_64 %s app\n"
    "INFO CODE_ID 89ABCDEF0123456789ABCDEF01234567\n"
    "FILE 0 /src/app/main.c\n"
    "FILE 1 /src/app/util.h\n"
    "INLINE_ORIGIN 0 inline_helper\n"
    "FUNC 1000 40 0 main\n"
    "INLINE 0 12 0 0 1010 10\n"
    "1000 10 10 0\n"
    "1010 10 3 1\n"
    "1020 20 11 0\n"
    "FUNC 2000 8 0 other\n"
    "2000 8 20 0\n"
    "PUBLIC 3000 0 public_symbol\n") % APP_ID
WIN_ID = "FEDCBA9876543210FEDCBA98765432101"
WIN_SYM = (
    "MODULE windows x86_64 %s win.pdb\n"
    "INFO CODE_ID 5F3A1B2C9000 win.dll\n"
    "FUNC 100 10 0 WinMain\n"
    "PUBLIC 400 0 exported\n") % WIN_ID


def frames_json(mm, stacks, jobs=True):
    job = {"memoryMap": mm, "stacks": stacks}
    return json.dumps({"jobs": [job]} if jobs else job)


# ---- a scripted upstream symbol server ---------------------------------------------------------

class Upstream:
    """An HTTP symbol server on 127.0.0.1: routes[path] = dict(status, body, gzip, delay,
    redirect); anything else is 404. Counts requests per path."""

    def __init__(self, routes=None):
        self.routes = dict(routes or {})
        self.hits = {}
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                path = self.path.lstrip("/")
                with outer.lock:
                    outer.hits[path] = outer.hits.get(path, 0) + 1
                    spec = outer.routes.get(path, {"status": 404})
                if spec.get("delay"):
                    time.sleep(spec["delay"])
                status = spec.get("status", 200)
                body = spec.get("body", b"")
                headers = {}
                if spec.get("redirect"):
                    status = 302
                    headers["Location"] = spec["redirect"]
                    body = b""
                if spec.get("gzip"):
                    body = gzip.compress(body)
                    headers["Content-Encoding"] = "gzip"
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def count(self, path):
        with self.lock:
            return self.hits.get(path, 0)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def eliot_routes(symbol_server):
    routes = {}
    for path, spec in (symbol_server or {}).items():
        r = {"status": spec["status"]}
        if "file" in spec:
            with open(os.path.join(ELIOT, spec["file"]), "rb") as f:
                r["body"] = f.read()
        elif "body" in spec:
            r["body"] = spec["body"].encode()
        routes[path] = r
    return routes


# ---- comparing responses ------------------------------------------------------------------------

def func_size_at(sym_text, offset):
    """The size of the FUNC covering offset in a .sym text, or None."""
    for line in sym_text.splitlines():
        parts = line.split()
        if not parts or parts[0] != "FUNC":
            continue
        if parts[1] == "m":
            parts = parts[:1] + parts[2:]
        start, size = int(parts[1], 16), int(parts[2], 16)
        if start <= offset < start + size:
            return size
    return None


def strip_function_size(value):
    if isinstance(value, dict):
        return {k: strip_function_size(v) for k, v in value.items() if k != "function_size"}
    if isinstance(value, list):
        return [strip_function_size(v) for v in value]
    return value


class Base(unittest.TestCase):
    db = None

    @classmethod
    def setUpClass(cls):
        cls.db = sigiltest.Postgres()
        cls.migrated = False

    @classmethod
    def tearDownClass(cls):
        cls.db.drop()

    def server(self, env=None, backend="file", storage_dir=None, start=True):
        base = {"SIGIL_SYMBOL_RETRIES": "1", "SIGIL_LOG_LEVEL": "warn"}
        base.update(env or {})
        s = Sigil(backend=backend, env=base, db=self.db, storage_dir=storage_dir)
        self.addCleanup(s.close)
        if start:
            s.start(migrate=not type(self).migrated)
            type(self).migrated = True
        return s

    def upstream(self, routes=None):
        u = Upstream(routes)
        self.addCleanup(u.close)
        return u

    def post(self, s, path, body, headers=None):
        return s.request("POST", path, body=body if isinstance(body, (bytes, str)) else
                         json.dumps(body), headers=headers or {})

    def symbolicate(self, s, body, version="v5", headers=None):
        r = self.post(s, "/symbolicate/" + version, body, headers)
        self.assertEqual(r.status, 200, r.body[:500])
        self.assertTrue(r.header("content-type").startswith("application/json"))
        return r.json()


# ---- the Eliot corpus ----------------------------------------------------------------------------

class EliotCorpusTest(Base):
    def cases(self, level):
        if CASES_DIR is None:
            raise unittest.SkipTest("the public corpus is absent (SIGIL_CORPUS_DIR)")
        out = []
        for path in sorted(glob.glob(os.path.join(CASES_DIR, "*.json"))):
            with open(path) as f:
                case = json.load(f)
            if case["level"] == level:
                out.append(case)
        return out

    def check_function_sizes(self, case, got):
        """Every frame with a function from a FUNC carries that FUNC's size in hex; frames
        answered by a PUBLIC have none."""
        routes = case.get("symbol_server") or {}
        texts = {}
        for path, spec in routes.items():
            if "file" in spec:
                fn, did = path.split("/")[:2]
                with open(os.path.join(ELIOT, spec["file"])) as f:
                    texts[(fn, did)] = f.read()
        req = case["request"]["json"]
        jobs = req["jobs"] if "jobs" in req else [req]
        checked = 0
        for job, result in zip(jobs, got["results"]):
            for stack_in, stack_out in zip(job["stacks"], result["stacks"]):
                for (index, offset), frame in zip(stack_in, stack_out):
                    text = texts.get(tuple(job["memoryMap"][index])) if index >= 0 else None
                    if text is None or "function" not in frame:
                        self.assertNotIn("function_size", frame)
                        continue
                    size = func_size_at(text, offset)
                    if size is None:
                        self.assertNotIn("function_size", frame)
                    else:
                        self.assertEqual(frame.get("function_size"), hex(size), case["name"])
                        checked += 1
        return checked

    def run_http_case(self, case):
        routes = eliot_routes(case.get("symbol_server"))
        up = self.upstream(routes)
        s = self.server({"SIGIL_SYMBOL_URLS": up.url})
        req = case["request"]
        path = req["path"] + ("?" + req["query"] if req.get("query") else "")
        body = json.dumps(req["json"]) if "json" in req else req.get("body")
        r = s.request(req["method"], path, headers=req.get("headers") or {},
                      body=body.encode() if body is not None else None)
        want = case["expected_response"]
        self.assertEqual(r.status, want["status"], (case["name"], r.body[:300]))
        if "content_type_prefix" in want:
            self.assertTrue((r.header("content-type") or "").startswith(
                want["content_type_prefix"]), (case["name"], r.headers))
        for name, value in (want.get("headers") or {}).items():
            self.assertEqual(r.header(name), value, (case["name"], name))
        if "body_exact" in want:
            self.assertEqual(r.body.decode(), want["body_exact"], case["name"])
        if "json" in want:
            got = r.json()
            compared = strip_function_size(got)
            if "expected_debug_subset" in case:
                compared.pop("debug")  # asserted below, as a subset
            self.assertEqual(compared, want["json"], case["name"])
            if r.status == 200 and "results" in got:
                self.check_function_sizes(case, got)
        if "expected_debug_subset" in case:
            self.check_debug(case["expected_debug_subset"], r.json()["debug"], case["name"])
        return s

    def check_debug(self, want, got, name):
        for key, value in want.items():
            self.assertIn(key, got, name)
            if value == "ANY":
                self.assertIsInstance(got[key], (int, float), name)
            elif isinstance(value, dict):
                self.check_debug(value, got[key], name)
            else:
                self.assertEqual(got[key], value, (name, key))

    def test_http_cases(self):
        cases = self.cases("http")
        self.assertGreaterEqual(len(cases), 40)
        for case in cases:
            with self.subTest(case=case["name"]):
                self.run_http_case(case)

    def test_function_size_is_checked_somewhere(self):
        case = [c for c in self.cases("http") if c["name"] == "v5-inlines"][0]
        up = self.upstream(eliot_routes(case["symbol_server"]))
        s = self.server({"SIGIL_SYMBOL_URLS": up.url})
        got = self.symbolicate(s, case["request"]["json"])
        self.assertEqual(self.check_function_sizes(case, got), 1)

    def test_symcache_cases(self):
        """get_symcache: a miss downloads and parses (one lookup, no hit); a module already in
        the cache is served without a download (one lookup, one hit)."""
        cases = {c["name"]: c for c in self.cases("library")}
        miss, hit = cases["symcache-download-on-miss"], cases["symcache-from-cache"]
        up = self.upstream(eliot_routes(miss["symbol_server"]))
        s = self.server({"SIGIL_SYMBOL_URLS": up.url})
        req = miss["request"]
        body = frames_json([[req["debug_filename"], req["debug_id"]]], [[[0, 0x5380]]])
        got = self.symbolicate(s, body, headers={"Debug": "true"})
        want = miss["expected_response"]["cache_lookups"]
        self.assertEqual({k: got["debug"]["cache_lookups"][k] for k in want}, want)
        self.assertEqual(got["debug"]["downloads"]["count"], 1)
        # Now the symbol server has nothing (as in the second case): the cache answers.
        up.routes = eliot_routes(hit["symbol_server"])
        got = self.symbolicate(s, body, headers={"Debug": "1"})
        want = hit["expected_response"]["cache_lookups"]
        self.assertEqual({k: got["debug"]["cache_lookups"][k] for k in want}, want)
        self.assertEqual(got["debug"]["downloads"]["count"], 0)
        self.assertEqual(got["results"][0]["stacks"][0][0]["function"], "testproj::main")

    def test_download_cases(self):
        """download_sym_file: 200 gives the file (here: a body that is not a .sym, so found
        false but fetched once), 404 and 500 give nothing (500 after the retries); a .pdb
        debug file is fetched as <name>.sym."""
        for case in self.cases("library"):
            if case["request"]["operation"] != "download_sym_file":
                continue
            with self.subTest(case=case["name"]):
                routes = eliot_routes(case["symbol_server"])
                up = self.upstream(routes)
                s = self.server({"SIGIL_SYMBOL_URLS": up.url})
                # A valid debug id under the same names, so that the module is fetched.
                fn = case["request"]["debug_filename"]
                did = "ABCDE" + "0" * 28
                path, spec = list(routes.items())[0]
                up.routes = {path.replace("ABCDE", did): spec}
                got = self.symbolicate(s, frames_json([[fn, did]], [[[0, 1]]]))
                self.assertEqual(got["results"][0]["found_modules"], {fn + "/" + did: False})
                tries = up.count(path.replace("ABCDE", did))
                self.assertEqual(tries, 2 if spec["status"] == 500 else 1, case["name"])


# ---- the historical v4 requests ------------------------------------------------------------------

class TeckenRequestsTest(Base):
    def test_historical_requests(self):
        stacks_dir = corpus_path("tecken", "systemtests", "data", "stacks")
        if stacks_dir is None:
            raise unittest.SkipTest("the public corpus is absent (SIGIL_CORPUS_DIR)")
        up = self.upstream()
        s = self.server({"SIGIL_SYMBOL_URLS": up.url})
        files = sorted(glob.glob(os.path.join(stacks_dir, "*.json")))
        self.assertEqual(len(files), 5)
        for path in files:
            with open(path, "rb") as f:
                raw = f.read()
            req = json.loads(raw)
            mm = req["memoryMap"]
            v4 = self.symbolicate(s, raw, "v4")
            self.assertEqual(set(v4), {"symbolicatedStacks", "knownModules"})
            self.assertEqual(len(v4["knownModules"]), len(mm))
            # Eliot looks up each (debug_filename, debug_id) a frame uses once, and reports it
            # under its "<file>/<id>" key for every memoryMap entry with that key.
            looked = {tuple(mm[i]) for st in req["stacks"] for i, _ in st
                      if i >= 0 and mm[i][0] and mm[i][1]}
            for i, pair in enumerate(mm):
                want = False if tuple(pair) in looked else None
                self.assertEqual(v4["knownModules"][i], want, (path, i, pair))
            self.assertEqual(len(v4["symbolicatedStacks"]), len(req["stacks"]))
            for st_in, st_out in zip(req["stacks"], v4["symbolicatedStacks"]):
                self.assertEqual(len(st_in), len(st_out))
                for (i, off), text in zip(st_in, st_out):
                    name = mm[i][0] if i >= 0 and mm[i][0] else "<unknown>"
                    self.assertEqual(text, "%s (in %s)" % (hex(off), name))
            # The same payload on v5 is one job.
            v5 = self.symbolicate(s, raw, "v5")
            self.assertEqual(len(v5["results"]), 1)
            res = v5["results"][0]
            for st_in, st_out in zip(req["stacks"], res["stacks"]):
                for f, ((i, off), frame) in enumerate(zip(st_in, st_out)):
                    self.assertEqual(frame["frame"], f)
                    self.assertEqual(frame["module_offset"], hex(off))
                    self.assertNotIn("function", frame)
            for key, value in res["found_modules"].items():
                self.assertIn(value, (False, None), key)


# ---- sources -------------------------------------------------------------------------------------

class SourcesTest(Base):
    def store_dir(self):
        d = tempfile.mkdtemp(prefix="sigil-symstore-")
        self.addCleanup(shutil.rmtree, d, True)
        write_sym(d, "app", APP_ID, "app.sym", APP_SYM)
        write_sym(d, "win.pdb", WIN_ID, "win.sym", WIN_SYM)
        return d

    def check_app_and_win(self, got):
        res = got["results"][0]
        self.assertEqual(res["found_modules"], {"app/" + APP_ID: True, "win.pdb/" + WIN_ID: True,
                                                "gone.so/" + "1" * 33: False})
        main, inl, other, public, win, win_pub, gone, nomod = res["stacks"][0]
        self.assertEqual(main, {"frame": 0, "module": "app", "module_offset": "0x1004",
                                "function": "main", "function_offset": "0x4",
                                "function_size": "0x40", "file": "/src/app/main.c",
                                "line": 10})
        self.assertEqual(inl["function"], "main")
        self.assertEqual(inl["line"], 12)
        self.assertEqual(inl["file"], "/src/app/main.c")
        self.assertEqual(inl["inlines"], [{"function": "inline_helper", "file": "/src/app/util.h",
                                           "line": 3}])
        self.assertEqual(other["function_offset"], "0x7")
        self.assertEqual(public, {"frame": 3, "module": "app", "module_offset": "0x3010",
                                  "function": "public_symbol", "function_offset": "0x10"})
        self.assertEqual(win["module"], "win.dll")
        self.assertEqual(win["function"], "WinMain")
        self.assertNotIn("file", win)
        self.assertEqual(win_pub["module"], "win.dll")
        self.assertEqual(gone, {"frame": 6, "module": "gone.so", "module_offset": "0x10"})
        self.assertEqual(nomod, {"frame": 7, "module": "<unknown>", "module_offset": "-0x1"})

    BODY = frames_json([["app", APP_ID], ["win.pdb", WIN_ID], ["gone.so", "1" * 33]],
                       [[[0, 0x1004], [0, 0x1012], [0, 0x2007], [0, 0x3010], [1, 0x105],
                         [1, -1], [2, 16], [-1, -1]]])

    def test_local_storage_regular_and_try(self):
        s = self.server()
        s.run("import", self.store_dir())
        got = self.symbolicate(s, self.BODY)
        self.check_app_and_win(got)
        self.assertEqual(s.metric("sigil_symbolicate_fetches_total", 'result="found"'), 2)
        # Try storage is the second place looked at.
        d = tempfile.mkdtemp(prefix="sigil-trystore-")
        self.addCleanup(shutil.rmtree, d, True)
        tid = "ABABABABABABABABABABABABABABABAB0"
        write_sym(d, "tryonly", tid, "tryonly.sym",
                  "MODULE Linux x86_64 %s tryonly\nFUNC 10 10 0 try_function\n" % tid)
        s.run("import", "--try", d)
        got = self.symbolicate(s, frames_json([["tryonly", tid]], [[[0, 0x12]]]))
        self.assertEqual(got["results"][0]["stacks"][0][0]["function"], "try_function")

    def test_s3_storage(self):
        if sigiltest.s3_settings() is None:
            raise unittest.SkipTest("no s3rver fixture (SIGIL_TEST_S3_ENDPOINT)")
        import uuid
        s3 = sigiltest.s3_settings()
        bucket, _, query = s3["SIGIL_STORAGE_URL"][len("s3://"):].partition("?")
        env = {"SIGIL_STORAGE_URL": "s3://%s/sym%s?%s" % (bucket, uuid.uuid4().hex[:10], query)}
        s = self.server(env, backend="s3")
        s.run("import", self.store_dir())
        self.check_app_and_win(self.symbolicate(s, self.BODY))

    def test_upstream_sigil_serve(self):
        """A second sigil serve as the upstream: its download answers 302 to its /objects/
        route, which serves the gzip object with Content-Encoding gzip."""
        upstream = self.server()
        upstream.run("import", self.store_dir())
        s = self.server({"SIGIL_SYMBOL_URLS": "http://127.0.0.1:%d" % upstream.port})
        self.check_app_and_win(self.symbolicate(s, self.BODY))
        self.assertEqual(s.metric("sigil_symbolicate_fetches_total", 'result="found"'), 2)

    def test_upstreams_in_order_with_redirect_and_gzip(self):
        first = self.upstream({"app/%s/app.sym" % APP_ID: {"status": 404}})
        second = self.upstream({
            "app/%s/app.sym" % APP_ID: {"redirect": "/bucket/app.sym.gz"},
            "bucket/app.sym.gz": {"status": 200, "body": APP_SYM.encode(), "gzip": True},
            "win.pdb/%s/win.sym" % WIN_ID: {"status": 200,
                                            "body": gzip.compress(WIN_SYM.encode())},
        })
        s = self.server({"SIGIL_SYMBOL_URLS": "%s,%s" % (first.url, second.url)})
        self.check_app_and_win(self.symbolicate(s, self.BODY))
        self.assertEqual(first.count("app/%s/app.sym" % APP_ID), 1)
        self.assertEqual(second.count("bucket/app.sym.gz"), 1)

    def test_failing_source_gives_false_not_500(self):
        up = self.upstream({"app/%s/app.sym" % APP_ID: {"status": 500},
                            "win.pdb/%s/win.sym" % WIN_ID: {"status": 503}})
        s = self.server({"SIGIL_SYMBOL_URLS": up.url, "SIGIL_SYMBOL_RETRIES": "2",
                         "SIGIL_SYMBOLICATE_ERROR_TTL_S": "0"})
        got = self.symbolicate(s, self.BODY)
        self.assertEqual(set(got["results"][0]["found_modules"].values()), {False})
        self.assertEqual(up.count("app/%s/app.sym" % APP_ID), 3)
        self.assertEqual(s.metric("sigil_symbolicate_fetches_total", 'result="unavailable"'), 2)
        # Not remembered (error TTL 0): the next request asks again, and the source is back.
        up.routes["app/%s/app.sym" % APP_ID] = {"status": 200, "body": APP_SYM.encode()}
        got = self.symbolicate(s, self.BODY)
        self.assertTrue(got["results"][0]["found_modules"]["app/" + APP_ID])

    def test_hanging_source_is_bounded(self):
        up = self.upstream({"app/%s/app.sym" % APP_ID: {"status": 200, "delay": 30,
                                                        "body": APP_SYM.encode()}})
        s = self.server({"SIGIL_SYMBOL_URLS": up.url, "SIGIL_SYMBOL_TIMEOUT_MS": "800"})
        t0 = time.time()
        got = self.symbolicate(s, frames_json([["app", APP_ID]], [[[0, 0x1004]]]))
        self.assertLess(time.time() - t0, 10)
        self.assertEqual(got["results"][0]["found_modules"], {"app/" + APP_ID: False})
        # Remembered briefly: the next request does not wait again.
        t0 = time.time()
        self.symbolicate(s, frames_json([["app", APP_ID]], [[[0, 0x1004]]]))
        self.assertLess(time.time() - t0, 0.5)

    def test_down_source(self):
        s = self.server({"SIGIL_SYMBOL_URLS": "http://127.0.0.1:%d/" % sigiltest.free_port(),
                         "SIGIL_SYMBOL_RETRIES": "0"})
        got = self.symbolicate(s, frames_json([["app", APP_ID]], [[[0, 0x1004]]]))
        self.assertEqual(got["results"][0]["found_modules"], {"app/" + APP_ID: False})

    def test_invalid_files_are_not_found(self):
        other = "9" * 33
        up = self.upstream({
            "app/%s/app.sym" % APP_ID: {"status": 200, "body": b"this is junk\n"},
            # The right file under another id: the MODULE id does not match.
            "app/%s/app.sym" % other: {"status": 200, "body": APP_SYM.encode()},
        })
        s = self.server({"SIGIL_SYMBOL_URLS": up.url})
        got = self.symbolicate(s, frames_json([["app", APP_ID], ["app", other], ["app", "ABCDE"]],
                                              [[[0, 0x1004], [1, 0x1004], [2, 0x1004]]]))
        self.assertEqual(got["results"][0]["found_modules"],
                         {"app/" + APP_ID: False, "app/" + other: False, "app/ABCDE": False})
        self.assertEqual(up.count("app/ABCDE/app.sym"), 0)  # not a debug id: never fetched
        self.assertEqual(s.metric("sigil_symbolicate_fetches_total", 'result="invalid"'), 3)


# ---- caching -------------------------------------------------------------------------------------

class CacheTest(Base):
    def test_concurrent_identical_requests_parse_once(self):
        up = self.upstream({"app/%s/app.sym" % APP_ID: {"status": 200, "delay": 0.5,
                                                        "body": APP_SYM.encode()}})
        s = self.server({"SIGIL_SYMBOL_URLS": up.url})
        body = frames_json([["app", APP_ID]], [[[0, 0x1004], [0, 0x2001]]])
        results, errors = [], []

        def one():
            try:
                results.append(self.symbolicate(s, body))
            except Exception as e:  # noqa: B902 - reported below
                errors.append(e)

        threads = [threading.Thread(target=one) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(len(results), 16)
        self.assertTrue(all(r == results[0] for r in results))
        self.assertEqual(results[0]["results"][0]["stacks"][0][1]["function"], "other")
        self.assertEqual(s.metric("sigil_symbolicate_parses_total"), 1)
        self.assertEqual(s.metric("sigil_symbolicate_flights_total"), 1)
        self.assertEqual(up.count("app/%s/app.sym" % APP_ID), 1)
        self.assertGreaterEqual(s.metric("sigil_symbolicate_flights_joined_total"), 1)

    def test_restart_keeps_the_cache(self):
        up = self.upstream({"app/%s/app.sym" % APP_ID: {"status": 200, "body": APP_SYM.encode()}})
        s = self.server({"SIGIL_SYMBOL_URLS": up.url})
        body = frames_json([["app", APP_ID]], [[[0, 0x1004]]])
        first = self.symbolicate(s, body)
        s.stop()
        up.routes = {}  # the upstream forgot it: only the cache can answer now
        s.start(migrate=False)
        self.assertEqual(self.symbolicate(s, body), first)
        self.assertEqual(s.metric("sigil_symbolicate_fetches_total", 'result="found"'), 0)
        self.assertEqual(s.metric("sigil_symbolicate_cache_total", 'result="hit"'), 1)
        self.assertEqual(up.count("app/%s/app.sym" % APP_ID), 1)

    def test_misses_are_remembered(self):
        up = self.upstream()
        s = self.server({"SIGIL_SYMBOL_URLS": up.url, "SIGIL_SYMBOLICATE_NEGATIVE_TTL_S": "2"})
        body = frames_json([["app", APP_ID]], [[[0, 0x1004]]])
        for _ in range(3):
            got = self.symbolicate(s, body)
            self.assertEqual(got["results"][0]["found_modules"], {"app/" + APP_ID: False})
        self.assertEqual(up.count("app/%s/app.sym" % APP_ID), 1)
        self.assertEqual(s.metric("sigil_symbolicate_cache_total", 'result="negative"'), 2)
        up.routes["app/%s/app.sym" % APP_ID] = {"status": 200, "body": APP_SYM.encode()}
        deadline = time.time() + 10
        while time.time() < deadline:
            got = self.symbolicate(s, body)
            if got["results"][0]["found_modules"]["app/" + APP_ID]:
                break
            time.sleep(0.2)
        self.assertTrue(got["results"][0]["found_modules"]["app/" + APP_ID])

    def test_eviction_under_a_small_bound(self):
        """With a 16 MB cache, modules larger than a fourth of it evict each other: the store
        stays under its bound, and every answer stays right."""
        funcs = "".join("FUNC %x 10 0 function_%d_%s\n" % (0x1000 + i * 16, i, "x" * 200)
                        for i in range(22000))
        up = self.upstream()
        ids = []
        for k in range(4):
            did = ("%X" % (k + 1)) * 32 + "0"
            ids.append(did)
            text = "MODULE Linux x86_64 %s big%d\n%s" % (did, k, funcs)
            up.routes["big%d/%s/big%d.sym" % (k, did, k)] = {"status": 200, "body": text.encode()}
        s = self.server({"SIGIL_SYMBOL_URLS": up.url, "SIGIL_CACHE_MAX_MB": "16"})
        for rnd in range(2):
            for k, did in enumerate(ids):
                got = self.symbolicate(s, frames_json([["big%d" % k, did]], [[[0, 0x1015]]]))
                frame = got["results"][0]["stacks"][0][0]
                self.assertEqual(frame["function"], "function_1_" + "x" * 200)
        self.assertGreaterEqual(s.metric("sigil_symbolicate_cache_evictions"), 1)
        self.assertLessEqual(s.metric("sigil_symbolicate_cache_bytes"), 16 << 20)
        self.assertGreater(s.metric("sigil_symbolicate_cache_bytes"), 8 << 20)


# ---- validation and limits -----------------------------------------------------------------------

class ValidationTest(Base):
    MESSAGES = [
        ("", "Payload is not valid JSON"),
        ("{", "Payload is not valid JSON"),
        ("{}", "job 0 is invalid: no stacks specified"),
        ('{"stacks": [[]]}', "job 0 is invalid: no memoryMap specified"),
        ('{"jobs": [5]}', "job 0 is invalid"),
        ('{"jobs": [%s]}' % ",".join(["{}"] * 11),
         "please limit number of jobs in a single request to <= 10"),
        ('{"jobs": [{"stacks": [[]], "memoryMap": []}, {"memoryMap": []}]}',
         "job 1 is invalid: no stacks specified"),
        ('{"stacks": [[]], "memoryMap": 1}', "job 0 has invalid modules: modules must be a list"),
        ('{"stacks": [[]], "memoryMap": [["a"]]}',
         "job 0 has invalid modules: module index 0 does not have a debug_filename and debug_id"),
        ('{"stacks": [[]], "memoryMap": [["(", "A"]]}',
         "job 0 has invalid modules: module index 0 has an invalid debug_filename"),
        ('{"stacks": [[]], "memoryMap": [["a", "xyz"]]}',
         "job 0 has invalid modules: module index 0 has an invalid debug_id"),
        ('{"stacks": "x", "memoryMap": []}',
         "job 0 has invalid stacks: stacks must be a list of lists"),
        ('{"stacks": [], "memoryMap": []}', "job 0 has invalid stacks: no stacks specified"),
        ('{"stacks": [1], "memoryMap": []}', "job 0 has invalid stacks: stack 0 is not a list"),
        ('{"stacks": [[[0]]], "memoryMap": []}',
         "job 0 has invalid stacks: stack 0 frame 0 is not a list of two items"),
        ('{"stacks": [[["a", 0]]], "memoryMap": []}',
         "job 0 has invalid stacks: stack 0 frame 0 has an invalid module_index"),
        ('{"stacks": [[[1, 0]]], "memoryMap": [["a", "B"]]}',
         "job 0 has invalid stacks: stack 0 frame 0 has a module_index that isn't in modules"),
        ('{"stacks": [[[0, -2]]], "memoryMap": [["a", "B"]]}',
         "job 0 has invalid stacks: stack 0 frame 0 has an invalid module_offset"),
    ]

    def test_every_message(self):
        s = self.server()
        for body, title in self.MESSAGES:
            for version in ("v5", "v4"):
                if version == "v4" and ("jobs" in body):
                    continue
                r = self.post(s, "/symbolicate/" + version, body)
                self.assertEqual(r.status, 400, (body, r.body))
                self.assertEqual(r.body.decode(), json.dumps({"title": title}), body)
                self.assertEqual(r.header("access-control-allow-origin"), "*")
        # v4 has no jobs limit and no jobs key: the payload is the job.
        r = self.post(s, "/symbolicate/v4", '{"jobs": []}')
        self.assertEqual(r.json(), {"title": "job 0 is invalid: no stacks specified"})

    def test_limits(self):
        s = self.server({"SIGIL_SYMBOLICATE_MAX_BYTES": "2048", "SIGIL_SYMBOLICATE_MAX_FRAMES": "4",
                         "SIGIL_SYMBOLICATE_MAX_MODULES": "2", "SIGIL_SYMBOLICATE_MAX_STACKS": "2"})
        r = self.post(s, "/symbolicate/v5", "[" * 3000)
        self.assertEqual(r.status, 413)
        self.assertIn("2048 bytes", r.json()["title"])
        for body, title in [
            (frames_json([["a", "B"]], [[[0, 1]] * 5]),
             "too many frames: this server accepts at most 4 per request"),
            (frames_json([["a", "B"]] * 3, [[]]),
             "job 0 has too many modules: 3 (this server accepts at most 2)"),
            (frames_json([], [[], [], []]),
             "job 0 has too many stacks: 3 (this server accepts at most 2)"),
        ]:
            r = self.post(s, "/symbolicate/v5", body)
            self.assertEqual((r.status, r.json()), (413, {"title": title}))
        # Garbage of every type never takes the server down.
        for body in ['{"jobs": [{"stacks": [[[0, 1e400]]], "memoryMap": [["a", "B"]]}]}',
                     '{"stacks": [[[null, null]]], "memoryMap": [[null, null]]}',
                     '"\\ud800"', "\x00\x01\x02", '{"jobs": {"a": {}}}', "[[[[[[[[[[]]]]]]]]]]"]:
            r = self.post(s, "/symbolicate/v5", body.encode("utf-8", "surrogatepass"))
            self.assertIn(r.status, (400, 413), body)
        self.assertEqual(s.get("/__lbheartbeat__").status, 200)

    def test_methods_and_cors(self):
        s = self.server()
        r = s.request("GET", "/symbolicate/v5")
        self.assertEqual(r.status, 405)
        self.assertEqual(r.header("allow"), "POST, OPTIONS")
        r = s.request("OPTIONS", "/symbolicate/v4",
                      headers={"Origin": "https://profiler.firefox.com",
                               "Access-Control-Request-Method": "POST",
                               "Access-Control-Request-Headers": "content-type"})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("access-control-allow-origin"), "*")
        self.assertEqual(r.header("access-control-allow-methods"), "POST")
        self.assertEqual(r.header("access-control-allow-headers"), "content-type")

    def test_large_requests_off_the_loop(self):
        """Bodies over the loop's parse size and requests over SIGIL_SYMBOLICATE_LOOP_FRAMES
        take the blocking-thread path and give the same answers."""
        up = self.upstream({"app/%s/app.sym" % APP_ID: {"status": 200, "body": APP_SYM.encode()}})
        on_loop = self.server({"SIGIL_SYMBOL_URLS": up.url, "SIGIL_SYMBOLICATE_LOOP_FRAMES": "0"})
        off_loop = self.server({"SIGIL_SYMBOL_URLS": up.url,
                                "SIGIL_SYMBOLICATE_LOOP_FRAMES": "10"})
        frames = [[0, 0x1000 + (i % 0x50)] for i in range(30000)] + [[-1, 5], [0, -1]]
        big = frames_json([["app", APP_ID], ["", ""]], [frames, frames[:20]])
        self.assertGreater(len(big), 300 * 1024)
        small = frames_json([["app", APP_ID]], [frames[:50]])
        for body in (big, small):
            a, b = self.symbolicate(on_loop, body), self.symbolicate(off_loop, body)
            self.assertEqual(a, b)
            self.assertEqual(a["results"][0]["stacks"][0][0x12]["function"], "main")


if __name__ == "__main__":
    sigiltest.main()
