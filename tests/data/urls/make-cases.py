#!/usr/bin/env python3
"""Write the data-driven cases of tests/unit/test_urls.c (run from anywhere; idempotent).

Every expectation here was worked out from the ASP.NET Core sources and tests, not from our
output: dotnet/aspnetcore BindingAddressTests.cs, AddressBinderTests.cs, KestrelServerTests.cs,
GenericWebHostService.cs and dotnet/sdk ImageBuilderTests.cs (port inference). Cases marked
"ours" cover a rule of issue #3 that those tests do not.

Layout (like jansson's test dirs):
  parse/valid/<case>/input     one URL, raw bytes
  parse/valid/<case>/expected  scheme=, host=, port=, path_base=, kind=, flags=, bind=ok|<error>
  parse/invalid/<case>/input, error   nr_url_parse()'s message
  env/<case>/env               NAME=VALUE lines; options (host=, threshold=, no_unprefixed)
  env/<case>/expected          effective=, warning=... (in order), binding=URL KIND PORT priv|-
  env/<case>/error             instead of expected: the formatted nr_error
  rewrite/<case>/{name,value,map,options}, expected + changes, or error
"""
import os, shutil

HERE = os.path.dirname(os.path.abspath(__file__))

def put(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data.encode('utf-8') if isinstance(data, str) else data)

PB = "A path base can only be configured using IApplicationBuilder.UsePathBase()."
def SCHEME(u): return ("Unrecognized scheme in server address '%s'. Only 'http://' and "
                      "'https://' are supported." % u)
RANGE = "Specified argument was out of the range of valid values. (Parameter 'port')"
DYN = ("Dynamic port binding is not supported when binding to localhost. You must either "
       "bind to 127.0.0.1:0 or [::1]:0, or both.")

