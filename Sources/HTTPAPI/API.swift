import AssetDedupCore
import StoreProtocols
import BlobStore
import Delivery
import Foundation
import Logging
import Metrics
import PerceptualHash
import Providers

/// The HTTP API of one worker thread: maps request values to response values.
///
/// Owns that thread's database connection; everything shared between threads (blob folder,
/// providers, the delivery hub) is `Sendable`. No sockets here: tests drive it in process.
public final class API {
    let store: any APIStore
    let blobs: any BlobStorage
    let providers: ProviderConfig
    /// Wakes delivery workers and waiting requests; counts waiters for the admission rule.
    let deliveries: DeliveryHub
    /// Sends a job from this thread when the process runs no delivery workers.
    let runner: DeliveryRunner
    let limits: APILimits
    let logger: Logger
    /// Shared by every worker thread and the delivery workers; see `API+Metrics.swift`.
    let metrics: Metrics
    /// Where nginx buffers upload bodies; the only folder a `REQUEST_BODY_FILE` may name.
    let bodyFiles: RequestBodyFiles
    /// Computes perceptual fingerprints of new uploads; nil turns that off (stored ones still show).
    let fingerprinter: (any MediaFingerprinting)?
    /// Where videos are fingerprinted (serve's worker); nil fingerprints them on the request thread.
    let backgroundFingerprints: BackgroundFingerprints?
    /// One read buffer per worker for JSON bodies, instead of one allocation per request.
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 << 10, alignment: 8)
    /// Token -> user, and the data version it was read at (see `reading`).
    private var authCache: [String: (user: AuthenticatedUser, version: UInt64)] = [:]
    /// When this worker last stamped each token's `last_used_at` (at most once a minute).
    private var tokenTouches: [Int64: Date] = [:]

    public init(
        store: any APIStore, blobs: any BlobStorage, providers: ProviderConfig, deliveries: DeliveryHub = DeliveryHub(),
        limits: APILimits = APILimits(), bodyFiles: RequestBodyFiles = RequestBodyFiles(directory: nil),
        metrics: Metrics = Metrics(routes: API.routeLabels), fingerprinter: (any MediaFingerprinting)? = nil,
        backgroundFingerprints: BackgroundFingerprints? = nil, logger: Logger
    ) {
        self.fingerprinter = fingerprinter
        self.backgroundFingerprints = backgroundFingerprints
        self.metrics = metrics
        self.bodyFiles = bodyFiles
        self.store = store
        self.blobs = blobs
        self.providers = providers
        self.deliveries = deliveries
        self.runner = DeliveryRunner(
            providers: providers, blobs: blobs, hub: deliveries, metrics: metrics, logger: logger)
        self.limits = limits
        self.logger = logger
    }

    deinit { readBuffer.deallocate() }

    /// Answers a request whose body nginx buffered to `bodyFile` (uploads), or streams it.
    public func respond(to request: HTTPRequest, bodyFile: String?) -> HTTPResponse {
        measured(request) {
            guard let bodyFile else { return answer(request) }
            let body: FileRequestBody
            do {
                body = try bodyFiles.open(bodyFile)
            } catch {
                logger.error(
                    "\(request.method) \(request.path): \(error); check nginx client_body_temp_path and serve --request-body-dir"
                )
                return .error(.requestBodyUnavailable)
            }
            var withBody = request
            withBody.body = body
            withBody.headers["content-length"] = String(body.size)
            return answer(withBody)
        }
    }

    /// Answers one request; every failure becomes a JSON error, never a crash.
    public func respond(to request: HTTPRequest) -> HTTPResponse {
        measured(request) { answer(request) }
    }

    private func answer(_ request: HTTPRequest) -> HTTPResponse {
        do {
            return try route(request)
        } catch let error as APIError {
            // The upload stream turns ENOSPC into a 507 itself; operators still need to hear of it.
            if error.status == 507 { logger.error("storage full on \(request.method) \(request.path): \(error.body.message)") }
            return .error(error)
        } catch let error as ValidationError {
            return .error(.invalid(error))
        } catch let error as StoreFailure where error.isTransient {
            logger.warning("database unavailable: \(error)")
            return .error(.busy)
        } catch let error as BlobStorageUnavailable {
            logger.warning("blob storage unavailable: \(error)")
            return .error(.storageUnavailable)
        } catch let error as FileError where error.isNoSpace {
            logger.error("storage full: \(error)")
            return .error(.noSpace)
        } catch {
            logger.error("internal error on \(request.method) \(request.path): \(error)")
            return .error(.internalError)
        }
    }

    private func route(_ request: HTTPRequest) throws -> HTTPResponse {
        let prefix = "/api/v1"
        guard request.path.hasPrefix(prefix) else { throw APIError.notFound }
        let path = request.path.dropFirst(prefix.count)
        let method = request.method

        func only(_ allowed: String, _ handler: () throws -> HTTPResponse) throws -> HTTPResponse {
            guard method == allowed else { throw APIError.methodNotAllowed([allowed]) }
            return try handler()
        }

        switch path {
        case "/health":
            return try only("GET") { try health() }
        case "/auth/admin":
            return try only("GET") { try adminCheck(request) }
        case "/auth/user":
            return try only("GET") { try userCheck(request) }
        case "/assets/check-by-hash":
            return try only("POST") { try checkByHash(request) }
        case "/assets/check-by-hash/batch":
            return try only("POST") { try checkByHashBatch(request) }
        case "/assets/check-by-hash-batch":
            return try only("POST") { try legacyCheckBatch(request) }
        case "/assets/upload":
            return try only("POST") { try upload(request, user: authenticate(request)) }
        case "/assets/similar":
            return try only("POST") { try similar(request) }
        case "/assets":
            return try only("GET") { try reading(request, input: {}) { user, _ in try listAssets(request, user: user) } }
        case "/uploads":
            return try resumable(request, id: nil)
        case "/providers":
            return try only("GET") { try listProviders(user: authenticate(request)) }
        case "/admin/duplicates":
            return try only("GET") { try listDuplicates(request) }
        case "/metrics":
            return try only("GET") { try metricsText(request) }
        default:
            if path.hasPrefix("/uploads/") {
                return try resumable(request, id: String(path.dropFirst("/uploads/".count)))
            }
            if path.hasPrefix("/admin/near-duplicates/"), path.hasSuffix("/review") {
                let asset = String(path.dropFirst("/admin/near-duplicates/".count).dropLast("/review".count))
                return try only("POST") { try reviewNearDuplicates(asset: asset, request: request) }
            }
            if path.hasPrefix("/admin/duplicates/"), path.hasSuffix("/review") {
                let group = String(path.dropFirst("/admin/duplicates/".count).dropLast("/review".count))
                return try only("POST") { try reviewDuplicate(group: group, request: request) }
            }
            if path.hasPrefix("/assets/"), path.hasSuffix("/providers") {
                let id = String(path.dropFirst("/assets/".count).dropLast("/providers".count))
                return try only("POST") { try addProvider(assetID: id, request: request) }
            }
            if path.hasPrefix("/assets/") {
                let id = String(path.dropFirst("/assets/".count))
                return try only("GET") { try reading(request, input: {}) { user, _ in try getAsset(id: id, user: user) } }
            }
            throw APIError.notFound
        }
    }

    // MARK: Auth

    /// The bearer token's user, looked up in the database: for endpoints that write.
    func authenticate(_ request: HTTPRequest) throws -> AuthenticatedUser {
        try lookUp(token: token(of: request))
    }

    /// Runs a read-only endpoint as the token's user, trusting the worker's cache optimistically.
    ///
    /// For a token this worker has looked up before, `work` runs first and the connection's data
    /// version is compared afterwards: if anything was committed since the lookup (a revocation
    /// by the CLI, say), the token is looked up again and `work` repeated on fresh data, so a
    /// revoked token is refused on the very next request while a run of checks skips the token
    /// query and its read transaction. `input` (the body) is read once, after an unknown token
    /// was refused, so a wrong token is a 401 before the body is looked at.
    func reading<Input, Output>(
        _ request: HTTPRequest, input: () throws -> Input, _ work: (AuthenticatedUser, Input) throws -> Output
    ) throws -> Output {
        let token = try token(of: request)
        guard let cached = authCache[token] else {
            let user = try lookUp(token: token)
            return try work(user, input())
        }
        let body = try input()
        let outcome = Result { try work(cached.user, body) }
        guard store.changeCounter == cached.version else { return try work(lookUp(token: token), body) }
        stampLastUse(cached.user)
        return try outcome.get()
    }

    /// `reading`, but on a backend that caches no tokens (PostgreSQL) `combined` looks the token
    /// up in the same statement as the read (nil: unknown or revoked), one round trip instead of
    /// two. A body that does not parse goes the ordinary way, so a wrong token is still a 401
    /// before the body's 400.
    func reading<Input, Output>(
        _ request: HTTPRequest, input: () throws -> Input, _ work: (AuthenticatedUser, Input) throws -> Output,
        combined: (_ token: String, Input) throws -> (user: AuthenticatedUser, output: Output)?
    ) throws -> Output {
        guard store.changeCounter == nil else { return try reading(request, input: input, work) }
        // The body is read once: a failed parse is replayed to the ordinary path after its token check.
        let parsed = Result { try input() }
        guard case .success(let body) = parsed else { return try reading(request, input: parsed.get, work) }
        guard let (user, output) = try combined(token(of: request), body) else { throw APIError.unauthorized }
        stampLastUse(user)
        return output
    }

    private func token(of request: HTTPRequest) throws -> String {
        guard let header = request.headers["authorization"], let token = Self.bearerToken(header) else {
            throw APIError.unauthorized
        }
        return token
    }

    /// Looks the token up and caches the answer with the data version it was read at.
    private func lookUp(token: String) throws -> AuthenticatedUser {
        guard let user = try store.authenticate(token: token) else {
            authCache[token] = nil
            throw APIError.unauthorized
        }
        // A backend that cannot tell whether anything changed (PostgreSQL) gets no cache: a
        // revoked token is refused by every node at its next request.
        if let version = store.changeCounter {
            if authCache.count >= 256 { authCache.removeAll(keepingCapacity: true) }
            authCache[token] = (user, version)
        }
        stampLastUse(user)
        return user
    }

    /// Stamps the token's `last_used_at`, at most once a minute per worker.
    private func stampLastUse(_ user: AuthenticatedUser) {
        let now = Date()
        guard tokenTouches[user.tokenID].map({ now.timeIntervalSince($0) >= 60 }) ?? true else { return }
        tokenTouches[user.tokenID] = now
        // Best effort and never waiting: a read-only check must not stall for the busy timeout
        // (or fail with 503) because a long writer holds the lock.
        do {
            try store.touchToken(id: user.tokenID)
        } catch {
            tokenTouches[user.tokenID] = nil
            if !((error as? StoreFailure)?.isTransient ?? false) {
                logger.warning("could not stamp token last use: \(error)")
            }
        }
    }

    /// `Bearer <token>`, or HTTP Basic with the token as password (what a browser sends for
    /// the admin reports behind nginx `auth_request`). Byte-level: this runs on every request.
    /// Public for the fuzz targets.
    public static func bearerToken(_ header: String) -> String? {
        var header = header
        return header.withUTF8 { bytes -> String? in
            func hasScheme(_ scheme: StaticString) -> Bool {
                let count = scheme.utf8CodeUnitCount
                guard bytes.count > count, bytes[count] == UInt8(ascii: " ") else { return false }
                return (0..<count).allSatisfy { bytes[$0] | 0x20 == scheme.utf8Start[$0] }
            }
            /// What follows the scheme, without surrounding spaces.
            func credentials(after count: Int) -> UnsafeBufferPointer<UInt8> {
                var start = count
                var end = bytes.count
                while start < end, bytes[start] == UInt8(ascii: " ") { start += 1 }
                while end > start, bytes[end - 1] == UInt8(ascii: " ") { end -= 1 }
                return UnsafeBufferPointer(rebasing: bytes[start..<end])
            }
            if hasScheme("bearer") {
                let token = credentials(after: 6)
                return token.isEmpty ? nil : String(decoding: token, as: UTF8.self)
            }
            if hasScheme("basic"), let data = Data(base64Encoded: Data(credentials(after: 5))),
                let colon = data.firstIndex(of: UInt8(ascii: ":"))
            {
                let token = data[data.index(after: colon)...]
                return token.isEmpty ? nil : String(decoding: token, as: UTF8.self)
            }
            return nil
        }
    }

    /// nginx `auth_request` target run before an upload body is read: 204 for any valid token,
    /// so a wrong one is refused before nginx takes in a file it would throw away.
    func userCheck(_ request: HTTPRequest) throws -> HTTPResponse {
        _ = try authenticate(request)
        return HTTPResponse(status: 204)
    }

    /// nginx `auth_request` target guarding `/reports/`: 204 for an admin, 401 (with a Basic
    /// challenge so a browser asks for the token) or 403 otherwise.
    func adminCheck(_ request: HTTPRequest) throws -> HTTPResponse {
        let user: AuthenticatedUser
        do {
            user = try authenticate(request)
        } catch let error as APIError where error.status == 401 {
            throw APIError(
                status: 401, code: "unauthorized", message: error.body.message,
                headers: [("WWW-Authenticate", #"Basic realm="AssetDedup reports (user: anything, password: admin API token)""#)])
        }
        guard user.isAdmin else { throw APIError(status: 403, code: "forbidden", message: "admins only") }
        return HTTPResponse(status: 204)
    }

    // MARK: Bodies

    /// Reads a JSON body within the size limit and parses it; bad input is a 400/413/415.
    func decodeJSON<T: JSONReadable>(_ type: T.Type, from request: HTTPRequest) throws -> T {
        let contentType = request.headers["content-type"]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/json") else { throw APIError.unsupportedMediaType("application/json") }
        if let length = request.contentLength, length > limits.maxJSONBytes {
            throw APIError.tooLarge("JSON bodies are limited to \(limits.maxJSONBytes) bytes")
        }
        // Most bodies fit the worker's buffer and are parsed in place; larger ones are gathered.
        var filled = 0
        var overflow: [UInt8] = []
        while true {
            if filled == readBuffer.count {
                overflow.append(contentsOf: readBuffer)
                filled = 0
            }
            let count = try request.body.read(into: UnsafeMutableRawBufferPointer(rebasing: readBuffer[filled...]))
            if count == 0 { break }
            filled += count
            if overflow.count + filled > limits.maxJSONBytes {
                throw APIError.tooLarge("JSON bodies are limited to \(limits.maxJSONBytes) bytes")
            }
        }
        let json: JSONValue
        do {
            if overflow.isEmpty {
                json = try JSONValue.parse(UnsafeRawBufferPointer(rebasing: readBuffer[..<filled]))
            } else {
                overflow.append(contentsOf: readBuffer[..<filled])
                json = try JSONValue.parse(overflow)
            }
        } catch let error as JSONSyntaxError {
            throw APIError.badRequest("invalid_json", "the body is not valid JSON: \(error)")
        }
        do {
            return try T(json: json)
        } catch JSONShapeError.missing(let path) {
            throw APIError.badRequest("missing_field", "missing field '\(path)'")
        } catch JSONShapeError.wrongType(let path) {
            throw APIError.badRequest(
                "invalid_field", path.isEmpty ? "the body must be a JSON object" : "field '\(path)' has the wrong type")
        }
    }

    /// A provider id from the client: a valid slug and one that is configured.
    func configuredProvider(_ text: String) throws -> ProviderID {
        let id = try ProviderID(parsing: text)
        guard providers.provider(id) != nil else { throw APIError.unknownProvider(id) }
        return id
    }
}

/// What the API needs of the store: one connection per FastCGI thread.
public typealias APIStore = AssetCatalog & UserDirectory & DeliveryQueue & UploadSessionStore & DuplicateReviews
    & SchemaMigrations & BlobCollection & MediaFingerprints & NearDuplicateReviews
