import Foundation
import Testing

@testable import Providers

@Suite("retry rules, key paths, redaction: the pure parts")
struct RetryRulesTests {
    let policy = RetryPolicy(maxAttempts: 4, initialDelay: 0.5, maxDelay: 4, retryAfterCap: 60, budget: 900)

    @Test("backoff doubles, jitter keeps at least half of each step, the step is capped")
    func backoff() {
        #expect(policy.delay(afterAttempt: 1, retryAfter: nil, unit: 0) == 0.25)
        #expect(policy.delay(afterAttempt: 1, retryAfter: nil, unit: 1) == 0.5)
        #expect(policy.delay(afterAttempt: 2, retryAfter: nil, unit: 0) == 0.5)
        #expect(policy.delay(afterAttempt: 3, retryAfter: nil, unit: 1) == 2)
        #expect(policy.delay(afterAttempt: 10, retryAfter: nil, unit: 1) == 4)
        #expect(policy.delay(afterAttempt: 60, retryAfter: nil, unit: 0) == 2)
        for _ in 0..<100 { #expect((0.5...1).contains(policy.delay(afterAttempt: 2, retryAfter: nil))) }
    }

    @Test("Retry-After wins over backoff, up to the cap")
    func retryAfter() {
        #expect(policy.delay(afterAttempt: 1, retryAfter: 7, unit: 0) == 7)
        #expect(policy.delay(afterAttempt: 1, retryAfter: 3600, unit: 0) == 60)
    }

    static let path = JSONKeyPath("data.id")!

    @Test(
        "verdicts: success, retry, fail",
        arguments: [
            (
                AttemptResult.answered(status: 201, body: Array(#"{"data":{"id":"v-9"}}"#.utf8), retryAfter: nil),
                AttemptResult.Verdict.success(providerAssetID: "v-9")
            ),
            (
                .answered(status: 200, body: Array(#"{"data":{"id":42}}"#.utf8), retryAfter: nil),
                .success(providerAssetID: "42")
            ),
            (
                .answered(status: 500, body: Array("oops".utf8), retryAfter: nil),
                .retry(reason: "HTTP 500: oops", status: 500, retryAfter: nil)
            ),
            (
                .answered(status: 429, body: [], retryAfter: 3),
                .retry(reason: "HTTP 429: (empty answer)", status: 429, retryAfter: 3)
            ),
            (
                .answered(status: 408, body: [], retryAfter: nil),
                .retry(reason: "HTTP 408: (empty answer)", status: 408, retryAfter: nil)
            ),
            (
                .answered(status: 404, body: Array("no\nsuch".utf8), retryAfter: nil),
                .fail(reason: "HTTP 404: no such", status: 404, retryable: false)
            ),
            (
                .answered(status: 301, body: [], retryAfter: nil),
                .fail(reason: "HTTP 301: (empty answer)", status: 301, retryable: false)
            ),
            (
                .answered(status: 200, body: Array(#"{"data":{"id":true}}"#.utf8), retryAfter: nil),
                .fail(
                    reason: #"HTTP 200 but no id at 'data.id' in the answer: {"data":{"id":true}}"#, status: 200,
                    retryable: false)
            ),
            (
                .transportFailed(message: "refused", transient: true),
                .retry(reason: "refused", status: nil, retryAfter: nil)
            ),
            (
                .transportFailed(message: "bad file", transient: false),
                .fail(reason: "bad file", status: nil, retryable: false)
            ),
        ])
    func verdicts(result: AttemptResult, expected: AttemptResult.Verdict) {
        #expect(result.verdict(idPath: Self.path) == expected)
    }

    @Test("key paths walk objects and arrays, and take only strings and integers")
    func keyPaths() {
        let json = Data(
            #"{"items": [{"id": "first"}, {"id": 12345678901234}], "flag": false, "ratio": 1.5, "empty": ""}"#.utf8)
        #expect(JSONKeyPath("items.0.id")!.string(in: json) == "first")
        #expect(JSONKeyPath("items.1.id")!.string(in: json) == "12345678901234")
        #expect(JSONKeyPath("items.2.id")!.string(in: json) == nil)
        #expect(JSONKeyPath("flag")!.string(in: json) == nil)
        #expect(JSONKeyPath("ratio")!.string(in: json) == nil)
        #expect(JSONKeyPath("empty")!.string(in: json) == nil)
        #expect(JSONKeyPath("id")!.string(in: Data("not json".utf8)) == nil)
        #expect(JSONKeyPath("") == nil && JSONKeyPath("a..b") == nil && JSONKeyPath(".a") == nil)
    }

    @Test("the redactor removes the whole header value and the bare secret")
    func redaction() {
        let header = SecretHeader(name: "Authorization", environmentVariable: "T", prefix: "Bearer ", secret: "abc123")
        let redact = Redactor([header])
        #expect(redact("got Bearer abc123 and abc123 again") == "got [redacted] and [redacted] again")
        #expect("\(header)" == "Authorization: [from $T]")
        #expect(!String(reflecting: header).contains("abc123"))
        #expect(!"\(redact)".contains("abc123"))
    }

    @Test("file names are cleaned for the multipart header")
    func filenames() {
        func name(_ given: String?) -> String {
            HTTPProvider.filename(
                for: .init(
                    path: "/x", sha256: .init(bytes: [UInt8](repeating: 0xab, count: 32)), size: 1, filename: given))
        }
        #expect(name("dir/sub/clip.mp4") == "clip.mp4")
        #expect(name("a\"b\\c\r\n.mov") == "a_b_c__.mov")
        #expect(name(nil) == String(repeating: "ab", count: 32))
        #expect(name("..") == String(repeating: "ab", count: 32))
        #expect(name("vidéo.mp4") == "vidéo.mp4")
    }

    @Test("progress formatting")
    func progressText() {
        var progress = SyncProgress(totalCount: 40, totalBytes: 4_000_000)
        progress.doneCount = 10
        progress.doneBytes = 1_000_000
        progress.elapsed = 20
        #expect(progress.bar(width: 8) == "[##......] 10/40 assets  1.0 MB/4.0 MB  ETA 1:00")
        progress.failed = 2
        #expect(progress.bar(width: 4).hasSuffix("ETA 1:00  2 failed"))
        #expect(SyncProgress.bytes(999) == "999 B")
        #expect(SyncProgress.bytes(1_500_000_000) == "1.5 GB")
        #expect(SyncProgress.clock(3725) == "1:02:05")
        #expect(SyncProgress(totalCount: 1, totalBytes: 0).bar(width: 2) == "[..] 0/1 assets  0 B/0 B  ETA --:--")
    }
}
