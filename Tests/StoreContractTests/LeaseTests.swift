import SQLiteStore
import Foundation
import PostgresTestSupport
import Testing

/// Named leases (migration 10): one holder across processes and nodes, renewable, expiring.
@Suite struct LeaseTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test(arguments: Backend.available) func aFreeLeaseIsTakenAndAHeldOneIsRefused(_ backend: Backend) throws {
        try withStore(backend) { t in
            let store = t.store
            let first = try store.acquireLease(name: "sync:runway", owner: "a", seconds: 60, now: start)
            #expect(first.owner == "a")
            // Another connection, as another process or node would have.
            let other = try t.connect()
            let refused = try other.acquireLease(name: "sync:runway", owner: "b", seconds: 60, now: start + 30)
            #expect(refused == first)
            // Another name is independent.
            #expect(try other.acquireLease(name: "sync:s3", owner: "b", seconds: 60, now: start).owner == "b")
        }
    }

    @Test(arguments: Backend.available) func renewingMovesTheExpiryAndExpiryFreesIt(_ backend: Backend) throws {
        try withStore(backend) { t in
            let store = t.store
            _ = try store.acquireLease(name: "sync:runway", owner: "a", seconds: 60, now: start)
            let renewed = try store.acquireLease(name: "sync:runway", owner: "a", seconds: 60, now: start + 50)
            #expect(renewed.expiresAt == Timestamp.string(start + 110))
            // Still held just before the renewed expiry, taken over at it.
            #expect(try store.acquireLease(name: "sync:runway", owner: "b", seconds: 60, now: start + 109).owner == "a")
            #expect(try store.acquireLease(name: "sync:runway", owner: "b", seconds: 60, now: start + 110).owner == "b")
        }
    }

    @Test(arguments: Backend.available) func onlyTheHolderReleases(_ backend: Backend) throws {
        try withStore(backend) { t in
            let store = t.store
            _ = try store.acquireLease(name: "sync:runway", owner: "a", seconds: 60, now: start)
            #expect(try store.releaseLease(name: "sync:runway", owner: "b") == false)
            #expect(try store.acquireLease(name: "sync:runway", owner: "b", seconds: 60, now: start).owner == "a")
            #expect(try store.releaseLease(name: "sync:runway", owner: "a"))
            #expect(try store.acquireLease(name: "sync:runway", owner: "b", seconds: 60, now: start).owner == "b")
        }
    }
}
