"""nonroot URL functions (urls.h): Kestrel's parsing, effective bindings, port maps, rewrite."""
import ipaddress
import unittest

import nonroot


class ParseUrl(unittest.TestCase):
    def test_any_host(self):
        u = nonroot.parse_url("http://+:80")
        self.assertEqual((u.scheme, u.host, u.port, u.port_text, u.kind), ("http", "+", 80, "80",
                                                                          "any"))
        self.assertFalse(u.port_defaulted)
        self.assertTrue(u.is_privileged())
        self.assertFalse(u.is_privileged(80))
        u.validate()

    def test_ip_literals_and_path_base(self):
        u = nonroot.parse_url("https://[::1]:8443/base/")
        self.assertEqual((u.host, u.port, u.path_base, u.kind), ("[::1]", 8443, "/base", "ip"))
        self.assertEqual(u.address, ipaddress.IPv6Address("::1"))
        u = nonroot.parse_url(b"http://10.0.0.1")
        self.assertEqual((u.port, u.port_text, u.address), (80, "", ipaddress.ip_address(
            "10.0.0.1")))
        self.assertTrue(u.port_defaulted)
        u.validate()

    def test_port_fallback(self):
        u = nonroot.parse_url("http://+:abc")
        self.assertEqual((u.host, u.port, u.kind), ("+:abc", 80, "host"))
        self.assertTrue(u.port_fallback and u.port_defaulted)

    def test_invalid(self):
        with self.assertRaises(nonroot.InvalidInput) as cm:
            nonroot.parse_url("http://")
        self.assertEqual(str(cm.exception), "Invalid url: 'http://'")
        self.assertEqual(cm.exception.code, -2)
        with self.assertRaises(nonroot.InvalidInput):
            nonroot.parse_url("http://+:80\n")

    def test_validate_messages(self):
        with self.assertRaises(nonroot.InvalidInput) as cm:
            nonroot.parse_url("http://localhost:0").validate()
        self.assertTrue(str(cm.exception).startswith("Dynamic port binding is not supported"))
        with self.assertRaises(nonroot.InvalidInput) as cm:
            nonroot.parse_url("http://+:80/base").validate()
        self.assertIn("path base", str(cm.exception))


