import AssetDedupCore
import AssetStore
import Foundation
import HTTPAPI
import Testing

/// An upload meeting another process's claim on the same (asset, provider).
@Suite struct UploadClaimAPITests {
    let runway = try! ProviderID(parsing: "runway")

    func upload(_ h: APIHarness, _ file: [UInt8], to provider: String) -> (Int, [String: Any]) {
        let body = APIHarness.multipart(boundary: "B", fields: [("provider_id", provider)], file: file)
        return h.send(
            "POST", "/api/v1/assets/upload", headers: ["content-type": "multipart/form-data; boundary=B"], body: body)
    }

    @Test func aClaimHeldElsewhereIs409AfterTheWaitThenReuseOnceRecorded() throws {
        var limits = APILimits()
        limits.claimWaitSeconds = 0.3
        let h = try APIHarness(limits: limits)
        let file = Array("claimed by a sync".utf8)
        let (created, first) = upload(h, file, to: "pixverse")
        #expect(created == 201)
        let asset = AssetID(Int64(try #require(first["asset_id"] as? Int)))
        #expect(
            try h.store.claimUpload(asset: asset, provider: runway, owner: "sync pid 1", staleAfter: 600) == .claimed)

        let started = ContinuousClock.now
        let (status, json) = upload(h, file, to: "runway")
        #expect(status == 409)
        #expect(started.duration(to: .now) >= .milliseconds(300))
        let error = try #require(json["error"] as? [String: Any])
        #expect(error["code"] as? String == "upload_in_progress")
        #expect(error["retryable"] as? Bool == true)
        #expect((error["message"] as? String)?.contains("sync pid 1") == true)
        // Nothing sent, nothing recorded, the claim still the sync's, the asset kept.
        #expect(try h.store.providerAssetID(of: asset, on: runway) == nil)
        #expect(try h.store.uploadClaim(asset: asset, provider: runway)?.by == "sync pid 1")
        #expect(try h.store.anyUsersAsset(id: asset) != nil)

        // The sync finishes: the next upload is a reuse with the sync's id.
        try h.store.recordUpload(asset: asset, provider: runway, providerAssetID: "r-9")
        let (again, reused) = upload(h, file, to: "runway")
        #expect(again == 200)
        #expect(reused["status"] as? String == "reused" && reused["provider_asset_id"] as? String == "r-9")
    }

    @Test func aWaitingUploadAnswersReuseWhenTheOtherUploaderRecords() throws {
        let h = try APIHarness()
        let file = Array("recorded while waiting".utf8)
        let (_, first) = upload(h, file, to: "pixverse")
        let asset = AssetID(Int64(try #require(first["asset_id"] as? Int)))
        #expect(
            try h.store.claimUpload(asset: asset, provider: runway, owner: "sync pid 1", staleAfter: 600) == .claimed)
        // The "sync": another connection records the upload a little later.
        let (path, runway) = (h.dir + "/db.sqlite", self.runway)
        let recorder = Thread {
            Thread.sleep(forTimeInterval: 0.4)
            let other = try? SQLiteStore(path: path)
            _ = try? other?.recordUpload(asset: asset, provider: runway, providerAssetID: "r-sync")
        }
        recorder.start()
        let (status, json) = upload(h, file, to: "runway")
        #expect(status == 200)
        #expect(json["status"] as? String == "reused" && json["provider_asset_id"] as? String == "r-sync")
        #expect(try h.store.uploadClaim(asset: asset, provider: runway) == nil)
    }
}
