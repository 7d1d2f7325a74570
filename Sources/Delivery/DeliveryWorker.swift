import StoreProtocols
import Foundation
import Logging

/// One delivery worker: a plain thread with its own SQLite connection that leases the next due
/// job (`BEGIN IMMEDIATE`), sends it and records the outcome, then looks again. It sleeps on
/// the hub until a request enqueues, and wakes every `pollInterval` for jobs enqueued by other
/// processes, retries that came due and leases that ran out.
final class DeliveryWorker: Sendable {
    let owner: LeaseOwner
    let runner: DeliveryRunner
    let pollInterval: Double
    /// How often leases of dead processes on this host are looked for.
    let reclaimInterval: Double = 5

    init(owner: LeaseOwner, runner: DeliveryRunner, pollInterval: Double) {
        self.owner = owner
        self.runner = runner
        self.pollInterval = pollInterval
    }

    /// Runs until the hub stops; `store` belongs to this thread alone.
    func run(store: any DeliveryStore) {
        let hub = runner.hub
        let leaseSeconds = runner.leaseSeconds
        let ownerText = owner.description
        var seen = hub.workSignal
        var lastReclaim = Date.distantPast
        while !hub.isStopped {
            do {
                if -lastReclaim.timeIntervalSinceNow >= reclaimInterval {
                    lastReclaim = Date()
                    for ended in try LeaseOwner.expireLeasesOfDeadProcesses(in: store) {
                        runner.logger.notice("taking over the deliveries of \(ended), which is no longer running")
                    }
                }
                if let job = try store.leaseNextDelivery(owner: ownerText, leaseSeconds: leaseSeconds) {
                    hub.changed()
                    runner.run(job, owner: ownerText, store: store)
                    continue
                }
            } catch {
                runner.logger.warning("delivery worker \(owner.role): \(error)")
            }
            hub.waitForWork(seen: &seen, timeout: pollInterval)
        }
    }
}
