import AssetDedupCore
import CurlTransport
import Foundation

/// The time a retry loop reads (`now`) and spends (`sleep`, seconds). `.system` is the real
/// clock; a test passes its own to see the waits and the budget without waiting them out.
public struct RetryClock: Sendable {
    public var now: @Sendable () -> ContinuousClock.Instant
    public var sleep: @Sendable (Double) -> Void

    public init(now: @escaping @Sendable () -> ContinuousClock.Instant, sleep: @escaping @Sendable (Double) -> Void) {
        self.now = now
        self.sleep = sleep
    }

    public static let system = RetryClock(now: { ContinuousClock.now }, sleep: { Thread.sleep(forTimeInterval: $0) })
}

/// Uploads blobs to an HTTP service (multipart POST or raw PUT) and reads its asset id from
/// the JSON answer.
///
/// Blocking, on the caller's thread, through libcurl's easy API: the FastCGI workers are plain
/// threads, so there is no event loop to bridge into, and every attempt is bounded by curl's
/// own connect and total timeouts. Retries follow `RetryPolicy`; the whole call never outlives
/// the policy's budget. Secret header values never appear in an error (see `Redactor`).
public struct HTTPProvider: Provider {
    public let id: ProviderID
    public var kind: String { "http" }
    public let settings: HTTPUploadSettings
    private let redact: Redactor
    /// Where the retry loop reads the time and spends its waits; tests pass one that records.
    let clock: RetryClock

    public init(id: ProviderID, settings: HTTPUploadSettings, clock: RetryClock = .system) {
        self.id = id
        self.settings = settings
        self.redact = Redactor(settings.headers)
        self.clock = clock
    }

    /// The URL without its query string, which could carry a key.
    public var target: String { settings.url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? "" }
    /// No attempt starts past the retry budget, and the last one ends within it.
    public var maxUploadSeconds: Double { settings.retry.budget + settings.connectTimeout }

    private var method: String { settings.mode == .put ? "PUT" : "POST" }

    public func upload(_ blob: BlobReference) throws -> String {
        guard access(blob.path, R_OK) == 0 else {
            throw failure(
                "blob \(blob.path) is not readable: \(String(cString: strerror(errno)))", status: nil, retryable: false,
                attempts: 0)
        }
        let policy = settings.retry
        let start = clock.now()
        var attempt = 0
        while true {
            attempt += 1
            let remaining = policy.budget - start.duration(to: clock.now()).seconds
            let result = self.attempt(blob, timeout: min(settings.timeout, max(remaining, 0.001)))
            switch result.verdict(idPath: settings.idPath) {
            case .success(let providerAssetID):
                return providerAssetID
            case .fail(let reason, let status, let retryable):
                throw failure(reason, status: status, retryable: retryable, attempts: attempt)
            case .retry(let reason, let status, let retryAfter):
                let wait = policy.delay(afterAttempt: attempt, retryAfter: retryAfter)
                let elapsed = start.duration(to: clock.now()).seconds
                if attempt >= policy.maxAttempts || elapsed + wait >= policy.budget {
                    let why = attempt >= policy.maxAttempts ? "" : " (retry budget of \(Int(policy.budget)) s spent)"
                    throw failure(
                        "gave up after \(attempt) attempt\(attempt == 1 ? "" : "s")\(why): \(reason)",
                        status: status, retryable: true, attempts: attempt)
                }
                clock.sleep(wait)
            }
        }
    }

    /// Up when the service answers at all below 500, within a few seconds.
    public func health() -> ProviderHealth {
        do {
            let curl = try CurlEasy(maxResponseBytes: 64 << 10)
            try curl.setURL(settings.healthURL ?? settings.url)
            try curl.setMethod("HEAD")
            try curl.setConnectTimeout(seconds: min(settings.connectTimeout, 2))
            try curl.setTimeout(seconds: 5)
            try curl.setHeaders(settings.headers.map(\.line))
            try curl.perform()
            return curl.responseCode < 500 ? .ok : .unavailable
        } catch {
            return .unavailable
        }
    }

