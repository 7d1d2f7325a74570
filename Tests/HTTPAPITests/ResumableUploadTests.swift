import AssetDedupCore
import SQLiteStore
import BlobStore
import Crypto
import Foundation
import PostgresTestSupport
import Testing

@testable import HTTPAPI

/// A body that hands out some bytes and then breaks, like a client that went away mid-PATCH.
final class BrokenBody: RequestBody {
    private let inner: BytesBody
    private var left: Int
    init(_ bytes: [UInt8], breakAfter: Int) {
        inner = BytesBody(bytes, chunk: 1000)
        left = breakAfter
    }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard left > 0 else { throw FileError("read", path: "client", errno: ECONNRESET) }
        let count = try inner.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<min(buffer.count, left)]))
        left -= count
        return count
    }
}

extension APIHarness {
    /// Sends a request and returns the whole response with its JSON body (if any) parsed.
    func call(
        _ method: String, _ uri: String, headers: [String: String] = [:], body: [UInt8] = [],
        bodyStream: (any RequestBody)? = nil, token: String? = nil
    ) -> (response: HTTPResponse, json: [String: Any]) {
        let (path, query) = HTTPRequest.split(uri: uri)
        var all = ["authorization": "Bearer \(token ?? self.token)"].merging(headers) { $1 }
        if bodyStream == nil { all["content-length"] = all["content-length"] ?? String(body.count) }
        let response = api.respond(
            to: HTTPRequest(
                method: method, path: path, query: query, headers: all, body: bodyStream ?? BytesBody(body, chunk: 777))
        )
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        return (response, json)
    }

    /// `POST /uploads` with the first bytes; returns the response and the upload's path.
    func create(
        _ first: [UInt8], complete: Bool = false, length: Int? = nil, digest: [UInt8]? = nil,
        provider: String = "pixverse"
    ) -> (response: HTTPResponse, json: [String: Any], location: String?) {
        var headers = ["upload-complete": complete ? "?1" : "?0"]
        if let length { headers["upload-length"] = String(length) }
        if let digest { headers["repr-digest"] = "sha-256=:\(Data(SHA256.hash(data: digest)).base64EncodedString()):" }
        let (response, json) = call(
            "POST", "/api/v1/uploads?provider_id=\(provider)&filename=clip.mp4&mime=video/mp4", headers: headers,
            body: first)
        return (response, json, response.header("Location"))
    }

    func patch(_ location: String, offset: Int, complete: Bool, _ bytes: [UInt8], extra: [String: String] = [:])
        -> (response: HTTPResponse, json: [String: Any])
    {
        let headers = [
            "content-type": "application/partial-upload", "upload-offset": String(offset),
            "upload-complete": complete ? "?1" : "?0",
        ].merging(extra) { $1 }
        return call("PATCH", location, headers: headers, body: bytes)
    }

    func offset(_ location: String) -> Int? {
        call("HEAD", location).response.header("Upload-Offset").flatMap { Int($0) }
    }
}

extension HTTPResponse {
    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}

func sample(_ count: Int, seed: UInt8 = 1) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
}

@Suite struct ResumableUploadTests {
    @Test func headerParsing() throws {
        let parsed = try ResumableHeaders([
            "upload-complete": " ?1", "upload-offset": "42", "upload-length": "100",
            "repr-digest": "sha-512=:AAAA:, sha-256=:\(Data(SHA256.hash(data: [UInt8]())).base64EncodedString()):;p=1",
        ])
        #expect(parsed.complete == true && parsed.offset == 42 && parsed.length == 100)
        #expect(parsed.digest == SHA256Digest(bytes: SHA256.hash(data: [UInt8]())))
        for bad in [
            ["upload-complete": "true"], ["upload-complete": "?2"], ["upload-offset": "-1"], ["upload-offset": "1.5"],
            ["upload-length": "1234567890123456"], ["repr-digest": "sha-256=:AAAA:"],
            ["repr-digest": "sha-256=:not base64:"],
            ["repr-digest": "Sha-256=:AAAA:"], ["repr-digest": ""],
        ] {
            #expect(throws: APIError.self, "\(bad)") { try ResumableHeaders(bad) }
        }
        #expect(try ResumableHeaders(["repr-digest": "md5=?1, other"]).digest == nil, "other members are ignored")
    }

