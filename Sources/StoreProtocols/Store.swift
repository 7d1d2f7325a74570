import AssetDedupCore
import Foundation

// The store seam: what each consumer needs of the database, as protocols. HTTPAPI, Delivery,
// Reports and the CLI's commands see only these; the backends (SQLite, PostgreSQL) implement all
// of them in one generic SQL store, and the executable picks one from `--db` (StoreBackends).
// A store is one connection: one per thread, not shared.

/// A database failure the callers act on: transient ones (a lock held too long, the server
/// down or restarting, a lost connection) are answered `503` with `Retry-After`.
public protocol StoreFailure: Error {
    var isTransient: Bool { get }
}

/// Reads that must agree with each other see one snapshot.
public protocol StoreSnapshots: AnyObject {
    /// Runs `body` in a read-only transaction.
    func readSnapshot<T>(_ body: () throws -> T) throws -> T
    /// A number that moves whenever anyone commits a change, read after this connection's last
    /// transaction at no cost, or nil when the backend cannot tell (then nothing may be cached
    /// across requests: PostgreSQL).
    var changeCounter: UInt64? { get }
}

/// The user's assets: check-by-hash, uploads, listing (the API).
public protocol AssetCatalog: StoreSnapshots {
    func findAsset(user: UserID, sha256: SHA256Digest) throws -> Asset?
    func asset(id: AssetID, user: UserID) throws -> Asset?
    func assetPresence(user: UserID, sha256: SHA256Digest) throws -> AssetPresence?
    /// The live token's user and that user's asset with this content, in one statement: a
    /// backend that caches no tokens (PostgreSQL) answers check-by-hash in one round trip, not
    /// two. nil for an unknown or revoked token.
    func presence(token: String, sha256: SHA256Digest) throws -> (user: AuthenticatedUser, asset: AssetPresence?)?
    func listAssets(user: UserID, after: AssetID?, limit: Int) throws -> [Asset]
    func uploads(of asset: AssetID) throws -> [ProviderID: String]
    func findOrCreateAsset(_ new: NewAsset) throws -> (asset: Asset, created: Bool)
    @discardableResult func insertAsset(_ new: NewAsset) throws -> AssetID
    @discardableResult func recordUpload(asset: AssetID, provider: ProviderID, providerAssetID: String) throws -> Bool
}

/// The trash: assets a user deleted, hidden from checks, lists and similar searches, restorable
/// until purged (the API, serve's retention purge, `assetdedup trash`).
public protocol AssetLifecycle: AnyObject {
    /// Moves the user's asset to the trash (a trashed one stays as it is); nil when the user has
    /// no such asset.
    func trashAsset(id: AssetID, user: UserID) throws -> Asset?
    /// Takes the user's asset out of the trash; nil when the user has no such asset.
    func restoreAsset(id: AssetID, user: UserID) throws -> Asset?
    /// One page of the user's trash in id order after `after`.
    func listTrash(user: UserID, after: AssetID?, limit: Int) throws -> [Asset]
    /// Assets (any user's) trashed before `cutoff` (a stored timestamp), oldest first.
    func trashedAssets(before cutoff: String, limit: Int) throws -> [AssetID]
    /// Deletes a trashed asset's row, and with it its provider records, deliveries and
    /// fingerprints, unless one of its deliveries is being sent right now. A provider copy only
    /// it recorded, of content a live asset still uses, is not offered for deletion when the
    /// content's other good copies number fewer than `max(1, minCopies)`: a purge never removes
    /// the last good copy of live content.
    func purgeAsset(id: AssetID, minCopies: Int) throws -> PurgeOutcome
}

/// What `purgeAsset` did.
public enum PurgeOutcome: Equatable, Sendable {
    case purged(PurgedAsset)
    /// The asset is live: only trashed assets are purged.
    case notTrashed
    /// A delivery of it is in progress; try again later.
    case deliveryInProgress
    case notFound
}

/// A purged asset and the provider copies only it held: the caller removes those per each
/// provider's `on_delete` (content-addressed copies other assets still hold are kept).
public struct PurgedAsset: Equatable, Sendable {
    public let asset: Asset
    public let soleCopies: [ProviderID: String]
    /// Copies only it recorded but kept for live content that needs them (minimum copies):
    /// provider -> the oldest live asset with the content.
    public let keptForLive: [ProviderID: AssetID]

