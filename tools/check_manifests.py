#!/usr/bin/env python3
"""tools/check_manifests.py - check tarn's packaging manifests and version numbers.

The Zephyr, ESP-IDF and PlatformIO toolchains are not needed to build or test tarn, so
their manifests are checked here instead, with the Python standard library only:

  zephyr/module.yml       well-formed, name and build keys, the paths it names exist
  zephyr/Kconfig          one option per tarn compile-time option of include/tarn/config.h,
                          with the same default; every option used by zephyr/CMakeLists.txt
                          or zephyr/include/tarn_zephyr_config.h is defined, and the other
                          way round; the paths zephyr/CMakeLists.txt names exist
  idf_component.yml       well-formed, known keys, version, dependencies.idf; the paths
                          ports/esp-idf/tarn/CMakeLists.txt names exist
  library.json            well-formed JSON, known keys, required fields, srcDir, includeDir
                          and headers exist
  versions                include/tarn/tarn.h, CHANGELOG.md (Keep a Changelog), the CMake
                          project, idf_component.yml and library.json agree; with
                          --installed PREFIX also the installed tarnConfigVersion.cmake and
                          tarn.pc

Usage:
  tools/check_manifests.py [--installed PREFIX] [--root DIR]
                                                  check; exit 1 and list every problem
  tools/check_manifests.py --platformio-build     print what PlatformIO would compile for
                                                  library.json ("source", "include", "flag"
                                                  lines), for tests/consumers/run.sh

YAML is read by a small parser of the subset the manifests use (block mappings and
sequences, plain and quoted scalars, flow lists of scalars, comments); anything outside
that subset is reported as an error, which keeps the manifests simple.
"""

import argparse
import fnmatch
import glob
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

errors = []
warnings = []


def err(where, msg):
    errors.append("%s: %s" % (where, msg))


def warn(where, msg):
    warnings.append("%s: %s" % (where, msg))


def path(rel):
    return os.path.join(ROOT, rel)


def read(rel):
    with open(path(rel), encoding="utf-8") as f:
        return f.read()


# ---- a YAML subset ---------------------------------------------------------------------------
class YamlError(Exception):
    pass


def _strip_comment(line):
    quote = None
    for i, c in enumerate(line):
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i]
    return line


def _scalar(text, lineno):
    t = text.strip()
    if not t:
        return None
    if t[0] in "'\"":
        q = t[0]
        if len(t) < 2 or t[-1] != q:
            raise YamlError("line %d: unterminated quoted string" % lineno)
        body = t[1:-1]
        if q == "'":
            return body.replace("''", "'")
        return bytes(body, "utf-8").decode("unicode_escape")
    if t[0] == "[":
        if t[-1] != "]":
            raise YamlError("line %d: unterminated flow list" % lineno)
        inner = t[1:-1].strip()
        return [] if not inner else [_scalar(x, lineno) for x in inner.split(",")]
    if t[0] in "{&*!|>%@`":
        raise YamlError("line %d: YAML feature outside the supported subset: %s" % (lineno, t))
    if t in ("true", "True", "TRUE"):
        return True
    if t in ("false", "False", "FALSE"):
        return False
    if t in ("null", "~"):
        return None
    return t


