import AssetDedupCore
import Delivery
import Foundation
import Metrics
import Providers
import StoreProtocols

extension API {
    /// Who sends a job from a request thread, when this process runs no delivery workers.
    static let inlineOwner = LeaseOwner(role: "api").description

    /// Puts `asset` on `provider` through the delivery queue and answers like an upload:
    /// reuse when it is there, else enqueue and wait (bounded, admitted) for the delivery;
    /// 201/200 delivered, 502 failed, 202 queued when the wait ends first or the client asked
    /// for `Prefer: respond-async`.
    func deliver(_ asset: Asset, to provider: ProviderID, created: Bool, request: HTTPRequest) throws -> HTTPResponse {
        let reused: UploadStatus = created ? .created : .reused
        if asset.uploads[provider] != nil { return try answer(asset.id, user: asset.userID, reused, provider, created) }
        let respondAsync = Self.prefersRespondAsync(request)
        let start: Delivery
        if deliveries.workerCount == 0 && !respondAsync {
            // No workers in this process (tests, tools): the request is the worker, same queue and lease.
            let adapter = providers.provider(provider)!
            switch try store.leaseDelivery(
                asset: asset.id, provider: provider, owner: Self.inlineOwner, leaseSeconds: adapter.leaseSeconds)
            {
            case .alreadyDelivered:
                return try answer(asset.id, user: asset.userID, reused, provider, created)
            case .leased(let job):
                runner.run(job, owner: Self.inlineOwner, store: store)
                return try answer(job, user: asset.userID, created: created)
            case .heldElsewhere(let job):
                start = job
            }
        } else {
            switch try store.enqueueDelivery(asset: asset.id, provider: provider, retryNow: true) {
            case .alreadyDelivered:
                return try answer(asset.id, user: asset.userID, reused, provider, created)
            case .pending(let job):
                start = job
            }
            deliveries.enqueued()
        }
        if respondAsync || !deliveries.admitWaiter() {
            return try queued(asset.id, user: asset.userID, provider, respondAsync: respondAsync)
        }
        defer { deliveries.leaveWaiter() }
        let waiter = DeliveryWaiter(store: store, hub: deliveries)
        guard let settled = try waiter.wait(for: start, until: Date().addingTimeInterval(limits.deliveryWaitSeconds))
        else { return try queued(asset.id, user: asset.userID, provider, respondAsync: false) }
        return try answer(settled, user: asset.userID, created: created)
    }

    /// The answer for a job that settled: delivered (201 created / 200 added_provider) or a
    /// 502 `provider_failed` whose `retryable` says whether the queue will try again.
    private func answer(_ job: Delivery, user: UserID, created: Bool) throws -> HTTPResponse {
        let current = try store.delivery(asset: job.assetID, provider: job.providerID) ?? job
        switch current.state {
        case .delivered:
            return try answer(
                current.assetID, user: user, created ? .created : .addedProvider, current.providerID, created)
        case .failed, .queued:
            let retryable = current.state == .queued
            let message = current.lastError ?? "unknown error"
            let next =
                retryable
                ? "its delivery will be retried automatically (GET /api/v1/assets/\(current.assetID) shows it)"
                : "upload again or POST /api/v1/assets/\(current.assetID)/providers to retry"
            throw APIError(
                status: 502, code: "provider_failed",
                message:
                    "provider \(current.providerID) failed: \(message); the asset is kept (id \(current.assetID)), \(next)",
                retryable: retryable)
        case .delivering:
            return try queued(current.assetID, user: user, current.providerID, respondAsync: false)
        }
    }

    /// The upload JSON with the asset as stored now and its deliveries.
    private func answer(_ id: AssetID, user: UserID, _ status: UploadStatus, _ provider: ProviderID, _ created: Bool)
        throws -> HTTPResponse
    {
        guard let asset = try store.asset(id: id, user: user) else { throw APIError.assetNotFound }
        metrics.upload(Self.outcome(status))
        let code = created ? 201 : 200
        var result = UploadResult(asset: asset, status: status, provider: provider, deliveries: try summaries(of: id))
        result.nearDuplicates = try nearDuplicateFields(id, user: user)
        return .json(result, status: code)
    }

    /// 202 with `status: "queued"`; `Preference-Applied` when the client asked for it.
    private func queued(_ id: AssetID, user: UserID, _ provider: ProviderID, respondAsync: Bool) throws -> HTTPResponse
    {
        guard let asset = try store.asset(id: id, user: user) else { throw APIError.assetNotFound }
        metrics.upload(.queued)
        var result = UploadResult(asset: asset, status: .queued, provider: provider, deliveries: try summaries(of: id))
        result.nearDuplicates = try nearDuplicateFields(id, user: user)
        var response = HTTPResponse.json(result, status: 202)
        if respondAsync { response.headers.append(("Preference-Applied", "respond-async")) }
        return response
    }

    /// The `assetdedup_uploads_total` outcome of an upload answer.
    static func outcome(_ status: UploadStatus) -> Metrics.UploadOutcome {
        switch status {
        case .created: .created
        case .reused: .reused
        case .addedProvider: .addedProvider
        case .queued: .queued
        }
    }

    /// The asset's deliveries as the API shows them, by provider id.
    func summaries(of asset: AssetID) throws -> [String: DeliverySummary] {
        Dictionary(
            uniqueKeysWithValues: try store.deliveries(of: asset).map {
                (
                    $0.providerID.rawValue,
                    DeliverySummary(
                        state: $0.state.rawValue, attempts: $0.attempts, lastError: $0.lastError,
                        updatedAt: $0.updatedAt)
                )
            })
    }

    /// RFC 7240: `Prefer: respond-async` among the preferences (case-insensitive, parameters ignored).
    static func prefersRespondAsync(_ request: HTTPRequest) -> Bool {
        guard let header = request.headers["prefer"] else { return false }
        return header.split(separator: ",").contains {
            $0.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() == "respond-async"
        }
    }

    /// `POST /assets/{id}/providers` `{provider_id}`: deliver content the server already holds
    /// to one more provider; the client sends no file bytes. Another user's asset is 404.
    func addProvider(assetID text: String, request: HTTPRequest, user: AuthenticatedUser) throws -> HTTPResponse {
        let body = try decodeJSON(AddProviderRequest.self, from: request)
        guard let id = try? AssetID(parsing: text), let asset = try store.asset(id: id, user: user.userID),
            asset.trashedAt == nil
        else { throw APIError.assetNotFound }
        let provider = try configuredProvider(body.providerID)
        guard let sha256 = asset.sha256 else {
            throw APIError(
                status: 409, code: "asset_not_hashed",
                message: "asset \(id) has no sha256 yet (a legacy row awaiting backfill); nothing was queued")
        }
        guard try blobs.contains(sha256) else {
            throw APIError(
                status: 409, code: "blob_missing",
                message: "the server does not hold the bytes of asset \(id); upload the file instead")
        }
        try checkAccepted(asset.mimeType, by: provider)
        return try deliver(asset, to: provider, created: false, request: request)
    }
}
