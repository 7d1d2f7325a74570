import AssetDedupCore
import Foundation
import Testing

@testable import Providers

/// The http adapter against a real HTTP server on 127.0.0.1 (`fake_provider.py`). Request counts
/// come from the server's own log.
@Suite("http provider, against a real server")
struct HTTPProviderTests {
    static let secret = "tok-5f1b9c-never-print-me"

    static func provider(
        _ server: FakeProviderServer?, port: Int? = nil, mode: HTTPUploadSettings.Mode = .multipart,
        attempts: Int = 3, timeout: Double = 10, budget: Double = 60, retryAfterCap: Double = 60,
        initialDelay: Double = 0.05, maxDelay: Double = 0.2, clock: RetryClock = .system
    ) -> HTTPProvider {
        let url = server?.url() ?? "http://127.0.0.1:\(port!)/upload"
        return HTTPProvider(
            id: slug("runway"),
            settings: HTTPUploadSettings(
                url: url, mode: mode, fields: ["purpose": "asset"],
                headers: [
                    SecretHeader(
                        name: "Authorization", environmentVariable: "RUNWAY_TOKEN", prefix: "Bearer ", secret: secret)
                ],
                idPath: JSONKeyPath("data.id")!, connectTimeout: 2, timeout: timeout,
                retry: RetryPolicy(
                    maxAttempts: attempts, initialDelay: initialDelay, maxDelay: maxDelay,
                    retryAfterCap: retryAfterCap, budget: budget)),
            clock: clock)
    }

    /// The error `upload` throws, checked for secrets whatever else the test expects.
    static func failure(_ provider: HTTPProvider, _ blob: BlobReference) throws -> ProviderError {
        let error = try #require(throws: ProviderError.self) { try provider.upload(blob) }
        #expect(!error.description.contains(secret))
        #expect(!error.description.contains("Bearer tok"))
        return error
    }

    @Test("multipart POST: the file arrives byte-exact, with name, type, fields and the secret header")
    func multipartByteExact() throws {
        let server = try FakeProviderServer()
        try withTemporaryDirectory { (dir: String) throws in
            let blob = try makeBlob(
                in: dir, size: 3_000_017, filename: "../clips/take \"1\".mov", mimeType: "video/quicktime")
            #expect(try Self.provider(server).upload(blob) == "fp-1")
            let requests = try server.received()
            try #require(requests.count == 1)
            let request = requests[0]
            #expect(request.method == "POST")
            #expect(request.complete == true)
            #expect(request.sha256 == blob.sha256.hex)
            #expect(request.fileSize == 3_000_017)
            #expect(request.filename == "take _1_.mov")
            #expect(request.headers["Authorization"] == "Bearer \(Self.secret)")
            #expect(request.headers["Expect"] == nil)
            let parts = request.parts ?? []
            #expect(parts.map(\.name) == ["purpose", "file"])
            #expect(parts.first?.value == "asset")
            #expect(parts.last?.contentType == "video/quicktime")
        }
    }

    @Test("raw PUT: the body is the file")
    func putRawBody() throws {
        let server = try FakeProviderServer()
        try withTemporaryDirectory { (dir: String) throws in
            let blob = try makeBlob(in: dir, size: 1_234_567, mimeType: "image/png")
            #expect(try Self.provider(server, mode: .put).upload(blob) == "fp-1")
            let request = try #require(try server.received().first)
            #expect(request.method == "PUT")
            #expect(request.sha256 == blob.sha256.hex)
            #expect(request.fileSize == 1_234_567)
            #expect(request.headers["Content-Type"] == "image/png")
        }
    }

    @Test("5xx is retried with backoff until it works")
    func retriesServerErrors() throws {
        let server = try FakeProviderServer(["--script", "500,503"])
        try withTemporaryDirectory { (dir: String) throws in
            let blob = try makeBlob(in: dir, size: 10_000)
            #expect(try Self.provider(server).upload(blob) == "fp-3")
            let requests = try server.received()
            #expect(requests.map(\.answer) == ["500", "503", "ok"])
            #expect(requests.allSatisfy { $0.sha256 == blob.sha256.hex })
            // Equal jitter: at least half the step (0.05 s, then 0.1 s) between attempts.
            #expect(requests[1].time - requests[0].receivedAt >= 0.02)
            #expect(requests[2].time - requests[1].receivedAt >= 0.045)
        }
    }