def parse_yaml(text):
    lines = []
    for n, raw in enumerate(text.splitlines(), 1):
        if "\t" in raw[: len(raw) - len(raw.lstrip())]:
            raise YamlError("line %d: tab in indentation" % n)
        body = _strip_comment(raw).rstrip()
        if body.strip() in ("---", "..."):
            continue
        if body.strip():
            lines.append((n, len(body) - len(body.lstrip()), body.strip()))

    def block(i, indent):
        n, ind, content = lines[i]
        if ind != indent:
            raise YamlError("line %d: unexpected indentation" % n)
        if content == "-" or content.startswith("- "):
            return sequence(i, indent)
        return mapping(i, indent)

    def value_after(i, indent, rest, n):
        # the value of a key or list item whose text after the marker is `rest`
        if rest.strip():
            return _scalar(rest, n), i + 1
        if i + 1 < len(lines) and lines[i + 1][1] > indent:
            return block(i + 1, lines[i + 1][1])
        return None, i + 1

    def mapping(i, indent):
        out = {}
        while i < len(lines) and lines[i][1] == indent:
            n, _, content = lines[i]
            if content.startswith("- "):
                raise YamlError("line %d: list item where a key was expected" % n)
            m = re.match(r"""^("[^"]*"|'[^']*'|[^:'"]+?)\s*:(\s+(.*))?$""", content)
            if not m:
                raise YamlError("line %d: expected 'key: value'" % n)
            key = _scalar(m.group(1), n)
            if key in out:
                raise YamlError("line %d: duplicate key %r" % (n, key))
            out[key], i = value_after(i, indent, m.group(3) or "", n)
        if i < len(lines) and lines[i][1] > indent:
            raise YamlError("line %d: unexpected indentation" % lines[i][0])
        return out, i

    def sequence(i, indent):
        out = []
        while i < len(lines) and lines[i][1] == indent and (
                lines[i][2] == "-" or lines[i][2].startswith("- ")):
            n, _, content = lines[i]
            rest = content[1:]
            inner = rest.lstrip()
            if re.match(r"""^("[^"]*"|'[^']*'|[^:'"\[]+?)\s*:(\s|$)""", inner):
                # "- key: value" starts a mapping whose keys sit at the item's text column
                col = indent + 1 + (len(rest) - len(inner))
                lines[i] = (n, col, inner)
                item, i = mapping(i, col)
            else:
                item, i = value_after(i, indent, rest, n)
            out.append(item)
        return out, i

    if not lines:
        return None
    value, i = block(0, lines[0][1])
    if i != len(lines):
        raise YamlError("line %d: content after the document" % lines[i][0])
    return value


def load_yaml(rel):
    try:
        return parse_yaml(read(rel))
    except YamlError as e:
        err(rel, "not well-formed (in the supported YAML subset): %s" % e)
    except OSError as e:
        err(rel, "cannot read: %s" % e)
    return None


# ---- versions --------------------------------------------------------------------------------
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")


def header_version():
    txt = read("include/tarn/tarn.h")
    parts = []
    for k in ("MAJOR", "MINOR", "PATCH"):
        m = re.search(r"^#define TARN_VERSION_%s (\d+)\s*(/\*.*\*/\s*)?$" % k, txt, re.M)
        if not m:
            err("include/tarn/tarn.h", "no '#define TARN_VERSION_%s <number>'" % k)
            return None
        parts.append(str(int(m.group(1))))
    return ".".join(parts)


def vkey(v):
    return tuple(int(x) for x in v.split("."))


CHANGE_TYPES = ("Added", "Changed", "Deprecated", "Removed", "Fixed", "Security")


def check_changelog(version):
    rel = "CHANGELOG.md"
    if not os.path.isfile(path(rel)):
        err(rel, "missing")
        return
    lines = read(rel).splitlines()
    if not lines or lines[0].strip() != "# Changelog":
        err(rel, "must start with '# Changelog'")
    releases = []      # (version, lineno, entries)
    current = None
    for n, line in enumerate(lines, 1):
        if line.startswith("## "):
            m = re.match(r"^## \[(Unreleased|[^\]]+)\](?: - (\d{4}-\d{2}-\d{2}|Unreleased))?\s*$", line)
            if not m:
                err(rel, "line %d: release heading must be '## [X.Y.Z] - YYYY-MM-DD', "
                         "'## [X.Y.Z] - Unreleased' or '## [Unreleased]'" % n)
                current = None
                continue
            name = m.group(1)
            if name == "Unreleased":
                if releases:
                    err(rel, "line %d: [Unreleased] must come before every release" % n)
                current = None
                continue
            if not SEMVER.match(name):
                err(rel, "line %d: %r is not a MAJOR.MINOR.PATCH version" % (n, name))
            if m.group(2) is None:
                err(rel, "line %d: a release heading needs ' - YYYY-MM-DD' or ' - Unreleased'" % n)
            current = [name, n, 0]
            releases.append(current)
        elif line.startswith("### "):
            kind = line[4:].strip()
            if kind not in CHANGE_TYPES:
                err(rel, "line %d: change type %r is not one of %s" % (n, kind, ", ".join(CHANGE_TYPES)))
        elif line.lstrip().startswith("- ") and current is not None:
            current[2] += 1
    if not releases:
        err(rel, "no release section ('## [X.Y.Z] - ...')")
        return
    top = releases[0][0]
    if version and top != version:
        err(rel, "newest release is %s, include/tarn/tarn.h says %s" % (top, version))
    for name, n, entries in releases:
        if entries == 0:
            err(rel, "line %d: release %s lists no changes" % (n, name))
    good = [r for r in releases if SEMVER.match(r[0])]
    for a, b in zip(good, good[1:]):
        if vkey(a[0]) <= vkey(b[0]):
            err(rel, "line %d: releases must be newest first (%s before %s)" % (b[1], a[0], b[0]))


