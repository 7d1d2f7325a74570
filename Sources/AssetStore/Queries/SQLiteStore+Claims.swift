import AssetDedupCore

/// What `claimUpload` found for one (asset, provider).
public enum ClaimOutcome: Equatable, Sendable {
    /// The caller holds the claim now and may send; it must `recordUpload` or `releaseClaim`.
    case claimed
    /// A `provider_uploads` row exists: the provider has it under this id; send nothing.
    case alreadyUploaded(providerAssetID: String)
    /// Another uploader (`by`, since `since`, UTC) is sending it right now.
    case claimedElsewhere(by: String, since: String)
}

/// Upload claims: one row per (asset, provider) while an upload is on its way, so the API and
/// `sync` (separate processes) never both send the same content to one provider.
extension SQLiteStore {
    /// Claims the upload of `asset` to `provider` for `owner` (`"api pid 12"`, `"sync pid 34"`).
    ///
    /// One `BEGIN IMMEDIATE` transaction, so two processes cannot both see "nobody" and both
    /// insert. A claim older than `staleAfter` seconds belongs to an uploader that died (an
    /// uploader never takes longer than its provider's time limit) and is taken over. A claim
    /// already held by `owner` is returned to it: one owner never runs one pair twice at once
    /// (the API serialises per pair in process, and a sync run sends each asset once), so it
    /// is a leftover of this process or of a dead one whose pid was reused.
    public func claimUpload(asset: AssetID, provider: ProviderID, owner: String, staleAfter: Double) throws
        -> ClaimOutcome
    {
        try db.writeTransaction {
            if let id = try providerAssetID(of: asset, on: provider) { return .alreadyUploaded(providerAssetID: id) }
            let holder = try db.queryFirst(
                """
                SELECT claimed_by, claimed_at,
                    claimed_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', printf('-%.3f seconds', ?3))
                FROM provider_upload_claims WHERE asset_id = ?1 AND provider_id = ?2
                """, [asset.rawValue, provider.rawValue, max(staleAfter, 0)]
            ) { (by: $0.text(0), since: $0.text(1), stale: $0.int(2) != 0) }
            if let holder, !holder.stale, holder.by != owner {
                return .claimedElsewhere(by: holder.by, since: holder.since)
            }
            try db.run(
                """
                INSERT INTO provider_upload_claims (asset_id, provider_id, claimed_by, claimed_at)
                VALUES (?1, ?2, ?3, \(Self.now))
                ON CONFLICT (asset_id, provider_id) DO UPDATE SET claimed_by = excluded.claimed_by,
                    claimed_at = excluded.claimed_at
                """, [asset.rawValue, provider.rawValue, owner])
            return .claimed
        }
    }

    /// Drops the claim without a record: the upload failed, and a later upload or sync may try.
    public func releaseClaim(asset: AssetID, provider: ProviderID) throws {
        try db.run(
            "DELETE FROM provider_upload_claims WHERE asset_id = ? AND provider_id = ?",
            [asset.rawValue, provider.rawValue])
    }

    /// Drops every claim on `provider` whose owner starts with `ownerPrefix`; returns how many.
    /// For `sync`, which holds the one-sync-per-provider lock: any other sync's claim on this
    /// provider was left by a run that was killed, and need not wait to go stale.
    @discardableResult
    public func releaseClaims(on provider: ProviderID, ownerPrefix: String) throws -> Int {
        try db.run(
            """
            DELETE FROM provider_upload_claims
            WHERE provider_id = ?1 AND substr(claimed_by, 1, length(?2)) = ?2
            """, [provider.rawValue, ownerPrefix])
    }

    /// Who holds the claim on the pair and since when, if anyone (for waits and tests).
    public func uploadClaim(asset: AssetID, provider: ProviderID) throws -> (by: String, since: String)? {
        try db.queryFirst(
            "SELECT claimed_by, claimed_at FROM provider_upload_claims WHERE asset_id = ? AND provider_id = ?",
            [asset.rawValue, provider.rawValue]
        ) { (by: $0.text(0), since: $0.text(1)) }
    }
}
