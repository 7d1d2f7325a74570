import Crypto
import Foundation
import Synchronization
import Testing

@testable import S3

@Suite(
    "S3Client against a real S3 server (moto, auth on)", .enabled(if: S3TestServer.isConfigured, S3TestServer.skipNote))
struct S3ClientTests {
    @Test func putHeadGetDeleteRoundTrip() throws {
        try S3TestServer.withBucket { client, bucket in
            let bytes = Array("hello, s3\n".utf8)
            try client.putObject(bucket: bucket, key: "a/hello.txt", bytes: bytes, contentType: "text/plain")
            let info = try #require(try client.headObject(bucket: bucket, key: "a/hello.txt"))
            #expect(info.key == "a/hello.txt")
            #expect(info.size == Int64(bytes.count))
            #expect(info.etag == Insecure.MD5.hash(data: bytes).map { String(format: "%02x", $0) }.joined())
            #expect(abs(info.lastModified - Date().timeIntervalSince1970) < 120)
            #expect(info.checksumSHA256 == Data(SHA256.hash(data: bytes)).base64EncodedString(), "stored at PUT")
            #expect(try client.getObject(bucket: bucket, key: "a/hello.txt") == bytes)
            let (written, digest) = try S3TestServer.sha256OfObject(client, bucket: bucket, key: "a/hello.txt")
            #expect(written == Int64(bytes.count))
            #expect(digest == Array(SHA256.hash(data: bytes)))
            try client.deleteObject(bucket: bucket, key: "a/hello.txt")
            #expect(try client.headObject(bucket: bucket, key: "a/hello.txt") == nil)
            try client.deleteObject(bucket: bucket, key: "a/hello.txt")  // a missing key is fine
            let missing = #expect(throws: S3Error.self) { try client.getObject(bucket: bucket, key: "a/hello.txt") }
            #expect(missing?.code == "NoSuchKey")
            #expect(missing?.status == 404)
            #expect(missing?.isTransient == false)
        }
    }

    @Test func createBucketTwiceIsFine() throws {
        try S3TestServer.withBucket { client, bucket in
            try client.createBucket(bucket)
        }
    }

    /// Outside us-east-1 CreateBucket names the region in its body (and signs for it).
    @Test func aBucketInAnotherRegion() throws {
        let client = S3Client(
            endpoint: S3Endpoint(url: S3TestServer.endpoint ?? "", region: "eu-west-1"),
            credentials: S3TestServer.credentials)
        let bucket = "t-" + UUID().uuidString.lowercased()
        try client.createBucket(bucket)
        try client.createBucket(bucket)
        try client.putObject(bucket: bucket, key: "k", bytes: [1, 2, 3])
        #expect(try client.headObject(bucket: bucket, key: "k")?.size == 3)
        try client.deleteObject(bucket: bucket, key: "k")
    }

    @Test func keysWithSpacesUnicodeAndReservedCharacters() throws {
        try S3TestServer.withBucket { client, bucket in
            let keys = ["dir/a key with spaces.txt", "ünïcødé/日本語 😀.bin", "odd+&=?;:@$,#%[]!'()*~.txt"]
            for (i, key) in keys.enumerated() {
                try client.putObject(bucket: bucket, key: key, bytes: [UInt8(i)])
                #expect(try client.headObject(bucket: bucket, key: key)?.size == 1)
                #expect(try client.getObject(bucket: bucket, key: key) == [UInt8(i)])
            }
            var listed: [String] = []
            try client.listObjects(bucket: bucket, prefix: "") { listed.append($0.key) }
            #expect(listed.sorted() == keys.sorted())
            var under: [String] = []
            try client.listObjects(bucket: bucket, prefix: "ünïcødé/") { under.append($0.key) }
            #expect(under == ["ünïcødé/日本語 😀.bin"])
        }
    }

    @Test func putObjectFromAFileRange() throws {
        try S3TestServer.withFile(size: 100_000) { path in
            try S3TestServer.withBucket { client, bucket in
                try client.putObject(bucket: bucket, key: "range", file: path, offset: 1000, length: 5000)
                let all = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
                #expect(try client.getObject(bucket: bucket, key: "range") == Array(all[1000..<6000]))
            }
        }
    }