def check_cmake_version(version):
    rel = "CMakeLists.txt"
    txt = read(rel)
    m = re.search(r"project\(\s*tarn\s+VERSION\s+(\S+)", txt)
    if not m:
        err(rel, "no 'project(tarn VERSION ...)'")
        return
    v = m.group(1)
    if SEMVER.match(v):
        if v != version:
            err(rel, "project version %s, include/tarn/tarn.h says %s" % (v, version))
    elif not re.search(r"file\(STRINGS\s+include/tarn/tarn\.h\b[^)]*TARN_VERSION_", txt):
        err(rel, "project version %r is neither a literal nor read from include/tarn/tarn.h" % v)


def check_installed(prefix, version):
    found = glob.glob(os.path.join(prefix, "lib*", "cmake", "tarn", "tarnConfigVersion.cmake")) + \
        glob.glob(os.path.join(prefix, "lib", "*", "cmake", "tarn", "tarnConfigVersion.cmake"))
    if not found:
        err(prefix, "no installed tarnConfigVersion.cmake")
    for f in found:
        with open(f, encoding="utf-8") as fh:
            m = re.search(r'set\(PACKAGE_VERSION "([^"]*)"\)', fh.read())
        if not m or m.group(1) != version:
            err(f, "PACKAGE_VERSION %s, include/tarn/tarn.h says %s" % (m and m.group(1), version))
    pcs = glob.glob(os.path.join(prefix, "**", "tarn.pc"), recursive=True)
    if not pcs:
        err(prefix, "no installed tarn.pc")
    for f in pcs:
        with open(f, encoding="utf-8") as fh:
            m = re.search(r"^Version:\s*(\S+)\s*$", fh.read(), re.M)
        if not m or m.group(1) != version:
            err(f, "Version %s, include/tarn/tarn.h says %s" % (m and m.group(1), version))


# ---- paths named by CMake files ----------------------------------------------------------------
def check_cmake_paths(rel, variables):
    """Every '${VAR}/some/path' in the CMake file `rel` (VAR mapped to a folder relative to
    the repository root by `variables`) must name an existing file, folder, or glob that
    matches at least one file."""
    if not os.path.isfile(path(rel)):
        err(rel, "missing")
        return
    txt = read(rel)
    for var, base in variables.items():
        for m in re.finditer(r"\$\{%s\}/([^\s\)\"]+)" % re.escape(var), txt):
            target = os.path.normpath(os.path.join(path(base), m.group(1)))
            if not glob.glob(target):
                err(rel, "names %s, which does not exist" % os.path.relpath(target, ROOT))


# ---- Zephyr ----------------------------------------------------------------------------------------
ZEPHYR_BUILD_KEYS = {"cmake", "kconfig", "cmake-ext", "kconfig-ext", "sysbuild-cmake",
                     "sysbuild-kconfig", "sysbuild-cmake-ext", "sysbuild-kconfig-ext",
                     "depends", "settings"}


def config_options():
    """tarn's compile-time options: {name: default text} from include/tarn/config.h."""
    txt = read("include/tarn/config.h")
    opts = {}
    for m in re.finditer(r"^#ifndef (TARN_\w+)\n(?:/\*\*.*\*/\n)?#define \1(\(\w+\))?[ \t]+(.+)$", txt, re.M):
        opts[m.group(1)] = ("()" if m.group(2) else "") + m.group(3).strip()
    if not opts:
        err("include/tarn/config.h", "no '#ifndef TARN_X / #define TARN_X default' options found")
    return opts


def parse_kconfig(rel):
    """{symbol: {"type":..., "default":..., "line":n}} of a Kconfig file (the subset used)."""
    syms = {}
    cur = None
    for n, line in enumerate(read(rel).splitlines(), 1):
        s = line.strip()
        m = re.match(r"^(menu)?config\s+(\w+)$", s)
        if m:
            if m.group(2) in syms:
                err(rel, "line %d: %s defined twice" % (n, m.group(2)))
            cur = syms.setdefault(m.group(2), {"type": None, "default": None, "line": n})
            continue
        if re.match(r"^(if|endif|menu|endmenu|choice|endchoice|source|comment|mainmenu)\b", s):
            cur = None
            continue
        if cur is None:
            continue
        m = re.match(r'^(bool|int|hex|string|tristate)(\s+"[^"]*")?$', s)
        if m:
            cur["type"] = m.group(1)
            continue
        m = re.match(r"^default\s+(\S+)(\s+if\s+.*)?$", s)
        if m and cur["default"] is None:
            cur["default"] = m.group(1)
    for name, sym in syms.items():
        if sym["type"] is None:
            err(rel, "line %d: %s has no type" % (sym["line"], name))
    return syms


