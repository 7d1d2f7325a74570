import AssetDedupCore
import SQLInterface

extension SQLStore {
    /// Replaces the asset's fingerprint in one transaction; false when the asset is gone.
    @discardableResult
    public func saveFingerprint(_ outcome: FingerprintOutcome, asset: AssetID) throws -> Bool {
        try db.writeTransaction { () throws -> Bool in
            guard
                let user = try db.queryFirst(
                    "SELECT user_id FROM assets WHERE id = ?", [asset.rawValue], row: { $0.int(0) })
            else { return false }
            try db.run("DELETE FROM asset_fingerprint_hashes WHERE asset_id = ?", [asset.rawValue])
            try db.run("DELETE FROM asset_fingerprints WHERE asset_id = ?", [asset.rawValue])
            let kind: String
            var reason: String?
            var duration: Double?
            var hashes: [PerceptualHash64] = []
            switch outcome {
            case .unavailable(let why):
                kind = "none"
                reason = why
            case .fingerprint(let fingerprint):
                kind = fingerprint.kind.rawValue
                hashes = fingerprint.hashes
                if case .video(_, let seconds) = fingerprint { duration = seconds }
            }
            try db.run(
                """
                INSERT INTO asset_fingerprints (asset_id, user_id, kind, reason, duration_seconds, computed_at)
                VALUES (?, ?, ?, ?, ?, \(Self.now))
                """, [asset.rawValue, user, kind, reason, duration] as [SQLBindable])
            for (frame, hash) in hashes.enumerated() {
                let s = FingerprintSubstrings(hash)
                try db.run(
                    """
                    INSERT INTO asset_fingerprint_hashes (asset_id, frame, user_id, kind, hash, s0, s1, s2, s3)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [
                        asset.rawValue, frame, user, kind, Int64(bitPattern: hash.bits), Int(s[0]), Int(s[1]),
                        Int(s[2]), Int(s[3]),
                    ]
                        as [SQLBindable])
            }
            return true
        }
    }

    /// The stored outcome, or nil when the asset has none yet.
    public func fingerprint(asset: AssetID) throws -> FingerprintOutcome? {
        guard
            let row = try db.queryFirst(
                "SELECT kind, reason, duration_seconds FROM asset_fingerprints WHERE asset_id = ?", [asset.rawValue],
                row: { (kind: $0.text(0), reason: $0.optionalText(1), duration: $0.isNull(2) ? nil : $0.double(2)) })
        else { return nil }
        let hashes = try db.query(
            "SELECT hash FROM asset_fingerprint_hashes WHERE asset_id = ? ORDER BY frame", [asset.rawValue]
        ) { PerceptualHash64(bits: UInt64(bitPattern: $0.int(0))) }
        switch row.kind {
        case "image" where hashes.count == 1: return .fingerprint(.image(hashes[0]))
        case "video" where !hashes.isEmpty:
            return .fingerprint(.video(frames: hashes, durationSeconds: row.duration ?? 0))
        default: return .unavailable(reason: row.reason ?? "no fingerprint")
        }
    }

    /// Multi-index hashing in SQL: candidates from the four substring indexes, each `IN` the
    /// values within `threshold / 4` bits of the query's substring, then the kind's match rule in
    /// Swift. A video is looked up by only as many of its frames as guarantee a hit (a match
    /// needs 8 of 10 frames within the threshold, so one of any 3 is), then checked on every
    /// aligned frame.
    public func similarAssets(
        user: UserID, to fingerprint: MediaFingerprint, threshold: Int, limit: Int, excluding excluded: AssetID?
    ) throws -> [SimilarAsset] {
        guard threshold >= 0, limit > 0 else { return [] }
        let kind = fingerprint.kind.rawValue
        let radius = min(threshold / FingerprintSubstrings.count, 16)
        var matches: [(id: Int64, distance: Int)] = []
        switch fingerprint {
        case .image(let query):
            var seen = Set<Int64>()
            try candidates(user: user, kind: kind, frame: nil, hash: query, radius: radius, threshold: threshold) {
                id, _, hash in
                guard id != excluded?.rawValue, seen.insert(id).inserted else { return }
                if let distance = fingerprint.matchDistance(to: .image(hash), threshold: threshold) {
                    matches.append((id, distance))
                }
            }
        case .video(let frames, _):
            var ids = Set<Int64>()
            for frame in 0..<Self.probeFrames(count: frames.count) {
                try candidates(
                    user: user, kind: kind, frame: frame, hash: frames[frame], radius: radius, threshold: threshold
                ) { id, _, _ in
                    if id != excluded?.rawValue { ids.insert(id) }
                }
            }
            for (id, stored) in try frameHashes(user: user, assets: ids.sorted()) {
                let other = MediaFingerprint.video(frames: stored, durationSeconds: 0)
                if let distance = fingerprint.matchDistance(to: other, threshold: threshold) {
                    matches.append((id, distance))
                }
            }
        }
        matches.sort { ($0.distance, $0.id) < ($1.distance, $1.id) }
        let live = try liveFilenames(user: user, assets: matches.map(\.id))
        let top = matches.filter { live[$0.id] != nil }.prefix(limit)
        return top.map { SimilarAsset(assetID: AssetID($0.id), distance: $0.distance, originalFilename: live[$0.id]!) }
    }

    /// Assets with a hash and no fingerprint row, in id order after `after`.
    public func unfingerprintedAssets(after: AssetID?, limit: Int) throws -> [UnfingerprintedAsset] {
        try db.query(
            """
            SELECT a.id, a.sha256 FROM assets a
            WHERE a.sha256 IS NOT NULL AND a.id > ?
              AND NOT EXISTS (SELECT 1 FROM asset_fingerprints f WHERE f.asset_id = a.id)
            ORDER BY a.id LIMIT ?
            """, [after?.rawValue ?? 0, limit]
        ) { row in (AssetID(row.int(0)), try? SHA256Digest(parsing: row.text(1))) }
        .compactMap { id, digest in digest.map { UnfingerprintedAsset(assetID: id, sha256: $0) } }
    }

    public func unfingerprintedAssetCount() throws -> Int {
        Int(
            try db.queryFirst(
                """
                SELECT count(*) FROM assets a WHERE a.sha256 IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM asset_fingerprints f WHERE f.asset_id = a.id)
                """, cached: false
            ) { $0.int(0) } ?? 0)
    }

    /// How many of a video's frames a lookup must probe so every match shares at least one
    /// probed frame within the threshold: more than the frames a match may miss.
    static func probeFrames(count: Int) -> Int {
        var needed = 0
        while Double(needed) < VideoFrames.matchingShare * Double(count) { needed += 1 }
        return max(1, min(count, count - needed + 1))
    }

    /// Hands every stored hash of the user and kind (and frame) sharing a substring within
    /// `radius` bits of `hash`'s to `body` (only those within `threshold` where the backend can
    /// count bits); an asset may come once per substring.
    private func candidates(
        user: UserID, kind: String, frame: Int?, hash: PerceptualHash64, radius: Int, threshold: Int,
        _ body: (Int64, Int, PerceptualHash64) -> Void
    ) throws {
        var arguments: [SQLBindable] = [user.rawValue, kind]
        if let frame { arguments.append(frame) }
        let frameFilter = frame == nil ? "" : " AND frame = ?3"
        let read: (Row) -> Void = { row in
            body(row.int(0), Int(row.int(1)), PerceptualHash64(bits: UInt64(bitPattern: row.int(2))))
        }
        guard radius <= FingerprintSubstrings.maxRadius else {
            // Past ~d 19 the IN lists outgrow a scan of the user's rows.
            return try db.forEachRow(
                "SELECT asset_id, frame, hash FROM asset_fingerprint_hashes WHERE user_id = ?1 AND kind = ?2"
                    + frameFilter, arguments, cached: true, read)
        }
        let masks = FingerprintSubstrings.masks(within: radius)
        let query = FingerprintSubstrings(hash)
        let first = frame == nil ? 3 : 4
        // The hash and the threshold follow the substring values when the backend filters.
        let after = first + FingerprintSubstrings.count * masks.count
        let filter = Connection.dialect.hammingWithin.map { " AND " + $0("hash", "?\(after)", "?\(after + 1)") } ?? ""
        var branches: [String] = []
        for j in 0..<FingerprintSubstrings.count {
            let base = first + j * masks.count
            let list = (0..<masks.count).map { "?\(base + $0)" }.joined(separator: ", ")
            branches.append(
                "SELECT asset_id, frame, hash FROM asset_fingerprint_hashes WHERE user_id = ?1 AND kind = ?2"
                    + frameFilter + " AND s\(j) IN (\(list))" + filter)
            arguments += masks.map { Int(query[j] ^ $0) as SQLBindable }
        }
        if !filter.isEmpty { arguments += [Int64(bitPattern: hash.bits), threshold] }
        try db.forEachRow(branches.joined(separator: " UNION ALL "), arguments, cached: true, read)
    }

    /// Every frame hash of `assets` (the user's only), in frame order.
    private func frameHashes(user: UserID, assets: [Int64]) throws -> [(Int64, [PerceptualHash64])] {
        guard !assets.isEmpty else { return [] }
        var byAsset: [Int64: [PerceptualHash64]] = [:]
        for chunk in stride(from: 0, to: assets.count, by: 500) {
            let ids = Array(assets[chunk..<min(chunk + 500, assets.count)])
            let list = ids.indices.map { "?\($0 + 2)" }.joined(separator: ", ")
            try db.forEachRow(
                """
                SELECT asset_id, hash FROM asset_fingerprint_hashes
                WHERE user_id = ?1 AND asset_id IN (\(list)) ORDER BY asset_id, frame
                """, [user.rawValue] + ids.map { $0 as SQLBindable }, cached: false
            ) { row in byAsset[row.int(0), default: []].append(PerceptualHash64(bits: UInt64(bitPattern: row.int(1)))) }
        }
        return assets.compactMap { id in byAsset[id].map { (id, $0) } }
    }

    /// The file names of those of `assets` that are the user's and not in the trash (a name
    /// may be nil); trashed assets are never offered as similar.
    private func liveFilenames(user: UserID, assets: [Int64]) throws -> [Int64: String?] {
        var names: [Int64: String?] = [:]
        for chunk in stride(from: 0, to: assets.count, by: 500) {
            let ids = Array(assets[chunk..<min(chunk + 500, assets.count)])
            let list = ids.indices.map { "?\($0 + 2)" }.joined(separator: ", ")
            try db.forEachRow(
                "SELECT id, original_filename FROM assets WHERE user_id = ?1 AND trashed_at IS NULL AND id IN (\(list))",
                [user.rawValue] + ids.map { $0 as SQLBindable }, cached: false
            ) { row in names[row.int(0)] = .some(row.optionalText(1)) }
        }
        return names
    }
}

/// A hash cut into the four 16-bit substrings the index columns `s0`...`s3` hold (s0 = low bits),
/// as `HashSubstrings` cuts it for the in-memory index.
struct FingerprintSubstrings {
    static let count = HashSubstrings.count
    /// Radius 4 (d up to 19) is 2,517 values per substring; beyond, a scan of the user's rows.
    static let maxRadius = 4
    private let hash: UInt64

    init(_ hash: PerceptualHash64) { self.hash = hash.bits }

    subscript(j: Int) -> UInt16 { HashSubstrings.substring(hash, j) }

    static func masks(within radius: Int) -> ArraySlice<UInt16> { HashSubstrings.masks(within: radius) }
}
