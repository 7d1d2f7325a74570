// Near-duplicate search latency: NearDuplicateIndex.query against a popcount scan over the same
// hashes, same run, at 10k / 100k / 1M hashes; and the cost of hashing a 12 MP luminance plane.
// Not a test: prints figures, asserts nothing. usage: PerceptualHashBench [queries] [maxDistance]
import PerceptualHash

/// SplitMix64, so every run measures the same hashes.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

let arguments = CommandLine.arguments.dropFirst()
let queries = arguments.first.flatMap { Int($0) } ?? 2000
let maxDistance = arguments.dropFirst().first.flatMap { Int($0) } ?? PerceptualHash64.defaultThreshold
let clock = ContinuousClock()

func micros(_ d: Duration) -> Double {
    Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12
}

func percentiles(_ samples: [Double]) -> (p50: Double, p99: Double) {
    let s = samples.sorted()
    return (s[s.count / 2], s[min(s.count - 1, s.count * 99 / 100)])
}

func pad(_ s: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - s.count)) + s }
func fmt(_ x: Double) -> String {
    let r = (x * 10).rounded() / 10
    return "\(r)"
}

print("queries per size: \(queries), maxDistance: \(maxDistance); latencies in microseconds")
print("| hashes | index p50 | index p99 | scan p50 | scan p99 | p50 ratio | p99 ratio | hits/query |")
print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
var rng = SplitMix64(state: 14)
var sink = 0
for size in [10_000, 100_000, 1_000_000] {
    // Uniform random hashes: the buckets' worst realistic case is skew, which this does not show;
    // a tenth are near copies of another (1-8 bits away) so queries find something.
    var index = NearDuplicateIndex()
    var stored: [UInt64] = []
    stored.reserveCapacity(size)
    for id in 0..<size {
        var hash = rng.next()
        if id % 10 == 1 {
            hash = stored[Int(rng.next() % UInt64(stored.count))]
            for _ in 0..<(1 + Int(rng.next() % 8)) { hash ^= 1 << (rng.next() % 64) }
        }
        stored.append(hash)
        index.insert(id: Int64(id), hash: hash)
    }
    let probes = (0..<queries).map { _ in
        var hash = stored[Int(rng.next() % UInt64(size))]
        for _ in 0..<Int(rng.next() % 6) { hash ^= 1 << (rng.next() % 64) }
        return hash
    }
    var indexTimes: [Double] = []
    var scanTimes: [Double] = []
    var hits = 0
    for probe in probes {
        var found = 0
        indexTimes.append(micros(clock.measure { found = index.query(probe, maxDistance: maxDistance).count }))
        hits += found
        scanTimes.append(micros(clock.measure { sink &+= index.scan(probe, maxDistance: maxDistance).count }))
    }
    let i = percentiles(indexTimes)
    let s = percentiles(scanTimes)
    let cells = [
        "\(size)", fmt(i.p50), fmt(i.p99), fmt(s.p50), fmt(s.p99), fmt(s.p50 / i.p50), fmt(s.p99 / i.p99),
        fmt(Double(hits) / Double(queries)),
    ]
    print("| " + cells.map { pad($0, 9) }.joined(separator: " | ") + " |")
}

// Hashing cost once pixels are decoded: a 4000x3000 8-bit plane (12 MP), best of 5.
let width = 4000
let height = 3000
let plane = (0..<(width * height)).map { i in UInt8(truncatingIfNeeded: (i % width) &* 7 &+ (i / width) &* 3) }
var best = Double.infinity
for _ in 0..<5 {
    var hash = PerceptualHash64(bits: 0)
    let t = micros(clock.measure { hash = try! PerceptualHash64(luminance: plane, width: width, height: height) })
    sink &+= Int(hash.bits & 1)
    best = min(best, t)
}
print("hash of a 12 MP luminance plane (area resample + DCT): \(fmt(best / 1000)) ms, best of 5")
if sink == -1 { print(sink) }
