/// When to try an upload again: exponential backoff with jitter, `Retry-After` honoured up to
/// a cap, and an overall budget so that a worker thread is never held past it.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts in all, the first included (1 = never retry).
    public var maxAttempts: Int
    /// The wait before the second attempt; doubles with each further one.
    public var initialDelay: Double
    public var maxDelay: Double
    /// A server's `Retry-After` is followed up to this many seconds.
    public var retryAfterCap: Double
    /// No attempt starts, and no wait begins, past this many seconds after the first one.
    public var budget: Double

    public init(
        maxAttempts: Int = 4, initialDelay: Double = 0.5, maxDelay: Double = 30, retryAfterCap: Double = 60,
        budget: Double = 900
    ) {
        self.maxAttempts = maxAttempts
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.retryAfterCap = retryAfterCap
        self.budget = budget
    }

    /// Seconds to wait after failed attempt number `attempt` (1-based).
    ///
    /// With `Retry-After` the server's word wins (capped); otherwise "equal jitter": half the
    /// exponential step for sure plus a random part of the other half, so clients that failed
    /// together spread out but never retry immediately. `unit` is a random number in 0...1.
    public func delay(afterAttempt attempt: Int, retryAfter: Double?, unit: Double = Double.random(in: 0...1)) -> Double
    {
        if let retryAfter, retryAfter >= 0 { return min(retryAfter, retryAfterCap) }
        let step = min(maxDelay, initialDelay * Double(1 << min(max(attempt - 1, 0), 30)))
        return step / 2 + step / 2 * min(max(unit, 0), 1)
    }
}
