/// In-memory "which hashes are within Hamming distance d of this one", by multi-index hashing.
///
/// The 64 bits are cut into 4 substrings of 16 bits, each keying its own table of 65,536
/// buckets (Norouzi, Punjani, Fleet, "Fast Search in Hamming Space with Multi-Index Hashing",
/// CVPR 2012). By the pigeonhole principle a hash within distance d of the query differs in at
/// most `d / 4` (rounded down) bits in at least one substring, so a query reads, in each table,
/// the buckets of every 16-bit value within that radius of the query's substring (1 bucket for
/// d <= 3, 17 for d <= 7, 137 for d <= 11, 697 for d <= 15), then checks each candidate's full
/// distance with one popcount. A candidate is reported only from the first table where it is
/// within the radius, so no set of seen ids is needed.
///
/// Why not the others: a popcount scan reads every hash, O(n) per query (about 1 ms per million
/// on one core, and it grows with the user); a BK-tree also prunes by the triangle inequality,
/// but in 64-bit Hamming space at radius 8-10 it still visits a large share of the nodes, is
/// unbalanced on removal, and chases pointers. Multi-index hashing reads about
/// `4 * neighbours(d / 4) * n / 65536` candidates from contiguous buckets and maps one to one
/// onto four indexed 16-bit columns when the hashes move into SQL. Past distance 15, or when
/// the index is small enough that visiting the buckets costs more than reading every hash
/// (`scanCostRatio`), the query scans instead.
///
/// Not thread-safe: a value type, copy-on-write; share it behind a lock.
public struct NearDuplicateIndex: Sendable {
    /// One stored hash, kept inline in each bucket so checking a candidate reads no other memory.
    struct Entry: Sendable {
        var hash: UInt64
        var id: Int64
    }

    /// A hit: the stored id and its distance from the query.
    public struct Match: Hashable, Sendable {
        public let id: Int64
        public let distance: Int

        public init(id: Int64, distance: Int) {
            self.id = id
            self.distance = distance
        }
    }

    static let substrings = HashSubstrings.count
    static let substringBits = HashSubstrings.bits

    /// `substrings * 65536` buckets, table j's bucket for substring value v at `j << 16 | v`.
    private var buckets: [[Entry]]
    /// Every hash once, dense (8 bytes each, so the scan reads as little as it can), with its
    /// id at the same slot; `slotOfID` finds a slot for removal.
    private var hashes: [UInt64] = []
    private var ids: [Int64] = []
    private var slotOfID: [Int64: Int] = [:]

    public init() {
        buckets = Array(repeating: [], count: Self.substrings << Self.substringBits)
    }

    /// Number of stored hashes.
    public var count: Int { hashes.count }

    /// Stores `hash` under `id`, replacing any hash the id had.
    public mutating func insert(id: Int64, hash: UInt64) {
        remove(id: id)
        let entry = Entry(hash: hash, id: id)
        slotOfID[id] = hashes.count
        hashes.append(hash)
        ids.append(id)
        for j in 0..<Self.substrings {
            buckets[Self.bucket(hash, table: j)].append(entry)
        }
    }

    /// Forgets `id`; returns whether it was there.
    @discardableResult
    public mutating func remove(id: Int64) -> Bool {
        guard let slot = slotOfID.removeValue(forKey: id) else { return false }
        let hash = hashes[slot]
        for j in 0..<Self.substrings {
            let b = Self.bucket(hash, table: j)
            if let i = buckets[b].firstIndex(where: { $0.id == id }) {
                buckets[b].swapAt(i, buckets[b].count - 1)
                buckets[b].removeLast()
            }
        }
        let last = hashes.count - 1
        if slot != last {
            hashes[slot] = hashes[last]
            ids[slot] = ids[last]
            slotOfID[ids[slot]] = slot
        }
        hashes.removeLast()
        ids.removeLast()
        return true
    }

    /// Every stored id whose hash is within `maxDistance` bits of `hash`, nearest first, then by id.
    public func query(_ hash: UInt64, maxDistance: Int) -> [Match] {
        guard maxDistance >= 0 else { return [] }
        let radius = maxDistance / Self.substrings
        guard radius <= Self.maxBucketRadius,
            count >= Self.scanCostRatio * Self.substrings * HashSubstrings.masks(within: radius).count
        else { return scan(hash, maxDistance: maxDistance) }
        return bucketSearch(hash, maxDistance: maxDistance)
    }

    /// A bucket visit costs about as much as scanning this many hashes (measured, release build:
    /// 60-100 ns for a cold bucket, 2 ns a hash without POPCNT). Below `ratio * buckets` hashes
    /// the scan is faster: under ~35,000 hashes at distance 8-11, ~180,000 at 12-15.
    static let scanCostRatio = 64

    /// The multi-index search itself, whatever the size; `query` decides when it pays.
    func bucketSearch(_ hash: UInt64, maxDistance: Int) -> [Match] {
        let radius = maxDistance / Self.substrings
        precondition(maxDistance >= 0 && radius <= Self.maxBucketRadius)
        var matches: [Match] = []
        // Unsafe views: no retain/release or bounds check per bucket on the hot path.
        buckets.withUnsafeBufferPointer { tables in
            HashSubstrings.masks(within: radius).withUnsafeBufferPointer { masks in
                for j in 0..<Self.substrings {
                    let base = j << Self.substringBits
                    let key = Int(Self.substring(hash, table: j))
                    for mask in masks {
                        tables[base | (key ^ Int(mask))].withUnsafeBufferPointer { bucket in
                            for entry in bucket {
                                let distance = (entry.hash ^ hash).nonzeroBitCount
                                guard distance <= maxDistance,
                                    !Self.foundInEarlierTable(entry.hash, hash, before: j, radius: radius)
                                else { continue }
                                matches.append(Match(id: entry.id, distance: distance))
                            }
                        }
                    }
                }
            }
        }
        matches.sort { ($0.distance, $0.id) < ($1.distance, $1.id) }
        return matches
    }

    /// The same answer by reading every stored hash: the fallback for small indexes and large
    /// distances, and the baseline benchmarks compare with.
    public func scan(_ hash: UInt64, maxDistance: Int) -> [Match] {
        var matches: [Match] = []
        hashes.withUnsafeBufferPointer { stored in
            for slot in stored.indices {
                let distance = (stored[slot] ^ hash).nonzeroBitCount
                if distance <= maxDistance { matches.append(Match(id: ids[slot], distance: distance)) }
            }
        }
        matches.sort { ($0.distance, $0.id) < ($1.distance, $1.id) }
        return matches
    }

    /// Substring radius past which the query scans (3 means up to 697 buckets per table).
    static let maxBucketRadius = 3

    static func substring(_ hash: UInt64, table j: Int) -> UInt16 { HashSubstrings.substring(hash, j) }

    private static func bucket(_ hash: UInt64, table j: Int) -> Int {
        j << substringBits | Int(substring(hash, table: j))
    }

    private static func foundInEarlierTable(_ a: UInt64, _ b: UInt64, before j: Int, radius: Int) -> Bool {
        for earlier in 0..<j
        where (substring(a, table: earlier) ^ substring(b, table: earlier)).nonzeroBitCount <= radius {
            return true
        }
        return false
    }
}