# name, input, scheme, host, port, path_base, kind, flags, bind
VALID = [
    # BindingAddressTests.UrlsAreParsedCorrectly
    ("bat-emptyscheme", "://emptyscheme", "", "emptyscheme", 0, "", "host", "defaulted", SCHEME("://emptyscheme")),
    ("bat-plus", "http://+", "http", "+", 80, "", "any", "defaulted", "ok"),
    ("bat-star", "http://*", "http", "*", 80, "", "any", "defaulted", "ok"),
    ("bat-localhost", "http://localhost", "http", "localhost", 80, "", "localhost", "defaulted", "ok"),
    ("bat-host", "http://www.example.com", "http", "www.example.com", 80, "", "host", "defaulted", "ok"),
    ("bat-host-https", "https://www.example.com", "https", "www.example.com", 443, "", "host", "defaulted", "ok"),
    ("bat-host-slash", "http://www.example.com/", "http", "www.example.com", 80, "", "host", "defaulted", "ok"),
    ("bat-host-query", "http://www.example.com/foo?bar=baz", "http", "www.example.com", 80, "/foo?bar=baz", "host", "defaulted", PB),
    ("bat-host-port", "http://www.example.com:5000", "http", "www.example.com", 5000, "", "host", "none", "ok"),
    ("bat-host-port-https", "https://www.example.com:5000", "https", "www.example.com", 5000, "", "host", "none", "ok"),
    ("bat-host-port-slash", "http://www.example.com:5000/", "http", "www.example.com", 5000, "", "host", "none", "ok"),
    ("bat-notaport", "http://www.example.com:NOTAPORT", "http", "www.example.com:NOTAPORT", 80, "", "host", "defaulted,fallback", "ok"),
    ("bat-notaport-https", "https://www.example.com:NOTAPORT", "https", "www.example.com:NOTAPORT", 443, "", "host", "defaulted,fallback", "ok"),
    ("bat-notaport-slash", "http://www.example.com:NOTAPORT/", "http", "www.example.com:NOTAPORT", 80, "", "host", "defaulted,fallback", "ok"),
    ("bat-foo-colon", "http://foo:/tmp/kestrel-test.sock:5000/doesn't/matter", "http", "foo:", 80, "/tmp/kestrel-test.sock:5000/doesn't/matter", "host", "defaulted,fallback", PB),
    ("bat-unix-noslash", "http://unix:foo/tmp/kestrel-test.sock", "http", "unix:foo", 80, "/tmp/kestrel-test.sock", "host", "defaulted,fallback", PB),
    ("bat-unix-port", "http://unix:5000/tmp/kestrel-test.sock", "http", "unix", 5000, "/tmp/kestrel-test.sock", "host", "none", PB),
    # BindingAddressTests.UnixSocketUrlsAreParsedCorrectlyOnUnix
    ("bat-unix", "http://unix:/tmp/kestrel-test.sock", "http", "unix:/tmp/kestrel-test.sock", 0, "", "unix", "none", "ok"),
    ("bat-unix-https", "https://unix:/tmp/kestrel-test.sock", "https", "unix:/tmp/kestrel-test.sock", 0, "", "unix", "none", "ok"),
    ("bat-unix-colon", "http://unix:/tmp/kestrel-test.sock:", "http", "unix:/tmp/kestrel-test.sock", 0, "", "unix", "none", "ok"),
    ("bat-unix-colon-slash", "http://unix:/tmp/kestrel-test.sock:/", "http", "unix:/tmp/kestrel-test.sock", 0, "", "unix", "none", "ok"),
    ("bat-unix-path", "http://unix:/tmp/kestrel-test.sock:5000/doesn't/matter", "http", "unix:/tmp/kestrel-test.sock", 0, "5000/doesn't/matter", "unix", "none", PB),
    # BindingAddressTests Windows-only cases, as Linux parses them
    ("bat-win-drive", "http://unix:/c:/foo/bar/pipe.socket", "http", "unix:/c", 0, "/foo/bar/pipe.socket", "unix", "none", PB),
    ("bat-win-c", "http://unix:/c", "http", "unix:/c", 0, "", "unix", "none", "ok"),
    ("bat-win-wrongpath", "http://unix:/wrong.path", "http", "unix:/wrong.path", 0, "", "unix", "none", "ok"),
    # AddressBinderTests
    ("abt-ipv4-port-slash", "http://10.10.10.10:5000/", "http", "10.10.10.10", 5000, "", "ip", "none", "ok"),
    ("abt-ipv6-port", "http://[::1]:5000", "http", "[::1]", 5000, "", "ip", "none", "ok"),
    ("abt-ipv6", "http://[::1]", "http", "[::1]", 80, "", "ip", "defaulted", "ok"),
    ("abt-ipv4", "http://127.0.0.1", "http", "127.0.0.1", 80, "", "ip", "defaulted", "ok"),
    ("abt-ipv4-https", "https://127.0.0.1", "https", "127.0.0.1", 443, "", "ip", "defaulted", "ok"),
    ("abt-star-port", "http://*:5000", "http", "*", 5000, "", "any", "none", "ok"),
    ("abt-plus-80", "http://+:80", "http", "+", 80, "", "any", "none", "ok"),
    ("abt-randomhost-port", "http://randomhost:6000", "http", "randomhost", 6000, "", "host", "none", "ok"),
    ("abt-randomhost", "http://randomhost", "http", "randomhost", 80, "", "host", "defaulted", "ok"),
    ("abt-randomhost-https", "https://randomhost", "https", "randomhost", 443, "", "host", "defaulted", "ok"),
    ("abt-contoso", "http://contoso.com", "http", "contoso.com", 80, "", "host", "defaulted", "ok"),
    ("abt-contoso-80", "http://contoso.com:80", "http", "contoso.com", 80, "", "host", "none", "ok"),
    ("abt-pipe-noslash", "http://pipe:8080", "http", "pipe", 8080, "", "host", "none", "ok"),
    ("abt-pipe", "http://pipe:/HelloWorld", "http", "pipe:/HelloWorld", 0, "", "pipe", "none", "ok"),
    ("abt-pipe-backslash", "http://pipe:/LOCAL\\HelloWorld", "http", "pipe:/LOCAL\\HelloWorld", 0, "", "pipe", "none", "ok"),
    ("abt-pipe-forward", "http://pipe://tmp/kestrel-test.sock", "http", "pipe://tmp/kestrel-test.sock", 0, "", "pipe", "none", "ok"),
    # KestrelServerTests
    ("kst-pathbase", "http://127.0.0.1:0/base", "http", "127.0.0.1", 0, "/base", "ip", "none", PB),
    ("kst-https-dynamic", "https://127.0.0.1:0", "https", "127.0.0.1", 0, "", "ip", "none", "ok"),
    # ours: AddressBinder checks
    ("ours-localhost-dynamic", "http://localhost:0", "http", "localhost", 0, "", "localhost", "none", DYN),
    ("ours-port-too-big", "http://*:70000", "http", "*", 70000, "", "any", "none", RANGE),
    ("ours-port-negative", "http://*:-1", "http", "*", -1, "", "any", "none", RANGE),
    ("ours-leading-space-scheme", " http://+:80", " http", "+", 80, "", "any", "none", SCHEME(" http://+:80")),
    ("ours-ftp", "ftp://host:21", "ftp", "host", 21, "", "host", "none", SCHEME("ftp://host:21")),
    ("ours-pathbase-slashes", "http://+:80//", "http", "+", 80, "/", "any", "none", PB),
    ("ours-upper", "HTTP://LOCALHOST:5000", "HTTP", "LOCALHOST", 5000, "", "localhost", "none", "ok"),
    # ours: int.TryParse(NumberStyles.Integer) for the port
    ("ours-port-spaces", "http://*: 8080 ", "http", "*", 8080, "", "any", "none", "ok"),
    ("ours-port-plus", "http://*:+80", "http", "*", 80, "", "any", "none", "ok"),
    ("ours-port-zeros", "http://*:0080", "http", "*", 80, "", "any", "none", "ok"),
    ("ours-port-int-max", "http://*:2147483647", "http", "*", 2147483647, "", "any", "none", RANGE),
    ("ours-port-overflow", "http://*:2147483648", "http", "*:2147483648", 80, "", "host", "defaulted,fallback", "ok"),
    ("ours-port-empty", "http://*:", "http", "*:", 80, "", "host", "defaulted,fallback", "ok"),
    ("ours-port-placeholder", "https://*:{abc}", "https", "*:{abc}", 443, "", "host", "defaulted,fallback", "ok"),
    ("ours-port-space-inside", "http://*:80 80", "http", "*:80 80", 80, "", "host", "defaulted,fallback", "ok"),
    ("ours-port-sign-space", "http://*:+ 80", "http", "*:+ 80", 80, "", "host", "defaulted,fallback", "ok"),
    # ours: IPAddress.TryParse forms
    ("ours-any4", "http://0.0.0.0:80", "http", "0.0.0.0", 80, "", "any", "none", "ok"),
    ("ours-any6", "http://[::]:8080", "http", "[::]", 8080, "", "any", "none", "ok"),
    ("ours-zero-is-any4", "http://0:8080", "http", "0", 8080, "", "any", "none", "ok"),
    ("ours-ipv4-short", "http://127.1", "http", "127.1", 80, "", "ip", "defaulted", "ok"),
    ("ours-ipv4-hex", "http://0x7f000001:5000", "http", "0x7f000001", 5000, "", "ip", "none", "ok"),
    ("ours-ipv4-number", "http://2130706433", "http", "2130706433", 80, "", "ip", "defaulted", "ok"),
    ("ours-ipv4-octal", "http://0177.0.0.1:5000", "http", "0177.0.0.1", 5000, "", "ip", "none", "ok"),
    ("ours-ipv4-bad-octal", "http://09.0.0.1:5000", "http", "09.0.0.1", 5000, "", "host", "none", "ok"),
    ("ours-ipv4-trailing-dot", "http://127.0.0.1.", "http", "127.0.0.1.", 80, "", "host", "defaulted", "ok"),
    ("ours-ipv4-256", "http://256.1.1.1", "http", "256.1.1.1", 80, "", "host", "defaulted", "ok"),
    ("ours-ipv6-bare", "http://::1:5000", "http", "::1", 5000, "", "ip", "none", "ok"),
    ("ours-ipv6-bare-noport", "http://::1", "http", ":", 1, "", "host", "none", "ok"),
    ("ours-ipv6-port-in-host", "http://[::1]:80:5000", "http", "[::1]:80", 5000, "", "ip", "none", "ok"),
    ("ours-ipv6-scope", "http://[fe80::1%eth0]:8080", "http", "[fe80::1%eth0]", 8080, "", "ip", "none", "ok"),
    ("ours-ipv6-garbage", "http://[::1]x", "http", "[::1]x", 80, "", "host", "defaulted,fallback", "ok"),
    ("ours-localhost-tld", "http://app.localhost:5000", "http", "app.localhost", 5000, "", "host", "none", "ok"),
    ("ours-slash-after-port", "http://*:80/", "http", "*", 80, "", "any", "none", "ok"),
]