class Bindings(unittest.TestCase):
    def test_default(self):
        b = nonroot.effective_bindings({})
        self.assertEqual(b.source, "default")
        self.assertEqual([x.url for x in b], ["http://localhost:5000"])
        self.assertEqual(b[0].kind, "localhost")
        self.assertIsNone(b[0].variable)
        self.assertFalse(b.any_privileged)
        self.assertEqual(b.warnings, [])
        self.assertIsNone(b.variable("urls"))

    def test_urls_win_over_ports(self):
        b = nonroot.effective_bindings({"ASPNETCORE_URLS": "http://+:80",
                                        "ASPNETCORE_HTTP_PORTS": "8080"})
        self.assertEqual(b.source, "urls")
        self.assertEqual([x.url for x in b], ["http://+:80"])
        self.assertEqual(b.warnings, ["Overriding HTTP_PORTS '8080' and HTTPS_PORTS ''. Binding "
                                      "to values defined by URLS instead 'http://+:80'."])
        self.assertTrue(b.any_privileged)
        self.assertEqual(b.variable("urls"), ("ASPNETCORE_URLS", "http://+:80"))
        self.assertEqual(b.variable("http_ports"), ("ASPNETCORE_HTTP_PORTS", "8080"))
        self.assertIsNone(b.variable("https_ports"))

    def test_ports(self):
        b = nonroot.effective_bindings({"ASPNETCORE_HTTP_PORTS": "80;8081"})
        self.assertEqual(b.source, "http_ports")
        self.assertEqual([(x.url, x.privileged, x.port, x.scheme) for x in b],
                         [("http://*:80", True, 80, "http"), ("http://*:8081", False, 8081,
                                                              "http")])
        self.assertEqual(len(b), 2)
        self.assertEqual(nonroot.effective_bindings({"ASPNETCORE_HTTP_PORTS": "80"},
                                                    threshold=80).any_privileged, False)

    def test_hosts_and_prefixes(self):
        env = {"ASPNETCORE_URLS": "http://+:80", "DOTNET_URLS": "http://+:81"}
        self.assertEqual(nonroot.effective_bindings(env).variable("urls")[0], "DOTNET_URLS")
        self.assertEqual(nonroot.effective_bindings(env, host="generic").variable("urls")[0],
                         "ASPNETCORE_URLS")
        self.assertEqual(nonroot.effective_bindings({"URLS": "http://+:82"}).source, "urls")
        self.assertEqual(nonroot.effective_bindings({"URLS": "http://+:82"},
                                                    unprefixed=False).source, "default")

    def test_parse_urls(self):
        got = nonroot.parse_urls("http://+:80;https://localhost:443")
        self.assertEqual([(b.url, b.port, b.kind, b.privileged, b.variable) for b in got],
                         [("http://+:80", 80, "any", True, "ASPNETCORE_URLS"),
                          ("https://localhost:443", 443, "localhost", True, "ASPNETCORE_URLS")])
        with self.assertRaises(nonroot.InvalidInput) as cm:
            nonroot.parse_urls("ftp://x:21")
        self.assertEqual(cm.exception.source, "ASPNETCORE_URLS")
        self.assertIn("Unrecognized scheme in server address 'ftp://x:21'", str(cm.exception))

    def test_key_of(self):
        self.assertEqual(nonroot.urls_key_of("aspnetcore_Urls"), "urls")
        self.assertEqual(nonroot.urls_key_of("DOTNET_HTTPS_PORTS"), "https_ports")
        self.assertEqual(nonroot.urls_key_of("ASPNETCORE_HTTP_PORTS"), "http_ports")
        self.assertIsNone(nonroot.urls_key_of("PATH"))


class PortMaps(unittest.TestCase):
    def test_maps(self):
        self.assertEqual(nonroot.PortMap().to_dict(), {80: 8080, 443: 8443})
        self.assertEqual(nonroot.PortMap.default().to_dict(), {80: 8080, 443: 8443})
        self.assertEqual(str(nonroot.PortMap("1:2,3:4")), "1:2,3:4")
        m = nonroot.PortMap({80: 8080})
        self.assertEqual((m.lookup(80), m.lookup(22)), (8080, None))

    def test_errors(self):
        for spec, cls, msg in [("0:1", nonroot.OutOfRange, "port 0 is out of range (1-65535)"),
                               ("70000:1", nonroot.OutOfRange, "port 70000 is out of range"),
                               ("80:8080,80:9090", nonroot.InvalidInput, "mapped twice"),
                               ("x", nonroot.InvalidInput, "'x' is not FROM:TO")]:
            with self.subTest(spec=spec):
                with self.assertRaises(cls) as cm:
                    nonroot.PortMap(spec)
                self.assertIn(msg, str(cm.exception))

    def test_rewrite(self):
        self.assertEqual(nonroot.rewrite_urls("ASPNETCORE_URLS", "http://+:80;https://+:443"),
                         ("http://+:8080;https://+:8443", 2))
        self.assertEqual(nonroot.rewrite_urls("ASPNETCORE_HTTP_PORTS", "80", compat=True),
                         ("80;8080", 1))
        self.assertEqual(nonroot.rewrite_urls("ASPNETCORE_URLS", "http://+:5000"),
                         ("http://+:5000", 0))
        self.assertEqual(nonroot.rewrite_urls("ASPNETCORE_URLS", "http://+:81", "81:8081"),
                         ("http://+:8081", 1))
        with self.assertRaises(nonroot.InvalidInput) as cm:
            nonroot.rewrite_urls("ASPNETCORE_URLS", "http://+:81")
        self.assertIn("privileged ports without a mapping (below 1024): 81", str(cm.exception))
        with self.assertRaises(nonroot.InvalidArgument):
            nonroot.rewrite_urls("PATH", "x")


if __name__ == "__main__":
    unittest.main()
