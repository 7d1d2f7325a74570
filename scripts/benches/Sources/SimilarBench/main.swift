import SQLiteStore
import Foundation
import PerceptualHash
import PostgresStore

// Near-duplicate search in SQL (`MediaFingerprints.similarAssets`, d = 10, limit 20) for one user
// at growing sizes, against an in-memory popcount scan of the same user's hashes, interleaved
// query by query so load hits both alike. Random hashes; 0.1% of assets are planted near copies
// (1-8 bits from one of 100 bases), and half of the queries are those bases.
// usage: SimilarBench [--db PATH|postgresql://...] [--sizes 10000,100000,1000000] [--queries 1000]

var arguments = Array(CommandLine.arguments.dropFirst())
@MainActor func option(_ name: String) -> String? {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
    return arguments[i + 1]
}
let sizes = (option("--sizes") ?? "10000,100000,1000000").split(separator: ",").compactMap { Int($0) }
let queryCount = Int(option("--queries") ?? "1000") ?? 1000
let location = option("--db") ?? NSTemporaryDirectory() + "similar-bench-\(getpid()).sqlite"
if location.isEmpty {  // `--db "$(a command that failed)"`: never measure SQLite under another name
    FileHandle.standardError.write(Data("SimilarBench: --db is empty\n".utf8))
    exit(2)
}
let threshold = 10

var rng = SystemRandomNumberGenerator()
let bases = (0..<100).map { _ in UInt64.random(in: 0...UInt64.max, using: &rng) }

/// Bulk rows in multi-row INSERTs (200 rows a statement), ids chosen here.
@MainActor func fill<C: SQLConnection>(_ db: C, user: Int64, ids: Range<Int64>, hashes: inout [UInt64]) throws {
    let batch = 200
    var start = ids.lowerBound
    while start < ids.upperBound {
        let end = min(start + Int64(batch), ids.upperBound)
        var assets: [SQLBindable] = []
        var prints: [SQLBindable] = []
        var rows: [SQLBindable] = []
        for id in start..<end {
            let hash: UInt64
            if id % 1000 == 7 {
                var h = bases[Int(id / 1000) % bases.count]
                for _ in 0..<Int.random(in: 1...8, using: &rng) { h ^= 1 << UInt64.random(in: 0..<64, using: &rng) }
                hash = h
            } else {
                hash = UInt64.random(in: 0...UInt64.max, using: &rng)
            }
            hashes.append(hash)
            let sha = String(repeating: "0", count: 48) + String(format: "%016llx", UInt64(id))
            assets += [id, user, sha, 1, "f\(id).jpg"]
            prints += [id, user, "image", "2026-01-01T00:00:00.000Z"]
            rows += [id, 0, user, "image", Int64(bitPattern: hash)]
            rows += (0..<4).map { Int(UInt16(truncatingIfNeeded: hash >> ($0 * 16))) as SQLBindable }
        }
        let n = Int(end - start)
        func values(_ width: Int) -> String {
            (0..<n).map { _ in "(" + Array(repeating: "?", count: width).joined(separator: ", ") + ")" }
                .joined(separator: ", ")
        }
        try db.writeTransaction {
            try db.run(
                "INSERT INTO assets (id, user_id, sha256, size, original_filename) VALUES \(values(5))", assets,
                cached: n == batch)
            try db.run(
                "INSERT INTO asset_fingerprints (asset_id, user_id, kind, computed_at) VALUES \(values(4))", prints,
                cached: n == batch)
            try db.run(
                """
                INSERT INTO asset_fingerprint_hashes (asset_id, frame, user_id, kind, hash, s0, s1, s2, s3)
                VALUES \(values(9))
                """, rows, cached: n == batch)
        }
        start = end
    }
}

/// The baseline: every hash of the user in one array, read with popcount, matches sorted.
@MainActor func scan(_ hashes: [UInt64], _ query: UInt64) -> Int {
    var matches: [(Int, Int)] = []
    hashes.withUnsafeBufferPointer { stored in
        for i in stored.indices {
            let d = (stored[i] ^ query).nonzeroBitCount
            if d <= threshold { matches.append((d, i)) }
        }
    }
    matches.sort { $0 < $1 }
    return min(matches.count, 20)
}

@MainActor func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}
@MainActor func ms(_ d: Duration) -> Double {
    Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) / 1e15
}
@MainActor func format(_ v: Double) -> String {
    v < 1 ? String(format: "%.0f µs", v * 1000) : String(format: "%.2f ms", v)
}

@MainActor func run<C: SQLConnection>(_ store: SQLStore<C>, backend: String) throws {
    try Migrator(db: store.db, plan: store.migrations).up()
    let user = try store.addUser(name: "bench")
    let other = try store.addUser(name: "other")
    // Another user's 10,000 rows, some the same pictures: never read by the searches.
    var ignored: [UInt64] = []
    try fill(store.db, user: other.id.rawValue, ids: 50_000_000..<50_010_000, hashes: &ignored)
    var hashes: [UInt64] = []
    print(
        "\(backend): SQL search (d = \(threshold), limit 20) vs in-memory popcount scan, \(queryCount) queries each, interleaved"
    )
    print("| assets | SQL p50 / p99 | scan p50 / p99 | p50 ratio | hits/query |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    let clock = ContinuousClock()
    for size in sizes where size > hashes.count {
        let fillStart = clock.now
        try fill(store.db, user: user.id.rawValue, ids: Int64(hashes.count + 1)..<Int64(size + 1), hashes: &hashes)
        if let sqlite = store.db as? Database { try sqlite.execute("ANALYZE") }
        // Autovacuum's job in production: it sets the visibility map index-only scans rely on.
        if let pg = store.db as? PostgresConnection { try pg.execute("VACUUM ANALYZE") }
        let filled = clock.now - fillStart
        // Warm-up: statements prepared, pages cached.
        for q in 0..<10 {
            _ = try store.similarAssets(
                user: user.id, to: .image(PerceptualHash64(bits: bases[q])), threshold: threshold, limit: 20,
                excluding: nil)
        }
        var sql: [Double] = []
        var mem: [Double] = []
        var hits = 0
        for q in 0..<queryCount {
            let query = q % 2 == 0 ? bases[q / 2 % bases.count] : UInt64.random(in: 0...UInt64.max, using: &rng)
            var found = 0
            let a = clock.measure {
                found =
                    (try? store.similarAssets(
                        user: user.id, to: .image(PerceptualHash64(bits: query)), threshold: threshold, limit: 20,
                        excluding: nil
                    ).count) ?? -1
            }
            var scanned = 0
            let b = clock.measure { scanned = scan(hashes, query) }
            precondition(found == scanned, "SQL found \(found), the scan \(scanned)")
            hits += found
            sql.append(ms(a))
            mem.append(ms(b))
        }
        sql.sort()
        mem.sort()
        print(
            "| \(size) | \(format(percentile(sql, 0.5))) / \(format(percentile(sql, 0.99))) | "
                + "\(format(percentile(mem, 0.5))) / \(format(percentile(mem, 0.99))) | "
                + String(format: "%.2f", percentile(sql, 0.5) / percentile(mem, 0.5))
                + " | \(String(format: "%.1f", Double(hits) / Double(queryCount))) |"
                + " (filled in \(String(format: "%.0f", ms(filled) / 1000)) s)")
    }
}

if location.hasPrefix("postgres") {
    try run(SQLStore(db: try PostgresConnection(url: location)), backend: "PostgreSQL")
} else {
    defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: location + suffix) } }
    try run(try SQLiteStore(path: location), backend: "SQLite")
}
