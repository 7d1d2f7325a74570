import AssetDedupCore
import BlobProtocols
import BlobStore
import Foundation
import S3BlobStore
import Testing

import struct Crypto.SHA256

@testable import S3

/// The blob storages a contract test runs on: the local folder always, an S3 bucket when this
/// run has a server (`ASSETDEDUP_TEST_S3_ENDPOINT` and the `AWS_*` key that
/// `scripts/s3-server start DIR` prints; scripts/test exports them). Without one S3 is not
/// listed at all, so a skipped backend never shows as a passing test.
enum BlobBackend: String, CaseIterable, Sendable, CustomStringConvertible {
    case folder, s3
    var description: String { rawValue }

    /// The backends this run reaches.
    static var available: [BlobBackend] { TestS3Server.endpoint == nil ? [.folder] : allCases }
}

/// S3 was asked for in a run without a server (`available` never lists it then).
struct NoS3Server: Error {}

/// The test S3 server from the environment (moto in `scripts/test`).
enum TestS3Server {
    static let environment = ProcessInfo.processInfo.environment
    static let endpoint = environment["ASSETDEDUP_TEST_S3_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 }

    static func client(endpoint: String) -> S3Client {
        S3Client(
            endpoint: S3Endpoint(url: endpoint, region: environment["AWS_REGION"] ?? "us-east-1"),
            credentials: S3Credentials(
                accessKeyID: environment["AWS_ACCESS_KEY_ID"] ?? "",
                secretAccessKey: environment["AWS_SECRET_ACCESS_KEY"] ?? ""),
            connectTimeoutSeconds: 5, lowSpeedSeconds: 30)
    }
}

/// One fresh, empty blob storage of one backend for one test, opened the way `serve` opens it
/// (BlobOptions): a data folder of its own, which is the folder backend itself or the bucket
/// backend's staging area, and for S3 a bucket of its own with the blobs under a prefix. All of
/// it goes with this object, at the end of the test. Besides the storage it shows what a test
/// checks from outside the protocols: every name the backend holds, and the writes left open.
final class BlobUnderTest: Sendable {
    let backend: BlobBackend
    let storage: any BlobStorage
    /// The data folder: `blobs/`, `uploads/` and `tmp/` for the folder; only `tmp/` is used when
    /// the blobs are in a bucket.
    let dataDirectory: String
    /// A folder outside the storage, for the test's own files (a legacy file to ingest).
    let scratchDirectory: String
    private let bucket: (client: S3Client, name: String)?
    /// The data folder of a second node (`otherNode`), for S3; unused by the folder backend.
    private let otherDataDirectory: String
    /// Holds the three folders above; removed with everything in it.
    private let root: String

    init(_ backend: BlobBackend) throws {
        self.backend = backend
        root = FileManager.default.temporaryDirectory.appendingPathComponent("blobs-\(UUID().uuidString)").path
        dataDirectory = root + "/data"
        scratchDirectory = root + "/scratch"
        otherDataDirectory = root + "/other"
        try FileManager.default.createDirectory(atPath: scratchDirectory, withIntermediateDirectories: true)
        let folder = try BlobStore(dataDirectory: dataDirectory)
        switch backend {
        case .folder:
            storage = folder
            bucket = nil
        case .s3:
            guard let endpoint = TestS3Server.endpoint else { throw NoS3Server() }
            let client = TestS3Server.client(endpoint: endpoint)
            let name = "blobs-" + UUID().uuidString.lowercased()
            try client.createBucket(name)
            storage = try S3BlobStorage(
                location: "s3://\(name)/node", client: client, endpoint: endpoint, staging: folder)
            bucket = (client, name)
        }
    }

    deinit {
        if let (client, name) = bucket {
            var keys: [String] = []
            try? client.listObjects(bucket: name, prefix: "") { keys.append($0.key) }
            for key in keys { try? client.deleteObject(bucket: name, key: key) }
            for upload in (try? client.listMultipartUploads(bucket: name, prefix: "")) ?? [] {
                try? client.abortMultipartUpload(bucket: name, key: upload.key, uploadID: upload.uploadID)
            }
        }
        try? FileManager.default.removeItem(atPath: root)
    }

