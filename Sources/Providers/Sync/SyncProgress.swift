import Foundation

/// Running totals of a sync, and how they look on a terminal or in a log.
public struct SyncProgress: Sendable, Equatable {
    public var totalCount: Int
    public var totalBytes: Int64
    public var doneCount = 0
    public var doneBytes: Int64 = 0
    /// Bytes actually sent (uploads only, not items found or failed).
    public var uploadedBytes: Int64 = 0
    public var uploaded = 0
    public var alreadyThere = 0
    public var failed = 0
    /// Skipped because another uploader held the claim.
    public var inProgressElsewhere = 0
    /// Seconds since the run started.
    public var elapsed: Double = 0

    public init(totalCount: Int, totalBytes: Int64) {
        self.totalCount = totalCount
        self.totalBytes = totalBytes
    }

    mutating func add(_ outcome: SyncOutcome, bytes: Int64) {
        doneCount += 1
        doneBytes += bytes
        switch outcome {
        case .uploaded:
            uploaded += 1
            uploadedBytes += bytes
        case .alreadyThere: alreadyThere += 1
        case .failed: failed += 1
        case .inProgressElsewhere: inProgressElsewhere += 1
        }
    }

    /// Seconds left at the byte rate so far (counting by items when sizes are all zero).
    public var etaSeconds: Double? {
        guard elapsed > 0.5 else { return nil }
        if totalBytes > 0 && doneBytes > 0 {
            return elapsed * Double(max(totalBytes - doneBytes, 0)) / Double(doneBytes)
        }
        guard doneCount > 0 else { return nil }
        return elapsed * Double(max(totalCount - doneCount, 0)) / Double(doneCount)
    }

    /// `[#####.....] 12/40 assets  1.2 MB/3.4 MB  ETA 0:42`, for redrawing in place on a TTY.
    public func bar(width: Int = 24) -> String {
        let fraction =
            totalBytes > 0
            ? Double(doneBytes) / Double(totalBytes)
            : (totalCount > 0 ? Double(doneCount) / Double(totalCount) : 1)
        let filled = Int((min(max(fraction, 0), 1) * Double(width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let eta = etaSeconds.map { "ETA \(Self.clock($0))" } ?? "ETA --:--"
        let failures = failed > 0 ? "  \(failed) failed" : ""
        return
            "[\(bar)] \(doneCount)/\(totalCount) assets  \(Self.bytes(doneBytes))/\(Self.bytes(totalBytes))  \(eta)\(failures)"
    }

    /// `1.5 MB`: decimal units, one decimal.
    public static func bytes(_ count: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB"]
        var value = Double(count)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }

    /// `1:02:03` or `4:05`.
    public static func clock(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        let (hours, minutes, secs) = (total / 3600, total / 60 % 60, total % 60)
        return hours > 0
            ? String(format: "%d:%02d:%02d", hours, minutes, secs) : String(format: "%d:%02d", minutes, secs)
    }
}
