import ArgumentParser
import StoreProtocols

/// `assetdedup user add|list`.
struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage users.", subcommands: [Add.self, List.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a user.")
        @OptionGroup var options: StoreOptions
        @Argument(help: "User name.") var name: String
        @Flag(help: "May read the admin reports.") var admin = false

        func run() throws {
            let user = try options.openMigratedStore().addUser(name: name, isAdmin: admin)
            print("user \(user.id) \(user.name)\(user.isAdmin ? " (admin)" : "") created")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users.")
        @OptionGroup var options: StoreOptions

        func run() throws {
            for user in try options.openMigratedStore().listUsers() {
                print("\(user.id)\t\(user.name)\t\(user.isAdmin ? "admin" : "user")\t\(user.createdAt)")
            }
        }
    }
}