    public init(asset: Asset, soleCopies: [ProviderID: String], keptForLive: [ProviderID: AssetID] = [:]) {
        self.asset = asset
        self.soleCopies = soleCopies
        self.keptForLive = keptForLive
    }
}

extension AssetLifecycle {
    /// A purge with no minimum beyond "never the last good copy".
    public func purgeAsset(id: AssetID) throws -> PurgeOutcome { try purgeAsset(id: id, minCopies: 1) }
}

/// What `assetdedup verify` reads and records: stored content and the last check of each copy.
public protocol CopyChecks: AnyObject {
    /// Content some asset holds, in hash order after `after`: its size and the provider copies
    /// recorded for it (any user's asset), skipping content whose blob was checked after
    /// `checkedSince` (a stored timestamp; nil checks everything). Strictly after: a pass that
    /// begins in the millisecond of an earlier check still checks that content.
    func contentToVerify(after: String?, limit: Int, checkedSince: String?) throws -> [StoredContent]
    func recordCopyCheck(_ check: CopyCheck) throws
    /// The checks of one piece of content, in one transaction: one commit per piece (serve's
    /// caches follow the database's change counter), and never half of them after a kill.
    func recordCopyChecks(_ checks: [CopyCheck]) throws
    /// One piece of content as `contentToVerify` gives it; nil when no asset holds it.
    func storedContent(_ sha256: SHA256Digest) throws -> StoredContent?
    /// Forgets that `provider` holds `sha256` (a copy found missing or corrupt): the
    /// `provider_uploads` rows of every asset with that content go, so the delivery queue sends
    /// it again, and so does the copy's last check (the copy to come is unverified); returns
    /// those assets.
    func forgetProviderCopies(sha256: SHA256Digest, provider: ProviderID) throws -> [AssetID]
    /// Every recorded check, worst first (for the integrity report and tests).
    func copyChecks() throws -> [CopyCheck]
    /// Recorded copies whose last check found them corrupt, missing or unreachable, worst first
    /// (`verify --repair` repairs the missing and corrupt ones, an interrupted run's too).
    func forEachCopyProblem(limit: Int?, _ body: (CopyCheck) throws -> Void) throws
    /// The whole-store verify pass `name`: when it began and, once every piece of content was
    /// checked, when it ended. An unfinished pass is the checkpoint the next run continues from.
    func verifyPass(_ name: String) throws -> VerifyPass?
    /// Begins pass `name` at `startedAt` (a stored timestamp), replacing a finished one.
    func startVerifyPass(_ name: String, at startedAt: String) throws
    func finishVerifyPass(_ name: String, at finishedAt: String) throws
    /// Keeps one repair, done or not (the report counts them).
    func recordRepair(_ repair: CopyRepair) throws
    /// Live content (some untrashed asset holds it) with fewer than `minCopies` good provider
    /// copies (recorded, and not found missing or corrupt by the last check), in hash order
    /// after `after`.
    func contentBelowMinimum(minCopies: Int, after: String?, limit: Int) throws -> [UnderReplicated]
    /// Per location (the blob, each provider): recorded copies, the last checks by state, the
    /// oldest check, repairs; and how much live content is below `minCopies`.
    func integritySummary(minCopies: Int) throws -> IntegritySummary
}

/// One whole-store verify pass (the checkpoint of `assetdedup verify`).
public struct VerifyPass: Equatable, Sendable {
    public let startedAt: String
    public let finishedAt: String?

    public init(startedAt: String, finishedAt: String?) {
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }
}

/// One repair attempted by `verify --repair` or serve's repair job.
public struct CopyRepair: Equatable, Sendable {
    public let sha256: SHA256Digest
    /// `blob`, or the provider id.
    public let location: String
    public let done: Bool
    public let what: String
    public let repairedAt: String

    public init(sha256: SHA256Digest, location: String, done: Bool, what: String, repairedAt: String) {
        self.sha256 = sha256
        self.location = location
        self.done = done
        self.what = what
        self.repairedAt = repairedAt
    }
}

/// Live content below the minimum number of copies.
public struct UnderReplicated: Equatable, Sendable {
    public let sha256: SHA256Digest
    public let size: Int64
    /// The oldest live asset holding it: the one a delivery is queued for.
    public let asset: AssetID
    public let mimeType: String?
    /// Providers holding a good copy.
    public let goodCopies: [ProviderID]