# name, input, error
INVALID = [
    ("bat-empty", "", "Invalid url: ''"),
    ("bat-5000", "5000", "Invalid url: '5000'"),
    ("bat-noscheme", "//noscheme", "Invalid url: '//noscheme'"),
    ("bat-nohost-1", "://", "Invalid url: '://'"),
    ("bat-nohost-2", "://:5000", "Invalid url: '://:5000'"),
    ("bat-nohost-3", "http://", "Invalid url: 'http://'"),
    ("bat-nohost-4", "http://:5000", "Invalid url: 'http://:5000'"),
    ("bat-nohost-5", "http:///", "Invalid url: 'http:///'"),
    ("bat-nohost-6", "http:///:5000", "Invalid url: 'http:///:5000'"),
    ("bat-nohost-7", "http:////", "Invalid url: 'http:////'"),
    ("bat-nohost-8", "http:////:5000", "Invalid url: 'http:////:5000'"),
    ("kst-asdf", "http:/asdf", "Invalid url: 'http:/asdf'"),
    # Linux .NET: Substring(length, -1) in Parse throws ArgumentOutOfRangeException
    ("bat-unix-root", "http://unix:/", "Length cannot be less than zero. (Parameter 'length')"),
    ("ours-unix-trailing-slash", "http://unix:/tmp/dir/", "Length cannot be less than zero. (Parameter 'length')"),
    # ours: control characters are an error (Kestrel would keep them in the host)
    ("ours-newline", "http://+:80\n", "Invalid url: control character 0x0a at byte 12: 'http://+:80\\x0a'"),
    ("ours-tab-host", "http://a\tb:80", "Invalid url: control character 0x09 at byte 9: 'http://a\\x09b:80'"),
    ("ours-nul", "http://+:80\0", "Invalid url: control character 0x00 at byte 12: 'http://+:80\\x00'"),
    ("ours-del", "http://+\x7f:80", "Invalid url: control character 0x7f at byte 9: 'http://+\\x7f:80'"),
]