def _num(text):
    try:
        return int(text.rstrip("uUlL"), 0)
    except ValueError:
        return None


def check_zephyr():
    rel = "zephyr/module.yml"
    mod = load_yaml(rel)
    if mod is not None:
        if not isinstance(mod, dict):
            err(rel, "must be a mapping")
            mod = {}
        name = mod.get("name")
        if not isinstance(name, str) or not re.match(r"^[A-Za-z0-9_-]+$", name or ""):
            err(rel, "needs 'name:', letters, digits, '-' and '_' only")
        build = mod.get("build")
        if not isinstance(build, dict):
            err(rel, "needs a 'build:' mapping")
            build = {}
        for k in build:
            if k not in ZEPHYR_BUILD_KEYS:
                err(rel, "unknown key build.%s" % k)
        cm = build.get("cmake")
        if not isinstance(cm, str) or not os.path.isfile(path(os.path.join(cm, "CMakeLists.txt"))):
            err(rel, "build.cmake must name a folder (relative to the repository root) "
                     "holding a CMakeLists.txt; got %r" % cm)
        kc = build.get("kconfig")
        if not isinstance(kc, str) or not os.path.isfile(path(kc)):
            err(rel, "build.kconfig must name an existing Kconfig file; got %r" % kc)

    kconf = "zephyr/Kconfig"
    if not os.path.isfile(path(kconf)):
        err(kconf, "missing")
        return
    syms = parse_kconfig(kconf)
    if "TARN" not in syms:
        err(kconf, "no 'config TARN' (or menuconfig) enabling the library")
    mapping_rel = "zephyr/include/tarn_zephyr_config.h"
    mapping = read(mapping_rel) if os.path.isfile(path(mapping_rel)) else ""
    if not mapping:
        err(mapping_rel, "missing")
    cmake_rel = "zephyr/CMakeLists.txt"
    cmake = read(cmake_rel) if os.path.isfile(path(cmake_rel)) else ""
    if not cmake:
        err(cmake_rel, "missing")
    if mapping and "tarn_zephyr_config.h" not in cmake:
        err(cmake_rel, "does not name tarn_zephyr_config.h as TARN_CONFIG_FILE")

    # every tarn option has a Kconfig option with the same default, and is mapped
    for opt, default in config_options().items():
        sym = syms.get(opt)
        if sym is None:
            err(kconf, "no 'config %s' for tarn's option %s (include/tarn/config.h)" % (opt, opt))
            continue
        if not re.search(r"^#define %s\b" % opt, mapping, re.M):
            err(mapping_rel, "does not define %s from CONFIG_%s" % (opt, opt))
        if default.startswith("()") or _num(default) in (0, 1) and sym["type"] == "bool":
            want_on = False if default.startswith("()") else _num(default) == 1
            got_on = sym["default"] == "y"
            if sym["type"] != "bool":
                err(kconf, "%s: type %s, expected bool" % (opt, sym["type"]))
            elif want_on != got_on:
                err(kconf, "%s: default %s, include/tarn/config.h's default is %s" %
                    (opt, sym["default"] or "n", default))
        else:
            if sym["type"] not in ("int", "hex"):
                err(kconf, "%s: type %s, expected int or hex" % (opt, sym["type"]))
            elif sym["default"] is None or _num(sym["default"]) != _num(default):
                err(kconf, "%s: default %s, include/tarn/config.h's default is %s" %
                    (opt, sym["default"], default))

    # symbols used and symbols defined agree
    used = set(re.findall(r"\bCONFIG_(TARN\w*)", mapping + cmake))
    for s in sorted(used - set(syms)):
        err(kconf, "CONFIG_%s is used by the module but not defined here" % s)
    for s in sorted(set(syms) - used):
        err(kconf, "%s is defined but nothing uses it" % s)

    check_cmake_paths(cmake_rel, {"TARN_DIR": ".", "CMAKE_CURRENT_LIST_DIR": "zephyr"})


# ---- ESP-IDF ---------------------------------------------------------------------------------------
IDF_KEYS = {"version", "description", "url", "repository", "documentation", "issues",
            "discussion", "maintainers", "license", "tags", "dependencies", "files",
            "targets", "examples", "repository_info"}
