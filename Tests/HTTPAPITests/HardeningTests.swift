import SQLiteStore
import Foundation
import HTTPAPI
import Synchronization
import Testing

/// Regressions found while hardening (issue 7).
@Suite struct HardeningTests {
    @Test(arguments: [
        ("a=%41%42", "AB"), ("a=x+y", "x y"), ("a=%zz", "%zz"), ("a=%4", "%4"), ("a=%", "%"),
        ("a=%+f", "% f"), ("a=%-0", "%-0"), ("a=50%25", "50%"), ("a=%%41", "%A"), ("a=%e2%82%ac", "€"),
    ])
    func queryDecodingKeepsWhatIsNotAnEscape(query: String, value: String) {
        #expect(HTTPRequest.split(uri: "/p?" + query).query["a"] == value)
    }

    @Test func aTokensFirstUseDoesNotWaitForAnotherWriter() throws {
        // The last_used_at stamp used to wait the whole busy timeout (5 s) behind a writer and
        // then fail the read-only check with 503. No stopwatch: the busy timeout here is 10
        // minutes, so the answer arrives while the writer still holds its lock only if the stamp
        // does not wait for it; the 60 s deadline is for a regression to fail, not a guess.
        let h = try APIHarness(busyTimeoutMilliseconds: 600_000)
        let writer = try Database(path: h.databasePath)
        try writer.execute("BEGIN IMMEDIATE")
        defer { try? writer.execute("ROLLBACK") }
        let answered = DispatchSemaphore(value: 0)
        let result = Mutex<(Int, Bool?)>((0, nil))
        let call = UnsafeTransfer(h)
        Thread {
            let (status, json) = call.value.send(
                "POST", "/api/v1/assets/check-by-hash", json: #"{"sha256": "\#(String(repeating: "a", count: 64))"}"#)
            result.withLock { $0 = (status, json["exists"] as? Bool) }
            answered.signal()
        }.start()
        let whileLocked = answered.wait(timeout: .now() + 60) == .success
        #expect(whileLocked, "the check waited for the writer's lock")
        try writer.execute("ROLLBACK")
        if !whileLocked { answered.wait() }
        #expect(result.withLock { $0 } == (200, false))
    }

    @Test func emptyQueryPiecesDoNotTrap() {
        #expect(HTTPRequest.split(uri: "/p?=").query == ["": ""])
        #expect(HTTPRequest.split(uri: "/p?=x&a=1&&b").query == ["": "x", "a": "1", "b": ""])
    }

    @Test func nonASCIIHeaderNamesAreRefusedNotATrap() throws {
        // multipart-kit 4.7.1 indexed a 128-entry table with the byte: one request crashed the app.
        let h = try APIHarness()
        let body =
            Array("--B\r\nContent-Disposition: form-data; name=\"provider_id\"\r\n".utf8) + [
                0xC3, 0xA9, 0x3A, 0x20, 0x78,
            ]
            + Array("\r\n\r\npixverse\r\n--B--\r\n".utf8)
        let (status, json) = h.send(
            "POST", "/api/v1/assets/upload", headers: ["content-type": "multipart/form-data; boundary=B"], body: body)
        #expect(status == 400)
        #expect((json["error"] as? [String: Any])?["code"] as? String == "invalid_multipart")
    }

    @Test func anOversizedFieldIsRefusedBeforeTheBodyEnds() throws {
        let h = try APIHarness()
        // 8 MiB of field fed in 8 KiB reads, as libfcgi delivers them: refused at the first
        // read past 4 KiB (it used to collect all of it, copying the field on every read).
        let head = Array("--B\r\nContent-Disposition: form-data; name=\"provider_id\"\r\n\r\n".utf8)
        let body = head + [UInt8](repeating: UInt8(ascii: "p"), count: 8 << 20) + Array("\r\n--B--\r\n".utf8)
        let counting = CountingBody(body, chunk: 8192)
        let response = h.api.respond(
            to: HTTPRequest(
                method: "POST", path: "/api/v1/assets/upload",
                headers: ["authorization": "Bearer \(h.token)", "content-type": "multipart/form-data; boundary=B"],
                body: counting))
        #expect(response.status == 400)
        #expect(String(decoding: response.body, as: UTF8.self).contains("invalid_field"))
        #expect(counting.consumed < 64 << 10)
    }

    @Test func endlessPartHeadersAreRefused() throws {
        let h = try APIHarness()
        let body = Array("--B\r\nX-Long: ".utf8) + [UInt8](repeating: UInt8(ascii: "h"), count: 4 << 20)
        let counting = CountingBody(body, chunk: 8192)
        let response = h.api.respond(
            to: HTTPRequest(
                method: "POST", path: "/api/v1/assets/upload",
                headers: ["authorization": "Bearer \(h.token)", "content-type": "multipart/form-data; boundary=B"],
                body: counting))
        #expect(response.status == 400)
        #expect(String(decoding: response.body, as: UTF8.self).contains("invalid_multipart"))
        #expect(counting.consumed < 2 << 20)
    }
}

/// A body that counts how much of it the API read.
final class CountingBody: RequestBody {
    private let inner: BytesBody
    private(set) var consumed = 0

    init(_ bytes: [UInt8], chunk: Int) { inner = BytesBody(bytes, chunk: chunk) }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = try inner.read(into: buffer)
        consumed += count
        return count
    }
}
