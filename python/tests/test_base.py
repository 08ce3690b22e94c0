"""Version, error names, and the mapping of every NR_E* code to its exception class."""
import unittest

import nonroot
from nonroot import errors
from nonroot._native import ffi, lib


class Version(unittest.TestCase):
    def test_version_matches_header(self):
        self.assertEqual(nonroot.version(), "%d.%d.%d" % (
            lib.NR_VERSION_MAJOR, lib.NR_VERSION_MINOR, lib.NR_VERSION_PATCH))
        self.assertEqual(nonroot.version(), nonroot.__version__)

    def test_version_number(self):
        n = nonroot.version_number()
        self.assertEqual(n, lib.NR_VERSION_MAJOR * 10000 + lib.NR_VERSION_MINOR * 100
                         + lib.NR_VERSION_PATCH)
        self.assertEqual(n, nonroot.VERSION_NUMBER)
        self.assertEqual("%d.%d.%d" % (n // 10000, n // 100 % 100, n % 100), nonroot.version())
        self.assertTrue(nonroot.version_check(0))
        self.assertTrue(nonroot.version_check(lib.NR_VERSION_MAJOR, lib.NR_VERSION_MINOR,
                                              lib.NR_VERSION_PATCH))
        self.assertFalse(nonroot.version_check(lib.NR_VERSION_MAJOR, lib.NR_VERSION_MINOR + 1))
        self.assertFalse(nonroot.version_check(lib.NR_VERSION_MAJOR + 1))

    def test_unprivileged_port_start(self):
        self.assertEqual(nonroot.UNPRIVILEGED_PORT_START, 1024)
        self.assertEqual(nonroot.UNPRIVILEGED_PORT_START, lib.NR_UNPRIVILEGED_PORT_START)
        b = nonroot.effective_bindings({"ASPNETCORE_URLS": "http://+:1023;http://+:1024"})
        self.assertEqual([x.privileged for x in b], [True, False])

    def test_strerror(self):
        self.assertEqual(nonroot.strerror(lib.NR_EINVALID), "invalid input")
        self.assertNotEqual(nonroot.strerror(lib.NR_ENOTFOUND), nonroot.strerror(lib.NR_EIO))
        self.assertTrue(nonroot.strerror(-999))


EXPECTED = {
    "NR_EINVALID": (nonroot.InvalidInput, ValueError),
    "NR_ENOTFOUND": (nonroot.NotFound, LookupError),
    "NR_ERANGE": (nonroot.OutOfRange, ValueError),
    "NR_EIO": (nonroot.IOFailure, nonroot.NonrootError),
    "NR_ENOMEM": (nonroot.OutOfMemory, MemoryError),
    "NR_EEXISTS": (nonroot.AlreadyExists, nonroot.NonrootError),
    "NR_ECONFLICT": (nonroot.Conflict, nonroot.NonrootError),
    "NR_EUNSUPPORTED": (nonroot.Unsupported, nonroot.NonrootError),
    "NR_EDIGEST": (nonroot.DigestMismatch, nonroot.NonrootError),
    "NR_ETOOBIG": (nonroot.TooBig, nonroot.NonrootError),
    "NR_EESCAPE": (nonroot.PathEscape, nonroot.NonrootError),
    "NR_EARG": (nonroot.InvalidArgument, ValueError),
}


class ErrorMapping(unittest.TestCase):
    def fill(self, code, message=b"bad thing", source=b"etc/passwd", line=3, column=7):
        err = errors.new_error()
        err.code = code
        err.line = line
        err.column = column
        err.source = source
        err.message = message
        return err

    def test_every_code_has_its_class(self):
        for name, (cls, base) in EXPECTED.items():
            code = getattr(lib, name)
            with self.subTest(code=name):
                exc = errors.error_from(code, self.fill(code))
                self.assertIs(type(exc), cls)
                self.assertIsInstance(exc, nonroot.NonrootError)
                self.assertIsInstance(exc, base)
                self.assertEqual(exc.code, code)
                self.assertEqual(exc.line, 3)
                self.assertEqual(exc.column, 7)
                self.assertEqual(exc.source, "etc/passwd")
                self.assertEqual(exc.message, "bad thing")
                self.assertEqual(str(exc), "etc/passwd:3:7: bad thing")

    def test_all_codes_covered(self):
        # every NR_E* enumerator except NR_OK / NR_ERROR has a dedicated class
        names = set(ffi.typeof("nr_error_code").relements) - {"NR_OK", "NR_ERROR"}
        self.assertEqual(names, set(EXPECTED))

    def test_generic_and_unknown_codes(self):
        exc = errors.error_from(lib.NR_ERROR, self.fill(lib.NR_ERROR, source=b"", line=0))
        self.assertIs(type(exc), nonroot.NonrootError)
        self.assertEqual(str(exc), "bad thing")
        exc = errors.error_from(-99, self.fill(0, message=b"", source=b"", line=0))
        self.assertIs(type(exc), nonroot.NonrootError)
        self.assertEqual(exc.code, -99)
        self.assertEqual(exc.message, nonroot.strerror(-99))

    def test_code_from_return_value_when_err_unset(self):
        exc = errors.error_from(lib.NR_ENOTFOUND, errors.new_error())
        self.assertIsInstance(exc, nonroot.NotFound)
        self.assertEqual(exc.code, lib.NR_ENOTFOUND)
        self.assertEqual(exc.message, nonroot.strerror(lib.NR_ENOTFOUND))

    def test_check(self):
        err = errors.new_error()
        self.assertEqual(errors.check(0, err), 0)
        self.assertEqual(errors.check(5, err), 5)
        with self.assertRaises(nonroot.InvalidArgument):
            errors.check(lib.NR_EARG, self.fill(lib.NR_EARG))

    def test_raise_and_catch_as_base(self):
        with self.assertRaises(nonroot.NonrootError) as cm:
            raise errors.error_from(lib.NR_ERANGE, self.fill(lib.NR_ERANGE, line=0))
        self.assertEqual(str(cm.exception), "etc/passwd: bad thing")

    def test_line_without_column(self):
        exc = errors.error_from(lib.NR_EINVALID, self.fill(lib.NR_EINVALID, column=0))
        self.assertEqual(str(exc), "etc/passwd:3: bad thing")

    def test_c_error_helpers_agree(self):
        # nr_error_format (C) and str() (Python) render the same text
        err = self.fill(lib.NR_EINVALID)
        buf = ffi.new("char[]", 512)
        n = lib.nr_error_format(err, buf, 512)
        self.assertEqual(ffi.string(buf).decode(), str(errors.error_from(-2, err)))
        self.assertEqual(n, len(ffi.string(buf)))
        lib.nr_error_clear(err)
        self.assertEqual(err.code, 0)
        self.assertEqual(ffi.string(err.message), b"")


if __name__ == "__main__":
    unittest.main()
