import AssetDedupCore
import SQLiteStore
import BlobStore
import Foundation
import HTTPAPI
import Logging
import Providers

/// What a fuzz input is fed to: each parser of outside input, alone or through `API.respond`.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// A `multipart/form-data` upload body; the first byte picks the read chunk size.
    case multipart
    /// The JSON body of `POST /assets/check-by-hash`.
    case checkJSON = "check-json"
    /// The JSON body of `POST /assets/check-by-hash/batch`.
    case batchJSON = "batch-json"
    /// The JSON body of the seed system's `POST /assets/check-by-hash-batch`.
    case legacyBatchJSON = "legacy-batch-json"
    /// `SHA256Digest`, `ProviderID` and `AssetID` parsers (and `GET /assets/{id}`).
    case identifiers
    /// `HTTPRequest.split(uri:)`, then the router with that path and query.
    case uri
    /// The `Authorization` header: `API.bearerToken`, then a real authentication.
    case authorization
    /// A provider config file (`serve --config`).
    case config
    /// A resumable-upload request: first line the method (`POST` creates, else a `PATCH`/`HEAD`/
    /// `DELETE` of one upload), then `name: value` header lines, a blank line, and the body.
    case resumable
    /// An image file: libvips' decode to luminance and the report thumbnail, then the fingerprinter.
    case image
    /// A video file: FFmpeg's demux, seek and decode of the 10 frames, then the fingerprinter.
    case video
}

/// Runs fuzz inputs against a real in-process API (temp SQLite file, temp data folder) and
/// reports every broken promise: a 5xx or non-JSON answer, a refused request that wrote a row,
/// a temp file left behind, a parser that accepts what it should not. Used by the libFuzzer
/// executable (`AssetDedupFuzz`) and by the seeded tests in `FuzzTests`.
public final class FuzzHarness {
    public let directory: String
    let store: SQLiteStore
    let blobs: BlobStore
    let api: API
    let token: String
    /// The status of the last request sent, for tests that check a seed really succeeds.
    public private(set) var lastStatus = 0

