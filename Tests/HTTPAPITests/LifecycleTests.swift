import AssetDedupCore
import Foundation
import Providers
import StoreProtocols
import PostgresTestSupport
import Testing

@testable import HTTPAPI

/// Issue 26: the trash, purge with each provider's `on_delete`, and media-only providers.
@Suite struct LifecycleTests {
    static let mp4 = [0, 0, 0, 24] + Array("ftypmp42".utf8) + [0, 0, 0, 0] + Array("mp42isom".utf8)
    static let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0]

    func upload(_ h: APIHarness, _ bytes: [UInt8], provider: String = "pixverse", type: String = "video/mp4")
        -> (Int, [String: Any])
    {
        let body = APIHarness.multipart(
            boundary: "B", fields: [("provider_id", provider)], file: bytes, filename: "f.bin", contentType: type)
        return h.send(
            "POST", "/api/v1/assets/upload", headers: ["content-type": "multipart/form-data; boundary=B"], body: body)
    }

    func check(_ h: APIHarness, _ bytes: [UInt8]) -> Bool? {
        h.send("POST", "/api/v1/assets/check-by-hash", json: #"{"sha256":"\#(hex(bytes))"}"#).1["exists"] as? Bool
    }

    @Test(arguments: Backend.available) func trashHidesRestoreReturnsAndReuploadRestoresTheSameRow(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend)
        let bytes = Self.mp4 + sample(5000)
        let (status, created) = upload(h, bytes)
        #expect(status == 201)
        let id = try #require(created["asset_id"] as? Int)

        let (trashStatus, trashed) = h.send("DELETE", "/api/v1/assets/\(id)")
        #expect(trashStatus == 200 && trashed["trashed_at"] is String)
        #expect(check(h, bytes) == false)
        #expect((h.send("GET", "/api/v1/assets").1["assets"] as? [Any])?.isEmpty == true)
        let trash = h.send("GET", "/api/v1/trash").1["assets"] as? [[String: Any]]
        #expect(trash?.map { $0["asset_id"] as? Int } == [id])
        #expect(h.send("GET", "/api/v1/assets/\(id)").0 == 404, "deleted, as far as /assets goes")
        #expect(h.send("GET", "/api/v1/trash/\(id)").1["trashed_at"] is String)

        let (restoreStatus, restored) = h.send("POST", "/api/v1/assets/\(id)/restore")
        #expect(restoreStatus == 200 && restored["trashed_at"] is NSNull)
        #expect(check(h, bytes) == true)

        // Uploading trashed content again brings back the same row.
        _ = h.send("DELETE", "/api/v1/assets/\(id)")
        let (again, answer) = upload(h, bytes)
        #expect(again == 200 && answer["asset_id"] as? Int == id && answer["status"] as? String == "reused")
        #expect(check(h, bytes) == true)
        #expect(try h.store.listTrash(user: UserID(1), after: nil, limit: 10).isEmpty)
    }

    @Test(arguments: Backend.available) func otherUsersAssetsCannotBeTrashedOrPurged(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend)
        let (_, created) = upload(h, Self.mp4 + sample(100))
        let id = try #require(created["asset_id"] as? Int)
        let mallory = try h.store.addUser(name: "mallory")
        let token = try h.store.issueToken(for: mallory.id).secret
        for (method, path) in [
            ("DELETE", "/api/v1/assets/\(id)"), ("POST", "/api/v1/assets/\(id)/restore"),
            ("DELETE", "/api/v1/trash/\(id)"),
        ] {
            #expect(h.send(method, path, headers: ["authorization": "Bearer \(token)"]).0 == 404, "\(method) \(path)")
        }
        #expect(try h.store.asset(id: AssetID(Int64(id)), user: UserID(1))?.trashedAt == nil)
    }

    @Test(arguments: Backend.available) func purgeRemovesTheRowAndTheSoleProviderCopyPerPolicy(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend, policies: [try ProviderID(parsing: "pixverse"): ProviderPolicy(onDelete: .delete)])
        let bytes = Self.mp4 + sample(2000, seed: 4)
        let (_, created) = upload(h, bytes)
        _ = upload(h, bytes, provider: "runway")
        let id = try #require(created["asset_id"] as? Int)
        let copy = { (provider: String) in
            "\(h.dir)/data/providers/\(provider)/\(DirectoryProvider.relativePath(for: try! SHA256Digest(parsing: hex(bytes))))"
        }
        #expect(FileManager.default.fileExists(atPath: copy("pixverse")))
        #expect(h.send("DELETE", "/api/v1/trash/\(id)").0 == 409)  // live: trash it first
        _ = h.send("DELETE", "/api/v1/assets/\(id)")
        #expect(h.send("DELETE", "/api/v1/trash/\(id)").0 == 204)
        #expect(h.send("GET", "/api/v1/assets/\(id)").0 == 404)
        #expect(!FileManager.default.fileExists(atPath: copy("pixverse")), "on_delete: delete")
        #expect(FileManager.default.fileExists(atPath: copy("runway")), "on_delete: keep (the default)")
        #expect(h.api.metrics.lifecycleCount(.purged) == 1 && h.api.metrics.lifecycleCount(.providerCopyDeleted) == 1)
    }

    @Test(arguments: Backend.available) func aCopyAnotherUsersAssetHoldsIsKept(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend, policies: [try ProviderID(parsing: "pixverse"): ProviderPolicy(onDelete: .delete)])
        let bytes = Self.jpeg + sample(700, seed: 8)
        let (_, mine) = upload(h, bytes, type: "image/jpeg")
        let bob = try h.store.addUser(name: "bob")
        let bobToken = try h.store.issueToken(for: bob.id).secret
        let body = APIHarness.multipart(
            boundary: "B", fields: [("provider_id", "pixverse")], file: bytes, filename: "b.jpg",
            contentType: "image/jpeg")
        #expect(
            h.send(
                "POST", "/api/v1/assets/upload",
                headers: ["content-type": "multipart/form-data; boundary=B", "authorization": "Bearer \(bobToken)"],
                body: body
            ).0 == 201)
        let id = try #require(mine["asset_id"] as? Int)
        _ = h.send("DELETE", "/api/v1/assets/\(id)")
        #expect(h.send("DELETE", "/api/v1/trash/\(id)").0 == 204)
        let path =
            "\(h.dir)/data/providers/pixverse/\(DirectoryProvider.relativePath(for: try SHA256Digest(parsing: hex(bytes))))"
        #expect(FileManager.default.fileExists(atPath: path), "bob's asset still uses the copy")
    }

    @Test(arguments: Backend.available) func retentionPurgesOnlyWhatIsOldEnough(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend)
        let (_, old) = upload(h, Self.mp4 + sample(300, seed: 1))
        let (_, fresh) = upload(h, Self.mp4 + sample(300, seed: 2))
        let oldID = try #require(old["asset_id"] as? Int)
        let freshID = try #require(fresh["asset_id"] as? Int)
        _ = h.send("DELETE", "/api/v1/assets/\(oldID)")
        _ = h.send("DELETE", "/api/v1/assets/\(freshID)")
        try h.stores.run("UPDATE assets SET trashed_at = '2000-01-01T00:00:00.000Z' WHERE id = ?", [oldID])
        let sweep = try h.api.purger.purgeTrash(olderThanSeconds: 30 * 86400, store: h.store)
        #expect(sweep == AssetPurger.Sweep(purged: 1, deferred: 0))
        #expect(h.send("GET", "/api/v1/assets/\(oldID)").0 == 404)
        #expect(h.send("GET", "/api/v1/trash/\(freshID)").0 == 200)
    }

    @Test(arguments: Backend.available) func mediaProvidersTakeOnlyMediaByTheirBytes(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend, policies: [
            try ProviderID(parsing: "runway"): ProviderPolicy(accept: ["image/*", "video/*"])
        ])
        // Random bytes named and typed as a JPEG are not an image.
        let (status, refused) = upload(h, sample(5000, seed: 3), provider: "runway", type: "image/jpeg")
        #expect(status == 415)
        #expect((refused["error"] as? [String: Any])?["code"] as? String == "unsupported_media_type")
        #expect(
            ((refused["error"] as? [String: Any])?["message"] as? String)?.contains("application/octet-stream") == true)
        #expect(try h.store.listAssets(user: UserID(1), after: nil, limit: 10).isEmpty, "no asset for refused content")
        // A real JPEG header goes through, recorded as an image whatever the part said.
        let (ok, created) = upload(h, Self.jpeg + sample(5000, seed: 3), provider: "runway", type: "text/plain")
        #expect(ok == 201 && created["media_type"] as? String == "image" && created["mime_type"] == nil)
        #expect(try h.store.listAssets(user: UserID(1), after: nil, limit: 10).first?.mimeType == "image/jpeg")
        // Text may go to a provider without an accept list; not on to the media one.
        let (textStatus, text) = upload(h, Array("plain notes".utf8), provider: "pixverse", type: "text/plain")
        #expect(textStatus == 201)
        let id = try #require(text["asset_id"] as? Int)
        let added = h.send("POST", "/api/v1/assets/\(id)/providers", json: #"{"provider_id":"runway"}"#)
        #expect(added.0 == 415)
        #expect(h.api.metrics.lifecycleCount(.refusedMedia) == 2)
        // Empty files go nowhere.
        let (empty, emptyAnswer) = upload(h, [], provider: "pixverse")
        #expect(empty == 422 && (emptyAnswer["error"] as? [String: Any])?["code"] as? String == "empty_file")
    }

    @Test(arguments: Backend.available) func aBulkRuleTrashesExactlyWhatItsPreviewSaid(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend, fingerprinter: TextFingerprinter())
        func image(_ hex: String, provider: String = "pixverse") throws -> Int {
            let (status, json) = upload(h, Array("IMG \(hex)".utf8), provider: provider, type: "image/png")
            #expect(status == 201 || status == 200)
            return try #require(json["asset_id"] as? Int)
        }
        let a = try image("0123456789abcdef")
        let b = try image("0123456789abcde8")  // 3 bits from a
        let c = try image("0123456789abcdee")
        _ = upload(h, Array("IMG 0123456789abcde8".utf8), provider: "runway", type: "image/png")  // b on two providers
        let other = try image("fedcba9876543210")
        let groups = h.send("GET", "/api/v1/near-duplicates").1["groups"] as? [[String: Any]]
        #expect(groups?.count == 1)
        #expect((groups?.first?["assets"] as? [[String: Any]])?.compactMap { $0["asset_id"] as? Int } == [a, b, c])

        let preview = h.send(
            "POST", "/api/v1/near-duplicates/resolve", json: #"{"rule":"most_providers","dry_run":true}"#)
        #expect(preview.0 == 200 && preview.1["trashed"] as? Int == 0)
        let planned = (preview.1["groups"] as? [[String: Any]])?.first
        #expect(planned?["keep"] as? Int == b && planned?["trash"] as? [Int] == [a, c])
        #expect(try h.store.listTrash(user: UserID(1), after: nil, limit: 10).isEmpty, "a preview touches nothing")

        let done = h.send("POST", "/api/v1/near-duplicates/resolve", json: #"{"rule":"most_providers"}"#)
        #expect(done.1["groups"] as? NSArray == preview.1["groups"] as? NSArray)
        #expect(done.1["trashed"] as? Int == 2)
        #expect(
            try h.store.listTrash(user: UserID(1), after: nil, limit: 10).map(\.id.rawValue) == [Int64(a), Int64(c)])
        #expect((h.send("GET", "/api/v1/near-duplicates").1["groups"] as? [Any])?.isEmpty == true)
        #expect(h.send("GET", "/api/v1/assets/\(other)").0 == 200)
        #expect(h.send("POST", "/api/v1/near-duplicates/resolve", json: #"{"rule":"prettiest"}"#).0 == 400)
    }

    /// schemathesis found a declared type holding a NUL: PostgreSQL refuses it in TEXT (a 500).
    @Test(arguments: Backend.available) func aDeclaredTypeThatIsNoTypeNeverReachesARow(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend)
        let (response, json) = h.call(
            "POST", "/api/v1/uploads?provider_id=pixverse&filename=a%00b&mime=%C3%B6%00x%2Fy",
            headers: ["upload-complete": "?1"], body: Array("hello".utf8))
        #expect(response.status == 201 && json["status"] as? String == "created")
        let asset = try #require(try h.store.listAssets(user: UserID(1), after: nil, limit: 1).first)
        #expect(asset.mimeType == "application/octet-stream" && asset.originalFilename == "ab")
        #expect(
            API.cleanMime("image/JPEG; q=1") == "image/jpeg" && API.cleanMime("a\u{0}/b") == ""
                && API.cleanMime("*/*") == "")
    }
}
