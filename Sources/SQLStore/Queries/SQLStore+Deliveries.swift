import AssetDedupCore
import Foundation
import SQLInterface

/// The delivery queue (migration 8): enqueue, lease, record. Every write is one serialised
/// write transaction (`SQLConnection.writeTransaction`), so two processes never lease one job; a lease whose expiry has
/// passed belongs to a sender that died and is taken over. Times come from the caller (`now`),
/// so tests can move the clock.
extension SQLStore {
    static var deliveryColumns: String {
        """
        asset_id, provider_id, state, attempts, last_error, next_attempt_at, lease_owner, lease_expires_at,
        idempotency_key, created_at, updated_at
        """
    }

    static func delivery(_ row: Row) -> Delivery? {
        guard let provider = try? ProviderID(parsing: row.text(1)), let state = DeliveryState(rawValue: row.text(2))
        else { return nil }
        return Delivery(
            assetID: AssetID(row.int(0)), providerID: provider, state: state, attempts: Int(row.int(3)),
            lastError: row.optionalText(4), nextAttemptAt: row.text(5), leaseOwner: row.optionalText(6),
            leaseExpiresAt: row.optionalText(7), idempotencyKey: row.text(8), createdAt: row.text(9),
            updatedAt: row.text(10))
    }

    /// The pair's job, if there is one.
    public func delivery(asset: AssetID, provider: ProviderID) throws -> Delivery? {
        try db.queryFirst(
            "SELECT \(Self.deliveryColumns) FROM deliveries WHERE asset_id = ? AND provider_id = ?",
            [asset.rawValue, provider.rawValue], row: Self.delivery) ?? nil
    }

    /// Every job of the asset, by provider id (for `GET /assets/{id}`).
    public func deliveries(of asset: AssetID) throws -> [Delivery] {
        try db.query(
            "SELECT \(Self.deliveryColumns) FROM deliveries WHERE asset_id = ? ORDER BY provider_id",
            [asset.rawValue], row: Self.delivery
        ).compactMap { $0 }
    }

    /// Queues the pair unless the provider already has it. Idempotent: an existing queued or
    /// delivering job is left as it is (with `retryNow`, a queued one is made due at once); a
    /// failed one is queued again (a new upload or request asks for it); its key never changes.
    public func enqueueDelivery(asset: AssetID, provider: ProviderID, retryNow: Bool = false, now: Date = Date())
        throws -> EnqueueOutcome
    {
        try db.writeTransaction {
            if let id = try providerAssetID(of: asset, on: provider) { return .alreadyDelivered(providerAssetID: id) }
            return .pending(try upsertQueued(asset: asset, provider: provider, retryNow: retryNow, now: now))
        }
    }

    /// Inside a write transaction, with no `provider_uploads` row: the job, queued if it was not pending.
    private func upsertQueued(asset: AssetID, provider: ProviderID, retryNow: Bool, now: Date) throws -> Delivery {
        let stamp = Timestamp.string(now)
        try db.run(
            """
            INSERT INTO deliveries (asset_id, provider_id, state, attempts, next_attempt_at, idempotency_key,
                created_at, updated_at)
            VALUES (?1, ?2, 'queued', 0, ?3, ?4, ?3, ?3)
            ON CONFLICT (asset_id, provider_id) DO UPDATE SET
                state = 'queued', next_attempt_at = ?3, updated_at = ?3, lease_owner = NULL, lease_expires_at = NULL
            WHERE deliveries.state IN ('failed', 'delivered') OR (?5 = 1 AND deliveries.state = 'queued')
            """, [asset.rawValue, provider.rawValue, stamp, Self.newIdempotencyKey(), retryNow])
        return try delivery(asset: asset, provider: provider)!
    }

    /// Leases the next due job on one of `providers` for `owner`: the oldest queued job whose
    /// time has come, or one whose lease expired. The lease lasts `leaseSeconds[provider]`.
    public func leaseNextDelivery(owner: String, leaseSeconds: [ProviderID: Double], now: Date = Date()) throws
        -> Delivery?
    {
        guard !leaseSeconds.isEmpty else { return nil }
        let providers = leaseSeconds.keys.map(\.rawValue).sorted()
        let arguments: [SQLBindable] = [Timestamp.string(now)] + providers
        let dueSQL = """
            SELECT \(Self.deliveryColumns) FROM deliveries
            WHERE ((state = 'queued' AND next_attempt_at <= ?1)
                OR (state = 'delivering' AND lease_expires_at <= ?1))
              AND provider_id IN (\((2...providers.count + 1).map { "?\($0)" }.joined(separator: ", ")))
            ORDER BY next_attempt_at LIMIT 1
            """
        // Look first without the write lock: idle workers poll, and must not queue behind (or
        // hold up) the uploads' writers twice a second for nothing.
        guard try db.queryFirst(dueSQL, arguments, row: { _ in true }) != nil else { return nil }
        return try db.writeTransaction {
            guard let due = try db.queryFirst(dueSQL, arguments, row: Self.delivery) ?? nil else {
                return nil
            }
            return try take(due, owner: owner, leaseSeconds: leaseSeconds[due.providerID] ?? 900, now: now)
        }
    }

