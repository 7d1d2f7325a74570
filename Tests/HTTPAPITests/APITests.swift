import AssetDedupCore
import SQLiteStore
import BlobStore
import Crypto
import Delivery
import Foundation
import HTTPAPI
import Logging
import PostgresTestSupport
import Providers
import Testing

/// The API driven in process: request values in, response values out, a real store (SQLite
/// unless a test passes another `Backend`) and real folders.
final class APIHarness {
    let dir: String
    /// The store under test, and raw SQL and second connections on it.
    let stores: StoreUnderTest
    var store: any AssetDedupStore { stores.store }
    /// The SQLite file, for the tests about SQLite's own locking.
    var databasePath: String { stores.directory + "/test.sqlite" }
    let api: API
    let token: String

    /// Where "nginx" leaves buffered bodies in these tests: `<dir>/bodies`.
    var bodyDirectory: String { dir + "/bodies" }

    init(
        backend: Backend = .sqlite, limits: APILimits = APILimits(), deliveries: DeliveryHub = DeliveryHub(),
        busyTimeoutMilliseconds: Int32 = 5_000, fingerprinter: (any MediaFingerprinting)? = nil,
        policies: [ProviderID: ProviderPolicy] = [:]
    ) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("api-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        stores = try StoreUnderTest(backend, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        let store = stores.store
        let user = try store.addUser(name: "alice")
        token = try store.issueToken(for: user.id).secret
        let blobs = try BlobStore(dataDirectory: dir + "/data")
        try FileManager.default.createDirectory(atPath: dir + "/bodies", withIntermediateDirectories: true)
        api = API(
            store: store, blobs: blobs,
            providers: ProviderConfig(
                providers: ProviderConfig.defaults(dataDirectory: dir + "/data").providers, policies: policies),
            deliveries: deliveries,
            limits: limits, bodyFiles: RequestBodyFiles(directory: dir + "/bodies"), fingerprinter: fingerprinter,
            logger: Logger(label: "test"))
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }

    func send(
        _ method: String, _ uri: String, json: String? = nil, headers: [String: String] = [:], body: [UInt8]? = nil,
        chunk: Int = .max
    ) -> (Int, [String: Any]) {
        let (path, query) = HTTPRequest.split(uri: uri)
        var all = ["authorization": "Bearer \(token)"].merging(headers) { $1 }
        if json != nil { all["content-type"] = all["content-type"] ?? "application/json" }
        let bytes = body ?? Array((json ?? "").utf8)
        let response = api.respond(
            to: HTTPRequest(
                method: method, path: path, query: query, headers: all, body: BytesBody(bytes, chunk: chunk)))
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        return (response.status, object)
    }

    static func multipart(
        boundary: String, fields: [(String, String)], file: [UInt8]?, filename: String = "f.bin",
        contentType: String = "image/png"
    ) -> [UInt8] {
        var body: [UInt8] = []
        for (name, value) in fields {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
        }
        if let file {
            body += Array(
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(filename)\"\r\nContent-Type: \(contentType)\r\n\r\n"
                    .utf8)
            body += file + Array("\r\n".utf8)
        }
        return body + Array("--\(boundary)--\r\n".utf8)
    }
}

func hex(_ bytes: [UInt8]) -> String { SHA256Digest(bytes: SHA256.hash(data: bytes)).hex }

