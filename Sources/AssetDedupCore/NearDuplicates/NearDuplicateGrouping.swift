/// One user's fingerprints cut into near-duplicate groups: the connected components of "these
/// two match" (an image pair within the threshold, a video pair under `VideoFrames`' rule).
///
/// Components, not cliques: A~B and B~C put A, B and C in one group even when A and C are
/// further apart, which is what a reviewer wants to see together (a chain of re-exports). Images
/// and videos never share a group. Each pair is found through `NearDuplicateIndex`, so a user
/// with n fingerprints costs n index queries, not n² comparisons.
public enum NearDuplicateGrouping {
    public struct Member: Sendable, Equatable {
        public let id: Int64
        public let fingerprint: MediaFingerprint

        public init(id: Int64, fingerprint: MediaFingerprint) {
            self.id = id
            self.fingerprint = fingerprint
        }
    }

    public struct Group: Sendable, Equatable {
        /// Member ids, ascending; the first is the group's anchor (reviews are keyed by it).
        public let ids: [Int64]
        /// Each member's distance to its nearest other member of the group.
        public let nearest: [Int64: Int]
        public let kind: MediaFingerprint.Kind

        public var anchor: Int64 { ids[0] }
    }

    /// Groups of two or more members, ordered by anchor id.
    public static func groups(
        _ members: [Member], threshold: Int = PerceptualHash64.defaultThreshold
    ) -> [Group] {
        var parent = Array(members.indices)
        func root(_ i: Int) -> Int {
            var i = i
            while parent[i] != i {
                parent[i] = parent[parent[i]]
                i = parent[i]
            }
            return i
        }
        var nearest = [Int](repeating: Int.max, count: members.count)
        func link(_ a: Int, _ b: Int, _ distance: Int) {
            nearest[a] = min(nearest[a], distance)
            nearest[b] = min(nearest[b], distance)
            let (ra, rb) = (root(a), root(b))
            if ra != rb { parent[max(ra, rb)] = min(ra, rb) }
        }

        // Every hash (an image's, or each frame of a video) in one index per kind, under
        // member index * 16 + frame, so a query finds the members that share a close frame.
        let framesPerKey: Int64 = 16
        for kind in MediaFingerprint.Kind.allCases {
            var index = NearDuplicateIndex()
            let ofKind = members.indices.filter { members[$0].fingerprint.kind == kind }
            for i in ofKind {
                for (frame, hash) in members[i].fingerprint.hashes.prefix(Int(framesPerKey)).enumerated() {
                    index.insert(id: Int64(i) * framesPerKey + Int64(frame), hash: hash.bits)
                }
            }
            for i in ofKind {
                var candidates = Set<Int>()
                for hash in members[i].fingerprint.hashes.prefix(Int(framesPerKey)) {
                    for match in index.query(hash.bits, maxDistance: threshold) {
                        let j = Int(match.id / framesPerKey)
                        if j > i { candidates.insert(j) }
                    }
                }
                for j in candidates {
                    if let distance = members[i].fingerprint.matchDistance(
                        to: members[j].fingerprint, threshold: threshold)
                    {
                        link(i, j, distance)
                    }
                }
            }
        }

        var components: [Int: [Int]] = [:]
        for i in members.indices where nearest[i] != Int.max {
            components[root(i), default: []].append(i)
        }
        return components.values
            .map { indices in
                let sorted = indices.sorted { members[$0].id < members[$1].id }
                return Group(
                    ids: sorted.map { members[$0].id },
                    nearest: Dictionary(uniqueKeysWithValues: sorted.map { (members[$0].id, nearest[$0]) }),
                    kind: members[sorted[0]].fingerprint.kind)
            }
            .sorted { $0.anchor < $1.anchor }
    }
}
