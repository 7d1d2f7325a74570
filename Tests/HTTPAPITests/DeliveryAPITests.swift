import AssetDedupCore
import SQLiteStore
import BlobStore
import Delivery
import Foundation
import HTTPAPI
import Logging
import Providers
import Synchronization
import PostgresTestSupport
import Testing

/// Uploads and `POST /assets/{id}/providers` going through the delivery queue.
@Suite struct DeliveryAPITests {
    let runway = try! ProviderID(parsing: "runway")
    let pixverse = try! ProviderID(parsing: "pixverse")

    func upload(_ h: APIHarness, _ file: [UInt8], to provider: String, headers: [String: String] = [:]) -> (
        Int, [String: Any]
    ) {
        let body = APIHarness.multipart(boundary: "B", fields: [("provider_id", provider)], file: file)
        return h.send(
            "POST", "/api/v1/assets/upload",
            headers: headers.merging(["content-type": "multipart/form-data; boundary=B"]) { $1 }, body: body)
    }

    /// A pool of delivery workers on the harness's database, stopped when `body` ends.
    func withWorkers<T>(_ h: APIHarness, hub: DeliveryHub, _ body: () throws -> T) throws -> T {
        let stores = h.stores
        let pool = try DeliveryPool(
            count: 2,
            runner: DeliveryRunner(
                providers: .defaults(dataDirectory: h.dir + "/data"),
                blobs: try BlobStore(dataDirectory: h.dir + "/data"), hub: hub,
                logger: Logger(label: "test")),
            openStore: { try stores.connect() })
        pool.start()
        defer { #expect(pool.stop(waitingAtMost: 10)) }
        return try body()
    }

    /// The asset of an upload's answer, with its runway delivery leased by another sender (a
    /// sync on another host), as several tests start.
    func leasedElsewhere(_ h: APIHarness, _ answer: [String: Any]) throws -> AssetID {
        let asset = AssetID(Int64(try #require(answer["asset_id"] as? Int)))
        let outcome = try h.store.leaseDelivery(
            asset: asset, provider: runway, owner: "sync-runway otherhost pid 1 ab", leaseSeconds: 600)
        guard case .leased = outcome else { throw LeaseRefused(outcome: "\(outcome)") }
        return asset
    }

    struct LeaseRefused: Error { let outcome: String }

    @Test func aDeliveryLeasedElsewhereIsNotSentTwiceAndAnswers202AfterTheWait() throws {
        var limits = APILimits()
        limits.deliveryWaitSeconds = 0.3
        let h = try APIHarness(limits: limits)
        let file = Array("leased by a sync".utf8)
        let (created, first) = upload(h, file, to: "pixverse")
        #expect(created == 201)
        let asset = try leasedElsewhere(h, first)

        let (status, json) = upload(h, file, to: "runway")
        #expect(status == 202)
        #expect(json["status"] as? String == "queued")
        #expect(json["note"] as? String == "Queued for delivery to runway")
        let deliveries = try #require(json["deliveries"] as? [String: [String: Any]])
        #expect(deliveries["runway"]?["state"] as? String == "delivering")
        #expect(deliveries["pixverse"]?["state"] as? String == "delivered")
        // Nothing sent, nothing recorded, the lease still the sync's, the asset kept.
        #expect(try h.store.providerAssetID(of: asset, on: runway) == nil)
        #expect(try h.store.delivery(asset: asset, provider: runway)?.leaseOwner == "sync-runway otherhost pid 1 ab")
        #expect(try h.store.delivery(asset: asset, provider: runway)?.attempts == 1)

        // The sync finishes: the next upload is a reuse with the sync's id.
        try h.store.completeDelivery(asset: asset, provider: runway, providerAssetID: "r-9")
        let (again, reused) = upload(h, file, to: "runway")
        #expect(again == 200)
        #expect(reused["status"] as? String == "reused" && reused["provider_asset_id"] as? String == "r-9")
    }

    @Test func aStoppingServerAnswersWaitingUploadsWithinItsGrace() throws {
        let hub = DeliveryHub(serveThreads: 8)
        var limits = APILimits()
        limits.deliveryWaitSeconds = 600
        let h = try APIHarness(limits: limits, deliveries: hub)
        let file = Array("stopping".utf8)
        let (_, first) = upload(h, file, to: "pixverse")
        _ = try leasedElsewhere(h, first)
        let call = UnsafeTransfer((h, self))
        let answered = DispatchSemaphore(value: 0)
        let result = Mutex<(Int, String?)>((0, nil))
        Thread {
            let (h, test) = call.value
            let (status, json) = test.upload(h, file, to: "runway")
            result.withLock { $0 = (status, json["status"] as? String) }
            answered.signal()
        }.start()
        // The event, not a guess: admitting the upload as a waiter wakes us.
        #expect(hub.waitForWaiters(atLeast: 1, until: Date().addingTimeInterval(60)))
        #expect(hub.waiterCount == 1)
        hub.drain(by: Date())  // SIGTERM: answer now rather than be cut off at the grace
        // Generous: a drain that did not wake it would take the 600 s wait.
        #expect(answered.wait(timeout: .now() + 60) == .success)
        #expect(result.withLock { $0 } == (202, "queued"))
    }

    @Test func aWaitingUploadAnswersOnceTheOtherSenderRecords() throws {
        let hub = DeliveryHub(serveThreads: 8)
        let h = try APIHarness(deliveries: hub)
        let file = Array("recorded while waiting".utf8)
        let (_, first) = upload(h, file, to: "pixverse")
        let asset = try leasedElsewhere(h, first)
        // The "sync": another connection records the upload once the upload waits for it
        // (nothing in this process wakes the waiter: it finds the row on its own re-read).
        let (stores, runway) = (UnsafeTransfer(h.stores), self.runway)
        let recorder = Thread {
            _ = hub.waitForWaiters(atLeast: 1, until: Date().addingTimeInterval(60))
            let other = try? stores.value.connect()
            _ = try? other?.completeDelivery(asset: asset, provider: runway, providerAssetID: "r-sync")
        }
        recorder.start()
        let (status, json) = upload(h, file, to: "runway")
        #expect(status == 200)
        #expect(json["status"] as? String == "added_provider" && json["provider_asset_id"] as? String == "r-sync")
        #expect(try h.store.delivery(asset: asset, provider: runway)?.state == .delivered)
    }

    @Test func preferRespondAsyncAnswers202AtOnceAndWorkersDeliver() throws {
        let hub = DeliveryHub(serveThreads: 8)
        let h = try APIHarness(deliveries: hub)
        let file = Array("queued at once".utf8)
        // No workers yet: the answer cannot be anything but queued.
        let (status, json) = upload(h, file, to: "pixverse", headers: ["prefer": "wait=10, respond-async"])
        #expect(status == 202)
        #expect(json["status"] as? String == "queued")
        let id = try #require(json["asset_id"] as? Int)
        let (_, view) = h.send("GET", "/api/v1/assets/\(id)")
        let deliveries = try #require(view["deliveries"] as? [String: [String: Any]])
        #expect(deliveries["pixverse"]?["state"] as? String == "queued")
        #expect(deliveries["pixverse"]?["attempts"] as? Int == 0)

        try withWorkers(h, hub: hub) {
            // The workers find the queued job on their own (no request wakes them).
            let asset = AssetID(Int64(id))
            // Woken by the workers' change signal; the deadline only ends a regression.
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                let generation = hub.changeGeneration
                if try h.store.delivery(asset: asset, provider: pixverse)?.state == .delivered { break }
                hub.waitForChange(after: generation, until: deadline)
            }
            let (_, after) = h.send("GET", "/api/v1/assets/\(id)")
            let delivered = try #require(after["deliveries"] as? [String: [String: Any]])
            #expect(delivered["pixverse"]?["state"] as? String == "delivered")
            #expect(delivered["pixverse"]?["attempts"] as? Int == 1)
            // Without Prefer, an upload waits for the workers and answers like the seed system.
            let (again, body) = upload(h, file, to: "runway")
            #expect(again == 200)
            #expect(body["status"] as? String == "added_provider")
            #expect((body["provider_asset_id"] as? String)?.hasSuffix(hex(file)) == true)
            let (created, fresh) = upload(h, Array("a new file".utf8), to: "runway")
            #expect(created == 201 && fresh["status"] as? String == "created")
        }
    }

    @Test func addProviderDeliversHeldContentToAnotherProvider() throws {
        let hub = DeliveryHub(serveThreads: 8)
        let h = try APIHarness(deliveries: hub)
        let file = Array("held by the server".utf8)
        let (_, first) = upload(h, file, to: "pixverse")
        let id = try #require(first["asset_id"] as? Int)
        try withWorkers(h, hub: hub) {
            let (status, json) = h.send(
                "POST", "/api/v1/assets/\(id)/providers", json: #"{"provider_id": "runway"}"#)
            #expect(status == 200)
            #expect(json["status"] as? String == "added_provider")
            #expect(json["uploaded_to_providers"] as? [String] == ["pixverse", "runway"])
            let copy = h.dir + "/data/providers/runway/" + hex(file).prefix(2) + "/" + hex(file)
            #expect(FileManager.default.contents(atPath: copy) == Data(file))
            let (again, reused) = h.send(
                "POST", "/api/v1/assets/\(id)/providers", json: #"{"provider_id": "runway"}"#)
            #expect(again == 200 && reused["status"] as? String == "reused")
        }
        // Someone else's or a missing asset: the same 404; unknown provider 422; other methods 405.
        let other = try h.store.addUser(name: "bob")
        let bobsToken = try h.store.issueToken(for: other.id).secret
        let (bobs, bobsBody) = h.send(
            "POST", "/api/v1/assets/\(id)/providers", json: #"{"provider_id": "runway"}"#,
            headers: ["authorization": "Bearer \(bobsToken)"])
        let (missing, missingBody) = h.send(
            "POST", "/api/v1/assets/999999/providers", json: #"{"provider_id": "runway"}"#)
        #expect(bobs == 404 && missing == 404)
        #expect((bobsBody as NSDictionary) == (missingBody as NSDictionary))
        #expect(h.send("POST", "/api/v1/assets/\(id)/providers", json: #"{"provider_id": "s3"}"#).0 == 422)
        #expect(h.send("POST", "/api/v1/assets/\(id)/providers", json: #"{}"#).0 == 400)
        #expect(h.send("GET", "/api/v1/assets/\(id)/providers").0 == 405)
        #expect(h.send("GET", "/api/v1/assets/\(id)").0 == 200)
    }

    @Test func atMostHalfOfTheServeThreadsMayWait() {
        let hub = DeliveryHub(serveThreads: 8)
        #expect((0..<5).map { _ in hub.admitWaiter() } == [true, true, true, true, false])
        hub.leaveWaiter()
        #expect(hub.admitWaiter())
        #expect(!hub.admitWaiter())
        let single = DeliveryHub(serveThreads: 1)
        #expect(single.admitWaiter() && !single.admitWaiter())
    }

    @Test func leaseOwnersOfDeadProcessesOnThisHostAreRecognised() {
        let me = LeaseOwner(role: "serve/1")
        #expect(LeaseOwner(parsing: me.description) == me)
        #expect(!me.isDeadProcessOnThisHost)
        #expect(LeaseOwner(role: "api", host: me.host, pid: me.pid, nonce: "earlier").isDeadProcessOnThisHost)
        #expect(LeaseOwner(role: "api", host: me.host, pid: Int32.max - 1, nonce: "n").isDeadProcessOnThisHost)
        #expect(!LeaseOwner(role: "api", host: "elsewhere", pid: Int32.max - 1, nonce: "n").isDeadProcessOnThisHost)
        #expect(LeaseOwner(parsing: "sync pid 1") == nil)
    }
}

/// Hands test values to a thread the test joins before it ends.
///
/// `@unchecked Sendable` is safe: the test thread does not touch the value while the other
/// thread uses it (it only waits on a semaphore) and joins it before returning.
struct UnsafeTransfer<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