    /// The same storage as another process or node opens it: for the folder, another `BlobStore`
    /// on the same data folder; for S3, the same bucket and prefix staged on another node's disk.
    func otherNode() throws -> any BlobStorage {
        switch storage {
        case let bucket as S3BlobStorage:
            return try S3BlobStorage(
                location: bucket.location, client: bucket.client, endpoint: bucket.endpoint,
                staging: BlobStore(dataDirectory: otherDataDirectory))
        default:
            return try BlobStore(dataDirectory: dataDirectory)
        }
    }

    /// Where this backend keeps the blob for `digest`: a path under the data folder, or a key.
    func contentKey(_ digest: SHA256Digest) -> String {
        let hex = digest.hex
        switch backend {
        case .folder: return "blobs/sha256/\(hex.prefix(2))/\(hex.dropFirst(2).prefix(2))/\(hex)"
        case .s3: return "node/blobs/sha256/\(hex)"
        }
    }

    /// Every name the storage holds, sorted: the files under the data folder (blobs, partial
    /// uploads, staged temp files) and, for S3, the bucket's keys.
    func storedNames() throws -> [String] {
        var names: [String] = []
        if let enumerator = FileManager.default.enumerator(atPath: dataDirectory) {
            while let name = enumerator.nextObject() as? String {
                var isFolder: ObjCBool = false
                if FileManager.default.fileExists(atPath: dataDirectory + "/" + name, isDirectory: &isFolder),
                    !isFolder.boolValue
                {
                    names.append(name)
                }
            }
        }
        if let (client, name) = bucket {
            try client.listObjects(bucket: name, prefix: "") { names.append($0.key) }
        }
        return names.sorted()
    }

    /// Multipart uploads begun in the bucket and neither completed nor aborted (none for a folder).
    func openUploads() throws -> [String] {
        guard let (client, name) = bucket else { return [] }
        return try client.listMultipartUploads(bucket: name, prefix: "").map(\.key)
    }

    /// Leaves what a writer killed mid-upload leaves on this node's disk: its staged temp file
    /// (in `tmp/`; both backends stage there).
    func leaveStagedFile(_ bytes: [UInt8]) throws {
        let writer = try storage.makeTempWriter()
        try writer.write(bytes)
        writer.markKept()  // as if the process died: nothing unlinks the file
    }

    /// Leaves what a node killed while sending leaves in a bucket: a multipart upload never
    /// completed or aborted. Returns how many (none for a folder).
    func leaveOpenUpload() throws -> Int {
        guard let (client, name) = bucket else { return 0 }
        _ = try client.createMultipartUpload(
            bucket: name, key: "node/blobs/sha256/\(sha256([1]).hex)", contentType: nil, checksums: true)
        return 1
    }

    /// The blob's bytes, through the reader's local file.
    func read(_ digest: SHA256Digest) throws -> [UInt8] {
        try storage.withLocalFile(digest) { path in [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }
    }

    /// Stores `bytes` as a blob the way an upload does (temp writer, finish, commit).
    @discardableResult
    func put(_ bytes: [UInt8]) throws -> SHA256Digest {
        let writer = try storage.makeTempWriter()
        try writer.write(bytes)
        let digest = try writer.finish()
        try storage.commit(writer, as: digest)
        return digest
    }
}

/// SHA-256 by swift-crypto: a second implementation beside the writers' libcrypto one.
func sha256(_ bytes: [UInt8]) -> SHA256Digest { SHA256Digest(bytes: Array(SHA256.hash(data: bytes))) }

/// `count` pseudo-random bytes, the same for the same seed (SplitMix64).
func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15
    var out = [UInt8](repeating: 0, count: count)
    var i = 0
    while i < count {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        for j in 0..<min(8, count - i) { out[i + j] = UInt8(truncatingIfNeeded: z >> (8 * UInt64(j))) }
        i += 8
    }
    return out
}

/// A fresh upload id, shaped like the API's (32 hex digits).
func uploadID() -> String { UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased() }
