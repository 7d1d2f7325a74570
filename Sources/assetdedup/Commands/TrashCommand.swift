import ArgumentParser
import HTTPAPI
import Logging

/// `assetdedup trash purge`: purges trashed assets now (serve does it by `--trash-days` too),
/// e.g. from cron, or with `--older-than-days 0` to empty every trash.
struct TrashCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trash", abstract: "Purge assets users trashed.", subcommands: [Purge.self])

    struct Purge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Purge assets trashed more than --older-than-days ago: their rows, and each provider copy no other asset holds per the provider's on_delete. Blobs go at the next gc."
        )
        @OptionGroup var options: StoreOptions
        @OptionGroup var providerOptions: ProviderOptions
        @Option(help: "Purge what was trashed more than this many days ago (0: everything in the trash).")
        var olderThanDays: Double = 30

        func validate() throws {
            if !(olderThanDays >= 0) { throw ValidationError("--older-than-days must be 0 or more") }
        }

        func run() throws {
            let store = try options.openMigratedStore()
            var logger = Logger(label: "assetdedup.trash")
            logger.logLevel = .warning
            let purger = AssetPurger(providers: try providerOptions.loadProviders(), logger: logger)
            let sweep = try purger.purgeTrash(olderThanSeconds: olderThanDays * 86400, store: store)
            print("purged \(sweep.purged) asset(s); \(sweep.deferred) deferred (a delivery in progress)")
        }
    }
}
