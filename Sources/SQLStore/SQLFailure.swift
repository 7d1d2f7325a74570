import SQLInterface
import StoreProtocols

/// A database failure whose meaning the store and the API act on, whatever the backend.
/// `isTransient` (from `StoreFailure`): worth retrying later, answered 503 with `Retry-After`.
public protocol SQLFailure: StoreFailure {
    /// A UNIQUE or PRIMARY KEY constraint refused the write.
    var isUniqueViolation: Bool { get }
}
