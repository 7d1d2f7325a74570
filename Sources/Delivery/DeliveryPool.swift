import StoreProtocols
import Foundation
import Logging

/// The delivery workers of one process (`serve --delivery-workers N`): started together,
/// stopped together. Each worker opens its own connection before any thread starts, so a bad
/// database path fails the command instead of a thread.
public final class DeliveryPool: Sendable {
    public let runner: DeliveryRunner
    private let finished = DispatchGroup()
    private let workers: [(DeliveryWorker, StoreBox)]

    /// `openStore` makes one connection per worker; `role` names them in lease owners (`serve/1`).
    public init(
        count: Int, role: String = "serve", runner: DeliveryRunner, pollInterval: Double = 0.5,
        openStore: () throws -> any DeliveryStore
    ) throws {
        self.runner = runner
        self.workers = try (1...max(1, count)).map { index in
            (
                DeliveryWorker(owner: LeaseOwner(role: "\(role)/\(index)"), runner: runner, pollInterval: pollInterval),
                StoreBox(try openStore())
            )
        }
    }

    /// Starts every worker thread.
    public func start() {
        for (worker, box) in workers {
            finished.enter()
            runner.hub.workerStarted()
            let thread = Thread { [finished, runner] in
                worker.run(store: box.take())
                runner.hub.workerStopped()
                finished.leave()
            }
            thread.name = "delivery \(worker.owner.role)"
            thread.start()
        }
    }

    /// Stops the workers and waits for them up to `seconds`: a worker inside a provider call
    /// may not return in time; its lease is then taken over after a restart (same host, dead
    /// pid) or when it runs out.
    @discardableResult
    public func stop(waitingAtMost seconds: Double) -> Bool {
        runner.hub.stop()
        return finished.wait(timeout: .now() + seconds) == .success
    }
}

/// Hands a connection made on one thread to the worker thread that will own it from then on.
///
/// `@unchecked Sendable` is safe: the store is taken exactly once, by the one worker thread,
/// after `start` (a happens-before edge through `Thread.start`); nothing else touches it.
final class StoreBox: @unchecked Sendable {
    private var store: (any DeliveryStore)?
    init(_ store: any DeliveryStore) { self.store = store }
    func take() -> any DeliveryStore {
        defer { store = nil }
        return store!
    }
}
