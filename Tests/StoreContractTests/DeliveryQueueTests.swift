import AssetDedupCore
import SQLiteStore
import Foundation
import PostgresTestSupport
import Testing

/// The delivery queue of migration 8, with the clock moved by hand.
@Suite struct DeliveryQueueTests {
    let runway = try! ProviderID(parsing: "runway")
    let pixverse = try! ProviderID(parsing: "pixverse")
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    /// A store with one user and one asset; runs `body` with both.
    func withAsset(_ backend: Backend, _ body: (any AssetDedupStore, AssetID) throws -> Void) throws {
        try withStore(backend) { t in
            let store = t.store
            let user = try store.addUser(name: "alice")
            let asset = try store.insertAsset(NewAsset(userID: user.id, sha256: digest(1), size: 10))
            try body(store, asset)
        }
    }

    func pending(_ outcome: EnqueueOutcome) -> Delivery? {
        if case .pending(let job) = outcome { return job }
        return nil
    }

    @Test(arguments: Backend.available) func enqueueIsIdempotentAndKeepsItsKey(_ backend: Backend) throws {
        try withAsset(backend) { store, asset in
            let first = try #require(pending(try store.enqueueDelivery(asset: asset, provider: runway, retryNow: false, now: t0)))
            let second = try #require(
                pending(try store.enqueueDelivery(asset: asset, provider: runway, retryNow: false, now: t0 + 5)))
            #expect(first.state == .queued && first.attempts == 0 && first.lastError == nil)
            #expect(first.idempotencyKey.count == 32 && first.idempotencyKey.allSatisfy(\.isHexDigit))
            #expect(second == first)  // not even its time moved
            #expect(try store.deliveryCounts() == [.queued: 1])
            let other = try #require(pending(try store.enqueueDelivery(asset: asset, provider: pixverse, retryNow: false, now: t0)))
            #expect(other.idempotencyKey != first.idempotencyKey)
            // Already on the provider: nothing to queue.
            try store.recordUpload(asset: asset, provider: pixverse, providerAssetID: "p-1")
            #expect(
                try store.enqueueDelivery(asset: asset, provider: pixverse) == .alreadyDelivered(providerAssetID: "p-1")
            )
            #expect(try store.delivery(asset: asset, provider: pixverse)?.state == .delivered)
        }
    }

    @Test(arguments: Backend.available) func oneLeaseAtATimeAndOnlyWhenDue(_ backend: Backend) throws {
        try withAsset(backend) { store, asset in
            _ = try store.enqueueDelivery(asset: asset, provider: runway, retryNow: false, now: t0)
            let leases = [runway: 60.0]
            #expect(try store.leaseNextDelivery(owner: "a", leaseSeconds: leases, now: t0 - 1) == nil)  // not due yet
            #expect(try store.leaseNextDelivery(owner: "a", leaseSeconds: [pixverse: 60], now: t0) == nil)  // not ours
            let job = try #require(try store.leaseNextDelivery(owner: "a", leaseSeconds: leases, now: t0))
            #expect(job.state == .delivering && job.attempts == 1 && job.leaseOwner == "a")
            #expect(job.leaseExpiresAt == Timestamp.string(t0 + 60))
            #expect(try store.leaseNextDelivery(owner: "b", leaseSeconds: leases, now: t0 + 59) == nil)
            guard
                case .heldElsewhere(let held) = try store.leaseDelivery(
                    asset: asset, provider: runway, owner: "b", leaseSeconds: 60, now: t0 + 30)
            else {
                Issue.record("b leased a job a holds")
                return
            }
            #expect(held.leaseOwner == "a")
        }
    }

    @Test(arguments: Backend.available) func anExpiredLeaseIsTakenOverAndTheOldOwnerCannotRecordAFailure(
        _ backend: Backend
    ) throws {
        try withAsset(backend) { store, asset in
            _ = try store.enqueueDelivery(asset: asset, provider: runway, retryNow: false, now: t0)
            _ = try store.leaseNextDelivery(owner: "dead", leaseSeconds: [runway: 60], now: t0)
            let taken = try #require(try store.leaseNextDelivery(owner: "b", leaseSeconds: [runway: 60], now: t0 + 60))
            #expect(taken.leaseOwner == "b" && taken.attempts == 2)
            #expect(!(try store.failDelivery(asset: asset, provider: runway, owner: "dead", error: "x", retryAt: nil)))
            #expect(try store.delivery(asset: asset, provider: runway)?.state == .delivering)
            // Expiring an owner's leases (its process is gone) makes them due at once.
            #expect(try store.deliveryLeaseOwners() == ["b"])
            #expect(try store.expireLeases(owner: "b", now: t0 + 61) == 1)
            #expect(try store.leaseNextDelivery(owner: "c", leaseSeconds: [runway: 60], now: t0 + 61)?.attempts == 3)
        }
    }

    @Test(arguments: Backend.available) func successRecordsTheProviderUploadInTheSameTransaction(_ backend: Backend)
        throws
    {
        try withAsset(backend) { store, asset in
            _ = try store.enqueueDelivery(asset: asset, provider: runway, retryNow: false, now: t0)
            _ = try store.leaseNextDelivery(owner: "a", leaseSeconds: [runway: 60], now: t0)
            #expect(try store.completeDelivery(asset: asset, provider: runway, providerAssetID: "r-1", now: t0 + 1))
            let done = try #require(try store.delivery(asset: asset, provider: runway))
            #expect(done.state == .delivered && done.leaseOwner == nil && done.updatedAt == Timestamp.string(t0 + 1))
            #expect(try store.providerAssetID(of: asset, on: runway) == "r-1")
            #expect(try store.leaseNextDelivery(owner: "a", leaseSeconds: [runway: 60], now: t0 + 999) == nil)
            // A second record keeps the first id.
            #expect(!(try store.completeDelivery(asset: asset, provider: runway, providerAssetID: "r-2")))
            #expect(try store.providerAssetID(of: asset, on: runway) == "r-1")
        }
    }

    @Test(arguments: Backend.available) func aRetryableFailureIsQueuedAgainAfterItsBackoff(_ backend: Backend) throws {
        try withAsset(backend) { store, asset in
            _ = try store.enqueueDelivery(asset: asset, provider: runway, retryNow: false, now: t0)
            _ = try store.leaseNextDelivery(owner: "a", leaseSeconds: [runway: 60], now: t0)
            #expect(
                try store.failDelivery(
                    asset: asset, provider: runway, owner: "a", error: "HTTP 503", retryAt: t0 + 4, now: t0 + 1))
            let queued = try #require(try store.delivery(asset: asset, provider: runway))
            #expect(queued.state == .queued && queued.attempts == 1 && queued.lastError == "HTTP 503")
            #expect(queued.nextAttemptAt == Timestamp.string(t0 + 4) && queued.leaseOwner == nil)
            #expect(try store.leaseNextDelivery(owner: "a", leaseSeconds: [runway: 60], now: t0 + 3.9) == nil)
            let again = try #require(try store.leaseNextDelivery(owner: "a", leaseSeconds: [runway: 60], now: t0 + 4))
            #expect(again.attempts == 2 && again.idempotencyKey == queued.idempotencyKey)
        }
    }

    @Test(arguments: Backend.available) func aNonRetryableFailureStaysFailedUntilQueuedAgain(_ backend: Backend) throws
    {
        try withAsset(backend) { store, asset in
            let job = try #require(pending(try store.enqueueDelivery(asset: asset, provider: runway, retryNow: false, now: t0)))
            _ = try store.leaseNextDelivery(owner: "a", leaseSeconds: [runway: 60], now: t0)
            try store.failDelivery(asset: asset, provider: runway, owner: "a", error: "HTTP 400", retryAt: nil, now: t0)
            #expect(try store.delivery(asset: asset, provider: runway)?.state == .failed)
            #expect(try store.leaseNextDelivery(owner: "a", leaseSeconds: [runway: 60], now: t0 + 9999) == nil)
            // A later upload (or POST /assets/{id}/providers) queues it again, due at once, same key.
            let requeued = try #require(
                pending(try store.enqueueDelivery(asset: asset, provider: runway, retryNow: false, now: t0 + 100)))
            #expect(requeued.state == .queued && requeued.nextAttemptAt == Timestamp.string(t0 + 100))
            #expect(requeued.idempotencyKey == job.idempotencyKey && requeued.lastError == "HTTP 400")
            #expect(try store.leaseNextDelivery(owner: "a", leaseSeconds: [runway: 60], now: t0 + 100)?.attempts == 2)
        }
    }
}
