#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
"""API tokens and the listing APIs: `sigil token create|list|revoke`, the token API
(/api/tokens/), the upload listing API (/api/uploads/...) with its access rules and filters,
and /api/syminfo/."""
import re
import unittest

import sigiltest
from sigiltest import Sigil
from uploadtest import api, make_zip, new_id, sym_text, token, upload


class TokenCliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = Sigil()
        cls.s.start()

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    def test_create_list_revoke(self):
        s = self.s
        out = s.run("token", "create", "--user", "cli@example.com", "--permission",
                    "upload_symbols", "--permission", "tokens.manage_tokens", "--notes",
                    "build bot", "--expires-days", "30")
        key = out.stdout.strip()
        self.assertRegex(key, r"^[0-9a-f]{32}$")
        self.assertIn("shown only once", out.stderr)
        # only the hash is stored
        self.assertEqual(s.db.psql("SELECT count(*) FROM tokens WHERE key_hash = "
                                   "sha256('%s'::bytea)" % key), "1")
        # the user was created and granted the permissions
        self.assertEqual(s.db.psql(
            "SELECT string_agg(p.codename, ',' ORDER BY p.id) FROM user_permissions up "
            "JOIN permissions p ON p.id = up.permission_id JOIN users u ON u.id = up.user_id "
            "WHERE u.email = 'cli@example.com'"), "upload.upload_symbols,tokens.manage_tokens")
        days = s.db.psql("SELECT round(extract(epoch FROM expires_at - now()) / 86400) FROM "
                         "tokens ORDER BY id DESC LIMIT 1")
        self.assertEqual(days, "30")
        listing = s.run("token", "list", "--user", "cli@example.com").stdout
        self.assertIn(key[:4], listing)
        self.assertNotIn(key, listing)
        self.assertIn("upload_symbols,manage_tokens", listing)
        self.assertIn("build bot", listing)
        m = int(s.db.psql("SELECT max(id) FROM tokens"))
        self.assertEqual(upload(s, key, make_zip({"a/1/a.sym": "x"})).status, 201)
        s.run("token", "revoke", str(m))
        r = upload(s, key, make_zip({"a/1/a.sym": "x"}))
        self.assertEqual(r.status, 403)
        self.assertEqual(r.json(), {"error": "API Token not matched"})
        self.assertNotIn(key[:4], s.run("token", "list").stdout)
        again = s.run("token", "revoke", str(m), check=False)
        self.assertEqual(again.returncode, 1)

    def test_usage_errors(self):
        s = self.s
        out = s.run("token", "create", "--user", "x@example.com", "--permission",
                    "upload_symbols,upload_try_symbols", check=False)
        self.assertEqual(out.returncode, 2)
        self.assertIn("Invalid combination of permissions", out.stderr)
        out = s.run("token", "create", "--user", "x@example.com", "--permission", "root",
                    check=False)
        self.assertEqual(out.returncode, 2)
        out = s.run("token", "create", "--permission", "upload_symbols", check=False)
        self.assertEqual(out.returncode, 2)
        out = s.run("token", "create", "--user", "x@example.com", "--permission",
                    "upload_symbols", "--expires-days", "0", check=False)
        self.assertEqual(out.returncode, 2)
        self.assertEqual(s.run("token", check=False).returncode, 2)
        self.assertEqual(s.run("token", "revoke", "abc", check=False).returncode, 2)
        self.assertEqual(s.db.psql("SELECT count(*) FROM tokens t JOIN users u ON "
                                   "u.id = t.user_id WHERE u.email = 'x@example.com'"), "0")


class TokenApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = Sigil()
        cls.s.start()
        cls.admin = token(cls.s, "admin@example.com", "upload_symbols", "manage_tokens",
                          "view_all_uploads")
        cls.plain = token(cls.s, "plain@example.com", "upload_try_symbols")

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    def test_list_and_permissions(self):
        r, body = api(self.s, self.admin, "GET", "/api/tokens/")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("vary"), "Auth-Token")
        self.assertEqual(sorted(body), ["permissions", "tokens", "totals"])
        self.assertEqual([p["id"] for p in body["permissions"]], [1, 3, 4])
        self.assertEqual(body["permissions"][0]["name"], "Upload Symbols Files")
        t = body["tokens"][0]
        self.assertEqual(sorted(t), sorted(["id", "expires_at", "is_expired", "key",
                                            "permissions", "notes", "created_at",
                                            "last_used_at"]))
        self.assertTrue(t["key"].startswith(self.admin[:4]))
        self.assertNotIn(self.admin, r.body.decode())
        self.assertRegex(t["expires_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$")
        self.assertEqual(body["totals"]["active"], 1)
        r, body = api(self.s, self.admin, "GET", "/api/tokens/?state=bogus")
        self.assertEqual(r.status, 400)
        self.assertEqual(body, {"error": "Unrecognized state value 'bogus'"})
        r, body = api(self.s, self.admin, "GET", "/api/tokens/?state=expired")
        self.assertEqual(body["tokens"], [])
        r, body = api(self.s, self.plain, "GET", "/api/tokens/")
        self.assertEqual((r.status, body), (403, {"error": "Forbidden"}))
        r, body = api(self.s, None, "GET", "/api/tokens/")
        self.assertEqual((r.status, body), (403, {
            "error": "This requires an Auth-Token to authenticate the request"}))
        r, body = api(self.s, "f" * 32 + "-label", "GET", "/api/tokens/")
        self.assertEqual((r.status, body), (403, {"error": "API Token not matched"}))
        self.assertEqual(r.header("vary"), "Auth-Token")

    def test_create_use_extend_delete(self):
        s = self.s
        r, body = api(s, self.admin, "POST", "/api/tokens/",
                      form={"permissions": "1", "expires": "7", "notes": "from the api"})
        self.assertEqual(r.status, 201, r)
        self.assertTrue(body["ok"])
        key, tid = body["key"], body["id"]
        self.assertRegex(key, r"^[0-9a-f]{32}$")
        m = new_id()
        ok = upload(s, key, make_zip({"x.pdb/%s/x.sym" % m: sym_text("x.pdb", m)}))
        self.assertEqual(ok.status, 201, ok)
        r, body = api(s, self.admin, "POST", "/api/tokens/token/%d/extend" % tid,
                      form={"days": "3"})
        self.assertEqual((r.status, body), (200, {"ok": True, "days": 3}))
        days = s.db.psql("SELECT round(extract(epoch FROM expires_at - now()) / 86400) FROM "
                         "tokens WHERE id = %d" % tid)
        self.assertEqual(days, "10")
        r, body = api(s, self.admin, "POST", "/api/tokens/token/%d/extend" % tid,
                      form={"days": "x"})
        self.assertEqual((r.status, body), (400, {"error": "Invalid number of days ('x')"}))
        # somebody else's token is not found
        r, body = api(s, self.plain, "DELETE", "/api/tokens/token/%d" % tid)
        self.assertEqual(r.status, 404)
        r, body = api(s, self.admin, "DELETE", "/api/tokens/token/%d" % tid)
        self.assertEqual((r.status, body), (200, {"ok": True}))
        self.assertEqual(upload(s, key, make_zip({"a/1/a.sym": "x"})).status, 403)
        r, body = api(s, self.admin, "DELETE", "/api/tokens/token/%d" % tid)
        self.assertEqual(r.status, 404)
        r = s.request("GET", "/api/tokens/token/%d" % tid, headers={"Auth-Token": self.admin})
        self.assertEqual(r.status, 405)

    def test_create_errors(self):
        s = self.s
        cases = [
            ({"permissions": "1"}, 400, {"errors": {"expires": ["This field is required."]}}),
            ({"permissions": "1", "expires": "x"}, 400,
             {"errors": {"expires": ["Invalid number of days ('x')"]}}),
            ({"permissions": "1,2", "expires": "1"}, 400,
             {"errors": {"permissions": ["Invalid combination of permissions"]}}),
            ({"permissions": "9", "expires": "1"}, 400,
             {"errors": {"permissions": ["Invalid permission id ('9')"]}}),
            ({"permissions": "2", "expires": "1"}, 403,
             {"error": "Upload Try Symbols Files not a valid permission"}),
        ]
        for form, status, want in cases:
            with self.subTest(form=form):
                r, body = api(s, self.admin, "POST", "/api/tokens/", form=form)
                self.assertEqual((r.status, body), (status, want))


class ListingApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = Sigil()
        cls.s.start()
        cls.auditor = token(cls.s, "auditor@example.com", "upload_symbols", "view_all_uploads")
        cls.alice = token(cls.s, "alice@example.com", "upload_symbols")
        cls.bob = token(cls.s, "bob@example.com", "upload_try_symbols")
        cls.mods = []
        for i in range(23):
            d = new_id()
            name = "lib%d.so" % i
            text = sym_text(name, d, code_id=new_id(40), os_name="Linux", funcs=i + 1)
            data = make_zip({"%s/%s/%s.sym" % (name, d, name): text})
            r = upload(cls.s, cls.alice, data, field="alice%d.zip" % i)
            assert r.status == 201, r
            cls.mods.append((name, d, text, r.json()["upload"]["id"]))
        d = new_id()
        r = upload(cls.s, cls.bob, make_zip({"bob.pdb/%s/bob.sym" % d: sym_text(
            "bob.pdb", d, code_id="5F00AA11000", code_file="bob.dll")}), field="bob.zip")
        assert r.status == 201, r
        cls.bob_upload = r.json()["upload"]["id"]
        cls.bob_id = d
        # the same zip again: a related upload
        cls.bob_again = upload(cls.s, cls.bob, make_zip({"bob.pdb/%s/bob.sym" % d: sym_text(
            "bob.pdb", d, code_id="5F00AA11000", code_file="bob.dll")}), field="bob.zip")

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    def get(self, key, path):
        return api(self.s, key, "GET", path)

    def test_uploads_own_and_all(self):
        r, body = self.get(self.alice, "/api/uploads/")
        self.assertEqual(r.status, 200, r)
        self.assertFalse(body["can_view_all"])
        self.assertEqual(body["batch_size"], 20)
        self.assertEqual(len(body["uploads"]), 20)
        self.assertTrue(body["has_next"])
        self.assertEqual(body["total"], 23)
        self.assertEqual(body["order_by"], {"sort": "created_at", "reverse": True})
        u = body["uploads"][0]
        self.assertEqual(u["filename"], "alice22.zip")
        self.assertEqual(u["user"], {"email": "alice@example.com"})
        self.assertEqual((u["files_count"], u["files_incomplete_count"]), (1, 0))
        self.assertEqual(u["skipped_keys"], [])
        self.assertEqual(u["redirect_urls"], [])
        r, body = self.get(self.alice, "/api/uploads/?page=2")
        self.assertEqual(len(body["uploads"]), 3)
        self.assertFalse(body["has_next"])
        # without view_all the user filter is ignored
        r, body = self.get(self.alice, "/api/uploads/?user=bob")
        self.assertTrue(all(u["user"]["email"] == "alice@example.com" for u in body["uploads"]))
        r, body = self.get(self.auditor, "/api/uploads/?user=bob")
        self.assertTrue(body["can_view_all"])
        self.assertEqual([u["filename"] for u in body["uploads"]], ["bob.zip", "bob.zip"])
        self.assertEqual(body["total"], 2)
        r, body = self.get(self.auditor, "/api/uploads/?user=!alice")
        self.assertEqual({u["user"]["email"] for u in body["uploads"]}, {"bob@example.com"})
        r, body = self.get(self.auditor, "/api/uploads/")
        self.assertEqual(body["total"], 1000000)

    def test_upload_filters(self):
        r, body = self.get(self.auditor, "/api/uploads/?upload_type=try")
        self.assertEqual(body["total"], 2)
        r, body = self.get(self.auditor, "/api/uploads/?created_at=today&completed_at=>=yesterday")
        self.assertEqual(body["total"], 25)
        r, body = self.get(self.auditor, "/api/uploads/?completed_at=incomplete")
        self.assertEqual(body["total"], 0)
        r, body = self.get(self.auditor, "/api/uploads/?created_at=<2000-01-01")
        self.assertEqual(body["total"], 0)
        sizes = sorted(int(x) for x in self.s.db.psql("SELECT size FROM uploads").split())
        r, body = self.get(self.auditor, "/api/uploads/?size=>%d" % sizes[-3])
        self.assertEqual(body["total"], len([x for x in sizes if x > sizes[-3]]))
        r, body = self.get(self.auditor, "/api/uploads/?size=<1k")
        self.assertEqual(body["total"], len([x for x in sizes if x < 1024]))
        r, body = self.get(self.auditor, "/api/uploads/?sort=size&reverse=false")
        got = [u["size"] for u in body["uploads"]]
        self.assertEqual(got, sorted(got))
        self.assertEqual(body["order_by"], {"sort": "size", "reverse": False})
        for q, field in [("size=huge", "size"), ("created_at=soon", "created_at"),
                         ("page=0", "page"), ("sort=name", "sort"),
                         ("upload_type=other", "upload_type")]:
            r, body = self.get(self.auditor, "/api/uploads/?" + q)
            self.assertEqual(r.status, 400, q)
            self.assertEqual(list(body["errors"]), [field])

    def test_upload_detail(self):
        name, d, text, uid = self.mods[0]
        r, body = self.get(self.alice, "/api/uploads/upload/%d" % uid)
        self.assertEqual(r.status, 200, r)
        up = body["upload"]
        self.assertEqual(up["user"]["email"], "alice@example.com")
        self.assertEqual([f["key"] for f in up["file_uploads"]], ["%s/%s/%s.sym" % (name, d,
                                                                                    name)])
        self.assertTrue(up["file_uploads"][0]["compressed"])
        r, body = self.get(self.bob, "/api/uploads/upload/%d" % uid)
        self.assertEqual((r.status, body), (403, {
            "error": "Insufficient access to view this upload"}))
        r, body = self.get(self.auditor, "/api/uploads/upload/%d" % uid)
        self.assertEqual(r.status, 200)
        r, body = self.get(self.bob, "/api/uploads/upload/%d" % self.bob_upload)
        self.assertEqual([u["id"] for u in body["upload"]["related"]],
                         [self.bob_again.json()["upload"]["id"]])
        self.assertEqual(self.get(self.alice, "/api/uploads/upload/999999")[0].status, 404)
        self.assertEqual(self.get(self.alice, "/api/uploads/upload/x")[0].status, 404)

    def test_files(self):
        r, body = self.get(self.alice, "/api/uploads/files/")
        self.assertEqual((r.status, body), (403, {"error": "Forbidden"}))
        r, body = self.get(self.auditor, "/api/uploads/files/")
        self.assertEqual(r.status, 200)
        self.assertEqual(body["batch_size"], 40)
        self.assertEqual(len(body["files"]), 24)  # the second bob.zip stored nothing
        f = body["files"][0]
        self.assertEqual(f["upload"]["upload_type"], "try")
        self.assertEqual(f["upload"]["user"]["email"], "bob@example.com")
        r, body = self.get(self.auditor, "/api/uploads/files/?key=LIB1,.sym")
        self.assertEqual(sorted(f["key"].split("/")[0] for f in body["files"]),
                         sorted("lib%d.so" % i for i in range(23) if "lib1" in "lib%d" % i))
        r, body = self.get(self.auditor, "/api/uploads/files/?debug_id=" + self.bob_id.lower())
        self.assertEqual([f["key"] for f in body["files"]],
                         ["bob.pdb/%s/bob.sym" % self.bob_id])
        r, body = self.get(self.auditor, "/api/uploads/files/?code_file=bob.dll&code_id=5f00aa11000")
        self.assertEqual(body["total"], 1)
        r, body = self.get(self.auditor, "/api/uploads/files/?upload_type=regular")
        self.assertEqual(body["total"], 23)
        bucket = body["files"][0]["bucket_name"]
        r, body = self.get(self.auditor, "/api/uploads/files/?bucket_name=!" + bucket)
        self.assertEqual(body["total"], 0)
        fid = [f for f in self.get(self.auditor, "/api/uploads/files/?upload_type=try")[1]
               ["files"]][0]["id"]
        r, body = self.get(self.bob, "/api/uploads/files/file/%d" % fid)
        self.assertEqual(r.status, 200)
        f = body["file"]
        self.assertEqual(f["url"], "/bob.pdb/%s/bob.sym?try" % self.bob_id)
        self.assertEqual((f["code_file"], f["code_id"]), ("bob.dll", "5F00AA11000"))
        self.assertEqual(f["generator"], "mozilla/dump_syms 2.3.7")
        r, body = self.get(self.alice, "/api/uploads/files/file/%d" % fid)
        self.assertEqual(r.status, 403)

    def test_syminfo(self):
        s = self.s
        r, body = self.get(None, "/api/syminfo/bob.dll/5f00aa11000")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("access-control-allow-origin"), "*")
        self.assertEqual(body["debug_filename"], "bob.pdb")
        self.assertEqual(body["debug_id"], self.bob_id)
        self.assertEqual(body["code_file"], "bob.dll")
        self.assertEqual(body["url"], "http://127.0.0.1:%d/try/bob.pdb/%s/bob.sym" %
                         (s.port, self.bob_id))
        name, d, text, uid = self.mods[3]
        r, body = self.get(None, "/api/syminfo/%s/%s" % (name, d))
        self.assertEqual(body["url"], "http://127.0.0.1:%d/%s/%s/%s.sym" % (s.port, name, d, name))
        self.assertEqual(body["code_file"], "")
        # a build id without a code file is not a code-info key (as in Tecken)
        code_id = re.search(r"INFO CODE_ID (\S+)", text).group(1)
        self.assertEqual(self.get(None, "/api/syminfo/%s/%s" % (name, code_id))[0].status, 404)
        r = s.get("/api/syminfo/nothing.pdb/ABCDEF")
        self.assertEqual(r.status, 404)
        self.assertEqual(r.body, b"Code file / id Not Found")


if __name__ == "__main__":
    sigiltest.main()
