"""Times the browser client hashing one file (default 1 GiB of random bytes) against openssl."""
import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "Tests" / "integration"))
from browser_support import StaticNginx, add_files, make_driver, open_app, quit_driver, wait_hashed  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=1024, help="file size in MiB")
    parser.add_argument("--runs", type=int, default=3, help="browser runs (the best is reported)")
    args = parser.parse_args()
    size = args.mib * 1024 * 1024
    with tempfile.TemporaryDirectory(prefix="assetdedup-bench-") as tmp:
        path = pathlib.Path(tmp) / "bench.bin"
        with open(path, "wb") as f:  # random bytes, written in 16 MiB pieces
            for _ in range(0, size, 16 << 20):
                f.write(os.urandom(min(16 << 20, size - f.tell())))
        subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)  # warm the page cache
        start = time.perf_counter()
        expected = subprocess.run(["openssl", "dgst", "-sha256", "-r", str(path)], capture_output=True,
                                  text=True, check=True).stdout.split()[0]
        openssl_seconds = time.perf_counter() - start

        site, driver = StaticNginx(), make_driver()
        try:
            times = []
            for _ in range(args.runs):
                open_app(driver, site.base_url)
                add_files(driver, [path])
                row = wait_hashed(driver, 1, timeout=600)[0]
                if row["sha256"] != expected:
                    sys.exit(f"bench: browser hash {row['sha256']} != openssl {expected}")
                times.append(float(driver.execute_script("return document.body.dataset.lastHashMs")) / 1000)
                driver.execute_cdp_cmd("Storage.clearDataForOrigin", {"origin": site.base_url, "storageTypes": "all"})
        finally:
            quit_driver(driver)
            site.stop()
    browser_seconds = min(times)
    mb = size / 1e6
    print(f"file: {args.mib} MiB random; engine: {row['engine']}; browser runs (s): {', '.join(f'{t:.2f}' for t in times)}")
    print(f"browser (headless Chromium, hash worker): {mb / browser_seconds:.0f} MB/s")
    print(f"openssl dgst -sha256:                     {mb / openssl_seconds:.0f} MB/s")
    print(f"ratio browser/openssl: {openssl_seconds / browser_seconds:.2f}")


if __name__ == "__main__":
    main()
