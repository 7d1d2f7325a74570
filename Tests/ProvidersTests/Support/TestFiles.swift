import AssetDedupCore
import Foundation
import Providers

import struct Crypto.SHA256

/// Runs `body` with a fresh temp folder (under `base`) that is removed afterwards, whatever happens.
func withTemporaryDirectory<T>(base: String = FileManager.default.temporaryDirectory.path, _ body: (String) throws -> T)
    throws -> T
{
    let path = "\(base)/assetdedup-providers-test-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

/// Writes `size` pseudo-random bytes to `folder/name` and returns it as a blob.
func makeBlob(
    in folder: String, name: String = "blob", size: Int, seed: UInt64 = 1, filename: String? = nil,
    mimeType: String? = nil
) throws -> BlobReference {
    var state = seed &* 6_364_136_223_846_793_005 &+ 1
    var bytes = [UInt8](repeating: 0, count: size)
    for index in bytes.indices {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        bytes[index] = UInt8(truncatingIfNeeded: state >> 33)
    }
    let path = "\(folder)/\(name)"
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return BlobReference(
        path: path, sha256: SHA256Digest(bytes: SHA256.hash(data: bytes)), size: Int64(size), filename: filename,
        mimeType: mimeType)
}

func fileInfo(_ path: String) -> stat? {
    var info = stat()
    return stat(path, &info) == 0 ? info : nil
}

func slug(_ text: String) -> ProviderID { try! ProviderID(parsing: text) }
