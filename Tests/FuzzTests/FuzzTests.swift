import Foundation
import FuzzTargets
import MediaFingerprinter
import PerceptualHash
import Testing

/// A small, seedable generator (SplitMix64) so a failing run can be replayed exactly.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Byte-level mutations of the kinds libFuzzer makes: flips, inserts, deletions, cuts,
/// duplicated runs, interesting bytes, and splices with another seed.
func mutate(_ input: [UInt8], other: [UInt8], using rng: inout SeededGenerator) -> [UInt8] {
    var bytes = input
    let interesting: [UInt8] = [0, 0x0a, 0x0d, 0x22, 0x2d, 0x3b, 0x3d, 0x5c, 0x7b, 0x7d, 0x7f, 0x80, 0xff]
    for _ in 0..<Int.random(in: 1...4, using: &rng) {
        let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &rng)
        switch Int.random(in: 0..<7, using: &rng) {
        case 0 where !bytes.isEmpty: bytes[position] ^= UInt8(1 << Int.random(in: 0..<8, using: &rng))
        case 1: bytes.insert(interesting.randomElement(using: &rng)!, at: position)
        case 2 where !bytes.isEmpty:
            bytes.removeSubrange(position..<min(bytes.count, position + Int.random(in: 1...16, using: &rng)))
        case 3: bytes = Array(bytes.prefix(position))
        case 4 where !bytes.isEmpty:
            let run = bytes[position..<min(bytes.count, position + Int.random(in: 1...32, using: &rng))]
            bytes.insert(contentsOf: run, at: position)
        case 5 where !bytes.isEmpty: bytes[position] = interesting.randomElement(using: &rng)!
        default:
            let cut = other.isEmpty ? 0 : Int.random(in: 0..<other.count, using: &rng)
            bytes = Array(bytes.prefix(position)) + other[cut...]
        }
    }
    return bytes
}

/// The committed seeds for a target: `Tests/FuzzCorpus/<target>/*`.
func corpus(_ target: FuzzTarget) throws -> [[UInt8]] {
    let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("FuzzCorpus/\(target.rawValue)")
    let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    return try names.map { [UInt8](try Data(contentsOf: folder.appendingPathComponent($0))) }
}

/// The corpus, then seeded mutations of it, through the same harness libFuzzer uses
/// (`scripts/fuzz` runs libFuzzer itself for longer). `ASSETDEDUP_FUZZ_SEED` and
/// `ASSETDEDUP_FUZZ_ITERATIONS` replay or lengthen a run.
@Suite struct FuzzTests {
    static let seed = ProcessInfo.processInfo.environment["ASSETDEDUP_FUZZ_SEED"].flatMap { UInt64($0) } ?? 20_261_125
    static let iterations = ProcessInfo.processInfo.environment["ASSETDEDUP_FUZZ_ITERATIONS"].flatMap { Int($0) } ?? 400

    @Test(arguments: FuzzTarget.allCases)
    func corpusAndMutationsKeepEveryPromise(_ target: FuzzTarget) throws {
        let harness = try FuzzHarness()
        let seeds = try corpus(target)
        #expect(seeds.count >= 3, "the corpus for \(target) is too small")
        for (index, input) in seeds.enumerated() {
            let broken = harness.run(target, input)
            #expect(broken.isEmpty, "seed \(index) of \(target): \(broken)")
        }
        var rng = SeededGenerator(state: Self.seed &+ UInt64(FuzzTarget.allCases.firstIndex(of: target)!))
        var failures = 0
        for iteration in 0..<Self.iterations {
            let input = mutate(seeds.randomElement(using: &rng)!, other: seeds.randomElement(using: &rng)!, using: &rng)
            let broken = harness.run(target, input)
            if !broken.isEmpty {
                failures += 1
                if failures <= 3 {
                    Issue.record(
                        "\(target) iteration \(iteration) (seed \(Self.seed)): \(broken); input \(input.prefix(300))")
                }
            }
        }
        #expect(failures == 0)
    }

    @Test func multipartSeedsUploadUnderEveryChunking() throws {
        // The valid upload seed answers 201/200 whatever size the reads come in.
        let harness = try FuzzHarness()
        let valid = try corpus(.multipart).first!
        for chunkSelector in UInt8(0)..<8 {
            var input = valid
            input[0] = chunkSelector
            #expect(harness.run(.multipart, input).isEmpty)
            #expect(harness.lastStatus == (chunkSelector == 0 ? 201 : 200), "chunk selector \(chunkSelector)")
        }
    }

    @Test(arguments: [FuzzTarget.image, .video])
    func mediaSeedsAreRealFiles(_ target: FuzzTarget) throws {
        // Mutations of files that decode reach deeper than random bytes: every seed must decode.
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("FuzzCorpus/\(target.rawValue)")
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() {
            let outcome = MediaFingerprinter().fingerprint(fileAt: folder.appendingPathComponent(name).path)
            guard case .fingerprint(let fingerprint) = outcome else {
                Issue.record("\(name): \(outcome)")
                continue
            }
            #expect(fingerprint.kind == (target == .image ? .image : .video), "\(name)")
        }
    }
}
