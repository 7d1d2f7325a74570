import AssetDedupCore

/// Hashes legacy rows one by one, each in its own transaction, so a killed run resumes where
/// it stopped: the next run simply picks the rows that still have no hash.
public struct BackfillJob {
    /// Progress after each row, for a progress line.
    public struct Progress: Sendable {
        public let done: Int
        public let total: Int
        public let bytes: Int64
        public let current: BackfillRow
    }

    /// What one run did.
    public struct Summary: Equatable, Sendable {
        public var hashed = 0
        public var merged = 0
        public var failed: [(AssetID, String)] = []
        public var bytes: Int64 = 0

        public static func == (lhs: Summary, rhs: Summary) -> Bool {
            lhs.hashed == rhs.hashed && lhs.merged == rhs.merged && lhs.bytes == rhs.bytes
                && lhs.failed.map(\.0) == rhs.failed.map(\.0)
        }
    }

    let store: any BackfillStore
    /// Reads the row's file and returns its hash and size; throws when the file is unusable.
    let hashFile: (BackfillRow) throws -> (SHA256Digest, Int64)

    public init(store: any BackfillStore, hashFile: @escaping (BackfillRow) throws -> (SHA256Digest, Int64)) {
        self.store = store
        self.hashFile = hashFile
    }

    /// Runs until no unhashed row is left (rows whose file fails are skipped and reported).
    public func run(progress: (Progress) -> Void = { _ in }) throws -> Summary {
        let total = try store.unhashedAssetCount()
        var summary = Summary()
        var cursor: AssetID? = nil
        var done = 0
        while true {
            let batch = try store.unhashedAssets(after: cursor, limit: 100)
            guard !batch.isEmpty else { break }
            for row in batch {
                cursor = row.assetID
                do {
                    let (digest, size) = try hashFile(row)
                    switch try store.recordBackfilledHash(asset: row.assetID, sha256: digest, size: size) {
                    case .hashed: summary.hashed += 1
                    case .merged: summary.merged += 1
                    case .alreadyHashed: break
                    }
                    summary.bytes += size
                } catch let error as StoreFailure {
                    throw error
                } catch {
                    summary.failed.append((row.assetID, "\(error)"))
                }
                done += 1
                progress(Progress(done: done, total: total, bytes: summary.bytes, current: row))
            }
        }
        return summary
    }
}
