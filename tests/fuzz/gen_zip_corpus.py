#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
# Writes the seed corpus of fuzz_zip (tests/fuzz/corpus/zip/): small zips generated here, covering
# the reader's paths (stored, deflate, bzip2, lzma, zip64, data descriptors, directories, CP437
# names, duplicates, symlinks, lying sizes) and bare .sym headers. Deterministic output.
import io
import os
import struct
import sys
import zipfile
import zlib

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "zip")
SYM = (b"MODULE Linux x86_64 0123456789ABCDEF0123456789ABCDEF0 libfoo.so\n"
       b"INFO CODE_ID 89674523AB01CDEF0123456789ABCDEF01234567\n"
       b"INFO GENERATOR mozilla/dump_syms 2.3.7\n"
       b"FILE 0 foo.c\nFUNC 1000 10 0 foo\n1000 10 1 0\n")
WIN = (b"MODULE windows x86 D57F52D4A2FD56244C4C44205044422E1 foo.pdb\r\n"
       b"INFO CODE_ID 6A4B9A365000 foo.exe\r\nINFO GENERATOR x\r\nPUBLIC 10 0 f\r\n")
DATE = (2024, 1, 1, 0, 0, 0)


def pyzip(entries, method=zipfile.ZIP_DEFLATED, force64=False):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in entries:
            info = zipfile.ZipInfo(name, DATE)
            info.compress_type = method
            info.external_attr = (0o40755 if name.endswith("/") else 0o100644) << 16
            if force64:
                with z.open(info, "w", force_zip64=True) as f:
                    f.write(data)
            else:
                z.writestr(info, data)
    return buf.getvalue()


def streamed(entries):
    class Sink(io.RawIOBase):
        def __init__(self):
            self.b = bytearray()

        def writable(self):
            return True

        def write(self, x):
            self.b += x
            return len(x)

    sink = Sink()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            z.writestr(zipfile.ZipInfo(name, DATE), data)
    return bytes(sink.b)


def raw(entries):
    """entries: (name bytes, data, flags, unix mode, declared size or None, deflate)"""
    local, central = b"", b""
    for name, data, flags, mode, declared, deflate in entries:
        crc = zlib.crc32(data)
        payload = data
        method = 0
        if deflate:
            c = zlib.compressobj(9, zlib.DEFLATED, -15)
            payload = c.compress(data) + c.flush()
            method = 8
        usize = len(data) if declared is None else declared
        off = len(local)
        local += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, method, 0, 0x21, crc,
                             len(payload), usize, len(name), 0) + name + payload
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x031E, 20, flags, method, 0,
                               0x21, crc, len(payload), usize, len(name), 0, 0, 0, 0,
                               mode << 16, off) + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central),
                      len(local), 0)
    return local + central + end


def main():
    os.makedirs(OUT, exist_ok=True)
    key = "libfoo.so/0123456789ABCDEF0123456789ABCDEF0/libfoo.so.sym"
    seeds = {
        "sample.zip": pyzip([("build-symbols.txt", b"please ignore"), ("flag/", b""),
                             ("flag/deadbeef/", b""), ("flag/deadbeef/flag.jpeg", bytes(range(256)) * 4),
                             ("xpcshell.dbg/A7D6F1BB18CD4CB48/xpcshell.sym", SYM)]),
        "stored.zip": pyzip([(key, SYM), ("foo.pdb/ABC/foo.sym", WIN)], zipfile.ZIP_STORED),
        "bzip2.zip": pyzip([(key, SYM)], zipfile.ZIP_BZIP2),
        "lzma.zip": pyzip([(key, SYM)], zipfile.ZIP_LZMA),
        "zip64.zip": pyzip([(key, SYM)], force64=True),
        "descriptor.zip": streamed([(key, SYM), (".DS_Store", b"ds")]),
        "empty.zip": pyzip([]),
        "dirs-only.zip": pyzip([("a/", b""), ("a/b/", b"")]),
        "ignored-only.zip": pyzip([("x-symbols.txt", b"x"), ("a/.DS_Store", b"d")]),
        "dup-same.zip": raw([(key.encode(), SYM, 0, 0o100644, None, False)] * 2),
        "dup-diff.zip": raw([(key.encode(), SYM, 0, 0o100644, None, True),
                             (key.encode(), SYM[:20], 0, 0o100644, None, False)]),
        "symlink.zip": raw([(b"a/B/link.sym", b"/etc/passwd", 0, 0o120777, None, False)]),
        "unsafe.zip": raw([(b"../a/B/c.sym", b"x", 0, 0o100644, None, False)]),
        "cp437.zip": raw([(b"x\x81l.pdb/ABC/x.sym", SYM, 0, 0o100644, None, False)]),
        "badutf8.zip": raw([(b"x\xffl.pdb/ABC/x.sym", SYM, 0x800, 0o100644, None, False)]),
        "cjk.zip": raw([("\u4e2d.pdb/abc/\u4e2d.sym".encode(), SYM, 0x800, 0o100644, None, True)]),
        "liar.zip": raw([(b"a/B/liar.sym", bytes(200000), 0, 0o100644, 100, True)]),
        "bomb.zip": raw([(b"a/B/bomb.sym", bytes(4 << 20), 0, 0o100644, None, True)]),
        "encrypted.zip": raw([(b"a/B/e.sym", b"secret", 1, 0o100644, None, False)]),
        "pattern.zip": raw([(b"xpcfoo.dbg/A7D6F1BB18CD4CB48/p%eter.sym", SYM, 0, 0o100644, None,
                             False)]),
        "not-a-zip.txt": b"Despite its name, this is not a zip file.\n",
        "header.sym": SYM,
        "header-win.sym": WIN,
    }
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