IDF_COMPONENT_CMAKE = "ports/esp-idf/tarn/CMakeLists.txt"


def check_idf(version):
    rel = "idf_component.yml"
    man = load_yaml(rel)
    if man is not None:
        if not isinstance(man, dict):
            err(rel, "must be a mapping")
            man = {}
        for k in man:
            if k not in IDF_KEYS:
                err(rel, "unknown key %r" % k)
        if man.get("version") != version:
            err(rel, "version %r, include/tarn/tarn.h says %s" % (man.get("version"), version))
        if not isinstance(man.get("description"), str) or not man["description"].strip():
            err(rel, "needs a 'description:'")
        deps = man.get("dependencies")
        if not isinstance(deps, dict) or "idf" not in deps:
            err(rel, "needs 'dependencies: idf: \">=X.Y\"' (the ESP-IDF versions supported)")
        else:
            idf = deps["idf"]
            spec = idf.get("version") if isinstance(idf, dict) else idf
            if not isinstance(spec, str) or not re.match(r"^(>=|\^|~|==|>|<=|<)?\s*\d", spec):
                err(rel, "dependencies.idf must be a version spec like \">=4.4\"; got %r" % spec)
        for k in ("targets", "tags", "maintainers"):
            v = man.get(k)
            if v is not None and not (isinstance(v, list) and all(isinstance(x, str) for x in v)):
                err(rel, "%s must be a list of strings" % k)
        files = man.get("files")
        if files is not None:
            if not isinstance(files, dict) or set(files) - {"include", "exclude", "use_gitignore"}:
                err(rel, "files: may hold include, exclude and use_gitignore only")
            else:
                for k in ("include", "exclude"):
                    v = files.get(k)
                    if v is not None and not (isinstance(v, list) and all(isinstance(x, str) for x in v)):
                        err(rel, "files.%s must be a list of patterns" % k)
                for pat in files.get("exclude") or []:
                    for must in ("src/block.c", "include/tarn/tarn.h", IDF_COMPONENT_CMAKE):
                        if fnmatch.fnmatch(must, pat) or must.startswith(pat.rstrip("*").rstrip("/") + "/"):
                            err(rel, "files.exclude %r drops %s, which the component needs" % (pat, must))

    check_cmake_paths(IDF_COMPONENT_CMAKE, {"_tarn_dir": "."})
    if os.path.isfile(path(IDF_COMPONENT_CMAKE)) and \
            "idf_component_register" not in read(IDF_COMPONENT_CMAKE):
        err(IDF_COMPONENT_CMAKE, "does not call idf_component_register")
    # The component manager makes the repository root the component: its CMakeLists.txt
    # must hand over to the component file when ESP-IDF builds it.
    top = read("CMakeLists.txt")
    if "ESP_PLATFORM" in top:
        if IDF_COMPONENT_CMAKE not in top:
            err("CMakeLists.txt", "handles ESP_PLATFORM but does not include %s" % IDF_COMPONENT_CMAKE)
    else:
        warn("CMakeLists.txt", "does not include %s when ESP_PLATFORM is set, so a project "
             "that gets tarn through the component manager (idf_component.yml) cannot build "
             "it; EXTRA_COMPONENT_DIRS=<tarn>/ports/esp-idf/tarn works" % IDF_COMPONENT_CMAKE)


# ---- PlatformIO --------------------------------------------------------------------------------
PIO_KEYS = {"$schema", "name", "version", "description", "keywords", "homepage", "repository",
            "authors", "license", "frameworks", "platforms", "headers", "examples",
            "dependencies", "export", "scripts", "build"}
PIO_BUILD_KEYS = {"flags", "unflags", "includeDir", "srcDir", "srcFilter", "extraScript",
                  "libArchive", "libLDFMode", "libCompatMode", "builder"}


def _str_or_list(v):
    return isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v))


