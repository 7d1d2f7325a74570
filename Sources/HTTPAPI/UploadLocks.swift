import AssetDedupCore
import Foundation

/// Serialises provider uploads of the same (asset, provider) across worker threads, so two
/// concurrent uploads of one file never push it twice to one provider.
///
/// Striped: 64 locks picked by hash, so unrelated uploads rarely wait on each other. This
/// covers one app process; several app nodes would need a lease in the shared database.
public final class UploadLocks: Sendable {
    private let stripes: [NSLock] = (0..<64).map { _ in NSLock() }

    public init() {}

    public func withLock<T>(asset: AssetID, provider: ProviderID, _ body: () throws -> T) rethrows -> T {
        var hasher = Hasher()
        hasher.combine(asset)
        hasher.combine(provider)
        let lock = stripes[Int(UInt(bitPattern: hasher.finalize()) % UInt(stripes.count))]
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}
