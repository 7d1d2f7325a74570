import ArgumentParser
import StoreProtocols

/// `assetdedup migrate up|down|status`.
struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Apply, revert or list schema migrations.",
        subcommands: [Up.self, Down.self, Status.self])

    struct Up: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply pending migrations (up to --to N).")
        @OptionGroup var options: StoreOptions
        @Option(help: "Stop after this version.") var to: Int?

        func validate() throws {
            if let to, to < 1 { throw ValidationError("--to must be a migration version >= 1, got \(to)") }
        }

        func run() throws {
            let store = try options.openStore(mustExist: false)
            let applied = try store.migrateUp(to: to) { print($0) }
            print("schema at version \(try store.schemaVersion()) (\(applied.count) applied)")
        }
    }

    struct Down: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revert migrations down to version N (0 = empty).")
        @OptionGroup var options: StoreOptions
        @Option(help: "Target version.") var to: Int

        func validate() throws {
            if to < 0 { throw ValidationError("--to must be >= 0, got \(to)") }
        }

        func run() throws {
            let store = try options.openStore()
            let reverted = try store.migrateDown(to: to) { print($0) }
            print("schema at version \(try store.schemaVersion()) (\(reverted.count) reverted)")
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List applied, pending and drifted migrations.")
        @OptionGroup var options: StoreOptions

        func run() throws {
            let store = try options.openStore()
            for line in try store.migrationStatus() {
                let state: String
                switch line.state {
                case .applied(let at): state = "applied  \(at)"
                case .pending: state = "pending"
                case .drifted(let at, _): state = "DRIFTED  \(at) (checksum changed since it was applied)"
                case .unknown(let at): state = "UNKNOWN  \(at) (not in this binary)"
                }
                print(
                    "\(String(line.version).padding(toLength: 4, withPad: " ", startingAt: 0))\(line.name.padding(toLength: 28, withPad: " ", startingAt: 0)) \(state)"
                )
            }
        }
    }
}
