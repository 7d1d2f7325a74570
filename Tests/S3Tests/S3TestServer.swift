import Crypto
import Foundation
import Testing

@testable import S3

/// The S3-compatible server the S3 suites run against: `ASSETDEDUP_TEST_S3_ENDPOINT` and the
/// `AWS_*` key that `scripts/s3-server start DIR` prints (scripts/test exports them). Unset, the
/// suites are skipped, saying so.
enum S3TestServer {
    static let environment = ProcessInfo.processInfo.environment
    static let endpoint = environment["ASSETDEDUP_TEST_S3_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 }
    static let isConfigured = endpoint != nil
    static let skipNote: Comment =
        "ASSETDEDUP_TEST_S3_ENDPOINT is not set: run `eval \"$(scripts/s3-server start var/s3-test)\"` first"

    static var credentials: S3Credentials {
        S3Credentials(
            accessKeyID: environment["AWS_ACCESS_KEY_ID"] ?? "",
            secretAccessKey: environment["AWS_SECRET_ACCESS_KEY"] ?? "")
    }

    static func client(credentials: S3Credentials = credentials, hooks: S3TestHooks = .none) -> S3Client {
        S3Client(
            endpoint: S3Endpoint(url: endpoint ?? "", region: environment["AWS_REGION"] ?? "us-east-1"),
            credentials: credentials, connectTimeoutSeconds: 5, lowSpeedSeconds: 30, hooks: hooks)
    }

    /// Runs `body` with a fresh bucket; its objects and open uploads are removed afterwards.
    static func withBucket(_ body: (S3Client, String) throws -> Void) throws {
        let client = client()
        let bucket = "t-" + UUID().uuidString.lowercased()
        try client.createBucket(bucket)
        defer {
            var keys: [String] = []
            try? client.listObjects(bucket: bucket, prefix: "") { keys.append($0.key) }
            for key in keys { try? client.deleteObject(bucket: bucket, key: key) }
            for upload in (try? client.listMultipartUploads(bucket: bucket, prefix: "")) ?? [] {
                try? client.abortMultipartUpload(bucket: bucket, key: upload.key, uploadID: upload.uploadID)
            }
        }
        try body(client, bucket)
    }

    /// A temporary file of `size` pseudo-random bytes, deleted afterwards.
    static func withFile(size: Int, _ body: (String) throws -> Void) throws {
        let path = NSTemporaryDirectory() + "s3test-" + UUID().uuidString
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: size)
        for i in stride(from: 0, to: size, by: 8) {
            let word = generator.next()
            for j in 0..<min(8, size - i) { bytes[i + j] = UInt8(truncatingIfNeeded: word >> (8 * UInt64(j))) }
        }
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        defer { unlink(path) }
        try body(path)
    }

    /// The object's bytes as streamed to a file, hashed.
    static func sha256OfObject(_ client: S3Client, bucket: String, key: String) throws -> (Int64, [UInt8]) {
        let path = NSTemporaryDirectory() + "s3get-" + UUID().uuidString
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
        defer {
            close(fd)
            unlink(path)
        }
        let written = try client.getObject(bucket: bucket, key: key, toFileDescriptor: fd)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return (written, Array(SHA256.hash(data: data)))
    }

    static func sha256(ofFile path: String) throws -> [UInt8] {
        Array(SHA256.hash(data: try Data(contentsOf: URL(fileURLWithPath: path))))
    }
}