@Suite struct APITests {
    @Test(arguments: Backend.available) func routesAndMethods(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend)
        #expect(h.send("GET", "/api/v1/health").0 == 200)
        #expect(h.send("DELETE", "/api/v1/health").0 == 405)
        #expect(h.send("GET", "/api/v1/unknown").0 == 404)
        #expect(h.send("GET", "/elsewhere").0 == 404)
        #expect(h.send("GET", "/api/v1/assets/abc").0 == 404)
        #expect(h.send("GET", "/api/v1/assets", headers: ["authorization": "Bearer nope"]).0 == 401)
        #expect(h.send("GET", "/api/v1/assets", headers: ["authorization": "Token x"]).0 == 401)
    }

    @Test(arguments: Backend.available) func uploadParsesMultipartFedOneByteAtATime(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend)
        // Bytes that look like boundary starts inside the file must survive as data.
        let file = Array("\r\n--not-the-boundary\r\n--BOUNx\r\n--BOU".utf8) + (0..<3000).map { UInt8($0 % 251) }
        let body = APIHarness.multipart(
            boundary: "BOUND", fields: [("provider_id", "pixverse"), ("sha256", hex(file))], file: file,
            filename: "we\\\"ird.png")
        let (status, json) = h.send(
            "POST", "/api/v1/assets/upload", headers: ["content-type": "multipart/form-data; boundary=BOUND"],
            body: body, chunk: 1)
        #expect(status == 201)
        #expect(json["sha256"] as? String == hex(file))
        #expect(json["size"] as? Int == file.count)
        // The part says image/png; the bytes are no image, and the bytes decide.
        #expect(json["media_type"] as? String == "other")
        let asset = try #require(try h.store.findAsset(user: UserID(1), sha256: SHA256Digest(parsing: hex(file))))
        #expect(asset.originalFilename == "we\"ird.png")
    }

    @Test(arguments: Backend.available) func quotedBoundaryAndFieldsAfterTheFile(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend)
        let file = Array("payload".utf8)
        var body = Array("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\n".utf8) + file
        body += Array("\r\n--b\r\nContent-Disposition: form-data; name=\"provider_id\"\r\n\r\nrunway\r\n--b--\r\n".utf8)
        let (status, json) = h.send(
            "POST", "/api/v1/assets/upload", headers: ["content-type": "multipart/form-data; boundary=\"b\""],
            body: body)
        #expect(status == 201)
        #expect(json["provider_id"] as? String == "runway")
    }

    @Test(arguments: Backend.available) func failuresReturnErrorObjects(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend)
        let cases: [(String, String?, Int, String)] = [
            ("/api/v1/assets/check-by-hash", #"{"sha256":"xyz"}"#, 400, "invalid_sha256"),
            ("/api/v1/assets/check-by-hash", "[1,2", 400, "invalid_json"),
            ("/api/v1/assets/check-by-hash", #"{"provider_id":"pixverse"}"#, 400, "missing_field"),
            ("/api/v1/assets/check-by-hash/batch", #"{"items":"no"}"#, 400, "invalid_field"),
        ]
        for (uri, json, status, code) in cases {
            let (got, body) = h.send("POST", uri, json: json)
            #expect(got == status, "\(uri) \(json ?? "")")
            #expect((body["error"] as? [String: Any])?["code"] as? String == code)
        }
    }

    @Test(arguments: Backend.available) func bearerAndBasicCredentials(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend)
        let basic = Data("anyone:\(h.token)".utf8).base64EncodedString()
        #expect(h.send("GET", "/api/v1/assets", headers: ["authorization": "Basic \(basic)"]).0 == 200)
        #expect(h.send("GET", "/api/v1/assets", headers: ["authorization": "bearer \(h.token)"]).0 == 200)
        #expect(h.send("GET", "/api/v1/auth/admin").0 == 403, "alice is not an admin")
    }

    /// The worker trusts its token cache only until something else commits: a revocation by
    /// another connection (the CLI) refuses the very next request, whatever the endpoint, and
    /// a request that read data with the stale answer is not answered with it.
    @Test(arguments: Backend.available) func aRevocationByAnotherConnectionRefusesTheNextRequest(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend)
        let check = #"{"sha256":"\#(String(repeating: "0", count: 64))"}"#
        #expect(h.send("POST", "/api/v1/assets/check-by-hash", json: check).0 == 200)
        #expect(h.send("GET", "/api/v1/assets").0 == 200)
        let cli = try h.stores.connect()
        try cli.revokeToken(id: 1)
        #expect(h.send("POST", "/api/v1/assets/check-by-hash", json: check).0 == 401)
        #expect(h.send("POST", "/api/v1/assets/check-by-hash/batch", json: #"{"items":[]}"#).0 == 401)
        #expect(h.send("GET", "/api/v1/assets").0 == 401)
        #expect(h.send("GET", "/api/v1/assets/1").0 == 401, "not a 404: the token is what is wrong")
    }

    /// Another connection's unrelated commit only costs a fresh lookup: the answer stays right.
    @Test(arguments: Backend.available) func anUnrelatedCommitElsewhereKeepsTheTokenWorking(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend)
        let content: [UInt8] = Array("shared bytes".utf8)
        let check = #"{"sha256":"\#(hex(content))","provider_id":"pixverse"}"#
        #expect(h.send("POST", "/api/v1/assets/check-by-hash", json: check).1["exists"] as? Bool == false)
        let cli = try h.stores.connect()
        let user = try #require(try cli.user(named: "alice"))
        _ = try cli.insertAsset(
            NewAsset(userID: user.id, sha256: SHA256Digest(bytes: SHA256.hash(data: content)), size: 12))
        let (status, body) = h.send("POST", "/api/v1/assets/check-by-hash", json: check)
        #expect(status == 200 && body["exists"] as? Bool == true, "the check sees what the other connection committed")
    }
}
