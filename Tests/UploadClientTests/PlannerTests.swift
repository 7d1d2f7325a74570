import Testing

@testable import UploadClient

@Suite struct PlannerTests {
    static let a = HashedFile(path: "/p/a", size: 10, sha256: String(repeating: "a", count: 64))
    static let b = HashedFile(path: "/p/b", size: 100, sha256: String(repeating: "b", count: 64))
    static let aCopy = HashedFile(path: "/p/copy-of-a", size: 10, sha256: String(repeating: "a", count: 64))
    static let c = HashedFile(path: "/p/c", size: 10, sha256: String(repeating: "c", count: 64))

    @Test func heldOnProviderIsReusedHeldElsewhereAddsProviderNewIsSent() {
        let answers: [String: [String: CheckAnswer]] = [
            "p": [
                Self.a.sha256: CheckAnswer(exists: true, assetID: 7, uploadedTo: ["p"]),
                Self.b.sha256: CheckAnswer(exists: true, assetID: 8, uploadedTo: ["q"]),
                Self.c.sha256: CheckAnswer(exists: false, assetID: nil, uploadedTo: []),
            ]
        ]
        let plan = Planner.plan(files: [Self.a, Self.b, Self.c], providers: ["p"], answers: answers, resumableThreshold: 50)
        #expect(plan.map(\.action) == [.reuse(assetID: 7), .addProvider(assetID: 8), .upload(.multipart)])
        #expect(plan.allSatisfy { $0.provider == "p" })
    }

    @Test func theThresholdPicksTus() {
        let plan = Planner.plan(files: [Self.a, Self.b], providers: ["p"], answers: [:], resumableThreshold: 100)
        #expect(plan.map(\.action) == [.upload(.multipart), .upload(.tus)])
    }

    @Test func duplicatesInsideTheRunAreSentOnce() {
        let plan = Planner.plan(
            files: [Self.a, Self.aCopy, Self.b], providers: ["p", "q"], answers: [
                "q": [Self.a.sha256: CheckAnswer(exists: true, assetID: 3, uploadedTo: ["p"])]
            ], resumableThreshold: 1000)
        #expect(
            plan.map(\.action) == [
                .upload(.multipart), .sameAs(index: 0), .upload(.multipart),
                .addProvider(assetID: 3), .sameAs(index: 3), .addProviderAfter(index: 2),
            ])
        #expect(plan.map(\.provider) == ["p", "p", "p", "q", "q", "q"])
    }

    @Test func newContentForTwoProvidersIsSentOnceThenAdded() {
        let plan = Planner.plan(files: [Self.a, Self.b], providers: ["p", "q", "r"], answers: [:], resumableThreshold: 50)
        #expect(
            plan.map(\.action) == [
                .upload(.multipart), .upload(.tus),
                .addProviderAfter(index: 0), .addProviderAfter(index: 1),
                .addProviderAfter(index: 0), .addProviderAfter(index: 1),
            ])
    }

    @Test func aPerItemErrorFailsThatItemOnly() {
        let answers = ["p": [Self.a.sha256: CheckAnswer(exists: false, assetID: nil, uploadedTo: [], error: "invalid_sha256: no")]]
        let plan = Planner.plan(files: [Self.a, Self.c], providers: ["p"], answers: answers, resumableThreshold: 100)
        #expect(plan.map(\.action) == [.fail(reason: "invalid_sha256: no"), .upload(.multipart)])
    }

    @Test func batchesHoldDistinctHashesAtMostLimit() {
        let files = (0..<2500).map { HashedFile(path: "/\($0)", size: 1, sha256: String($0 % 2100)) }
        let batches = Planner.checkBatches(files, limit: 1000)
        #expect(batches.map(\.count) == [1000, 1000, 100])
        #expect(Set(batches.joined()).count == 2100)
        #expect(Planner.checkBatches([]).isEmpty)
    }

    @Test func serverStatusWordsBecomeOutcomes() {
        #expect(Uploader.outcome("created", adding: false) == .new)
        #expect(Uploader.outcome("reused", adding: false) == .reused)
        #expect(Uploader.outcome("added_provider", adding: false) == .added_provider)
        #expect(Uploader.outcome("queued", adding: false) == .new)
        #expect(Uploader.outcome("queued", adding: true) == .added_provider)
    }
}
