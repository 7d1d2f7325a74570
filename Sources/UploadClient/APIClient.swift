import CurlTransport
import Foundation

/// An answer from the server: status, headers we need, and the body as JSON when it is JSON.
public struct APIResponse: Sendable {
    public let status: Int
    public let body: [UInt8]
    public let headers: [(name: String, value: String)]
    public let retryAfter: Double?

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    public var json: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
    }

    /// `error.code: error.message` of an error document, or the status.
    public var errorText: String {
        if let error = json?["error"] as? [String: Any] {
            let code = error["code"] as? String ?? "error"
            let message = error["message"] as? String ?? ""
            return "HTTP \(status) \(code): \(message)"
        }
        return "HTTP \(status)"
    }
}

public struct APIError: Error, Sendable, CustomStringConvertible {
    public let message: String
    /// The run cannot go on (bad token, server down, a refused check): exit 2.
    public let fatal: Bool
    public var description: String { message }
}

/// The result of sending a file or adding a provider: the server's `status` word and the asset.
public struct UploadAnswer: Sendable, Equatable {
    public let status: String
    public let assetID: Int64?
    public let note: String?
    /// Bytes of file content the client sent for it (0 for add-provider and held content).
    public var bytesSent: Int64 = 0
    /// The caller's near-duplicates the server named (`similar[].asset_id`), nearest first.
    public var similar: [Int64] = []
}

/// The HTTP API over libcurl, one easy handle per request (any thread). 503 and transient
/// transport errors are retried `maxAttempts` times in all, waiting `Retry-After` (capped) or
/// a doubling backoff.
public final class APIClient: @unchecked Sendable {
    public let server: String
    private let token: String
    public var maxAttempts = 5
    public var maxRetryWait = 30.0
    public var baseBackoff = 0.5
    /// Called with each request line sent (for tests and `--verbose`); must be thread-safe.
    public var trace: (@Sendable (String) -> Void)?
    /// A cap on the rate file bytes are sent at (`--limit-rate`), per request; nil: as fast as the link goes.
    public var maxSendBytesPerSecond: Int64?

    public init(server: String, token: String) {
        var s = server
        while s.hasSuffix("/") { s.removeLast() }
        self.server = s
        self.token = token
    }

    enum Body {
        case none
        case json([UInt8])
        case multipart(fields: [(String, String)], path: String, filename: String)
        case fileRange(path: String, offset: Int64, length: Int64, contentType: String)
    }

    /// One request, no retry.
    func send(_ method: String, _ path: String, headers: [String] = [], body: Body = .none, timeout: Double = 600)
        throws -> APIResponse
    {
        let easy = try CurlEasy()
        try easy.setURL(path.hasPrefix("http") ? path : server + path)
        var lines = ["Authorization: Bearer \(token)", "Expect:"] + headers
        switch body {
        case .none:
            if method == "POST" || method == "PATCH" { try easy.setBody([]) }
        case .json(let bytes):
            lines.append("Content-Type: application/json")
            try easy.setBody(bytes)
        case .multipart(let fields, let path, let filename):
            try easy.setMultipart(
                fields: fields.map { (name: $0.0, value: $0.1) }, fileField: "file", path: path, filename: filename,
                contentType: "application/octet-stream")
        case .fileRange(let path, let offset, let length, let contentType):
            lines.append("Content-Type: \(contentType)")
            try easy.setBody(file: path, offset: offset, length: length)
        }
        try easy.setMethod(method)
        try easy.setHeaders(lines)
        try easy.setConnectTimeout(seconds: 15)
        try easy.setTimeout(seconds: timeout)
        try easy.setLowSpeedLimit(bytesPerSecond: 1, seconds: 120)
        if let limit = maxSendBytesPerSecond {
            switch body {
            case .multipart, .fileRange: try easy.setMaxSendSpeed(bytesPerSecond: limit)
            case .none, .json: break
            }
        }
        trace?("\(method) \(path)")
        try easy.perform()
        return APIResponse(
            status: easy.responseCode, body: easy.responseBody, headers: easy.responseHeaders,
            retryAfter: easy.retryAfter)
    }

    /// Retries a request on 503 or a transient transport error (a tus PATCH resumes by its own
    /// loop instead: it must ask the offset first).
    func withRetry(_ attempt: () throws -> APIResponse) throws -> APIResponse {
        var wait = baseBackoff
        var tries = 0
        while true {
            tries += 1
            do {
                let response = try attempt()
                guard response.status == 503, tries < maxAttempts else { return response }
                Self.sleep(min(response.retryAfter ?? wait, maxRetryWait))
            } catch let error as CurlError where error.isTransient && tries < maxAttempts {
                Self.sleep(min(wait, maxRetryWait))
            }
            wait *= 2
        }
    }

