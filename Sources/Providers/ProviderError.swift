import AssetDedupCore

/// Why a provider upload failed. Messages never contain secrets (header values, tokens).
///
/// `retryable` is what the API's 502 answer and `sync` act on: true means the same upload may
/// succeed later (5xx, 429, timeouts, connection errors), false means it will not until
/// something changes (a 4xx, a bad answer, a missing blob).
public struct ProviderError: Error, Sendable, Equatable, CustomStringConvertible {
    public let provider: ProviderID
    /// Worth trying again later (5xx, 429, timeouts, connection errors).
    public let retryable: Bool
    public let message: String
    /// The last HTTP status the provider answered, if it answered at all.
    public let httpStatus: Int?
    /// How many attempts were made before giving up.
    public let attempts: Int

    public init(provider: ProviderID, retryable: Bool, message: String, httpStatus: Int? = nil, attempts: Int = 1) {
        self.provider = provider
        self.retryable = retryable
        self.message = message
        self.httpStatus = httpStatus
        self.attempts = attempts
    }

    public var description: String { "provider \(provider): \(message)" }
}
