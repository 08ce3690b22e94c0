/** @file
 * urls.h: ASPNETCORE_URLS and HTTP(S)_PORTS, read exactly as ASP.NET Core (Kestrel) reads them.
 *
 * Three layers, each usable alone:
 *  - nr_url_parse() / nr_url_validate(): one URL, with the semantics of ASP.NET Core's
 *    BindingAddress.Parse() and Kestrel's AddressBinder.ParseAddress(), and their error texts
 *    ("Invalid url: '...'"). No allocation.
 *  - nr_bindings_from_env(): the effective bindings of an environment, as GenericWebHostService
 *    computes them (URLS wins over HTTP_PORTS/HTTPS_PORTS, with Kestrel's warning; nothing set:
 *    http://localhost:5000), each with a `privileged` flag.
 *  - nr_urls_rewrite(): a variable's new value with only the port numbers changed.
 *
 * Where we deliberately differ from Kestrel (documented in docs/urls.md): a control character
 * inside a URL is an error (Kestrel would accept a newline as part of a host name), and a port
 * that is not a number ("http://+:abc") parses as in .NET 8 (it binds the scheme's default port)
 * but raises NR_URL_PORT_FALLBACK and a warning. Everything is pure and thread-safe: no global
 * state, const inputs, owned outputs freed with the documented *_free() or nr_free().
 */
#ifndef NONROOT_URLS_H
#define NONROOT_URLS_H

#include "common.h"
#include "errors.h"

NR_BEGIN_DECL

/** How Kestrel binds an address (AddressBinder.ParseAddress). */
typedef enum nr_url_kind {
	NR_URL_ANY = 0,       /**< "*", "+", 0.0.0.0 or [::]: every interface */
	NR_URL_LOCALHOST = 1, /**< "localhost" (any case): 127.0.0.1 and ::1 */
	NR_URL_IP = 2,        /**< an IP literal (IPv4 in .NET's forms, IPv6 with or without brackets) */
	NR_URL_HOST = 3,      /**< any other host name: Kestrel ignores it and binds every interface */
	NR_URL_UNIX = 4,      /**< "unix:/path": a Unix domain socket */
	NR_URL_PIPE = 5       /**< "pipe:/name": a Windows named pipe */
} nr_url_kind;

/** A part of the parsed text: offset and length in bytes from the start of the input. */
typedef struct nr_url_span {
	size_t off;   /**< offset in bytes */
	size_t len;   /**< length in bytes */
} nr_url_span;

