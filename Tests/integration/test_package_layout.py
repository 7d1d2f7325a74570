"""The module seams of issue 25 (point 2) read from the manifest SwiftPM evaluates: no backend
depends on another backend, interfaces depend on no backend and no C library, each C library
has exactly one Swift importer, and the uploader reaches none of the server's code."""
import json
import subprocess
import tempfile

import pytest

from conftest import ROOT


@pytest.fixture(scope="module")
def graph():
    # A scratch path of its own: dump-package needs no build, and must not wait on a build's lock.
    with tempfile.TemporaryDirectory(prefix="dump-package-") as scratch:
        out = subprocess.run(["swift", "package", "--scratch-path", scratch, "dump-package"], cwd=ROOT,
                             capture_output=True, text=True, timeout=300, check=True).stdout
    manifest = json.loads(out)
    deps = {}
    for target in manifest["targets"]:
        names = set()
        for dep in target["dependencies"]:
            kind, value = next(iter(dep.items()))
            if kind in ("byName", "target"):
                names.add(value[0])
        deps[target["name"]] = (target["type"], names)
    return deps


def closure(graph, name):
    seen, todo = set(), [name]
    while todo:
        for dep in graph[todo.pop()][1]:
            if dep in graph and dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


BACKENDS = {"SQLiteStore", "PostgresStore", "BlobStore", "S3BlobStore"}


def test_no_backend_depends_on_another(graph):
    for backend in BACKENDS:
        assert not closure(graph, backend) & (BACKENDS - {backend}), backend


def test_interfaces_see_no_backend_and_no_c_library(graph):
    c_modules = {name for name, (kind, _) in graph.items() if kind == "system"}
    for interface in ("SQLInterface", "SQLStore", "StoreProtocols"):
        reach = closure(graph, interface)
        assert not reach & BACKENDS, interface
        assert not reach & c_modules, (interface, reach & c_modules)
    assert graph["StoreProtocols"][1] == {"AssetDedupCore"}
    assert not closure(graph, "BlobProtocols") & BACKENDS


def test_each_c_library_has_one_swift_importer(graph):
    for module, (kind, _) in graph.items():
        if kind != "system":
            continue
        importers = [name for name, (k, deps) in graph.items() if module in deps and k == "regular"]
        assert len(importers) == 1, (module, importers)


def test_the_uploader_reaches_no_server_code(graph):
    reach = closure(graph, "assetdedup-upload")
    for server in ("SQLStore", "SQLiteStore", "StoreProtocols", "FastCGIServer", "CFastCGI", "CLibPQ", "CVips",
                   "CFFmpeg", "HTTPAPI"):
        assert server not in reach, server
    assert {"SQLiteConnection", "CSQLite", "CurlTransport"} <= reach
