import Foundation

/// Stages a report beside its published folder and swaps it in only when it is complete.
///
/// Layout around `--out www/reports`: the new report is written to `www/.reports.staging-…`,
/// the published history is hard-linked into it (cheap, and the old report is never touched),
/// and `DirectorySwap` puts it in place. A failure at any point removes the staging folder and
/// leaves the published report as it was.
struct ReportPublisher {
    let target: String
    private let parent: String
    private let name: String

    init(target: String) {
        var target = target
        while target.count > 1 && target.hasSuffix("/") { target.removeLast() }
        self.target = target
        let url = URL(fileURLWithPath: target)
        parent = url.deletingLastPathComponent().path
        name = url.lastPathComponent
    }

    private var fileManager: FileManager { .default }

    /// Creates the staging folder with the published history (except `day`, rewritten now).
    func stage(replacingDay day: String) throws -> String {
        try fileManager.createDirectory(atPath: parent, withIntermediateDirectories: true)
        try recover()
        let staged = "\(parent)/.\(name).staging-\(getpid())-\(UUID().uuidString.prefix(8))"
        try fileManager.createDirectory(atPath: staged + "/history", withIntermediateDirectories: true)
        let history = target + "/history"
        for entry in (try? fileManager.contentsOfDirectory(atPath: history)) ?? [] where entry != day {
            try linkTree(from: "\(history)/\(entry)", to: "\(staged)/history/\(entry)")
        }
        return staged
    }

    /// Keeps this run's pages as `history/<day>/` inside the staged report.
    func snapshot(staged: String, day: String, files: [String]) throws {
        let folder = "\(staged)/history/\(day)"
        try? fileManager.removeItem(atPath: folder)
        for file in files {
            let destination = "\(folder)/\(file)"
            try fileManager.createDirectory(
                atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try link(from: "\(staged)/\(file)", to: destination)
        }
    }

    /// Swaps the staged folder in and deletes the previous report.
    func publish(staged: String) throws {
        let retired = "\(parent)/.\(name).retired-\(getpid())-\(UUID().uuidString.prefix(8))"
        if try DirectorySwap.publish(staged: staged, target: target, retired: retired) {
            try? fileManager.removeItem(atPath: retired)
        }
    }

    func discard(staged: String) {
        try? fileManager.removeItem(atPath: staged)
    }

    /// Repairs what a killed run can leave: a report retired but not replaced (killed between
    /// the two fallback renames) is put back; leftover staging and retired folders are removed.
    private func recover() throws {
        let leftovers = ((try? fileManager.contentsOfDirectory(atPath: parent)) ?? [])
            .filter { $0.hasPrefix(".\(name).staging-") || $0.hasPrefix(".\(name).retired-") }
        if !fileManager.fileExists(atPath: target),
            let newest = try leftovers.filter({ $0.hasPrefix(".\(name).retired-") })
                .max(by: { try modified("\(parent)/\($0)") < modified("\(parent)/\($1)") })
        {
            try fileManager.moveItem(atPath: "\(parent)/\(newest)", toPath: target)
        }
        for leftover in leftovers where fileManager.fileExists(atPath: "\(parent)/\(leftover)") {
            // An hour is far longer than a run; a younger folder may belong to a run still going.
            if try modified("\(parent)/\(leftover)") < Date().addingTimeInterval(-3600) {
                try? fileManager.removeItem(atPath: "\(parent)/\(leftover)")
            }
        }
    }

    private func modified(_ path: String) throws -> Date {
        try fileManager.attributesOfItem(atPath: path)[.modificationDate] as? Date ?? .distantPast
    }

    private func linkTree(from source: String, to destination: String) throws {
        var isDirectory: ObjCBool = false
        guard fileManager.fileExists(atPath: source, isDirectory: &isDirectory) else { return }
        guard isDirectory.boolValue else { return try link(from: source, to: destination) }
        try fileManager.createDirectory(atPath: destination, withIntermediateDirectories: true)
        for entry in try fileManager.contentsOfDirectory(atPath: source) {
            try linkTree(from: "\(source)/\(entry)", to: "\(destination)/\(entry)")
        }
    }

    /// A hard link (history files never change once written), or a copy across file systems.
    private func link(from source: String, to destination: String) throws {
        do {
            try fileManager.linkItem(atPath: source, toPath: destination)
        } catch {
            try fileManager.copyItem(atPath: source, toPath: destination)
        }
    }
}
