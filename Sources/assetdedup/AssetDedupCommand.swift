import ArgumentParser

/// `assetdedup`: the one executable. Each subcommand is a thin shell over the library targets.
@main
struct AssetDedupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assetdedup",
        abstract: "Per-user content-hash deduplication of media assets pushed to providers.",
        subcommands: [
            MigrateCommand.self, UserCommand.self, TokenCommand.self, BackfillCommand.self, ServeCommand.self,
            NginxConfigCommand.self, ReportCommand.self, ReviewCommand.self, ReviewSimilarCommand.self,
            SyncCommand.self, WhereisCommand.self, BackupCommand.self, RestoreCommand.self,
            GCCommand.self, FingerprintsCommand.self, RoutesCommand.self, TrashCommand.self,
        ]
    )
}
