import StoreProtocols

/// The integrity page (issue 24): what `assetdedup verify` last found for each stored copy, per
/// location; repairs; content below the minimum number of copies; the problems themselves.
struct IntegrityPage: Sendable {
    struct Location: Sendable {
        var location: String
        var recorded: String
        var ok: String
        var missing: String
        var corrupt: String
        var unreachable: String
        var unverifiable: String
        var unchecked: String
        var oldest: String
        var repaired: String
        var notRepaired: String
    }

    struct Problem: Sendable {
        var state: String
        var sha256: String
        var location: String
        var detail: String
        var checkedAt: String
    }

    struct Below: Sendable {
        var sha256: String
        var size: String
        var providers: String
    }

    var format: PageFormat
    var generatedAt: String
    var locations: [Location]
    var copies: String
    var verified: String
    var verifiedPercent: String
    var oldest: String
    var neverVerified: Bool
    var problemCount: String
    var allGood: Bool
    var problems: [Problem]
    var hasProblems: Bool
    var hasMoreProblems: Bool
    var listLimit: String
    var minCopies: String
    var hasMinimum: Bool
    var belowCount: String
    var below: [Below]
    var hasBelow: Bool
    var hasMoreBelow: Bool

    init(data: ReportData, listLimit: Int, generatedAt: String, format: PageFormat) {
        self.format = format
        self.generatedAt = generatedAt
        let summary = data.integrity
        locations = summary.locations.map { location in
            func state(_ state: CopyCheck.State) -> String { Format.count(location.checks[state] ?? 0) }
            return Location(
                location: location.location, recorded: Format.count(location.recorded), ok: state(.ok),
                missing: state(.missing), corrupt: state(.corrupt), unreachable: state(.unreachable),
                unverifiable: state(.unverifiable), unchecked: Format.count(location.unchecked),
                oldest: location.oldestCheck.map(Format.storedTimestamp) ?? "never",
                repaired: Format.count(location.repaired), notRepaired: Format.count(location.notRepaired))
        }
        let recorded = summary.locations.reduce(0) { $0 + $1.recorded }
        let ok = summary.locations.reduce(0) { $0 + ($1.checks[.ok] ?? 0) }
        copies = Format.count(recorded)
        verified = Format.count(ok)
        verifiedPercent = Format.percent(Int64(ok), of: Int64(recorded))
        let oldestCheck = summary.locations.compactMap(\.oldestCheck).min()
        oldest = oldestCheck.map(Format.storedTimestamp) ?? "never"
        neverVerified = oldestCheck == nil
        let bad = summary.locations.reduce(0) {
            $0 + ($1.checks[.missing] ?? 0) + ($1.checks[.corrupt] ?? 0) + ($1.checks[.unreachable] ?? 0)
        }
        problemCount = Format.count(bad)
        allGood = bad == 0
        problems = data.copyProblems.map {
            Problem(
                state: $0.state.rawValue, sha256: $0.sha256.hex, location: $0.location, detail: $0.detail ?? "",
                checkedAt: Format.storedTimestamp($0.checkedAt))
        }
        hasProblems = !problems.isEmpty
        hasMoreProblems = problems.count < bad
        self.listLimit = String(listLimit)
        minCopies = String(summary.minCopies)
        hasMinimum = summary.minCopies > 0
        belowCount = Format.count(summary.belowMinimum)
        below = data.belowMinimum.map {
            Below(
                sha256: $0.sha256.hex, size: Format.bytes($0.size),
                providers: $0.goodCopies.isEmpty ? "none" : $0.goodCopies.map(\.rawValue).joined(separator: ", "))
        }
        hasBelow = !below.isEmpty
        hasMoreBelow = below.count < summary.belowMinimum
    }
}