/** nr_url.flags */
#define NR_URL_PORT_DEFAULTED 0x01u /**< no port in the text: 80 (http), 443 (https), 0 otherwise */
#define NR_URL_PORT_FALLBACK  0x02u /**< text after the last ':' is not a number: .NET 8 silently
                                         makes it part of the host and uses the default port
                                         (dotnet/aspnetcore#24384); also sets PORT_DEFAULTED */
#define NR_URL_HTTPS          0x04u /**< scheme is "https" (any case) */
#define NR_URL_HTTP           0x08u /**< scheme is "http" (any case) */

/** One parsed URL. Spans index the input that was parsed. */
typedef struct nr_url {
	nr_url_span scheme;    /**< before "://" (case kept) */
	nr_url_span host;      /**< as BindingAddress.Host: "[::1]", "unix:/tmp/s.sock", "*:abc" */
	nr_url_span port_text; /**< the number Kestrel parsed (sign and digits, no spaces); with
                                    NR_URL_PORT_FALLBACK the text that is not a number; len 0
                                    when there was no port */
	nr_url_span path_base; /**< as BindingAddress.PathBase (one trailing '/' removed) */
	int32_t port;          /**< as Kestrel's int: may be negative or > 65535 before validation */
	nr_url_kind kind;      /**< what the host is (any, localhost, ip, host, unix, pipe) */
	unsigned int flags;    /**< NR_URL_* */
	int family;            /**< 4 or 6 for an IP literal (kinds IP and ANY), 0 otherwise */
	unsigned char addr[16];/**< the address of an IP literal, network order (4 or 16 bytes) */
	void *reserved[2];     /**< zero; room for fields added later without an ABI break */
} nr_url;

/**
 * Parse one URL like BindingAddress.Parse() (Linux behaviour; .NET 8 port fallback) and classify
 * its host like AddressBinder. Scheme and path base are not checked here: see nr_url_validate().
 * @param[out] out  filled on success; spans index @p s
 * @param s     the URL, not NUL-terminated (NULL is parsed as "", like .NET's null)
 * @param len length of s in bytes
 * @param err optional error details (may be NULL)
 * @return 0, or NR_EINVALID with Kestrel's text in *err ("Invalid url: 'http://'"; a control
 *         character: "Invalid url: control character 0x0a at byte 12: '...'")
 */
NR_EXTERN(int) nr_url_parse(nr_url *out, const char *s, size_t len, nr_error *err);

/**
 * The checks Kestrel's AddressBinder makes before binding, with its exception texts:
 * scheme other than http/https ("Unrecognized scheme in server address '...'. Only 'http://'
 * and 'https://' are supported."), a path base ("A path base can only be configured using
 * IApplicationBuilder.UsePathBase()."), a port outside 0..65535 (IPEndPoint's
 * "Specified argument was out of the range of valid values. (Parameter 'port')") and port 0 on
 * localhost ("Dynamic port binding is not supported when binding to localhost. ...").
 * @param u  a URL parsed from @p s by nr_url_parse()
 * @param s the text u was parsed from
 * @param len length of s in bytes
 * @param err optional error details (may be NULL)
 * @return 0 or NR_EINVALID
 */
NR_EXTERN(int) nr_url_validate(const nr_url *u, const char *s, size_t len, nr_error *err);

/**
 * @return 1 when binding @p u needs privileges: a TCP kind with 1 <= port < @p threshold
 *         (the first unprivileged port, e.g. net.ipv4.ip_unprivileged_port_start; 1024 by
 *         default; 0 = nothing is privileged). Port 0 (dynamic), Unix sockets and pipes: 0.
 */
NR_EXTERN(int) nr_url_is_privileged(const nr_url *u, unsigned int threshold);

/** @return "any", "localhost", "ip", "host", "unix" or "pipe" (static); "?" when out of range. */
NR_EXTERN(const char *) nr_url_kind_name(nr_url_kind kind);

/* ---- the variables ----------------------------------------------------------------------- */

/** The configuration keys GenericWebHostService reads. */
typedef enum nr_urls_key {
	NR_URLS_KEY_NONE = -1,
	NR_URLS_KEY_URLS = 0,        /**< urls: ASPNETCORE_URLS, DOTNET_URLS, URLS */
	NR_URLS_KEY_HTTP_PORTS = 1,  /**< http_ports */
	NR_URLS_KEY_HTTPS_PORTS = 2, /**< https_ports */
	NR_URLS_KEY_ENDPOINT_URL = 3 /**< Kestrel:Endpoints:NAME:Url (one URL, not a list); only
	                                  returned by nr_urls_key_of() */
} nr_urls_key;

/**
 * The key an environment variable name sets, as .NET's configuration maps it: the prefixes
 * ASPNETCORE_ and DOTNET_ and the key are matched without regard to case ("aspnetcore_Urls"
 * counts); an unprefixed "URLS" also counts (the default builders add unprefixed environment
 * variables to app configuration). "Kestrel__Endpoints__NAME__Url" (also with ':' for "__",
 * and the prefixes) is NR_URLS_KEY_ENDPOINT_URL.
 * @return the key, or NR_URLS_KEY_NONE
 */
NR_EXTERN(nr_urls_key) nr_urls_key_of(const char *name, size_t len);

/** Which .NET host reads the environment: it decides whether ASPNETCORE_ or DOTNET_ wins. */
typedef enum nr_urls_host {
	/** WebApplication.CreateBuilder (.NET 7+, the templates): URLS > DOTNET_ > ASPNETCORE_ */
	NR_URLS_HOST_WEBAPP = 0,
	/** Host.CreateDefaultBuilder().ConfigureWebHostDefaults(): URLS > ASPNETCORE_ > DOTNET_ */
	NR_URLS_HOST_GENERIC = 1
} nr_urls_host;

/** nr_urls_options.flags: ignore unprefixed URLS/HTTP_PORTS/HTTPS_PORTS (a bare HostBuilder). */
#define NR_URLS_NO_UNPREFIXED 0x01u

/** Options of nr_bindings_from_env(). Versioned: initialise with NR_URLS_OPTIONS_INIT or
 *  nr_urls_options_init(). */
typedef struct nr_urls_options {
	unsigned int version;     /**< NR_URLS_OPTIONS_VERSION */
	unsigned int threshold;   /**< first unprivileged port (default NR_UNPRIVILEGED_PORT_START) */
	nr_urls_host host;        /**< default NR_URLS_HOST_WEBAPP */
	unsigned int flags;       /**< NR_URLS_NO_UNPREFIXED */
} nr_urls_options;

/** The struct version this header was written for (the first field of the options). */
#define NR_URLS_OPTIONS_VERSION 1
/** Static initialiser with the defaults (same as the matching *_init() function). */
#define NR_URLS_OPTIONS_INIT { NR_URLS_OPTIONS_VERSION, NR_UNPRIVILEGED_PORT_START, \
	NR_URLS_HOST_WEBAPP, 0 }

