import Testing

@testable import AssetDedupCore
import PerceptualHash

/// The index answers exactly what a popcount scan over the same hashes answers.
@Suite struct NearDuplicateIndexTests {
    /// Brute force, written independently of the index.
    static func bruteForce(_ stored: [Int64: UInt64], _ query: UInt64, _ d: Int) -> [NearDuplicateIndex.Match] {
        stored.compactMap { id, hash in
            let distance = (hash ^ query).nonzeroBitCount
            return distance <= d ? NearDuplicateIndex.Match(id: id, distance: distance) : nil
        }.sorted { ($0.distance, $0.id) < ($1.distance, $1.id) }
    }

    /// `hash` with `flips` distinct random bits flipped.
    static func perturb(_ hash: UInt64, flips: Int, _ rng: inout SeededGenerator) -> UInt64 {
        var mask: UInt64 = 0
        while mask.nonzeroBitCount < flips { mask |= 1 << (rng.next() % 64) }
        return hash ^ mask
    }

    @Test func matchesBruteForceOnTwentyThousandHashes() {
        var rng = SeededGenerator(seed: 2026)
        // Clusters around 400 centres (as copies of one picture are), plus uniform noise, and
        // some repeated hashes under different ids.
        let centres = (0..<400).map { _ in rng.next() }
        var index = NearDuplicateIndex()
        var stored: [Int64: UInt64] = [:]
        for id in Int64(0)..<20_000 {
            let hash: UInt64
            switch id % 10 {
            case 0: hash = rng.next()
            case 1: hash = stored[id - 1]!
            default: hash = Self.perturb(centres[Int(rng.next() % 400)], flips: Int(rng.next() % 17), &rng)
            }
            index.insert(id: id, hash: hash)
            stored[id] = hash
        }
        // Removal and re-insertion under a new hash must leave no trace of the old one.
        for id in stride(from: Int64(5), to: 20_000, by: 7) {
            let removed = index.remove(id: id)
            #expect(removed)
            stored[id] = nil
        }
        let removedTwice = index.remove(id: 5)
        #expect(!removedTwice)
        for id in stride(from: Int64(3), to: 20_000, by: 11) {
            let hash = Self.perturb(centres[Int(rng.next() % 400)], flips: 3, &rng)
            index.insert(id: id, hash: hash)
            stored[id] = hash
        }
        #expect(index.count == stored.count)

        let storedHashes = Array(stored.values)
        var nonEmpty = 0
        for d in 0...12 {
            for q in 0..<40 {
                let query =
                    q % 4 == 0
                    ? rng.next()
                    : Self.perturb(storedHashes[Int(rng.next() % UInt64(storedHashes.count))], flips: q % 9, &rng)
                let expected = Self.bruteForce(stored, query, d)
                #expect(index.query(query, maxDistance: d) == expected, "d=\(d) query=\(query)")
                // query() scans an index this small at d >= 8; the buckets must agree anyway.
                #expect(index.bucketSearch(query, maxDistance: d) == expected, "d=\(d) query=\(query)")
                #expect(index.scan(query, maxDistance: d) == expected)
                if !expected.isEmpty { nonEmpty += 1 }
            }
        }
        // The property is only worth something if many queries found something (276 of 520 do).
        #expect(nonEmpty > 200)
    }

    @Test func largeRadiusFallsBackToScanWithTheSameAnswer() {
        var rng = SeededGenerator(seed: 7)
        var index = NearDuplicateIndex()
        var stored: [Int64: UInt64] = [:]
        for id in Int64(0)..<2000 {
            let hash = rng.next()
            index.insert(id: id, hash: hash)
            stored[id] = hash
        }
        for d in [16, 24, 30, 64] {
            let query = rng.next()
            #expect(index.query(query, maxDistance: d) == Self.bruteForce(stored, query, d))
        }
        #expect(index.query(1, maxDistance: -1).isEmpty)
    }

    @Test func insertReplacesAnIdsHash() {
        var index = NearDuplicateIndex()
        index.insert(id: 1, hash: 0)
        index.insert(id: 1, hash: .max)
        #expect(index.count == 1)
        #expect(index.query(0, maxDistance: 10).isEmpty)
        #expect(index.query(.max, maxDistance: 0) == [.init(id: 1, distance: 0)])
    }

    @Test func resultsAreSortedByDistanceThenID() {
        var index = NearDuplicateIndex()
        index.insert(id: 9, hash: 0b1)
        index.insert(id: 3, hash: 0b11)
        index.insert(id: 4, hash: 0b1)
        index.insert(id: 1, hash: 0)
        #expect(
            index.query(0, maxDistance: 2) == [
                .init(id: 1, distance: 0), .init(id: 4, distance: 1), .init(id: 9, distance: 1),
                .init(id: 3, distance: 2),
            ])
    }
}