    @Test("every attempt of one delivery carries its Idempotency-Key; a provider honouring it replays")
    func idempotencyKeyOnEveryAttempt() throws {
        let server = try FakeProviderServer(["--script", "503"])
        try withTemporaryDirectory { (dir: String) throws in
            var blob = try makeBlob(in: dir, size: 5_000)
            blob.idempotencyKey = "0123456789abcdef0123456789abcdef"
            #expect(try Self.provider(server).upload(blob) == "fp-2")
            // Sent again (a crash between answer and record): the provider answers its first id.
            #expect(try Self.provider(server).upload(blob) == "fp-2")
            let requests = try server.received()
            #expect(requests.map(\.answer) == ["503", "ok", "ok"])
            #expect(requests.allSatisfy { $0.headers["Idempotency-Key"] == blob.idempotencyKey })
            blob.idempotencyKey = nil
            #expect(try Self.provider(server).upload(blob) == "fp-4")
            #expect(try server.received().last?.headers["Idempotency-Key"] == nil)
        }
    }

    @Test("a provider that keeps failing: exactly max_attempts requests, then a retryable error")
    func givesUp() throws {
        let server = try FakeProviderServer(["--mode", "500"])
        try withTemporaryDirectory { (dir: String) throws in
            let error = try Self.failure(Self.provider(server, attempts: 3), try makeBlob(in: dir, size: 1000))
            #expect(try server.received().count == 3)
            #expect(error.retryable)
            #expect(error.httpStatus == 500)
            #expect(error.attempts == 3)
            #expect(error.message.hasPrefix("gave up after 3 attempts: HTTP 500"))
        }
    }

