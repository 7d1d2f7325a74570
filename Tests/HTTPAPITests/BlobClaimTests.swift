import AssetDedupCore
import SQLiteStore
import Foundation
import HTTPAPI
import PostgresTestSupport
import Testing

/// Uploads claim their blob against `assetdedup gc` first (`BlobCollection.claimBlobForUpload`).
@Suite struct BlobClaimTests {
    let file = Array("content that gc found orphaned".utf8)

    func upload(_ h: APIHarness) -> (Int, [String: Any]) {
        let body = APIHarness.multipart(boundary: "B", fields: [("provider_id", "pixverse")], file: file)
        return h.send(
            "POST", "/api/v1/assets/upload", headers: ["content-type": "multipart/form-data; boundary=B"], body: body)
    }

    func tempFiles(_ h: APIHarness) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: h.dir + "/data/tmp")
    }

    @Test(arguments: Backend.available) func anUploadTakesAMarkedBlobBackFromGC(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend)
        let digest = try SHA256Digest(parsing: hex(file))
        try h.store.markOrphan(sha256: digest, size: Int64(file.count), now: Date())
        #expect(upload(h).0 == 201)
        #expect(try h.store.orphanSummary().count == 0)
        #expect(try !h.store.takeForDeletion(sha256: digest, markedBefore: Date(), now: Date()))
    }

    @Test(arguments: Backend.available) func anUploadOfContentGCIsDeletingIs503AndKeepsNothing(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend)
        let digest = try SHA256Digest(parsing: hex(file))
        try h.store.markOrphan(sha256: digest, size: Int64(file.count), now: Date(timeIntervalSinceNow: -90_000))
        #expect(
            try h.store.takeForDeletion(sha256: digest, markedBefore: Date(timeIntervalSinceNow: -86_400), now: Date()))
        let (status, json) = upload(h)
        #expect(status == 503)
        #expect((json["error"] as? [String: Any])?["code"] as? String == "blob_being_collected")
        #expect(try h.store.findAsset(user: UserID(1), sha256: digest) == nil)
        #expect(try tempFiles(h).isEmpty)
        try h.store.finishDeletion(sha256: digest)
        #expect(upload(h).0 == 201, "gc done: the retry stores the content afresh")
    }
}