    public init() throws {
        directory = NSTemporaryDirectory() + "assetdedup-fuzz-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        store = try SQLiteStore(path: directory + "/fuzz.sqlite")
        try Migrator(db: store.db).up()
        let user = try store.addUser(name: "fuzz")
        token = try store.issueToken(for: user.id).secret
        blobs = try BlobStore(dataDirectory: directory + "/data")
        var logger = Logger(label: "fuzz")
        logger.logLevel = .critical
        api = API(
            store: store, blobs: blobs, providers: .defaults(dataDirectory: directory + "/data"),
            limits: APILimits(maxUploadBytes: 1 << 20), logger: logger)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// Feeds one input to one target; returns the promises it broke (empty when all held).
    public func run(_ target: FuzzTarget, _ input: [UInt8]) -> [String] {
        switch target {
        case .multipart: return multipart(input)
        case .checkJSON: return json("/api/v1/assets/check-by-hash", input)
        case .batchJSON: return json("/api/v1/assets/check-by-hash/batch", input)
        case .legacyBatchJSON: return json("/api/v1/assets/check-by-hash-batch", input)
        case .identifiers: return identifiers(String(decoding: input, as: UTF8.self))
        case .uri: return uri(String(decoding: input, as: UTF8.self))
        case .authorization: return authorization(String(decoding: input, as: UTF8.self))
        case .config: return config(input)
        case .resumable: return resumable(input)
        case .image: return image(input)
        case .video: return video(input)
        }
    }

    /// libFuzzer's single input: the first byte picks the target, the rest is its input.
    public func run(selectorAndInput data: [UInt8]) -> [String] {
        guard let first = data.first else { return [] }
        let target = FuzzTarget.allCases[Int(first) % FuzzTarget.allCases.count]
        return run(target, Array(data.dropFirst()))
    }

    // MARK: Targets

    func multipart(_ input: [UInt8]) -> [String] {
        let chunkSizes = [1, 2, 3, 7, 64, 1000, 8192, .max]
        let chunk = chunkSizes[Int(input.first ?? 0) % chunkSizes.count]
        let body = Array(input.dropFirst())
        let before = assetCount()
        let response = send(
            "POST", "/api/v1/assets/upload", headers: ["content-type": "multipart/form-data; boundary=FUZZ"],
            body: body, chunk: chunk)
        var broken = answerProblems(response)
        if response.status >= 400 && assetCount() != before {
            broken.append("a refused upload (\(response.status)) wrote a row")
        }
        if let temp = try? FileManager.default.contentsOfDirectory(atPath: blobs.tempDirectory), !temp.isEmpty {
            broken.append("temp files left behind: \(temp)")
        }
        return broken
    }

    func json(_ path: String, _ input: [UInt8]) -> [String] {
        let before = assetCount()
        let response = send("POST", path, headers: ["content-type": "application/json"], body: input)
        var broken = answerProblems(response)
        if ![200, 400, 413, 422].contains(response.status) { broken.append("unexpected status \(response.status)") }
        if assetCount() != before { broken.append("a check wrote a row") }
        return broken
    }

    func identifiers(_ text: String) -> [String] {
        var broken: [String] = []
        if let digest = try? SHA256Digest(parsing: text) {
            let hexDigits = digest.hex.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
            if digest.hex.utf8.count != 64 || !hexDigits {
                broken.append("SHA256Digest accepted '\(text)' as '\(digest.hex)'")
            }
            if digest.hex != text.lowercased() { broken.append("SHA256Digest changed '\(text)' beyond case") }
            if (try? SHA256Digest(parsing: digest.hex)) != digest { broken.append("SHA256Digest does not round-trip") }
        }
        if let id = try? ProviderID(parsing: text) {
            let slug = text.utf8.allSatisfy {
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                    || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_")
            }
            if id.rawValue != text || text.isEmpty || text.utf8.count > 64 || text.hasPrefix("-") || text.hasPrefix("_")
                || !slug
            {
                broken.append("ProviderID accepted '\(text)'")
            }
        }
        if let id = try? AssetID(parsing: text) {
            if id.rawValue <= 0 { broken.append("AssetID accepted non-positive '\(text)'") }
            if (try? AssetID(parsing: String(id.rawValue))) != id { broken.append("AssetID does not round-trip") }
        }
        // The same text as a path id: never a 5xx, and only 404 (no such asset of this user) or 200.
        let escaped = text.utf8.allSatisfy {
            $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: "/")
        }
        if escaped {
            let response = send("GET", "/api/v1/assets/" + text, headers: [:], body: [])
            broken += answerProblems(response)
            if ![200, 404].contains(response.status) {
                broken.append("GET /assets/\(text) answered \(response.status)")
            }
        }
        return broken
    }

    func uri(_ text: String) -> [String] {
        let (path, query) = HTTPRequest.split(uri: text)
        var broken: [String] = []
        if !text.hasPrefix(path) { broken.append("split(uri:) path '\(path)' is not a prefix of '\(text)'") }
        if path.contains("?") { broken.append("split(uri:) path keeps a '?'") }
        if !text.contains("?") && !query.isEmpty { broken.append("split(uri:) found a query in '\(text)'") }
        let response = api.respond(
            to: HTTPRequest(method: "GET", path: path, query: query, headers: ["authorization": "Bearer \(token)"]))
        broken += answerProblems(response)
        return broken
    }

    func authorization(_ header: String) -> [String] {
        var broken: [String] = []
        let token = API.bearerToken(header)
        if let token, token.isEmpty { broken.append("bearerToken returned an empty token for '\(header)'") }
        if header.hasPrefix("Bearer ") {
            let expected = header.dropFirst(7).trimmingCharacters(in: [" "])
            if !expected.isEmpty, token != expected {
                broken.append("bearerToken('\(header)') = \(String(describing: token)), expected '\(expected)'")
            }
        }
        let response = api.respond(
            to: HTTPRequest(method: "GET", path: "/api/v1/assets", headers: ["authorization": header]))
        broken += answerProblems(response)
        let expectedStatus = token == self.token ? 200 : 401
        if response.status != expectedStatus { broken.append("Authorization '\(header)' answered \(response.status)") }
        return broken
    }

    func config(_ input: [UInt8]) -> [String] {
        let path = directory + "/config.json"
        guard FileManager.default.createFile(atPath: path, contents: Data(input)) else {
            return ["cannot write \(path)"]
        }
        do {
            let config = try ProviderConfig(contentsOf: path)
            let ids = config.providers.map(\.id.rawValue)
            if Set(ids).count != ids.count { return ["config accepted a provider defined twice: \(ids)"] }
            return []
        } catch is ConfigError {
            return []
        } catch {
            return ["config threw something other than ConfigError: \(error)"]
        }
    }

