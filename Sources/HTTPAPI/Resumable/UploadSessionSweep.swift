import StoreProtocols
import BlobProtocols

/// Drops resumable uploads nobody touched for the expiry window: the row and its partial file,
/// plus partial files that never got a row. `serve` runs it at start and then periodically;
/// it is a plain call so tests and tools can run it at once.
public struct UploadSessionSweep: Sendable {
    public let blobs: any BlobStorage
    /// Idle time (since `updated_at`) after which an upload expires.
    public let expirySeconds: Double

    public init(blobs: any BlobStorage, expirySeconds: Double) {
        self.blobs = blobs
        self.expirySeconds = expirySeconds
    }

    /// What one sweep removed.
    public struct Outcome: Equatable, Sendable {
        public var sessions = 0
        public var orphanFiles = 0
    }

    /// Runs one sweep on `store`'s connection.
    @discardableResult
    public func run(store: any APIStore) throws -> Outcome {
        var outcome = Outcome()
        for id in try store.expiredUploadSessions(olderThanSeconds: expirySeconds)
        where try store.deleteExpiredUploadSession(id: id, olderThanSeconds: expirySeconds) {
            blobs.removePartial(upload: id)
            outcome.sessions += 1
        }
        for id in try blobs.stalePartialUploads(olderThanSeconds: expirySeconds)
        where try !store.uploadSessionExists(id: id) {
            if blobs.removePartial(upload: id) { outcome.orphanFiles += 1 }
        }
        return outcome
    }
}
