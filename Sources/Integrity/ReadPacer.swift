import Foundation
import Synchronization

/// `verify --limit-rate`: keeps the bytes read at or under a rate, so a verify run leaves the
/// disk and the network to serve. A token bucket holding at most one second of reading: after
/// each piece read it waits until the bucket would have held it, so slow or idle stretches
/// buy no more than a one-second burst.
public final class ReadPacer: Sendable {
    public let bytesPerSecond: Double
    private let now: @Sendable () -> Double
    private let sleep: @Sendable (Double) -> Void
    /// When the bytes read so far are paid for (nil before the first read).
    private let paidUntil = Mutex<Double?>(nil)

    /// `now` (seconds, monotonic) and `sleep` are the real clock unless a test passes its own.
    public init(
        bytesPerSecond: Double,
        now: @escaping @Sendable () -> Double = { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 },
        sleep: @escaping @Sendable (Double) -> Void = { Thread.sleep(forTimeInterval: $0) }
    ) {
        precondition(bytesPerSecond > 0)
        self.bytesPerSecond = bytesPerSecond
        self.now = now
        self.sleep = sleep
    }

    /// Counts `count` bytes just read and waits as long as the rate asks.
    public func account(_ count: Int) {
        let current = now()
        let due = paidUntil.withLock { paid -> Double in
            let due = max(paid ?? current, current - 1) + Double(count) / bytesPerSecond
            paid = due
            return due
        }
        if due > current { sleep(due - current) }
    }
}
