import AssetDedupCore
import StoreProtocols
import Delivery
import Foundation

/// How a request waits for the delivery it enqueued: on the hub's condition, woken by the
/// workers whenever a job changes state, never by polling sleeps. A change made by another
/// process (`sync`, another node) does not wake it, so the row is also re-read once a second.
struct DeliveryWaiter {
    let store: any APIStore
    let hub: DeliveryHub
    /// The longest sleep between two reads when nothing in this process wakes us.
    var recheckSeconds: Double = 1

    /// The job once it settled after `start` (delivered, failed, or an attempt failed and it
    /// was queued again), or nil when `deadline` (or the hub's drain deadline) came first.
    func wait(for start: Delivery, until deadline: Date) throws -> Delivery? {
        while true {
            let generation = hub.changeGeneration
            if let current = try store.delivery(asset: start.assetID, provider: start.providerID),
                Self.settled(current, since: start)
            {
                return current
            }
            let now = Date()
            let limit = min(deadline, hub.drainDeadline ?? deadline)
            if now >= limit { return nil }
            hub.waitForChange(after: generation, until: min(limit, now.addingTimeInterval(recheckSeconds)))
        }
    }

    /// Whether `current` answers a request that saw `start`: delivered and failed always do; a
    /// queued job does when an attempt ended since (more attempts, or `start` was in flight).
    static func settled(_ current: Delivery, since start: Delivery) -> Bool {
        switch current.state {
        case .delivered, .failed: true
        case .delivering: false
        case .queued: current.lastError != nil && (current.attempts > start.attempts || start.state == .delivering)
        }
    }
}
