import Foundation

/// `Tests/integration/fake_provider.py` run as a child process on 127.0.0.1 for one test.
///
/// Tests count what the server received (its JSON-lines log) rather than trusting the client.
final class FakeProviderServer {
    /// One upload as the server saw it.
    struct Received: Decodable {
        let n: Int
        let method: String
        let path: String
        let headers: [String: String]
        let sha256: String?
        let fileSize: Int64?
        let filename: String?
        let complete: Bool?
        let answer: String
        /// When the request started and when its body had fully arrived (Unix seconds).
        let time: Double
        let receivedAt: Double
        let parts: [Part]?

        struct Part: Decodable {
            let name: String?
            let filename: String?
            let contentType: String?
            let value: String?
        }
    }

    let port: Int
    private let process: Process
    private let logPath: String

    static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("integration/fake_provider.py").path

    /// Starts the server with `arguments` (e.g. `["--script", "500,ok"]`) and waits for its port.
    init(_ arguments: [String] = []) throws {
        logPath =
            FileManager.default.temporaryDirectory.appendingPathComponent("fake-provider-\(UUID().uuidString).jsonl")
            .path
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script, "--port", "0", "--log", logPath] + arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        var text = ""
        while !text.contains("\n") {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard text.hasPrefix("PORT "), let port = Int(text.dropFirst(5).prefix { $0.isNumber }) else {
            process.terminate()
            throw ServerDidNotStart(output: text)
        }
        self.port = port
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: logPath)
    }

    /// Stops the server process by its own PID (SIGKILL: a child may inherit a blocked
    /// SIGTERM from the test process) and waits for it.
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    func url(_ path: String = "/upload") -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Every upload received so far, in arrival order.
    func received() throws -> [Received] {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return [] }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try text.split(separator: "\n").map { try decoder.decode(Received.self, from: Data($0.utf8)) }
    }

    struct ServerDidNotStart: Error { let output: String }
}

/// A TCP port on 127.0.0.1 that nothing listens on (bound, read, closed).
func closedPort() throws -> Int {
    let server = try FakeProviderServer()
    let port = server.port
    server.stop()
    return port
}