    /// A `HEAD` of `presence_url` for the copy, bounded by the connect timeout and `timeout`
    /// (at most a minute): 2xx ok, 404/410 missing, anything else (a hang included) unreachable.
    /// Presence only: an HTTP provider does not give its bytes back to be hashed.
    public func verify(sha256: SHA256Digest, size: Int64, providerAssetID: String, deep: Bool) -> ProviderCopyCheck {
        guard let template = settings.presenceURL else {
            return .unverifiable("no presence_url is configured for http provider '\(id)'")
        }
        let url = Self.presenceURL(template, providerAssetID: providerAssetID, sha256: sha256)
        let timeout = min(settings.timeout, 60)
        do {
            let curl = try CurlEasy(maxResponseBytes: 64 << 10)
            try curl.setURL(url)
            try curl.setMethod("HEAD")
            try curl.setConnectTimeout(seconds: min(settings.connectTimeout, timeout))
            try curl.setTimeout(seconds: timeout)
            try curl.setHeaders(settings.headers.map(\.line))
            try curl.perform()
            switch curl.responseCode {
            case 200..<300: return .ok
            case 404, 410: return .missing
            default: return .unreachable(redact("HEAD \(Self.withoutQuery(url)): HTTP \(curl.responseCode)"))
            }
        } catch let error as CurlError {
            let what = error.isTimeout ? "timed out after \(Self.seconds(timeout)) s" : error.message
            return .unreachable(redact("HEAD \(Self.withoutQuery(url)): \(what)"))
        } catch {
            return .unreachable(redact("HEAD \(Self.withoutQuery(url)): \(error)"))
        }
    }

    /// `template` with `{id}` and `{sha256}` filled in, each percent-encoded as a path segment.
    static func presenceURL(_ template: String, providerAssetID: String, sha256: SHA256Digest) -> String {
        let encoded =
            providerAssetID.addingPercentEncoding(
                withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._~")))
            ?? ""
        return template.replacingOccurrences(of: "{id}", with: encoded).replacingOccurrences(
            of: "{sha256}", with: sha256.hex)
    }

    private static func withoutQuery(_ url: String) -> String {
        url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url
    }

    /// One request, start to end, on a fresh handle.
    private func attempt(_ blob: BlobReference, timeout: Double) -> AttemptResult {
        do {
            let curl = try CurlEasy()
            try curl.setURL(settings.url)
            try curl.setConnectTimeout(seconds: min(settings.connectTimeout, timeout))
            try curl.setTimeout(seconds: timeout)
            // "Expect:" turns off curl's 100-continue wait, which costs a second per upload
            // against servers that do not answer it.
            var lines = settings.headers.map(\.line) + ["Expect:", "Accept: application/json"]
            // The same key on every attempt of one delivery, retries and re-sends after a crash included.
            if let key = blob.idempotencyKey { lines.append("Idempotency-Key: \(key)") }
            let contentType = blob.mimeType ?? "application/octet-stream"
            switch settings.mode {
            case .multipart:
                try curl.setMultipart(
                    fields: settings.fields.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                    fileField: settings.fileField, path: blob.path, filename: Self.filename(for: blob),
                    contentType: contentType)
            case .put:
                lines.append("Content-Type: \(contentType)")
                try curl.setUploadFile(path: blob.path, size: blob.size)
            }
            try curl.setHeaders(lines)
            try curl.perform()
            return .answered(status: curl.responseCode, body: curl.responseBody, retryAfter: curl.retryAfter)
        } catch let error as CurlError {
            let what = error.isTimeout ? "timed out after \(Self.seconds(timeout)) s" : error.message
            return .transportFailed(message: "\(method) \(target): \(what)", transient: error.isTransient)
        } catch {
            return .transportFailed(message: "\(method) \(target): \(error)", transient: false)
        }
    }

    private func failure(_ reason: String, status: Int?, retryable: Bool, attempts: Int) -> ProviderError {
        ProviderError(
            provider: id, retryable: retryable, message: redact(reason), httpStatus: status, attempts: attempts)
    }

    /// The client's file name without folders, quotes or control characters; the hash when none.
    static func filename(for blob: BlobReference) -> String {
        let base = (blob.filename ?? "").split(separator: "/").last.map(String.init) ?? ""
        let cleaned = String(
            base.unicodeScalars.map { scalar -> Character in
                scalar.value < 0x20 || scalar.value == 0x7f || scalar == "\"" || scalar == "\\"
                    ? "_" : Character(scalar)
            }
        ).prefix(200)
        return cleaned.isEmpty || cleaned == "." || cleaned == ".." ? blob.sha256.hex : String(cleaned)
    }

    private static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
    }
}
