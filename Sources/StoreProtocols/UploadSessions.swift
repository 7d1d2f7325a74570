import AssetDedupCore

/// What an upload becomes when complete.
public enum UploadKind: String, Equatable, Sendable {
    /// An asset: completion commits the blob and answers like `POST /assets/upload`.
    case single
    /// One part of a tus concatenation: completion keeps the bytes for a final upload to join.
    case partial
    /// A tus concatenation's result: an asset made from partial uploads, never appended to.
    case final
}

/// One resumable upload as stored: who, where to, how far, and the hash state of those bytes.
public struct UploadSession: Equatable, Sendable {
    public var id: String
    public var userID: UserID
    /// Where the asset goes; nil only for a tus partial upload (its final upload names it).
    public var providerID: ProviderID?
    public var kind: UploadKind
    /// tus `Upload-Metadata` as the client sent it, echoed by `HEAD`.
    public var metadata: String?
    /// A final upload's parts, as the client listed them in `Upload-Concat`.
    public var concat: String?
    public var filename: String?
    public var mimeType: String?
    /// The final length, once the client has said it (or the upload completed).
    public var length: Int64?
    /// Bytes durably received; `hashState` covers exactly these.
    public var offset: Int64
    public var hashState: [UInt8]
    /// The client's `Repr-Digest`, checked at completion.
    public var claimedSHA256: SHA256Digest?
    /// The content's digest, once complete.
    public var sha256: SHA256Digest?
    public var completedAt: String?
    /// When the completion's answer (asset row, provider) was produced; nil after a crash between.
    public var answeredAt: String?
    public var updatedAt: String

    public var isComplete: Bool { completedAt != nil }

    public init(
        id: String, userID: UserID, providerID: ProviderID?, kind: UploadKind = .single, metadata: String? = nil,
        concat: String? = nil,
        filename: String? = nil, mimeType: String? = nil,
        length: Int64? = nil, offset: Int64 = 0, hashState: [UInt8], claimedSHA256: SHA256Digest? = nil,
        sha256: SHA256Digest? = nil, completedAt: String? = nil, answeredAt: String? = nil, updatedAt: String = ""
    ) {
        self.id = id
        self.userID = userID
        self.providerID = providerID
        self.kind = kind
        self.metadata = metadata
        self.concat = concat
        self.filename = filename
        self.mimeType = mimeType
        self.length = length
        self.offset = offset
        self.hashState = hashState
        self.claimedSHA256 = claimedSHA256
        self.sha256 = sha256
        self.completedAt = completedAt
        self.answeredAt = answeredAt
        self.updatedAt = updatedAt
    }
}

/// What `lockUploadSession` found.
public enum UploadLockOutcome: Equatable, Sendable {
    /// The caller holds the append lock now and must `recordAppend`, `recordCompletion` or unlock.
    case locked(UploadSession)
    /// No such upload for this user (another user's upload looks exactly the same).
    case notFound
    /// Another request holds the lock (`owner`, since `since`).
    case held(owner: String, since: String)
}
