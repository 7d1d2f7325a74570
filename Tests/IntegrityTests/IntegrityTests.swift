import AssetDedupCore
import SQLiteStore
import BlobStore
import Foundation
import Integrity
import Logging
import Providers
import Synchronization
import Testing

/// verify's core on real parts: a SQLite store, a blob folder and directory providers in a
/// temporary folder. The backends' own behaviour is proved in `CopyCheckStoreTests`.
@Suite("Integrity: verify passes, sampling, pacing, repairs, minimum copies")
struct IntegrityTests {
    func slug(_ name: String) -> ProviderID { try! ProviderID(parsing: name) }

    /// A store with `count` pieces of content, each a blob held by one asset and copied to
    /// `pixverse`; the folder is removed afterwards.
    struct World {
        let dir: String
        let store: SQLiteStore
        let blobs: BlobStore
        let providers: ProviderConfig
        let contents: [SHA256Digest]
        let assets: [AssetID]

        func copyPath(_ digest: SHA256Digest, on provider: String = "pixverse") -> String {
            "\(dir)/providers/\(provider)/\(DirectoryProvider.relativePath(for: digest))"
        }

        func overwrite(_ path: String, with bytes: [UInt8]) throws {
            chmod(path, 0o644)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        }
    }

    func withWorld(
        count: Int, minCopies: Int = 0, accept: [String: [String]] = [:], _ body: (World) throws -> Void
    ) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("integrity-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/tmp", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteStore(path: dir + "/t.sqlite")
        try store.migrateUp(to: nil) { _ in }
        let blobs = try BlobStore(dataDirectory: dir)
        let names = ["pixverse", "runway", "archive"]
        let providers = ProviderConfig(
            providers: names.map { DirectoryProvider(id: slug($0), root: "\(dir)/providers/\($0)") },
            policies: Dictionary(
                uniqueKeysWithValues: names.map { (slug($0), ProviderPolicy(accept: accept[$0])) }),
            minCopies: minCopies)
        let user = try store.addUser(name: "alice")
        var contents: [SHA256Digest] = []
        var assets: [AssetID] = []
        for index in 0..<count {
            let file = "\(dir)/tmp/in-\(index)"
            try Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* (index + 3)) }).write(
                to: URL(fileURLWithPath: file))
            let (digest, size) = try blobs.ingest(existingFile: file)
            let asset = try store.insertAsset(
                NewAsset(userID: user.id, sha256: digest, size: size, mimeType: "video/mp4"))
            let id = try providers.providers[0].upload(
                BlobReference(path: blobs.path(for: digest), sha256: digest, size: size))
            try store.recordUpload(asset: asset, provider: slug("pixverse"), providerAssetID: id)
            contents.append(digest)
            assets.append(asset)
        }
        try body(
            World(
                dir: dir, store: store, blobs: blobs, providers: providers,
                contents: contents.sorted { $0.hex < $1.hex },
                assets: assets))
    }

    func verifier(_ world: World, _ change: (inout CopyVerifier.Options) -> Void = { _ in }) -> CopyVerifier {
        var options = CopyVerifier.Options()
        change(&options)
        return CopyVerifier(store: world.store, blobs: world.blobs, providers: world.providers, options: options)
    }

    @Test("a pass cut short by --limit is continued by the next run, finished, then begun again")
    func passCheckpoint() throws {
        try withWorld(count: 5) { world in
            let first = try verifier(world) { $0.limit = 2 }.run()
            #expect(first.content == 2 && first.continuedPass == nil && !first.finishedPass)
            #expect(first.counts == [.ok: 4] && first.bytes == 4 * 4096)
            let begun = try #require(try world.store.verifyPass(CopyVerifier.passName))
            #expect(begun.finishedAt == nil)
            let second = try verifier(world) { $0.limit = 2 }.run()
            #expect(second.content == 2 && second.continuedPass == begun.startedAt && !second.finishedPass)
            let third = try verifier(world).run()
            #expect(third.content == 1 && third.continuedPass == begun.startedAt && third.finishedPass)
            #expect(try world.store.verifyPass(CopyVerifier.passName)?.finishedAt != nil)
            // Exactly at the end, --limit still sees that nothing is left and finishes the pass.
            let fourth = try verifier(world) { $0.limit = 5 }.run()
            #expect(fourth.content == 5 && fourth.continuedPass == nil && fourth.finishedPass)
        }
    }

    @Test("--sample checks only the content picked, and leaves the pass alone")
    func sample() throws {
        try withWorld(count: 4) { world in
            let picked = Set(world.contents.prefix(2))
            var options = CopyVerifier.Options()
            options.samplePercent = 50
            let run = try CopyVerifier(
                store: world.store, blobs: world.blobs, providers: world.providers, options: options,
                sample: { digest, percent in percent == 50 && picked.contains(digest) }
            ).run()
            #expect(run.content == 2)
            #expect(Set(try world.store.copyChecks().map(\.sha256)) == picked)
            #expect(try world.store.verifyPass(CopyVerifier.passName) == nil)
        }
    }

    @Test("--provider checks the blob and that provider's copies only")
    func oneProvider() throws {
        try withWorld(count: 1) { world in
            let run = try verifier(world) { $0.provider = slug("runway") }.run()
            #expect(run.counts == [.ok: 1])
            #expect(try world.store.copyChecks().map(\.location) == ["blob"])
        }
    }

    @Test("--limit-rate paces reads to the rate with at most a one-second burst, on an injected clock")
    func pacer() {
        let clock = Mutex<Double>(100)
        let slept = Mutex<[Double]>([])
        let pacer = ReadPacer(
            bytesPerSecond: 1000, now: { clock.withLock { $0 } },
            sleep: { seconds in
                slept.withLock { $0.append(seconds) }
                clock.withLock { $0 += seconds }
            })
        pacer.account(500)
        pacer.account(500)
        #expect(clock.withLock { $0 } == 101)
        clock.withLock { $0 += 3 }  // idle for 3 s: at most 1 s of reading is owed back
        pacer.account(1000)
        pacer.account(2000)
        #expect(slept.withLock { $0 } == [0.5, 0.5, 2.0])
        #expect(clock.withLock { $0 } == 106)
    }

    @Test("a corrupt blob and a corrupt copy are found; repair restores the blob and queues the copy")
    func findAndRepair() throws {
        try withWorld(count: 3) { world in
            let (badBlob, badCopy, good) = (world.contents[0], world.contents[1], world.contents[2])
            let original = try Data(contentsOf: URL(fileURLWithPath: world.blobs.path(for: badBlob)))
            try world.overwrite(world.blobs.path(for: badBlob), with: [UInt8](original.prefix(100)))
            try world.overwrite(world.copyPath(badCopy), with: [UInt8](repeating: 0, count: 4096))
            let run = try verifier(world).run()
            #expect(run.problems.map { "\($0.state) \($0.location)" }.sorted() == ["corrupt blob", "corrupt pixverse"])
            #expect(Set(run.problems.map(\.sha256)) == [badBlob, badCopy])
            let actions = CopyRepairer(
                store: world.store, blobs: world.blobs, providers: world.providers, scratch: world.dir + "/tmp",
                logger: Logger(label: "test")
            ).repair(run.problems, copies: run.copies)
            #expect(actions.map(\.done) == [true, true])
            #expect(try Data(contentsOf: URL(fileURLWithPath: world.blobs.path(for: badBlob))) == original)
            #expect(access(world.copyPath(badCopy), F_OK) != 0, "the bad copy is deleted, to be sent again")
            #expect(
                try world.store.contentToVerify(after: nil, limit: 10, checkedSince: nil).first {
                    $0.sha256 == badCopy
                }?.copies == [:])
            #expect(try world.store.integritySummary(minCopies: 0).locations.map(\.repaired) == [1, 1])
            #expect(access(world.copyPath(good), F_OK) == 0)
        }
    }

    @Test("content whose every copy is bad is reported and left untouched")
    func everyCopyBad() throws {
        try withWorld(count: 1) { world in
            let digest = world.contents[0]
            try world.overwrite(world.blobs.path(for: digest), with: [1, 2, 3])
            try world.overwrite(world.copyPath(digest), with: [4, 5, 6])
            let run = try verifier(world).run()
            #expect(run.problems.count == 2)
            let actions = CopyRepairer(
                store: world.store, blobs: world.blobs, providers: world.providers, scratch: world.dir + "/tmp",
                logger: Logger(label: "test")
            ).repair(run.problems, copies: run.copies)
            #expect(actions.map(\.done) == [false, false])
            #expect(
                actions.map(\.what) == [
                    "no provider copy hashes right",
                    "left as it is: the blob is bad too and no provider copy hashes right",
                ])
            #expect(try Data(contentsOf: URL(fileURLWithPath: world.blobs.path(for: digest))) == Data([1, 2, 3]))
            #expect(try Data(contentsOf: URL(fileURLWithPath: world.copyPath(digest))) == Data([4, 5, 6]))
            #expect(try world.store.contentToVerify(after: nil, limit: 1, checkedSince: nil)[0].copies.count == 1)
        }
    }

    @Test("minimum copies: deliveries queued to providers that lack the content and accept its type")
    func minimumCopies() throws {
        try withWorld(count: 2, minCopies: 2, accept: ["runway": ["image/*"]]) { world in
            let policy = MinimumCopies(minCopies: 2, providers: world.providers)
            let listed = try policy.enforce(store: world.store, queue: false)
            #expect(listed.map(\.queued) == [[], []] && listed.map(\.stillShort) == [1, 1])
            #expect(policy.candidates(for: listed[0].content) == [slug("archive")], "runway takes images only")
            let queued = try policy.enforce(store: world.store, queue: true)
            #expect(queued.map(\.queued) == [[slug("archive")], [slug("archive")]])
            for asset in world.assets {
                #expect(try world.store.delivery(asset: asset, provider: slug("archive"))?.state == .queued)
            }
            #expect(
                try MinimumCopies(minCopies: 0, providers: world.providers).enforce(store: world.store, queue: true)
                    .isEmpty)
        }
    }
}
