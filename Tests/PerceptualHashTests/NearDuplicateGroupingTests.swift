import Testing

@testable import AssetDedupCore
import PerceptualHash

@Suite struct NearDuplicateGroupingTests {
    static let base: UInt64 = 0x8f37_3714_acfc_f4f0
    static func image(_ id: Int64, flip bits: Int, from base: UInt64 = base) -> NearDuplicateGrouping.Member {
        .init(id: id, fingerprint: .image(PerceptualHash64(bits: base ^ ((UInt64(1) << UInt64(bits)) - 1))))
    }

    @Test func chainsOfMatchesAreOneGroupAndStrangersStayOut() {
        let far: UInt64 = ~Self.base
        let members = [
            Self.image(7, flip: 0),
            Self.image(3, flip: 8),  // 8 from 7
            .init(id: 5, fingerprint: .image(PerceptualHash64(bits: Self.base ^ 0xFFFF_0000))),  // 16 from 7, 24 from 3
            Self.image(9, flip: 0, from: far),
            Self.image(2, flip: 4, from: far),
            .init(id: 11, fingerprint: .image(PerceptualHash64(bits: 0x0123_4567_89ab_cdef))),
        ]
        let groups = NearDuplicateGrouping.groups(members)
        #expect(groups.map(\.ids) == [[2, 9], [3, 7]])
        #expect(groups[1].nearest == [3: 8, 7: 8])
        #expect(groups[0].anchor == 2)
        #expect(groups.allSatisfy { $0.kind == .image })
    }

    @Test func aChainLinksMembersFurtherApartThanTheThreshold() {
        // 1 -- 6 bits -- 2 -- 6 bits -- 3, and 1 is 12 bits from 3: one group through 2.
        let members: [NearDuplicateGrouping.Member] = [
            .init(id: 1, fingerprint: .image(PerceptualHash64(bits: 0))),
            .init(id: 2, fingerprint: .image(PerceptualHash64(bits: 0x3F))),
            .init(id: 3, fingerprint: .image(PerceptualHash64(bits: 0xFFF))),
        ]
        let groups = NearDuplicateGrouping.groups(members)
        #expect(groups.map(\.ids) == [[1, 2, 3]])
        #expect(groups[0].nearest == [1: 6, 2: 6, 3: 6])
    }

    @Test func videosGroupByTheirFrameRuleAndNeverWithImages() {
        let frames = (0..<10).map { PerceptualHash64(bits: Self.base &* UInt64($0 + 1)) }
        var reencoded = frames.map { PerceptualHash64(bits: $0.bits ^ 0b111) }
        reencoded[0] = PerceptualHash64(bits: ~frames[0].bits)  // one frame far off: still 9 of 10
        let other = frames.map { PerceptualHash64(bits: ~$0.bits) }
        let members: [NearDuplicateGrouping.Member] = [
            .init(id: 1, fingerprint: .video(frames: frames, durationSeconds: 60)),
            .init(id: 2, fingerprint: .video(frames: reencoded, durationSeconds: 60)),
            .init(id: 3, fingerprint: .video(frames: other, durationSeconds: 60)),
            .init(id: 4, fingerprint: .image(frames[4])),
        ]
        let groups = NearDuplicateGrouping.groups(members)
        #expect(groups.map(\.ids) == [[1, 2]])
        #expect(groups[0].kind == .video)
        #expect(groups[0].nearest[2] == 3)
    }

    @Test func agreesWithBruteForceOnClusteredHashes() {
        var generator = SeededGenerator(seed: 42)
        var members: [NearDuplicateGrouping.Member] = []
        for cluster in 0..<60 {
            let centre = generator.next()
            for k in 0..<Int(generator.next() % 4) + 1 {
                var bits = centre
                for _ in 0..<Int(generator.next() % 7) { bits ^= UInt64(1) << (generator.next() % 64) }
                members.append(.init(id: Int64(cluster * 10 + k), fingerprint: .image(PerceptualHash64(bits: bits))))
            }
        }
        // Brute force: union every pair within 10.
        var parent = Dictionary(uniqueKeysWithValues: members.map { ($0.id, $0.id) })
        func root(_ id: Int64) -> Int64 { parent[id] == id ? id : root(parent[id]!) }
        var linked = Set<Int64>()
        for a in members {
            for b in members where a.id < b.id && a.fingerprint.matchDistance(to: b.fingerprint) != nil {
                let (ra, rb) = (root(a.id), root(b.id))
                if ra != rb { parent[max(ra, rb)] = min(ra, rb) }
                linked.formUnion([a.id, b.id])
            }
        }
        var expected: [Int64: [Int64]] = [:]
        for id in linked { expected[root(id), default: []].append(id) }
        let brute = expected.values.map { $0.sorted() }.sorted { $0[0] < $1[0] }
        #expect(NearDuplicateGrouping.groups(members).map(\.ids) == brute)
        #expect(brute.count > 20)
    }
}
