import MediaFingerprinter
import PerceptualHash

// Fingerprints one file ITERATIONS times in process through MediaFingerprinter and prints the
// wall time of each run in milliseconds, one per line, then the outcome. For scripts/bench-decode,
// which times the vips and ffmpeg CLIs on the same file in the same run.
// usage: MediaFingerprintBench FILE [ITERATIONS]
#if canImport(Glibc)
    import Glibc
#endif

let arguments = Array(CommandLine.arguments.dropFirst())
guard let path = arguments.first else {
    print("usage: MediaFingerprintBench FILE [ITERATIONS]")
    exit(2)
}
let iterations = arguments.dropFirst().first.flatMap { Int($0) } ?? 5
let fingerprinter = MediaFingerprinter()
let clock = ContinuousClock()
var last = FingerprintOutcome.unavailable(reason: "not run")
for _ in 0..<iterations {
    let elapsed = clock.measure { last = fingerprinter.fingerprint(fileAt: path) }
    print(Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15)
}
print("outcome: \(last)")
