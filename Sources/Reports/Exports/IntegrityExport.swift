import StoreProtocols

/// `integrity.csv` (one row per problem copy) and `integrity.json` (the per-location summary and
/// every problem): the page lists the first rows, the exports hold all, streamed from the store.
enum IntegrityExport {
    static func write(
        _ summary: IntegritySummary, from store: any ReportSource, csv: BufferedFile, json: BufferedFile,
        generatedAt: String
    ) throws {
        try csv.write(CSV.row(["sha256", "location", "state", "detail", "checked_at"]))
        try json.write("{\"generated_at\":\(JSONText.string(generatedAt)),\"min_copies\":\(summary.minCopies),")
        try json.write("\"below_minimum\":\(summary.belowMinimum),\"locations\":[")
        for (index, location) in summary.locations.enumerated() {
            let states = CopyCheck.State.allCases.map { "\(JSONText.string($0.rawValue)):\(location.checks[$0] ?? 0)" }
            try json.write(
                (index == 0 ? "" : ",")
                    + "{\"location\":\(JSONText.string(location.location)),\"copies\":\(location.recorded),"
                    + "\"never_checked\":\(location.unchecked),\"checks\":{\(states.joined(separator: ","))},"
                    + "\"oldest_check\":\(JSONText.string(location.oldestCheck)),\"repaired\":\(location.repaired),"
                    + "\"not_repaired\":\(location.notRepaired)}")
        }
        try json.write("],\"problems\":[")
        var first = true
        try store.forEachCopyProblem(limit: nil) { check in
            try csv.write(
                CSV.row([
                    check.sha256.hex, CSV.text(check.location), check.state.rawValue, CSV.text(check.detail),
                    check.checkedAt,
                ]))
            try json.write(
                (first ? "" : ",")
                    + "{\"sha256\":\"\(check.sha256.hex)\",\"location\":\(JSONText.string(check.location)),"
                    + "\"state\":\"\(check.state.rawValue)\",\"detail\":\(JSONText.string(check.detail)),"
                    + "\"checked_at\":\(JSONText.string(check.checkedAt))}")
            first = false
        }
        try json.write("]}\n")
    }
}
