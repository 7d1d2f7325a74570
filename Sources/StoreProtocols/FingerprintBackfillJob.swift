import AssetDedupCore

/// Fingerprints assets that have none, one row per transaction in id order, so a killed run
/// resumes where it stopped: the next run picks the assets that still have no fingerprint row.
public struct FingerprintBackfillJob {
    /// Progress after each batch, for a progress line.
    public struct Progress: Equatable, Sendable {
        public var done = 0
        public var total = 0
        public var images = 0
        public var videos = 0
        public var none = 0
        public var failed: [AssetID: String] = [:]
    }

    let store: any MediaFingerprints
    let batchSize: Int
    /// Fingerprints the asset's blob; throws when the blob cannot be read (left for a later run).
    let fingerprint: (UnfingerprintedAsset) throws -> FingerprintOutcome

    public init(
        store: any MediaFingerprints, batchSize: Int,
        fingerprint: @escaping (UnfingerprintedAsset) throws -> FingerprintOutcome
    ) {
        self.store = store
        self.batchSize = batchSize
        self.fingerprint = fingerprint
    }

    /// Runs until every asset with content has a row or failed in this run; `progress` after each batch.
    public func run(progress: (Progress) -> Void = { _ in }) throws -> Progress {
        var state = Progress(total: try store.unfingerprintedAssetCount())
        var cursor: AssetID? = nil
        while true {
            let batch = try store.unfingerprintedAssets(after: cursor, limit: batchSize)
            guard !batch.isEmpty else { break }
            for row in batch {
                cursor = row.assetID
                do {
                    let outcome = try fingerprint(row)
                    try store.saveFingerprint(outcome, asset: row.assetID)
                    switch outcome {
                    case .fingerprint(.image): state.images += 1
                    case .fingerprint(.video): state.videos += 1
                    case .unavailable: state.none += 1
                    }
                } catch let error as StoreFailure {
                    throw error
                } catch {
                    state.failed[row.assetID] = "\(error)"
                }
                state.done += 1
            }
            progress(state)
        }
        return state
    }
}