    @Test("429: waits the Retry-After seconds, then retries")
    func honoursRetryAfter() throws {
        let server = try FakeProviderServer(["--script", "429", "--retry-after", "1"])
        try withTemporaryDirectory { (dir: String) throws in
            let clock = ManualClock()
            #expect(
                try Self.provider(server, clock: clock.retryClock).upload(try makeBlob(in: dir, size: 1000)) == "fp-2")
            let requests = try server.received()
            #expect(requests.map(\.answer) == ["429", "ok"])
            #expect(clock.sleeps == [1])  // the server's Retry-After, not the 0.05 s backoff
        }
    }

    @Test("Retry-After is capped by retry_after_max")
    func capsRetryAfter() throws {
        let server = try FakeProviderServer(["--script", "429", "--retry-after", "120"])
        try withTemporaryDirectory { (dir: String) throws in
            let clock = ManualClock()
            let provider = Self.provider(server, retryAfterCap: 0.3, clock: clock.retryClock)
            #expect(try provider.upload(try makeBlob(in: dir, size: 1000)) == "fp-2")
            #expect(try server.received().map(\.answer) == ["429", "ok"])
            #expect(clock.sleeps == [0.3])  // capped, not the 120 s asked for
        }
    }

    @Test("4xx is not retried, and a body echoing our headers does not leak the secret")
    func noRetryOnClientError() throws {
        let server = try FakeProviderServer(["--mode", "400"])
        try withTemporaryDirectory { (dir: String) throws in
            let error = try Self.failure(Self.provider(server), try makeBlob(in: dir, size: 1000))
            #expect(try server.received().count == 1)
            #expect(!error.retryable)
            #expect(error.httpStatus == 400)
            #expect(error.message.hasPrefix("HTTP 400: "))
            #expect(error.message.contains("[redacted]"))
        }
    }

    @Test("200 with an answer that is not JSON: not retried (the provider may hold the bytes)")
    func malformedAnswer() throws {
        let server = try FakeProviderServer(["--mode", "malformed"])
        try withTemporaryDirectory { (dir: String) throws in
            let error = try Self.failure(Self.provider(server), try makeBlob(in: dir, size: 1000))
            #expect(try server.received().count == 1)
            #expect(!error.retryable)
            #expect(error.message == "HTTP 200 but no id at 'data.id' in the answer: <html>this is not json")
        }
    }

    @Test("a hanging provider is bounded by the total timeout on every attempt")
    func hangIsBounded() throws {
        let server = try FakeProviderServer(["--mode", "hang", "--hang", "60"])
        try withTemporaryDirectory { (dir: String) throws in
            let error = try Self.failure(
                Self.provider(server, attempts: 2, timeout: 1), try makeBlob(in: dir, size: 1000))
            let requests = try server.received()
            #expect(requests.count == 2)
            // Orderings on the server's log, not a stopwatch: the first attempt was held until its
            // 1 s timeout (no earlier), and ended by it, long before the server's 60 s hang would.
            // Measured from when the server began reading the first request (not from when it
            // had read the body, which a loaded machine delays inside the client's 1 s).
            let gap = requests[1].time - requests[0].time
            #expect(gap >= 0.95 && gap < 60, "second attempt \(gap) s after the first")
            #expect(error.retryable)
            #expect(error.message.contains("timed out after 1 s"))
        }
    }

    @Test("the retry budget bounds the whole call, however many attempts are allowed")
    func budgetBoundsTheCall() throws {
        let server = try FakeProviderServer(["--mode", "hang", "--hang", "60"])
        try withTemporaryDirectory { (dir: String) throws in
            // Every attempt hangs until its 1 s timeout (real time); the waits between them are
            // counted on the injected clock, which also reads the attempts' real duration.
            let clock = ManualClock()
            let error = try Self.failure(
                Self.provider(server, attempts: 10, timeout: 1, budget: 2.5, clock: clock.retryClock),
                try makeBlob(in: dir, size: 1000))
            let attempts = try server.received().count
            #expect(attempts <= 3)
            // The budget, not the 10 attempts, ended it; every wait was the short backoff.
            #expect(clock.sleeps.count == attempts - 1 && clock.sleeps.allSatisfy { $0 <= 0.2 })
            #expect(error.message.contains("retry budget"))
        }
    }

    @Test("connection refused is retried, then a retryable error naming the URL")
    func connectionRefused() throws {
        let port = try closedPort()
        try withTemporaryDirectory { (dir: String) throws in
            let error = try Self.failure(Self.provider(nil, port: port, attempts: 3), try makeBlob(in: dir, size: 1000))
            #expect(error.retryable)
            #expect(error.attempts == 3)
            #expect(error.httpStatus == nil)
            #expect(error.message.contains("POST http://127.0.0.1:\(port)/upload"))
        }
    }

    @Test("a dropped connection is retried")
    func droppedConnection() throws {
        let server = try FakeProviderServer(["--script", "drop"])
        try withTemporaryDirectory { (dir: String) throws in
            #expect(try Self.provider(server).upload(try makeBlob(in: dir, size: 50_000)) == "fp-2")
            #expect(try server.received().map(\.answer) == ["drop", "ok"])
        }
    }

    @Test("a blob that cannot be read fails at once, without a retry")
    func unreadableBlob() throws {
        let server = try FakeProviderServer()
        for mode in HTTPUploadSettings.Mode.allCases {
            let blob = BlobReference(
                path: "/nonexistent/blob", sha256: SHA256Digest(bytes: [UInt8](repeating: 1, count: 32)), size: 10)
            let error = try Self.failure(Self.provider(server, mode: mode), blob)
            #expect(!error.retryable, "\(mode)")
        }
        #expect(try server.received().isEmpty)
    }

    @Test("health: ok when the service answers, unavailable when nothing listens")
    func health() throws {
        let server = try FakeProviderServer()
        #expect(Self.provider(server).health() == .ok)
        #expect(Self.provider(nil, port: try closedPort()).health() == .unavailable)
    }

    @Test("printing or dumping a provider never shows the secret")
    func providerDescriptionHasNoSecret() throws {
        let provider = Self.provider(nil, port: 1)
        var dumped = ""
        dump(provider, to: &dumped)
        for text in ["\(provider)", String(reflecting: provider), dumped] {
            #expect(!text.contains(Self.secret))
        }
        #expect(provider.target == "http://127.0.0.1:1/upload")
    }
}

/// A retry clock for tests: `sleep` returns at once and moves this clock on by the seconds
/// asked, so a test sees every wait without spending it; `now` is the real time plus them.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var slept: [Double] = []

    /// The waits asked for, in order.
    var sleeps: [Double] { lock.withLock { slept } }

    func now() -> ContinuousClock.Instant {
        ContinuousClock.now + .seconds(lock.withLock { slept.reduce(0, +) })
    }

    var retryClock: RetryClock {
        RetryClock(now: { self.now() }, sleep: { seconds in self.lock.withLock { self.slept.append(seconds) } })
    }
}
