#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How `writeTransaction` runs a transaction again after a serialisation failure or deadlock.
///
/// The delay doubles from `baseDelay` up to `maxDelay`, each drawn between half and all of
/// that ceiling so that two writers that collided do not collide again in step. `sleep` is
/// injectable: tests check the delays as values.
public struct TransactionRetryPolicy: Sendable {
    /// Tries in all, the first included; the last failure is thrown (transient: 503).
    public var attempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration
    public var sleep: @Sendable (Duration) -> Void

    public init(
        attempts: Int = 10, baseDelay: Duration = .milliseconds(2), maxDelay: Duration = .milliseconds(100),
        sleep: @escaping @Sendable (Duration) -> Void = TransactionRetryPolicy.threadSleep
    ) {
        self.attempts = attempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.sleep = sleep
    }

    /// The wait after failed attempt `attempt` (1-based); `jitter` is uniform in 0..<1.
    public func delay(afterAttempt attempt: Int, jitter: Double) -> Duration {
        var ceiling = baseDelay
        for _ in 1..<max(attempt, 1) where ceiling < maxDelay { ceiling *= 2 }
        ceiling = min(ceiling, maxDelay)
        return ceiling * (0.5 + 0.5 * jitter)
    }

    /// Blocks the calling worker thread (the connection is blocking anyway).
    public static let threadSleep: @Sendable (Duration) -> Void = { duration in
        let (seconds, attoseconds) = duration.components
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) == -1 && errno == EINTR { request = remaining }
    }
}