    public init(sha256: SHA256Digest, size: Int64, asset: AssetID, mimeType: String?, goodCopies: [ProviderID]) {
        self.sha256 = sha256
        self.size = size
        self.asset = asset
        self.mimeType = mimeType
        self.goodCopies = goodCopies
    }
}

/// What the integrity report shows.
public struct IntegritySummary: Equatable, Sendable {
    /// One place copies are kept: `blob` or a provider id.
    public struct Location: Equatable, Sendable {
        public let location: String
        /// Copies assets record there (for the blob: content some asset holds).
        public var recorded: Int
        /// The last check of each recorded copy, by state; recorded minus their sum were never checked.
        public var checks: [CopyCheck.State: Int]
        public var oldestCheck: String?
        public var repaired: Int
        public var notRepaired: Int

        public init(
            location: String, recorded: Int = 0, checks: [CopyCheck.State: Int] = [:], oldestCheck: String? = nil,
            repaired: Int = 0, notRepaired: Int = 0
        ) {
            self.location = location
            self.recorded = recorded
            self.checks = checks
            self.oldestCheck = oldestCheck
            self.repaired = repaired
            self.notRepaired = notRepaired
        }

        public var checked: Int { checks.values.reduce(0, +) }
        public var unchecked: Int { max(recorded - checked, 0) }
    }

    /// The blob first, then providers by id.
    public var locations: [Location]
    public var belowMinimum: Int
    public var minCopies: Int

    public init(locations: [Location], belowMinimum: Int, minCopies: Int) {
        self.locations = locations
        self.belowMinimum = belowMinimum
        self.minCopies = minCopies
    }
}

/// Content as stored: one blob, and the provider copies assets recorded for it.
public struct StoredContent: Equatable, Sendable {
    public let sha256: SHA256Digest
    public let size: Int64
    /// Provider id -> the provider's id for the copy.
    public let copies: [ProviderID: String]

    public init(sha256: SHA256Digest, size: Int64, copies: [ProviderID: String]) {
        self.sha256 = sha256
        self.size = size
        self.copies = copies
    }
}

/// One copy's last check.
public struct CopyCheck: Equatable, Sendable {
    public enum State: String, Sendable, CaseIterable {
        case ok, missing, corrupt, unreachable, unverifiable
    }

    public let sha256: SHA256Digest
    /// `blob`, or the provider id.
    public let location: String
    public let state: State
    public let detail: String?
    public let checkedAt: String

    public init(sha256: SHA256Digest, location: String, state: State, detail: String?, checkedAt: String) {
        self.sha256 = sha256
        self.location = location
        self.state = state
        self.detail = detail
        self.checkedAt = checkedAt
    }
}

/// Users and API tokens (the CLI, and the API's authentication).
public protocol UserDirectory: StoreSnapshots {
    @discardableResult func addUser(name: String, isAdmin: Bool) throws -> User
    func user(id: UserID) throws -> User?
    func user(named name: String) throws -> User?
    func listUsers() throws -> [User]
    func issueToken(for user: UserID, label: String?) throws -> (token: APIToken, secret: String)
    func token(id: Int64) throws -> APIToken?
    func listTokens(for user: UserID) throws -> [APIToken]
    func revokeToken(id: Int64) throws
    func authenticate(token: String) throws -> AuthenticatedUser?
    /// Best effort: fails at once rather than wait for another writer.
    func touchToken(id: Int64) throws
}

extension UserDirectory {
    @discardableResult public func addUser(name: String) throws -> User { try addUser(name: name, isAdmin: false) }
    public func issueToken(for user: UserID) throws -> (token: APIToken, secret: String) {
        try issueToken(for: user, label: nil)
    }
    /// The named user, or `StoreError.unknownUser`.
    public func requireUser(named name: String) throws -> User {
        guard let user = try user(named: name) else { throw StoreError.unknownUser(name) }
        return user
    }
}

