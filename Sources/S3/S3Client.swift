import Crypto
import CurlTransport
import Foundation
import SigV4

/// A blocking S3 client for S3-compatible storage (AWS, MinIO, moto), path-style.
///
/// Immutable and `Sendable`: each call makes its own curl handle on the calling thread, so one
/// client serves any number of threads. Every request with a body signs the body's real SHA-256
/// (never `UNSIGNED-PAYLOAD`), and PutObject and UploadPart also send `x-amz-checksum-sha256`,
/// so a server that checks either refuses bytes changed on the way. Transfers have no total
/// timeout (a large object may take long) but a connect timeout and a low-speed limit, so a
/// stalled server is given up on after `lowSpeedSeconds`.
public final class S3Client: Sendable {
    public let endpoint: S3Endpoint
    let signer: SigV4Signer
    /// `scheme://host[:port]`, no trailing slash.
    let baseURL: String
    /// The `Host` header, sent and signed; without a default port, as curl would send it.
    let host: String
    let connectTimeoutSeconds: Double
    let lowSpeedSeconds: Int
    /// Fault injection for tests only (`@testable`); `.none` in production.
    let hooks: S3TestHooks

    /// Largest body `getObject(bucket:key:)` holds in memory; use the file-descriptor form above it.
    public static let maxInMemoryObjectBytes = 64 << 20
    /// S3's smallest part (except the last) is 5 MiB; ours is 8 MiB, a good size for throughput.
    public static let minPartSize = 8 << 20
    static let maxParts = 10_000
    /// Above this a copy must be multipart (S3's CopyObject limit).
    static let maxSingleCopyBytes: Int64 = 5 << 30

    public convenience init(
        endpoint: S3Endpoint, credentials: S3Credentials, connectTimeoutSeconds: Double = 5, lowSpeedSeconds: Int = 30
    ) {
        self.init(
            endpoint: endpoint, credentials: credentials, connectTimeoutSeconds: connectTimeoutSeconds,
            lowSpeedSeconds: lowSpeedSeconds, hooks: .none)
    }

    init(
        endpoint: S3Endpoint, credentials: S3Credentials, connectTimeoutSeconds: Double, lowSpeedSeconds: Int,
        hooks: S3TestHooks
    ) {
        self.endpoint = endpoint
        self.signer = SigV4Signer(
            credentials: .init(
                accessKeyID: credentials.accessKeyID, secretAccessKey: credentials.secretAccessKey,
                sessionToken: credentials.sessionToken),
            region: endpoint.region, service: "s3")
        var base = endpoint.url
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.host = Self.hostHeader(base)
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.lowSpeedSeconds = lowSpeedSeconds
        self.hooks = hooks
    }