OVR = "Overriding HTTP_PORTS '%s' and HTTPS_PORTS '%s'. Binding to values defined by URLS instead '%s'."

# name, env lines, options, expected lines or ("error", text)
ENV = [
    ("default-nothing-set", [], {}, ["effective=default", "binding=http://localhost:5000 localhost 5000 -"]),
    ("default-unrelated-vars", ["PATH=/usr/bin", "NOEQUALS", "URLSX=http://+:1"], {}, ["effective=default", "binding=http://localhost:5000 localhost 5000 -"]),
    ("urls-root-image", ["ASPNETCORE_URLS=http://+:80"], {}, ["effective=urls", "binding=http://+:80 any 80 priv"]),
    ("ports-dotnet8-image", ["ASPNETCORE_HTTP_PORTS=8080"], {}, ["effective=http_ports", "binding=http://*:8080 any 8080 -"]),
    # dotnet/sdk ImageBuilderTests.CanSetPortFromEnvVar*
    ("sdk-urls", ["ASPNETCORE_URLS=https://*:12345;http://+:1234;http://localhost:123;http://1.2.3.4:12"], {},
     ["effective=urls", "binding=https://*:12345 any 12345 -", "binding=http://+:1234 any 1234 -",
      "binding=http://localhost:123 localhost 123 priv", "binding=http://1.2.3.4:12 ip 12 priv"]),
    ("sdk-http-ports", ["ASPNETCORE_HTTP_PORTS=999;666"], {}, ["effective=http_ports", "binding=http://*:999 any 999 priv", "binding=http://*:666 any 666 priv"]),
    ("sdk-https-ports", ["ASPNETCORE_HTTPS_PORTS=456;789"], {}, ["effective=http_ports", "binding=https://*:456 any 456 priv", "binding=https://*:789 any 789 priv"]),
    # dotnet/sdk ImageBuilderTests.WhenMultipleUrlSourcesAreSetOnlyAspnetcoreUrlsIsUsed + Kestrel's warning
    ("sdk-urls-win", ["ASPNETCORE_URLS=https://*:12345", "ASPNETCORE_HTTPS_PORTS=456"], {},
     ["effective=urls", "warning=" + OVR % ("", "456", "https://*:12345"), "binding=https://*:12345 any 12345 -"]),
    ("urls-win-both-ports", ["ASPNETCORE_HTTP_PORTS=8080", "ASPNETCORE_HTTPS_PORTS= ", "ASPNETCORE_URLS=http://+:5000"], {},
     ["effective=urls", "warning=" + OVR % ("8080", " ", "http://+:5000"), "binding=http://+:5000 any 5000 -"]),
    ("ports-both-lists", ["ASPNETCORE_HTTPS_PORTS=443;8443", "ASPNETCORE_HTTP_PORTS=80;8080"], {},
     ["effective=http_ports", "binding=http://*:80 any 80 priv", "binding=http://*:8080 any 8080 -",
      "binding=https://*:443 any 443 priv", "binding=https://*:8443 any 8443 -"]),
    ("ports-trimmed", ["ASPNETCORE_HTTP_PORTS= 80 ;; 8080\u00a0;\u3000"], {},
     ["effective=http_ports", "binding=http://*:80 any 80 priv", "binding=http://*:8080 any 8080 -"]),
    ("ports-only-separators", ["ASPNETCORE_HTTP_PORTS= ; ;"], {}, ["effective=default", "binding=http://localhost:5000 localhost 5000 -"]),
    ("urls-only-separator", ["ASPNETCORE_URLS=;", "ASPNETCORE_HTTP_PORTS=8080"], {},
     ["effective=default", "warning=" + OVR % ("8080", "", ";"), "binding=http://localhost:5000 localhost 5000 -"]),
    ("urls-empty-entries", ["ASPNETCORE_URLS=;http://+:8080;;http://localhost:5000;"], {},
     ["effective=urls", "binding=http://+:8080 any 8080 -", "binding=http://localhost:5000 localhost 5000 -"]),
    ("ports-not-a-number", ["ASPNETCORE_HTTP_PORTS=abc"], {},
     ["effective=http_ports", "warning=ASPNETCORE_HTTP_PORTS: port 'abc' in 'http://*:abc' is not a number: ASP.NET Core 8 silently binds the default port 80 instead (dotnet/aspnetcore#24384)",
      "binding=http://*:abc host 80 priv"]),
    ("webapp-dotnet-wins", ["ASPNETCORE_URLS=http://+:80", "DOTNET_URLS=http://+:5001"], {},
     ["effective=urls", "warning=DOTNET_URLS overrides ASPNETCORE_URLS ('http://+:80' is ignored) in a WebApplication.CreateBuilder host",
      "binding=http://+:5001 any 5001 -"]),
    ("generic-aspnetcore-wins", ["ASPNETCORE_URLS=http://+:80", "DOTNET_URLS=http://+:5001"], {"host": "generic"},
     ["effective=urls", "warning=ASPNETCORE_URLS overrides DOTNET_URLS ('http://+:5001' is ignored) in a ConfigureWebHostDefaults host",
      "binding=http://+:80 any 80 priv"]),
    ("same-value-no-note", ["ASPNETCORE_URLS=http://+:80", "DOTNET_URLS=http://+:80"], {}, ["effective=urls", "binding=http://+:80 any 80 priv"]),
    ("unprefixed-wins", ["ASPNETCORE_URLS=http://+:80", "URLS=http://+:8080"], {},
     ["effective=urls", "warning=URLS overrides ASPNETCORE_URLS ('http://+:80' is ignored) in a WebApplication.CreateBuilder host",
      "binding=http://+:8080 any 8080 -"]),
    ("unprefixed-ignored", ["ASPNETCORE_URLS=http://+:80", "URLS=http://+:8080"], {"no_unprefixed": ""}, ["effective=urls", "binding=http://+:80 any 80 priv"]),
    ("empty-overrides", ["ASPNETCORE_URLS=http://+:80", "DOTNET_URLS="], {},
     ["effective=default", "warning=DOTNET_URLS overrides ASPNETCORE_URLS ('http://+:80' is ignored) in a WebApplication.CreateBuilder host",
      "binding=http://localhost:5000 localhost 5000 -"]),
    ("case-insensitive-name", ["aspnetcore_Urls=http://+:5000"], {}, ["effective=urls", "binding=http://+:5000 any 5000 -"]),
    ("last-entry-wins", ["ASPNETCORE_URLS=http://+:80", "ASPNETCORE_URLS=http://+:8080"], {}, ["effective=urls", "binding=http://+:8080 any 8080 -"]),
    ("threshold-80", ["ASPNETCORE_URLS=http://+:80;http://+:79"], {"threshold": "80"}, ["effective=urls", "binding=http://+:80 any 80 -", "binding=http://+:79 any 79 priv"]),
    ("threshold-0", ["ASPNETCORE_URLS=http://+:1"], {"threshold": "0"}, ["effective=urls", "binding=http://+:1 any 1 -"]),
    ("dynamic-port", ["ASPNETCORE_URLS=http://127.0.0.1:0;http://[::1]:0"], {}, ["effective=urls", "binding=http://127.0.0.1:0 ip 0 -", "binding=http://[::1]:0 ip 0 -"]),
    ("unix-socket", ["ASPNETCORE_URLS=http://unix:/run/app.sock"], {}, ["effective=urls", "binding=http://unix:/run/app.sock unix - -"]),
    ("conflict-any-localhost", ["ASPNETCORE_URLS=http://+:8080;http://localhost:8080"], {},
     ["effective=urls", "warning='http://+:8080' and 'http://localhost:8080' both bind port 8080 on the same address: Kestrel fails to start (address already in use)",
      "binding=http://+:8080 any 8080 -", "binding=http://localhost:8080 localhost 8080 -"]),
    ("conflict-dualstack", ["ASPNETCORE_URLS=http://[::]:5000;http://0.0.0.0:5000"], {},
     ["effective=urls", "warning='http://[::]:5000' and 'http://0.0.0.0:5000' both bind port 5000 on the same address: Kestrel fails to start (address already in use)",
      "binding=http://[::]:5000 any 5000 -", "binding=http://0.0.0.0:5000 any 5000 -"]),
    ("no-conflict-families", ["ASPNETCORE_URLS=http://0.0.0.0:5000;http://[::1]:5000;http://127.0.0.1:5001;http://127.0.0.2:5001"], {},
     ["effective=urls", "binding=http://0.0.0.0:5000 any 5000 -", "binding=http://[::1]:5000 ip 5000 -",
      "binding=http://127.0.0.1:5001 ip 5001 -", "binding=http://127.0.0.2:5001 ip 5001 -"]),
    # Kestrel endpoints from configuration (KestrelConfigurationLoader + AddressBinder.CreateStrategy)
    ("endpoints-override-ports", ["ASPNETCORE_HTTP_PORTS=8080", "Kestrel__Endpoints__Http__Url=http://+:80"], {},
     ["effective=kestrel_endpoints", "warning=Overriding address(es) 'http://*:8080'. Binding to endpoints defined via IConfiguration and/or UseKestrel() instead.",
      "binding=http://+:80 any 80 priv"]),
    ("endpoints-override-urls-joined", ["ASPNETCORE_URLS=http://+:80;;http://localhost:5000", "ASPNETCORE_Kestrel__Endpoints__Web__Url=http://+:8080"], {},
     ["effective=kestrel_endpoints", "warning=Overriding address(es) 'http://+:80, http://localhost:5000'. Binding to endpoints defined via IConfiguration and/or UseKestrel() instead.",
      "binding=http://+:8080 any 8080 -"]),
    ("endpoints-order", ["Kestrel__Endpoints__Http__Url=http://+:5003", "Kestrel__Endpoints__10__Url=http://+:5010", "kestrel:endpoints:api:URL=http://+:5001", "Kestrel__Endpoints__2__Url=http://+:5002"], {},
     ["effective=kestrel_endpoints", "binding=http://+:5002 any 5002 -", "binding=http://+:5010 any 5010 -", "binding=http://+:5001 any 5001 -", "binding=http://+:5003 any 5003 -"]),
    ("endpoints-prefer-hosting-urls", ["ASPNETCORE_URLS=http://+:80", "ASPNETCORE_PREFERHOSTINGURLS=True", "Kestrel__Endpoints__Http__Url=http://+:8080"], {},
     ["effective=urls", "warning=Overriding endpoints defined in UseKestrel() because PreferHostingUrls is set to true. Binding to address(es) 'http://+:80' instead.",
      "binding=http://+:80 any 80 priv"]),
    ("endpoints-prefer-without-addresses", ["ASPNETCORE_PREFERHOSTINGURLS=1", "Kestrel__Endpoints__Http__Url=http://+:8080"], {},
     ["effective=kestrel_endpoints", "binding=http://+:8080 any 8080 -"]),
    ("endpoints-prefer-not-a-bool", ["ASPNETCORE_URLS=http://+:80", "ASPNETCORE_PREFERHOSTINGURLS=yes", "Kestrel__Endpoints__Http__Url=http://+:8080"], {},
     ["effective=kestrel_endpoints", "warning=Overriding address(es) 'http://+:80'. Binding to endpoints defined via IConfiguration and/or UseKestrel() instead.",
      "binding=http://+:8080 any 8080 -"]),
    ("endpoints-invalid-addresses-unused", ["ASPNETCORE_URLS=garbage", "Kestrel__Endpoints__Http__Url=http://+:8080"], {},
     ["effective=kestrel_endpoints", "warning=Overriding address(es) 'garbage'. Binding to endpoints defined via IConfiguration and/or UseKestrel() instead.",
      "binding=http://+:8080 any 8080 -"]),
    ("endpoints-url-not-split", ["Kestrel__Endpoints__Http__Url=http://+:8080;http://+:8081"], {},
     ("error", "Kestrel__Endpoints__Http__Url: " + PB)),
    ("error-endpoint-missing-url", ["Kestrel__Endpoints__Http__Protocols=Http1"], {},
     ("error", "Kestrel:Endpoints:Http: The endpoint Http is missing the required 'Url' parameter.")),
    ("error-endpoint-empty-url-wins", ["ASPNETCORE_Kestrel__Endpoints__Http__Url=http://+:80", "DOTNET_Kestrel__Endpoints__Http__Url="], {},
     ("error", "Kestrel:Endpoints:Http: The endpoint Http is missing the required 'Url' parameter.")),
    ("error-endpoint-pathbase", ["Kestrel__Endpoints__Http__Url=http://+:80/api"], {}, ("error", "Kestrel__Endpoints__Http__Url: " + PB)),
    ("error-pathbase", ["ASPNETCORE_URLS=http://+:80/api"], {}, ("error", "ASPNETCORE_URLS: " + PB)),
    ("error-ports-pathbase", ["DOTNET_HTTP_PORTS=80/x"], {}, ("error", "DOTNET_HTTP_PORTS: " + PB)),
    ("error-leading-space", ["ASPNETCORE_URLS=http://+:80; http://+:81"], {}, ("error", "ASPNETCORE_URLS: " + SCHEME(" http://+:81"))),
    ("error-invalid-url", ["ASPNETCORE_URLS=http://"], {}, ("error", "ASPNETCORE_URLS: Invalid url: 'http://'")),
    ("error-second-entry", ["ASPNETCORE_URLS=http://+:8080;localhost:5000"], {}, ("error", "ASPNETCORE_URLS: Invalid url: 'localhost:5000'")),
    ("error-port-range", ["ASPNETCORE_HTTPS_PORTS=65536"], {}, ("error", "ASPNETCORE_HTTPS_PORTS: " + RANGE)),
    ("error-ctrl", ["ASPNETCORE_URLS=http://+:80\r"], {}, ("error", "ASPNETCORE_URLS: Invalid url: control character 0x0d at byte 12: 'http://+:80\\x0d'")),
]

