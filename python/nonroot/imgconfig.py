"""Image configurations (imgconfig.h): read and edit, keeping every field not touched."""
from typing import List, Mapping, Optional, Tuple

from ._native import ffi, lib
from ._util import (Handle, Text, call, check_rc, cstr, new_object, owned_string, port_map,
                    strings, text, to_bytes)
from .urls import UNPRIVILEGED_PORT_START, Bindings

__all__ = ["ImageConfig", "parse_port_key"]


class ImageConfig(Handle):
    """An OCI image config (or Docker v1 config) being read or edited.
    str(cfg) is the compact JSON (keys in their original order)."""
    _factory = "ImageConfig.parse() / Image.config()"

    @classmethod
    def parse(cls, json: Text) -> "ImageConfig":
        """Parse config JSON text."""
        data = to_bytes(json)
        return cls._wrap(new_object(lib.nr_imgconfig_parse, "nr_imgconfig",
                                    lib.nr_imgconfig_free, data, len(data)))

    def _repr_fields(self) -> str:
        return "user=%r env=%d exposed=%r layers=%d" % (
            self.user, len(self.env), self.exposed_ports, len(self.diff_ids))

    def serialize(self) -> str:
        """The config as compact JSON (the same as str())."""
        return owned_string(lib.nr_imgconfig_serialize, self._ptr) or ""

    def __str__(self) -> str:
        return self.serialize()

    def string(self, path: str) -> Optional[str]:
        """A string field by dotted path ("os", "config.User", ...); None when absent."""
        return text(lib.nr_imgconfig_string(self._ptr, cstr(path)))

    @property
    def user(self) -> str:
        """config.User ("" when absent)."""
        return text(lib.nr_imgconfig_user(self._ptr)) or ""

    @user.setter
    def user(self, value: str) -> None:
        call(lib.nr_imgconfig_set_user, self._ptr, cstr(value))

    @property
    def env(self) -> List[str]:
        """config.Env as "NAME=VALUE" strings."""
        return strings([text(lib.nr_imgconfig_env_at(self._ptr, i))
                        for i in range(lib.nr_imgconfig_env_count(self._ptr))])

    def env_get(self, name: str) -> Optional[str]:
        """The value the runtime sees (the last entry wins); None when not set."""
        return text(lib.nr_imgconfig_env_get(self._ptr, cstr(name)))

    def env_set(self, name: str, value: str) -> bool:
        """Set a variable (in place, or appended). True when the config changed."""
        return call(lib.nr_imgconfig_env_set, self._ptr, cstr(name), cstr(value)) == 1

    def bindings(self, threshold: int = UNPRIVILEGED_PORT_START) -> Bindings:
        """The image's effective Kestrel bindings (nr_imgconfig_bindings): the same answer
        as audit, patch, k8s and `nonroot urls` with the image's Env."""
        opts = ffi.new("nr_urls_options *")
        check_rc(lib.nr_urls_options_init(opts, lib.NR_URLS_OPTIONS_VERSION))
        opts.threshold = threshold
        return Bindings._new(new_object(lib.nr_imgconfig_bindings, "nr_bindings",
                                        lib.nr_bindings_free, self._ptr, opts))

    @property
    def exposed_ports(self) -> List[str]:
        """config.ExposedPorts keys ("80/tcp", ...)."""
        return strings([text(lib.nr_imgconfig_exposed_at(self._ptr, i))
                        for i in range(lib.nr_imgconfig_exposed_count(self._ptr))])

    def map_exposed(self, ports: Mapping[int, int], keep_old: bool = False) -> int:
        """Map ExposedPorts through {from: to}; the number of keys added or removed."""
        src, dst, n = port_map(ports)
        return call(lib.nr_imgconfig_map_exposed, self._ptr, src, dst, n, int(keep_old))

    @property
    def healthcheck(self) -> Optional[str]:
        """The health check command without its CMD/CMD-SHELL marker; None when none."""
        return owned_string(lib.nr_imgconfig_healthcheck, self._ptr, with_len=False)

    def map_healthcheck(self, ports: Mapping[int, int]) -> int:
        """Rewrite http(s) URL ports in the health check; the number of URLs rewritten."""
        src, dst, n = port_map(ports)
        return call(lib.nr_imgconfig_map_healthcheck, self._ptr, src, dst, n)

    @property
    def diff_ids(self) -> List[str]:
        """rootfs.diff_ids: one digest per layer, bottom first."""
        return strings([text(lib.nr_imgconfig_diff_id_at(self._ptr, i))
                        for i in range(lib.nr_imgconfig_diff_id_count(self._ptr))])

    @property
    def history_count(self) -> int:
        """The number of history entries."""
        return int(lib.nr_imgconfig_history_count(self._ptr))

    @property
    def history_in_step(self) -> bool:
        """Whether the non-empty history entries match the layers one to one."""
        return bool(lib.nr_imgconfig_history_in_step(self._ptr))

    def append_layer(self, diff_id: str, created: Optional[str] = None,
                     created_by: Optional[str] = None, comment: Optional[str] = None) -> bool:
        """Append a layer's diff_id (and a history entry); True when history was added."""
        return call(lib.nr_imgconfig_append_layer, self._ptr, cstr(diff_id), cstr(created),
                    cstr(created_by), cstr(comment)) == 1


def parse_port_key(key: str) -> Tuple[int, str]:
    """An ExposedPorts key ("8080/tcp", "53/udp", "80") as (port, protocol)."""
    data = cstr(key)
    port = ffi.new("uint16_t *")
    proto = ffi.new("const char **")
    call(lib.nr_imgconfig_parse_port_key, port, proto, data)
    return int(port[0]), text(proto[0]) or "tcp"
