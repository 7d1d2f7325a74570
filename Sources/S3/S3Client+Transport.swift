import Crypto
import CurlTransport
import Foundation
import SigV4

extension S3Client {
    /// A request body: none, bytes in memory, or a range of a file streamed by curl.
    enum Body: Sendable {
        case none
        case bytes([UInt8])
        case file(path: String, offset: Int64, length: Int64)
    }

    /// What came back: status, headers, the body held in memory (or an error document when the
    /// body was streamed to a file), and how many bytes were streamed.
    struct Response {
        var status: Int
        var headers: [(name: String, value: String)]
        var body: [UInt8]
        var bytesStreamed: Int64

        var isSuccess: Bool { (200..<300).contains(status) }

        func header(_ name: String) -> String? {
            let wanted = name.lowercased()
            return headers.first { $0.name.lowercased() == wanted }?.value
        }

        func check(_ what: String) throws {
            guard isSuccess else { throw S3Error.answer(status: status, body: body, what: what) }
        }

        /// For calls that can fail after a 200 (Complete, Copy): the body must not be an `<Error>`.
        func checkNoErrorDocument(_ what: String) throws {
            try check(what)
            if let root = try? S3XML.parse(body), root.name == "Error" {
                throw S3Error.answer(status: status, body: body, what: what)
            }
        }

        func xml(_ what: String) throws -> S3XML {
            do { return try S3XML.parse(body) } catch { throw S3Error.invalidResponse(what, "\(error)") }
        }
    }

    /// Signs and sends one request on a fresh curl handle; any HTTP status is returned, transport
    /// failures throw (`isTransient` from curl's code).
    ///
    /// `digest` is the body's SHA-256 when the caller already has it. `patientServer` is for
    /// calls where S3 may work a while before answering (Complete, Copy): the low-speed limit
    /// then only trips when nothing at all moves for `lowSpeedSeconds` plus `extraPatience`
    /// (which callers grow with the object: moto assembles 5 GiB for up to a minute in silence).
    @discardableResult
    func send(
        _ method: String, bucket: String, key: String? = nil, query: [SigV4Request.QueryItem] = [],
        headers: [SigV4Request.Header] = [], body: Body = .none, digest: [UInt8]? = nil, what: String,
        streamTo fd: Int32? = nil, observe: ((UnsafeRawBufferPointer) -> Void)? = nil, maxResponseBytes: Int = 1 << 20,
        patientServer: Bool = false, extraPatience: Int = 0
    ) throws -> Response {
        let payload: SigV4Request.Payload
        switch body {
        case .none: payload = .empty
        case .bytes(let bytes): payload = .sha256Hex(S3Formats.hex(digest ?? Array(SHA256.hash(data: bytes))))
        case .file(let path, let offset, let length):
            payload = .sha256Hex(S3Formats.hex(try digest ?? Self.sha256(ofFile: path, offset: offset, length: length)))
        }
        let path = "/" + bucket + (key.map { "/" + $0 } ?? "")
        let request = SigV4Request(
            method: method, path: path, queryItems: query, headers: [.init("Host", host)] + headers, payload: payload)
        let signature = signer.sign(request, at: Date())
        var signed = signature.headers
        if hooks.rehashAfterSigning, case .bytes(let bytes) = body {
            signed = signed.map {
                $0.name == "x-amz-content-sha256" ? .init($0.name, S3Formats.hex(SHA256.hash(data: bytes))) : $0
            }
        }
        let target = signature.pathAndQuery
        do {
            let curl = try CurlEasy(maxResponseBytes: maxResponseBytes)
            try curl.setURL(baseURL + target)
            try curl.setConnectTimeout(seconds: connectTimeoutSeconds)
            try curl.setLowSpeedLimit(
                bytesPerSecond: patientServer ? 1 : 1024, seconds: lowSpeedSeconds + (patientServer ? extraPatience : 0))
            switch body {
            case .none: break
            case .bytes(let bytes): try curl.setBody(bytes)
            case .file(let path, let offset, let length): try curl.setBody(file: path, offset: offset, length: length)
            }
            try curl.setMethod(method)
            if let fd { curl.streamResponseBody(toFileDescriptor: fd, observe: observe) }
            // "Expect:" and "Content-Type:" turn off curl's own: no 100-continue round trip, and
            // no form content type on a POST (it would not be signed).
            var lines = ["Host: \(host)", "Expect:"]
            if !headers.contains(where: { $0.name.lowercased() == "content-type" }) { lines.append("Content-Type:") }
            lines += (headers + signed).map { "\($0.name): \($0.value)" }
            try curl.setHeaders(lines)
            try curl.perform()
            return Response(
                status: curl.responseCode, headers: curl.responseHeaders, body: curl.responseBody,
                bytesStreamed: curl.bytesStreamed)
        } catch let error as CurlError {
            throw S3Error.transport(error, what: what)
        }
    }

    /// SHA-256 of `length` bytes of a file from `offset`, read 1 MiB at a time.
    static func sha256(ofFile path: String, offset: Int64, length: Int64) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw S3Error.localFile(path, String(cString: strerror(errno))) }
        defer { close(fd) }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var done: Int64 = 0
        while done < length {
            let want = Int(min(Int64(buffer.count), length - done))
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, want, off_t(offset + done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw S3Error.localFile(
                    path, n == 0 ? "shorter than \(offset + length) bytes" : String(cString: strerror(errno)))
            }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            done += Int64(n)
        }
        return Array(hasher.finalize())
    }
}
