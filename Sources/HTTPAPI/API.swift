import AssetDedupCore
import BlobProtocols
import Delivery
import Foundation
import Logging
import Metrics
import PerceptualHash
import Providers
import StoreProtocols

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
    /// Purges trashed assets (`DELETE /trash/{id}`), with the providers' `on_delete`.
    let purger: AssetPurger
    /// Computes perceptual fingerprints of new uploads; nil turns that off (stored ones still show).
    let fingerprinter: (any MediaFingerprinting)?
    /// Where videos are fingerprinted (serve's worker); nil fingerprints them on the request thread.
    let backgroundFingerprints: BackgroundFingerprints?
    /// Makes and keeps review pages' thumbnails (`GET /assets/{id}/thumbnail`); nil answers 404.
    let thumbnails: ThumbnailCache?
    /// One read buffer per worker for JSON bodies, instead of one allocation per request.
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 << 10, alignment: 8)
    /// Token -> user, and the data version it was read at (see `reading`).
    private var authCache: [String: (user: AuthenticatedUser, version: UInt64)] = [:]
    /// When this worker last stamped each token's `last_used_at` (at most once a minute).
    private var tokenTouches: [Int64: Date] = [:]

    public init(
        store: any APIStore, blobs: any BlobStorage, providers: ProviderConfig, deliveries: DeliveryHub = DeliveryHub(),
        limits: APILimits = APILimits(), bodyFiles: RequestBodyFiles = RequestBodyFiles(directory: nil),
        metrics: Metrics = Metrics(routes: API.routes.labels), fingerprinter: (any MediaFingerprinting)? = nil,
        backgroundFingerprints: BackgroundFingerprints? = nil, thumbnails: ThumbnailCache? = nil, logger: Logger
    ) {
        self.fingerprinter = fingerprinter
        self.thumbnails = thumbnails
        self.backgroundFingerprints = backgroundFingerprints
        self.metrics = metrics
        self.bodyFiles = bodyFiles
        self.store = store
        self.blobs = blobs
        self.providers = providers
        self.deliveries = deliveries
        self.purger = AssetPurger(providers: providers, metrics: metrics, logger: logger)
        self.runner = DeliveryRunner(
            providers: providers, blobs: blobs, hub: deliveries, metrics: metrics, logger: logger)
        self.limits = limits
        self.logger = logger
    }

    deinit { readBuffer.deallocate() }

    /// Answers a request whose body nginx buffered to `bodyFile` (uploads), or streams it.
    public func respond(to request: HTTPRequest, bodyFile: String?) -> HTTPResponse {
        let request = Self.overridingMethod(request)
        let match = Self.routes.match(method: request.method, path: request.path)
        return measured(match) {
            guard let bodyFile else { return answer(request, match) }
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
            return answer(withBody, match)
        }
    }

    /// Answers one request; every failure becomes a JSON error, never a crash.
    public func respond(to request: HTTPRequest) -> HTTPResponse {
        let request = Self.overridingMethod(request)
        let match = Self.routes.match(method: request.method, path: request.path)
        return measured(match) { answer(request, match) }
    }

    /// tus lets a client that can only send GET and POST name the method in
    /// `X-HTTP-Method-Override`; honoured on POSTs to tus upload URLs only.
    static func overridingMethod(_ request: HTTPRequest) -> HTTPRequest {
        guard request.method == "POST", let method = request.headers["x-http-method-override"],
            request.path.hasPrefix("/api/v1/tus/")
        else { return request }
        var overridden = request
        overridden.method = method.trimmingCharacters(in: .whitespaces).uppercased()
        return overridden
    }

    private func answer(_ request: HTTPRequest, _ match: RouteTable.Match) -> HTTPResponse {
        var response = answerWithoutRouteHeaders(request, match)
        if case .route(let route, _, _) = match {
            for (name, value) in route.headers
            where !response.headers.contains(where: { $0.0.lowercased() == name.lowercased() }) {
                response.headers.append((name, value))
            }
        }
        return response
    }

    private func answerWithoutRouteHeaders(_ request: HTTPRequest, _ match: RouteTable.Match) -> HTTPResponse {
        do {
            return try route(request, match)
        } catch let problem as UploadProblem {
            return problem.response
        } catch let error as APIError {
            // The upload stream turns ENOSPC into a 507 itself; operators still need to hear of it.
            if error.status == 507 {
                logger.error("storage full on \(request.method) \(request.path): \(error.body.message)")
            }
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

    /// Runs the route `match` found: checks the caller's access, then the handler.
    private func route(_ request: HTTPRequest, _ match: RouteTable.Match) throws -> HTTPResponse {
        switch match {
        case .notFound:
            throw APIError.notFound
        case .methodNotAllowed(let allowed, _):
            throw APIError.methodNotAllowed(allowed)
        case .route(let route, let parameters, _):
            switch (route.handler, route.access) {
            case (.plain(let handle), _):
                return try handle(self, request, parameters)
            case (.authenticated(let handle), .admin):
                return try handle(self, request, parameters, admin(request))
            case (.authenticated(let handle), _):
                return try handle(self, request, parameters, authenticate(request))
            }
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

    /// nginx `auth_request` target run before an upload body is read: 204 for any valid token,
    /// so a wrong one is refused before nginx takes in a file it would throw away. A tus
    /// `OPTIONS` (nginx passes the method as `X-Original-Method`) needs no token.
    func userCheck(_ request: HTTPRequest) throws -> HTTPResponse {
        if request.headers["x-original-method"] != "OPTIONS" { _ = try authenticate(request) }
        return HTTPResponse(status: 204)
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

    /// nginx `auth_request` target guarding `/reports/`: 204 for an admin, 401 (with a Basic
    /// challenge so a browser asks for the token) or 403 otherwise.
    func adminCheck(_ request: HTTPRequest) throws -> HTTPResponse {
        let user: AuthenticatedUser
        do {
            user = try authenticate(request)
        } catch let error as APIError where error.status == 401 {
            throw APIError(
                status: 401, code: "unauthorized", message: error.body.message,
                headers: [
                    (
                        "WWW-Authenticate",
                        #"Basic realm="AssetDedup reports (user: anything, password: admin API token)""#
                    )
                ])
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
public typealias APIStore = AssetCatalog & AssetLifecycle & UserDirectory & DeliveryQueue & UploadSessionStore
    & DuplicateReviews
    & SchemaMigrations & BlobCollection & MediaFingerprints & NearDuplicateReviews
