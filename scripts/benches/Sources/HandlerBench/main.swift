// In-process cost of one check-by-hash (a hit: auth, lookup, JSON in and out), without
// sockets, nginx or libfcgi: the part of `scripts/bench`'s per-request CPU that is the app's
// own code. Prints the best of 5 runs. usage: HandlerBench [requests-per-run]
import AssetDedupCore
import SQLiteStore
import BlobStore
import Foundation
import HTTPAPI
import Logging
import Providers

let requests = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 100_000
let dir = FileManager.default.temporaryDirectory.appendingPathComponent("handler-bench-\(getpid())").path
try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: dir) }

let store = try SQLiteStore(path: dir + "/db.sqlite")
try Migrator(db: store.db).up()
let user = try store.addUser(name: "bench")
let token = try store.issueToken(for: user.id).secret
let provider = try ProviderID(parsing: "pixverse")
let sha256 = SHA256Digest(bytes: [UInt8](repeating: 0xab, count: 32))
let asset = try store.insertAsset(NewAsset(userID: user.id, sha256: sha256, size: 4096, providerID: provider))
_ = try store.recordUpload(asset: asset, provider: provider, providerAssetID: "ab/\(sha256.hex)")

let api = API(
    store: store, blobs: try BlobStore(dataDirectory: dir + "/data"), providers: .defaults(dataDirectory: dir + "/data"),
    logger: Logger(label: "bench"))
let body = Array(#"{"sha256":"\#(sha256.hex)","provider_id":"pixverse"}"#.utf8)
let headers = ["authorization": "Bearer \(token)", "content-type": "application/json", "content-length": "\(body.count)"]

@MainActor func check() -> HTTPResponse {
    api.respond(to: HTTPRequest(method: "POST", path: "/api/v1/assets/check-by-hash", headers: headers, body: BytesBody(body)))
}

let first = check()
guard first.status == 200, String(decoding: first.body, as: UTF8.self).contains(#""exists":true"#) else {
    fatalError("HandlerBench: the check did not find the seeded asset: \(String(decoding: first.body, as: UTF8.self))")
}
var best = Double.infinity
for _ in 0..<5 {
    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<requests where check().status != 200 { fatalError("HandlerBench: a check failed") }
    best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1000 / Double(requests))
}
print(String(format: "in-process check-by-hash handler: %.2f us per request (best of 5)", best))
