/// The C-ABI face of the kernel that `www/app/sha256.wasm` exports to JavaScript.
///
/// One hash at a time per wasm instance (each Web Worker has its own instance). The JavaScript
/// side copies each file slice into linear memory above `__heap_base` and calls
/// `sha256_update(pointer, length)`; the kernel never allocates, so that region is free.

/// The hash in progress. `nonisolated(unsafe)` is sound here: a wasm instance runs on the one
/// thread of its worker, and native callers (the tests) use it from one test at a time.
nonisolated(unsafe) private var current = SHA256Hasher()

/// Starts a new message, dropping any unfinished one.
@_cdecl("sha256_init")
public func sha256Init() {
    current = SHA256Hasher()
}

/// Absorbs `length` bytes at `bytes`.
@_cdecl("sha256_update")
public func sha256Update(_ bytes: UnsafeRawPointer?, _ length: Int) {
    current.update(UnsafeRawBufferPointer(start: bytes, count: length))
}

/// Writes the 32-byte digest to `digest` and starts a new message.
@_cdecl("sha256_final")
public func sha256Final(_ digest: UnsafeMutableRawPointer) {
    current.finalize(into: digest)
}
