import ArgumentParser
import Foundation

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
            GCCommand.self, FingerprintsCommand.self, RoutesCommand.self, TrashCommand.self, VerifyCommand.self,
        ]
    )

    /// The one error wrapper: argument problems are argument-parser's (usage and exit 64), and any
    /// other error a command throws is `error: <one line>` on stderr and exit 1.
    static func main() async {
        var command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ExitCode {
            exit(withError: error)
        } catch let error as CleanExit {
            exit(withError: error)
        } catch  where !(error is ValidationError) && String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
            // argument-parser's own, thrown by its help command (`assetdedup verify --help`).
            exit(withError: error)
        } catch {
            let line = "\(error)".replacingOccurrences(of: "\n", with: " ")
            FileHandle.standardError.write(Data("error: \(line)\n".utf8))
            exit(withError: ExitCode.failure)
        }
    }
}
