#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
"""POST /stackwalk and POST /process against a real server with corpus minidumps whose symbols
were imported into its storage: the same JSON as `sigil stackwalk`, the same signature as
`sigil signature` on the same crash_data, and clear errors for bad input."""
import json
import os
import subprocess
import unittest
import uuid

import sigiltest
from sigiltest import SIGIL, Sigil

TESTDATA = ("breakpad", "src", "processor", "testdata")


def multipart(fields):
    """fields: list of (name, filename or None, bytes). Returns (content_type, body)."""
    boundary = "----sigil" + uuid.uuid4().hex
    out = []
    for name, filename, data in fields:
        disp = 'form-data; name="%s"' % name
        if filename is not None:
            disp += '; filename="%s"' % filename
        out.append(("--%s\r\nContent-Disposition: %s\r\n" % (boundary, disp)).encode())
        if filename is not None:
            out.append(b"Content-Type: application/octet-stream\r\n")
        out.append(b"\r\n" + data + b"\r\n")
    out.append(("--%s--\r\n" % boundary).encode())
    return "multipart/form-data; boundary=" + boundary, b"".join(out)


class ProcessorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.symbols = sigiltest.corpus_path(*TESTDATA, "symbols")
        cls.dump_path = sigiltest.corpus_path(*TESTDATA, "minidump2.dmp")
        cls.s = Sigil(env={"SIGIL_MINIDUMP_MAX_BYTES": str(4 << 20)}).start()
        if cls.symbols:
            cls.s.run("import", cls.symbols)

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    def need_corpus(self):
        if not self.dump_path or not self.symbols:
            self.skipTest("corpus not present")

    def post(self, path, fields, query=""):
        ctype, body = multipart(fields)
        return self.s.request("POST", path + query, body=body, headers={"Content-Type": ctype})

    def dump(self):
        with open(self.dump_path, "rb") as f:
            return f.read()

    def test_stackwalk_matches_the_cli(self):
        self.need_corpus()
        r = self.post("/stackwalk", [("upload_file_minidump", "x.dmp", self.dump())])
        self.assertEqual(r.status, 200, r)
        got = r.json()
        cli = subprocess.run([SIGIL, "stackwalk", self.dump_path, "--json", "--symbols-path",
                              self.symbols], capture_output=True, check=True)
        self.assertEqual(got, json.loads(cli.stdout))
        frames = got["crashing_thread"]["frames"]
        self.assertTrue(any(f.get("function") for f in frames))
        self.assertEqual(got["status"], "OK")

    def test_process_gives_the_signature_of_its_crash_data(self):
        self.need_corpus()
        extra = json.dumps({"ProductName": "Firefox", "ReleaseChannel": "nightly"}).encode()
        r = self.post("/process", [("upload_file_minidump", "x.dmp", self.dump()),
                                   ("extra", None, extra), ("Version", None, b"120.0")])
        self.assertEqual(r.status, 200, r)
        out = r.json()
        for key in ("json_dump", "crash_data", "signature", "proto_signature", "signature_notes"):
            self.assertIn(key, out)
        self.assertFalse(out["signature"].startswith("EMPTY"), out["signature"])
        cli = subprocess.run([SIGIL, "signature", "-"], input=json.dumps(out["crash_data"]),
                             capture_output=True, text=True, check=True)
        self.assertEqual(json.loads(cli.stdout)["signature"], out["signature"])

    def test_errors(self):
        r = self.s.request("POST", "/stackwalk", body=b"not a form",
                           headers={"Content-Type": "application/octet-stream"})
        self.assertEqual(r.status, 400)
        r = self.post("/stackwalk", [("other", "x.dmp", b"MDMP")])
        self.assertEqual(r.status, 400)
        self.assertIn("upload_file_minidump", r.json()["error"])
        r = self.post("/stackwalk", [("upload_file_minidump", "x.dmp", b"garbage" * 100)])
        self.assertEqual(r.status, 400)
        r = self.post("/process", [("upload_file_minidump", "x.dmp", b"MDMP\x93\xa7" + b"\0" * 64)])
        self.assertEqual(r.status, 400)
        r = self.post("/stackwalk", [("upload_file_minidump", "x.dmp", b"\0" * (5 << 20))])
        self.assertEqual(r.status, 413)
        r = self.s.get("/stackwalk")
        self.assertEqual(r.status, 405)
        self.assertEqual(r.header("allow"), "POST")
        self.assertEqual(self.s.get("/__lbheartbeat__").status, 200)

    def test_bad_extra(self):
        self.need_corpus()
        r = self.post("/process", [("upload_file_minidump", "x.dmp", self.dump()),
                                   ("extra", None, b"[not json")])
        self.assertEqual(r.status, 400)


if __name__ == "__main__":
    sigiltest.main()
