import AssetDedupCore
import SQLiteStore
import Foundation
import HTTPAPI
import Testing

/// `GET /admin/duplicates` and `POST /admin/duplicates/{sha256}/review`, in process: admins
/// only, the report's groups, and decisions recorded exactly as `assetdedup review` records them.
@Suite struct AdminReviewTests {
    /// alice (the harness's ordinary user) and bob share `shared`; carol holds `single` alone;
    /// `root` is the admin whose token the tests send.
    struct Fixture {
        let h: APIHarness
        let admin: String
        let shared: String
        let single: String
        let aliceAsset: Int64
        let bobAsset: Int64
        let carolAsset: Int64

        init() throws {
            let h = try APIHarness()
            let root = try h.store.addUser(name: "root", isAdmin: true)
            let alice = try #require(try h.store.user(named: "alice"))
            let bob = try h.store.addUser(name: "bob")
            let carol = try h.store.addUser(name: "carol")
            let shared = String(repeating: "ab", count: 32)
            let single = String(repeating: "cd", count: 32)
            func add(_ user: UserID, _ sha256: String, _ name: String) throws -> Int64 {
                try h.store.insertAsset(
                    NewAsset(
                        userID: user, sha256: try SHA256Digest(parsing: sha256), size: 4096, originalFilename: name)
                ).rawValue
            }
            self.h = h
            self.admin = try h.store.issueToken(for: root.id).secret
            self.shared = shared
            self.single = single
            aliceAsset = try add(alice.id, shared, "beach.jpg")
            bobAsset = try add(bob.id, shared, "beach (copy).jpg")
            carolAsset = try add(carol.id, single, "song.mp3")
        }

        func asAdmin(_ method: String, _ uri: String, json: String? = nil) -> (Int, [String: Any]) {
            h.send(method, uri, json: json, headers: ["authorization": "Bearer \(admin)"])
        }

        func reviewRows() throws -> [[String?]] {
            try SQLiteStore(path: h.databasePath).db.query(
                "SELECT group_sha256, decision, CAST(keep_asset_id AS TEXT), note, reviewed_by FROM duplicate_reviews ORDER BY id"
            ) { row in (Int32(0)..<5).map { row.optionalText($0) } }
        }
    }

    @Test func onlyAdminsGetIn() throws {
        let f = try Fixture()
        let list = "/api/v1/admin/duplicates"
        let review = "/api/v1/admin/duplicates/\(f.shared)/review"
        let body = #"{"decision":"ignore"}"#
        let requests: [(String, String, String?)] = [("GET", list, nil), ("POST", review, body)]
        for (method, uri, json) in requests {
            let (none, noneBody) = f.h.send(method, uri, json: json, headers: ["authorization": ""])
            #expect(none == 401)
            #expect((noneBody["error"] as? [String: Any])?["code"] as? String == "unauthorized")
            let (user, userBody) = f.h.send(method, uri, json: json)  // alice: not an admin
            #expect(user == 403)
            #expect((userBody["error"] as? [String: Any])?["code"] as? String == "forbidden")
            #expect((userBody["error"] as? [String: Any])?["message"] as? String == "admins only")
        }
        #expect(f.asAdmin("POST", list).0 == 405)
        #expect(f.asAdmin("GET", review).0 == 405)
        #expect(try f.reviewRows().isEmpty)
    }

    @Test func listsTheReportsGroupsWithHoldersAndSavings() throws {
        let f = try Fixture()
        let (status, json) = f.asAdmin("GET", "/api/v1/admin/duplicates")
        #expect(status == 200)
        let groups = try #require(json["groups"] as? [[String: Any]])
        #expect(groups.count == 1)  // carol's song is held once: not a group
        let group = groups[0]
        #expect(group["sha256"] as? String == f.shared)
        #expect(group["size"] as? Int == 4096)
        #expect(group["bytes_saved"] as? Int == 4096)
        #expect(group["review"] is NSNull)
        let holders = try #require(group["holders"] as? [[String: Any]])
        #expect(holders.map { $0["asset_id"] as? Int } == [Int(f.aliceAsset), Int(f.bobAsset)])
        #expect(holders.map { $0["user_name"] as? String } == ["alice", "bob"])
        #expect(holders.map { $0["original_filename"] as? String } == ["beach.jpg", "beach (copy).jpg"])
        #expect(json["next_after"] is NSNull)
    }

    @Test func pagesFollowTheHash() throws {
        let f = try Fixture()
        let dave = try f.h.store.addUser(name: "dave")
        // A second group, sorting after `shared`: dave joins carol's song.
        _ = try f.h.store.insertAsset(
            NewAsset(userID: dave.id, sha256: try SHA256Digest(parsing: f.single), size: 4096))
        let (_, first) = f.asAdmin("GET", "/api/v1/admin/duplicates?limit=1")
        #expect((first["groups"] as? [[String: Any]])?.map { $0["sha256"] as? String } == [f.shared])
        #expect(first["next_after"] as? String == f.shared)
        let (_, second) = f.asAdmin("GET", "/api/v1/admin/duplicates?limit=1&after=\(f.shared)")
        #expect((second["groups"] as? [[String: Any]])?.map { $0["sha256"] as? String } == [f.single])
        #expect(second["next_after"] is NSNull)
        #expect(f.asAdmin("GET", "/api/v1/admin/duplicates?limit=0").0 == 400)
        #expect(f.asAdmin("GET", "/api/v1/admin/duplicates?limit=501").0 == 400)
        #expect(f.asAdmin("GET", "/api/v1/admin/duplicates?after=xyz").0 == 400)
    }

