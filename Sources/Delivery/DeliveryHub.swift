import Foundation
import Synchronization

/// In-process wakeups between request threads and delivery workers, plus the admission
/// counter that keeps a hanging provider from holding more than half of serve's threads.
///
/// `@unchecked Sendable` is safe: `workSignals`, `generation` and `stopped` are read and written
/// only while their `NSCondition` is locked; `waiting` and `workers` are atomics.
public final class DeliveryHub: @unchecked Sendable {
    /// How many request threads the server runs; at most half of them may wait for a delivery.
    public let serveThreads: Int
    private let waiting = Atomic<Int>(0)
    private let workers = Atomic<Int>(0)
    private let work = NSCondition()
    private var workSignals = 0
    private var stopped = false
    private let changes = NSCondition()
    private var generation: UInt64 = 0
    private var drainBy: Date?
    private let admissions = NSCondition()

    public init(serveThreads: Int = 8) {
        self.serveThreads = max(1, serveThreads)
    }

    // MARK: Workers

    /// Delivery workers running in this process; with none, a request delivers its job itself.
    public var workerCount: Int { workers.load(ordering: .relaxed) }
    func workerStarted() { workers.add(1, ordering: .relaxed) }
    func workerStopped() { workers.subtract(1, ordering: .relaxed) }

    /// A job was enqueued in this process: wake a worker at once instead of at its next poll.
    public func enqueued() {
        work.withLock {
            workSignals &+= 1
            work.broadcast()
        }
    }

    /// The current work signal count, to pass to `waitForWork`.
    var workSignal: Int { work.withLock { workSignals } }

    /// Sleeps until `enqueued` is called after `seen`, the hub stops, or `timeout` passes.
    func waitForWork(seen: inout Int, timeout: Double) {
        work.withLock {
            let deadline = Date(timeIntervalSinceNow: timeout)
            while workSignals == seen && !stopped {
                if !work.wait(until: deadline) { break }
            }
            seen = workSignals
        }
    }

    /// Stops the workers after their current job.
    public func stop() {
        work.withLock {
            stopped = true
            work.broadcast()
        }
        changed()
    }

    public var isStopped: Bool { work.withLock { stopped } }

    // MARK: Waiters

    /// A job changed state in this process: wake every request thread waiting for one.
    public func changed() {
        changes.withLock {
            generation &+= 1
            changes.broadcast()
        }
    }

    /// The change count, read before looking at the database, to pass to `waitForChange`.
    public var changeGeneration: UInt64 { changes.withLock { generation } }

    /// The server is stopping: waiting requests answer (202 when not delivered) by `date`, so
    /// they finish within the server's grace instead of being cut off.
    public func drain(by date: Date) {
        changes.withLock {
            drainBy = date
            generation &+= 1
            changes.broadcast()
        }
    }

    /// When waiting requests must answer by, if the server is stopping.
    public var drainDeadline: Date? { changes.withLock { drainBy } }

    /// Sleeps until `changed` is called after `seen` was read, or `deadline` passes.
    public func waitForChange(after seen: UInt64, until deadline: Date) {
        changes.withLock {
            while generation == seen {
                if !changes.wait(until: deadline) { break }
            }
        }
    }

    /// Admits one more request thread to wait for a delivery while fewer than half of the
    /// server's threads are waiting already; false means answer 202 at once.
    public func admitWaiter() -> Bool {
        var current = waiting.load(ordering: .relaxed)
        while current * 2 < serveThreads {
            let (exchanged, original) = waiting.compareExchange(
                expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
            if exchanged {
                admissions.withLock { admissions.broadcast() }
                return true
            }
            current = original
        }
        return false
    }

    /// Ends a wait `admitWaiter` allowed.
    public func leaveWaiter() { waiting.subtract(1, ordering: .acquiringAndReleasing) }

    /// Request threads waiting right now (for tests and logs).
    public var waiterCount: Int { waiting.load(ordering: .relaxed) }

    /// Sleeps until at least `count` request threads wait for a delivery, or `deadline`
    /// passes; true when they do. Woken by `admitWaiter`, so a test waits on the event
    /// rather than guessing how long a request takes to get there.
    public func waitForWaiters(atLeast count: Int, until deadline: Date) -> Bool {
        admissions.withLock {
            while waiterCount < count {
                if !admissions.wait(until: deadline) { return waiterCount >= count }
            }
            return true
        }
    }
}
