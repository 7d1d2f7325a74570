import AssetDedupCore
import StoreProtocols

/// One duplicate group as `GET /admin/duplicates` lists it.
struct DuplicateGroupView: JSONRepresentable {
    let sha256: String
    let size: Int64
    let holders: [DuplicateMember]
    let review: DuplicateReview?

    /// What one shared blob saves over one copy per holder (as the duplicates report counts it).
    var bytesSaved: Int64 { size * Int64(max(holders.count - 1, 0)) }

    var json: JSONValue {
        .object([
            ("sha256", .string(sha256)), ("size", .int(size)), ("bytes_saved", .int(bytesSaved)),
            (
                "holders",
                .array(
                    holders.map {
                        .object([
                            ("asset_id", .int($0.assetID)), ("user_id", .int($0.userID)),
                            ("user_name", .string($0.userName)),
                            ("original_filename", .string($0.originalFilename)), ("size", .int($0.size)),
                            ("created_at", .string($0.createdAt)),
                        ])
                    })
            ),
            ("review", review.map(ReviewView.init).map(\.json) ?? .null),
        ])
    }
}

/// A recorded decision: the `duplicate_reviews` row `assetdedup review` also writes.
struct ReviewView: JSONRepresentable {
    let review: DuplicateReview

    init(_ review: DuplicateReview) { self.review = review }

    var json: JSONValue {
        .object([
            ("sha256", .string(review.groupSHA256)), ("decision", .string(review.decision)),
            ("keep_asset_id", .int(review.keepAssetID)), ("note", .string(review.note)),
            ("reviewed_by", .string(review.reviewedBy)), ("reviewed_at", .string(review.reviewedAt)),
        ])
    }
}

/// `GET /admin/duplicates` page.
struct DuplicateGroupPage: JSONRepresentable {
    let groups: [DuplicateGroupView]
    /// Pass as `after` for the next page; null on the last page.
    let nextAfter: String?

    var json: JSONValue { .object([("groups", .array(groups.map(\.json))), ("next_after", .string(nextAfter))]) }
}

/// `POST /admin/duplicates/{sha256}/review` answer.
struct ReviewRecorded: JSONRepresentable {
    let review: DuplicateReview
    var json: JSONValue { .object([("review", ReviewView(review).json)]) }
}

extension API {
    /// The token's user if an admin: 401 without a valid token, 403 `forbidden` for others.
    /// The token comes in the Authorization header only (never a cookie), so a page on another
    /// site cannot make a browser send it: no CSRF token needed.
    func admin(_ request: HTTPRequest) throws -> AuthenticatedUser {
        let user = try authenticate(request)
        guard user.isAdmin else { throw APIError(status: 403, code: "forbidden", message: "admins only") }
        return user
    }

    /// `GET /admin/duplicates?limit&after`: duplicate groups in hash order, keyset paginated
    /// (`after` is the last hash of the previous page).
    func listDuplicates(_ request: HTTPRequest) throws -> HTTPResponse {
        var limit = 50
        if let text = request.query["limit"] {
            guard let value = Int(text), (1...limits.maxPageSize).contains(value) else {
                throw APIError.badRequest("invalid_limit", "limit must be 1 to \(limits.maxPageSize)")
            }
            limit = value
        }
        var after = ""
        if let text = request.query["after"], !text.isEmpty {
            guard let digest = try? SHA256Digest(parsing: text) else {
                throw APIError.badRequest("invalid_after", "after must be a sha256 (64 hex characters)")
            }
            after = digest.hex
        }
        let members = try store.readSnapshot { try store.duplicateGroupMembers(after: after, limit: limit + 1) }
        var groups: [DuplicateGroupView] = []
        var start = members.startIndex
        while start < members.endIndex {
            let sha256 = members[start].sha256
            let end = members[start...].firstIndex { $0.sha256 != sha256 } ?? members.endIndex
            let holders = Array(members[start..<end])
            groups.append(
                DuplicateGroupView(
                    sha256: sha256, size: holders.map(\.size).max() ?? 0, holders: holders, review: holders[0].review))
            start = end
        }
        let page = Array(groups.prefix(limit))
        return .json(DuplicateGroupPage(groups: page, nextAfter: groups.count > limit ? page.last?.sha256 : nil))
    }

    /// `POST /admin/duplicates/{sha256}/review`: records what `assetdedup review` records, with
    /// the admin's user name as the reviewer. Nothing is written unless every check passes.
    func reviewDuplicate(group text: String, request: HTTPRequest, admin user: AuthenticatedUser) throws -> HTTPResponse
    {
        let sha256 = try SHA256Digest(parsing: text)
        let body = try decodeJSON(DuplicateReviewRequest.self, from: request)
        do {
            let review = try store.recordDuplicateReview(
                group: sha256.hex, decision: body.decision, keepAssetID: body.keepAssetID?.rawValue, note: body.note,
                reviewedBy: user.name)
            return .json(ReviewRecorded(review: review), status: 201)
        } catch let error as StoreError {
            switch error {
            case .unknownGroup: throw APIError(status: 404, code: "unknown_group", message: error.description)
            case .unknownAsset: throw APIError(status: 422, code: "unknown_asset", message: error.description)
            case .assetNotInGroup: throw APIError(status: 422, code: "asset_not_in_group", message: error.description)
            default: throw error
            }
        }
    }

    /// `POST /admin/near-duplicates/{asset_id}/review`: records what `assetdedup review-similar`
    /// records for the near-duplicate group holding the asset, the admin as the reviewer.
    func reviewNearDuplicates(
        asset text: String, request: HTTPRequest, admin user: AuthenticatedUser
    ) throws -> HTTPResponse {
        guard let asset = try? AssetID(parsing: text) else {
            throw APIError.badRequest("invalid_id", "the asset id must be a positive integer")
        }
        let body = try decodeJSON(DuplicateReviewRequest.self, from: request)
        do {
            let review = try store.reviewNearDuplicates(
                of: asset, decision: body.decision, keepAssetID: body.keepAssetID, note: body.note,
                reviewedBy: user.name)
            let trashed = try ReviewResolution.trashOthers(of: review, store: store)
            metrics.lifecycle(.trashed, count: trashed.count)
            return .json(NearDuplicateReviewRecorded(review: review, trashed: trashed), status: 201)
        } catch let error as NearDuplicateGroupError {
            switch error {
            case .unknownAsset: throw APIError(status: 404, code: "not_found", message: error.description)
            case .noFingerprint, .noGroup:
                throw APIError(status: 404, code: "unknown_group", message: error.description)
            case .notAMember: throw APIError(status: 422, code: "asset_not_in_group", message: error.description)
            }
        }
    }
}

/// `POST /admin/near-duplicates/{asset_id}/review` answer.
struct NearDuplicateReviewRecorded: JSONRepresentable {
    let review: NearDuplicateReview
    /// The group's other assets, moved to their owner's trash by a `keep`.
    var trashed: [AssetID] = []
    var json: JSONValue {
        .object([
            (
                "review",
                .object([
                    ("anchor_asset_id", .int(review.anchorAssetID.rawValue)),
                    ("member_ids", .array(review.memberIDs.map { .int($0.rawValue) })),
                    ("decision", .string(review.decision)), ("keep_asset_id", .int(review.keepAssetID?.rawValue)),
                    ("note", .string(review.note)), ("reviewed_by", .string(review.reviewedBy)),
                    ("reviewed_at", .string(review.reviewedAt)),
                ])
            ),
            ("trashed", .array(trashed.map { .int($0.rawValue) })),
        ])
    }
}