/// The delivery queue (serve's workers, the API's waits, `sync`).
public protocol DeliveryQueue: AnyObject {
    func delivery(asset: AssetID, provider: ProviderID) throws -> Delivery?
    func deliveries(of asset: AssetID) throws -> [Delivery]
    func enqueueDelivery(asset: AssetID, provider: ProviderID, retryNow: Bool, now: Date) throws -> EnqueueOutcome
    func leaseNextDelivery(owner: String, leaseSeconds: [ProviderID: Double], now: Date) throws -> Delivery?
    func leaseDelivery(asset: AssetID, provider: ProviderID, owner: String, leaseSeconds: Double, now: Date) throws
        -> LeaseOutcome
    @discardableResult
    func completeDelivery(asset: AssetID, provider: ProviderID, providerAssetID: String, now: Date) throws -> Bool
    @discardableResult
    func failDelivery(asset: AssetID, provider: ProviderID, owner: String, error: String, retryAt: Date?, now: Date)
        throws -> Bool
    func deliveryLeaseOwners() throws -> [String]
    @discardableResult func expireLeases(owner: String, now: Date) throws -> Int
    func deliveryCounts() throws -> [DeliveryState: Int]
    /// The asset whoever owns it (deliveries and operator tools act across users).
    func anyUsersAsset(id: AssetID) throws -> Asset?
    func providerAssetID(of asset: AssetID, on provider: ProviderID) throws -> String?
}

extension DeliveryQueue {
    public func enqueueDelivery(asset: AssetID, provider: ProviderID, retryNow: Bool = false) throws
        -> EnqueueOutcome
    { try enqueueDelivery(asset: asset, provider: provider, retryNow: retryNow, now: Date()) }
    public func leaseNextDelivery(owner: String, leaseSeconds: [ProviderID: Double]) throws -> Delivery? {
        try leaseNextDelivery(owner: owner, leaseSeconds: leaseSeconds, now: Date())
    }
    public func leaseDelivery(asset: AssetID, provider: ProviderID, owner: String, leaseSeconds: Double) throws
        -> LeaseOutcome
    { try leaseDelivery(asset: asset, provider: provider, owner: owner, leaseSeconds: leaseSeconds, now: Date()) }
    @discardableResult
    public func completeDelivery(asset: AssetID, provider: ProviderID, providerAssetID: String) throws -> Bool {
        try completeDelivery(asset: asset, provider: provider, providerAssetID: providerAssetID, now: Date())
    }
    @discardableResult
    public func failDelivery(asset: AssetID, provider: ProviderID, owner: String, error: String, retryAt: Date?)
        throws -> Bool
    { try failDelivery(asset: asset, provider: provider, owner: owner, error: error, retryAt: retryAt, now: Date()) }
    @discardableResult public func expireLeases(owner: String) throws -> Int {
        try expireLeases(owner: owner, now: Date())
    }
}

/// Resumable uploads' rows: offset, hash state, the append lock (the API).
public protocol UploadSessionStore: AnyObject {
    func createUploadSession(_ session: UploadSession, lockOwner: String) throws
    func uploadSession(id: String, user: UserID) throws -> UploadSession?
    func lockUploadSession(
        id: String, user: UserID, owner: String, staleAfter: Double, isOwnerAlive: (String) -> Bool?
    ) throws -> UploadLockOutcome
    func recordAppend(id: String, owner: String, offset: Int64, hashState: [UInt8], length: Int64?) throws -> Bool
    func recordCompletion(id: String, owner: String, offset: Int64, hashState: [UInt8], sha256: SHA256Digest) throws
        -> Bool
    func markUploadAnswered(id: String) throws
    func unlockUploadSession(id: String, owner: String) throws
    func deleteUploadSession(id: String) throws
    func expiredUploadSessions(olderThanSeconds: Double) throws -> [String]
    func deleteExpiredUploadSession(id: String, olderThanSeconds: Double) throws -> Bool
    func uploadSessionExists(id: String) throws -> Bool
    func partialUploadTotals() throws -> (count: Int, bytes: Int64)
}

/// Duplicate groups and the admins' decisions on them (admin page, `review`, reports).
public protocol DuplicateReviews: StoreSnapshots {
    func duplicateGroupMembers(after: String, limit: Int) throws -> [DuplicateMember]
    func latestDuplicateReview(group: String) throws -> DuplicateReview?
    @discardableResult
    func recordDuplicateReview(group: String, decision: String, keepAssetID: Int64?, note: String?, reviewedBy: String)
        throws -> DuplicateReview
}

