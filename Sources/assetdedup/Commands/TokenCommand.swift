import ArgumentParser
import StoreProtocols

/// `assetdedup token issue|list|revoke`.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Manage API tokens.", subcommands: [Issue.self, List.self, Revoke.self])

    struct Issue: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a token; it is printed once, alone on the last line, and only its SHA-256 is stored.")
        @OptionGroup var options: StoreOptions
        @Argument(help: "User name.") var user: String
        @Option(help: "A label to tell tokens apart.") var label: String?

        func run() throws {
            let store = try options.openMigratedStore()
            let owner = try store.requireUser(named: user)
            let (token, secret) = try store.issueToken(for: owner.id, label: label)
            print("token \(token.id) issued for \(owner.name); it is shown only now:")
            print(secret)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a user's tokens (never their secrets).")
        @OptionGroup var options: StoreOptions
        @Argument(help: "User name.") var user: String

        func run() throws {
            let store = try options.openMigratedStore()
            for token in try store.listTokens(for: try store.requireUser(named: user).id) {
                let state = token.revokedAt.map { "revoked \($0)" } ?? "active"
                print(
                    "\(token.id)\t\(token.label ?? "-")\t\(token.createdAt)\tlast used \(token.lastUsedAt ?? "never")\t\(state)"
                )
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by its id (see 'token list').")
        @OptionGroup var options: StoreOptions
        @Argument(help: "Token id.") var id: Int64

        func run() throws {
            try options.openMigratedStore().revokeToken(id: id)
            print("token \(id) revoked")
        }
    }
}