# name, var name, value, map, options, expected value + changes, or ("error", text)
REWRITE = [
    ("urls-port", "ASPNETCORE_URLS", "http://+:80", "80:8080,443:8443", {}, ("http://+:8080", 1)),
    ("urls-default-port", "ASPNETCORE_URLS", "http://+", "80:8080,443:8443", {}, ("http://+:8080", 1)),
    ("urls-keep-bytes", "ASPNETCORE_URLS", "HTTP://+;https://[::1]/;http://*:80", "80:8080,443:8443", {}, ("HTTP://+:8080;https://[::1]:8443/;http://*:8080", 3)),
    ("urls-separators", "ASPNETCORE_URLS", ";;http://+:80;;", "80:8080", {}, (";;http://+:8080;;", 1)),
    ("urls-slash", "ASPNETCORE_URLS", "http://+/", "80:8080", {}, ("http://+:8080/", 1)),
    ("urls-port-spaces", "ASPNETCORE_URLS", "http://*: +80 ", "80:8080", {}, ("http://*: 8080 ", 1)),
    ("urls-unmapped-high", "ASPNETCORE_URLS", "http://localhost:5000;http://unix:/tmp/s.sock;http://127.0.0.1:0", "80:8080", {}, ("http://localhost:5000;http://unix:/tmp/s.sock;http://127.0.0.1:0", 0)),
    ("urls-compat", "ASPNETCORE_URLS", "http://+:80", "80:8080", {"compat": ""}, ("http://+:80;http://+:8080", 1)),
    ("urls-compat-default", "DOTNET_URLS", "https://+;http://+:5000", "443:8443", {"compat": ""}, ("https://+;https://+:8443;http://+:5000", 1)),
    ("ports-spaces", "ASPNETCORE_HTTP_PORTS", " 80 ;8081", "80:8080,443:8443", {}, (" 8080 ;8081", 1)),
    ("ports-https", "ASPNETCORE_HTTPS_PORTS", "443", "80:8080,443:8443", {}, ("8443", 1)),
    ("ports-compat", "ASPNETCORE_HTTP_PORTS", "80", "80:8080", {"compat": ""}, ("80;8080", 1)),
    ("ports-empty-entries", "HTTP_PORTS", ";80;;", "80:8080", {}, (";8080;;", 1)),
    ("empty-value", "ASPNETCORE_URLS", "", "80:8080", {}, ("", 0)),
    ("threshold-0", "ASPNETCORE_URLS", "http://+:81", "80:8080", {"threshold": "0"}, ("http://+:81", 0)),
    ("error-unmapped", "ASPNETCORE_URLS", "http://+:81;https://+", "80:8080", {}, ("error", "ASPNETCORE_URLS: privileged ports without a mapping (below 1024): 81, 443")),
    ("error-ports-unmapped", "ASPNETCORE_HTTP_PORTS", "80;21", "80:8080", {}, ("error", "ASPNETCORE_HTTP_PORTS: privileged ports without a mapping (below 1024): 21")),
    ("error-fallback", "ASPNETCORE_URLS", "http://*:abc", "80:8080", {}, ("error", "ASPNETCORE_URLS: port 'abc' in 'http://*:abc' is not a number (ASP.NET Core 8 binds port 80): fix the value by hand")),
    ("error-invalid", "ASPNETCORE_URLS", "http://+:8080;http://", "80:8080", {}, ("error", "ASPNETCORE_URLS: Invalid url: 'http://'")),
    ("no-conflict-other-address", "ASPNETCORE_URLS", "http://127.0.0.1:80;http://127.0.0.2:8080", "80:8080", {}, ("http://127.0.0.1:8080;http://127.0.0.2:8080", 1)),
    ("error-conflict-made", "ASPNETCORE_URLS", "http://+:80;http://+:8080", "80:8080", {}, ("error", "ASPNETCORE_URLS: the new value binds port 8080 twice on the same address ('http://+:80' and 'http://+:8080'): Kestrel would fail to start (address already in use)")),
    ("error-conflict-localhost", "ASPNETCORE_URLS", "http://localhost;http://[::1]:8080", "80:8080", {}, ("error", "ASPNETCORE_URLS: the new value binds port 8080 twice on the same address ('http://localhost' and 'http://[::1]:8080'): Kestrel would fail to start (address already in use)")),
    ("error-conflict-compat-ports", "ASPNETCORE_HTTP_PORTS", "80;8080", "80:8080", {"compat": ""}, ("error", "ASPNETCORE_HTTP_PORTS: the new value binds port 8080 twice on the same address ('80' and '8080'): Kestrel would fail to start (address already in use)")),
    ("endpoint-url", "Kestrel__Endpoints__Http__Url", "http://+:80", "80:8080", {}, ("http://+:8080", 1)),
    ("endpoint-url-one-url", "ASPNETCORE_Kestrel__Endpoints__Web__Url", "https://+", "443:8443", {}, ("https://+:8443", 1)),
    ("error-not-a-url-var", "PATH", "/usr/bin", "80:8080", {}, ("error", "PATH: not an ASP.NET Core URLS, HTTP_PORTS or HTTPS_PORTS variable")),
]

