import AssetDedupCore
import Foundation
import PostgresTestSupport
import SQLiteStore
import Testing

/// `verify`'s store (issue 24): checks, passes, repairs, the minimum-copies query, the
/// integrity summary and the purge's "never the last good copy", the same on SQLite and on
/// PostgreSQL: one generic body, two backends.
@Suite("CopyChecks on SQLite and PostgreSQL")
struct CopyCheckStoreTests {
    typealias Store = CopyChecks & AssetCatalog & AssetLifecycle & UserDirectory & DeliveryQueue

    func digest(_ seed: UInt8) -> SHA256Digest { SHA256Digest(bytes: [UInt8](repeating: seed, count: 32)) }
    func slug(_ name: String) -> ProviderID { try! ProviderID(parsing: name) }
    let t0 = "2026-12-01T00:00:00.000Z"
    let t1 = "2026-12-02T00:00:00.000Z"

    func withStore(_ backend: Backend, _ body: (any Store) throws -> Void) throws {
        try PostgresTestSupport.withStore(backend) { try body($0.store) }
    }

    func check(_ sha: SHA256Digest, _ location: String, _ state: CopyCheck.State, at: String) -> CopyCheck {
        CopyCheck(sha256: sha, location: location, state: state, detail: state == .ok ? nil : "found", checkedAt: at)
    }

    @Test(
        "content to verify skips what was checked since the cut-off; a check is upserted", arguments: Backend.available)
    func dueContent(_ backend: Backend) throws {
        try withStore(backend) { store in
            let alice = try store.addUser(name: "alice")
            let bob = try store.addUser(name: "bob")
            let a = try store.insertAsset(NewAsset(userID: alice.id, sha256: digest(1), size: 10))
            let b = try store.insertAsset(NewAsset(userID: bob.id, sha256: digest(1), size: 10))
            try store.insertAsset(NewAsset(userID: alice.id, sha256: digest(2), size: 20))
            try store.recordUpload(asset: a, provider: slug("pixverse"), providerAssetID: "p/1")
            try store.recordUpload(asset: b, provider: slug("runway"), providerAssetID: "r/1")
            let all = try store.contentToVerify(after: nil, limit: 10, checkedSince: nil)
            #expect(all.map(\.sha256) == [digest(1), digest(2)])
            #expect(all[0].copies == [slug("pixverse"): "p/1", slug("runway"): "r/1"])
            try store.recordCopyCheck(check(digest(1), "blob", .corrupt, at: t0))
            try store.recordCopyCheck(check(digest(1), "blob", .ok, at: t1))
            #expect(try store.copyChecks().map(\.state) == [.ok], "one row per copy, the last check")
            #expect(try store.contentToVerify(after: nil, limit: 10, checkedSince: t0).map(\.sha256) == [digest(2)])
            #expect(try store.contentToVerify(after: nil, limit: 10, checkedSince: t1).count == 2, "strictly after")
            #expect(try store.contentToVerify(after: digest(1).hex, limit: 10, checkedSince: nil).count == 1)
        }
    }

    @Test("a pass begins, stays open until finished, and begins again", arguments: Backend.available)
    func passes(_ backend: Backend) throws {
        try withStore(backend) { store in
            #expect(try store.verifyPass("all") == nil)
            try store.startVerifyPass("all", at: t0)
            #expect(try store.verifyPass("all") == VerifyPass(startedAt: t0, finishedAt: nil))
            try store.finishVerifyPass("all", at: t1)
            #expect(try store.verifyPass("all") == VerifyPass(startedAt: t0, finishedAt: t1))
            try store.startVerifyPass("all", at: t1)
            #expect(try store.verifyPass("all") == VerifyPass(startedAt: t1, finishedAt: nil))
            #expect(try store.verifyPass("other") == nil)
        }
    }

    @Test("forgetting a bad copy removes its records and its check", arguments: Backend.available)
    func forget(_ backend: Backend) throws {
        try withStore(backend) { store in
            let alice = try store.addUser(name: "alice")
            let bob = try store.addUser(name: "bob")
            let a = try store.insertAsset(NewAsset(userID: alice.id, sha256: digest(1), size: 10))
            let b = try store.insertAsset(NewAsset(userID: bob.id, sha256: digest(1), size: 10))
            for asset in [a, b] {
                try store.recordUpload(asset: asset, provider: slug("pixverse"), providerAssetID: "p/1")
            }
            try store.recordUpload(asset: a, provider: slug("runway"), providerAssetID: "r/1")
            try store.recordCopyCheck(check(digest(1), "pixverse", .missing, at: t0))
            try store.recordCopyCheck(check(digest(1), "runway", .ok, at: t0))
            #expect(try store.forgetProviderCopies(sha256: digest(1), provider: slug("pixverse")) == [a, b])
            #expect(try store.copyChecks().map(\.location) == ["runway"])
            let left = try store.contentToVerify(after: nil, limit: 10, checkedSince: nil)
            #expect(left.first?.copies == [slug("runway"): "r/1"])
        }
    }