/// The nightly reports' aggregate reads: read-only, nothing here writes.
public protocol ReportSource: StoreSnapshots, NearDuplicateReads {
    func storeTotals() throws -> StoreTotals
    func forEachDuplicateMember(_ body: (DuplicateMember) throws -> Void) throws
    func latestDuplicateReviews() throws -> [String: DuplicateReview]
    func mergeRecords(limit: Int) throws -> [MergeRecord]
    func forEachUserProviderCombination(_ body: (UserCombination) throws -> Void) throws
    func underCoveredAssets(minProviders: Int, limit: Int) throws -> [UnderCoveredAsset]
    func assetIndexFacts() throws -> AssetIndexFacts
    func partialUploadTotals() throws -> (count: Int, bytes: Int64)
    /// Orphan blobs marked by `gc` and not yet collected.
    func orphanSummary() throws -> OrphanSummary
    func migrationStatus() throws -> [MigrationStatus]
    func tableExists(_ name: String) throws -> Bool
    /// The integrity page (issue 24): see `CopyChecks`.
    func integritySummary(minCopies: Int) throws -> IntegritySummary
    func contentBelowMinimum(minCopies: Int, after: String?, limit: Int) throws -> [UnderReplicated]
    /// Recorded copies whose last check found them corrupt, missing or unreachable, worst first,
    /// up to `limit` (nil: all, streamed for the exports).
    func forEachCopyProblem(limit: Int?, _ body: (CopyCheck) throws -> Void) throws
}

/// What `sync` and `whereis` read.
public protocol ProviderCoverage: AnyObject {
    func assetsMissing(on provider: ProviderID, user: UserID?, after: AssetID?, limit: Int) throws -> [Asset]
    func countMissing(on provider: ProviderID, user: UserID?) throws -> MissingOnProvider
    func countUnhashed(user: UserID?) throws -> Int
    func assets(sha256: SHA256Digest, user: UserID?) throws -> [Asset]
    func uploadRecords(of asset: AssetID) throws -> [ProviderUpload]
}

/// Legacy rows still waiting for a hash (`backfill`).
public protocol BackfillStore: AnyObject {
    func unhashedAssetCount() throws -> Int
    func unhashedAssets(after: AssetID?, limit: Int) throws -> [BackfillRow]
    func recordBackfilledHash(asset id: AssetID, sha256: SHA256Digest, size: Int64) throws -> BackfillOutcome
}

/// The schema's history on this database (`migrate`, `serve`'s version check).
public protocol SchemaMigrations: AnyObject {
    /// The backend's name ("sqlite", "postgresql"), for messages.
    var backendName: String { get }
    func schemaVersion() throws -> Int
    /// The newest version this binary knows.
    var latestKnownVersion: Int { get }
    func migrationStatus() throws -> [MigrationStatus]
    @discardableResult func migrateUp(to target: Int?, log: (String) -> Void) throws -> [Int]
    @discardableResult func migrateDown(to target: Int, log: (String) -> Void) throws -> [Int]
}

/// Everything a backend offers: what the executable opens and hands out by protocol.
public typealias AssetDedupStore = AssetCatalog & AssetLifecycle & UserDirectory & DeliveryQueue & UploadSessionStore
    & DuplicateReviews & ReportSource & ProviderCoverage & BackfillStore & SchemaMigrations & NamedLeases
    & BlobCollection & MediaFingerprints & CopyChecks & NearDuplicateReviews

/// A named lease in the database: one holder at a time across every process and node.
public struct NamedLease: Equatable, Sendable {
    public var name: String
    public var owner: String
    public var expiresAt: String

    public init(name: String, owner: String, expiresAt: String) {
        self.name = name
        self.owner = owner
        self.expiresAt = expiresAt
    }
}

/// Leases that say "only one of these runs" to every node (`sync:<provider>`).
public protocol NamedLeases: AnyObject {
    /// Takes `name` for `owner` until `now + seconds` when it is free, expired or already
    /// `owner`'s (taking it again renews it); returns the lease as it stands, so the caller
    /// holds it when `owner` is its own.
    func acquireLease(name: String, owner: String, seconds: Double, now: Date) throws -> NamedLease
    /// Gives `name` up if `owner` holds it (also used to end a dead holder's lease).
    @discardableResult func releaseLease(name: String, owner: String) throws -> Bool
}
