"""Orthanc configuration files read as the endpoints they would start.

An Orthanc configuration is JSON with // and /* */ comments, one file or a directory whose
*.json files are merged (as Orthanc does: /etc/orthanc holds orthanc.json, credentials.json,
dicomweb.json ...). Each configuration becomes one dicomweb.endpoint (its HTTP server) and one
dimse.endpoint (its DICOM server), with Orthanc's defaults for what it leaves out, so the same
policies judge a file in a repository and the server that runs it.

Defaults are those of Orthanc 1.10 and later: remote access off; when remote access is on and
AuthenticationEnabled is absent, authentication is switched on; with authentication on and no
RegisteredUsers, Orthanc creates the user orthanc/orthanc itself (seen in its log:
"Creating a default user").
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cloudscan.inputs import InputError, read_text
from cloudscan.model import Document, file_source, mark_unknown, new_resource, scan_error
from cloudscan.providers.endpoints import DEFAULT_LOGINS, unreadable_dicomweb, unreadable_dimse

SKIPPED_DIRS = {".terraform", ".git", "node_modules"}
ORTHANC_KEYS = {
    "DicomWeb",
    "Plugins",
    "DicomModalities",
    "OrthancPeers",
    "LuaScripts",
    "ExecuteLuaEnabled",
    "RestApiWriteToFileSystemEnabled",
    "HttpServerEnabled",
    "DicomServerEnabled",
    "RemoteAccessAllowed",
    "AuthenticationEnabled",
    "RegisteredUsers",
    "DicomAet",
    "HttpPort",
    "DicomPort",
    "StorageDirectory",
    "DicomAlwaysAllowStore",
    "DicomCheckCalledAet",
    "SslEnabled",
}
FACTORY_LOGINS = {login for logins in DEFAULT_LOGINS.values() for login in logins}
# SslMinimumProtocolVersion: 0 SSLv2+ ... 3 TLS 1.1+, 4 TLS 1.2+ (Orthanc's own numbering)
TLS_FROM = {0: 0, 1: 0, 2: 0, 3: 1, 4: 2}
TLS_NAMES = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
MAX_BYTES = 2_000_000
MAX_SETTINGS = 2_000  # Orthanc and its plugins know a few hundred
# Settings cloudscan reads whose JSON type Orthanc checks when it starts: a port given as an
# object, an AE title given as a list, a TLS version given as true all stop it.
TYPED_SETTINGS: dict[str, tuple[type, ...]] = {
    "HttpPort": (int,),
    "DicomPort": (int,),
    "SslMinimumProtocolVersion": (int,),
    "DicomAet": (str,),
    "Plugins": (list,),
    "RegisteredUsers": (dict,),
    "DicomWeb": (dict,),
}
TYPE_NAMES = {int: "a whole number", str: "a string", list: "a list", dict: "an object"}
BOOLEAN_SETTINGS = {
    "RemoteAccessAllowed",
    "AuthenticationEnabled",
    "SslEnabled",
    "HttpServerEnabled",
    "ExecuteLuaEnabled",
    "RestApiWriteToFileSystemEnabled",
    "DicomServerEnabled",
    "DicomAlwaysAllowEcho",
    "DicomAlwaysAllowStore",
    "DicomAlwaysAllowFind",
    "DicomAlwaysAllowGet",
    "DicomAlwaysAllowMove",
    "DicomCheckCalledAet",
}


class ConfigError(Exception):
    def __init__(self, file: str, line: int | None, message: str) -> None:
        super().__init__(message)
        self.file, self.line = file, line


def find_configs(paths: list[Path]) -> list[list[Path]]:
    """Configurations under `paths`. A directory holding orthanc.json is one configuration of
    orthanc.json and the *.json files beside it that hold Orthanc settings (credentials.json,
    dicomweb.json ... as in /etc/orthanc; package.json is not one), or that do not parse (Orthanc
    would refuse them). Every other orthanc*.json file (orthanc-dev.json beside orthanc.json, or
    alone) is a configuration of its own, and so is a .json file named on the command line
    that holds Orthanc settings."""
    found: list[list[Path]] = []
    for path in paths:
        if path.is_file():
            if path.suffix == ".json" and not path.name.endswith(".tf.json") and _looks_like_orthanc(path):
                found.append([path])
            continue
        for directory, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.startswith("."))
            names = sorted(f for f in files if f.endswith(".json") and not f.endswith(".tf.json"))
            here = Path(directory)
            alone = [n for n in names if n.lower().startswith("orthanc") and n != "orthanc.json"]
            found.extend([here / n] for n in alone)
            if "orthanc.json" in names:
                others = [n for n in names if n not in alone and n != "orthanc.json"]
                merged = [n for n in others if _looks_like_orthanc(here / n)]
                found.append([here / "orthanc.json", *(here / n for n in merged)])
    return found


def _looks_like_orthanc(path: Path) -> bool:
    """Holds Orthanc settings, or does not parse (then reported, as Orthanc would refuse it)."""
    try:
        value = parse(read_text(path, MAX_BYTES), str(path))
    except (InputError, ConfigError):
        return True
    return isinstance(value, dict) and bool(ORTHANC_KEYS & set(value))


def parse(text: str, file: str) -> Any:
    """JSON with comments, as Orthanc's parser accepts it."""
    try:
        return json.loads(_strip_comments(text), parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise ConfigError(file, exc.lineno, f"not valid JSON: {exc.msg}") from None
    except ValueError as exc:  # NaN, Infinity
        raise ConfigError(file, None, f"not valid JSON: {exc}") from None
    except RecursionError:
        raise ConfigError(file, None, "not valid JSON for Orthanc: values nested too deeply") from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value (Orthanc's parser refuses it)")


def _strip_comments(text: str) -> str:
    """Blank out // and /* */ comments outside strings, keeping line numbers."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            i = j + 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            end = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:end]))
            i = end
        else:
            out.append(c)
            i += 1
    return "".join(out)


def read_config(files: list[Path], display: Any) -> tuple[list[Document], list[ConfigError]]:
    """The two documents of one configuration, and what is wrong with its files. A configuration
    Orthanc would refuse (a file that does not parse, a setting defined twice, a true/false
    setting that is not true or false) gives documents whose every field is unknown: what it
    would start cannot be told, and a guess from the other files could pass what is open."""
    settings: dict[str, Any] = {}
    where: dict[str, tuple[str, int]] = {}  # setting -> (file, line) for source locations
    problems: list[ConfigError] = []
    for file in files:
        shown = display(file)
        try:
            text = read_text(file, MAX_BYTES)
            value = parse(text, shown)
        except InputError as exc:
            problems.append(ConfigError(shown, None, str(exc)))
            continue
        except ConfigError as exc:
            problems.append(exc)
            continue
        if not isinstance(value, dict):
            problems.append(ConfigError(shown, 1, "an Orthanc configuration is a JSON object"))
            continue
        if len(value) > MAX_SETTINGS:
            problems.append(ConfigError(shown, 1, f"more than {MAX_SETTINGS} settings: not Orthanc's"))
            continue
        for key in value:
            match = re.search(rf'"{re.escape(key)}"\s*:', text)
            line = text.count("\n", 0, match.start()) + 1 if match else 1
            if key in where:
                problems.append(
                    ConfigError(
                        shown, line, f"{key} is also set in {where[key][0]}: Orthanc refuses to start"
                    )
                )
            where[key] = (shown, line)
        settings.update(value)
    for key in sorted(BOOLEAN_SETTINGS & set(settings)):
        if not isinstance(settings[key], bool):
            shown, line = where[key]
            problems.append(
                ConfigError(shown, line, f"{key} must be true or false: Orthanc refuses to start")
            )
    for key in sorted(set(TYPED_SETTINGS) & set(settings)):
        value, expected = settings[key], TYPED_SETTINGS[key]
        if isinstance(value, bool) or not isinstance(value, expected):
            shown, line = where[key]
            problems.append(
                ConfigError(shown, line, f"{key} must be {TYPE_NAMES[expected[0]]}: Orthanc refuses to start")
            )
    if not where and not problems:
        return [], problems
    main = display(files[0])
    if problems:
        return _undecidable(main, problems), problems
    return [_http_endpoint(settings, where, main), _dicom_endpoint(settings, where, main)], problems


def _undecidable(main: str, problems: list[ConfigError]) -> list[Document]:
    source = file_source("config", main, 1, 1)
    why = "; ".join(f"{p.file}" + (f":{p.line}" if p.line else "") + f": {p}" for p in problems)[:500]
    failure = {"call": "orthanc:parse", "code": "InvalidConfiguration", "message": why}
    address = {"host": "*", "port": 4242, "called_ae": None}
    return [
        unreadable_dicomweb(
            f"{main}#http", "orthanc", f"{main} (HTTP server)", source, "http://*", **failure
        ),
        unreadable_dimse(f"{main}#dicom", "orthanc", f"{main} (DICOM server)", source, address, **failure),
    ]


def _source(where: dict[str, tuple[str, int]], main: str, *keys: str) -> dict[str, Any]:
    for key in keys:
        if key in where:
            file, line = where[key]
            return file_source("config", file, line, line)
    return file_source("config", main, 1, 1)


def _point(doc: Document, where: dict[str, tuple[str, int]], pointers: list[str], *keys: str) -> None:
    """Record the line of the first of `keys` the files set, as where `pointers` come from."""
    for key in keys:
        if key in where:
            file, line = where[key]
            fields = doc["source"].setdefault("fields", {})
            for pointer in pointers:
                fields[pointer] = {"file": file, "line": line}
            return


def _flag(settings: dict[str, Any], key: str, default: bool) -> bool:
    value = settings.get(key, default)
    return value if isinstance(value, bool) else default  # a non-boolean was reported by read_config


def _http_endpoint(settings: dict[str, Any], where: dict[str, tuple[str, int]], main: str) -> Document:
    remote = _flag(settings, "RemoteAccessAllowed", False)
    auth_said = settings.get("AuthenticationEnabled")
    auth = _flag(settings, "AuthenticationEnabled", False) if auth_said is not None else remote
    users = settings.get("RegisteredUsers") or {}
    users = users if isinstance(users, dict) else {}
    ssl = _flag(settings, "SslEnabled", False)
    http_on = _flag(settings, "HttpServerEnabled", True)
    port = settings.get("HttpPort", 8042)
    dicomweb = settings.get("DicomWeb")
    dicomweb = dicomweb if isinstance(dicomweb, dict) else {}
    root = str(dicomweb.get("Root", "/dicom-web/")).rstrip("/")
    # A plugin folder (the Docker images load every plugin in one) may hold DICOMweb: assume it does.
    plugins = [str(p).lower() for p in settings.get("Plugins") or [] if isinstance(p, str)]
    plugin = bool(dicomweb) or any(
        "dicomweb" in p or not p.endswith((".so", ".dll", ".dylib")) for p in plugins
    )
    dicomweb_on = plugin and _flag(dicomweb, "Enable", True)
    url = f"{'https' if ssl else 'http'}://*:{port}{root}"

    key = "AuthenticationEnabled" if auth_said is not None else "RemoteAccessAllowed"
    doc = new_resource(
        "dicomweb.endpoint",
        "orthanc",
        f"{main}#http",
        name=f"{main} (HTTP server)",
        source=_source(where, main, key, "RemoteAccessAllowed", "HttpPort"),
    )
    doc["url"] = url
    if not http_on:
        state, why = "absent", "HttpServerEnabled false"
    elif not remote and not auth:
        # Orthanc answers other machines with 401, but anything on this one gets in without a
        # login, and that is where a reverse proxy in front of it connects from.
        state, why = (
            None,
            (
                "RemoteAccessAllowed false without authentication: open to this machine, "
                "including a reverse proxy in front of Orthanc, whose login is not in this file"
            ),
        )
    elif not remote:
        state, why = "protected", "RemoteAccessAllowed false, AuthenticationEnabled true"
    elif auth:
        state, why = (
            "protected",
            (
                "AuthenticationEnabled true"
                if auth_said is not None
                else "RemoteAccessAllowed true, AuthenticationEnabled absent: Orthanc turns it on"
            ),
        )
    else:
        state, why = "open", "RemoteAccessAllowed true, AuthenticationEnabled false"
    web_state = state if dicomweb_on else "absent"
    web_why = why if dicomweb_on else "DICOMweb plugin not loaded or not enabled"
    observed = {"search": web_why, "retrieve": web_why, "store": why, "rest_api": why, "admin_ui": why}
    if state != "protected" or not remote:
        login, observed["default_credentials"] = "not-checked", "no login in use from other machines"
    elif not users:
        login, observed["default_credentials"] = (
            "accepted",
            "no RegisteredUsers: Orthanc creates orthanc/orthanc",
        )
    elif FACTORY_LOGINS & {(str(u), str(p)) for u, p in users.items()}:
        login, observed["default_credentials"] = (
            "accepted",
            "RegisteredUsers holds a documented default login",
        )
    else:
        login, observed["default_credentials"] = "refused", "RegisteredUsers declares its own users"
    doc["access"] = {
        "search": web_state,
        "retrieve": web_state,
        "store": state,
        "rest_api": state,
        "admin_ui": state,
        "authentication": "basic" if auth else "none",
        "default_credentials": login,
        "observed": observed,
    }
    doc["product"] = {"name": "orthanc", "version": None, "version_disclosed": state == "open"}
    if state == "open" and not plugin and "Plugins" not in settings:
        # Docker images load plugins from environment variables, outside this file.
        mark_unknown(
            doc,
            ["/access/search", "/access/retrieve"],
            call="orthanc:config",
            code="PluginsUnknown",
            message="no Plugins setting: whether the DICOMweb plugin is loaded is not in this file "
            "(Docker images enable it through environment variables)",
        )
    if state is None:
        fields = ["search", "retrieve", "store", "rest_api", "admin_ui"]
        mark_unknown(
            doc,
            [f"/access/{f}" for f in fields] + ["/product/version_disclosed"],
            call="orthanc:config",
            code="DependsOnProxy",
            message=why,
        )
    versions = None
    if ssl:
        minimum = settings.get("SslMinimumProtocolVersion", 4)
        versions = TLS_NAMES[TLS_FROM.get(minimum, 2) if isinstance(minimum, int) else 2 :]
    doc["transport"] = {
        "scheme": "https" if ssl else "http",
        "redirects_to_https": False if not ssl else None,
        "tls_versions": versions,
        "certificate": None,
    }
    if ssl:  # a certificate is judged by connecting to the server, not from a file path
        mark_unknown(
            doc,
            ["/transport/certificate"],
            call="orthanc:config",
            code="NotInConfig",
            message="a certificate is judged by connecting: scan the running server with scan dicomweb",
        )
    doc["cors"] = {"allow_any_origin": False, "reflects_origin": False, "allow_credentials": False}
    doc["hardening"] = {
        "lua_scripts": _flag(settings, "ExecuteLuaEnabled", False),
        "rest_api_writes_filesystem": _flag(settings, "RestApiWriteToFileSystemEnabled", False),
    }
    access_keys = ("AuthenticationEnabled", "RemoteAccessAllowed", "HttpServerEnabled")
    _point(
        doc,
        where,
        [f"/exposure/unauthenticated_{f}" for f in ("search", "retrieve", "store", "admin")]
        + ["/access", "/product"],
        *access_keys,
    )
    _point(doc, where, ["/exposure/default_credentials"], "RegisteredUsers", *access_keys)
    _point(doc, where, ["/transport", "/exposure/password_in_clear"], "SslEnabled", *access_keys)
    _point(doc, where, ["/transport/tls_versions"], "SslMinimumProtocolVersion", "SslEnabled")
    _point(doc, where, ["/hardening/lua_scripts"], "ExecuteLuaEnabled")
    _point(doc, where, ["/hardening/rest_api_writes_filesystem"], "RestApiWriteToFileSystemEnabled")
    return doc


def _dicom_endpoint(settings: dict[str, Any], where: dict[str, tuple[str, int]], main: str) -> Document:
    port = settings.get("DicomPort", 4242)
    doc = new_resource(
        "dimse.endpoint",
        "orthanc",
        f"{main}#dicom",
        name=f"{main} (DICOM server)",
        source=_source(where, main, "DicomAlwaysAllowFind", "DicomAlwaysAllowStore", "DicomPort"),
    )
    doc["address"] = {
        "host": "*",
        "port": port if isinstance(port, int) and 0 < port < 65536 else 4242,
        "called_ae": str(settings.get("DicomAet", "ORTHANC")),
    }
    server_on = _flag(settings, "DicomServerEnabled", True)
    echo = _flag(settings, "DicomAlwaysAllowEcho", True)
    store = _flag(settings, "DicomAlwaysAllowStore", True)
    # C-GET and C-MOVE hand out studies as a C-FIND does: the query rule covers all three.
    find = _flag(settings, "DicomAlwaysAllowFind", False)
    get_move = _flag(settings, "DicomAlwaysAllowGet", False) or _flag(settings, "DicomAlwaysAllowMove", False)
    associate = server_on and (echo or store or find or get_move)
    checked = _flag(settings, "DicomCheckCalledAet", False)

    def said(key: str, value: bool) -> str:
        return f"{key} {str(value).lower()}" + ("" if key in settings else " (default)")

    off = "DicomServerEnabled false"
    doc["unknown_ae"] = {
        "associate": associate,
        "any_called_ae": associate and not checked,
        "echo": associate and echo,
        "find": associate and (find or get_move),
        "store_context": associate and store,
        "observed": {
            "any_called_ae": off if not server_on else said("DicomCheckCalledAet", checked),
            "echo": off if not server_on else said("DicomAlwaysAllowEcho", echo),
            "find": off
            if not server_on
            else said("DicomAlwaysAllowFind", find)
            + (", DicomAlwaysAllowGet or DicomAlwaysAllowMove true" if get_move else ""),
            "store_context": off if not server_on else said("DicomAlwaysAllowStore", store),
        },
    }
    doc["_meta"]["not_collected"].append("/implementation")
    query_keys = [
        k
        for k in ("DicomAlwaysAllowFind", "DicomAlwaysAllowGet", "DicomAlwaysAllowMove")
        if settings.get(k) is True
    ] or ["DicomAlwaysAllowFind"]
    _point(doc, where, ["/exposure/unauthenticated_query"], *query_keys, "DicomServerEnabled")
    _point(
        doc,
        where,
        ["/exposure/unauthenticated_store_possible"],
        "DicomAlwaysAllowStore",
        "DicomServerEnabled",
    )
    _point(doc, where, ["/exposure/called_ae_unchecked"], "DicomCheckCalledAet", "DicomServerEnabled")
    _point(doc, where, ["/exposure/unauthenticated_echo"], "DicomAlwaysAllowEcho", "DicomServerEnabled")
    return doc


def enumerate_configs(paths: list[Path], errors: list[dict[str, Any]], display: Any) -> Iterator[Document]:
    for files in find_configs(paths):
        documents, problems = read_config(files, display)
        for problem in problems:
            where = problem.file + (f":{problem.line}" if problem.line else "")
            errors.append(scan_error("orthanc:parse", "FileError", str(problem), where))
        yield from documents
