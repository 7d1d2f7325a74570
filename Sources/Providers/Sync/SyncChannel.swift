import Foundation

/// Hands items from the job's thread to upload threads and results back.
///
/// `@unchecked Sendable` is safe: every stored property is read and written only while
/// `condition` is locked, and the items and outcomes passed through are `Sendable` values.
final class SyncChannel: @unchecked Sendable {
    private let condition = NSCondition()
    private var work: [SyncItem] = []
    private var results: [(SyncItem, SyncOutcome)] = []
    private var closed = false

    func putWork(_ item: SyncItem) {
        condition.withLock {
            work.append(item)
            condition.broadcast()
        }
    }

    /// The next item, or nil once closed: the worker thread then ends.
    func takeWork() -> SyncItem? {
        condition.withLock {
            while work.isEmpty && !closed { condition.wait() }
            return closed ? nil : work.removeFirst()
        }
    }

    func putResult(_ item: SyncItem, _ outcome: SyncOutcome) {
        condition.withLock {
            results.append((item, outcome))
            condition.broadcast()
        }
    }

    /// The oldest result, or nil after `seconds` with none.
    func takeResult(waitingAtMost seconds: Double) -> (SyncItem, SyncOutcome)? {
        condition.withLock {
            let deadline = Date(timeIntervalSinceNow: seconds)
            while results.isEmpty {
                if !condition.wait(until: deadline) { break }
            }
            return results.isEmpty ? nil : results.removeFirst()
        }
    }

    /// Stops the workers after their current item; queued work is dropped.
    func close() {
        condition.withLock {
            closed = true
            work.removeAll()
            condition.broadcast()
        }
    }
}
