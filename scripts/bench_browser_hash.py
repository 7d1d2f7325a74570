"""Times the browser client hashing one file (default 1 GiB of random bytes) against openssl, and
prints the ceilings that explain the figure: the wasm kernel alone in Chromium, the same Swift
kernel compiled natively, and openssl's SHA-256 with its SHA-NI and SIMD code paths masked off.
Also times small files, which the client hashes whole with crypto.subtle.digest."""
import argparse
import os
import resource
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "Tests" / "integration"))
from browser_support import StaticNginx, add_files, make_driver, open_app, quit_driver, wait_hashed  # noqa: E402

# OPENSSL_ia32cap masks (OpenSSL 3 x86_64): word 1 is CPUID.1 EDX:ECX, word 2 CPUID.7 EBX:ECX.
# "~" clears bits. SHA-NI is CPUID.7 EBX bit 29; AVX2 bit 5, BMI1 bit 3, BMI2 bit 8; SSSE3 is
# CPUID.1 ECX bit 9, AVX bit 28, and OpenSSL reads XOP from bit 11 of the same word.
OPENSSL_PATHS = [
    ("openssl dgst -sha256 (SHA-NI)", None),
    ("openssl, SHA-NI masked (AVX2 code)", "~0:~0x20000000"),
    ("openssl, scalar only (no SHA-NI/SIMD)", "~0x10000A0000000000:~0x20000128"),
]


def write_random(path, size):
    with open(path, "wb") as f:  # random bytes, written in 16 MiB pieces
        for _ in range(0, size, 16 << 20):
            f.write(os.urandom(min(16 << 20, size - f.tell())))


def openssl_seconds(path, cap):
    """(wall seconds, CPU seconds, hex digest) of `openssl dgst -sha256` with the given mask."""
    env = dict(os.environ)
    if cap is not None:
        env["OPENSSL_ia32cap"] = cap
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(["openssl", "dgst", "-sha256", "-r", str(path)], capture_output=True, text=True,
                         check=True, env=env).stdout.split()[0]
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, out


def native_kernel_mbps(tmp):
    """The Swift kernel built natively (-Ounchecked), in MB per CPU second."""
    exe = pathlib.Path(tmp) / "native-kernel-bench"
    sources = sorted(str(p) for p in (ROOT / "Sources" / "SHA256Kernel").glob("*.swift"))
    subprocess.run(["swiftc", "-Ounchecked", "-wmo", "-parse-as-library", "-module-name", "NativeKernelBench",
                    *sources, str(ROOT / "scripts" / "native_kernel_bench.swift"), "-o", str(exe)], check=True)
    return int(subprocess.run([str(exe), "256"], capture_output=True, text=True, check=True).stdout.split()[0])


def chromium_kernel_mbps(driver, base_url, mib=64, runs=8):
    """The wasm kernel alone in Chromium (no file reads): the page's own module. Short runs, the
    best one reported: the one least disturbed by other work on the machine."""
    open_app(driver, base_url)
    return driver.execute_async_script("""
        const [mib, runs, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
        import('/app/sha256-wasm.js').then(async ({ loadWasmHasher, WASM_INPUT_BYTES }) => {
          const sha = await loadWasmHasher();
          const bytes = new Uint8Array(WASM_INPUT_BYTES);
          for (let i = 0; i < bytes.length; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
          let best = 0;
          for (let run = 0; run < runs; run += 1) {
            sha.reset();
            const start = performance.now();
            for (let done = 0; done < mib << 20; done += bytes.length) sha.update(bytes);
            sha.digestHex();
            best = Math.max(best, (mib << 20) / 1e3 / (performance.now() - start));
          }
          done(best);
        });""", mib, runs)


def app_hash_seconds(driver, base_url, paths, expected, engine):
    """Seconds the real page takes to hash `paths` (from its own timer); checks every digest."""
    open_app(driver, base_url)
    add_files(driver, paths)
    got = {row["path"].rsplit("/", 1)[-1]: row for row in wait_hashed(driver, len(paths), timeout=600)}
    for path in paths:
        row = got[path.name]
        if row["sha256"] != expected[path.name]:
            sys.exit(f"bench: browser hash of {path.name} {row['sha256']} != openssl {expected[path.name]}")
        if row["engine"] != engine:
            sys.exit(f"bench: {path.name} hashed by {row['engine']}, expected {engine}")
    seconds = float(driver.execute_script("return document.body.dataset.lastHashMs")) / 1000
    driver.execute_cdp_cmd("Storage.clearDataForOrigin", {"origin": base_url, "storageTypes": "all"})
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=1024, help="large file size in MiB")
    parser.add_argument("--runs", type=int, default=3, help="browser runs (the best is reported)")
    parser.add_argument("--small-mib", type=int, default=32, help="size of each small file (subtle path)")
    parser.add_argument("--small-count", type=int, default=8, help="number of small files")
    args = parser.parse_args()
    size = args.mib * 1024 * 1024
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores "
          "(the figures move with other work on the machine)")
    with tempfile.TemporaryDirectory(prefix="assetdedup-bench-") as tmp:
        path = pathlib.Path(tmp) / "bench.bin"
        write_random(path, size)
        small = [pathlib.Path(tmp) / f"small-{i}.bin" for i in range(args.small_count)]
        for p in small:
            write_random(p, args.small_mib << 20)
        subprocess.run(["cat", str(path), *map(str, small)], stdout=subprocess.DEVNULL, check=True)  # page cache
        openssl = {}
        for label, cap in OPENSSL_PATHS:
            wall, cpu, expected = openssl_seconds(path, cap)
            openssl[label] = (wall, cpu)
        expected_by_name = {path.name: expected}
        for p in small:
            expected_by_name[p.name] = openssl_seconds(p, None)[2]
        native = native_kernel_mbps(tmp)

        site, driver = StaticNginx(), make_driver()
        try:
            kernel = chromium_kernel_mbps(driver, site.base_url)
            times = [app_hash_seconds(driver, site.base_url, [path], expected_by_name, "wasm")
                     for _ in range(args.runs)]
            small_seconds = min(app_hash_seconds(driver, site.base_url, small, expected_by_name, "subtle")
                                for _ in range(2))
        finally:
            quit_driver(driver)
            site.stop()
    mb = size / 1e6
    browser = mb / min(times)
    openssl_mbps = mb / openssl[OPENSSL_PATHS[0][0]][0]
    print(f"file: {args.mib} MiB random; browser runs (s): {', '.join(f'{t:.2f}' for t in times)}")
    print(f"browser, 1 file, wasm stream (headless Chromium, hash worker): {browser:.0f} MB/s")
    for label, _ in OPENSSL_PATHS:
        wall, cpu = openssl[label]
        print(f"{label + ':':<56}{mb / wall:.0f} MB/s ({mb / cpu:.0f} MB per CPU second)")
    print(f"ratio browser/openssl: {browser / openssl_mbps:.2f}")
    print("ceilings for one SHA-256 stream on this CPU:")
    print(f"  wasm kernel alone in Chromium (no file reads):         {kernel:.0f} MB/s")
    print(f"  same Swift kernel, native -Ounchecked:                 {native} MB per CPU second")
    print(f"  ratio wasm/native kernel: {kernel / native:.2f}; browser/wasm kernel: {browser / kernel:.2f}")
    small_mb = args.small_count * (args.small_mib << 20) / 1e6
    print(f"small files ({args.small_count} x {args.small_mib} MiB, crypto.subtle.digest, worker pool): "
          f"{small_mb / small_seconds:.0f} MB/s")


if __name__ == "__main__":
    main()