    @Test func keepRecordsWhatTheCLIRecordsAndTheListShowsIt() throws {
        let f = try Fixture()
        let (status, json) = f.asAdmin(
            "POST", "/api/v1/admin/duplicates/\(f.shared.uppercased())/review",
            json: #"{"decision":"keep","asset_id":\#(f.bobAsset),"note":"bob's is the original"}"#)
        #expect(status == 201)
        let review = try #require(json["review"] as? [String: Any])
        #expect(review["sha256"] as? String == f.shared)
        #expect(review["decision"] as? String == "keep")
        #expect(review["keep_asset_id"] as? Int == Int(f.bobAsset))
        #expect(review["note"] as? String == "bob's is the original")
        #expect(review["reviewed_by"] as? String == "root")
        #expect((review["reviewed_at"] as? String)?.hasSuffix("Z") == true)
        // The row `assetdedup review SHARED --keep BOB --note ... --by root` writes.
        #expect(try f.reviewRows() == [[f.shared, "keep", String(f.bobAsset), "bob's is the original", "root"]])
        let latest = try #require(try f.h.store.latestDuplicateReviews()[f.shared])
        #expect(latest.keepAssetID == f.bobAsset && latest.reviewedBy == "root")

        let (_, list) = f.asAdmin("GET", "/api/v1/admin/duplicates")
        let shown = (list["groups"] as? [[String: Any]])?.first?["review"] as? [String: Any]
        #expect(shown?["decision"] as? String == "keep")
        #expect(shown?["keep_asset_id"] as? Int == Int(f.bobAsset))

        // A later decision wins; no note is stored as NULL, as the CLI stores it.
        #expect(
            f.asAdmin("POST", "/api/v1/admin/duplicates/\(f.shared)/review", json: #"{"decision":"ignore"}"#).0 == 201)
        #expect(try f.reviewRows().last == [f.shared, "ignore", nil, nil, "root"])
        #expect(try f.h.store.latestDuplicateReviews()[f.shared]?.decision == "ignore")
    }

    @Test func badRequestsWriteNothing() throws {
        let f = try Fixture()
        let uri = "/api/v1/admin/duplicates/\(f.shared)/review"
        let longNote = String(repeating: "n", count: 1001)
        let cases: [(String, String, Int, String)] = [
            ("/api/v1/admin/duplicates/xyz/review", #"{"decision":"ignore"}"#, 400, "invalid_sha256"),
            (uri, "not json", 400, "invalid_json"),
            (uri, "[]", 400, "invalid_field"),
            (uri, "{}", 400, "missing_field"),
            (uri, #"{"decision":"delete"}"#, 400, "invalid_review"),
            (uri, #"{"decision":"keep"}"#, 400, "invalid_review"),
            (uri, #"{"decision":"keep","asset_id":"1"}"#, 400, "invalid_field"),
            (uri, #"{"decision":"keep","asset_id":0}"#, 400, "invalid_id"),
            (uri, #"{"decision":"ignore","asset_id":1}"#, 400, "invalid_review"),
            (uri, #"{"decision":"ignore","note":7}"#, 400, "invalid_field"),
            (uri, #"{"decision":"ignore","note":"\#(longNote)"}"#, 400, "invalid_review"),
            (uri, #"{"decision":"keep","asset_id":\#(f.carolAsset)}"#, 422, "asset_not_in_group"),
            (uri, #"{"decision":"keep","asset_id":999}"#, 422, "unknown_asset"),
            (
                "/api/v1/admin/duplicates/\(String(repeating: "00", count: 32))/review", #"{"decision":"ignore"}"#, 404,
                "unknown_group"
            ),
        ]
        for (path, body, status, code) in cases {
            let (got, json) = f.asAdmin("POST", path, json: body)
            #expect(got == status, "\(body)")
            #expect((json["error"] as? [String: Any])?["code"] as? String == code, "\(body)")
        }
        let (wrongType, _) = f.h.send(
            "POST", uri, json: #"{"decision":"ignore"}"#,
            headers: ["authorization": "Bearer \(f.admin)", "content-type": "text/plain"])
        #expect(wrongType == 415)
        // A note of exactly 1000 characters is what the CLI allows too.
        let note = String(repeating: "é", count: 1000)
        #expect(f.asAdmin("POST", uri, json: #"{"decision":"ignore","note":"\#(note)"}"#).0 == 201)
        #expect(try f.reviewRows().count == 1)
    }
}