    // MARK: Helpers

    func send(_ method: String, _ path: String, headers: [String: String], body: [UInt8], chunk: Int = .max)
        -> HTTPResponse
    {
        var all = headers
        all["authorization"] = "Bearer \(token)"
        let response = api.respond(
            to: HTTPRequest(method: method, path: path, headers: all, body: BytesBody(body, chunk: chunk)))
        lastStatus = response.status
        return response
    }

    /// No 5xx; a JSON object; errors in the `{"error": {"code", "message"}}` shape.
    /// The upload the non-`POST` resumable inputs act on, made on first use.
    private var resumableTarget: String?

    func resumable(_ input: [UInt8]) -> [String] {
        let text = String(decoding: input, as: UTF8.self)
        let (head, body) =
            text.range(of: "\n\n").map { (String(text[..<$0.lowerBound]), Array(text[$0.upperBound...].utf8)) }
            ?? (text, [])
        var lines = head.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let method = lines.isEmpty ? "POST" : lines.removeFirst().trimmingCharacters(in: .whitespaces)
        var headers: [String: String] = ["authorization": "Bearer \(token)"]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = String(line[line.index(after: colon)...])
        }
        if resumableTarget == nil {
            let created = api.respond(
                to: HTTPRequest(
                    method: "POST", path: "/api/v1/uploads", query: ["provider_id": "pixverse"],
                    headers: ["authorization": "Bearer \(token)", "upload-complete": "?0"], body: BytesBody([1, 2, 3])))
            resumableTarget = created.headers.first { $0.0 == "Location" }?.1
        }
        let sessionsBefore = uploadSessionCount()
        let isCreation = method == "POST"
        let path = isCreation ? "/api/v1/uploads" : (resumableTarget ?? "/api/v1/uploads/none")
        let response = api.respond(
            to: HTTPRequest(
                method: method, path: path, query: ["provider_id": "pixverse"], headers: headers, body: BytesBody(body))
        )
        lastStatus = response.status
        var broken: [String] = []
        let created = response.status == 201 && response.headers.contains { $0.0 == "Location" }
        if !created && !(response.status == 204) {
            broken += answerProblems(response)
        } else if response.status >= 500 {
            broken.append("answered \(response.status)")
        }
        if isCreation && response.status >= 400 && uploadSessionCount() != sessionsBefore {
            broken.append("a refused creation (\(response.status)) kept an upload")
        }
        // Whatever was answered, every incomplete upload's file is exactly its recorded offset.
        let rows =
            (try? store.db.query(
                "SELECT id, upload_offset, completed_at IS NOT NULL FROM upload_sessions", cached: false
            ) { ($0.text(0), $0.int(1), $0.int(2) != 0) }) ?? []
        for (id, offset, complete) in rows {
            let size = (try? FileManager.default.attributesOfItem(atPath: blobs.partialPath(upload: id))[.size])
                .flatMap { $0 as? Int64 }
            if complete ? size != nil : size != offset {
                broken.append("upload \(id): file \(String(describing: size)) bytes, recorded offset \(offset)")
            }
        }
        if rows.isEmpty || !rows.contains(where: { "/api/v1/uploads/\($0.0)" == resumableTarget }) {
            resumableTarget = nil  // deleted or completed by this input: the next one makes another
        }
        return broken
    }

    func uploadSessionCount() -> Int64 {
        (try? store.db.queryFirst("SELECT count(*) FROM upload_sessions", cached: false) { $0.int(0) }) ?? -1
    }

    func answerProblems(_ response: HTTPResponse) -> [String] {
        var broken: [String] = []
        if response.status >= 500 {
            broken.append("answered \(response.status): \(String(decoding: response.body, as: UTF8.self))")
        }
        if response.status == 204 { return broken }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] else {
            return broken + [
                "answer is not a JSON object: \(String(decoding: response.body.prefix(200), as: UTF8.self))"
            ]
        }
        if response.status >= 400 {
            let error = object["error"] as? [String: Any]
            if !(error?["code"] is String) || !(error?["message"] is String) {
                broken.append("error answer without code/message")
            }
        }
        return broken
    }

    func assetCount() -> Int64 {
        (try? store.db.queryFirst("SELECT count(*) FROM assets", cached: false) { $0.int(0) }) ?? -1
    }
}
