// The ceiling for the browser kernel: the same Swift SHA-256 (Sources/SHA256Kernel) compiled
// natively with -Ounchecked, hashing one 4 MiB buffer over and over, timed by the CPU time this
// process used (other load on the machine skews that less than wall time).
// Built and run by scripts/bench_browser_hash.py; prints "<MB per CPU second> <digest byte>".
import Glibc

@main
struct NativeKernelBench {
    static func main() {
        let mebibytes = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 256 : 256
        let chunk = 4 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 64)
        defer { buffer.deallocate() }
        var state: UInt64 = 0x9e37_79b9_7f4a_7c15
        for i in 0..<chunk {  // xorshift bytes: the data does not change SHA-256's speed
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            buffer[i] = UInt8(truncatingIfNeeded: state)
        }
        var best = 0.0
        var digest = [UInt8](repeating: 0, count: 32)
        for _ in 0..<3 {
            let start = cpuSeconds()
            var hasher = SHA256Hasher()
            for _ in 0..<(mebibytes / 4) { hasher.update(UnsafeRawBufferPointer(buffer)) }
            digest.withUnsafeMutableBytes { hasher.finalize(into: $0.baseAddress!) }
            best = max(best, Double(mebibytes << 20) / 1e6 / (cpuSeconds() - start))
        }
        // The digest byte keeps the optimiser from dropping the work.
        print(Int(best.rounded()), digest[0])
    }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
    }
}