/** Initialise @p opts with the defaults. @return 0, or NR_EARG for an unknown @p version. */
NR_EXTERN(int) nr_urls_options_init(nr_urls_options *opts, unsigned int version);

/** Where the effective bindings came from. */
typedef enum nr_urls_source {
	NR_URLS_SOURCE_DEFAULT = 0,   /**< nothing usable set: http://localhost:5000 */
	NR_URLS_SOURCE_URLS = 1,      /**< the urls key */
	NR_URLS_SOURCE_PORTS = 2,     /**< http_ports / https_ports */
	NR_URLS_SOURCE_ENDPOINTS = 3  /**< Kestrel:Endpoints:NAME:Url variables, which override the
	                                   addresses (unless preferHostingUrls is true) */
} nr_urls_source;

/** @return "default", "urls", "http_ports" or "kestrel_endpoints" (JSON names; static). */
NR_EXTERN(const char *) nr_urls_source_name(nr_urls_source source);

/** One effective binding (borrowed from its nr_bindings). */
typedef struct nr_binding {
	const char *url;          /**< the address, NUL-terminated ("http://+:8080"-like; ports give "http://[*]:N") */
	size_t url_len;           /**< strlen(url) */
	nr_url parsed;            /**< spans index url */
	int privileged;           /**< nr_url_is_privileged() with the options' threshold */
	const char *variable;     /**< the variable it came from, NULL for the default */
} nr_binding;

/** The effective bindings of an environment (opaque; nr_bindings_from_env()). */
typedef struct nr_bindings nr_bindings;

/**
 * Compute what Kestrel would bind for an environment: the addresses of GenericWebHostService
 * (URLS, else HTTP_PORTS/HTTPS_PORTS), unless Kestrel endpoints are configured through the
 * environment (Kestrel__Endpoints__NAME__Url, bound in ConfigurationKeyComparer order), which
 * win with Kestrel's "Overriding address(es) '...'" warning; ASPNETCORE_PREFERHOSTINGURLS=true
 * (or 1) makes the addresses win instead. Nothing: http://localhost:5000.
 * @param[out] out  new object owned by the caller (nr_bindings_free()); NULL on failure
 * @param envp  NULL-terminated "NAME=VALUE" strings (entries without '=' are ignored); the last
 *              of two entries for the same variable wins
 * @param opts  NULL for the defaults
 * @param err optional error details (may be NULL)
 * @return 0; NR_EINVALID with Kestrel's message in *err (source = the variable) when an address
 *         would make Kestrel fail to start; NR_ENOMEM; NR_EARG
 */
NR_EXTERN(int) nr_bindings_from_env(nr_bindings **out, const char *const *envp,
	const nr_urls_options *opts, nr_error *err);

/** @return which variables the bindings came from (urls, ports, endpoints or the default) */
NR_EXTERN(nr_urls_source) nr_bindings_source(const nr_bindings *b);
/** @return the number of bindings */
NR_EXTERN(size_t) nr_bindings_count(const nr_bindings *b);
/** @return the i-th binding (borrowed), NULL when out of range */
NR_EXTERN(const nr_binding *) nr_bindings_at(const nr_bindings *b, size_t i);
/** @return 1 when any binding is privileged, else 0 */
NR_EXTERN(int) nr_bindings_any_privileged(const nr_bindings *b);
/** Warnings in order: which prefix won, Kestrel's "Overriding HTTP_PORTS '...' and
 *  HTTPS_PORTS '...'. Binding to values defined by URLS instead '...'.", port fallbacks, and
 *  two bindings of one port on a shared address (Kestrel fails: address already in use). */
NR_EXTERN(size_t) nr_bindings_warning_count(const nr_bindings *b);
/** @return the i-th warning (borrowed), NULL when out of range */
NR_EXTERN(const char *) nr_bindings_warning_at(const nr_bindings *b, size_t i);
/**
 * The variable that supplies @p key (highest precedence among those present, even when empty).
 * @param[out] value  its value (may be NULL)
 * @param b the bindings
 * @param key the setting to look up (URLS, HTTP_PORTS, ...)
 * @return the variable's name as written in envp, or NULL when none is set (borrowed)
 */