    static func sleep(_ seconds: Double) {
        usleep(useconds_t(max(0, seconds) * 1_000_000))
    }

    static func jsonBytes(_ object: Any) -> [UInt8] {
        [UInt8]((try? JSONSerialization.data(withJSONObject: object)) ?? Data())
    }

    // MARK: calls

    /// `POST /assets/check-by-hash/batch` for up to 1000 hashes on one provider.
    public func check(hashes: [String], provider: String) throws -> [String: CheckAnswer] {
        let items = hashes.map { ["sha256": $0, "provider_id": provider] }
        let response: APIResponse
        do {
            response = try withRetry {
                try send(
                    "POST", "/api/v1/assets/check-by-hash/batch", body: .json(Self.jsonBytes(["items": items])),
                    timeout: 120)
            }
        } catch {
            throw APIError(message: "\(Self.unreachable(server)): \(error)", fatal: true)
        }
        guard response.status == 200, let results = response.json?["results"] as? [[String: Any]],
            results.count == hashes.count
        else {
            throw APIError(message: "check-by-hash on \(provider): \(response.errorText)", fatal: true)
        }
        var answers: [String: CheckAnswer] = [:]
        for (sha, result) in zip(hashes, results) {
            var error: String?
            if let e = result["error"] as? [String: Any] {
                if e["code"] as? String == "unknown_provider" {
                    throw APIError(
                        message: "unknown provider '\(provider)': \(e["message"] as? String ?? "")", fatal: true)
                }
                error = "\(e["code"] as? String ?? "error"): \(e["message"] as? String ?? "")"
            }
            answers[sha] = CheckAnswer(
                exists: result["exists"] as? Bool ?? false, assetID: Self.int64(result["asset_id"]),
                uploadedTo: result["uploaded_to_providers"] as? [String] ?? [], error: error)
        }
        return answers
    }

    static func int64(_ value: Any?) -> Int64? {
        if let n = value as? NSNumber { return n.int64Value }
        if let s = value as? String { return Int64(s) }
        return nil
    }

    static func answer(_ response: APIResponse, bytes: Int64) throws -> UploadAnswer {
        guard (200..<300).contains(response.status), let json = response.json, let status = json["status"] as? String
        else {
            throw APIError(message: response.errorText, fatal: response.status == 401)
        }
        let similar = (json["similar"] as? [[String: Any]] ?? []).compactMap { int64($0["asset_id"]) }
        return UploadAnswer(
            status: status, assetID: int64(json["asset_id"]), note: json["note"] as? String, bytesSent: bytes,
            similar: similar)
    }

    /// `POST /assets/{id}/providers`: zero file bytes.
    public func addProvider(assetID: Int64, provider: String) throws -> UploadAnswer {
        let response = try withRetry {
            try send(
                "POST", "/api/v1/assets/\(assetID)/providers", body: .json(Self.jsonBytes(["provider_id": provider])))
        }
        return try Self.answer(response, bytes: 0)
    }

    /// `POST /assets/upload`, multipart, the file streamed from disk by curl.
    public func uploadMultipart(file: HashedFile, provider: String) throws -> UploadAnswer {
        let response = try withRetry {
            try send(
                "POST", "/api/v1/assets/upload",
                body: .multipart(
                    fields: [("provider_id", provider), ("sha256", file.sha256)], path: file.path,
                    filename: Self.basename(file.path)))
        }
        return try Self.answer(response, bytes: file.size)
    }

    static func basename(_ path: String) -> String {
        String(path.split(separator: "/").last ?? Substring(path))
    }

