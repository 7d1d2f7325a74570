import AssetDedupCore
import Delivery
import Dispatch
import Foundation
import StoreProtocols

/// "Only one of these runs" for every node: a named lease in the database (`sync:<provider>`,
/// `gc`), renewed by a heartbeat thread (its own connection) while the command runs and given up
/// when it ends. A run killed with -9 holds it until it expires (`seconds`), or less when the
/// next run on the same host sees that the holder's process is gone.
final class CommandLease {
    static let seconds = 60.0
    let name: String
    let owner: String
    private let stop = DispatchSemaphore(value: 0)
    private let stopped = DispatchSemaphore(value: 0)

    /// Takes lease `name`, or throws a CLI error saying that another `what` holds it.
    init(name: String, what: String, owner: LeaseOwner, store: any NamedLeases, open: @escaping StoreOpener) throws {
        self.name = name
        self.owner = owner.description
        var lease = try store.acquireLease(name: name, owner: self.owner, seconds: Self.seconds, now: Date())
        if lease.owner != self.owner, LeaseOwner(parsing: lease.owner)?.isDeadProcessOnThisHost == true {
            try store.releaseLease(name: name, owner: lease.owner)
            lease = try store.acquireLease(name: name, owner: self.owner, seconds: Self.seconds, now: Date())
        }
        guard lease.owner == self.owner else {
            throw CLIError(
                "another \(what) is running on this database (\(lease.owner), lease until \(lease.expiresAt))")
        }
        let (name, me, stop, stopped) = (name, self.owner, stop, stopped)
        let thread = Thread {
            defer { stopped.signal() }
            guard let heartbeat = try? open() else { return }
            // Renew at a third of the lease, so two missed beats still leave it held.
            while stop.wait(timeout: .now() + Self.seconds / 3) == .timedOut {
                let held = try? heartbeat.acquireLease(name: name, owner: me, seconds: Self.seconds, now: Date())
                if let held, held.owner != me {
                    FileHandle.standardError.write(Data("warning: lost the \(name) lease to \(held.owner)\n".utf8))
                }
            }
            _ = try? heartbeat.releaseLease(name: name, owner: me)
        }
        thread.name = "command-lease"
        thread.start()
    }

    /// Stops the heartbeat and gives the lease up.
    func release() {
        stop.signal()
        stopped.wait()
    }
}
