/// `POST /admin/duplicates/{sha256}/review`: `{"decision": "keep", "asset_id": N, "note"?}` or
/// `{"decision": "ignore", "note"?}`, the same choices `assetdedup review --keep | --ignore`
/// offers, with the same limits.
public struct DuplicateReviewRequest: JSONReadable, Sendable {
    /// `keep` or `ignore`.
    public let decision: String
    /// The asset to keep; set exactly when `decision` is `keep`.
    public let keepAssetID: AssetID?
    public let note: String?

    /// What `assetdedup review --note` allows.
    public static let maxNoteCharacters = 1000

    public init(json: JSONValue) throws {
        let fields = try JSONFields(json)
        decision = try fields.string("decision")
        let assetID = try fields.optionalInt("asset_id")
        note = try fields.optionalString("note")
        switch decision {
        case "keep":
            guard let assetID else {
                throw ValidationError(
                    code: .invalidReview, message: "decision 'keep' needs asset_id, the asset to keep")
            }
            keepAssetID = try AssetID(parsing: String(assetID))
        case "ignore":
            guard assetID == nil else {
                throw ValidationError(code: .invalidReview, message: "decision 'ignore' takes no asset_id")
            }
            keepAssetID = nil
        default:
            throw ValidationError(code: .invalidReview, message: "decision must be 'keep' or 'ignore'")
        }
        if let note, note.count > Self.maxNoteCharacters {
            throw ValidationError(
                code: .invalidReview, message: "note is limited to \(Self.maxNoteCharacters) characters")
        }
    }
}

extension ValidationError.Code {
    /// A review body that asks for something `assetdedup review` would refuse.
    public static let invalidReview = ValidationError.Code(rawValue: "invalid_review")
}
