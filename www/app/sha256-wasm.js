// Loads sha256.wasm (the Embedded Swift kernel from Sources/SHA256Kernel) and wraps its
// init/update/final exports in a small streaming hasher. One instance per worker: the kernel
// keeps one hash in progress in its own globals.

/** Bytes copied into wasm memory per update call; file slices are fed in pieces of this size. */
export const WASM_INPUT_BYTES = 4 * 1024 * 1024;

/** Instantiates the kernel; throws when WebAssembly is missing or the module fails to load. */
export async function loadWasmHasher(url = new URL('sha256.wasm', import.meta.url)) {
  if (typeof WebAssembly !== 'object') throw new Error('WebAssembly is not available');
  const response = await fetch(url);
  if (!response.ok) throw new Error(`sha256.wasm: HTTP ${response.status}`);
  const { instance } = await WebAssembly.instantiate(await response.arrayBuffer(), {});
  const kernel = instance.exports;
  // The kernel never allocates, so linear memory above __heap_base is ours: grow it once to
  // hold the fixed input buffer (the digest is written to the same place at the end).
  const base = (kernel.__heap_base.value + 15) & ~15;
  const needed = base + WASM_INPUT_BYTES;
  const have = kernel.memory.buffer.byteLength;
  if (have < needed) kernel.memory.grow(Math.ceil((needed - have) / 65536));
  warmUp(kernel, base);
  return new WasmSha256(kernel, base);
}

/**
 * V8 first runs wasm in its baseline compiler and swaps in optimised code (about 3x faster
 * here) only when a function is entered again after it got hot. Real updates are 4 MiB calls,
 * so without this the first tens of MiB of the first file hash slowly; a few hundred small
 * calls at load make the kernel hot while the first slice is still being read.
 */
function warmUp(kernel, base) {
  kernel.sha256_init();
  for (let i = 0; i < WARM_UP_CALLS; i += 1) kernel.sha256_update(base, 4096);
  kernel.sha256_init();
}

/** Calls of 4 KiB made by `warmUp` (2 MiB of hashing, a few ms even in the baseline tier). */
const WARM_UP_CALLS = 512;

/** Streaming SHA-256 over the wasm kernel: `reset()`, `update(bytes)`, `digestHex()`. */
class WasmSha256 {
  constructor(kernel, base) {
    this.kernel = kernel;
    this.base = base;
    this.engine = 'wasm';
  }

  reset() {
    this.kernel.sha256_init();
  }

  /** Copies `bytes` (a Uint8Array) into linear memory piece by piece and hashes it. */
  update(bytes) {
    // Re-read memory.buffer each time: a grow would detach an old view.
    const memory = new Uint8Array(this.kernel.memory.buffer, this.base, WASM_INPUT_BYTES);
    for (let offset = 0; offset < bytes.length; offset += WASM_INPUT_BYTES) {
      const piece = bytes.subarray(offset, offset + WASM_INPUT_BYTES);
      memory.set(piece);
      this.kernel.sha256_update(this.base, piece.length);
    }
  }

  digestHex() {
    this.kernel.sha256_final(this.base);
    return toHex(new Uint8Array(this.kernel.memory.buffer, this.base, 32));
  }
}

/** Lower-case hex of a byte array (the form the server and IndexedDB use). */
export function toHex(bytes) {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}