    /// Enqueues (due at once) and leases one named pair, for a caller that sends it itself
    /// (`sync`, or an API with no delivery workers). A live lease held by another owner is left.
    public func leaseDelivery(
        asset: AssetID, provider: ProviderID, owner: String, leaseSeconds: Double, now: Date = Date()
    ) throws -> LeaseOutcome {
        try db.writeTransaction {
            if let id = try providerAssetID(of: asset, on: provider) { return .alreadyDelivered(providerAssetID: id) }
            let job = try upsertQueued(asset: asset, provider: provider, retryNow: true, now: now)
            if job.state == .delivering, job.leaseOwner != owner,
                (job.leaseExpiresAt ?? "") > Timestamp.string(now)
            {
                return .heldElsewhere(job)
            }
            return .leased(try take(job, owner: owner, leaseSeconds: leaseSeconds, now: now))
        }
    }

    /// Inside a write transaction: marks the job delivering for `owner` and counts the attempt.
    private func take(_ job: Delivery, owner: String, leaseSeconds: Double, now: Date) throws -> Delivery {
        let expires = Timestamp.string(now.addingTimeInterval(max(leaseSeconds, 1)))
        try db.run(
            """
            UPDATE deliveries SET state = 'delivering', lease_owner = ?3, lease_expires_at = ?4,
                attempts = attempts + 1, updated_at = ?5
            WHERE asset_id = ?1 AND provider_id = ?2
            """, [job.assetID.rawValue, job.providerID.rawValue, owner, expires, Timestamp.string(now)])
        return try delivery(asset: job.assetID, provider: job.providerID)!
    }

    /// Records a success: the `provider_uploads` row and the delivered state in one transaction,
    /// so nobody ever sees one without the other. A second record for the pair keeps the first
    /// id (the provider already had it). Returns whether this call wrote the row.
    @discardableResult
    public func completeDelivery(asset: AssetID, provider: ProviderID, providerAssetID: String, now: Date = Date())
        throws -> Bool
    {
        try db.writeTransaction {
            let inserted =
                try db.run(
                    """
                    INSERT INTO provider_uploads (asset_id, provider_id, provider_asset_id, uploaded_at)
                    VALUES (?, ?, ?, ?) ON CONFLICT (asset_id, provider_id) DO NOTHING
                    """, [asset.rawValue, provider.rawValue, providerAssetID, Timestamp.string(now)]) == 1
            try markDelivered(asset: asset, provider: provider, now: now)
            return inserted
        }
    }

    /// Inside a write transaction with the `provider_uploads` row written: the job is delivered
    /// (created delivered when nobody queued it, e.g. a record by an operator tool).
    func markDelivered(asset: AssetID, provider: ProviderID, now: Date) throws {
        let stamp = Timestamp.string(now)
        try db.run(
            """
            INSERT INTO deliveries (asset_id, provider_id, state, attempts, next_attempt_at, idempotency_key,
                created_at, updated_at)
            VALUES (?1, ?2, 'delivered', 1, ?3, ?4, ?3, ?3)
            ON CONFLICT (asset_id, provider_id) DO UPDATE SET state = 'delivered', last_error = NULL,
                lease_owner = NULL, lease_expires_at = NULL, updated_at = ?3
            """, [asset.rawValue, provider.rawValue, stamp, Self.newIdempotencyKey()])
    }

    /// Records a failed attempt by `owner`: back to queued, due at `retryAt`, when `retryAt` is
    /// given (retryable), else failed. A job whose lease `owner` lost meanwhile is not touched.
    @discardableResult
    public func failDelivery(
        asset: AssetID, provider: ProviderID, owner: String, error: String, retryAt: Date?, now: Date = Date()
    ) throws -> Bool {
        try db.writeTransaction {
            try db.run(
                """
                UPDATE deliveries SET state = ?4, last_error = ?5, next_attempt_at = coalesce(?6, next_attempt_at),
                    lease_owner = NULL, lease_expires_at = NULL, updated_at = ?7
                WHERE asset_id = ?1 AND provider_id = ?2 AND state = 'delivering' AND lease_owner = ?3
                """,
                [
                    asset.rawValue, provider.rawValue, owner, retryAt == nil ? "failed" : "queued",
                    String(error.prefix(2000)), retryAt.map(Timestamp.string), Timestamp.string(now),
                ]) == 1
        }
    }

    /// The owners of every lease in force, so a process can spot leases of dead ones on its host.
    public func deliveryLeaseOwners() throws -> [String] {
        try db.query(
            "SELECT DISTINCT lease_owner FROM deliveries WHERE state = 'delivering' AND lease_owner IS NOT NULL"
        ) { $0.text(0) }
    }

    /// Ends `owner`'s leases now (its process is known to be dead), so any worker takes them over.
    @discardableResult
    public func expireLeases(owner: String, now: Date = Date()) throws -> Int {
        try db.run(
            """
            UPDATE deliveries SET lease_expires_at = ?2
            WHERE state = 'delivering' AND lease_owner = ?1 AND lease_expires_at > ?2
            """, [owner, Timestamp.string(now)])
    }

    /// Jobs not yet delivered, by state (for tests and the operator).
    public func deliveryCounts() throws -> [DeliveryState: Int] {
        var counts: [DeliveryState: Int] = [:]
        for (state, count) in try db.query(
            "SELECT state, count(*) FROM deliveries GROUP BY state",
            row: {
                (DeliveryState(rawValue: $0.text(0)), Int($0.int(1)))
            })
        {
            if let state { counts[state] = count }
        }
        return counts
    }

    /// 128 random bits from the system CSPRNG, as 32 hex digits.
    static func newIdempotencyKey() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in
            let value = generator.next() as UInt64
            let hex = String(value, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }
}

