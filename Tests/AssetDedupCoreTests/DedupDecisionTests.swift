import AssetDedupCore
import Testing

/// Every combination of "has the caller got the content" x "is it on the target provider".
@Suite struct DedupDecisionTests {
    let pixverse = try! ProviderID(parsing: "pixverse")
    let runway = try! ProviderID(parsing: "runway")
    let digest = SHA256Digest(bytes: [UInt8](repeating: 1, count: 32))

    func asset(on providers: [ProviderID]) -> Asset {
        Asset(
            id: AssetID(7), userID: UserID(1), sha256: digest, size: 10, createdAt: "2026-01-01T00:00:00Z",
            uploads: Dictionary(uniqueKeysWithValues: providers.map { ($0, "remote-\($0)") }))
    }

    @Test func noAssetCreates() {
        #expect(DedupDecision.decide(existing: nil, provider: pixverse) == .create)
    }

    @Test func assetOnNoProviderAddsProvider() {
        #expect(DedupDecision.decide(existing: asset(on: []), provider: pixverse) == .addProvider(AssetID(7)))
    }

    @Test func assetOnOtherProviderAddsProvider() {
        #expect(DedupDecision.decide(existing: asset(on: [runway]), provider: pixverse) == .addProvider(AssetID(7)))
    }

    @Test func assetOnSameProviderReuses() {
        #expect(DedupDecision.decide(existing: asset(on: [pixverse]), provider: pixverse) == .reuse(AssetID(7)))
    }

    @Test func assetOnBothReuses() {
        #expect(DedupDecision.decide(existing: asset(on: [pixverse, runway]), provider: runway) == .reuse(AssetID(7)))
    }

    @Test func uploadedProvidersAreSorted() {
        #expect(asset(on: [runway, pixverse]).uploadedProviders == [pixverse, runway])
    }
}