    static func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    /// tus 1.0.0: create with the metadata (held content is answered at once), then PATCHes of
    /// `chunkSize` bytes; a failed PATCH is resumed from the offset HEAD reports. With `memory`,
    /// the upload's URL is kept until it finishes, and a later run resumes it from HEAD's offset
    /// instead of sending the file again.
    public func uploadTus(
        file: HashedFile, provider: String, chunkSize: Int64, memory: (any UploadURLMemory)? = nil
    ) throws -> UploadAnswer {
        var location: String
        var offset: Int64
        if let remembered = memory?.upload(server: server, provider: provider, sha256: file.sha256),
            remembered.size == file.size,
            let resumed = try resumableOffset(of: remembered.location, size: file.size)
        {
            location = remembered.location
            offset = resumed
            trace?("resume \(location) at \(offset)")
        } else {
            memory?.forgetUpload(server: server, provider: provider, sha256: file.sha256)
            let metadata = [
                "provider_id " + Self.base64(provider), "filename " + Self.base64(Self.basename(file.path)),
                "sha256 " + Self.base64(file.sha256),
            ].joined(separator: ",")
            let created = try withRetry {
                try send(
                    "POST", "/api/v1/tus",
                    headers: ["Tus-Resumable: 1.0.0", "Upload-Length: \(file.size)", "Upload-Metadata: \(metadata)"])
            }
            guard created.status == 201, let createdLocation = created.header("Location") else {
                throw APIError(message: "tus create: \(created.errorText)", fatal: created.status == 401)
            }
            location = createdLocation
            // The token goes wherever the PATCHes go: only to this server.
            guard isOnServer(location) else {
                throw APIError(message: "tus create: Location \(location) is not on \(server)", fatal: true)
            }
            offset = Int64(created.header("Upload-Offset") ?? "0") ?? 0
            if offset >= file.size, created.json?["status"] != nil {
                return try Self.answer(created, bytes: 0)
            }
            memory?.rememberUpload(
                server: server, provider: provider, sha256: file.sha256, size: file.size, location: location)
        }
        let finished = { memory?.forgetUpload(server: self.server, provider: provider, sha256: file.sha256) }
        if offset >= file.size {
            // Completed before (the answer was lost with the run that sent it): GET answers the asset.
            let got = try withRetry { try send("GET", location, headers: ["Tus-Resumable: 1.0.0"]) }
            let answer = try Self.answer(got, bytes: 0)
            finished()
            return answer
        }
        var sent: Int64 = 0
        var tries = 0
        var wait = baseBackoff
        while true {
            let length = min(chunkSize, file.size - offset)
            var response: APIResponse?
            var failure: String?
            do {
                response = try send(
                    "PATCH", location,
                    headers: ["Tus-Resumable: 1.0.0", "Upload-Offset: \(offset)"],
                    body: .fileRange(
                        path: file.path, offset: offset, length: length, contentType: "application/offset+octet-stream")
                )
            } catch let error as CurlError where error.isTransient {
                failure = error.description
            }
            if let response, response.status == 204 {
                offset += length
                sent += length
                tries = 0
                wait = baseBackoff
                continue
            }
            if let response, (200..<300).contains(response.status) {
                // The last PATCH: the asset answer.
                sent += length
                let answer = try Self.answer(response, bytes: sent)
                finished()
                return answer
            }
            if let response, response.status == 404 || response.status == 410 {
                finished()  // the server dropped the upload (expired): the next run starts over
                throw APIError(message: "tus PATCH: \(response.errorText)", fatal: false)
            }
            if let response, response.status != 503 && response.status != 409 {
                throw APIError(message: "tus PATCH: \(response.errorText)", fatal: response.status == 401)
            }
            tries += 1
            guard tries < maxAttempts else {
                throw APIError(message: "tus PATCH gave up: \(failure ?? response?.errorText ?? "")", fatal: false)
            }
            Self.sleep(min(response?.retryAfter ?? wait, maxRetryWait))
            wait *= 2
            // Resume: ask where the server is.
            let head = try withRetry { try send("HEAD", location, headers: ["Tus-Resumable: 1.0.0"]) }
            guard head.status == 200 || head.status == 204,
                let now = head.header("Upload-Offset").flatMap({ Int64($0) })
            else {
                throw APIError(message: "tus HEAD: HTTP \(head.status)", fatal: false)
            }
            if now >= file.size {
                // Completed meanwhile: GET answers the asset.
                let got = try withRetry { try send("GET", location, headers: ["Tus-Resumable: 1.0.0"]) }
                let answer = try Self.answer(got, bytes: sent)
                finished()
                return answer
            }
            offset = now
        }
    }

    /// A failure in a report's words: a server that cannot be reached is named as such.
    public func describe(_ error: any Error) -> String {
        if let curl = error as? CurlError, curl.isUnreachable { return Self.unreachable(server) + ": \(curl)" }
        return "\(error)"
    }

    /// The prefix of a failure that stops the run (exit 2).
    public static func unreachable(_ server: String) -> String { "cannot reach \(server)" }

    func isOnServer(_ location: String) -> Bool {
        location.hasPrefix("/") || location.hasPrefix(server + "/")
    }

    /// Where a remembered tus upload stands: its offset from HEAD, or nil when the server no
    /// longer has it (expired, swept, or another length): then it is started over.
    func resumableOffset(of location: String, size: Int64) throws -> Int64? {
        guard isOnServer(location) else { return nil }
        let head = try withRetry { try send("HEAD", location, headers: ["Tus-Resumable: 1.0.0"]) }
        if [403, 404, 410].contains(head.status) { return nil }
        guard head.status == 200 || head.status == 204, let offset = head.header("Upload-Offset").flatMap({ Int64($0) })
        else {
            throw APIError(message: "tus HEAD: HTTP \(head.status)", fatal: head.status == 401)
        }
        if let length = head.header("Upload-Length").flatMap({ Int64($0) }), length != size { return nil }
        return offset <= size ? offset : nil
    }
}
