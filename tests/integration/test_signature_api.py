#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
"""POST /signature against a real server: every corpus case gives Socorro's signature, bad
bodies get clear 4xx errors, debug logs on request."""
import json
import unittest

import sigiltest
from sigiltest import Sigil


class SignatureApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = Sigil().start()

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    def post(self, body, headers=None, query=""):
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        return self.s.request("POST", "/signature" + query, body=body,
                              headers=dict({"Content-Type": "application/json"}, **(headers or {})))

    def test_corpus_cases(self):
        path = sigiltest.corpus_path("signatures", "cases.jsonl")
        if path is None:
            self.skipTest("corpus not present")
        passed = failed = 0
        with open(path) as f:
            for line in f:
                case = json.loads(line)
                r = self.post(case["crash_data"])
                self.assertEqual(r.status, 200, r)
                got = r.json()
                ok = got["signature"] == case["expected_signature"]
                if case.get("expected_notes") is not None:
                    ok = ok and got["notes"] == case["expected_notes"]
                if "expected_proto_signature" in case:
                    ok = ok and got["proto_signature"] == case["expected_proto_signature"]
                passed += ok
                failed += not ok
                if not ok:
                    print("MISMATCH", case["name"], got, case["expected_signature"])
        print("%d passed, %d failed (signature corpus over HTTP)" % (passed, failed))
        self.assertEqual(failed, 0)

    def test_empty_crash_data(self):
        r = self.post({})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["signature"], "EMPTY: no frame data available")

    def test_debug_log(self):
        r = self.post({}, query="?debug")
        self.assertIn("debug_log", r.json())
        self.assertNotIn("debug_log", self.post({}).json())

    def test_bad_bodies(self):
        r = self.post("{not json")
        self.assertEqual(r.status, 400)
        self.assertIn("not valid JSON", r.json()["error"])
        r = self.post("[1, 2]")
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json()["error"], "crash_data must be a JSON object")
        r = self.post({"threads": "garbage", "crashing_thread": {"x": 1}})
        self.assertEqual(r.status, 200)
        r = self.s.request("GET", "/signature")
        self.assertEqual(r.status, 405)
        self.assertEqual(r.header("allow"), "POST")

    def test_too_large(self):
        s = Sigil(env={"SIGIL_SIGNATURE_MAX_BYTES": "2048"}).start()
        try:
            r = s.request("POST", "/signature", body=json.dumps({"x": "y" * 4096}))
            self.assertEqual(r.status, 413)
        finally:
            s.close()


if __name__ == "__main__":
    sigiltest.main()
