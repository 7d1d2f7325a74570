import AssetDedupCore
import SQLiteStore
import BlobStore
import Delivery
import Foundation
import Logging
import Providers
import Synchronization
import Testing

/// A provider that answers from a script and remembers the idempotency keys it was sent.
final class ScriptedProvider: Provider {
    let id: ProviderID
    var kind: String { "scripted" }
    private let state: Mutex<(script: [Result<String, ProviderError>], keys: [String?])>

    init(id: ProviderID, script: [Result<String, ProviderError>]) {
        self.id = id
        self.state = Mutex((script, []))
    }

    func upload(_ blob: BlobReference) throws -> String {
        try state.withLock { state in
            state.keys.append(blob.idempotencyKey)
            return try state.script.removeFirst().get()
        }
    }

    func health() -> ProviderHealth { .ok }

    var keys: [String?] { state.withLock { $0.keys } }
}

/// One job through `DeliveryRunner`: success, retryable failure with backoff, failure for good,
/// with the clock moved by hand.
@Suite struct DeliveryRunnerTests {
    let flaky = try! ProviderID(parsing: "flaky")
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func retryWithBackoffThenFailedThenDeliveredWithOneKey() throws {
        let h = try APIHarness()
        let (status, json) = h.send(
            "POST", "/api/v1/assets/upload", headers: ["content-type": "multipart/form-data; boundary=B"],
            body: APIHarness.multipart(boundary: "B", fields: [("provider_id", "pixverse")], file: Array("x".utf8)))
        #expect(status == 201)
        let asset = AssetID(Int64(try #require(json["asset_id"] as? Int)))
        func failure(_ message: String, retryable: Bool) -> Result<String, ProviderError> {
            .failure(ProviderError(provider: flaky, retryable: retryable, message: message))
        }
        let provider = ScriptedProvider(
            id: flaky,
            script: [failure("HTTP 503", retryable: true), failure("HTTP 400", retryable: false), .success("f-1")])
        let hub = DeliveryHub()
        let runner = DeliveryRunner(
            providers: ProviderConfig(providers: [provider]), blobs: try BlobStore(dataDirectory: h.dir + "/data"),
            hub: hub,
            backoff: DeliveryBackoff(initial: 2, maximum: 600), logger: Logger(label: "test"))
        let leases = [flaky: 60.0]

        _ = try h.store.enqueueDelivery(asset: asset, provider: flaky, retryNow: false, now: t0)
        let first = try #require(try h.store.leaseNextDelivery(owner: "w", leaseSeconds: leases, now: t0))
        let generation = hub.changeGeneration
        #expect(runner.run(first, owner: "w", store: h.store, now: { self.t0 }) == .retrying(error: "HTTP 503"))
        #expect(hub.changeGeneration != generation)  // waiting requests were woken
        let queued = try #require(try h.store.delivery(asset: asset, provider: flaky))
        #expect(queued.state == .queued && queued.lastError == "HTTP 503")
        #expect(queued.nextAttemptAt == Timestamp.string(t0 + 2))
        #expect(try h.store.leaseNextDelivery(owner: "w", leaseSeconds: leases, now: t0 + 1.9) == nil)

        let second = try #require(try h.store.leaseNextDelivery(owner: "w", leaseSeconds: leases, now: t0 + 2))
        #expect(runner.run(second, owner: "w", store: h.store, now: { self.t0 + 2 }) == .failed(error: "HTTP 400"))
        #expect(try h.store.delivery(asset: asset, provider: flaky)?.state == .failed)
        #expect(try h.store.leaseNextDelivery(owner: "w", leaseSeconds: leases, now: t0 + 9999) == nil)

        _ = try h.store.enqueueDelivery(asset: asset, provider: flaky, retryNow: false, now: t0 + 10)
        let third = try #require(try h.store.leaseNextDelivery(owner: "w", leaseSeconds: leases, now: t0 + 10))
        #expect(
            runner.run(third, owner: "w", store: h.store, now: { self.t0 + 10 }) == .delivered(providerAssetID: "f-1"))
        #expect(try h.store.providerAssetID(of: asset, on: flaky) == "f-1")
        #expect(try h.store.delivery(asset: asset, provider: flaky)?.attempts == 3)
        // Every attempt carried the row's one key.
        #expect(provider.keys == Array(repeating: first.idempotencyKey, count: 3))
    }

    @Test func backoffDoublesUpToItsMaximum() {
        let backoff = DeliveryBackoff(initial: 2, maximum: 600)
        #expect((1...6).map { backoff.delay(afterAttempts: $0) } == [2, 4, 8, 16, 32, 64])
        #expect(backoff.delay(afterAttempts: 40) == 600)
    }
}
