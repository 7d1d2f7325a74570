import BlobStore
import Delivery
import Foundation
import Integrity
import Logging
import Metrics
import Providers

/// serve's background integrity job (issue 24), off unless `--integrity-every-minutes` is given:
/// on a thread of its own with its own connection, one `IntegrityRound` per interval, under the
/// database lease `verify` that `assetdedup verify` also takes, so one node (or one CLI run)
/// verifies at a time. Repairs go through the delivery queue, which serve's workers drain.
enum IntegrityJob {
    static func start(
        every seconds: Double, round: IntegrityRound, openStore: @escaping StoreOpener, logger: Logger
    ) {
        let thread = Thread {
            guard let store = try? openStore() else {
                logger.error("integrity job: cannot open the database; not running")
                return
            }
            while true {
                // A timer, not a wait for an event: the job runs every `seconds`.
                Thread.sleep(forTimeInterval: seconds)
                let lease: CommandLease
                do {
                    lease = try CommandLease(
                        name: "verify", what: "verify", owner: LeaseOwner(role: "serve-verify"), store: store,
                        open: openStore)
                } catch {
                    logger.info("integrity job: skipped this round: \(error)")
                    continue
                }
                do {
                    let outcome = try round.run(store: store)
                    let summary = outcome.summary
                    logger.info(
                        "integrity job: \(summary.content) content checked, \(summary.problems.count) missing or corrupt, \(outcome.repaired) repaired, \(outcome.notRepaired) not, \(outcome.queuedForMinimum) queued for min_copies\(summary.finishedPass ? "; pass finished" : "")"
                    )
                } catch {
                    logger.error("integrity job: round failed: \(error)")
                }
                lease.release()
            }
        }
        thread.name = "integrity"
        thread.start()
    }
}