NR_EXTERN(const char *) nr_bindings_variable(const char **value, const nr_bindings *b,
	nr_urls_key key);
/** NULL is a no-op. */
NR_EXTERN(void) nr_bindings_free(nr_bindings *b);

/**
 * The bindings as a JSON document (the shape of `nonroot urls --json`, docs/schemas/urls.json):
 * {"effective": "urls|http_ports|kestrel_endpoints|default", "variables": {"urls"|"http_ports"|
 * "https_ports": {"name", "value"}}, "warnings": [...], "bindings": [{"url", "scheme", "host",
 * "port", "path_base", "kind", "privileged", "port_defaulted", "port_fallback", "variable"}]}.
 * Bytes that are not UTF-8 are written as U+FFFD.
 * @param[out] out  new NUL-terminated compact JSON, free with nr_free(); NULL on failure
 * @param[out] len  its length (may be NULL)
 * @param b the bindings
 * @param err optional error details (may be NULL)
 * @return 0, NR_ENOMEM, NR_EARG
 */
NR_EXTERN(int) nr_bindings_to_json(char **out, size_t *len, const nr_bindings *b,
	nr_error *err);

/* ---- rewriting ports ---------------------------------------------------------------------- */

/** Most entries a port map holds. */
#define NR_PORTMAP_MAX 32

/** A port map ("80:8080,443:8443"). Plain data: no allocation, safe to copy. */
typedef struct nr_portmap {
	size_t count;   /**< entries used */
	struct { uint16_t from, to; } entries[NR_PORTMAP_MAX];   /**< FROM:TO pairs, in order */
	void *reserved[2];     /**< zero; room for fields added later without an ABI break */
} nr_portmap;

/**
 * Parse "FROM:TO[,FROM:TO...]": ports 1..65535, decimal digits only, no spaces, each FROM once.
 * @return 0, NR_EINVALID or NR_ERANGE (details in *err), NR_ETOOBIG over NR_PORTMAP_MAX pairs
 */
NR_EXTERN(int) nr_portmap_parse(nr_portmap *map, const char *s, size_t len, nr_error *err);
/** The default map of the non-root .NET images: 80:8080,443:8443. */
NR_EXTERN(void) nr_portmap_default(nr_portmap *map);
/** @return the target of @p from, or -1 when @p from is not mapped */
NR_EXTERN(int) nr_portmap_lookup(const nr_portmap *map, int32_t from);

/** nr_urls_rewrite() flags: keep each old binding and add the mapped one after it
 *  ("http://+:80" → "http://+:80;http://+:8080"; "80" → "80;8080"). */
#define NR_REWRITE_COMPAT 0x01u

/**
 * The new value of variable @p name (a URLS or PORTS variable, see nr_urls_key_of()) with only
 * port numbers changed: every other byte (scheme case, host, path base, separators, spaces,
 * order) is kept; where a URL relied on the default port an explicit one is added
 * ("http://+" → "http://+:8080"). Unix sockets, pipes and port 0 are left alone.
 * @param[out] out     new NUL-terminated value, free with nr_free(); NULL on failure
 * @param[out] outlen  its length (may be NULL)
 * @param threshold    first unprivileged port, as for nr_url_is_privileged() (usually 1024)
 * @param name the variable name (decides how value is read: URLs or ports)
 * @param value the variable value
 * @param len length of value in bytes
 * @param map the port map (e.g. 80:8080,443:8443)
 * @param flags 0, or the compat flag: keep each old binding and add the mapped one
 * @param err optional error details (may be NULL)
 * @return the number of ports changed (>= 0); NR_EINVALID when an entry does not parse, when a
 *         privileged port has no mapping (the message lists them all) or when a port is not a
 *         number and its default would be mapped; NR_ECONFLICT when the new value would bind
 *         a port twice on the same address where the old one did not (Kestrel would fail with
 *         "address already in use": "http://+:80;http://+:8080" with 80:8080); NR_EARG for a
 *         name that is not a URLS/PORTS variable; NR_ENOMEM
 */
NR_EXTERN(int) nr_urls_rewrite(char **out, size_t *outlen, const char *name, const char *value,
	size_t len, const nr_portmap *map, unsigned int threshold, unsigned int flags,
	nr_error *err);

NR_END_DECL

#endif