def load_library_json():
    rel = "library.json"
    try:
        with open(path(rel), encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        err(rel, "cannot read: %s" % e)
    except ValueError as e:
        err(rel, "not well-formed JSON: %s" % e)
    return None


def check_platformio(version):
    rel = "library.json"
    lib = load_library_json()
    if lib is None:
        return
    if not isinstance(lib, dict):
        err(rel, "must be a JSON object")
        return
    for k in lib:
        if k not in PIO_KEYS:
            err(rel, "unknown key %r" % k)
    name = lib.get("name")
    if not isinstance(name, str) or not re.match(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?!-))*[A-Za-z0-9]$", name) \
            or len(name) > 50:
        err(rel, "name must be a slug (letters, digits, single dashes), at most 50 characters")
    if lib.get("version") != version:
        err(rel, "version %r, include/tarn/tarn.h says %s" % (lib.get("version"), version))
    desc = lib.get("description")
    if not isinstance(desc, str) or not desc.strip() or len(desc) > 255:
        err(rel, "description must be a non-empty string of at most 255 characters")
    for k in ("keywords", "frameworks", "platforms", "headers"):
        if k in lib and not _str_or_list(lib[k]):
            err(rel, "%s must be a string or a list of strings" % k)
    build = lib.get("build", {})
    if not isinstance(build, dict):
        err(rel, "build must be an object")
        build = {}
    for k in build:
        if k not in PIO_BUILD_KEYS:
            err(rel, "unknown key build.%s" % k)
    src = build.get("srcDir", "src")
    inc = build.get("includeDir", "include")
    if not os.path.isdir(path(src)) or not pio_sources(lib):
        err(rel, "build.srcDir %r holds no C sources" % src)
    if not os.path.isfile(path(os.path.join(inc, "tarn", "tarn.h"))):
        err(rel, "build.includeDir %r does not hold tarn/tarn.h" % inc)
    headers = lib.get("headers", [])
    for h in [headers] if isinstance(headers, str) else headers:
        if not os.path.isfile(path(os.path.join(inc, h))):
            err(rel, "headers: %s is not in %s" % (h, inc))
    if "flags" in build and not _str_or_list(build["flags"]):
        err(rel, "build.flags must be a string or a list of strings")


def pio_sources(lib):
    """The C files PlatformIO compiles for the library: every *.c under srcDir, filtered by
    srcFilter ('+<glob>' adds, '-<glob>' removes, in order; default: everything)."""
    build = lib.get("build", {}) if isinstance(lib, dict) else {}
    src = path(build.get("srcDir", "src"))
    allfiles = sorted(os.path.relpath(p, src) for p in glob.glob(os.path.join(src, "**", "*.c"), recursive=True))
    flt = build.get("srcFilter", "+<*>")
    if isinstance(flt, list):
        flt = " ".join(flt)
    chosen = set()
    for sign, pat in re.findall(r"([+-])<([^>]*)>", flt):
        pat = pat.rstrip("/")
        hit = {f for f in allfiles if fnmatch.fnmatch(f, pat) or f.startswith(pat + "/") or pat == "*"}
        chosen = chosen | hit if sign == "+" else chosen - hit
    return [os.path.join(src, f) for f in allfiles if f in chosen]


def platformio_build():
    lib = load_library_json()
    if lib is None:
        return 1
    build = lib.get("build", {})
    for s in pio_sources(lib):
        print("source", s)
    # PlatformIO puts the library's include folder and its source folder on the include path
    print("include", path(build.get("includeDir", "include")))
    print("include", path(build.get("srcDir", "src")))
    flags = build.get("flags", [])
    for f in (flags.split() if isinstance(flags, str) else flags):
        print("flag", f)
    return 0


# ---- main ------------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--installed", metavar="PREFIX",
                    help="also check the version files installed under PREFIX")
    ap.add_argument("--root", metavar="DIR",
                    help="check the tree at DIR instead of this script's repository")
    ap.add_argument("--platformio-build", action="store_true",
                    help="print the sources, include folders and flags library.json gives PlatformIO")
    args = ap.parse_args()
    if args.root:
        global ROOT
        ROOT = os.path.abspath(args.root)
    if args.platformio_build:
        rc = platformio_build()
        for e in errors:
            print("check_manifests:", e, file=sys.stderr)
        return 1 if errors else rc

    version = header_version()
    if version:
        check_changelog(version)
        check_cmake_version(version)
        if args.installed:
            check_installed(os.path.abspath(args.installed), version)
    check_zephyr()
    check_idf(version)
    check_platformio(version)

    for w in warnings:
        print("check_manifests: WARNING:", w)
    if errors:
        for e in errors:
            print("check_manifests:", e, file=sys.stderr)
        print("check_manifests: %d problem(s)" % len(errors), file=sys.stderr)
        return 1
    print("check_manifests: ok (version %s: tarn.h, CHANGELOG.md, CMake%s, idf_component.yml, "
          "library.json; zephyr/module.yml, zephyr/Kconfig)" %
          (version, ", installed package" if args.installed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
