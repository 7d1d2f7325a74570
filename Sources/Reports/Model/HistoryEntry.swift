import StoreProtocols
import Foundation

/// One run's headline numbers, kept as `history/YYYY-MM-DD/totals.json` for the trend chart and
/// for "what changed since the last run".
struct HistoryEntry: Codable, Equatable, Sendable {
    var date: String
    var generatedAt: String
    var users: Int64
    var assets: Int64
    var bytes: Int64
    var uniqueContents: Int64
    var uniqueBytes: Int64
    var bytesSaved: Int64
    var unhashedAssets: Int64
    var providerUploads: Int64
    var duplicateGroups: Int64

    init(date: String, generatedAt: String, totals: StoreTotals, duplicateGroups: Int) {
        self.date = date
        self.generatedAt = generatedAt
        users = totals.users
        assets = totals.assets
        bytes = totals.bytes
        uniqueContents = totals.uniqueContents
        uniqueBytes = totals.uniqueBytes
        bytesSaved = totals.bytesSavedByDedup
        unhashedAssets = totals.unhashedAssets
        providerUploads = totals.providerUploads
        self.duplicateGroups = Int64(duplicateGroups)
    }

    func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self) + Data("\n".utf8)
    }

    /// Every readable `history/*/totals.json` under a published report folder, oldest first.
    /// A damaged file is skipped: history is a convenience, it must not stop tonight's report.
    static func load(reportDirectory: String) -> [HistoryEntry] {
        let history = reportDirectory + "/history"
        let days = (try? FileManager.default.contentsOfDirectory(atPath: history)) ?? []
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return days.sorted().compactMap { day in
            guard let data = FileManager.default.contents(atPath: "\(history)/\(day)/totals.json") else { return nil }
            return try? decoder.decode(HistoryEntry.self, from: data)
        }
    }
}
