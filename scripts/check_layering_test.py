#!/usr/bin/env python3
"""Tests of scripts/check_layering.py on small trees written for each case: allowed and
forbidden includes, generated proto headers counted as proto, .proto imports, a
directory without a row, a '*' row, table errors, ignored build trees."""
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "check_layering.py"

TABLE = """# comment
proto:
common:
model: common   # trailing comment
router: common model proto
cli: *
"""


class CheckLayeringTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = Path(self.tmp.name)
        self.write("scripts/layering.txt", TABLE)
        self.write(".gitignore", "build/\nbuild-*/\n")
        self.write("proto/shoal/v1/a.proto", 'syntax = "proto3";\n')
        self.write("proto/shoal/v1/b.proto", 'import "shoal/v1/a.proto";\n')
        self.write("common/c.h", '#include "absl/status/status.h"\n#include <vector>\n')
        self.write("model/m.cc", '#include "model/m.h"\n#include "common/c.h"\n')
        self.write("router/r.cc", '#include "shoal/v1/a.grpc.pb.h"\n#include "model/m.h"\n')

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, relative, text):
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def run_check(self):
        result = subprocess.run([sys.executable, str(SCRIPT), "--root", str(self.root)],
                                capture_output=True, text=True, check=False)
        lines = result.stdout.splitlines()
        return result.returncode, [l for l in lines if l.startswith("layering")], lines[-1]

    def test_clean_tree_passes(self):
        code, violations, last = self.run_check()
        self.assertEqual((code, violations), (0, []))
        self.assertEqual(last, "checked include directions: 0 violations")

    def test_upward_include_is_a_violation(self):
        self.write("model/bad.h", '#include "router/r.h"\n')
        code, violations, last = self.run_check()
        self.assertEqual(code, 1)
        self.assertEqual(violations,
                         ["layering violation: model/bad.h includes router/r.h (router/)"])
        self.assertEqual(last, "checked include directions: 1 violations")

    def test_generated_proto_header_counts_as_proto(self):
        self.write("common/bad.cc", '#include "shoal/v1/a.pb.h"\n')
        self.write("model/sub/bad.h", '#  include <shoal/v1/b.grpc.pb.h>\n')
        code, violations, _ = self.run_check()
        self.assertEqual(code, 1)
        self.assertEqual(violations, [
            "layering violation: common/bad.cc includes shoal/v1/a.pb.h (proto/)",
            "layering violation: model/sub/bad.h includes shoal/v1/b.grpc.pb.h (proto/)",
        ])

    def test_proto_import_outside_proto_is_a_violation(self):
        self.write("proto/shoal/v1/c.proto",
                   'import "google/protobuf/empty.proto";\nimport public "router/x.proto";\n')
        code, violations, _ = self.run_check()
        self.assertEqual(code, 1)
        self.assertEqual(violations, [
            "layering violation: proto/shoal/v1/c.proto imports router/x.proto, "
            "which is not under proto/"])

    def test_directory_without_a_row_is_a_violation(self):
        self.write("newlib/a.cc", '#include "common/c.h"\n')
        self.write("newlib/b.cc", "\n")
        self.write("stray.cc", "\n")
        code, violations, _ = self.run_check()
        self.assertEqual(code, 1)
        self.assertEqual(violations, [
            "layering violation: newlib/ has code (newlib/a.cc) but no row in "
            "scripts/layering.txt",
            "layering violation: stray.cc is code outside any directory of scripts/layering.txt",
        ])

    def test_star_row_allows_every_directory(self):
        self.write("cli/main.cc", '#include "router/r.h"\n#include "shoal/v1/a.pb.h"\n')
        self.assertEqual(self.run_check()[:2], (0, []))

    def test_ignored_and_hidden_trees_are_not_checked(self):
        self.write("build/router/x.cc", '#include "cli/main.h"\n')
        self.write("build-asan/gen/x.cc", "\n")
        self.write(".venv/lib/x.h", "\n")
        self.write("common/.cache/x.h", '#include "router/r.h"\n')
        self.assertEqual(self.run_check()[:2], (0, []))

    def test_table_errors_fail(self):
        for table, message in [
            ("model: common\n", "which have no row of their own"),
            ("common:\ncommon:\n", "second row"),
            ("common\n", "expected 'dir: allowed dirs...'"),
            ("common:\ncli: * common\n", "must stand alone"),
        ]:
            with self.subTest(table=table):
                self.write("scripts/layering.txt", table)
                code, lines, _ = self.run_check()
                self.assertEqual(code, 2)
                self.assertIn(message, lines[0])


if __name__ == "__main__":
    unittest.main()
