import Synchronization

/// A counter (or gauge) cell shared by threads: one relaxed atomic add per event, no lock.
public final class Counter: Sendable {
    private let value = Atomic<Int>(0)

    public init() {}

    public func add(_ amount: Int = 1) { value.add(amount, ordering: .relaxed) }
    public func subtract(_ amount: Int = 1) { value.subtract(amount, ordering: .relaxed) }
    public var current: Int { value.load(ordering: .relaxed) }
}

/// What a histogram held when it was read: per-bucket (not cumulative) counts, the last one
/// for observations above every bound, and the sum of all observations.
public struct HistogramSnapshot: Sendable, Equatable {
    public let bounds: [Double]
    /// `bounds.count + 1` counts: one per bound, then the overflow (`+Inf` only).
    public let counts: [Int]
    public let sum: Double

    public init(bounds: [Double], counts: [Int], sum: Double) {
        self.bounds = bounds
        self.counts = counts
        self.sum = sum
    }
}

/// A latency histogram in fixed buckets: an observation is two atomic adds (its bucket and the
/// sum in nanoseconds). The count is the sum of the buckets, so `_count` always equals `+Inf`.
public final class Histogram: Sendable {
    public let bounds: [Double]
    private let boundNanoseconds: [Int]
    private let buckets: [Counter]
    private let sumNanoseconds = Atomic<Int>(0)

    /// `bounds` in seconds, ascending.
    public init(bounds: [Double]) {
        self.bounds = bounds
        self.boundNanoseconds = bounds.map { Int(($0 * 1e9).rounded()) }
        self.buckets = (0...bounds.count).map { _ in Counter() }
    }

    public func observe(nanoseconds: Int) {
        var index = 0
        while index < boundNanoseconds.count, nanoseconds > boundNanoseconds[index] { index += 1 }
        buckets[index].add()
        sumNanoseconds.add(nanoseconds, ordering: .relaxed)
    }

    public func observe(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        observe(nanoseconds: Int(seconds) &* 1_000_000_000 &+ Int(attoseconds / 1_000_000_000))
    }

    public var snapshot: HistogramSnapshot {
        HistogramSnapshot(
            bounds: bounds, counts: buckets.map(\.current),
            sum: Double(sumNanoseconds.load(ordering: .relaxed)) / 1e9)
    }
}