def main():
    for sub in ("parse", "env", "rewrite"):
        shutil.rmtree(os.path.join(HERE, sub), ignore_errors=True)
    for (name, inp, scheme, host, port, pb, kind, flags, bind) in VALID:
        d = os.path.join(HERE, "parse", "valid", name)
        put(os.path.join(d, "input"), inp)
        put(os.path.join(d, "expected"), "scheme=%s\nhost=%s\nport=%d\npath_base=%s\nkind=%s\nflags=%s\nbind=%s\n"
            % (scheme, host, port, pb, kind, flags, bind))
    for (name, inp, error) in INVALID:
        d = os.path.join(HERE, "parse", "invalid", name)
        put(os.path.join(d, "input"), inp)
        put(os.path.join(d, "error"), error + "\n")
    for (name, env, opts, exp) in ENV:
        d = os.path.join(HERE, "env", name)
        put(os.path.join(d, "env"), "".join(l + "\n" for l in env))
        if opts:
            put(os.path.join(d, "options"), "".join("%s=%s\n" % kv for kv in opts.items()))
        if isinstance(exp, tuple):
            put(os.path.join(d, "error"), exp[1] + "\n")
        else:
            put(os.path.join(d, "expected"), "".join(l + "\n" for l in exp))
    for (name, var, value, pmap, opts, exp) in REWRITE:
        d = os.path.join(HERE, "rewrite", name)
        put(os.path.join(d, "name"), var)
        put(os.path.join(d, "value"), value)
        put(os.path.join(d, "map"), pmap)
        if opts:
            put(os.path.join(d, "options"), "".join("%s=%s\n" % kv for kv in opts.items()))
        if exp[0] == "error":
            put(os.path.join(d, "error"), exp[1] + "\n")
        else:
            put(os.path.join(d, "expected"), exp[0])
            put(os.path.join(d, "changes"), "%d\n" % exp[1])

if __name__ == "__main__":
    main()
