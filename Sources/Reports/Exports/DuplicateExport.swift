import StoreProtocols

/// Writes `duplicates.csv` and `duplicates.json` while duplicate members stream from the store.
///
/// Members arrive sorted by hash; one group is buffered at a time (its size is only known at its
/// end), so memory stays bounded by the largest group, not by the store.
final class DuplicateExport {
    private let csv: BufferedFile
    private let json: BufferedFile
    private var group: [DuplicateMember] = []
    private var groupsWritten = 0

    init(directory: String, generatedAt: String) throws {
        csv = try BufferedFile(path: directory + "/duplicates.csv")
        json = try BufferedFile(path: directory + "/duplicates.json")
        try csv.write(
            CSV.row([
                "sha256", "size", "holders", "bytes_saved", "asset_id", "user_id", "user", "original_filename",
                "created_at", "review_decision", "review_keep_asset_id", "review_note", "reviewed_by", "reviewed_at",
            ]))
        try json.write("{\"generated_at\":\(JSONText.string(generatedAt)),\"groups\":[")
    }

    func append(_ member: DuplicateMember) throws {
        if let first = group.first, first.sha256 != member.sha256 { try flushGroup() }
        group.append(member)
    }

    func close() throws {
        try flushGroup()
        try json.write("\n]}\n")
        try csv.close()
        try json.close()
    }

    private func flushGroup() throws {
        guard let first = group.first else { return }
        let size = group.map(\.size).max() ?? 0
        let saved = size * Int64(group.count - 1)
        let review = first.review
        for member in group {
            try csv.write(
                CSV.row([
                    member.sha256, String(size), String(group.count), String(saved), String(member.assetID),
                    String(member.userID), CSV.text(member.userName), CSV.text(member.originalFilename),
                    member.createdAt, review?.decision ?? "", review?.keepAssetID.map(String.init) ?? "",
                    CSV.text(review?.note), CSV.text(review?.reviewedBy), review?.reviewedAt ?? "",
                ]))
        }
        let assets = group.map { member in
            "{\"asset_id\":\(member.assetID),\"user_id\":\(member.userID),\"user\":\(JSONText.string(member.userName)),"
                + "\"original_filename\":\(JSONText.string(member.originalFilename)),"
                + "\"created_at\":\(JSONText.string(member.createdAt))}"
        }
        var reviewJSON = "null"
        if let review {
            reviewJSON =
                "{\"decision\":\(JSONText.string(review.decision)),\"keep_asset_id\":\(JSONText.number(review.keepAssetID)),"
                + "\"note\":\(JSONText.string(review.note)),\"reviewed_by\":\(JSONText.string(review.reviewedBy)),"
                + "\"reviewed_at\":\(JSONText.string(review.reviewedAt))}"
        }
        try json.write(
            (groupsWritten == 0 ? "\n" : ",\n")
                + "{\"sha256\":\"\(first.sha256)\",\"size\":\(size),\"holders\":\(group.count),\"bytes_saved\":\(saved),"
                + "\"review\":\(reviewJSON),\"assets\":[\(assets.joined(separator: ","))]}")
        groupsWritten += 1
        group.removeAll(keepingCapacity: true)
    }
}