    @Test("below minimum: live content with too few good copies, in hash order", arguments: Backend.available)
    func belowMinimum(_ backend: Backend) throws {
        try withStore(backend) { store in
            let alice = try store.addUser(name: "alice")
            let bob = try store.addUser(name: "bob")
            // 1: on two providers (one per user); 2: on one, whose copy is corrupt; 3: on none
            // but trashed; 4: on none.
            let a1 = try store.insertAsset(NewAsset(userID: alice.id, sha256: digest(1), size: 10))
            let b1 = try store.insertAsset(NewAsset(userID: bob.id, sha256: digest(1), size: 10))
            let a2 = try store.insertAsset(
                NewAsset(userID: alice.id, sha256: digest(2), size: 20, mimeType: "image/png"))
            let a3 = try store.insertAsset(NewAsset(userID: alice.id, sha256: digest(3), size: 30))
            let a4 = try store.insertAsset(NewAsset(userID: alice.id, sha256: digest(4), size: 40))
            try store.recordUpload(asset: a1, provider: slug("pixverse"), providerAssetID: "p/1")
            try store.recordUpload(asset: b1, provider: slug("runway"), providerAssetID: "r/1")
            try store.recordUpload(asset: a2, provider: slug("pixverse"), providerAssetID: "p/2")
            try store.recordCopyCheck(check(digest(2), "pixverse", .corrupt, at: t0))
            try store.recordCopyCheck(check(digest(1), "runway", .unreachable, at: t0))
            _ = try store.trashAsset(id: a3, user: alice.id)

            #expect(
                try store.contentBelowMinimum(minCopies: 1, after: nil, limit: 10).map(\.sha256) == [
                    digest(2), digest(4),
                ])
            let two = try store.contentBelowMinimum(minCopies: 2, after: nil, limit: 10)
            #expect(two.map(\.sha256) == [digest(2), digest(4)], "an unreachable copy is not a bad one")
            #expect(
                two[0] == UnderReplicated(sha256: digest(2), size: 20, asset: a2, mimeType: "image/png", goodCopies: [])
            )
            #expect(two[1].asset == a4)
            let three = try store.contentBelowMinimum(minCopies: 3, after: nil, limit: 10)
            #expect(three.map(\.sha256) == [digest(1), digest(2), digest(4)])
            #expect(three[0].goodCopies == [slug("pixverse"), slug("runway")] && three[0].asset == a1)
            #expect(
                try store.contentBelowMinimum(minCopies: 3, after: digest(1).hex, limit: 1).map(\.sha256) == [digest(2)]
            )
            #expect(try store.integritySummary(minCopies: 3).belowMinimum == 3)
        }
    }

    @Test(
        "the summary counts checks of recorded copies only, with repairs and the oldest check",
        arguments: Backend.available)
    func summary(_ backend: Backend) throws {
        try withStore(backend) { store in
            let alice = try store.addUser(name: "alice")
            let a1 = try store.insertAsset(NewAsset(userID: alice.id, sha256: digest(1), size: 10))
            let a2 = try store.insertAsset(NewAsset(userID: alice.id, sha256: digest(2), size: 20))
            try store.recordUpload(asset: a1, provider: slug("pixverse"), providerAssetID: "p/1")
            try store.recordUpload(asset: a2, provider: slug("pixverse"), providerAssetID: "p/2")
            try store.recordCopyCheck(check(digest(1), "blob", .ok, at: t1))
            try store.recordCopyCheck(check(digest(2), "blob", .corrupt, at: t0))
            try store.recordCopyCheck(check(digest(1), "pixverse", .missing, at: t1))
            // History, not counted: content no asset holds, a copy no asset records.
            try store.recordCopyCheck(check(digest(9), "blob", .missing, at: t0))
            try store.recordCopyCheck(check(digest(1), "runway", .corrupt, at: t0))
            try store.recordRepair(
                CopyRepair(sha256: digest(2), location: "blob", done: true, what: "restored", repairedAt: t1))
            try store.recordRepair(
                CopyRepair(sha256: digest(1), location: "pixverse", done: false, what: "no", repairedAt: t1))

            let summary = try store.integritySummary(minCopies: 0)
            #expect(summary.minCopies == 0 && summary.belowMinimum == 0)
            #expect(
                summary.locations == [
                    .init(
                        location: "blob", recorded: 2, checks: [.ok: 1, .corrupt: 1], oldestCheck: t0, repaired: 1),
                    .init(location: "pixverse", recorded: 2, checks: [.missing: 1], oldestCheck: t1, notRepaired: 1),
                ])
            #expect(summary.locations[1].unchecked == 1)
            var problems: [String] = []
            try store.forEachCopyProblem(limit: nil) { problems.append("\($0.state) \($0.location)") }
            #expect(problems == ["corrupt blob", "missing pixverse"])
            problems = []
            try store.forEachCopyProblem(limit: 1) { problems.append("\($0.state) \($0.location)") }
            #expect(problems == ["corrupt blob"])
        }
    }

    @Test("a purge never offers the last good copy of live content for deletion", arguments: Backend.available)
    func purgeKeepsLastGoodCopy(_ backend: Backend) throws {
        try withStore(backend) { store in
            let alice = try store.addUser(name: "alice")
            let bob = try store.addUser(name: "bob")
            // Alice's copy of 1 is on pixverse; bob's live asset of 1 is on runway, found corrupt.
            let a1 = try store.insertAsset(NewAsset(userID: alice.id, sha256: digest(1), size: 10))
            let b1 = try store.insertAsset(NewAsset(userID: bob.id, sha256: digest(1), size: 10))
            try store.recordUpload(asset: a1, provider: slug("pixverse"), providerAssetID: "p/1")
            try store.recordUpload(asset: b1, provider: slug("runway"), providerAssetID: "r/1")
            try store.recordCopyCheck(check(digest(1), "runway", .corrupt, at: t0))
            // Content 2: alice's trashed asset is its only holder: its copy may go.
            let a2 = try store.insertAsset(NewAsset(userID: alice.id, sha256: digest(2), size: 20))
            try store.recordUpload(asset: a2, provider: slug("pixverse"), providerAssetID: "p/2")
            for id in [a1, a2] { _ = try store.trashAsset(id: id, user: alice.id) }

            guard case .purged(let first) = try store.purgeAsset(id: a1, minCopies: 0) else {
                Issue.record("not purged")
                return
            }
            #expect(first.soleCopies.isEmpty && first.keptForLive == [slug("pixverse"): b1])
            guard case .purged(let second) = try store.purgeAsset(id: a2) else {
                Issue.record("not purged")
                return
            }
            #expect(second.soleCopies == [slug("pixverse"): "p/2"] && second.keptForLive.isEmpty)
        }
    }

    @Test("with a good copy elsewhere, the minimum decides", arguments: Backend.available)
    func purgeHonoursMinimum(_ backend: Backend) throws {
        try withStore(backend) { store in
            let alice = try store.addUser(name: "alice")
            let bob = try store.addUser(name: "bob")
            let a1 = try store.insertAsset(NewAsset(userID: alice.id, sha256: digest(1), size: 10))
            let b1 = try store.insertAsset(NewAsset(userID: bob.id, sha256: digest(1), size: 10))
            try store.recordUpload(asset: a1, provider: slug("pixverse"), providerAssetID: "p/1")
            try store.recordUpload(asset: b1, provider: slug("runway"), providerAssetID: "r/1")
            _ = try store.trashAsset(id: a1, user: alice.id)
            guard case .purged(let purged) = try store.purgeAsset(id: a1, minCopies: 2) else {
                Issue.record("not purged")
                return
            }
            #expect(purged.soleCopies.isEmpty && purged.keptForLive == [slug("pixverse"): b1])
        }
    }

    @Test("with a good copy elsewhere and no minimum, the sole copy may go", arguments: Backend.available)
    func purgeWithoutMinimum(_ backend: Backend) throws {
        try withStore(backend) { store in
            let alice = try store.addUser(name: "alice")
            let bob = try store.addUser(name: "bob")
            let a1 = try store.insertAsset(NewAsset(userID: alice.id, sha256: digest(1), size: 10))
            let b1 = try store.insertAsset(NewAsset(userID: bob.id, sha256: digest(1), size: 10))
            try store.recordUpload(asset: a1, provider: slug("pixverse"), providerAssetID: "p/1")
            try store.recordUpload(asset: b1, provider: slug("runway"), providerAssetID: "r/1")
            _ = try store.trashAsset(id: a1, user: alice.id)
            guard case .purged(let purged) = try store.purgeAsset(id: a1, minCopies: 1) else {
                Issue.record("not purged")
                return
            }
            #expect(purged.soleCopies == [slug("pixverse"): "p/1"] && purged.keptForLive.isEmpty)
        }
    }
}
