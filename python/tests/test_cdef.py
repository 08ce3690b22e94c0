"""The cdef in nonroot/_build.py stays in sync with include/nonroot/*.h.

API mode already makes the C compiler check each declared function against the real header
(a mismatch fails `pip install`); this test catches what the compiler cannot: a public
function that is neither declared nor excluded on purpose."""
import ast
import glob
import os
import re
import unittest

from _paths import INCLUDE, PYTHON_SRC

EXTERN_RE = re.compile(r"NR_EXTERN\(([^)]*)\)\s*(nr_[a-z0-9_]+)\s*\(([^;]*?)\)\s*;", re.S)
CDEF_FN_RE = re.compile(r"^([A-Za-z_][\w \t\*]*?[\s\*])(nr_[a-z0-9_]+)\s*\(([^;]*?)\)\s*;",
                        re.S | re.M)


def normalize(ret, name, params):
    text = "%s %s(%s)" % (ret, name, params)
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s*([*(),\[\]])\s*", r"\1", text)
    return text


def header_functions():
    out = {}
    for path in sorted(glob.glob(os.path.join(INCLUDE, "nonroot", "*.h"))):
        with open(path, encoding="utf-8") as f:
            text = re.sub(r"/\*.*?\*/", " ", f.read(), flags=re.S)
        for ret, name, params in EXTERN_RE.findall(text):
            out[name] = (normalize(ret, name, params), os.path.basename(path))
    return out


def build_constants():
    """CDEF and EXCLUDED from _build.py, read without running it (it locates the library)."""
    with open(os.path.join(PYTHON_SRC, "nonroot", "_build.py"), encoding="utf-8") as f:
        tree = ast.parse(f.read())
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            target, value = node.target, node.value
        else:
            continue
        if target.id in ("CDEF", "EXCLUDED"):
            found[target.id] = ast.literal_eval(value)
    return found["CDEF"], found["EXCLUDED"]


def cdef_functions(cdef):
    text = re.sub(r"/\*.*?\*/", " ", cdef, flags=re.S)
    return {name: normalize(ret, name, params) for ret, name, params in CDEF_FN_RE.findall(text)}


class CdefSync(unittest.TestCase):
    def setUp(self):
        self.headers = header_functions()
        self.cdef, self.excluded = build_constants()
        self.declared = cdef_functions(self.cdef)

    def test_headers_found(self):
        self.assertIn("nr_version", self.headers)
        self.assertIn("nr_strerror", self.headers)

    def test_every_public_function_declared_or_excluded(self):
        missing = ["%s  /* %s */" % (decl, h) for name, (decl, h) in sorted(self.headers.items())
                   if name not in self.declared and name not in self.excluded]
        self.assertEqual(missing, [], "add to CDEF in python/nonroot/_build.py (or EXCLUDED "
                         "with a reason):\n" + "\n".join(missing))

    def test_declarations_match_headers(self):
        for name, decl in self.declared.items():
            with self.subTest(name=name):
                self.assertIn(name, self.headers, "declared in CDEF but not in any header")
                self.assertEqual(decl, self.headers[name][0])

    def test_exclusions_are_real_and_explained(self):
        for name, reason in self.excluded.items():
            with self.subTest(name=name):
                self.assertIn(name, self.headers, "excluded but not a public function")
                self.assertNotIn(name, self.declared, "both declared and excluded")
                self.assertTrue(reason.strip())

    def test_every_declared_function_is_wrapped(self):
        # The Pythonic layer (nonroot/*.py) calls every declared function, except these two:
        # errors are exceptions there (test_base checks them against str(exception)).
        not_wrapped = {"nr_error_clear", "nr_error_format"}
        src = ""
        pkg = os.path.join(PYTHON_SRC, "nonroot")
        for name in sorted(os.listdir(pkg)):
            if name.endswith(".py") and name != "_build.py":
                with open(os.path.join(pkg, name), encoding="utf-8") as f:
                    src += f.read()
        unused = sorted(n for n in self.declared
                        if n not in not_wrapped and not re.search(r"\blib\.%s\b" % n, src))
        self.assertEqual(unused, [], "declared in CDEF but not used by the package")

    def test_parser_sees_multiline_declarations(self):
        decl = normalize("int", "nr_x", "nr_x **out,\n\tconst char *buf, size_t len")
        self.assertEqual(decl, "int nr_x(nr_x**out,const char*buf,size_t len)")