    @Test func multipartUploadOfTwentyMiB() throws {
        let size = 20 << 20 + 12345
        try S3TestServer.withFile(size: size) { path in
            try S3TestServer.withBucket { client, bucket in
                // While the last part is about to go, the object must not exist yet and the upload must be open.
                let during = Mutex<(object: S3ObjectInfo?, uploads: [String])?>(nil)
                let observing = S3TestServer.client(
                    hooks: S3TestHooks(beforePart: { number in
                        guard number == 3 else { return }
                        let object = try client.headObject(bucket: bucket, key: "big/file.bin")
                        let uploads = try client.listMultipartUploads(bucket: bucket, prefix: "big/").map(\.key)
                        during.withLock { $0 = (object, uploads) }
                    }))
                try observing.uploadFile(
                    bucket: bucket, key: "big/file.bin", path: path, partSize: 8 << 20, concurrency: 3)
                let seen = try #require(during.withLock { $0 })
                #expect(seen.object == nil)
                #expect(seen.uploads == ["big/file.bin"])
                let info = try #require(try client.headObject(bucket: bucket, key: "big/file.bin"))
                #expect(info.size == Int64(size))
                #expect(info.etag?.hasSuffix("-3") == true)  // three parts
                let (written, digest) = try S3TestServer.sha256OfObject(client, bucket: bucket, key: "big/file.bin")
                #expect(written == Int64(size))
                #expect(digest == (try S3TestServer.sha256(ofFile: path)))
                #expect(try client.listMultipartUploads(bucket: bucket, prefix: "").isEmpty)
            }
        }
    }

