import AssetDedupCore

/// What `sync` still has to push to a provider: how many assets and how many bytes.
public struct MissingOnProvider: Equatable, Sendable {
    public var count: Int
    public var bytes: Int64

    public init(count: Int, bytes: Int64) {
        self.count = count
        self.bytes = bytes
    }
}
