import AssetDedupCore

/// An API token's metadata; the secret itself is never stored.
public struct APIToken: Equatable, Sendable {
    public let id: Int64
    public let userID: UserID
    public let label: String?
    public let createdAt: String
    public let lastUsedAt: String?
    public let revokedAt: String?

    public init(id: Int64, userID: UserID, label: String? = nil, createdAt: String, lastUsedAt: String? = nil, revokedAt: String? = nil) {
        self.id = id
        self.userID = userID
        self.label = label
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
    }
}

/// Who a valid bearer token belongs to.
public struct AuthenticatedUser: Equatable, Sendable {
    public let userID: UserID
    public let name: String
    public let isAdmin: Bool
    public let tokenID: Int64
    public let lastUsedAt: String?

    public init(userID: UserID, name: String, isAdmin: Bool, tokenID: Int64, lastUsedAt: String? = nil) {
        self.userID = userID
        self.name = name
        self.isAdmin = isAdmin
        self.tokenID = tokenID
        self.lastUsedAt = lastUsedAt
    }
}

/// A user as the CLI and API see it.
public struct User: Equatable, Sendable {
    public let id: UserID
    public let name: String
    public let isAdmin: Bool
    public let createdAt: String

    public init(id: UserID, name: String, isAdmin: Bool, createdAt: String) {
        self.id = id
        self.name = name
        self.isAdmin = isAdmin
        self.createdAt = createdAt
    }
}