    @Test func aFailedPartLeavesNoObjectAndNoOpenUpload() throws {
        struct PartFailed: Error {}
        let client = S3TestServer.client(hooks: S3TestHooks(beforePart: { if $0 == 2 { throw PartFailed() } }))
        try S3TestServer.withFile(size: 20 << 20) { path in
            try S3TestServer.withBucket { _, bucket throws in
                #expect(throws: PartFailed.self) {
                    try client.uploadFile(bucket: bucket, key: "big/failed.bin", path: path, concurrency: 2)
                }
                #expect(try client.headObject(bucket: bucket, key: "big/failed.bin") == nil)
                #expect(try client.listMultipartUploads(bucket: bucket, prefix: "big/").isEmpty)
            }
        }
    }

    @Test func listingCrossesPages() throws {
        try S3TestServer.withBucket { client, bucket in
            let keys = (0..<7).map { "page/\($0)" }
            for key in keys { try client.putObject(bucket: bucket, key: key, bytes: Array(key.utf8)) }
            try client.putObject(bucket: bucket, key: "other", bytes: [1])
            var seen: [S3ObjectInfo] = []
            try client.listObjects(bucket: bucket, prefix: "page/", pageSize: 2) { seen.append($0) }
            #expect(seen.map(\.key) == keys)
            #expect(seen.allSatisfy { $0.size == 6 && $0.etag != nil && $0.lastModified > 0 })
        }
    }

    @Test func copyObjectSingleAndMultipart() throws {
        try S3TestServer.withFile(size: 12 << 20) { path in
            try S3TestServer.withBucket { client, bucket in
                try client.uploadFile(bucket: bucket, key: "src/file", path: path)
                try client.copyObject(fromBucket: bucket, fromKey: "src/file", toBucket: bucket, toKey: "dst/one copy")
                try client.copyObject(
                    fromBucket: bucket, fromKey: "src/file", toBucket: bucket, toKey: "dst/parts",
                    multipartAbove: 1 << 20,
                    partSize: 5 << 20)
                let expected = try S3TestServer.sha256(ofFile: path)
                for key in ["dst/one copy", "dst/parts"] {
                    let (written, digest) = try S3TestServer.sha256OfObject(client, bucket: bucket, key: key)
                    #expect(written == 12 << 20)
                    #expect(digest == expected)
                }
                #expect(try client.headObject(bucket: bucket, key: "dst/parts")?.etag?.hasSuffix("-3") == true)
                let missing = #expect(throws: S3Error.self) {
                    try client.copyObject(fromBucket: bucket, fromKey: "nope", toBucket: bucket, toKey: "x")
                }
                #expect(missing?.code == "NoSuchKey")
            }
        }
    }

    @Test func openUploadsAreListedAndAborted() throws {
        try S3TestServer.withBucket { client, bucket in
            let id = try client.createMultipartUpload(bucket: bucket, key: "up/one", contentType: nil, checksums: true)
            _ = try client.createMultipartUpload(bucket: bucket, key: "elsewhere", contentType: nil, checksums: false)
            let open = try client.listMultipartUploads(bucket: bucket, prefix: "up/")
            #expect(open.map(\.key) == ["up/one"])
            #expect(open.map(\.uploadID) == [id])
            #expect(open[0].initiated > 0)  // moto answers a fixed 2010-11-10T20:48:33.000Z
            try client.abortMultipartUpload(bucket: bucket, key: "up/one", uploadID: id)
            #expect(try client.listMultipartUploads(bucket: bucket, prefix: "up/").isEmpty)
            #expect(try client.listMultipartUploads(bucket: bucket, prefix: "").count == 1)
        }
    }

    @Test func aWrongSecretIsRefusedAndNotTransient() throws {
        try S3TestServer.withBucket { _, bucket throws in
            var credentials = S3TestServer.credentials
            credentials.secretAccessKey += "x"
            let wrong = S3TestServer.client(credentials: credentials)
            let error = #expect(throws: S3Error.self) { try wrong.putObject(bucket: bucket, key: "k", bytes: [1]) }
            #expect(error?.code == "SignatureDoesNotMatch")
            #expect(error?.status == 403)
            #expect(error?.isTransient == false)

            let unknown = S3TestServer.client(
                credentials: S3Credentials(accessKeyID: "AKIANOSUCHKEY0000000", secretAccessKey: "x"))
            let refused = #expect(throws: S3Error.self) { _ = try unknown.headObject(bucket: bucket, key: "k") }
            #expect(refused?.status == 403)
            #expect(refused?.isTransient == false)
            let listing = #expect(throws: S3Error.self) { try unknown.listObjects(bucket: bucket, prefix: "") { _ in } }
            #expect(listing?.code == "InvalidAccessKeyId")
        }
    }

    /// A body changed after it was hashed and signed. AWS refuses it (`XAmzContentSHA256Mismatch`
    /// or `BadDigest`); moto 5 checks neither `x-amz-content-sha256` nor `x-amz-checksum-sha256`
    /// against the body and stores it, but keeps the checksum we declared, so our checked GET
    /// refuses the object. Either way the corrupted bytes never reach a caller as good.
    @Test func aCorruptedBodyIsRefused() throws {
        try S3TestServer.withBucket { _, bucket throws in
            let flipFirstBit: @Sendable ([UInt8]) -> [UInt8] = { bytes in
                var changed = bytes
                changed[0] ^= 1
                return changed
            }
            let corrupting = S3TestServer.client(hooks: S3TestHooks(corruptBody: flipFirstBit))
            let bytes = [UInt8](repeating: 7, count: 1000)
            do {
                try corrupting.putObject(bucket: bucket, key: "corrupt", bytes: bytes)
                // moto: stored. The GET checks the bytes against the stored SHA-256.
                let client = S3TestServer.client()
                let error = #expect(throws: S3Error.self) { _ = try client.getObject(bucket: bucket, key: "corrupt") }
                #expect(error?.code == "ChecksumMismatch")
                #expect(error?.isTransient == false)
                let streamed = #expect(throws: S3Error.self) {
                    _ = try S3TestServer.sha256OfObject(client, bucket: bucket, key: "corrupt")
                }
                #expect(streamed?.code == "ChecksumMismatch")
            } catch let error as S3Error {
                #expect(["XAmzContentSHA256Mismatch", "BadDigest"].contains(error.code ?? ""))
                #expect(error.isTransient == false)
            }

            // Body and payload hash both changed after signing: the signature covers the hash.
            let rehashing = S3TestServer.client(hooks: S3TestHooks(corruptBody: flipFirstBit, rehashAfterSigning: true))
            let error = #expect(throws: S3Error.self) {
                try rehashing.putObject(bucket: bucket, key: "rehashed", bytes: bytes)
            }
            #expect(error?.code == "SignatureDoesNotMatch")
            #expect(error?.isTransient == false)
            #expect(try S3TestServer.client().headObject(bucket: bucket, key: "rehashed") == nil)
        }
    }

    /// Refused at once, not after the connect timeout: an ordering (the answer came long before
    /// a 300 s timeout could end), not a tuned time limit (docs/DESIGN.md, Tests and time).
    @Test func aClosedPortFailsFastAndTransient() throws {
        let socket = try ClosedPort()
        let client = S3Client(
            endpoint: S3Endpoint(url: "http://127.0.0.1:\(socket.port)", region: "us-east-1"),
            credentials: S3TestServer.credentials, connectTimeoutSeconds: 300)
        let start = ContinuousClock.now
        let error = #expect(throws: S3Error.self) { _ = try client.headObject(bucket: "b", key: "k") }
        #expect(error?.isTransient == true)
        #expect(error?.status == nil)
        #expect(error?.code == nil)
        #expect(ContinuousClock.now - start < .seconds(60))
    }
}

/// The low-speed limit, without a server: a socket that listens but never accepts (the kernel
/// completes the handshake, nothing ever answers). The call must end, transient, as a timeout.
@Suite("S3Client against a server that never answers")
struct S3StalledServerTests {
    @Test func aStalledServerIsGivenUpOn() throws {
        let listener = try SilentListener()
        defer { close(listener.fd) }
        let client = S3Client(
            endpoint: S3Endpoint(url: "http://127.0.0.1:\(listener.port)", region: "us-east-1"),
            credentials: S3Credentials(accessKeyID: "AKIA", secretAccessKey: "s"), connectTimeoutSeconds: 5,
            lowSpeedSeconds: 1)
        let error = #expect(throws: S3Error.self) { _ = try client.getObject(bucket: "b", key: "k") }
        #expect(error?.isTransient == true)
        #expect(error?.status == nil)
        #expect(error?.message.contains("too slow") == true)
    }
}

/// A listening socket on 127.0.0.1 that never accepts.
struct SilentListener {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        listen(fd, 8)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }
}

/// A port nothing listens on: bound, then closed.
struct ClosedPort {
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
    }
}
