/// When a delivery whose attempt failed retryably is tried again: exponential in the attempts
/// made, capped. The adapter's own retries (`RetryPolicy`) run inside each attempt; this spaces
/// the attempts themselves.
public struct DeliveryBackoff: Sendable, Equatable {
    public var initial: Double
    public var maximum: Double

    public init(initial: Double = 2, maximum: Double = 600) {
        self.initial = initial
        self.maximum = maximum
    }

    /// Seconds to wait after `attempts` attempts (1 -> initial, 2 -> 2x initial, ...).
    public func delay(afterAttempts attempts: Int) -> Double {
        let exponent = Double(min(max(attempts - 1, 0), 30))
        return min(maximum, initial * pow(2, exponent))
    }
}

#if canImport(Glibc)
    import Glibc
#else
    import Foundation
#endif