    /// A client from `ASSETDEDUP_S3_ENDPOINT`, `AWS_REGION` (default us-east-1), `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY` and optional `AWS_SESSION_TOKEN`; the error names a missing one.
    /// `ASSETDEDUP_S3_TIMEOUT_SECONDS` (default 30) is how long a transfer may stall before it
    /// is cut (the low-speed limit; also the connect timeout when shorter than 5 s).
    public static func fromEnvironment(_ env: [String: String]) throws -> S3Client {
        func required(_ name: String) throws -> String {
            guard let value = env[name], !value.isEmpty else {
                throw S3Error(
                    status: nil, code: "MissingEnvironment", message: "\(name) is not set (S3 client configuration)",
                    isTransient: false)
            }
            return value
        }
        let url = try required("ASSETDEDUP_S3_ENDPOINT")
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw S3Error(
                status: nil, code: "MissingEnvironment",
                message: "ASSETDEDUP_S3_ENDPOINT must be an http:// or https:// URL, got \(url)", isTransient: false)
        }
        let region = env["AWS_REGION"].flatMap { $0.isEmpty ? nil : $0 } ?? "us-east-1"
        let credentials = S3Credentials(
            accessKeyID: try required("AWS_ACCESS_KEY_ID"), secretAccessKey: try required("AWS_SECRET_ACCESS_KEY"),
            sessionToken: env["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 })
        var stall = 30
        if let text = env["ASSETDEDUP_S3_TIMEOUT_SECONDS"], !text.isEmpty {
            guard let seconds = Int(text), (1...3600).contains(seconds) else {
                throw S3Error(
                    status: nil, code: "MissingEnvironment",
                    message: "ASSETDEDUP_S3_TIMEOUT_SECONDS must be whole seconds from 1 to 3600, got \(text)",
                    isTransient: false)
            }
            stall = seconds
        }
        return S3Client(
            endpoint: S3Endpoint(url: url, region: region), credentials: credentials,
            connectTimeoutSeconds: min(5, Double(stall)), lowSpeedSeconds: stall)
    }

    /// `host[:port]` of `scheme://host[:port][/...]`, the port left out when it is the scheme's default.
    static func hostHeader(_ url: String) -> String {
        let https = url.hasPrefix("https://")
        let rest = url.drop { $0 != "/" }.dropFirst(2)
        var authority = String(rest.prefix { $0 != "/" })
        if let at = authority.lastIndex(of: "@") { authority = String(authority[authority.index(after: at)...]) }
        if !https && authority.hasSuffix(":80") { authority.removeLast(3) }
        if https && authority.hasSuffix(":443") { authority.removeLast(4) }
        return authority
    }

    // MARK: Buckets

    /// Creates `bucket`; one that already exists and is ours is fine.
    public func createBucket(_ bucket: String) throws {
        var body: [UInt8] = []
        if endpoint.region != "us-east-1" {
            body = Array(
                ("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                    + "<LocationConstraint>\(xmlEscaped(endpoint.region))</LocationConstraint></CreateBucketConfiguration>")
                    .utf8)
        }
        let what = "CreateBucket \(bucket)"
        let response = try send("PUT", bucket: bucket, body: body.isEmpty ? .none : .bytes(body), what: what)
        if response.isSuccess { return }
        let error = S3Error.answer(status: response.status, body: response.body, what: what)
        if error.code == "BucketAlreadyOwnedByYou" { return }
        throw error
    }

    // MARK: Objects

    /// The object's size, time, ETag and stored whole-object SHA-256; nil when there is no such key.
    public func headObject(bucket: String, key: String) throws -> S3ObjectInfo? {
        let what = "HeadObject \(bucket)/\(key)"
        let response = try send("HEAD", bucket: bucket, key: key, headers: [Self.checksumMode], what: what)
        if response.status == 404 { return nil }
        try response.check(what)
        let checksum = response.header("x-amz-checksum-sha256").flatMap { stored in
            !stored.contains("-") && (response.header("x-amz-checksum-type").map { $0 == "FULL_OBJECT" } ?? true)
                ? stored : nil
        }
        return S3ObjectInfo(
            key: key, size: response.header("Content-Length").flatMap { Int64($0) } ?? 0,
            lastModified: response.header("Last-Modified").flatMap(S3Formats.httpDate) ?? 0,
            etag: S3Formats.unquoted(response.header("ETag")), checksumSHA256: checksum)
    }

    /// One PUT of bytes held in memory.
    public func putObject(bucket: String, key: String, bytes: [UInt8], contentType: String? = nil) throws {
        let digest = Array(SHA256.hash(data: bytes))
        try putObject(bucket: bucket, key: key, body: .bytes(bytes), digest: digest, contentType: contentType)
    }

    /// One PUT of `length` bytes of the file at `path` from `offset`: hashed in a first read,
    /// then streamed from the file by curl (never whole in memory). S3 takes up to 5 GiB this way.
    public func putObject(
        bucket: String, key: String, file path: String, offset: Int64 = 0, length: Int64, contentType: String? = nil
    ) throws {
        let digest = try Self.sha256(ofFile: path, offset: offset, length: length)
        try putObject(
            bucket: bucket, key: key, body: .file(path: path, offset: offset, length: length), digest: digest,
            contentType: contentType)
    }

    private func putObject(bucket: String, key: String, body: Body, digest: [UInt8], contentType: String?) throws {
        var headers = Self.checksumHeaders(digest)
        if let contentType { headers.append(.init("Content-Type", contentType)) }
        let what = "PutObject \(bucket)/\(key)"
        var sent = body
        if let corrupt = hooks.corruptBody, case .bytes(let bytes) = body { sent = .bytes(corrupt(bytes)) }
        try send("PUT", bucket: bucket, key: key, headers: headers, body: sent, digest: digest, what: what).check(what)
    }

    /// Writes the object's bytes to `fd` as they arrive (never held whole); returns how many.
    /// On failure `fd` may hold part of the object: the caller truncates or discards it.
    @discardableResult
    public func getObject(bucket: String, key: String, toFileDescriptor fd: Int32) throws -> Int64 {
        let what = "GetObject \(bucket)/\(key)"
        let hasher = StreamHasher()
        let response = try send(
            "GET", bucket: bucket, key: key, headers: [Self.checksumMode], what: what, streamTo: fd,
            observe: { hasher.update($0) })
        try response.check(what)
        if let length = response.header("Content-Length").flatMap({ Int64($0) }), length != response.bytesStreamed {
            throw S3Error(
                status: response.status, code: "IncompleteBody",
                message: "\(what): \(response.bytesStreamed) of \(length) bytes arrived", isTransient: true)
        }
        try Self.verifyChecksum(response, digest: hasher.finalize(), what: what)
        return response.bytesStreamed
    }

    /// Streams the object through `chunk` as it arrives, into no file (memory: curl's buffer);
    /// returns its length. S3's stored checksum is not compared: the caller hashes what came
    /// (`verify`, which must call a wrong object corrupt, not unreadable).
    @discardableResult
    public func readObject(
        bucket: String, key: String, _ chunk: @escaping (UnsafeRawBufferPointer) -> Void
    ) throws -> Int64 {
        let what = "GetObject \(bucket)/\(key)"
        let sink = open("/dev/null", O_WRONLY | O_CLOEXEC)
        guard sink >= 0 else {
            throw S3Error(status: nil, code: nil, message: "\(what): cannot open /dev/null", isTransient: false)
        }
        defer { close(sink) }
        let response = try send("GET", bucket: bucket, key: key, what: what, streamTo: sink, observe: chunk)
        try response.check(what)
        if let length = response.header("Content-Length").flatMap({ Int64($0) }), length != response.bytesStreamed {
            throw S3Error(
                status: response.status, code: "IncompleteBody",
                message: "\(what): \(response.bytesStreamed) of \(length) bytes arrived", isTransient: true)
        }
        return response.bytesStreamed
    }

    /// The whole object in memory, for small objects (at most `maxInMemoryObjectBytes`).
    public func getObject(bucket: String, key: String) throws -> [UInt8] {
        let what = "GetObject \(bucket)/\(key)"
        let response = try send(
            "GET", bucket: bucket, key: key, headers: [Self.checksumMode], what: what,
            maxResponseBytes: Self.maxInMemoryObjectBytes)
        try response.check(what)
        try Self.verifyChecksum(response, digest: Array(SHA256.hash(data: response.body)), what: what)
        return response.body
    }

    /// The object's first `count` bytes (a ranged GET; fewer when the object is shorter). Not
    /// checksummed: S3's checksum covers the whole object.
    public func getObjectPrefix(bucket: String, key: String, count: Int) throws -> [UInt8] {
        let what = "GetObject \(bucket)/\(key) (first \(count) bytes)"
        let response = try send(
            "GET", bucket: bucket, key: key, headers: [SigV4Request.Header("range", "bytes=0-\(max(count, 1) - 1)")],
            what: what, maxResponseBytes: max(count, 1))
        if response.status == 416 { return [] }  // an empty object has no byte 0
        try response.check(what)
        return Array(response.body.prefix(count))
    }

    /// Deletes the object; a missing one is fine (S3 answers 204 either way, some servers 404).
    public func deleteObject(bucket: String, key: String) throws {
        let what = "DeleteObject \(bucket)/\(key)"
        let response = try send("DELETE", bucket: bucket, key: key, what: what)
        if response.status == 404 { return }
        try response.check(what)
    }

    /// `x-amz-checksum-sha256` with the algorithm named the way the AWS SDKs do
    /// (`x-amz-sdk-checksum-algorithm`): S3 checks it, and moto stores it only then.
    static func checksumHeaders(_ digest: [UInt8]) -> [SigV4Request.Header] {
        [
            .init("x-amz-sdk-checksum-algorithm", "SHA256"),
            .init("x-amz-checksum-sha256", Data(digest).base64EncodedString()),
        ]
    }

    /// Asks S3 to send the object's stored checksum, so a GET can check the bytes it received.
    static let checksumMode = SigV4Request.Header("x-amz-checksum-mode", "ENABLED")

    /// A whole-object `x-amz-checksum-sha256` (one PutObject stored it) must match the bytes
    /// received; a multipart object's composite checksum (`...-N`, of the parts) is not checked.
    static func verifyChecksum(_ response: Response, digest: [UInt8], what: String) throws {
        guard let stored = response.header("x-amz-checksum-sha256"), !stored.contains("-"),
            response.header("x-amz-checksum-type").map({ $0 == "FULL_OBJECT" }) ?? true
        else { return }
        let received = Data(digest).base64EncodedString()
        if stored != received {
            throw S3Error(
                status: response.status, code: "ChecksumMismatch",
                message: "\(what): the bytes received hash to \(received), the object's stored SHA-256 is \(stored)",
                isTransient: false)
        }
    }

    /// A server-side copy (no bytes pass through us), with a SHA-256 of the copy computed by the
    /// server (so a checked GET works on it). Above 5 GiB, S3's CopyObject limit, it is a
    /// multipart upload of UploadPartCopy ranges, aborted on failure.
    public func copyObject(fromBucket: String, fromKey: String, toBucket: String, toKey: String) throws {
        try copyObject(
            fromBucket: fromBucket, fromKey: fromKey, toBucket: toBucket, toKey: toKey,
            multipartAbove: Self.maxSingleCopyBytes, partSize: 512 << 20)
    }

    /// `multipartAbove` and `partSize` are parameters so tests can take the multipart path with small objects.
    func copyObject(
        fromBucket: String, fromKey: String, toBucket: String, toKey: String, multipartAbove: Int64, partSize: Int64
    ) throws {
        let source = S3Formats.encodedKeyPath("/\(fromBucket)/\(fromKey)")
        let what = "CopyObject \(fromBucket)/\(fromKey) -> \(toBucket)/\(toKey)"
        guard let info = try headObject(bucket: fromBucket, key: fromKey) else {
            throw S3Error(status: 404, code: "NoSuchKey", message: "\(what): no such source key", isTransient: false)
        }
        if info.size <= multipartAbove {
            let response = try send(
                "PUT", bucket: toBucket, key: toKey,
                headers: [.init("x-amz-copy-source", source), .init("x-amz-checksum-algorithm", "SHA256")], what: what,
                patientServer: true, extraPatience: Self.patience(bytes: info.size))
            try response.checkNoErrorDocument(what)
            return
        }
        let size = max(partSize, (info.size + Int64(Self.maxParts) - 1) / Int64(Self.maxParts))
        let uploadID = try createMultipartUpload(bucket: toBucket, key: toKey, contentType: nil, checksums: false)
        do {
            var parts: [CompletedPart] = []
            var start: Int64 = 0
            while start < info.size {
                let end = min(start + size, info.size) - 1
                let number = parts.count + 1
                let partWhat = "\(what): UploadPartCopy \(number)"
                let response = try send(
                    "PUT", bucket: toBucket, key: toKey,
                    query: [.init("partNumber", String(number)), .init("uploadId", uploadID)],
                    headers: [
                        .init("x-amz-copy-source", source), .init("x-amz-copy-source-range", "bytes=\(start)-\(end)"),
                    ],
                    what: partWhat, patientServer: true)
                try response.checkNoErrorDocument(partWhat)
                guard let etag = (try? S3XML.parse(response.body))?["ETag"] else {
                    throw S3Error.invalidResponse(partWhat, "no ETag in CopyPartResult")
                }
                parts.append(CompletedPart(number: number, etag: etag, checksum: nil))
                start = end + 1
            }
            try completeMultipartUpload(bucket: toBucket, key: toKey, uploadID: uploadID, parts: parts)
        } catch {
            try? abortMultipartUpload(bucket: toBucket, key: toKey, uploadID: uploadID)
            throw error
        }
    }

    /// Every object under `prefix`, in key order, a page (ListObjectsV2, up to 1,000) at a time.
    public func listObjects(bucket: String, prefix: String, visit: (S3ObjectInfo) throws -> Void) throws {
        try listObjects(bucket: bucket, prefix: prefix, pageSize: nil, visit: visit)
    }

    /// `pageSize` (`max-keys`) is a parameter so tests can cross page boundaries with few objects.
    func listObjects(bucket: String, prefix: String, pageSize: Int?, visit: (S3ObjectInfo) throws -> Void) throws {
        var token: String?
        repeat {
            var query: [SigV4Request.QueryItem] = [.init("list-type", "2"), .init("prefix", prefix)]
            if let pageSize { query.append(.init("max-keys", String(pageSize))) }
            if let token { query.append(.init("continuation-token", token)) }
            let what = "ListObjectsV2 \(bucket)/\(prefix)"
            let response = try send("GET", bucket: bucket, query: query, what: what, maxResponseBytes: 16 << 20)
            try response.check(what)
            let page = try response.xml(what)
            for item in page.all("Contents") {
                guard let key = item["Key"] else { throw S3Error.invalidResponse(what, "an entry without Key") }
                try visit(
                    S3ObjectInfo(
                        key: key, size: item["Size"].flatMap { Int64($0) } ?? 0,
                        lastModified: item["LastModified"].flatMap(S3Formats.iso8601) ?? 0,
                        etag: S3Formats.unquoted(item["ETag"])))
            }
            token = page["IsTruncated"] == "true" ? page["NextContinuationToken"] : nil
            if page["IsTruncated"] == "true" && (token ?? "").isEmpty {
                throw S3Error.invalidResponse(what, "truncated page without NextContinuationToken")
            }
        } while token != nil
    }

    // MARK: Multipart

    /// Uploads the file at `path`: one PUT up to `partSize`, a multipart upload above it.
    ///
    /// Parts are `partSize` (at least 8 MiB, grown so there are at most 10,000), each read into
    /// memory, hashed and sent by one of `concurrency` threads: memory stays within
    /// `partSize * concurrency`. The object appears only when CompleteMultipartUpload succeeds;
    /// any failure aborts the upload, so neither an object nor an open upload is left.
    public func uploadFile(
        bucket: String, key: String, path: String, contentType: String? = nil, partSize: Int = 8 << 20,
        concurrency: Int = 4
    ) throws {
        var info = stat()
        guard stat(path, &info) == 0 else { throw S3Error.localFile(path, String(cString: strerror(errno))) }
        let size = Int64(info.st_size)
        var part = Int64(max(partSize, Self.minPartSize))
        if size <= part {
            try putObject(bucket: bucket, key: key, file: path, length: size, contentType: contentType)
            return
        }
        part = max(part, (size + Int64(Self.maxParts) - 1) / Int64(Self.maxParts))
        let uploadID = try createMultipartUpload(bucket: bucket, key: key, contentType: contentType, checksums: true)
        do {
            let plan = PartPlan(path: path, size: size, partSize: part)
            let parts = try uploadParts(bucket: bucket, key: key, uploadID: uploadID, plan: plan, threads: concurrency)
            try completeMultipartUpload(bucket: bucket, key: key, uploadID: uploadID, parts: parts)
        } catch {
            try? abortMultipartUpload(bucket: bucket, key: key, uploadID: uploadID)
            throw error
        }
    }

    /// Multipart uploads begun under `prefix` and not completed or aborted.
    public func listMultipartUploads(bucket: String, prefix: String) throws -> [S3MultipartUploadInfo] {
        var uploads: [S3MultipartUploadInfo] = []
        var keyMarker: String?
        var uploadIDMarker: String?
        let what = "ListMultipartUploads \(bucket)/\(prefix)"
        while true {
            var query: [SigV4Request.QueryItem] = [.init("uploads", nil), .init("prefix", prefix)]
            if let keyMarker { query.append(.init("key-marker", keyMarker)) }
            if let uploadIDMarker { query.append(.init("upload-id-marker", uploadIDMarker)) }
            let response = try send("GET", bucket: bucket, query: query, what: what, maxResponseBytes: 16 << 20)
            try response.check(what)
            let page = try response.xml(what)
            for upload in page.all("Upload") {
                guard let key = upload["Key"], let id = upload["UploadId"] else {
                    throw S3Error.invalidResponse(what, "an upload without Key or UploadId")
                }
                uploads.append(
                    S3MultipartUploadInfo(
                        key: key, uploadID: id, initiated: upload["Initiated"].flatMap(S3Formats.iso8601) ?? 0))
            }
            guard page["IsTruncated"] == "true", let nextKey = page["NextKeyMarker"], !nextKey.isEmpty else { break }
            keyMarker = nextKey
            uploadIDMarker = page["NextUploadIdMarker"]
        }
        return uploads
    }

    /// Aborts the upload and frees its parts; an unknown (already gone) upload is fine.
    public func abortMultipartUpload(bucket: String, key: String, uploadID: String) throws {
        let what = "AbortMultipartUpload \(bucket)/\(key)"
        let response = try send("DELETE", bucket: bucket, key: key, query: [.init("uploadId", uploadID)], what: what)
        if response.status == 404 { return }
        try response.check(what)
    }

    /// Begins a multipart upload; with `checksums`, declares SHA-256 so each part's checksum is
    /// checked and recorded.
    func createMultipartUpload(bucket: String, key: String, contentType: String?, checksums: Bool) throws -> String {
        var headers: [SigV4Request.Header] = []
        if checksums { headers.append(.init("x-amz-checksum-algorithm", "SHA256")) }
        if let contentType { headers.append(.init("Content-Type", contentType)) }
        let what = "CreateMultipartUpload \(bucket)/\(key)"
        let response = try send(
            "POST", bucket: bucket, key: key, query: [.init("uploads", nil)], headers: headers, body: .bytes([]),
            what: what)
        try response.check(what)
        guard let id = try response.xml(what)["UploadId"], !id.isEmpty else {
            throw S3Error.invalidResponse(what, "no UploadId")
        }
        return id
    }

    struct CompletedPart: Sendable {
        var number: Int
        var etag: String
        /// Base64 SHA-256 of the part, when the upload declared SHA256.
        var checksum: String?
    }

    /// Completes the upload; the object appears now. S3 may answer 200 and still fail (an
    /// `<Error>` document in the body, after keep-alive whitespace), so the body is read.
    func completeMultipartUpload(bucket: String, key: String, uploadID: String, parts: [CompletedPart]) throws {
        var xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for part in parts.sorted(by: { $0.number < $1.number }) {
            xml += "<Part><PartNumber>\(part.number)</PartNumber><ETag>\(xmlEscaped(part.etag))</ETag>"
            if let checksum = part.checksum { xml += "<ChecksumSHA256>\(checksum)</ChecksumSHA256>" }
            xml += "</Part>"
        }
        xml += "</CompleteMultipartUpload>"
        let what = "CompleteMultipartUpload \(bucket)/\(key)"
        let response = try send(
            "POST", bucket: bucket, key: key, query: [.init("uploadId", uploadID)], body: .bytes(Array(xml.utf8)),
            what: what, patientServer: true,
            extraPatience: Self.patience(bytes: Int64(parts.count) * Int64(Self.minPartSize)))
        try response.checkNoErrorDocument(what)
    }

    /// Extra seconds of silence allowed while the server assembles or copies `bytes`: one per
    /// 64 MiB (moto took 44-63 s to complete 5 GiB; AWS sends whitespace meanwhile anyway).
    static func patience(bytes: Int64) -> Int { Int(bytes >> 26) }
}
