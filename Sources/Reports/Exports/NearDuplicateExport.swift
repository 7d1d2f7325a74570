import StoreProtocols

/// Writes `near-duplicates.csv` and `near-duplicates.json` as groups are found, one group at a time.
final class NearDuplicateExport {
    private let csv: BufferedFile
    private let json: BufferedFile
    private var groupsWritten = 0

    init(directory: String, generatedAt: String, threshold: Int) throws {
        csv = try BufferedFile(path: directory + "/near-duplicates.csv")
        json = try BufferedFile(path: directory + "/near-duplicates.json")
        try csv.write(
            CSV.row([
                "group_anchor_asset_id", "kind", "members", "user_id", "user", "asset_id", "original_filename", "sha256",
                "size", "nearest_distance", "review_decision", "review_keep_asset_id", "review_note", "reviewed_by",
                "reviewed_at",
            ]))
        try json.write(
            "{\"generated_at\":\(JSONText.string(generatedAt)),\"threshold\":\(threshold),\"groups\":[")
    }

    func append(_ group: NearDuplicateSummary.Group) throws {
        let review = group.review
        for member in group.members {
            try csv.write(
                CSV.row([
                    group.anchor.description, group.kind.rawValue, String(group.members.count),
                    group.userID.description, CSV.text(group.userName), member.assetID.description,
                    CSV.text(member.originalFilename), member.sha256, String(member.size), String(member.nearest),
                    review?.decision ?? "", review?.keepAssetID?.description ?? "", CSV.text(review?.note),
                    CSV.text(review?.reviewedBy), review?.reviewedAt ?? "",
                ]))
        }
        let assets = group.members.map { member in
            "{\"asset_id\":\(member.assetID),\"original_filename\":\(JSONText.string(member.originalFilename)),"
                + "\"sha256\":\(JSONText.string(member.sha256)),\"size\":\(member.size),"
                + "\"nearest_distance\":\(member.nearest)}"
        }
        var reviewJSON = "null"
        if let review {
            reviewJSON =
                "{\"decision\":\(JSONText.string(review.decision)),"
                + "\"keep_asset_id\":\(JSONText.number(review.keepAssetID?.rawValue)),"
                + "\"note\":\(JSONText.string(review.note)),\"reviewed_by\":\(JSONText.string(review.reviewedBy)),"
                + "\"reviewed_at\":\(JSONText.string(review.reviewedAt))}"
        }
        try json.write(
            (groupsWritten == 0 ? "\n" : ",\n")
                + "{\"anchor_asset_id\":\(group.anchor),\"kind\":\"\(group.kind.rawValue)\","
                + "\"user_id\":\(group.userID),\"user\":\(JSONText.string(group.userName)),"
                + "\"review\":\(reviewJSON),\"assets\":[\(assets.joined(separator: ","))]}")
        groupsWritten += 1
    }

    func close() throws {
        try json.write("\n]}\n")
        try csv.close()
        try json.close()
    }
}
