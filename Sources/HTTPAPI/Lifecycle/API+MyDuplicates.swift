import AssetDedupCore
import StoreProtocols

/// A user's own near-duplicates and a bulk rule that resolves them: each group keeps one asset
/// (by the rule) and the others go to the trash, undoable from there. `dry_run` answers exactly
/// what the same request would trash, touching nothing.
extension API {
    /// The rules a bulk resolution can keep by.
    enum KeepRule: String, CaseIterable {
        /// The largest file (ties: the oldest).
        case largest
        /// The first uploaded.
        case oldest
        /// The one on most providers (ties: the oldest).
        case mostProviders = "most_providers"

        func pick(_ assets: [Asset]) -> Asset {
            switch self {
            case .largest: assets.max { ($0.size, -$0.id.rawValue) < ($1.size, -$1.id.rawValue) }!
            case .oldest: assets.min { $0.id.rawValue < $1.id.rawValue }!
            case .mostProviders:
                assets.max { ($0.uploads.count, -$0.id.rawValue) < ($1.uploads.count, -$1.id.rawValue) }!
            }
        }
    }

    /// The caller's groups with their members, after `after` (an anchor id), `limit` groups.
    private func myGroups(_ user: AuthenticatedUser, after: AssetID?, limit: Int) throws -> [[Asset]] {
        try store.readSnapshot {
            try store.nearDuplicateGroups(user: user.userID)
                .filter { after == nil || $0[0].rawValue > after!.rawValue }
                .prefix(limit)
                .map { ids in try ids.compactMap { try store.asset(id: $0, user: user.userID) } }
                .filter { $0.count > 1 }
        }
    }

    /// `GET /near-duplicates?limit&after`: the caller's near-duplicate groups, by anchor id.
    func myNearDuplicates(_ request: HTTPRequest, user: AuthenticatedUser) throws -> HTTPResponse {
        let (limit, after) = try page(request)
        let groups = try myGroups(user, after: after, limit: limit + 1)
        let page = Array(groups.prefix(limit))
        return .json(
            JSONObject(
                .object([
                    (
                        "groups",
                        .array(
                            page.map { members in
                                .object([
                                    ("anchor_asset_id", .int(members[0].id.rawValue)),
                                    ("assets", .array(members.map { AssetView($0).json })),
                                ])
                            })
                    ),
                    ("next_after", .int(groups.count > limit ? page.last?.first?.id.rawValue : nil)),
                ])))
    }

    /// `POST /near-duplicates/resolve {rule, dry_run}`: keeps one asset per group by `rule`,
    /// trashes the rest (or only says so with `dry_run`). Every group of the caller's.
    func resolveNearDuplicates(_ request: HTTPRequest, user: AuthenticatedUser) throws -> HTTPResponse {
        let body = try decodeJSON(ResolveRequest.self, from: request)
        let (rule, dryRun) = (body.rule, body.dryRun)
        let plan = try myGroups(user, after: nil, limit: .max).map { assets -> (keep: Asset, trash: [Asset]) in
            let keep = rule.pick(assets)
            return (keep, assets.filter { $0.id != keep.id })
        }
        // A preview's list, sent back: the groups changed since (an upload, a trash elsewhere)
        // and nothing is trashed, so what a person confirmed is exactly what happens.
        if let expected = body.expectTrash, !dryRun {
            let planned = Set(plan.flatMap { $0.trash.map(\.id.rawValue) })
            guard planned == Set(expected) else {
                throw APIError(
                    status: 409, code: "plan_changed",
                    message: "your near-duplicate groups changed since the preview; nothing was trashed: preview again")
            }
        }
        var trashed = 0
        if !dryRun {
            for group in plan {
                for asset in group.trash where try store.trashAsset(id: asset.id, user: user.userID) != nil {
                    trashed += 1
                }
            }
            metrics.lifecycle(.trashed, count: trashed)
            logger.info(
                "user \(user.name) resolved \(plan.count) near-duplicate group(s) by \(rule.rawValue): \(trashed) trashed"
            )
        }
        return .json(
            JSONObject(
                .object([
                    ("rule", .string(rule.rawValue)), ("dry_run", .bool(dryRun)),
                    (
                        "groups",
                        .array(
                            plan.map { group in
                                .object([
                                    ("keep", .int(group.keep.id.rawValue)),
                                    ("trash", .array(group.trash.map { .int($0.id.rawValue) })),
                                ])
                            })
                    ),
                    ("trashed", .int(Int64(trashed))),
                ])))
    }
}

/// `POST /near-duplicates/resolve` body: `{rule, dry_run?, expect_trash?}`.
struct ResolveRequest: JSONReadable {
    let rule: API.KeepRule
    let dryRun: Bool
    /// The ids a preview (`dry_run`) said it would trash: a different plan is 409 `plan_changed`.
    let expectTrash: [Int64]?

    init(json: JSONValue) throws {
        guard case .object(let members) = json else { throw JSONShapeError.wrongType(path: "") }
        func member(_ name: String) -> JSONValue? { members.last { $0.0 == name }?.1 }
        let names = API.KeepRule.allCases.map(\.rawValue).joined(separator: ", ")
        guard let value = member("rule") else { throw JSONShapeError.missing(path: "rule") }
        guard case .string(let text) = value else { throw JSONShapeError.wrongType(path: "rule") }
        guard let rule = API.KeepRule(rawValue: text) else {
            throw APIError.badRequest("invalid_rule", "rule must be one of \(names)")
        }
        self.rule = rule
        switch member("dry_run") {
        case nil, .null?: dryRun = false
        case .bool(let value)?: dryRun = value
        default: throw JSONShapeError.wrongType(path: "dry_run")
        }
        switch member("expect_trash") {
        case nil, .null?: expectTrash = nil
        case .array(let items)?:
            expectTrash = try items.enumerated().map { index, item in
                switch item {
                case .int(let id) where id > 0: return id
                // 5.0 is an integer to JSON Schema.
                case .double(let d) where d.rounded() == d && d >= 1 && d < 9.2e18: return Int64(d)
                default: throw APIError.badRequest("invalid_field", "expect_trash[\(index)] must be an asset id")
                }
            }
        default: throw JSONShapeError.wrongType(path: "expect_trash")
        }
    }
}
