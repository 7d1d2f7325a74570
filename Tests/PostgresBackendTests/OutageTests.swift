import Foundation
import PostgresStore
import PostgresTestSupport
import Testing

/// A database outage on a cluster of the test's own (`scripts/pg-cluster`): while the server is
/// down every call fails transient at once (the API's 503 + Retry-After); once it is back, the
/// same connection reconnects by itself.
@Suite("PostgreSQL outage and restart", .enabled(if: !TestCluster.isSkipped))
struct OutageTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../scripts/pg-cluster").standardizedFileURL.path

    /// Runs `scripts/pg-cluster ARGUMENTS` and waits for it (posix_spawn + waitpid: nothing of
    /// Foundation's child-process machinery, and an empty signal mask for the server it starts).
    func cluster(_ arguments: String...) throws {
        let argv = ([Self.script] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, Self.script, &actions, &attributes, argv, environ)
        try #require(spawned == 0, "could not run \(Self.script): \(spawned)")
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        try #require(status == 0, "pg-cluster \(arguments.joined(separator: " ")) failed (wait status \(status))")
    }

    @Test("server down: calls fail transient; server back: the connection comes back by itself")
    func restart() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "assetdedup-outage-\(UUID().uuidString)"
        ).path
        defer {
            _ = try? cluster("stop", dir)
            try? FileManager.default.removeItem(atPath: dir)
        }
        try cluster("start", dir)
        let url = try String(contentsOfFile: dir + "/url", encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines)
        let db = try PostgresConnection(url: url)
        #expect(try db.queryFirst("SELECT ? + 1", [1]) { $0.int(0) } == 2)

        try cluster("pause", dir)
        for _ in 0..<3 {
            let error = try #require(throws: PostgresError.self) {
                try db.queryFirst("SELECT ? + 1", [1]) { $0.int(0) }
            }
            #expect(error.isTransient, "\(error)")
        }
        let inTransaction = try #require(throws: PostgresError.self) {
            try db.writeTransaction { try db.run("SELECT 1") }
        }
        #expect(inTransaction.isTransient, "\(inTransaction)")

        try cluster("resume", dir)
        #expect(try db.queryFirst("SELECT ? + 1", [1]) { $0.int(0) } == 2)
        #expect(try db.writeTransaction { try db.queryFirst("SELECT 42") { $0.int(0) } } == 42)
    }
}