    /// Random header values from the structured-field alphabet never crash the parser; what it
    /// accepts is well formed.
    @Test func headerParsingSurvivesRandomInput() {
        var random = SystemRandomNumberGenerator()
        let alphabet = Array("?01-9=:,; \t*._aszAZ+/sha-256=:\u{e9}\u{0}")
        for _ in 0..<5000 {
            let value = String(
                (0..<Int.random(in: 0...60, using: &random)).map { _ in alphabet.randomElement(using: &random)! })
            for name in ["upload-complete", "upload-offset", "upload-length", "repr-digest"] {
                if let parsed = try? ResumableHeaders([name: value]) {
                    if let offset = parsed.offset { #expect(offset >= 0) }
                    if let length = parsed.length { #expect(length >= 0) }
                }
            }
        }
    }

    @Test(arguments: Backend.available) func createAppendHeadComplete(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend)
        // An ISO media file's first box, so the content is a video as its declared type says.
        let file = [0, 0, 0, 24] + Array("ftypmp42".utf8) + sample(300_000 - 12)
        let created = h.create(Array(file[0..<1000]))
        #expect(created.response.status == 201)
        let location = try #require(created.location)
        #expect(location.hasPrefix("/api/v1/uploads/") && location.count == "/api/v1/uploads/".count + 32)
        #expect(created.response.header("Upload-Offset") == "1000")
        #expect(created.response.header("Upload-Limit") == "max-size=\(APILimits().maxUploadBytes)")
        #expect(created.response.header("Upload-Complete") == "?0")
        #expect(h.offset(location) == 1000)
        let middle = h.patch(location, offset: 1000, complete: false, Array(file[1000..<200_000]))
        #expect(middle.response.status == 204)
        #expect(middle.response.header("Upload-Offset") == "200000")
        let head = h.call("HEAD", location).response
        #expect(head.status == 204 && head.header("Upload-Complete") == "?0" && head.header("Upload-Length") == nil)
        let done = h.patch(location, offset: 200_000, complete: true, Array(file[200_000...]))
        #expect(done.response.status == 201)
        #expect(done.json["sha256"] as? String == hex(file))
        #expect(done.json["size"] as? Int == file.count)
        #expect(done.json["status"] as? String == "created")
        let asset = try #require(try h.store.findAsset(user: UserID(1), sha256: SHA256Digest(parsing: hex(file))))
        #expect(asset.originalFilename == "clip.mp4" && asset.mimeType == "video/mp4")
        let blob = try Data(
            contentsOf: URL(fileURLWithPath: BlobStore.path(for: asset.sha256!, dataDirectory: h.dir + "/data")))
        #expect(Array(blob) == file)
        #expect(try FileManager.default.contentsOfDirectory(atPath: h.dir + "/data/uploads").isEmpty)
        let finished = h.call("HEAD", location).response
        #expect(finished.header("Upload-Complete") == "?1" && finished.header("Upload-Offset") == String(file.count))
        let again = h.patch(location, offset: file.count, complete: true, [])
        #expect(again.response.status == 400)
        #expect(again.response.header("Content-Type") == "application/problem+json")
        #expect(again.json["type"] as? String == "https://iana.org/assignments/http-problem-types#completed-upload")
    }

    @Test(arguments: Backend.available) func completeInOneRequestAnswersLikeUpload(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend)
        let file = sample(5000, seed: 9)
        let created = h.create(file, complete: true, length: file.count, digest: file)
        #expect(created.response.status == 201)
        #expect(created.json["status"] as? String == "created" && created.json["sha256"] as? String == hex(file))
        let (status, json) = h.send(
            "POST", "/api/v1/assets/check-by-hash", json: #"{"sha256":"\#(hex(file))","provider_id":"pixverse"}"#)
        #expect(status == 200 && json["exists"] as? Bool == true)
    }

    @Test(arguments: Backend.available) func wrongOffsetIsTheMismatchProblem(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend)
        let location = try #require(h.create(sample(10)).location)
        let wrong = h.patch(location, offset: 5, complete: false, sample(10))
        #expect(wrong.response.status == 409)
        #expect(wrong.response.header("Upload-Offset") == "10")
        #expect(
            wrong.json["type"] as? String == "https://iana.org/assignments/http-problem-types#mismatching-upload-offset"
        )
        #expect(wrong.json["expected-offset"] as? Int == 10 && wrong.json["provided-offset"] as? Int == 5)
        #expect(h.offset(location) == 10, "nothing appended")
        #expect(
            h.patch(location, offset: 10, complete: false, [1], extra: ["content-type": "application/octet-stream"])
                .response.status == 415)
    }

    @Test(arguments: Backend.available) func aSecondAppendWhileOneHoldsTheLockIsAConflict(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend)
        let location = try #require(h.create([]).location)
        func hold(_ owner: String, since: String) throws {
            try h.stores.run("UPDATE upload_sessions SET lock_owner = ?, locked_at = ?", [owner, since])
        }
        func code(_ result: (response: HTTPResponse, json: [String: Any])) -> String? {
            (result.json["error"] as? [String: Any])?["code"] as? String
        }
        // A live process on this host (pid 1 always runs) holds it: refused however old the lock.
        try hold("\(AppendLockOwner.host):1:x:y", since: "2000-01-01T00:00:00.000Z")
        let busy = h.patch(location, offset: 0, complete: false, [1, 2, 3])
        #expect(busy.response.status == 409 && code(busy) == "append_in_progress")
        #expect(h.call("DELETE", location).response.status == 409)
        // Another host (liveness unknown): held while fresh, taken over once older than the timeout.
        try hold("elsewhere:1:x:y", since: "2999-01-01T00:00:00.000Z")
        #expect(h.patch(location, offset: 0, complete: false, [1, 2, 3]).response.status == 409)
        try hold("elsewhere:1:x:y", since: "2000-01-01T00:00:00.000Z")
        #expect(h.patch(location, offset: 0, complete: false, [1, 2, 3]).response.status == 204)
        // A process of this host that is gone, or an earlier process with our own pid: free at once.
        try hold("\(AppendLockOwner.host):\(getpid()):earlier:y", since: "2999-01-01T00:00:00.000Z")
        #expect(h.patch(location, offset: 3, complete: false, [4]).response.status == 204)
        #expect(AppendLockOwner.isAlive("\(AppendLockOwner.host):\(Int32.max):x:y") == false)
        #expect(AppendLockOwner.isAlive(AppendLockOwner.make()) == true)
        #expect(h.offset(location) == 4)
    }

    @Test(arguments: Backend.available) func otherUsersUploadsAreNotFoundLikeUnknownOnes(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend)
        let location = try #require(h.create(sample(10)).location)
        let bob = try h.store.addUser(name: "bob")
        let bobToken = try h.store.issueToken(for: bob.id).secret
        let unknown = "/api/v1/uploads/" + String(repeating: "a", count: 32)
        for method in ["HEAD", "DELETE"] {
            let theirs = h.call(method, location, token: bobToken).response
            let none = h.call(method, unknown).response
            #expect(theirs.status == 404 && none.status == 404)
            #expect(theirs.body == none.body)
        }
        let patched = h.call(
            "PATCH", location,
            headers: ["content-type": "application/partial-upload", "upload-offset": "10", "upload-complete": "?0"],
            body: [1], token: bobToken)
        #expect(patched.response.status == 404)
        #expect(h.offset(location) == 10)
    }

    @Test(arguments: Backend.available) func digestMismatchKeepsNothing(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend)
        let file = sample(2000)
        let created = h.create(Array(file[0..<500]), digest: sample(2000, seed: 2))
        let location = try #require(created.location)
        let done = h.patch(location, offset: 500, complete: true, Array(file[500...]))
        #expect(done.response.status == 422)
        #expect((done.json["error"] as? [String: Any])?["code"] as? String == "sha256_mismatch")
        #expect(h.call("HEAD", location).response.status == 404)
        #expect(try FileManager.default.contentsOfDirectory(atPath: h.dir + "/data/uploads").isEmpty)
        #expect(try h.store.findAsset(user: UserID(1), sha256: SHA256Digest(parsing: hex(file))) == nil)
    }

    @Test(arguments: Backend.available) func reprDigestOfKnownContentAnswersAtCreation(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend)
        let file = sample(4000, seed: 5)
        #expect(h.create(file, complete: true).response.status == 201)
        let same = h.create([], digest: file)
        #expect(same.response.status == 200 && same.location == nil)
        #expect(same.json["status"] as? String == "reused")
        let other = h.create([], digest: file, provider: "runway")
        #expect(other.json["status"] as? String == "added_provider")
        #expect(try h.stores.integer("SELECT count(*) FROM upload_sessions") == 1)
    }

    @Test(arguments: Backend.available) func lengthsAreEnforced(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend, limits: APILimits(maxUploadBytes: 1000))
        #expect(h.create([], length: 1001).response.status == 413)
        #expect(
            h.create(sample(10), complete: true, length: 11).json["type"] as? String
                == "https://iana.org/assignments/http-problem-types#inconsistent-upload-length")
        let location = try #require(h.create(sample(10), length: 20).location)
        #expect(h.call("HEAD", location).response.header("Upload-Length") == "20")
        let tooMany = h.patch(location, offset: 10, complete: false, sample(11))
        #expect(tooMany.response.status == 400)
        #expect(h.offset(location) == 10)
        #expect(
            h.patch(location, offset: 10, complete: false, sample(10), extra: ["upload-length": "21"]).response.status
                == 400)
        #expect(
            h.call("POST", "/api/v1/uploads?provider_id=nope", headers: ["upload-complete": "?0"]).response.status
                == 422)
        #expect(h.call("POST", "/api/v1/uploads?provider_id=pixverse").response.status == 400)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: h.dir + "/data/uploads").count == 1,
            "bad requests write nothing")
    }

    @Test(arguments: Backend.available) func aBrokenBodyKeepsWhatArrivedAndResumes(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend)
        let file = sample(50_000, seed: 3)
        let location = try #require(h.create([]).location)
        let cut = h.call(
            "PATCH", location,
            headers: ["content-type": "application/partial-upload", "upload-offset": "0", "upload-complete": "?1"],
            bodyStream: BrokenBody(file, breakAfter: 20_000))
        #expect(cut.response.status >= 400)
        let offset = try #require(h.offset(location))
        #expect(offset == 20_000)
        let done = h.patch(location, offset: offset, complete: true, Array(file[offset...]))
        #expect(done.response.status == 201 && done.json["sha256"] as? String == hex(file))
    }

    @Test(arguments: Backend.available) func aFileLongerThanItsRecordIsCutBack(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend)
        let file = sample(3000, seed: 4)
        let location = try #require(h.create(Array(file[0..<1000])).location)
        let id = String(location.split(separator: "/").last!)
        // A crash after the write and before the record: the file has bytes the row does not.
        let handle = try #require(FileHandle(forWritingAtPath: h.dir + "/data/uploads/\(id).partial"))
        handle.seekToEndOfFile()
        handle.write(Data(repeating: 0xEE, count: 700))
        handle.closeFile()
        #expect(h.offset(location) == 1000)
        let done = h.patch(location, offset: 1000, complete: true, Array(file[1000...]))
        #expect(done.json["sha256"] as? String == hex(file))
    }

    @Test(arguments: Backend.available) func deleteAndExpiry(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend)
        let location = try #require(h.create(sample(100)).location)
        #expect(h.call("DELETE", location).response.status == 204)
        #expect(h.call("HEAD", location).response.status == 404)
        let kept = try #require(h.create(sample(100)).location)
        let old = try #require(h.create(sample(100)).location)
        try h.stores.run(
            "UPDATE upload_sessions SET updated_at = '2000-01-01T00:00:00.000Z' WHERE id = ?",
            [String(old.split(separator: "/").last!)])
        let sweep = UploadSessionSweep(blobs: try BlobStore(dataDirectory: h.dir + "/data"), expirySeconds: 3600)
        #expect(try sweep.run(store: h.store).sessions == 1)
        #expect(h.call("HEAD", old).response.status == 404)
        #expect(h.offset(kept) == 100)
        #expect(try FileManager.default.contentsOfDirectory(atPath: h.dir + "/data/uploads").count == 1)
        #expect(try h.store.partialUploadTotals().count == 1)
        #expect(try h.store.partialUploadTotals().bytes == 100)
    }
}

@Suite struct ResumableCreationFailureTests {
    /// A creation that fails (here: more bytes than its Upload-Length) leaves no row and no file.
    @Test(arguments: Backend.available) func aFailedCreationKeepsNothing(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend)
        let (path, query) = HTTPRequest.split(uri: "/api/v1/uploads?provider_id=pixverse")
        let response = h.api.respond(
            to: HTTPRequest(
                method: "POST", path: path, query: query,
                headers: ["authorization": "Bearer \(h.token)", "upload-complete": "?0", "upload-length": "10"],
                body: BytesBody(sample(20))))
        #expect(response.status == 400)
        #expect(try h.stores.integer("SELECT count(*) FROM upload_sessions") == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: h.dir + "/data/uploads").isEmpty)
    }
}
